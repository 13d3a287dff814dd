//! Metric aggregates (scikit-learn definitions, binary with positive class 1 / true).
//! NULL rows are ignored; empty input, or input where a metric is undefined (no positive
//! prediction for precision, one class for AUC), returns NULL.

pub mod accuracy;
mod binary;
pub mod f1_score;
pub mod kernels;
pub mod log_loss;
pub mod precision_score;
pub mod recall_score;
pub mod roc_auc;

use datafusion::logical_expr::AggregateUDF;

/// All metric aggregates.
pub fn all() -> Vec<AggregateUDF> {
    vec![
        accuracy::accuracy_udaf(),
        precision_score::precision_score_udaf(),
        recall_score::recall_score_udaf(),
        f1_score::f1_score_udaf(),
        roc_auc::roc_auc_udaf(),
        log_loss::log_loss_udaf(),
    ]
}
