//! Model families, the preprocessing they share, and training/scoring entry points.
//!
//! A trained model is a [`Manifest`] plus parameters kept as Arrow tables (Parquet on disk).
//! Families: `logistic_regression` and `linear_regression` ([`logistic`], [`linear`]),
//! `kmeans` ([`kmeans`]), `decision_tree` and `random_forest` ([`tree`]), `naive_bayes`
//! ([`naive_bayes`]), `mlp` ([`mlp`]), the buy-till-you-die `bgnbd` / `gamma_gamma`
//! ([`clv`]) and the recommenders `popularity`, `item_knn`, `als`, `repeat_aware` ([`recs`]).

pub mod clv;
pub mod features;
pub mod kmeans;
pub mod linear;
pub mod logistic;
pub mod mlp;
pub mod naive_bayes;
pub mod options;
pub mod recs;
pub mod train;
mod train_clv;
pub mod train_recs;
pub mod tree;

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_datafusion_err, plan_err, Result};
use ndarray::Array2;

use crate::store::Manifest;
use features::Preprocessor;
use logistic::Weights;

/// Type-specific options of a model type.
pub fn type_options(model_type: &str) -> &'static [&'static str] {
    match model_type {
        "logistic_regression" => logistic::OPTIONS,
        "linear_regression" => linear::OPTIONS,
        "kmeans" => kmeans::OPTIONS,
        "decision_tree" => tree::TREE_OPTIONS,
        "random_forest" => tree::FOREST_OPTIONS,
        "naive_bayes" => naive_bayes::OPTIONS,
        "mlp" => mlp::OPTIONS,
        "bgnbd" => train_clv::BGNBD_OPTIONS,
        "gamma_gamma" => train_clv::GAMMA_GAMMA_OPTIONS,
        "popularity" => recs::POPULARITY_OPTIONS,
        "item_knn" => recs::ITEM_KNN_OPTIONS,
        "als" => recs::ALS_OPTIONS,
        "repeat_aware" => recs::REPEAT_AWARE_OPTIONS,
        _ => &[],
    }
}

/// What a model type learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// A binary label: `predict` gives the class, `predict_proba` P(positive).
    Classification,
    /// A numeric label: `predict` gives the value.
    Regression,
    /// No label: `predict` gives the cluster id.
    Clustering,
    /// A customer summary (BG/NBD, Gamma-Gamma), scored by the CLV functions.
    Lifetime,
    /// (user, item) interactions, scored by `recommend` and `similar_items`.
    Recommendation,
}

/// The task of a model type.
pub fn task(model_type: &str) -> Task {
    match model_type {
        "linear_regression" => Task::Regression,
        "kmeans" => Task::Clustering,
        "bgnbd" | "gamma_gamma" => Task::Lifetime,
        t if recs::is_recommender(t) => Task::Recommendation,
        _ => Task::Classification,
    }
}

/// The fitted parameters of a model family.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelParams {
    /// Binary logistic regression.
    Logistic(Weights),
    /// Linear regression.
    Linear(Weights),
    /// k-means centroids.
    KMeans(kmeans::Centroids),
    /// A decision tree (a forest of one) or a random forest.
    Trees(tree::Forest),
    /// Gaussian naive Bayes.
    NaiveBayes(naive_bayes::GaussianNb),
    /// A multilayer perceptron.
    Mlp(mlp::Mlp),
    /// BG/NBD purchase model; `periods_per_month` is 4.345 for weeks, 30 for days.
    BgNbd {
        /// Parameters.
        params: clv::BgNbd,
        /// Time units per month, for `clv`.
        periods_per_month: f64,
    },
    /// Gamma-Gamma spend model.
    GammaGamma(clv::GammaGamma),
    /// A recommendation model.
    Recs(Box<recs::RecModel>),
}

