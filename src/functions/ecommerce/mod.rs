//! E-commerce aggregates and table functions: funnels, retention, association rules.

pub mod association_rules;
pub mod retention;
pub mod window_funnel;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{plan_err, Result};
use datafusion::logical_expr::AggregateUDF;

/// The e-commerce aggregates.
pub fn aggregates() -> Vec<AggregateUDF> {
    vec![
        window_funnel::window_funnel_udaf(),
        retention::retention_udaf(),
    ]
}

/// At most this many conditions, as in ClickHouse.
pub(crate) const MAX_CONDITIONS: usize = 32;

/// Coerces condition arguments to Boolean (booleans, 0/1 integers or NULL).
pub(crate) fn coerce_conditions(func: &str, first: usize, t: &[DataType]) -> Result<Vec<DataType>> {
    let n = t.len().saturating_sub(first);
    if n == 0 {
        return plan_err!("{func}: expected at least one condition");
    }
    if n > MAX_CONDITIONS {
        return plan_err!("{func}: at most {MAX_CONDITIONS} conditions are supported; got {n}");
    }
    for (i, dt) in t[first..].iter().enumerate() {
        if !(matches!(dt, DataType::Boolean | DataType::Null) || dt.is_integer()) {
            return plan_err!("{func}: condition {} must be boolean; got {dt}", i + 1);
        }
    }
    Ok(vec![DataType::Boolean; n])
}
