//! `CREATE MODEL`: runs the training query with DataFusion, puts the rows in a canonical order
//! (so the model does not depend on partitioning), splits, handles NULLs, fits preprocessing and
//! the model on the training rows, evaluates the hold-out rows and writes a new version.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::{cast, concat_batches, lexsort_to_indices, take, SortColumn};
use datafusion::arrow::datatypes::{DataType, Float64Type, Schema};
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::DataFrame;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::features::{check_finite, feature_kind, normalize_column, null_counts, Preprocessor};
use super::logistic::{self, LogisticHyper};
use super::options::{ModelOptions, NullPolicy, Split};
use crate::functions::metrics::kernels::binary_metrics;
use crate::store::{FeatureInfo, LabelInfo, Manifest, ModelStore, RowCounts, StoredMetrics};

const HOLDOUT_COL: &str = "__cohort_holdout";

/// A parsed `CREATE MODEL` ready to train.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    /// Model name (normalised).
    pub name: String,
    /// Options as given.
    pub options: BTreeMap<String, String>,
    /// The training query, planned.
    pub plan: LogicalPlan,
    /// The training query as text.
    pub query_text: String,
    /// Plain `CREATE MODEL` (no `OR REPLACE`): committing fails if the model exists by then.
    pub create_only: bool,
}

/// A stable 64-bit hash (FNV-1a, then a SplitMix64 finaliser) of a key's text form, so that
/// `split = 'hash:...'` puts the same keys in the hold-out on every run and platform.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

fn class_text(a: &ArrayRef, i: usize) -> Result<String> {
    let s = cast(&a.slice(i, 1), &DataType::Utf8)?;
    Ok(s.as_string::<i32>().value(0).to_string())
}

