//! `expected_purchases`: E[X(t) given x, t_x, T] under a BG/NBD model: the expected number of purchases in the next t time units (the unit of recency and T; weeks for clv_summary's default) of a customer with frequency repeat purchases, the last at recency, first purchase T ago. NULL in, NULL out; negative or fractional frequency, negative times or recency > T are errors.

use std::sync::{Arc, OnceLock};

use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_OTHER;
use datafusion::logical_expr::{Documentation, ScalarUDF};

use super::clv_scalar::{udf, ClvKind};
use crate::store::ModelStore;

/// The `expected_purchases` scalar function.
pub fn expected_purchases_udf(store: Arc<ModelStore>) -> ScalarUDF {
    udf(ClvKind::ExpectedPurchases, store, documentation)
}

fn documentation() -> &'static Documentation {
    static DOC: OnceLock<Documentation> = OnceLock::new();
    DOC.get_or_init(|| {
        Documentation::builder(DOC_SECTION_OTHER, "E[X(t) given x, t_x, T] under a BG/NBD model: the expected number of purchases in the next t time units (the unit of recency and T; weeks for clv_summary's default) of a customer with frequency repeat purchases, the last at recency, first purchase T ago. NULL in, NULL out; negative or fractional frequency, negative times or recency > T are errors.", "expected_purchases(model, t, frequency, recency, T)")
            .with_sql_example("SELECT customer_id, expected_purchases('bg', 52, frequency, recency, t) AS next_year FROM summary ORDER BY next_year DESC LIMIT 10;")
            .with_argument("model", "Name of a bgnbd model (string literal).")
            .with_argument("t", "Length of the future period, in the unit of recency and T.")
            .with_argument("frequency", "Repeat purchases (whole number >= 0).")
            .with_argument("recency", "Time from the first to the last purchase.")
            .with_argument("T", "Time from the first purchase to the end of observation.")
            .build()
    })
}
