//! A CREATE OR REPLACE MODEL killed with SIGKILL while writing leaves the previous version
//! loadable, and a new process sees models an earlier process created.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

fn cohort(models: &Path, data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cohort"));
    c.arg("--models")
        .arg(models)
        .arg("--data")
        .arg(data)
        .env_remove("COHORT_FAILPOINT");
    c
}

fn run_sql(models: &Path, data: &Path, script: &Path, sql: &str) -> String {
    std::fs::write(script, sql).unwrap();
    let out = cohort(models, data)
        .arg("run")
        .arg(script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cohort run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

const TRAIN: &str = "CREATE OR REPLACE MODEL m OPTIONS (type = 'logistic_regression', label = 'y', {extra}) AS
  SELECT CAST(amount AS DOUBLE) AS amount, CAST(n_items AS DOUBLE) AS n_items, amount > 60 AS y FROM orders;";

#[test]
fn killed_replace_keeps_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let (data, models, script) = (
        dir.path().join("data"),
        dir.path().join("models"),
        dir.path().join("s.sql"),
    );
    cohort::gen::generate(&data, 500, 3).unwrap();

    run_sql(
        &models,
        &data,
        &script,
        &TRAIN.replace("{extra}", "alpha = 1.0"),
    );
    let before = std::fs::read(models.join("m/v000001/weights.parquet")).unwrap();

    // Second version: stop at the fail point just before the commit, then SIGKILL.
    std::fs::write(&script, TRAIN.replace("{extra}", "alpha = 5.0")).unwrap();
    let mut child = cohort(&models, &data)
        .arg("run")
        .arg(&script)
        .env("COHORT_FAILPOINT", "pause_before_commit")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut reached = false;
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if line.contains("failpoint pause_before_commit reached") {
            reached = true;
            break;
        }
    }
    assert!(reached, "the training process never reached the fail point");
    // The new version's files are on disk, uncommitted.
    let pending: Vec<_> = std::fs::read_dir(models.join("m"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert!(
        pending
            .iter()
            .any(|n| n.to_string_lossy().starts_with(".tmp-")),
        "{pending:?}"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // A new process loads version 1, unchanged, and scores with it.
    let out = run_sql(&models, &data, &script, "SHOW MODELS; SELECT round(predict_proba('m', amount, n_items), 6) AS p FROM (SELECT 10.0 AS amount, 1.0 AS n_items);");
    assert!(out.contains("| m    | logistic_regression | 1 "), "{out}");
    assert_eq!(
        std::fs::read(models.join("m/v000001/weights.parquet")).unwrap(),
        before
    );

    // Finishing the replacement later works and becomes version 2.
    let out = run_sql(
        &models,
        &data,
        &script,
        &TRAIN.replace("{extra}", "alpha = 5.0"),
    );
    assert!(out.contains("| m     | 2 "), "{out}");
}
