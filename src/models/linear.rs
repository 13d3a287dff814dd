//! Linear regression: ordinary least squares with linfa-linear, or ridge (L2 penalty `alpha` on
//! the weights, not the intercept — scikit-learn's `Ridge(alpha)`) by solving the centred normal
//! equations, which linfa-linear does not offer.

use datafusion::common::{exec_datafusion_err, exec_err, Result};
use linfa::prelude::*;
use linfa_linear::LinearRegression;
use ndarray::{Array1, Array2, Axis};

use super::logistic::Weights;
use super::options::ModelOptions;

/// Options of `type = 'linear_regression'`.
pub const OPTIONS: &[&str] = &["alpha"];

/// Hyper-parameters.
#[derive(Debug, Clone, Copy)]
pub struct LinearHyper {
    /// L2 penalty; 0 (the default) is ordinary least squares.
    pub alpha: f64,
}

impl LinearHyper {
    /// Reads and validates the type options.
    pub fn from_options(o: &ModelOptions) -> Result<Self> {
        Ok(Self {
            alpha: o.number("alpha", 0.0, 0.0, 1e12)?,
        })
    }
}

/// Fits y ≈ x·w + b.
pub fn fit(x: Array2<f64>, y: &[f64], hyper: LinearHyper) -> Result<Weights> {
    let y = Array1::from(y.to_vec());
    if hyper.alpha == 0.0 {
        let fitted = LinearRegression::new()
            .fit(&Dataset::new(x, y))
            .map_err(|e| exec_datafusion_err!("CREATE MODEL: linear_regression failed to fit: {e} (collinear features? try alpha > 0)"))?;
        return Ok(Weights {
            weights: fitted.params().to_vec(),
            intercept: fitted.intercept(),
        });
    }
    let (n, p) = x.dim();
    let x_mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(p));
    let y_mean = if n > 0 { y.sum() / n as f64 } else { 0.0 };
    let xc = &x - &x_mean;
    let yc = &y - y_mean;
    let mut a = xc.t().dot(&xc);
    for j in 0..p {
        a[[j, j]] += hyper.alpha;
    }
    let b = xc.t().dot(&yc);
    let w = cholesky_solve(&a, &b)?;
    Ok(Weights {
        intercept: y_mean - x_mean.dot(&w),
        weights: w.to_vec(),
    })
}

/// Solves a·x = b for a symmetric positive definite a.
fn cholesky_solve(a: &Array2<f64>, b: &Array1<f64>) -> Result<Array1<f64>> {
    let p = a.nrows();
    let mut l = Array2::<f64>::zeros((p, p));
    for i in 0..p {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
            if i == j {
                let d = a[[i, i]] - s;
                if d <= 0.0 {
                    return exec_err!("CREATE MODEL: linear_regression: the penalised system is not positive definite");
                }
                l[[i, i]] = d.sqrt();
            } else {
                l[[i, j]] = (a[[i, j]] - s) / l[[j, j]];
            }
        }
    }
    let mut z = Array1::<f64>::zeros(p);
    for i in 0..p {
        let s: f64 = (0..i).map(|k| l[[i, k]] * z[k]).sum();
        z[i] = (b[i] - s) / l[[i, i]];
    }
    let mut x = Array1::<f64>::zeros(p);
    for i in (0..p).rev() {
        let s: f64 = (i + 1..p).map(|k| l[[k, i]] * x[k]).sum();
        x[i] = (z[i] - s) / l[[i, i]];
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ols_and_ridge_by_hand() {
        // y = 1 + 2 x exactly
        let x = Array2::from_shape_vec((4, 1), vec![0.0, 1.0, 2.0, 3.0]).unwrap();
        let y = [1.0, 3.0, 5.0, 7.0];
        let w = fit(x.clone(), &y, LinearHyper { alpha: 0.0 }).unwrap();
        assert!(
            (w.weights[0] - 2.0).abs() < 1e-9 && (w.intercept - 1.0).abs() < 1e-9,
            "{w:?}"
        );
        // ridge, one feature: w = sxy / (sxx + alpha) with centred sums sxx = 5, sxy = 10
        let r = fit(x, &y, LinearHyper { alpha: 5.0 }).unwrap();
        assert!((r.weights[0] - 1.0).abs() < 1e-12, "{r:?}");
        assert!((r.intercept - (4.0 - 1.5)).abs() < 1e-12);
    }
}
