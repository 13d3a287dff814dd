//! Feature scalars: bucketing, hashing, one-hot encoding, crossing, and the logistic link.

pub mod bucketize;
pub mod feature_cross;
pub mod hash_bucket;
pub mod logit;
pub mod one_hot;
pub mod sigmoid;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;

/// All feature scalars.
pub fn all() -> Vec<ScalarUDF> {
    vec![
        bucketize::bucketize_udf(),
        hash_bucket::hash_bucket_udf(),
        one_hot::one_hot_udf(),
        feature_cross::feature_cross_udf(),
        sigmoid::sigmoid_udf(),
        logit::logit_udf(),
    ]
}

/// Coerces the single numeric argument of a unary math function to Float64.
pub(crate) fn coerce_unary_numeric(func: &str, arg: &str, t: &[DataType]) -> Result<Vec<DataType>> {
    match t {
        [x] if x.is_numeric() || x.is_null() => Ok(vec![DataType::Float64]),
        [x] => plan_err!("{func}: argument {arg} must be numeric; got {x}"),
        _ => plan_err!("{func}: expected 1 argument ({arg}), got {}", t.len()),
    }
}

/// The elements of a list literal argument (`[1, 2, 3]` or `make_array(...)` after constant
/// folding).
pub(crate) fn list_literal(
    v: Option<&ScalarValue>,
    func: &str,
    arg: &str,
    example: &str,
) -> Result<Vec<ScalarValue>> {
    let array = match v {
        Some(ScalarValue::List(a)) => a.values().clone(),
        Some(ScalarValue::LargeList(a)) => a.values().clone(),
        Some(ScalarValue::FixedSizeList(a)) => a.values().clone(),
        Some(other) => return plan_err!("{func}: argument {arg} must be a list literal such as {example}; got {} {other}", other.data_type()),
        None => return plan_err!("{func}: argument {arg} must be a list literal such as {example}; got a column or expression"),
    };
    (0..array.len())
        .map(|i| ScalarValue::try_from_array(&array, i))
        .collect()
}
