//! `session_id(ts, gap) OVER (PARTITION BY user ...)`: numbers a user's sessions 1, 2, ... in
//! time order; a new session starts when more than `gap` passes between consecutive events.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type, TimeUnit};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::window_doc_sections::DOC_SECTION_ANALYTICAL;
use datafusion::logical_expr::{
    Documentation, PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};

use super::{literal_arg, WholePartition};

const NAME: &str = "session_id";
const NANOS_PER_DAY: i128 = 86_400 * 1_000_000_000;

/// The `session_id` window function.
pub fn session_id_udwf() -> WindowUDF {
    WindowUDF::new_from_impl(SessionId {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SessionId {
    signature: Signature,
}

/// Nanoseconds per unit of a time column's raw integer value.
fn unit_nanos(dt: &DataType) -> Option<i128> {
    Some(match dt {
        DataType::Timestamp(TimeUnit::Second, _) => 1_000_000_000,
        DataType::Timestamp(TimeUnit::Millisecond, _) | DataType::Date64 => 1_000_000,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000,
        DataType::Timestamp(TimeUnit::Nanosecond, _) => 1,
        DataType::Date32 => NANOS_PER_DAY,
        _ => return None,
    })
}

/// The gap as nanoseconds; calendar months are refused (their length varies).
fn gap_nanos(v: &ScalarValue) -> Result<i128> {
    let nanos = match v {
        ScalarValue::IntervalMonthDayNano(Some(i)) if i.months == 0 => {
            i128::from(i.days) * NANOS_PER_DAY + i128::from(i.nanoseconds)
        }
        ScalarValue::IntervalDayTime(Some(i)) => {
            i128::from(i.days) * NANOS_PER_DAY + i128::from(i.milliseconds) * 1_000_000
        }
        other => {
            return plan_err!("{NAME}: argument gap must be an interval of days, hours, minutes or seconds such as INTERVAL '30 minutes'; got {other}")
        }
    };
    if nanos < 0 {
        return plan_err!("{NAME}: argument gap must not be negative; got {v}");
    }
    Ok(nanos)
}

/// Session numbers for one partition: rows in time order, a new session after a gap larger
/// than `gap` (in nanoseconds). NULL times give NULL.
fn sessions(ts: &ArrayRef, gap: i128) -> Result<ArrayRef> {
    let Some(unit) = unit_nanos(ts.data_type()) else {
        return exec_err!(
            "{NAME}: argument ts must be a timestamp or date; got {}",
            ts.data_type()
        );
    };
    let raw = cast(ts, &DataType::Int64)?;
    let raw = raw.as_primitive::<Int64Type>();
    let mut order: Vec<usize> = (0..raw.len()).filter(|&i| raw.is_valid(i)).collect();
    order.sort_by_key(|&i| raw.value(i));
    let mut out: Vec<Option<i64>> = vec![None; raw.len()];
    let mut session = 0;
    let mut prev: Option<i64> = None;
    for i in order {
        let t = raw.value(i);
        if prev.is_none_or(|p| (i128::from(t) - i128::from(p)) * unit > gap) {
            session += 1;
        }
        out[i] = Some(session);
        prev = Some(t);
    }
    Ok(Arc::new(Int64Array::from(out)))
}

impl WindowUDFImpl for SessionId {
    fn name(&self) -> &str {
        NAME
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let [ts, gap] = t else {
            return plan_err!("{NAME}: expected 2 arguments (ts, gap), got {}", t.len());
        };
        if unit_nanos(ts).is_none() {
            return plan_err!("{NAME}: argument ts must be a timestamp or date; got {ts}");
        }
        if !matches!(gap, DataType::Interval(_)) {
            return plan_err!(
                "{NAME}: argument gap must be an interval such as INTERVAL '30 minutes'; got {gap}"
            );
        }
        Ok(t.to_vec())
    }
    fn field(&self, args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(args.name(), DataType::Int64, true)))
    }
    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let gap = gap_nanos(&literal_arg(args.input_exprs(), 1, NAME, "gap")?)?;
        Ok(WholePartition::boxed(NAME, move |values, _| {
            match values.first() {
                Some(ts) => sessions(ts, gap),
                None => exec_err!("{NAME}: missing argument ts"),
            }
        }))
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_ANALYTICAL,
                "Numbers sessions 1, 2, ... within the window partition (usually one user) in time order: a new session starts when more than gap passes since the previous event; events exactly gap apart stay in one session. Rows are ordered by ts whatever the OVER clause says. NULL ts gives NULL.",
                "session_id(ts, gap) OVER (PARTITION BY user)",
            )
            .with_sql_example("SELECT customer_id, ts, session_id(ts, INTERVAL '30 minutes') OVER (PARTITION BY customer_id) AS session FROM events;")
            .with_argument("ts", "Timestamp or date of the event.")
            .with_argument("gap", "Inactivity that ends a session, an INTERVAL without months.")
            .build()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::TimestampSecondArray;

    #[test]
    fn by_hand() {
        let ts: ArrayRef = Arc::new(TimestampSecondArray::from(vec![
            Some(0),
            Some(1800),
            Some(3601),
            None,
            Some(100),
        ]));
        let out = sessions(&ts, 1800 * 1_000_000_000).unwrap();
        let out = out.as_primitive::<Int64Type>();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![Some(1), Some(1), Some(2), None, Some(1)]
        );
    }
}
