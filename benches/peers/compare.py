"""Side-by-side benchmark of cohort against DuckDB and scikit-learn on one machine, in one run.

Run through benches/peers/run.sh (it builds cohort in release and makes the Python
environment). Every case runs cohort and its peer alternately, `--reps` times each, each in a
fresh process; reported are the median in-engine time (cohort: the measured statement's wall
time from `cohort run --timing`; peers: time.perf_counter around the query, fit or scoring),
the median whole-process time, the peak RSS (wait4's ru_maxrss) and result checks, so that a
fast wrong answer cannot pass. Ratios are cohort / peer: below 1 means cohort is faster.
"""

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
FEATURES = [f"f{j}" for j in range(10)]
TRUE_W = np.array([0.8, -0.5, 0.3, 0.0, 0.2, -0.7, 0.1, 0.4, -0.2, 0.05])
TRUE_B = -0.3
AS_OF = "DATE '2030-01-01'"


# ---------------------------------------------------------------- data


def labelled(rng, rows, first_id):
    x = rng.standard_normal((rows, 10))
    p = 1.0 / (1.0 + np.exp(-(x @ TRUE_W + TRUE_B)))
    y = rng.random(rows) < p
    cols = {"id": np.arange(first_id, first_id + rows, dtype=np.int64)}
    cols.update({f: x[:, j] for j, f in enumerate(FEATURES)})
    cols["y"] = y
    return pa.table(cols)


def write_labelled(path, rows, seed, chunk=1_000_000):
    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, rows, chunk):
        t = labelled(rng, min(chunk, rows - start), start)
        if writer is None:
            writer = pq.ParquetWriter(path, t.schema)
        writer.write_table(t, row_group_size=256 * 1024)
    writer.close()


def write_clusters(data_path, init_path, rows, k, seed):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, (k, 4))
    which = rng.integers(0, k, rows)
    x = centres[which] + rng.standard_normal((rows, 4)) * rng.uniform(0.5, 2.0, k)[which, None]
    cols = [f"c{j}" for j in range(4)]
    pq.write_table(pa.table({c: x[:, j] for j, c in enumerate(cols)}), data_path,
                   row_group_size=256 * 1024)
    # A fixed initialisation both sides start from: k data points drawn from the seed.
    init = x[rng.choice(rows, k, replace=False)]
    pq.write_table(pa.table({c: init[:, j] for j, c in enumerate(cols)}), init_path)


def write_interactions(path, users, items, rows, seed):
    """(user_id, item_id, n): users pick items with a power-law popularity; duplicate pairs
    are summed into n."""
    rng = np.random.default_rng(seed)
    pop = 1.0 / np.arange(1, items + 1) ** 0.8
    pop /= pop.sum()
    u = rng.integers(0, users, rows)
    i = rng.choice(items, rows, p=pop)
    key = np.unique(u.astype(np.int64) * items + i, return_counts=True)
    pq.write_table(pa.table({"user_id": key[0] // items, "item_id": key[0] % items,
                             "n": key[1].astype(np.float64)}), path)


