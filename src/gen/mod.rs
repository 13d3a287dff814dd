//! `cohort gen`: a deterministic synthetic shop with planted structure.
//!
//! Customers belong to hidden segments with different purchase rates, basket sizes, price
//! levels and churn hazards; acquisition channel and age depend on the segment, so they carry
//! signal. Products have planted co-purchase pairs. The ground truth is written to
//! `segments.parquet` so tests can check that models recover it.
//!
//! Demand has the structure forecasting needs: orders follow a weekly cycle (weekends busiest,
//! [`WEEKDAY_WEIGHT`]), the active customer base grows over the first months, 24 products run
//! week-long promotions (`promotions.parquet`) that lift their sales, and the Zipf-like
//! popularity leaves a long tail of products with intermittent daily demand.
//!
//! Tables (Parquet): customers, products, orders, order_items, events, segments, pairs,
//! promotions.
//! History runs from 2024-01-01 to 2025-12-31; analyses use `as_of = 2026-01-01`.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::common::{exec_datafusion_err, Result};
use parquet::arrow::ArrowWriter;
use rand::distributions::WeightedIndex;
use rand::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Exp, LogNormal, Poisson};

/// First day of the generated history.
pub const START: (i32, u32, u32) = (2024, 1, 1);
/// Days of history (2024-01-01 .. 2025-12-31).
pub const DAYS: i64 = 731;

/// Relative order intensity by weekday, Monday first (2024-01-01 is a Monday); an order is
/// kept with probability weight / max, and rates are raised by the mean keep rate so a
/// segment's `orders_per_month` stays its average.
pub const WEEKDAY_WEIGHT: [f64; 7] = [0.75, 0.8, 0.85, 0.9, 1.05, 1.3, 1.35];

/// A hidden customer segment.
struct Segment {
    name: &'static str,
    share: f64,
    orders_per_month: f64,
    churn_per_month: f64,
    extra_items: f64,
    price_level: f64,
    channels: [f64; 5],
    age_mean: f64,
}

const CHANNELS: [&str; 5] = ["organic", "paid_search", "social", "email", "referral"];
const COUNTRIES: [&str; 6] = ["DE", "FR", "GB", "NL", "ES", "IT"];
const CATEGORIES: [&str; 10] = [
    "electronics",
    "fashion",
    "home",
    "beauty",
    "sports",
    "toys",
    "books",
    "grocery",
    "garden",
    "pets",
];

const SEGMENTS: [Segment; 4] = [
    Segment {
        name: "vip",
        share: 0.10,
        orders_per_month: 1.6,
        churn_per_month: 0.01,
        extra_items: 2.5,
        price_level: 1.6,
        channels: [0.30, 0.10, 0.05, 0.35, 0.20],
        age_mean: 44.0,
    },
    Segment {
        name: "regular",
        share: 0.30,
        orders_per_month: 0.6,
        churn_per_month: 0.03,
        extra_items: 1.5,
        price_level: 1.0,
        channels: [0.35, 0.25, 0.15, 0.15, 0.10],
        age_mean: 38.0,
    },
    Segment {
        name: "bargain",
        share: 0.25,
        orders_per_month: 0.8,
        churn_per_month: 0.05,
        extra_items: 1.0,
        price_level: 0.6,
        channels: [0.20, 0.35, 0.30, 0.10, 0.05],
        age_mean: 31.0,
    },
    Segment {
        name: "one_off",
        share: 0.35,
        orders_per_month: 0.25,
        churn_per_month: 0.35,
        extra_items: 0.5,
        price_level: 0.9,
        channels: [0.15, 0.40, 0.40, 0.02, 0.03],
        age_mean: 29.0,
    },
];

/// What was generated.
#[derive(Debug, Clone, Default)]
pub struct GenSummary {
    /// Customers written.
    pub customers: usize,
    /// Products written.
    pub products: usize,
    /// Orders written.
    pub orders: usize,
    /// Order lines written.
    pub order_items: usize,
    /// Events written.
    pub events: usize,
}

fn err(e: impl std::fmt::Display) -> datafusion::error::DataFusionError {
    exec_datafusion_err!("cohort gen: {e}")
}

