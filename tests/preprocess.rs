//! The preprocessing window functions, ml_roc_curve and ml_confusion_matrix against
//! scikit-learn: tests/fixtures/preprocess_small.json, made by tests/fixtures/make_preprocess.py.

mod common;

use common::{repo, run, session};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use serde_json::Value;

fn fixture() -> Value {
    let text = std::fs::read_to_string(repo().join("tests/fixtures/preprocess_small.json"))
        .expect("fixture");
    serde_json::from_str(&text).expect("json")
}

fn sql_value(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

/// The column of a one-column query, as JSON values in id order.
async fn column(s: &cohort::CohortSession, sql: &str) -> Vec<Value> {
    let batches = run(s, sql).await;
    let mut out = vec![];
    for b in &batches {
        let c = b.column(0);
        match c.data_type() {
            DataType::Utf8 | DataType::Utf8View => {
                let c = cast(c, &DataType::Utf8).unwrap();
                let c = c.as_string::<i32>();
                for i in 0..c.len() {
                    out.push(if c.is_null(i) {
                        Value::Null
                    } else {
                        Value::from(c.value(i))
                    });
                }
            }
            _ => {
                let c = cast(c, &DataType::Float64).unwrap();
                let c = c.as_primitive::<Float64Type>();
                for i in 0..c.len() {
                    out.push(if c.is_null(i) {
                        Value::Null
                    } else {
                        Value::from(c.value(i))
                    });
                }
            }
        }
    }
    out
}

fn close(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Null, Value::Null) => true,
        (Value::String(a), Value::String(b)) => a == b,
        (a, b) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            _ => false,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_functions_match_scikit_learn() {
    let fx = fixture();
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 3);
    let rows: Vec<String> = fx["data"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let r = r.as_array().unwrap();
            format!(
                "({}, {}, CAST({} AS DOUBLE), CAST({} AS VARCHAR))",
                r[0],
                sql_value(&r[1]),
                sql_value(&r[2]),
                sql_value(&r[3])
            )
        })
        .collect();
    run(
        &s,
        &format!(
            "CREATE TABLE d AS SELECT * FROM (VALUES {}) AS t(id, g, x, c)",
            rows.join(", ")
        ),
    )
    .await;
    let cases = [
        ("standard_scale", "standard_scale(x)"),
        ("min_max_scale", "min_max_scale(x)"),
        ("robust_scale", "robust_scale(x)"),
        ("impute_mean", "impute(x, 'mean')"),
        ("impute_median", "impute(x, 'median')"),
        ("impute_mode", "impute(x, 'mode')"),
        ("impute_zero", "impute(x, 'zero')"),
        ("impute_mode_c", "impute(c, 'mode')"),
        ("winsorize_0.1_0.9", "winsorize(x, 0.1, 0.9)"),
        ("quantile_bucket_3", "quantile_bucket(x, 3)"),
        ("quantile_bucket_4", "quantile_bucket(x, 4)"),
        ("label_encode_c", "label_encode(c)"),
    ];
    let mut checked = 0;
    for (key, call) in cases {
        for (part, over) in [("all", "OVER ()"), ("by_g", "OVER (PARTITION BY g)")] {
            let want = fx["expected"][key][part].as_array().unwrap();
            let got = column(
                &s,
                &format!("SELECT v FROM (SELECT id, {call} {over} AS v FROM d) ORDER BY id"),
            )
            .await;
            assert_eq!(got.len(), want.len(), "{key} {part}");
            for (i, (g, w)) in got.iter().zip(want).enumerate() {
                assert!(
                    close(g, w),
                    "{key} {part} row id {}: got {g}, scikit-learn {w}",
                    i + 1
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 12 * 2 * 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roc_curve_and_confusion_matrix_match_scikit_learn() {
    let fx = fixture();
    let metrics: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/fixtures/metrics_small.json")).unwrap(),
    )
    .unwrap();
    let rows: Vec<String> = metrics["data"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("({}, {})", r[0], r[1]))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 2);
    run(
        &s,
        &format!(
            "CREATE TABLE m AS SELECT score, label, CAST(score >= 0.5 AS INT) AS pred FROM (VALUES {}) AS t(score, label)",
            rows.join(", ")
        ),
    )
    .await;
    let roc = &fx["roc_curve"];
    for col in ["threshold", "tpr", "fpr", "tp", "fp", "tn", "fn"] {
        let key = if col == "threshold" {
            "thresholds"
        } else {
            col
        };
        let want: Vec<Value> = roc[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                if v == "inf" {
                    Value::from(f64::MAX)
                } else {
                    v.clone()
                }
            })
            .collect();
        let got = column(
            &s,
            &format!("SELECT CASE WHEN {col} = 'inf'::double THEN 1.7976931348623157e308 ELSE {col} END FROM ml_roc_curve('m', 'score', 'label') ORDER BY threshold DESC"),
        )
        .await;
        assert_eq!(got.len(), want.len(), "roc_curve {col}");
        for (g, w) in got.iter().zip(&want) {
            assert!(close(g, w), "roc_curve {col}: got {g}, scikit-learn {w}");
        }
    }
    let cells = fx["confusion_matrix"]["cells"].as_array().unwrap();
    for (k, name) in ["actual", "predicted", "count"].iter().enumerate() {
        let got = column(
            &s,
            &format!("SELECT {name} FROM ml_confusion_matrix('m', 'pred', 'label') ORDER BY actual, predicted"),
        )
        .await;
        let want: Vec<Value> = cells.iter().map(|c| c[k].clone()).collect();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!(
                close(g, w),
                "confusion_matrix {name}: got {g}, scikit-learn {w}"
            );
        }
    }
}
