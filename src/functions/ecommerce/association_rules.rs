//! `association_rules(table_or_query, basket_col, item_col, min_support, min_confidence
//! [, max_len])`: cross-selling rules "baskets with A also hold C", mined with FP-growth.
//!
//! Definitions are mlxtend's (`fpgrowth` then `association_rules(metric='confidence')`): a
//! basket is a distinct `basket_col` value and holds the distinct non-NULL items of its rows;
//! an itemset is frequent when it is in at least ⌈min_support · baskets⌉ baskets; every split
//! of a frequent itemset into antecedent → consequent with
//! confidence = support(A ∪ C) / support(A) ≥ min_confidence is a rule. lift =
//! confidence / support(C), leverage = support(A ∪ C) − support(A)·support(C), conviction =
//! (1 − support(C)) / (1 − confidence) (infinite when confidence is 1).
//!
//! The input query is run by DataFusion; the mining (dense ids, projected-database FP-growth
//! with identical transactions merged) is ours.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::array::{
    Array, ArrayRef, Float64Array, Int64Array, ListArray, RecordBatch, UInt32Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::{cast, concat, sort_to_indices, take};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::Expr;

use crate::functions::computed::ComputedTable;
use crate::util::{from_item, literal, literal_f64, literal_string, plan_sql, quote_ident};

const NAME: &str = "association_rules";
/// Itemsets longer than this are not split into rules (2^len splits).
const MAX_RULE_ITEMSET: usize = 20;

/// The `association_rules` table function.
#[derive(Debug)]
pub struct AssociationRules;

/// Mining parameters.
#[derive(Debug, Clone, Copy)]
struct Params {
    min_support: f64,
    min_confidence: f64,
    max_len: usize,
}

fn output_schema(item_type: &DataType) -> SchemaRef {
    let list = || DataType::List(Arc::new(Field::new("item", item_type.clone(), true)));
    Arc::new(Schema::new(vec![
        Field::new("antecedent", list(), false),
        Field::new("consequent", list(), false),
        Field::new("support", DataType::Float64, false),
        Field::new("confidence", DataType::Float64, false),
        Field::new("lift", DataType::Float64, false),
        Field::new("leverage", DataType::Float64, false),
        Field::new("conviction", DataType::Float64, false),
        Field::new("pair_count", DataType::Int64, false),
    ]))
}

impl TableFunctionImpl for AssociationRules {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let e = args.exprs();
        if !(5..=6).contains(&e.len()) {
            return plan_err!("{NAME}: expected (table_or_query, basket_col, item_col, min_support, min_confidence [, max_len]), got {} arguments", e.len());
        }
        let source = literal_string(e, 0, NAME, "table_or_query")?;
        let basket = literal_string(e, 1, NAME, "basket_col")?;
        let item = literal_string(e, 2, NAME, "item_col")?;
        let min_support = literal_f64(e, 3, NAME, "min_support")?;
        if !(min_support > 0.0 && min_support <= 1.0) {
            return plan_err!("{NAME}: argument min_support must be a share of baskets in (0, 1]; got {min_support}");
        }
        let min_confidence = literal_f64(e, 4, NAME, "min_confidence")?;
        if !(0.0..=1.0).contains(&min_confidence) {
            return plan_err!(
                "{NAME}: argument min_confidence must be in [0, 1]; got {min_confidence}"
            );
        }
        let max_len = match e.get(5) {
            None => usize::MAX,
            Some(Expr::Literal(v, _)) if v.is_null() => usize::MAX,
            Some(_) => match literal(e, 5, NAME, "max_len")? {
                v if v.data_type().is_integer() => match v.cast_to(&DataType::Int64)? {
                    ScalarValue::Int64(Some(n)) if n >= 2 => n as usize,
                    other => return plan_err!("{NAME}: argument max_len must be at least 2 (a rule needs two items), or NULL for no limit; got {other}"),
                },
                v => return plan_err!("{NAME}: argument max_len must be an integer, or NULL for no limit; got {} {v}", v.data_type()),
            },
        };
        let sql = format!(
            "SELECT {b} AS basket, {i} AS item FROM {from} WHERE {b} IS NOT NULL AND {i} IS NOT NULL",
            b = quote_ident(&basket),
            i = quote_ident(&item),
            from = from_item(&source),
        );
        let plan = plan_sql(args.session(), &sql).map_err(|err| {
            datafusion::common::plan_datafusion_err!(
                "{NAME}: cannot read '{source}' with basket_col '{basket}' and item_col '{item}': {err}"
            )
        })?;
        let item_type = plan.schema().field(1).data_type().clone();
        if matches!(
            item_type,
            DataType::List(_) | DataType::LargeList(_) | DataType::Struct(_) | DataType::Map(_, _)
        ) {
            return plan_err!("{NAME}: item_col '{item}' must hold one item per row; got {item_type} (unnest lists first)");
        }
        let schema = output_schema(&item_type);
        let params = Params {
            min_support,
            min_confidence,
            max_len,
        };
        let out_schema = Arc::clone(&schema);
        Ok(Arc::new(ComputedTable::new(
            NAME,
            schema,
            plan,
            Arc::new(move |batches| rules_batch(&batches, &out_schema, params)),
        )))
    }
}

