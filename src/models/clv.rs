//! Buy-till-you-die models for customer lifetime value: BG/NBD (Fader, Hardie & Lee 2005,
//! "Counting your customers the easy way") for the number of future purchases and P(alive), and
//! Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV") for the average order value.
//!
//! Both are fitted by maximum likelihood with the log-likelihoods written in closed form with
//! log-gamma, in log-parameter space (so parameters stay positive), with argmin's Nelder–Mead
//! simplex (derivative-free, deterministic, restarted once from its own optimum). The objective
//! is Lifetimes': mean negative log-likelihood plus `penalizer · Σ params²`.

use argmin::core::{CostFunction, Error as ArgminError, Executor, State};
use argmin::solver::neldermead::NelderMead;
use datafusion::common::{exec_datafusion_err, Result};
use ndarray::Array1;

/// ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; relative error below 1e-15).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1-x) = π / sin(πx)
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin())
            .abs()
            .ln()
            - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Gauss hypergeometric 2F1(a, b; c; z) for 0 <= z < 1 by its power series.
fn hyp2f1_series(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let (mut term, mut sum) = (1.0, 1.0);
    for n in 0..1_000_000 {
        let n = n as f64;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if term.abs() <= 1e-17 * sum.abs() {
            break;
        }
    }
    sum
}

/// ln 2F1(a, b; c; z) through Euler's transformation 2F1(a,b;c;z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z),
/// whose series stays small for the large a, b of frequent buyers.
pub fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    hyp2f1_series(c - a, c - b, c, z).ln() + (c - a - b) * (1.0 - z).ln()
}

/// One customer's summary: repeat purchases x, recency t_x and age T (same time unit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rft {
    /// Repeat purchases.
    pub x: f64,
    /// Time of the last purchase since the first.
    pub t_x: f64,
    /// Time since the first purchase.
    pub t: f64,
}

/// BG/NBD parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    /// Shape of the purchase-rate gamma.
    pub r: f64,
    /// Scale of the purchase-rate gamma.
    pub alpha: f64,
    /// Beta parameter a of the dropout probability.
    pub a: f64,
    /// Beta parameter b of the dropout probability.
    pub b: f64,
}

impl BgNbd {
    /// Log-likelihood of one customer.
    pub fn ll(&self, c: &Rft) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let Rft { x, t_x, t } = *c;
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_gamma(a + b) + ln_gamma(b + x) - ln_gamma(b) - ln_gamma(a + b + x);
        let a3 = -(r + x) * (alpha + t).ln();
        if x > 0.0 {
            let a4 = a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + t_x).ln();
            let m = a3.max(a4);
            a1 + a2 + m + ((a3 - m).exp() + (a4 - m).exp()).ln()
        } else {
            a1 + a2 + a3
        }
    }

    /// Total log-likelihood of customers sorted by `x`. The log-gamma terms depend on `x` alone,
    /// so they are computed once per distinct `x`: per customer only logarithms of the times
    /// remain, which keeps a fit over millions of customers fast.
    pub fn ll_sum(&self, sorted_by_x: &[Rft]) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let (ln_alpha, ln_a) = (alpha.ln(), a.ln());
        let (lg_r, lg_ab, lg_b) = (ln_gamma(r), ln_gamma(a + b), ln_gamma(b));
        let mut total = 0.0;
        let mut i = 0;
        while i < sorted_by_x.len() {
            let x = sorted_by_x[i].x;
            let a12 = ln_gamma(r + x) - lg_r + r * ln_alpha + lg_ab + ln_gamma(b + x)
                - lg_b
                - ln_gamma(a + b + x);
            let c4 = if x > 0.0 {
                ln_a - (b + x - 1.0).ln()
            } else {
                0.0
            };
            let mut j = i;
            while j < sorted_by_x.len() && sorted_by_x[j].x == x {
                let c = &sorted_by_x[j];
                let a3 = -(r + x) * (alpha + c.t).ln();
                total += a12
                    + if x > 0.0 {
                        let a4 = c4 - (r + x) * (alpha + c.t_x).ln();
                        let m = a3.max(a4);
                        m + ((a3 - m).exp() + (a4 - m).exp()).ln()
                    } else {
                        a3
                    };
                j += 1;
            }
            i = j;
        }
        total
    }

    /// E[X(t) | x, t_x, T]: expected purchases in the next `t` time units.
    pub fn expected_purchases(&self, t_future: f64, c: &Rft) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let Rft { x, t_x, t } = *c;
        if t_future <= 0.0 {
            return 0.0;
        }
        let (ha, hb, hc) = (r + x, b + x, a + b + x - 1.0);
        let z = t_future / (alpha + t + t_future);
        let ln_hyp = ln_hyp2f1(ha, hb, hc, z);
        let first = (a + b + x - 1.0) / (a - 1.0);
        let second = 1.0 - (ln_hyp + (r + x) * ((alpha + t) / (alpha + t_future + t)).ln()).exp();
        let denom = if x > 0.0 {
            1.0 + (a / (b + x - 1.0)) * ((alpha + t) / (alpha + t_x)).powf(r + x)
        } else {
            1.0
        };
        first * second / denom
    }

    /// P(alive | x, t_x, T).
    pub fn prob_alive(&self, c: &Rft) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let Rft { x, t_x, t } = *c;
        if x == 0.0 {
            return 1.0;
        }
        let log_div = (r + x) * ((alpha + t) / (alpha + t_x)).ln() + (a / (b + x - 1.0)).ln();
        1.0 / (1.0 + log_div.exp())
    }

    /// Expected purchases of a new customer in a period of length `t`.
    pub fn expected_purchases_new(&self, t: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let z = t / (alpha + t);
        (a + b - 1.0) / (a - 1.0)
            * (1.0 - ((alpha / (alpha + t)).powf(r)) * ln_hyp2f1(r, b, a + b - 1.0, z).exp())
    }
}

