//! `one_hot(x, ['a', 'b', ...])`: a list of 0/1 flags, one per category, 1 where x equals it.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{AsArray, Int32Builder, ListBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_OTHER;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};

use super::list_literal;

const NAME: &str = "one_hot";

/// The `one_hot` scalar function.
pub fn one_hot_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(OneHot {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct OneHot {
    signature: Signature,
}

fn item_field() -> Field {
    Field::new("item", DataType::Int32, false)
}

fn return_dt() -> DataType {
    DataType::List(Arc::new(item_field()))
}

/// The categories as text, distinct and non-NULL.
fn categories(v: Option<&ScalarValue>) -> Result<Vec<String>> {
    let items = list_literal(v, NAME, "categories", "['email', 'social']")?;
    let mut out: Vec<String> = vec![];
    for item in items {
        let s = match item.cast_to(&DataType::Utf8) {
            Ok(ScalarValue::Utf8(Some(s))) => s,
            _ => {
                return plan_err!(
                    "{NAME}: argument categories must hold non-NULL values; got {item}"
                )
            }
        };
        if out.contains(&s) {
            return plan_err!("{NAME}: argument categories lists '{s}' twice");
        }
        out.push(s);
    }
    if out.is_empty() {
        return plan_err!("{NAME}: argument categories must hold at least one category");
    }
    Ok(out)
}

impl ScalarUDFImpl for OneHot {
    fn name(&self) -> &str {
        NAME
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let [x, c] = t else {
            return plan_err!(
                "{NAME}: expected 2 arguments (x, categories), got {}",
                t.len()
            );
        };
        if matches!(
            x,
            DataType::List(_) | DataType::LargeList(_) | DataType::Struct(_) | DataType::Map(_, _)
        ) {
            return plan_err!(
                "{NAME}: argument x must be a scalar value (text, number, boolean); got {x}"
            );
        }
        Ok(vec![DataType::Utf8, c.clone()])
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(return_dt())
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        // A list written as [a, b] is still a make_array call here; it is checked in
        // simplify, once constant folding has turned it into a literal.
        if let Some(Some(v)) = args.scalar_arguments.get(1) {
            categories(Some(v))?;
        }
        Ok(Arc::new(Field::new(NAME, return_dt(), true)))
    }
    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        match args.get(1) {
            Some(Expr::Literal(v, _)) => categories(Some(v))?,
            _ => categories(None)?,
        };
        Ok(ExprSimplifyResult::Original(args))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let cats = match args.args.get(1) {
            Some(ColumnarValue::Scalar(v)) => categories(Some(v))?,
            _ => return exec_err!("{NAME}: argument categories must be a list literal"),
        };
        let index: HashMap<&str, usize> = cats
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let x = match args.args.first() {
            Some(x) => cast(&x.to_array(args.number_rows)?, &DataType::Utf8)?,
            None => return exec_err!("{NAME}: missing argument x"),
        };
        let mut b = ListBuilder::with_capacity(Int32Builder::new(), x.len())
            .with_field(Arc::new(item_field()));
        for v in x.as_string::<i32>().iter() {
            match v {
                Some(v) => {
                    let hot = index.get(v).copied();
                    for i in 0..cats.len() {
                        b.values().append_value(i32::from(hot == Some(i)));
                    }
                    b.append(true);
                }
                None => b.append(false),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(b.finish())))
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_OTHER,
                "One-hot encodes x against a fixed list of categories: a list of 0/1 integers, one per category, with 1 where x equals it (compared as text). A value outside the list gives all zeros, NULL gives NULL. The categories are a list literal, checked when the query is planned.",
                "one_hot(x, [category1, category2, ...])",
            )
            .with_sql_example("SELECT customer_id, one_hot(channel, ['organic', 'paid_search', 'social', 'email', 'referral']) AS channel_vec FROM customers;")
            .with_argument("x", "A categorical value.")
            .with_argument("categories", "List literal of distinct categories.")
            .build()
        }))
    }
}
