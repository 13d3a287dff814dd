//! Model families, the preprocessing they share, and training/scoring entry points.
//!
//! A trained model is a [`Manifest`] plus parameters kept as Arrow tables (Parquet on disk).
//! Families: `logistic_regression` and `linear_regression` ([`logistic`], [`linear`]),
//! `kmeans` ([`kmeans`]), `decision_tree` and `random_forest` ([`tree`]), `naive_bayes`
//! ([`naive_bayes`]), `mlp` ([`mlp`]), the buy-till-you-die `bgnbd` / `gamma_gamma`
//! ([`clv`]) and the recommenders `popularity`, `item_knn`, `als`, `repeat_aware` ([`recs`]).

pub mod clv;
pub mod features;
pub mod forecast_model;
pub mod kmeans;
pub mod linear;
pub mod logistic;
pub mod mlp;
pub mod naive_bayes;
pub mod options;
pub mod recs;
pub mod train;
mod train_clv;
pub mod train_forecast;
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
        "forecast" => train_forecast::OPTIONS,
        _ => &[],
    }
}

/// What a model type learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// A class label: `predict` gives the class, `predict_proba` P(positive) for two classes
    /// and a struct of every class's probability for more.
    Classification,
    /// A numeric label: `predict` gives the value.
    Regression,
    /// No label: `predict` gives the cluster id.
    Clustering,
    /// A customer summary (BG/NBD, Gamma-Gamma), scored by the CLV functions.
    Lifetime,
    /// (user, item) interactions, scored by `recommend` and `similar_items`.
    Recommendation,
    /// Time series, extrapolated by `forecast`.
    Forecast,
}

/// The task of a model type.
pub fn task(model_type: &str) -> Task {
    match model_type {
        "linear_regression" => Task::Regression,
        "kmeans" => Task::Clustering,
        "bgnbd" | "gamma_gamma" => Task::Lifetime,
        t if recs::is_recommender(t) => Task::Recommendation,
        "forecast" => Task::Forecast,
        _ => Task::Classification,
    }
}

/// The fitted parameters of a model family.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelParams {
    /// Binary logistic regression.
    Logistic(Weights),
    /// Multinomial logistic regression (three or more classes).
    MultiLogistic(logistic::MultiWeights),
    /// Linear regression.
    Linear(Weights),
    /// k-means centroids.
    KMeans(kmeans::Centroids),
    /// A decision tree (a forest of one) or a random forest.
    Trees(tree::Forest),
    /// Gaussian or multinomial naive Bayes.
    NaiveBayes(naive_bayes::NaiveBayes),
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
    /// A forecast model (one fitted model per series).
    Forecast(Box<forecast_model::ForecastModel>),
}

