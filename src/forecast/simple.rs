//! The benchmark and intermittent-demand forecasters, as statsforecast computes them: naive,
//! seasonal naive (with normal intervals from their residuals), simple exponential smoothing,
//! Croston's method (classic and the Syntetos–Boylan approximation) and TSB.

/// Simple exponential smoothing from the first value: the next-step forecast after `x`
/// (statsforecast's `ses_forecast`).
pub fn ses(x: &[f64], alpha: f64) -> f64 {
    let Some(&first) = x.first() else {
        return f64::NAN;
    };
    if x.len() == 1 {
        return first;
    }
    let mut fitted = first;
    for i in 1..x.len() {
        fitted = alpha * x[i - 1] + (1.0 - alpha) * fitted;
    }
    alpha * x[x.len() - 1] + (1.0 - alpha) * fitted
}

/// Naive: the last value; σ from the first differences (σ² = Σ diff² / (n − 1)); the step-k
/// standard deviation is σ √k.
pub fn naive(y: &[f64]) -> (f64, f64) {
    let n = y.len();
    let last = y.last().copied().unwrap_or(f64::NAN);
    if n < 2 {
        return (last, f64::NAN);
    }
    let ss: f64 = y.windows(2).map(|w| (w[1] - w[0]) * (w[1] - w[0])).sum();
    (last, (ss / (n - 1) as f64).sqrt())
}

/// Seasonal naive: the last season repeated; σ² = Σ (y_t − y_{t−m})² / (n − m); the step-k
/// standard deviation is σ √(⌊(k−1)/m⌋ + 1).
pub fn seasonal_naive(y: &[f64], m: usize) -> (Vec<f64>, f64) {
    let n = y.len();
    if n < m || m == 0 {
        return (vec![], f64::NAN);
    }
    let last = y[n - m..].to_vec();
    let sigma = if n > m {
        let ss: f64 = (m..n).map(|t| (y[t] - y[t - m]) * (y[t] - y[t - m])).sum();
        (ss / (n - m) as f64).sqrt()
    } else {
        f64::NAN
    };
    (last, sigma)
}

/// The sizes of the non-zero demands and the intervals between them (the first interval counts
/// the leading zeros: it is the 1-based position of the first demand).
fn demands(y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let sizes: Vec<f64> = y.iter().copied().filter(|v| *v > 0.0).collect();
    let mut intervals = vec![];
    let mut prev = 0usize;
    for (i, v) in y.iter().enumerate() {
        if *v != 0.0 {
            intervals.push((i + 1 - prev) as f64);
            prev = i + 1;
        }
    }
    (sizes, intervals)
}

/// Croston's method with α = 0.1 on sizes and intervals: the per-period demand rate z / p;
/// without any demand, the last value (all zeros forecast zero). `sba` applies the
/// Syntetos–Boylan correction (× 0.95).
pub fn croston(y: &[f64], sba: bool) -> f64 {
    let (sizes, intervals) = demands(y);
    if sizes.is_empty() {
        return y.last().copied().unwrap_or(0.0);
    }
    let z = ses(&sizes, 0.1);
    let p = ses(&intervals, 0.1);
    let rate = if p != 0.0 { z / p } else { z };
    if sba {
        rate * 0.95
    } else {
        rate
    }
}

/// Teunter–Syntetos–Babai: smoothed demand probability (α_p) × smoothed size (α_d); all zeros
/// forecast zero.
pub fn tsb(y: &[f64], alpha_d: f64, alpha_p: f64) -> f64 {
    if y.iter().all(|v| *v == 0.0) {
        return 0.0;
    }
    let occurs: Vec<f64> = y.iter().map(|v| f64::from(u8::from(*v != 0.0))).collect();
    let sizes: Vec<f64> = y.iter().copied().filter(|v| *v > 0.0).collect();
    if sizes.is_empty() {
        return 0.0;
    }
    ses(&occurs, alpha_p) * ses(&sizes, alpha_d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // 0 0 3 0 5: sizes 3, 5; intervals 3, 2
        let y = [0.0, 0.0, 3.0, 0.0, 5.0];
        assert_eq!(ses(&[3.0, 5.0], 0.1), 0.1 * 5.0 + 0.9 * 3.0);
        let z = 0.1 * 5.0 + 0.9 * 3.0;
        let p = 0.1 * 2.0 + 0.9 * 3.0;
        assert!((croston(&y, false) - z / p).abs() < 1e-15);
        assert!((croston(&y, true) - 0.95 * z / p).abs() < 1e-15);
        assert_eq!(croston(&[0.0; 4], false), 0.0);
        assert_eq!(tsb(&[0.0; 4], 0.2, 0.1), 0.0);
        let (last, sigma) = naive(&[1.0, 3.0, 2.0]);
        assert_eq!(last, 2.0);
        assert!((sigma - (5.0f64 / 2.0).sqrt()).abs() < 1e-15);
    }
}
