//! `clv_summary(table_or_query, customer_col, ts_col, amount_col, as_of [, 'week'|'day'] [, calibration_end])`:
//! the per-customer summary that buy-till-you-die models take, with the definitions of
//! Lifetimes' `summary_data_from_transaction_data` at daily resolution:
//!
//! - purchases on the same day are one transaction (amounts summed); purchases after `as_of` are ignored;
//! - `frequency` = distinct purchase days − 1 (repeat purchases);
//! - `recency` = (last − first purchase day) / 7 (weeks) or in days;
//! - `t` = (as_of − first purchase day) / 7 or in days (named `t`: SQL folds an unquoted `T` to it);
//! - `monetary_value` = mean daily amount over the repeat days (0 when frequency = 0).
//!
//! With `calibration_end`, the summary describes the calibration period (purchases up to
//! `calibration_end`, `t` measured to it) and adds, as Lifetimes' `calibration_and_holdout_data`:
//! `frequency_holdout` (purchase days after `calibration_end` up to `as_of`),
//! `monetary_value_holdout` (their mean daily amount, 0 when none) and `duration_holdout`
//! (`as_of` − `calibration_end` in the same unit). Only customers with a calibration purchase
//! appear.
//!
//! Amounts are summed as DECIMAL(38, 9), so sums (and the models fitted on them) do not depend
//! on the order in which DataFusion's partitions meet; amounts are rounded to 9 decimals.
//!
//! The function expands to a query DataFusion plans and runs (grouped aggregation, streaming
//! input), exposed as a view.

use std::sync::Arc;

use datafusion::catalog::view::ViewTable;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::logical_expr::Expr;

use crate::util::{from_item, literal_date_sql, literal_string, plan_sql, quote_ident};

const F: &str = "clv_summary";

/// The `clv_summary` table function.
#[derive(Debug, Default)]
pub struct ClvSummary;

/// The SQL a `clv_summary` call expands to.
pub fn clv_summary_sql(
    from: &str,
    customer: &str,
    ts: &str,
    amount: &str,
    as_of: &str,
    days_per_unit: u32,
    calibration_end: Option<&str>,
) -> String {
    let (c, t, a) = (quote_ident(customer), quote_ident(ts), quote_ident(amount));
    let div = f64::from(days_per_unit);
    let daily = format!(
        "daily AS (SELECT {c} AS {c}, CAST({t} AS DATE) AS day, sum(CAST({a} AS DECIMAL(38, 9))) AS amount \
         FROM {from} WHERE {c} IS NOT NULL AND {t} IS NOT NULL AND CAST({t} AS DATE) <= {as_of} GROUP BY 1, 2), \
         marked AS (SELECT *, min(day) OVER (PARTITION BY {c}) AS first_day FROM daily)"
    );
    let summary = |end: &str, filter: &str| {
        format!(
            "SELECT {c}, CAST(count(*) - 1 AS BIGINT) AS frequency, \
               CAST(max(day) - min(day) AS DOUBLE) / {div:.1} AS recency, \
               CAST({end} - min(day) AS DOUBLE) / {div:.1} AS t, \
               COALESCE(CAST(sum(CASE WHEN day > first_day THEN amount END) AS DOUBLE) / CAST(count(*) - 1 AS DOUBLE), 0.0) AS monetary_value \
             FROM marked {filter} GROUP BY {c}"
        )
    };
    match calibration_end {
        None => format!("WITH {daily} {}", summary(as_of, "")),
        Some(cal) => format!(
            "WITH {daily}, cal AS ({}), \
             hold AS (SELECT {c}, count(*) AS n, CAST(sum(amount) AS DOUBLE) / CAST(count(*) AS DOUBLE) AS m FROM daily WHERE day > {cal} GROUP BY {c}) \
             SELECT cal.*, CAST(COALESCE(hold.n, 0) AS BIGINT) AS frequency_holdout, \
                    COALESCE(hold.m, 0.0) AS monetary_value_holdout, \
                    CAST({as_of} - {cal} AS DOUBLE) / {div:.1} AS duration_holdout \
             FROM cal LEFT JOIN hold ON cal.{c} = hold.{c}",
            summary(cal, &format!("WHERE day <= {cal}"))
        ),
    }
}

fn is_text(e: &Expr) -> bool {
    matches!(e, Expr::Literal(ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)), _)
        if matches!(s.to_ascii_lowercase().as_str(), "week" | "day" | "weeks" | "days"))
}

impl TableFunctionImpl for ClvSummary {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let e = args.exprs();
        if e.len() < 5 || e.len() > 7 {
            return plan_err!(
                "clv_summary: expected (table_or_query, customer_col, ts_col, amount_col, as_of [, 'week'|'day'] [, calibration_end]), got {} arguments",
                e.len()
            );
        }
        let source = literal_string(e, 0, F, "table_or_query")?;
        let customer = literal_string(e, 1, F, "customer_col")?;
        let ts = literal_string(e, 2, F, "ts_col")?;
        let amount = literal_string(e, 3, F, "amount_col")?;
        let as_of = literal_date_sql(e, 4, F, "as_of")?;
        let (unit, cal_idx) = match e.get(5) {
            Some(x) if is_text(x) => (literal_string(e, 5, F, "unit")?.to_ascii_lowercase(), 6),
            // Text that is neither a unit nor a date is a misspelt unit.
            Some(Expr::Literal(ScalarValue::Utf8(Some(s)), _))
                if e.len() == 7
                    || chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").is_err() =>
            {
                return plan_err!("clv_summary: argument unit must be 'week' or 'day'; got '{s}'");
            }
            _ => ("week".to_string(), 5),
        };
        let days_per_unit = if unit.starts_with("week") { 7 } else { 1 };
        let calibration_end = if e.len() > cal_idx {
            Some(literal_date_sql(e, cal_idx, F, "calibration_end")?)
        } else {
            None
        };
        if e.len() > cal_idx + 1 {
            return plan_err!("clv_summary: too many arguments; expected at most one unit and one calibration_end");
        }
        if let Some(cal) = &calibration_end {
            if cal.as_str() >= as_of.as_str() {
                return plan_err!(
                    "clv_summary: calibration_end {cal} must be before as_of {as_of}"
                );
            }
        }
        let sql = clv_summary_sql(
            &from_item(&source),
            &customer,
            &ts,
            &amount,
            &as_of,
            days_per_unit,
            calibration_end.as_deref(),
        );
        let plan = plan_sql(args.session(), &sql).map_err(|err| {
            datafusion::common::plan_datafusion_err!(
                "clv_summary: cannot read '{source}' with customer_col '{customer}', ts_col '{ts}', amount_col '{amount}': {err}"
            )
        })?;
        Ok(Arc::new(ViewTable::new(plan, Some(sql))))
    }
}
