//! `CREATE MODEL`: runs the training query with DataFusion, puts the rows in a canonical order
//! (so the model does not depend on partitioning), splits, handles NULLs, fits preprocessing and
//! the model on the training rows, evaluates the hold-out rows and writes a new version.
//!
//! Every feature-based family shares this path; only the fit (and what the evaluation
//! measures: classification, regression or clustering metrics) differs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::{cast, concat_batches, lexsort_to_indices, take, SortColumn};
use datafusion::arrow::datatypes::{DataType, Float64Type, Schema};
use datafusion::common::{exec_err, plan_err, DataFusionError, Result};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::DataFrame;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::features::{check_finite, feature_kind, normalize_column, null_counts, Preprocessor};
use super::kmeans::{self, Init, KMeansHyper};
use super::linear::{self, LinearHyper};
use super::logistic::{self, LogisticHyper};
use super::mlp::{self, MlpHyper};
use super::naive_bayes;
use super::options::{ModelOptions, NullPolicy, Split};
use super::tree::{self, ForestHyper, TreeHyper};
use super::{task, ModelParams, Task};
use crate::functions::metrics::kernels::{binary_metrics, multiclass_metrics};
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

/// The manifest fields every training path fills the same way (name, type, options, seed,
/// query, time stamps); callers set the rest with struct update syntax.
pub(crate) fn base_manifest(req: &TrainRequest, opts: &ModelOptions, started: Instant) -> Manifest {
    Manifest {
        format: 1,
        name: req.name.clone(),
        version: 0,
        model_type: opts.model_type.clone(),
        options: req.options.clone(),
        features: vec![],
        label: None,
        seed: opts.seed,
        rows: RowCounts::default(),
        metrics: None,
        query: req.query_text.clone(),
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        training_seconds: started.elapsed().as_secs_f64(),
        cohort_version: env!("CARGO_PKG_VERSION").to_string(),
        files: vec![],
        partition_by: None,
        partitions: vec![],
    }
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
    if super::recs::is_recommender(&opts.model_type) {
        return super::train_recs::train(state, store, req, opts, started).await;
    }
    if opts.model_type == "forecast" {
        return super::train_forecast::train(state, store, req, opts, started).await;
    }
    // Validate the family's options before reading any data.
    let family = Family::from_options(&opts)?;
    let task = task(&opts.model_type);

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
    let label_name = match (&opts.label, task) {
        (Some(_), Task::Clustering) => {
            return plan_err!("{stmt}: type {} is unsupervised and takes no label; remove option label", opts.model_type)
        }
        (None, Task::Clustering) => None,
        (Some(l), _) => Some(l.clone()),
        (None, _) => {
            return plan_err!("{stmt}: option label is required for type {}; name the target column, e.g. label = 'churned'", opts.model_type)
        }
    };
    let label_idx = label_name
        .as_deref()
        .map(|l| find(l, "label"))
        .transpose()?;
    let key_idx = match &opts.split {
        Split::Hash { column, .. } => Some(find(column, "split key")?),
        _ => None,
    };
    let holdout_idx = matches!(opts.split, Split::Expr(_)).then(|| columns.len() - 1);
    let part_idx = opts
        .partition_by
        .as_deref()
        .map(|c| find(c, "partition_by column"))
        .transpose()?;
    if part_idx.is_some() && task == Task::Lifetime {
        return plan_err!(
            "{stmt}: partition_by is not available for type {}",
            opts.model_type
        );
    }
    let feature_idx: Vec<usize> = match &opts.features {
        Some(list) => list
            .iter()
            .map(|f| find(f, "feature"))
            .collect::<Result<_>>()?,
        None => (0..columns.len())
            .filter(|i| {
                Some(*i) != label_idx
                    && Some(*i) != key_idx
                    && Some(*i) != holdout_idx
                    && Some(*i) != part_idx
            })
            .collect(),
    };
    if feature_idx.is_empty() {
        return match &label_name {
            Some(l) => plan_err!(
                "{stmt}: the training query has no feature columns besides the label '{l}'"
            ),
            None => plan_err!("{stmt}: the training query has no feature columns"),
        };
    }
    if let (Some(l), Some(name)) = (label_idx, &label_name) {
        if feature_idx.contains(&l) {
            return plan_err!("{stmt}: the label '{name}' cannot also be a feature");
        }
    }
    if let (Some(p), Some(name)) = (part_idx, &opts.partition_by) {
        if feature_idx.contains(&p) || Some(p) == label_idx {
            return plan_err!(
                "{stmt}: the partition_by column '{name}' cannot also be a feature or the label"
            );
        }
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
    let label_type = label_idx.map(|l| schema.field(l).data_type().clone());
    match (&label_type, task) {
        (Some(t), Task::Regression) if !t.is_numeric() => {
            return plan_err!(
                "{stmt}: label '{}' has type {t}; {} needs a numeric target",
                label_name.as_deref().unwrap_or(""),
                opts.model_type
            )
        }
        (Some(t), Task::Classification)
            if !(t.is_integer()
                || t.is_floating()
                || matches!(
                    t,
                    DataType::Boolean | DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
                )) =>
        {
            return plan_err!(
                "{stmt}: label '{}' has type {t}; expected boolean, integer or text classes",
                label_name.as_deref().unwrap_or("")
            )
        }
        _ => {}
    }
    // k-means started from a query: plan it now, before reading the training rows.
    let init_plan = match &family {
        Family::KMeans(h) => match &h.init {
            Init::Query(q) => Some(state.create_logical_plan(q).await.map_err(|e| {
                datafusion::common::plan_datafusion_err!(
                    "{stmt}: option init = 'query:{q}' does not plan: {e}"
                )
            })?),
            _ => None,
        },
        _ => None,
    };

    // ---- read every row, then order canonically
    let batches = df.collect().await?;
    let all = concat_batches(&Arc::new(schema.clone()), &batches)?;
    let n = all.num_rows();
    if n == 0 {
        return exec_err!("{stmt}: the training query returned no rows");
    }
    let mut order_cols: Vec<usize> = feature_idx.clone();
    order_cols.extend(label_idx);
    order_cols.extend(key_idx);
    order_cols.extend(holdout_idx);
    order_cols.extend(part_idx);
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
    let label: Option<ArrayRef> = label_idx.map(col).transpose()?;

    // ---- hold-out flags
    let holdout: Vec<bool> = match &opts.split {
        Split::None => vec![false; n],
        Split::Random(frac) => {
            let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
            (0..n).map(|_| rng.gen::<f64>() < *frac).collect()
        }
        Split::Hash { fraction, .. } => {
            let key = cast(&col(key_idx.unwrap_or(0))?, &DataType::Utf8)?;
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
            let h = cast(&col(holdout_idx.unwrap_or(0))?, &DataType::Boolean)?;
            let h = h.as_boolean();
            (0..n).map(|i| h.is_valid(i) && h.value(i)).collect()
        }
    };

    // ---- NULLs
    let everyone = vec![true; n];
    let label_nulls = label.as_ref().map_or(0, |l| l.null_count() as u64);
    let nulls = null_counts(&features, &everyone);
    if opts.null_policy == NullPolicy::Error {
        if label_nulls > 0 {
            return exec_err!("{stmt}: label '{}' is NULL in {label_nulls} of {n} rows (null_policy = 'error'); filter them or use null_policy = 'skip'", label_name.as_deref().unwrap_or(""));
        }
        if let Some((info, count)) = infos.iter().zip(&nulls).find(|(_, c)| **c > 0) {
            return exec_err!(
                "{stmt}: feature '{}' is NULL in {count} of {n} rows (null_policy = 'error'); expected no NULLs, or null_policy = 'skip' or 'impute:mean|median|mode|zero'",
                info.name
            );
        }
    }
    let mut keep: Vec<bool> = (0..n)
        .map(|i| label.as_ref().is_none_or(|l| l.is_valid(i)))
        .collect();
    if opts.null_policy == NullPolicy::Skip {
        for f in &features {
            for (i, k) in keep.iter_mut().enumerate() {
                *k &= f.is_valid(i);
            }
        }
    }
    // the partition of every row, as text; rows without one are skipped
    let part_key: Option<Vec<Option<String>>> = match part_idx {
        Some(p) => {
            let k = cast(&col(p)?, &DataType::Utf8)?;
            let k = k.as_string::<i32>();
            for (i, kp) in keep.iter_mut().enumerate() {
                *kp &= k.is_valid(i);
            }
            Some(k.iter().map(|v| v.map(str::to_string)).collect())
        }
        None => None,
    };
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

    // ---- the target
    let target = match (&label, task) {
        (Some(label), Task::Classification) => {
            let label_type = label_type.clone().unwrap_or(DataType::Utf8);
            let name = label_name.clone().unwrap_or_default();
            class_target(&stmt, &name, label, &label_type, &train_rows, n_train)?
        }
        (Some(label), _) => {
            let f = cast(label, &DataType::Float64)?;
            let f = f.as_primitive::<Float64Type>();
            let bad = (0..n)
                .filter(|&i| keep[i] && !f.value(i).is_finite())
                .count();
            if bad > 0 {
                return exec_err!(
                    "{stmt}: label '{}' has {bad} NaN or infinite values; expected finite numbers",
                    label_name.as_deref().unwrap_or("")
                );
            }
            Target::Numeric(
                (0..n)
                    .map(|i| if f.is_valid(i) { f.value(i) } else { 0.0 })
                    .collect(),
            )
        }
        (None, _) => Target::None,
    };

    // ---- fit and evaluate, per partition
    let initial = match init_plan {
        Some(plan) => Some(initial_centroid_rows(state, &stmt, plan, &infos, &family).await?),
        None => None,
    };
    let groups: Vec<Option<String>> = match &part_key {
        Some(k) => {
            let values: std::collections::BTreeSet<&String> = (0..n)
                .filter(|&i| keep[i])
                .filter_map(|i| k[i].as_ref())
                .collect();
            values.into_iter().map(|v| Some(v.clone())).collect()
        }
        None => vec![None],
    };
    let (dataset, eval_all) = if matches!(opts.split, Split::None) {
        ("train", &train_rows)
    } else {
        ("holdout", &test_rows)
    };
    // The group of every row (all rows are group 0 without partition_by).
    let group_of: Vec<Option<usize>> = match &part_key {
        Some(k) => {
            let index: std::collections::HashMap<&str, usize> = groups
                .iter()
                .enumerate()
                .filter_map(|(j, g)| g.as_deref().map(|g| (g, j)))
                .collect();
            (0..n)
                .map(|i| k[i].as_deref().and_then(|v| index.get(v).copied()))
                .collect()
        }
        None => vec![Some(0); n],
    };
    let fit_group = |j: usize| -> Result<Fitted> {
        let train_g: Vec<bool> = (0..n)
            .map(|i| train_rows[i] && group_of[i] == Some(j))
            .collect();
        let eval_g: Vec<bool> = (0..n)
            .map(|i| eval_all[i] && group_of[i] == Some(j))
            .collect();
        let what = match &groups[j] {
            Some(g) => format!(
                "{stmt}, partition {} = '{g}'",
                opts.partition_by.as_deref().unwrap_or("")
            ),
            None => stmt.clone(),
        };
        fit_one(
            &what,
            &family,
            &infos,
            &features,
            &target,
            &train_g,
            &eval_g,
            &opts,
            initial.as_ref(),
        )
    };
    let fits = fit_groups(groups.len(), &fit_group);
    // per group: input, train and hold-out rows, in one pass
    let mut group_rows = vec![RowCounts::default(); groups.len()];
    for i in 0..n {
        if let Some(g) = group_of[i] {
            let r = &mut group_rows[g];
            r.input += 1;
            r.train += u64::from(train_rows[i]);
            r.holdout += u64::from(test_rows[i]);
        }
    }
    let mut files = vec![];
    let mut partitions = vec![];
    let mut outs = vec![];
    let mut unseen = 0;
    for ((j, group), fitted) in groups.iter().enumerate().zip(fits) {
        // The lowest failing group's error is reported, whatever finished first.
        let fitted = fitted?;
        unseen += fitted.unseen;
        let prefix = if group.is_some() {
            crate::store::partition_prefix(j)
        } else {
            String::new()
        };
        let names = fitted.pre.feature_names();
        files.push((
            format!("{prefix}preprocessing.parquet"),
            fitted.pre.to_batch()?,
        ));
        let classes = match &target {
            Target::Classes { classes, .. } => classes.as_slice(),
            _ => &[],
        };
        for (f, b) in fitted.params.files(&names, classes)? {
            files.push((format!("{prefix}{f}"), b));
        }
        if let Some(g) = group {
            partitions.push(crate::store::PartitionInfo {
                value: g.clone(),
                rows: group_rows[j].clone(),
                metrics: (fitted.out.rows > 0).then(|| StoredMetrics {
                    dataset: dataset.to_string(),
                    rows: fitted.out.rows as u64,
                    values: metrics_of(std::slice::from_ref(&fitted.out)),
                }),
            });
        }
        outs.push(fitted.out);
    }
    let eval_rows: usize = outs.iter().map(|o| o.rows).sum();
    let metrics = (eval_rows > 0).then(|| StoredMetrics {
        dataset: dataset.to_string(),
        rows: eval_rows as u64,
        values: metrics_of(&outs),
    });
    let n_test = test_rows.iter().filter(|b| **b).count();

    let manifest = Manifest {
        features: infos,
        label: label_idx.map(|l| LabelInfo {
            name: schema.field(l).name().clone(),
            data_type: label_type
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default(),
            classes: match &target {
                Target::Classes { classes, .. } => classes.clone(),
                _ => vec![],
            },
        }),
        rows: RowCounts {
            input: n as u64,
            train: n_train as u64,
            holdout: n_test as u64,
            skipped,
            imputed_values,
            unseen_categories: if dataset == "holdout" { unseen } else { 0 },
        },
        metrics,
        partition_by: part_idx.map(|p| schema.field(p).name().clone()),
        partitions,
        ..base_manifest(&req, &opts, started)
    };
    store.save(manifest, files, req.create_only)
}

/// One fitted (sub-)model and what its evaluation rows gave.
struct Fitted {
    pre: Preprocessor,
    params: ModelParams,
    out: EvalOut,
    unseen: u64,
}

/// Fits groups `0..count` with `fit`, on up to as many threads as there are cores; results come
/// back in group order, so the model does not depend on which thread finished first.
fn fit_groups<F>(count: usize, fit: &F) -> Vec<Result<Fitted>>
where
    F: Fn(usize) -> Result<Fitted> + Sync,
{
    let groups: Vec<usize> = (0..count).collect();
    crate::util::parallel_map(&groups, &|&j| fit(j))
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| exec_err!("CREATE MODEL: training a partition failed unexpectedly"))
        })
        .collect()
}

