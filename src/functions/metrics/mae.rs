//! `mae(pred, actual)`: mean absolute error.

use std::sync::OnceLock;

use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use super::regression::{Regression, RegressionMetric};

/// The `mae` aggregate.
pub fn mae_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(RegressionMetric::new("mae", Regression::Mae, documentation))
}

fn documentation() -> &'static Documentation {
    static DOC: OnceLock<Documentation> = OnceLock::new();
    DOC.get_or_init(|| {
        Documentation::builder(
            DOC_SECTION_GENERAL,
            "Mean absolute error, mean(|pred - actual|) (scikit-learn's mean_absolute_error; prediction first). Rows where either side is NULL are ignored; NaN is an error; empty input gives NULL.",
            "mae(pred, actual)",
        )
        .with_sql_example("SELECT country, mae(forecast, units) FROM backtest GROUP BY country;")
        .with_argument("pred", "Predicted value.")
        .with_argument("actual", "True value.")
        .build()
    })
}
