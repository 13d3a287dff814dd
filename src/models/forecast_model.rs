//! A trained `forecast` model: one fitted [`SeriesModel`] per series, the regular period grid
//! the series live on, and their Parquet form (`forecast.parquet`, one row per series).

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Float64Builder, Int64Array, ListArray,
    ListBuilder, RecordBatch, StringArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use datafusion::common::{exec_datafusion_err, exec_err, plan_err, Result};

use crate::forecast::ets::{self, Spec};
use crate::forecast::theta::Theta;
use crate::forecast::SeriesModel;

/// The period of a regular series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Calendar days.
    Day,
    /// Weeks starting on the weekday of the first observation.
    Week,
    /// Calendar months.
    Month,
    /// Calendar quarters.
    Quarter,
}

impl Period {
    /// Parses `day`, `week`, `month`, `quarter`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" | "daily" => Some(Period::Day),
            "week" | "weekly" => Some(Period::Week),
            "month" | "monthly" => Some(Period::Month),
            "quarter" | "quarterly" => Some(Period::Quarter),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Quarter => "quarter",
        }
    }

    /// The usual season length: 7 days, 52 weeks, 12 months, 4 quarters.
    pub fn default_season(self) -> usize {
        match self {
            Period::Day => 7,
            Period::Week => 52,
            Period::Month => 12,
            Period::Quarter => 4,
        }
    }

    /// The period index of a time (`anchor`: the first observation, whose weekday starts the
    /// weeks).
    pub fn index(self, t: NaiveDateTime, anchor: NaiveDateTime) -> i64 {
        let days = |x: NaiveDateTime| x.date().num_days_from_ce() as i64;
        match self {
            Period::Day => days(t),
            Period::Week => (days(t) - days(anchor)).div_euclid(7),
            Period::Month => t.year() as i64 * 12 + t.month0() as i64,
            Period::Quarter => t.year() as i64 * 4 + (t.month0() / 3) as i64,
        }
    }

    /// The start of period `idx`.
    pub fn start(self, idx: i64, anchor: NaiveDateTime) -> Option<NaiveDateTime> {
        let date = match self {
            Period::Day => NaiveDate::from_num_days_from_ce_opt(i32::try_from(idx).ok()?)?,
            Period::Week => anchor
                .date()
                .checked_add_signed(chrono::Duration::days(idx.checked_mul(7)?))?,
            Period::Month | Period::Quarter => {
                let months = if self == Period::Month { idx } else { idx * 3 };
                let year = i32::try_from(months.div_euclid(12)).ok()?;
                let month = u32::try_from(months.rem_euclid(12)).ok()? + 1;
                NaiveDate::from_ymd_opt(year, month, 1)?
            }
        };
        date.and_hms_opt(0, 0, 0)
    }
}

/// Microseconds since the epoch as a time.
pub fn from_micros(us: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_micros(us).map(|d| d.naive_utc())
}

/// One series' model and where its history ends.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesEntry {
    /// The series key as text (NULL-free).
    pub key: String,
    /// Fitted model.
    pub model: SeriesModel,
    /// Period index of the last observation (forecasts start after it).
    pub last_period: i64,
    /// History length used.
    pub n: usize,
    /// Whether a simpler method replaced the one asked for.
    pub fell_back: bool,
    /// Whether the series was intermittent.
    pub intermittent: bool,
}

/// A trained forecast model.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastModel {
    /// Series, in key order.
    pub series: Vec<SeriesEntry>,
    /// The grid.
    pub period: Period,
    /// First observation (week anchor).
    pub anchor: NaiveDateTime,
    /// SQL type of the time column.
    pub time_type: DataType,
    /// SQL type of the series column (None: a single series).
    pub series_type: Option<DataType>,
    /// Default horizon.
    pub horizon: usize,
    /// Default interval level.
    pub level: f64,
}

fn list(values: &[Vec<f64>]) -> ListArray {
    let mut b = ListBuilder::new(Float64Builder::new());
    for v in values {
        b.values().append_slice(v);
        b.append(true);
    }
    b.finish()
}

/// The method-specific numbers of a model: (state, extra).
fn layout(m: &SeriesModel) -> (Vec<f64>, Vec<f64>) {
    match m {
        SeriesModel::Ets(f) => (f.last_state.clone(), vec![]),
        SeriesModel::Theta(t) => (
            t.season.clone(),
            vec![
                t.theta,
                t.initial,
                t.a,
                t.b,
                t.level,
                t.n as f64,
                f64::from(u8::from(t.multiplicative)),
                t.sigma,
            ],
        ),
        SeriesModel::Naive { last, sigma } => (vec![*last], vec![*sigma]),
        SeriesModel::SeasonalNaive { last, sigma } => (last.clone(), vec![*sigma]),
        SeriesModel::Rate { rate, .. } => (vec![], vec![*rate]),
    }
}

