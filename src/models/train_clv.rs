//! `CREATE MODEL ... OPTIONS (type = 'bgnbd' | 'gamma_gamma')`: reads a customer summary (as
//! `clv_summary` returns it), validates it, fits by maximum likelihood and stores the parameters.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{Array, AsArray, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::execution::context::SessionState;
use datafusion::prelude::DataFrame;

use super::clv::{fit_bgnbd, fit_gamma_gamma, BgNbd, GammaGamma, Rft};
use super::options::ModelOptions;
use super::train::TrainRequest;
use super::ModelParams;
use crate::store::{FeatureInfo, Manifest, ModelStore, RowCounts, StoredMetrics};

/// Options of `type = 'bgnbd'`.
pub const BGNBD_OPTIONS: &[&str] = &[
    "penalizer",
    "frequency_col",
    "recency_col",
    "t_col",
    "time_unit",
    "max_iterations",
];
/// Options of `type = 'gamma_gamma'`.
pub const GAMMA_GAMMA_OPTIONS: &[&str] = &[
    "penalizer",
    "frequency_col",
    "monetary_col",
    "max_iterations",
];

fn params_batch(rows: &[(&str, f64)]) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("parameter", DataType::Utf8, false),
        Field::new("value", DataType::Float64, false),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.1))),
        ],
    )?)
}

/// Restores parameters from `params.parquet`.
pub fn params_from_batch(m: &Manifest, batch: &RecordBatch) -> Result<ModelParams> {
    let (Some(names), Some(values)) = (
        batch.column_by_name("parameter"),
        batch.column_by_name("value"),
    ) else {
        return plan_err!(
            "model store: params.parquet of '{}' needs columns parameter and value",
            m.name
        );
    };
    let names = cast(names, &DataType::Utf8)?;
    let values = cast(values, &DataType::Float64)?;
    let (names, values) = (
        names.as_string::<i32>(),
        values.as_primitive::<Float64Type>(),
    );
    let get = |k: &str| -> Result<f64> {
        match (0..names.len()).find(|&i| names.value(i) == k) {
            Some(i) => Ok(values.value(i)),
            None => plan_err!(
                "model store: params.parquet of '{}' has no parameter {k}",
                m.name
            ),
        }
    };
    Ok(match m.model_type.as_str() {
        "bgnbd" => ModelParams::BgNbd {
            params: BgNbd {
                r: get("r")?,
                alpha: get("alpha")?,
                a: get("a")?,
                b: get("b")?,
            },
            periods_per_month: periods_per_month(
                m.options
                    .get("time_unit")
                    .map(String::as_str)
                    .unwrap_or("week"),
            )?,
        },
        _ => ModelParams::GammaGamma(GammaGamma {
            p: get("p")?,
            q: get("q")?,
            v: get("v")?,
        }),
    })
}

/// Time units per month as Lifetimes counts them (4.345 weeks, 30 days).
fn periods_per_month(unit: &str) -> Result<f64> {
    match unit {
        "week" => Ok(4.345),
        "day" => Ok(30.0),
        other => plan_err!("CREATE MODEL: option time_unit = '{other}'; expected week or day (the unit of recency and T)"),
    }
}

/// Reads named numeric columns, failing on a missing column, a non-numeric type or NULLs.
fn read_columns(
    stmt: &str,
    batch: &RecordBatch,
    names: &[(&str, String)],
) -> Result<Vec<Vec<f64>>> {
    let schema = batch.schema();
    let available: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let mut out = vec![];
    for (role, name) in names {
        let Some(idx) = available
            .iter()
            .position(|c| *c == name.as_str())
            .or_else(|| available.iter().position(|c| c.eq_ignore_ascii_case(name)))
        else {
            return plan_err!(
                "{stmt}: no column '{name}' for {role} in the training query; columns are {} (name it with AS {name}, or set the option {role}_col)",
                available.join(", ")
            );
        };
        let col = batch.column(idx);
        if !(col.data_type().is_numeric()) {
            return plan_err!(
                "{stmt}: column '{name}' ({role}) has type {}; expected a number",
                col.data_type()
            );
        }
        let nulls = col.null_count();
        if nulls > 0 {
            return exec_err!("{stmt}: column '{name}' ({role}) is NULL in {nulls} of {} rows; expected no NULLs (filter them)", col.len());
        }
        let f = cast(col, &DataType::Float64)?;
        let values: Vec<f64> = f.as_primitive::<Float64Type>().values().to_vec();
        let bad = values.iter().filter(|v| !v.is_finite()).count();
        if bad > 0 {
            return exec_err!("{stmt}: column '{name}' ({role}) has {bad} NaN or infinite values; expected finite numbers");
        }
        out.push(values);
    }
    Ok(out)
}

