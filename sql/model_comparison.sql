-- Model comparison: which model family predicts repeat purchases best on the same data?
--
-- Inputs:  <data>/orders.parquet, <data>/customers.parquet, e.g. from `cohort gen`
--          <cutoff>  end of the feature window (default 2025-07-01)
-- Method:  one feature table and one hash split (20% of customers held out); logistic
--          regression, decision tree, random forest, Gaussian naive Bayes and an MLP trained on
--          it; the hold-out metrics side by side.
-- Outputs: one row per model: accuracy, precision, recall, F1, ROC AUC, log loss, training time;
--          the MLP's learning curve; the forest's feature importance.
-- Run:     cohort run sql/model_comparison.sql --set data=shop

CREATE EXTERNAL TABLE IF NOT EXISTS orders STORED AS PARQUET LOCATION '${data}/orders.parquet';
CREATE EXTERNAL TABLE IF NOT EXISTS customers STORED AS PARQUET LOCATION '${data}/customers.parquet';

CREATE OR REPLACE VIEW comparison_features AS
WITH cal AS (
    SELECT customer_id, count(*) AS frequency, sum(amount) AS monetary, avg(amount) AS avg_order_value,
           CAST(DATE '${cutoff:-2025-07-01}' - CAST(max(order_ts) AS DATE) AS DOUBLE) AS recency_days,
           CAST(DATE '${cutoff:-2025-07-01}' - CAST(min(order_ts) AS DATE) AS DOUBLE) AS tenure_days
    FROM orders WHERE order_ts < DATE '${cutoff:-2025-07-01}' GROUP BY customer_id),
nxt AS (
    SELECT DISTINCT customer_id FROM orders
    WHERE order_ts >= DATE '${cutoff:-2025-07-01}' AND order_ts < DATE '${cutoff:-2025-07-01}' + INTERVAL '180 days')
SELECT c.customer_id, cu.channel, cu.age, c.recency_days, c.frequency, c.monetary, c.avg_order_value, c.tenure_days,
       n.customer_id IS NOT NULL AS bought_again
FROM cal c JOIN customers cu ON cu.customer_id = c.customer_id
LEFT JOIN nxt n ON n.customer_id = c.customer_id;

CREATE OR REPLACE MODEL cmp_logistic OPTIONS (type = 'logistic_regression', label = 'bought_again', split = 'hash:customer_id:0.2', scale = 'standard')
AS SELECT * FROM comparison_features;
CREATE OR REPLACE MODEL cmp_tree OPTIONS (type = 'decision_tree', label = 'bought_again', split = 'hash:customer_id:0.2', max_depth = 6, min_samples_leaf = 20)
AS SELECT * FROM comparison_features;
CREATE OR REPLACE MODEL cmp_forest OPTIONS (type = 'random_forest', label = 'bought_again', split = 'hash:customer_id:0.2', n_trees = 50, max_depth = 8, min_samples_leaf = 5, seed = 42)
AS SELECT * FROM comparison_features;
CREATE OR REPLACE MODEL cmp_bayes OPTIONS (type = 'naive_bayes', label = 'bought_again', split = 'hash:customer_id:0.2', scale = 'standard')
AS SELECT * FROM comparison_features;
CREATE OR REPLACE MODEL cmp_mlp OPTIONS (type = 'mlp', label = 'bought_again', split = 'hash:customer_id:0.2', scale = 'standard',
                                         hidden_units = '32,16', epochs = 30, batch_size = 32, seed = 42)
AS SELECT * FROM comparison_features;

-- The comparison: same features, same hold-out customers
SELECT e.model, m.type, e.rows, round(e.accuracy, 3) AS accuracy, round(e.precision, 3) AS precision,
       round(e.recall, 3) AS recall, round(e.f1_score, 3) AS f1, round(e.roc_auc, 3) AS roc_auc,
       round(e.log_loss, 3) AS log_loss
FROM (SELECT * FROM ml_evaluate('cmp_logistic') UNION ALL SELECT * FROM ml_evaluate('cmp_tree')
      UNION ALL SELECT * FROM ml_evaluate('cmp_forest') UNION ALL SELECT * FROM ml_evaluate('cmp_bayes')
      UNION ALL SELECT * FROM ml_evaluate('cmp_mlp')) e
JOIN ml_models() m ON m.name = e.model
ORDER BY 8 DESC;

-- The MLP's learning curve (every 5th epoch)
SELECT epoch, round(loss, 4) AS loss, round(accuracy, 3) AS accuracy, round(val_loss, 4) AS val_loss, round(val_accuracy, 3) AS val_accuracy
FROM ml_training_info('cmp_mlp') WHERE epoch % 5 = 0 ORDER BY epoch;

-- What the forest relies on
SELECT rank, feature, round(importance, 3) AS importance FROM ml_feature_importance('cmp_forest') ORDER BY rank LIMIT 8;