/// Column buffers flushed to a Parquet writer every `FLUSH` rows.
struct Sink {
    writer: ArrowWriter<File>,
    schema: SchemaRef,
}

const FLUSH: usize = 131_072;

impl Sink {
    fn new(dir: &Path, name: &str, fields: Vec<Field>) -> Result<Self> {
        let schema = Arc::new(Schema::new(fields));
        let file = File::create(dir.join(format!("{name}.parquet"))).map_err(err)?;
        Ok(Self {
            writer: ArrowWriter::try_new(file, Arc::clone(&schema), None)?,
            schema,
        })
    }
    fn write(&mut self, cols: Vec<ArrayRef>) -> Result<()> {
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), cols)?;
        if batch.num_rows() > 0 {
            self.writer.write(&batch)?;
        }
        Ok(())
    }
    fn close(self) -> Result<()> {
        self.writer.close()?;
        Ok(())
    }
}

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

fn micros(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

#[derive(Default)]
struct OrderBuf {
    order_id: Vec<i64>,
    customer_id: Vec<i64>,
    ts: Vec<i64>,
    amount: Vec<f64>,
    n_items: Vec<i32>,
}

#[derive(Default)]
struct ItemBuf {
    order_id: Vec<i64>,
    product_id: Vec<i64>,
    quantity: Vec<i32>,
    price: Vec<f64>,
}

#[derive(Default)]
struct EventBuf {
    customer_id: Vec<i64>,
    ts: Vec<i64>,
    event_type: Vec<&'static str>,
    product_id: Vec<i64>,
}

/// Writes the synthetic shop into `out` (created if missing).
pub fn generate(out: &Path, customers: usize, seed: u64) -> Result<GenSummary> {
    std::fs::create_dir_all(out).map_err(err)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start =
        NaiveDate::from_ymd_opt(START.0, START.1, START.2).ok_or_else(|| err("bad start date"))?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).ok_or_else(|| err("bad epoch"))?;
    let start_dt = start
        .and_hms_opt(0, 0, 0)
        .ok_or_else(|| err("bad start time"))?;

    // ---- products: category, price, popularity; planted pairs
    let n_products = 1000usize;
    let mut p_category = Vec::with_capacity(n_products);
    let mut p_price = Vec::with_capacity(n_products);
    let price_dist = LogNormal::<f64>::new(3.0, 0.7).map_err(err)?;
    for i in 0..n_products {
        p_category.push(CATEGORIES[i % CATEGORIES.len()]);
        p_price.push((price_dist.sample(&mut rng) * 100.0).round() / 100.0 + 0.99);
    }
    // Zipf-like popularity, shuffled so popular products spread over categories.
    let mut popularity: Vec<f64> = (0..n_products).map(|r| 1.0 / (r as f64 + 10.0)).collect();
    popularity.shuffle(&mut rng);
    let pick_product = WeightedIndex::new(&popularity).map_err(err)?;
    // 25 planted pairs among the 200 most popular products: buying `a` adds `b` with p = 0.6.
    let mut by_pop: Vec<usize> = (0..n_products).collect();
    by_pop.sort_by(|a, b| popularity[*b].total_cmp(&popularity[*a]).then(a.cmp(b)));
    let mut partner: Vec<Option<usize>> = vec![None; n_products];
    let mut pairs = vec![];
    let mut candidates: Vec<usize> = by_pop[..200].to_vec();
    candidates.shuffle(&mut rng);
    for chunk in candidates.chunks(2).take(25) {
        if let [a, b] = chunk {
            partner[*a] = Some(*b);
            pairs.push((*a, *b));
        }
    }

    let mut products = Sink::new(
        out,
        "products",
        vec![
            Field::new("product_id", DataType::Int64, false),
            Field::new("category", DataType::Utf8, false),
            Field::new("price", DataType::Float64, false),
        ],
    )?;
    products.write(vec![
        Arc::new(Int64Array::from_iter_values(
            (1..=n_products as i64).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(p_category.clone())),
        Arc::new(Float64Array::from(p_price.clone())),
    ])?;
    products.close()?;
    let mut pair_sink = Sink::new(
        out,
        "pairs",
        vec![
            Field::new("product_a", DataType::Int64, false),
            Field::new("product_b", DataType::Int64, false),
        ],
    )?;
    pair_sink.write(vec![
        Arc::new(Int64Array::from_iter_values(
            pairs.iter().map(|p| p.0 as i64 + 1),
        )),
        Arc::new(Int64Array::from_iter_values(
            pairs.iter().map(|p| p.1 as i64 + 1),
        )),
    ])?;
    pair_sink.close()?;

    // ---- promotions: 24 week-long promotions of products among the 300 most popular; while
    // one runs, an item drawn for a basket is the promoted product with p = 0.2
    let mut promos: Vec<(usize, i64)> = (0..24)
        .map(|_| (by_pop[rng.gen_range(0..300)], rng.gen_range(30..DAYS - 14)))
        .collect();
    promos.sort_by_key(|p| (p.1, p.0));
    let mut promo_sink = Sink::new(
        out,
        "promotions",
        vec![
            Field::new("product_id", DataType::Int64, false),
            Field::new("start_date", DataType::Date32, false),
            Field::new("end_date", DataType::Date32, false),
        ],
    )?;
    let day0 = (start - epoch).num_days() as i32;
    promo_sink.write(vec![
        Arc::new(Int64Array::from_iter_values(
            promos.iter().map(|p| p.0 as i64 + 1),
        )),
        Arc::new(Date32Array::from_iter_values(
            promos.iter().map(|p| day0 + p.1 as i32),
        )),
        Arc::new(Date32Array::from_iter_values(
            promos.iter().map(|p| day0 + p.1 as i32 + 6),
        )),
    ])?;
    promo_sink.close()?;
    let max_w = WEEKDAY_WEIGHT.iter().copied().fold(0.0, f64::max);
    let mean_keep = WEEKDAY_WEIGHT.iter().sum::<f64>() / 7.0 / max_w;

    let mut cust_sink = Sink::new(
        out,
        "customers",
        vec![
            Field::new("customer_id", DataType::Int64, false),
            Field::new("signup_date", DataType::Date32, false),
            Field::new("country", DataType::Utf8, false),
            Field::new("age", DataType::Int32, false),
            Field::new("gender", DataType::Utf8, false),
            Field::new("channel", DataType::Utf8, false),
        ],
    )?;
    let mut seg_sink = Sink::new(
        out,
        "segments",
        vec![
            Field::new("customer_id", DataType::Int64, false),
            Field::new("segment", DataType::Utf8, false),
            Field::new("orders_per_month", DataType::Float64, false),
            Field::new("churn_per_month", DataType::Float64, false),
        ],
    )?;
    let mut order_sink = Sink::new(
        out,
        "orders",
        vec![
            Field::new("order_id", DataType::Int64, false),
            Field::new("customer_id", DataType::Int64, false),
            Field::new("order_ts", ts_type(), false),
            Field::new("amount", DataType::Float64, false),
            Field::new("n_items", DataType::Int32, false),
        ],
    )?;
    let mut item_sink = Sink::new(
        out,
        "order_items",
        vec![
            Field::new("order_id", DataType::Int64, false),
            Field::new("product_id", DataType::Int64, false),
            Field::new("quantity", DataType::Int32, false),
            Field::new("price", DataType::Float64, false),
        ],
    )?;
    let mut event_sink = Sink::new(
        out,
        "events",
        vec![
            Field::new("customer_id", DataType::Int64, false),
            Field::new("ts", ts_type(), false),
            Field::new("event_type", DataType::Utf8, false),
            Field::new("product_id", DataType::Int64, false),
        ],
    )?;

    let seg_pick = WeightedIndex::new(SEGMENTS.iter().map(|s| s.share)).map_err(err)?;
    let country_pick = WeightedIndex::new([0.30, 0.20, 0.20, 0.10, 0.10, 0.10]).map_err(err)?;
    let mut summary = GenSummary {
        customers,
        products: n_products,
        ..Default::default()
    };
    let (mut c_id, mut c_signup, mut c_country, mut c_age, mut c_gender, mut c_channel) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut s_id, mut s_name, mut s_rate, mut s_churn) = (vec![], vec![], vec![], vec![]);
    let mut orders = OrderBuf::default();
    let mut items = ItemBuf::default();
    let mut events = EventBuf::default();
    let mut next_order: i64 = 1;
    let day_us: i64 = 86_400_000_000;

    for cid in 1..=customers as i64 {
        let seg = &SEGMENTS[seg_pick.sample(&mut rng)];
        // Individual rates vary around the segment's (gamma-like heterogeneity via log-normal).
        let rate = seg.orders_per_month * LogNormal::new(0.0, 0.35).map_err(err)?.sample(&mut rng);
        let churn = seg.churn_per_month;
        let signup_day = rng.gen_range(0..(DAYS - 60));
        let signup = start + Duration::days(signup_day);
        let channel_pick = WeightedIndex::new(seg.channels).map_err(err)?;
        let channel = CHANNELS[channel_pick.sample(&mut rng)];
        let age = (seg.age_mean + rng.gen_range(-12.0..12.0_f64))
            .round()
            .clamp(18.0, 80.0) as i32;
        c_id.push(cid);
        c_signup.push((signup - epoch).num_days() as i32);
        c_country.push(COUNTRIES[country_pick.sample(&mut rng)]);
        c_age.push(age);
        c_gender.push(if rng.gen_bool(0.52) { "f" } else { "m" });
        c_channel.push(channel);
        s_id.push(cid);
        s_name.push(seg.name);
        s_rate.push(rate);
        s_churn.push(churn);

        // Active life in days; purchases follow a Poisson process while active.
        let life_days = Exp::new(churn / 30.0).map_err(err)?.sample(&mut rng);
        let end_day = (signup_day as f64 + life_days).min(DAYS as f64);
        let gap = Exp::new(rate / 30.0 / mean_keep).map_err(err)?;
        // Most customers buy on sign-up day; the rest browse first.
        let mut t = signup_day as f64
            + if rng.gen_bool(0.8) {
                rng.gen_range(0.0..1.0)
            } else {
                rng.gen_range(0.0..14.0)
            };
        let pref_cat = rng.gen_range(0..CATEGORIES.len());
        while t < end_day {
            // the weekly cycle: thin the order stream by weekday
            let dow = (t.floor() as i64).rem_euclid(7) as usize;
            if !rng.gen_bool(WEEKDAY_WEIGHT[dow] / max_w) {
                t += gap.sample(&mut rng).max(0.5);
                continue;
            }
            let day = t.floor() as i64;
            let promoted: Vec<usize> = promos
                .iter()
                .filter(|p| day >= p.1 && day < p.1 + 7)
                .map(|p| p.0)
                .collect();
            let ts = micros(start_dt) + (t * day_us as f64) as i64;
            let extra = Poisson::new(seg.extra_items.max(0.01))
                .map_err(err)?
                .sample(&mut rng) as usize;
            let mut basket: Vec<usize> = vec![];
            for _ in 0..(1 + extra) {
                let mut p = pick_product.sample(&mut rng);
                // Lean towards the customer's favourite category.
                if rng.gen_bool(0.3) {
                    p = (p / CATEGORIES.len()) * CATEGORIES.len() + pref_cat;
                }
                if !promoted.is_empty() && rng.gen_bool(0.2) {
                    p = promoted[rng.gen_range(0..promoted.len())];
                }
                if !basket.contains(&p) {
                    basket.push(p);
                }
                if let Some(b) = partner[p] {
                    if rng.gen_bool(0.6) && !basket.contains(&b) {
                        basket.push(b);
                    }
                }
            }
            let mut amount = 0.0_f64;
            let mut n_items = 0;
            for &p in &basket {
                let q = if rng.gen_bool(0.85) {
                    1
                } else {
                    rng.gen_range(2..4)
                };
                let price = ((p_price[p] * seg.price_level * rng.gen_range(0.9..1.1)) * 100.0)
                    .round()
                    / 100.0;
                items.order_id.push(next_order);
                items.product_id.push(p as i64 + 1);
                items.quantity.push(q);
                items.price.push(price);
                amount += price * f64::from(q);
                n_items += q;
                // view → cart for each item, minutes before the order
                let lead = rng.gen_range(5..90) * 60_000_000;
                events.customer_id.extend([cid, cid]);
                events.ts.extend([ts - lead, ts - lead / 2]);
                events.event_type.extend(["view", "cart"]);
                events.product_id.extend([p as i64 + 1, p as i64 + 1]);
            }
            events.customer_id.extend([cid, cid]);
            events.ts.extend([ts - 120_000_000, ts]);
            events.event_type.extend(["checkout", "purchase"]);
            events
                .product_id
                .extend([basket[0] as i64 + 1, basket[0] as i64 + 1]);
            orders.order_id.push(next_order);
            orders.customer_id.push(cid);
            orders.ts.push(ts);
            orders.amount.push((amount * 100.0).round() / 100.0);
            orders.n_items.push(n_items);
            next_order += 1;
            t += gap.sample(&mut rng).max(0.5);
        }
        // Browsing that did not convert; paid channels browse more and convert less.
        let sessions =
            rng.gen_range(0..4) + usize::from(matches!(channel, "paid_search" | "social")) * 2;
        for _ in 0..sessions {
            let day = rng.gen_range(signup_day as f64..end_day.max(signup_day as f64 + 1.0));
            let ts = micros(start_dt) + (day * day_us as f64) as i64;
            let p = pick_product.sample(&mut rng) as i64 + 1;
            events.customer_id.push(cid);
            events.ts.push(ts);
            events.event_type.push("view");
            events.product_id.push(p);
            if rng.gen_bool(0.3) {
                events.customer_id.push(cid);
                events.ts.push(ts + 60_000_000);
                events.event_type.push("cart");
                events.product_id.push(p);
                if rng.gen_bool(0.3) {
                    events.customer_id.push(cid);
                    events.ts.push(ts + 180_000_000);
                    events.event_type.push("checkout");
                    events.product_id.push(p);
                }
            }
        }

        if c_id.len() >= FLUSH || cid == customers as i64 {
            cust_sink.write(vec![
                Arc::new(Int64Array::from(std::mem::take(&mut c_id))),
                Arc::new(Date32Array::from(std::mem::take(&mut c_signup))),
                Arc::new(StringArray::from(std::mem::take(&mut c_country))),
                Arc::new(Int32Array::from(std::mem::take(&mut c_age))),
                Arc::new(StringArray::from(std::mem::take(&mut c_gender))),
                Arc::new(StringArray::from(std::mem::take(&mut c_channel))),
            ])?;
            seg_sink.write(vec![
                Arc::new(Int64Array::from(std::mem::take(&mut s_id))),
                Arc::new(StringArray::from(std::mem::take(&mut s_name))),
                Arc::new(Float64Array::from(std::mem::take(&mut s_rate))),
                Arc::new(Float64Array::from(std::mem::take(&mut s_churn))),
            ])?;
        }
        if orders.order_id.len() >= FLUSH || cid == customers as i64 {
            summary.orders += orders.order_id.len();
            let o = std::mem::take(&mut orders);
            order_sink.write(vec![
                Arc::new(Int64Array::from(o.order_id)),
                Arc::new(Int64Array::from(o.customer_id)),
                Arc::new(TimestampMicrosecondArray::from(o.ts)),
                Arc::new(Float64Array::from(o.amount)),
                Arc::new(Int32Array::from(o.n_items)),
            ])?;
        }
        if items.order_id.len() >= FLUSH || cid == customers as i64 {
            summary.order_items += items.order_id.len();
            let i = std::mem::take(&mut items);
            item_sink.write(vec![
                Arc::new(Int64Array::from(i.order_id)),
                Arc::new(Int64Array::from(i.product_id)),
                Arc::new(Int32Array::from(i.quantity)),
                Arc::new(Float64Array::from(i.price)),
            ])?;
        }
        if events.ts.len() >= FLUSH || cid == customers as i64 {
            summary.events += events.ts.len();
            let e = std::mem::take(&mut events);
            event_sink.write(vec![
                Arc::new(Int64Array::from(e.customer_id)),
                Arc::new(TimestampMicrosecondArray::from(e.ts)),
                Arc::new(StringArray::from(e.event_type)),
                Arc::new(Int64Array::from(e.product_id)),
            ])?;
        }
    }
    cust_sink.close()?;
    seg_sink.close()?;
    order_sink.close()?;
    item_sink.close()?;
    event_sink.close()?;
    Ok(summary)
}
