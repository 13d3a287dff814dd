//! `min_max_scale(x) OVER (...)`: `(x − min) / (max − min)` over the window partition, as
//! scikit-learn's `MinMaxScaler` with the default range (0, 1).

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::window_doc_sections::DOC_SECTION_ANALYTICAL;
use datafusion::logical_expr::{
    Documentation, PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};

use super::{coerce_numeric_first, first_f64, fit_values, map_values, WholePartition};

const NAME: &str = "min_max_scale";

/// The `min_max_scale` window function.
pub fn min_max_scale_udwf() -> WindowUDF {
    WindowUDF::new_from_impl(MinMaxScale {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MinMaxScale {
    signature: Signature,
}

/// A constant column (range 0) scales by 1, as scikit-learn does, so every value becomes 0.
fn scale(x: &Float64Array) -> ArrayRef {
    let v = fit_values(x);
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if v.is_empty() {
        return map_values(x, |v| v);
    }
    // scikit-learn's _handle_zeros_in_scale: a range below 10 eps counts as 0
    let range = if max - min < 10.0 * f64::EPSILON {
        1.0
    } else {
        max - min
    };
    map_values(x, |v| (v - min) / range)
}

impl WindowUDFImpl for MinMaxScale {
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
                "Rescales x to [0, 1] over its window partition: (x - min) / (max - min) (scikit-learn's MinMaxScaler). OVER () fits on all rows, OVER (PARTITION BY g) per group. NULL stays NULL and NaN stays NaN, and neither counts towards min and max. A constant partition gives 0.",
                "min_max_scale(x) OVER ([PARTITION BY g])",
            )
            .with_sql_example("SELECT customer_id, min_max_scale(frequency) OVER (PARTITION BY country) AS f01 FROM customer_features;")
            .with_argument("x", "Numeric column.")
            .build()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Float64Type;

    #[test]
    fn by_hand() {
        let x = Float64Array::from(vec![Some(2.0), None, Some(4.0), Some(6.0)]);
        let out = scale(&x);
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.value(0), 0.0);
        assert!(out.is_null(1));
        assert_eq!(out.value(2), 0.5);
        assert_eq!(out.value(3), 1.0);
    }
}
