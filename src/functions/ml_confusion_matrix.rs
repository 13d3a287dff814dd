//! `ml_confusion_matrix('model', 'SELECT ...')` and `ml_confusion_matrix(table_or_query,
//! pred_col, label_col)`: counts of (actual, predicted) class pairs, every pair of classes seen
//! listed (zeros included), classes in sorted order — scikit-learn's `confusion_matrix` in long
//! form.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{concat, sort_to_indices, take};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result};
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;

use super::computed::ComputedTable;
use super::ml_evaluate::{plan_scored, scored_sql};
use crate::store::ModelStore;
use crate::util::{from_item, literal_string, plan_sql, quote_ident};

const NAME: &str = "ml_confusion_matrix";

/// The `ml_confusion_matrix` table function.
#[derive(Debug)]
pub struct MlConfusionMatrix {
    store: Arc<ModelStore>,
}

impl MlConfusionMatrix {
    /// Scores models of `store`.
    pub fn new(store: Arc<ModelStore>) -> Self {
        Self { store }
    }
}

fn schema(class_type: &DataType) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("actual", class_type.clone(), false),
        Field::new("predicted", class_type.clone(), false),
        Field::new("count", DataType::Int64, false),
    ]))
}

/// The matrix of (actual, predicted) batches of one type; rows where either is NULL are left
/// out.
fn matrix(batches: &[RecordBatch], schema: &SchemaRef) -> Result<RecordBatch> {
    let class_type = schema.field(0).data_type().clone();
    let mut actual: Vec<ArrayRef> = vec![];
    let mut predicted: Vec<ArrayRef> = vec![];
    for b in batches.iter().filter(|b| b.num_rows() > 0) {
        actual.push(Arc::clone(b.column(0)));
        predicted.push(Arc::clone(b.column(1)));
    }
    if actual.is_empty() {
        return Ok(RecordBatch::new_empty(Arc::clone(schema)));
    }
    let (actual, predicted) = (concat(&refs(&actual))?, concat(&refs(&predicted))?);
    let n = actual.len();
    // classes: the distinct non-NULL values of both columns, sorted
    let all = concat(&[actual.as_ref(), predicted.as_ref()])?;
    let converter = RowConverter::new(vec![SortField::new(class_type.clone())])?;
    let rows = converter.convert_columns(&[Arc::clone(&all)])?;
    let mut ids = std::collections::HashMap::new();
    let mut first: Vec<u32> = vec![];
    let mut class_of = Vec::with_capacity(all.len());
    for i in 0..all.len() {
        if all.is_null(i) {
            class_of.push(None);
            continue;
        }
        let key: Box<[u8]> = rows.row(i).as_ref().into();
        let next = first.len() as u32;
        let id = *ids.entry(key).or_insert_with(|| {
            first.push(i as u32);
            next
        });
        class_of.push(Some(id));
    }
    let classes = take(all.as_ref(), &UInt32Array::from(first), None)?;
    let order = sort_to_indices(&classes, None, None)?;
    let k = classes.len();
    let mut position = vec![0usize; k];
    for (pos, &id) in order.values().iter().enumerate() {
        position[id as usize] = pos;
    }
    let mut counts = vec![0i64; k * k];
    for i in 0..n {
        if let (Some(a), Some(p)) = (class_of[i], class_of[n + i]) {
            counts[position[a as usize] * k + position[p as usize]] += 1;
        }
    }
    let sorted = take(classes.as_ref(), &order, None)?;
    let a_idx: UInt32Array = (0..k * k).map(|c| (c / k) as u32).collect();
    let p_idx: UInt32Array = (0..k * k).map(|c| (c % k) as u32).collect();
    Ok(RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            take(sorted.as_ref(), &a_idx, None)?,
            take(sorted.as_ref(), &p_idx, None)?,
            Arc::new(Int64Array::from(counts)),
        ],
    )?)
}

fn refs(v: &[ArrayRef]) -> Vec<&dyn Array> {
    v.iter().map(|a| a.as_ref()).collect()
}

impl TableFunctionImpl for MlConfusionMatrix {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let e = args.exprs();
        let plan = match e.len() {
            2 => {
                let name = literal_string(e, 0, NAME, "model")?;
                let query = literal_string(e, 1, NAME, "query")?;
                let model = self.store.load(&name)?;
                let scored = scored_sql(&model, &query)
                    .map_err(|err| datafusion::common::plan_datafusion_err!("{NAME}: {err}"))?;
                let sql = format!("SELECT __label AS actual, __pred AS predicted FROM ({scored}) AS scored");
                plan_scored(args.session(), &model, NAME, &sql)?
            }
            3 => {
                let source = literal_string(e, 0, NAME, "table_or_query")?;
                let pred = literal_string(e, 1, NAME, "pred_col")?;
                let label = literal_string(e, 2, NAME, "label_col")?;
                let read = |sql: &str| {
                    plan_sql(args.session(), sql).map_err(|err| {
                        datafusion::common::plan_datafusion_err!("{NAME}: cannot read '{source}' with pred_col '{pred}' and label_col '{label}': {err}")
                    })
                };
                let (l, p, from) = (quote_ident(&label), quote_ident(&pred), from_item(&source));
                let probe = read(&format!("SELECT {l} AS actual, {p} AS predicted FROM {from}"))?;
                let (lt, pt) = (probe.schema().field(0).data_type(), probe.schema().field(1).data_type());
                let Some(common) = comparison_coercion(lt, pt) else {
                    return plan_err!("{NAME}: pred_col '{pred}' ({pt}) and label_col '{label}' ({lt}) cannot be compared; cast one to the other's type");
                };
                read(&format!(
                    "SELECT CAST({l} AS {t}) AS actual, CAST({p} AS {t}) AS predicted FROM {from}",
                    t = sql_type(&common)?
                ))?
            }
            n => {
                return plan_err!("{NAME}: expected (model, query) or (table_or_query, pred_col, label_col), got {n} arguments")
            }
        };
        let class_type = plan.schema().field(0).data_type().clone();
        if matches!(
            class_type,
            DataType::List(_) | DataType::LargeList(_) | DataType::Struct(_) | DataType::Map(_, _)
        ) {
            return plan_err!("{NAME}: classes must be scalar values; got {class_type}");
        }
        let schema = schema(&class_type);
        let out = Arc::clone(&schema);
        Ok(Arc::new(ComputedTable::new(
            NAME,
            schema,
            plan,
            Arc::new(move |batches| matrix(&batches, &out)),
        )))
    }
}

/// The SQL name of a class type, for the cast to the common type.
fn sql_type(t: &DataType) -> Result<&'static str> {
    Ok(match t {
        DataType::Boolean => "BOOLEAN",
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => "BIGINT",
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            "BIGINT UNSIGNED"
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 | DataType::Decimal128(_, _) => {
            "DOUBLE"
        }
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null => "VARCHAR",
        DataType::Date32 | DataType::Date64 => "DATE",
        other => {
            return plan_err!(
                "{NAME}: classes of type {other} are not supported; cast them to text or integers"
            )
        }
    })
}
