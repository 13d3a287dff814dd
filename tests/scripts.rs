//! Every saved analysis in sql/ runs on freshly generated data, and the churn model finds the
//! signal planted in the synthetic shop.

mod common;

use std::collections::BTreeMap;

use cohort::cli::script;
use common::{repo, run, scalar_f64, scalar_i64, session};
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_analyses_run_on_generated_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("shop");
    let summary = cohort::gen::generate(&data, 5000, 42).unwrap();
    assert!(summary.orders > 10_000, "{summary:?}");
    let s = session(dir.path(), 2);
    let mut vars = BTreeMap::new();
    vars.insert("data".to_string(), data.to_string_lossy().to_string());

    let mut scripts: Vec<_> = std::fs::read_dir(repo().join("sql"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 10, "{scripts:?}");
    for path in &scripts {
        let mut out = Vec::new();
        script::run_file(&s, path, &vars, &mut out, false)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let out = String::from_utf8(out).unwrap();
        println!("== {}\n{out}", path.display());
        assert!(out.contains('|'), "{} printed no table", path.display());
    }

    run(
        &s,
        &format!(
            "CREATE EXTERNAL TABLE parquet_pairs STORED AS PARQUET LOCATION '{}'",
            data.join("pairs.parquet").display()
        ),
    )
    .await;
    run(
        &s,
        &format!(
            "CREATE EXTERNAL TABLE parquet_segments STORED AS PARQUET LOCATION '{}'",
            data.join("segments.parquet").display()
        ),
    )
    .await;

    // rfm_segments.sql: every customer who ordered is scored once, champions exist.
    assert_eq!(
        scalar_i64(&s, "SELECT count(*) FROM customer_rfm").await,
        scalar_i64(&s, "SELECT count(DISTINCT customer_id) FROM orders").await
    );
    assert!(
        scalar_i64(
            &s,
            "SELECT count(*) FROM customer_rfm WHERE segment = 'champions'"
        )
        .await
            > 0
    );

    // churn_propensity.sql: the planted purchase-rate and churn-hazard signal is found.
    // Measured AUC on this seed: see the note printed below; a model that ignored its inputs
    // would score about 0.5.
    let auc = scalar_f64(&s, "SELECT roc_auc FROM ml_evaluate('churn')").await;
    println!("synthetic shop churn model: hold-out AUC {auc:.4}");
    assert!(auc > 0.75, "hold-out AUC {auc}");
    // The top decile buys again far more often than the bottom one.
    let top = scalar_f64(&s, "SELECT avg(CAST(bought_again AS DOUBLE)) FROM (SELECT *, ntile(10) OVER (ORDER BY p_buy DESC, customer_id) AS d FROM churn_scores) WHERE d = 1").await;
    let bottom = scalar_f64(&s, "SELECT avg(CAST(bought_again AS DOUBLE)) FROM (SELECT *, ntile(10) OVER (ORDER BY p_buy DESC, customer_id) AS d FROM churn_scores) WHERE d = 10").await;
    println!("actual repeat rate: top decile {top:.3}, bottom decile {bottom:.3}");
    assert!(top > 3.0 * bottom.max(0.01), "top {top} bottom {bottom}");

    // funnel.sql: every session's step is 0..4 and the funnel only narrows, in every channel.
    let widening = scalar_i64(
        &s,
        "SELECT count(*) FROM (SELECT channel,
            sum(CASE WHEN step >= 1 THEN 1 ELSE 0 END) AS s1, sum(CASE WHEN step >= 2 THEN 1 ELSE 0 END) AS s2,
            sum(CASE WHEN step >= 3 THEN 1 ELSE 0 END) AS s3, sum(CASE WHEN step >= 4 THEN 1 ELSE 0 END) AS s4
          FROM session_funnel GROUP BY channel) WHERE NOT (s1 >= s2 AND s2 >= s3 AND s3 >= s4 AND s4 > 0)",
    )
    .await;
    assert_eq!(
        widening, 0,
        "channels whose funnel widens or never converts"
    );
    assert_eq!(
        scalar_i64(&s, "SELECT count(*) FROM session_funnel WHERE step > 4").await,
        0
    );
    // Every purchase event belongs to a session that reached the purchase step or started
    // before the first view of its session (step 0 or more): sessions with a purchase exist.
    assert!(scalar_i64(&s, "SELECT count(*) FROM session_funnel WHERE step = 4").await > 1000);

    // cohort_retention.sql: month-0 buyers are every customer who bought in the signup month;
    // retention lies between 0 and 100%.
    assert_eq!(
        scalar_i64(&s, "SELECT sum(r[1]) FROM customer_retention").await,
        scalar_i64(
            &s,
            "SELECT count(DISTINCT customer_id) FROM customer_months WHERE months_since = 0"
        )
        .await
    );
    let m1 = scalar_f64(
        &s,
        "SELECT 100.0 * sum(r[2]) / sum(r[1]) FROM customer_retention",
    )
    .await;
    println!("month-1 retention of signup cohorts: {m1:.1}%");
    assert!(m1 > 5.0 && m1 < 95.0, "{m1}");

    // cross_sell.sql: the 25 product pairs with the highest lift are the generator's planted pairs.
    let planted_top = scalar_i64(
        &s,
        "SELECT count(*) FROM (SELECT least(antecedent[1], consequent[1]) AS x, greatest(antecedent[1], consequent[1]) AS y, max(lift) AS l
            FROM product_rules WHERE cardinality(antecedent) = 1 AND cardinality(consequent) = 1
            GROUP BY 1, 2 ORDER BY l DESC, x, y LIMIT 25) t
         JOIN parquet_pairs p ON t.x = least(p.product_a, p.product_b) AND t.y = greatest(p.product_a, p.product_b)",
    )
    .await;
    println!("cross_sell: {planted_top}/25 of the top-lift pairs are planted");
    assert_eq!(planted_top, 25);

    // recommendations.sql: item-kNN recovers the planted pairs: for each pair (a, b), b is
    // among the 5 products most similar to a.
    let pairs = run(
        &s,
        "SELECT product_a, product_b FROM parquet_pairs ORDER BY 1, 2",
    )
    .await;
    let (mut found, mut total) = (0, 0);
    for b in &pairs {
        let a_col = b.column(0).as_primitive::<Int64Type>();
        let b_col = b.column(1).as_primitive::<Int64Type>();
        for r in 0..b.num_rows() {
            total += 1;
            found += scalar_i64(
                &s,
                &format!(
                    "SELECT count(*) FROM similar_items('rec_knn', {}, 5) WHERE similar_product_id = {}",
                    a_col.value(r),
                    b_col.value(r)
                ),
            )
            .await;
        }
    }
    println!(
        "recommendations: {found}/{total} planted pairs are in the item's 5 nearest neighbours"
    );
    assert_eq!(total, 25);
    assert!(found >= 23, "{found}/{total}");
    // every model ranks the held-out baskets better than chance (the shop plants no habitual
    // reorders, so popularity is the one to beat here; on Instacart repeat_aware wins, see
    // tests/recs.rs)
    let items = scalar_f64(&s, "SELECT count(DISTINCT product_id) FROM rec_train").await;
    let basket = scalar_f64(
        &s,
        "SELECT avg(c) FROM (SELECT count(*) AS c FROM rec_test GROUP BY customer_id)",
    )
    .await;
    let chance = 10.0 / items;
    for m in [
        "rec_popularity",
        "rec_knn",
        "rec_bm25",
        "rec_als",
        "rec_repeat",
    ] {
        let recall = scalar_f64(
            &s,
            &format!("SELECT recall_at_k FROM ml_evaluate_ranking('{m}', 'rec_test', 10, false)"),
        )
        .await;
        println!("recommendations: {m} recall@10 {recall:.4} (chance {chance:.4}, mean basket {basket:.1})");
        assert!(recall > 3.0 * chance, "{m}: {recall} vs chance {chance}");
    }

    // preprocess_features.sql: standardised spend has mean 0 and std 1 over the fitted window,
    // and the model on the prepared features finds the planted signal.
    let mean = scalar_f64(&s, "SELECT avg(spend_z) FROM prepared").await;
    let std = scalar_f64(&s, "SELECT stddev_pop(spend_z) FROM prepared").await;
    assert!(
        mean.abs() < 1e-9 && (std - 1.0).abs() < 1e-9,
        "{mean} {std}"
    );
    let auc = scalar_f64(&s, "SELECT roc_auc FROM ml_evaluate('prepared_churn')").await;
    println!("preprocessed churn model: hold-out AUC {auc:.4}");
    assert!(auc > 0.75, "{auc}");

    // user_clusters.sql: k-means recovers the generator's hidden segments. Adjusted Rand index
    // between the clusters and the true segments, computed from the contingency table.
    let ari = scalar_f64(
        &s,
        "WITH cells AS (SELECT c.cluster, g.segment, count(*) AS n FROM customer_clusters c
                        JOIN parquet_segments g ON g.customer_id = c.customer_id GROUP BY 1, 2),
              a AS (SELECT sum(n) AS n FROM cells GROUP BY cluster),
              b AS (SELECT sum(n) AS n FROM cells GROUP BY segment),
              t AS (SELECT (SELECT sum(n * (n - 1) / 2.0) FROM cells) AS sij,
                           (SELECT sum(n * (n - 1) / 2.0) FROM a) AS sa,
                           (SELECT sum(n * (n - 1) / 2.0) FROM b) AS sb,
                           (SELECT sum(n) * (sum(n) - 1) / 2.0 FROM cells) AS pairs)
         SELECT (sij - sa * sb / pairs) / (0.5 * (sa + sb) - sa * sb / pairs) FROM t",
    )
    .await;
    // Measured 0.305 on this seed (other feature sets of RFM, order value and age give 0.26-0.30:
    // the generator's segments overlap in behaviour); clusters unrelated to the segments give 0.
    println!("user_clusters: adjusted Rand index against the planted segments {ari:.3}");
    assert!(ari > 0.25, "ARI {ari}");

    // model_comparison.sql: every family finds the planted signal; the MLP learns (its loss falls).
    let worst = scalar_f64(
        &s,
        "SELECT min(roc_auc) FROM (SELECT roc_auc FROM ml_evaluate('cmp_logistic') UNION ALL SELECT roc_auc FROM ml_evaluate('cmp_tree')
           UNION ALL SELECT roc_auc FROM ml_evaluate('cmp_forest') UNION ALL SELECT roc_auc FROM ml_evaluate('cmp_bayes')
           UNION ALL SELECT roc_auc FROM ml_evaluate('cmp_mlp'))",
    )
    .await;
    let mlp = scalar_f64(&s, "SELECT roc_auc FROM ml_evaluate('cmp_mlp')").await;
    println!("model_comparison: lowest hold-out AUC {worst:.3}, MLP {mlp:.3}");
    assert!(worst > 0.75 && mlp > 0.8, "{worst} {mlp}");
    assert!(
        scalar_f64(&s, "SELECT max(CASE WHEN epoch = 30 THEN loss END) / max(CASE WHEN epoch = 1 THEN loss END) FROM ml_training_info('cmp_mlp')").await
            < 1.0
    );

    // high_value_users.sql: the propensity model finds the signal and the ranking is explained
    // by contributions that sum to the probability.
    assert!(scalar_f64(&s, "SELECT roc_auc FROM ml_evaluate('hv_propensity')").await > 0.75);
    let gap = scalar_f64(
        &s,
        "SELECT max(abs(p - s)) FROM (SELECT customer_id, max(p) AS p, sum(e.contribution) AS s FROM (
           SELECT customer_id, predict_proba('hv_propensity', channel, recency_days, frequency, monetary, avg_order_value) AS p,
                  unnest(explain_predict('hv_propensity', channel, recency_days, frequency, monetary, avg_order_value)) AS e
           FROM value_features WHERE customer_id <= 200) GROUP BY customer_id)",
    )
    .await;
    assert!(gap < 1e-9, "{gap}");

    // customer_lifetime_value.sql: customers generated with higher purchase rates get higher
    // expected purchases. Spearman's rank correlation with the generator's true rate: measured
    // 0.53 on this seed (raw frequency gives 0.73, but the true rate ignores churn, which the
    // model rightly discounts); an uninformative model gives 0, so 0.4 is the floor.
    run(
        &s,
        &format!(
            "CREATE EXTERNAL TABLE segments STORED AS PARQUET LOCATION '{}'",
            data.join("segments.parquet").display()
        ),
    )
    .await;
    let spearman = scalar_f64(
        &s,
        "SELECT corr(CAST(r1 AS DOUBLE), CAST(r2 AS DOUBLE)) FROM (
           SELECT rank() OVER (ORDER BY c.next_year_orders) AS r1, rank() OVER (ORDER BY g.orders_per_month) AS r2
           FROM customer_clv c JOIN segments g ON g.customer_id = c.customer_id)",
    )
    .await;
    println!("Spearman(expected purchases, true purchase rate) = {spearman:.3}");
    assert!(spearman > 0.4, "{spearman}");
    // The calibration check: predicted hold-out purchases within 15% of the actual ones.
    let predicted = scalar_f64(
        &s,
        "SELECT predicted_holdout_purchases FROM ml_evaluate('clv_bg_check')",
    )
    .await;
    let actual = scalar_f64(
        &s,
        "SELECT actual_holdout_purchases FROM ml_evaluate('clv_bg_check')",
    )
    .await;
    println!("hold-out purchases: predicted {predicted:.0}, actual {actual:.0}");
    assert!(
        (predicted - actual).abs() < 0.15 * actual,
        "predicted {predicted} actual {actual}"
    );
}

#[test]
fn script_errors_name_file_statement_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.sql");
    std::fs::write(
        &path,
        "SELECT 1;\n\n-- a comment\nSELECT nope FROM nowhere;\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cohort"))
        .arg("--models")
        .arg(dir.path().join("m"))
        .arg("run")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.sql: statement 2 (line 4)"), "{err}");

    std::fs::write(&path, "SELECT '${missing}';\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cohort"))
        .arg("--models")
        .arg(dir.path().join("m"))
        .arg("run")
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("variable ${missing} at line 1 is not set; pass --set missing=VALUE"),
        "{err}"
    );
}
