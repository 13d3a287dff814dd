//! Exponential smoothing state-space models (ETS; Hyndman et al. 2008) and their automatic
//! selection by AICc, as statsforecast's `AutoETS` and R's `forecast::ets` compute them.
//!
//! A model is error (A/M) × trend (N/A, optionally damped) × season (N/A/M). The state is
//! `[l, b?, s_0 .. s_{m-1}]` with `s_0` the newest seasonal and `s_{m-1}` the one the next
//! one-step forecast uses. Parameters and initial states are fitted by maximum likelihood
//! (statsforecast's objective `n·log(SSE) (+ 2 Σ log|ŷ| for multiplicative error)`) with a
//! bounded Nelder–Mead from statsforecast's starting values; the selection tries the same
//! candidates in the same order and keeps the first smallest AICc. Prediction intervals are
//! the analytic ones of the three model classes, as statsforecast's (including its
//! simplifications: one season counter for the whole horizon, the product α·β·j of its MAA
//! variance, and the class-3 mean without damping). Multiplicative trend is not offered (as
//! statsforecast's default search).

use super::decompose::{line_fit, lstsq, seasonal_component, SeasonKind};
use super::nelder_mead::{minimize, Settings};

/// A component's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comp {
    /// Absent.
    N,
    /// Additive.
    A,
    /// Multiplicative.
    M,
}

impl Comp {
    fn letter(self) -> char {
        match self {
            Comp::N => 'N',
            Comp::A => 'A',
            Comp::M => 'M',
        }
    }
}

/// A model: error, trend (N or A), season, damping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Spec {
    /// A or M.
    pub error: Comp,
    /// N or A.
    pub trend: Comp,
    /// N, A or M.
    pub season: Comp,
    /// Damped trend.
    pub damped: bool,
}

impl Spec {
    /// Parses `ANN`, `AAdN`, `MAM`, ... (error, trend with an optional `d`, season).
    pub fn parse(s: &str) -> Option<Spec> {
        let c: Vec<char> = s.trim().to_ascii_uppercase().chars().collect();
        let comp = |ch: char| match ch {
            'N' => Some(Comp::N),
            'A' => Some(Comp::A),
            'M' => Some(Comp::M),
            _ => None,
        };
        let (error, trend, damped, season) = match c.as_slice() {
            [e, t, s] => (comp(*e)?, comp(*t)?, false, comp(*s)?),
            [e, t, 'D', s] => (comp(*e)?, comp(*t)?, true, comp(*s)?),
            _ => return None,
        };
        let spec = Spec {
            error,
            trend,
            season,
            damped,
        };
        // additive error with multiplicative season is not a model the selection knows
        // (statsforecast's restriction), nor is a multiplicative trend
        (error != Comp::N
            && trend != Comp::M
            && !(damped && trend == Comp::N)
            && !(error == Comp::A && season == Comp::M))
            .then_some(spec)
    }

    /// The name as `ETS(M,Ad,M)` writes it, without the brackets: `MAdM`.
    pub fn name(&self) -> String {
        format!(
            "{}{}{}{}",
            self.error.letter(),
            self.trend.letter(),
            if self.damped { "d" } else { "" },
            self.season.letter()
        )
    }

    /// Smoothing parameters the model has (α, β, γ, φ).
    fn n_smoothing(&self) -> usize {
        1 + usize::from(self.trend != Comp::N)
            + usize::from(self.season != Comp::N)
            + usize::from(self.damped)
    }
}

/// Smoothing parameters (absent components hold their neutral value: β = γ = 0, φ = 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Level.
    pub alpha: f64,
    /// Trend.
    pub beta: f64,
    /// Season.
    pub gamma: f64,
    /// Damping.
    pub phi: f64,
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// The model.
    pub spec: Spec,
    /// Season length (1 without a season).
    pub m: usize,
    /// Parameters.
    pub params: Params,
    /// Initial state `[l, b?, s_0..s_{m-1}]`.
    pub init_state: Vec<f64>,
    /// State after the last observation.
    pub last_state: Vec<f64>,
    /// One-step fitted values.
    pub fitted: Vec<f64>,
    /// Residual variance SSE / (n − k − 1) (of relative errors for multiplicative error).
    pub sigma2: f64,
    /// n·log(SSE) (+ 2 Σ log|ŷ|).
    pub lik: f64,
    /// AIC.
    pub aic: f64,
    /// AICc.
    pub aicc: f64,
    /// BIC.
    pub bic: f64,
    /// Parameter count k (smoothing parameters, free states, σ).
    pub n_params: usize,
    /// In-sample one-step MSE.
    pub mse: f64,
}

