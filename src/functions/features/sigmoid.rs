//! `sigmoid(x)`: the logistic function 1 / (1 + e^-x).

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
use crate::models::logistic::sigmoid;

/// The `sigmoid` scalar function.
pub fn sigmoid_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(Sigmoid {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Sigmoid {
    signature: Signature,
}

impl ScalarUDFImpl for Sigmoid {
    fn name(&self) -> &str {
        "sigmoid"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        coerce_unary_numeric("sigmoid", "x", t)
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(x) = arrays
            .first()
            .and_then(|a| a.as_primitive_opt::<Float64Type>())
        else {
            return exec_err!("sigmoid: expected one Float64 argument");
        };
        let out: Float64Array = x.unary(sigmoid);
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_MATH,
                "The logistic function 1 / (1 + exp(-x)), computed without overflow: turns a logit (log-odds) into a probability. NULL gives NULL, NaN gives NaN, -inf gives 0 and inf gives 1.",
                "sigmoid(x)",
            )
            .with_sql_example("SELECT sigmoid(0.0);  -- 0.5")
            .with_argument("x", "A log-odds value.")
            .build()
        }))
    }
}
