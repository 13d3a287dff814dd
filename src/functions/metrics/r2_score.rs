//! `r2_score(pred, actual)`: the coefficient of determination.

use std::sync::OnceLock;

use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use super::regression::{Regression, RegressionMetric};

/// The `r2_score` aggregate.
pub fn r2_score_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(RegressionMetric::new(
        "r2_score",
        Regression::R2,
        documentation,
    ))
}

fn documentation() -> &'static Documentation {
    static DOC: OnceLock<Documentation> = OnceLock::new();
    DOC.get_or_init(|| {
        Documentation::builder(
            DOC_SECTION_GENERAL,
            "Coefficient of determination, 1 - sum((actual - pred)^2) / sum((actual - mean(actual))^2) (scikit-learn's r2_score; prediction first). Constant actual values give 1 when predicted exactly, else 0 (scikit-learn's force_finite); NULL on fewer than two rows. Rows where either side is NULL are ignored; NaN is an error; empty input gives NULL.",
            "r2_score(pred, actual)",
        )
        .with_sql_example("SELECT r2_score(predict('spend', recency_days, frequency), next_year_spend) FROM test_features;")
        .with_argument("pred", "Predicted value.")
        .with_argument("actual", "True value.")
        .build()
    })
}
