-- High-value users: who is worth a retention budget? Propensity to buy again times spend.
--
-- Inputs:  <data>/orders.parquet, <data>/customers.parquet, e.g. from `cohort gen`
--          <cutoff>  end of the feature window (default 2025-07-01)
-- Method:  a random forest for P(buys again in the next 180 days) and a linear regression for
--          the spend if they do (log scale), both on features before the cutoff; expected value =
--          P(buy) x predicted spend. explain_predict shows why the top customer scores high.
-- Outputs: the top customers by expected value, value by channel, and one explained prediction.
-- Run:     cohort run sql/high_value_users.sql --set data=shop

CREATE EXTERNAL TABLE IF NOT EXISTS orders STORED AS PARQUET LOCATION '${data}/orders.parquet';
CREATE EXTERNAL TABLE IF NOT EXISTS customers STORED AS PARQUET LOCATION '${data}/customers.parquet';

CREATE OR REPLACE VIEW value_features AS
WITH cal AS (
    SELECT customer_id, count(*) AS frequency, sum(amount) AS monetary, avg(amount) AS avg_order_value,
           CAST(DATE '${cutoff:-2025-07-01}' - CAST(max(order_ts) AS DATE) AS DOUBLE) AS recency_days
    FROM orders WHERE order_ts < DATE '${cutoff:-2025-07-01}' GROUP BY customer_id),
nxt AS (
    SELECT customer_id, sum(amount) AS next_spend FROM orders
    WHERE order_ts >= DATE '${cutoff:-2025-07-01}' AND order_ts < DATE '${cutoff:-2025-07-01}' + INTERVAL '180 days'
    GROUP BY customer_id)
SELECT c.customer_id, cu.channel, c.recency_days, c.frequency, c.monetary, c.avg_order_value,
       n.customer_id IS NOT NULL AS bought_again, n.next_spend
FROM cal c JOIN customers cu ON cu.customer_id = c.customer_id
LEFT JOIN nxt n ON n.customer_id = c.customer_id;

CREATE OR REPLACE MODEL hv_propensity
OPTIONS (type = 'random_forest', label = 'bought_again', split = 'hash:customer_id:0.2', n_trees = 50,
         max_depth = 8, min_samples_leaf = 10, seed = 42,
         features = 'channel,recency_days,frequency,monetary,avg_order_value')
AS SELECT * FROM value_features;

CREATE OR REPLACE MODEL hv_spend
OPTIONS (type = 'linear_regression', label = 'log_spend', split = 'hash:customer_id:0.2', alpha = 1.0, scale = 'standard',
         features = 'channel,recency_days,frequency,monetary,avg_order_value')
AS SELECT customer_id, channel, recency_days, frequency, monetary, avg_order_value, ln(next_spend) AS log_spend
   FROM value_features WHERE bought_again;

SELECT 'propensity' AS model, round(roc_auc, 3) AS metric_value, 'hold-out AUC' AS metric FROM ml_evaluate('hv_propensity')
UNION ALL SELECT 'spend', round(r2, 3), 'hold-out R2 (log spend, buyers)' FROM ml_evaluate('hv_spend');

CREATE OR REPLACE VIEW customer_value AS
SELECT customer_id, channel, recency_days, frequency, monetary,
       predict_proba('hv_propensity', channel, recency_days, frequency, monetary, avg_order_value) AS p_buy,
       exp(predict('hv_spend', channel, recency_days, frequency, monetary, avg_order_value)) AS spend_if_buying
FROM value_features;

-- The top customers by expected value over the next 180 days
SELECT customer_id, channel, frequency, round(monetary, 2) AS monetary, round(p_buy, 3) AS p_buy,
       round(spend_if_buying, 2) AS spend_if_buying, round(p_buy * spend_if_buying, 2) AS expected_value
FROM customer_value
ORDER BY p_buy * spend_if_buying DESC, customer_id
LIMIT 15;

-- Expected value by channel
SELECT channel, count(*) AS customers, round(avg(p_buy), 3) AS avg_p_buy,
       round(sum(p_buy * spend_if_buying), 0) AS expected_value
FROM customer_value GROUP BY channel ORDER BY expected_value DESC;

-- Why the top customer scores high: the forest's path contributions
SELECT t.feature AS feature, round(t.contribution, 4) AS contribution
FROM (SELECT unnest(explain_predict('hv_propensity', channel, recency_days, frequency, monetary, avg_order_value)) AS t
      FROM value_features
      WHERE customer_id = (SELECT customer_id FROM customer_value ORDER BY p_buy * spend_if_buying DESC, customer_id LIMIT 1))
WHERE abs(t.contribution) > 0.001
ORDER BY abs(t.contribution) DESC;
