//! `ml_evaluate('model')` (metrics stored at training time) and
//! `ml_evaluate('model', 'SELECT ...')` (metrics of the model on a query's rows, which must
//! hold the features and the label). Classifiers: model, version, dataset, rows, accuracy,
//! precision, recall, f1_score, roc_auc, log_loss; regression: rows, rmse, mae, r2. A model
//! trained with `partition_by` adds one row per partition value (stored mode) and a column
//! named after the partition column. On a query, `unscored` counts the labelled rows the model
//! gave no prediction (NULL features under `null_policy = 'skip'`, or a partition value it
//! was not trained on).

use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::view::ViewTable;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result};
use datafusion::datasource::MemTable;

use crate::models::TrainedModel;
use crate::store::ModelStore;
use crate::util::{from_item, literal_string, plan_sql, quote_ident, quote_str};

const METRICS: [&str; 6] = [
    "accuracy",
    "precision",
    "recall",
    "f1_score",
    "roc_auc",
    "log_loss",
];

/// The `ml_evaluate` table function.
#[derive(Debug)]
pub struct MlEvaluate {
    store: Arc<ModelStore>,
}

impl MlEvaluate {
    /// Evaluates models of `store`.
    pub fn new(store: Arc<ModelStore>) -> Self {
        Self { store }
    }
}

impl TableFunctionImpl for MlEvaluate {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if exprs.is_empty() || exprs.len() > 2 {
            return plan_err!(
                "ml_evaluate: expected (model) or (model, query), got {} arguments",
                exprs.len()
            );
        }
        let name = literal_string(exprs, 0, "ml_evaluate", "model")?;
        let model = self.store.load(&name)?;
        let m = &model.manifest;
        if exprs.len() == 1 {
            let Some(metrics) = &m.metrics else {
                return plan_err!("ml_evaluate: model '{}' has no stored metrics (it was trained without evaluation rows)", m.name);
            };
            // One row for the model; a partitioned model adds one row per partition value.
            let mut rows: Vec<(Option<String>, &crate::store::StoredMetrics)> =
                vec![(None, metrics)];
            for p in &m.partitions {
                if let Some(pm) = &p.metrics {
                    rows.push((Some(p.value.clone()), pm));
                }
            }
            // Classifiers report the fixed classification columns; other model types report
            // the metrics they store, in name order.
            let keys: Vec<String> = if model.is_classifier() {
                METRICS.iter().map(|k| k.to_string()).collect()
            } else {
                metrics.values.keys().cloned().collect()
            };
            let mut fields = vec![
                Field::new("model", DataType::Utf8, false),
                Field::new("version", DataType::UInt64, false),
                Field::new("dataset", DataType::Utf8, false),
                Field::new("rows", DataType::UInt64, false),
            ];
            let mut cols: Vec<Arc<dyn datafusion::arrow::array::Array>> = vec![
                Arc::new(StringArray::from(vec![m.name.clone(); rows.len()])),
                Arc::new(UInt64Array::from(vec![m.version; rows.len()])),
                Arc::new(StringArray::from_iter_values(
                    rows.iter().map(|r| r.1.dataset.as_str()),
                )),
                Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.1.rows))),
            ];
            for k in &keys {
                fields.push(Field::new(k, DataType::Float64, true));
                cols.push(Arc::new(
                    rows.iter()
                        .map(|r| r.1.values.get(k).copied().flatten())
                        .collect::<Float64Array>(),
                ));
            }
            if let Some(col) = &m.partition_by {
                fields.push(Field::new(col, DataType::Utf8, true));
                cols.push(Arc::new(
                    rows.iter().map(|r| r.0.clone()).collect::<StringArray>(),
                ));
            }
            let schema = Arc::new(Schema::new(fields));
            let batch = RecordBatch::try_new(Arc::clone(&schema), cols)?;
            return Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?));
        }
        let query = literal_string(exprs, 1, "ml_evaluate", "query")?;
        if model.task() == crate::models::Task::Regression {
            let label = m.label.as_ref().map(|l| l.name.clone()).unwrap_or_default();
            let features: Vec<String> = model
                .feature_names()
                .iter()
                .map(|f| quote_ident(f))
                .collect();
            let sql = format!(
                "SELECT {name} AS model, CAST({version} AS BIGINT UNSIGNED) AS version, 'query' AS dataset, \
                   CAST(count(__pred) AS BIGINT UNSIGNED) AS rows, rmse(__pred, __y) AS rmse, mae(__pred, __y) AS mae, \
                   r2_score(__pred, __y) AS r2, \
                   CAST(count(*) - count(__pred) AS BIGINT UNSIGNED) AS unscored \
                 FROM (SELECT predict({name}, {features}) AS __pred, CAST({label} AS DOUBLE) AS __y \
                       FROM {from} WHERE {label} IS NOT NULL) AS scored",
                name = quote_str(&m.name),
                version = m.version,
                features = features.join(", "),
                label = quote_ident(&label),
                from = from_item(&query),
            );
            let plan = plan_scored(args.session(), &model, "ml_evaluate", &sql)?;
            return Ok(Arc::new(ViewTable::new(plan, Some(sql))));
        }
        if !model.is_classifier() {
            return plan_err!(
                "ml_evaluate: evaluating a {} model on a query is not supported; use ml_evaluate('{}') for the metrics stored at training{}",
                m.model_type,
                m.name,
                if m.model_type == "kmeans" { " (inertia and silhouette)" } else { " (a calibration summary from clv_summary adds hold-out predicted vs actual purchases)" }
            );
        }
        let scored = scored_sql(&model, &query)?;
        let sql = format!(
            "SELECT {model} AS model, CAST({version} AS BIGINT UNSIGNED) AS version, 'query' AS dataset, \
               CAST(count(__p) AS BIGINT UNSIGNED) AS rows, \
               accuracy(__p >= 0.5, __y) AS accuracy, precision_score(__p >= 0.5, __y) AS precision, \
               recall_score(__p >= 0.5, __y) AS recall, f1_score(__p >= 0.5, __y) AS f1_score, \
               roc_auc(__p, __y) AS roc_auc, log_loss(__p, __y) AS log_loss, \
               CAST(count(*) - count(__p) AS BIGINT UNSIGNED) AS unscored \
             FROM ({scored}) AS scored",
            model = quote_str(&m.name),
            version = m.version,
        );
        let plan = plan_scored(args.session(), &model, "ml_evaluate", &sql)?;
        Ok(Arc::new(ViewTable::new(plan, Some(sql))))
    }
}

