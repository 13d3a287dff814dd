//! Criterion benchmarks of cohort's kernels, through SQL as users call them (forecasting: the
//! per-series kernels directly, as a forecast model runs one per series).
//! Sizes are named in the benchmark ids; data is deterministic (no random()).
//! Run: `cargo bench --bench kernels`. CI only compiles this file.

use std::hint::black_box;

use cohort::CohortSession;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tokio::runtime::Runtime;

/// A deterministic labelled table of `rows` × 10 features.
fn features_sql(name: &str, rows: usize) -> String {
    let cols: Vec<String> = (0..10)
        .map(|j| {
            format!(
                "CAST((value * {p} + {j}) % 1000 AS DOUBLE) / 1000.0 AS f{j}",
                p = [
                    7919, 104729, 1299709, 15485863, 179424673, 2147483647, 4201, 6361, 7727, 9973
                ][j]
            )
        })
        .collect();
    format!(
        "CREATE OR REPLACE TABLE {name} AS SELECT {}, ((value * 7919) % 1000 + (value * 4201) % 1000) > 1000 AS y FROM generate_series(1, {rows})",
        cols.join(", ")
    )
}

async fn collect(s: &CohortSession, sql: &str) -> usize {
    let batches = s
        .sql(sql)
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    batches.iter().map(|b| b.num_rows()).sum()
}

fn session(dir: &tempfile::TempDir) -> CohortSession {
    CohortSession::builder()
        .models_dir(dir.path().join("models"))
        .build()
        .expect("session")
}

fn scoring(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let s = session(&dir);
    rt.block_on(async {
        collect(&s, &features_sql("train", 20_000)).await;
        collect(&s, "CREATE MODEL m OPTIONS (type = 'logistic_regression', label = 'y', scale = 'standard') AS SELECT * FROM train").await;
    });
    let mut g = c.benchmark_group("scoring");
    for rows in [8_192usize, 65_536] {
        rt.block_on(collect(&s, &features_sql("score", rows)));
        g.bench_with_input(BenchmarkId::new("predict_proba_logistic_10_features", rows), &rows, |b, _| {
            b.iter(|| rt.block_on(collect(&s, "SELECT sum(predict_proba('m', f0, f1, f2, f3, f4, f5, f6, f7, f8, f9)) FROM score")))
        });
        g.bench_with_input(BenchmarkId::new("predict_logistic_10_features", rows), &rows, |b, _| {
            b.iter(|| rt.block_on(collect(&s, "SELECT count(*) FROM score WHERE predict('m', f0, f1, f2, f3, f4, f5, f6, f7, f8, f9)")))
        });
        g.bench_with_input(BenchmarkId::new("inline_formula_baseline", rows), &rows, |b, _| {
            b.iter(|| rt.block_on(collect(&s, "SELECT sum(1 / (1 + exp(-(0.1 + f0 * 0.2 + f1 * 0.3 + f2 * 0.1 + f3 * 0.4 + f4 * 0.5 + f5 * 0.1 + f6 * 0.2 + f7 * 0.3 + f8 * 0.1 + f9 * 0.2)))) FROM score")))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("metrics");
    let rows = 65_536usize;
    rt.block_on(collect(&s, &features_sql("scored", rows)));
    g.bench_with_input(BenchmarkId::new("roc_auc", rows), &rows, |b, _| {
        b.iter(|| rt.block_on(collect(&s, "SELECT roc_auc(f0, y) FROM scored")))
    });
    g.bench_with_input(BenchmarkId::new("log_loss", rows), &rows, |b, _| {
        b.iter(|| rt.block_on(collect(&s, "SELECT log_loss(f0, y) FROM scored")))
    });
    g.finish();
}

fn fitting(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let s = session(&dir);
    let rows = 100_000usize;
    rt.block_on(collect(&s, &features_sql("train", rows)));
    let mut g = c.benchmark_group("fit");
    g.sample_size(10);
    g.bench_with_input(BenchmarkId::new("logistic_regression_10_features", rows), &rows, |b, _| {
        b.iter(|| {
            rt.block_on(collect(
                &s,
                "CREATE OR REPLACE MODEL f OPTIONS (type = 'logistic_regression', label = 'y', scale = 'standard') AS SELECT * FROM train",
            ))
        })
    });
    g.bench_with_input(BenchmarkId::new("kmeans_k8_4_features", rows), &rows, |b, _| {
        b.iter(|| {
            rt.block_on(collect(
                &s,
                "CREATE OR REPLACE MODEL k OPTIONS (type = 'kmeans', k = 8, init = 'first_k', scale = 'standard', features = 'f0,f1,f2,f3') AS SELECT f0, f1, f2, f3 FROM train",
            ))
        })
    });
    g.finish();
}

fn rfm(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = dir.path().join("shop");
    let summary = cohort::gen::generate(&shop, 10_000, 42).expect("gen");
    let s = session(&dir);
    rt.block_on(s.register_data_dir(&shop)).expect("register");
    let mut g = c.benchmark_group("rfm");
    g.sample_size(10);
    g.bench_with_input(BenchmarkId::new("orders", summary.orders), &summary.orders, |b, _| {
        b.iter(|| black_box(rt.block_on(collect(&s, "SELECT * FROM rfm('orders', 'customer_id', 'order_ts', 'amount', DATE '2026-01-01')"))))
    });
    g.finish();
}

/// AutoETS on one daily series of a year (weekly season, trend, noise): the per-series cost
/// a forecast model pays, and the filter alone (one likelihood evaluation).
fn forecasting(c: &mut Criterion) {
    use cohort::forecast::ets;
    let y: Vec<f64> = (0..365)
        .map(|t| {
            let season = [0.8, 0.85, 0.9, 0.95, 1.05, 1.2, 1.25][t % 7];
            let noise = ((t * 7919 % 101) as f64 / 101.0 - 0.5) * 4.0;
            (40.0 + 0.05 * t as f64) * season + noise
        })
        .collect();
    let mut group = c.benchmark_group("forecast");
    group.sample_size(10);
    group.bench_function("auto_ets_365_days", |b| {
        b.iter(|| ets::auto(&y, 7, &[]).map(|f| f.aicc))
    });
    let fit = ets::auto(&y, 7, &[]).expect("a fit");
    group.bench_function("ets_filter_365_days", |b| {
        b.iter(|| ets::fit_fixed(&y, fit.spec, 7, fit.params, &fit.init_state).map(|f| f.lik))
    });
    group.finish();
}

criterion_group!(benches, scoring, fitting, rfm, forecasting);
criterion_main!(benches);
