//! Gaussian naive Bayes for binary labels, as scikit-learn's `GaussianNB`: class priors from
//! class frequencies, per-class feature means and population variances, and every variance
//! widened by `var_smoothing` × the largest feature variance.
//!
//! linfa-bayes has the same model, but keeps its fitted means and variances private, so they
//! could not be stored as plain Parquet; the fit is a few sums, written here.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::common::{exec_datafusion_err, exec_err, Result};
use ndarray::{Array2, ArrayView1};

use super::options::ModelOptions;

/// Options of `type = 'naive_bayes'`.
pub const OPTIONS: &[&str] = &["var_smoothing"];

/// Fitted class statistics; index 0 = negative class, 1 = positive.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianNb {
    /// Class priors.
    pub prior: [f64; 2],
    /// Per class and feature: mean.
    pub mean: [Vec<f64>; 2],
    /// Per class and feature: smoothed variance.
    pub var: [Vec<f64>; 2],
}

/// Reads `var_smoothing` (1e-9).
pub fn var_smoothing(o: &ModelOptions) -> Result<f64> {
    o.number("var_smoothing", 1e-9, 0.0, 1.0)
}

/// Fits on a matrix and binary labels.
pub fn fit(x: &Array2<f64>, y: &[bool], var_smoothing: f64) -> Result<GaussianNb> {
    let (n, p) = x.dim();
    let count = [
        y.iter().filter(|b| !**b).count(),
        y.iter().filter(|b| **b).count(),
    ];
    if count[0] == 0 || count[1] == 0 {
        return exec_err!("CREATE MODEL: naive_bayes needs both classes in the training rows");
    }
    // epsilon from the variance of every feature over all rows
    let mut max_var: f64 = 0.0;
    for j in 0..p {
        let c = x.column(j);
        let m = c.sum() / n as f64;
        max_var = max_var.max(c.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64);
    }
    let eps = var_smoothing * max_var;
    let mut mean = [vec![0.0; p], vec![0.0; p]];
    let mut var = [vec![0.0; p], vec![0.0; p]];
    for k in 0..2 {
        let rows: Vec<usize> = (0..n).filter(|&i| y[i] == (k == 1)).collect();
        for j in 0..p {
            let m = rows.iter().map(|&i| x[[i, j]]).sum::<f64>() / rows.len() as f64;
            let v = rows
                .iter()
                .map(|&i| (x[[i, j]] - m) * (x[[i, j]] - m))
                .sum::<f64>()
                / rows.len() as f64;
            mean[k][j] = m;
            var[k][j] = v + eps;
        }
    }
    if var.iter().flatten().any(|v| *v <= 0.0) {
        return exec_err!("CREATE MODEL: naive_bayes: a feature is constant within a class and var_smoothing is 0; set var_smoothing > 0");
    }
    Ok(GaussianNb {
        prior: [count[0] as f64 / n as f64, count[1] as f64 / n as f64],
        mean,
        var,
    })
}

impl GaussianNb {
    fn joint_log_likelihood(&self, row: ArrayView1<f64>, k: usize) -> f64 {
        let mut ll = self.prior[k].ln();
        for (j, x) in row.iter().enumerate() {
            let (m, v) = (self.mean[k][j], self.var[k][j]);
            ll -= 0.5 * (2.0 * std::f64::consts::PI * v).ln() + (x - m) * (x - m) / (2.0 * v);
        }
        ll
    }

    /// P(positive class) per row.
    pub fn probabilities(&self, x: &Array2<f64>) -> Vec<f64> {
        x.rows()
            .into_iter()
            .map(|r| {
                let (a, b) = (
                    self.joint_log_likelihood(r, 0),
                    self.joint_log_likelihood(r, 1),
                );
                // softmax of two log-likelihoods, without overflow
                super::logistic::sigmoid(b - a)
            })
            .collect()
    }

    /// `naive_bayes.parquet`: class (0/1), feature, prior, mean, variance.
    pub fn to_batch(&self, names: &[String]) -> Result<RecordBatch> {
        let (mut class, mut feature, mut prior, mut mean, mut var) =
            (vec![], vec![], vec![], vec![], vec![]);
        for k in 0..2 {
            for (j, n) in names.iter().enumerate() {
                class.push(k as f64);
                feature.push(n.clone());
                prior.push(self.prior[k]);
                mean.push(self.mean[k][j]);
                var.push(self.var[k][j]);
            }
        }
        let schema = Schema::new(vec![
            Field::new("class", DataType::Float64, false),
            Field::new("feature", DataType::Utf8, false),
            Field::new("prior", DataType::Float64, false),
            Field::new("mean", DataType::Float64, false),
            Field::new("variance", DataType::Float64, false),
        ]);
        Ok(RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Float64Array::from(class)),
                Arc::new(StringArray::from(feature)),
                Arc::new(Float64Array::from(prior)),
                Arc::new(Float64Array::from(mean)),
                Arc::new(Float64Array::from(var)),
            ],
        )?)
    }

    /// Restores the table written by [`GaussianNb::to_batch`].
    pub fn from_batch(batch: &RecordBatch, width: usize) -> Result<Self> {
        let f = |name: &str| -> Result<Vec<f64>> {
            let c = batch.column_by_name(name).ok_or_else(|| {
                exec_datafusion_err!("model store: naive_bayes.parquet has no column '{name}'")
            })?;
            Ok(cast(c, &DataType::Float64)?
                .as_primitive::<Float64Type>()
                .values()
                .to_vec())
        };
        let (class, prior, mean, var) = (f("class")?, f("prior")?, f("mean")?, f("variance")?);
        if class.len() != 2 * width {
            return exec_err!(
                "model store: naive_bayes.parquet has {} rows; expected {}",
                class.len(),
                2 * width
            );
        }
        let mut m = GaussianNb {
            prior: [0.0; 2],
            mean: [vec![0.0; width], vec![0.0; width]],
            var: [vec![1.0; width], vec![1.0; width]],
        };
        for r in 0..class.len() {
            let (k, j) = (class[r] as usize, r % width.max(1));
            if k > 1 {
                return exec_err!("model store: naive_bayes.parquet has class {k}");
            }
            m.prior[k] = prior[r];
            m.mean[k][j] = mean[r];
            m.var[k][j] = var[r];
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // one feature: class 0 at 0, 2 (mean 1, var 1); class 1 at 4, 6 (mean 5, var 1)
        let x = Array2::from_shape_vec((4, 1), vec![0.0, 2.0, 4.0, 6.0]).unwrap();
        let m = fit(&x, &[false, false, true, true], 0.0).unwrap();
        assert_eq!(
            (m.mean[0][0], m.mean[1][0], m.var[0][0], m.var[1][0]),
            (1.0, 5.0, 1.0, 1.0)
        );
        // at x = 3 the classes are equally likely
        let p = m.probabilities(&Array2::from_shape_vec((1, 1), vec![3.0]).unwrap());
        assert!((p[0] - 0.5).abs() < 1e-15);
        let back = GaussianNb::from_batch(&m.to_batch(&["x".to_string()]).unwrap(), 1).unwrap();
        assert_eq!(back, m);
    }
}
