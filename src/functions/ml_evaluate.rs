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
        if model.task() == crate::models::Task::Forecast {
            if exprs.len() == 2 {
                return plan_err!("ml_evaluate: model '{}' is a forecast model, evaluated by its back-test: ml_evaluate('{}'); score other forecasts with the mase, smape and rmse aggregates", m.name, m.name);
            }
            return forecast_backtest(&model);
        }
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
        if model.classes().len() > 2 {
            let sql = multiclass_sql(&model, &scored)?;
            let plan = plan_scored(args.session(), &model, "ml_evaluate", &sql)?;
            return Ok(Arc::new(ViewTable::new(plan, Some(sql))));
        }
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

/// The back-test of a forecast model: an overall row (series NULL: MASE and sMAPE averaged over
/// the series, RMSE over all back-test points) and one row per series, with its MASE scale
/// (the training part's mean absolute seasonal-naive error, for the `mase` aggregate).
fn forecast_backtest(model: &TrainedModel) -> Result<Arc<dyn TableProvider>> {
    use datafusion::arrow::array::{Array, AsArray};
    let m = &model.manifest;
    let Some(bt) = model.tables.get("backtest.parquet") else {
        return plan_err!("ml_evaluate: forecast model '{}' has no back-test", m.name);
    };
    let col = |n: &str| -> Result<datafusion::arrow::array::ArrayRef> {
        bt.column_by_name(n).cloned().ok_or_else(|| {
            datafusion::common::plan_datafusion_err!(
                "model store: backtest.parquet has no column '{n}'"
            )
        })
    };
    let cast = |a: datafusion::arrow::array::ArrayRef,
                t: &DataType|
     -> Result<datafusion::arrow::array::ArrayRef> {
        Ok(datafusion::arrow::compute::cast(&a, t)?)
    };
    let series = cast(col("series")?, &DataType::Utf8)?;
    let method = cast(col("method")?, &DataType::Utf8)?;
    let rows = cast(col("rows")?, &DataType::UInt64)?;
    let num = |n: &str| -> Result<datafusion::arrow::array::ArrayRef> {
        cast(col(n)?, &DataType::Float64)
    };
    let (mase, smape, rmse, scale) = (num("mase")?, num("smape")?, num("rmse")?, num("scale")?);
    let k = bt.num_rows();
    let overall = m.metrics.as_ref();
    let get = |key: &str| overall.and_then(|x| x.values.get(key).copied().flatten());
    let mut s_col: Vec<Option<String>> = vec![None];
    let mut m_col: Vec<Option<String>> = vec![None];
    let mut r_col: Vec<u64> = vec![overall.map_or(0, |x| x.rows)];
    let mut mase_c = vec![get("mase")];
    let mut smape_c = vec![get("smape")];
    let mut rmse_c = vec![get("rmse")];
    let mut scale_c = vec![None];
    let (series, method) = (series.as_string::<i32>(), method.as_string::<i32>());
    let rows = rows.as_primitive::<datafusion::arrow::datatypes::UInt64Type>();
    let f = |a: &datafusion::arrow::array::ArrayRef, i: usize| {
        let a = a.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
        a.is_valid(i).then(|| a.value(i))
    };
    for i in 0..k {
        s_col.push(Some(series.value(i).to_string()));
        m_col.push(method.is_valid(i).then(|| method.value(i).to_string()));
        r_col.push(rows.value(i));
        mase_c.push(f(&mase, i));
        smape_c.push(f(&smape, i));
        rmse_c.push(f(&rmse, i));
        scale_c.push(f(&scale, i));
    }
    let n = k + 1;
    let schema = Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::UInt64, false),
        Field::new("dataset", DataType::Utf8, false),
        Field::new("series", DataType::Utf8, true),
        Field::new("method", DataType::Utf8, true),
        Field::new("rows", DataType::UInt64, false),
        Field::new("mase", DataType::Float64, true),
        Field::new("smape", DataType::Float64, true),
        Field::new("rmse", DataType::Float64, true),
        Field::new("scale", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from(vec![m.name.clone(); n])),
            Arc::new(UInt64Array::from(vec![m.version; n])),
            Arc::new(StringArray::from(vec!["backtest"; n])),
            Arc::new(StringArray::from(s_col)),
            Arc::new(StringArray::from(m_col)),
            Arc::new(UInt64Array::from(r_col)),
            Arc::new(Float64Array::from(mase_c)),
            Arc::new(Float64Array::from(smape_c)),
            Arc::new(Float64Array::from(rmse_c)),
            Arc::new(Float64Array::from(scale_c)),
        ],
    )?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// The SQL type of a classifier's label (as `predict` returns it).