impl ModelParams {
    /// The parameter files of a feature-based model, named as in the store (`classes`: the
    /// label's classes of a classifier).
    pub fn files(
        &self,
        names: &[String],
        classes: &[String],
    ) -> Result<Vec<(String, RecordBatch)>> {
        Ok(match self {
            ModelParams::Logistic(w) | ModelParams::Linear(w) => {
                vec![("weights.parquet".into(), w.to_batch(names)?)]
            }
            ModelParams::MultiLogistic(w) => {
                vec![("weights.parquet".into(), w.to_batch(names, classes)?)]
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
            ModelParams::Forecast(m) => vec![("forecast.parquet".into(), m.to_batch()?)],
        })
    }

    /// Class probabilities of preprocessed rows (rows × classes, in class order), for
    /// classifiers.
    pub fn class_probabilities(&self, x: &Array2<f64>) -> Option<Array2<f64>> {
        Some(match self {
            ModelParams::Logistic(w) => {
                let p = w.probabilities(x);
                let mut out = Array2::zeros((p.len(), 2));
                for (i, p) in p.into_iter().enumerate() {
                    out[[i, 0]] = 1.0 - p;
                    out[[i, 1]] = p;
                }
                out
            }
            ModelParams::MultiLogistic(w) => w.class_probabilities(x),
            ModelParams::Trees(f) => f.class_probabilities(x),
            ModelParams::NaiveBayes(m) => m.class_probabilities(x),
            ModelParams::Mlp(m) => m.class_probabilities(x),
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
        if manifest.model_type == "forecast" {
            let params = ModelParams::Forecast(Box::new(train_forecast::load(
                &manifest,
                file(&files, "forecast.parquet", &manifest.name)?,
            )?));
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
        let classes: Vec<String> = manifest
            .label
            .as_ref()
            .map(|l| l.classes.clone())
            .unwrap_or_default();
        let k = classes.len();
        if task(&manifest.model_type) == Task::Classification && k < 2 {
            return plan_err!("model store: classifier '{m}' lists {k} classes");
        }
        let params = match manifest.model_type.as_str() {
            "logistic_regression" if k > 2 => {
                ModelParams::MultiLogistic(logistic::MultiWeights::from_batch(
                    file(&files, "weights.parquet", m)?,
                    &names,
                    &classes,
                )?)
            }
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
                k,
            )?),
            "naive_bayes" => ModelParams::NaiveBayes(naive_bayes::NaiveBayes::from_batch(
                file(&files, "naive_bayes.parquet", m)?,
                width,
                k,
            )?),
            "mlp" => ModelParams::Mlp(mlp::Mlp::from_batch(
                file(&files, "mlp.parquet", m)?,
                width,
                k,
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
            Task::Regression | Task::Lifetime | Task::Recommendation | Task::Forecast => {
                return DataType::Float64
            }
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

    /// The classes of a classifier's label, in class order (empty for other models).
    pub fn classes(&self) -> &[String] {
        self.manifest
            .label
            .as_ref()
            .map_or(&[][..], |l| l.classes.as_slice())
    }

    /// The SQL type `predict_proba` returns: DOUBLE (P(positive class)) for a binary label, a
    /// struct with one DOUBLE field per class (named by the class) for more classes.
    pub fn proba_type(&self) -> DataType {
        let classes = self.classes();
        if classes.len() <= 2 {
            return DataType::Float64;
        }
        DataType::Struct(Self::proba_fields(classes))
    }

    fn proba_fields(classes: &[String]) -> datafusion::arrow::datatypes::Fields {
        classes
            .iter()
            .map(|c| datafusion::arrow::datatypes::Field::new(c, DataType::Float64, true))
            .collect()
    }

    /// Class probabilities (rows × classes) of columns in feature order, and which rows were
    /// scored (a NULL feature that is not imputed leaves its row unscored). Not for
    /// partitioned models, whose rows [`TrainedModel::route`] sends to a sub-model first.
    fn class_probabilities(&self, columns: &[ArrayRef]) -> Result<(Array2<f64>, Vec<bool>)> {
        let m = self.preprocess.transform(columns)?;
        if let ModelParams::NaiveBayes(nb) = &self.params {
            if nb.multinomial {
                if let Some(((_, j), v)) =
                    m.x.indexed_iter()
                        .find(|((i, _), v)| m.valid[*i] && **v < 0.0)
                {
                    let names = self.preprocess.feature_names();
                    return datafusion::common::exec_err!(
                        "model '{}' is a multinomial naive_bayes model, which scores counts; feature '{}' is {v}, expected a count >= 0",
                        self.manifest.name,
                        names.get(j).map_or("?", String::as_str)
                    );
                }
            }
        }
        let Some(probs) = self.params.class_probabilities(&m.x) else {
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
        if probs.ncols() != self.classes().len() {
            return plan_err!(
                "model '{}' scores {} classes but its label lists {}",
                self.manifest.name,
                probs.ncols(),
                self.classes().len()
            );
        }
        Ok((probs, m.valid))
    }

    /// `predict_proba` for columns given in feature order, in [`TrainedModel::proba_type`]:
    /// P(positive class), or a struct of every class's probability. NULL where a feature is
    /// NULL and not imputed (and, for a partitioned model, where the partition value is
    /// unknown).
    pub fn predict_proba(&self, columns: &[ArrayRef]) -> Result<ArrayRef> {
        if self.partition.is_some() {
            return self.route(columns, &|m, c| m.predict_proba(c));
        }
        let (probs, valid) = self.class_probabilities(columns)?;
        let classes = self.classes();
        if classes.len() == 2 {
            return Ok(Arc::new(
                probs
                    .column(1)
                    .iter()
                    .zip(&valid)
                    .map(|(p, &ok)| ok.then_some(*p))
                    .collect::<Float64Array>(),
            ));
        }
        let cols: Vec<ArrayRef> = (0..classes.len())
            .map(|c| {
                Arc::new(
                    probs
                        .column(c)
                        .iter()
                        .zip(&valid)
                        .map(|(p, &ok)| ok.then_some(*p))
                        .collect::<Float64Array>(),
                ) as ArrayRef
            })
            .collect();
        Ok(Arc::new(datafusion::arrow::array::StructArray::try_new(
            Self::proba_fields(classes),
            cols,
            Some(datafusion::arrow::buffer::NullBuffer::from(valid)),
        )?))
    }

    /// The predicted class index of every scored row (the most likely class; for a binary
    /// label the positive class from P = 0.5 up).
    fn predicted_classes(&self, columns: &[ArrayRef]) -> Result<Vec<Option<usize>>> {
        let (probs, valid) = self.class_probabilities(columns)?;
        Ok(probs
            .rows()
            .into_iter()
            .zip(&valid)
            .map(|(r, &ok)| ok.then(|| mlp::argmax(r)))
            .collect())
    }

    /// The prediction, in [`TrainedModel::predict_type`]: the class (the most likely; for a
    /// binary label threshold 0.5), the regression value or the cluster id.
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
        let picked = self.predicted_classes(columns)?;
        let classes = self.classes();
        let pick = |c: &Option<usize>| c.and_then(|c| classes.get(c)).map(String::as_str);
        Ok(match self.predict_type() {
            DataType::Boolean => Arc::new(
                picked
                    .iter()
                    .map(|c| pick(c).map(|c| c == "true"))
                    .collect::<BooleanArray>(),
            ),
            DataType::Int64 => Arc::new(
                picked
                    .iter()
                    .map(|c| pick(c).and_then(|c| c.parse::<i64>().ok()))
                    .collect::<Int64Array>(),
            ),
            DataType::Float64 => Arc::new(
                picked
                    .iter()
                    .map(|c| pick(c).and_then(|c| c.parse::<f64>().ok()))
                    .collect::<Float64Array>(),
            ),
            _ => Arc::new(picked.iter().map(pick).collect::<StringArray>()),
        })
    }

    /// Per-row explanation of linear models and trees: (term, contribution) pairs that sum to
    /// the logit (logistic), the prediction (linear) or P(positive) (trees and forests). For a
    /// label with more than two classes they explain the predicted class: its logit
    /// (multinomial logistic) or its probability (trees). The first term is `(intercept)` or
    /// `(base)`; the rest are the preprocessed features. NULL rows where a feature is NULL and
    /// not imputed.
    pub fn explain(&self, columns: &[ArrayRef]) -> Result<(Vec<String>, Array2<f64>, Vec<bool>)> {
        let m = self.preprocess.transform(columns)?;
        let names = self.preprocess.feature_names();
        let rows = m.x.nrows();
        // the class each row is explained for
        let class = |probs: Option<Array2<f64>>| -> Vec<usize> {
            match probs {
                Some(p) if p.ncols() > 2 => p.rows().into_iter().map(mlp::argmax).collect(),
                _ => vec![1; rows],
            }
        };
        let (first, base, contrib): (&str, Vec<f64>, Array2<f64>) = match &self.params {
            ModelParams::Logistic(w) | ModelParams::Linear(w) => {
                ("(intercept)", vec![w.intercept; rows], w.contributions(&m.x))
            }
            ModelParams::MultiLogistic(w) => {
                let cls = class(Some(w.class_probabilities(&m.x)));
                let base = cls.iter().map(|&c| w.intercept[c]).collect();
                ("(intercept)", base, w.contributions(&m.x, &cls))
            }
            ModelParams::Trees(f) => {
                let cls = if f.classes > 2 {
                    class(Some(f.class_probabilities(&m.x)))
                } else {
                    vec![1; rows]
                };
                let base = cls.iter().map(|&c| f.base(c)).collect();
                ("(base)", base, f.contributions(&m.x, &cls))
            }
            _ => {
                return plan_err!(
                    "explain_predict: model '{}' is a {} model; explanations are available for logistic_regression, linear_regression, decision_tree and random_forest",
                    self.manifest.name,
                    self.manifest.model_type
                )
            }
        };
        let mut all = Array2::zeros((m.x.nrows(), names.len() + 1));
        all.column_mut(0).assign(&ndarray::Array1::from(base));
        all.slice_mut(ndarray::s![.., 1..]).assign(&contrib);
        let mut terms = vec![first.to_string()];
        terms.extend(names);
        Ok((terms, all, m.valid))
    }
}
