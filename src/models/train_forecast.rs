//! `CREATE MODEL ... OPTIONS (type = 'forecast', time_col, value_col [, series_col] ...)`:
//! one forecasting model per series, every series in one statement.
//!
//! The rows are put on a regular grid per series (period inferred from the gaps between
//! observation times, or given), missing periods filled per `fill`, and the series fitted in
//! parallel in key order, so the model does not depend on partitions or threads. A back-test
//! refits each series without its last `horizon` points and scores the forecast of them
//! (MASE, sMAPE, RMSE), stored for `ml_evaluate`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{
    Array, AsArray, Float64Array, RecordBatch, StringArray, UInt64Array,
};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{
    DataType, Field, Float64Type, Schema, TimeUnit, TimestampMicrosecondType,
};
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::execution::context::SessionState;
use datafusion::prelude::DataFrame;

use super::forecast_model::{from_micros, ForecastModel, Period, SeriesEntry};
use super::options::ModelOptions;
use super::train::TrainRequest;
use crate::forecast::{ets::Spec, fit_series, is_intermittent, Method};
use crate::store::{FeatureInfo, Manifest, ModelStore, RowCounts, StoredMetrics};

/// Options of `type = 'forecast'`.
pub const OPTIONS: &[&str] = &[
    "time_col",
    "value_col",
    "series_col",
    "period",
    "season_length",
    "horizon",
    "method",
    "model",
    "fill",
    "level",
    "alpha_d",
    "alpha_p",
    "backtest",
];

/// How missing periods are filled.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fill {
    /// 0 (sales: nothing sold); series run to the last period of all series.
    Zero,
    /// Linear interpolation between the neighbours.
    Interpolate,
    /// A missing period is an error.
    Error,
}

/// The validated settings.
struct Settings {
    time_col: String,
    value_col: String,
    series_col: Option<String>,
    period: Option<Period>,
    season_length: Option<usize>,
    horizon: Option<usize>,
    method: Method,
    fill: Fill,
    level: f64,
    backtest: bool,
}

fn settings(o: &ModelOptions) -> Result<Settings> {
    let need = |k: &str| -> Result<String> {
        match o.raw.get(k) {
            Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
            _ => plan_err!(
                "CREATE MODEL: type 'forecast' needs option {k} (the column of the {}) ",
                if k == "time_col" {
                    "period start (a date or timestamp)"
                } else {
                    "value to forecast"
                }
            ),
        }
    };
    let period = match o.raw.get("period") {
        None => None,
        Some(p) => Some(Period::parse(p).ok_or_else(|| {
            datafusion::common::plan_datafusion_err!(
                "CREATE MODEL: option period = '{p}'; expected day, week, month or quarter"
            )
        })?),
    };
    let method_name = o
        .raw
        .get("method")
        .map(|s| s.trim().to_ascii_lowercase())
        .unwrap_or_else(|| "auto".into());
    let model = o.raw.get("model").map(|s| s.trim().to_string());
    if model.is_some() && method_name != "ets" {
        return plan_err!("CREATE MODEL: option model applies to method = 'ets'");
    }
    if (o.raw.contains_key("alpha_d") || o.raw.contains_key("alpha_p")) && method_name != "tsb" {
        return plan_err!("CREATE MODEL: options alpha_d and alpha_p apply to method = 'tsb'");
    }
    let method = match method_name.as_str() {
        "auto" => Method::Auto,
        "ets" => Method::Ets(match model.as_deref() {
            None | Some("ZZZ") | Some("zzz") => None,
            Some(m) => Some(Spec::parse(m).ok_or_else(|| {
                datafusion::common::plan_datafusion_err!("CREATE MODEL: option model = '{m}'; expected an ETS model as error, trend (d for damped) and season letters: ANN, AAN, AAdN, ANA, AAA, AAdA, MNN, MAN, MAdN, MNA, MAA, MAdA, MNM, MAM, MAdM")
            })?),
        }),
        "theta" => Method::Theta,
        "naive" => Method::Naive,
        "seasonal_naive" => Method::SeasonalNaive,
        "croston" => Method::Croston,
        "sba" => Method::Sba,
        "tsb" => Method::Tsb {
            alpha_d: o.number("alpha_d", 0.2, 1e-4, 1.0)?,
            alpha_p: o.number("alpha_p", 0.1, 1e-4, 1.0)?,
        },
        other => return plan_err!("CREATE MODEL: option method = '{other}'; expected auto, ets, theta, naive, seasonal_naive, croston, sba or tsb"),
    };
    let fill = match o
        .raw
        .get("fill")
        .map(|s| s.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("zero") => Fill::Zero,
        Some("null") | Some("interpolate") => Fill::Interpolate,
        Some("error") => Fill::Error,
        Some(other) => {
            return plan_err!(
            "CREATE MODEL: option fill = '{other}'; expected zero, interpolate (or null) or error"
        )
        }
    };
    let level = o.number("level", 0.95, 0.5, 0.999)?;
    let backtest = match o
        .raw
        .get("backtest")
        .map(|s| s.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return plan_err!("CREATE MODEL: option backtest = '{other}'; expected true or false")
        }
    };
    Ok(Settings {
        time_col: need("time_col")?,
        value_col: need("value_col")?,
        series_col: o.raw.get("series_col").map(|s| s.trim().to_string()),
        period,
        season_length: o
            .raw
            .contains_key("season_length")
            .then(|| o.integer("season_length", 1, 1, 366))
            .transpose()?
            .map(|v| v as usize),
        horizon: o
            .raw
            .contains_key("horizon")
            .then(|| o.integer("horizon", 1, 1, 10_000))
            .transpose()?
            .map(|v| v as usize),
        method,
        fill,
        level,
        backtest,
    })
}

