//! `ml_roc_curve('model', 'SELECT ...')` and `ml_roc_curve(table_or_query, score_col,
//! label_col)`: the ROC curve, one row per distinct score threshold — scikit-learn's
//! `roc_curve(..., drop_intermediate=False)` with the counts behind each point.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result};

use super::computed::ComputedTable;
use super::metrics::binary::{binary_value, two_f64};
use super::ml_evaluate::{plan_scored, scored_sql};
use crate::store::ModelStore;
use crate::util::{from_item, literal_string, plan_sql, quote_ident};

const NAME: &str = "ml_roc_curve";

/// The `ml_roc_curve` table function.
#[derive(Debug)]
pub struct MlRocCurve {
    store: Arc<ModelStore>,
}

impl MlRocCurve {
    /// Scores models of `store`.
    pub fn new(store: Arc<ModelStore>) -> Self {
        Self { store }
    }
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("threshold", DataType::Float64, false),
        Field::new("tpr", DataType::Float64, true),
        Field::new("fpr", DataType::Float64, true),
        Field::new("tp", DataType::Int64, false),
        Field::new("fp", DataType::Int64, false),
        Field::new("tn", DataType::Int64, false),
        Field::new("fn", DataType::Int64, false),
    ]))
}

/// The curve of (score, label) rows: a first point at threshold +inf (nothing predicted
/// positive), then one point per distinct score, highest first, predicting positive where
/// score >= threshold.
fn curve(batches: &[RecordBatch]) -> Result<RecordBatch> {
    let mut pairs: Vec<(f64, bool)> = vec![];
    for b in batches {
        let (s, l) = two_f64(NAME, ["score", "label"], b.columns())?;
        for i in 0..s.len() {
            if s.is_valid(i) && l.is_valid(i) {
                let score = s.value(i);
                if score.is_nan() {
                    return datafusion::common::exec_err!(
                        "{NAME}: a score is NaN; expected numbers (filter NaN scores first)"
                    );
                }
                pairs.push((score + 0.0, binary_value(NAME, "label", l.value(i))?));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let pos = pairs.iter().filter(|p| p.1).count() as i64;
    let neg = pairs.len() as i64 - pos;
    let (mut thr, mut tps, mut fps) = (vec![f64::INFINITY], vec![0i64], vec![0i64]);
    let (mut tp, mut fp) = (0, 0);
    let mut i = 0;
    while i < pairs.len() {
        let t = pairs[i].0;
        while i < pairs.len() && pairs[i].0 == t {
            if pairs[i].1 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        thr.push(t);
        tps.push(tp);
        fps.push(fp);
    }
    let rate = |v: &[i64], d: i64| -> Float64Array {
        v.iter()
            .map(|&x| (d > 0).then(|| x as f64 / d as f64))
            .collect()
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(thr)),
        Arc::new(rate(&tps, pos)),
        Arc::new(rate(&fps, neg)),
        Arc::new(Int64Array::from(tps.clone())),
        Arc::new(Int64Array::from(fps.clone())),
        Arc::new(fps.iter().map(|f| neg - f).collect::<Int64Array>()),
        Arc::new(tps.iter().map(|t| pos - t).collect::<Int64Array>()),
    ];
    Ok(RecordBatch::try_new(schema(), columns)?)
}

impl TableFunctionImpl for MlRocCurve {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let e = args.exprs();
        let plan = match e.len() {
            2 => {
                let name = literal_string(e, 0, NAME, "model")?;
                let query = literal_string(e, 1, NAME, "query")?;
                let model = self.store.load(&name)?;
                let k = model.classes().len();
                if k > 2 {
                    return plan_err!("{NAME}: model '{name}' has {k} classes; a ROC curve is for a binary score — for one class against the rest use {NAME}('SELECT predict_proba(...)[''class''] AS score, label = ''class'' AS is_class FROM ...', 'score', 'is_class')");
                }
                let sql = format!(
                    "SELECT __p AS score, __y AS label FROM ({}) AS scored",
                    scored_sql(&model, &query).map_err(|err| datafusion::common::plan_datafusion_err!("{NAME}: {err}"))?
                );
                plan_scored(args.session(), &model, NAME, &sql)?
            }
            3 => {
                let source = literal_string(e, 0, NAME, "table_or_query")?;
                let score = literal_string(e, 1, NAME, "score_col")?;
                let label = literal_string(e, 2, NAME, "label_col")?;
                let sql = format!(
                    "SELECT {} AS score, {} AS label FROM {}",
                    quote_ident(&score),
                    quote_ident(&label),
                    from_item(&source)
                );
                let plan = plan_sql(args.session(), &sql).map_err(|err| {
                    datafusion::common::plan_datafusion_err!("{NAME}: cannot read '{source}' with score_col '{score}' and label_col '{label}': {err}")
                })?;
                for (f, arg) in plan.schema().fields().iter().zip(["score_col", "label_col"]) {
                    let dt = f.data_type();
                    if !(dt.is_numeric() || matches!(dt, DataType::Boolean | DataType::Null)) {
                        return plan_err!("{NAME}: {arg} must be numeric or boolean; got {dt}");
                    }
                }
                plan
            }
            n => {
                return plan_err!("{NAME}: expected (model, query) or (table_or_query, score_col, label_col), got {n} arguments")
            }
        };
        Ok(Arc::new(ComputedTable::new(
            NAME,
            schema(),
            plan,
            Arc::new(|batches| curve(&batches)),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{Float64Type, Int64Type};

    #[test]
    fn by_hand() {
        let b = RecordBatch::try_from_iter([
            (
                "score",
                Arc::new(Float64Array::from(vec![0.8, 0.4, 0.4, 0.1])) as ArrayRef,
            ),
            (
                "label",
                Arc::new(Float64Array::from(vec![1.0, 1.0, 0.0, 0.0])) as ArrayRef,
            ),
        ])
        .unwrap();
        let c = curve(&[b]).unwrap();
        assert_eq!(c.num_rows(), 4);
        assert_eq!(
            c.column(0).as_primitive::<Float64Type>().values(),
            &[f64::INFINITY, 0.8, 0.4, 0.1]
        );
        assert_eq!(
            c.column(1).as_primitive::<Float64Type>().values(),
            &[0.0, 0.5, 1.0, 1.0]
        );
        assert_eq!(
            c.column(2).as_primitive::<Float64Type>().values(),
            &[0.0, 0.0, 0.5, 1.0]
        );
        assert_eq!(
            c.column(5).as_primitive::<Int64Type>().values(),
            &[2, 2, 1, 0]
        );
    }
}
