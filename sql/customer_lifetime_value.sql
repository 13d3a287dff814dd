-- Customer lifetime value: who will be valuable, not just who was.
--
-- Inputs:  <data>/orders.parquet (order_id, customer_id, order_ts, amount), e.g. from `cohort gen`
--          <as_of>            end of the observed history (default 2026-01-01)
--          <calibration_end>  end of the calibration window used to check the model (default 2025-07-01)
-- Method:  clv_summary (Lifetimes' definitions, weeks) -> BG/NBD for future purchases and P(alive)
--          -> Gamma-Gamma for the average order value -> 12-month CLV with 1% monthly discount.
-- Outputs: hold-out check (expected vs actual purchases after the calibration window),
--          the fitted parameters, the top customers by 12-month CLV, CLV by RFM segment.
-- Run:     cohort run sql/customer_lifetime_value.sql --set data=shop

CREATE EXTERNAL TABLE IF NOT EXISTS orders STORED AS PARQUET LOCATION '${data}/orders.parquet';

-- 1. Does the model predict? Fit on the calibration window, compare with the hold-out window.
CREATE OR REPLACE VIEW clv_calibration AS
SELECT * FROM clv_summary('orders', 'customer_id', 'order_ts', 'amount',
                          DATE '${as_of:-2026-01-01}', 'week', DATE '${calibration_end:-2025-07-01}');

CREATE OR REPLACE MODEL clv_bg_check OPTIONS (type = 'bgnbd') AS
SELECT frequency, recency, t, frequency_holdout, duration_holdout FROM clv_calibration;

SELECT model, rows, round(predicted_holdout_purchases, 1) AS predicted_holdout_purchases,
       actual_holdout_purchases, round(holdout_mae, 3) AS holdout_mae
FROM ml_evaluate('clv_bg_check');

-- Expected vs actual hold-out purchases by calibration frequency
SELECT least(frequency, 7) AS calibration_repeat_purchases, count(*) AS customers,
       round(avg(expected_purchases('clv_bg_check', duration_holdout, frequency, recency, t)), 2) AS expected,
       round(avg(frequency_holdout), 2) AS actual
FROM clv_calibration
GROUP BY 1
ORDER BY 1;

-- 2. The models on the full history: three statements from raw orders to a ranked CLV list.
CREATE OR REPLACE VIEW clv_customers AS
SELECT * FROM clv_summary('orders', 'customer_id', 'order_ts', 'amount', DATE '${as_of:-2026-01-01}');

CREATE OR REPLACE MODEL clv_bg OPTIONS (type = 'bgnbd') AS
SELECT frequency, recency, t FROM clv_customers;

CREATE OR REPLACE MODEL clv_gg OPTIONS (type = 'gamma_gamma') AS
SELECT frequency, monetary_value FROM clv_customers WHERE frequency > 0 AND monetary_value > 0;

SELECT 'bgnbd' AS model, parameter, round(value, 4) AS value FROM ml_weights('clv_bg')
UNION ALL
SELECT 'gamma_gamma', parameter, round(value, 4) FROM ml_weights('clv_gg')
ORDER BY model, parameter;

CREATE OR REPLACE VIEW customer_clv AS
SELECT customer_id, frequency, recency, t, monetary_value,
       expected_purchases('clv_bg', 52, frequency, recency, t)                        AS next_year_orders,
       prob_alive('clv_bg', frequency, recency, t)                                    AS p_alive,
       expected_avg_value('clv_gg', frequency, monetary_value)                        AS avg_order_value,
       clv('clv_bg', 'clv_gg', frequency, recency, t, monetary_value, 12, 0.01)       AS clv_12m
FROM clv_customers;

-- 3. Top customers by 12-month CLV
SELECT customer_id, frequency, round(recency, 1) AS recency_weeks, round(t, 1) AS age_weeks,
       round(next_year_orders, 2) AS next_year_orders, round(p_alive, 3) AS p_alive,
       round(avg_order_value, 2) AS avg_order_value, round(clv_12m, 2) AS clv_12m
FROM customer_clv
ORDER BY clv_12m DESC, customer_id
LIMIT 15;

-- 4. CLV by RFM segment: where the future value sits
SELECT r.segment, count(*) AS customers, round(avg(c.p_alive), 3) AS avg_p_alive,
       round(avg(c.clv_12m), 2) AS avg_clv_12m, round(sum(c.clv_12m), 0) AS total_clv_12m
FROM customer_clv c
JOIN rfm('orders', 'customer_id', 'order_ts', 'amount', DATE '${as_of:-2026-01-01}') r ON r.customer = c.customer_id
GROUP BY r.segment
ORDER BY avg_clv_12m DESC;
