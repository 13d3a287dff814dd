//! `log_loss(prob, label)`: mean binary cross-entropy of probabilities against 0/1 labels.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, UInt64Type};
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, Signature, Volatility,
};

use super::binary::{binary_value, coerce_two_numeric, two_f64};
use super::kernels::log_loss_term;

/// The `log_loss` aggregate.
pub fn log_loss_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(LogLoss {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct LogLoss {
    signature: Signature,
}

impl AggregateUDFImpl for LogLoss {
    fn name(&self) -> &str {
        "log_loss"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        coerce_two_numeric("log_loss", ["prob", "label"], t)
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(LogLossAcc { sum: 0.0, count: 0 }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format!("{}[sum]", args.name),
                DataType::Float64,
                true,
            )),
            Arc::new(Field::new(
                format!("{}[count]", args.name),
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
                "Mean of -(y·ln p + (1-y)·ln(1-p)) with p clipped to [eps, 1-eps], eps = 2.2e-16 (scikit-learn's log_loss). prob must lie in [0, 1] and label be 0/1 or boolean (otherwise an error; NaN prob is an error). NULL rows are ignored; empty input gives NULL.",
                "log_loss(prob, label)",
            )
            .with_sql_example("SELECT log_loss(predict_proba('churn', recency_days, frequency), churned) FROM test_features;")
            .with_argument("prob", "Predicted probability of the positive class.")
            .with_argument("label", "True class, 0/1 or boolean.")
            .build()
        }))
    }
}

#[derive(Debug)]
struct LogLossAcc {
    sum: f64,
    count: u64,
}

impl Accumulator for LogLossAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let (p, l) = two_f64("log_loss", ["prob", "label"], values)?;
        for i in 0..p.len() {
            if p.is_valid(i) && l.is_valid(i) {
                let prob = p.value(i);
                if !(0.0..=1.0).contains(&prob) {
                    return exec_err!(
                        "log_loss: argument prob must be a probability in [0, 1]; got {prob}"
                    );
                }
                self.sum += log_loss_term(prob, binary_value("log_loss", "label", l.value(i))?);
                self.count += 1;
            }
        }
        Ok(())
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(
            (self.count > 0).then(|| self.sum / self.count as f64),
        ))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::Float64(Some(self.sum)),
            ScalarValue::UInt64(Some(self.count)),
        ])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [s, c] = states else {
            return exec_err!("log_loss: expected 2 state columns, got {}", states.len());
        };
        let (s, c) = (
            s.as_primitive::<Float64Type>(),
            c.as_primitive::<UInt64Type>(),
        );
        for i in 0..s.len() {
            if s.is_valid(i) {
                self.sum += s.value(i);
                self.count += c.value(i);
            }
        }
        Ok(())
    }
}