/// Dense ids for the distinct values of a column across batches, plus the batch and row of
/// each id's first occurrence.
struct Dictionary {
    ids: Vec<Vec<u32>>,
    first: Vec<(usize, usize)>,
}

fn dictionary(columns: &[ArrayRef]) -> Result<Dictionary> {
    let Some(first_col) = columns.first() else {
        return Ok(Dictionary {
            ids: vec![],
            first: vec![],
        });
    };
    if first_col.data_type().is_integer() {
        // ids and codes usually are integers: hash the values, not their row encoding
        let mut map: HashMap<i64, u32> = HashMap::new();
        let mut first = vec![];
        let mut ids = Vec::with_capacity(columns.len());
        for (b, col) in columns.iter().enumerate() {
            let values = cast(col, &DataType::Int64)?;
            let values = values.as_primitive::<Int64Type>();
            let mut out = Vec::with_capacity(values.len());
            for (r, v) in values.values().iter().enumerate() {
                let next = first.len() as u32;
                let id = *map.entry(*v).or_insert_with(|| {
                    first.push((b, r));
                    next
                });
                out.push(id);
            }
            ids.push(out);
        }
        return Ok(Dictionary { ids, first });
    }
    let converter = RowConverter::new(vec![SortField::new(first_col.data_type().clone())])?;
    let mut map: HashMap<Box<[u8]>, u32> = HashMap::new();
    let mut first = vec![];
    let mut ids = Vec::with_capacity(columns.len());
    for (b, col) in columns.iter().enumerate() {
        let rows = converter.convert_columns(std::slice::from_ref(col))?;
        let mut out = Vec::with_capacity(rows.num_rows());
        for (r, row) in rows.iter().enumerate() {
            let key: &[u8] = row.as_ref();
            let id = match map.get(key) {
                Some(id) => *id,
                None => {
                    let id = first.len() as u32;
                    map.insert(key.into(), id);
                    first.push((b, r));
                    id
                }
            };
            out.push(id);
        }
        ids.push(out);
    }
    Ok(Dictionary { ids, first })
}

/// Frequent itemsets (as sorted item ids) and their basket counts, by FP-growth over a
/// projected database: `transactions` hold item ranks sorted ascending (rank 0 = most
/// frequent), with a multiplicity.
fn mine(
    transactions: &[(Vec<u32>, u64)],
    n_ranks: usize,
    prefix: &mut Vec<u32>,
    min_count: u64,
    max_len: usize,
    out: &mut Vec<(Vec<u32>, u64)>,
) {
    let mut counts = vec![0u64; n_ranks];
    let mut holding: Vec<Vec<usize>> = vec![vec![]; n_ranks];
    for (t, (items, mult)) in transactions.iter().enumerate() {
        for &r in items {
            counts[r as usize] += mult;
            holding[r as usize].push(t);
        }
    }
    for r in 0..n_ranks {
        if counts[r] < min_count {
            continue;
        }
        prefix.push(r as u32);
        out.push((prefix.clone(), counts[r]));
        if prefix.len() < max_len && r > 0 {
            // the conditional database of r: the more frequent items of each basket with r,
            // keeping only those frequent together with r
            let mut together = vec![0u64; r];
            for &t in &holding[r] {
                let (items, mult) = &transactions[t];
                for &i in items.iter().take_while(|&&i| (i as usize) < r) {
                    together[i as usize] += mult;
                }
            }
            let mut merged: HashMap<Vec<u32>, u64> = HashMap::new();
            for &t in &holding[r] {
                let (items, mult) = &transactions[t];
                let cond: Vec<u32> = items
                    .iter()
                    .copied()
                    .take_while(|&i| (i as usize) < r)
                    .filter(|&i| together[i as usize] >= min_count)
                    .collect();
                if !cond.is_empty() {
                    *merged.entry(cond).or_default() += mult;
                }
            }
            if !merged.is_empty() {
                let mut cond_db: Vec<(Vec<u32>, u64)> = merged.into_iter().collect();
                cond_db.sort_unstable();
                mine(&cond_db, r, prefix, min_count, max_len, out);
            }
        }
        prefix.pop();
    }
}

