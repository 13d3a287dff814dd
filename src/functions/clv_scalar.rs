//! Shared machinery of the buy-till-you-die scoring functions (`expected_purchases`,
//! `prob_alive`, `expected_avg_value`, `clv`): model arguments as string literals, checked at
//! planning; models bound once per query through `simplify`; numeric arguments coerced to
//! double and scored row by row over the Arrow arrays.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use crate::models::clv::{clv, Rft};
use crate::models::{ModelParams, TrainedModel};
use crate::store::ModelStore;

/// Which function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ClvKind {
    ExpectedPurchases,
    ProbAlive,
    ExpectedAvgValue,
    Clv,
}

impl ClvKind {
    fn name(self) -> &'static str {
        match self {
            ClvKind::ExpectedPurchases => "expected_purchases",
            ClvKind::ProbAlive => "prob_alive",
            ClvKind::ExpectedAvgValue => "expected_avg_value",
            ClvKind::Clv => "clv",
        }
    }
    /// Model arguments and the type each must have.
    fn models(self) -> &'static [(&'static str, &'static str)] {
        match self {
            ClvKind::ExpectedPurchases | ClvKind::ProbAlive => &[("model", "bgnbd")],
            ClvKind::ExpectedAvgValue => &[("model", "gamma_gamma")],
            ClvKind::Clv => &[("bg_model", "bgnbd"), ("gg_model", "gamma_gamma")],
        }
    }
    /// Numeric arguments after the models.
    fn numbers(self) -> &'static [&'static str] {
        match self {
            ClvKind::ExpectedPurchases => &["t", "frequency", "recency", "T"],
            ClvKind::ProbAlive => &["frequency", "recency", "T"],
            ClvKind::ExpectedAvgValue => &["frequency", "monetary_value"],
            ClvKind::Clv => &[
                "frequency",
                "recency",
                "T",
                "monetary_value",
                "months",
                "monthly_discount",
            ],
        }
    }
    fn arity(self) -> usize {
        self.models().len() + self.numbers().len()
    }
    fn syntax(self) -> String {
        let args: Vec<&str> = self
            .models()
            .iter()
            .map(|m| m.0)
            .chain(self.numbers().iter().copied())
            .collect();
        format!("{}({})", self.name(), args.join(", "))
    }
}

/// The scalar UDF implementation.
#[derive(Debug)]
pub(crate) struct ClvFunc {
    kind: ClvKind,
    store: Arc<ModelStore>,
    bound: Vec<Arc<TrainedModel>>,
    signature: Signature,
    doc: fn() -> &'static Documentation,
}

impl PartialEq for ClvFunc {
    fn eq(&self, o: &Self) -> bool {
        self.kind == o.kind
            && Arc::ptr_eq(&self.store, &o.store)
            && self.bound.len() == o.bound.len()
            && self.bound.iter().zip(&o.bound).all(|(a, b)| {
                a.manifest.name == b.manifest.name && a.manifest.version == b.manifest.version
            })
    }
}
impl Eq for ClvFunc {}
impl Hash for ClvFunc {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
        for m in &self.bound {
            m.manifest.name.hash(state);
            m.manifest.version.hash(state);
        }
    }
}

/// Builds one of the functions.
pub(crate) fn udf(
    kind: ClvKind,
    store: Arc<ModelStore>,
    doc: fn() -> &'static Documentation,
) -> ScalarUDF {
    ScalarUDF::new_from_impl(ClvFunc {
        kind,
        store,
        bound: vec![],
        signature: Signature::user_defined(Volatility::Stable),
        doc,
    })
}

fn literal_name(v: Option<&ScalarValue>) -> Option<String> {
    match v {
        Some(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
        ) => Some(s.clone()),
        _ => None,
    }
}