/// Fits preprocessing and the model on the `train` rows and evaluates the `eval` rows.
#[allow(clippy::too_many_arguments)]
fn fit_one(
    what: &str,
    family: &Family,
    infos: &[FeatureInfo],
    features: &[ArrayRef],
    target: &Target,
    train: &[bool],
    eval: &[bool],
    opts: &ModelOptions,
    initial: Option<&Vec<ArrayRef>>,
) -> Result<Fitted> {
    let n = train.len();
    let n_train = train.iter().filter(|b| **b).count();
    if n_train == 0 {
        return exec_err!("{what}: no training rows");
    }
    if let Target::Classes { classes, y } = target {
        let mut count = vec![0usize; classes.len()];
        for i in (0..n).filter(|&i| train[i]) {
            count[y[i] as usize] += 1;
        }
        let present: Vec<&String> = (0..classes.len())
            .filter(|&c| count[c] > 0)
            .map(|c| &classes[c])
            .collect();
        if present.len() == 1 {
            return exec_err!("{what}: the {n_train} training rows have a single class ({}); a classifier needs two", present[0]);
        }
        if let Some(c) = (0..classes.len()).find(|&c| count[c] == 0) {
            return exec_err!("{what}: class '{}' of the label has no training rows here; every class ({}) needs training rows", classes[c], classes.join(", "));
        }
    }
    let pre = Preprocessor::fit(infos, features, train, opts.null_policy, opts.scale)?;
    let take_rows = |mask: &[bool]| -> Result<(Vec<ArrayRef>, Vec<usize>)> {
        let ids: datafusion::arrow::array::UInt32Array =
            (0..n as u32).filter(|&i| mask[i as usize]).collect();
        let cols = features
            .iter()
            .map(|f| Ok(take(f.as_ref(), &ids, None)?))
            .collect::<Result<Vec<_>>>()?;
        Ok((cols, ids.values().iter().map(|&i| i as usize).collect()))
    };
    let (train_cols, train_ids) = take_rows(train)?;
    let mtrain = pre.transform(&train_cols)?;
    let initial = match initial {
        Some(cols) => {
            let m = pre.transform(cols)?;
            if m.valid.iter().any(|v| !v) {
                return exec_err!("{what}: the init query has NULL feature values");
            }
            Some(m.x)
        }
        None => None,
    };
    // the families name the statement as "CREATE MODEL:"; say which model and partition
    let params = family
        .fit(&mtrain.x, target, &train_ids, initial, opts.seed)
        .map_err(|e| match e {
            DataFusionError::Execution(m) => {
                DataFusionError::Execution(m.replacen("CREATE MODEL:", &format!("{what}:"), 1))
            }
            DataFusionError::Plan(m) => {
                DataFusionError::Plan(m.replacen("CREATE MODEL:", &format!("{what}:"), 1))
            }
            other => other,
        })?;
    let (eval_cols, eval_ids) = take_rows(eval)?;
    let meval = pre.transform(&eval_cols)?;
    let out = eval_out(&params, &meval.x, target, &eval_ids, opts.seed);
    Ok(Fitted {
        pre,
        params,
        out,
        unseen: meval.unseen,
    })
}

