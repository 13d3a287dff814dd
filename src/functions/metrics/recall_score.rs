//! `recall_score(pred, label)`: tp / (tp + fn), the share of positives that are predicted positive. NULL when no label is positive.

use std::sync::OnceLock;

use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use super::binary::{ConfusionMetric, Ratio};

/// The `recall_score` aggregate.
pub fn recall_score_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(ConfusionMetric::new(
        "recall_score",
        Ratio::Recall,
        documentation,
    ))
}

fn documentation() -> &'static Documentation {
    static DOC: OnceLock<Documentation> = OnceLock::new();
    DOC.get_or_init(|| {
        Documentation::builder(
            DOC_SECTION_GENERAL,
            "tp / (tp + fn), the share of positives that are predicted positive. NULL when no label is positive. Binary: pred and label are 0/1 or boolean (other values are an error); rows where either is NULL are ignored; empty input gives NULL.",
            "recall_score(pred, label)",
        )
        .with_sql_example("SELECT recall_score(p >= 0.5, label) FROM scored;")
        .with_argument("pred", "Predicted class, 0/1 or boolean.")
        .with_argument("label", "True class, 0/1 or boolean.")
        .build()
    })
}
