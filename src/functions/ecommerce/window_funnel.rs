//! `window_funnel(window, [mode,] ts, cond1, ..., condN)`: ClickHouse's `windowFunnel` — the
//! deepest step of the chain cond1 → cond2 → ... → condN that a group (usually a user) reached
//! in order, with every step within `window` of the cond1 event that started the chain.
//!
//! The algorithm is ClickHouse's (`AggregateFunctionWindowFunnel`): each row adds one event per
//! condition it satisfies; events are sorted by (ts, condition); one pass keeps, per level, the
//! latest chain that reached it; a step counts when `ts <= chain start + window` (inclusive).
//! Modes `strict_order`, `strict_deduplication` and `strict_increase` behave as in ClickHouse.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, UInt8Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type, TimeUnit, UInt8Type};
use datafusion::common::{exec_datafusion_err, exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, Signature, Volatility,
};
use datafusion::physical_expr::expressions::Literal;

use super::coerce_conditions;

const NAME: &str = "window_funnel";
const NANOS_PER_SECOND: i128 = 1_000_000_000;
const NANOS_PER_DAY: i128 = 86_400 * NANOS_PER_SECOND;

/// The `window_funnel` aggregate.
pub fn window_funnel_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(WindowFunnel {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct WindowFunnel {
    signature: Signature,
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

/// Index of the ts argument: 2 when a mode string comes second, else 1.
fn ts_index(types: &[DataType]) -> usize {
    if types.get(1).is_some_and(is_text) {
        2
    } else {
        1
    }
}

/// Nanoseconds per raw unit of a temporal ts; `None` for integer ts (raw units).
fn unit_nanos(dt: &DataType) -> Option<i128> {
    Some(match dt {
        DataType::Timestamp(TimeUnit::Second, _) => NANOS_PER_SECOND,
        DataType::Timestamp(TimeUnit::Millisecond, _) | DataType::Date64 => 1_000_000,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000,
        DataType::Timestamp(TimeUnit::Nanosecond, _) => 1,
        DataType::Date32 => NANOS_PER_DAY,
        _ => return None,
    })
}

/// The funnel's options.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Modes {
    strict_order: bool,
    strict_deduplication: bool,
    strict_increase: bool,
}

fn parse_modes(s: &str) -> Result<Modes> {
    let mut m = Modes::default();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.to_ascii_lowercase().as_str() {
            "strict_order" => m.strict_order = true,
            "strict_deduplication" => m.strict_deduplication = true,
            "strict_increase" => m.strict_increase = true,
            other => {
                return plan_err!("{NAME}: unknown mode '{other}'; expected strict_order, strict_deduplication or strict_increase (comma-separated)")
            }
        }
    }
    Ok(m)
}

/// The window in the units events are compared in: `(ts - start) * unit <= window`.
#[derive(Debug, Clone, Copy)]
struct Window {
    unit: i128,
    window: i128,
}

fn literal<'a>(args: &'a AccumulatorArgs, idx: usize) -> Option<&'a ScalarValue> {
    args.exprs
        .get(idx)
        .and_then(|e| e.downcast_ref::<Literal>())
        .map(|l| l.value())
}

fn window_for(v: Option<&ScalarValue>, ts_type: &DataType) -> Result<Window> {
    let unit = unit_nanos(ts_type);
    let Some(v) = v else {
        return plan_err!("{NAME}: argument window must be a constant (an integer or an INTERVAL)");
    };
    let window = match v {
        ScalarValue::IntervalMonthDayNano(Some(i)) if i.months == 0 => {
            i128::from(i.days) * NANOS_PER_DAY + i128::from(i.nanoseconds)
        }
        ScalarValue::IntervalDayTime(Some(i)) => {
            i128::from(i.days) * NANOS_PER_DAY + i128::from(i.milliseconds) * 1_000_000
        }
        v if v.data_type().is_integer() && !v.is_null() => {
            let n = match v.cast_to(&DataType::Int64)? {
                ScalarValue::Int64(Some(n)) => i128::from(n),
                other => return plan_err!("{NAME}: argument window must be an integer; got {other}"),
            };
            match ts_type {
                DataType::Date32 | DataType::Date64 => n * NANOS_PER_DAY,
                DataType::Timestamp(_, _) => n * NANOS_PER_SECOND,
                _ => n,
            }
        }
        other => {
            return plan_err!("{NAME}: argument window must be an integer (seconds for timestamps, days for dates, raw units for integers) or an INTERVAL without months; got {other}")
        }
    };
    if window < 0 {
        return plan_err!("{NAME}: argument window must not be negative; got {v}");
    }
    if unit.is_none()
        && matches!(
            v,
            ScalarValue::IntervalMonthDayNano(_) | ScalarValue::IntervalDayTime(_)
        )
    {
        return plan_err!("{NAME}: an INTERVAL window needs a timestamp or date ts; got {ts_type}, give the window in its units as an integer");
    }
    Ok(Window {
        unit: unit.unwrap_or(1),
        window,
    })
}

