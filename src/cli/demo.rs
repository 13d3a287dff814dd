//! `cohort demo`: generate a small shop and run the saved analyses on it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use datafusion::common::{exec_datafusion_err, Result};

use super::{script, Cli};

/// The saved analyses the demo runs, in order: (file name, text).
pub const ANALYSES: &[(&str, &str)] = &[
    (
        "sql/rfm_segments.sql",
        include_str!("../../sql/rfm_segments.sql"),
    ),
    (
        "sql/churn_propensity.sql",
        include_str!("../../sql/churn_propensity.sql"),
    ),
    (
        "sql/customer_lifetime_value.sql",
        include_str!("../../sql/customer_lifetime_value.sql"),
    ),
    ("sql/funnel.sql", include_str!("../../sql/funnel.sql")),
    (
        "sql/cohort_retention.sql",
        include_str!("../../sql/cohort_retention.sql"),
    ),
    (
        "sql/cross_sell.sql",
        include_str!("../../sql/cross_sell.sql"),
    ),
    (
        "sql/preprocess_features.sql",
        include_str!("../../sql/preprocess_features.sql"),
    ),
    (
        "sql/user_clusters.sql",
        include_str!("../../sql/user_clusters.sql"),
    ),
    (
        "sql/high_value_users.sql",
        include_str!("../../sql/high_value_users.sql"),
    ),
    (
        "sql/model_comparison.sql",
        include_str!("../../sql/model_comparison.sql"),
    ),
    (
        "sql/recommendations.sql",
        include_str!("../../sql/recommendations.sql"),
    ),
    (
        "sql/demand_forecast.sql",
        include_str!("../../sql/demand_forecast.sql"),
    ),
];

/// Runs the demo.
pub async fn run(cli: &Cli, out: Option<PathBuf>, customers: usize, seed: u64) -> Result<()> {
    let tmp;
    let dir = match out {
        Some(d) => d,
        None => {
            tmp = tempfile::tempdir()
                .map_err(|e| exec_datafusion_err!("demo: cannot make a temporary folder: {e}"))?;
            tmp.path().to_path_buf()
        }
    };
    let started = std::time::Instant::now();
    let s = crate::gen::generate(&dir, customers, seed)?;
    println!(
        "== generated a synthetic shop in {}: {} customers, {} orders, {} order items, {} events ({:.1}s)\n",
        dir.display(),
        s.customers,
        s.orders,
        s.order_items,
        s.events,
        started.elapsed().as_secs_f64()
    );
    let session = cli.session(Some(dir.join("cohort_models"))).await?;
    let mut vars = BTreeMap::new();
    vars.insert("data".to_string(), dir.to_string_lossy().to_string());
    for (name, text) in ANALYSES {
        println!("== {name}");
        let t = std::time::Instant::now();
        let text =
            script::substitute(text, &vars).map_err(|e| exec_datafusion_err!("{name}: {e}"))?;
        script::run_text(&session, name, &text, &mut std::io::stdout(), false).await?;
        println!("({name}: {:.1}s)\n", t.elapsed().as_secs_f64());
    }
    Ok(())
}
