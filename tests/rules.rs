//! association_rules against mlxtend on the real Instacart sample (fixture
//! tests/fixtures/instacart_rules.csv, made by tests/fixtures/make_instacart_rules.py), and on
//! the synthetic shop, where the generator's planted co-purchase pairs must come out on top.

mod common;

use common::{repo, run, scalar_f64, scalar_i64, session};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_match_mlxtend_on_instacart() {
    let Some(data) = common::shared_data("rules_match_mlxtend_on_instacart") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 4);
    run(
        &s,
        &format!(
            "CREATE EXTERNAL TABLE instacart STORED AS PARQUET LOCATION '{}'",
            data.join("instacart_sample.parquet").display()
        ),
    )
    .await;
    run(&s, &format!(
        "CREATE EXTERNAL TABLE fixture (antecedent VARCHAR, consequent VARCHAR, support DOUBLE, confidence DOUBLE,
           lift DOUBLE, leverage DOUBLE, conviction DOUBLE, pair_count BIGINT, itemset_len BIGINT)
         STORED AS CSV LOCATION '{}' OPTIONS ('format.has_header' 'true')",
        repo().join("tests/fixtures/instacart_rules.csv").display()
    ))
    .await;
    run(
        &s,
        "CREATE TABLE r AS SELECT array_to_string(antecedent, '|') AS antecedent, array_to_string(consequent, '|') AS consequent,
                support, confidence, lift, leverage, conviction, pair_count
         FROM association_rules('instacart', 'order_id', 'product_id', 0.01, 0.1)",
    )
    .await;
    let n = scalar_i64(&s, "SELECT count(*) FROM fixture").await;
    assert_eq!(n, 29, "the fixture's rule count");
    assert_eq!(scalar_i64(&s, "SELECT count(*) FROM r").await, n);
    let close = |c: &str| format!("abs(r.{c} - f.{c}) > 1e-12 * abs(f.{c})");
    let mismatches = scalar_i64(
        &s,
        &format!(
            "SELECT count(*) FROM r FULL JOIN fixture f ON r.antecedent = f.antecedent AND r.consequent = f.consequent
             WHERE r.antecedent IS NULL OR f.antecedent IS NULL OR r.pair_count <> f.pair_count
                OR {} OR {} OR {} OR {} OR {}",
            close("support"),
            close("confidence"),
            close("lift"),
            close("leverage"),
            close("conviction")
        ),
    )
    .await;
    assert_eq!(mismatches, 0, "rules that differ from mlxtend's");
    // pairs only gives the same set here (nothing beyond pairs reaches 1% support)
    assert_eq!(
        scalar_i64(&s, "SELECT count(*) FROM association_rules('instacart', 'order_id', 'product_id', 0.01, 0.1, 2)").await,
        scalar_i64(&s, "SELECT count(*) FROM fixture WHERE itemset_len = 2").await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_pairs_are_found_in_the_synthetic_shop() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("shop");
    cohort::gen::generate(&data, 3000, 7).unwrap();
    let s = session(dir.path(), 2);
    s.register_data_dir(&data).await.unwrap();
    run(
        &s,
        "CREATE TABLE r AS SELECT antecedent[1] AS a, consequent[1] AS b, lift, leverage, confidence
         FROM association_rules('order_items', 'order_id', 'product_id', 0.001, 0.2, 2)",
    )
    .await;
    let planted = scalar_i64(&s, "SELECT count(*) FROM pairs").await;
    assert_eq!(planted, 25);
    // every planted a -> b is a rule, with confidence near the planted 0.6
    let found = scalar_i64(
        &s,
        "SELECT count(*) FROM pairs p JOIN r ON r.a = p.product_a AND r.b = p.product_b",
    )
    .await;
    assert_eq!(found, planted, "planted pairs missing from the rules");
    let conf = scalar_f64(
        &s,
        "SELECT min(confidence) FROM pairs p JOIN r ON r.a = p.product_a AND r.b = p.product_b",
    )
    .await;
    assert!(conf > 0.45, "lowest planted confidence {conf}");
    // the 25 product pairs with the highest leverage, and with the highest lift (either
    // direction), are the planted ones
    let top = |order: &'static str| {
        let s = &s;
        async move {
            scalar_i64(
                s,
                &format!(
                    "SELECT count(*) FROM (SELECT least(a, b) AS x, greatest(a, b) AS y, max({order}) AS v FROM r
                       GROUP BY 1, 2 ORDER BY v DESC, x, y LIMIT 25) t
                     JOIN pairs p ON t.x = least(p.product_a, p.product_b) AND t.y = greatest(p.product_a, p.product_b)"
                ),
            )
            .await
        }
    };
    let (by_leverage, by_lift) = (top("leverage").await, top("lift").await);
    println!("planted pairs: {found}/25 found, lowest confidence {conf:.3}; planted among the top 25 pairs: {by_leverage} by leverage, {by_lift} by lift");
    assert_eq!(by_leverage, 25, "top-leverage pairs that are not planted");
    assert!(
        by_lift >= 20,
        "only {by_lift} of the top-lift pairs are planted"
    );
}