/// The label as the fit sees it.
enum Target {
    /// Classes in order (of two, the second is positive) and each row's class index.
    Classes { classes: Vec<String>, y: Vec<u32> },
    /// Per row.
    Numeric(Vec<f64>),
    /// Clustering.
    None,
}

/// Most classes a label may have.
const MAX_CLASSES: usize = 1000;

/// The classes of a classification label, sorted in the label's own order (false < true,
/// 2 < 10), and each row's class.
fn class_target(
    stmt: &str,
    label_name: &str,
    label: &ArrayRef,
    label_type: &DataType,
    train_rows: &[bool],
    n_train: usize,
) -> Result<Target> {
    let n = label.len();
    let mut first_row = BTreeMap::new();
    for i in (0..n).filter(|&i| train_rows[i]) {
        first_row.entry(class_text(label, i)?).or_insert(i);
    }
    let mut classes: Vec<(String, usize)> = first_row.into_iter().collect();
    let numeric = label_type.is_integer() || label_type.is_floating();
    let label_norm: ArrayRef = if numeric {
        cast(label, &DataType::Float64)?
    } else {
        Arc::clone(label)
    };
    classes.sort_by(
        |a, b| match (numeric, label_norm.as_primitive_opt::<Float64Type>()) {
            (true, Some(f)) => f.value(a.1).total_cmp(&f.value(b.1)),
            _ => a.0.cmp(&b.0),
        },
    );
    let class_names: Vec<String> = classes.iter().map(|c| c.0.clone()).collect();
    match class_names.len() {
        1 => return exec_err!("{stmt}: label '{label_name}' has a single class ({}) in the {n_train} training rows; a classifier needs two", class_names[0]),
        k if k > MAX_CLASSES => return exec_err!("{stmt}: label '{label_name}' has {k} classes in the training rows; a classifier takes at most {MAX_CLASSES} (is it an id or a number? a numeric target needs linear_regression)"),
        _ => {}
    }
    let index: std::collections::HashMap<&str, u32> = class_names
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u32))
        .collect();
    // rows outside training (held out) may carry a class training never saw: class index
    // u32::MAX, never used by a fit (evaluation counts them wrong)
    let labels = cast(label, &DataType::Utf8)?;
    let labels = labels.as_string::<i32>();
    let y = (0..n)
        .map(|i| {
            if labels.is_valid(i) {
                index.get(labels.value(i)).copied().unwrap_or(u32::MAX)
            } else {
                0
            }
        })
        .collect();
    Ok(Target::Classes {
        classes: class_names,
        y,
    })
}

