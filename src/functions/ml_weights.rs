//! `ml_weights('model')`: the weights of a linear model (odds ratios for logistic regression; a
//! multinomial logistic model lists class, feature, weight: one weight vector per class).

use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result};
use datafusion::datasource::MemTable;

use crate::models::{ModelParams, TrainedModel};
use crate::store::ModelStore;

/// `parameter, value` rows for models described by a few named parameters, ending with the
/// log-likelihood of the fit.
fn parameter_table(
    m: &crate::store::Manifest,
    params: &[(&str, f64)],
) -> Result<Arc<dyn TableProvider>> {
    let mut names: Vec<String> = params.iter().map(|p| p.0.to_string()).collect();
    let mut values: Vec<f64> = params.iter().map(|p| p.1).collect();
    if let Some(ll) = m
        .metrics
        .as_ref()
        .and_then(|x| x.values.get("log_likelihood").copied().flatten())
    {
        names.push("log_likelihood".into());
        values.push(ll);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("parameter", DataType::Utf8, false),
        Field::new("value", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from(names)),
            Arc::new(Float64Array::from(values)),
        ],
    )?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// The `ml_weights` table function: feature, weight, odds_ratio.
/// For `bgnbd` and `gamma_gamma` models: parameter, value (with the log-likelihood). Weights apply to the
/// preprocessed features (after imputation, scaling and one-hot encoding, named `col=category`);
/// the intercept is the row `(intercept)`. odds_ratio = exp(weight).
#[derive(Debug)]
pub struct MlWeights {
    store: Arc<ModelStore>,
}

impl MlWeights {
    /// Reads models of `store`.
    pub fn new(store: Arc<ModelStore>) -> Self {
        Self { store }
    }
}

impl TableFunctionImpl for MlWeights {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let model = super::single_model_arg(&self.store, &args, "ml_weights")?;
        // Buy-till-you-die models: their parameters and the log-likelihood of the fit.
        match &model.params {
            ModelParams::BgNbd { params: p, .. } => {
                return parameter_table(
                    &model.manifest,
                    &[("r", p.r), ("alpha", p.alpha), ("a", p.a), ("b", p.b)],
                )
            }
            ModelParams::GammaGamma(p) => {
                return parameter_table(&model.manifest, &[("p", p.p), ("q", p.q), ("v", p.v)])
            }
            _ => {}
        }
        super::batch_table(super::per_partition(&model, &weights_table)?)
    }
}

/// The weights of one (sub-)model: feature, weight, odds_ratio.
fn weights_table(model: &TrainedModel) -> Result<RecordBatch> {
    let name = &model.manifest.name;
    if let ModelParams::MultiLogistic(w) = &model.params {
        // one row per (class, term), as stored
        return w.to_batch(&model.preprocess.feature_names(), model.classes());
    }
    let logistic = matches!(model.params, ModelParams::Logistic(_));
    let (features, weights) = match &model.params {
            ModelParams::Logistic(p) | ModelParams::Linear(p) => {
                let mut f = vec!["(intercept)".to_string()];
                f.extend(model.preprocess.feature_names());
                let mut w = vec![p.intercept];
                w.extend(p.weights.iter().copied());
                (f, w)
            }
            ModelParams::BgNbd { .. } | ModelParams::GammaGamma(_) => {
                return plan_err!("ml_weights: model '{name}' has no feature weights")
            }
            ModelParams::KMeans(_) => {
                return plan_err!("ml_weights: model '{name}' is a kmeans model; its parameters are in ml_centroids('{name}')")
            }
            ModelParams::Trees(_) => {
                return plan_err!("ml_weights: model '{name}' is a tree model; see ml_feature_importance('{name}') (the nodes are in its nodes.parquet)")
            }
            ModelParams::Forecast(_) => {
                return plan_err!("ml_weights: model '{name}' is a forecast model; its per-series parameters are in its forecast.parquet, and ml_evaluate('{name}') gives the back-test")
            }
            ModelParams::Recs(_) => {
                return plan_err!("ml_weights: model '{name}' is a {} recommendation model; its factors and neighbours are in its Parquet files, and recommend('{name}', k) / similar_items('{name}', item, k) use them", model.manifest.model_type)
            }
            ModelParams::MultiLogistic(_) => unreachable_weights(name)?,
            ModelParams::NaiveBayes(_) | ModelParams::Mlp(_) => {
                return plan_err!("ml_weights: model '{name}' is a {} model, which has no weights per feature; ml_weights covers logistic_regression, linear_regression, bgnbd and gamma_gamma", model.manifest.model_type)
            }
        };
    let schema = Arc::new(Schema::new(vec![
        Field::new("feature", DataType::Utf8, false),
        Field::new("weight", DataType::Float64, false),
        Field::new("odds_ratio", DataType::Float64, true),
    ]));
    // odds ratios mean something for a logistic model only
    let odds: Vec<Option<f64>> = weights.iter().map(|w| logistic.then(|| w.exp())).collect();
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(features)),
            Arc::new(Float64Array::from(weights)),
            Arc::new(Float64Array::from(odds)),
        ],
    )?)
}

fn unreachable_weights(name: &str) -> Result<(Vec<String>, Vec<f64>)> {
    plan_err!("ml_weights: internal error: model '{name}' has class weights")
}
