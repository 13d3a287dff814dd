//! `CREATE MODEL ... OPTIONS (type = 'popularity' | 'item_knn' | 'als' | 'repeat_aware')`:
//! reads (user, item[, weight]) rows, builds the dictionaries and the interaction matrix, fits
//! and stores the model.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Schema};
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::execution::context::SessionState;
use datafusion::prelude::DataFrame;
use futures::StreamExt;

use super::options::ModelOptions;
use super::recs::{fit_als, item_neighbours, AlsHyper, Csr, Ids, RecModel, RecParams, Similarity};
use super::train::TrainRequest;
use crate::store::{FeatureInfo, Manifest, ModelStore, RowCounts, StoredMetrics};

/// The fitted type-specific settings, validated before any data is read.
enum Plan {
    Popularity,
    ItemKnn(Similarity, usize),
    Als(AlsHyper),
    RepeatAware(f64, usize, f64),
}

fn plan(o: &ModelOptions) -> Result<Plan> {
    Ok(match o.model_type.as_str() {
        "popularity" => Plan::Popularity,
        "item_knn" => {
            let sim = match o
                .raw
                .get("similarity")
                .map(|s| s.trim().to_ascii_lowercase())
                .as_deref()
            {
                None | Some("cosine") => Similarity::Cosine,
                Some("bm25") => Similarity::Bm25 {
                    k1: o.number("k1", 1.2, 0.0, 1e9)?,
                    b: o.number("b", 0.75, 0.0, 1.0)?,
                },
                Some(other) => {
                    return plan_err!(
                        "CREATE MODEL: option similarity = '{other}'; expected cosine or bm25"
                    )
                }
            };
            if matches!(sim, Similarity::Cosine)
                && (o.raw.contains_key("k1") || o.raw.contains_key("b"))
            {
                return plan_err!(
                    "CREATE MODEL: options k1 and b apply to similarity = 'bm25' only"
                );
            }
            Plan::ItemKnn(sim, o.integer("neighbours", 20, 1, 100_000)? as usize)
        }
        "als" => Plan::Als(AlsHyper {
            factors: o.integer("factors", 64, 1, 1024)? as usize,
            regularization: o.number("regularization", 0.01, 0.0, 1e9)?,
            alpha: o.number("alpha", 1.0, 0.0, 1e9)?,
            iterations: o.integer("iterations", 15, 1, 10_000)? as usize,
        }),
        _ => {
            if o.raw.contains_key("decay") && !o.raw.contains_key("time_col") {
                return plan_err!("CREATE MODEL: option decay needs time_col (the column that orders a user's purchases, e.g. an order number or timestamp)");
            }
            Plan::RepeatAware(
                o.number("blend", DEFAULT_BLEND, 0.0, 1.0)?,
                o.integer("neighbours", 20, 1, 100_000)? as usize,
                o.number("decay", DEFAULT_DECAY, 0.0, 1.0)?,
            )
        }
    })
}

/// Default weight of a user's own history in `repeat_aware` (chosen on Instacart; see the
/// README).
pub const DEFAULT_BLEND: f64 = 0.9;
/// Default per-step recency discount of `repeat_aware` with a `time_col` (chosen on
/// Instacart; see the README).
pub const DEFAULT_DECAY: f64 = 0.8;

