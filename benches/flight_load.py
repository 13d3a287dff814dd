#!/usr/bin/env python3
"""Load on `cohort serve` from N concurrent ADBC clients: queries/s and latency percentiles.

Not a test: a measurement. It generates a shop with ~1M orders, starts `cohort serve` on a free
loopback port with a bearer token, trains a churn model through the server, then for each case
runs N client processes for T seconds and prints one line per case:

  (a) point      a prepared statement scoring one customer with predict_proba($1)
  (b) aggregate  revenue per channel over all orders (~1M rows)

Run (from the repo root, after `cargo build --release`):
  python3 -m venv /tmp/loadenv && /tmp/loadenv/bin/pip install -r tests/python/requirements.txt
  /tmp/loadenv/bin/python benches/flight_load.py --cohort target/release/cohort --clients 8 --seconds 20
"""
import argparse
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

TOKEN = "flight-load-token-1234"


def connect(uri):
    import adbc_driver_flightsql.dbapi as flight_sql
    from adbc_driver_flightsql import DatabaseOptions

    return flight_sql.connect(
        uri, db_kwargs={DatabaseOptions.AUTHORIZATION_HEADER.value: f"Bearer {TOKEN}"}, autocommit=True
    )


POINT = ("SELECT customer_id, predict_proba('load_churn', frequency, monetary, recency_days) AS p "
         "FROM load_features WHERE customer_id = $1")
AGGREGATE = ("SELECT c.channel, count(*) AS orders, sum(o.amount) AS revenue "
             "FROM orders o JOIN customers c ON c.customer_id = o.customer_id GROUP BY c.channel")


def worker(args):
    uri, case, seconds, n_customers, seed = args
    rng = random.Random(seed)
    conn = connect(uri)
    latencies = []
    with conn.cursor() as cur:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            if case == "point":
                cur.execute(POINT, [rng.randint(1, n_customers)])
            else:
                cur.execute(AGGREGATE)
            cur.fetch_arrow_table()
            latencies.append(time.perf_counter() - t)
    conn.close()
    return latencies


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cohort", default="target/release/cohort")
    ap.add_argument("--customers", type=int, default=140_000, help="about 7 orders each")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20)
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="cohort-load-")
    data = os.path.join(work, "shop")
    subprocess.run([a.cohort, "gen", "--out", data, "--customers", str(a.customers)], check=True)
    token_file = os.path.join(work, "token")
    with open(token_file, "w") as f:
        f.write(TOKEN)
    server = subprocess.Popen(
        [a.cohort, "--data", data, "--models", os.path.join(work, "models"), "serve",
         "--addr", "127.0.0.1:0", "--token-file", token_file],
        stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        uri = next(w for w in line.split() if w.startswith("grpc://"))
        conn = connect(uri)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM orders")
            n_orders = cur.fetch_arrow_table().column(0)[0].as_py()
            cur.execute(
                "CREATE VIEW load_features AS SELECT customer_id, count(*) AS frequency, sum(amount) AS monetary, "
                "CAST(DATE '2025-07-01' - CAST(max(order_ts) AS DATE) AS DOUBLE) AS recency_days, "
                "max(order_ts) >= TIMESTAMP '2025-04-01 00:00:00' AS active "
                "FROM orders WHERE order_ts < TIMESTAMP '2025-07-01 00:00:00' GROUP BY customer_id")
            cur.execute(
                "CREATE MODEL load_churn OPTIONS (type = 'logistic_regression', label = 'active', "
                "features = 'frequency,monetary,recency_days', scale = 'standard') AS SELECT * FROM load_features")
            cur.fetch_arrow_table()
        conn.close()
        print(f"server {uri}: {n_orders} orders, {a.customers} customers; {a.clients} clients x {a.seconds:.0f} s per case")
        print(f"{'case':<10} {'queries':>8} {'q/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
        with mp.get_context("spawn").Pool(a.clients) as pool:
            for case in ("point", "aggregate"):
                runs = pool.map(worker, [(uri, case, a.seconds, a.customers, i) for i in range(a.clients)])
                lat = sorted(x for r in runs for x in r)
                q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else lat * 99
                print(f"{case:<10} {len(lat):>8} {len(lat) / a.seconds:>8.1f} {q[49] * 1000:>8.1f} {q[98] * 1000:>8.1f}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
