//! `rmse(pred, actual)`: root mean squared error.

use std::sync::OnceLock;

use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use super::regression::{Regression, RegressionMetric};

/// The `rmse` aggregate.
pub fn rmse_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(RegressionMetric::new(
        "rmse",
        Regression::Rmse,
        documentation,
    ))
}

fn documentation() -> &'static Documentation {
    static DOC: OnceLock<Documentation> = OnceLock::new();
    DOC.get_or_init(|| {
        Documentation::builder(
            DOC_SECTION_GENERAL,
            "Root mean squared error, sqrt(mean((pred - actual)^2)) (scikit-learn's root_mean_squared_error; note the argument order: prediction first). Rows where either side is NULL are ignored; NaN is an error; empty input gives NULL.",
            "rmse(pred, actual)",
        )
        .with_sql_example("SELECT rmse(predict('spend', recency_days, frequency), next_year_spend) FROM test_features;")
        .with_argument("pred", "Predicted value.")
        .with_argument("actual", "True value.")
        .build()
    })
}