/// Trains a recommendation model.
pub async fn train(
    state: &SessionState,
    store: &ModelStore,
    req: TrainRequest,
    opts: ModelOptions,
    started: Instant,
) -> Result<Manifest> {
    let stmt = format!("CREATE MODEL {}", req.name);
    let fit_plan = plan(&opts)?;
    let df = DataFrame::new(state.clone(), req.plan.clone());
    let schema: Schema = df.schema().as_arrow().clone();
    let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let find = |key: &str, default: &str, role: &str| -> Result<usize> {
        let name = opts.column(key, default);
        columns
            .iter()
            .position(|c| *c == name)
            .or_else(|| columns.iter().position(|c| c.eq_ignore_ascii_case(&name)))
            .ok_or_else(|| {
                datafusion::common::plan_datafusion_err!(
                    "{stmt}: {role} column '{name}' is not a column of the training query; columns are {} (set option {key})",
                    columns.join(", ")
                )
            })
    };
    let user_idx = find("user_col", "user_id", "user")?;
    let item_idx = find("item_col", "item_id", "item")?;
    let weight_idx = opts
        .raw
        .get("weight_col")
        .map(|_| find("weight_col", "", "weight"))
        .transpose()?;
    let time_idx = opts
        .raw
        .get("time_col")
        .map(|_| find("time_col", "", "time"))
        .transpose()?;
    if let Some(t) = time_idx {
        let dt = schema.field(t).data_type();
        if !(dt.is_numeric() || dt.is_temporal()) {
            return plan_err!(
                "{stmt}: time column '{}' has type {dt}; expected a number, date or timestamp that orders a user's purchases",
                columns[t]
            );
        }
    }
    let mut kinds = vec![];
    for (i, role) in [(user_idx, "user"), (item_idx, "item")] {
        let f = schema.field(i);
        match Ids::kind_of(f.data_type()) {
            Some(k) => kinds.push(k),
            None => {
                return plan_err!(
                    "{stmt}: {role} column '{}' has type {}; expected integer or text ids",
                    f.name(),
                    f.data_type()
                )
            }
        }
    }
    if let Some(w) = weight_idx {
        let f = schema.field(w);
        if !f.data_type().is_numeric() {
            return plan_err!(
                "{stmt}: weight column '{}' has type {}; expected a number (e.g. a count of purchases)",
                f.name(),
                f.data_type()
            );
        }
    }

    // ---- read: only the needed columns are kept
    let mut users: Vec<ArrayRef> = vec![];
    let mut items: Vec<ArrayRef> = vec![];
    let mut weights: Vec<ArrayRef> = vec![];
    let mut times: Vec<ArrayRef> = vec![];
    let mut stream = df.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        let batch: RecordBatch = batch?;
        users.push(Arc::clone(batch.column(user_idx)));
        items.push(Arc::clone(batch.column(item_idx)));
        if let Some(w) = weight_idx {
            weights.push(cast(batch.column(w), &DataType::Float64)?);
        }
        if let Some(t) = time_idx {
            let c = batch.column(t);
            let c = if c.data_type().is_temporal() {
                cast(
                    &cast(
                        c,
                        &DataType::Timestamp(
                            datafusion::arrow::datatypes::TimeUnit::Microsecond,
                            None,
                        ),
                    )?,
                    &DataType::Int64,
                )?
            } else {
                cast(c, &DataType::Float64)?
            };
            times.push(cast(&c, &DataType::Float64)?);
        }
    }
    let input: usize = users.iter().map(|a| a.len()).sum();
    let user_ids = Ids::build(&users, kinds[0])?;
    let item_ids = Ids::build(&items, kinds[1])?;
    let mut triples = Vec::with_capacity(input);
    // (user, item, weight, time) of every row, for a recency-weighted own history
    let mut timed: Vec<(u32, u32, f64, f64)> = vec![];
    let mut skipped = 0usize;
    for b in 0..users.len() {
        let u = user_ids.lookup(&users[b])?;
        let i = item_ids.lookup(&items[b])?;
        let w: Option<&Float64Array> = weights.get(b).map(|w| w.as_primitive::<Float64Type>());
        let t: Option<&Float64Array> = times.get(b).map(|t| t.as_primitive::<Float64Type>());
        for r in 0..u.len() {
            let (Some(uu), Some(ii)) = (u[r], i[r]) else {
                skipped += 1;
                continue;
            };
            let v = match w {
                Some(w) if w.is_null(r) => {
                    return exec_err!(
                        "{stmt}: weight column '{}' is NULL in a row of user {} and item {}; expected a weight >= 0 in every row (COALESCE it)",
                        columns[weight_idx.unwrap_or(0)],
                        user_ids.text(uu),
                        item_ids.text(ii)
                    )
                }
                Some(w) => w.value(r),
                None => 1.0,
            };
            if !(v.is_finite() && v >= 0.0) {
                return exec_err!(
                    "{stmt}: weight column '{}' is {v} for user {} and item {}; expected finite weights >= 0",
                    columns[weight_idx.unwrap_or(0)],
                    user_ids.text(uu),
                    item_ids.text(ii)
                );
            }
            if let Some(t) = t {
                if t.is_null(r) || !t.value(r).is_finite() {
                    return exec_err!(
                        "{stmt}: time column '{}' is NULL or not finite in a row of user {} and item {}; expected a time in every row",
                        columns[time_idx.unwrap_or(0)],
                        user_ids.text(uu),
                        item_ids.text(ii)
                    );
                }
                timed.push((uu, ii, v, t.value(r)));
            }
            triples.push((uu, ii, v));
        }
    }
    if triples.is_empty() {
        return exec_err!(
            "{stmt}: the training query returned no interactions{}; expected (user, item[, weight]) rows",
            if skipped > 0 {
                format!(" ({skipped} rows had a NULL user or item)")
            } else {
                String::new()
            }
        );
    }
    let seen = Csr::from_triples(user_ids.len(), triples);
    let n_items = item_ids.len();
    let mut popularity = vec![0.0; n_items];
    for &i in &seen.indices {
        popularity[i as usize] += 1.0;
    }
    let params = match fit_plan {
        Plan::Popularity => RecParams::Popularity,
        Plan::ItemKnn(sim, k) => RecParams::ItemKnn(item_neighbours(&seen, n_items, sim, k)),
        Plan::Als(h) => {
            let (u, i) = fit_als(&seen, n_items, h, opts.seed);
            RecParams::Als { users: u, items: i }
        }
        Plan::RepeatAware(blend, k, decay) => RecParams::RepeatAware {
            own: if time_idx.is_some() {
                recency_weighted(user_ids.len(), timed, decay)
            } else {
                seen.clone()
            },
            neighbours: item_neighbours(&seen, n_items, Similarity::Cosine, k),
            blend,
        },
    };
    let model = RecModel {
        users: user_ids,
        items: item_ids,
        seen,
        popularity,
        params,
    };
    let files = model_files(&model)?;
    let mut metrics = BTreeMap::new();
    metrics.insert("users".to_string(), Some(model.users.len() as f64));
    metrics.insert("items".to_string(), Some(model.items.len() as f64));
    metrics.insert("interactions".to_string(), Some(model.seen.nnz() as f64));
    metrics.insert(
        "density".to_string(),
        Some(model.seen.nnz() as f64 / (model.users.len() as f64 * model.items.len() as f64)),
    );
    let features = vec![
        FeatureInfo {
            name: columns[user_idx].clone(),
            data_type: model.users.data_type().to_string(),
            kind: "user".into(),
        },
        FeatureInfo {
            name: columns[item_idx].clone(),
            data_type: model.items.data_type().to_string(),
            kind: "item".into(),
        },
    ];
    let manifest = Manifest {
        features,
        rows: RowCounts {
            input: input as u64,
            train: (input - skipped) as u64,
            skipped: skipped as u64,
            ..Default::default()
        },
        metrics: Some(StoredMetrics {
            dataset: "train".into(),
            rows: model.seen.nnz() as u64,
            values: metrics,
        }),
        ..super::train::base_manifest(&req, &opts, started)
    };
    store.save(manifest, files, req.create_only)
}

