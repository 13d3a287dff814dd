//! Metric aggregates (scikit-learn definitions, binary with positive class 1 / true).
//! NULL rows are ignored; empty input, or input where a metric is undefined (no positive
//! prediction for precision, one class for AUC), returns NULL.

pub mod accuracy;
pub(crate) mod binary;
pub mod f1_score;
pub mod forecast;
pub mod kernels;
pub mod lift_at;
pub mod log_loss;
pub mod mae;
pub mod pr_auc;
pub mod precision_score;
pub mod r2_score;
mod ranking;
pub mod recall_score;
pub(crate) mod regression;
pub mod rmse;
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
        pr_auc::pr_auc_udaf(),
        lift_at::lift_at_udaf(),
        rmse::rmse_udaf(),
        mae::mae_udaf(),
        r2_score::r2_score_udaf(),
        forecast::mape_udaf(),
        forecast::smape_udaf(),
        forecast::mase_udaf(),
    ]
}