def write_sales(train_path, holdout_path, series, days, holdout, seed):
    """Daily unit sales of `series` SKUs over `days` days: a log-normal level, a weekly
    season (multiplicative for half the SKUs, additive for the others) of random shape and
    amplitude, a mild linear trend (-30%..+30% a year), Poisson noise for half the SKUs and
    normal noise (CV 5-25%) for the others, floored at 1 unit so every series is positive
    (multiplicative ETS models are candidates on both sides). The last `holdout` days go to
    `holdout_path`, the rest to `train_path` (sku BIGINT, day DATE, units DOUBLE)."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    level = 5.0 + rng.lognormal(np.log(20.0), 0.9, series)
    growth = rng.uniform(-0.3, 0.3, series)
    base = level[:, None] * (1.0 + growth[:, None] * t[None, :] / 365.0)
    shape = rng.standard_normal((series, 7))
    shape -= shape.mean(axis=1, keepdims=True)
    shape /= np.abs(shape).max(axis=1, keepdims=True)
    amp = rng.uniform(0.1, 0.5, series)
    week = shape[:, t % 7] * amp[:, None]
    multiplicative = rng.random(series) < 0.5
    mu = np.where(multiplicative[:, None], base * (1.0 + week), base + level[:, None] * week)
    poisson = rng.random(series) < 0.5
    cv = rng.uniform(0.05, 0.25, series)
    noisy = np.where(poisson[:, None], rng.poisson(np.maximum(mu, 0.0)).astype(np.float64),
                     mu + rng.standard_normal(mu.shape) * cv[:, None] * mu)
    units = np.maximum(noisy, 1.0)
    start = np.datetime64("2025-01-01")
    sku = np.repeat(np.arange(1, series + 1, dtype=np.int64), days)
    day = np.tile(start + t, series)
    cut = days - holdout
    keep = np.tile(t < cut, series)
    for path, rows in ((train_path, keep), (holdout_path, ~keep)):
        pq.write_table(pa.table({"sku": sku[rows], "day": pa.array(day[rows], pa.date32()),
                                 "units": units.reshape(-1)[rows]}), path)
    return int((noisy < 1.0).sum())


def prepare_forecast(args, work):
    root = work / "forecast"
    data = root / "data"
    marker = root / f"ready-{args.fc_series}-{args.fc_days}-{args.fc_horizon}"
    if marker.exists():
        print(f"data: reusing {data}")
        return root
    data.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    floored = write_sales(data / "sales.parquet", root / "holdout.parquet", args.fc_series,
                          args.fc_days, args.fc_horizon, 6)
    print(f"data: sales {args.fc_series:,} series x {args.fc_days} days "
          f"({floored:,} values floored at 1): {time.perf_counter() - t:.1f} s")
    marker.touch()
    return root


def prepare(args, work):
    shop = work / "shop"
    marker = work / (f"ready-{args.customers}-{args.feature_rows}-{args.score_rows}-"
                     f"{args.rec_users}-{args.rec_items}-{args.rec_rows}")
    if marker.exists():
        print(f"data: reusing {shop}")
        return shop
    shop.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    subprocess.run([args.cohort, "gen", "--out", str(shop), "--customers", str(args.customers),
                    "--seed", "42"], check=True, stdout=subprocess.DEVNULL)
    print(f"data: cohort gen --customers {args.customers}: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    write_labelled(shop / "feat_train.parquet", args.feature_rows, 1)
    write_labelled(shop / "feat_test.parquet", 200_000, 2)
    write_labelled(shop / "score.parquet", args.score_rows, 3)
    write_clusters(shop / "clust.parquet", shop / "clust_init.parquet", args.feature_rows, 8, 4)
    write_interactions(shop / "interactions.parquet", args.rec_users, args.rec_items,
                       args.rec_rows, 5)
    print(f"data: feature tables: {time.perf_counter() - t:.1f} s")
    marker.touch()
    return shop


# ---------------------------------------------------------------- running


CPU = {}


def run_process(cmd):
    """Runs cmd; returns (wall seconds, peak RSS in MiB, stdout, stderr). The peak RSS comes
    from /usr/bin/time (a child forked from this Python process would report this process's
    RSS at fork as its own peak); its user + system CPU seconds (reaped worker processes
    included) are left in CPU["last"]."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as rss:
        t = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", rss.name, *map(str, cmd)],
                           stdout=out, stderr=err)
        wall = time.perf_counter() - t
        out.seek(0)
        err.seek(0)
        so, se = out.read().decode(), err.read().decode()
        if p.returncode != 0:
            sys.exit(f"failed ({p.returncode}): {' '.join(map(str, cmd))}\n{se}\n{so}")
        kib, user, system = rss.read().strip().splitlines()[-1].split()
        kib = int(kib)
        CPU["last"] = float(user) + float(system)
    return wall, kib / 1024.0, so, se


def tables(stdout):
    """The result tables cohort printed, each a list of dicts (values as text)."""
    found, block = [], []
    for line in stdout.splitlines() + [""]:
        starts_new = line.startswith("+") and block and block[-1].startswith("+") and len(block) > 1
        if starts_new or not (line.startswith("+") or line.startswith("|")):
            if block:
                rows = [[c.strip() for c in l.strip("|").split("|")] for l in block if l.startswith("|")]
                if rows:
                    found.append([dict(zip(rows[0], r)) for r in rows[1:]])
            block = [line] if starts_new else []
        else:
            block.append(line)
    return found