/// Gamma-Gamma parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGamma {
    /// Shape of the transaction-value gamma.
    pub p: f64,
    /// Shape of the gamma prior on the scale.
    pub q: f64,
    /// Scale of the gamma prior on the scale.
    pub v: f64,
}

impl GammaGamma {
    /// Log-likelihood of one repeat customer with `x` repeat purchases of mean value `m`.
    pub fn ll(&self, x: f64, m: f64) -> f64 {
        let GammaGamma { p, q, v } = *self;
        ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q)
            + q * v.ln()
            + (p * x - 1.0) * m.ln()
            + (p * x) * x.ln()
            - (p * x + q) * (x * m + v).ln()
    }

    /// Total log-likelihood of (x, m) pairs sorted by x; the log-gamma terms are computed once
    /// per distinct x.
    pub fn ll_sum(&self, sorted_by_x: &[(f64, f64)]) -> f64 {
        let GammaGamma { p, q, v } = *self;
        let (lg_q, ln_v) = (ln_gamma(q), v.ln());
        let mut total = 0.0;
        let mut i = 0;
        while i < sorted_by_x.len() {
            let x = sorted_by_x[i].0;
            let px = p * x;
            let head = ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_v + px * x.ln();
            let mut j = i;
            while j < sorted_by_x.len() && sorted_by_x[j].0 == x {
                let m = sorted_by_x[j].1;
                total += head + (px - 1.0) * m.ln() - (px + q) * (x * m + v).ln();
                j += 1;
            }
            i = j;
        }
        total
    }

    /// E[M | x, m]: the expected average transaction value of a customer.
    pub fn expected_avg_value(&self, x: f64, m: f64) -> f64 {
        let GammaGamma { p, q, v } = *self;
        (q - 1.0) / (p * x + q - 1.0) * (v * p / (q - 1.0)) + (p * x) / (p * x + q - 1.0) * m
    }
}

/// Lifetimes' customer lifetime value: over `months` monthly steps, expected purchases in each
/// month (difference of cumulative expectations, a month being `periods_per_month` time units)
/// times the expected average value, discounted by `(1 + monthly_discount)^month`.
pub fn clv(
    bg: &BgNbd,
    c: &Rft,
    avg_value: f64,
    months: u32,
    monthly_discount: f64,
    periods_per_month: f64,
) -> f64 {
    let mut total = 0.0;
    let mut prev = 0.0;
    for i in 1..=months {
        let cum = bg.expected_purchases(f64::from(i) * periods_per_month, c);
        total += avg_value * (cum - prev) / (1.0 + monthly_discount).powi(i as i32);
        prev = cum;
    }
    total
}

struct Objective<'a, F: Fn(&[f64]) -> f64> {
    f: &'a F,
}

impl<F: Fn(&[f64]) -> f64> CostFunction for Objective<'_, F> {
    type Param = Array1<f64>;
    type Output = f64;
    fn cost(&self, p: &Self::Param) -> std::result::Result<f64, ArgminError> {
        let params: Vec<f64> = p.iter().map(|v| v.exp()).collect();
        let c = (self.f)(&params);
        // Outside the domain the likelihood is undefined: a large cost steers the simplex back.
        Ok(if c.is_finite() { c } else { f64::MAX / 4.0 })
    }
}