/// A family and its validated hyper-parameters.
enum Family {
    Logistic(LogisticHyper),
    Linear(LinearHyper),
    KMeans(KMeansHyper),
    Tree(TreeHyper),
    Forest(ForestHyper),
    NaiveBayes(naive_bayes::NbHyper),
    Mlp(MlpHyper),
}

impl Family {
    fn from_options(o: &ModelOptions) -> Result<Self> {
        Ok(match o.model_type.as_str() {
            "logistic_regression" => Family::Logistic(LogisticHyper::from_options(o)?),
            "linear_regression" => Family::Linear(LinearHyper::from_options(o)?),
            "kmeans" => Family::KMeans(KMeansHyper::from_options(o)?),
            "decision_tree" => Family::Tree(TreeHyper::from_options(o, Some(8))?),
            "random_forest" => Family::Forest(ForestHyper::from_options(o)?),
            "naive_bayes" => {
                let h = naive_bayes::NbHyper::from_options(o)?;
                if matches!(h, naive_bayes::NbHyper::Multinomial(_))
                    && o.scale != super::options::Scale::None
                {
                    return plan_err!("CREATE MODEL: naive_bayes with distribution = 'multinomial' scores counts, so it takes scale = 'none' (scaled values are not counts, and go negative on new data)");
                }
                Family::NaiveBayes(h)
            }
            "mlp" => Family::Mlp(MlpHyper::from_options(o)?),
            other => return plan_err!("CREATE MODEL: type '{other}' is not trained from features"),
        })
    }

