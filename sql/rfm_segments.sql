-- RFM segments: who are the high-value customers, and how is revenue spread over segments?
--
-- Inputs:  <data>/orders.parquet (order_id, customer_id, order_ts, amount), e.g. from `cohort gen`
--          <as_of>  the day the analysis is made (default 2026-01-01, the day after `gen`'s history)
-- Outputs: segment sizes with their recency, frequency and share of revenue;
--          the 20 champions with the highest spend.
-- Run:     cohort run sql/rfm_segments.sql --set data=shop --set as_of=2026-01-01

CREATE EXTERNAL TABLE IF NOT EXISTS orders STORED AS PARQUET LOCATION '${data}/orders.parquet';

CREATE OR REPLACE VIEW customer_rfm AS
SELECT * FROM rfm('orders', 'customer_id', 'order_ts', 'amount', DATE '${as_of:-2026-01-01}');

-- Segment sizes and value
SELECT segment,
       count(*)                                                    AS customers,
       round(avg(recency_days), 1)                                 AS avg_recency_days,
       round(avg(frequency), 2)                                    AS avg_orders,
       round(sum(monetary), 2)                                     AS revenue,
       round(100.0 * sum(monetary) / sum(sum(monetary)) OVER (), 1) AS revenue_pct
FROM customer_rfm
GROUP BY segment
ORDER BY revenue DESC;

-- High-value users: champions by spend
SELECT customer AS customer_id, recency_days, frequency, round(monetary, 2) AS monetary, rfm_cell
FROM customer_rfm
WHERE segment = 'champions'
ORDER BY monetary DESC, customer_id
LIMIT 20;