/// The period of the smallest gap between distinct observation times of a series.
fn infer_period(stmt: &str, gap: Option<i64>) -> Result<Period> {
    let Some(gap) = gap else {
        return plan_err!("{stmt}: every series has a single period; set period = 'day', 'week', 'month' or 'quarter' (and give more history)");
    };
    let day = 86_400_000_000i64;
    let days = gap as f64 / day as f64;
    Ok(if gap < day {
        return plan_err!("{stmt}: observations are {days:.3} days apart; periods are days or longer: truncate the time column with date_trunc('day', ...) and sum per day");
    } else if days < 7.0 {
        Period::Day
    } else if days < 28.0 {
        Period::Week
    } else if days < 89.0 {
        Period::Month
    } else {
        Period::Quarter
    })
}

/// One series on its grid, before fitting.
struct Grid {
    key: String,
    first: i64,
    values: Vec<f64>,
    filled: usize,
}

/// Per-series back-test result.
#[derive(Clone)]
struct Backtest {
    rows: usize,
    mase: Option<f64>,
    smape: Option<f64>,
    rmse: Option<f64>,
    scale: Option<f64>,
    sq: f64,
    method: String,
}

fn backtest(y: &[f64], m: usize, h: usize, method: &Method) -> Option<Backtest> {
    if y.len() < h + 3 {
        return None;
    }
    let (train, test) = y.split_at(y.len() - h);
    let fit = fit_series(train, m, method);
    let pred = fit.model.mean(h);
    let lag = if m > 1 && train.len() > m { m } else { 1 };
    let scale = (train.len() > lag).then(|| {
        (lag..train.len())
            .map(|t| (train[t] - train[t - lag]).abs())
            .sum::<f64>()
            / (train.len() - lag) as f64
    });
    let abs: f64 = test
        .iter()
        .zip(&pred)
        .map(|(a, p)| (a - p).abs())
        .sum::<f64>();
    let sq: f64 = test
        .iter()
        .zip(&pred)
        .map(|(a, p)| (a - p) * (a - p))
        .sum::<f64>();
    let smape = test
        .iter()
        .zip(&pred)
        .map(|(a, p)| {
            let d = a.abs() + p.abs();
            if d == 0.0 {
                0.0
            } else {
                (a - p).abs() / d
            }
        })
        .sum::<f64>()
        / h as f64;
    Some(Backtest {
        rows: h,
        mase: scale.filter(|s| *s > 0.0).map(|s| abs / h as f64 / s),
        smape: Some(smape),
        rmse: Some((sq / h as f64).sqrt()),
        scale,
        sq,
        method: fit.model.name(),
    })
}

