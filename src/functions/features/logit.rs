//! `logit(p)`: the log-odds ln(p / (1 − p)), the inverse of `sigmoid`.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::coerce_unary_numeric;

/// The `logit` scalar function.
pub fn logit_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(Logit {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Logit {
    signature: Signature,
}

/// ln(p / (1 − p)); outside [0, 1] the log-odds are undefined and the result is NaN.
fn logit(p: f64) -> f64 {
    if (0.0..=1.0).contains(&p) {
        (p / (1.0 - p)).ln()
    } else {
        f64::NAN
    }
}

impl ScalarUDFImpl for Logit {
    fn name(&self) -> &str {
        "logit"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        coerce_unary_numeric("logit", "p", t)
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(p) = arrays
            .first()
            .and_then(|a| a.as_primitive_opt::<Float64Type>())
        else {
            return exec_err!("logit: expected one Float64 argument");
        };
        let out: Float64Array = p.unary(logit);
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_MATH,
                "The log-odds ln(p / (1 - p)) of a probability, the inverse of sigmoid. logit(0) is -inf and logit(1) is inf; p outside [0, 1] or NaN gives NaN, like ln of a negative number; NULL gives NULL.",
                "logit(p)",
            )
            .with_sql_example("SELECT logit(predict_proba('churn', recency_days, frequency)) AS log_odds FROM customer_features;")
            .with_argument("p", "A probability.")
            .build()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        assert_eq!(logit(0.5), 0.0);
        assert_eq!(logit(0.0), f64::NEG_INFINITY);
        assert_eq!(logit(1.0), f64::INFINITY);
        assert!(logit(1.5).is_nan() && logit(f64::NAN).is_nan());
        assert!((crate::models::logistic::sigmoid(logit(0.8)) - 0.8).abs() < 1e-15);
    }
}
