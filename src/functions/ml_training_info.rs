//! `ml_training_info('model')`: loss and accuracy per epoch of an MLP, on the training rows
//! and on the validation rows (`validation_split`), for plotting learning curves.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result};

use crate::store::ModelStore;

const NAME: &str = "ml_training_info";

/// The `ml_training_info` table function: epoch, loss, accuracy, val_loss, val_accuracy.
#[derive(Debug)]
pub struct MlTrainingInfo {
    store: Arc<ModelStore>,
}

impl MlTrainingInfo {
    /// Reads models of `store`.
    pub fn new(store: Arc<ModelStore>) -> Self {
        Self { store }
    }
}

impl TableFunctionImpl for MlTrainingInfo {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let model = super::single_model_arg(&self.store, &args, NAME)?;
        let Some(batch) = model.tables.get("training_info.parquet") else {
            return plan_err!(
                "{NAME}: model '{}' is a {} model, which records no training history (mlp does)",
                model.manifest.name,
                model.manifest.model_type
            );
        };
        super::batch_table(batch.clone())
    }
}