fn label_sql_type(model: &TrainedModel) -> &'static str {
    match model.predict_type() {
        DataType::Boolean => "BOOLEAN",
        DataType::Int64 => "BIGINT",
        DataType::Float64 => "DOUBLE",
        _ => "VARCHAR",
    }
}

/// The metrics of a classifier with three or more classes over [`scored_sql`]'s rows, as
/// scikit-learn's macro averages (the same definitions as the metrics stored at training):
/// per class, precision, recall and F1 of "is this class" (0 where undefined) and the
/// one-vs-rest AUC of that class's probability, averaged over the classes; accuracy and
/// log loss over the rows.
fn multiclass_sql(model: &TrainedModel, scored: &str) -> Result<String> {
    let m = &model.manifest;
    let classes = model.classes();
    let k = classes.len();
    let t = label_sql_type(model);
    let lit = |c: &str| format!("CAST({} AS {t})", quote_str(c));
    let per = |f: &dyn Fn(&str) -> String| -> String {
        classes.iter().map(|c| f(c)).collect::<Vec<_>>().join(" + ")
    };
    // scikit-learn's macro average: over the classes present in the labels or predictions
    let present_of = |c: &str| {
        format!(
            "sum(CASE WHEN __p IS NOT NULL AND (__label = {l} OR __pred = {l}) THEN 1 ELSE 0 END) > 0",
            l = lit(c)
        )
    };
    let present = per(&|c| format!("CASE WHEN {} THEN 1.0 ELSE 0.0 END", present_of(c)));
    let macro_of = |func: &str| {
        per(&|c| {
            format!(
                "CASE WHEN {} THEN coalesce({func}(__pred = {l}, __label = {l}), 0.0) ELSE 0.0 END",
                present_of(c),
                l = lit(c)
            )
        })
    };
    let (precision, recall, f1) = (
        macro_of("precision_score"),
        macro_of("recall_score"),
        macro_of("f1_score"),
    );
    let auc = per(&|c| {
        format!(
            "roc_auc(__p[{name}], __label = {l})",
            name = quote_str(c),
            l = lit(c)
        )
    });
    let p_true = classes
        .iter()
        .map(|c| format!("WHEN {} THEN __p[{}]", lit(c), quote_str(c)))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(format!(
        "SELECT {model} AS model, CAST({version} AS BIGINT UNSIGNED) AS version, 'query' AS dataset,            CAST(count(__p) AS BIGINT UNSIGNED) AS rows,            avg(CASE WHEN __p IS NULL THEN NULL WHEN __pred = __label THEN 1.0 ELSE 0.0 END) AS accuracy,            ({precision}) / nullif({present}, 0.0) AS precision, ({recall}) / nullif({present}, 0.0) AS recall, ({f1}) / nullif({present}, 0.0) AS f1_score,            ({auc}) / {k}.0 AS roc_auc,            avg(CASE WHEN __p IS NULL THEN NULL ELSE -ln(least(greatest(coalesce(CASE __label {p_true} END, 0.0), {eps:e}), 1.0 - {eps:e})) END) AS log_loss,            CAST(count(*) - count(__p) AS BIGINT UNSIGNED) AS unscored          FROM ({scored}) AS scored",
        model = quote_str(&m.name),
        version = m.version,
        eps = f64::EPSILON,
    ))
}

/// SQL scoring a classifier on a query's rows, for the rows with a label: `__p` (P(positive
/// class); a struct of class probabilities for three or more classes), `__y` (binary only:
/// the label is the positive class), `__label` (the label) and `__pred` (the predicted
/// class).
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
    let features: Vec<String> = model
        .feature_names()
        .iter()
        .map(|f| quote_ident(f))
        .collect();
    let sql_type = label_sql_type(model);
    let is_positive = match label.classes.as_slice() {
        [_, positive] => format!(
            "CAST({label} AS {sql_type}) = CAST({positive} AS {sql_type}) AS __y, ",
            label = quote_ident(&label.name),
            positive = quote_str(positive)
        ),
        _ => String::new(),
    };
    Ok(format!(
        "SELECT predict_proba({name}, {features}) AS __p, {is_positive}\
                CAST({label} AS {sql_type}) AS __label, CAST(predict({name}, {features}) AS {sql_type}) AS __pred \
         FROM {from} WHERE {label} IS NOT NULL",
        name = quote_str(&m.name),
        features = features.join(", "),
        label = quote_ident(&label.name),
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