/// Trains and stores a model; returns the manifest written.
pub async fn train(
    state: &SessionState,
    store: &ModelStore,
    req: TrainRequest,
) -> Result<Manifest> {
    let started = Instant::now();
    let stmt = format!("CREATE MODEL {}", req.name);
    let opts = ModelOptions::parse(req.options.clone())?;
    if matches!(opts.model_type.as_str(), "bgnbd" | "gamma_gamma") {
        return super::train_clv::train(state, store, req, opts, started).await;
    }
    let hyper = LogisticHyper::from_options(&opts)?;

    // ---- plan: the query plus, for an expression split, the hold-out flag
    let mut df = DataFrame::new(state.clone(), req.plan.clone());
    if let Split::Expr(e) = &opts.split {
        let expr = df.parse_sql_expr(e).map_err(|err| {
            datafusion::common::plan_datafusion_err!("{stmt}: option split = 'expr:{e}' is not a valid expression over the training query: {err}")
        })?;
        df = df.with_column(HOLDOUT_COL, expr)?;
    }
    let schema: Schema = df.schema().as_arrow().clone();
    let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let find = |name: &str, what: &str| -> Result<usize> {
        match columns
            .iter()
            .position(|c| c == name)
            .or_else(|| columns.iter().position(|c| c.eq_ignore_ascii_case(name)))
        {
            Some(i) => Ok(i),
            None => plan_err!(
                "{stmt}: {what} '{name}' is not a column of the training query; columns are {}",
                columns.join(", ")
            ),
        }
    };
    let Some(label_name) = opts.label.clone() else {
        return plan_err!("{stmt}: option label is required for type {}; name the target column, e.g. label = 'churned'", opts.model_type);
    };
    let label_idx = find(&label_name, "label")?;
    let key_idx = match &opts.split {
        Split::Hash { column, .. } => Some(find(column, "split key")?),
        _ => None,
    };
    let holdout_idx = matches!(opts.split, Split::Expr(_)).then(|| columns.len() - 1);
    let feature_idx: Vec<usize> = match &opts.features {
        Some(list) => list
            .iter()
            .map(|f| find(f, "feature"))
            .collect::<Result<_>>()?,
        None => (0..columns.len())
            .filter(|i| {
                Some(*i) != Some(label_idx) && Some(*i) != key_idx && Some(*i) != holdout_idx
            })
            .collect(),
    };
    if feature_idx.is_empty() {
        return plan_err!(
            "{stmt}: the training query has no feature columns besides the label '{label_name}'"
        );
    }
    if feature_idx.contains(&label_idx) {
        return plan_err!("{stmt}: the label '{label_name}' cannot also be a feature");
    }
    let mut infos = vec![];
    for &i in &feature_idx {
        let f = schema.field(i);
        let Some(kind) = feature_kind(f.data_type()) else {
            return plan_err!(
                "{stmt}: feature '{}' has type {}; expected a number, text or boolean (convert it, e.g. with date_part or a cast, or list the features to use with features = '...')",
                f.name(),
                f.data_type()
            );
        };
        infos.push(FeatureInfo {
            name: f.name().clone(),
            data_type: f.data_type().to_string(),
            kind: kind.to_string(),
        });
    }
    let label_type = schema.field(label_idx).data_type().clone();
    if !(label_type.is_integer()
        || label_type.is_floating()
        || matches!(
            label_type,
            DataType::Boolean | DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
        ))
    {
        return plan_err!("{stmt}: label '{label_name}' has type {label_type}; expected boolean, integer or text classes");
    }

    // ---- read every row, then order canonically
    let batches = df.collect().await?;
    let all = concat_batches(&Arc::new(schema.clone()), &batches)?;
    let n = all.num_rows();
    if n == 0 {
        return exec_err!("{stmt}: the training query returned no rows");
    }
    let mut order_cols: Vec<usize> = feature_idx.clone();
    order_cols.push(label_idx);
    order_cols.extend(key_idx);
    order_cols.extend(holdout_idx);
    let sort: Vec<SortColumn> = order_cols
        .iter()
        .map(|&i| SortColumn {
            values: Arc::clone(all.column(i)),
            options: None,
        })
        .collect();
    let idx = lexsort_to_indices(&sort, None)?;
    let col = |i: usize| -> Result<ArrayRef> { Ok(take(all.column(i).as_ref(), &idx, None)?) };
    let raw_features: Vec<ArrayRef> = feature_idx.iter().map(|&i| col(i)).collect::<Result<_>>()?;
    let features: Vec<ArrayRef> = raw_features
        .iter()
        .zip(&infos)
        .map(|(a, info)| normalize_column(a, info.kind == "categorical"))
        .collect::<Result<_>>()?;
    for (a, info) in features.iter().zip(&infos) {
        if info.kind == "numeric" {
            check_finite(&stmt, &info.name, a)?;
        }
    }
    let label = col(label_idx)?;

    // ---- hold-out flags
    let holdout: Vec<bool> = match &opts.split {
        Split::None => vec![false; n],
        Split::Random(frac) => {
            let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
            (0..n).map(|_| rng.gen::<f64>() < *frac).collect()
        }
        Split::Hash { fraction, .. } => {
            let key = cast(&col(key_idx.unwrap_or(label_idx))?, &DataType::Utf8)?;
            let key = key.as_string::<i32>();
            key.iter()
                .map(|k| {
                    k.is_some_and(|k| {
                        (stable_hash(k.as_bytes()) as f64 / u64::MAX as f64) < *fraction
                    })
                })
                .collect()
        }
        Split::Expr(_) => {
            let h = cast(&col(holdout_idx.unwrap_or(label_idx))?, &DataType::Boolean)?;
            let h = h.as_boolean();
            (0..n).map(|i| h.is_valid(i) && h.value(i)).collect()
        }
    };

    // ---- NULLs
    let everyone = vec![true; n];
    let label_nulls = label.null_count() as u64;
    let nulls = null_counts(&features, &everyone);
    if opts.null_policy == NullPolicy::Error {
        if label_nulls > 0 {
            return exec_err!("{stmt}: label '{label_name}' is NULL in {label_nulls} of {n} rows (null_policy = 'error'); filter them or use null_policy = 'skip'");
        }
        if let Some((info, count)) = infos.iter().zip(&nulls).find(|(_, c)| **c > 0) {
            return exec_err!(
                "{stmt}: feature '{}' is NULL in {count} of {n} rows (null_policy = 'error'); expected no NULLs, or null_policy = 'skip' or 'impute:mean|median|mode|zero'",
                info.name
            );
        }
    }
    let mut keep: Vec<bool> = (0..n).map(|i| label.is_valid(i)).collect();
    if opts.null_policy == NullPolicy::Skip {
        for f in &features {
            for (i, k) in keep.iter_mut().enumerate() {
                *k &= f.is_valid(i);
            }
        }
    }
    let skipped = keep.iter().filter(|k| !**k).count() as u64;
    let train_rows: Vec<bool> = (0..n).map(|i| keep[i] && !holdout[i]).collect();
    let test_rows: Vec<bool> = (0..n).map(|i| keep[i] && holdout[i]).collect();
    let imputed_values = match opts.null_policy {
        NullPolicy::Impute(_) => null_counts(&features, &keep).iter().sum(),
        _ => 0,
    };
    let n_train = train_rows.iter().filter(|b| **b).count();
    if n_train == 0 {
        return exec_err!("{stmt}: no training rows left ({n} read, {skipped} skipped for NULLs, the rest held out by split)");
    }

    // ---- classes
    let mut classes: Vec<(String, usize)> = vec![];
    {
        let mut seen = std::collections::BTreeSet::new();
        let mut first_row = BTreeMap::new();
        for i in (0..n).filter(|&i| train_rows[i]) {
            let t = class_text(&label, i)?;
            if seen.insert(t.clone()) {
                first_row.insert(t, i);
            }
        }
        classes.extend(first_row);
    }
    // Sort classes in the label's own order (false < true, 2 < 10).
    let label_norm: ArrayRef = if label_type.is_integer() || label_type.is_floating() {
        cast(&label, &DataType::Float64)?
    } else {
        Arc::clone(&label)
    };
    classes.sort_by(|a, b| {
        if let (true, Some(f)) = (
            label_type.is_integer() || label_type.is_floating(),
            label_norm.as_primitive_opt::<Float64Type>(),
        ) {
            f.value(a.1).total_cmp(&f.value(b.1))
        } else {
            a.0.cmp(&b.0)
        }
    });
    let class_names: Vec<String> = classes.iter().map(|c| c.0.clone()).collect();
    match class_names.len() {
        2 => {}
        1 => return exec_err!("{stmt}: label '{label_name}' has a single class ({}) in the {n_train} training rows; a classifier needs two", class_names[0]),
        k => return exec_err!("{stmt}: label '{label_name}' has {k} classes ({}); logistic_regression is binary, expected 2", class_names.iter().take(10).cloned().collect::<Vec<_>>().join(", ")),
    }
    let positive = &class_names[1];
    let y_all: Vec<bool> = (0..n)
        .map(|i| {
            if label.is_valid(i) {
                class_text(&label, i).map(|t| &t == positive)
            } else {
                Ok(false)
            }
        })
        .collect::<Result<_>>()?;

    // ---- fit
    let pre = Preprocessor::fit(&infos, &features, &train_rows, opts.null_policy, opts.scale)?;
    let take_rows = |mask: &[bool]| -> Result<(Vec<ArrayRef>, Vec<bool>)> {
        let ids: datafusion::arrow::array::UInt32Array =
            (0..n as u32).filter(|&i| mask[i as usize]).collect();
        let cols = features
            .iter()
            .map(|f| Ok(take(f.as_ref(), &ids, None)?))
            .collect::<Result<Vec<_>>>()?;
        let y = ids.values().iter().map(|&i| y_all[i as usize]).collect();
        Ok((cols, y))
    };
    let (train_cols, y_train) = take_rows(&train_rows)?;
    let mtrain = pre.transform(&train_cols)?;
    let params = logistic::fit(mtrain.x, &y_train, hyper)?;

    // ---- evaluate
    let n_test = test_rows.iter().filter(|b| **b).count();
    let (dataset, eval_mask) = if matches!(opts.split, Split::None) {
        ("train", &train_rows)
    } else {
        ("holdout", &test_rows)
    };
    let (eval_cols, y_eval) = take_rows(eval_mask)?;
    let meval = pre.transform(&eval_cols)?;
    let probs = params.probabilities(&meval.x);
    let metrics = (!y_eval.is_empty()).then(|| StoredMetrics {
        dataset: dataset.to_string(),
        rows: y_eval.len() as u64,
        values: binary_metrics(&probs, &y_eval),
    });

    let names = pre.feature_names();
    let manifest = Manifest {
        format: 1,
        name: req.name.clone(),
        version: 0,
        model_type: opts.model_type.clone(),
        options: req.options.clone(),
        features: infos,
        label: Some(LabelInfo {
            name: schema.field(label_idx).name().clone(),
            data_type: label_type.to_string(),
            classes: class_names,
        }),
        seed: opts.seed,
        rows: RowCounts {
            input: n as u64,
            train: n_train as u64,
            holdout: n_test as u64,
            skipped,
            imputed_values,
            unseen_categories: if dataset == "holdout" {
                meval.unseen
            } else {
                0
            },
        },
        metrics,
        query: req.query_text.clone(),
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        training_seconds: started.elapsed().as_secs_f64(),
        cohort_version: env!("CARGO_PKG_VERSION").to_string(),
        files: vec![],
    };
    let files = vec![
        ("preprocessing.parquet".to_string(), pre.to_batch()?),
        ("weights.parquet".to_string(), params.to_batch(&names)?),
    ];
    store.save(manifest, files, req.create_only)
}
