//! `ml_training_info('model')`: loss and accuracy per epoch of an MLP, on the training rows
//! and on the validation rows (`validation_split`), for plotting learning curves.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result};
use datafusion::datasource::MemTable;

use crate::store::ModelStore;
use crate::util::literal_string;

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
        if args.exprs().len() != 1 {
            return plan_err!(
                "{NAME}: expected 1 argument (model), got {}",
                args.exprs().len()
            );
        }
        let name = literal_string(args.exprs(), 0, NAME, "model")?;
        let model = self.store.load(&name)?;
        let Some(batch) = model.tables.get("training_info.parquet") else {
            return plan_err!("{NAME}: model '{name}' is a {} model, which records no training history (mlp does)", model.manifest.model_type);
        };
        Ok(Arc::new(MemTable::try_new(
            batch.schema(),
            vec![vec![batch.clone()]],
        )?))
    }
}