impl ClvFunc {
    fn load(&self, names: &[Option<String>]) -> Result<Vec<Arc<TrainedModel>>> {
        if !self.bound.is_empty() {
            return Ok(self.bound.clone());
        }
        let f = self.kind.name();
        let mut out = vec![];
        for ((arg, want), name) in self.kind.models().iter().zip(names) {
            let Some(name) = name else {
                return plan_err!("{f}: argument {arg} must be a model name as a string literal, e.g. '{want}_model'");
            };
            let m = self.store.load(name)?;
            if m.manifest.model_type != *want {
                return plan_err!(
                    "{f}: argument {arg} names '{}', a {} model; expected a {want} model",
                    m.manifest.name,
                    m.manifest.model_type
                );
            }
            out.push(m);
        }
        Ok(out)
    }
}

fn check(f: &str, what: &str, v: f64, ok: bool) -> Result<()> {
    if ok {
        Ok(())
    } else {
        exec_err!(
            "{f}: argument {what} must be {}; got {v}",
            match what {
                "frequency" => "a whole number >= 0",
                "months" => "a whole number from 0 to 1200",
                "monetary_value" => "a positive average order value (or 0 with frequency 0)",
                "monthly_discount" => "a rate > -1",
                _ => "a time >= 0",
            }
        )
    }
}

impl ScalarUDFImpl for ClvFunc {
    fn name(&self) -> &str {
        self.kind.name()
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let f = self.kind.name();
        if t.len() != self.kind.arity() {
            return plan_err!(
                "{f}: expected {} arguments: {}; got {}",
                self.kind.arity(),
                self.kind.syntax(),
                t.len()
            );
        }
        let n_models = self.kind.models().len();
        let mut out = vec![];
        for (i, dt) in t.iter().enumerate() {
            if i < n_models {
                if !matches!(
                    dt,
                    DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
                ) {
                    return plan_err!(
                        "{f}: argument {} must be a model name (text); got {dt}",
                        self.kind.models()[i].0
                    );
                }
                out.push(DataType::Utf8);
            } else {
                if !(dt.is_numeric() || dt.is_null()) {
                    return plan_err!(
                        "{f}: argument {} must be a number; got {dt}",
                        self.kind.numbers()[i - n_models]
                    );
                }
                out.push(DataType::Float64);
            }
        }
        Ok(out)
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn return_field_from_args(
        &self,
        args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<datafusion::arrow::datatypes::FieldRef> {
        let names: Vec<Option<String>> = (0..self.kind.models().len())
            .map(|i| literal_name(args.scalar_arguments.get(i).copied().flatten()))
            .collect();
        self.load(&names)?;
        Ok(Arc::new(datafusion::arrow::datatypes::Field::new(
            self.name(),
            DataType::Float64,
            true,
        )))
    }
    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        if !self.bound.is_empty() {
            return Ok(ExprSimplifyResult::Original(args));
        }
        let names: Vec<Option<String>> = args
            .iter()
            .take(self.kind.models().len())
            .map(|e| match e {
                Expr::Literal(v, _) => literal_name(Some(v)),
                _ => None,
            })
            .collect();
        let Ok(models) = self.load(&names) else {
            return Ok(ExprSimplifyResult::Original(args));
        };
        let bound = ClvFunc {
            kind: self.kind,
            store: Arc::clone(&self.store),
            bound: models,
            signature: self.signature.clone(),
            doc: self.doc,
        };
        Ok(ExprSimplifyResult::Simplified(Expr::ScalarFunction(
            ScalarFunction::new_udf(Arc::new(ScalarUDF::new_from_impl(bound)), args),
        )))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let f = self.kind.name();
        let n_models = self.kind.models().len();
        let names: Vec<Option<String>> = args
            .args
            .iter()
            .take(n_models)
            .map(|a| match a {
                ColumnarValue::Scalar(v) => literal_name(Some(v)),
                ColumnarValue::Array(_) => None,
            })
            .collect();
        let models = self.load(&names)?;
        let arrays: Vec<ArrayRef> = args.args[n_models..]
            .iter()
            .map(|a| a.to_array(args.number_rows))
            .collect::<Result<_>>()?;
        let cols: Vec<&Float64Array> = arrays
            .iter()
            .map(|a| a.as_primitive::<Float64Type>())
            .collect();
        let rows = args.number_rows;
        let mut out = Vec::with_capacity(rows);
        for i in 0..rows {
            if cols.iter().any(|c| c.is_null(i)) {
                out.push(None);
                continue;
            }
            let v: Vec<f64> = cols.iter().map(|c| c.value(i)).collect();
            out.push(Some(self.score(f, &models, &v)?));
        }
        Ok(ColumnarValue::Array(Arc::new(Float64Array::from(out))))
    }
    fn documentation(&self) -> Option<&Documentation> {
        Some((self.doc)())
    }
}

impl ClvFunc {
    fn rft(f: &str, x: f64, t_x: f64, t: f64) -> Result<Rft> {
        check(f, "frequency", x, x >= 0.0 && x.fract() == 0.0)?;
        check(f, "recency", t_x, t_x >= 0.0)?;
        check(f, "T", t, t >= 0.0)?;
        if t_x > t {
            return exec_err!(
                "{f}: recency ({t_x}) is greater than T ({t}); expected recency <= T"
            );
        }
        Ok(Rft { x, t_x, t })
    }

