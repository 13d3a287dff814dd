//! Table-function scans named after the whole call, so that two calls with different arguments
//! are different plans.
//!
//! DataFusion's SQL planner names every table-function scan `name()` whatever its arguments, and
//! a `TableScan` compares by name, projection, schema, filters and fetch, never by its source.
//! So `(SELECT max(upper) FROM forecast('a'))` and `(SELECT max(upper) FROM forecast('b'))` were
//! the same expression to common-subexpression elimination, and both returned the first one's
//! value (DataFusion's own `generate_series` has the same problem in 55.2). [`NamedCall`] wraps a
//! table function: its table is a view over a scan named after the call, `forecast(Utf8("a"))`,
//! which the planner inlines under the usual `forecast()` alias, so column references and the
//! result's schema are unchanged.

use std::fmt;
use std::sync::Arc;

use datafusion::catalog::view::ViewTable;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, TableReference};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::LogicalPlanBuilder;

/// A table function whose scans carry the call's arguments in their name.
pub(crate) struct NamedCall {
    name: &'static str,
    inner: Arc<dyn TableFunctionImpl>,
}

impl NamedCall {
    /// Wraps `inner`, registered as `name`.
    pub(crate) fn new(name: &'static str, inner: Arc<dyn TableFunctionImpl>) -> Self {
        Self { name, inner }
    }
}

impl fmt::Debug for NamedCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NamedCall({}, {:?})", self.name, self.inner)
    }
}

impl TableFunctionImpl for NamedCall {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let provider = self
            .inner
            .call_with_args(TableFunctionArgs::new(exprs, args.session()))?;
        // a view already inlines its own plan, which holds its arguments
        if provider.get_logical_plan().is_some() {
            return Ok(provider);
        }
        let label = format!(
            "{}({})",
            self.name,
            exprs
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let plan = LogicalPlanBuilder::scan(
            TableReference::bare(label),
            provider_as_source(provider),
            None,
        )?
        .build()?;
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}