/// Each row's weight discounted by `decay` for every more recent distinct time of its user
/// (the latest purchase counts fully, the one before `decay`, ...), summed per (user, item).
fn recency_weighted(users: usize, mut rows: Vec<(u32, u32, f64, f64)>, decay: f64) -> Csr {
    rows.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.3.total_cmp(&a.3)));
    let mut out = Vec::with_capacity(rows.len());
    let (mut user, mut last_time, mut step) = (u32::MAX, f64::NAN, 0i32);
    for (u, i, w, t) in rows {
        if u != user {
            (user, last_time, step) = (u, t, 0);
        } else if t != last_time {
            (last_time, step) = (t, step + 1);
        }
        out.push((u, i, w * decay.powi(step)));
    }
    Csr::from_triples(users, out)
}

/// The Parquet tables of a recommendation model.
pub fn model_files(m: &RecModel) -> Result<Vec<(String, RecordBatch)>> {
    let mut files = vec![
        ("users.parquet".to_string(), m.users.to_batch(vec![])?),
        (
            "items.parquet".to_string(),
            m.items.to_batch(vec![(
                "popularity",
                Arc::new(Float64Array::from(m.popularity.clone())) as ArrayRef,
            )])?,
        ),
        (
            "interactions.parquet".to_string(),
            m.seen.to_batch("user_index", "item_index", "weight")?,
        ),
    ];
    match &m.params {
        RecParams::Popularity => {}
        RecParams::ItemKnn(nb) => files.push((
            "neighbours.parquet".to_string(),
            nb.to_batch("item_index", "neighbour_index", "similarity")?,
        )),
        RecParams::RepeatAware {
            own, neighbours, ..
        } => {
            files.push((
                "neighbours.parquet".to_string(),
                neighbours.to_batch("item_index", "neighbour_index", "similarity")?,
            ));
            files.push((
                "own_history.parquet".to_string(),
                own.to_batch("user_index", "item_index", "score")?,
            ));
        }
        RecParams::Als { users, items } => {
            files.push((
                "user_factors.parquet".to_string(),
                super::recs::factors_to_batch(users)?,
            ));
            files.push((
                "item_factors.parquet".to_string(),
                super::recs::factors_to_batch(items)?,
            ));
        }
    }
    Ok(files)
}