/// The point forecasts of steps 1..h from a state (statsforecast's `Forecast`).
pub fn point_forecast(state: &[f64], spec: Spec, m: usize, phi: f64, h: usize) -> Vec<f64> {
    let l = state[0];
    let b = if spec.trend != Comp::N { state[1] } else { 0.0 };
    let s = &state[1 + usize::from(spec.trend != Comp::N)..];
    let phi = if spec.damped { phi } else { 1.0 };
    let mut out = Vec::with_capacity(h);
    let mut phistar = phi;
    for i in 0..h {
        let mut f = match spec.trend {
            Comp::N => l,
            _ => l + phistar * b,
        };
        if spec.season != Comp::N {
            let j = (m - 1 - i % m) % m;
            match spec.season {
                Comp::A => f += s[j],
                _ => f *= s[j],
            }
        }
        out.push(f);
        if i + 1 < h {
            phistar += if (phi - 1.0).abs() < 1e-10 {
                1.0
            } else {
                phi.powi(i as i32 + 1)
            };
        }
    }
    out
}

/// What running the filter over the data gives.
struct Run {
    lik: f64,
    sse: f64,
    errors: Vec<f64>,
    forecasts: Vec<f64>,
    last: Vec<f64>,
    mse: f64,
}

/// The filter (statsforecast's `Calc` with its `Forecast` and `Update` steps): runs `state`
/// (`[l, b?, s_0..s_{m-1}]`, left as the state after the last observation) over `y`, calling
/// `step(forecast, error)` at each observation. Returns (SSE, Σ log|ŷ|), or None when a
/// forecast is undefined. The seasonals are kept in a ring during the run (no shift per step)
/// and put back in order at the end.
fn filter(
    y: &[f64],
    state: &mut [f64],
    spec: Spec,
    m: usize,
    p: Params,
    mut step: impl FnMut(f64, f64),
) -> Option<(f64, f64)> {
    let has_b = spec.trend != Comp::N;
    let soff = 1 + usize::from(has_b);
    let phi = if spec.damped { p.phi } else { 1.0 };
    let (mut l, mut b) = (state[0], if has_b { state[1] } else { 0.0 });
    let seas = &mut state[soff..];
    let seasonal = spec.season != Comp::N && !seas.is_empty();
    // the logical s_j is seas[(head + j) % m]; the one-step forecast uses s_{m-1}
    let mut head = 0usize;
    let (mut sse, mut logf) = (0.0, 0.0);
    for &yt in y {
        let phib = phi * b;
        let q = if has_b { l + phib } else { l };
        let last = if head == 0 { m - 1 } else { head - 1 };
        let s_last = if seasonal { seas[last] } else { 0.0 };
        let f = match spec.season {
            Comp::N => q,
            Comp::A => q + s_last,
            Comp::M => q * s_last,
        };
        if !f.is_finite() {
            return None;
        }
        let e = match spec.error {
            Comp::A => yt - f,
            _ => {
                let fd = if f.abs() < 1e-10 { f + 1e-10 } else { f };
                (yt - f) / fd
            }
        };
        sse += e * e;
        if spec.error == Comp::M {
            logf += if f == 0.0 {
                (f.abs() + 1e-8).ln()
            } else {
                f.abs().ln()
            };
        }
        step(f, e);
        let pv = match spec.season {
            Comp::N => yt,
            Comp::A => yt - s_last,
            Comp::M => {
                if s_last.abs() < 1e-10 {
                    1e10
                } else {
                    yt / s_last
                }
            }
        };
        let l_new = q + p.alpha * (pv - q);
        if has_b {
            let r = l_new - l;
            b = phib + (p.beta / p.alpha) * (r - phib);
        }
        l = l_new;
        if seasonal {
            let t = match spec.season {
                Comp::A => yt - q,
                _ => {
                    if q.abs() < 1e-10 {
                        1e10
                    } else {
                        yt / q
                    }
                }
            };
            seas[last] = s_last + p.gamma * (t - s_last);
            head = last;
        }
    }
    if seasonal {
        seas.rotate_left(head);
    }
    state[0] = l;
    if has_b {
        state[1] = b;
    }
    Some((sse, logf))
}

/// statsforecast's objective from the filter's sums: n·log(SSE) (+ 2 Σ log|ŷ|).
fn log_likelihood(n: usize, sse: f64, logf: f64, spec: Spec) -> f64 {
    let nf = n as f64;
    let mut lik = if sse == 0.0 {
        nf * (1e-8f64).ln()
    } else {
        nf * sse.ln()
    };
    if spec.error == Comp::M {
        lik += 2.0 * logf;
    }
    lik
}

