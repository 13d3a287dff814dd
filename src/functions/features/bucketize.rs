//! `bucketize(x, [e1, e2, ...])`: the number of bucket edges at or below x, i.e. bucket 0 below
//! the first edge, bucket i for e_i <= x < e_(i+1), and len(edges) at or above the last edge
//! (`numpy.digitize(x, edges)`).

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{AsArray, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};

use super::list_literal;

const NAME: &str = "bucketize";

/// The `bucketize` scalar function.
pub fn bucketize_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(Bucketize {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Bucketize {
    signature: Signature,
}

/// Reads and checks the edges: numbers, no NULL or NaN, strictly ascending, at least one.
fn edges(v: Option<&ScalarValue>) -> Result<Vec<f64>> {
    let items = list_literal(v, NAME, "edges", "[0, 10, 100]")?;
    let mut out = vec![];
    for item in items {
        let f = match item.cast_to(&DataType::Float64) {
            Ok(ScalarValue::Float64(Some(f))) if !f.is_nan() && item.data_type().is_numeric() => f,
            _ => {
                return plan_err!(
                    "{NAME}: argument edges must hold numbers (no NULL or NaN); got {item}"
                )
            }
        };
        if out.last().is_some_and(|last| f <= *last) {
            return plan_err!(
                "{NAME}: argument edges must be strictly ascending; got {f} after {}",
                out.last().copied().unwrap_or_default()
            );
        }
        out.push(f);
    }
    if out.is_empty() {
        return plan_err!("{NAME}: argument edges must hold at least one edge, e.g. [0, 10, 100]");
    }
    Ok(out)
}

impl ScalarUDFImpl for Bucketize {
    fn name(&self) -> &str {
        NAME
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let [x, e] = t else {
            return plan_err!("{NAME}: expected 2 arguments (x, edges), got {}", t.len());
        };
        if !(x.is_numeric() || x.is_null()) {
            return plan_err!("{NAME}: argument x must be numeric; got {x}");
        }
        Ok(vec![DataType::Float64, e.clone()])
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        // A list written as [a, b] is still a make_array call here; it is checked in
        // simplify, once constant folding has turned it into a literal.
        if let Some(Some(v)) = args.scalar_arguments.get(1) {
            edges(Some(v))?;
        }
        Ok(Arc::new(Field::new(NAME, DataType::Int64, true)))
    }
    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        match args.get(1) {
            Some(Expr::Literal(v, _)) => edges(Some(v))?,
            _ => edges(None)?,
        };
        Ok(ExprSimplifyResult::Original(args))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let edges = match args.args.get(1) {
            Some(ColumnarValue::Scalar(v)) => edges(Some(v))?,
            _ => return exec_err!("{NAME}: argument edges must be a list literal"),
        };
        let x = match args.args.first() {
            Some(x) => x.to_array(args.number_rows)?,
            None => return exec_err!("{NAME}: missing argument x"),
        };
        let Some(x) = x.as_primitive_opt::<Float64Type>() else {
            return exec_err!("{NAME}: internal error: x is not Float64");
        };
        let out: Int64Array = x
            .iter()
            .map(|v| {
                v.filter(|v| !v.is_nan())
                    .map(|v| edges.partition_point(|e| *e <= v) as i64)
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_MATH,
                "The bucket of x between fixed, strictly ascending edges: 0 below the first edge, i when edge i <= x < edge i+1, and the number of edges at or above the last (numpy.digitize). NULL and NaN give NULL. The edges are a list literal, checked when the query is planned.",
                "bucketize(x, [edge1, edge2, ...])",
            )
            .with_sql_example("SELECT bucketize(age, [18, 25, 35, 50, 65]) AS age_band FROM customers;")
            .with_argument("x", "Numeric value.")
            .with_argument("edges", "List literal of strictly ascending numbers.")
            .build()
        }))
    }
}
