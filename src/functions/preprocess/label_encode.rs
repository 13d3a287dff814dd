//! `label_encode(x) OVER (...)`: the position of x among the sorted distinct values of its
//! window partition, 0..k-1, as scikit-learn's `LabelEncoder`.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type};
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::window_doc_sections::DOC_SECTION_ANALYTICAL;
use datafusion::logical_expr::{
    Documentation, PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};

use super::WholePartition;

const NAME: &str = "label_encode";

/// The `label_encode` window function.
pub fn label_encode_udwf() -> WindowUDF {
    WindowUDF::new_from_impl(LabelEncode {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct LabelEncode {
    signature: Signature,
}

/// Codes by rank among the distinct keys; NULL stays NULL.
fn codes<K: Ord + Clone>(keys: Vec<Option<K>>) -> ArrayRef {
    let mut index: BTreeMap<K, i64> = keys.iter().flatten().map(|k| (k.clone(), 0)).collect();
    for (i, v) in index.values_mut().enumerate() {
        *v = i as i64;
    }
    let out: Int64Array = keys
        .iter()
        .map(|k| k.as_ref().and_then(|k| index.get(k).copied()))
        .collect();
    Arc::new(out)
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct OrdF64(f64);
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

fn encode(x: &ArrayRef) -> Result<ArrayRef> {
    let dt = x.data_type();
    if matches!(
        dt,
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Boolean
    ) {
        let s = cast(x, &DataType::Utf8)?;
        let s = s.as_string::<i32>();
        Ok(codes(s.iter().collect()))
    } else if dt.is_integer() || dt.is_temporal() {
        let i = cast(x, &DataType::Int64)?;
        Ok(codes(i.as_primitive::<Int64Type>().iter().collect()))
    } else if dt.is_numeric() || dt.is_null() {
        let f = cast(x, &DataType::Float64)?;
        // -0.0 and 0.0 are one category; NaN is a category of its own, sorted last
        Ok(codes(
            f.as_primitive::<Float64Type>()
                .iter()
                .map(|v| v.map(|v| OrdF64(v + 0.0)))
                .collect(),
        ))
    } else {
        exec_err!("{NAME}: argument x must be text, boolean, a number or a date; got {dt}")
    }
}

impl WindowUDFImpl for LabelEncode {
    fn name(&self) -> &str {
        NAME
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let [x] = t else {
            return plan_err!("{NAME}: expected 1 argument (x), got {}", t.len());
        };
        let ok = x.is_numeric()
            || x.is_temporal()
            || x.is_null()
            || matches!(
                x,
                DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Boolean
            );
        if !ok {
            return plan_err!(
                "{NAME}: argument x must be text, boolean, a number or a date; got {x}"
            );
        }
        Ok(vec![x.clone()])
    }
    fn field(&self, args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(args.name(), DataType::Int64, true)))
    }
    fn partition_evaluator(
        &self,
        _args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(WholePartition::boxed(NAME, |values, _| {
            match values.first() {
                Some(x) => encode(x),
                None => exec_err!("{NAME}: missing argument x"),
            }
        }))
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_ANALYTICAL,
                "Encodes x as its position (0 to k-1) among the sorted distinct values of its window partition (scikit-learn's LabelEncoder). Text sorts by code point, booleans false before true, numbers numerically with NaN last as its own value. NULL stays NULL.",
                "label_encode(x) OVER ([PARTITION BY g])",
            )
            .with_sql_example("SELECT customer_id, label_encode(country) OVER () AS country_code FROM customers;")
            .with_argument("x", "Text, boolean, numeric or date column.")
            .build()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, StringArray};

    #[test]
    fn by_hand() {
        let x: ArrayRef = Arc::new(StringArray::from(vec![
            Some("b"),
            None,
            Some("a"),
            Some("b"),
        ]));
        let out = encode(&x).unwrap();
        let out = out.as_primitive::<Int64Type>();
        assert_eq!(
            (out.value(0), out.is_null(1), out.value(2), out.value(3)),
            (1, true, 0, 1)
        );
        let f: ArrayRef = Arc::new(Float64Array::from(vec![f64::NAN, 2.5, -1.0]));
        assert_eq!(
            encode(&f).unwrap().as_primitive::<Int64Type>().values(),
            &[2, 1, 0]
        );
    }
}
