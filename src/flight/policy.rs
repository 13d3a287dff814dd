//! `cohort serve --read-only`: statements that write are refused, queries (including scoring
//! with `predict` and the metric aggregates) are not.

use datafusion::common::{plan_err, Result};
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;

use crate::statements::CohortStatement;

const WHY: &str = "the server runs with --read-only; only queries are allowed";

/// Whether a DataFusion statement is a query (SELECT, VALUES, WITH ...).
pub fn is_query(s: &DFStatement) -> bool {
    matches!(s, DFStatement::Statement(st) if matches!(**st, SqlStatement::Query(_)))
}

/// Refuses model statements that write; DataFusion statements are checked on their plan.
pub fn check_statement(s: &CohortStatement) -> Result<()> {
    match s {
        CohortStatement::CreateModel(c) => {
            plan_err!("CREATE MODEL {} is refused: {WHY}", c.name)
        }
        CohortStatement::DropModel { name, .. } => {
            plan_err!("DROP MODEL {name} is refused: {WHY}")
        }
        CohortStatement::DataFusion(s) => match s.as_ref() {
            DFStatement::CreateExternalTable(_) => {
                plan_err!("CREATE EXTERNAL TABLE is refused: {WHY}")
            }
            DFStatement::CopyTo(_) => plan_err!("COPY is refused: {WHY}"),
            _ => Ok(()),
        },
        CohortStatement::ShowModels | CohortStatement::DescribeModel { .. } => Ok(()),
    }
}

/// Refuses plans that define, change or write anything (DDL, DML, COPY, SET, transactions).
pub fn check_plan(plan: &LogicalPlan) -> Result<()> {
    let what = match plan {
        LogicalPlan::Ddl(d) => d.name().to_string(),
        LogicalPlan::Dml(d) => format!("{} (write)", d.op),
        LogicalPlan::Copy(_) => "COPY".to_string(),
        LogicalPlan::Statement(s) => s.name().to_string(),
        // EXPLAIN ANALYZE runs its statement
        LogicalPlan::Analyze(a) => return check_plan(&a.input),
        _ => return Ok(()),
    };
    plan_err!("{what} is refused: {WHY}")
}