/// Runs the filter from `init` over `y`, keeping the one-step forecasts and errors; None when
/// a forecast is undefined.
fn run(y: &[f64], init: &[f64], spec: Spec, m: usize, p: Params) -> Option<Run> {
    let n = y.len();
    let mut state = init.to_vec();
    let mut errors = Vec::with_capacity(n);
    let mut forecasts = Vec::with_capacity(n);
    let (sse, logf) = filter(y, &mut state, spec, m, p, |f, e| {
        forecasts.push(f);
        errors.push(e);
    })?;
    let mse = forecasts
        .iter()
        .zip(y)
        .map(|(f, v)| (v - f) * (v - f))
        .sum::<f64>()
        / n as f64;
    Some(Run {
        lik: log_likelihood(n, sse, logf, spec),
        sse,
        errors,
        forecasts,
        last: state,
        mse,
    })
}

/// The optimiser's objective: the filter without keeping anything per step, over `state` (the
/// initial state, overwritten), a buffer the caller reuses across evaluations.
fn likelihood(y: &[f64], state: &mut [f64], spec: Spec, m: usize, p: Params) -> Option<f64> {
    let (sse, logf) = filter(y, state, spec, m, p, |_, _| {})?;
    Some(log_likelihood(y.len(), sse, logf, spec))
}

/// The full initial state from the free ones: the last seasonal makes additive seasonals sum to
/// 0 and multiplicative ones to m.
fn full_state(free: &[f64], spec: Spec, m: usize) -> Vec<f64> {
    let mut st = Vec::with_capacity(free.len() + 1);
    full_state_into(free, spec, m, &mut st);
    st
}

/// `full_state` into a reused buffer.
fn full_state_into(free: &[f64], spec: Spec, m: usize, st: &mut Vec<f64>) {
    st.clear();
    st.extend_from_slice(free);
    if spec.season != Comp::N {
        let soff = 1 + usize::from(spec.trend != Comp::N);
        let sum: f64 = st[soff..].iter().sum();
        let total = if spec.season == Comp::M {
            m as f64
        } else {
            0.0
        };
        st.push(total - sum);
    }
}

/// A fit from given parameters and initial state (all m seasonals), with its statistics.
pub fn fit_fixed(y: &[f64], spec: Spec, m: usize, p: Params, init: &[f64]) -> Option<Fit> {
    let m = if spec.season == Comp::N { 1 } else { m };
    let p = pinned(spec, p);
    let r = run(y, init, spec, m, p)?;
    let k = spec.n_smoothing()
        + 1
        + usize::from(spec.trend != Comp::N)
        + if spec.season != Comp::N { m - 1 } else { 0 }
        + 1;
    Some(finish(y, spec, m, p, init.to_vec(), r, k))
}

fn pinned(spec: Spec, mut p: Params) -> Params {
    if !spec.damped {
        p.phi = 1.0;
    }
    if spec.trend == Comp::N {
        p.beta = 0.0;
    }
    if spec.season == Comp::N {
        p.gamma = 0.0;
    }
    p
}

fn finish(y: &[f64], spec: Spec, m: usize, p: Params, init: Vec<f64>, r: Run, k: usize) -> Fit {
    let n = y.len() as f64;
    let kf = k as f64;
    let aic = r.lik + 2.0 * kf;
    let denom = n - kf - 1.0;
    let aicc = if denom == 0.0 {
        f64::INFINITY
    } else {
        aic + 2.0 * kf * (kf + 1.0) / denom
    };
    let fitted = y
        .iter()
        .zip(&r.errors)
        .map(|(v, e)| match spec.error {
            Comp::A => v - e,
            _ => v / (1.0 + e),
        })
        .collect();
    let _ = &r.forecasts;
    Fit {
        spec,
        m,
        params: p,
        init_state: init,
        last_state: r.last,
        fitted,
        sigma2: r.sse / denom,
        lik: r.lik,
        aic,
        aicc,
        bic: r.lik + n.ln() * kf,
        n_params: k,
        mse: r.mse,
    }
}

/// Box bounds of the smoothing parameters, shared (and narrowed) across the candidates of one
/// selection as statsforecast does.
#[derive(Debug, Clone)]
pub struct Bounds {
    /// Lower bounds of α, β, γ, φ.
    pub lower: [f64; 4],
    /// Upper bounds of α, β, γ, φ.
    pub upper: [f64; 4],
}

impl Default for Bounds {
    fn default() -> Self {
        Self {
            lower: [1e-4, 1e-4, 1e-4, 0.8],
            upper: [0.9999, 0.9999, 0.9999, 0.98],
        }
    }
}

