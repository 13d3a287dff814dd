-- Cohort retention: of the customers who signed up in a month, what share still buys 1, 2, 3 ...
-- months later?
--
-- Inputs:  <data>/customers.parquet (customer_id, signup_date), <data>/orders.parquet
--          (customer_id, order_ts), e.g. from `cohort gen`
-- Method:  retention (ClickHouse's retention) per customer over "bought in month k after signup"
--          conditions, k = 0..6; element k is 1 when the customer bought in the signup month and
--          in month k.
-- Outputs: the retention matrix (signup cohort x months since signup, % of the cohort's
--          month-0 buyers), and the average curve.
-- Run:     cohort run sql/cohort_retention.sql --set data=shop

CREATE EXTERNAL TABLE IF NOT EXISTS orders STORED AS PARQUET LOCATION '${data}/orders.parquet';
CREATE EXTERNAL TABLE IF NOT EXISTS customers STORED AS PARQUET LOCATION '${data}/customers.parquet';

CREATE OR REPLACE VIEW customer_months AS
SELECT c.customer_id,
       date_trunc('month', CAST(c.signup_date AS TIMESTAMP)) AS cohort_month,
       (date_part('year', o.order_ts) - date_part('year', c.signup_date)) * 12
         + date_part('month', o.order_ts) - date_part('month', c.signup_date) AS months_since
FROM customers c JOIN orders o ON o.customer_id = c.customer_id;

CREATE OR REPLACE VIEW customer_retention AS
SELECT customer_id, cohort_month,
       retention(months_since = 0, months_since = 1, months_since = 2, months_since = 3,
                 months_since = 4, months_since = 5, months_since = 6) AS r
FROM customer_months
GROUP BY customer_id, cohort_month;

-- The matrix: % of each signup cohort's month-0 buyers who bought again in month k
SELECT CAST(cohort_month AS DATE) AS cohort, sum(r[1]) AS buyers_month_0,
       round(100.0 * sum(r[2]) / nullif(sum(r[1]), 0), 1) AS m1,
       round(100.0 * sum(r[3]) / nullif(sum(r[1]), 0), 1) AS m2,
       round(100.0 * sum(r[4]) / nullif(sum(r[1]), 0), 1) AS m3,
       round(100.0 * sum(r[5]) / nullif(sum(r[1]), 0), 1) AS m4,
       round(100.0 * sum(r[6]) / nullif(sum(r[1]), 0), 1) AS m5,
       round(100.0 * sum(r[7]) / nullif(sum(r[1]), 0), 1) AS m6
FROM customer_retention
WHERE cohort_month < TIMESTAMP '${last_cohort:-2025-07-01}'
GROUP BY cohort_month
ORDER BY cohort_month
LIMIT 24;

-- The average curve over those cohorts
SELECT round(100.0 * sum(r[2]) / sum(r[1]), 1) AS m1, round(100.0 * sum(r[3]) / sum(r[1]), 1) AS m2,
       round(100.0 * sum(r[4]) / sum(r[1]), 1) AS m3, round(100.0 * sum(r[7]) / sum(r[1]), 1) AS m6
FROM customer_retention
WHERE cohort_month < TIMESTAMP '${last_cohort:-2025-07-01}';
