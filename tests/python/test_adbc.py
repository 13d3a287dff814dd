"""The Flight SQL server with the real ADBC driver (adbc-driver-flightsql) and pyarrow.

Run by tests/flight_adbc.rs, which generates a shop, starts `cohort serve` twice (read-write and
--read-only, both with a bearer token) and passes:
  COHORT_URI, COHORT_READONLY_URI   grpc://127.0.0.1:PORT of each server
  COHORT_TOKEN                      the bearer token
  COHORT_DATA                       the folder of the generated Parquet files
"""
import os
import unittest

import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import pyarrow.parquet as pq
from adbc_driver_flightsql import DatabaseOptions

URI = os.environ["COHORT_URI"]
READONLY_URI = os.environ["COHORT_READONLY_URI"]
TOKEN = os.environ["COHORT_TOKEN"]
DATA = os.environ["COHORT_DATA"]


def connect(uri=URI, token=TOKEN):
    kwargs = {}
    if token is not None:
        kwargs[DatabaseOptions.AUTHORIZATION_HEADER.value] = f"Bearer {token}"
    return flight_sql.connect(uri, db_kwargs=kwargs, autocommit=True)


class Authenticated(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conn = connect()

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()

    def fetch(self, sql, params=None):
        with self.conn.cursor() as cur:
            if params is None:
                cur.execute(sql)
            else:
                cur.execute(sql, params)
            return cur.fetch_arrow_table()

    def test_1_lists_tables(self):
        objects = self.conn.adbc_get_objects(depth="tables").read_all().to_pylist()
        tables = {t["table_name"] for c in objects for s in c["catalog_db_schemas"] or [] for t in s["db_schema_tables"] or []}
        for t in ("customers", "orders", "order_items", "events", "products"):
            self.assertIn(t, tables)
        schema = self.conn.adbc_get_table_schema("orders")
        self.assertIn("amount", schema.names)

    def test_2_query_over_generated_data(self):
        expected = pq.read_table(os.path.join(DATA, "orders.parquet"))
        got = self.fetch("SELECT count(*) AS n, round(sum(amount), 2) AS s FROM orders").to_pylist()[0]
        self.assertEqual(got["n"], expected.num_rows)
        self.assertAlmostEqual(got["s"], round(sum(expected.column("amount").to_pylist()), 2), places=2)

    def test_3_create_model_score_and_evaluate(self):
        self.fetch(
            "CREATE OR REPLACE VIEW feats AS SELECT customer_id, count(*) AS frequency, sum(amount) AS monetary, "
            "max(order_ts) >= TIMESTAMP '2025-07-01 00:00:00' AS active "
            "FROM orders WHERE order_ts < TIMESTAMP '2025-10-01 00:00:00' GROUP BY customer_id"
        )
        created = self.fetch(
            "CREATE OR REPLACE MODEL py_active OPTIONS (type = 'logistic_regression', label = 'active', "
            "features = 'frequency,monetary', split = 'hash:customer_id:0.3', scale = 'standard') AS SELECT * FROM feats"
        ).to_pylist()
        self.assertEqual(created[0]["model"], "py_active")
        p = self.fetch("SELECT predict_proba('py_active', frequency, monetary) AS p FROM feats").column("p").to_pylist()
        self.assertTrue(p and all(0.0 <= x <= 1.0 for x in p))
        ev = self.fetch("SELECT dataset, rows, roc_auc FROM ml_evaluate('py_active')").to_pylist()[0]
        self.assertEqual(ev["dataset"], "holdout")
        self.assertGreater(ev["roc_auc"], 0.6)
        models = self.fetch("SHOW MODELS").column("name").to_pylist()
        self.assertIn("py_active", models)

    def test_4_prepared_statement_with_parameter(self):
        # runs after test_3 (unittest orders tests by name), which made the model
        for cid in (3, 11):
            rows = self.fetch(
                "SELECT customer_id, predict_proba('py_active', frequency, monetary) AS p FROM feats WHERE customer_id = $1",
                [cid],
            ).to_pylist()
            self.assertEqual(len(rows), 1)
            self.assertEqual(rows[0]["customer_id"], cid)

    def test_5_sql_error_then_next_query(self):
        with self.assertRaises(adbc_driver_manager.Error) as err:
            self.fetch("SELECT nope FROM nowhere")
        self.assertIn("nowhere", str(err.exception))
        with self.assertRaises(adbc_driver_manager.Error) as err:
            self.fetch("CREATE MODEL bad OPTIONS (type = 'logistc') AS SELECT 1 AS x")
        self.assertIn("unknown type 'logistc'", str(err.exception))
        self.assertEqual(self.fetch("SELECT 40 + 2 AS x").to_pylist(), [{"x": 42}])


class Unauthenticated(unittest.TestCase):
    def refused(self, token):
        conn = connect(token=token)
        try:
            with conn.cursor() as cur:
                with self.assertRaises(adbc_driver_manager.Error) as err:
                    cur.execute("SELECT 1")
                    cur.fetch_arrow_table()
            self.assertIn("UNAUTHENTICATED", str(err.exception).upper())
        finally:
            conn.close()

    def test_no_token(self):
        self.refused(None)

    def test_wrong_token(self):
        self.refused("wrong-token-123456")


class ReadOnly(unittest.TestCase):
    def test_create_model_refused_select_works(self):
        conn = connect(READONLY_URI)
        try:
            with conn.cursor() as cur:
                with self.assertRaises(adbc_driver_manager.Error) as err:
                    cur.execute("CREATE MODEL m OPTIONS (type = 'logistic_regression', label = 'y') AS SELECT 1.0 AS x, true AS y")
                self.assertIn("--read-only", str(err.exception))
                cur.execute("SELECT count(*) AS n FROM orders")
                self.assertGreater(cur.fetch_arrow_table().to_pylist()[0]["n"], 0)
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
