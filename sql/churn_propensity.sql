-- Churn propensity: which customers will buy again, and which are slipping away?
--
-- Inputs:  <data>/orders.parquet, <data>/customers.parquet (from `cohort gen` or your own shop)
--          <cutoff>        end of the calibration window (default 2025-07-01)
--          <horizon_days>  length of the window the label looks at (default 180)
-- Method:  features from orders before the cutoff; label = bought again within the horizon;
--          logistic regression with a hash split on customer_id (20% held out), standard scaling,
--          median imputation; channel is one-hot encoded.
-- Outputs: hold-out metrics, weights, a decile (lift) table, and the top-decile customers.
-- Run:     cohort run sql/churn_propensity.sql --set data=shop

CREATE EXTERNAL TABLE IF NOT EXISTS orders STORED AS PARQUET LOCATION '${data}/orders.parquet';
CREATE EXTERNAL TABLE IF NOT EXISTS customers STORED AS PARQUET LOCATION '${data}/customers.parquet';

CREATE OR REPLACE VIEW churn_features AS
WITH calibration AS (
    SELECT customer_id,
           count(*)                                                          AS frequency,
           sum(amount)                                                       AS monetary,
           avg(amount)                                                       AS avg_order_value,
           CAST(DATE '${cutoff:-2025-07-01}' - CAST(max(order_ts) AS DATE) AS DOUBLE) AS recency_days,
           CAST(DATE '${cutoff:-2025-07-01}' - CAST(min(order_ts) AS DATE) AS DOUBLE) AS tenure_days
    FROM orders
    WHERE order_ts < DATE '${cutoff:-2025-07-01}'
    GROUP BY customer_id
),
next_window AS (
    SELECT DISTINCT customer_id
    FROM orders
    WHERE order_ts >= DATE '${cutoff:-2025-07-01}'
      AND order_ts < DATE '${cutoff:-2025-07-01}' + INTERVAL '${horizon_days:-180} days'
)
SELECT c.customer_id, cu.channel, cu.age, c.recency_days, c.frequency, c.monetary, c.avg_order_value,
       c.tenure_days, n.customer_id IS NOT NULL AS bought_again
FROM calibration c
JOIN customers cu ON cu.customer_id = c.customer_id
LEFT JOIN next_window n ON n.customer_id = c.customer_id;

CREATE OR REPLACE MODEL churn
OPTIONS (type = 'logistic_regression', label = 'bought_again', split = 'hash:customer_id:0.2',
         scale = 'standard', null_policy = 'impute:median', seed = 42)
AS SELECT customer_id, channel, age, recency_days, frequency, monetary, avg_order_value, tenure_days, bought_again
   FROM churn_features;

-- Hold-out metrics measured at training time
SELECT model, dataset, rows, round(accuracy, 3) AS accuracy, round(precision, 3) AS precision,
       round(recall, 3) AS recall, round(roc_auc, 3) AS roc_auc, round(log_loss, 3) AS log_loss
FROM ml_evaluate('churn');

-- What drives buying again (weights on standardised features)
SELECT feature, round(weight, 3) AS weight, round(odds_ratio, 3) AS odds_ratio
FROM ml_weights('churn')
ORDER BY abs(weight) DESC;

-- Deciles by predicted probability: the top decile should buy again far more often
CREATE OR REPLACE VIEW churn_scores AS
SELECT customer_id, bought_again,
       predict_proba('churn', channel, age, recency_days, frequency, monetary, avg_order_value, tenure_days) AS p_buy
FROM churn_features;

SELECT decile, count(*) AS customers, round(avg(p_buy), 3) AS avg_p_buy,
       round(avg(CAST(bought_again AS DOUBLE)), 3) AS actual_rate
FROM (SELECT *, ntile(10) OVER (ORDER BY p_buy DESC, customer_id) AS decile FROM churn_scores) AS ranked
GROUP BY decile
ORDER BY decile;

-- Top-decile customers to target (highest chance of buying again), and those most at risk
SELECT customer_id, round(p_buy, 3) AS p_buy, round(1 - p_buy, 3) AS churn_risk
FROM churn_scores
ORDER BY p_buy DESC, customer_id
LIMIT 10;
