//! Model statements: parsing ([`parser`]) and execution.

pub mod parser;

use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::{plan_err, Result};
use datafusion::execution::context::SessionState;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;

pub use parser::{parse_one, parse_sql, CohortStatement, CreateModel, ParsedStatement};

use crate::models::train::{train, TrainRequest};
use crate::store::{normalize_name, ModelStore};

/// Runs `CREATE MODEL` and returns its one-row result: model, version, type, train_rows,
/// holdout_rows, seconds, metric, value.
pub async fn create_model(
    state: &SessionState,
    store: &ModelStore,
    c: CreateModel,
) -> Result<RecordBatch> {
    let name = normalize_name(&c.name)?;
    if store.exists(&name)? {
        if c.if_not_exists {
            let m = store.manifest(&name)?;
            return create_result(
                &m.name,
                m.version,
                &m.model_type,
                0,
                0,
                0.0,
                Some(("exists (not retrained)".into(), None)),
            );
        }
        if !c.or_replace {
            return plan_err!("CREATE MODEL: model '{name}' already exists; use CREATE OR REPLACE MODEL to train a new version, or CREATE MODEL IF NOT EXISTS");
        }
    }
    let query_text = c.query.to_string();
    let plan = state
        .statement_to_plan(DFStatement::Statement(Box::new(SqlStatement::Query(
            c.query,
        ))))
        .await?;
    let m = train(
        state,
        store,
        TrainRequest {
            name: name.clone(),
            options: c.options,
            plan,
            query_text,
            create_only: !c.or_replace,
        },
    )
    .await?;
    create_result(
        &m.name,
        m.version,
        &m.model_type,
        m.rows.train,
        m.rows.holdout,
        m.training_seconds,
        m.key_metric(),
    )
}

fn create_result(
    name: &str,
    version: u64,
    model_type: &str,
    train_rows: u64,
    holdout_rows: u64,
    seconds: f64,
    metric: Option<(String, Option<f64>)>,
) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::UInt64, false),
        Field::new("type", DataType::Utf8, false),
        Field::new("train_rows", DataType::UInt64, false),
        Field::new("holdout_rows", DataType::UInt64, false),
        Field::new("seconds", DataType::Float64, false),
        Field::new("metric", DataType::Utf8, true),
        Field::new("value", DataType::Float64, true),
    ]));
    let (metric, value) = match metric {
        Some((k, v)) => (Some(k), v),
        None => (None, None),
    };
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec![name])),
            Arc::new(UInt64Array::from(vec![version])),
            Arc::new(StringArray::from(vec![model_type])),
            Arc::new(UInt64Array::from(vec![train_rows])),
            Arc::new(UInt64Array::from(vec![holdout_rows])),
            Arc::new(Float64Array::from(vec![
                (seconds * 1000.0).round() / 1000.0,
            ])),
            Arc::new(StringArray::from(vec![metric])),
            Arc::new(Float64Array::from(vec![value])),
        ],
    )?)
}

/// `DESCRIBE MODEL`: one row per property.
pub fn describe_model(store: &ModelStore, name: &str) -> Result<RecordBatch> {
    let m = store.manifest(name)?;
    let mut rows: Vec<(String, String)> = vec![
        ("name".into(), m.name.clone()),
        ("type".into(), m.model_type.clone()),
        ("version".into(), m.version.to_string()),
        ("created".into(), m.created.clone()),
        ("cohort_version".into(), m.cohort_version.clone()),
    ];
    if let Some(l) = &m.label {
        rows.push((
            "label".into(),
            if l.classes.is_empty() {
                format!("{} ({})", l.name, l.data_type)
            } else {
                format!(
                    "{} ({}; classes {})",
                    l.name,
                    l.data_type,
                    l.classes.join(", ")
                )
            },
        ));
    }
    for f in &m.features {
        rows.push((
            "feature".into(),
            format!("{} ({}, {})", f.name, f.data_type, f.kind),
        ));
    }
    for (k, v) in &m.options {
        rows.push((format!("option.{k}"), v.clone()));
    }
    rows.push(("seed".into(), m.seed.to_string()));
    rows.push(("rows.input".into(), m.rows.input.to_string()));
    rows.push(("rows.train".into(), m.rows.train.to_string()));
    rows.push(("rows.holdout".into(), m.rows.holdout.to_string()));
    rows.push(("rows.skipped".into(), m.rows.skipped.to_string()));
    rows.push(("values.imputed".into(), m.rows.imputed_values.to_string()));
    rows.push((
        "values.unseen_categories".into(),
        m.rows.unseen_categories.to_string(),
    ));
    if let Some(metrics) = &m.metrics {
        for (k, v) in &metrics.values {
            let v = v
                .map(|v| format!("{v:.6}"))
                .unwrap_or_else(|| "NULL (undefined)".into());
            rows.push((format!("metric.{}.{k}", metrics.dataset), v));
        }
    }
    if let Some(col) = &m.partition_by {
        rows.push(("partition_by".into(), col.clone()));
        rows.push(("partitions".into(), m.partitions.len().to_string()));
        for p in &m.partitions {
            let key = format!("partition.{col}={}", p.value);
            rows.push((
                format!("{key}.rows"),
                format!(
                    "input {}, train {}, holdout {}",
                    p.rows.input, p.rows.train, p.rows.holdout
                ),
            ));
            if let Some(metrics) = &p.metrics {
                for (k, v) in &metrics.values {
                    let v = v
                        .map(|v| format!("{v:.6}"))
                        .unwrap_or_else(|| "NULL (undefined)".into());
                    rows.push((format!("{key}.metric.{}.{k}", metrics.dataset), v));
                }
            }
        }
    }
    rows.push((
        "training_seconds".into(),
        format!("{:.3}", m.training_seconds),
    ));
    rows.push(("query".into(), m.query.clone()));
    let schema = Arc::new(Schema::new(vec![
        Field::new("property", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
    ]));
    let (k, v): (Vec<String>, Vec<String>) = rows.into_iter().unzip();
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(k)),
            Arc::new(StringArray::from(v)),
        ],
    )?)
}

/// `DROP MODEL`: one row naming the model dropped.
pub fn drop_model(store: &ModelStore, name: &str, if_exists: bool) -> Result<RecordBatch> {
    let dropped = store.drop_model(name)?;
    if !dropped && !if_exists {
        // Reuse the store's message, which lists the known models.
        store.manifest(name)?;
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("dropped", DataType::Boolean, false),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec![normalize_name(name)?])),
            Arc::new(datafusion::arrow::array::BooleanArray::from(vec![dropped])),
        ],
    )?)
}
