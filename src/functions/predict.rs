//! `predict(model, feature...)`, `predict_proba(model, feature...)` and
//! `explain_predict(model, feature...)`: score (and explain) rows with a stored model.
//! Arguments bind to the model's features by column name.
//!
//! The model is loaded once per query: at logical planning the call is rewritten (through
//! `simplify`) into a bound call that holds the loaded model and takes its arguments in the
//! model's feature order. Binding happens on logical column names, which physical
//! optimisations (projection merging) may rename, and batches never touch the store.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{ArrayRef, Float64Array, ListArray, StringArray, StructArray};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_OTHER;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};

use crate::models::TrainedModel;
use crate::store::ModelStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Mode {
    Class,
    Proba,
    Explain,
}

/// The implementation behind both scoring functions.
#[derive(Debug)]
pub struct PredictFunc {
    mode: Mode,
    store: Arc<ModelStore>,
    bound: Option<Arc<TrainedModel>>,
    signature: Signature,
}

impl PartialEq for PredictFunc {
    fn eq(&self, o: &Self) -> bool {
        self.mode == o.mode
            && Arc::ptr_eq(&self.store, &o.store)
            && match (&self.bound, &o.bound) {
                (None, None) => true,
                (Some(a), Some(b)) => {
                    a.manifest.name == b.manifest.name && a.manifest.version == b.manifest.version
                }
                _ => false,
            }
    }
}
impl Eq for PredictFunc {}
impl Hash for PredictFunc {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.mode.hash(state);
        if let Some(b) = &self.bound {
            b.manifest.name.hash(state);
            b.manifest.version.hash(state);
        }
    }
}

/// `predict`.
pub fn predict_udf(store: Arc<ModelStore>) -> ScalarUDF {
    ScalarUDF::new_from_impl(PredictFunc::new(Mode::Class, store))
}

/// `predict_proba`.
pub fn predict_proba_udf(store: Arc<ModelStore>) -> ScalarUDF {
    ScalarUDF::new_from_impl(PredictFunc::new(Mode::Proba, store))
}

/// `explain_predict`.
pub fn explain_predict_udf(store: Arc<ModelStore>) -> ScalarUDF {
    ScalarUDF::new_from_impl(PredictFunc::new(Mode::Explain, store))
}

fn term_fields() -> Fields {
    Fields::from(vec![
        Field::new("feature", DataType::Utf8, false),
        Field::new("contribution", DataType::Float64, false),
    ])
}

fn explain_type() -> DataType {
    DataType::List(Arc::new(Field::new(
        "item",
        DataType::Struct(term_fields()),
        false,
    )))
}

/// The explanation of each row as a list of (feature, contribution) structs.
fn explain_array(model: &TrainedModel, columns: &[ArrayRef]) -> Result<ArrayRef> {
    let (terms, values, valid) = model.explain(columns)?;
    let rows = values.nrows();
    let k = terms.len();
    let names: StringArray = (0..rows * k).map(|i| Some(terms[i % k].as_str())).collect();
    let contrib: Float64Array = values.iter().copied().map(Some).collect();
    let items = StructArray::try_new(
        term_fields(),
        vec![Arc::new(names) as ArrayRef, Arc::new(contrib)],
        None,
    )?;
    let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(k, rows));
    let nulls = NullBuffer::from(valid);
    Ok(Arc::new(ListArray::try_new(
        Arc::new(Field::new("item", DataType::Struct(term_fields()), false)),
        offsets,
        Arc::new(items),
        Some(nulls),
    )?))
}

fn model_name(value: Option<&ScalarValue>, func: &str) -> Result<String> {
    match value {
        Some(ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s))) => Ok(s.clone()),
        Some(v) => plan_err!("{func}: argument model must be a model name as a string literal, e.g. {func}('churn', ...); got {v}"),
        None => plan_err!("{func}: argument model must be a model name as a string literal, e.g. {func}('churn', ...); got a column or expression"),
    }
}

impl PredictFunc {
    fn new(mode: Mode, store: Arc<ModelStore>) -> Self {
        Self {
            mode,
            store,
            bound: None,
            signature: Signature::variadic_any(Volatility::Stable),
        }
    }

    fn model_for(&self, name: &str) -> Result<Arc<TrainedModel>> {
        match &self.bound {
            Some(m) if m.manifest.name.eq_ignore_ascii_case(name) => Ok(Arc::clone(m)),
            _ => self.store.load(name),
        }
    }

