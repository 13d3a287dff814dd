//! `expected_avg_value`: E[M given x, m] under a Gamma-Gamma model: the expected average order value of a customer with frequency repeat purchases of mean value monetary_value (the population mean for frequency 0). NULL in, NULL out; negative values are errors.

use std::sync::{Arc, OnceLock};

use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_OTHER;
use datafusion::logical_expr::{Documentation, ScalarUDF};

use super::clv_scalar::{udf, ClvKind};
use crate::store::ModelStore;

/// The `expected_avg_value` scalar function.
pub fn expected_avg_value_udf(store: Arc<ModelStore>) -> ScalarUDF {
    udf(ClvKind::ExpectedAvgValue, store, documentation)
}

fn documentation() -> &'static Documentation {
    static DOC: OnceLock<Documentation> = OnceLock::new();
    DOC.get_or_init(|| {
        Documentation::builder(DOC_SECTION_OTHER, "E[M given x, m] under a Gamma-Gamma model: the expected average order value of a customer with frequency repeat purchases of mean value monetary_value (the population mean for frequency 0). NULL in, NULL out; negative values are errors.", "expected_avg_value(model, frequency, monetary_value)")
            .with_sql_example("SELECT customer_id, expected_avg_value('gg', frequency, monetary_value) AS avg_value FROM summary;")
            .with_argument("model", "Name of a gamma_gamma model (string literal).")
            .with_argument("frequency", "Repeat purchases (whole number >= 0).")
            .with_argument("monetary_value", "Mean value of the repeat purchases.")
            .build()
    })
}
