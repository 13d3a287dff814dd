//! `ml_feature_importance('model')`: impurity-based feature importance of a decision tree or
//! random forest (mean decrease in impurity, normalised to sum to 1), most important first.

use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result};

use crate::models::{ModelParams, TrainedModel};
use crate::store::ModelStore;

const NAME: &str = "ml_feature_importance";

/// The `ml_feature_importance` table function: rank, feature, importance.
#[derive(Debug)]
pub struct MlFeatureImportance {
    store: Arc<ModelStore>,
}

impl MlFeatureImportance {
    /// Reads models of `store`.
    pub fn new(store: Arc<ModelStore>) -> Self {
        Self { store }
    }
}

impl TableFunctionImpl for MlFeatureImportance {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let model = super::single_model_arg(&self.store, &args, NAME)?;
        super::batch_table(super::per_partition(&model, &table)?)
    }
}

/// The importance table of one (sub-)model.
fn table(model: &TrainedModel) -> Result<RecordBatch> {
    let name = &model.manifest.name;
    let ModelParams::Trees(forest) = &model.params else {
        return plan_err!(
                "{NAME}: model '{name}' is a {} model; feature importance is defined for decision_tree and random_forest (see ml_weights for linear models)",
                model.manifest.model_type
            );
    };
    let names = model.preprocess.feature_names();
    let mut rows: Vec<(String, f64)> = names.into_iter().zip(forest.importance()).collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let schema = Arc::new(Schema::new(vec![
        Field::new("rank", DataType::Int64, false),
        Field::new("feature", DataType::Utf8, false),
        Field::new("importance", DataType::Float64, false),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from_iter_values(1..=rows.len() as i64)),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.0.as_str()),
            )),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.1))),
        ],
    )?)
}
