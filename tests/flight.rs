//! The Flight SQL server with arrow-flight's Rust client: authentication, queries over generated
//! data, CREATE MODEL, scoring, ml_evaluate, a prepared statement with a parameter, errors that
//! leave the server up, catalog metadata, read-only mode, and 16 concurrent clients.

use std::net::SocketAddr;
use std::sync::Arc;

use arrow_flight::error::FlightError;
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{CommandGetDbSchemas, CommandGetTables};
use arrow_flight::FlightInfo;
use cohort::flight::{self, ServeOptions};
use cohort::CohortSession;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use futures::TryStreamExt;
use tonic::transport::{Channel, Endpoint};

const TOKEN: &str = "test-token-0123456789";

struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn start(read_only: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("shop");
    cohort::gen::generate(&data, 1500, 11).unwrap();
    let session = CohortSession::builder()
        .models_dir(dir.path().join("models"))
        .target_partitions(2)
        .build()
        .unwrap();
    session.register_data_dir(&data).await.unwrap();
    let listener = flight::bind("127.0.0.1:0".parse().unwrap(), true)
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let options = ServeOptions {
        token: Some(TOKEN.to_string()),
        read_only,
    };
    let done = tokio::spawn(async move {
        flight::serve(session, listener, options, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Server {
        addr,
        stop: Some(tx),
        done,
        _dir: dir,
    }
}

impl Server {
    async fn client(&self, token: Option<&str>) -> FlightSqlServiceClient<Channel> {
        let channel = Endpoint::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut c = FlightSqlServiceClient::new(channel);
        if let Some(t) = token {
            c.set_token(t.to_string());
        }
        c
    }
    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.done.await.unwrap();
    }
}

async fn fetch(
    c: &mut FlightSqlServiceClient<Channel>,
    info: FlightInfo,
) -> Result<RecordBatch, FlightError> {
    let schema = Arc::new(info.clone().try_decode_schema()?);
    let mut batches = vec![];
    for e in info.endpoint {
        let Some(t) = e.ticket else { continue };
        let got: Vec<RecordBatch> = c.do_get(t).await?.try_collect().await?;
        batches.extend(got);
    }
    Ok(concat_batches(&schema, &batches)?)
}

async fn query(
    c: &mut FlightSqlServiceClient<Channel>,
    sql: &str,
) -> Result<RecordBatch, FlightError> {
    let info = c.execute(sql.to_string(), None).await?;
    fetch(c, info).await
}

fn f64_at(b: &RecordBatch, col: usize, row: usize) -> f64 {
    let c = cast(b.column(col), &DataType::Float64).unwrap();
    c.as_primitive::<Float64Type>().value(row)
}

fn code(e: FlightError) -> tonic::Code {
    match e {
        FlightError::Tonic(s) => s.code(),
        other => panic!("expected a status, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flight_sql_end_to_end() {
    let server = start(false).await;

    // no token, a wrong token: refused before any SQL runs
    let mut anon = server.client(None).await;
    let e = query(&mut anon, "SELECT 1").await.unwrap_err();
    assert_eq!(code(e), tonic::Code::Unauthenticated);
    let mut wrong = server.client(Some("not-the-token")).await;
    let e = query(
        &mut wrong,
        "CREATE MODEL x OPTIONS (type = 'logistic_regression') AS SELECT 1",
    )
    .await
    .unwrap_err();
    assert_eq!(code(e), tonic::Code::Unauthenticated);

    let mut c = server.client(Some(TOKEN)).await;

    // catalog metadata: the generated tables are listed, with schemas
    let info = c
        .get_tables(CommandGetTables {
            include_schema: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let tables = fetch(&mut c, info).await.unwrap();
    let names = cast(
        tables.column_by_name("table_name").unwrap(),
        &DataType::Utf8,
    )
    .unwrap();
    let names: Vec<&str> = names.as_string::<i32>().iter().flatten().collect();
    for t in ["customers", "orders", "order_items", "events"] {
        assert!(names.contains(&t), "{t} missing from {names:?}");
    }
    let schemas = c
        .get_db_schemas(CommandGetDbSchemas::default())
        .await
        .unwrap();
    assert!(fetch(&mut c, schemas).await.unwrap().num_rows() >= 1);
    let catalogs = c.get_catalogs().await.unwrap();
    assert!(fetch(&mut c, catalogs).await.unwrap().num_rows() >= 1);

    // a query over the generated data
    let n = query(&mut c, "SELECT count(*) AS n FROM orders")
        .await
        .unwrap();
    assert!(f64_at(&n, 0, 0) > 3000.0);

    // a model, trained through the server
    query(&mut c, "CREATE VIEW feats AS SELECT o.customer_id, count(*) AS frequency, sum(o.amount) AS monetary,
                   CAST(max(o.order_ts) >= TIMESTAMP '2025-07-01 00:00:00' AS BOOLEAN) AS active
                   FROM orders o WHERE o.order_ts < TIMESTAMP '2025-10-01 00:00:00' GROUP BY o.customer_id").await.unwrap();
    let created = query(
        &mut c,
        "CREATE MODEL active OPTIONS (type = 'logistic_regression', label = 'active', features = 'frequency,monetary',
           split = 'hash:customer_id:0.3', scale = 'standard') AS SELECT * FROM feats",
    )
    .await
    .unwrap();
    assert_eq!(created.num_rows(), 1);
    let shown = query(&mut c, "SHOW MODELS").await.unwrap();
    assert_eq!(shown.num_rows(), 1);

    // scoring and stored metrics
    let p = query(&mut c, "SELECT min(p), max(p), count(*) FROM (SELECT predict_proba('active', frequency, monetary) AS p FROM feats)").await.unwrap();
    assert!(f64_at(&p, 0, 0) >= 0.0 && f64_at(&p, 1, 0) <= 1.0);
    let ev = query(&mut c, "SELECT roc_auc FROM ml_evaluate('active')")
        .await
        .unwrap();
    assert!(
        f64_at(&ev, 0, 0) > 0.6,
        "hold-out AUC {}",
        f64_at(&ev, 0, 0)
    );

    // a prepared statement with a bound parameter: a point lookup
    let mut stmt = c
        .prepare(
            "SELECT customer_id, predict_proba('active', frequency, monetary) AS p FROM feats WHERE customer_id = $1".to_string(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(stmt.parameter_schema().unwrap().fields().len(), 1);
    for id in [3i64, 7] {
        stmt.set_parameters(
            RecordBatch::try_from_iter([("$1", Arc::new(Int64Array::from(vec![id])) as ArrayRef)])
                .unwrap(),
        )
        .unwrap();
        let info = stmt.execute().await.unwrap();
        let got = fetch(&mut c, info).await.unwrap();
        assert_eq!(got.num_rows(), 1);
        assert_eq!(f64_at(&got, 0, 0), id as f64);
    }

    // an SQL error comes back as an error with DataFusion's message; the server stays up
    let e = query(&mut c, "SELECT nope FROM nowhere").await.unwrap_err();
    let FlightError::Tonic(s) = e else {
        panic!("not a status")
    };
    assert_eq!(s.code(), tonic::Code::InvalidArgument);
    assert!(s.message().contains("nowhere"), "{}", s.message());
    let e = query(
        &mut c,
        "SELECT predict_proba('active', frequency) FROM feats",
    )
    .await
    .unwrap_err();
    assert!(
        format!("{e}").contains("expected 2 (frequency, monetary)"),
        "{e}"
    );
    assert_eq!(
        f64_at(&query(&mut c, "SELECT 41 + 1").await.unwrap(), 0, 0),
        42.0
    );

    // 16 clients x 50 queries at once: no errors, right answers
    let expected = f64_at(
        &query(
            &mut c,
            "SELECT sum(amount) FROM orders WHERE customer_id % 16 = 5",
        )
        .await
        .unwrap(),
        0,
        0,
    );
    let mut tasks = vec![];
    for k in 0..16i64 {
        let mut client = server.client(Some(TOKEN)).await;
        tasks.push(tokio::spawn(async move {
            let mut sums = vec![];
            for i in 0..50i64 {
                let r = (k + i) % 16;
                let b = query(
                    &mut client,
                    &format!(
                        "SELECT {r} AS r, sum(amount) FROM orders WHERE customer_id % 16 = {r}"
                    ),
                )
                .await?;
                sums.push((r, f64_at(&b, 1, 0)));
            }
            Ok::<_, FlightError>(sums)
        }));
    }
    let mut answers = 0;
    for t in tasks {
        for (r, s) in t.await.unwrap().unwrap() {
            if r == 5 {
                assert!(
                    (s - expected).abs() < 1e-6 * expected.abs(),
                    "{s} vs {expected}"
                );
            }
            answers += 1;
        }
    }
    assert_eq!(answers, 800);

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_writes() {
    let server = start(true).await;
    let mut c = server.client(Some(TOKEN)).await;
    for sql in [
        "CREATE MODEL m OPTIONS (type = 'logistic_regression', label = 'y') AS SELECT 1 AS x, true AS y",
        "CREATE TABLE t AS SELECT 1",
        "DROP MODEL IF EXISTS m",
        "COPY (SELECT 1) TO '/tmp/cohort-read-only-test.csv'",
        "SET datafusion.execution.batch_size = 100",
    ] {
        let e = query(&mut c, sql).await.unwrap_err();
        assert!(format!("{e}").contains("--read-only"), "{sql}: {e}");
    }
    // queries, scoring functions and metrics still work
    let b = query(
        &mut c,
        "SELECT count(*), roc_auc(amount / 1000.0, n_items > 2) FROM orders",
    )
    .await
    .unwrap();
    assert!(f64_at(&b, 0, 0) > 0.0);
    let b = query(&mut c, "SHOW MODELS").await.unwrap();
    assert_eq!(b.num_rows(), 0);
    let _ = b.column(0).len();
    server.stop().await;
}
