//! Running saved scripts: `${KEY}` substitution, statement-by-statement execution, errors that
//! name the file, the statement number and the line.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::common::{exec_datafusion_err, plan_err, Result};

use crate::session::CohortSession;
use crate::statements::parse_sql;

/// Parses `KEY=VALUE` pairs.
pub fn parse_vars(set: &[String]) -> Result<BTreeMap<String, String>> {
    let mut vars = BTreeMap::new();
    for kv in set {
        match kv.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                vars.insert(k.trim().to_string(), v.to_string());
            }
            _ => return plan_err!("--set: expected KEY=VALUE; got '{kv}'"),
        }
    }
    Ok(vars)
}

/// Replaces `${KEY}` and `${KEY:-default}` in `text`. An unknown key without a default is an
/// error naming it and its line.
pub fn substitute(
    text: &str,
    vars: &BTreeMap<String, String>,
) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("${") {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 2..];
        let Some(end) = after.find('}') else {
            let line = text[..text.len() - rest.len() + pos].lines().count().max(1);
            return Err(format!("unterminated ${{ at line {line}"));
        };
        let inner = &after[..end];
        let (key, default) = match inner.split_once(":-") {
            Some((k, d)) => (k, Some(d)),
            None => (inner, None),
        };
        match vars.get(key.trim()).map(String::as_str).or(default) {
            Some(v) => out.push_str(v),
            None => {
                let line = text[..text.len() - rest.len() + pos].matches('\n').count() + 1;
                return Err(format!(
                    "variable ${{{key}}} at line {line} is not set; pass --set {key}=VALUE"
                ));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Runs every statement of `text`, printing results to `out`. `origin` names the source in
/// errors. With `timing`, each statement's wall time (planning, execution and collecting the
/// result, not printing it) and row count go to stderr as
/// `-- timing: origin statement N (line L): S s, R rows`.
pub async fn run_text(
    session: &CohortSession,
    origin: &str,
    text: &str,
    out: &mut dyn Write,
    timing: bool,
) -> Result<()> {
    let statements = parse_sql(text).map_err(|e| exec_datafusion_err!("{origin}: {e}"))?;
    for (i, s) in statements.into_iter().enumerate() {
        let (n, line) = (i + 1, s.line);
        let start = std::time::Instant::now();
        let batches = async {
            let df = session.execute(s.statement).await?;
            df.collect().await
        }
        .await
        .map_err(|e| exec_datafusion_err!("{origin}: statement {n} (line {line}): {e}"))?;
        if timing {
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            eprintln!(
                "-- timing: {origin} statement {n} (line {line}): {:.6} s, {rows} rows",
                start.elapsed().as_secs_f64()
            );
        }
        if batches
            .iter()
            .any(|b| b.num_columns() > 0 && b.num_rows() > 0)
        {
            let table = pretty_format_batches(&batches)?;
            writeln!(out, "{table}").map_err(|e| exec_datafusion_err!("{e}"))?;
        }
    }
    Ok(())
}

/// Runs a script file (see [`run_text`] for `timing`).
pub async fn run_file(
    session: &CohortSession,
    path: &Path,
    vars: &BTreeMap<String, String>,
    out: &mut dyn Write,
    timing: bool,
) -> Result<()> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| exec_datafusion_err!("{origin}: cannot read: {e}"))?;
    let text = substitute(&text, vars).map_err(|e| exec_datafusion_err!("{origin}: {e}"))?;
    run_text(session, &origin, &text, out, timing).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_with_defaults_and_reports_missing() {
        let mut v = BTreeMap::new();
        v.insert("data".to_string(), "/tmp/x".to_string());
        assert_eq!(
            substitute("a ${data} ${as_of:-2026-01-01}", &v).unwrap(),
            "a /tmp/x 2026-01-01"
        );
        let e = substitute("x\n${nope}", &v).unwrap_err();
        assert!(e.contains("line 2") && e.contains("nope"), "{e}");
    }
}
