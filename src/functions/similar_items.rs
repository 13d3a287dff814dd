//! `similar_items(model, item, k)`: the `k` items most similar to `item` (itself left out), as
//! rows (item, similar_item, rank, score). `item_knn` and `repeat_aware` list the stored
//! neighbours (cosine or BM25 similarity); `als` ranks every item by the cosine between item
//! factors. `popularity` has no item similarity.

use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result};
use datafusion::datasource::MemTable;

use super::recommend::{inner, parse_k, rec_model};
use crate::models::recs::Ids;
use crate::store::ModelStore;
use crate::util::literal;

const NAME: &str = "similar_items";

/// The `similar_items` table function.
#[derive(Debug)]
pub struct SimilarItems {
    store: Arc<ModelStore>,
}

impl SimilarItems {
    /// Reads models of `store`.
    pub fn new(store: Arc<ModelStore>) -> Self {
        Self { store }
    }
}

impl TableFunctionImpl for SimilarItems {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        if args.exprs().len() != 3 {
            return plan_err!(
                "{NAME}: expected (model, item, k), got {} arguments",
                args.exprs().len()
            );
        }
        let name = crate::util::literal_string(args.exprs(), 0, NAME, "model")?;
        let (model, _, item_col) = rec_model(&self.store, &name, NAME)?;
        let m = inner(&model, NAME)?;
        let item = literal(args.exprs(), 1, NAME, "item")?.clone();
        let k = parse_k(&args, 2, NAME)?;
        if item.is_null() {
            return plan_err!(
                "{NAME}: argument item is NULL; expected an item id of model '{name}'"
            );
        }
        if matches!(m.items, Ids::Int(_)) && !item.data_type().is_integer() {
            return plan_err!(
                "{NAME}: argument item must be an integer id for model '{name}' (its {item_col} ids are integers); got {} {item}",
                item.data_type()
            );
        }
        let Some(i) = m
            .items
            .lookup(&item.to_array()?)?
            .first()
            .copied()
            .flatten()
        else {
            return plan_err!(
                "{NAME}: item {item} is not in model '{name}' (it knows {} items)",
                m.items.len()
            );
        };
        let Some(list) = m.similar_items(i as usize, k) else {
            return plan_err!(
                "{NAME}: model '{name}' is a popularity model, which has no item similarity; use item_knn, als or repeat_aware"
            );
        };
        let schema = Arc::new(Schema::new(vec![
            Field::new(&item_col, m.items.data_type(), false),
            Field::new(format!("similar_{item_col}"), m.items.data_type(), false),
            Field::new("rank", DataType::Int64, false),
            Field::new("score", DataType::Float64, false),
        ]));
        let n = list.len();
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                m.items.take(&vec![i; n]),
                m.items.take(&list.iter().map(|p| p.0).collect::<Vec<_>>()),
                Arc::new(Int64Array::from_iter_values(1..=n as i64)),
                Arc::new(Float64Array::from_iter_values(list.iter().map(|p| p.1))),
            ],
        )?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}