/// One rule, items as value-ordered ids.
struct Rule {
    antecedent: Vec<u32>,
    consequent: Vec<u32>,
    support: f64,
    confidence: f64,
    lift: f64,
    leverage: f64,
    conviction: f64,
    count: u64,
}

/// Mines the rules of (basket, item) batches.
fn rules_batch(batches: &[RecordBatch], schema: &SchemaRef, p: Params) -> Result<RecordBatch> {
    let item_type = match schema.field(0).data_type() {
        DataType::List(f) => f.data_type().clone(),
        other => return exec_err!("{NAME}: internal error: antecedent is {other}"),
    };
    let batches: Vec<&RecordBatch> = batches.iter().filter(|b| b.num_rows() > 0).collect();
    let baskets = dictionary(
        &batches
            .iter()
            .map(|b| Arc::clone(b.column(0)))
            .collect::<Vec<_>>(),
    )?;
    let item_cols: Vec<ArrayRef> = batches.iter().map(|b| Arc::clone(b.column(1))).collect();
    let items = dictionary(&item_cols)?;
    let n_baskets = baskets.first.len();
    let n_items = items.first.len();

    // the distinct items as one array, and each item's position in value order
    let distinct: ArrayRef = if n_items == 0 {
        datafusion::arrow::array::new_empty_array(&item_type)
    } else {
        let parts: Vec<ArrayRef> = items
            .first
            .iter()
            .map(|&(b, r)| item_cols[b].slice(r, 1))
            .collect();
        let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
        concat(&refs)?
    };
    let order = sort_to_indices(&distinct, None, None)?;
    let mut value_rank = vec![0u32; n_items];
    for (pos, &id) in order.values().iter().enumerate() {
        value_rank[id as usize] = pos as u32;
    }
    let sorted_items = take(distinct.as_ref(), &order, None)?;

    // (basket, item) pairs, one per item in a basket, packed into u64 so one integer sort
    // groups them by basket and drops repeated lines
    let mut pairs: Vec<u64> = Vec::new();
    for (b_ids, i_ids) in baskets.ids.iter().zip(&items.ids) {
        pairs.extend(
            b_ids
                .iter()
                .zip(i_ids)
                .map(|(&b, &i)| (u64::from(b) << 32) | u64::from(value_rank[i as usize])),
        );
    }
    pairs.sort_unstable();
    pairs.dedup();
    let basket_of = |p: u64| (p >> 32) as u32;
    let item_of = |p: u64| p as u32;

    let min_count = ((p.min_support * n_baskets as f64).ceil() as u64).max(1);
    let mut item_count = vec![0u64; n_items];
    for &p in &pairs {
        item_count[item_of(p) as usize] += 1;
    }
    // frequency ranks of the frequent items: count descending, value ascending
    let mut frequent: Vec<u32> = (0..n_items as u32)
        .filter(|&i| item_count[i as usize] >= min_count)
        .collect();
    frequent.sort_by(|a, b| {
        item_count[*b as usize]
            .cmp(&item_count[*a as usize])
            .then(a.cmp(b))
    });
    let mut rank_of = vec![u32::MAX; n_items];
    for (r, &i) in frequent.iter().enumerate() {
        rank_of[i as usize] = r as u32;
    }

    let mut merged: HashMap<Vec<u32>, u64> = HashMap::new();
    let mut i = 0;
    while i < pairs.len() {
        let basket = basket_of(pairs[i]);
        let mut t: Vec<u32> = vec![];
        while i < pairs.len() && basket_of(pairs[i]) == basket {
            let r = rank_of[item_of(pairs[i]) as usize];
            if r != u32::MAX {
                t.push(r);
            }
            i += 1;
        }
        if !t.is_empty() {
            t.sort_unstable();
            *merged.entry(t).or_default() += 1;
        }
    }
    let mut db: Vec<(Vec<u32>, u64)> = merged.into_iter().collect();
    db.sort_unstable();
    let mut found = vec![];
    mine(
        &db,
        frequent.len(),
        &mut vec![],
        min_count,
        p.max_len,
        &mut found,
    );

    // itemsets keyed by sorted value-ordered ids
    let itemsets: HashMap<Vec<u32>, u64> = found
        .into_iter()
        .map(|(ranks, c)| {
            let mut ids: Vec<u32> = ranks.iter().map(|&r| frequent[r as usize]).collect();
            ids.sort_unstable();
            (ids, c)
        })
        .collect();
    let n = n_baskets as f64;
    let mut rules = vec![];
    for (set, &count) in &itemsets {
        let len = set.len();
        if !(2..=MAX_RULE_ITEMSET).contains(&len) {
            continue;
        }
        let s_ac = count as f64 / n;
        for mask in 1..(1u32 << len) - 1 {
            let (mut a, mut c) = (vec![], vec![]);
            for (k, &id) in set.iter().enumerate() {
                if mask & (1 << k) != 0 {
                    a.push(id);
                } else {
                    c.push(id);
                }
            }
            let (Some(&ca), Some(&cc)) = (itemsets.get(&a), itemsets.get(&c)) else {
                return exec_err!(
                    "{NAME}: internal error: a subset of a frequent itemset is missing"
                );
            };
            let (s_a, s_c) = (ca as f64 / n, cc as f64 / n);
            let confidence = s_ac / s_a;
            if confidence < p.min_confidence {
                continue;
            }
            rules.push(Rule {
                antecedent: a,
                consequent: c,
                support: s_ac,
                confidence,
                lift: confidence / s_c,
                leverage: s_ac - s_a * s_c,
                conviction: if confidence < 1.0 {
                    (1.0 - s_c) / (1.0 - confidence)
                } else {
                    f64::INFINITY
                },
                count,
            });
        }
    }
    rules.sort_by(|x, y| {
        x.antecedent
            .cmp(&y.antecedent)
            .then_with(|| x.consequent.cmp(&y.consequent))
    });

    let list = |sets: Vec<&Vec<u32>>| -> Result<ArrayRef> {
        let offsets = OffsetBuffer::from_lengths(sets.iter().map(|s| s.len()));
        let idx: UInt32Array = sets.iter().flat_map(|s| s.iter().copied()).collect();
        let values = take(sorted_items.as_ref(), &idx, None)?;
        Ok(Arc::new(ListArray::try_new(
            Arc::new(Field::new("item", item_type.clone(), true)),
            offsets,
            values,
            None,
        )?))
    };
    let f = |g: fn(&Rule) -> f64| -> ArrayRef {
        Arc::new(rules.iter().map(g).collect::<Float64Array>())
    };
    let columns: Vec<ArrayRef> = vec![
        list(rules.iter().map(|r| &r.antecedent).collect())?,
        list(rules.iter().map(|r| &r.consequent).collect())?,
        f(|r| r.support),
        f(|r| r.confidence),
        f(|r| r.lift),
        f(|r| r.leverage),
        f(|r| r.conviction),
        Arc::new(rules.iter().map(|r| r.count as i64).collect::<Int64Array>()),
    ];
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Float64Type;

    fn batch(rows: &[(i64, &str)]) -> RecordBatch {
        let b: ArrayRef = Arc::new(Int64Array::from(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        ));
        let i: ArrayRef = Arc::new(datafusion::arrow::array::StringArray::from(
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        ));
        RecordBatch::try_from_iter([("basket", b), ("item", i)]).unwrap()
    }

    #[test]
    fn rules_by_hand() {
        // baskets: {a,b,c}, {a,b}, {a,c}, {b}; a duplicate line in basket 1
        let b = batch(&[
            (1, "a"),
            (1, "b"),
            (1, "c"),
            (1, "a"),
            (2, "a"),
            (2, "b"),
            (3, "a"),
            (3, "c"),
            (4, "b"),
        ]);
        let schema = output_schema(&DataType::Utf8);
        let p = Params {
            min_support: 0.25,
            min_confidence: 0.0,
            max_len: usize::MAX,
        };
        let out = rules_batch(std::slice::from_ref(&b), &schema, p).unwrap();
        // itemsets of 2: ab (2), ac (2), bc (1); of 3: abc (1): rules 2+2+2 + 6 = 12
        assert_eq!(out.num_rows(), 12);
        // first rule: a -> b, support 2/4, confidence 2/3, lift (2/3)/(3/4)
        let conf = out.column(3).as_primitive::<Float64Type>();
        let lift = out.column(4).as_primitive::<Float64Type>();
        assert_eq!(out.column(2).as_primitive::<Float64Type>().value(0), 0.5);
        assert!((conf.value(0) - 2.0 / 3.0).abs() < 1e-15);
        assert!((lift.value(0) - (2.0 / 3.0) / 0.75).abs() < 1e-15);
        // pairs only
        let out2 = rules_batch(&[b], &schema, Params { max_len: 2, ..p }).unwrap();
        assert_eq!(out2.num_rows(), 6);
    }
}