/// Starting smoothing parameters (statsforecast's `initparam`), narrowing `bounds`.
fn initial_params(spec: Spec, m: usize, b: &mut Bounds) -> Params {
    let mm = if spec.season == Comp::N {
        1.0
    } else {
        m as f64
    };
    let mut alpha = b.lower[0] + 0.2 * (b.upper[0] - b.lower[0]) / mm;
    if !(0.0..=1.0).contains(&alpha) {
        alpha = b.lower[0] + 2e-3;
    }
    let mut p = Params {
        alpha,
        beta: 0.0,
        gamma: 0.0,
        phi: 1.0,
    };
    if spec.trend != Comp::N {
        b.upper[1] = b.upper[1].min(alpha);
        p.beta = b.lower[1] + 0.1 * (b.upper[1] - b.lower[1]);
        if p.beta < 0.0 || p.beta > alpha {
            p.beta = alpha - 1e-3;
        }
    }
    if spec.season != Comp::N {
        b.upper[2] = b.upper[2].min(1.0 - alpha);
        p.gamma = b.lower[2] + 0.05 * (b.upper[2] - b.lower[2]);
        if p.gamma < 0.0 || p.gamma > 1.0 - alpha {
            p.gamma = 1.0 - alpha - 1e-3;
        }
    }
    if spec.damped {
        p.phi = b.lower[3] + 0.99 * (b.upper[3] - b.lower[3]);
        if !(0.0..=1.0).contains(&p.phi) {
            p.phi = b.upper[3] - 1e-3;
        }
    }
    p
}

/// Starting states `[l0, b0?, s_0..s_{m-2}]` (statsforecast's `initstate`); None when the
/// series is too short.
pub fn initial_state(y: &[f64], spec: Spec, m: usize) -> Option<Vec<f64>> {
    let n = y.len();
    let (init_seas, y_sa, m_used) = if spec.season != Comp::N {
        if n < 4 {
            return None;
        }
        let kind = if spec.season == Comp::M {
            SeasonKind::Multiplicative
        } else {
            SeasonKind::Additive
        };
        let seasonal: Vec<f64> = if n < 3 * m {
            // a Fourier regression (one harmonic) instead of a decomposition
            let w = 2.0 * std::f64::consts::PI / m as f64;
            let rows: Vec<Vec<f64>> = (1..=n)
                .map(|t| {
                    let t = t as f64;
                    let mut r = vec![1.0, t, (w * t).sin(), (w * t).cos()];
                    if m == 2 {
                        r.remove(2);
                    }
                    r
                })
                .collect();
            let c = lstsq(&rows, y)?;
            (1..=n)
                .map(|t| {
                    let tr = c[0] + c[1] * t as f64;
                    match kind {
                        SeasonKind::Additive => y[t - 1] - tr,
                        SeasonKind::Multiplicative => y[t - 1] / tr,
                    }
                })
                .collect()
        } else {
            seasonal_component(y, m, kind)
        };
        let mut init: Vec<f64> = (1..m).rev().map(|i| seasonal[i]).collect();
        let y_sa: Vec<f64> = match kind {
            SeasonKind::Additive => y.iter().zip(&seasonal).map(|(v, s)| v - s).collect(),
            SeasonKind::Multiplicative => {
                for v in init.iter_mut() {
                    *v = v.max(0.01);
                }
                let sum: f64 = init.iter().sum();
                if sum > m as f64 {
                    let d: f64 = init.iter().map(|v| v + 0.01).sum();
                    for v in init.iter_mut() {
                        *v /= d;
                    }
                }
                y.iter()
                    .zip(&seasonal)
                    .map(|(v, s)| v / s.max(0.01))
                    .collect()
            }
        };
        (init, y_sa, m)
    } else {
        (vec![], y.to_vec(), 1)
    };
    let maxn = (10usize.max(2 * m_used)).min(n);
    let head = &y_sa[..maxn];
    let mut out = match spec.trend {
        Comp::N => vec![head.iter().sum::<f64>() / maxn as f64],
        _ => {
            let (mut l, mut b) = line_fit(head);
            if (l + b).abs() < 1e-8 {
                l *= 1.0 + 1e-3;
                b *= 1.0 - 1e-3;
            }
            vec![l, b]
        }
    };
    out.extend(init_seas);
    Some(out)
}

/// What an optimisation started from and reached, for tests against statsforecast.
#[derive(Debug, Clone)]
pub struct Trace {
    /// Start vector (smoothing parameters being fitted, then free states).
    pub x0: Vec<f64>,
    /// Objective at the optimum.
    pub objective: f64,
    /// Nelder–Mead iterations.
    pub iterations: usize,
}

