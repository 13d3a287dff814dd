//! Shared machinery of the aggregates over (score, 0/1 label) pairs that need every pair:
//! `pr_auc` and `lift_at`. (`roc_auc` has its own, older copy of the same state layout.)

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{exec_err, Result, ScalarValue};

use super::binary::{binary_value, two_f64};

/// The state fields: the scores and the labels, as lists.
pub(crate) fn pair_state_fields(name: &str) -> Vec<FieldRef> {
    vec![
        Arc::new(Field::new_list(
            format!("{name}[scores]"),
            Field::new_list_field(DataType::Float64, true),
            true,
        )),
        Arc::new(Field::new_list(
            format!("{name}[labels]"),
            Field::new_list_field(DataType::Boolean, true),
            true,
        )),
    ]
}

/// Every (score, label) pair seen; NULL rows are ignored, a NaN score is an error.
#[derive(Debug, Default)]
pub(crate) struct Pairs {
    pub pairs: Vec<(f64, bool)>,
}

impl Pairs {
    /// Adds the rows of the first two arguments.
    pub fn update(&mut self, func: &str, values: &[ArrayRef]) -> Result<()> {
        let (s, l) = two_f64(func, ["score", "label"], &values[..values.len().min(2)])?;
        for i in 0..s.len() {
            if s.is_valid(i) && l.is_valid(i) {
                let score = s.value(i);
                if score.is_nan() {
                    return exec_err!("{func}: argument score is NaN; expected a number (filter NaN scores or map them with nanvl)");
                }
                // + 0.0 turns -0.0 into 0.0, so that the two tie as in scikit-learn.
                self.pairs
                    .push((score + 0.0, binary_value(func, "label", l.value(i))?));
            }
        }
        Ok(())
    }

    /// The state as two list scalars.
    pub fn state(&self) -> Vec<ScalarValue> {
        let scores: Float64Array = self.pairs.iter().map(|p| Some(p.0)).collect();
        let labels: BooleanArray = self.pairs.iter().map(|p| Some(p.1)).collect();
        vec![
            ScalarValue::List(ScalarValue::new_list_nullable(
                &scores.iter().map(ScalarValue::Float64).collect::<Vec<_>>(),
                &DataType::Float64,
            )),
            ScalarValue::List(ScalarValue::new_list_nullable(
                &labels.iter().map(ScalarValue::Boolean).collect::<Vec<_>>(),
                &DataType::Boolean,
            )),
        ]
    }

    /// Merges states made by [`Pairs::state`].
    pub fn merge(&mut self, func: &str, states: &[ArrayRef]) -> Result<()> {
        let [s, l] = states else {
            return exec_err!("{func}: expected 2 state columns, got {}", states.len());
        };
        let (s, l) = (s.as_list::<i32>(), l.as_list::<i32>());
        for i in 0..s.len() {
            if s.is_null(i) {
                continue;
            }
            let (scores, labels) = (s.value(i), l.value(i));
            let (scores, labels) = (scores.as_primitive::<Float64Type>(), labels.as_boolean());
            for j in 0..scores.len() {
                if scores.is_valid(j) && labels.is_valid(j) {
                    self.pairs.push((scores.value(j), labels.value(j)));
                }
            }
        }
        Ok(())
    }

    /// Bytes held.
    pub fn size(&self) -> usize {
        self.pairs.capacity() * std::mem::size_of::<(f64, bool)>()
    }
}
