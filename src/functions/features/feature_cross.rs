//! `feature_cross(a, b, ...)`: the crossed category `a_b_...` of two or more categorical values,
//! as BigQuery ML's `ML.FEATURE_CROSS` names its crossed features.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{plan_err, Result};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_OTHER;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

const NAME: &str = "feature_cross";

/// The `feature_cross` scalar function.
pub fn feature_cross_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(FeatureCross {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct FeatureCross {
    signature: Signature,
}

impl ScalarUDFImpl for FeatureCross {
    fn name(&self) -> &str {
        NAME
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        if t.len() < 2 {
            return plan_err!(
                "{NAME}: expected 2 or more arguments (a, b, ...), got {}",
                t.len()
            );
        }
        for (i, dt) in t.iter().enumerate() {
            if matches!(
                dt,
                DataType::List(_)
                    | DataType::LargeList(_)
                    | DataType::Struct(_)
                    | DataType::Map(_, _)
            ) {
                return plan_err!("{NAME}: argument {} must be a scalar value (text, number, boolean, date); got {dt}", i + 1);
            }
        }
        Ok(vec![DataType::Utf8; t.len()])
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let texts: Vec<ArrayRef> = arrays
            .iter()
            .map(|a| cast(a, &DataType::Utf8))
            .collect::<std::result::Result<_, _>>()?;
        let texts: Vec<_> = texts.iter().map(|a| a.as_string::<i32>()).collect();
        let n = texts.first().map_or(0, |a| a.len());
        let mut b = StringBuilder::with_capacity(n, n * 16);
        let mut buf = String::new();
        for i in 0..n {
            if texts.iter().any(|a| a.is_null(i)) {
                b.append_null();
                continue;
            }
            buf.clear();
            for (k, a) in texts.iter().enumerate() {
                if k > 0 {
                    buf.push('_');
                }
                buf.push_str(a.value(i));
            }
            b.append_value(&buf);
        }
        Ok(ColumnarValue::Array(Arc::new(b.finish())))
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_OTHER,
                "Crosses two or more categorical values into one category, their text forms joined by '_' (as BigQuery ML's ML.FEATURE_CROSS names crossed features): feature_cross('DE', 'email') is 'DE_email'. NULL when any argument is NULL.",
                "feature_cross(a, b[, ...])",
            )
            .with_sql_example("SELECT customer_id, feature_cross(country, channel) AS country_channel FROM customers;")
            .with_argument("a", "A categorical value.")
            .with_argument("b", "A categorical value.")
            .build()
        }))
    }
}
