//! The interactive shell: multi-line statements ending in `;`, backslash commands, history,
//! pretty tables, a spinner on statements running longer than a second, Ctrl-C to cancel.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::common::Result;
use indicatif::{ProgressBar, ProgressStyle};
use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;

use super::script;
use crate::session::CohortSession;
use crate::statements::parse_sql;

const HELP: &str = r"Statements end with ';' and may span lines. Besides SQL:
  CREATE [OR REPLACE] MODEL [IF NOT EXISTS] m OPTIONS (type = '...', label = '...') AS SELECT ...;
  SHOW MODELS;  DESCRIBE MODEL m;  DROP MODEL [IF EXISTS] m;
Commands:
  \d          list tables            \d NAME   columns of a table
  \models     list models            \timing   toggle timing
  \i FILE     run a script           \help     this text
  \q          quit
Ctrl-C cancels a running statement; Ctrl-D quits.";

fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cohort_history"))
}

/// Runs statements with a spinner after one second; Ctrl-C cancels.
async fn run_with_progress(
    session: &CohortSession,
    sql: &str,
) -> Result<Vec<(Vec<RecordBatch>, Duration)>> {
    let statements = parse_sql(sql)?;
    let mut results = vec![];
    for s in statements {
        let started = Instant::now();
        let spinner = ProgressBar::hidden();
        let work = async {
            let df = session.execute(s.statement).await?;
            df.collect().await
        };
        let tick = {
            let spinner = spinner.clone();
            async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                spinner.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                spinner.set_style(
                    ProgressStyle::with_template("{spinner} running… {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                spinner.enable_steady_tick(Duration::from_millis(100));
                std::future::pending::<()>().await;
            }
        };
        let out = tokio::select! {
            r = work => r,
            _ = tick => unreachable!(),
            _ = tokio::signal::ctrl_c() => Err(datafusion::error::DataFusionError::Execution("cancelled by Ctrl-C".into())),
        };
        spinner.finish_and_clear();
        results.push((out?, started.elapsed()));
    }
    Ok(results)
}

fn print_batches(batches: &[RecordBatch], elapsed: Duration, timing: bool) {
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if batches.iter().any(|b| b.num_columns() > 0) && rows > 0 {
        match pretty_format_batches(batches) {
            Ok(t) => println!("{t}"),
            Err(e) => eprintln!("error: {e}"),
        }
    }
    let noun = if rows == 1 { "row" } else { "rows" };
    if timing {
        println!("{rows} {noun} in {:.3}s", elapsed.as_secs_f64());
    } else {
        println!("{rows} {noun}");
    }
}

async fn execute_and_print(session: &CohortSession, sql: &str, timing: bool) {
    match run_with_progress(session, sql).await {
        Ok(results) => {
            for (b, t) in results {
                print_batches(&b, t, timing);
            }
        }
        Err(e) => eprintln!("error: {e}"),
    }
}

/// Runs the shell until `\q` or end of input.
pub async fn run(session: CohortSession) -> Result<()> {
    let mut editor = DefaultEditor::new()
        .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!(
        "cohort {} — SQL for customer analytics on DataFusion. \\help for help, \\q to quit.",
        env!("CARGO_PKG_VERSION")
    );
    let mut buffer = String::new();
    let mut timing = false;
    loop {
        let prompt = if buffer.is_empty() {
            "cohort> "
        } else {
            "   ...> "
        };
        match editor.readline(prompt) {
            Ok(line) => {
                let trimmed = line.trim();
                if buffer.is_empty() && trimmed.starts_with('\\') {
                    let _ = editor.add_history_entry(trimmed);
                    let (cmd, arg) = trimmed
                        .split_once(char::is_whitespace)
                        .unwrap_or((trimmed, ""));
                    let arg = arg.trim();
                    match cmd {
                        "\\q" | "\\quit" => break,
                        "\\help" | "\\h" | "\\?" => println!("{HELP}"),
                        "\\timing" => {
                            timing = !timing;
                            println!("timing is {}", if timing { "on" } else { "off" });
                        }
                        "\\models" => execute_and_print(&session, "SHOW MODELS", timing).await,
                        "\\d" if arg.is_empty() => {
                            execute_and_print(
                                &session,
                                "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
                                timing,
                            )
                            .await
                        }
                        "\\d" => execute_and_print(&session, &format!("DESCRIBE {arg}"), timing).await,
                        "\\i" if !arg.is_empty() => {
                            let vars = Default::default();
                            if let Err(e) = script::run_file(&session, std::path::Path::new(arg), &vars, &mut std::io::stdout(), false).await {
                                eprintln!("error: {e}");
                            }
                        }
                        _ => eprintln!("unknown command {trimmed}; \\help lists the commands"),
                    }
                    continue;
                }
                if trimmed.is_empty() && buffer.is_empty() {
                    continue;
                }
                buffer.push_str(&line);
                buffer.push('\n');
                if trimmed.ends_with(';') {
                    let sql = std::mem::take(&mut buffer);
                    let _ = editor.add_history_entry(sql.trim());
                    execute_and_print(&session, &sql, timing).await;
                }
            }
            Err(ReadlineError::Interrupted) => {
                buffer.clear();
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(())
}