    /// Fits on the training matrix; `ids` are the training rows' positions in the target.
    fn fit(
        &self,
        x: &ndarray::Array2<f64>,
        target: &Target,
        ids: &[usize],
        initial: Option<ndarray::Array2<f64>>,
        seed: u64,
    ) -> Result<ModelParams> {
        let labels = || match target {
            Target::Classes { y, classes } => Ok((
                ids.iter().map(|&i| y[i]).collect::<Vec<u32>>(),
                classes.len(),
            )),
            _ => exec_err!("CREATE MODEL: internal error: a classifier without classes"),
        };
        Ok(match self {
            Family::Logistic(h) => {
                let (y, k) = labels()?;
                if k == 2 {
                    let pos: Vec<bool> = y.iter().map(|&c| c == 1).collect();
                    ModelParams::Logistic(logistic::fit(x.clone(), &pos, *h)?)
                } else {
                    ModelParams::MultiLogistic(logistic::fit_multi(x.clone(), &y, k, *h)?)
                }
            }
            Family::Linear(h) => {
                let Target::Numeric(y) = target else {
                    return exec_err!(
                        "CREATE MODEL: internal error: a regression without a numeric target"
                    );
                };
                let y: Vec<f64> = ids.iter().map(|&i| y[i]).collect();
                ModelParams::Linear(linear::fit(x.clone(), &y, *h)?)
            }
            Family::KMeans(h) => ModelParams::KMeans(kmeans::fit(x, h, initial, seed)?),
            Family::Tree(h) => {
                let (y, k) = labels()?;
                ModelParams::Trees(tree::fit_tree(x, &y, k, *h)?)
            }
            Family::Forest(h) => {
                let (y, k) = labels()?;
                ModelParams::Trees(tree::fit_forest(x, &y, k, *h, seed)?)
            }
            Family::NaiveBayes(h) => {
                let (y, k) = labels()?;
                ModelParams::NaiveBayes(naive_bayes::fit(x, &y, k, *h)?)
            }
            Family::Mlp(h) => {
                let (y, k) = labels()?;
                ModelParams::Mlp(mlp::fit(x, &y, k, h, seed)?)
            }
        })
    }
}

