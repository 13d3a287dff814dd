//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use cohort::CohortSession;
use datafusion::arrow::array::RecordBatch;

/// `../shared/data` beside the repo, when it exists. Tests that need it print why they skip.
pub fn shared_data(test: &str) -> Option<PathBuf> {
    let dir = repo().join("../shared/data");
    if dir.join("cdnow_master.parquet").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {test}: {} is absent; this test compares against the real CDNOW data set",
            dir.display()
        );
        None
    }
}

/// The repo root: cargo's `CARGO_MANIFEST_DIR` at run time (a test binary built for another
/// checkout sharing the target folder must still read this checkout's files), else at build
/// time.
pub fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// A session with its own model store in `dir`.
pub fn session(dir: &Path, partitions: usize) -> CohortSession {
    CohortSession::builder()
        .models_dir(dir.join("models"))
        .target_partitions(partitions)
        .build()
        .expect("session")
}

/// Runs one statement and collects it.
pub async fn run(s: &CohortSession, sql: &str) -> Vec<RecordBatch> {
    match s.sql(sql).await {
        Ok(df) => df.collect().await.unwrap_or_else(|e| panic!("{sql}\n{e}")),
        Err(e) => panic!("{sql}\n{e}"),
    }
}

/// Registers `../shared/data`'s CDNOW purchases (`data`, from [`shared_data`]) as table `cdnow`.
pub async fn register_cdnow(s: &CohortSession, data: &Path) {
    run(
        s,
        &format!(
            "CREATE EXTERNAL TABLE cdnow STORED AS PARQUET LOCATION '{}'",
            data.join("cdnow_master.parquet").display()
        ),
    )
    .await;
}

/// A single f64 from a one-row, one-column result.
pub async fn scalar_f64(s: &CohortSession, sql: &str) -> f64 {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Float64Type;
    let b = run(s, &format!("SELECT CAST(v AS DOUBLE) FROM ({sql}) AS q(v)")).await;
    let b = b.iter().find(|b| b.num_rows() > 0).expect("one row");
    b.column(0).as_primitive::<Float64Type>().value(0)
}

/// A single i64 from a one-row, one-column result.
pub async fn scalar_i64(s: &CohortSession, sql: &str) -> i64 {
    scalar_f64(s, sql).await as i64
}
