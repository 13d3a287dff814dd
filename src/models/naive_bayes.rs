//! Naive Bayes, as scikit-learn's `GaussianNB` and `MultinomialNB`, for two or more classes.
//!
//! * `distribution = 'gaussian'` (default): class priors from class frequencies, per-class
//!   feature means and population variances, every variance widened by `var_smoothing` × the
//!   largest feature variance.
//! * `distribution = 'multinomial'`, for count features (items bought per category, visits):
//!   per class, P(feature) = (count + `alpha`) / (class total + `alpha` × features); a row
//!   scores Σ x_j log P(feature j). Features must be non-negative (use `scale = 'none'`).
//!
//! linfa-bayes has both models, but keeps their fitted statistics private, so they could not
//! be stored as plain Parquet; the fits are a few sums, written here.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::common::{exec_datafusion_err, exec_err, plan_err, Result};
use ndarray::{Array2, ArrayView1};

use super::options::ModelOptions;

/// Options of `type = 'naive_bayes'`.
pub const OPTIONS: &[&str] = &["distribution", "var_smoothing", "alpha"];

/// Which likelihood the features follow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NbHyper {
    /// Gaussian, with `var_smoothing` (1e-9).
    Gaussian(f64),
    /// Multinomial counts, with additive smoothing `alpha` (1.0).
    Multinomial(f64),
}

impl NbHyper {
    /// Reads and validates the type options.
    pub fn from_options(o: &ModelOptions) -> Result<Self> {
        let dist = o
            .raw
            .get("distribution")
            .map(|s| s.trim().to_ascii_lowercase());
        match dist.as_deref() {
            None | Some("gaussian") => {
                if o.raw.contains_key("alpha") {
                    return plan_err!("CREATE MODEL: option alpha applies to distribution = 'multinomial'; the gaussian model takes var_smoothing");
                }
                Ok(Self::Gaussian(o.number("var_smoothing", 1e-9, 0.0, 1.0)?))
            }
            Some("multinomial") => {
                if o.raw.contains_key("var_smoothing") {
                    return plan_err!("CREATE MODEL: option var_smoothing applies to distribution = 'gaussian'; the multinomial model takes alpha");
                }
                Ok(Self::Multinomial(o.number("alpha", 1.0, 1e-10, 1e6)?))
            }
            Some(other) => plan_err!(
                "CREATE MODEL: option distribution = '{other}'; expected gaussian or multinomial"
            ),
        }
    }
}

/// Fitted class statistics, classes in label order.
#[derive(Debug, Clone, PartialEq)]
pub struct NaiveBayes {
    /// Gaussian or multinomial.
    pub multinomial: bool,
    /// Class priors.
    pub prior: Vec<f64>,
    /// Per class and feature: the mean (gaussian) or the summed count (multinomial).
    pub mean: Vec<Vec<f64>>,
    /// Per class and feature: the smoothed variance (gaussian) or log P(feature | class)
    /// (multinomial).
    pub var: Vec<Vec<f64>>,
}

