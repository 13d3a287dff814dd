//! `standard_scale(x) OVER (...)`: `(x − mean) / std` with the mean and population standard
//! deviation of the window partition, as scikit-learn's `StandardScaler`.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::window_doc_sections::DOC_SECTION_ANALYTICAL;
use datafusion::logical_expr::{
    Documentation, PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};

use super::{coerce_numeric_first, first_f64, fit_values, map_values, mean_std, WholePartition};

const NAME: &str = "standard_scale";

/// The `standard_scale` window function.
pub fn standard_scale_udwf() -> WindowUDF {
    WindowUDF::new_from_impl(StandardScale {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct StandardScale {
    signature: Signature,
}

/// Scales with a fitted mean and std; a constant column (std 0) scales by 1, as scikit-learn
/// does, so every value becomes 0.
fn scale(x: &datafusion::arrow::array::Float64Array) -> datafusion::arrow::array::ArrayRef {
    match mean_std(&fit_values(x)) {
        Some((mean, std)) => {
            let s = if std == 0.0 { 1.0 } else { std };
            map_values(x, |v| (v - mean) / s)
        }
        None => map_values(x, |v| v),
    }
}

impl WindowUDFImpl for StandardScale {
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
                "Standardises x over its window partition: (x - mean) / std, with the population standard deviation (scikit-learn's StandardScaler). OVER () fits on all rows, OVER (PARTITION BY g) per group; ORDER BY and frames do not change the fit. NULL stays NULL and NaN stays NaN, and neither counts towards the mean and std. A constant partition gives 0; a partition with no values gives NULL.",
                "standard_scale(x) OVER ([PARTITION BY g])",
            )
            .with_sql_example("SELECT customer_id, standard_scale(monetary) OVER () AS monetary_z FROM customer_rfm;")
            .with_argument("x", "Numeric column.")
            .build()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, Float64Array};
    use datafusion::arrow::datatypes::Float64Type;

    #[test]
    fn by_hand() {
        let x = Float64Array::from(vec![Some(2.0), None, Some(4.0), Some(f64::NAN), Some(6.0)]);
        let out = scale(&x);
        let out = out.as_primitive::<Float64Type>();
        let s = (8.0f64 / 3.0).sqrt();
        assert_eq!(out.value(0), -2.0 / s);
        assert!(out.is_null(1));
        assert_eq!(out.value(2), 0.0);
        assert!(out.value(3).is_nan());
        assert_eq!(out.value(4), 2.0 / s);
        let c = Float64Array::from(vec![3.0, 3.0]);
        assert_eq!(
            scale(&c).as_primitive::<Float64Type>().values(),
            &[0.0, 0.0]
        );
    }
}
