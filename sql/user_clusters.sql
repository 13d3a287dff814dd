-- User clusters: which groups of customers behave alike?
--
-- Inputs:  <data>/orders.parquet, <data>/customers.parquet, e.g. from `cohort gen`
--          <k>      number of clusters (default 4)
--          <as_of>  the day of the analysis (default 2026-01-01)
-- Method:  RFM-style features per customer (recency, log order count, log spend, average order
--          value), standardised inside the model, k-means (k-means++, seeded).
-- Outputs: cluster profiles in original units (size, mean recency / orders / spend / order
--          value, main channel), and the centroids.
-- Run:     cohort run sql/user_clusters.sql --set data=shop --set k=4

CREATE EXTERNAL TABLE IF NOT EXISTS orders STORED AS PARQUET LOCATION '${data}/orders.parquet';
CREATE EXTERNAL TABLE IF NOT EXISTS customers STORED AS PARQUET LOCATION '${data}/customers.parquet';

CREATE OR REPLACE VIEW cluster_features AS
SELECT r.customer AS customer_id, c.channel,
       CAST(r.recency_days AS DOUBLE)     AS recency_days,
       ln(CAST(r.frequency AS DOUBLE))    AS log_orders,
       ln(1 + r.monetary)                 AS log_spend,
       r.monetary / r.frequency           AS avg_order_value,
       r.frequency, r.monetary
FROM rfm('orders', 'customer_id', 'order_ts', 'amount', DATE '${as_of:-2026-01-01}') r
JOIN customers c ON c.customer_id = r.customer;

CREATE OR REPLACE MODEL user_clusters
OPTIONS (type = 'kmeans', k = ${k:-4}, scale = 'standard', n_runs = 10, seed = 42,
         features = 'recency_days,log_orders,log_spend,avg_order_value')
AS SELECT * FROM cluster_features;

SELECT model, rows, round(inertia, 1) AS inertia, round(silhouette, 3) AS silhouette FROM ml_evaluate('user_clusters');

CREATE OR REPLACE VIEW customer_clusters AS
SELECT customer_id, channel, recency_days, frequency, monetary, avg_order_value,
       predict('user_clusters', recency_days, log_orders, log_spend, avg_order_value) AS cluster
FROM cluster_features;

-- Segment profiles, in original units
SELECT cluster, count(*) AS customers,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct,
       round(avg(recency_days), 1) AS avg_recency_days,
       round(avg(frequency), 2) AS avg_orders,
       round(avg(monetary), 2) AS avg_spend,
       round(avg(avg_order_value), 2) AS avg_order_value,
       round(sum(monetary) / sum(sum(monetary)) OVER () * 100, 1) AS revenue_pct
FROM customer_clusters
GROUP BY cluster
ORDER BY avg_spend DESC;

-- Acquisition channel mix per cluster
SELECT cluster, channel, count(*) AS customers
FROM customer_clusters
GROUP BY cluster, channel
ORDER BY cluster, customers DESC;

-- The centroids (standardisation undone)
SELECT cluster, size, round(recency_days, 1) AS recency_days, round(exp(log_orders), 2) AS geo_mean_orders,
       round(exp(log_spend) - 1, 2) AS geo_mean_spend, round(avg_order_value, 2) AS avg_order_value
FROM ml_centroids('user_clusters')
ORDER BY cluster;
