//! `rfm_segment(r_score, f_score)`: the named RFM segment of a recency and a frequency score
//! (1–5 each).

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_OTHER;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

/// The segment of (r, f) scores, following the common RFM segment grid.
pub fn segment(r: i64, f: i64) -> Option<&'static str> {
    Some(match (r, f) {
        (5, 5) | (5, 4) => "champions",
        (4, 5) | (4, 4) | (3, 5) | (3, 4) => "loyal customers",
        (5, 3) | (5, 2) | (4, 3) | (4, 2) => "potential loyalists",
        (5, 1) => "new customers",
        (4, 1) => "promising",
        (3, 3) => "need attention",
        (3, 2) | (3, 1) => "about to sleep",
        (2, 5) | (1, 5) => "cannot lose them",
        (2, 4) | (2, 3) | (1, 4) | (1, 3) => "at risk",
        (2, 2) | (2, 1) | (1, 2) | (1, 1) => "hibernating",
        _ => return None,
    })
}

/// The `rfm_segment` scalar function.
pub fn rfm_segment_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(RfmSegment {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RfmSegment {
    signature: Signature,
}

impl ScalarUDFImpl for RfmSegment {
    fn name(&self) -> &str {
        "rfm_segment"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        if t.len() != 2 {
            return plan_err!(
                "rfm_segment: expected 2 arguments (r_score, f_score), got {}",
                t.len()
            );
        }
        for (t, n) in t.iter().zip(["r_score", "f_score"]) {
            if !(t.is_integer() || t.is_null()) {
                return plan_err!(
                    "rfm_segment: argument {n} must be an integer score from 1 to 5; got {t}"
                );
            }
        }
        Ok(vec![DataType::Int64, DataType::Int64])
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [r, f] = arrays.as_slice() else {
            return exec_err!("rfm_segment: expected 2 arguments, got {}", arrays.len());
        };
        let (r, f) = (cast(r, &DataType::Int64)?, cast(f, &DataType::Int64)?);
        let (r, f) = (r.as_primitive::<Int64Type>(), f.as_primitive::<Int64Type>());
        let out: StringArray = (0..r.len())
            .map(|i| {
                if r.is_valid(i) && f.is_valid(i) {
                    segment(r.value(i), f.value(i))
                } else {
                    None
                }
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_OTHER,
                "The RFM segment of a recency score and a frequency score (1-5, 5 best): champions (55, 54), loyal customers (45, 44, 35, 34), potential loyalists (53, 52, 43, 42), new customers (51), promising (41), need attention (33), about to sleep (32, 31), cannot lose them (25, 15), at risk (24, 23, 14, 13), hibernating (22, 21, 12, 11). NULL when either score is NULL or outside 1-5.",
                "rfm_segment(r_score, f_score)",
            )
            .with_sql_example("SELECT rfm_segment(5, 4);  -- champions")
            .with_argument("r_score", "Recency score, 1-5 (5 = most recent).")
            .with_argument("f_score", "Frequency score, 1-5 (5 = most frequent).")
            .build()
        }))
    }
}
