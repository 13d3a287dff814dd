//! `quantile_bucket(x, n) OVER (...)`: the quantile bin of x among n bins fitted on the window
//! partition, numbered 0..n-1, as scikit-learn's
//! `KBinsDiscretizer(n_bins=n, encode='ordinal', strategy='quantile', quantile_method='linear')`.
//!
//! Unlike `NTILE`, equal values always share a bin, and bins whose edges coincide (heavily
//! tied data) are merged, so fewer than n bins may be used.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::window_doc_sections::DOC_SECTION_ANALYTICAL;
use datafusion::logical_expr::{
    Documentation, PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};

use super::{first_f64, fit_values, literal_arg, quantile_sorted, sorted, WholePartition};

const NAME: &str = "quantile_bucket";
const MAX_BINS: i64 = 10_000;

/// The `quantile_bucket` window function.
pub fn quantile_bucket_udwf() -> WindowUDF {
    WindowUDF::new_from_impl(QuantileBucket {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct QuantileBucket {
    signature: Signature,
}

/// Bin edges: quantiles at the percentiles `numpy.linspace(0, 100, n + 1)`, then every edge
/// within 1e-8 of the edge before it dropped (scikit-learn's rule for too-narrow bins).
fn edges(sorted_values: &[f64], n: usize) -> Vec<f64> {
    let step = 100.0 / n as f64;
    let mut raw = Vec::with_capacity(n + 1);
    for k in 0..=n {
        let level = if k == n { 100.0 } else { k as f64 * step };
        match quantile_sorted(sorted_values, level / 100.0) {
            Some(e) => raw.push(e),
            None => return vec![],
        }
    }
    raw.iter()
        .enumerate()
        .filter(|&(k, e)| k == 0 || e - raw[k - 1] > 1e-8)
        .map(|(_, e)| *e)
        .collect()
}

fn bucket(x: &Float64Array, n: usize) -> ArrayRef {
    let e = edges(&sorted(fit_values(x)), n);
    let inner = if e.len() >= 2 {
        &e[1..e.len() - 1]
    } else {
        &[][..]
    };
    let out: Int64Array = x
        .iter()
        .map(|v| {
            v.filter(|v| !v.is_nan())
                // numpy.searchsorted(inner_edges, v, side='right')
                .map(|v| inner.partition_point(|edge| *edge <= v) as i64)
        })
        .collect();
    Arc::new(out)
}

impl WindowUDFImpl for QuantileBucket {
    fn name(&self) -> &str {
        NAME
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let [x, n] = t else {
            return plan_err!("{NAME}: expected 2 arguments (x, n), got {}", t.len());
        };
        if !(x.is_numeric() || x.is_null()) {
            return plan_err!("{NAME}: argument x must be numeric; got {x}");
        }
        if !n.is_integer() {
            return plan_err!("{NAME}: argument n must be an integer number of bins; got {n}");
        }
        Ok(vec![DataType::Float64, DataType::Int64])
    }
    fn field(&self, args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(args.name(), DataType::Int64, true)))
    }
    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let n = match literal_arg(args.input_exprs(), 1, NAME, "n")? {
            ScalarValue::Int64(Some(n)) if (1..=MAX_BINS).contains(&n) => n as usize,
            other => {
                return plan_err!(
                    "{NAME}: argument n must be a number of bins from 1 to {MAX_BINS}; got {other}"
                )
            }
        };
        Ok(WholePartition::boxed(NAME, move |values, _| {
            Ok(bucket(first_f64(values, NAME)?, n))
        }))
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_ANALYTICAL,
                "The quantile bin (0 to n-1) of x among n equal-frequency bins fitted on its window partition (scikit-learn's KBinsDiscretizer with strategy 'quantile', quantile_method 'linear', ordinal encoding). Equal values share a bin; bins narrower than 1e-8 are merged, so tied data may use fewer bins. NULL and NaN give NULL and are not fitted on.",
                "quantile_bucket(x, n) OVER ([PARTITION BY g])",
            )
            .with_sql_example("SELECT customer_id, quantile_bucket(monetary, 4) OVER () AS spend_quartile FROM customer_rfm;")
            .with_argument("x", "Numeric column.")
            .with_argument("n", "Number of bins, 1 to 10000.")
            .build()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Int64Type;

    #[test]
    fn by_hand() {
        let x = Float64Array::from(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        let out = bucket(&x, 4);
        assert_eq!(
            out.as_primitive::<Int64Type>().values(),
            &[0, 0, 1, 1, 2, 2, 3, 3]
        );
        // all equal: one bin
        let c = Float64Array::from(vec![2.0, 2.0, 2.0]);
        assert_eq!(
            bucket(&c, 3).as_primitive::<Int64Type>().values(),
            &[0, 0, 0]
        );
    }
}
