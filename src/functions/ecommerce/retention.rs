//! `retention(cond1, cond2, ..., condN)`: ClickHouse's `retention` — a list of 0/1 flags where
//! element 1 says whether cond1 held on any row, and element i whether cond1 **and** cond_i each
//! held on some row of the group.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, UInt8Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, UInt32Type};
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, Signature, Volatility,
};

use super::coerce_conditions;

const NAME: &str = "retention";

/// The `retention` aggregate.
pub fn retention_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(Retention {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Retention {
    signature: Signature,
}

fn item_field() -> Field {
    Field::new("item", DataType::UInt8, false)
}

impl AggregateUDFImpl for Retention {
    fn name(&self) -> &str {
        NAME
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        coerce_conditions(NAME, 0, t)
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(Arc::new(item_field())))
    }
    fn is_nullable(&self) -> bool {
        false
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(RetentionAcc {
            seen: 0,
            n: args.exprs.len(),
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[seen]", args.name),
            DataType::UInt32,
            true,
        ))])
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_GENERAL,
                "ClickHouse's retention: a list of 0/1 values (UInt8), one per condition. Element 1 is 1 when cond1 holds on some row of the group; element i is 1 when cond1 holds on some row and cond_i holds on some row (not necessarily the same one). Order and time play no role. Rows where any condition is NULL are skipped; a group with no matching rows gives all zeros. 1 to 32 conditions.",
                "retention(cond1[, cond2, ..., condN])",
            )
            .with_sql_example("SELECT uid, retention(date = DATE '2020-01-01', date = DATE '2020-01-02', date = DATE '2020-01-03') AS r FROM visits GROUP BY uid;")
            .with_argument("cond", "Boolean condition on the row.")
            .build()
        }))
    }
}

#[derive(Debug)]
struct RetentionAcc {
    seen: u32,
    n: usize,
}

impl Accumulator for RetentionAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let conds: Vec<_> = values
            .iter()
            .map(|v| v.as_boolean_opt())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                datafusion::common::exec_datafusion_err!("{NAME}: conditions must be boolean")
            })?;
        self.n = conds.len();
        let rows = conds.first().map_or(0, |c| c.len());
        for r in 0..rows {
            if conds.iter().any(|c| c.is_null(r)) {
                continue;
            }
            for (i, c) in conds.iter().enumerate() {
                if c.value(r) {
                    self.seen |= 1 << i;
                }
            }
        }
        Ok(())
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        let first = self.seen & 1 == 1;
        let flags: UInt8Array = (0..self.n)
            .map(|i| Some(u8::from(first && self.seen & (1 << i) != 0)))
            .collect();
        Ok(ScalarValue::List(Arc::new(
            datafusion::arrow::array::ListArray::try_new(
                Arc::new(item_field()),
                datafusion::arrow::buffer::OffsetBuffer::from_lengths([flags.len()]),
                Arc::new(flags),
                None,
            )?,
        )))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::UInt32(Some(self.seen))])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [s] = states else {
            return exec_err!("{NAME}: expected 1 state column, got {}", states.len());
        };
        for v in s.as_primitive::<UInt32Type>().iter().flatten() {
            self.seen |= v;
        }
        Ok(())
    }
}
