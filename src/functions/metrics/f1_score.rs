//! `f1_score(pred, label)`: 2·tp / (2·tp + fp + fn), the harmonic mean of precision and recall. NULL when there is neither a positive prediction nor a positive label.

use std::sync::OnceLock;

use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use super::binary::{ConfusionMetric, Ratio};

/// The `f1_score` aggregate.
pub fn f1_score_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(ConfusionMetric::new("f1_score", Ratio::F1, documentation))
}

fn documentation() -> &'static Documentation {
    static DOC: OnceLock<Documentation> = OnceLock::new();
    DOC.get_or_init(|| {
        Documentation::builder(
            DOC_SECTION_GENERAL,
            "2·tp / (2·tp + fp + fn), the harmonic mean of precision and recall. NULL when there is neither a positive prediction nor a positive label. Binary: pred and label are 0/1 or boolean (other values are an error); rows where either is NULL are ignored; empty input gives NULL.",
            "f1_score(pred, label)",
        )
        .with_sql_example("SELECT f1_score(pred, label) FROM scored;")
        .with_argument("pred", "Predicted class, 0/1 or boolean.")
        .with_argument("label", "True class, 0/1 or boolean.")
        .build()
    })
}