/// Rebuilds a recommendation model from its manifest and tables.
pub fn model_from_files(m: &Manifest, files: &HashMap<String, RecordBatch>) -> Result<RecModel> {
    let get = |f: &str| {
        files.get(f).ok_or_else(|| {
            datafusion::common::exec_datafusion_err!("model store: model '{}' has no {f}", m.name)
        })
    };
    let users = Ids::from_batch(get("users.parquet")?, "user")?;
    let items_batch = get("items.parquet")?;
    let items = Ids::from_batch(items_batch, "item")?;
    let popularity = match items_batch.column_by_name("popularity") {
        Some(p) => cast(p, &DataType::Float64)?
            .as_primitive::<Float64Type>()
            .values()
            .to_vec(),
        None => {
            return plan_err!(
                "model store: items.parquet of '{}' has no popularity",
                m.name
            )
        }
    };
    let seen = Csr::from_batch(
        get("interactions.parquet")?,
        users.len(),
        items.len(),
        ["user_index", "item_index", "weight"],
        "interactions.parquet",
    )?;
    let nb = |_: ()| {
        Csr::from_batch(
            get("neighbours.parquet")?,
            items.len(),
            items.len(),
            ["item_index", "neighbour_index", "similarity"],
            "neighbours.parquet",
        )
    };
    let params = match m.model_type.as_str() {
        "popularity" => RecParams::Popularity,
        "item_knn" => RecParams::ItemKnn(nb(())?),
        "als" => RecParams::Als {
            users: super::recs::factors_from_batch(
                get("user_factors.parquet")?,
                users.len(),
                "user_factors.parquet",
            )?,
            items: super::recs::factors_from_batch(
                get("item_factors.parquet")?,
                items.len(),
                "item_factors.parquet",
            )?,
        },
        _ => RecParams::RepeatAware {
            own: Csr::from_batch(
                get("own_history.parquet")?,
                users.len(),
                items.len(),
                ["user_index", "item_index", "score"],
                "own_history.parquet",
            )?,
            neighbours: nb(())?,
            blend: m
                .options
                .get("blend")
                .and_then(|b| b.trim().parse().ok())
                .unwrap_or(DEFAULT_BLEND),
        },
    };
    if popularity.len() != items.len() {
        return plan_err!(
            "model store: items.parquet of '{}' has {} popularity values for {} items",
            m.name,
            popularity.len(),
            items.len()
        );
    }
    if let RecParams::Als { users: u, items: i } = &params {
        if u.ncols() != i.ncols() {
            return plan_err!(
                "model store: model '{}' has {} user factors but {} item factors",
                m.name,
                u.ncols(),
                i.ncols()
            );
        }
    }
    Ok(RecModel {
        users,
        items,
        seen,
        popularity,
        params,
    })
}
