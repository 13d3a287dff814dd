//! SQL functions, one per file. This module only wires them up.

pub mod clv;
mod clv_scalar;
pub mod clv_summary;
mod computed;
pub mod ecommerce;
pub mod expected_avg_value;
pub mod expected_purchases;
pub mod features;
pub mod forecast;
pub mod metrics;
pub mod ml_centroids;
pub mod ml_confusion_matrix;
pub mod ml_evaluate;
pub mod ml_evaluate_ranking;
pub mod ml_feature_importance;
pub mod ml_models;
pub mod ml_roc_curve;
pub mod ml_training_info;
pub mod ml_weights;
mod named_call;
pub mod predict;
pub mod preprocess;
pub mod prob_alive;
pub mod recommend;
pub mod rfm;
pub mod rfm_segment;
pub mod similar_items;

use std::sync::Arc;

use datafusion::catalog::TableFunctionImpl;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF, WindowUDF};

use crate::store::ModelStore;

/// The model named by the single argument of a model-introspection table function.
pub(crate) fn single_model_arg(
    store: &ModelStore,
    args: &datafusion::catalog::TableFunctionArgs,
    func: &str,
) -> datafusion::common::Result<Arc<crate::models::TrainedModel>> {
    if args.exprs().len() != 1 {
        return datafusion::common::plan_err!(
            "{func}: expected 1 argument (model), got {}",
            args.exprs().len()
        );
    }
    let name = crate::util::literal_string(args.exprs(), 0, func, "model")?;
    store.load(&name)
}

/// A one-batch table.
pub(crate) fn batch_table(
    batch: datafusion::arrow::array::RecordBatch,
) -> datafusion::common::Result<Arc<dyn datafusion::catalog::TableProvider>> {
    Ok(Arc::new(datafusion::datasource::MemTable::try_new(
        batch.schema(),
        vec![vec![batch]],
    )?))
}

/// The table a model-introspection function makes for one model; for a partitioned model, the
/// tables of its sub-models stacked, after a first column holding the partition value.
pub(crate) fn per_partition(
    model: &crate::models::TrainedModel,
    table: &dyn Fn(
        &crate::models::TrainedModel,
    ) -> datafusion::common::Result<datafusion::arrow::array::RecordBatch>,
) -> datafusion::common::Result<datafusion::arrow::array::RecordBatch> {
    use datafusion::arrow::array::{ArrayRef, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let Some(p) = &model.partition else {
        return table(model);
    };
    let mut batches = vec![];
    for (value, sub) in p.values.iter().zip(&p.models) {
        let b = table(sub)?;
        let mut fields = vec![Arc::new(Field::new(&p.column, DataType::Utf8, false))];
        fields.extend(b.schema().fields().iter().cloned());
        let mut cols: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec![
            value.as_str();
            b.num_rows()
        ]))];
        cols.extend(b.columns().iter().cloned());
        batches.push(datafusion::arrow::array::RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            cols,
        )?);
    }
    let Some(first) = batches.first() else {
        return datafusion::common::plan_err!("model '{}' has no partitions", model.manifest.name);
    };
    Ok(datafusion::arrow::compute::concat_batches(
        &first.schema(),
        &batches,
    )?)
}

/// Scalar functions.
pub fn scalar_functions(store: &Arc<ModelStore>) -> Vec<ScalarUDF> {
    vec![
        predict::predict_udf(Arc::clone(store)),
        predict::predict_proba_udf(Arc::clone(store)),
        predict::explain_predict_udf(Arc::clone(store)),
        rfm_segment::rfm_segment_udf(),
        expected_purchases::expected_purchases_udf(Arc::clone(store)),
        prob_alive::prob_alive_udf(Arc::clone(store)),
        expected_avg_value::expected_avg_value_udf(Arc::clone(store)),
        clv::clv_udf(Arc::clone(store)),
    ]
    .into_iter()
    .chain(features::all())
    .collect()
}

/// Window functions.
pub fn window_functions() -> Vec<WindowUDF> {
    preprocess::all()
}

