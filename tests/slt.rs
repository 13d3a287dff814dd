//! sqllogictest harness: every `tests/slt/**/*.slt` file runs in its own fresh session with its
//! own empty model store. Values print as DataFusion shows them; NULL as `NULL`.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use cohort::CohortSession;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;
use sqllogictest::{DBOutput, DefaultColumnType};

struct CohortDb {
    session: CohortSession,
    _dir: tempfile::TempDir,
}

#[async_trait]
impl sqllogictest::AsyncDB for CohortDb {
    type Error = DataFusionError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DataFusionError> {
        let df = self.session.sql(sql).await?;
        let ncols = df.schema().fields().len();
        let batches = df.collect().await?;
        let options = FormatOptions::default().with_null("NULL");
        let mut rows = vec![];
        for b in &batches {
            let formatters = b
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()?;
            let floats: Vec<bool> = b
                .columns()
                .iter()
                .map(|c| c.data_type().is_floating())
                .collect();
            for r in 0..b.num_rows() {
                rows.push(
                    formatters
                        .iter()
                        .zip(&floats)
                        .map(|(f, &float)| {
                            let s = f.value(r).to_string();
                            // Whole floats print without ".0", as in DataFusion's own .slt files.
                            let s = match s.strip_suffix(".0") {
                                Some(whole) if float => whole.to_string(),
                                _ => s,
                            };
                            if s.is_empty() {
                                "(empty)".to_string()
                            } else {
                                s
                            }
                        })
                        .collect(),
                );
            }
        }
        if ncols == 0 {
            return Ok(DBOutput::StatementComplete(0));
        }
        Ok(DBOutput::Rows {
            types: vec![DefaultColumnType::Any; ncols],
            rows,
        })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "cohort"
    }
}

fn slt_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("tests/slt exists")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            slt_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "slt") {
            out.push(p);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqllogictests() {
    // the checkout being tested (cargo sets the variable at run time; a shared target folder
    // may hold a binary built for another checkout)
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let root = manifest.join("tests/slt");
    let mut files = vec![];
    slt_files(&root, &mut files);
    assert!(!files.is_empty(), "no .slt files under {}", root.display());
    let filter = std::env::var("SLT_FILTER").ok();
    let mut failures = vec![];
    let mut ran = 0;
    for file in &files {
        if filter
            .as_ref()
            .is_some_and(|f| !file.to_string_lossy().contains(f.as_str()))
        {
            continue;
        }
        ran += 1;
        let mut runner = sqllogictest::Runner::new(|| async {
            let dir = tempfile::tempdir().map_err(|e| DataFusionError::External(Box::new(e)))?;
            let session = CohortSession::builder()
                .models_dir(dir.path().join("models"))
                .target_partitions(2)
                .build()?;
            Ok::<_, DataFusionError>(CohortDb { session, _dir: dir })
        });
        match runner.run_file_async(file).await {
            Ok(()) => println!(
                "ok   {}",
                file.strip_prefix(&root).unwrap_or(file).display()
            ),
            Err(e) => {
                println!(
                    "FAIL {}",
                    file.strip_prefix(&root).unwrap_or(file).display()
                );
                failures.push(format!("{}:\n{e}", file.display()));
            }
        }
    }
    println!(
        "{} slt files passed, {} failed",
        ran - failures.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} .slt file(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
