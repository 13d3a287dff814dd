//! `cohort serve`: the session over Flight SQL until Ctrl-C or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use datafusion::common::{plan_err, Result};

use super::Cli;
use crate::flight::{self, ServeOptions};

/// Environment variable holding the bearer token.
pub const TOKEN_ENV: &str = "COHORT_TOKEN";

/// The token from `--token-file` or `$COHORT_TOKEN`.
fn read_token(token_file: Option<&PathBuf>) -> Result<Option<String>> {
    let token = match token_file {
        Some(f) => match std::fs::read_to_string(f) {
            Ok(t) => Some(t.trim().to_string()),
            Err(e) => {
                return plan_err!(
                    "cohort serve: cannot read --token-file {}: {e}",
                    f.display()
                )
            }
        },
        None => std::env::var(TOKEN_ENV).ok().map(|t| t.trim().to_string()),
    };
    match token {
        Some(t) if t.is_empty() => plan_err!("cohort serve: the bearer token is empty; put a secret in the token file or ${TOKEN_ENV}"),
        Some(t) if t.len() < 8 => plan_err!("cohort serve: the bearer token has {} characters; use at least 8", t.len()),
        other => Ok(other),
    }
}

/// Runs the server.
pub async fn run(
    cli: &Cli,
    addr: SocketAddr,
    token_file: Option<&PathBuf>,
    read_only: bool,
    insecure_no_auth: bool,
) -> Result<()> {
    let token = read_token(token_file)?;
    let token = match (token, insecure_no_auth) {
        (Some(_), true) => {
            return plan_err!("cohort serve: a token and --insecure-no-auth were both given; choose one")
        }
        (None, false) => {
            return plan_err!("cohort serve: no bearer token; pass --token-file FILE or set ${TOKEN_ENV} (clients then send 'authorization: Bearer <token>'), or --insecure-no-auth to serve loopback without authentication")
        }
        (t, _) => t,
    };
    let listener = flight::bind(addr, token.is_some()).await?;
    let local = listener
        .local_addr()
        .map_err(|e| datafusion::common::exec_datafusion_err!("cohort serve: {e}"))?;
    let session = cli.session(None).await?;
    let tables = session
        .context()
        .catalog("datafusion")
        .and_then(|c| c.schema("public"))
        .map(|s| s.table_names().len())
        .unwrap_or(0);
    // installed before the line below, which tells a supervisor the server is up
    let shutdown = flight::shutdown_signal();
    println!(
        "cohort serve: listening on grpc://{local} ({}, {}{tables} tables, models in {})",
        if token.is_some() {
            "bearer token required"
        } else {
            "NO authentication"
        },
        if read_only { "read-only, " } else { "" },
        session.store().root().display()
    );
    let _ = std::io::stdout().flush();
    flight::serve(
        session,
        listener,
        ServeOptions { token, read_only },
        shutdown,
    )
    .await?;
    println!("cohort serve: stopped");
    Ok(())
}
