//! `rfm(table_or_query, customer_col, ts_col, amount_col, as_of [, bins])`: recency, frequency
//! and monetary value per customer with NTILE scores and segments.
//!
//! Definitions: recency_days = as_of − date of the last purchase; frequency = number of
//! purchase rows; monetary = sum of amount (0 when every amount is NULL), summed as
//! DECIMAL(38, 9) so that it does not depend on partitioning. Rows after `as_of`, and rows
//! with a NULL customer or timestamp, are left out. Scores are NTILE(bins) with ties broken by customer
//! ascending: r_score over recency DESC (bins = most recent), f_score over frequency ASC,
//! m_score over monetary ASC. rfm_cell = 100·r + 10·f + m; segment = rfm_segment(r, f) when
//! bins = 5 (the segment grid is defined on 1–5 scores), NULL otherwise.
//!
//! The function expands to a query that DataFusion plans and runs (parallel aggregation,
//! streaming input), exposed as a view.

use std::sync::Arc;

use datafusion::catalog::view::ViewTable;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result};

use crate::util::{
    from_item, literal_date_sql, literal_i64, literal_string, plan_sql, quote_ident,
};

/// The `rfm` table function.
#[derive(Debug, Default)]
pub struct Rfm;

const F: &str = "rfm";

/// The SQL an `rfm` call expands to.
pub fn rfm_sql(
    from: &str,
    customer: &str,
    ts: &str,
    amount: &str,
    as_of_sql: &str,
    bins: i64,
) -> String {
    let (c, t, a) = (quote_ident(customer), quote_ident(ts), quote_ident(amount));
    // The named segments are defined on 1-5 scores.
    let segment = if bins == 5 {
        "rfm_segment(r_score, f_score)"
    } else {
        "CAST(NULL AS VARCHAR)"
    };
    format!(
        "WITH agg AS (\
           SELECT {c} AS customer, CAST(max({t}) AS DATE) AS last_date, count(*) AS frequency, \
                  COALESCE(CAST(sum(CAST({a} AS DECIMAL(38, 9))) AS DOUBLE), 0.0) AS monetary \
           FROM {from} WHERE {c} IS NOT NULL AND {t} IS NOT NULL AND CAST({t} AS DATE) <= {as_of_sql} GROUP BY {c}), \
         scored AS (\
           SELECT customer, CAST({as_of_sql} - last_date AS BIGINT) AS recency_days, frequency, monetary, \
             CAST(ntile({bins}) OVER (ORDER BY {as_of_sql} - last_date DESC, customer ASC) AS INT) AS r_score, \
             CAST(ntile({bins}) OVER (ORDER BY frequency ASC, customer ASC) AS INT) AS f_score, \
             CAST(ntile({bins}) OVER (ORDER BY monetary ASC, customer ASC) AS INT) AS m_score \
           FROM agg) \
         SELECT customer, recency_days, frequency, monetary, r_score, f_score, m_score, \
                100 * r_score + 10 * f_score + m_score AS rfm_cell, {segment} AS segment \
         FROM scored"
    )
}

impl TableFunctionImpl for Rfm {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let e = args.exprs();
        if e.len() < 5 || e.len() > 6 {
            return plan_err!(
                "rfm: expected (table_or_query, customer_col, ts_col, amount_col, as_of [, bins]), got {} arguments",
                e.len()
            );
        }
        let source = literal_string(e, 0, F, "table_or_query")?;
        let customer = literal_string(e, 1, F, "customer_col")?;
        let ts = literal_string(e, 2, F, "ts_col")?;
        let amount = literal_string(e, 3, F, "amount_col")?;
        let as_of = literal_date_sql(e, 4, F, "as_of")?;
        let bins = if e.len() == 6 {
            literal_i64(e, 5, F, "bins")?
        } else {
            5
        };
        if !(1..=9).contains(&bins) {
            return plan_err!("rfm: argument bins must be from 1 to 9 (rfm_cell has one digit per score); got {bins}");
        }
        let sql = rfm_sql(&from_item(&source), &customer, &ts, &amount, &as_of, bins);
        let plan = plan_sql(args.session(), &sql).map_err(|err| {
            datafusion::common::plan_datafusion_err!(
                "rfm: cannot read '{source}' with customer_col '{customer}', ts_col '{ts}', amount_col '{amount}': {err}"
            )
        })?;
        Ok(Arc::new(ViewTable::new(plan, Some(sql))))
    }
}
