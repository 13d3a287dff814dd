//! The JSON manifest written next to a model version's Parquet parameter files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything about a trained model version except its parameters (which are Parquet files).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Manifest format version.
    pub format: u32,
    /// Model name (lower case).
    pub name: String,
    /// Version number, 1 for the first `CREATE MODEL`, incremented by `CREATE OR REPLACE`.
    pub version: u64,
    /// Model type, e.g. `logistic_regression`.
    pub model_type: String,
    /// All options as given in the statement (values as text), keys lower case.
    pub options: BTreeMap<String, String>,
    /// Input columns the model scores, in order.
    pub features: Vec<FeatureInfo>,
    /// The label column of a supervised model.
    pub label: Option<LabelInfo>,
    /// The seed used for every random choice during training.
    pub seed: u64,
    /// Row accounting of the training run.
    pub rows: RowCounts,
    /// Metrics measured at training time.
    pub metrics: Option<StoredMetrics>,
    /// The training query as planned (normalised SQL text).
    pub query: String,
    /// Creation time, RFC 3339.
    pub created: String,
    /// Seconds spent training (planning, reading and fitting).
    pub training_seconds: f64,
    /// The cohort version that wrote the model.
    pub cohort_version: String,
    /// The Parquet files of this version.
    pub files: Vec<String>,
    /// `partition_by`: the column whose values each have their own sub-model.
    #[serde(default)]
    pub partition_by: Option<String>,
    /// The sub-models of a partitioned model, in sorted value order; sub-model `i` keeps its
    /// files with the prefix `p{i:04}.`.
    #[serde(default)]
    pub partitions: Vec<PartitionInfo>,
}

/// One sub-model of a model trained with `partition_by`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PartitionInfo {
    /// The partition column's value (as text).
    pub value: String,
    /// Rows of this value.
    pub rows: RowCounts,
    /// Metrics of this sub-model.
    pub metrics: Option<StoredMetrics>,
}

/// The file name prefix of sub-model `i` of a partitioned model.
pub fn partition_prefix(i: usize) -> String {
    format!("p{i:04}.")
}

/// One input column of a model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeatureInfo {
    /// Column name the scoring functions bind to.
    pub name: String,
    /// Arrow data type at training time, as text.
    pub data_type: String,
    /// `numeric` or `categorical`.
    pub kind: String,
}

/// The label of a supervised model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LabelInfo {
    /// Column name.
    pub name: String,
    /// Arrow data type at training time, as text.
    pub data_type: String,
    /// Classes in sorted order (classifiers); the last one is the positive class.
    pub classes: Vec<String>,
}

/// How many rows were read, used, skipped and imputed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RowCounts {
    /// Rows returned by the training query.
    pub input: u64,
    /// Rows used for fitting.
    pub train: u64,
    /// Rows held out for evaluation.
    pub holdout: u64,
    /// Rows skipped (NULL feature under `null_policy = 'skip'`, or NULL label).
    pub skipped: u64,
    /// Individual NULL values replaced under `null_policy = 'impute:...'`.
    pub imputed_values: u64,
    /// Hold-out values whose category was not seen in training (encoded as all zeros).
    pub unseen_categories: u64,
}

/// Metrics measured at training time on the hold-out rows (or on the training rows when
/// `split = 'none'`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredMetrics {
    /// `holdout` or `train`.
    pub dataset: String,
    /// Number of rows the metrics were computed on.
    pub rows: u64,
    /// Metric name → value (`null` when undefined, e.g. AUC on one class).
    pub values: BTreeMap<String, Option<f64>>,
}

impl Manifest {
    /// The metric shown by `SHOW MODELS` as the model's key figure.
    pub fn key_metric(&self) -> Option<(String, Option<f64>)> {
        let m = self.metrics.as_ref()?;
        for k in [
            "roc_auc",
            "r2",
            "accuracy",
            "inertia",
            "log_likelihood",
            "mase",
        ] {
            if let Some(v) = m.values.get(k) {
                return Some((format!("{}_{}", m.dataset, k), *v));
            }
        }
        m.values
            .iter()
            .next()
            .map(|(k, v)| (format!("{}_{}", m.dataset, k), *v))
    }
}
