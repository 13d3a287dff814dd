-- Demand forecast: next weeks' units per product, with prediction intervals, reorder
-- candidates and the back-test accuracy by category.
--
-- Inputs:  <data>/orders.parquet (order_id, order_ts), <data>/order_items.parquet (order_id,
--          product_id, quantity) and <data>/products.parquet (product_id, category), e.g.
--          from `cohort gen`
--          <horizon>  days to forecast (default 28)
--          <level>    prediction-interval level (default 0.95)
-- Method:  daily units per product (days without sales are 0); one model per product in one
--          statement: `method = 'auto'` gives intermittent products (more than 24 % zero days)
--          Croston-SBA and the rest AutoETS with a weekly season, selected by AICc. The
--          back-test refits every product without its last <horizon> days and scores the
--          forecast of them (MASE against the in-sample seasonal-naive error, sMAPE, RMSE);
--          a seasonal-naive model is fitted alongside as the yardstick.
-- Outputs: the methods chosen; the forecast of the best sellers; reorder candidates (products
--          whose forecast demand over the horizon exceeds a stock proxy, here the units sold in
--          the last <horizon> days); accuracy by category against seasonal naive.
-- Run:     cohort run sql/demand_forecast.sql --set data=shop

CREATE EXTERNAL TABLE IF NOT EXISTS orders STORED AS PARQUET LOCATION '${data}/orders.parquet';
CREATE EXTERNAL TABLE IF NOT EXISTS order_items STORED AS PARQUET LOCATION '${data}/order_items.parquet';
CREATE EXTERNAL TABLE IF NOT EXISTS products STORED AS PARQUET LOCATION '${data}/products.parquet';

CREATE OR REPLACE TABLE daily_units AS
SELECT i.product_id, CAST(date_trunc('day', o.order_ts) AS DATE) AS day, CAST(sum(i.quantity) AS DOUBLE) AS units
FROM order_items i JOIN orders o USING (order_id)
GROUP BY 1, 2;

CREATE OR REPLACE MODEL demand
  OPTIONS (type = 'forecast', time_col = 'day', value_col = 'units', series_col = 'product_id',
           season_length = 7, horizon = ${horizon:-28}, level = ${level:-0.95}, method = 'auto', fill = 'zero')
AS SELECT product_id, day, units FROM daily_units;

CREATE OR REPLACE MODEL demand_snaive
  OPTIONS (type = 'forecast', time_col = 'day', value_col = 'units', series_col = 'product_id',
           season_length = 7, horizon = ${horizon:-28}, method = 'seasonal_naive', fill = 'zero')
AS SELECT product_id, day, units FROM daily_units;

-- Which method each product got (a method with a season letter A or M found the weekly cycle).
SELECT method, count(*) AS products
FROM ml_evaluate('demand') WHERE series IS NOT NULL
GROUP BY method ORDER BY products DESC, method LIMIT 12;

-- The next days of the five best sellers, with intervals.
WITH top AS (SELECT product_id FROM daily_units GROUP BY 1 ORDER BY sum(units) DESC, 1 LIMIT 5)
SELECT f.series AS product_id, f.ts AS day, round(f.forecast, 1) AS forecast,
       round(f.lower, 1) AS lower, round(f.upper, 1) AS upper
FROM forecast('demand') f JOIN top t ON f.series = t.product_id
WHERE f.ts <= (SELECT max(ts) FROM forecast('demand', 7))
ORDER BY product_id, day LIMIT 35;

-- Reorder candidates: forecast demand over the horizon above the stock proxy (units sold in
-- the last horizon days), with the upper bound for safety stock.
WITH recent AS (
  SELECT product_id, sum(units) AS last_period_units FROM daily_units
  WHERE day > (SELECT max(day) FROM daily_units) - INTERVAL '${horizon:-28}' DAY
  GROUP BY 1),
ahead AS (
  SELECT series AS product_id, sum(forecast) AS forecast_units, sum(upper) AS upper_units
  FROM forecast('demand') GROUP BY 1)
SELECT a.product_id, p.category, round(a.forecast_units, 1) AS demand_ahead,
       round(a.upper_units, 1) AS demand_ahead_upper, coalesce(r.last_period_units, 0) AS stock_proxy
FROM ahead a JOIN products p USING (product_id) LEFT JOIN recent r USING (product_id)
WHERE a.forecast_units > coalesce(r.last_period_units, 0)
ORDER BY a.forecast_units - coalesce(r.last_period_units, 0) DESC, a.product_id LIMIT 10;

-- Back-test accuracy by category, auto against seasonal naive (lower is better).
SELECT p.category, count(*) AS products,
       round(avg(d.mase), 3) AS mase_auto, round(avg(s.mase), 3) AS mase_seasonal_naive,
       round(avg(d.smape), 3) AS smape_auto, round(avg(s.smape), 3) AS smape_seasonal_naive
FROM ml_evaluate('demand') d
JOIN ml_evaluate('demand_snaive') s ON d.series = s.series
JOIN products p ON CAST(d.series AS BIGINT) = p.product_id
WHERE d.series IS NOT NULL
GROUP BY p.category ORDER BY p.category;

-- Overall.
SELECT 'auto' AS model, round(mase, 3) AS mase, round(smape, 3) AS smape, round(rmse, 3) AS rmse
FROM ml_evaluate('demand') WHERE series IS NULL
UNION ALL
SELECT 'seasonal_naive', round(mase, 3), round(smape, 3), round(rmse, 3)
FROM ml_evaluate('demand_snaive') WHERE series IS NULL;
