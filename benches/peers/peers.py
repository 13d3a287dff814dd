"""The peer side of benches/peers/compare.py: one case per sub-command, run in its own process.

Each prints one JSON line: {"engine_seconds": ..., "check": {...}}. engine_seconds is the time
of the measured work alone (the query, the fit or the scoring, data already in memory where the
peer works on in-memory arrays); the driver measures the whole process around it.
"""

import json
import sys
import time

import numpy as np
import pyarrow.parquet as pq


def emit(seconds, **check):
    print(json.dumps({"engine_seconds": seconds, "check": check}))


def duckdb_query(sql, threads):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    t = time.perf_counter()
    row = con.execute(sql).fetchone()
    seconds = time.perf_counter() - t
    names = [d[0] for d in con.description]
    emit(seconds, **{n: (float(v) if v is not None else None) for n, v in zip(names, row)})


def matrix(path, columns):
    table = pq.read_table(path, columns=columns)
    return np.column_stack([table.column(c).to_numpy() for c in columns])


FEATURES = [f"f{j}" for j in range(10)]


def sklearn_logistic(train, test, limit):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    x = matrix(train, FEATURES)
    y = pq.read_table(train, columns=["y"]).column("y").to_numpy(zero_copy_only=False)
    if limit:
        x, y = x[:limit], y[:limit]
    t = time.perf_counter()
    m = LogisticRegression(C=1.0, solver="lbfgs", max_iter=1000).fit(x, y)
    seconds = time.perf_counter() - t
    xt = matrix(test, FEATURES)
    yt = pq.read_table(test, columns=["y"]).column("y").to_numpy(zero_copy_only=False)
    emit(seconds, auc=float(roc_auc_score(yt, m.predict_proba(xt)[:, 1])), rows=len(y),
         iterations=int(m.n_iter_[0]))


def sklearn_score(score, weights):
    """Scores with cohort's fitted weights set on a scikit-learn model, so both sides compute
    the same probabilities (the sums must agree)."""
    from sklearn.linear_model import LogisticRegression

    w = json.loads(weights)
    m = LogisticRegression()
    m.classes_ = np.array([False, True])
    m.coef_ = np.array([[w[f] for f in FEATURES]])
    m.intercept_ = np.array([w["(intercept)"]])
    xs = matrix(score, FEATURES)
    t = time.perf_counter()
    p = m.predict_proba(xs)[:, 1]
    s = float(p.sum())
    seconds = time.perf_counter() - t
    emit(seconds, rows=len(p), sum_p=s)


def sklearn_kmeans(data, init):
    from sklearn.cluster import KMeans

    cols = ["c0", "c1", "c2", "c3"]
    x = matrix(data, cols)
    c0 = matrix(init, cols)
    t = time.perf_counter()
    # tol = 0: iterate until the labels stop changing, as cohort does (its final Lloyd steps
    # run to an exact fixed point), so both report the same local optimum from the same start.
    m = KMeans(n_clusters=len(c0), init=c0, n_init=1, max_iter=300, tol=0.0,
               algorithm="lloyd").fit(x)
    seconds = time.perf_counter() - t
    emit(seconds, inertia=float(m.inertia_), iterations=int(m.n_iter_))


def interactions(path):
    import scipy.sparse as sp

    t = pq.read_table(path)
    u = t.column("user_id").to_numpy()
    i = t.column("item_id").to_numpy()
    n = t.column("n").to_numpy()
    # confidence 1 + alpha * n with alpha = 1, as cohort's option alpha = 1.0 means
    return sp.csr_matrix(((1.0 + n).astype(np.float32), (u, i)),
                         shape=(int(u.max()) + 1, int(i.max()) + 1))


def als_model():
    from implicit.cpu.als import AlternatingLeastSquares

    return AlternatingLeastSquares(factors=64, regularization=0.01, alpha=1.0, iterations=15,
                                   random_state=42, calculate_training_loss=False)


def implicit_als_fit(path):
    m = interactions(path)
    model = als_model()
    t = time.perf_counter()
    model.fit(m, show_progress=False)
    emit(time.perf_counter() - t, users=m.shape[0], items=m.shape[1])


