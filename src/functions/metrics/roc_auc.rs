//! `roc_auc(score, label)`: area under the ROC curve, tied scores averaged.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, Signature, Volatility,
};

use super::binary::{binary_value, coerce_two_numeric, two_f64};
use super::kernels::roc_auc;

/// The `roc_auc` aggregate.
pub fn roc_auc_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(RocAuc {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RocAuc {
    signature: Signature,
}

impl AggregateUDFImpl for RocAuc {
    fn name(&self) -> &str {
        "roc_auc"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        coerce_two_numeric("roc_auc", ["score", "label"], t)
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(RocAucAcc { pairs: vec![] }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new_list(
                format!("{}[scores]", args.name),
                Field::new_list_field(DataType::Float64, true),
                true,
            )),
            Arc::new(Field::new_list(
                format!("{}[labels]", args.name),
                Field::new_list_field(DataType::Boolean, true),
                true,
            )),
        ])
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_GENERAL,
                "Area under the ROC curve of scores against 0/1 labels, with tied scores counted as half (scikit-learn's roc_auc_score). NULL rows are ignored; NULL when only one class is present or the input is empty; a NaN score is an error.",
                "roc_auc(score, label)",
            )
            .with_sql_example("SELECT segment, roc_auc(predict_proba('churn', recency_days, frequency), churned) FROM test_features GROUP BY segment;")
            .with_argument("score", "Any score where higher means more likely positive.")
            .with_argument("label", "True class, 0/1 or boolean.")
            .build()
        }))
    }
}

#[derive(Debug)]
struct RocAucAcc {
    pairs: Vec<(f64, bool)>,
}

impl RocAucAcc {
    fn push(&mut self, s: &Float64Array, l: &Float64Array) -> Result<()> {
        for i in 0..s.len() {
            if s.is_valid(i) && l.is_valid(i) {
                let score = s.value(i);
                if score.is_nan() {
                    return exec_err!("roc_auc: argument score is NaN; expected a number (filter NaN scores or map them with nanvl)");
                }
                self.pairs
                    // + 0.0 turns -0.0 into 0.0, so that the two tie as in scikit-learn.
                    .push((score + 0.0, binary_value("roc_auc", "label", l.value(i))?));
            }
        }
        Ok(())
    }
}

impl Accumulator for RocAucAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let (s, l) = two_f64("roc_auc", ["score", "label"], values)?;
        self.push(&s, &l)
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(roc_auc(&mut self.pairs)))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.pairs.capacity() * std::mem::size_of::<(f64, bool)>()
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let scores: Float64Array = self.pairs.iter().map(|p| Some(p.0)).collect();
        let labels: BooleanArray = self.pairs.iter().map(|p| Some(p.1)).collect();
        Ok(vec![
            ScalarValue::List(ScalarValue::new_list_nullable(
                &scores.iter().map(ScalarValue::Float64).collect::<Vec<_>>(),
                &DataType::Float64,
            )),
            ScalarValue::List(ScalarValue::new_list_nullable(
                &labels.iter().map(ScalarValue::Boolean).collect::<Vec<_>>(),
                &DataType::Boolean,
            )),
        ])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [s, l] = states else {
            return exec_err!("roc_auc: expected 2 state columns, got {}", states.len());
        };
        let (s, l) = (s.as_list::<i32>(), l.as_list::<i32>());
        for i in 0..s.len() {
            if s.is_null(i) {
                continue;
            }
            let scores = s.value(i);
            let labels = l.value(i);
            let (scores, labels) = (scores.as_primitive::<Float64Type>(), labels.as_boolean());
            for j in 0..scores.len() {
                if scores.is_valid(j) && labels.is_valid(j) {
                    self.pairs.push((scores.value(j) + 0.0, labels.value(j)));
                }
            }
        }
        Ok(())
    }
}
