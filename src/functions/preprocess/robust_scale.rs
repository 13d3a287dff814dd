//! `robust_scale(x) OVER (...)`: `(x − median) / (q75 − q25)` over the window partition, as
//! scikit-learn's `RobustScaler` with its defaults (quantiles by NumPy's linear method).

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::window_doc_sections::DOC_SECTION_ANALYTICAL;
use datafusion::logical_expr::{
    Documentation, PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};

use super::{
    coerce_numeric_first, first_f64, fit_values, map_values, quantile_sorted, sorted,
    WholePartition,
};

const NAME: &str = "robust_scale";

/// The `robust_scale` window function.
pub fn robust_scale_udwf() -> WindowUDF {
    WindowUDF::new_from_impl(RobustScale {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RobustScale {
    signature: Signature,
}

/// An interquartile range of 0 scales by 1, as scikit-learn does.
fn scale(x: &Float64Array) -> ArrayRef {
    let v = sorted(fit_values(x));
    let (Some(median), Some(q25), Some(q75)) = (
        quantile_sorted(&v, 0.5),
        quantile_sorted(&v, 0.25),
        quantile_sorted(&v, 0.75),
    ) else {
        return map_values(x, |v| v);
    };
    // scikit-learn's _handle_zeros_in_scale: a range below 10 eps counts as 0
    let iqr = if q75 - q25 < 10.0 * f64::EPSILON {
        1.0
    } else {
        q75 - q25
    };
    map_values(x, |v| (v - median) / iqr)
}

impl WindowUDFImpl for RobustScale {
    fn name(&self) -> &str {
        NAME
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        coerce_numeric_first(NAME, "(x)", t, 1)
    }
    fn field(&self, args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(args.name(), DataType::Float64, true)))
    }
    fn partition_evaluator(
        &self,
        _args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(WholePartition::boxed(NAME, |values, _| {
            Ok(scale(first_f64(values, NAME)?))
        }))
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_ANALYTICAL,
                "Scales x robustly to outliers over its window partition: (x - median) / (q75 - q25), quantiles by linear interpolation (scikit-learn's RobustScaler). NULL stays NULL and NaN stays NaN, and neither counts towards the quantiles. An interquartile range of 0 divides by 1.",
                "robust_scale(x) OVER ([PARTITION BY g])",
            )
            .with_sql_example("SELECT customer_id, robust_scale(monetary) OVER () AS monetary_r FROM customer_rfm;")
            .with_argument("x", "Numeric column.")
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
        // median 2.5, q25 1.75, q75 3.25: iqr 1.5
        let x = Float64Array::from(vec![1.0, 2.0, 3.0, 4.0]);
        let out = scale(&x);
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.value(0), -1.5 / 1.5);
        assert_eq!(out.value(3), 1.5 / 1.5);
    }
}