/// Fits one model by maximum likelihood; `fixed_alpha` pins α (the constant-series case).
pub fn fit_spec(
    y: &[f64],
    spec: Spec,
    m: usize,
    bounds: &mut Bounds,
    fixed_alpha: Option<f64>,
) -> Option<(Fit, Trace)> {
    let m = if spec.season == Comp::N { 1 } else { m };
    let start = initial_params(spec, m, bounds);
    let states = initial_state(y, spec, m)?;
    // the vector: the smoothing parameters being fitted, then the free states
    let mut x0 = vec![];
    let (mut lo, mut hi) = (vec![], vec![]);
    let fit_alpha = fixed_alpha.is_none();
    if fit_alpha {
        x0.push(start.alpha);
        lo.push(bounds.lower[0]);
        hi.push(bounds.upper[0]);
    }
    if spec.trend != Comp::N {
        x0.push(start.beta);
        lo.push(bounds.lower[1]);
        hi.push(bounds.upper[1]);
    }
    if spec.season != Comp::N {
        x0.push(start.gamma);
        lo.push(bounds.lower[2]);
        hi.push(bounds.upper[2]);
    }
    if spec.damped {
        x0.push(start.phi);
        lo.push(bounds.lower[3]);
        hi.push(bounds.upper[3]);
    }
    let np = x0.len();
    x0.extend(&states);
    lo.extend(std::iter::repeat_n(f64::NEG_INFINITY, states.len()));
    hi.extend(std::iter::repeat_n(f64::INFINITY, states.len()));
    let unpack = |x: &[f64]| -> Params {
        let mut i = 0;
        let mut take = || {
            let v = x[i];
            i += 1;
            v
        };
        let alpha = match fixed_alpha {
            Some(a) => a,
            None => take(),
        };
        let beta = if spec.trend != Comp::N { take() } else { 0.0 };
        let gamma = if spec.season != Comp::N { take() } else { 0.0 };
        let phi = if spec.damped { take() } else { 1.0 };
        Params {
            alpha,
            beta,
            gamma,
            phi,
        }
    };
    // one buffer for the initial state of every evaluation
    let mut init = Vec::with_capacity(states.len() + 1);
    let mut objective = |x: &[f64]| -> f64 {
        let p = unpack(x);
        full_state_into(&x[np..], spec, m, &mut init);
        if spec.season == Comp::M {
            let soff = 1 + usize::from(spec.trend != Comp::N);
            if init[soff..].iter().any(|s| *s < 0.0) {
                return f64::INFINITY;
            }
        }
        match likelihood(y, &mut init, spec, m, p) {
            Some(lik) if !lik.is_nan() => lik.max(-1e10),
            _ => f64::NEG_INFINITY,
        }
    };
    let best = minimize(&mut objective, &x0, &lo, &hi, Settings::default());
    let p = unpack(&best.x);
    let init = full_state(&best.x[np..], spec, m);
    let r = run(y, &init, spec, m, p)?;
    let k = spec.n_smoothing() + states.len() + 1;
    let trace = Trace {
        x0,
        objective: best.f,
        iterations: best.iterations,
    };
    let mut fit = finish(y, spec, m, p, init, r, k);
    if np + states.len() >= y.len().saturating_sub(1) {
        fit.aic = f64::INFINITY;
        fit.aicc = f64::INFINITY;
        fit.bic = f64::INFINITY;
    }
    Some((fit, trace))
}

/// The candidates of an automatic selection for a series, in statsforecast's order.
pub fn candidates(y: &[f64], m: usize) -> Vec<Spec> {
    let positive = y.iter().all(|v| *v > 0.0);
    let seasonal = m > 1 && y.len() > m;
    let mut out = vec![];
    for error in [Comp::A, Comp::M] {
        if error == Comp::M && !positive {
            continue;
        }
        for trend in [Comp::N, Comp::A] {
            for season in [Comp::N, Comp::A, Comp::M] {
                if season != Comp::N && !seasonal {
                    continue;
                }
                if season == Comp::M && (!positive || error == Comp::A) {
                    continue;
                }
                for damped in [true, false] {
                    if damped && trend == Comp::N {
                        continue;
                    }
                    out.push(Spec {
                        error,
                        trend,
                        season,
                        damped,
                    });
                }
            }
        }
    }
    out
}

/// Fits every candidate (all of them when `only` is empty, else those listed) and keeps the
/// first with the smallest AICc; a constant series gets ANN with α = 0.9999. None when no
/// candidate can be fitted (a series of 6 observations or fewer is too short for any).
pub fn auto(y: &[f64], m: usize, only: &[Spec]) -> Option<Fit> {
    // too short for even the simplest model's parameters (statsforecast's "tiny" rule for ANN)
    if y.len() <= 6 {
        return None;
    }
    let mut bounds = Bounds::default();
    if y.iter().all(|v| *v == y[0]) {
        let spec = Spec {
            error: Comp::A,
            trend: Comp::N,
            season: Comp::N,
            damped: false,
        };
        // α is fixed but counted in the parameters, as statsforecast does
        return fit_spec(y, spec, 1, &mut bounds, Some(0.9999)).map(|(f, _)| f);
    }
    let mut best: Option<Fit> = None;
    for spec in candidates(y, m) {
        if !only.is_empty() && !only.contains(&spec) {
            continue;
        }
        // too few observations for the parameters (statsforecast's "tiny" rule)
        let npars = 2
            + 2 * usize::from(spec.trend != Comp::N)
            + 2 * usize::from(spec.season != Comp::N)
            + usize::from(spec.damped);
        if y.len() <= npars + 4 {
            continue;
        }
        let Some((fit, _)) = fit_spec(y, spec, m, &mut bounds, None) else {
            continue;
        };
        if fit.aicc.is_nan() {
            continue;
        }
        if best.as_ref().is_none_or(|b| fit.aicc < b.aicc) {
            best = Some(fit);
        }
    }
    best
}