/// What a model's evaluation rows gave, in a form that pools over partitions.
struct EvalOut {
    rows: usize,
    /// Classifiers: class probabilities (rows × classes) and class indices.
    classes: Option<(ndarray::Array2<f64>, Vec<u32>)>,
    /// Regression: error sums.
    sums: Option<crate::functions::metrics::regression::Sums>,
    /// Clustering: inertia and (on up to 2000 rows) silhouette.
    inertia: Option<f64>,
    silhouette: Option<f64>,
}

fn eval_out(
    params: &ModelParams,
    x: &ndarray::Array2<f64>,
    target: &Target,
    ids: &[usize],
    seed: u64,
) -> EvalOut {
    let mut out = EvalOut {
        rows: ids.len(),
        classes: None,
        sums: None,
        inertia: None,
        silhouette: None,
    };
    if let (Some(p), Target::Classes { y, .. }) = (params.class_probabilities(x), target) {
        out.classes = Some((p, ids.iter().map(|&i| y[i]).collect()));
        return out;
    }
    match (params, target) {
        (ModelParams::Linear(w), Target::Numeric(y)) => {
            let mut s = crate::functions::metrics::regression::Sums::default();
            for (p, &i) in w.linear(x).into_iter().zip(ids) {
                s.add(p, y[i]);
            }
            out.sums = Some(s);
        }
        (ModelParams::KMeans(c), _) => {
            out.inertia = Some(c.inertia(x));
            out.silhouette = c.silhouette(x, 2000, seed);
        }
        _ => {}
    }
    out
}

