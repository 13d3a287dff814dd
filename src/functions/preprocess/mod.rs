//! Preprocessing window functions, fitted over their window partition: `f(x) OVER ()` fits on
//! every row, `f(x) OVER (PARTITION BY g)` fits per group. An `ORDER BY` or frame in the `OVER`
//! clause does not change the fit: the statistic is always taken over the whole partition, as a
//! scikit-learn transformer's `fit_transform` would on that group.
//!
//! This module holds what the functions share: the evaluator that hands a whole partition to a
//! kernel, reading literal arguments, and the statistics (mean, population std, quantiles with
//! NumPy's linear interpolation).

pub mod impute;
pub mod label_encode;
pub mod min_max_scale;
pub mod quantile_bucket;
pub mod robust_scale;
pub mod session_id;
pub mod standard_scale;
pub mod winsorize;

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::{PartitionEvaluator, WindowUDF};
use datafusion::physical_expr::expressions::Literal;
use datafusion::physical_expr::PhysicalExpr;

/// All preprocessing window functions.
pub fn all() -> Vec<WindowUDF> {
    vec![
        standard_scale::standard_scale_udwf(),
        min_max_scale::min_max_scale_udwf(),
        robust_scale::robust_scale_udwf(),
        impute::impute_udwf(),
        winsorize::winsorize_udwf(),
        quantile_bucket::quantile_bucket_udwf(),
        label_encode::label_encode_udwf(),
        session_id::session_id_udwf(),
    ]
}

type Kernel = Box<dyn FnMut(&[ArrayRef], usize) -> Result<ArrayRef> + Send>;

/// A partition evaluator that sees the whole partition at once (no frame) and maps it to one
/// output value per row.
pub(crate) struct WholePartition {
    name: &'static str,
    kernel: Kernel,
}

impl WholePartition {
    /// Boxes a kernel for DataFusion.
    pub(crate) fn boxed(
        name: &'static str,
        kernel: impl FnMut(&[ArrayRef], usize) -> Result<ArrayRef> + Send + 'static,
    ) -> Box<dyn PartitionEvaluator> {
        Box::new(Self {
            name,
            kernel: Box::new(kernel),
        })
    }
}

impl fmt::Debug for WholePartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WholePartition({})", self.name)
    }
}

impl PartitionEvaluator for WholePartition {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        (self.kernel)(values, num_rows)
    }
    fn uses_window_frame(&self) -> bool {
        false
    }
}

/// The literal value of argument `idx` of a window function call.
pub(crate) fn literal_arg(
    exprs: &[Arc<dyn PhysicalExpr>],
    idx: usize,
    func: &str,
    arg: &str,
) -> Result<ScalarValue> {
    match exprs.get(idx) {
        Some(e) => match e.downcast_ref::<Literal>() {
            Some(l) => Ok(l.value().clone()),
            None => plan_err!("{func}: argument {arg} must be a constant; got the expression {e}"),
        },
        None => plan_err!("{func}: missing argument {arg}"),
    }
}

/// A number given as a literal argument (integers and decimals accepted).
pub(crate) fn literal_f64(
    exprs: &[Arc<dyn PhysicalExpr>],
    idx: usize,
    func: &str,
    arg: &str,
) -> Result<f64> {
    let v = literal_arg(exprs, idx, func, arg)?;
    if v.is_null() || !v.data_type().is_numeric() {
        return plan_err!(
            "{func}: argument {arg} must be a number; got {} {v}",
            v.data_type()
        );
    }
    match v.cast_to(&DataType::Float64)? {
        ScalarValue::Float64(Some(f)) => Ok(f),
        other => plan_err!("{func}: argument {arg} must be a number; got {other}"),
    }
}

/// Checks the arity of a window function and coerces argument 0 to Float64.
pub(crate) fn coerce_numeric_first(
    func: &str,
    signature: &str,
    types: &[DataType],
    arity: usize,
) -> Result<Vec<DataType>> {
    if types.len() != arity {
        return plan_err!(
            "{func}: expected {arity} argument(s) {signature}, got {}",
            types.len()
        );
    }
    let t = &types[0];
    if !(t.is_numeric() || t.is_null()) {
        return plan_err!("{func}: argument x must be numeric; got {t}");
    }
    let mut out = vec![DataType::Float64];
    out.extend(types[1..].iter().cloned());
    Ok(out)
}

/// The values of argument 0 as Float64 (it was coerced to Float64 by the signature).
pub(crate) fn first_f64<'a>(values: &'a [ArrayRef], func: &str) -> Result<&'a Float64Array> {
    match values
        .first()
        .and_then(|v| v.as_primitive_opt::<Float64Type>())
    {
        Some(a) => Ok(a),
        None => exec_err!("{func}: internal error: argument x is not Float64"),
    }
}

/// The non-NULL, non-NaN values of a column (the rows a statistic is fitted on).
pub(crate) fn fit_values(x: &Float64Array) -> Vec<f64> {
    x.iter().flatten().filter(|v| !v.is_nan()).collect()
}

/// Mean and population standard deviation (two passes), `None` when there are no values.
pub(crate) fn mean_std(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    Some((mean, var.sqrt()))
}

/// The `q`-quantile (0 ≤ q ≤ 1) of sorted values by NumPy's default "linear" method
/// (R's type 7), computed the way NumPy does: virtual index `q·(n−1)`, then a lerp that
/// starts from the nearer end.
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let virtual_index = q * (n - 1) as f64;
    let lo = virtual_index.floor().clamp(0.0, (n - 1) as f64);
    let gamma = virtual_index - lo;
    let lo = lo as usize;
    let hi = (lo + 1).min(n - 1);
    let (a, b) = (sorted[lo], sorted[hi]);
    let diff = b - a;
    Some(if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    })
}

/// Sorts values ascending (no NaN expected).
pub(crate) fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

/// Applies `f` to every non-NULL value; NaN stays NaN, NULL stays NULL.
pub(crate) fn map_values(x: &Float64Array, f: impl Fn(f64) -> f64) -> ArrayRef {
    let out: Float64Array = x
        .iter()
        .map(|v| v.map(|v| if v.is_nan() { v } else { f(v) }))
        .collect();
    Arc::new(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        // numpy.percentile([1, 2, 3, 4], [0, 25, 50, 75, 100]) = 1, 1.75, 2.5, 3.25, 4
        assert_eq!(quantile_sorted(&v, 0.0), Some(1.0));
        assert_eq!(quantile_sorted(&v, 0.25), Some(1.75));
        assert_eq!(quantile_sorted(&v, 0.5), Some(2.5));
        assert_eq!(quantile_sorted(&v, 0.75), Some(3.25));
        assert_eq!(quantile_sorted(&v, 1.0), Some(4.0));
        assert_eq!(quantile_sorted(&[7.0], 0.3), Some(7.0));
        assert_eq!(quantile_sorted(&[], 0.3), None);
    }

    #[test]
    fn population_std() {
        let (m, s) = mean_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!((m, s), (5.0, 2.0));
        assert_eq!(mean_std(&[]), None);
    }
}