/// Prediction-interval half-width factors: the forecast variance of steps 1..h.
pub fn forecast_variance(fit: &Fit, h: usize) -> Vec<f64> {
    let Params {
        alpha,
        beta,
        gamma,
        phi,
    } = fit.params;
    let sigma = fit.sigma2;
    let m = fit.m;
    let spec = fit.spec;
    let hm = if h == 0 {
        0.0
    } else {
        ((h - 1) as f64 / m as f64).floor()
    };
    let steps: Vec<f64> = (1..=h).map(|k| k as f64).collect();
    match spec.error {
        Comp::A => steps
            .iter()
            .map(|&k| {
                let a2 = alpha * alpha;
                let e1 = a2 + alpha * beta * k + beta * beta * k * (2.0 * k - 1.0) / 6.0;
                let damped_terms = || {
                    let phik = phi.powf(k);
                    let e2 = beta * phi * k / (1.0 - phi).powi(2);
                    let e3 = 2.0 * alpha * (1.0 - phi) + beta * phi;
                    let e4 = beta * phi * (1.0 - phik) / ((1.0 - phi).powi(2) * (1.0 - phi * phi));
                    let e5 =
                        2.0 * alpha * (1.0 - phi * phi) + beta * phi * (1.0 + 2.0 * phi - phik);
                    e2 * e3 - e4 * e5
                };
                let v = match (spec.trend, spec.damped, spec.season) {
                    (Comp::N, _, Comp::N) => 1.0 + a2 * (k - 1.0),
                    (Comp::A, false, Comp::N) => 1.0 + (k - 1.0) * e1,
                    (Comp::A, true, Comp::N) => 1.0 + a2 * (k - 1.0) + damped_terms(),
                    (Comp::N, _, _) => 1.0 + a2 * (k - 1.0) + gamma * hm * (2.0 * alpha + gamma),
                    (Comp::A, false, _) => {
                        1.0 + (k - 1.0) * e1
                            + gamma * hm * (2.0 * alpha + gamma + beta * m as f64 * (hm + 1.0))
                    }
                    (_, _, _) => {
                        let phim = phi.powi(m as i32);
                        1.0 + a2 * (k - 1.0)
                            + damped_terms()
                            + gamma * hm * (2.0 * alpha + gamma)
                            + 2.0 * beta * gamma * phi / ((1.0 - phi) * (1.0 - phim))
                                * (hm * (1.0 - phim) - phim * (1.0 - phi.powf(m as f64 * hm)))
                    }
                };
                sigma * v
            })
            .collect(),
        Comp::M if spec.season != Comp::M => {
            let mu = point_forecast(&fit.last_state, spec, m, phi, h);
            let c: Vec<f64> = (1..h.max(1))
                .map(|j| {
                    let jf = j as f64;
                    let d = if spec.season != Comp::N && j % m == 0 {
                        1.0
                    } else {
                        0.0
                    };
                    let phisum: f64 = (1..=j).map(|i| phi.powi(i as i32)).sum();
                    match (spec.trend, spec.damped, spec.season) {
                        (Comp::N, _, Comp::N) => alpha,
                        (Comp::A, false, Comp::N) => alpha + beta * jf,
                        (Comp::A, true, Comp::N) => alpha + beta * phisum,
                        (Comp::N, _, _) => alpha + gamma * d,
                        (Comp::A, false, _) => alpha * beta * jf + gamma * d,
                        (_, _, _) => alpha + beta * phisum + gamma * d,
                    }
                })
                .collect();
            let mut theta: Vec<f64> = Vec::with_capacity(h);
            for k in 0..h {
                let mut t = mu[k] * mu[k];
                for j in 1..=k {
                    t += sigma * c[j - 1] * c[j - 1] * theta[k - j];
                }
                theta.push(t);
            }
            (0..h)
                .map(|k| (1.0 + sigma) * theta[k] - mu[k] * mu[k])
                .collect()
        }
        _ => class3_variance(fit, h),
    }
}

