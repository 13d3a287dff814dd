//! The same CREATE MODEL gives bit-identical parameter files whatever the partition count and
//! the order in which rows arrive.

mod common;

use std::path::Path;

use common::{run, session};

const FEATURES: &str = "CREATE OR REPLACE VIEW feats AS
  SELECT o.customer_id, c.channel, c.age, count(*) AS frequency, sum(o.amount) AS monetary,
         CAST(DATE '2025-07-01' - CAST(max(o.order_ts) AS DATE) AS DOUBLE) AS recency_days,
         max(o.order_ts) >= TIMESTAMP '2025-04-01 00:00:00' AS active
  FROM orders o JOIN customers c ON c.customer_id = o.customer_id
  WHERE o.order_ts < TIMESTAMP '2025-07-01 00:00:00'
  GROUP BY o.customer_id, c.channel, c.age";

async fn train(
    data: &Path,
    models: &Path,
    partitions: usize,
    order: &str,
) -> Vec<(String, Vec<u8>)> {
    let s = session(models, partitions);
    s.register_data_dir(data).await.unwrap();
    run(&s, FEATURES).await;
    run(&s, &format!(
        "CREATE MODEL det OPTIONS (type = 'logistic_regression', label = 'active', features = 'channel,age,frequency,monetary',
           split = 'random:0.3', scale = 'standard', seed = 11) AS SELECT * FROM feats {order}"
    ))
    .await;
    let dir = models.join("models/det/v000001");
    let mut files = vec![];
    for f in ["weights.parquet", "preprocessing.parquet"] {
        files.push((f.to_string(), std::fs::read(dir.join(f)).unwrap()));
    }
    files
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
    assert_eq!(
        one, four,
        "target_partitions 1 and 4 gave different parameter files"
    );
    assert_eq!(
        one, shuffled,
        "a different row order gave different parameter files"
    );
    let manifest = |d: &Path| {
        let t = std::fs::read_to_string(d.join("models/det/v000001/manifest.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&t).unwrap();
        (v["metrics"].clone(), v["rows"].clone())
    };
    assert_eq!(manifest(a.path()), manifest(b.path()));
}
