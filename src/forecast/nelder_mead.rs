//! Bounded Nelder–Mead, as statsforecast's (`nelder_mead.h`): one start, a simplex of the start
//! and coordinate-wise 5 % perturbations, adaptive coefficients, box projection of every
//! point, and a stop when the population standard deviation of the simplex values falls below
//! `tol_std` or after `max_iter` iterations.

/// Settings of a run.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Relative step of the initial simplex (0.05).
    pub init_step: f64,
    /// Step for a zero coordinate (1e-4).
    pub zero_pert: f64,
    /// Stop when the simplex values' population std is below this (1e-4).
    pub tol_std: f64,
    /// Iteration cap (1000).
    pub max_iter: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            init_step: 0.05,
            zero_pert: 1e-4,
            tol_std: 1e-4,
            max_iter: 1000,
        }
    }
}

/// The result: the best point, its value and the iterations run.
#[derive(Debug, Clone)]
pub struct Minimum {
    /// Best point.
    pub x: Vec<f64>,
    /// Its value.
    pub f: f64,
    /// Iterations (max_iter + 1 when the cap was hit, as statsforecast counts).
    pub iterations: usize,
}

fn clamp(x: &mut [f64], lower: &[f64], upper: &[f64]) {
    for ((v, lo), hi) in x.iter_mut().zip(lower).zip(upper) {
        *v = v.max(*lo).min(*hi);
    }
}

/// Minimises `f` from `x0` within the box `[lower, upper]`.
pub fn minimize(
    f: &mut dyn FnMut(&[f64]) -> f64,
    x0: &[f64],
    lower: &[f64],
    upper: &[f64],
    s: Settings,
) -> Minimum {
    let d = x0.len();
    let mut start = x0.to_vec();
    clamp(&mut start, lower, upper);
    if d == 0 {
        let v = f(&start);
        return Minimum {
            x: start,
            f: v,
            iterations: 0,
        };
    }
    let df = d as f64;
    let (alpha, gamma, rho, sigma) = (1.0, 1.0 + 2.0 / df, 0.75 - 1.0 / (2.0 * df), 1.0 - 1.0 / df);
    let mut simplex: Vec<Vec<f64>> = vec![start.clone(); d + 1];
    for (i, row) in simplex.iter_mut().enumerate().take(d) {
        let v = row[i];
        let v = if v == 0.0 {
            s.zero_pert
        } else {
            v * (1.0 + s.init_step)
        };
        row[i] = v.max(lower[i]).min(upper[i]);
    }
    let mut fs: Vec<f64> = simplex.iter().map(|x| f(x)).collect();
    let mut order: Vec<usize> = (0..=d).collect();
    let mut best = 0;
    let mut it = 0;
    while it < s.max_iter {
        order.sort_by(|&a, &b| {
            fs[a]
                .partial_cmp(&fs[b])
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        best = order[0];
        let worst = order[d];
        let second = order[d - 1];
        let mean = fs.iter().sum::<f64>() / (d + 1) as f64;
        let std = (fs.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (d + 1) as f64).sqrt();
        if std < s.tol_std {
            break;
        }
        // centroid of all but the worst
        let mut xo = vec![0.0; d];
        for row in &simplex {
            for (o, v) in xo.iter_mut().zip(row) {
                *o += v;
            }
        }
        for (o, w) in xo.iter_mut().zip(&simplex[worst]) {
            *o = (*o - w) / df;
        }
        let point = |coef: f64, from: &[f64]| -> Vec<f64> {
            let mut p: Vec<f64> = xo
                .iter()
                .zip(from)
                .map(|(o, v)| o + coef * (v - o))
                .collect();
            clamp(&mut p, lower, upper);
            p
        };
        let mut xr: Vec<f64> = xo
            .iter()
            .zip(&simplex[worst])
            .map(|(o, w)| o + alpha * (o - w))
            .collect();
        clamp(&mut xr, lower, upper);
        let fr = f(&xr);
        it += 1;
        if fs[best] <= fr && fr < fs[second] {
            simplex[worst] = xr;
            fs[worst] = fr;
            continue;
        }
        if fr < fs[best] {
            let xe = point(gamma, &xr);
            let fe = f(&xe);
            if fe < fr {
                simplex[worst] = xe;
                fs[worst] = fe;
            } else {
                simplex[worst] = xr;
                fs[worst] = fr;
            }
            continue;
        }
        if fs[second] <= fr && fr < fs[worst] {
            let xc = point(rho, &xr);
            let fc = f(&xc);
            if fc <= fr {
                simplex[worst] = xc;
                fs[worst] = fc;
                continue;
            }
        } else {
            let xc = point(-rho, &xr);
            let fc = f(&xc);
            if fc < fs[worst] {
                simplex[worst] = xc;
                fs[worst] = fc;
                continue;
            }
        }
        // shrink towards the best
        let b = simplex[best].clone();
        for j in 0..=d {
            if j == best {
                continue;
            }
            let mut p: Vec<f64> = b
                .iter()
                .zip(&simplex[j])
                .map(|(bv, v)| bv + sigma * (v - bv))
                .collect();
            clamp(&mut p, lower, upper);
            fs[j] = f(&p);
            simplex[j] = p;
        }
    }
    // statsforecast's count: the index of the stopping iteration plus one
    let iterations = it + 1;
    Minimum {
        x: simplex[best].clone(),
        f: fs[best],
        iterations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_bounded_minimum() {
        // (x - 3)^2 + (y + 1)^2 with x <= 2: the minimum is at (2, -1)
        let mut f = |x: &[f64]| (x[0] - 3.0).powi(2) + (x[1] + 1.0).powi(2);
        let m = minimize(
            &mut f,
            &[0.5, 0.5],
            &[-10.0, -10.0],
            &[2.0, 10.0],
            Settings {
                tol_std: 1e-14,
                ..Settings::default()
            },
        );
        assert!(
            (m.x[0] - 2.0).abs() < 1e-5 && (m.x[1] + 1.0).abs() < 1e-5,
            "{m:?}"
        );
    }
}