/// SQL scoring a binary classifier on a query's rows: columns `__p` (P(positive class)),
/// `__y` (label is the positive class), `__label` (the label) and `__pred` (the predicted
/// class), for the rows with a label.
pub(crate) fn scored_sql(model: &TrainedModel, query: &str) -> Result<String> {
    let m = &model.manifest;
    if !model.is_classifier() {
        return plan_err!(
            "model '{}' is a {} model; this needs a classifier (evaluate other model types with ml_evaluate('{}'))",
            m.name,
            m.model_type,
            m.name
        );
    }
    let Some(label) = &m.label else {
        return plan_err!("model '{}' has no label to evaluate against", m.name);
    };
    let [_, positive] = label.classes.as_slice() else {
        return plan_err!("model '{}' is not a binary classifier", m.name);
    };
    let features: Vec<String> = model
        .feature_names()
        .iter()
        .map(|f| quote_ident(f))
        .collect();
    let sql_type = match model.predict_type() {
        DataType::Boolean => "BOOLEAN",
        DataType::Int64 => "BIGINT",
        DataType::Float64 => "DOUBLE",
        _ => "VARCHAR",
    };
    Ok(format!(
        "SELECT predict_proba({name}, {features}) AS __p, \
                CAST({label} AS {sql_type}) = CAST({positive} AS {sql_type}) AS __y, \
                CAST({label} AS {sql_type}) AS __label, predict({name}, {features}) AS __pred \
         FROM {from} WHERE {label} IS NOT NULL",
        name = quote_str(&m.name),
        features = features.join(", "),
        label = quote_ident(&label.name),
        positive = quote_str(positive),
        from = from_item(query),
    ))
}

/// Plans SQL built on [`scored_sql`], explaining a failure in terms of the model's inputs.
pub(crate) fn plan_scored(
    session: &dyn datafusion::catalog::Session,
    model: &TrainedModel,
    func: &str,
    sql: &str,
) -> Result<datafusion::logical_expr::LogicalPlan> {
    let m = &model.manifest;
    plan_sql(session, sql).map_err(|e| {
        datafusion::common::plan_datafusion_err!(
            "{func}('{}', query): the query must return the model's features ({}) and its label '{}'; {e}",
            m.name,
            model.feature_names().join(", "),
            m.label.as_ref().map_or("", |l| l.name.as_str())
        )
    })
}
