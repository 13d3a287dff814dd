//! Time-series forecasting for demand: one model per series, fitted from its history.
//!
//! The algorithms follow statsforecast (Nixtla), which the tests use as the reference:
//! [`ets`] (exponential smoothing state-space models with AICc selection, as `AutoETS`),
//! [`theta`] (the standard Theta method), and in [`simple`] naive, seasonal naive and the
//! intermittent-demand methods (Croston, SBA, TSB). [`fit_series`] picks and fits the method a
//! series gets; [`SeriesModel::forecast`] gives point forecasts and prediction intervals.
//!
//! augurs-ets (a Rust port of AutoETS) was evaluated first: its 0.10 release leaves seasonal
//! models `unimplemented!` and several interval cases `todo!`, so it would panic on the weekly
//! seasonality that shop demand has; the ETS here is our own port of statsforecast's.

pub mod decompose;
pub mod ets;
pub mod nelder_mead;
pub mod simple;
pub mod theta;

/// The forecasting method asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// Automatic: an intermittent series (see [`is_intermittent`]) gets SBA, the rest AutoETS.
    Auto,
    /// AutoETS; with a model (`AAdN`, ...) only that one.
    Ets(Option<ets::Spec>),
    /// Standard Theta.
    Theta,
    /// Last value.
    Naive,
    /// Last season.
    SeasonalNaive,
    /// Croston's method.
    Croston,
    /// Croston with the Syntetos–Boylan correction.
    Sba,
    /// Teunter–Syntetos–Babai with the smoothing parameters of demand size and probability.
    Tsb {
        /// Size smoothing.
        alpha_d: f64,
        /// Probability smoothing.
        alpha_p: f64,
    },
}

/// The share of zero periods above which `auto` treats a series as intermittent: an average
/// inter-demand interval (ADI) above 1.32 periods, Syntetos, Boylan & Croston's (2005) cut-off,
/// is more than 24.24 % zero periods.
pub const INTERMITTENT_ZERO_SHARE: f64 = 1.0 - 1.0 / 1.32;

/// Whether a series is intermittent: more than [`INTERMITTENT_ZERO_SHARE`] of its periods are
/// zero.
pub fn is_intermittent(y: &[f64]) -> bool {
    let zeros = y.iter().filter(|v| **v == 0.0).count();
    !y.is_empty() && zeros as f64 / y.len() as f64 > INTERMITTENT_ZERO_SHARE
}

/// Point forecasts and, where the method has them, (lower, upper) prediction bounds.
pub type Forecasts = (Vec<f64>, Option<(Vec<f64>, Vec<f64>)>);

/// A fitted model of one series.
#[derive(Debug, Clone, PartialEq)]
pub enum SeriesModel {
    /// An ETS model.
    Ets(ets::Fit),
    /// A Theta model.
    Theta(theta::Theta),
    /// Naive: the last value and the one-step σ.
    Naive {
        /// Last value.
        last: f64,
        /// One-step standard deviation.
        sigma: f64,
    },
    /// Seasonal naive: the last season and σ.
    SeasonalNaive {
        /// The last m values.
        last: Vec<f64>,
        /// One-season standard deviation.
        sigma: f64,
    },
    /// A constant demand rate (Croston, SBA, TSB), without intervals.
    Rate {
        /// `croston`, `sba` or `tsb`.
        method: &'static str,
        /// Per-period forecast.
        rate: f64,
    },
}

/// A fitted model and how it was chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// The model.
    pub model: SeriesModel,
    /// Whether a simpler method replaced the one asked for (too short a series for a season,
    /// or for the model's parameters).
    pub fell_back: bool,
}

impl SeriesModel {
    /// The method's name as `forecast()` and `ml_evaluate` report it, e.g. `ets(MAdM)`.
    pub fn name(&self) -> String {
        match self {
            SeriesModel::Ets(f) => format!("ets({})", f.spec.name()),
            SeriesModel::Theta(_) => "theta".into(),
            SeriesModel::Naive { .. } => "naive".into(),
            SeriesModel::SeasonalNaive { .. } => "seasonal_naive".into(),
            SeriesModel::Rate { method, .. } => (*method).into(),
        }
    }

    /// Point forecasts for steps 1..h only (no interval arithmetic).
    pub fn mean(&self, h: usize) -> Vec<f64> {
        match self {
            SeriesModel::Ets(f) => ets::point_forecast(&f.last_state, f.spec, f.m, f.params.phi, h),
            _ => self.forecast(h, 0.95).0,
        }
    }

    /// Point forecasts for steps 1..h with (lower, upper) prediction bounds at `level` (in
    /// (0, 1)); the Croston family has no intervals (None).
    pub fn forecast(&self, h: usize, level: f64) -> Forecasts {
        let z = normal_quantile(0.5 + level / 2.0);
        match self {
            SeriesModel::Ets(f) => {
                let (mean, lo, hi) = ets::forecast(f, h, level);
                (mean, Some((lo, hi)))
            }
            SeriesModel::Theta(t) => {
                let (mean, lo, hi) = t.forecast(h, level);
                (mean, Some((lo, hi)))
            }
            SeriesModel::Naive { last, sigma } => {
                let mean = vec![*last; h];
                let sd: Vec<f64> = (1..=h).map(|k| sigma * (k as f64).sqrt()).collect();
                let lo = sd.iter().map(|s| last - z * s).collect();
                let hi = sd.iter().map(|s| last + z * s).collect();
                (mean, Some((lo, hi)))
            }
            SeriesModel::SeasonalNaive { last, sigma } => {
                let m = last.len().max(1);
                let mean: Vec<f64> = (0..h).map(|k| last[k % m]).collect();
                let sd: Vec<f64> = (0..h)
                    .map(|k| sigma * ((k / m) as f64 + 1.0).sqrt())
                    .collect();
                let lo = mean.iter().zip(&sd).map(|(f, s)| f - z * s).collect();
                let hi = mean.iter().zip(&sd).map(|(f, s)| f + z * s).collect();
                (mean, Some((lo, hi)))
            }
            SeriesModel::Rate { rate, .. } => (vec![*rate; h], None),
        }
    }
}

