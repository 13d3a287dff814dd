//! The same CREATE MODEL gives bit-identical parameter files whatever the partition count and
//! the order in which rows arrive, for every model family and for per-group models.

mod common;

use std::path::{Path, PathBuf};

use common::{run, session};

const FEATURES: &str = "CREATE OR REPLACE VIEW feats AS
  SELECT o.customer_id, c.channel, c.age, count(*) AS frequency, sum(o.amount) AS monetary,
         CAST(DATE '2025-07-01' - CAST(max(o.order_ts) AS DATE) AS DOUBLE) AS recency_days,
         max(o.order_ts) >= TIMESTAMP '2025-04-01 00:00:00' AS active
  FROM orders o JOIN customers c ON c.customer_id = o.customer_id
  WHERE o.order_ts < TIMESTAMP '2025-07-01 00:00:00'
  GROUP BY o.customer_id, c.channel, c.age";

/// One statement per family (name, options); all train on `feats`.
const MODELS: &[(&str, &str)] = &[
    (
        "logistic",
        "type = 'logistic_regression', label = 'active', features = 'channel,age,frequency,monetary', split = 'random:0.3', scale = 'standard', seed = 11",
    ),
    (
        "linear",
        "type = 'linear_regression', label = 'monetary', features = 'channel,age,frequency,recency_days', alpha = 0.5, split = 'random:0.3', seed = 11",
    ),
    (
        "clusters",
        "type = 'kmeans', k = 4, n_runs = 3, features = 'frequency,monetary,recency_days', scale = 'standard', seed = 11",
    ),
    (
        "tree",
        "type = 'decision_tree', label = 'active', features = 'channel,age,frequency,monetary', max_depth = 5, split = 'random:0.3', seed = 11",
    ),
    (
        "forest",
        "type = 'random_forest', label = 'active', features = 'channel,age,frequency,monetary', n_trees = 8, max_depth = 6, split = 'random:0.3', seed = 11",
    ),
    (
        "bayes",
        "type = 'naive_bayes', label = 'active', features = 'age,frequency,monetary', split = 'random:0.3', seed = 11",
    ),
    (
        "net",
        "type = 'mlp', label = 'active', features = 'channel,age,frequency,monetary', hidden_units = '8', epochs = 3, scale = 'standard', seed = 11",
    ),
    (
        "recs_als",
        "type = 'als', user_col = 'customer_id', item_col = 'channel', weight_col = 'frequency', factors = 4, iterations = 3, seed = 11",
    ),
    (
        "recs_repeat",
        "type = 'repeat_aware', user_col = 'customer_id', item_col = 'channel', weight_col = 'monetary', time_col = 'recency_days'",
    ),
    (
        "per_channel",
        "type = 'logistic_regression', label = 'active', features = 'age,frequency,monetary', partition_by = 'channel', scale = 'standard', seed = 11",
    ),
];

fn parquet_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            parquet_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "parquet") {
            out.push(p);
        }
    }
}

/// Trains every model and returns, per model, its parameter files (path relative to the
/// version folder, bytes) and its manifest's metrics and row counts.
async fn train(
    data: &Path,
    models: &Path,
    partitions: usize,
    order: &str,
) -> Vec<(String, Vec<(String, Vec<u8>)>, serde_json::Value)> {
    let s = session(models, partitions);
    s.register_data_dir(data).await.unwrap();
    run(&s, FEATURES).await;
    let mut out = vec![];
    for (name, options) in MODELS {
        run(
            &s,
            &format!("CREATE MODEL {name} OPTIONS ({options}) AS SELECT * FROM feats {order}"),
        )
        .await;
        let dir = models.join(format!("models/{name}/v000001"));
        let mut paths = vec![];
        parquet_files(&dir, &mut paths);
        paths.sort();
        assert!(!paths.is_empty(), "{name}: no parameter files in {dir:?}");
        let files = paths
            .iter()
            .map(|p| {
                let rel = p.strip_prefix(&dir).unwrap().display().to_string();
                (rel, std::fs::read(p).unwrap())
            })
            .collect();
        let t = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&t).unwrap();
        let summary = serde_json::json!({
            "metrics": v["metrics"], "rows": v["rows"], "partitions": v["partitions"]
        });
        out.push((name.to_string(), files, summary));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_model_for_any_partitioning_and_row_order() {
    let data = tempfile::tempdir().unwrap();
    cohort::gen::generate(data.path(), 3000, 5).unwrap();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    let one = train(data.path(), a.path(), 1, "").await;
    let four = train(data.path(), b.path(), 4, "").await;
    let shuffled = train(data.path(), c.path(), 3, "ORDER BY customer_id DESC").await;
    for ((x, y), z) in one.iter().zip(&four).zip(&shuffled) {
        let names: Vec<&str> = x.1.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            x.1, y.1,
            "{}: target_partitions 1 and 4 gave different parameter files {names:?}",
            x.0
        );
        assert_eq!(
            x.1, z.1,
            "{}: a different row order gave different parameter files {names:?}",
            x.0
        );
        assert_eq!(x.2, y.2, "{}: metrics differ across partition counts", x.0);
        assert_eq!(x.2, z.2, "{}: metrics differ across row orders", x.0);
    }
}
