//! `forecast('model' [, horizon] [, level])`: the next `horizon` periods of every series of a
//! forecast model — series, ts (the period start, in the time column's type), forecast, lower,
//! upper (prediction bounds at `level`, e.g. 0.95; NULL for the Croston family, which has no
//! probabilistic model). Defaults: the model's `horizon` and `level` options.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result};

use crate::models::ModelParams;
use crate::store::ModelStore;
use crate::util::{literal_f64, literal_i64, literal_string};

const NAME: &str = "forecast";

/// The `forecast` table function.
#[derive(Debug)]
pub struct Forecast {
    store: Arc<ModelStore>,
}

impl Forecast {
    /// Forecasts with models of `store`.
    pub fn new(store: Arc<ModelStore>) -> Self {
        Self { store }
    }
}

impl TableFunctionImpl for Forecast {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let e = args.exprs();
        if e.is_empty() || e.len() > 3 {
            return plan_err!(
                "{NAME}: expected (model [, horizon] [, level]), got {} arguments",
                e.len()
            );
        }
        let name = literal_string(e, 0, NAME, "model")?;
        let model = self.store.load(&name)?;
        let ModelParams::Forecast(f) = &model.params else {
            return plan_err!(
                "{NAME}: model '{name}' is a {} model; forecast() takes a model of type 'forecast'",
                model.manifest.model_type
            );
        };
        let horizon = if e.len() > 1 {
            let h = literal_i64(e, 1, NAME, "horizon")?;
            if !(1..=10_000).contains(&h) {
                return plan_err!(
                    "{NAME}: argument horizon must be from 1 to 10000 periods; got {h}"
                );
            }
            h as usize
        } else {
            f.horizon
        };
        let level = if e.len() > 2 {
            let l = literal_f64(e, 2, NAME, "level")?;
            if !(l > 0.0 && l < 1.0) {
                return plan_err!("{NAME}: argument level must be a probability between 0 and 1 (e.g. 0.95); got {l}");
            }
            l
        } else {
            f.level
        };
        super::batch_table(f.forecast_batch(horizon, level)?)
    }
}