/// Fits on a matrix and class indices below `classes`.
pub fn fit(x: &Array2<f64>, y: &[u32], classes: usize, hyper: NbHyper) -> Result<NaiveBayes> {
    let (n, p) = x.dim();
    let mut count = vec![0usize; classes];
    for &c in y {
        count[c as usize] += 1;
    }
    if let Some(c) = count.iter().position(|&c| c == 0) {
        return exec_err!("CREATE MODEL: naive_bayes: class {c} has no training rows");
    }
    let prior: Vec<f64> = count.iter().map(|&c| c as f64 / n as f64).collect();
    let mut sum = vec![vec![0.0; p]; classes];
    for (i, row) in x.rows().into_iter().enumerate() {
        let s = &mut sum[y[i] as usize];
        for (j, v) in row.iter().enumerate() {
            s[j] += v;
        }
    }
    match hyper {
        NbHyper::Gaussian(var_smoothing) => {
            // epsilon from the variance of every feature over all rows
            let mut max_var: f64 = 0.0;
            for j in 0..p {
                let c = x.column(j);
                let m = c.sum() / n as f64;
                max_var = max_var.max(c.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64);
            }
            let eps = var_smoothing * max_var;
            let mean: Vec<Vec<f64>> = sum
                .iter()
                .zip(&count)
                .map(|(s, &c)| s.iter().map(|v| v / c as f64).collect())
                .collect();
            let mut var = vec![vec![0.0; p]; classes];
            for (i, row) in x.rows().into_iter().enumerate() {
                let k = y[i] as usize;
                for (j, v) in row.iter().enumerate() {
                    let d = v - mean[k][j];
                    var[k][j] += d * d;
                }
            }
            for (k, v) in var.iter_mut().enumerate() {
                for x in v.iter_mut() {
                    *x = *x / count[k] as f64 + eps;
                }
            }
            if var.iter().flatten().any(|v| *v <= 0.0) {
                return exec_err!("CREATE MODEL: naive_bayes: a feature is constant within a class and var_smoothing is 0; set var_smoothing > 0");
            }
            Ok(NaiveBayes {
                multinomial: false,
                prior,
                mean,
                var,
            })
        }
        NbHyper::Multinomial(alpha) => {
            if let Some(((i, j), v)) = x.indexed_iter().find(|(_, v)| v.is_nan() || **v < 0.0) {
                return exec_err!("CREATE MODEL: naive_bayes with distribution = 'multinomial' needs non-negative counts; feature {} of training row {} is {v} (use scale = 'none')", j + 1, i + 1);
            }
            let log_prob = sum
                .iter()
                .map(|s| {
                    let total: f64 = s.iter().sum::<f64>() + alpha * p as f64;
                    s.iter().map(|c| ((c + alpha) / total).ln()).collect()
                })
                .collect();
            Ok(NaiveBayes {
                multinomial: true,
                prior,
                mean: sum,
                var: log_prob,
            })
        }
    }
}

impl NaiveBayes {
    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.prior.len()
    }

    fn joint_log_likelihood(&self, row: ArrayView1<f64>, k: usize) -> f64 {
        let mut ll = self.prior[k].ln();
        if self.multinomial {
            for (x, lp) in row.iter().zip(&self.var[k]) {
                ll += x * lp;
            }
            return ll;
        }
        for (j, x) in row.iter().enumerate() {
            let (m, v) = (self.mean[k][j], self.var[k][j]);
            ll -= 0.5 * (2.0 * std::f64::consts::PI * v).ln() + (x - m) * (x - m) / (2.0 * v);
        }
        ll
    }

    /// Class probabilities per row (rows × classes). A multinomial model gives NaN for a row
    /// with a negative count.
    pub fn class_probabilities(&self, x: &Array2<f64>) -> Array2<f64> {
        let k = self.classes();
        let mut out = Array2::zeros((x.nrows(), k));
        let mut jll = vec![0.0; k];
        for (i, r) in x.rows().into_iter().enumerate() {
            if self.multinomial && r.iter().any(|v| *v < 0.0) {
                out.row_mut(i).fill(f64::NAN);
                continue;
            }
            for (c, l) in jll.iter_mut().enumerate() {
                *l = self.joint_log_likelihood(r, c);
            }
            if k == 2 {
                // the two-class softmax, without overflow
                let p = super::logistic::sigmoid(jll[1] - jll[0]);
                out[[i, 0]] = 1.0 - p;
                out[[i, 1]] = p;
                continue;
            }
            softmax_into(&jll, out.row_mut(i));
        }
        out
    }

    /// `naive_bayes.parquet`: distribution, class (index), feature, prior, mean, variance —
    /// for a multinomial model `mean` holds the class's summed count and `variance`
    /// log P(feature | class).
    pub fn to_batch(&self, names: &[String]) -> Result<RecordBatch> {
        let (mut class, mut feature, mut prior, mut mean, mut var) =
            (vec![], vec![], vec![], vec![], vec![]);
        for k in 0..self.classes() {
            for (j, n) in names.iter().enumerate() {
                class.push(k as f64);
                feature.push(n.clone());
                prior.push(self.prior[k]);
                mean.push(self.mean[k][j]);
                var.push(self.var[k][j]);
            }
        }
        let schema = Schema::new(vec![
            Field::new("distribution", DataType::Utf8, false),
            Field::new("class", DataType::Float64, false),
            Field::new("feature", DataType::Utf8, false),
            Field::new("prior", DataType::Float64, false),
            Field::new("mean", DataType::Float64, false),
            Field::new("variance", DataType::Float64, false),
        ]);
        let dist = if self.multinomial {
            "multinomial"
        } else {
            "gaussian"
        };
        Ok(RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(vec![dist; class.len()])),
                Arc::new(Float64Array::from(class)),
                Arc::new(StringArray::from(feature)),
                Arc::new(Float64Array::from(prior)),
                Arc::new(Float64Array::from(mean)),
                Arc::new(Float64Array::from(var)),
            ],
        )?)
    }

    /// Restores the table written by [`NaiveBayes::to_batch`] for `width` features and
    /// `classes` classes.
    pub fn from_batch(batch: &RecordBatch, width: usize, classes: usize) -> Result<Self> {
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
        if class.len() != classes * width {
            return exec_err!(
                "model store: naive_bayes.parquet has {} rows; expected {}",
                class.len(),
                classes * width
            );
        }
        // tables from before multinomial models have no distribution column: Gaussian
        let multinomial = match batch.column_by_name("distribution") {
            Some(d) => {
                let d = cast(d, &DataType::Utf8)?;
                let d = d.as_string::<i32>();
                !d.is_empty() && d.value(0) == "multinomial"
            }
            None => false,
        };
        let mut m = NaiveBayes {
            multinomial,
            prior: vec![0.0; classes],
            mean: vec![vec![0.0; width]; classes],
            var: vec![vec![1.0; width]; classes],
        };
        for r in 0..class.len() {
            let (k, j) = (class[r] as usize, r % width.max(1));
            if k >= classes || class[r] < 0.0 {
                return exec_err!("model store: naive_bayes.parquet has class {}", class[r]);
            }
            m.prior[k] = prior[r];
            m.mean[k][j] = mean[r];
            m.var[k][j] = var[r];
        }
        Ok(m)
    }
}

