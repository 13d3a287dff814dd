//! `clv`: Customer lifetime value over the next months, as Lifetimes' customer_lifetime_value: for each month i = 1..months, the BG/NBD expected purchases in that month (a month is 4.345 weeks, or 30 days for a model with time_unit = 'day') times the Gamma-Gamma expected average value, discounted by (1 + monthly_discount)^i. NULL in, NULL out; invalid inputs are errors.

use std::sync::{Arc, OnceLock};

use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_OTHER;
use datafusion::logical_expr::{Documentation, ScalarUDF};

use super::clv_scalar::{udf, ClvKind};
use crate::store::ModelStore;

/// The `clv` scalar function.
pub fn clv_udf(store: Arc<ModelStore>) -> ScalarUDF {
    udf(ClvKind::Clv, store, documentation)
}

fn documentation() -> &'static Documentation {
    static DOC: OnceLock<Documentation> = OnceLock::new();
    DOC.get_or_init(|| {
        Documentation::builder(DOC_SECTION_OTHER, "Customer lifetime value over the next months, as Lifetimes' customer_lifetime_value: for each month i = 1..months, the BG/NBD expected purchases in that month (a month is 4.345 weeks, or 30 days for a model with time_unit = 'day') times the Gamma-Gamma expected average value, discounted by (1 + monthly_discount)^i. NULL in, NULL out; invalid inputs are errors.", "clv(bg_model, gg_model, frequency, recency, T, monetary_value, months, monthly_discount)")
            .with_sql_example("SELECT customer_id, clv('bg', 'gg', frequency, recency, t, monetary_value, 12, 0.01) AS clv_12m FROM summary ORDER BY clv_12m DESC LIMIT 20;")
            .with_argument("bg_model", "Name of a bgnbd model.")
            .with_argument("gg_model", "Name of a gamma_gamma model.")
            .with_argument("frequency", "Repeat purchases.")
            .with_argument("recency", "Time from the first to the last purchase.")
            .with_argument("T", "Time from the first purchase to the end of observation.")
            .with_argument("monetary_value", "Mean value of the repeat purchases.")
            .with_argument("months", "Horizon in months (whole number).")
            .with_argument("monthly_discount", "Discount rate per month, e.g. 0.01.")
            .build()
    })
}
