//! The `cohort` command line: REPL, `run`, `gen`, `demo`, `serve`.

pub mod demo;
pub mod repl;
pub mod script;
pub mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use datafusion::common::{plan_err, Result};

use crate::session::{CohortSession, MODELS_ENV};

/// User-group analytics and machine learning for e-commerce, in SQL.
#[derive(Debug, Parser)]
#[command(name = "cohort", version, about)]
pub struct Cli {
    /// Model store folder.
    #[arg(long, global = true, env = MODELS_ENV, default_value = "cohort_models")]
    pub models: PathBuf,
    /// Register every *.parquet / *.csv file in DIR as a table named after the file.
    #[arg(long, global = true)]
    pub data: Option<PathBuf>,
    /// Query memory limit, e.g. 4G or 512M; exceeding it is an error, not an abort.
    #[arg(long, global = true)]
    pub memory_limit: Option<String>,
    /// DataFusion target partitions (default: number of cores).
    #[arg(long, global = true)]
    pub target_partitions: Option<usize>,
    /// What to do (default: the interactive SQL shell).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Interactive SQL shell (the default).
    Sql,
    /// Run saved SQL scripts statement by statement.
    Run {
        /// Script files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Script variables: ${KEY} in a script becomes VALUE.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Print each statement's wall time and row count to stderr.
        #[arg(long)]
        timing: bool,
    },
    /// Write a synthetic e-commerce data set as Parquet.
    Gen {
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Number of customers.
        #[arg(long, default_value_t = 10_000)]
        customers: usize,
        /// Random seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Serve the session over Arrow Flight SQL (ADBC, JDBC, BI tools) until Ctrl-C or SIGTERM.
    Serve {
        /// Address to listen on (port 0 picks a free port, printed at start).
        #[arg(long, default_value = "127.0.0.1:50051")]
        addr: std::net::SocketAddr,
        /// File holding the bearer token clients must send (else $COHORT_TOKEN).
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Refuse statements that write (CREATE/DROP MODEL, DDL, INSERT, COPY, SET).
        #[arg(long)]
        read_only: bool,
        /// Serve without authentication (loopback addresses only).
        #[arg(long)]
        insecure_no_auth: bool,
    },
    /// Generate a small shop and run the saved analyses on it.
    Demo {
        /// Keep the generated data (and models) in this folder instead of a temporary one.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Number of customers.
        #[arg(long, default_value_t = 10_000)]
        customers: usize,
        /// Random seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

/// Parses `4G`, `512M`, `1024K` or a byte count.
pub fn parse_size(s: &str) -> Result<usize> {
    let t = s.trim().to_ascii_uppercase();
    let (num, mult) = match t.chars().last() {
        Some('G') => (&t[..t.len() - 1], 1usize << 30),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('K') => (&t[..t.len() - 1], 1 << 10),
        _ => (t.as_str(), 1),
    };
    match num.trim().parse::<f64>() {
        Ok(n) if n > 0.0 => Ok((n * mult as f64) as usize),
        _ => plan_err!("--memory-limit: expected a size such as 4G or 512M; got '{s}'"),
    }
}

impl Cli {
    /// Builds the session the options describe.
    pub async fn session(&self, models: Option<PathBuf>) -> Result<CohortSession> {
        let mut b =
            CohortSession::builder().models_dir(models.unwrap_or_else(|| self.models.clone()));
        if let Some(n) = self.target_partitions {
            b = b.target_partitions(n);
        }
        if let Some(m) = &self.memory_limit {
            b = b.memory_limit(parse_size(m)?);
        }
        let session = b.build()?;
        if let Some(dir) = &self.data {
            session.register_data_dir(dir).await?;
        }
        Ok(session)
    }
}

/// Entry point of the binary. Returns the process exit code.
pub async fn main() -> i32 {
    let cli = Cli::parse();
    let result = run(cli).await;
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        None | Some(Command::Sql) => repl::run(cli.session(None).await?).await,
        Some(Command::Run { files, set, timing }) => {
            let vars = script::parse_vars(set)?;
            let session = cli.session(None).await?;
            for f in files {
                script::run_file(&session, f, &vars, &mut std::io::stdout(), *timing).await?;
            }
            Ok(())
        }
        Some(Command::Gen {
            out,
            customers,
            seed,
        }) => {
            let started = std::time::Instant::now();
            let s = crate::gen::generate(out, *customers, *seed)?;
            println!(
                "wrote {} customers, {} products, {} orders, {} order items, {} events to {} in {:.1}s",
                s.customers,
                s.products,
                s.orders,
                s.order_items,
                s.events,
                out.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Some(Command::Demo {
            out,
            customers,
            seed,
        }) => demo::run(&cli, out.clone(), *customers, *seed).await,
        Some(Command::Serve {
            addr,
            token_file,
            read_only,
            insecure_no_auth,
        }) => {
            serve::run(
                &cli,
                *addr,
                token_file.as_ref(),
                *read_only,
                *insecure_no_auth,
            )
            .await
        }
    }
}