impl ModelParams {
    /// The parameter files of a feature-based model, named as in the store.
    pub fn files(&self, names: &[String]) -> Result<Vec<(String, RecordBatch)>> {
        Ok(match self {
            ModelParams::Logistic(w) | ModelParams::Linear(w) => {
                vec![("weights.parquet".into(), w.to_batch(names)?)]
            }
            ModelParams::KMeans(c) => vec![("centroids.parquet".into(), c.to_batch(names)?)],
            ModelParams::Trees(f) => vec![("nodes.parquet".into(), f.to_batch(names)?)],
            ModelParams::NaiveBayes(m) => vec![("naive_bayes.parquet".into(), m.to_batch(names)?)],
            ModelParams::Mlp(m) => vec![
                ("mlp.parquet".into(), m.to_batch()?),
                ("training_info.parquet".into(), m.history_batch()?),
            ],
            ModelParams::BgNbd { .. } | ModelParams::GammaGamma(_) => vec![],
            ModelParams::Recs(m) => train_recs::model_files(m)?,
        })
    }

    /// P(positive class) of preprocessed rows, for classifiers.
    pub fn probabilities(&self, x: &Array2<f64>) -> Option<Vec<f64>> {
        Some(match self {
            ModelParams::Logistic(w) => w.probabilities(x),
            ModelParams::Trees(f) => f.probabilities(x),
            ModelParams::NaiveBayes(m) => m.probabilities(x),
            ModelParams::Mlp(m) => m.probabilities(x),
            _ => return None,
        })
    }
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
    /// Extra tables kept with the model (e.g. an MLP's training history), by file name.
    pub tables: HashMap<String, RecordBatch>,
    /// The sub-models of a model trained with `partition_by`.
    pub partition: Option<Box<Partition>>,
}

