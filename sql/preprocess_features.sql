-- Feature preprocessing: the pipeline before a model, in SQL — deduplicate, impute, winsorize,
-- scale, encode — then a model on the prepared features.
--
-- Inputs:  <data>/orders.parquet, <data>/customers.parquet, <data>/events.parquet, e.g. from
--          `cohort gen`; <cutoff> end of the feature window (default 2025-07-01)
-- Method:  one row per customer (duplicates dropped), then window functions fitted over all
--          customers: impute (median / mode), winsorize (1% / 99%), standard_scale,
--          robust_scale, quantile_bucket, label_encode, one_hot, hash_bucket and
--          feature_cross; a logistic regression on the result, scored with metrics.
-- Outputs: a look at the prepared features, their fitted ranges, and the model's hold-out
--          metrics including pr_auc and the top-decile lift.
-- Run:     cohort run sql/preprocess_features.sql --set data=shop

CREATE EXTERNAL TABLE IF NOT EXISTS orders STORED AS PARQUET LOCATION '${data}/orders.parquet';
CREATE EXTERNAL TABLE IF NOT EXISTS customers STORED AS PARQUET LOCATION '${data}/customers.parquet';
CREATE EXTERNAL TABLE IF NOT EXISTS events STORED AS PARQUET LOCATION '${data}/events.parquet';

-- 1. Raw customer features; the DISTINCT removes duplicate customer rows an upstream join can make.
CREATE OR REPLACE VIEW raw_features AS
SELECT DISTINCT c.customer_id, c.country, c.channel,
       CASE WHEN c.age BETWEEN 18 AND 99 THEN c.age END           AS age,           -- out-of-range ages become missing
       o.orders, o.spend, o.recency_days, v.views,
       n.customer_id IS NOT NULL                                   AS bought_again
FROM customers c
LEFT JOIN (SELECT customer_id, count(*) AS orders, sum(amount) AS spend,
                  CAST(DATE '${cutoff:-2025-07-01}' - CAST(max(order_ts) AS DATE) AS DOUBLE) AS recency_days
           FROM orders WHERE order_ts < DATE '${cutoff:-2025-07-01}' GROUP BY customer_id) o ON o.customer_id = c.customer_id
LEFT JOIN (SELECT customer_id, count(*) AS views FROM events
           WHERE event_type = 'view' AND ts < DATE '${cutoff:-2025-07-01}' GROUP BY customer_id) v ON v.customer_id = c.customer_id
LEFT JOIN (SELECT DISTINCT customer_id FROM orders
           WHERE order_ts >= DATE '${cutoff:-2025-07-01}' AND order_ts < DATE '${cutoff:-2025-07-01}' + INTERVAL '180 days') n
          ON n.customer_id = c.customer_id
WHERE o.customer_id IS NOT NULL;

-- 2. Prepared features: every statistic is fitted over all customers (OVER ()). A window
--    function cannot take another one's result in the same SELECT, so cleaning comes first.
CREATE OR REPLACE VIEW cleaned AS
SELECT customer_id, bought_again, country, channel, orders, recency_days,
       impute(age, 'median') OVER ()         AS age,
       winsorize(spend, 0.01, 0.99) OVER ()  AS spend,
       impute(views, 'zero') OVER ()         AS views
FROM raw_features;

CREATE OR REPLACE VIEW prepared AS
SELECT customer_id, bought_again, age, channel,
       standard_scale(spend) OVER ()                                   AS spend_z,
       robust_scale(orders) OVER ()                                    AS orders_r,
       min_max_scale(recency_days) OVER ()                             AS recency_01,
       quantile_bucket(views, 4) OVER ()                               AS views_quartile,
       label_encode(country) OVER ()                                   AS country_code,
       one_hot(channel, ['organic', 'paid_search', 'social', 'email', 'referral']) AS channel_vec,
       hash_bucket(feature_cross(country, channel), 16)                AS country_channel_bucket
FROM cleaned;

SELECT customer_id, round(age, 1) AS age, round(spend_z, 3) AS spend_z, round(orders_r, 3) AS orders_r,
       round(recency_01, 3) AS recency_01, views_quartile, country_code, channel_vec, country_channel_bucket
FROM prepared ORDER BY customer_id LIMIT 5;

-- The fitted ranges: standardised spend has mean 0 and std 1; min-max recency spans 0..1
SELECT count(*) AS customers, round(avg(spend_z), 6) AS spend_z_mean, round(stddev_pop(spend_z), 6) AS spend_z_std,
       min(recency_01) AS recency_min, max(recency_01) AS recency_max,
       count(DISTINCT views_quartile) AS view_bins, count(DISTINCT country_code) AS countries
FROM prepared;

-- 3. A model on the prepared features (already scaled: scale = 'none')
CREATE OR REPLACE MODEL prepared_churn
OPTIONS (type = 'logistic_regression', label = 'bought_again', split = 'hash:customer_id:0.2', seed = 42)
AS SELECT customer_id, age, spend_z, orders_r, recency_01, views_quartile, channel, bought_again FROM prepared;

SELECT model, dataset, rows, round(accuracy, 3) AS accuracy, round(roc_auc, 3) AS roc_auc, round(log_loss, 3) AS log_loss
FROM ml_evaluate('prepared_churn');

-- Ranking quality over all customers (training and hold-out rows together): average precision
-- and the lift of the top decile by predicted probability
SELECT round(pr_auc(p, y), 3) AS pr_auc, round(lift_at(p, y, 0.1), 2) AS top_decile_lift,
       round(roc_auc(p, y), 3) AS roc_auc
FROM (SELECT predict_proba('prepared_churn', age, spend_z, orders_r, recency_01, views_quartile, channel) AS p,
             bought_again AS y
      FROM prepared);