    fn check(&self, model: &TrainedModel, arg_names: &[&str]) -> Result<Vec<usize>> {
        if arg_names.is_empty() {
            return plan_err!(
                "{}('{}', ...): no features given; expected {}",
                self.name(),
                model.manifest.name,
                model.feature_names().join(", ")
            );
        }
        if model.task() == crate::models::Task::Recommendation {
            return plan_err!(
                "{}: model '{}' is a {} recommendation model; use recommend('{}', k[, user]) or similar_items('{}', item, k)",
                self.name(),
                model.manifest.name,
                model.manifest.model_type,
                model.manifest.name,
                model.manifest.name
            );
        }
        if model.task() == crate::models::Task::Forecast {
            return plan_err!(
                "{}: model '{}' is a forecast model; use SELECT * FROM forecast('{}'[, horizon][, level])",
                self.name(),
                model.manifest.name,
                model.manifest.name
            );
        }
        if model.task() == crate::models::Task::Lifetime {
            return plan_err!(
                "{}: model '{}' is a {} model; score it with expected_purchases, prob_alive, expected_avg_value or clv",
                self.name(),
                model.manifest.name,
                model.manifest.model_type
            );
        }
        if self.mode == Mode::Proba && !model.is_classifier() {
            return plan_err!(
                "predict_proba: model '{}' is a {}, not a classifier; use predict",
                model.manifest.name,
                model.manifest.model_type
            );
        }
        if self.mode == Mode::Explain
            && !matches!(
                model.params,
                crate::models::ModelParams::Logistic(_)
                    | crate::models::ModelParams::MultiLogistic(_)
                    | crate::models::ModelParams::Linear(_)
                    | crate::models::ModelParams::Trees(_)
            )
        {
            return plan_err!(
                "explain_predict: model '{}' is a {} model; explanations are available for logistic_regression, linear_regression, decision_tree and random_forest",
                model.manifest.name,
                model.manifest.model_type
            );
        }
        model.bind(self.name(), arg_names)
    }
}