/// The sub-models of a partitioned model.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// The column whose value picks the sub-model.
    pub column: String,
    /// Its values, in sorted order.
    pub values: Vec<String>,
    /// One sub-model per value.
    pub models: Vec<TrainedModel>,
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
                tables: files,
                partition: None,
            });
        }
        if recs::is_recommender(&manifest.model_type) {
            let params =
                ModelParams::Recs(Box::new(train_recs::model_from_files(&manifest, &files)?));
            return Ok(Self {
                manifest,
                preprocess: Preprocessor { columns: vec![] },
                params,
                tables: HashMap::new(),
                partition: None,
            });
        }
        if let Some(column) = manifest.partition_by.clone() {
            let mut models = vec![];
            for (i, info) in manifest.partitions.iter().enumerate() {
                let prefix = crate::store::partition_prefix(i);
                let sub_files: HashMap<String, RecordBatch> = files
                    .iter()
                    .filter_map(|(k, v)| {
                        k.strip_prefix(&prefix).map(|k| (k.to_string(), v.clone()))
                    })
                    .collect();
                let mut sub = manifest.clone();
                sub.partition_by = None;
                sub.partitions = vec![];
                sub.metrics = info.metrics.clone();
                sub.rows = info.rows.clone();
                models.push(Self::from_parts(sub, sub_files)?);
            }
            let Some(first) = models.first().cloned() else {
                return Err(exec_datafusion_err!(
                    "model store: partitioned model '{}' has no partitions",
                    manifest.name
                ));
            };
            let values = manifest
                .partitions
                .iter()
                .map(|p| p.value.clone())
                .collect();
            return Ok(Self {
                manifest,
                preprocess: first.preprocess,
                params: first.params,
                tables: files,
                partition: Some(Box::new(Partition {
                    column,
                    values,
                    models,
                })),
            });
        }
        let preprocess =
            Preprocessor::from_batch(file(&files, "preprocessing.parquet", &manifest.name)?)?;
        let names = preprocess.feature_names();
        let width = names.len();
        let m = &manifest.name;
        let params = match manifest.model_type.as_str() {
            "logistic_regression" => ModelParams::Logistic(Weights::from_batch(
                file(&files, "weights.parquet", m)?,
                &names,
            )?),
            "linear_regression" => ModelParams::Linear(Weights::from_batch(
                file(&files, "weights.parquet", m)?,
                &names,
            )?),
            "kmeans" => ModelParams::KMeans(kmeans::Centroids::from_batch(
                file(&files, "centroids.parquet", m)?,
                &names,
            )?),
            "decision_tree" | "random_forest" => ModelParams::Trees(tree::Forest::from_batch(
                file(&files, "nodes.parquet", m)?,
                width,
            )?),
            "naive_bayes" => ModelParams::NaiveBayes(naive_bayes::GaussianNb::from_batch(
                file(&files, "naive_bayes.parquet", m)?,
                width,
            )?),
            "mlp" => ModelParams::Mlp(mlp::Mlp::from_batch(
                file(&files, "mlp.parquet", m)?,
                width,
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
            tables: files,
            partition: None,
        })
    }

    /// The model's input column names, in order: the features, then the partition column of a
    /// partitioned model.
    pub fn feature_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .manifest
            .features
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        if let Some(p) = &self.partition {
            names.push(p.column.as_str());
        }
        names
    }

    /// Scores rows of a partitioned model: each row goes to the sub-model of its partition
    /// value (the last column); a value not seen in training gives NULL. Unpartitioned models
    /// call `score` directly.
    pub fn route(
        &self,
        columns: &[ArrayRef],
        score: &dyn Fn(&TrainedModel, &[ArrayRef]) -> Result<ArrayRef>,
    ) -> Result<ArrayRef> {
        let Some(p) = &self.partition else {
            return score(self, columns);
        };
        let Some((key, features)) = columns.split_last() else {
            return plan_err!(
                "model '{}' takes its partition column '{}' last",
                self.manifest.name,
                p.column
            );
        };
        let key = datafusion::arrow::compute::cast(key, &DataType::Utf8)?;
        let key = datafusion::arrow::array::AsArray::as_string::<i32>(&key);
        let rows = key.len();
        let mut results: Vec<ArrayRef> = vec![];
        let mut slot = vec![(0usize, 0usize); rows];
        for (j, value) in p.values.iter().enumerate() {
            let ids: datafusion::arrow::array::UInt32Array = (0..rows as u32)
                .filter(|&i| key.is_valid(i as usize) && key.value(i as usize) == value)
                .collect();
            if ids.is_empty() {
                continue;
            }
            let cols = features
                .iter()
                .map(|c| Ok(datafusion::arrow::compute::take(c.as_ref(), &ids, None)?))
                .collect::<Result<Vec<_>>>()?;
            let out = score(&p.models[j], &cols)?;
            for (pos, &i) in ids.values().iter().enumerate() {
                slot[i as usize] = (results.len() + 1, pos);
            }
            results.push(out);
        }
        let dt = match results.first() {
            Some(r) => r.data_type().clone(),
            None => score(
                &p.models[0],
                &features.iter().map(|c| c.slice(0, 0)).collect::<Vec<_>>(),
            )?
            .data_type()
            .clone(),
        };
        let mut arrays: Vec<ArrayRef> = vec![datafusion::arrow::array::new_null_array(&dt, 1)];
        arrays.extend(results);
        let refs: Vec<&dyn datafusion::arrow::array::Array> =
            arrays.iter().map(|a| a.as_ref()).collect();
        Ok(datafusion::arrow::compute::interleave(&refs, &slot)?)
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

    /// What the model learns.
    pub fn task(&self) -> Task {
        task(&self.manifest.model_type)
    }

    /// Whether the model is a classifier (has `predict_proba`).
    pub fn is_classifier(&self) -> bool {
        self.task() == Task::Classification
    }

    /// The SQL type `predict` returns: the label's type for classifiers, DOUBLE for
    /// regression, BIGINT cluster ids for k-means.
    pub fn predict_type(&self) -> DataType {
        match self.task() {
            Task::Regression | Task::Lifetime | Task::Recommendation => return DataType::Float64,
            Task::Clustering => return DataType::Int64,
            Task::Classification => {}
        }
        match self.manifest.label.as_ref().map(|l| l.data_type.as_str()) {
            Some("Boolean") => DataType::Boolean,
            Some(t) if t.starts_with("Int") || t.starts_with("UInt") => DataType::Int64,
            Some(t) if t.starts_with("Float") || t.starts_with("Decimal") => DataType::Float64,
            _ => DataType::Utf8,
        }
    }

    /// P(positive class) for columns given in feature order. NULL where a feature is NULL and
    /// not imputed (and, for a partitioned model, where the partition value is unknown).
    pub fn predict_proba(&self, columns: &[ArrayRef]) -> Result<Float64Array> {
        if self.partition.is_some() {
            let out = self.route(columns, &|m, c| {
                Ok(Arc::new(m.predict_proba(c)?) as ArrayRef)
            })?;
            return Ok(datafusion::arrow::array::AsArray::as_primitive::<
                datafusion::arrow::datatypes::Float64Type,
            >(&out)
            .clone());
        }
        let m = self.preprocess.transform(columns)?;
        let Some(probs) = self.params.probabilities(&m.x) else {
            return plan_err!(
                "model '{}' is a {} model, not a classifier: score it with predict{}",
                self.manifest.name,
                self.manifest.model_type,
                if self.task() == Task::Lifetime {
                    " or expected_purchases, prob_alive, expected_avg_value, clv"
                } else {
                    ""
                }
            );
        };
        Ok(probs
            .into_iter()
            .zip(&m.valid)
            .map(|(p, &ok)| ok.then_some(p))
            .collect())
    }

    /// The prediction, in [`TrainedModel::predict_type`]: the class (threshold 0.5), the
    /// regression value or the cluster id.
    pub fn predict(&self, columns: &[ArrayRef]) -> Result<ArrayRef> {
        if self.partition.is_some() {
            return self.route(columns, &|m, c| m.predict(c));
        }
        match &self.params {
            ModelParams::Linear(w) => {
                let m = self.preprocess.transform(columns)?;
                let v = w.linear(&m.x);
                return Ok(Arc::new(
                    v.into_iter()
                        .zip(&m.valid)
                        .map(|(v, &ok)| ok.then_some(v))
                        .collect::<Float64Array>(),
                ));
            }
            ModelParams::KMeans(c) => {
                let m = self.preprocess.transform(columns)?;
                let a = c.assign(&m.x);
                return Ok(Arc::new(
                    a.into_iter()
                        .zip(&m.valid)
                        .map(|(k, &ok)| ok.then_some(k as i64))
                        .collect::<Int64Array>(),
                ));
            }
            _ => {}
        }
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

    /// Per-row explanation of linear models and trees: (term, contribution) pairs that sum to
    /// the logit (logistic), the prediction (linear) or P(positive) (trees and forests). The
    /// first term is `(intercept)` or `(base)`; the rest are the preprocessed features. NULL
    /// rows where a feature is NULL and not imputed.
    pub fn explain(&self, columns: &[ArrayRef]) -> Result<(Vec<String>, Array2<f64>, Vec<bool>)> {
        let m = self.preprocess.transform(columns)?;
        let names = self.preprocess.feature_names();
        let (first, base, contrib) = match &self.params {
            ModelParams::Logistic(w) | ModelParams::Linear(w) => {
                ("(intercept)", w.intercept, w.contributions(&m.x))
            }
            ModelParams::Trees(f) => ("(base)", f.base(), f.contributions(&m.x)),
            _ => {
                return plan_err!(
                    "explain_predict: model '{}' is a {} model; explanations are available for logistic_regression, linear_regression, decision_tree and random_forest",
                    self.manifest.name,
                    self.manifest.model_type
                )
            }
        };
        let mut all = Array2::zeros((m.x.nrows(), names.len() + 1));
        all.column_mut(0).fill(base);
        all.slice_mut(ndarray::s![.., 1..]).assign(&contrib);
        let mut terms = vec![first.to_string()];
        terms.extend(names);
        Ok((terms, all, m.valid))
    }
}