/// Minimises `f(params)` over positive parameters, starting from all ones (log-parameters 0),
/// as Lifetimes does. Returns the parameters and the minimum.
pub fn minimize_positive(
    f: impl Fn(&[f64]) -> f64,
    n: usize,
    max_iterations: u64,
    what: &str,
) -> Result<(Vec<f64>, f64)> {
    let mut start = Array1::<f64>::zeros(n);
    let mut best = f64::INFINITY;
    // Nelder–Mead, restarted from its own optimum with a fresh simplex until it stops improving.
    for _ in 0..4 {
        let mut simplex = vec![start.clone()];
        for i in 0..n {
            let mut v = start.clone();
            v[i] += 0.5;
            simplex.push(v);
        }
        let solver = NelderMead::new(simplex)
            .with_sd_tolerance(1e-14)
            .map_err(|e| {
                exec_datafusion_err!("CREATE MODEL: {what}: optimiser set-up failed: {e}")
            })?;
        let res = Executor::new(Objective { f: &f }, solver)
            .configure(|s| s.max_iters(max_iterations))
            .run()
            .map_err(|e| exec_datafusion_err!("CREATE MODEL: {what}: optimisation failed: {e}"))?;
        let state = res.state();
        let (Some(p), cost) = (state.get_best_param().cloned(), state.get_best_cost()) else {
            return Err(exec_datafusion_err!(
                "CREATE MODEL: {what}: the optimiser returned no parameters"
            ));
        };
        let improved = cost < best - 1e-13 * best.abs().max(1.0);
        start = p;
        best = best.min(cost);
        if !improved {
            break;
        }
    }
    if !best.is_finite() || best >= f64::MAX / 8.0 {
        return Err(exec_datafusion_err!(
            "CREATE MODEL: {what}: the likelihood could not be evaluated at any parameters tried"
        ));
    }
    Ok((start.iter().map(|v| v.exp()).collect(), best))
}

/// Fits BG/NBD on customers sorted by `x` (then `t_x`, `T`). Returns the parameters and the
/// total log-likelihood (unpenalised).
///
/// The penalty is Lifetimes': Lifetimes fits on times divided by the largest T, so its
/// `penalizer · (r² + α² + a² + b²)` sees α on that scale; we penalise `α / max T` to match.
pub fn fit_bgnbd(customers: &[Rft], penalizer: f64, max_iterations: u64) -> Result<(BgNbd, f64)> {
    let n = customers.len() as f64;
    let max_t = customers
        .iter()
        .map(|c| c.t)
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let objective = |p: &[f64]| {
        let m = BgNbd {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
        };
        let ll = m.ll_sum(customers);
        let penalty = p[0] * p[0] + (p[1] / max_t).powi(2) + p[2] * p[2] + p[3] * p[3];
        -ll / n + penalizer * penalty
    };
    let (p, _) = minimize_positive(objective, 4, max_iterations, "bgnbd")?;
    let m = BgNbd {
        r: p[0],
        alpha: p[1],
        a: p[2],
        b: p[3],
    };
    let ll = m.ll_sum(customers);
    Ok((m, ll))
}

/// Fits Gamma-Gamma on (repeat purchases, mean repeat value) pairs sorted by repeat purchases.
pub fn fit_gamma_gamma(
    customers: &[(f64, f64)],
    penalizer: f64,
    max_iterations: u64,
) -> Result<(GammaGamma, f64)> {
    let n = customers.len() as f64;
    let objective = |p: &[f64]| {
        let m = GammaGamma {
            p: p[0],
            q: p[1],
            v: p[2],
        };
        let ll = m.ll_sum(customers);
        -ll / n + penalizer * p.iter().map(|v| v * v).sum::<f64>()
    };
    let (p, _) = minimize_positive(objective, 3, max_iterations, "gamma_gamma")?;
    let m = GammaGamma {
        p: p[0],
        q: p[1],
        v: p[2],
    };
    let ll = m.ll_sum(customers);
    Ok((m, ll))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_known_values() {
        assert!((ln_gamma(1.0)).abs() < 1e-14);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-13);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-13);
        // Python: math.lgamma(100.5)
        assert!((ln_gamma(100.5) - 361.435_540_467_777_6).abs() < 1e-11);
    }

    #[test]
    fn hyp2f1_against_closed_forms() {
        // 2F1(1, 1; 2; z) = -ln(1 - z) / z
        for z in [0.1, 0.5, 0.9] {
            let expected: f64 = -(1.0f64 - z).ln() / z;
            assert!(
                (ln_hyp2f1(1.0, 1.0, 2.0, z) - expected.ln()).abs() < 1e-12,
                "z = {z}"
            );
        }
    }

    #[test]
    fn grouped_log_likelihood_equals_per_customer_sum() {
        let m = BgNbd {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        };
        let cs = [
            Rft {
                x: 0.0,
                t_x: 0.0,
                t: 38.0,
            },
            Rft {
                x: 0.0,
                t_x: 0.0,
                t: 30.0,
            },
            Rft {
                x: 2.0,
                t_x: 30.43,
                t: 38.86,
            },
            Rft {
                x: 2.0,
                t_x: 10.0,
                t: 20.0,
            },
            Rft {
                x: 7.0,
                t_x: 35.0,
                t: 36.0,
            },
        ];
        let direct: f64 = cs.iter().map(|c| m.ll(c)).sum();
        assert!((m.ll_sum(&cs) - direct).abs() < 1e-10);
    }

    #[test]
    fn paper_example_expected_purchases() {
        // Fader, Hardie & Lee (2005): with the published parameters, a customer with x = 2,
        // t_x = 30.43, T = 38.86 is expected to make 1.226 purchases in the next 39 weeks.
        let m = BgNbd {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        };
        let e = m.expected_purchases(
            39.0,
            &Rft {
                x: 2.0,
                t_x: 30.43,
                t: 38.86,
            },
        );
        assert!((e - 1.226).abs() < 2e-3, "{e}");
    }
}
