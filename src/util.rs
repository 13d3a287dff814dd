//! Small shared helpers: reading literal arguments of table functions, planning SQL text from
//! inside a table function, quoting identifiers, casting Arrow arrays.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::catalog::Session;
use datafusion::common::{plan_datafusion_err, plan_err, Result, ScalarValue};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan};

/// The literal value of a table-function argument, after DataFusion's constant folding.
pub(crate) fn literal<'a>(
    exprs: &'a [Expr],
    idx: usize,
    func: &str,
    arg: &str,
) -> Result<&'a ScalarValue> {
    match exprs.get(idx) {
        Some(Expr::Literal(v, _)) => Ok(v),
        Some(other) => {
            plan_err!("{func}: argument {arg} must be a constant; got the expression {other}")
        }
        None => plan_err!("{func}: missing argument {arg}"),
    }
}

/// A string literal argument.
pub(crate) fn literal_string(exprs: &[Expr], idx: usize, func: &str, arg: &str) -> Result<String> {
    match literal(exprs, idx, func, arg)? {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Ok(s.clone()),
        v => plan_err!(
            "{func}: argument {arg} must be a string literal; got {} {v}",
            v.data_type()
        ),
    }
}

/// An integer literal argument.
pub(crate) fn literal_i64(exprs: &[Expr], idx: usize, func: &str, arg: &str) -> Result<i64> {
    let v = literal(exprs, idx, func, arg)?;
    if v.is_null() || !v.data_type().is_integer() {
        return plan_err!(
            "{func}: argument {arg} must be an integer literal; got {} {v}",
            v.data_type()
        );
    }
    match v.cast_to(&DataType::Int64)? {
        ScalarValue::Int64(Some(i)) => Ok(i),
        v => plan_err!("{func}: argument {arg} must be an integer literal; got {v}"),
    }
}

/// A numeric literal argument, as f64.
pub(crate) fn literal_f64(exprs: &[Expr], idx: usize, func: &str, arg: &str) -> Result<f64> {
    let v = literal(exprs, idx, func, arg)?;
    if v.is_null() || !v.data_type().is_numeric() {
        return plan_err!(
            "{func}: argument {arg} must be a number; got {} {v}",
            v.data_type()
        );
    }
    match v.cast_to(&DataType::Float64)? {
        ScalarValue::Float64(Some(f)) => Ok(f),
        v => plan_err!("{func}: argument {arg} must be a number; got {v}"),
    }
}

/// A date argument (a `DATE` literal, a timestamp literal or a `'YYYY-MM-DD'` string), rendered
/// as a SQL date literal.
pub(crate) fn literal_date_sql(
    exprs: &[Expr],
    idx: usize,
    func: &str,
    arg: &str,
) -> Result<String> {
    let v = literal(exprs, idx, func, arg)?;
    let ok_type = matches!(
        v.data_type(),
        DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(_, _)
            | DataType::Utf8
            | DataType::Utf8View
            | DataType::LargeUtf8
    );
    if v.is_null() || !ok_type {
        return plan_err!(
            "{func}: argument {arg} must be a date such as DATE '2024-01-31'; got {} {v}",
            v.data_type()
        );
    }
    let date = v.cast_to(&DataType::Date32).map_err(|_| {
        plan_datafusion_err!(
            "{func}: argument {arg} must be a date such as DATE '2024-01-31'; got {v}"
        )
    })?;
    Ok(format!("DATE '{date}'"))
}

/// Double-quotes an identifier for SQL text, escaping embedded quotes.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Single-quotes a string literal for SQL text.
pub(crate) fn quote_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Renders a table-or-query argument as a `FROM` item: a query (text starting with SELECT, WITH
/// or VALUES) is parenthesised; anything else is a (possibly qualified) table name.
pub(crate) fn from_item(table_or_query: &str) -> String {
    let t = table_or_query.trim();
    let head = t
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if matches!(head.as_str(), "select" | "with" | "values" | "(") || t.starts_with('(') {
        format!("({})", t.trim_end_matches(';'))
    } else if t
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        t.to_string()
    } else {
        quote_ident(t)
    }
}

/// Plans SQL text within the session that is planning the calling statement. Used by table
/// functions whose output is itself a query (`rfm`, `ml_evaluate` with a query).
pub(crate) fn plan_sql(session: &dyn Session, sql: &str) -> Result<LogicalPlan> {
    let state = session
        .as_any()
        .downcast_ref::<SessionState>()
        .ok_or_else(|| {
            plan_datafusion_err!("cohort table functions need a DataFusion SessionState")
        })?;
    // Table resolution is async in DataFusion's API, but the providers registered in memory (and
    // listing tables, whose schema is inferred at registration) answer without awaiting I/O.
    futures::executor::block_on(state.create_logical_plan(sql))
}

/// Casts any numeric or boolean array to Float64.
pub(crate) fn to_f64(array: &ArrayRef, func: &str, arg: &str) -> Result<Arc<Float64Array>> {
    let dt = array.data_type();
    if !(dt.is_numeric() || matches!(dt, DataType::Boolean | DataType::Null)) {
        return plan_err!("{func}: argument {arg} must be numeric or boolean; got {dt}");
    }
    let c = cast(array, &DataType::Float64)?;
    Ok(Arc::new(c.as_primitive::<Float64Type>().clone()))
}

/// Whether a data type is treated as categorical (one-hot encoded) by models.
pub(crate) fn is_categorical(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Boolean
            | DataType::Dictionary(_, _)
    )
}

/// Applies `f` to every item on up to as many threads as there are cores (workers take the
/// next item as they finish); results keep the items' order, so what is computed does not
/// depend on the thread count. None for an item whose computation panicked.
pub(crate) fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    f: &(dyn Fn(&T) -> R + Sync),
) -> Vec<Option<R>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(items.len().max(1));
    // a panic in one item leaves that item None, whatever thread ran it
    let guarded = |x: &T| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(x))).ok();
    if threads <= 1 {
        return items.iter().map(guarded).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = vec![];
                    loop {
                        let j = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if j >= items.len() {
                            return done;
                        }
                        done.push((j, guarded(&items[j])));
                    }
                })
            })
            .collect();
        for w in workers {
            if let Ok(done) = w.join() {
                for (j, r) in done {
                    out[j] = r;
                }
            }
        }
    });
    out
}