/// Trains a forecast model.
pub async fn train(
    state: &SessionState,
    store: &ModelStore,
    req: TrainRequest,
    opts: ModelOptions,
    started: Instant,
) -> Result<Manifest> {
    let stmt = format!("CREATE MODEL {}", req.name);
    let st = settings(&opts)?;
    let df = DataFrame::new(state.clone(), req.plan.clone());
    let schema: Schema = df.schema().as_arrow().clone();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let find = |col: &str, role: &str| -> Result<usize> {
        names
            .iter()
            .position(|c| *c == col)
            .or_else(|| names.iter().position(|c| c.eq_ignore_ascii_case(col)))
            .ok_or_else(|| {
                datafusion::common::plan_datafusion_err!(
                    "{stmt}: {role} '{col}' is not a column of the training query; columns are {}",
                    names.join(", ")
                )
            })
    };
    let ti = find(&st.time_col, "time_col")?;
    let vi = find(&st.value_col, "value_col")?;
    let si = st
        .series_col
        .as_deref()
        .map(|c| find(c, "series_col"))
        .transpose()?;
    let time_type = schema.field(ti).data_type().clone();
    if !matches!(
        time_type,
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
    ) {
        return plan_err!(
            "{stmt}: time_col '{}' has type {time_type}; expected a date or timestamp",
            st.time_col
        );
    }
    let value_type = schema.field(vi).data_type().clone();
    if !value_type.is_numeric() {
        return plan_err!(
            "{stmt}: value_col '{}' has type {value_type}; expected a number",
            st.value_col
        );
    }
    let series_type = si.map(|i| schema.field(i).data_type().clone());
    let batches = df.collect().await?;
    let all = concat_batches(&Arc::new(schema.clone()), &batches)?;
    let n_rows = all.num_rows();
    if n_rows == 0 {
        return exec_err!("{stmt}: the training query returned no rows");
    }
    let times = cast(
        all.column(ti),
        &DataType::Timestamp(TimeUnit::Microsecond, None),
    )?;
    let times = times.as_primitive::<TimestampMicrosecondType>();
    let values = cast(all.column(vi), &DataType::Float64)?;
    let values = values.as_primitive::<Float64Type>();
    let keys = match si {
        Some(i) => Some(cast(all.column(i), &DataType::Utf8)?),
        None => None,
    };
    let keys = keys.as_ref().map(|k| k.as_string::<i32>());
    // the wall-clock time of each row: a time-zoned timestamp is read in its zone, so a day is
    // a local day (and a DST change does not make a day 23 hours long)
    let tz: Option<datafusion::arrow::array::timezone::Tz> = match &time_type {
        DataType::Timestamp(_, Some(z)) => Some(z.parse().map_err(|e| {
            datafusion::common::plan_datafusion_err!(
                "{stmt}: time_col '{}' has time zone '{z}', which is not known: {e}",
                st.time_col
            )
        })?),
        _ => None,
    };
    let local = |us: i64| -> Option<chrono::NaiveDateTime> {
        let utc = from_micros(us)?;
        Some(match &tz {
            Some(z) => {
                use chrono::TimeZone;
                z.from_utc_datetime(&utc).naive_local()
            }
            None => utc,
        })
    };
    let mut skipped = 0u64;
    let mut raw: BTreeMap<String, Vec<(chrono::NaiveDateTime, Option<f64>)>> = BTreeMap::new();
    for i in 0..n_rows {
        if times.is_null(i) || keys.is_some_and(|k| k.is_null(i)) {
            skipped += 1;
            continue;
        }
        let key = keys.map(|k| k.value(i).to_string()).unwrap_or_default();
        let Some(t) = local(times.value(i)) else {
            return exec_err!("{stmt}: time {} is out of range", times.value(i));
        };
        let v = values.is_valid(i).then(|| values.value(i));
        if let Some(v) = v {
            if !v.is_finite() {
                return exec_err!(
                    "{stmt}: value_col '{}' is {v} for series '{key}' at {t}; expected a finite number",
                    st.value_col
                );
            }
        }
        raw.entry(key).or_default().push((t, v));
    }
    let Some(anchor) = raw.values().flat_map(|r| r.iter().map(|x| x.0)).min() else {
        return exec_err!("{stmt}: no rows with a time and a series key ({skipped} skipped)");
    };
    let anchor_us = anchor.and_utc().timestamp_micros();
    let period = match st.period {
        Some(p) => p,
        None => {
            // the smallest gap within a series (series on different weekdays do not make a
            // weekly grid daily)
            let mut gap: Option<i64> = None;
            for rows in raw.values() {
                let mut t: Vec<i64> = rows
                    .iter()
                    .map(|r| r.0.and_utc().timestamp_micros())
                    .collect();
                t.sort_unstable();
                t.dedup();
                if let Some(g) = t.windows(2).map(|w| w[1] - w[0]).min() {
                    gap = Some(gap.map_or(g, |x| x.min(g)));
                }
            }
            infer_period(&stmt, gap)?
        }
    };
    let m = st.season_length.unwrap_or_else(|| period.default_season());
    let horizon = st.horizon.unwrap_or(m.max(1));

    // ---- rows per series: (period index, value)
    let per: BTreeMap<String, Vec<(i64, Option<f64>)>> = raw
        .into_iter()
        .map(|(k, rows)| {
            let idx = rows
                .into_iter()
                .map(|(t, v)| (period.index(t, anchor), v))
                .collect();
            (k, idx)
        })
        .collect();
    if per.is_empty() {
        return exec_err!("{stmt}: no rows with a time and a series key ({skipped} skipped)");
    }
    let last_all = per
        .values()
        .flat_map(|r| r.iter().map(|x| x.0))
        .max()
        .unwrap_or(0);
    let describe = |idx: i64| {
        period
            .start(idx, anchor)
            .map(|t| t.date().to_string())
            .unwrap_or_else(|| idx.to_string())
    };
    let single = si.is_none();
    let what = |key: &str| {
        if single {
            "the series".to_string()
        } else {
            format!("series '{key}'")
        }
    };
    let mut grids = Vec::with_capacity(per.len());
    for (key, mut rows) in per {
        rows.sort_by_key(|r| r.0);
        if let Some(w) = rows.windows(2).find(|w| w[0].0 == w[1].0) {
            return exec_err!(
                "{stmt}: {} has more than one row for the {} starting {}; expected one row per period (aggregate with GROUP BY, e.g. sum per date_trunc('{}', ...))",
                what(&key),
                period.name(),
                describe(w[0].0),
                period.name()
            );
        }
        let first = rows[0].0;
        let last = if st.fill == Fill::Zero {
            last_all
        } else {
            rows[rows.len() - 1].0
        };
        let len = usize::try_from(last - first + 1).unwrap_or(0);
        if len > 1_000_000 {
            return exec_err!(
                "{stmt}: {} spans {len} {}s; at most 1,000,000 periods per series",
                what(&key),
                period.name()
            );
        }
        let mut y: Vec<Option<f64>> = vec![None; len];
        for (idx, v) in &rows {
            y[(idx - first) as usize] = *v;
        }
        let missing = y.iter().filter(|v| v.is_none()).count();
        let values: Vec<f64> = match st.fill {
            Fill::Zero => y.iter().map(|v| v.unwrap_or(0.0)).collect(),
            Fill::Error => {
                if let Some(p) = y.iter().position(|v| v.is_none()) {
                    return exec_err!(
                        "{stmt}: {} has no value for the {} starting {} (fill = 'error'; use fill = 'zero' or 'interpolate')",
                        what(&key),
                        period.name(),
                        describe(first + p as i64)
                    );
                }
                y.iter().map(|v| v.unwrap_or(0.0)).collect()
            }
            Fill::Interpolate => interpolate(&y),
        };
        grids.push(Grid {
            key,
            first,
            values,
            filled: missing,
        });
    }

    // ---- fit (and back-test) every series, in parallel, in key order
    let method = st.method.clone();
    let fit_one = |g: &Grid| {
        let fitted = fit_series(&g.values, m, &method);
        let bt = if st.backtest {
            backtest(&g.values, m, horizon, &method)
        } else {
            None
        };
        (fitted, bt)
    };
    let results = crate::util::parallel_map(&grids, &fit_one);
    let mut series = Vec::with_capacity(grids.len());
    let mut tests = Vec::with_capacity(grids.len());
    let mut methods: BTreeMap<String, usize> = BTreeMap::new();
    for (g, r) in grids.iter().zip(results) {
        let Some((fitted, bt)) = r else {
            return exec_err!("{stmt}: fitting series '{}' failed unexpectedly", g.key);
        };
        *methods.entry(fitted.model.name()).or_default() += 1;
        series.push(SeriesEntry {
            key: g.key.clone(),
            intermittent: is_intermittent(&g.values),
            model: fitted.model,
            last_period: g.first + g.values.len() as i64 - 1,
            n: g.values.len(),
            fell_back: fitted.fell_back,
        });
        tests.push(bt);
    }
    let model = ForecastModel {
        series,
        period,
        anchor,
        time_type: time_type.clone(),
        series_type: series_type.clone(),
        horizon,
        level: st.level,
    };

    // ---- metrics: per series in backtest.parquet, overall in the manifest
    let tested: Vec<&Backtest> = tests.iter().flatten().collect();
    let mean = |f: &dyn Fn(&Backtest) -> Option<f64>| -> Option<f64> {
        let v: Vec<f64> = tested.iter().filter_map(|b| f(b)).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let rows_tested: usize = tested.iter().map(|b| b.rows).sum();
    let mut metrics = BTreeMap::new();
    metrics.insert("series".to_string(), Some(model.series.len() as f64));
    metrics.insert(
        "fallbacks".to_string(),
        Some(model.series.iter().filter(|s| s.fell_back).count() as f64),
    );
    metrics.insert(
        "intermittent".to_string(),
        Some(model.series.iter().filter(|s| s.intermittent).count() as f64),
    );
    metrics.insert("backtested_series".to_string(), Some(tested.len() as f64));
    metrics.insert("mase".to_string(), mean(&|b| b.mase));
    metrics.insert("smape".to_string(), mean(&|b| b.smape));
    metrics.insert(
        "rmse".to_string(),
        (rows_tested > 0)
            .then(|| (tested.iter().map(|b| b.sq).sum::<f64>() / rows_tested as f64).sqrt()),
    );
    for (name, count) in &methods {
        metrics.insert(format!("method.{name}"), Some(*count as f64));
    }
    let bt_schema = Arc::new(Schema::new(vec![
        Field::new("series", DataType::Utf8, false),
        Field::new("method", DataType::Utf8, true),
        Field::new("rows", DataType::UInt64, false),
        Field::new("mase", DataType::Float64, true),
        Field::new("smape", DataType::Float64, true),
        Field::new("rmse", DataType::Float64, true),
        Field::new("scale", DataType::Float64, true),
    ]));
    let bt = RecordBatch::try_new(
        bt_schema,
        vec![
            Arc::new(StringArray::from_iter_values(
                model.series.iter().map(|s| s.key.as_str()),
            )),
            Arc::new(
                tests
                    .iter()
                    .map(|b| b.as_ref().map(|b| b.method.clone()))
                    .collect::<StringArray>(),
            ),
            Arc::new(UInt64Array::from_iter_values(
                tests
                    .iter()
                    .map(|b| b.as_ref().map_or(0, |b| b.rows as u64)),
            )),
            Arc::new(
                tests
                    .iter()
                    .map(|b| b.as_ref().and_then(|b| b.mase))
                    .collect::<Float64Array>(),
            ),
            Arc::new(
                tests
                    .iter()
                    .map(|b| b.as_ref().and_then(|b| b.smape))
                    .collect::<Float64Array>(),
            ),
            Arc::new(
                tests
                    .iter()
                    .map(|b| b.as_ref().and_then(|b| b.rmse))
                    .collect::<Float64Array>(),
            ),
            Arc::new(
                tests
                    .iter()
                    .map(|b| b.as_ref().and_then(|b| b.scale))
                    .collect::<Float64Array>(),
            ),
        ],
    )?;
    let files = vec![
        ("forecast.parquet".to_string(), model.to_batch()?),
        ("backtest.parquet".to_string(), bt),
    ];
    let mut options = req.options.clone();
    options.insert("period".into(), period.name().into());
    options.insert("season_length".into(), m.to_string());
    options.insert("horizon".into(), horizon.to_string());
    options.insert("level".into(), st.level.to_string());
    options.insert("time_type".into(), time_type.to_string());
    options.insert("anchor_us".into(), anchor_us.to_string());
    if let Some(t) = &series_type {
        options.insert("series_type".into(), t.to_string());
    }
    let filled: usize = grids.iter().map(|g| g.filled).sum();
    let mut features = vec![FeatureInfo {
        name: st.time_col.clone(),
        data_type: time_type.to_string(),
        kind: "time".into(),
    }];
    if let (Some(c), Some(t)) = (&st.series_col, &series_type) {
        features.push(FeatureInfo {
            name: c.clone(),
            data_type: t.to_string(),
            kind: "series".into(),
        });
    }
    let manifest = Manifest {
        options,
        features,
        rows: RowCounts {
            input: n_rows as u64,
            train: (n_rows as u64).saturating_sub(skipped),
            skipped,
            imputed_values: filled as u64,
            ..Default::default()
        },
        metrics: Some(StoredMetrics {
            dataset: "backtest".into(),
            rows: rows_tested as u64,
            values: metrics,
        }),
        ..super::train::base_manifest(&req, &opts, started)
    };
    store.save(manifest, files, req.create_only)
}

/// Linear interpolation of missing values between observations (a missing value before the
/// first or after the last observation takes that observation).
fn interpolate(y: &[Option<f64>]) -> Vec<f64> {
    let known: Vec<(usize, f64)> = y
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    let (Some(&first), Some(&last)) = (known.first(), known.last()) else {
        return vec![0.0; y.len()];
    };
    let mut k = 0;
    (0..y.len())
        .map(|i| {
            if i <= first.0 {
                return first.1;
            }
            if i >= last.0 {
                return last.1;
            }
            while known[k + 1].0 <= i {
                k += 1;
            }
            let ((i0, v0), (i1, v1)) = (known[k], known[k + 1]);
            v0 + (v1 - v0) * (i - i0) as f64 / (i1 - i0) as f64
        })
        .collect()
}

/// Restores a forecast model from its manifest and `forecast.parquet`.
pub fn load(m: &Manifest, batch: &RecordBatch) -> Result<ForecastModel> {
    let opt = |k: &str| -> Result<&String> {
        m.options.get(k).ok_or_else(|| {
            datafusion::common::plan_datafusion_err!(
                "model store: forecast model '{}' has no option {k}",
                m.name
            )
        })
    };
    let period = Period::parse(opt("period")?).ok_or_else(|| {
        datafusion::common::plan_datafusion_err!(
            "model store: forecast model '{}' has a bad period",
            m.name
        )
    })?;
    let anchor_us: i64 = opt("anchor_us")?.parse().map_err(|_| {
        datafusion::common::plan_datafusion_err!(
            "model store: forecast model '{}' has a bad anchor",
            m.name
        )
    })?;
    let anchor = from_micros(anchor_us).ok_or_else(|| {
        datafusion::common::plan_datafusion_err!(
            "model store: forecast model '{}' has a bad anchor",
            m.name
        )
    })?;
    let time_type = super::forecast_model::parse_type(opt("time_type")?)?;
    let series_type = match m.options.get("series_type") {
        Some(t) => Some(super::forecast_model::parse_type(t)?),
        None => None,
    };
    Ok(ForecastModel {
        series: ForecastModel::series_from_batch(batch)?,
        period,
        anchor,
        time_type,
        series_type,
        horizon: opt("horizon")?
            .parse()
            .ok()
            .filter(|h| (1..=10_000).contains(h))
            .ok_or_else(|| {
                datafusion::common::plan_datafusion_err!(
                    "model store: forecast model '{}' has a bad horizon",
                    m.name
                )
            })?,
        level: opt("level")?
            .parse()
            .ok()
            .filter(|l: &f64| *l > 0.0 && *l < 1.0)
            .ok_or_else(|| {
                datafusion::common::plan_datafusion_err!(
                    "model store: forecast model '{}' has a bad level",
                    m.name
                )
            })?,
    })
}