/// The deepest level reached (ClickHouse's `getEventLevelNonStrictOnce`). `events` are
/// (ts, condition) with condition 1..=n, or 0 for a row matching nothing (strict_order only).
fn level(events: &mut [(i64, u8)], n: usize, w: Window, m: Modes) -> u8 {
    if events.is_empty() {
        return 0;
    }
    events.sort_unstable();
    if !m.strict_order && n == 1 {
        return 1;
    }
    // per level: (ts of the chain's cond1 event, ts at which this level was last reached)
    let mut reached: Vec<Option<(i64, i64)>> = vec![None; n];
    let highest = |r: &[Option<(i64, i64)>]| {
        r.iter()
            .rposition(Option::is_some)
            .map_or(0, |k| k as u8 + 1)
    };
    let mut first_event = false;
    for &(ts, c) in events.iter() {
        if c == 0 {
            if m.strict_order && first_event {
                break;
            }
            continue;
        }
        let k = usize::from(c - 1);
        if k == 0 {
            reached[0] = Some((ts, ts));
            first_event = true;
        } else if (m.strict_deduplication && reached[k].is_some())
            || (m.strict_order && first_event && reached[k - 1].is_none())
        {
            // a repeated step, or a step out of order: the chain stops here
            return highest(&reached);
        } else if let Some((start, prev)) = reached[k - 1] {
            let within = (i128::from(ts) - i128::from(start)) * w.unit <= w.window;
            if within && (!m.strict_increase || prev < ts) {
                reached[k] = Some((start, ts));
                if k + 1 == n {
                    return n as u8;
                }
            }
        }
    }
    highest(&reached)
}

impl AggregateUDFImpl for WindowFunnel {
    fn name(&self) -> &str {
        NAME
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let ti = ts_index(t);
        if t.len() < ti + 2 {
            return plan_err!(
                "{NAME}: expected (window, [mode,] ts, cond1[, cond2, ...]), got {} arguments",
                t.len()
            );
        }
        let w = &t[0];
        if !(w.is_integer() || matches!(w, DataType::Interval(_))) {
            return plan_err!("{NAME}: argument window must be an integer or an INTERVAL; got {w}");
        }
        let ts = &t[ti];
        if !(ts.is_integer() || unit_nanos(ts).is_some()) {
            return plan_err!(
                "{NAME}: argument ts must be a timestamp, a date or an integer; got {ts}"
            );
        }
        let mut out = t[..=ti].to_vec();
        if ti == 2 {
            out[1] = DataType::Utf8;
        }
        out.extend(coerce_conditions(NAME, ti + 1, t)?);
        Ok(out)
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::UInt8)
    }
    fn is_nullable(&self) -> bool {
        false
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let types: Vec<DataType> = args
            .expr_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let ti = ts_index(&types);
        let modes = if ti == 2 {
            match literal(&args, 1) {
                Some(ScalarValue::Utf8(Some(s))) => parse_modes(s)?,
                other => return plan_err!("{NAME}: argument mode must be a string literal such as 'strict_order'; got {other:?}"),
            }
        } else {
            Modes::default()
        };
        let window = window_for(literal(&args, 0), &types[ti])?;
        Ok(Box::new(FunnelAcc {
            ts_index: ti,
            n: types.len() - ti - 1,
            window,
            modes,
            events: vec![],
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new_list(
                format!("{}[ts]", args.name),
                Field::new_list_field(DataType::Int64, true),
                true,
            )),
            Arc::new(Field::new_list(
                format!("{}[cond]", args.name),
                Field::new_list_field(DataType::UInt8, true),
                true,
            )),
        ])
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_GENERAL,
                "ClickHouse's windowFunnel: the deepest step (0 to N, UInt8) of the chain cond1 -> cond2 -> ... -> condN reached in time order, every step at most window after the cond1 event that started the chain (inclusive). Events are sorted by (ts, condition), so one row can fill several steps and equal timestamps may follow each other; a later cond1 restarts the window. window is an integer (seconds for timestamps, days for dates, raw units for integer ts) or an INTERVAL. The optional mode string takes 'strict_order' (any other event in between stops the chain), 'strict_deduplication' (a repeated step stops it), 'strict_increase' (steps need strictly increasing ts), comma-separated. Rows where ts or a condition is NULL are skipped; no matching row gives 0. 1 to 32 conditions.",
                "window_funnel(window, [mode,] ts, cond1[, cond2, ..., condN])",
            )
            .with_sql_example("SELECT customer_id, window_funnel(INTERVAL '1 day', ts, event_type = 'view', event_type = 'cart', event_type = 'checkout', event_type = 'purchase') AS step FROM events GROUP BY customer_id;")
            .with_argument("window", "Longest time from the first step to the last, an integer or INTERVAL literal.")
            .with_argument("mode", "Optional: 'strict_order', 'strict_deduplication', 'strict_increase', comma-separated.")
            .with_argument("ts", "Event time: timestamp, date or integer.")
            .with_argument("cond", "Boolean condition of each step, in funnel order.")
            .build()
        }))
    }
}

