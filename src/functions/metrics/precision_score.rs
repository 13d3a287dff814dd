//! `precision_score(pred, label)`: tp / (tp + fp), the share of predicted positives that are positive. NULL when nothing is predicted positive (scikit-learn warns and returns 0).

use std::sync::OnceLock;

use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use super::binary::{ConfusionMetric, Ratio};

/// The `precision_score` aggregate.
pub fn precision_score_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(ConfusionMetric::new(
        "precision_score",
        Ratio::Precision,
        documentation,
    ))
}

fn documentation() -> &'static Documentation {
    static DOC: OnceLock<Documentation> = OnceLock::new();
    DOC.get_or_init(|| {
        Documentation::builder(
            DOC_SECTION_GENERAL,
            "tp / (tp + fp), the share of predicted positives that are positive. NULL when nothing is predicted positive (scikit-learn warns and returns 0). Binary: pred and label are 0/1 or boolean (other values are an error); rows where either is NULL are ignored; empty input gives NULL.",
            "precision_score(pred, label)",
        )
        .with_sql_example("SELECT channel, precision_score(predict('churn', recency_days, frequency), churned) FROM features GROUP BY channel;")
        .with_argument("pred", "Predicted class, 0/1 or boolean.")
        .with_argument("label", "True class, 0/1 or boolean.")
        .build()
    })
}
