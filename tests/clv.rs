//! Customer lifetime value on the real CDNOW data against Lifetimes 0.11.3 fixtures
//! (tests/fixtures/make_lifetimes.py): clv_summary for every customer, BG/NBD and Gamma-Gamma
//! parameters, expected purchases, P(alive), expected average value and CLV.

mod common;

use common::{register_cdnow, repo, run, scalar_f64, scalar_i64, session, shared_data};

fn fixture(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(repo().join("tests/fixtures").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

async fn param(s: &cohort::CohortSession, model: &str, p: &str) -> f64 {
    scalar_f64(
        s,
        &format!("SELECT value FROM ml_weights('{model}') WHERE parameter = '{p}'"),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bgnbd_and_gamma_gamma_match_lifetimes() {
    let Some(data) = shared_data("bgnbd_and_gamma_gamma_match_lifetimes") else {
        return;
    };
    let (bgf, ggf) = (
        fixture("cdnow_bgnbd.json"),
        fixture("cdnow_gamma_gamma.json"),
    );
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 4);
    for (t, file) in [
        ("summary", "cdnow_customers_summary.csv"),
        ("tx", "cdnow_customers_summary_with_transactions.csv"),
    ] {
        run(&s, &format!(
            "CREATE EXTERNAL TABLE {t} STORED AS CSV LOCATION '{}' OPTIONS ('format.has_header' 'true')",
            data.join(file).display()
        ))
        .await;
    }
    // The published paper's data: r, alpha, a, b
    run(
        &s,
        "CREATE MODEL bg OPTIONS (type = 'bgnbd') AS SELECT frequency, recency, \"T\" FROM summary",
    )
    .await;
    let exact = &bgf["fit_penalizer_0"]["exact_optimum"]["params"];
    let lifetimes = &bgf["fit_penalizer_0"]["params"];
    for p in ["r", "alpha", "a", "b"] {
        let got = param(&s, "bg", p).await;
        println!(
            "bgnbd {p:>5}: cohort {got:.6} Lifetimes {:.6} (exact optimum {:.6})",
            f(&lifetimes[p]),
            f(&exact[p])
        );
        assert!(
            rel(got, f(&lifetimes[p])) < 1e-3,
            "{p} not within 0.1% of Lifetimes"
        );
        assert!(
            rel(got, f(&exact[p])) < 1e-5,
            "{p}: {got} vs exact optimum {}",
            exact[p]
        );
    }
    let ll = param(&s, "bg", "log_likelihood").await;
    assert!(
        (ll - f(&bgf["fit_penalizer_0"]["log_likelihood_sum"])).abs() < 1e-6,
        "log-likelihood {ll}"
    );
    // The paper's worked example
    let e = scalar_f64(&s, "SELECT expected_purchases('bg', 39, 2, 30.43, 38.86)").await;
    assert!(
        (e - 1.2259).abs() < 1e-3 && rel(e, f(&bgf["paper_point"]["value"])) < 1e-5,
        "{e}"
    );
    // Per-customer predictions
    for c in bgf["first_10_customers"].as_array().unwrap() {
        let id = c["ID"].as_i64().unwrap();
        let (ep_key, pa_key) = (
            "conditional_expected_number_of_purchases_up_to_time_52",
            "conditional_probability_alive",
        );
        let got_e = scalar_f64(&s, &format!("SELECT expected_purchases('bg', 52, frequency, recency, \"T\") FROM summary WHERE \"ID\" = {id}")).await;
        let got_p = scalar_f64(&s, &format!("SELECT prob_alive('bg', frequency, recency, \"T\") FROM summary WHERE \"ID\" = {id}")).await;
        assert!(
            rel(got_e, f(&c[ep_key])) < 1e-5,
            "customer {id}: E = {got_e} vs {}",
            c[ep_key]
        );
        assert!(
            rel(got_p, f(&c[pa_key])) < 1e-5,
            "customer {id}: P(alive) = {got_p} vs {}",
            c[pa_key]
        );
    }
    // Penalised fit (Lifetimes penalises alpha on its rescaled time axis)
    run(&s, "CREATE MODEL bgp OPTIONS (type = 'bgnbd', penalizer = 0.1) AS SELECT frequency, recency, \"T\" FROM summary").await;
    for p in ["r", "alpha", "a", "b"] {
        let got = param(&s, "bgp", p).await;
        let want = f(&bgf["fit_penalizer_0_1"]["exact_optimum_params"][p]);
        assert!(rel(got, want) < 1e-4, "penalised {p}: {got} vs {want}");
    }

    // Gamma-Gamma on the repeat buyers
    run(&s, "CREATE MODEL gg OPTIONS (type = 'gamma_gamma', frequency_col = 'x', monetary_col = 'zbar') AS SELECT x, zbar FROM tx WHERE x > 0").await;
    let fit = &ggf["fit"];
    for p in ["p", "q", "v"] {
        let got = param(&s, "gg", p).await;
        let want = f(&fit["params"][p]);
        println!("gamma_gamma {p}: cohort {got:.6} Lifetimes {want:.6}");
        assert!(rel(got, want) < 1e-3, "{p}: {got} vs {want}");
    }
    for c in ggf["first_10_customers_with_x_gt_0"].as_array().unwrap() {
        let id = c["ID"].as_i64().unwrap();
        let (value_key, clv_key) = ("conditional_expected_average_profit", "clv_12_months");
        let got_v = scalar_f64(
            &s,
            &format!("SELECT expected_avg_value('gg', x, zbar) FROM tx WHERE \"ID\" = {id}"),
        )
        .await;
        let got_c = scalar_f64(
            &s,
            &format!(
                "SELECT clv('bg', 'gg', x, t_x, \"T\", zbar, 12, 0.01) FROM tx WHERE \"ID\" = {id}"
            ),
        )
        .await;
        assert!(
            rel(got_v, f(&c[value_key])) < 1e-4,
            "customer {id}: avg value {got_v} vs {}",
            c[value_key]
        );
        assert!(
            rel(got_c, f(&c[clv_key])) < 1e-4,
            "customer {id}: clv {got_c} vs {}",
            c[clv_key]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clv_summary_matches_lifetimes_for_every_customer() {
    let Some(data) = shared_data("clv_summary_matches_lifetimes_for_every_customer") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 4);
    register_cdnow(&s, &data).await;
    for (t, file) in [
        ("fx", "cdnow_clv_summary.csv"),
        ("fxc", "cdnow_clv_calibration.csv"),
    ] {
        run(&s, &format!(
            "CREATE EXTERNAL TABLE {t} STORED AS CSV LOCATION '{}' OPTIONS ('format.has_header' 'true')",
            repo().join("tests/fixtures").join(file).display()
        ))
        .await;
    }
    run(&s, "CREATE TABLE cs AS SELECT * FROM clv_summary('cdnow', 'customer_id', 'order_date', 'amount', DATE '1998-06-30')").await;
    assert_eq!(scalar_i64(&s, "SELECT count(*) FROM cs").await, 23_570);
    let bad = scalar_i64(
        &s,
        "SELECT count(*) FROM cs FULL JOIN fx ON cs.customer_id = fx.customer_id
        WHERE cs.customer_id IS NULL OR fx.customer_id IS NULL OR cs.frequency <> fx.frequency
           OR abs(cs.recency - fx.recency) > 1e-9 OR abs(cs.t - fx.\"T\") > 1e-9
           OR abs(cs.monetary_value - fx.monetary_value) > 1e-9",
    )
    .await;
    assert_eq!(bad, 0, "customers whose clv_summary differs from Lifetimes");

    run(&s, "CREATE TABLE cc AS SELECT * FROM clv_summary('cdnow', 'customer_id', 'order_date', 'amount', DATE '1998-06-30', 'week', DATE '1997-09-30')").await;
    let bad = scalar_i64(&s, "SELECT count(*) FROM cc FULL JOIN fxc ON cc.customer_id = fxc.customer_id
        WHERE cc.customer_id IS NULL OR fxc.customer_id IS NULL OR cc.frequency <> fxc.frequency_cal
           OR abs(cc.recency - fxc.recency_cal) > 1e-9 OR abs(cc.t - fxc.\"T_cal\") > 1e-9
           OR abs(cc.monetary_value - fxc.monetary_value_cal) > 1e-9
           OR cc.frequency_holdout <> fxc.frequency_holdout OR abs(cc.duration_holdout - fxc.duration_holdout) > 1e-9").await;
    assert_eq!(
        bad, 0,
        "customers whose calibration summary differs from Lifetimes"
    );
    // monetary_value_holdout: Lifetimes averages raw hold-out rows, cohort averages daily totals
    // (same-day purchases are one transaction, as everywhere else). They agree wherever no
    // customer bought twice on one hold-out day.
    let bad = scalar_i64(&s, "SELECT count(*) FROM cc JOIN fxc ON cc.customer_id = fxc.customer_id
        WHERE abs(cc.monetary_value_holdout - fxc.monetary_value_holdout) > 1e-9
          AND cc.customer_id NOT IN (SELECT customer_id FROM cdnow WHERE order_date > DATE '1997-09-30'
                                     GROUP BY customer_id, order_date HAVING count(*) > 1)").await;
    assert_eq!(bad, 0);

    // BG/NBD on the calibration summary: parameters and hold-out predictions
    let bgf = fixture("cdnow_bgnbd.json");
    let cal = &bgf["calibration_fit"];
    run(&s, "CREATE MODEL bgc OPTIONS (type = 'bgnbd') AS SELECT frequency, recency, t, frequency_holdout, duration_holdout FROM cc").await;
    for p in ["r", "alpha", "a", "b"] {
        let got = param(&s, "bgc", p).await;
        assert!(
            rel(got, f(&cal["exact_optimum"]["params"][p])) < 1e-5,
            "calibration {p}: {got}"
        );
    }
    let predicted = scalar_f64(
        &s,
        "SELECT predicted_holdout_purchases FROM ml_evaluate('bgc')",
    )
    .await;
    let actual = scalar_f64(
        &s,
        "SELECT actual_holdout_purchases FROM ml_evaluate('bgc')",
    )
    .await;
    println!("calibration BG/NBD: predicted hold-out purchases {predicted:.2} (Lifetimes {}), actual {actual}", cal["predicted_holdout_purchases_sum"]);
    assert!(rel(predicted, f(&cal["predicted_holdout_purchases_sum"])) < 1e-4);
    assert_eq!(actual, f(&cal["actual_frequency_holdout_sum"]));
}
