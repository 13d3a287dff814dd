//! Shared machinery of the regression metrics (`rmse`, `mae`, `r2_score`): one mergeable
//! accumulator of error sums and of the actual values' mean and squared deviations (Chan et
//! al.'s parallel update), parameterised by the metric it reports.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, UInt64Type};
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, Signature, Volatility,
};

use super::binary::{coerce_two_numeric, two_f64};

/// Which regression metric an accumulator reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Regression {
    Rmse,
    Mae,
    R2,
}

/// A regression metric aggregate over (pred, actual).
#[derive(Debug)]
pub(crate) struct RegressionMetric {
    pub name: &'static str,
    pub kind: Regression,
    pub signature: Signature,
    pub doc: fn() -> &'static Documentation,
}

impl PartialEq for RegressionMetric {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name && self.kind == o.kind
    }
}
impl Eq for RegressionMetric {}
impl std::hash::Hash for RegressionMetric {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.kind.hash(state);
    }
}

impl RegressionMetric {
    pub fn new(name: &'static str, kind: Regression, doc: fn() -> &'static Documentation) -> Self {
        Self {
            name,
            kind,
            signature: Signature::user_defined(Volatility::Immutable),
            doc,
        }
    }
}

const STATE: [&str; 5] = ["n", "abs_err", "sq_err", "mean", "m2"];

impl AggregateUDFImpl for RegressionMetric {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        coerce_two_numeric(self.name, ["pred", "actual"], t)
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(RegressionAcc {
            name: self.name,
            kind: self.kind,
            s: Sums::default(),
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(STATE
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let dt = if i == 0 {
                    DataType::UInt64
                } else {
                    DataType::Float64
                };
                Arc::new(Field::new(format!("{}[{s}]", args.name), dt, true))
            })
            .collect())
    }
    fn documentation(&self) -> Option<&Documentation> {
        Some((self.doc)())
    }
}

/// Error sums and the actual values' running mean and sum of squared deviations.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Sums {
    pub n: u64,
    pub abs_err: f64,
    pub sq_err: f64,
    pub mean: f64,
    pub m2: f64,
}

impl Sums {
    /// Adds one (pred, actual) pair.
    pub fn add(&mut self, pred: f64, actual: f64) {
        let e = pred - actual;
        self.n += 1;
        self.abs_err += e.abs();
        self.sq_err += e * e;
        let d = actual - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (actual - self.mean);
    }
    /// Merges another partial state.
    pub fn merge(&mut self, o: &Sums) {
        if o.n == 0 {
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        self.mean += d * o.n as f64 / n as f64;
        self.m2 += o.m2 + d * d * self.n as f64 * o.n as f64 / n as f64;
        self.n = n;
        self.abs_err += o.abs_err;
        self.sq_err += o.sq_err;
    }
    /// The metric; NULL on empty input (and for R² on fewer than two rows, as scikit-learn).
    pub fn value(&self, kind: Regression) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let n = self.n as f64;
        match kind {
            Regression::Rmse => Some((self.sq_err / n).sqrt()),
            Regression::Mae => Some(self.abs_err / n),
            Regression::R2 if self.n < 2 => None,
            // scikit-learn's force_finite: a constant actual scores 1 when predicted exactly, else 0
            Regression::R2 if self.m2 == 0.0 => Some(if self.sq_err == 0.0 { 1.0 } else { 0.0 }),
            Regression::R2 => Some(1.0 - self.sq_err / self.m2),
        }
    }
}

#[derive(Debug)]
struct RegressionAcc {
    name: &'static str,
    kind: Regression,
    s: Sums,
}

impl Accumulator for RegressionAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let (p, a) = two_f64(self.name, ["pred", "actual"], values)?;
        for i in 0..p.len() {
            if p.is_valid(i) && a.is_valid(i) {
                let (pv, av) = (p.value(i), a.value(i));
                if pv.is_nan() || av.is_nan() {
                    let arg = if pv.is_nan() { "pred" } else { "actual" };
                    return exec_err!("{}: argument {arg} is NaN; expected a number (filter NaN or map it with nanvl)", self.name);
                }
                self.s.add(pv, av);
            }
        }
        Ok(())
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(self.s.value(self.kind)))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::UInt64(Some(self.s.n)),
            ScalarValue::Float64(Some(self.s.abs_err)),
            ScalarValue::Float64(Some(self.s.sq_err)),
            ScalarValue::Float64(Some(self.s.mean)),
            ScalarValue::Float64(Some(self.s.m2)),
        ])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [n, abs, sq, mean, m2] = states else {
            return exec_err!(
                "{}: expected 5 state columns, got {}",
                self.name,
                states.len()
            );
        };
        let n = n.as_primitive::<UInt64Type>();
        let f = |a: &ArrayRef| a.as_primitive::<Float64Type>().clone();
        let (abs, sq, mean, m2) = (f(abs), f(sq), f(mean), f(m2));
        for i in 0..n.len() {
            if n.is_valid(i) {
                self.s.merge(&Sums {
                    n: n.value(i),
                    abs_err: abs.value(i),
                    sq_err: sq.value(i),
                    mean: mean.value(i),
                    m2: m2.value(i),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_equals_one_pass() {
        let data = [(1.0, 2.0), (2.0, 2.5), (4.0, 3.0), (0.0, -1.0), (3.0, 3.0)];
        let mut all = Sums::default();
        data.iter().for_each(|&(p, a)| all.add(p, a));
        let (mut a, mut b) = (Sums::default(), Sums::default());
        data[..2].iter().for_each(|&(p, x)| a.add(p, x));
        data[2..].iter().for_each(|&(p, x)| b.add(p, x));
        a.merge(&b);
        for k in [Regression::Rmse, Regression::Mae, Regression::R2] {
            let (x, y) = (all.value(k).unwrap(), a.value(k).unwrap());
            assert!((x - y).abs() < 1e-12, "{k:?}: {x} vs {y}");
        }
        // by hand: errors -1, -0.5, 1, 1, 0 -> mae 0.7, mse 0.65
        assert!((all.value(Regression::Mae).unwrap() - 0.7).abs() < 1e-15);
        assert!((all.value(Regression::Rmse).unwrap() - 0.65f64.sqrt()).abs() < 1e-15);
    }
}
