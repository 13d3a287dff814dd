//! Shared machinery of the aggregates over binary (0/1 or boolean) values: argument coercion,
//! label checks, and a confusion-matrix accumulator parameterised by the metric it reports.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, UInt64Type};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, Signature, Volatility,
};

use super::kernels::Confusion;
use crate::util::to_f64;

/// Coerces two arguments of a binary metric to Float64, or fails naming the function.
pub(crate) fn coerce_two_numeric(
    func: &str,
    names: [&str; 2],
    types: &[DataType],
) -> Result<Vec<DataType>> {
    if types.len() != 2 {
        return plan_err!(
            "{func}: expected 2 arguments ({}, {}), got {}",
            names[0],
            names[1],
            types.len()
        );
    }
    for (t, n) in types.iter().zip(names) {
        if !(t.is_numeric() || matches!(t, DataType::Boolean | DataType::Null)) {
            return plan_err!("{func}: argument {n} must be numeric or boolean; got {t}");
        }
    }
    Ok(vec![DataType::Float64, DataType::Float64])
}

/// Reads a 0/1 value, failing on anything else.
pub(crate) fn binary_value(func: &str, arg: &str, v: f64) -> Result<bool> {
    if v == 1.0 {
        Ok(true)
    } else if v == 0.0 {
        Ok(false)
    } else {
        exec_err!("{func}: argument {arg} must be 0/1 or boolean; got {v}")
    }
}

/// Converts two arguments to Float64 arrays.
pub(crate) fn two_f64(
    func: &str,
    names: [&str; 2],
    values: &[ArrayRef],
) -> Result<(Arc<Float64Array>, Arc<Float64Array>)> {
    match values {
        [a, b] => Ok((to_f64(a, func, names[0])?, to_f64(b, func, names[1])?)),
        _ => exec_err!("{func}: expected 2 arguments, got {}", values.len()),
    }
}

/// Which ratio of the confusion matrix a [`ConfusionMetric`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Ratio {
    Precision,
    Recall,
    F1,
}

/// An aggregate reporting one ratio of a binary confusion matrix.
#[derive(Debug)]
pub(crate) struct ConfusionMetric {
    pub name: &'static str,
    pub ratio: Ratio,
    pub signature: Signature,
    pub doc: fn() -> &'static Documentation,
}

impl PartialEq for ConfusionMetric {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.ratio == other.ratio
    }
}
impl Eq for ConfusionMetric {}
impl std::hash::Hash for ConfusionMetric {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.ratio.hash(state);
    }
}

impl ConfusionMetric {
    pub fn new(name: &'static str, ratio: Ratio, doc: fn() -> &'static Documentation) -> Self {
        Self {
            name,
            ratio,
            signature: Signature::user_defined(Volatility::Immutable),
            doc,
        }
    }
}

impl AggregateUDFImpl for ConfusionMetric {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_two_numeric(self.name, ["pred", "label"], arg_types)
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(ConfusionAccumulator {
            name: self.name,
            ratio: self.ratio,
            c: Confusion::default(),
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(["tp", "fp", "tn", "fn"]
            .iter()
            .map(|s| {
                Arc::new(Field::new(
                    format!("{}[{s}]", args.name),
                    DataType::UInt64,
                    true,
                ))
            })
            .collect())
    }
    fn documentation(&self) -> Option<&Documentation> {
        Some((self.doc)())
    }
}

#[derive(Debug)]
struct ConfusionAccumulator {
    name: &'static str,
    ratio: Ratio,
    c: Confusion,
}

impl Accumulator for ConfusionAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let (p, l) = two_f64(self.name, ["pred", "label"], values)?;
        for i in 0..p.len() {
            if p.is_valid(i) && l.is_valid(i) {
                let pred = binary_value(self.name, "pred", p.value(i))?;
                let label = binary_value(self.name, "label", l.value(i))?;
                self.c.add(pred, label);
            }
        }
        Ok(())
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(match self.ratio {
            Ratio::Precision => self.c.precision(),
            Ratio::Recall => self.c.recall(),
            Ratio::F1 => self.c.f1(),
        }))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok([self.c.tp, self.c.fp, self.c.tn, self.c.fn_]
            .iter()
            .map(|v| ScalarValue::UInt64(Some(*v)))
            .collect())
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [tp, fp, tn, fn_] = states else {
            return exec_err!(
                "{}: expected 4 state columns, got {}",
                self.name,
                states.len()
            );
        };
        let (tp, fp, tn, fn_) = (
            tp.as_primitive::<UInt64Type>(),
            fp.as_primitive::<UInt64Type>(),
            tn.as_primitive::<UInt64Type>(),
            fn_.as_primitive::<UInt64Type>(),
        );
        for i in 0..tp.len() {
            self.c.merge(&Confusion {
                tp: tp.value(i),
                fp: fp.value(i),
                tn: tn.value(i),
                fn_: fn_.value(i),
            });
        }
        Ok(())
    }
}
