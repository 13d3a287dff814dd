//! The standard Theta method (Assimakopoulos & Nikolopoulos 2000) in statsforecast's
//! state-space form (`Theta`, model STM): a classical multiplicative (or additive) seasonal
//! adjustment when an autocorrelation test finds seasonality, simple exponential smoothing with
//! drift on the adjusted series (θ = 2), the initial level and α fitted by Nelder–Mead on the
//! in-sample MSE. Intervals: statsforecast simulates them; here they are the normal intervals
//! of the SES-with-drift model (σ from the in-sample one-step errors, variance
//! σ²(1 + (k − 1)α²) at step k), which is the analytic counterpart.

use super::decompose::{acf, seasonal_component, SeasonKind};
use super::nelder_mead::{minimize, Settings};

/// A fitted Theta model.
#[derive(Debug, Clone, PartialEq)]
pub struct Theta {
    /// Smoothing parameter.
    pub alpha: f64,
    /// θ (2 for the standard method).
    pub theta: f64,
    /// Fitted initial level ℓ0.
    pub initial: f64,
    /// Intercept and slope of the least-squares line of the adjusted series (t = 1..n).
    pub a: f64,
    /// Slope.
    pub b: f64,
    /// Level after the last observation.
    pub level: f64,
    /// Training length.
    pub n: usize,
    /// The last season of the seasonal component (empty without seasonal adjustment).
    pub season: Vec<f64>,
    /// Whether the adjustment is multiplicative.
    pub multiplicative: bool,
    /// Standard deviation of the in-sample one-step errors (from the fourth on).
    pub sigma: f64,
}

/// Whether statsforecast's test finds seasonality with period `m`.
pub fn is_seasonal(y: &[f64], m: usize) -> bool {
    let n = y.len();
    if m < 4 || n < 2 * m {
        return false;
    }
    let r = acf(y, m);
    let stat = ((1.0 + 2.0 * r[..m - 1].iter().map(|v| v * v).sum::<f64>()) / n as f64).sqrt();
    stat > 0.0 && r[m - 1].abs() / stat > 1.644_853_626_951_472_2
}

/// Runs the model on the adjusted series: (errors, final level).
fn run(y: &[f64], initial: f64, alpha: f64, theta: f64, a: f64, b: f64) -> (Vec<f64>, f64) {
    let n = y.len();
    let mut e = Vec::with_capacity(n);
    let drift = 1.0 - 1.0 / theta;
    let mut level = alpha * y[0] + (1.0 - alpha) * initial;
    e.push(y[0] - (initial + drift * (a + b)));
    for (i, &v) in y.iter().enumerate().skip(1) {
        let q = 1.0 - alpha;
        let mu = level + drift * (a * q.powi(i as i32) + b * (1.0 - q.powi(i as i32 + 1)) / alpha);
        e.push(v - mu);
        level = alpha * v + (1.0 - alpha) * level;
    }
    (e, level)
}

/// The seasonally adjusted series and what the adjustment and the drift line need.
struct Prepared {
    adj: Vec<f64>,
    season: Vec<f64>,
    multiplicative: bool,
    a: f64,
    b: f64,
    scale: f64,
}

fn prepare(y: &[f64], m: usize) -> Prepared {
    let n = y.len();
    let (mut season, mut multiplicative) = (vec![], true);
    let mut adj = y.to_vec();
    if is_seasonal(y, m) {
        let positive = y.iter().all(|v| *v > 0.0);
        let mut kind = if positive {
            SeasonKind::Multiplicative
        } else {
            SeasonKind::Additive
        };
        let mut s = seasonal_component(y, m, kind);
        if kind == SeasonKind::Multiplicative && s.iter().any(|v| *v < 0.01) {
            kind = SeasonKind::Additive;
            s = seasonal_component(y, m, kind);
        }
        multiplicative = kind == SeasonKind::Multiplicative;
        adj = y
            .iter()
            .zip(&s)
            .map(|(v, si)| if multiplicative { v / si } else { v - si })
            .collect();
        season = s[n - m..].to_vec();
    }
    let nf = n as f64;
    let ybar = adj.iter().sum::<f64>() / nf;
    let wavg = adj
        .iter()
        .enumerate()
        .map(|(i, v)| (i + 1) as f64 * v)
        .sum::<f64>()
        / nf;
    let b = 6.0 * (2.0 * wavg - (nf + 1.0) * ybar) / (nf * nf - 1.0);
    let a = ybar - (nf + 1.0) * b / 2.0;
    let scale = (adj.iter().map(|v| v.abs()).sum::<f64>() / nf).max(1e-10);
    Prepared {
        adj,
        season,
        multiplicative,
        a,
        b,
        scale,
    }
}

