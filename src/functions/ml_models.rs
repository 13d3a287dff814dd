//! `ml_models()`: the models in the store (also `SHOW MODELS`).

use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result};
use datafusion::datasource::MemTable;

use crate::store::ModelStore;

/// One row per model: name, type, version, created, train_rows, label, features, metric, value.
pub fn models_batch(store: &ModelStore) -> Result<RecordBatch> {
    let models = store.list()?;
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("type", DataType::Utf8, false),
        Field::new("version", DataType::UInt64, false),
        Field::new("created", DataType::Utf8, false),
        Field::new("train_rows", DataType::UInt64, false),
        Field::new("label", DataType::Utf8, true),
        Field::new("features", DataType::Utf8, false),
        Field::new("metric", DataType::Utf8, true),
        Field::new("value", DataType::Float64, true),
    ]));
    let metric: Vec<Option<(String, Option<f64>)>> =
        models.iter().map(|m| m.key_metric()).collect();
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(
                models.iter().map(|m| m.name.clone()),
            )),
            Arc::new(StringArray::from_iter_values(
                models.iter().map(|m| m.model_type.clone()),
            )),
            Arc::new(UInt64Array::from_iter_values(
                models.iter().map(|m| m.version),
            )),
            Arc::new(StringArray::from_iter_values(
                models.iter().map(|m| m.created.clone()),
            )),
            Arc::new(UInt64Array::from_iter_values(
                models.iter().map(|m| m.rows.train),
            )),
            Arc::new(StringArray::from_iter(
                models
                    .iter()
                    .map(|m| m.label.as_ref().map(|l| l.name.clone())),
            )),
            Arc::new(StringArray::from_iter_values(models.iter().map(|m| {
                m.features
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }))),
            Arc::new(StringArray::from_iter(
                metric.iter().map(|m| m.as_ref().map(|m| m.0.clone())),
            )),
            Arc::new(Float64Array::from_iter(
                metric.iter().map(|m| m.as_ref().and_then(|m| m.1)),
            )),
        ],
    )?)
}

/// The `ml_models` table function.
#[derive(Debug)]
pub struct MlModels {
    store: Arc<ModelStore>,
}

impl MlModels {
    /// Lists models of `store`.
    pub fn new(store: Arc<ModelStore>) -> Self {
        Self { store }
    }
}

impl TableFunctionImpl for MlModels {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        if !args.exprs().is_empty() {
            return plan_err!(
                "ml_models: expected no arguments, got {}",
                args.exprs().len()
            );
        }
        let batch = models_batch(&self.store)?;
        Ok(Arc::new(MemTable::try_new(
            batch.schema(),
            vec![vec![batch]],
        )?))
    }
}
