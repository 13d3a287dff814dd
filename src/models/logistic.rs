//! Logistic regression, fitted with linfa-logistic (L-BFGS, L2 penalty `alpha` on the weights
//! but not the intercept: the objective of scikit-learn's `LogisticRegression` with
//! `C = 1 / alpha`): binary for two classes, multinomial (softmax, one weight vector per
//! class, as scikit-learn's default for more classes) for three or more.

use std::sync::Arc;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::array::{Float64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::common::{exec_datafusion_err, plan_err, Result};
use linfa::prelude::*;
use linfa_logistic::{LogisticRegression, MultiLogisticRegression};
use ndarray::{Array1, Array2};

use super::options::ModelOptions;

/// Options of `type = 'logistic_regression'`.
pub const OPTIONS: &[&str] = &["max_iterations", "alpha", "tolerance"];

/// Fitted weights of a linear model (logistic or linear regression).
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// One weight per (expanded, preprocessed) feature.
    pub weights: Vec<f64>,
    /// Intercept.
    pub intercept: f64,
}

/// Hyper-parameters with their defaults.
#[derive(Debug, Clone, Copy)]
pub struct LogisticHyper {
    /// L2 penalty (scikit-learn's 1/C). Default 1.0.
    pub alpha: f64,
    /// L-BFGS iteration cap. Default 1000.
    pub max_iterations: u64,
    /// Gradient-norm tolerance. Default 1e-6.
    pub tolerance: f64,
}

impl LogisticHyper {
    /// Reads and validates the type options.
    pub fn from_options(o: &ModelOptions) -> Result<Self> {
        Ok(Self {
            alpha: o.number("alpha", 1.0, 0.0, 1e12)?,
            max_iterations: o.integer("max_iterations", 1000, 1, 1_000_000)?,
            tolerance: o.number("tolerance", 1e-6, 1e-15, 1.0)?,
        })
    }
}

/// Fits on a dense matrix and 0/1 targets (1 = positive class).
pub fn fit(x: Array2<f64>, y: &[bool], hyper: LogisticHyper) -> Result<Weights> {
    let targets: Array1<usize> = y.iter().map(|&b| usize::from(b)).collect();
    // linfa minimises the summed loss; the tolerance is on the gradient of the mean loss (as
    // scikit-learn's), so it is scaled by the row count: an absolute tolerance on a sum of n
    // terms would demand more iterations the more rows there are.
    let n = targets.len().max(1) as f64;
    let dataset = Dataset::new(x, targets);
    let fitted = LogisticRegression::default()
        .alpha(hyper.alpha)
        .max_iterations(hyper.max_iterations)
        .gradient_tolerance(hyper.tolerance * n)
        .with_intercept(true)
        .fit(&dataset)
        .map_err(|e| {
            exec_datafusion_err!("CREATE MODEL: logistic_regression failed to fit: {e}")
        })?;
    // linfa calls the more frequent class "positive"; we want P(class 1).
    let flip = fitted.labels().pos.class == 0;
    let sign = if flip { -1.0 } else { 1.0 };
    let weights = fitted.params().iter().map(|w| sign * w).collect();
    Ok(Weights {
        weights,
        intercept: sign * fitted.intercept(),
    })
}

impl Weights {
    /// P(positive class) for each row of a preprocessed matrix.
    pub fn probabilities(&self, x: &Array2<f64>) -> Vec<f64> {
        self.linear(x).into_iter().map(sigmoid).collect()
    }

    /// x·w + intercept for each row of a preprocessed matrix (the logit, or a regression's
    /// prediction).
    pub fn linear(&self, x: &Array2<f64>) -> Vec<f64> {
        let w = Array1::from(self.weights.clone());
        x.dot(&w).iter().map(|z| z + self.intercept).collect()
    }

    /// Per-feature terms w_j·x_j of each row (they sum with the intercept to [`Self::linear`]).
    pub fn contributions(&self, x: &Array2<f64>) -> Array2<f64> {
        let w = Array1::from(self.weights.clone());
        x * &w
    }

    /// The `weights.parquet` table: feature, weight (intercept first as `(intercept)`).
    pub fn to_batch(&self, names: &[String]) -> Result<RecordBatch> {
        let mut feature = vec!["(intercept)".to_string()];
        feature.extend(names.iter().cloned());
        let mut weight = vec![self.intercept];
        weight.extend(self.weights.iter().copied());
        let schema = Arc::new(Schema::new(vec![
            Field::new("feature", DataType::Utf8, false),
            Field::new("weight", DataType::Float64, false),
        ]));
        Ok(RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(feature)),
                Arc::new(Float64Array::from(weight)),
            ],
        )?)
    }

    /// Restores weights, checking they match the expected feature names.
    pub fn from_batch(batch: &RecordBatch, names: &[String]) -> Result<Self> {
        let (Some(f), Some(w)) = (
            batch.column_by_name("feature"),
            batch.column_by_name("weight"),
        ) else {
            return plan_err!("model store: weights.parquet needs columns feature and weight");
        };
        let f = cast(f, &DataType::Utf8)?;
        let f = f.as_string::<i32>();
        let w = cast(w, &DataType::Float64)?;
        let w = w.as_primitive::<Float64Type>();
        if batch.num_rows() != names.len() + 1 || f.value(0) != "(intercept)" {
            return plan_err!(
                "model store: weights.parquet does not match the model's {} features",
                names.len()
            );
        }
        for (i, n) in names.iter().enumerate() {
            if f.value(i + 1) != n {
                return plan_err!(
                    "model store: weights.parquet row {} is '{}', expected '{n}'",
                    i + 1,
                    f.value(i + 1)
                );
            }
        }
        Ok(Self {
            intercept: w.value(0),
            weights: (1..w.len()).map(|i| w.value(i)).collect(),
        })
    }
}