/// Re-registers DataFusion's own table functions (`generate_series`, `range`) with their scans
/// named after the call, as cohort's are: otherwise two calls with different arguments in one
/// query can be merged into one (see `named_call`).
pub fn name_builtin_table_functions(ctx: &datafusion::prelude::SessionContext) {
    for name in ["generate_series", "range"] {
        if let Ok(f) = ctx.table_function(name) {
            let named: Arc<dyn TableFunctionImpl> =
                Arc::new(named_call::NamedCall::new(name, Arc::clone(f.function())));
            ctx.register_udtf(name, named);
        }
    }
}

/// Aggregate functions.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    metrics::all()
        .into_iter()
        .chain(ecommerce::aggregates())
        .collect()
}

/// Table functions, with their SQL names; each one's scans are named after the whole call
/// (see `named_call`), so that calls with different arguments are different plans.
pub fn table_functions(store: &Arc<ModelStore>) -> Vec<(&'static str, Arc<dyn TableFunctionImpl>)> {
    let functions: Vec<(&'static str, Arc<dyn TableFunctionImpl>)> = vec![
        (
            "ml_models",
            Arc::new(ml_models::MlModels::new(Arc::clone(store))),
        ),
        (
            "ml_evaluate",
            Arc::new(ml_evaluate::MlEvaluate::new(Arc::clone(store))),
        ),
        (
            "ml_weights",
            Arc::new(ml_weights::MlWeights::new(Arc::clone(store))),
        ),
        ("rfm", Arc::new(rfm::Rfm)),
        ("clv_summary", Arc::new(clv_summary::ClvSummary)),
        (
            "association_rules",
            Arc::new(ecommerce::association_rules::AssociationRules),
        ),
        (
            "ml_roc_curve",
            Arc::new(ml_roc_curve::MlRocCurve::new(Arc::clone(store))),
        ),
        (
            "ml_feature_importance",
            Arc::new(ml_feature_importance::MlFeatureImportance::new(Arc::clone(
                store,
            ))),
        ),
        (
            "ml_centroids",
            Arc::new(ml_centroids::MlCentroids::new(Arc::clone(store))),
        ),
        (
            "ml_training_info",
            Arc::new(ml_training_info::MlTrainingInfo::new(Arc::clone(store))),
        ),
        (
            "recommend",
            Arc::new(recommend::Recommend::new(Arc::clone(store))),
        ),
        (
            "similar_items",
            Arc::new(similar_items::SimilarItems::new(Arc::clone(store))),
        ),
        (
            "ml_evaluate_ranking",
            Arc::new(ml_evaluate_ranking::MlEvaluateRanking::new(Arc::clone(
                store,
            ))),
        ),
        (
            "forecast",
            Arc::new(forecast::Forecast::new(Arc::clone(store))),
        ),
        (
            "ml_confusion_matrix",
            Arc::new(ml_confusion_matrix::MlConfusionMatrix::new(Arc::clone(
                store,
            ))),
        ),
    ];
    functions
        .into_iter()
        .map(|(name, f)| {
            let named: Arc<dyn TableFunctionImpl> = Arc::new(named_call::NamedCall::new(name, f));
            (name, named)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every function documents itself (information_schema.routines shows it) with an example.
    #[test]
    fn every_function_is_documented() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(ModelStore::open(dir.path()).unwrap());
        let mut docs = vec![];
        for f in scalar_functions(&store) {
            docs.push((f.name().to_string(), f.documentation().cloned()));
        }
        for f in aggregate_functions() {
            docs.push((f.name().to_string(), f.documentation().cloned()));
        }
        for f in window_functions() {
            docs.push((f.name().to_string(), f.documentation().cloned()));
        }
        assert_eq!(docs.len(), 38, "scalar, aggregate and window functions");
        for (name, doc) in docs {
            let doc = doc.unwrap_or_else(|| panic!("{name} has no documentation"));
            assert!(
                doc.syntax_example.starts_with(&name),
                "{name}: {}",
                doc.syntax_example
            );
            assert!(doc.sql_example.is_some(), "{name} has no SQL example");
            assert!(doc.description.len() > 40, "{name}: {}", doc.description);
        }
    }
}
