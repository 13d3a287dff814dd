//! `winsorize(x, lo_q, hi_q) OVER (...)`: clips x to the `lo_q` and `hi_q` quantiles of the
//! window partition (NumPy's linear quantiles), i.e.
//! `numpy.clip(x, numpy.quantile(x, lo_q), numpy.quantile(x, hi_q))`.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{plan_err, Result};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::window_doc_sections::DOC_SECTION_ANALYTICAL;
use datafusion::logical_expr::{
    Documentation, PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};

use super::{
    first_f64, fit_values, literal_f64, map_values, quantile_sorted, sorted, WholePartition,
};

const NAME: &str = "winsorize";

/// The `winsorize` window function.
pub fn winsorize_udwf() -> WindowUDF {
    WindowUDF::new_from_impl(Winsorize {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Winsorize {
    signature: Signature,
}

fn clip(x: &Float64Array, lo_q: f64, hi_q: f64) -> ArrayRef {
    let v = sorted(fit_values(x));
    match (quantile_sorted(&v, lo_q), quantile_sorted(&v, hi_q)) {
        (Some(lo), Some(hi)) => map_values(x, |v| v.clamp(lo, hi)),
        _ => map_values(x, |v| v),
    }
}

impl WindowUDFImpl for Winsorize {
    fn name(&self) -> &str {
        NAME
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        if t.len() != 3 {
            return plan_err!(
                "{NAME}: expected 3 arguments (x, lo_q, hi_q), got {}",
                t.len()
            );
        }
        for (dt, arg) in t.iter().zip(["x", "lo_q", "hi_q"]) {
            if !(dt.is_numeric() || dt.is_null()) {
                return plan_err!("{NAME}: argument {arg} must be numeric; got {dt}");
            }
        }
        Ok(vec![DataType::Float64; 3])
    }
    fn field(&self, args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(args.name(), DataType::Float64, true)))
    }
    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let lo = literal_f64(args.input_exprs(), 1, NAME, "lo_q")?;
        let hi = literal_f64(args.input_exprs(), 2, NAME, "hi_q")?;
        if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo > hi {
            return plan_err!(
                "{NAME}: arguments lo_q and hi_q must be quantiles with 0 <= lo_q <= hi_q <= 1; got {lo} and {hi}"
            );
        }
        Ok(WholePartition::boxed(NAME, move |values, _| {
            Ok(clip(first_f64(values, NAME)?, lo, hi))
        }))
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_ANALYTICAL,
                "Clips x to the lo_q and hi_q quantiles of its window partition (linear interpolation, as numpy.quantile), taming outliers before a model. NULL stays NULL and NaN stays NaN, and neither counts towards the quantiles.",
                "winsorize(x, lo_q, hi_q) OVER ([PARTITION BY g])",
            )
            .with_sql_example("SELECT customer_id, winsorize(monetary, 0.01, 0.99) OVER () AS monetary FROM customer_rfm;")
            .with_argument("x", "Numeric column.")
            .with_argument("lo_q", "Lower quantile, 0 to 1.")
            .with_argument("hi_q", "Upper quantile, lo_q to 1.")
            .build()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Float64Type;

    #[test]
    fn by_hand() {
        let x = Float64Array::from(vec![1.0, 2.0, 3.0, 4.0]);
        let out = clip(&x, 0.25, 0.75);
        assert_eq!(
            out.as_primitive::<Float64Type>().values(),
            &[1.75, 2.0, 3.0, 3.25]
        );
    }
}
