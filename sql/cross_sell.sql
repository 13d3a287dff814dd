-- Cross-sell: which products sell together, and what to show next to a product?
--
-- Inputs:  <data>/order_items.parquet (order_id, product_id), <data>/products.parquet
--          (product_id, category), e.g. from `cohort gen`
--          <min_support>   share of orders an itemset must appear in (default 0.001)
--          <product>       the product for "customers who bought X also bought" (default: the
--                          antecedent of the strongest rule)
-- Method:  association_rules (FP-growth, mlxtend's definitions) over orders as baskets.
-- Outputs: the strongest rules by lift; the products bought with a given one; rules between
--          categories.
-- Run:     cohort run sql/cross_sell.sql --set data=shop

CREATE EXTERNAL TABLE IF NOT EXISTS order_items STORED AS PARQUET LOCATION '${data}/order_items.parquet';
CREATE EXTERNAL TABLE IF NOT EXISTS products STORED AS PARQUET LOCATION '${data}/products.parquet';

CREATE OR REPLACE VIEW product_rules AS
SELECT antecedent, consequent, support, confidence, lift, leverage, conviction, pair_count
FROM association_rules('order_items', 'order_id', 'product_id', ${min_support:-0.001}, 0.2);

-- The strongest rules
SELECT array_to_string(antecedent, ', ') AS bought, array_to_string(consequent, ', ') AS also_bought,
       pair_count AS orders, round(support, 4) AS support, round(confidence, 3) AS confidence,
       round(lift, 2) AS lift
FROM product_rules
ORDER BY lift DESC, pair_count DESC
LIMIT 15;

-- Customers who bought X also bought ...
SELECT r.consequent[1] AS product_id, p.category, round(r.confidence, 3) AS confidence, round(r.lift, 2) AS lift
FROM product_rules r JOIN products p ON p.product_id = r.consequent[1]
WHERE cardinality(r.antecedent) = 1 AND cardinality(r.consequent) = 1
  AND r.antecedent[1] = ${product:-(SELECT antecedent[1] FROM product_rules WHERE cardinality(antecedent) = 1 ORDER BY lift DESC, pair_count DESC LIMIT 1)}
ORDER BY 4 DESC, 1;

-- Category level: which categories share baskets more than chance?
SELECT array_to_string(antecedent, ', ') AS category, array_to_string(consequent, ', ') AS with_category,
       round(confidence, 3) AS confidence, round(lift, 3) AS lift
FROM association_rules('SELECT i.order_id, p.category FROM order_items i JOIN products p USING (product_id)',
                       'order_id', 'category', 0.01, 0.1, 2)
ORDER BY lift DESC
LIMIT 10;
