//! `ml_centroids('model')`: the clusters of a k-means model — id, training size and the centroid
//! in the features' original units (scaling undone; a one-hot category `col=value` gives the
//! share of the cluster's rows in that category).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result};

use crate::models::features::Transform;
use crate::models::{ModelParams, TrainedModel};
use crate::store::ModelStore;

const NAME: &str = "ml_centroids";

/// The `ml_centroids` table function: cluster, size, then one column per feature.
#[derive(Debug)]
pub struct MlCentroids {
    store: Arc<ModelStore>,
}

impl MlCentroids {
    /// Reads models of `store`.
    pub fn new(store: Arc<ModelStore>) -> Self {
        Self { store }
    }
}

impl TableFunctionImpl for MlCentroids {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let model = super::single_model_arg(&self.store, &args, NAME)?;
        super::batch_table(super::per_partition(&model, &table)?)
    }
}

/// The centroid table of one (sub-)model.
fn table(model: &TrainedModel) -> Result<RecordBatch> {
    let name = &model.manifest.name;
    let ModelParams::KMeans(c) = &model.params else {
        return plan_err!(
            "{NAME}: model '{name}' is a {} model, not kmeans",
            model.manifest.model_type
        );
    };
    // the centre and scale of every preprocessed column, to undo scaling
    let mut unscale: Vec<(f64, f64)> = vec![];
    for col in &model.preprocess.columns {
        match &col.transform {
            Transform::Numeric { center, scale, .. } => unscale.push((*center, *scale)),
            Transform::Categorical { categories, .. } => {
                unscale.extend(std::iter::repeat_n((0.0, 1.0), categories.len()))
            }
        }
    }
    let mut fields = vec![
        Field::new("cluster", DataType::Int64, false),
        Field::new("size", DataType::Int64, false),
    ];
    let k = c.centroids.nrows();
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(0..k as i64)),
        Arc::new(Int64Array::from_iter_values(
            c.sizes.iter().map(|s| *s as i64),
        )),
    ];
    for (j, n) in model.preprocess.feature_names().into_iter().enumerate() {
        let (center, scale) = unscale.get(j).copied().unwrap_or((0.0, 1.0));
        fields.push(Field::new(n, DataType::Float64, false));
        cols.push(Arc::new(Float64Array::from_iter_values(
            c.centroids.column(j).iter().map(|v| v * scale + center),
        )));
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
}
