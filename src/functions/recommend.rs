//! `recommend(model, k [, user] [, exclude_seen])`: the top `k` items per user of a
//! recommendation model, as rows (user, item, rank, score, source). Without a user (or with a
//! NULL user) every training user is listed, computed batch by batch as the table is read;
//! `exclude_seen` (default true; false for `repeat_aware`, whose point is repeat purchases)
//! leaves out the items the user already has. A user the model does not know gets the most
//! popular items, marked `source = 'popularity'`.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::datasource::MemTable;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::SendableRecordBatchStream;

use crate::models::recs::RecModel;
use crate::models::{ModelParams, TrainedModel};
use crate::store::ModelStore;
use crate::util::{literal, literal_i64, literal_string};

const NAME: &str = "recommend";
/// Users per output batch when every user is listed.
const USERS_PER_BATCH: usize = 1024;

/// Loads a recommendation model, or explains what `func` needs.
pub(crate) fn rec_model(
    store: &ModelStore,
    name: &str,
    func: &str,
) -> Result<(Arc<TrainedModel>, String, String)> {
    let model = store.load(name)?;
    if !matches!(model.params, ModelParams::Recs(_)) {
        return plan_err!(
            "{func}: model '{name}' is a {} model; expected a recommendation model (popularity, item_knn, als or repeat_aware)",
            model.manifest.model_type
        );
    }
    let col = |i: usize, d: &str| {
        model
            .manifest
            .features
            .get(i)
            .map_or(d.to_string(), |f| f.name.clone())
    };
    let (user, item) = (col(0, "user_id"), col(1, "item_id"));
    Ok((model, user, item))
}

/// The recommendation model inside a loaded model.
pub(crate) fn inner<'a>(model: &'a TrainedModel, func: &str) -> Result<&'a RecModel> {
    match &model.params {
        ModelParams::Recs(m) => Ok(m),
        _ => plan_err!(
            "{func}: model '{}' is a {} model; expected a recommendation model",
            model.manifest.name,
            model.manifest.model_type
        ),
    }
}

/// Parses `k` (1 to 10,000).
pub(crate) fn parse_k(args: &TableFunctionArgs, idx: usize, func: &str) -> Result<usize> {
    let k = literal_i64(args.exprs(), idx, func, "k")?;
    if !(1..=10_000).contains(&k) {
        return plan_err!("{func}: argument k = {k}; expected a number of items from 1 to 10000");
    }
    Ok(k as usize)
}

/// Parses an optional boolean `exclude_seen` literal.
pub(crate) fn parse_exclude(
    args: &TableFunctionArgs,
    idx: usize,
    func: &str,
    default: bool,
) -> Result<bool> {
    if args.exprs().len() <= idx {
        return Ok(default);
    }
    match literal(args.exprs(), idx, func, "exclude_seen")? {
        ScalarValue::Boolean(Some(b)) => Ok(*b),
        ScalarValue::Boolean(None) => Ok(default),
        v => plan_err!(
            "{func}: argument exclude_seen must be true or false; got {} {v}",
            v.data_type()
        ),
    }
}

fn schema(m: &RecModel, user: &str, item: &str) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(user, m.users.data_type(), false),
        Field::new(item, m.items.data_type(), false),
        Field::new("rank", DataType::Int64, false),
        Field::new("score", DataType::Float64, false),
        Field::new("source", DataType::Utf8, false),
    ]))
}

/// Output rows for the given (user array value, recommendations) lists.
fn batch(
    schema: &SchemaRef,
    m: &RecModel,
    users: ArrayRef,
    lists: &[(u32, Vec<(u32, f64)>)],
    source: &str,
) -> Result<RecordBatch> {
    let mut take_user = vec![];
    let mut items = vec![];
    let mut ranks = vec![];
    let mut scores = vec![];
    for (u, list) in lists {
        for (r, (i, s)) in list.iter().enumerate() {
            take_user.push(*u);
            items.push(*i);
            ranks.push(r as i64 + 1);
            scores.push(*s);
        }
    }
    let idx = datafusion::arrow::array::UInt32Array::from(take_user);
    let user_col = datafusion::arrow::compute::take(&users, &idx, None)?;
    let n = items.len();
    Ok(RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            user_col,
            m.items.take(&items),
            Arc::new(Int64Array::from(ranks)),
            Arc::new(Float64Array::from(scores)),
            Arc::new(StringArray::from(vec![source; n])),
        ],
    )?)
}

