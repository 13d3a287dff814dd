//! Forecast models from SQL on the synthetic shop: the right method family per product,
//! forecasts that beat seasonal naive in the back-test, determinism across partition counts,
//! and 10,000 series in one statement.

mod common;

use common::{run, scalar_f64, scalar_i64, session};
use datafusion::arrow::util::pretty::pretty_format_batches;

async fn shop(s: &cohort::CohortSession, dir: &std::path::Path, customers: usize) {
    let data = dir.join("shop");
    cohort::gen::generate(&data, customers, 42).unwrap();
    for t in ["orders", "order_items", "promotions"] {
        run(
            s,
            &format!(
                "CREATE EXTERNAL TABLE {t} STORED AS PARQUET LOCATION '{}'",
                data.join(format!("{t}.parquet")).display()
            ),
        )
        .await;
    }
    run(s, "CREATE TABLE daily_units AS
        SELECT i.product_id, CAST(date_trunc('day', o.order_ts) AS DATE) AS day, CAST(sum(i.quantity) AS DOUBLE) AS units
        FROM order_items i JOIN orders o USING (order_id) GROUP BY 1, 2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_gets_the_right_methods_and_beats_seasonal_naive() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 2);
    shop(&s, dir.path(), 20_000).await;
    let opts = "type = 'forecast', time_col = 'day', value_col = 'units', series_col = 'product_id', season_length = 7, horizon = 28";
    run(
        &s,
        &format!(
            "CREATE MODEL demand OPTIONS ({opts}, method = 'auto') AS SELECT * FROM daily_units"
        ),
    )
    .await;
    run(&s, &format!("CREATE MODEL snaive OPTIONS ({opts}, method = 'seasonal_naive') AS SELECT * FROM daily_units")).await;
    run(&s, "CREATE TABLE chosen AS SELECT CAST(series AS BIGINT) AS product_id, method FROM ml_evaluate('demand') WHERE series IS NOT NULL").await;
    // the best sellers sell every day: ETS, and the weekly cycle planted in the orders is found
    run(&s, "CREATE TABLE top AS SELECT product_id FROM daily_units GROUP BY 1 ORDER BY sum(units) DESC, 1 LIMIT 10").await;
    let top_ets = scalar_i64(
        &s,
        "SELECT count(*) FROM chosen JOIN top USING (product_id) WHERE method LIKE 'ets(%'",
    )
    .await;
    let top_seasonal = scalar_i64(&s, "SELECT count(*) FROM chosen JOIN top USING (product_id) WHERE method LIKE 'ets(%A)' OR method LIKE 'ets(%M)'").await;
    // the long tail sells on few days: Croston-SBA
    run(&s, "CREATE TABLE tail AS SELECT product_id FROM daily_units GROUP BY 1 ORDER BY sum(units), 1 LIMIT 500").await;
    let tail = scalar_i64(&s, "SELECT count(*) FROM tail").await;
    let tail_sba = scalar_i64(
        &s,
        "SELECT count(*) FROM chosen JOIN tail USING (product_id) WHERE method = 'sba'",
    )
    .await;
    let (auto_mase, naive_mase) = (
        scalar_f64(
            &s,
            "SELECT mase FROM ml_evaluate('demand') WHERE series IS NULL",
        )
        .await,
        scalar_f64(
            &s,
            "SELECT mase FROM ml_evaluate('snaive') WHERE series IS NULL",
        )
        .await,
    );
    let (auto_rmse, naive_rmse) = (
        scalar_f64(
            &s,
            "SELECT rmse FROM ml_evaluate('demand') WHERE series IS NULL",
        )
        .await,
        scalar_f64(
            &s,
            "SELECT rmse FROM ml_evaluate('snaive') WHERE series IS NULL",
        )
        .await,
    );
    // on the products that sell daily too
    let top_mase = |m: &'static str| {
        let s = &s;
        async move {
            scalar_f64(s, &format!("SELECT avg(mase) FROM ml_evaluate('{m}') e JOIN top ON CAST(e.series AS BIGINT) = top.product_id")).await
        }
    };
    let (top_auto, top_naive) = (top_mase("demand").await, top_mase("snaive").await);
    let methods = run(
        &s,
        "SELECT method, count(*) AS n FROM chosen GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    .await;
    println!("{}", pretty_format_batches(&methods).unwrap());
    println!("top 10: {top_ets} ETS, {top_seasonal} with a season; tail: {tail_sba} of {tail} SBA");
    println!("back-test MASE auto {auto_mase:.4} vs seasonal naive {naive_mase:.4}; RMSE {auto_rmse:.4} vs {naive_rmse:.4}; top-10 MASE {top_auto:.4} vs {top_naive:.4}");
    assert_eq!(top_ets, 10);
    assert!(
        top_seasonal >= 8,
        "{top_seasonal} of the top 10 with a weekly season"
    );
    assert!(
        tail_sba as f64 >= 0.95 * tail as f64,
        "{tail_sba} of {tail}"
    );
    assert!(auto_mase < naive_mase && auto_rmse < naive_rmse);
    assert!(top_auto < top_naive, "{top_auto} vs {top_naive}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forecasts_do_not_depend_on_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let mut outs = vec![];
    for parts in [1, 4] {
        let sub = dir.path().join(format!("p{parts}"));
        let s = session(&sub, parts);
        shop(&s, &sub, 3000).await;
        run(&s, "CREATE MODEL d OPTIONS (type = 'forecast', time_col = 'day', value_col = 'units', series_col = 'product_id', season_length = 7, horizon = 7) AS SELECT * FROM daily_units").await;
        let b = run(&s, "SELECT * FROM forecast('d') ORDER BY series, ts").await;
        outs.push(pretty_format_batches(&b).unwrap().to_string());
        let e = run(
            &s,
            "SELECT * FROM ml_evaluate('d') ORDER BY series NULLS FIRST",
        )
        .await;
        outs.push(pretty_format_batches(&e).unwrap().to_string());
    }
    assert_eq!(
        outs[0], outs[2],
        "forecasts differ between 1 and 4 partitions"
    );
    assert_eq!(
        outs[1], outs[3],
        "back-tests differ between 1 and 4 partitions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_series_in_one_statement() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 2);
    // 10,000 series of 60 days: a level per series, a weekly cycle, sparse for every 10th
    run(&s, "CREATE TABLE many AS
        SELECT sku, CAST(DATE '2025-01-01' + CAST(d AS INT) AS DATE) AS day,
               CAST(CASE WHEN sku % 10 = 0 THEN (CASE WHEN (sku + d) % 9 = 0 THEN 3 ELSE 0 END)
                         ELSE sku % 7 + 5 + (d % 7) + ((sku * 31 + d * 17) % 5) END AS DOUBLE) AS units
        FROM generate_series(1, 10000) AS a(sku), generate_series(0, 59) AS b(d)").await;
    run(&s, "CREATE MODEL many_sba OPTIONS (type = 'forecast', time_col = 'day', value_col = 'units', series_col = 'sku', method = 'sba', horizon = 14) AS SELECT * FROM many").await;
    assert_eq!(
        scalar_i64(&s, "SELECT count(*) FROM forecast('many_sba')").await,
        140_000
    );
    assert_eq!(
        scalar_i64(
            &s,
            "SELECT count(DISTINCT series) FROM forecast('many_sba')"
        )
        .await,
        10_000
    );
    // the series key keeps its type: it joins back to the data
    assert_eq!(
        scalar_i64(&s, "SELECT count(*) FROM forecast('many_sba', 1) f JOIN (SELECT DISTINCT sku FROM many) m ON f.series = m.sku").await,
        10_000
    );
    // automatic selection on a slice (debug builds are slow; the benchmark runs all of it)
    run(&s, "CREATE MODEL many_auto OPTIONS (type = 'forecast', time_col = 'day', value_col = 'units', series_col = 'sku', season_length = 7, horizon = 7) AS SELECT * FROM many WHERE sku <= 200").await;
    let sba = scalar_i64(
        &s,
        "SELECT count(*) FROM ml_evaluate('many_auto') WHERE method = 'sba'",
    )
    .await;
    let ets = scalar_i64(
        &s,
        "SELECT count(*) FROM ml_evaluate('many_auto') WHERE method LIKE 'ets(%'",
    )
    .await;
    assert_eq!((sba, ets), (20, 180), "sparse series get SBA, the rest ETS");
}