/// Writes softmax(z) into `out`, shifted by the maximum so it cannot overflow.
pub fn softmax_into(z: &[f64], mut out: ndarray::ArrayViewMut1<f64>) {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut s = 0.0;
    for (o, v) in out.iter_mut().zip(z) {
        *o = (v - m).exp();
        s += *o;
    }
    out.mapv_inplace(|v| v / s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // one feature: class 0 at 0, 2 (mean 1, var 1); class 1 at 4, 6 (mean 5, var 1)
        let x = Array2::from_shape_vec((4, 1), vec![0.0, 2.0, 4.0, 6.0]).unwrap();
        let m = fit(&x, &[0, 0, 1, 1], 2, NbHyper::Gaussian(0.0)).unwrap();
        assert_eq!(
            (m.mean[0][0], m.mean[1][0], m.var[0][0], m.var[1][0]),
            (1.0, 5.0, 1.0, 1.0)
        );
        // at x = 3 the classes are equally likely
        let p = m.class_probabilities(&Array2::from_shape_vec((1, 1), vec![3.0]).unwrap());
        assert!((p[[0, 1]] - 0.5).abs() < 1e-15);
        let back = NaiveBayes::from_batch(&m.to_batch(&["x".to_string()]).unwrap(), 1, 2).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn multinomial_by_hand() {
        // two count features, three classes of one row each; alpha = 1
        let x = Array2::from_shape_vec((3, 2), vec![3.0, 0.0, 0.0, 3.0, 1.0, 1.0]).unwrap();
        let m = fit(&x, &[0, 1, 2], 3, NbHyper::Multinomial(1.0)).unwrap();
        // class 0: P(f0) = 4/5, P(f1) = 1/5
        assert!((m.var[0][0] - (0.8f64).ln()).abs() < 1e-15);
        assert!((m.var[0][1] - (0.2f64).ln()).abs() < 1e-15);
        // a row (2, 0): scores ∝ prior · Π P^x: class 0 0.64, class 1 0.04, class 2 0.25
        let p = m.class_probabilities(&Array2::from_shape_vec((1, 2), vec![2.0, 0.0]).unwrap());
        let t = 0.64 + 0.04 + 0.25;
        for (c, e) in [0.64, 0.04, 0.25].iter().enumerate() {
            assert!((p[[0, c]] - e / t).abs() < 1e-12, "{c}: {}", p[[0, c]]);
        }
        let back = NaiveBayes::from_batch(
            &m.to_batch(&["a".to_string(), "b".to_string()]).unwrap(),
            2,
            3,
        )
        .unwrap();
        assert_eq!(back, m);
        let neg = Array2::from_shape_vec((1, 2), vec![-1.0, 0.0]).unwrap();
        assert!(fit(&neg, &[0], 1, NbHyper::Multinomial(1.0)).is_err());
    }
}