/// Fits the standard Theta method with season length `m` (1: none).
pub fn fit(y: &[f64], m: usize) -> Option<Theta> {
    if y.len() < 2 {
        return None;
    }
    let pr = prepare(y, m);
    let theta = 2.0;
    let mut objective = |x: &[f64]| -> f64 {
        let (e, _) = run(&pr.adj, x[0], x[1], theta, pr.a, pr.b);
        let v = e.iter().skip(3).map(|e| e * e).sum::<f64>() / pr.scale;
        if v.is_nan() {
            f64::NEG_INFINITY
        } else {
            v
        }
    };
    let best = minimize(
        &mut objective,
        &[pr.adj[0] / 2.0, 0.5],
        &[-1e10, 0.1],
        &[1e10, 0.99],
        Settings::default(),
    );
    Some(finish(y.len(), pr, best.x[0], best.x[1], theta))
}

/// The model with a given initial level and α (θ = 2), for tests against statsforecast.
pub fn fit_fixed(y: &[f64], m: usize, initial: f64, alpha: f64) -> Option<Theta> {
    (y.len() >= 2).then(|| finish(y.len(), prepare(y, m), initial, alpha, 2.0))
}

fn finish(n: usize, pr: Prepared, initial: f64, alpha: f64, theta: f64) -> Theta {
    let (e, level) = run(&pr.adj, initial, alpha, theta, pr.a, pr.b);
    let tail: Vec<f64> = e.iter().skip(3).copied().collect();
    let sigma = if tail.len() > 1 {
        let mean = tail.iter().sum::<f64>() / tail.len() as f64;
        (tail.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (tail.len() - 1) as f64).sqrt()
    } else {
        f64::NAN
    };
    Theta {
        alpha,
        theta,
        initial,
        a: pr.a,
        b: pr.b,
        level,
        n,
        season: pr.season,
        multiplicative: pr.multiplicative,
        sigma,
    }
}

impl Theta {
    /// Point forecasts and (lower, upper) at `level` for steps 1..h.
    pub fn forecast(&self, h: usize, level_p: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let z = super::normal_quantile(0.5 + level_p / 2.0);
        let drift = 1.0 - 1.0 / self.theta;
        let q = 1.0 - self.alpha;
        let mut level = self.level;
        let (mut mean, mut lo, mut hi) = (vec![], vec![], vec![]);
        for k in 0..h {
            let i = (self.n + k) as i32;
            let f =
                level + drift * (self.a * q.powi(i) + self.b * (1.0 - q.powi(i + 1)) / self.alpha);
            level = self.alpha * f + (1.0 - self.alpha) * level;
            let sd = self.sigma * (1.0 + k as f64 * self.alpha * self.alpha).sqrt();
            let (mut f, mut l, mut u) = (f, f - z * sd, f + z * sd);
            if !self.season.is_empty() {
                let s = self.season[k % self.season.len()];
                if self.multiplicative {
                    f *= s;
                    l *= s;
                    u *= s;
                } else {
                    f += s;
                    l += s;
                    u += s;
                }
            }
            mean.push(f);
            lo.push(l);
            hi.push(u);
        }
        (mean, lo, hi)
    }
}
