//! `pr_auc(score, label)`: the area under the precision-recall curve as average precision.

use std::sync::OnceLock;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, Signature, Volatility,
};

use super::binary::coerce_two_numeric;
use super::kernels::average_precision;
use super::ranking::{pair_state_fields, Pairs};

const NAME: &str = "pr_auc";

/// The `pr_auc` aggregate.
pub fn pr_auc_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(PrAuc {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct PrAuc {
    signature: Signature,
}

impl AggregateUDFImpl for PrAuc {
    fn name(&self) -> &str {
        NAME
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        coerce_two_numeric(NAME, ["score", "label"], t)
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(PrAucAcc::default()))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(pair_state_fields(args.name))
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_GENERAL,
                "Area under the precision-recall curve as average precision (scikit-learn's average_precision_score): the sum over distinct score thresholds, highest first, of the recall gained times the precision at that threshold; tied scores form one step, no interpolation. NULL rows are ignored; NULL when no label is positive or the input is empty; a NaN score is an error.",
                "pr_auc(score, label)",
            )
            .with_sql_example("SELECT pr_auc(predict_proba('churn', recency_days, frequency), churned) FROM test_features;")
            .with_argument("score", "Any score where higher means more likely positive.")
            .with_argument("label", "True class, 0/1 or boolean.")
            .build()
        }))
    }
}

#[derive(Debug, Default)]
struct PrAucAcc {
    p: Pairs,
}

impl Accumulator for PrAucAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.p.update(NAME, values)
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(average_precision(&mut self.p.pairs)))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.p.size()
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(self.p.state())
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.p.merge(NAME, states)
    }
}
