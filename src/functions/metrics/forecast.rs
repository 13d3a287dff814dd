//! Forecast accuracy aggregates, with the definitions of utilsforecast (statsforecast's
//! evaluation library), as fractions rather than percentages:
//!
//! * `mape(pred, actual)` = mean(|actual − pred| / |actual|) over rows with actual ≠ 0;
//! * `smape(pred, actual)` = mean(|actual − pred| / (|actual| + |pred|)), a row where both are
//!   0 counting 0 (so it lies in [0, 1]);
//! * `mase(pred, actual, scale)` = mean(|actual − pred| / scale), where `scale` is the
//!   series' in-sample mean absolute (seasonal) naive error (`ml_evaluate` on a forecast model
//!   returns it per series); rows with a NULL, zero or negative scale are ignored.
//!
//! NULL rows are ignored, NaN is an error, and an empty input gives NULL. The state (sum,
//! count) merges, so the aggregates work with GROUP BY and in parallel.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, UInt64Type};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::aggregate_doc_sections::DOC_SECTION_GENERAL;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, Signature, Volatility,
};

/// Which forecast metric an accumulator reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Mape,
    Smape,
    Mase,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Mape => "mape",
            Kind::Smape => "smape",
            Kind::Mase => "mase",
        }
    }
    fn args(self) -> &'static [&'static str] {
        match self {
            Kind::Mase => &["pred", "actual", "scale"],
            _ => &["pred", "actual"],
        }
    }
    /// The term of one row, or None when the row does not count.
    fn term(self, pred: f64, actual: f64, scale: Option<f64>) -> Option<f64> {
        let e = (actual - pred).abs();
        match self {
            Kind::Mape => (actual != 0.0).then(|| e / actual.abs()),
            Kind::Smape => {
                let d = actual.abs() + pred.abs();
                Some(if d == 0.0 { 0.0 } else { e / d })
            }
            Kind::Mase => scale.filter(|s| *s > 0.0).map(|s| e / s),
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ForecastMetric {
    kind: Kind,
    signature: Signature,
}

/// `mape(pred, actual)`.
pub fn mape_udaf() -> AggregateUDF {
    udaf(Kind::Mape)
}

/// `smape(pred, actual)`.
pub fn smape_udaf() -> AggregateUDF {
    udaf(Kind::Smape)
}

/// `mase(pred, actual, scale)`.
pub fn mase_udaf() -> AggregateUDF {
    udaf(Kind::Mase)
}

fn udaf(kind: Kind) -> AggregateUDF {
    AggregateUDF::new_from_impl(ForecastMetric {
        kind,
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

impl AggregateUDFImpl for ForecastMetric {
    fn name(&self) -> &str {
        self.kind.name()
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let names = self.kind.args();
        if types.len() != names.len() {
            return plan_err!(
                "{}: expected {} arguments ({}), got {}",
                self.name(),
                names.len(),
                names.join(", "),
                types.len()
            );
        }
        for (t, n) in types.iter().zip(names) {
            if !(t.is_numeric() || t.is_null()) {
                return plan_err!("{}: argument {n} must be numeric; got {t}", self.name());
            }
        }
        Ok(vec![DataType::Float64; names.len()])
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Acc {
            kind: self.kind,
            sum: 0.0,
            n: 0,
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format!("{}[sum]", args.name),
                DataType::Float64,
                true,
            )),
            Arc::new(Field::new(
                format!("{}[n]", args.name),
                DataType::UInt64,
                true,
            )),
        ])
    }
    fn documentation(&self) -> Option<&Documentation> {
        Some(documentation(self.kind))
    }
}

fn documentation(kind: Kind) -> &'static Documentation {
    static MAPE: OnceLock<Documentation> = OnceLock::new();
    static SMAPE: OnceLock<Documentation> = OnceLock::new();
    static MASE: OnceLock<Documentation> = OnceLock::new();
    let (cell, text, syntax, example) = match kind {
        Kind::Mape => (
            &MAPE,
            "Mean absolute percentage error as a fraction, mean(|actual - pred| / |actual|) over rows with actual <> 0 (utilsforecast's mape). NULL rows are ignored; NaN is an error; no usable row gives NULL.",
            "mape(pred, actual)",
            "SELECT product_id, mape(forecast, units) FROM forecasts JOIN sales USING (product_id, day) GROUP BY product_id;",
        ),
        Kind::Smape => (
            &SMAPE,
            "Symmetric mean absolute percentage error in [0, 1], mean(|actual - pred| / (|actual| + |pred|)), a row where both are 0 counting 0 (utilsforecast's smape). NULL rows are ignored; NaN is an error; empty input gives NULL.",
            "smape(pred, actual)",
            "SELECT smape(forecast, units) FROM forecasts JOIN sales USING (product_id, day);",
        ),
        Kind::Mase => (
            &MASE,
            "Mean absolute scaled error, mean(|actual - pred| / scale), where scale is the series' in-sample mean absolute naive (or seasonal naive) error (ml_evaluate of a forecast model returns it per series); rows with a NULL, zero or negative scale are ignored. NULL rows are ignored; NaN is an error; empty input gives NULL.",
            "mase(pred, actual, scale)",
            "SELECT mase(forecast, units, scale) FROM backtest GROUP BY product_id;",
        ),
    };
    cell.get_or_init(|| {
        let mut b = Documentation::builder(DOC_SECTION_GENERAL, text, syntax)
            .with_sql_example(example)
            .with_argument("pred", "Forecast value.")
            .with_argument("actual", "Observed value.");
        if kind == Kind::Mase {
            b = b.with_argument("scale", "The series' in-sample naive error scale.");
        }
        b.build()
    })
}

#[derive(Debug)]
struct Acc {
    kind: Kind,
    sum: f64,
    n: u64,
}

impl Accumulator for Acc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let name = self.kind.name();
        let names = self.kind.args();
        if values.len() != names.len() {
            return exec_err!("{name}: expected {} arguments", names.len());
        }
        let cols = values
            .iter()
            .map(|v| {
                Ok(cast(v, &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .clone())
            })
            .collect::<Result<Vec<_>>>()?;
        for i in 0..cols[0].len() {
            if cols.iter().take(2).any(|c| c.is_null(i)) {
                continue;
            }
            let scale = cols.get(2).and_then(|c| c.is_valid(i).then(|| c.value(i)));
            for (c, n) in cols.iter().zip(names) {
                if c.is_valid(i) && c.value(i).is_nan() {
                    return exec_err!("{name}: argument {n} is NaN; expected a number (filter NaN or map it with nanvl)");
                }
            }
            if let Some(t) = self.kind.term(cols[0].value(i), cols[1].value(i), scale) {
                self.sum += t;
                self.n += 1;
            }
        }
        Ok(())
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(
            (self.n > 0).then(|| self.sum / self.n as f64),
        ))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::Float64(Some(self.sum)),
            ScalarValue::UInt64(Some(self.n)),
        ])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [sum, n] = states else {
            return exec_err!("{}: expected 2 state columns", self.kind.name());
        };
        let (sum, n) = (
            sum.as_primitive::<Float64Type>(),
            n.as_primitive::<UInt64Type>(),
        );
        for i in 0..n.len() {
            if n.is_valid(i) && sum.is_valid(i) {
                self.sum += sum.value(i);
                self.n += n.value(i);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_by_hand() {
        assert_eq!(Kind::Mape.term(8.0, 10.0, None), Some(0.2));
        assert_eq!(Kind::Mape.term(1.0, 0.0, None), None);
        assert_eq!(Kind::Smape.term(5.0, 15.0, None), Some(0.5));
        assert_eq!(Kind::Smape.term(0.0, 0.0, None), Some(0.0));
        assert_eq!(Kind::Mase.term(3.0, 5.0, Some(4.0)), Some(0.5));
        assert_eq!(Kind::Mase.term(3.0, 5.0, Some(0.0)), None);
        assert_eq!(Kind::Mase.term(3.0, 5.0, None), None);
    }
}