fn count(values: &[f64], pred: impl Fn(f64) -> bool) -> usize {
    values.iter().filter(|v| pred(**v)).count()
}

/// Trains a BG/NBD or Gamma-Gamma model.
pub async fn train(
    state: &SessionState,
    store: &ModelStore,
    req: TrainRequest,
    opts: ModelOptions,
    started: Instant,
) -> Result<Manifest> {
    let stmt = format!("CREATE MODEL {}", req.name);
    let penalizer = opts.number("penalizer", 0.0, 0.0, 1e6)?;
    let max_iterations = opts.integer("max_iterations", 20_000, 10, 10_000_000)?;
    let df = DataFrame::new(state.clone(), req.plan.clone());
    let schema: Schema = df.schema().as_arrow().clone();
    let batches = df.collect().await?;
    let batch = concat_batches(&Arc::new(schema), &batches)?;
    let n = batch.num_rows();
    let bg = opts.model_type == "bgnbd";
    let roles: Vec<(&str, String)> = if bg {
        vec![
            ("frequency", opts.column("frequency_col", "frequency")),
            ("recency", opts.column("recency_col", "recency")),
            ("t", opts.column("t_col", "t")),
        ]
    } else {
        vec![
            ("frequency", opts.column("frequency_col", "frequency")),
            ("monetary", opts.column("monetary_col", "monetary_value")),
        ]
    };
    let time_unit = opts
        .raw
        .get("time_unit")
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_else(|| "week".into());
    if bg {
        periods_per_month(&time_unit)?;
    }
    let cols = read_columns(&stmt, &batch, &roles)?;
    if n == 0 {
        return exec_err!(
            "{stmt}: the training query returned no rows; expected one row per customer{}",
            if bg {
                ""
            } else {
                " with repeat purchases (frequency > 0)"
            }
        );
    }
    let freq = &cols[0];
    let (fname, rname) = (&roles[0].1, &roles[1].1);
    let neg = count(freq, |v| v < 0.0);
    if neg > 0 {
        return exec_err!("{stmt}: column '{fname}' (frequency) is negative in {neg} of {n} rows; expected repeat-purchase counts >= 0");
    }
    let frac = count(freq, |v| v.fract() != 0.0);
    if frac > 0 {
        return exec_err!("{stmt}: column '{fname}' (frequency) is not a whole number in {frac} of {n} rows; expected counts of repeat purchases");
    }
    let features: Vec<FeatureInfo> = roles
        .iter()
        .map(|(_, name)| FeatureInfo {
            name: name.clone(),
            data_type: "Float64".into(),
            kind: "numeric".into(),
        })
        .collect();
    let mut metrics = BTreeMap::new();
    let (files, rows_used) = if bg {
        let (rec, t) = (&cols[1], &cols[2]);
        let tname = &roles[2].1;
        for (name, v) in [(rname, rec), (tname, t)] {
            let neg = count(v, |x| x < 0.0);
            if neg > 0 {
                return exec_err!(
                    "{stmt}: column '{name}' is negative in {neg} of {n} rows; expected times >= 0"
                );
            }
        }
        let late = (0..n).filter(|&i| rec[i] > t[i]).count();
        if late > 0 {
            return exec_err!("{stmt}: recency '{rname}' is greater than T '{tname}' in {late} of {n} rows; expected recency <= T (time of last purchase within the customer's age)");
        }
        let zero_rec = (0..n).filter(|&i| freq[i] > 0.0 && rec[i] == 0.0).count();
        if zero_rec > 0 {
            return exec_err!("{stmt}: {zero_rec} rows have repeat purchases but recency 0; expected recency > 0 when frequency > 0");
        }
        // Canonical order, so that sums (and so the fit) do not depend on partitioning.
        let mut customers: Vec<Rft> = (0..n)
            .map(|i| Rft {
                x: freq[i],
                t_x: rec[i],
                t: t[i],
            })
            .collect();
        customers.sort_by(|p, q| {
            p.x.total_cmp(&q.x)
                .then(p.t_x.total_cmp(&q.t_x))
                .then(p.t.total_cmp(&q.t))
        });
        let (m, ll) = fit_bgnbd(&customers, penalizer, max_iterations)?;
        metrics.insert("log_likelihood".to_string(), Some(ll));
        metrics.insert("mean_log_likelihood".to_string(), Some(ll / n as f64));
        // A calibration summary carries hold-out columns: compare predictions with them.
        let holdout = read_columns(
            &stmt,
            &batch,
            &[
                ("frequency_holdout", "frequency_holdout".into()),
                ("duration_holdout", "duration_holdout".into()),
            ],
        );
        if let Ok(h) = holdout {
            let (actual, duration) = (&h[0], &h[1]);
            let predicted: Vec<f64> = (0..n)
                .map(|i| {
                    m.expected_purchases(
                        duration[i],
                        &Rft {
                            x: freq[i],
                            t_x: rec[i],
                            t: t[i],
                        },
                    )
                })
                .collect();
            // Sums over sorted values do not depend on the order rows arrived in.
            let sorted_sum = |mut v: Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v.iter().sum::<f64>()
            };
            let errors: Vec<f64> = (0..n).map(|i| (predicted[i] - actual[i]).abs()).collect();
            let mae = sorted_sum(errors) / n as f64;
            let sum_p = sorted_sum(predicted);
            let sum_a = sorted_sum(actual.clone());
            metrics.insert("predicted_holdout_purchases".to_string(), Some(sum_p));
            metrics.insert("actual_holdout_purchases".to_string(), Some(sum_a));
            metrics.insert("holdout_mae".to_string(), Some(mae));
        }
        let params = params_batch(&[("r", m.r), ("alpha", m.alpha), ("a", m.a), ("b", m.b)])?;
        (vec![("params.parquet".to_string(), params)], n)
    } else {
        let mon = &cols[1];
        let mname = &roles[1].1;
        let zero = count(freq, |v| v == 0.0);
        if zero == n {
            return exec_err!("{stmt}: no repeat buyers: column '{fname}' is 0 in all {n} rows; Gamma-Gamma needs customers with frequency > 0");
        }
        if zero > 0 {
            return exec_err!("{stmt}: column '{fname}' is 0 in {zero} of {n} rows; Gamma-Gamma is fitted on repeat buyers only (add WHERE {fname} > 0)");
        }
        let nonpos = count(mon, |v| v <= 0.0);
        if nonpos > 0 {
            return exec_err!("{stmt}: column '{mname}' (monetary value) is <= 0 in {nonpos} of {n} rows; expected positive average order values (add WHERE {mname} > 0)");
        }
        let mut customers: Vec<(f64, f64)> = (0..n).map(|i| (freq[i], mon[i])).collect();
        customers.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.total_cmp(&q.1)));
        let (m, ll) = fit_gamma_gamma(&customers, penalizer, max_iterations)?;
        metrics.insert("log_likelihood".to_string(), Some(ll));
        metrics.insert("mean_log_likelihood".to_string(), Some(ll / n as f64));
        let params = params_batch(&[("p", m.p), ("q", m.q), ("v", m.v)])?;
        (vec![("params.parquet".to_string(), params)], n)
    };
    let mut options = req.options.clone();
    if bg {
        options.insert("time_unit".into(), time_unit);
    }
    let manifest = Manifest {
        options,
        features,
        rows: RowCounts {
            input: n as u64,
            train: rows_used as u64,
            ..Default::default()
        },
        metrics: Some(StoredMetrics {
            dataset: "train".into(),
            rows: rows_used as u64,
            values: metrics,
        }),
        ..super::train::base_manifest(&req, &opts, started)
    };
    store.save(manifest, files, req.create_only)
}
