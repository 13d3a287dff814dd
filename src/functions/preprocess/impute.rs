//! `impute(x, strategy) OVER (...)`: replaces missing values with a statistic of the window
//! partition, as scikit-learn's `SimpleImputer` (`mean`, `median`, `most_frequent` as `mode`,
//! `constant` 0 as `zero`).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::window_doc_sections::DOC_SECTION_ANALYTICAL;
use datafusion::logical_expr::{
    Documentation, PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};

use super::{fit_values, literal_arg, mean_std, quantile_sorted, sorted, WholePartition};

const NAME: &str = "impute";

/// The `impute` window function.
pub fn impute_udwf() -> WindowUDF {
    WindowUDF::new_from_impl(Impute {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Impute {
    signature: Signature,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Strategy {
    Mean,
    Median,
    Mode,
    Zero,
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

fn parse_strategy(v: &ScalarValue, text: bool) -> Result<Strategy> {
    let s = match v {
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => s.to_ascii_lowercase(),
        other => return plan_err!("{NAME}: argument strategy must be one of 'mean', 'median', 'mode', 'zero'; got {other}"),
    };
    let strategy = match s.as_str() {
        "mean" => Strategy::Mean,
        "median" => Strategy::Median,
        "mode" | "most_frequent" => Strategy::Mode,
        "zero" => Strategy::Zero,
        _ => {
            return plan_err!(
            "{NAME}: argument strategy must be one of 'mean', 'median', 'mode', 'zero'; got '{s}'"
        )
        }
    };
    if text && strategy != Strategy::Mode {
        return plan_err!(
            "{NAME}: strategy '{s}' needs a numeric x; text columns impute with 'mode'"
        );
    }
    Ok(strategy)
}

/// The value most often seen; ties go to the smallest, as in scikit-learn.
fn mode<T: Ord + Clone>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut counts: BTreeMap<T, u64> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    let best = counts.values().copied().max()?;
    counts.into_iter().find(|(_, c)| *c == best).map(|(v, _)| v)
}

fn impute_numeric(x: &Float64Array, strategy: Strategy) -> ArrayRef {
    let fit = fit_values(x);
    let fill = match strategy {
        Strategy::Mean => mean_std(&fit).map(|m| m.0),
        Strategy::Median => quantile_sorted(&sorted(fit), 0.5),
        Strategy::Mode => {
            // total order on the bits of non-NaN floats: -0.0 and 0.0 are one value
            mode(fit.iter().map(|v| OrdF64(v + 0.0))).map(|v| v.0)
        }
        Strategy::Zero => Some(0.0),
    };
    let out: Float64Array = x
        .iter()
        .map(|v| match v {
            Some(v) if !v.is_nan() => Some(v),
            _ => fill,
        })
        .collect();
    Arc::new(out)
}

fn impute_text(x: &StringArray) -> ArrayRef {
    let fill = mode(x.iter().flatten()).map(str::to_string);
    let out: StringArray = x
        .iter()
        .map(|v| v.map(str::to_string).or_else(|| fill.clone()))
        .collect();
    Arc::new(out)
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct OrdF64(f64);
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

impl WindowUDFImpl for Impute {
    fn name(&self) -> &str {
        NAME
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let [x, s] = t else {
            return plan_err!(
                "{NAME}: expected 2 arguments (x, strategy), got {}",
                t.len()
            );
        };
        if !(is_text(s) || s.is_null()) {
            return plan_err!(
                "{NAME}: argument strategy must be a string such as 'median'; got {s}"
            );
        }
        let x = if x.is_numeric() || x.is_null() {
            DataType::Float64
        } else if is_text(x) {
            DataType::Utf8
        } else {
            return plan_err!("{NAME}: argument x must be numeric or text; got {x}");
        };
        Ok(vec![x, DataType::Utf8])
    }
    fn field(&self, args: WindowUDFFieldArgs) -> Result<FieldRef> {
        let text = args
            .get_input_field(0)
            .is_some_and(|f| is_text(f.data_type()));
        let dt = if text {
            DataType::Utf8
        } else {
            DataType::Float64
        };
        Ok(Arc::new(Field::new(args.name(), dt, true)))
    }
    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let text = args
            .input_fields()
            .first()
            .is_some_and(|f| is_text(f.data_type()));
        let strategy =
            parse_strategy(&literal_arg(args.input_exprs(), 1, NAME, "strategy")?, text)?;
        Ok(WholePartition::boxed(NAME, move |values, _| {
            let Some(x) = values.first() else {
                return exec_err!("{NAME}: missing argument x");
            };
            if let Some(s) = x.as_string_opt::<i32>() {
                Ok(impute_text(s))
            } else if let Some(f) =
                x.as_primitive_opt::<datafusion::arrow::datatypes::Float64Type>()
            {
                Ok(impute_numeric(f, strategy))
            } else {
                exec_err!("{NAME}: internal error: x is {}", x.data_type())
            }
        }))
    }
    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION_ANALYTICAL,
                "Replaces missing values of x with a statistic of its window partition (scikit-learn's SimpleImputer): 'mean', 'median', 'mode' (most frequent value, ties to the smallest) or 'zero'. For numbers both NULL and NaN are missing and the result is a double; text columns take 'mode' only. A partition with no values to fit on leaves its NULLs (except with 'zero').",
                "impute(x, strategy) OVER ([PARTITION BY g])",
            )
            .with_sql_example("SELECT customer_id, impute(age, 'median') OVER (PARTITION BY country) AS age FROM customers;")
            .with_argument("x", "Numeric or text column.")
            .with_argument("strategy", "'mean', 'median', 'mode' or 'zero'.")
            .build()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Float64Type;

    #[test]
    fn strategies_by_hand() {
        let x = Float64Array::from(vec![
            Some(1.0),
            None,
            Some(3.0),
            Some(f64::NAN),
            Some(3.0),
            Some(10.0),
        ]);
        let get = |s| {
            let out = impute_numeric(&x, s);
            out.as_primitive::<Float64Type>().value(1)
        };
        assert_eq!(get(Strategy::Mean), 17.0 / 4.0);
        assert_eq!(get(Strategy::Median), 3.0);
        assert_eq!(get(Strategy::Mode), 3.0);
        assert_eq!(get(Strategy::Zero), 0.0);
        let tie = Float64Array::from(vec![Some(5.0), Some(2.0), None]);
        assert_eq!(
            impute_numeric(&tie, Strategy::Mode)
                .as_primitive::<Float64Type>()
                .value(2),
            2.0
        );
        let t = StringArray::from(vec![Some("b"), None, Some("a"), Some("b")]);
        assert_eq!(impute_text(&t).as_string::<i32>().value(1), "b");
    }
}