/// The `recommend` table function.
#[derive(Debug)]
pub struct Recommend {
    store: Arc<ModelStore>,
}

impl Recommend {
    /// Reads models of `store`.
    pub fn new(store: Arc<ModelStore>) -> Self {
        Self { store }
    }
}

impl TableFunctionImpl for Recommend {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let n = args.exprs().len();
        if !(2..=4).contains(&n) {
            return plan_err!(
                "{NAME}: expected (model, k [, user] [, exclude_seen]), got {n} arguments"
            );
        }
        let name = literal_string(args.exprs(), 0, NAME, "model")?;
        let (model, user_col, item_col) = rec_model(&self.store, &name, NAME)?;
        let k = parse_k(&args, 1, NAME)?;
        let default_exclude = model.manifest.model_type != "repeat_aware";
        let exclude = parse_exclude(&args, 3, NAME, default_exclude)?;
        let m = inner(&model, NAME)?;
        let schema = schema(m, &user_col, &item_col);
        let user = if n >= 3 {
            let v = literal(args.exprs(), 2, NAME, "user")?.clone();
            (!v.is_null()).then_some(v)
        } else {
            None
        };
        let Some(user) = user else {
            // every user, streamed in batches over as many partitions as there are cores
            let parts = std::thread::available_parallelism()
                .map_or(1, |p| p.get())
                .clamp(1, 16)
                .min(m.users.len().max(1));
            let per = m.users.len().div_ceil(parts);
            let streams: Vec<Arc<dyn PartitionStream>> = (0..parts)
                .map(|p| {
                    Arc::new(AllUsers {
                        model: Arc::clone(&model),
                        schema: Arc::clone(&schema),
                        from: (p * per).min(m.users.len()),
                        to: ((p + 1) * per).min(m.users.len()),
                        k,
                        exclude,
                    }) as Arc<dyn PartitionStream>
                })
                .collect();
            return Ok(Arc::new(StreamingTable::try_new(schema, streams)?));
        };
        if matches!(m.users, crate::models::recs::Ids::Int(_)) && !user.data_type().is_integer() {
            return plan_err!(
                "{NAME}: argument user must be an integer id for model '{name}' (its {user_col} ids are integers); got {} {user}",
                user.data_type()
            );
        }
        let arr = user.to_array()?;
        let found = m.users.lookup(&arr)?;
        let user_arr: ArrayRef = datafusion::arrow::compute::cast(&arr, &m.users.data_type())?;
        let b = match found.first().copied().flatten() {
            Some(u) => batch(
                &schema,
                m,
                user_arr,
                &[(0, m.recommend(u as usize, k, exclude))],
                "model",
            )?,
            None => batch(
                &schema,
                m,
                user_arr,
                &[(0, m.recommend_unknown(k))],
                "popularity",
            )?,
        };
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![b]])?))
    }
}

/// Recommendations of the training users `from..to`, computed a batch of users at a time.
#[derive(Debug)]
struct AllUsers {
    model: Arc<TrainedModel>,
    schema: SchemaRef,
    from: usize,
    to: usize,
    k: usize,
    exclude: bool,
}

impl PartitionStream for AllUsers {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let model = Arc::clone(&self.model);
        let schema = Arc::clone(&self.schema);
        let (k, exclude) = (self.k, self.exclude);
        let starts = (self.from..self.to).step_by(USERS_PER_BATCH);
        let to = self.to;
        let batches = starts.map(move |s| {
            let m = inner(&model, NAME)?;
            let e = (s + USERS_PER_BATCH).min(to);
            let ids: Vec<u32> = (s as u32..e as u32).collect();
            let users = m.users.take(&ids);
            let lists: Vec<(u32, Vec<(u32, f64)>)> = m
                .recommend_range(s, e, k, exclude)
                .into_iter()
                .enumerate()
                .map(|(j, l)| (j as u32, l))
                .collect();
            batch(&schema, m, users, &lists, "model")
        });
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            futures::stream::iter(batches),
        ))
    }
}
