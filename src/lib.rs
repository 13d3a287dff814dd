//! # cohort
//!
//! User-group analytics and machine learning for e-commerce, written as SQL and run inside
//! [Apache DataFusion](https://datafusion.apache.org).
//!
//! Everything is registered on a DataFusion [`SessionContext`](datafusion::prelude::SessionContext)
//! by one function, [`register_all`]. Model statements (`CREATE MODEL`, `SHOW MODELS`,
//! `DESCRIBE MODEL`, `DROP MODEL`) are not part of DataFusion's grammar: run SQL through
//! [`CohortSession`], which parses them on top of DataFusion's own parser and passes every other
//! statement to DataFusion unchanged.
//!
//! ```no_run
//! # async fn demo() -> datafusion::error::Result<()> {
//! let session = cohort::CohortSession::builder().models_dir("cohort_models").build()?;
//! session.sql("CREATE TABLE t AS VALUES (1.0, true), (2.0, false), (3.0, true), (0.5, false)").await?;
//! session
//!     .sql("CREATE MODEL m OPTIONS (type = 'logistic_regression', label = 'column2') AS SELECT * FROM t")
//!     .await?;
//! let df = session.sql("SELECT predict_proba('m', column1) FROM t").await?;
//! df.show().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Layout: [`session`] builds the session, [`statements`] parses and runs model statements,
//! [`store`] keeps models on disk, [`models`] trains and scores them, [`functions`] holds one SQL
//! function per file, [`cli`] and [`gen`] are the command-line tool and the synthetic shop, [`flight`] the Flight
//! SQL server.

#![warn(missing_docs)]

pub mod cli;
pub mod flight;
pub mod forecast;
pub mod functions;
pub mod gen;
pub mod models;
pub mod session;
pub mod statements;
pub mod store;
pub(crate) mod util;

pub use session::{register_all, CohortSession, CohortSessionBuilder};
pub use store::ModelStore;