impl ForecastModel {
    /// `forecast.parquet`: series, method, spec (ETS model), season_length, n_obs,
    /// last_period, fell_back, intermittent, alpha, beta, gamma, phi, sigma2, aicc, and the
    /// lists `state` (ETS: the last state [l, b?, s_0..s_{m-1}]; seasonal naive: the last
    /// season; naive: the last value; Theta: the last season of its adjustment) and `extra`
    /// (Theta: θ, ℓ0, A, B, level, n, multiplicative, σ; naive methods: σ; Croston family:
    /// the rate).
    pub fn to_batch(&self) -> Result<RecordBatch> {
        let s = &self.series;
        let opt = |f: &dyn Fn(&SeriesModel) -> Option<f64>| -> Float64Array {
            s.iter().map(|e| f(&e.model)).collect()
        };
        let ets_of = |m: &SeriesModel| match m {
            SeriesModel::Ets(f) => Some(f.clone()),
            _ => None,
        };
        let (states, extras): (Vec<Vec<f64>>, Vec<Vec<f64>>) =
            s.iter().map(|e| layout(&e.model)).unzip();
        let schema = Schema::new(vec![
            Field::new("series", DataType::Utf8, false),
            Field::new("method", DataType::Utf8, false),
            Field::new("spec", DataType::Utf8, true),
            Field::new("season_length", DataType::Int64, false),
            Field::new("n_obs", DataType::Int64, false),
            Field::new("last_period", DataType::Int64, false),
            Field::new("fell_back", DataType::Boolean, false),
            Field::new("intermittent", DataType::Boolean, false),
            Field::new("alpha", DataType::Float64, true),
            Field::new("beta", DataType::Float64, true),
            Field::new("gamma", DataType::Float64, true),
            Field::new("phi", DataType::Float64, true),
            Field::new("sigma2", DataType::Float64, true),
            Field::new("aicc", DataType::Float64, true),
            Field::new(
                "state",
                DataType::List(Arc::new(Field::new("item", DataType::Float64, true))),
                false,
            ),
            Field::new(
                "extra",
                DataType::List(Arc::new(Field::new("item", DataType::Float64, true))),
                false,
            ),
        ]);
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                s.iter().map(|e| e.key.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                s.iter().map(|e| method_tag(&e.model)),
            )),
            Arc::new(
                s.iter()
                    .map(|e| ets_of(&e.model).map(|f| f.spec.name()))
                    .collect::<StringArray>(),
            ),
            Arc::new(Int64Array::from_iter_values(s.iter().map(
                |e| match &e.model {
                    SeriesModel::Ets(f) => f.m as i64,
                    SeriesModel::SeasonalNaive { last, .. } => last.len() as i64,
                    SeriesModel::Theta(t) => t.season.len().max(1) as i64,
                    _ => 1,
                },
            ))),
            Arc::new(Int64Array::from_iter_values(s.iter().map(|e| e.n as i64))),
            Arc::new(Int64Array::from_iter_values(
                s.iter().map(|e| e.last_period),
            )),
            Arc::new(BooleanArray::from(
                s.iter().map(|e| e.fell_back).collect::<Vec<_>>(),
            )),
            Arc::new(BooleanArray::from(
                s.iter().map(|e| e.intermittent).collect::<Vec<_>>(),
            )),
            Arc::new(opt(&|m| match m {
                SeriesModel::Ets(f) => Some(f.params.alpha),
                SeriesModel::Theta(t) => Some(t.alpha),
                _ => None,
            })),
            Arc::new(opt(&|m| ets_of(m).map(|f| f.params.beta))),
            Arc::new(opt(&|m| ets_of(m).map(|f| f.params.gamma))),
            Arc::new(opt(&|m| ets_of(m).map(|f| f.params.phi))),
            Arc::new(opt(&|m| match m {
                SeriesModel::Ets(f) => Some(f.sigma2),
                SeriesModel::Naive { sigma, .. } | SeriesModel::SeasonalNaive { sigma, .. } => {
                    Some(sigma * sigma)
                }
                SeriesModel::Theta(t) => Some(t.sigma * t.sigma),
                _ => None,
            })),
            Arc::new(opt(&|m| ets_of(m).map(|f| f.aicc))),
            Arc::new(list(&states)),
            Arc::new(list(&extras)),
        ];
        Ok(RecordBatch::try_new(Arc::new(schema), cols)?)
    }

    /// Restores the series written by [`ForecastModel::to_batch`].
    pub fn series_from_batch(batch: &RecordBatch) -> Result<Vec<SeriesEntry>> {
        let col = |name: &str| -> Result<ArrayRef> {
            batch.column_by_name(name).cloned().ok_or_else(|| {
                exec_datafusion_err!("model store: forecast.parquet has no column '{name}'")
            })
        };
        let text = |name: &str| -> Result<Vec<Option<String>>> {
            let c = cast(&col(name)?, &DataType::Utf8)?;
            Ok(c.as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect())
        };
        let int = |name: &str| -> Result<Vec<i64>> {
            Ok(cast(&col(name)?, &DataType::Int64)?
                .as_primitive::<Int64Type>()
                .values()
                .to_vec())
        };
        let num = |name: &str| -> Result<Vec<Option<f64>>> {
            let c = cast(&col(name)?, &DataType::Float64)?;
            Ok(c.as_primitive::<Float64Type>().iter().collect())
        };
        let lists = |name: &str| -> Result<Vec<Vec<f64>>> {
            let c = col(name)?;
            let l = c.as_list_opt::<i32>().ok_or_else(|| {
                exec_datafusion_err!("model store: forecast.parquet column '{name}' is not a list")
            })?;
            (0..l.len())
                .map(|i| {
                    let v = cast(&l.value(i), &DataType::Float64)?;
                    Ok(v.as_primitive::<Float64Type>().values().to_vec())
                })
                .collect()
        };
        let bools = |name: &str| -> Result<Vec<bool>> {
            let c = cast(&col(name)?, &DataType::Boolean)?;
            Ok(c.as_boolean().iter().map(|v| v.unwrap_or(false)).collect())
        };
        let (keys, methods, specs) = (text("series")?, text("method")?, text("spec")?);
        let (m, n_obs, last) = (int("season_length")?, int("n_obs")?, int("last_period")?);
        let (alpha, beta, gamma, phi) = (num("alpha")?, num("beta")?, num("gamma")?, num("phi")?);
        let (sigma2, aicc) = (num("sigma2")?, num("aicc")?);
        let (state, extra) = (lists("state")?, lists("extra")?);
        let (fell_back, intermittent) = (bools("fell_back")?, bools("intermittent")?);
        let bad = |i: usize, what: &str| {
            exec_datafusion_err!("model store: forecast.parquet row {i} has {what}")
        };
        let mut out = Vec::with_capacity(keys.len());
        for i in 0..keys.len() {
            let key = keys[i].clone().ok_or_else(|| bad(i, "no series key"))?;
            let method = methods[i].clone().unwrap_or_default();
            let x = &extra[i];
            let get = |k: usize| {
                x.get(k)
                    .copied()
                    .ok_or_else(|| bad(i, "a short extra list"))
            };
            let model = match method.as_str() {
                "ets" => {
                    let spec = specs[i]
                        .as_deref()
                        .and_then(Spec::parse)
                        .ok_or_else(|| bad(i, "an unknown ETS spec"))?;
                    let mm = usize::try_from(m[i]).map_err(|_| bad(i, "a bad season length"))?;
                    let width = 1
                        + usize::from(spec.trend != ets::Comp::N)
                        + if spec.season != ets::Comp::N { mm } else { 0 };
                    if state[i].len() != width || mm == 0 {
                        return Err(bad(i, "a state of the wrong length"));
                    }
                    SeriesModel::Ets(ets::Fit {
                        spec,
                        m: mm,
                        params: ets::Params {
                            alpha: alpha[i].unwrap_or(0.0),
                            beta: beta[i].unwrap_or(0.0),
                            gamma: gamma[i].unwrap_or(0.0),
                            phi: phi[i].unwrap_or(1.0),
                        },
                        init_state: vec![],
                        last_state: state[i].clone(),
                        fitted: vec![],
                        sigma2: sigma2[i].unwrap_or(f64::NAN),
                        lik: f64::NAN,
                        aic: f64::NAN,
                        aicc: aicc[i].unwrap_or(f64::NAN),
                        bic: f64::NAN,
                        n_params: 0,
                        mse: f64::NAN,
                    })
                }
                "theta" => SeriesModel::Theta(Theta {
                    alpha: alpha[i].unwrap_or(0.5),
                    theta: get(0)?,
                    initial: get(1)?,
                    a: get(2)?,
                    b: get(3)?,
                    level: get(4)?,
                    n: Some(get(5)?)
                        .filter(|n| (0.0..1e9).contains(n))
                        .ok_or_else(|| bad(i, "a bad Theta length"))?
                        as usize,
                    season: state[i].clone(),
                    multiplicative: get(6)? != 0.0,
                    sigma: get(7)?,
                }),
                "naive" => SeriesModel::Naive {
                    last: state[i]
                        .first()
                        .copied()
                        .ok_or_else(|| bad(i, "no last value"))?,
                    sigma: get(0)?,
                },
                "seasonal_naive" => {
                    if state[i].is_empty() {
                        return Err(bad(i, "an empty season"));
                    }
                    SeriesModel::SeasonalNaive {
                        last: state[i].clone(),
                        sigma: get(0)?,
                    }
                }
                "croston" | "sba" | "tsb" => SeriesModel::Rate {
                    method: match method.as_str() {
                        "croston" => "croston",
                        "sba" => "sba",
                        _ => "tsb",
                    },
                    rate: get(0)?,
                },
                other => {
                    return exec_err!("model store: forecast.parquet row {i} has method '{other}'")
                }
            };
            // period indices stay far from overflow when forecasts add to them
            if last[i].unsigned_abs() > 1 << 40 {
                return Err(bad(i, "a last period out of range"));
            }
            out.push(SeriesEntry {
                key,
                model,
                last_period: last[i],
                n: usize::try_from(n_obs[i]).unwrap_or(0),
                fell_back: fell_back[i],
                intermittent: intermittent[i],
            });
        }
        Ok(out)
    }

    /// The forecast rows of every series: series key (in the series column's type), period
    /// start (in the time column's type), forecast, lower, upper.
    pub fn forecast_batch(&self, horizon: usize, level: f64) -> Result<RecordBatch> {
        let (mut keys, mut ts, mut mean, mut lo, mut hi) = (vec![], vec![], vec![], vec![], vec![]);
        for e in &self.series {
            let (f, iv) = e.model.forecast(horizon, level);
            for (k, v) in f.iter().enumerate() {
                let start = self
                    .period
                    .start(e.last_period + 1 + k as i64, self.anchor)
                    .ok_or_else(|| {
                        exec_datafusion_err!(
                            "forecast: period {} is out of range",
                            e.last_period + 1 + k as i64
                        )
                    })?;
                keys.push(e.key.as_str());
                ts.push(start.and_utc().timestamp_micros());
                mean.push(*v);
                // a bound that cannot be computed (one observation: no spread) is NULL
                lo.push(iv.as_ref().map(|(l, _)| l[k]).filter(|v| v.is_finite()));
                hi.push(iv.as_ref().map(|(_, h)| h[k]).filter(|v| v.is_finite()));
            }
        }
        let key_type = self.series_type.clone().unwrap_or(DataType::Utf8);
        let key_col: ArrayRef = if self.series_type.is_some() {
            cast(&StringArray::from(keys), &key_type)?
        } else {
            datafusion::arrow::array::new_null_array(&DataType::Utf8, keys.len())
        };
        let ts_col = cast(
            &datafusion::arrow::array::TimestampMicrosecondArray::from(ts),
            &self.time_type,
        )?;
        let schema = forecast_schema(&key_type, &self.time_type);
        Ok(RecordBatch::try_new(
            schema,
            vec![
                key_col,
                ts_col,
                Arc::new(Float64Array::from(mean)),
                Arc::new(Float64Array::from(lo)),
                Arc::new(Float64Array::from(hi)),
            ],
        )?)
    }
}

