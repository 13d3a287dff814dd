//! `lift_at(score, label, fraction)`: how much richer in positives the top `fraction` of rows by
//! score is than the whole — the figure a marketer reads off a gains chart.

use std::sync::OnceLock;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, Signature, Volatility,
};
use datafusion::physical_expr::expressions::Literal;

use super::kernels::lift_at;
use super::ranking::{pair_state_fields, Pairs};

const NAME: &str = "lift_at";

/// The `lift_at` aggregate.
pub fn lift_at_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(LiftAt {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct LiftAt {
    signature: Signature,
}

impl AggregateUDFImpl for LiftAt {
    fn name(&self) -> &str {
        NAME
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        if t.len() != 3 {
            return plan_err!(
                "{NAME}: expected 3 arguments (score, label, fraction), got {}",
                t.len()
            );
        }
        for (dt, arg) in t.iter().zip(["score", "label", "fraction"]) {
            if !(dt.is_numeric() || matches!(dt, DataType::Boolean | DataType::Null)) {
                return plan_err!("{NAME}: argument {arg} must be numeric or boolean; got {dt}");
            }
        }
        Ok(vec![DataType::Float64; 3])
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let fraction = args
            .exprs
            .get(2)
            .and_then(|e| e.downcast_ref::<Literal>())
            .map(|l| l.value().clone());
        let fraction = match fraction {
            Some(ScalarValue::Float64(Some(f))) if f > 0.0 && f <= 1.0 => f,
            other => {
                return plan_err!("{NAME}: argument fraction must be a constant in (0, 1], e.g. 0.1 for the top decile; got {}", other.map_or("an expression".to_string(), |v| v.to_string()))
            }
        };
        Ok(Box::new(LiftAcc {
            p: Pairs::default(),
            fraction,
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(pair_state_fields(args.name))
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_GENERAL,
                "Lift in the top fraction of rows by score: the positive rate among the ceil(fraction * n) highest-scored rows divided by the overall positive rate (1 = no better than random). Rows tied with the boundary score count with their group's positive share, so the result does not depend on row order. NULL rows are ignored; NULL when there is no positive label or no row; a NaN score is an error.",
                "lift_at(score, label, fraction)",
            )
            .with_sql_example("SELECT lift_at(predict_proba('churn', recency_days, frequency), churned, 0.1) AS top_decile_lift FROM test_features;")
            .with_argument("score", "Any score where higher means more likely positive.")
            .with_argument("label", "True class, 0/1 or boolean.")
            .with_argument("fraction", "Share of rows at the top, a constant in (0, 1].")
            .build()
        }))
    }
}

#[derive(Debug)]
struct LiftAcc {
    p: Pairs,
    fraction: f64,
}

impl Accumulator for LiftAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.p.update(NAME, values)
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(lift_at(
            &mut self.p.pairs,
            self.fraction,
        )))
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
