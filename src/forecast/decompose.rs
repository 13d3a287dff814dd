//! Classical seasonal decomposition (statsmodels' `seasonal_decompose`, two-sided moving
//! average), the sample autocorrelation, and the small least-squares fits the forecasters'
//! initialisations use.

/// Additive or multiplicative seasonality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeasonKind {
    /// y = trend + season + rest.
    Additive,
    /// y = trend · season · rest.
    Multiplicative,
}

/// The seasonal component of `y` (length n, phase of each observation) by classical
/// decomposition with period `m` (>= 2, n >= 2m): a centred moving average of width m
/// (2×m for even m) as the trend, per-phase means of the detrended values, normalised to mean 0
/// (additive) or 1 (multiplicative).
pub fn seasonal_component(y: &[f64], m: usize, kind: SeasonKind) -> Vec<f64> {
    let n = y.len();
    let filt: Vec<f64> = if m.is_multiple_of(2) {
        let mut f = vec![1.0 / m as f64; m + 1];
        f[0] = 0.5 / m as f64;
        f[m] = 0.5 / m as f64;
        f
    } else {
        vec![1.0 / m as f64; m]
    };
    let half = filt.len() / 2;
    let mut sums = vec![0.0; m];
    let mut counts = vec![0usize; m];
    if n >= filt.len() {
        for t in half..n - half {
            let mut trend = 0.0;
            for (k, w) in filt.iter().enumerate() {
                trend += w * y[t - half + k];
            }
            let d = match kind {
                SeasonKind::Additive => y[t] - trend,
                SeasonKind::Multiplicative => y[t] / trend,
            };
            if d.is_finite() {
                sums[t % m] += d;
                counts[t % m] += 1;
            }
        }
    }
    let mut avg: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| if c > 0 { s / c as f64 } else { f64::NAN })
        .collect();
    let mean = avg.iter().sum::<f64>() / m as f64;
    for a in avg.iter_mut() {
        match kind {
            SeasonKind::Additive => *a -= mean,
            SeasonKind::Multiplicative => *a /= mean,
        }
    }
    (0..n).map(|i| avg[i % m]).collect()
}

/// Sample autocorrelations r_1..r_nlags (demeaned, biased: Σ d_t d_{t-k} / Σ d_t²).
pub fn acf(y: &[f64], nlags: usize) -> Vec<f64> {
    let n = y.len();
    let mean = y.iter().sum::<f64>() / n.max(1) as f64;
    let d: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let denom: f64 = d.iter().map(|v| v * v).sum();
    (1..=nlags)
        .map(|k| {
            if k >= n || denom == 0.0 {
                return 0.0;
            }
            (k..n).map(|t| d[t] * d[t - k]).sum::<f64>() / denom
        })
        .collect()
}

/// Least squares of y on [1, t] for t = 1..n: (intercept, slope).
pub fn line_fit(y: &[f64]) -> (f64, f64) {
    let n = y.len() as f64;
    let tm = (n + 1.0) / 2.0;
    let ym = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, v) in y.iter().enumerate() {
        let dt = (i + 1) as f64 - tm;
        sxy += dt * (v - ym);
        sxx += dt * dt;
    }
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (ym - b * tm, b)
}

/// Least squares by the normal equations for a few columns (Gaussian elimination with partial
/// pivoting); None when the system is singular.
pub fn lstsq(x: &[Vec<f64>], y: &[f64]) -> Option<Vec<f64>> {
    let p = x.first().map_or(0, Vec::len);
    let mut a = vec![vec![0.0; p + 1]; p];
    for (row, v) in x.iter().zip(y) {
        for i in 0..p {
            for j in 0..p {
                a[i][j] += row[i] * row[j];
            }
            a[i][p] += row[i] * v;
        }
    }
    for c in 0..p {
        let piv = (c..p).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[piv][c].abs() < 1e-12 {
            return None;
        }
        a.swap(c, piv);
        let pivot_row = a[c].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != c {
                let f = row[c] / pivot_row[c];
                for (v, pv) in row.iter_mut().zip(&pivot_row).skip(c) {
                    *v -= f * pv;
                }
            }
        }
    }
    Some((0..p).map(|i| a[i][p] / a[i][i]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_planted_season() {
        // period 4, additive season (1, -1, 2, -2) on a line
        let s = [1.0, -1.0, 2.0, -2.0];
        let y: Vec<f64> = (0..24).map(|t| 10.0 + 0.5 * t as f64 + s[t % 4]).collect();
        let c = seasonal_component(&y, 4, SeasonKind::Additive);
        for (t, v) in c.iter().enumerate() {
            assert!((v - s[t % 4]).abs() < 1e-12, "{t}: {v}");
        }
        let (a, b) = line_fit(&[3.0, 5.0, 7.0]);
        assert!((a - 1.0).abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
        let fit = lstsq(
            &[vec![1.0, 1.0], vec![1.0, 2.0], vec![1.0, 3.0]],
            &[3.0, 5.0, 7.0],
        )
        .unwrap();
        assert!((fit[0] - 1.0).abs() < 1e-12 && (fit[1] - 2.0).abs() < 1e-12);
    }
}
