//! Building a session: the one place where cohort's functions are registered.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::common::{plan_err, Result};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{
    CsvReadOptions, DataFrame, ParquetReadOptions, SessionConfig, SessionContext,
};

use crate::functions;
use crate::statements::{self, CohortStatement};
use crate::store::ModelStore;

/// Environment variable naming the model store folder.
pub const MODELS_ENV: &str = "COHORT_MODELS";

/// The default model store: `$COHORT_MODELS`, else `./cohort_models`.
pub fn default_models_dir() -> PathBuf {
    std::env::var_os(MODELS_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("cohort_models"))
}

/// Registers every cohort function on `ctx`, with models in the default store
/// (`$COHORT_MODELS` or `./cohort_models`). Returns the store.
///
/// Functions only: the model statements need [`CohortSession`] (or
/// [`statements::parse_sql`] and the executors in [`statements`]).
pub fn register_all(ctx: &SessionContext) -> Result<Arc<ModelStore>> {
    let store = Arc::new(ModelStore::open(default_models_dir())?);
    register_all_with_store(ctx, Arc::clone(&store));
    Ok(store)
}

/// Registers every cohort function on `ctx`, scoring and listing models in `store`.
pub fn register_all_with_store(ctx: &SessionContext, store: Arc<ModelStore>) {
    for f in functions::scalar_functions(&store) {
        ctx.register_udf(f);
    }
    for f in functions::aggregate_functions() {
        ctx.register_udaf(f);
    }
    for f in functions::window_functions() {
        ctx.register_udwf(f);
    }
    for (name, f) in functions::table_functions(&store) {
        ctx.register_udtf(name, f);
    }
    functions::name_builtin_table_functions(ctx);
}

/// A DataFusion session with cohort registered, plus the model statements.
#[derive(Clone)]
pub struct CohortSession {
    ctx: SessionContext,
    store: Arc<ModelStore>,
}

/// Builder for [`CohortSession`].
#[derive(Debug, Default)]
pub struct CohortSessionBuilder {
    models_dir: Option<PathBuf>,
    target_partitions: Option<usize>,
    memory_limit: Option<usize>,
}

impl CohortSessionBuilder {
    /// Model store folder (default: [`default_models_dir`]).
    pub fn models_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.models_dir = Some(dir.into());
        self
    }
    /// `datafusion.execution.target_partitions`.
    pub fn target_partitions(mut self, n: usize) -> Self {
        self.target_partitions = Some(n);
        self
    }
    /// Memory limit in bytes for query execution; exceeding it is a clean error.
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = Some(bytes);
        self
    }
    /// Builds the session.
    pub fn build(self) -> Result<CohortSession> {
        let mut config = SessionConfig::new().with_information_schema(true);
        if let Some(n) = self.target_partitions {
            config = config.with_target_partitions(n.max(1));
        }
        let mut runtime = RuntimeEnvBuilder::new();
        if let Some(bytes) = self.memory_limit {
            runtime = runtime.with_memory_limit(bytes, 1.0);
        }
        let ctx = SessionContext::new_with_config_rt(config, runtime.build_arc()?);
        let store = Arc::new(ModelStore::open(
            self.models_dir.unwrap_or_else(default_models_dir),
        )?);
        register_all_with_store(&ctx, Arc::clone(&store));
        Ok(CohortSession { ctx, store })
    }
}

impl CohortSession {
    /// A builder.
    pub fn builder() -> CohortSessionBuilder {
        CohortSessionBuilder::default()
    }

    /// The DataFusion context (tables, configuration, functions).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The model store.
    pub fn store(&self) -> &Arc<ModelStore> {
        &self.store
    }

    /// Plans and runs one statement of cohort's dialect. Queries are lazy (run when the
    /// DataFrame is collected); model statements and DDL run now.
    pub async fn sql(&self, sql: &str) -> Result<DataFrame> {
        self.execute(statements::parse_one(sql)?).await
    }

    /// Runs a parsed statement.
    pub async fn execute(&self, statement: CohortStatement) -> Result<DataFrame> {
        let state = self.ctx.state();
        let batch = match statement {
            CohortStatement::DataFusion(s) => {
                let plan = state.statement_to_plan(*s).await?;
                return self.ctx.execute_logical_plan(plan).await;
            }
            CohortStatement::CreateModel(c) => {
                statements::create_model(&state, &self.store, c).await?
            }
            CohortStatement::ShowModels => functions::ml_models::models_batch(&self.store)?,
            CohortStatement::DescribeModel { name } => {
                statements::describe_model(&self.store, &name)?
            }
            CohortStatement::DropModel { name, if_exists } => {
                statements::drop_model(&self.store, &name, if_exists)?
            }
        };
        self.ctx.read_batch(batch)
    }

    /// Registers every `*.parquet` and `*.csv` file in `dir` as a table named after the file.
    /// Returns the table names.
    pub async fn register_data_dir(&self, dir: &Path) -> Result<Vec<String>> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => return plan_err!("--data {}: cannot read the folder: {e}", dir.display()),
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        let mut names = vec![];
        for path in paths {
            let (Some(stem), Some(ext)) = (
                path.file_stem().and_then(|s| s.to_str()),
                path.extension().and_then(|s| s.to_str()),
            ) else {
                continue;
            };
            let name = stem.to_ascii_lowercase();
            let location = path.to_string_lossy().to_string();
            match ext.to_ascii_lowercase().as_str() {
                "parquet" => {
                    self.ctx
                        .register_parquet(&name, &location, ParquetReadOptions::default())
                        .await?
                }
                "csv" => {
                    self.ctx
                        .register_csv(&name, &location, CsvReadOptions::new().has_header(true))
                        .await?
                }
                _ => continue,
            }
            names.push(name);
        }
        Ok(names)
    }
}