class Cohort:
    def __init__(self, binary, shop, models):
        self.binary, self.shop, self.models = binary, shop, models

    def run(self, statements, measured):
        """Runs the statements as one script; returns (engine s of statement `measured`
        (1-based; a list: the sum of those statements), process s, RSS MiB, the last result
        table). Every statement's time is left in self.times."""
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
            f.write(";\n".join(statements) + ";\n")
            script = f.name
        try:
            wall, rss, so, se = run_process([self.binary, "--data", self.shop, "--models",
                                             self.models, "run", "--timing", script])
        finally:
            os.unlink(script)
        times = {int(m.group(1)): float(m.group(2))
                 for m in re.finditer(r"statement (\d+) \(line \d+\): ([0-9.]+) s", se)}
        result = tables(so)
        self.times = times
        engine = sum(times[i] for i in measured) if isinstance(measured, list) else times[measured]
        return engine, wall, rss, (result[-1] if result else [])


def peer(args, *case):
    wall, rss, so, _ = run_process([sys.executable, HERE / "peers.py", *case])
    line = json.loads(so.strip().splitlines()[-1])
    return line["engine_seconds"], wall, rss, line["check"]


class Results:
    def __init__(self):
        self.rows = []

    def add(self, case, peer_name, cohort_runs, peer_runs, check, ok):
        med = lambda runs, i: statistics.median(r[i] for r in runs)
        row = {
            "case": case, "peer": peer_name,
            "cohort_s": med(cohort_runs, 0), "peer_s": med(peer_runs, 0),
            "cohort_process_s": med(cohort_runs, 1), "peer_process_s": med(peer_runs, 1),
            "cohort_rss_mib": max(r[2] for r in cohort_runs),
            "peer_rss_mib": max(r[2] for r in peer_runs),
            "check": check, "ok": ok,
        }
        row["ratio"] = row["cohort_s"] / row["peer_s"]
        self.rows.append(row)
        print(f"  {case}: cohort {row['cohort_s']:.3f} s, {peer_name} {row['peer_s']:.3f} s, "
              f"ratio {row['ratio']:.2f}; {check}{'' if ok else '  CHECK FAILED'}", flush=True)

    def markdown(self):
        out = ["| case | cohort s | peer | peer s | ratio | cohort process s | peer process s "
               "| cohort RSS MiB | peer RSS MiB | check |",
               "|---|---:|---|---:|---:|---:|---:|---:|---:|---|"]
        for r in self.rows:
            out.append(f"| {r['case']} | {r['cohort_s']:.3f} | {r['peer']} | {r['peer_s']:.3f} | "
                       f"{r['ratio']:.2f} | {r['cohort_process_s']:.2f} | {r['peer_process_s']:.2f} | "
                       f"{r['cohort_rss_mib']:.0f} | {r['peer_rss_mib']:.0f} | "
                       f"{r['check']}{'' if r['ok'] else ' **FAILED**'} |")
        return "\n".join(out)


def alternate(reps, cohort_fn, peer_fn):
    c, p = [], []
    for i in range(reps):
        # alternate which side goes first, so neither always runs on a warmer cache
        if i % 2 == 0:
            c.append(cohort_fn()); p.append(peer_fn())
        else:
            p.append(peer_fn()); c.append(cohort_fn())
    return c, p


def close(a, b, rel):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


# ---------------------------------------------------------------- cases


def groupby_sql(orders, where=""):
    return ("SELECT count(*) AS customers, sum(frequency) AS frequency, sum(monetary) AS monetary FROM ("
            "SELECT customer_id, CAST(max(order_ts) AS DATE) AS last_date, count(*) AS frequency, "
            "sum(CAST(amount AS DECIMAL(38, 9))) AS monetary "
            f"FROM {orders} WHERE CAST(order_ts AS DATE) <= {AS_OF}{where} GROUP BY customer_id) a")


def rfm_checks(inner):
    return ("SELECT count(*) AS customers, sum(recency_days) AS recency, sum(frequency) AS frequency, "
            f"sum(monetary) AS monetary, sum(rfm_cell) AS cells FROM {inner}")


def duckdb_rfm_sql(orders, where=""):
    # The query cohort's rfm() expands to (src/functions/rfm.rs), written for DuckDB.
    return rfm_checks(
        "(WITH agg AS (SELECT customer_id AS customer, CAST(max(order_ts) AS DATE) AS last_date, "
        "count(*) AS frequency, COALESCE(CAST(sum(CAST(amount AS DECIMAL(38, 9))) AS DOUBLE), 0.0) AS monetary "
        f"FROM {orders} WHERE CAST(order_ts AS DATE) <= {AS_OF}{where} GROUP BY customer_id), "
        f"scored AS (SELECT customer, CAST({AS_OF} - last_date AS BIGINT) AS recency_days, frequency, monetary, "
        f"CAST(ntile(5) OVER (ORDER BY {AS_OF} - last_date DESC, customer ASC) AS INT) AS r_score, "
        "CAST(ntile(5) OVER (ORDER BY frequency ASC, customer ASC) AS INT) AS f_score, "
        "CAST(ntile(5) OVER (ORDER BY monetary ASC, customer ASC) AS INT) AS m_score FROM agg) "
        "SELECT recency_days, frequency, monetary, 100 * r_score + 10 * f_score + m_score AS rfm_cell FROM scored) s")


