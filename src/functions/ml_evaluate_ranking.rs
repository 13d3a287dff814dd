//! `ml_evaluate_ranking(model, test_query, k [, exclude_seen])`: ranking quality of a
//! recommendation model on held-out (user, item) pairs, in one row: model, version, k, users,
//! precision_at_k, recall_at_k, ndcg_at_k, map_at_k, hit_rate, coverage, test_pairs,
//! dropped_pairs, unknown_users.
//!
//! Relevance is binary: a test user's relevant set is the distinct items of their test pairs.
//! Test pairs whose user or item never occurs in training are dropped first (no model could
//! rank them, as in `implicit.evaluation`) and counted in `dropped_pairs` (test users without
//! training rows are also counted in `unknown_users`). Over the remaining users (macro
//! averages): precision = hits / k; recall = hits / |relevant|; NDCG with log2 discounts and
//! ideal = min(k, |relevant|) hits; MAP@k = Σ over hit ranks of (hits so far / rank), divided
//! by min(k, |relevant|); hit_rate = share of users with a hit; coverage = distinct items
//! recommended to them over all training items.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{AsArray, Float64Array, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result};

use super::computed::ComputedTable;
use super::recommend::{inner, parse_exclude, parse_k, rec_model};
use crate::models::TrainedModel;
use crate::store::ModelStore;
use crate::util::{from_item, literal_string, plan_sql, quote_ident};

const NAME: &str = "ml_evaluate_ranking";

/// The `ml_evaluate_ranking` table function.
#[derive(Debug)]
pub struct MlEvaluateRanking {
    store: Arc<ModelStore>,
}

impl MlEvaluateRanking {
    /// Reads models of `store`.
    pub fn new(store: Arc<ModelStore>) -> Self {
        Self { store }
    }
}

fn output_schema() -> SchemaRef {
    let f = |n: &str| Field::new(n, DataType::Float64, true);
    let u = |n: &str| Field::new(n, DataType::UInt64, false);
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        u("version"),
        u("k"),
        u("users"),
        f("precision_at_k"),
        f("recall_at_k"),
        f("ndcg_at_k"),
        f("map_at_k"),
        f("hit_rate"),
        f("coverage"),
        u("test_pairs"),
        u("dropped_pairs"),
        u("unknown_users"),
    ]))
}

impl TableFunctionImpl for MlEvaluateRanking {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let n = args.exprs().len();
        if !(3..=4).contains(&n) {
            return plan_err!(
                "{NAME}: expected (model, test_query, k [, exclude_seen]), got {n} arguments"
            );
        }
        let name = literal_string(args.exprs(), 0, NAME, "model")?;
        let (model, user_col, item_col) = rec_model(&self.store, &name, NAME)?;
        let query = literal_string(args.exprs(), 1, NAME, "test_query")?;
        let k = parse_k(&args, 2, NAME)?;
        let exclude = parse_exclude(&args, 3, NAME, model.manifest.model_type != "repeat_aware")?;
        let sql = format!(
            "SELECT DISTINCT {u}, {i} FROM {from} WHERE {u} IS NOT NULL AND {i} IS NOT NULL",
            u = quote_ident(&user_col),
            i = quote_ident(&item_col),
            from = from_item(&query)
        );
        let plan = plan_sql(args.session(), &sql).map_err(|e| {
            datafusion::common::plan_datafusion_err!(
                "{NAME}('{name}', test_query): the query must return the model's columns {user_col} and {item_col}; {e}"
            )
        })?;
        let m = inner(&model, NAME)?;
        for (i, (col, ids)) in [(&user_col, &m.users), (&item_col, &m.items)]
            .into_iter()
            .enumerate()
        {
            let dt = plan.schema().field(i).data_type();
            if matches!(ids, crate::models::recs::Ids::Int(_)) && !dt.is_integer() {
                return plan_err!(
                    "{NAME}('{name}', test_query): column {col} has type {dt}; the model's {col} ids are integers"
                );
            }
        }
        let schema = output_schema();
        let out = Arc::clone(&schema);
        Ok(Arc::new(ComputedTable::new(
            NAME,
            schema,
            plan,
            Arc::new(move |batches| evaluate(&model, &batches, k, exclude, &out)),
        )))
    }
}

fn evaluate(
    model: &TrainedModel,
    batches: &[RecordBatch],
    k: usize,
    exclude: bool,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let m = inner(model, NAME)?;
    // test user -> relevant items, for pairs the model can rank
    let mut relevant: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let (mut pairs, mut dropped) = (0u64, 0u64);
    let mut unknown_users = std::collections::BTreeSet::new();
    for b in batches {
        let us = m.users.lookup(b.column(0))?;
        let is = m.items.lookup(b.column(1))?;
        let user_text = cast(b.column(0), &DataType::Utf8)?;
        let user_text = user_text.as_string::<i32>();
        for r in 0..b.num_rows() {
            pairs += 1;
            match (us[r], is[r]) {
                (Some(u), Some(i)) => relevant.entry(u).or_default().push(i),
                (None, _) => {
                    dropped += 1;
                    unknown_users.insert(user_text.value(r).to_string());
                }
                _ => dropped += 1,
            }
        }
    }
    let users = relevant.len();
    let (mut precision, mut recall, mut ndcg, mut map, mut hit) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut covered = vec![false; m.items.len()];
    for (u, rel) in &mut relevant {
        rel.sort_unstable();
        rel.dedup();
        let recs = m.recommend(*u as usize, k, exclude);
        let (mut hits, mut dcg, mut ap) = (0usize, 0.0, 0.0);
        for (rank, (i, _)) in recs.iter().enumerate() {
            covered[*i as usize] = true;
            if rel.binary_search(i).is_ok() {
                hits += 1;
                dcg += 1.0 / ((rank + 2) as f64).log2();
                ap += hits as f64 / (rank + 1) as f64;
            }
        }
        let ideal_hits = k.min(rel.len());
        let idcg: f64 = (0..ideal_hits).map(|r| 1.0 / ((r + 2) as f64).log2()).sum();
        precision += hits as f64 / k as f64;
        recall += hits as f64 / rel.len() as f64;
        ndcg += dcg / idcg;
        map += ap / ideal_hits as f64;
        if hits > 0 {
            hit += 1.0;
        }
    }
    let avg = |v: f64| (users > 0).then(|| v / users as f64);
    let coverage =
        (users > 0).then(|| covered.iter().filter(|c| **c).count() as f64 / m.items.len() as f64);
    Ok(RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            Arc::new(StringArray::from(vec![model.manifest.name.clone()])),
            Arc::new(UInt64Array::from(vec![model.manifest.version])),
            Arc::new(UInt64Array::from(vec![k as u64])),
            Arc::new(UInt64Array::from(vec![users as u64])),
            Arc::new(Float64Array::from(vec![avg(precision)])),
            Arc::new(Float64Array::from(vec![avg(recall)])),
            Arc::new(Float64Array::from(vec![avg(ndcg)])),
            Arc::new(Float64Array::from(vec![avg(map)])),
            Arc::new(Float64Array::from(vec![avg(hit)])),
            Arc::new(Float64Array::from(vec![coverage])),
            Arc::new(UInt64Array::from(vec![pairs])),
            Arc::new(UInt64Array::from(vec![dropped])),
            Arc::new(UInt64Array::from(vec![unknown_users.len() as u64])),
        ],
    )?)
}
