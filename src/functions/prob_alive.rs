//! `prob_alive`: P(alive given x, t_x, T) under a BG/NBD model: the probability that a customer with frequency repeat purchases, the last at recency, first purchase T ago, has not churned (1 for customers without repeat purchases, as in the model). NULL in, NULL out; invalid inputs are errors.

use std::sync::{Arc, OnceLock};

use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_OTHER;
use datafusion::logical_expr::{Documentation, ScalarUDF};

use super::clv_scalar::{udf, ClvKind};
use crate::store::ModelStore;

/// The `prob_alive` scalar function.
pub fn prob_alive_udf(store: Arc<ModelStore>) -> ScalarUDF {
    udf(ClvKind::ProbAlive, store, documentation)
}

fn documentation() -> &'static Documentation {
    static DOC: OnceLock<Documentation> = OnceLock::new();
    DOC.get_or_init(|| {
        Documentation::builder(DOC_SECTION_OTHER, "P(alive given x, t_x, T) under a BG/NBD model: the probability that a customer with frequency repeat purchases, the last at recency, first purchase T ago, has not churned (1 for customers without repeat purchases, as in the model). NULL in, NULL out; invalid inputs are errors.", "prob_alive(model, frequency, recency, T)")
            .with_sql_example("SELECT customer_id, prob_alive('bg', frequency, recency, t) AS p_alive FROM summary;")
            .with_argument("model", "Name of a bgnbd model (string literal).")
            .with_argument("frequency", "Repeat purchases (whole number >= 0).")
            .with_argument("recency", "Time from the first to the last purchase.")
            .with_argument("T", "Time from the first purchase to the end of observation.")
            .build()
    })
}