def check_equal(c, p, keys, rel=1e-9):
    bad = [k for k in keys if not close(float(c[k]), float(p[k]), rel)]
    text = ", ".join(f"{k} {float(c[k]):.10g}" for k in keys)
    return (f"equal: {text}" if not bad else
            "differ: " + ", ".join(f"{k} {c[k]} vs {p[k]}" for k in bad)), not bad


def case_rfm(args, co, res, shop, threads, label="", where_cohort="", where_duck=""):
    orders = f"read_parquet('{shop / 'orders.parquet'}')"
    view = [f"CREATE OR REPLACE VIEW o AS SELECT * FROM orders WHERE true{where_cohort}"]
    # (a) the aggregation alone, the same SQL in both
    if not label:
        c, p = alternate(args.reps,
                         lambda: co.run(view + [groupby_sql("o")], 2),
                         lambda: peer(args, "duckdb", groupby_sql(orders, where_duck), threads))
        text, ok = check_equal(c[0][3][0], p[0][3], ["customers", "frequency", "monetary"])
        res.add("(a) RFM aggregation, GROUP BY customer", "DuckDB", c, p, text, ok)
    # (b) rfm() with NTILE scores vs the same query in DuckDB
    c, p = alternate(args.reps if not label else 1,
                     lambda: co.run(view + [rfm_checks(f"rfm('o', 'customer_id', 'order_ts', 'amount', {AS_OF})")], 2),
                     lambda: peer(args, "duckdb", duckdb_rfm_sql(orders, where_duck), threads))
    text, ok = check_equal(c[0][3][0], p[0][3], ["customers", "recency", "frequency", "monetary", "cells"])
    res.add(label or "(b) rfm() with NTILE scores", "DuckDB", c, p, text, ok)
    return c, p


def logistic_statements(source):
    f = ", ".join(FEATURES)
    return [f"CREATE OR REPLACE MODEL lr OPTIONS (type = 'logistic_regression', label = 'y', "
            f"features = '{','.join(FEATURES)}') AS SELECT {f}, y FROM {source}",
            f"SELECT roc_auc(predict_proba('lr', {f}), y) AS auc FROM feat_test"]


def case_logistic(args, co, res, shop, rows=None, label=None, source="feat_train", train=None):
    train = train or shop / "feat_train.parquet"
    c, p = alternate(args.reps if label is None else 1,
                     lambda: co.run(logistic_statements(source), 1),
                     lambda: peer(args, "logistic", train, shop / "feat_test.parquet", rows or 0))
    auc_c, auc_p = float(c[0][3][0]["auc"]), p[0][3]["auc"]
    ok = abs(auc_c - auc_p) <= 0.002
    res.add(label or f"(c) logistic regression fit {args.feature_rows:,} x 10", "scikit-learn lbfgs",
            c, p, f"hold-out AUC {auc_c:.6f} vs {auc_p:.6f} ({p[0][3]['iterations']} sklearn iterations)", ok)
    return c, p


def case_score(args, co, res, shop):
    # the weights of the model case (c) left in the store
    _, _, _, w = co.run(["SELECT feature, weight FROM ml_weights('lr')"], 1)
    weights = {r["feature"]: float(r["weight"]) for r in w}
    f = ", ".join(FEATURES)
    udf = f"SELECT count(*) AS rows, sum(predict_proba('lr', {f})) AS sum_p FROM score"
    formula = " + ".join([repr(weights["(intercept)"])] + [f"{repr(weights[x])} * {x}" for x in FEATURES])
    inline = f"SELECT count(*) AS rows, sum(1.0 / (1.0 + exp(-({formula})))) AS sum_p FROM score"
    c, i = alternate(args.reps, lambda: co.run([udf], 1), lambda: co.run([inline], 1))
    ci, ii = c[0][3][0], i[0][3][0]
    ok = int(ci["rows"]) == int(ii["rows"]) and close(float(ci["sum_p"]), float(ii["sum_p"]), 1e-9)
    res.add(f"(d) predict_proba over {args.score_rows:,} rows", "cohort inline SQL formula", c, i,
            f"rows {ci['rows']}, sum p {float(ci['sum_p']):.6f} vs {float(ii['sum_p']):.6f}", ok)
    s = [peer(args, "score", shop / "score.parquet", json.dumps(weights)) for _ in range(args.reps)]
    ok = int(ci["rows"]) == s[0][3]["rows"] and close(float(ci["sum_p"]), s[0][3]["sum_p"], 1e-9)
    res.add(f"(d) predict_proba over {args.score_rows:,} rows", "scikit-learn predict_proba (in memory)",
            c, s, f"sum p {float(ci['sum_p']):.6f} vs {s[0][3]['sum_p']:.6f}", ok)