    fn score(&self, f: &str, models: &[Arc<TrainedModel>], v: &[f64]) -> Result<f64> {
        let bg = |m: &TrainedModel| match &m.params {
            ModelParams::BgNbd {
                params,
                periods_per_month,
            } => Some((*params, *periods_per_month)),
            _ => None,
        };
        let gg = |m: &TrainedModel| match &m.params {
            ModelParams::GammaGamma(p) => Some(*p),
            _ => None,
        };
        let (Some(first), second) = (models.first(), models.get(1)) else {
            return exec_err!("{f}: no model bound");
        };
        Ok(match self.kind {
            ClvKind::ExpectedPurchases => {
                let Some((m, _)) = bg(first) else {
                    return exec_err!("{f}: expected a bgnbd model");
                };
                check(f, "t", v[0], v[0] >= 0.0)?;
                m.expected_purchases(v[0], &Self::rft(f, v[1], v[2], v[3])?)
            }
            ClvKind::ProbAlive => {
                let Some((m, _)) = bg(first) else {
                    return exec_err!("{f}: expected a bgnbd model");
                };
                m.prob_alive(&Self::rft(f, v[0], v[1], v[2])?)
            }
            ClvKind::ExpectedAvgValue => {
                let Some(m) = gg(first) else {
                    return exec_err!("{f}: expected a gamma_gamma model");
                };
                check(f, "frequency", v[0], v[0] >= 0.0 && v[0].fract() == 0.0)?;
                check(
                    f,
                    "monetary_value",
                    v[1],
                    v[1] > 0.0 || (v[0] == 0.0 && v[1] >= 0.0),
                )?;
                m.expected_avg_value(v[0], v[1])
            }
            ClvKind::Clv => {
                let (Some((b, ppm)), Some(g)) = (bg(first), second.and_then(|s| gg(s))) else {
                    return exec_err!("{f}: expected a bgnbd and a gamma_gamma model");
                };
                let c = Self::rft(f, v[0], v[1], v[2])?;
                check(
                    f,
                    "monetary_value",
                    v[3],
                    v[3] > 0.0 || (v[0] == 0.0 && v[3] >= 0.0),
                )?;
                check(
                    f,
                    "months",
                    v[4],
                    v[4] >= 0.0 && v[4] <= 1200.0 && v[4].fract() == 0.0,
                )?;
                check(f, "monthly_discount", v[5], v[5] > -1.0)?;
                let avg = g.expected_avg_value(v[0], v[3]);
                clv(&b, &c, avg, v[4] as u32, v[5], ppm)
            }
        })
    }
}