#[derive(Debug)]
struct FunnelAcc {
    ts_index: usize,
    n: usize,
    window: Window,
    modes: Modes,
    events: Vec<(i64, u8)>,
}

impl Accumulator for FunnelAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(ts) = values.get(self.ts_index) else {
            return exec_err!("{NAME}: missing argument ts");
        };
        let ts = cast(ts, &DataType::Int64)?;
        let ts = ts.as_primitive::<Int64Type>();
        let conds: Vec<_> = values[self.ts_index + 1..]
            .iter()
            .map(|v| v.as_boolean_opt())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| exec_datafusion_err!("{NAME}: conditions must be boolean"))?;
        for r in 0..ts.len() {
            if ts.is_null(r) || conds.iter().any(|c| c.is_null(r)) {
                continue;
            }
            let t = ts.value(r);
            let mut any = false;
            for (i, c) in conds.iter().enumerate().rev() {
                if c.value(r) {
                    self.events.push((t, i as u8 + 1));
                    any = true;
                }
            }
            if !any && self.modes.strict_order {
                self.events.push((t, 0));
            }
        }
        Ok(())
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::UInt8(Some(level(
            &mut self.events,
            self.n,
            self.window,
            self.modes,
        ))))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.events.capacity() * std::mem::size_of::<(i64, u8)>()
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let ts: Int64Array = self.events.iter().map(|e| Some(e.0)).collect();
        let c: UInt8Array = self.events.iter().map(|e| Some(e.1)).collect();
        Ok(vec![
            ScalarValue::List(ScalarValue::new_list_nullable(
                &ts.iter().map(ScalarValue::Int64).collect::<Vec<_>>(),
                &DataType::Int64,
            )),
            ScalarValue::List(ScalarValue::new_list_nullable(
                &c.iter().map(ScalarValue::UInt8).collect::<Vec<_>>(),
                &DataType::UInt8,
            )),
        ])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [ts, c] = states else {
            return exec_err!("{NAME}: expected 2 state columns, got {}", states.len());
        };
        let (ts, c) = (ts.as_list::<i32>(), c.as_list::<i32>());
        for i in 0..ts.len() {
            if ts.is_null(i) {
                continue;
            }
            let (t, k) = (ts.value(i), c.value(i));
            let (t, k) = (t.as_primitive::<Int64Type>(), k.as_primitive::<UInt8Type>());
            self.events
                .extend(t.values().iter().copied().zip(k.values().iter().copied()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(events: &[(i64, u8)], n: usize, window: i128, modes: &str) -> u8 {
        let mut e = events.to_vec();
        level(
            &mut e,
            n,
            Window { unit: 1, window },
            parse_modes(modes).unwrap(),
        )
    }

    #[test]
    fn clickhouse_cases() {
        // window is inclusive, measured from the chain's cond1
        assert_eq!(run(&[(0, 1), (10, 2)], 2, 10, ""), 2);
        assert_eq!(run(&[(0, 1), (10, 2)], 2, 9, ""), 1);
        // a later cond1 restarts the window
        assert_eq!(run(&[(0, 1), (100, 1), (105, 2)], 2, 10, ""), 2);
        assert_eq!(run(&[(0, 1), (5, 2), (100, 1), (108, 3)], 3, 10, ""), 2);
        // one row filling three steps
        assert_eq!(run(&[(5, 3), (5, 2), (5, 1)], 3, 10, ""), 3);
        assert_eq!(run(&[(5, 3), (5, 2), (5, 1)], 3, 10, "strict_increase"), 1);
        // ClickHouse quirk under strict_increase
        assert_eq!(run(&[(0, 1), (1, 1), (1, 2)], 2, 10, "strict_increase"), 1);
        // strict_order: a non-matching row stops the chain once cond1 was seen
        assert_eq!(run(&[(1, 1), (2, 0), (2, 2)], 2, 10, "strict_order"), 1);
        assert_eq!(run(&[(1, 0), (2, 1), (3, 2)], 2, 10, "strict_order"), 2);
        // no cond1: 0
        assert_eq!(run(&[(1, 2), (2, 3)], 3, 10, ""), 0);
        assert_eq!(run(&[], 3, 10, ""), 0);
    }
}