/// Fitted weights of a multinomial logistic regression.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiWeights {
    /// features × classes.
    pub weights: Array2<f64>,
    /// One intercept per class.
    pub intercept: Array1<f64>,
}

/// Fits a multinomial model on class indices below `classes` (every class present).
pub fn fit_multi(
    x: Array2<f64>,
    y: &[u32],
    classes: usize,
    hyper: LogisticHyper,
) -> Result<MultiWeights> {
    let p = x.ncols();
    let targets: Array1<usize> = y.iter().map(|&c| c as usize).collect();
    let n = targets.len().max(1) as f64;
    let dataset = Dataset::new(x, targets);
    let fitted = MultiLogisticRegression::default()
        .alpha(hyper.alpha)
        .max_iterations(hyper.max_iterations)
        .gradient_tolerance(hyper.tolerance * n)
        .with_intercept(true)
        .fit(&dataset)
        .map_err(|e| {
            exec_datafusion_err!("CREATE MODEL: logistic_regression failed to fit: {e}")
        })?;
    // linfa orders its columns by its own class list; put them in class index order
    let mut weights = Array2::zeros((p, classes));
    let mut intercept = Array1::zeros(classes);
    for (col, &c) in fitted.classes().iter().enumerate() {
        if c >= classes {
            return plan_err!("CREATE MODEL: logistic_regression returned an unknown class {c}");
        }
        weights.column_mut(c).assign(&fitted.params().column(col));
        intercept[c] = fitted.intercept()[col];
    }
    Ok(MultiWeights { weights, intercept })
}

impl MultiWeights {
    /// Logits x·W + b (rows × classes).
    pub fn logits(&self, x: &Array2<f64>) -> Array2<f64> {
        x.dot(&self.weights) + &self.intercept
    }

    /// Class probabilities (softmax of the logits).
    pub fn class_probabilities(&self, x: &Array2<f64>) -> Array2<f64> {
        let mut z = self.logits(x);
        for mut row in z.rows_mut() {
            let v = row.to_vec();
            super::naive_bayes::softmax_into(&v, row.view_mut());
        }
        z
    }

    /// Per-feature terms w_jc·x_j of each row's class `class[i]` (they sum with that class's
    /// intercept to its logit).
    pub fn contributions(&self, x: &Array2<f64>, class: &[usize]) -> Array2<f64> {
        let mut out = x.clone();
        for (i, mut row) in out.rows_mut().into_iter().enumerate() {
            row *= &self.weights.column(class[i]);
        }
        out
    }

    /// The `weights.parquet` table of a multinomial model: class, feature, weight (each
    /// class's intercept first as `(intercept)`).
    pub fn to_batch(&self, names: &[String], classes: &[String]) -> Result<RecordBatch> {
        let (mut class, mut feature, mut weight) = (vec![], vec![], vec![]);
        for (c, cname) in classes.iter().enumerate() {
            class.push(cname.clone());
            feature.push("(intercept)".to_string());
            weight.push(self.intercept[c]);
            for (j, n) in names.iter().enumerate() {
                class.push(cname.clone());
                feature.push(n.clone());
                weight.push(self.weights[[j, c]]);
            }
        }
        let schema = Arc::new(Schema::new(vec![
            Field::new("class", DataType::Utf8, false),
            Field::new("feature", DataType::Utf8, false),
            Field::new("weight", DataType::Float64, false),
        ]));
        Ok(RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(class)),
                Arc::new(StringArray::from(feature)),
                Arc::new(Float64Array::from(weight)),
            ],
        )?)
    }

    /// Restores the table written by [`MultiWeights::to_batch`].
    pub fn from_batch(batch: &RecordBatch, names: &[String], classes: &[String]) -> Result<Self> {
        let (Some(c), Some(f), Some(w)) = (
            batch.column_by_name("class"),
            batch.column_by_name("feature"),
            batch.column_by_name("weight"),
        ) else {
            return plan_err!(
                "model store: weights.parquet needs columns class, feature and weight"
            );
        };
        let (c, f) = (cast(c, &DataType::Utf8)?, cast(f, &DataType::Utf8)?);
        let (c, f) = (c.as_string::<i32>(), f.as_string::<i32>());
        let w = cast(w, &DataType::Float64)?;
        let w = w.as_primitive::<Float64Type>();
        let per = names.len() + 1;
        if batch.num_rows() != per * classes.len() {
            return plan_err!(
                "model store: weights.parquet does not match the model's {} features and {} classes",
                names.len(),
                classes.len()
            );
        }
        let mut out = MultiWeights {
            weights: Array2::zeros((names.len(), classes.len())),
            intercept: Array1::zeros(classes.len()),
        };
        for (k, cname) in classes.iter().enumerate() {
            for j in 0..per {
                let r = k * per + j;
                let expected = if j == 0 {
                    "(intercept)"
                } else {
                    names[j - 1].as_str()
                };
                if c.value(r) != cname || f.value(r) != expected {
                    return plan_err!(
                        "model store: weights.parquet row {r} is ({}, {}), expected ({cname}, {expected})",
                        c.value(r),
                        f.value(r)
                    );
                }
                if j == 0 {
                    out.intercept[k] = w.value(r);
                } else {
                    out.weights[[j - 1, k]] = w.value(r);
                }
            }
        }
        Ok(out)
    }
}

/// The logistic function, computed without overflow.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}