def case_kmeans(args, co, res, shop):
    stmts = ["CREATE OR REPLACE MODEL km OPTIONS (type = 'kmeans', k = 8, "
             "init = 'query:SELECT c0, c1, c2, c3 FROM clust_init', max_iterations = 300, tolerance = 1e-4) "
             "AS SELECT c0, c1, c2, c3 FROM clust",
             "SELECT inertia FROM ml_evaluate('km')"]
    c, p = alternate(args.reps, lambda: co.run(stmts, 1),
                     lambda: peer(args, "kmeans", shop / "clust.parquet", shop / "clust_init.parquet"))
    ic, ip = float(c[0][3][0]["inertia"]), p[0][3]["inertia"]
    ok = close(ic, ip, 1e-4)
    res.add(f"(e) k-means k = 8 on {args.feature_rows:,} x 4", "scikit-learn KMeans (lloyd, same init, tol 0)",
            c, p, f"inertia {ic:.6f} vs {ip:.6f} ({p[0][3]['iterations']} sklearn iterations)", ok)


def case_als(args, co, res, shop):
    pairs = pq.ParquetFile(shop / "interactions.parquet").metadata.num_rows
    fit = ["CREATE OR REPLACE MODEL als OPTIONS (type = 'als', user_col = 'user_id', item_col = 'item_id', "
           "weight_col = 'n', factors = 64, iterations = 15, regularization = 0.01, alpha = 1.0, seed = 42) "
           "AS SELECT * FROM interactions"]
    rec = ["SELECT count(*) AS rows, count(DISTINCT user_id) AS users FROM recommend('als', 10)"]
    c, p = alternate(1, lambda: co.run(fit, 1),
                     lambda: peer(args, "als_fit", shop / "interactions.parquet"))
    res.add(f"(h) ALS fit, 64 factors x 15 iterations, {args.rec_users:,} users x {args.rec_items:,} "
            f"items x {pairs:,} pairs", "implicit (CG)", c, p, "same hyper-parameters", True)
    c, p = alternate(1, lambda: co.run(rec, 1),
                     lambda: peer(args, "als_recommend", shop / "interactions.parquet"))
    rows_c, rows_p = int(c[0][3][0]["rows"]), p[0][3]["rows"]
    res.add("(h) recommend top 10 for every user", "implicit recommend (batch)", c, p,
            f"rows {rows_c} vs {rows_p}", rows_c == rows_p)


def series_matrix(path, value, series, days):
    """Column `value` of a (sku, day, ...) Parquet file as a series x days matrix, rows in sku
    order, columns in day order; also the first day of each row (checks the horizon)."""
    t = pq.read_table(path).sort_by([("sku", "ascending"), ("day", "ascending")])
    sku = t.column("sku").to_numpy()
    day = t.column("day").cast(pa.int32()).to_numpy()
    if len(sku) != series * days or not (sku.reshape(series, days) == sku[::days, None]).all():
        raise ValueError(f"{path}: expected {days} rows for each of {series} series, got {len(sku)} rows")
    d = day.reshape(series, days)
    if not (np.diff(d, axis=1) == 1).all():
        raise ValueError(f"{path}: days are not consecutive within every series")
    return sku[::days], d[:, 0], t.column(value).to_numpy().reshape(series, days)


def accuracy(train, actual, fc, m=7):
    """Per-series MASE (scale: in-sample mean |y_t - y_{t-m}| of the training days) and sMAPE
    (M4: 200 |y - f| / (|y| + |f|), in %) of the forecast matrix against the held-out days."""
    scale = np.abs(train[:, m:] - train[:, :-m]).mean(axis=1)
    err = np.abs(actual - fc)
    mase = err.mean(axis=1) / scale
    smape = (200.0 * err / (np.abs(actual) + np.abs(fc))).mean(axis=1)
    return mase, smape


