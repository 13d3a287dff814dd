-- Conversion funnel: how far do customers get from viewing to buying, by acquisition channel?
--
-- Inputs:  <data>/events.parquet (customer_id, ts, event_type in view/cart/checkout/purchase,
--          product_id) and <data>/customers.parquet (customer_id, channel), e.g. from `cohort gen`
--          <window_hours>  how long a funnel may take from the first view (default 24)
-- Method:  sessions with session_id (a new session after 30 idle minutes), then window_funnel
--          (ClickHouse's windowFunnel) per session: the deepest step reached in order, each step
--          within the window of the view that started it.
-- Outputs: sessions reaching each step and step-to-step conversion by channel; where sessions
--          stop.
-- Run:     cohort run sql/funnel.sql --set data=shop

CREATE EXTERNAL TABLE IF NOT EXISTS events STORED AS PARQUET LOCATION '${data}/events.parquet';
CREATE EXTERNAL TABLE IF NOT EXISTS customers STORED AS PARQUET LOCATION '${data}/customers.parquet';

-- Sessions: a new session after 30 minutes without an event
CREATE OR REPLACE VIEW session_events AS
SELECT customer_id, ts, event_type,
       session_id(ts, INTERVAL '30 minutes') OVER (PARTITION BY customer_id) AS session
FROM events;

-- The deepest funnel step of every session
CREATE OR REPLACE VIEW session_funnel AS
SELECT e.customer_id, e.session, c.channel, count(*) AS events,
       window_funnel(INTERVAL '${window_hours:-24} hours', e.ts,
                     e.event_type = 'view', e.event_type = 'cart',
                     e.event_type = 'checkout', e.event_type = 'purchase') AS step
FROM session_events e JOIN customers c ON c.customer_id = e.customer_id
GROUP BY e.customer_id, e.session, c.channel;

-- Sessions reaching each step, and the conversion from one step to the next, by channel
SELECT channel,
       count(*)                                              AS sessions,
       sum(CASE WHEN step >= 1 THEN 1 ELSE 0 END)            AS viewed,
       sum(CASE WHEN step >= 2 THEN 1 ELSE 0 END)            AS carted,
       sum(CASE WHEN step >= 3 THEN 1 ELSE 0 END)            AS checked_out,
       sum(CASE WHEN step >= 4 THEN 1 ELSE 0 END)            AS purchased,
       round(100.0 * sum(CASE WHEN step >= 2 THEN 1 ELSE 0 END) / nullif(sum(CASE WHEN step >= 1 THEN 1 ELSE 0 END), 0), 1) AS view_to_cart_pct,
       round(100.0 * sum(CASE WHEN step >= 3 THEN 1 ELSE 0 END) / nullif(sum(CASE WHEN step >= 2 THEN 1 ELSE 0 END), 0), 1) AS cart_to_checkout_pct,
       round(100.0 * sum(CASE WHEN step >= 4 THEN 1 ELSE 0 END) / nullif(sum(CASE WHEN step >= 3 THEN 1 ELSE 0 END), 0), 1) AS checkout_to_purchase_pct,
       round(100.0 * sum(CASE WHEN step >= 4 THEN 1 ELSE 0 END) / nullif(sum(CASE WHEN step >= 1 THEN 1 ELSE 0 END), 0), 1) AS view_to_purchase_pct
FROM session_funnel
GROUP BY channel
ORDER BY view_to_purchase_pct DESC, channel;

-- All channels: where sessions stop
SELECT step, count(*) AS sessions, round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct,
       round(avg(events), 2) AS events_per_session
FROM session_funnel
GROUP BY step
ORDER BY step;
