-- Recommendations: what to show each customer next, and which products go with a product.
--
-- Inputs:  <data>/orders.parquet (order_id, customer_id, order_ts) and
--          <data>/order_items.parquet (order_id, product_id), e.g. from `cohort gen`
--          <k>        list length (default 10)
--          <product>  the product for "similar products" (default: product 1)
-- Method:  every customer's last order is held out; the earlier orders train popularity,
--          item_knn (cosine and BM25), ALS and repeat_aware; each is evaluated on the held-out
--          baskets (repeats allowed, as a shop re-recommends what customers reorder).
--          On this synthetic shop (co-purchase pairs planted, no habitual reorders) popularity
--          is hard to beat; on real grocery baskets (Instacart, tests/recs.rs) repeat_aware with
--          a time_col is best.
-- Outputs: the models side by side (precision, recall, NDCG, MAP, hit rate, coverage at k);
--          the top recommendations of a few customers; products similar to a product.
-- Run:     cohort run sql/recommendations.sql --set data=shop

CREATE EXTERNAL TABLE IF NOT EXISTS orders STORED AS PARQUET LOCATION '${data}/orders.parquet';
CREATE EXTERNAL TABLE IF NOT EXISTS order_items STORED AS PARQUET LOCATION '${data}/order_items.parquet';

-- Each customer's orders numbered from the last one; customers with at least two orders.
CREATE OR REPLACE VIEW rec_orders AS
SELECT order_id, customer_id,
       row_number() OVER (PARTITION BY customer_id ORDER BY order_ts DESC, order_id DESC) AS from_last,
       count(*) OVER (PARTITION BY customer_id) AS orders
FROM orders;

CREATE OR REPLACE TABLE rec_train AS
SELECT o.customer_id, i.product_id, count(*) AS n
FROM rec_orders o JOIN order_items i USING (order_id)
WHERE o.from_last > 1
GROUP BY o.customer_id, i.product_id;

CREATE OR REPLACE TABLE rec_test AS
SELECT DISTINCT o.customer_id, i.product_id
FROM rec_orders o JOIN order_items i USING (order_id)
WHERE o.from_last = 1 AND o.orders >= 2;

CREATE OR REPLACE MODEL rec_popularity OPTIONS (type = 'popularity', user_col = 'customer_id', item_col = 'product_id', weight_col = 'n') AS SELECT * FROM rec_train;
CREATE OR REPLACE MODEL rec_knn OPTIONS (type = 'item_knn', user_col = 'customer_id', item_col = 'product_id', weight_col = 'n') AS SELECT * FROM rec_train;
CREATE OR REPLACE MODEL rec_bm25 OPTIONS (type = 'item_knn', similarity = 'bm25', user_col = 'customer_id', item_col = 'product_id', weight_col = 'n') AS SELECT * FROM rec_train;
CREATE OR REPLACE MODEL rec_als OPTIONS (type = 'als', user_col = 'customer_id', item_col = 'product_id', weight_col = 'n', factors = 32, iterations = 15, regularization = 0.05, seed = 42) AS SELECT * FROM rec_train;
CREATE OR REPLACE MODEL rec_repeat OPTIONS (type = 'repeat_aware', user_col = 'customer_id', item_col = 'product_id', weight_col = 'n') AS SELECT * FROM rec_train;

-- The models side by side on the held-out last baskets (repeats allowed)
SELECT model, users, round(precision_at_k, 4) AS precision, round(recall_at_k, 4) AS recall,
       round(ndcg_at_k, 4) AS ndcg, round(map_at_k, 4) AS map, round(hit_rate, 4) AS hit_rate,
       round(coverage, 4) AS coverage, dropped_pairs
FROM (SELECT * FROM ml_evaluate_ranking('rec_popularity', 'rec_test', ${k:-10}, false)
      UNION ALL SELECT * FROM ml_evaluate_ranking('rec_knn', 'rec_test', ${k:-10}, false)
      UNION ALL SELECT * FROM ml_evaluate_ranking('rec_bm25', 'rec_test', ${k:-10}, false)
      UNION ALL SELECT * FROM ml_evaluate_ranking('rec_als', 'rec_test', ${k:-10}, false)
      UNION ALL SELECT * FROM ml_evaluate_ranking('rec_repeat', 'rec_test', ${k:-10}, false)) e
ORDER BY recall DESC;

-- Only new products (a customer's own purchases excluded)
SELECT model, round(recall_at_k, 4) AS recall_new_items, round(hit_rate, 4) AS hit_rate
FROM (SELECT * FROM ml_evaluate_ranking('rec_popularity', 'rec_test', ${k:-10})
      UNION ALL SELECT * FROM ml_evaluate_ranking('rec_knn', 'rec_test', ${k:-10})
      UNION ALL SELECT * FROM ml_evaluate_ranking('rec_als', 'rec_test', ${k:-10})) e
ORDER BY 2 DESC;

-- Top recommendations for a few customers, from a model trained on every order
CREATE OR REPLACE MODEL recommendations OPTIONS (type = 'repeat_aware', user_col = 'customer_id', item_col = 'product_id', weight_col = 'n')
AS SELECT o.customer_id, i.product_id, count(*) AS n FROM orders o JOIN order_items i USING (order_id) GROUP BY 1, 2;

SELECT customer_id, product_id, rank, round(score, 4) AS score
FROM recommend('recommendations', ${k:-10})
WHERE customer_id IN (SELECT customer_id FROM orders ORDER BY customer_id LIMIT 3)
ORDER BY customer_id, rank;

-- Products similar to a product (item-item cosine over customers)
SELECT product_id, similar_product_id, rank, round(score, 4) AS score
FROM similar_items('rec_knn', ${product:-1}, ${k:-10});