/// The schema of `forecast()`.
pub fn forecast_schema(key: &DataType, time: &DataType) -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("series", key.clone(), true),
        Field::new("ts", time.clone(), false),
        Field::new("forecast", DataType::Float64, false),
        Field::new("lower", DataType::Float64, true),
        Field::new("upper", DataType::Float64, true),
    ]))
}

/// The `method` column's value of a model.
fn method_tag(m: &SeriesModel) -> &'static str {
    match m {
        SeriesModel::Ets(_) => "ets",
        SeriesModel::Theta(_) => "theta",
        SeriesModel::Naive { .. } => "naive",
        SeriesModel::SeasonalNaive { .. } => "seasonal_naive",
        SeriesModel::Rate { method, .. } => method,
    }
}

/// Parses a stored Arrow type name (`Date32`, `Timestamp(µs, "UTC")`, ...).
pub fn parse_type(s: &str) -> Result<DataType> {
    s.parse::<DataType>()
        .or_else(|_| plan_err!("model store: unknown column type '{s}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_grid_round_trips() {
        let anchor = NaiveDate::from_ymd_opt(2024, 1, 3)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        for p in [Period::Day, Period::Week, Period::Month, Period::Quarter] {
            let i = p.index(anchor, anchor);
            let s = p.start(i + 5, anchor).unwrap();
            assert_eq!(p.index(s, anchor), i + 5, "{p:?}");
        }
        let m = Period::Month
            .start(Period::Month.index(anchor, anchor) + 1, anchor)
            .unwrap();
        assert_eq!(m.date(), NaiveDate::from_ymd_opt(2024, 2, 1).unwrap());
        let w = Period::Week.start(1, anchor).unwrap();
        assert_eq!(w.date(), NaiveDate::from_ymd_opt(2024, 1, 10).unwrap());
    }
}
