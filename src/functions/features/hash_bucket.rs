//! `hash_bucket(x, n)`: a stable hash of x's text form modulo n, for hashing high-cardinality
//! categories (product ids, postcodes) into a fixed number of features.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{AsArray, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_HASHING;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};

use crate::models::train::stable_hash;

const NAME: &str = "hash_bucket";

/// The `hash_bucket` scalar function.
pub fn hash_bucket_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(HashBucket {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct HashBucket {
    signature: Signature,
}

fn buckets(v: Option<&ScalarValue>) -> Result<u64> {
    match v {
        Some(ScalarValue::Int64(Some(n))) if *n >= 1 => Ok(*n as u64),
        Some(other) => {
            plan_err!("{NAME}: argument n must be a positive integer literal; got {other}")
        }
        None => plan_err!(
            "{NAME}: argument n must be a positive integer literal; got a column or expression"
        ),
    }
}

impl ScalarUDFImpl for HashBucket {
    fn name(&self) -> &str {
        NAME
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let [x, n] = t else {
            return plan_err!("{NAME}: expected 2 arguments (x, n), got {}", t.len());
        };
        if !n.is_integer() {
            return plan_err!("{NAME}: argument n must be an integer number of buckets; got {n}");
        }
        if matches!(
            x,
            DataType::List(_) | DataType::LargeList(_) | DataType::Struct(_) | DataType::Map(_, _)
        ) {
            return plan_err!(
                "{NAME}: argument x must be a scalar value (text, number, boolean, date); got {x}"
            );
        }
        Ok(vec![DataType::Utf8, DataType::Int64])
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        // A constant expression such as 4 * 16 is folded only later; it is checked in simplify.
        if let Some(Some(v)) = args.scalar_arguments.get(1) {
            buckets(Some(v))?;
        }
        Ok(Arc::new(Field::new(NAME, DataType::Int64, true)))
    }
    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        match args.get(1) {
            Some(Expr::Literal(v, _)) => buckets(Some(v))?,
            _ => buckets(None)?,
        };
        Ok(ExprSimplifyResult::Original(args))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = match args.args.get(1) {
            Some(ColumnarValue::Scalar(v)) => buckets(Some(v))?,
            _ => return exec_err!("{NAME}: argument n must be an integer literal"),
        };
        let x = match args.args.first() {
            Some(x) => cast(&x.to_array(args.number_rows)?, &DataType::Utf8)?,
            None => return exec_err!("{NAME}: missing argument x"),
        };
        let out: Int64Array = x
            .as_string::<i32>()
            .iter()
            .map(|s| s.map(|s| (stable_hash(s.as_bytes()) % n) as i64))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_HASHING,
                "A bucket from 0 to n-1 for x: a 64-bit FNV-1a hash (with a SplitMix64 finaliser) of x's text form, CAST(x AS VARCHAR), modulo n. Stable across runs, machines and versions (the same hash as split = 'hash:...'), so 42 and '42' share a bucket. NULL gives NULL.",
                "hash_bucket(x, n)",
            )
            .with_sql_example("SELECT product_id, hash_bucket(product_id, 64) AS product_bucket FROM order_items;")
            .with_argument("x", "Any scalar value.")
            .with_argument("n", "Number of buckets, a positive integer literal.")
            .build()
        }))
    }
}