impl ScalarUDFImpl for PredictFunc {
    fn name(&self) -> &str {
        match self.mode {
            Mode::Class => "predict",
            Mode::Proba => "predict_proba",
            Mode::Explain => "explain_predict",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        // Decided by the model, see return_field_from_args.
        Ok(DataType::Float64)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let model = match &self.bound {
            // Bound calls take the features in model order; their names may have been changed
            // by physical optimisations.
            Some(m) => Arc::clone(m),
            None => {
                let name = model_name(
                    args.scalar_arguments.first().copied().flatten(),
                    self.name(),
                )?;
                let model = self.model_for(&name)?;
                let arg_names: Vec<&str> = args
                    .arg_fields
                    .iter()
                    .skip(1)
                    .map(|f| f.name().as_str())
                    .collect();
                let mapping = self.check(&model, &arg_names)?;
                for (feature, &i) in model.manifest.features.iter().zip(&mapping) {
                    let dt = args.arg_fields[i + 1].data_type();
                    let ok = dt.is_null()
                        || match feature.kind.as_str() {
                            "numeric" => dt.is_numeric(),
                            _ => crate::util::is_categorical(dt),
                        };
                    if !ok {
                        return plan_err!(
                            "{}('{}', ...): feature '{}' is {} ({} at training); got {dt}",
                            self.name(),
                            model.manifest.name,
                            feature.name,
                            feature.kind,
                            feature.data_type
                        );
                    }
                }
                model
            }
        };
        let dt = match self.mode {
            Mode::Proba => model.proba_type(),
            Mode::Class => model.predict_type(),
            Mode::Explain => explain_type(),
        };
        Ok(Arc::new(Field::new(self.name(), dt, true)))
    }

    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        if self.bound.is_some() {
            return Ok(ExprSimplifyResult::Original(args));
        }
        let Some(Expr::Literal(lit, _)) = args.first() else {
            return Ok(ExprSimplifyResult::Original(args));
        };
        let Ok(name) = model_name(Some(lit), self.name()) else {
            return Ok(ExprSimplifyResult::Original(args));
        };
        let Ok(model) = self.store.load(&name) else {
            return Ok(ExprSimplifyResult::Original(args));
        };
        let names: Vec<String> = args.iter().skip(1).map(|e| e.qualified_name().1).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        match self.check(&model, &names) {
            Ok(mapping) => {
                let mut ordered = vec![args[0].clone()];
                ordered.extend(mapping.iter().map(|&i| args[i + 1].clone()));
                let bound = PredictFunc {
                    mode: self.mode,
                    store: Arc::clone(&self.store),
                    bound: Some(model),
                    signature: self.signature.clone(),
                };
                let udf = Arc::new(ScalarUDF::new_from_impl(bound));
                Ok(ExprSimplifyResult::Simplified(Expr::ScalarFunction(
                    ScalarFunction::new_udf(udf, ordered),
                )))
            }
            Err(_) => Ok(ExprSimplifyResult::Original(args)),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = match args.args.first() {
            Some(ColumnarValue::Scalar(v)) => model_name(Some(v), self.name())?,
            _ => return exec_err!("{}: argument model must be a string literal", self.name()),
        };
        let model = self.model_for(&name)?;
        let mapping = match &self.bound {
            Some(_) => (0..args.args.len().saturating_sub(1)).collect(),
            None => {
                let arg_names: Vec<&str> = args
                    .arg_fields
                    .iter()
                    .skip(1)
                    .map(|f| f.name().as_str())
                    .collect();
                self.check(&model, &arg_names)?
            }
        };
        let expected = model.feature_names().len();
        if mapping.len() != expected || args.args.len() != mapping.len() + 1 {
            return exec_err!(
                "{}: model '{}' takes {expected} inputs, got {}",
                self.name(),
                name,
                args.args.len() - 1
            );
        }
        let columns: Vec<ArrayRef> = mapping
            .iter()
            .map(|&i| args.args[i + 1].to_array(args.number_rows))
            .collect::<Result<_>>()?;
        let out: ArrayRef = match self.mode {
            Mode::Proba => model.predict_proba(&columns)?,
            Mode::Class => model.predict(&columns)?,
            Mode::Explain => model.route(&columns, &explain_array)?,
        };
        Ok(ColumnarValue::Array(out))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static PREDICT: OnceLock<Documentation> = OnceLock::new();
        static PROBA: OnceLock<Documentation> = OnceLock::new();
        static EXPLAIN: OnceLock<Documentation> = OnceLock::new();
        Some(match self.mode {
            Mode::Explain => EXPLAIN.get_or_init(|| {
                Documentation::builder(
                    DOC_SECTION_OTHER,
                    "Explains a prediction as a list of (feature, contribution) structs that sum to it exactly: for logistic regression the first term is (intercept) and the terms sum to the logit; for linear regression they sum to the prediction; for decision trees and random forests the first term is (base), the training positive rate, and the path contributions sum to P(positive). For a label with three or more classes the terms explain the predicted class (its logit, or its probability for trees). Features are the preprocessed ones (scaled, one-hot as col=category). Arguments bind by column name as for predict; NULL when a feature is NULL and not imputed.",
                    "explain_predict(model, feature1[, ..., featureN])",
                )
                .with_sql_example("SELECT customer_id, unnest(explain_predict('churn', recency_days, frequency, monetary)) AS term FROM customer_features LIMIT 8;")
                .with_argument("model", "Model name, a string literal.")
                .with_argument("feature", "Columns named like the model's features, in any order.")
                .build()
            }),
            Mode::Class => PREDICT.get_or_init(|| {
                Documentation::builder(
                    DOC_SECTION_OTHER,
                    "Scores rows with a stored model and returns the prediction: the class (in the label's type; the most likely class, for a binary label P(positive) >= 0.5) for classifiers, the value (DOUBLE) for linear regression, the cluster id (BIGINT) for k-means. Feature arguments bind to the model's features by column name; a missing or extra feature is a plan error listing the expected ones. NULL in a feature gives NULL unless the model imputes NULLs.",
                    "predict(model, feature1[, ..., featureN])",
                )
                .with_sql_example("SELECT customer_id, predict('churn', recency_days, frequency, monetary) FROM customer_features;")
                .with_argument("model", "Model name, a string literal.")
                .with_argument("feature", "Columns named like the model's features, in any order.")
                .build()
            }),
            Mode::Proba => PROBA.get_or_init(|| {
                Documentation::builder(
                    DOC_SECTION_OTHER,
                    "Scores rows with a stored classifier: for a binary label P(positive class) as a double; for three or more classes a struct with one double per class, named by the class (predict_proba(...)['gold']). Arguments bind by column name as for predict. NULL features give NULL unless the model imputes; NaN features give NaN.",
                    "predict_proba(model, feature1[, ..., featureN])",
                )
                .with_sql_example("SELECT customer_id, predict_proba('churn', recency_days, frequency, monetary) AS p FROM customer_features ORDER BY p DESC LIMIT 10;")
                .with_argument("model", "Model name of a classifier, a string literal.")
                .with_argument("feature", "Columns named like the model's features, in any order.")
                .build()
            }),
        })
    }
}