/// Metrics over one or more evaluation outputs: classification metrics (at 0.5), rmse, mae and
/// r2 for regression, inertia (summed) and silhouette (of a single model) for clustering.
fn metrics_of(outs: &[EvalOut]) -> BTreeMap<String, Option<f64>> {
    let mut m = BTreeMap::new();
    if outs.iter().all(|o| o.classes.is_some()) {
        let parts: Vec<&(ndarray::Array2<f64>, Vec<u32>)> =
            outs.iter().filter_map(|o| o.classes.as_ref()).collect();
        let k = parts.first().map_or(2, |p| p.0.ncols());
        if k == 2 {
            let (mut p, mut y) = (vec![], vec![]);
            for (pp, yy) in parts {
                p.extend(pp.column(1).iter());
                y.extend(yy.iter().map(|&c| c == 1));
            }
            return binary_metrics(&p, &y);
        }
        let views: Vec<_> = parts.iter().map(|p| p.0.view()).collect();
        let probs = ndarray::concatenate(ndarray::Axis(0), &views)
            .unwrap_or_else(|_| ndarray::Array2::zeros((0, k)));
        let y: Vec<u32> = parts.iter().flat_map(|p| p.1.iter().copied()).collect();
        return multiclass_metrics(&probs, &y);
    }
    if outs.iter().all(|o| o.sums.is_some()) {
        use crate::functions::metrics::regression::{Regression, Sums};
        let mut s = Sums::default();
        outs.iter()
            .filter_map(|o| o.sums.as_ref())
            .for_each(|o| s.merge(o));
        m.insert("rmse".into(), s.value(Regression::Rmse));
        m.insert("mae".into(), s.value(Regression::Mae));
        m.insert("r2".into(), s.value(Regression::R2));
    }
    if outs.iter().all(|o| o.inertia.is_some()) {
        m.insert(
            "inertia".into(),
            Some(outs.iter().filter_map(|o| o.inertia).sum()),
        );
        m.insert(
            "silhouette".into(),
            if outs.len() == 1 {
                outs[0].silhouette
            } else {
                None
            },
        );
    }
    m
}

/// The starting centroids of `init = 'query:...'`: its rows as feature columns (each
/// (sub-)model encodes them with its own preprocessing).
async fn initial_centroid_rows(
    state: &SessionState,
    stmt: &str,
    plan: LogicalPlan,
    infos: &[FeatureInfo],
    family: &Family,
) -> Result<Vec<ArrayRef>> {
    let Family::KMeans(h) = family else {
        return exec_err!("{stmt}: internal error: initial centroids for a non-k-means model");
    };
    let df = DataFrame::new(state.clone(), plan);
    let schema: Schema = df.schema().as_arrow().clone();
    let batches = df.collect().await?;
    let all = concat_batches(&Arc::new(schema.clone()), &batches)?;
    let mut cols = vec![];
    for info in infos {
        let Some(c) = all.column_by_name(&info.name) else {
            return plan_err!(
                "{stmt}: the init query has no column '{}'; it must return the model's features ({})",
                info.name,
                infos.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
            );
        };
        cols.push(normalize_column(c, info.kind == "categorical")?);
    }
    if all.num_rows() != h.k {
        return exec_err!(
            "{stmt}: the init query returned {} rows; expected k = {}",
            all.num_rows(),
            h.k
        );
    }
    Ok(cols)
}
