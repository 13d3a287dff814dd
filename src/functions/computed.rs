//! A table whose rows are computed in Rust from the result of a query: the shape of
//! `association_rules`, `ml_roc_curve` and other table functions whose algorithm is not SQL.
//!
//! The input query is planned by DataFusion as a child of [`ComputedExec`], so it streams,
//! shows in `EXPLAIN`, and runs only when the table is read — never while planning.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{internal_err, Result};
use datafusion::datasource::TableType;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    collect, ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning,
    PlanProperties, ReplaceChildrenOptions, SendableRecordBatchStream,
};

/// Computes the output rows from all the input rows.
pub(crate) type Compute = Arc<dyn Fn(Vec<RecordBatch>) -> Result<RecordBatch> + Send + Sync>;

/// A table computed from a query's rows by a Rust function.
pub(crate) struct ComputedTable {
    name: &'static str,
    schema: SchemaRef,
    input: LogicalPlan,
    compute: Compute,
}

impl ComputedTable {
    /// A table named `name` (for EXPLAIN) with output `schema`, computed from `input`.
    pub(crate) fn new(
        name: &'static str,
        schema: SchemaRef,
        input: LogicalPlan,
        compute: Compute,
    ) -> Self {
        Self {
            name,
            schema,
            input,
            compute,
        }
    }
}

impl fmt::Debug for ComputedTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ComputedTable({})", self.name)
    }
}

#[async_trait]
impl TableProvider for ComputedTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
    fn table_type(&self) -> TableType {
        TableType::Temporary
    }
    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = state.create_physical_plan(&self.input).await?;
        let projection = projection.cloned();
        let schema = match &projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => Arc::clone(&self.schema),
        };
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        Ok(Arc::new(ComputedExec {
            name: self.name,
            schema,
            input,
            compute: Arc::clone(&self.compute),
            projection,
            properties: Arc::new(properties),
        }))
    }
}

/// Runs the input to completion, then computes one batch.
pub(crate) struct ComputedExec {
    name: &'static str,
    schema: SchemaRef,
    input: Arc<dyn ExecutionPlan>,
    compute: Compute,
    projection: Option<Vec<usize>>,
    properties: Arc<PlanProperties>,
}

impl fmt::Debug for ComputedExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ComputedExec({})", self.name)
    }
}

impl DisplayAs for ComputedExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match t {
            DisplayFormatType::Default | DisplayFormatType::Verbose => {
                write!(f, "ComputedExec: {}", self.name)
            }
            DisplayFormatType::TreeRender => write!(f, "{}", self.name),
        }
    }
}

impl ExecutionPlan for ComputedExec {
    fn name(&self) -> &str {
        "ComputedExec"
    }
    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }
    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children).map_err(|c| {
            datafusion::common::internal_datafusion_err!(
                "ComputedExec takes one child, got {}",
                c.len()
            )
        })?;
        Ok(Arc::new(ComputedExec {
            name: self.name,
            schema: Arc::clone(&self.schema),
            input,
            compute: Arc::clone(&self.compute),
            projection: self.projection.clone(),
            properties: Arc::clone(&self.properties),
        }))
    }
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }
    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return internal_err!("ComputedExec has one partition, asked for {partition}");
        }
        let input = Arc::clone(&self.input);
        let compute = Arc::clone(&self.compute);
        let projection = self.projection.clone();
        let stream = futures::stream::once(async move {
            let batches = collect(input, context).await?;
            let out = compute(batches)?;
            match projection {
                Some(p) => Ok(out.project(&p)?),
                None => Ok(out),
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        )))
    }
}
