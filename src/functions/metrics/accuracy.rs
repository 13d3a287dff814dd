//! `accuracy(pred, label)`: the share of rows where the prediction equals the label. Works for
//! any number of classes (numbers, booleans or text).

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::kernels::cmp::eq;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, UInt64Type};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, Signature, Volatility,
};

/// The `accuracy` aggregate.
pub fn accuracy_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(Accuracy {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Accuracy {
    signature: Signature,
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

impl AggregateUDFImpl for Accuracy {
    fn name(&self) -> &str {
        "accuracy"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let [a, b] = t else {
            return plan_err!(
                "accuracy: expected 2 arguments (pred, label), got {}",
                t.len()
            );
        };
        let numeric =
            |t: &DataType| t.is_numeric() || matches!(t, DataType::Boolean | DataType::Null);
        if numeric(a) && numeric(b) {
            Ok(vec![DataType::Float64, DataType::Float64])
        } else if (is_text(a) || a.is_null()) && (is_text(b) || b.is_null()) {
            Ok(vec![DataType::Utf8, DataType::Utf8])
        } else {
            plan_err!("accuracy: pred and label must both be numbers/booleans or both text; got {a} and {b}")
        }
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(AccuracyAcc {
            correct: 0,
            total: 0,
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format!("{}[correct]", args.name),
                DataType::UInt64,
                true,
            )),
            Arc::new(Field::new(
                format!("{}[total]", args.name),
                DataType::UInt64,
                true,
            )),
        ])
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_GENERAL,
                "The share of rows where pred equals label (scikit-learn's accuracy_score). Any classes: numbers and booleans compare as numbers, text as text. Rows where either side is NULL are ignored; empty input gives NULL.",
                "accuracy(pred, label)",
            )
            .with_sql_example("SELECT accuracy(predict('churn', recency_days, frequency), churned) FROM test_features;")
            .with_argument("pred", "Predicted class.")
            .with_argument("label", "True class.")
            .build()
        }))
    }
}

#[derive(Debug)]
struct AccuracyAcc {
    correct: u64,
    total: u64,
}

impl Accumulator for AccuracyAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let [a, b] = values else {
            return exec_err!("accuracy: expected 2 arguments, got {}", values.len());
        };
        let same = eq(a, b)?;
        self.total += (same.len() - same.null_count()) as u64;
        self.correct += same.true_count() as u64;
        Ok(())
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(
            (self.total > 0).then(|| self.correct as f64 / self.total as f64),
        ))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::UInt64(Some(self.correct)),
            ScalarValue::UInt64(Some(self.total)),
        ])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [c, t] = states else {
            return exec_err!("accuracy: expected 2 state columns, got {}", states.len());
        };
        let (c, t) = (
            c.as_primitive::<UInt64Type>(),
            t.as_primitive::<UInt64Type>(),
        );
        for i in 0..c.len() {
            if c.is_valid(i) {
                self.correct += c.value(i);
                self.total += t.value(i);
            }
        }
        Ok(())
    }
}
