//! Model families, the preprocessing they share, and training/scoring entry points.
//!
//! A trained model is a [`Manifest`] plus parameters kept as Arrow tables (Parquet on disk).

pub mod clv;
pub mod features;
pub mod logistic;
pub mod options;
pub mod train;
mod train_clv;

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_datafusion_err, plan_err, Result};

use crate::store::Manifest;
use features::Preprocessor;
use logistic::LogisticParams;

/// Type-specific options of a model type.
pub fn type_options(model_type: &str) -> &'static [&'static str] {
    match model_type {
        "logistic_regression" => logistic::OPTIONS,
        "bgnbd" => train_clv::BGNBD_OPTIONS,
        "gamma_gamma" => train_clv::GAMMA_GAMMA_OPTIONS,
        _ => &[],
    }
}

/// The fitted parameters of a model family.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelParams {
    /// Binary logistic regression.
    Logistic(LogisticParams),
    /// BG/NBD purchase model; `periods_per_month` is 4.345 for weeks, 30 for days.
    BgNbd {
        /// Parameters.
        params: clv::BgNbd,
        /// Time units per month, for `clv`.
        periods_per_month: f64,
    },
    /// Gamma-Gamma spend model.
    GammaGamma(clv::GammaGamma),
}

/// A model loaded from the store, ready to score.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedModel {
    /// Its manifest.
    pub manifest: Manifest,
    /// Input encoding.
    pub preprocess: Preprocessor,
    /// Parameters.
    pub params: ModelParams,
}

fn file<'a>(
    files: &'a HashMap<String, RecordBatch>,
    name: &str,
    model: &str,
) -> Result<&'a RecordBatch> {
    files
        .get(name)
        .ok_or_else(|| exec_datafusion_err!("model store: model '{model}' has no {name}"))
}

impl TrainedModel {
    /// Rebuilds a model from its manifest and Parquet tables.
    pub fn from_parts(manifest: Manifest, files: HashMap<String, RecordBatch>) -> Result<Self> {
        if matches!(manifest.model_type.as_str(), "bgnbd" | "gamma_gamma") {
            let params = train_clv::params_from_batch(
                &manifest,
                file(&files, "params.parquet", &manifest.name)?,
            )?;
            return Ok(Self {
                manifest,
                preprocess: Preprocessor { columns: vec![] },
                params,
            });
        }
        let preprocess =
            Preprocessor::from_batch(file(&files, "preprocessing.parquet", &manifest.name)?)?;
        let names = preprocess.feature_names();
        let params = match manifest.model_type.as_str() {
            "logistic_regression" => ModelParams::Logistic(LogisticParams::from_batch(
                file(&files, "weights.parquet", &manifest.name)?,
                &names,
            )?),
            other => {
                return plan_err!(
                    "model '{}' has type '{other}', which this build of cohort cannot load",
                    manifest.name
                )
            }
        };
        Ok(Self {
            manifest,
            preprocess,
            params,
        })
    }

    /// The model's input column names, in order.
    pub fn feature_names(&self) -> Vec<&str> {
        self.manifest
            .features
            .iter()
            .map(|f| f.name.as_str())
            .collect()
    }

    /// Maps the argument names of a scoring call to the model's features: returns, for each
    /// feature, the index of the argument that provides it.
    pub fn bind(&self, func: &str, arg_names: &[&str]) -> Result<Vec<usize>> {
        let expected = self.feature_names();
        let explain = || {
            format!(
                "{func}('{}', ...): arguments bind to features by column name; expected {} ({}), got {} ({})",
                self.manifest.name,
                expected.len(),
                expected.join(", "),
                arg_names.len(),
                arg_names.join(", ")
            )
        };
        let mut mapping = vec![];
        for f in &expected {
            match arg_names.iter().position(|a| a.eq_ignore_ascii_case(f)) {
                Some(i) => mapping.push(i),
                None => {
                    return plan_err!(
                        "{}; missing feature '{f}' (name an expression with AS {f} in a subquery)",
                        explain()
                    )
                }
            }
        }
        if arg_names.len() != expected.len() {
            let extra: Vec<&str> = arg_names
                .iter()
                .filter(|a| !expected.iter().any(|f| f.eq_ignore_ascii_case(a)))
                .copied()
                .collect();
            return plan_err!(
                "{}; unexpected argument(s): {}",
                explain(),
                extra.join(", ")
            );
        }
        Ok(mapping)
    }

    /// Whether the model is a classifier (has `predict_proba`).
    pub fn is_classifier(&self) -> bool {
        matches!(self.params, ModelParams::Logistic(_))
    }

    /// The SQL type `predict` returns: the label's type for classifiers.
    pub fn predict_type(&self) -> DataType {
        match self.manifest.label.as_ref().map(|l| l.data_type.as_str()) {
            Some("Boolean") => DataType::Boolean,
            Some(t) if t.starts_with("Int") || t.starts_with("UInt") => DataType::Int64,
            Some(t) if t.starts_with("Float") || t.starts_with("Decimal") => DataType::Float64,
            _ => DataType::Utf8,
        }
    }

    /// P(positive class) for columns given in feature order. NULL where a feature is NULL and
    /// not imputed.
    pub fn predict_proba(&self, columns: &[ArrayRef]) -> Result<Float64Array> {
        let m = self.preprocess.transform(columns)?;
        let probs = match &self.params {
            ModelParams::Logistic(p) => p.probabilities(&m.x),
            _ => {
                return plan_err!(
                    "model '{}' is a {} model: score it with expected_purchases, prob_alive, expected_avg_value or clv",
                    self.manifest.name,
                    self.manifest.model_type
                )
            }
        };
        Ok(probs
            .into_iter()
            .zip(&m.valid)
            .map(|(p, &ok)| ok.then_some(p))
            .collect())
    }

    /// The predicted class (threshold 0.5), in the label's type.
    pub fn predict(&self, columns: &[ArrayRef]) -> Result<ArrayRef> {
        let probs = self.predict_proba(columns)?;
        let classes = self
            .manifest
            .label
            .as_ref()
            .map(|l| l.classes.clone())
            .unwrap_or_default();
        let [neg, pos] = classes.as_slice() else {
            return plan_err!("model '{}' has no binary classes", self.manifest.name);
        };
        let pick = |p: Option<f64>| p.map(|p| if p >= 0.5 { pos.as_str() } else { neg.as_str() });
        Ok(match self.predict_type() {
            DataType::Boolean => Arc::new(
                probs
                    .iter()
                    .map(|p| pick(p).map(|c| c == "true"))
                    .collect::<BooleanArray>(),
            ),
            DataType::Int64 => Arc::new(
                probs
                    .iter()
                    .map(|p| pick(p).and_then(|c| c.parse::<i64>().ok()))
                    .collect::<Int64Array>(),
            ),
            DataType::Float64 => Arc::new(
                probs
                    .iter()
                    .map(|p| pick(p).and_then(|c| c.parse::<f64>().ok()))
                    .collect::<Float64Array>(),
            ),
            _ => Arc::new(probs.iter().map(pick).collect::<StringArray>()),
        })
    }
}