def implicit_als_recommend(path):
    m = interactions(path)
    model = als_model()
    model.fit(m, show_progress=False)
    users = np.arange(m.shape[0])
    t = time.perf_counter()
    ids, _ = model.recommend(users, m[users], N=10, filter_already_liked_items=True)
    seconds = time.perf_counter() - t
    emit(seconds, rows=int((ids >= 0).sum()))


def forecast_frame(path):
    """(unique_id, ds, y) as statsforecast wants it, y in float64 (statsforecast casts
    integer input to float32)."""
    import pandas as pd

    t = pq.read_table(path, columns=["sku", "day", "units"])
    return pd.DataFrame({
        "unique_id": t.column("sku").to_numpy(),
        "ds": pd.to_datetime(t.column("day").to_numpy()),
        "y": t.column("units").to_numpy().astype(np.float64),
    })


def write_forecast(fc, out):
    import pyarrow as pa

    pq.write_table(pa.table({
        "sku": fc["unique_id"].to_numpy(np.int64),
        "day": fc["ds"].to_numpy().astype("datetime64[D]"),
        "forecast": fc["AutoETS"].to_numpy(np.float64),
        "lower": fc["AutoETS-lo-95"].to_numpy(np.float64),
        "upper": fc["AutoETS-hi-95"].to_numpy(np.float64),
    }), out)


def record_ets_specs(folder):
    """Makes every ets_f call (the AutoETS selection) append "sha1 of y<TAB>method" to a file of
    its own process in `folder`. StatsForecast.forecast keeps no models, so this is how the
    chosen ETS model per series comes back from the measured run itself; the cost is one hash
    of the series and one short write per series (microseconds against a fit of tens of
    milliseconds). The worker processes are forked, so they inherit the patch."""
    import hashlib
    import os

    import statsforecast.models as models

    fit = models.ets_f
    files = {}

    def ets_f(y, *a, **k):
        mod = fit(y, *a, **k)
        f = files.get(os.getpid())
        if f is None:
            f = files[os.getpid()] = open(os.path.join(folder, f"specs-{os.getpid()}.tsv"), "a",
                                          buffering=1)
        key = hashlib.sha1(np.ascontiguousarray(y, dtype=np.float64).tobytes()).hexdigest()
        f.write(f"{key}\t{mod['method']}\n")
        return mod

    models.ets_f = ets_f


def statsforecast_ets(train, h, n_jobs, out, specs):
    """AutoETS(season_length = 7) fit and forecast of every series, with 95% intervals (cohort's
    forecast() gives them too); the timed call is StatsForecast.forecast alone, data in a
    DataFrame already. The forecasts go to `out` (Parquet) and the chosen models to the folder
    `specs` (see record_ets_specs) for the driver's checks."""
    import statsforecast
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    df = forecast_frame(train)
    record_ets_specs(specs)
    sf = StatsForecast(models=[AutoETS(season_length=7)], freq="D", n_jobs=n_jobs)
    t = time.perf_counter()
    fc = sf.forecast(df=df, h=h, level=[95])
    seconds = time.perf_counter() - t
    write_forecast(fc, out)
    emit(seconds, rows=len(fc), series=int(fc["unique_id"].nunique()),
         nan=int(fc["AutoETS"].isna().sum()), version=statsforecast.__version__)


if __name__ == "__main__":
    case, args = sys.argv[1], sys.argv[2:]
    if case == "duckdb":
        duckdb_query(args[0], int(args[1]))
    elif case == "logistic":
        sklearn_logistic(args[0], args[1], int(args[2]))
    elif case == "score":
        sklearn_score(args[0], args[1])
    elif case == "kmeans":
        sklearn_kmeans(args[0], args[1])
    elif case == "als_fit":
        implicit_als_fit(args[0])
    elif case == "als_recommend":
        implicit_als_recommend(args[0])
    elif case == "ets":
        statsforecast_ets(args[0], int(args[1]), int(args[2]), args[3], args[4])
    else:
        sys.exit(f"unknown case {case}")