/// The longest season ETS fits (R's `ets` has the same limit).
pub const MAX_ETS_SEASON: usize = 24;

/// Fits `method` to a series `y` (regular periods, no missing values) with season length `m`
/// (1: none). Seasonal methods need two full seasons: a shorter series gets the non-seasonal
/// method (ETS without season, naive for seasonal naive) and `fell_back`; so does a series
/// too short for any ETS model (naive), and ETS with a season longer than
/// [`MAX_ETS_SEASON`] (non-seasonal ETS; Theta and seasonal naive take any season).
pub fn fit_series(y: &[f64], m: usize, method: &Method) -> Fitted {
    // ETS takes seasons of up to MAX_ETS_SEASON periods (as R's ets): a longer one has as
    // many states to fit as periods, and its interval variance grows with the cube of m
    let seasonal_ok = m > 1 && y.len() >= 2 * m && m <= MAX_ETS_SEASON;
    let m_eff = if seasonal_ok { m } else { 1 };
    let asked_season = m > 1;
    let naive = |fell_back: bool| {
        let (last, sigma) = simple::naive(y);
        Fitted {
            model: SeriesModel::Naive { last, sigma },
            fell_back,
        }
    };
    match method {
        Method::Auto if is_intermittent(y) => Fitted {
            model: SeriesModel::Rate {
                method: "sba",
                rate: simple::croston(y, true),
            },
            fell_back: false,
        },
        Method::Auto | Method::Ets(None) => match ets::auto(y, m_eff, &[]) {
            Some(f) => Fitted {
                model: SeriesModel::Ets(f),
                fell_back: asked_season && !seasonal_ok,
            },
            None => naive(true),
        },
        Method::Ets(Some(spec)) => {
            let mut spec = *spec;
            let mut fell_back = false;
            if spec.season != ets::Comp::N && !seasonal_ok {
                spec.season = ets::Comp::N;
                fell_back = true;
            }
            let positive = y.iter().all(|v| *v > 0.0);
            if !positive && (spec.error == ets::Comp::M || spec.season == ets::Comp::M) {
                // multiplicative components need positive data: the additive counterpart
                spec.error = ets::Comp::A;
                if spec.season == ets::Comp::M {
                    spec.season = ets::Comp::A;
                }
                fell_back = true;
            }
            match ets::auto(y, m_eff, &[spec]) {
                Some(f) if f.spec == spec => Fitted {
                    model: SeriesModel::Ets(f),
                    fell_back,
                },
                Some(f) => Fitted {
                    // a constant series: ANN
                    model: SeriesModel::Ets(f),
                    fell_back,
                },
                None => naive(true),
            }
        }
        Method::Theta => match theta::fit(y, m) {
            Some(t) => Fitted {
                model: SeriesModel::Theta(t),
                fell_back: asked_season && y.len() < 2 * m,
            },
            None => naive(true),
        },
        Method::Naive => naive(false),
        Method::SeasonalNaive if m > 1 && y.len() >= m => {
            let (last, sigma) = simple::seasonal_naive(y, m);
            Fitted {
                model: SeriesModel::SeasonalNaive { last, sigma },
                fell_back: false,
            }
        }
        Method::SeasonalNaive => naive(m > 1),
        Method::Croston => Fitted {
            model: SeriesModel::Rate {
                method: "croston",
                rate: simple::croston(y, false),
            },
            fell_back: false,
        },
        Method::Sba => Fitted {
            model: SeriesModel::Rate {
                method: "sba",
                rate: simple::croston(y, true),
            },
            fell_back: false,
        },
        Method::Tsb { alpha_d, alpha_p } => Fitted {
            model: SeriesModel::Rate {
                method: "tsb",
                rate: simple::tsb(y, *alpha_d, *alpha_p),
            },
            fell_back: false,
        },
    }
}

/// The standard normal quantile function (Acklam's rational approximation refined by one
/// Halley step on `erfc`, accurate to about 1e-15).
pub fn normal_quantile(p: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) {
        return if p == 0.0 {
            f64::NEG_INFINITY
        } else if p == 1.0 {
            f64::INFINITY
        } else {
            f64::NAN
        };
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let plow = 0.02425;
    let x = if p < plow {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - plow {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // one Halley step: e = Φ(x) − p
    let e = 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles_match_scipy() {
        // scipy.stats.norm.ppf
        assert!((normal_quantile(0.9) - 1.281_551_565_544_600_4).abs() < 1e-14);
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-14);
        assert!((normal_quantile(0.95) - 1.644_853_626_951_472_2).abs() < 1e-14);
        assert!((normal_quantile(0.001) + 3.090_232_306_167_813_5).abs() < 1e-13);
    }

    #[test]
    fn intermittent_threshold() {
        assert!(is_intermittent(&[0.0, 0.0, 1.0, 0.0]));
        assert!(!is_intermittent(&[1.0, 2.0, 0.0, 3.0, 4.0]));
    }
}