/// Forecast variances of multiplicative-error, multiplicative-season models (statsforecast's
/// `_class3models`).
fn class3_variance(fit: &Fit, h: usize) -> Vec<f64> {
    let Params {
        alpha,
        beta,
        gamma,
        phi,
    } = fit.params;
    let sigma = fit.sigma2;
    let m = fit.m;
    let has_b = fit.spec.trend != Comp::N;
    let d = 1 + usize::from(has_b);
    let state = &fit.last_state;
    let p = state.len();
    let lvl = &state[..p - m];
    let seas = &state[p - m..];
    // matrices, row-major
    let h1: Vec<f64> = vec![1.0; d];
    let mut f1 = vec![0.0; d * d];
    let mut g1 = vec![0.0; d * d];
    if has_b {
        f1 = vec![1.0, 1.0, 0.0, if fit.spec.damped { phi } else { 1.0 }];
        g1 = vec![alpha, alpha, beta, beta];
    } else {
        f1[0] = 1.0;
        g1[0] = alpha;
    }
    let mut h2 = vec![0.0; m];
    h2[m - 1] = 1.0;
    let mut f2 = vec![0.0; m * m];
    f2[m - 1] = 1.0;
    for i in 1..m {
        f2[i * m + (i - 1)] = 1.0;
    }
    let mut g2 = vec![0.0; m * m];
    g2[m - 1] = gamma;
    let kron = |a: &[f64], ar: usize, ac: usize, b: &[f64], br: usize, bc: usize| -> Vec<f64> {
        let (r, c) = (ar * br, ac * bc);
        let mut out = vec![0.0; r * c];
        for i in 0..ar {
            for j in 0..ac {
                for k in 0..br {
                    for l in 0..bc {
                        out[(i * br + k) * c + j * bc + l] = a[i * ac + j] * b[k * bc + l];
                    }
                }
            }
        }
        out
    };
    let dm = d * m;
    let h21 = kron(&h2, 1, m, &h1, 1, d);
    let f21 = kron(&f2, m, m, &f1, d, d);
    let g21 = kron(&g2, m, m, &g1, d, d);
    let k1 = kron(&g2, m, m, &f1, d, d);
    let k2 = kron(&f2, m, m, &g1, d, d);
    let kk: Vec<f64> = k1.iter().zip(&k2).map(|(a, b)| a + b).collect();
    // Mh = outer(lvl, seas) (d × m), vec row-major
    let mh: Vec<f64> = (0..d)
        .flat_map(|i| (0..m).map(move |j| (i, j)))
        .map(|(i, j)| lvl[i] * seas[j])
        .collect();
    let vv: Vec<f64> = (0..dm * dm).map(|i| mh[i / dm] * mh[i % dm]).collect();
    let matmul = |a: &[f64], b: &[f64], n: usize| -> Vec<f64> {
        let mut out = vec![0.0; n * n];
        for i in 0..n {
            for k in 0..n {
                let av = a[i * n + k];
                if av == 0.0 {
                    continue;
                }
                for j in 0..n {
                    out[i * n + j] += av * b[k * n + j];
                }
            }
        }
        out
    };
    let transpose = |a: &[f64], n: usize| -> Vec<f64> {
        let mut out = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                out[j * n + i] = a[i * n + j];
            }
        }
        out
    };
    // mu = H1 · Mh · H2ᵀ: the sum of level rows at the last seasonal column
    let mu: f64 = (0..d).map(|i| mh[i * m + (m - 1)]).sum();
    let f21t = transpose(&f21, dm);
    let g21t = transpose(&g21, dm);
    let kkt = transpose(&kk, dm);
    let mut vh = vec![0.0; dm * dm];
    let mut out = Vec::with_capacity(h);
    for _ in 0..h {
        // H21 · Vh · H21ᵀ
        let mut q = 0.0;
        for i in 0..dm {
            if h21[i] == 0.0 {
                continue;
            }
            for j in 0..dm {
                q += h21[i] * vh[i * dm + j] * h21[j];
            }
        }
        out.push((1.0 + sigma) * q + sigma * mu * mu);
        let a = matmul(&matmul(&f21, &vh, dm), &f21t, dm);
        let b = matmul(&matmul(&f21, &vh, dm), &g21t, dm);
        let c = matmul(&matmul(&g21, &vh, dm), &f21t, dm);
        let vpv: Vec<f64> = vh.iter().zip(&vv).map(|(x, y)| x + y).collect();
        let e = matmul(&matmul(&kk, &vpv, dm), &kkt, dm);
        let v3: Vec<f64> = vh.iter().zip(&vv).map(|(x, y)| 3.0 * x + 2.0 * y).collect();
        let g = matmul(&matmul(&g21, &v3, dm), &g21t, dm);
        vh = (0..dm * dm)
            .map(|i| a[i] + sigma * (b[i] + c[i] + e[i] + sigma * g[i]))
            .collect();
    }
    out
}