def case_forecast(args, res, root, work):
    n, h, days = args.fc_series, args.fc_horizon, args.fc_days
    data, holdout = root / "data", root / "holdout.parquet"
    stmts = ["CREATE MODEL demand OPTIONS (type = 'forecast', time_col = 'day', value_col = 'units', "
             f"series_col = 'sku', season_length = 7, horizon = {h}, method = 'ets', backtest = false) "
             "AS SELECT sku, day, units FROM sales",
             f"COPY (SELECT * FROM forecast('demand')) TO '{root / 'cohort_forecast.parquet'}' "
             "STORED AS PARQUET"]
    breakdown, cpu_c, cpu_p = [], [], []

    def cohort_once():
        models = root / "models"
        shutil.rmtree(models, ignore_errors=True)
        co = Cohort(args.cohort, data, models)
        r = co.run(stmts, [1, 2])
        breakdown.append((co.times[1], co.times[2]))
        cpu_c.append(CPU["last"])
        return r

    def peer_once():
        specs = root / "sf_specs"
        shutil.rmtree(specs, ignore_errors=True)
        specs.mkdir()
        r = peer(args, "ets", data / "sales.parquet", h, args.fc_jobs,
                 root / "sf_forecast.parquet", specs)
        cpu_p.append(CPU["last"])
        return r

    c, p = alternate(args.fc_reps, cohort_once, peer_once)
    print(f"  forecast: cohort CREATE MODEL {statistics.median(b[0] for b in breakdown):.3f} s + "
          f"forecast() {statistics.median(b[1] for b in breakdown):.3f} s (medians); "
          f"statsforecast {p[0][3]['version']}, n_jobs = {args.fc_jobs}; process CPU s (user + "
          f"system) cohort {statistics.median(cpu_c):.1f}, statsforecast {statistics.median(cpu_p):.1f}",
          flush=True)

    # ---- checks and accuracy: the forecasts of the last repetition of each side
    skus, _, y_train = series_matrix(data / "sales.parquet", "units", n, days - h)
    _, first_out, y_out = series_matrix(holdout, "units", n, h)
    cf = pq.read_table(root / "cohort_forecast.parquet").rename_columns(
        ["sku", "day", "forecast", "lower", "upper"])
    cf = cf.set_column(0, "sku", cf.column("sku").cast(pa.int64()))
    pq.write_table(cf, root / "cohort_forecast_norm.parquet")
    problems = []
    sk_c, first_c, f_c = series_matrix(root / "cohort_forecast_norm.parquet", "forecast", n, h)
    _, _, lo_c = series_matrix(root / "cohort_forecast_norm.parquet", "lower", n, h)
    _, _, hi_c = series_matrix(root / "cohort_forecast_norm.parquet", "upper", n, h)
    sk_p, first_p, f_p = series_matrix(root / "sf_forecast.parquet", "forecast", n, h)
    _, _, lo_p = series_matrix(root / "sf_forecast.parquet", "lower", n, h)
    _, _, hi_p = series_matrix(root / "sf_forecast.parquet", "upper", n, h)
    for name, sk, first in (("cohort", sk_c, first_c), ("statsforecast", sk_p, first_p)):
        if not (sk == skus).all() or not (first == first_out).all():
            problems.append(f"{name}: series or horizon days differ from the hold-out")
    for name, f, lo, hi in (("cohort", f_c, lo_c, hi_c), ("statsforecast", f_p, lo_p, hi_p)):
        bad = ~np.isfinite(f) | ~np.isfinite(lo) | ~np.isfinite(hi)
        if bad.any():
            problems.append(f"{name}: {int(bad.any(axis=1).sum())} series with non-finite values, "
                            f"e.g. sku {int(skus[bad.any(axis=1)][0])}")
        if ((lo > f + 1e-9) | (f > hi + 1e-9)).any():
            problems.append(f"{name}: lower <= forecast <= upper fails")
    mase_c, smape_c = accuracy(y_train, y_out, f_c)
    mase_p, smape_p = accuracy(y_train, y_out, f_p)
    cover_c = float(((y_out >= lo_c) & (y_out <= hi_c)).mean())
    cover_p = float(((y_out >= lo_p) & (y_out <= hi_p)).mean())
    # statsforecast's chosen models, keyed by the SHA-1 of the series (peers.record_ets_specs)
    by_hash = {}
    for f in (root / "sf_specs").glob("*.tsv"):
        for line in f.read_text().splitlines():
            key, method = line.split("\t")
            by_hash[key] = method[4:-1].replace(",", "")  # ETS(M,Ad,A) -> MAdA
    spec_p = {int(k): by_hash.get(hashlib.sha1(np.ascontiguousarray(y_train[i]).tobytes()).hexdigest())
              for i, k in enumerate(skus)}
    if sum(v is not None for v in spec_p.values()) != n:
        problems.append(f"statsforecast's model is known for {sum(v is not None for v in spec_p.values())} "
                        f"of {n} series")
    stored = sorted((root / "models").rglob("forecast.parquet"))
    ct = pq.read_table(stored[-1], columns=["series", "spec", "method"])
    spec_c = {int(k): (sp or meth) for k, sp, meth in
              zip(ct.column("series").to_pylist(), ct.column("spec").to_pylist(),
                  ct.column("method").to_pylist())}
    same = np.array([spec_c.get(int(k)) == spec_p.get(int(k)) for k in skus])
    counts_c, counts_p = {}, {}
    for k in skus:
        counts_c[spec_c.get(int(k))] = counts_c.get(spec_c.get(int(k)), 0) + 1
        counts_p[spec_p.get(int(k))] = counts_p.get(spec_p.get(int(k)), 0) + 1
    mc, mp = float(np.nanmean(mase_c)), float(np.nanmean(mase_p))
    sc, sp = float(np.nanmean(smape_c)), float(np.nanmean(smape_p))
    within = abs(mc - mp) <= args.fc_mase_tol * mp
    if not within:
        problems.append(f"mean MASE {mc:.4f} vs {mp:.4f}: more than {args.fc_mase_tol:.0%} apart")
    ok = not problems
    # the series where the two disagree most, and any series forecast far off by either side
    rel = np.abs(f_c - f_p).mean(axis=1) / np.abs(f_p).mean(axis=1)
    worst = np.argsort(-rel)[:5]
    detail = {
        "mase": [mc, mp], "smape": [sc, sp],
        "median_mase": [float(np.median(mase_c)), float(np.median(mase_p))],
        "coverage95": [cover_c, cover_p], "same_spec_share": float(same.mean()),
        "series_rel_diff_over_1e-6": int((rel > 1e-6).sum()),
        "mean_rel_forecast_diff": float(rel.mean()), "median_rel_forecast_diff": float(np.median(rel)),
        "series_rel_diff_over_10pct": int((rel > 0.10).sum()),
        "mase_over_3": [int((mase_c > 3).sum()), int((mase_p > 3).sum())],
        "specs_cohort": dict(sorted(((str(k), v) for k, v in counts_c.items()), key=lambda kv: -kv[1])),
        "specs_statsforecast": dict(sorted(((str(k), v) for k, v in counts_p.items()), key=lambda kv: -kv[1])),
        "cohort_statement_s": breakdown, "process_cpu_s": [cpu_c, cpu_p],
        "most_different": [{"sku": int(skus[i]), "rel_diff": float(rel[i]),
                            "spec": [spec_c.get(int(skus[i])), spec_p.get(int(skus[i]))],
                            "mase": [float(mase_c[i]), float(mase_p[i])],
                            "mean_forecast": [float(f_c[i].mean()), float(f_p[i].mean())],
                            "mean_actual": float(y_out[i].mean()),
                            "mean_last_28_train": float(y_train[i, -h:].mean())} for i in worst],
        "problems": problems,
    }
    (work / "forecast_accuracy.json").write_text(json.dumps(detail, indent=1))
    print(f"  forecast: MASE {mc:.4f} vs {mp:.4f}, sMAPE {sc:.3f}% vs {sp:.3f}%, 95% coverage "
          f"{cover_c:.3f} vs {cover_p:.3f}, same ETS model {same.mean():.1%}, mean relative "
          f"forecast difference {rel.mean():.2%}; {problems or 'checks pass'}", flush=True)
    res.add(f"(i) AutoETS fit + forecast {h} days, {n:,} daily series x {days - h} days",
            f"statsforecast {p[0][3]['version']} AutoETS (n_jobs = {args.fc_jobs})", c, p,
            f"hold-out MASE {mc:.4f} vs {mp:.4f}, sMAPE {sc:.2f}% vs {sp:.2f}%, same model "
            f"{same.mean():.1%}" + ("" if ok else "; " + "; ".join(problems)), ok)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cohort", required=True)
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--customers", type=int, default=1_400_000)
    ap.add_argument("--feature-rows", type=int, default=1_000_000)
    ap.add_argument("--score-rows", type=int, default=10_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rec-users", type=int, default=100_000)
    ap.add_argument("--rec-items", type=int, default=20_000)
    ap.add_argument("--rec-rows", type=int, default=2_000_000)
    ap.add_argument("--fc-series", type=int, default=10_000)
    ap.add_argument("--fc-days", type=int, default=365, help="days per series, hold-out included")
    ap.add_argument("--fc-horizon", type=int, default=28, help="held-out days, forecast by both")
    ap.add_argument("--fc-reps", type=int, default=3, help="repetitions of the forecast case")
    ap.add_argument("--fc-jobs", type=int, default=os.cpu_count(), help="statsforecast n_jobs")
    ap.add_argument("--fc-mase-tol", type=float, default=0.03,
                    help="largest relative difference of the mean hold-out MASEs")
    ap.add_argument("--cases", default="rfm,logistic,score,kmeans,als,scaling,forecast",
                    help="comma-separated subset of the cases to run")
    ap.add_argument("--scaling", default="1000000,3000000,10000000",
                    help="row counts for case (g), comma-separated ('' to skip)")
    args = ap.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    cases = set(args.cases.split(","))
    res = Results()
    threads = os.cpu_count()
    orders = 0
    if cases - {"forecast"}:
        shop = prepare(args, work)
        co = Cohort(args.cohort, shop, work / "models")
        orders = pq.ParquetFile(shop / "orders.parquet").metadata.num_rows
    if "forecast" in cases:
        fc_root = prepare_forecast(args, work)
    print(f"cases ({args.reps} repetitions each, alternating"
          + (f"; {orders:,} orders" if orders else "") + "):", flush=True)
    if "rfm" in cases:
        case_rfm(args, co, res, shop, threads)
    rss = ""
    if "logistic" in cases or "score" in cases:
        fit_c, fit_p = case_logistic(args, co, res, shop)
        matrix_mib = args.feature_rows * 10 * 8 / 2**20
        rss = (f"(f) training peak RSS, logistic {args.feature_rows:,} x 10: cohort "
               f"{max(r[2] for r in fit_c):.0f} MiB = {max(r[2] for r in fit_c) / matrix_mib:.1f}x the "
               f"{matrix_mib:.0f} MiB feature matrix; scikit-learn {max(r[2] for r in fit_p):.0f} MiB = "
               f"{max(r[2] for r in fit_p) / matrix_mib:.1f}x")
        print("  " + rss)
    if "score" in cases:
        case_score(args, co, res, shop)
    if "kmeans" in cases:
        case_kmeans(args, co, res, shop)
    if "als" in cases:
        case_als(args, co, res, shop)
    if "forecast" in cases:
        case_forecast(args, res, fc_root, work)
    scaling = [int(n) for n in args.scaling.split(",") if n.strip()] if "scaling" in cases else []
    per_row = []
    for n in scaling:
        if n <= orders:
            c, p = case_rfm(args, co, res, shop, threads, label=f"(g) rfm() over {n:,} orders",
                            where_cohort=f" AND order_id <= {n}", where_duck=f" AND order_id <= {n}")
            per_row.append(("rfm", n, c[0][0] / n * 1e9, p[0][0] / n * 1e9))
        if n <= args.score_rows:
            c, p = case_logistic(args, co, res, shop, rows=n, label=f"(g) logistic fit {n:,} x 10",
                                 source=f"(SELECT * FROM score WHERE id < {n})", train=shop / "score.parquet")
            per_row.append(("logistic fit", n, c[0][0] / n * 1e9, p[0][0] / n * 1e9))
    md = res.markdown()
    lines = [md, "", rss, ""]
    if per_row:
        lines += ["| (g) scaling | rows | cohort ns/row | peer ns/row |", "|---|---:|---:|---:|"]
        lines += [f"| {k} | {n:,} | {c:.1f} | {p:.1f} |" for k, n, c, p in per_row]
    info = (f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
            f"python {platform.python_version()}; total {time.perf_counter() - started:.0f} s")
    lines += ["", info]
    text = "\n".join(lines)
    print("\n" + text)
    (work / "results.md").write_text(text + "\n")
    (work / "results.json").write_text(json.dumps(res.rows, indent=1))
    if not all(r["ok"] for r in res.rows):
        sys.exit("a result check failed (see the table)")


if __name__ == "__main__":
    main()