/// Point forecasts and (lower, upper) bounds at `level` (e.g. 0.95) for steps 1..h.
pub fn forecast(fit: &Fit, h: usize, level: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mean = point_forecast(&fit.last_state, fit.spec, fit.m, fit.params.phi, h);
    let z = super::normal_quantile(0.5 + level / 2.0);
    let var = forecast_variance(fit, h);
    let lo = mean
        .iter()
        .zip(&var)
        .map(|(f, v)| f - z * v.max(0.0).sqrt())
        .collect();
    let hi = mean
        .iter()
        .zip(&var)
        .map(|(f, v)| f + z * v.max(0.0).sqrt())
        .collect();
    (mean, lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference filter's one-step forecast: the state's seasonals shifted every step, as
    /// statsforecast's `Forecast` reads them.
    fn reference_one_step(state: &[f64], spec: Spec, m: usize, phi: f64) -> f64 {
        let has_b = spec.trend != Comp::N;
        let phi = if spec.damped { phi } else { 1.0 };
        let mut f = if has_b {
            state[0] + phi * state[1]
        } else {
            state[0]
        };
        if spec.season != Comp::N {
            let s = state[1 + usize::from(has_b) + m - 1];
            match spec.season {
                Comp::A => f += s,
                _ => f *= s,
            }
        }
        f
    }

    /// The reference filter's update (statsforecast's `Update`): shifts the seasonals.
    fn reference_update(state: &mut [f64], y: f64, spec: Spec, m: usize, p: Params) {
        let has_b = spec.trend != Comp::N;
        let l_old = state[0];
        let (phib, q) = if has_b {
            let phib = p.phi * state[1];
            (phib, l_old + phib)
        } else {
            (0.0, l_old)
        };
        let soff = 1 + usize::from(has_b);
        let s_last = if spec.season != Comp::N {
            state[soff + m - 1]
        } else {
            0.0
        };
        let pv = match spec.season {
            Comp::N => y,
            Comp::A => y - s_last,
            Comp::M => {
                if s_last.abs() < 1e-10 {
                    1e10
                } else {
                    y / s_last
                }
            }
        };
        let l_new = q + p.alpha * (pv - q);
        state[0] = l_new;
        if has_b {
            let r = l_new - l_old;
            state[1] = phib + (p.beta / p.alpha) * (r - phib);
        }
        if spec.season != Comp::N {
            let t = match spec.season {
                Comp::A => y - q,
                _ => {
                    if q.abs() < 1e-10 {
                        1e10
                    } else {
                        y / q
                    }
                }
            };
            let s_new = s_last + p.gamma * (t - s_last);
            state.copy_within(soff..soff + m - 1, soff + 1);
            state[soff] = s_new;
        }
    }

    /// The ring-buffer filter gives, bit for bit, the likelihood, forecasts, errors and last
    /// state of statsforecast's shift-every-step recursion, for every candidate model, damped
    /// or not, on a weekly-seasonal series.
    #[test]
    fn filter_equals_the_shifting_recursion() {
        let y: Vec<f64> = (0..120)
            .map(|t| {
                let t = t as f64;
                20.0 + 0.05 * t + 4.0 * (t * std::f64::consts::TAU / 7.0).sin() + (t * 1.7).cos()
            })
            .collect();
        let m = 7;
        let specs = candidates(&y, m);
        assert_eq!(specs.len(), 15);
        for spec in specs {
            let mm = if spec.season == Comp::N { 1 } else { m };
            let Some(free) = initial_state(&y, spec, mm) else {
                panic!("no initial state for {}", spec.name());
            };
            let init = full_state(&free, spec, mm);
            for (alpha, beta, gamma, phi) in [(0.3, 0.05, 0.1, 0.9), (0.9, 0.2, 0.05, 0.98)] {
                let p = pinned(
                    spec,
                    Params {
                        alpha,
                        beta,
                        gamma,
                        phi,
                    },
                );
                let mut state = init.clone();
                let (mut sse, mut logf) = (0.0, 0.0);
                let (mut fs, mut es) = (vec![], vec![]);
                for &yt in &y {
                    let f = reference_one_step(&state, spec, mm, p.phi);
                    let e = if spec.error == Comp::A {
                        yt - f
                    } else {
                        (yt - f) / f
                    };
                    sse += e * e;
                    logf += f.abs().ln();
                    fs.push(f);
                    es.push(e);
                    reference_update(&mut state, yt, spec, mm, p);
                }
                let lik = log_likelihood(y.len(), sse, logf, spec);
                let Some(r) = run(&y, &init, spec, mm, p) else {
                    panic!("{}: the filter failed", spec.name());
                };
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                let name = spec.name();
                assert_eq!(r.lik.to_bits(), lik.to_bits(), "{name}");
                assert_eq!(bits(&r.forecasts), bits(&fs), "{name}");
                assert_eq!(bits(&r.errors), bits(&es), "{name}");
                assert_eq!(bits(&r.last), bits(&state), "{name}");
                let mut buffer = init.clone();
                let fast = likelihood(&y, &mut buffer, spec, mm, p);
                assert_eq!(fast.map(f64::to_bits), Some(lik.to_bits()), "{name}");
            }
        }
    }
}
