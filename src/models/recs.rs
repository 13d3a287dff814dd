//! Recommendation models over (user, item, weight) interactions: `popularity`, `item_knn`
//! (cosine or BM25 item-item neighbours), `als` (implicit-feedback matrix factorisation, Hu,
//! Koren & Volinsky 2008, solved by conjugate gradient as in the `implicit` library) and
//! `repeat_aware` (a user's own purchase history blended with item neighbours, for
//! next-basket data).
//!
//! Users and items are dictionary-encoded in ascending id order, so indices (and with them
//! every tie-break, "smaller id first") do not depend on the order rows arrived in.

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt32Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use datafusion::common::{exec_datafusion_err, plan_err, Result};
use ndarray::{Array1, Array2, ArrayView1, Axis};
use rand::Rng;
use rand::SeedableRng;

/// Options every recommendation type takes (besides `type` and `seed`).
const INTERACTION_OPTIONS: &[&str] = &["user_col", "item_col", "weight_col"];
/// Options of `type = 'popularity'`.
pub const POPULARITY_OPTIONS: &[&str] = INTERACTION_OPTIONS;
/// Options of `type = 'item_knn'`.
pub const ITEM_KNN_OPTIONS: &[&str] = &[
    "user_col",
    "item_col",
    "weight_col",
    "similarity",
    "neighbours",
    "k1",
    "b",
];
/// Options of `type = 'als'`.
pub const ALS_OPTIONS: &[&str] = &[
    "user_col",
    "item_col",
    "weight_col",
    "factors",
    "regularization",
    "alpha",
    "iterations",
];
/// Options of `type = 'repeat_aware'`.
pub const REPEAT_AWARE_OPTIONS: &[&str] = &[
    "user_col",
    "item_col",
    "weight_col",
    "time_col",
    "decay",
    "blend",
    "neighbours",
];

/// Whether a model type is a recommendation model.
pub fn is_recommender(model_type: &str) -> bool {
    matches!(
        model_type,
        "popularity" | "item_knn" | "als" | "repeat_aware"
    )
}

/// User or item ids, sorted ascending and distinct; an id's position is its index.
#[derive(Debug, Clone, PartialEq)]
pub enum Ids {
    /// Integer ids.
    Int(Vec<i64>),
    /// Text ids.
    Text(Vec<String>),
}

impl Ids {
    /// Number of ids.
    pub fn len(&self) -> usize {
        match self {
            Ids::Int(v) => v.len(),
            Ids::Text(v) => v.len(),
        }
    }

    /// Whether there are no ids.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The Arrow type of the ids.
    pub fn data_type(&self) -> DataType {
        match self {
            Ids::Int(_) => DataType::Int64,
            Ids::Text(_) => DataType::Utf8,
        }
    }

    /// Whether an Arrow type can hold ids, and as which kind (true = integer).
    pub fn kind_of(dt: &DataType) -> Option<bool> {
        if dt.is_integer() {
            Some(true)
        } else if matches!(
            dt,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            Some(false)
        } else {
            None
        }
    }

    /// Builds the dictionary of the non-NULL values of `columns` (of one kind).
    pub fn build(columns: &[ArrayRef], integer: bool) -> Result<Ids> {
        if integer {
            let mut v = vec![];
            for c in columns {
                let c = cast(c, &DataType::Int64)?;
                v.extend(c.as_primitive::<Int64Type>().iter().flatten());
            }
            v.sort_unstable();
            v.dedup();
            Ok(Ids::Int(v))
        } else {
            let mut v = vec![];
            for c in columns {
                let c = cast(c, &DataType::Utf8)?;
                v.extend(c.as_string::<i32>().iter().flatten().map(str::to_string));
            }
            v.sort_unstable();
            v.dedup();
            Ok(Ids::Text(v))
        }
    }

    /// The index of every value (None for NULL or an id not in the dictionary).
    pub fn lookup(&self, values: &ArrayRef) -> Result<Vec<Option<u32>>> {
        Ok(match self {
            Ids::Int(ids) => {
                if !values.data_type().is_integer() && !values.data_type().is_null() {
                    return Ok(vec![None; values.len()]);
                }
                let c = cast(values, &DataType::Int64)?;
                c.as_primitive::<Int64Type>()
                    .iter()
                    .map(|v| v.and_then(|v| ids.binary_search(&v).ok().map(|i| i as u32)))
                    .collect()
            }
            Ids::Text(ids) => {
                let c = cast(values, &DataType::Utf8)?;
                c.as_string::<i32>()
                    .iter()
                    .map(|v| {
                        v.and_then(|v| {
                            ids.binary_search_by(|x| x.as_str().cmp(v))
                                .ok()
                                .map(|i| i as u32)
                        })
                    })
                    .collect()
            }
        })
    }

    /// The ids at `indices`, as an Arrow array.
    pub fn take(&self, indices: &[u32]) -> ArrayRef {
        match self {
            Ids::Int(ids) => Arc::new(Int64Array::from_iter_values(
                indices.iter().map(|&i| ids[i as usize]),
            )),
            Ids::Text(ids) => Arc::new(StringArray::from_iter_values(
                indices.iter().map(|&i| ids[i as usize].as_str()),
            )),
        }
    }

    /// The id at `index` as text (for messages).
    pub fn text(&self, index: u32) -> String {
        match self {
            Ids::Int(ids) => ids[index as usize].to_string(),
            Ids::Text(ids) => ids[index as usize].clone(),
        }
    }

    /// The dictionary as a table `(index, id)`.
    pub fn to_batch(&self, extra: Vec<(&str, ArrayRef)>) -> Result<RecordBatch> {
        let n = self.len() as u32;
        let mut fields = vec![
            Field::new("index", DataType::UInt32, false),
            Field::new("id", self.data_type(), false),
        ];
        let all: Vec<u32> = (0..n).collect();
        let mut cols: Vec<ArrayRef> =
            vec![Arc::new(UInt32Array::from(all.clone())), self.take(&all)];
        for (name, c) in extra {
            fields.push(Field::new(name, c.data_type().clone(), false));
            cols.push(c);
        }
        Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
    }

    /// Restores a dictionary written by [`Ids::to_batch`].
    pub fn from_batch(b: &RecordBatch, what: &str) -> Result<Ids> {
        let Some(id) = b.column_by_name("id") else {
            return plan_err!("model store: the {what} dictionary has no column id");
        };
        Ok(match Ids::kind_of(id.data_type()) {
            Some(true) => Ids::Int(
                cast(id, &DataType::Int64)?
                    .as_primitive::<Int64Type>()
                    .values()
                    .to_vec(),
            ),
            Some(false) => Ids::Text(
                cast(id, &DataType::Utf8)?
                    .as_string::<i32>()
                    .iter()
                    .map(|s| s.unwrap_or_default().to_string())
                    .collect(),
            ),
            None => {
                return plan_err!(
                    "model store: the {what} dictionary has ids of type {}",
                    id.data_type()
                )
            }
        })
    }
}

/// A sparse row-major matrix: row `r` holds `indices[indptr[r]..indptr[r + 1]]` (ascending)
/// with `values` alongside.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Csr {
    /// Row offsets, `rows + 1` of them.
    pub indptr: Vec<usize>,
    /// Column indices.
    pub indices: Vec<u32>,
    /// Values.
    pub values: Vec<f64>,
}

impl Csr {
    /// Builds a matrix from (row, column, value) triples; duplicates are summed.
    pub fn from_triples(rows: usize, mut t: Vec<(u32, u32, f64)>) -> Csr {
        // values in the order too, so duplicates are summed in the same order whatever order the
        // rows arrived in
        t.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.total_cmp(&b.2)));
        let mut indptr = vec![0usize; rows + 1];
        let mut indices: Vec<u32> = Vec::with_capacity(t.len());
        let mut values: Vec<f64> = Vec::with_capacity(t.len());
        let mut last: Option<(u32, u32)> = None;
        for (r, c, v) in t {
            if last == Some((r, c)) {
                if let Some(x) = values.last_mut() {
                    *x += v;
                }
                continue;
            }
            last = Some((r, c));
            indptr[r as usize + 1] += 1;
            indices.push(c);
            values.push(v);
        }
        for r in 0..rows {
            indptr[r + 1] += indptr[r];
        }
        Csr {
            indptr,
            indices,
            values,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Row `r`: its column indices and values.
    pub fn row(&self, r: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.indptr[r], self.indptr[r + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }

    /// The transpose, with `cols` rows.
    pub fn transpose(&self, cols: usize) -> Csr {
        let mut t = Vec::with_capacity(self.nnz());
        for r in 0..self.rows() {
            let (idx, val) = self.row(r);
            for (c, v) in idx.iter().zip(val) {
                t.push((*c, r as u32, *v));
            }
        }
        Csr::from_triples(cols, t)
    }

    /// The entries as a table `(row_name, col_name, value_name)`.
    pub fn to_batch(&self, row: &str, col: &str, value: &str) -> Result<RecordBatch> {
        let mut rows = Vec::with_capacity(self.nnz());
        for r in 0..self.rows() {
            rows.extend(std::iter::repeat_n(
                r as u32,
                self.indptr[r + 1] - self.indptr[r],
            ));
        }
        Ok(RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new(row, DataType::UInt32, false),
                Field::new(col, DataType::UInt32, false),
                Field::new(value, DataType::Float64, false),
            ])),
            vec![
                Arc::new(UInt32Array::from(rows)),
                Arc::new(UInt32Array::from(self.indices.clone())),
                Arc::new(Float64Array::from(self.values.clone())),
            ],
        )?)
    }

    /// Restores a matrix written by [`Csr::to_batch`].
    pub fn from_batch(
        b: &RecordBatch,
        rows: usize,
        cols: usize,
        names: [&str; 3],
        what: &str,
    ) -> Result<Csr> {
        let col = |n: &str| {
            b.column_by_name(n)
                .ok_or_else(|| exec_datafusion_err!("model store: {what} has no column {n}"))
        };
        let r = cast(col(names[0])?, &DataType::UInt32)?;
        let c = cast(col(names[1])?, &DataType::UInt32)?;
        let v = cast(col(names[2])?, &DataType::Float64)?;
        let (r, c, v) = (
            r.as_primitive::<datafusion::arrow::datatypes::UInt32Type>(),
            c.as_primitive::<datafusion::arrow::datatypes::UInt32Type>(),
            v.as_primitive::<Float64Type>(),
        );
        let mut t = Vec::with_capacity(b.num_rows());
        for i in 0..b.num_rows() {
            if r.value(i) as usize >= rows || c.value(i) as usize >= cols {
                return plan_err!(
                    "model store: {what} refers to entry ({}, {}) of a {rows} x {cols} matrix",
                    r.value(i),
                    c.value(i)
                );
            }
            t.push((r.value(i), c.value(i), v.value(i)));
        }
        Ok(Csr::from_triples(rows, t))
    }
}

/// How item-item similarities are computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Similarity {
    /// Cosine between the items' user vectors.
    Cosine,
    /// Dot products of BM25-weighted item vectors (implicit's BM25Recommender).
    Bm25 {
        /// Term saturation.
        k1: f64,
        /// Length normalisation.
        b: f64,
    },
}

/// The fitted part of a recommendation model besides the interactions.
#[derive(Debug, Clone, PartialEq)]
pub enum RecParams {
    /// Items ranked by the number of users who have them.
    Popularity,
    /// Item-item neighbours (item -> neighbour, similarity), the item itself included.
    ItemKnn(Csr),
    /// User and item factors.
    Als {
        /// users × factors.
        users: Array2<f64>,
        /// items × factors.
        items: Array2<f64>,
    },
    /// Own history blended with item-item neighbours.
    RepeatAware {
        /// user -> (item, own-history score): the weights, each row discounted by
        /// `decay` per more recent distinct time of the user when a `time_col` is given.
        own: Csr,
        /// Item-item cosine neighbours.
        neighbours: Csr,
        /// Weight of the user's own history, in [0, 1].
        blend: f64,
    },
}

/// A recommendation model: dictionaries, the training interactions and the fitted part.
#[derive(Debug, Clone, PartialEq)]
pub struct RecModel {
    /// User ids.
    pub users: Ids,
    /// Item ids.
    pub items: Ids,
    /// user -> (item, summed weight) of the training rows.
    pub seen: Csr,
    /// Number of distinct training users per item.
    pub popularity: Vec<f64>,
    /// The fitted part.
    pub params: RecParams,
}

/// Items by popularity, most popular first (ties: smaller id first).
pub fn popularity_order(popularity: &[f64]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..popularity.len() as u32).collect();
    order.sort_by(|&a, &b| {
        popularity[b as usize]
            .total_cmp(&popularity[a as usize])
            .then(a.cmp(&b))
    });
    order
}

/// The `k` best (index, score) of `scores` among the indices `allowed` accepts: higher score
/// first, ties by smaller index.
pub fn top_k(scores: &[f64], k: usize, allowed: impl Fn(u32) -> bool) -> Vec<(u32, f64)> {
    let mut c: Vec<(u32, f64)> = (0..scores.len() as u32)
        .filter(|&i| allowed(i))
        .map(|i| (i, scores[i as usize]))
        .collect();
    if c.len() > k {
        c.select_nth_unstable_by(k, rank_order);
        c.truncate(k);
    }
    c.sort_unstable_by(rank_order);
    c
}

/// Item-item neighbours: for every item its `k` most similar items (itself included, as in
/// implicit's `all_pairs_knn`), higher similarity first, ties by smaller index.
pub fn item_neighbours(seen: &Csr, n_items: usize, similarity: Similarity, k: usize) -> Csr {
    // item -> (user, weight), weighted for the similarity
    let mut by_item = seen.transpose(n_items);
    match similarity {
        Similarity::Cosine => {
            for i in 0..n_items {
                let (a, b) = (by_item.indptr[i], by_item.indptr[i + 1]);
                let norm = by_item.values[a..b]
                    .iter()
                    .map(|v| v * v)
                    .sum::<f64>()
                    .sqrt();
                if norm > 0.0 {
                    for v in &mut by_item.values[a..b] {
                        *v /= norm;
                    }
                }
            }
        }
        Similarity::Bm25 { k1, b } => {
            // implicit's bm25_weight on the item × user matrix: idf over users, length
            // normalisation over each item's total weight.
            let n = n_items as f64;
            let n_users = seen.rows();
            let mut df = vec![0usize; n_users];
            for &u in &by_item.indices {
                df[u as usize] += 1;
            }
            let idf: Vec<f64> = df.iter().map(|&d| n.ln() - (d as f64).ln_1p()).collect();
            let lengths: Vec<f64> = (0..n_items)
                .map(|i| by_item.row(i).1.iter().sum::<f64>())
                .collect();
            let avg = lengths.iter().sum::<f64>() / n.max(1.0);
            for (i, len) in lengths.iter().enumerate() {
                let norm = (1.0 - b) + b * len / avg;
                let (s, e) = (by_item.indptr[i], by_item.indptr[i + 1]);
                for j in s..e {
                    let x = by_item.values[j];
                    by_item.values[j] =
                        x * (k1 + 1.0) / (k1 * norm + x) * idf[by_item.indices[j] as usize];
                }
            }
        }
    }
    let user_items = by_item.transpose(seen.rows());
    let mut acc = vec![0.0f64; n_items];
    let mut marked = vec![false; n_items];
    let mut touched: Vec<u32> = vec![];
    let mut triples = vec![];
    for i in 0..n_items {
        let (users, wi) = by_item.row(i);
        for (&u, &w) in users.iter().zip(wi) {
            let (items, wu) = user_items.row(u as usize);
            for (&j, &x) in items.iter().zip(wu) {
                if !marked[j as usize] {
                    marked[j as usize] = true;
                    touched.push(j);
                }
                acc[j as usize] += w * x;
            }
        }
        let mut c: Vec<(u32, f64)> = touched
            .iter()
            .map(|&j| (j, acc[j as usize]))
            .filter(|p| p.1 != 0.0)
            .collect();
        for &j in &touched {
            acc[j as usize] = 0.0;
            marked[j as usize] = false;
        }
        touched.clear();
        if c.len() > k {
            c.select_nth_unstable_by(k, rank_order);
            c.truncate(k);
        }
        triples.extend(c.into_iter().map(|(j, s)| (i as u32, j, s)));
    }
    Csr::from_triples(n_items, triples)
}

/// ALS hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlsHyper {
    /// Latent factors.
    pub factors: usize,
    /// L2 penalty added to the diagonal of YᵀY.
    pub regularization: f64,
    /// Confidence slope: c = 1 + alpha · weight.
    pub alpha: f64,
    /// Alternating sweeps (users, then items).
    pub iterations: usize,
}

/// Fits implicit-feedback ALS: factors start uniform in [0, 0.01) from the seed (users, then
/// items), then each sweep solves every user given the items, then every item given the
/// users, by three conjugate-gradient steps from the current factors (implicit's
/// `least_squares_cg`). Rows are solved on all cores; each row's solve depends only on the
/// other side, so the result does not depend on the thread count.
pub fn fit_als(seen: &Csr, n_items: usize, h: AlsHyper, seed: u64) -> (Array2<f64>, Array2<f64>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let f = h.factors;
    let mut x = Array2::from_shape_fn((seen.rows(), f), |_| rng.gen::<f64>() * 0.01);
    let mut y = Array2::from_shape_fn((n_items, f), |_| rng.gen::<f64>() * 0.01);
    let mut cu = seen.clone();
    for v in &mut cu.values {
        *v = 1.0 + h.alpha * *v;
    }
    let ci = cu.transpose(n_items);
    for _ in 0..h.iterations {
        cg_sweep(&mut x, &y, &cu, h.regularization);
        cg_sweep(&mut y, &x, &ci, h.regularization);
    }
    (x, y)
}

fn cg_sweep(x: &mut Array2<f64>, y: &Array2<f64>, c: &Csr, reg: f64) {
    let f = y.ncols();
    let mut yty = y.t().dot(y);
    for d in 0..f {
        yty[[d, d]] += reg;
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .clamp(1, 16);
    let rows = x.nrows();
    let chunk = rows.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for (ci, mut block) in x.axis_chunks_iter_mut(Axis(0), chunk).enumerate() {
            let yty = &yty;
            s.spawn(move || {
                for (k, mut xu) in block.outer_iter_mut().enumerate() {
                    let u = ci * chunk + k;
                    let (items, conf) = c.row(u);
                    let mut xv = xu.to_owned();
                    cg_solve(&mut xv, y, yty, items, conf);
                    xu.assign(&xv);
                }
            });
        }
    });
}

fn cg_solve(x: &mut Array1<f64>, y: &Array2<f64>, yty: &Array2<f64>, items: &[u32], conf: &[f64]) {
    // r = YᵀCp − (YᵀY + Yᵀ(C − I)Y + λI)·x
    let mut r = -yty.dot(&*x);
    for (&i, &c) in items.iter().zip(conf) {
        let yi = y.row(i as usize);
        r.scaled_add(c - (c - 1.0) * yi.dot(&*x), &yi);
    }
    let mut p = r.clone();
    let mut rs_old = r.dot(&r);
    if rs_old < 1e-20 {
        return;
    }
    for _ in 0..3 {
        let mut ap = yty.dot(&p);
        for (&i, &c) in items.iter().zip(conf) {
            let yi = y.row(i as usize);
            ap.scaled_add((c - 1.0) * yi.dot(&p), &yi);
        }
        let step = rs_old / p.dot(&ap);
        x.scaled_add(step, &p);
        r.scaled_add(-step, &ap);
        let rs_new = r.dot(&r);
        if rs_new < 1e-20 {
            break;
        }
        p = &r + &(&p * (rs_new / rs_old));
        rs_old = rs_new;
    }
}

/// A factor matrix as a table `(index, f0, f1, ...)`.
pub fn factors_to_batch(m: &Array2<f64>) -> Result<RecordBatch> {
    let mut fields = vec![Field::new("index", DataType::UInt32, false)];
    let mut cols: Vec<ArrayRef> =
        vec![Arc::new(UInt32Array::from_iter_values(0..m.nrows() as u32))];
    for (j, col) in m.columns().into_iter().enumerate() {
        fields.push(Field::new(format!("f{j}"), DataType::Float64, false));
        cols.push(Arc::new(Float64Array::from(col.to_vec())));
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
}

/// Restores a factor matrix written by [`factors_to_batch`].
pub fn factors_from_batch(b: &RecordBatch, rows: usize, what: &str) -> Result<Array2<f64>> {
    if b.num_rows() != rows {
        return plan_err!(
            "model store: {what} has {} rows; expected {rows}",
            b.num_rows()
        );
    }
    let f = b.num_columns().saturating_sub(1);
    let mut m = Array2::zeros((rows, f));
    for j in 0..f {
        let c = cast(b.column(j + 1), &DataType::Float64)?;
        for (i, v) in c.as_primitive::<Float64Type>().values().iter().enumerate() {
            m[[i, j]] = *v;
        }
    }
    Ok(m)
}

impl RecModel {
    /// The score of every item for training user `u`.
    pub fn scores(&self, u: usize) -> Vec<f64> {
        let n = self.items.len();
        match &self.params {
            RecParams::Popularity => self.popularity.clone(),
            RecParams::ItemKnn(nb) => knn_scores(&self.seen, nb, u, n),
            RecParams::Als { users, items } => items.dot(&users.row(u)).to_vec(),
            RecParams::RepeatAware {
                own,
                neighbours,
                blend,
            } => {
                // the collaborative part: item-kNN scores and popularity, each scaled to [0, 1]
                let mut collab = knn_scores(&self.seen, neighbours, u, n);
                let top = collab.iter().cloned().fold(0.0f64, f64::max);
                let most_popular = self.popularity.iter().cloned().fold(0.0f64, f64::max);
                for (v, p) in collab.iter_mut().zip(&self.popularity) {
                    let knn = if top > 0.0 { *v / top } else { 0.0 };
                    let pop = if most_popular > 0.0 {
                        p / most_popular
                    } else {
                        0.0
                    };
                    *v = 0.5 * knn + 0.5 * pop;
                }
                let (items, w) = own.row(u);
                let most = w.iter().cloned().fold(0.0f64, f64::max);
                let mut s: Vec<f64> = collab.iter().map(|c| (1.0 - blend) * c).collect();
                if most > 0.0 {
                    for (&i, &x) in items.iter().zip(w) {
                        s[i as usize] += blend * x / most;
                    }
                }
                s
            }
        }
    }

    /// The top `k` items for training user `u` (excluding the items the user has when
    /// `exclude_seen`).
    /// Neighbour-based types rank only items with a positive score, so their lists can be
    /// shorter than `k` (as implicit's ItemItemRecommender).
    pub fn recommend(&self, u: usize, k: usize, exclude_seen: bool) -> Vec<(u32, f64)> {
        if matches!(self.params, RecParams::Als { .. }) {
            return self
                .recommend_range(u, u + 1, k, exclude_seen)
                .pop()
                .unwrap_or_default();
        }
        let scores = self.scores(u);
        let (seen, _) = self.seen.row(u);
        let positive_only = matches!(
            self.params,
            RecParams::ItemKnn(_) | RecParams::RepeatAware { .. }
        );
        top_k(&scores, k, |i| {
            (!exclude_seen || seen.binary_search(&i).is_err())
                && (!positive_only || scores[i as usize] > 0.0)
        })
    }

    /// [`RecModel::recommend`] for the training users `from..to`. ALS scores blocks of up to
    /// 64 users with one matrix product each; a single user is a block of one, so every path
    /// gives the same scores.
    pub fn recommend_range(
        &self,
        from: usize,
        to: usize,
        k: usize,
        exclude_seen: bool,
    ) -> Vec<Vec<(u32, f64)>> {
        let RecParams::Als { users, items } = &self.params else {
            return (from..to)
                .map(|u| self.recommend(u, k, exclude_seen))
                .collect();
        };
        const BLOCK: usize = 64;
        let mut out = Vec::with_capacity(to - from);
        let mut s = from;
        while s < to {
            let e = (s + BLOCK).min(to);
            let scores = users.slice(ndarray::s![s..e, ..]).dot(&items.t());
            for (j, row) in scores.outer_iter().enumerate() {
                let (seen, _) = self.seen.row(s + j);
                let row = row.to_vec();
                out.push(top_k(&row, k, |i| {
                    !exclude_seen || seen.binary_search(&i).is_err()
                }));
            }
            s = e;
        }
        out
    }

    /// The top `k` items for a user the model does not know: the most popular.
    pub fn recommend_unknown(&self, k: usize) -> Vec<(u32, f64)> {
        top_k(&self.popularity, k, |_| true)
    }

    /// The `k` items most similar to item `i` (itself left out), or None when the model type
    /// has no item similarity.
    pub fn similar_items(&self, i: usize, k: usize) -> Option<Vec<(u32, f64)>> {
        match &self.params {
            RecParams::Popularity => None,
            RecParams::ItemKnn(nb) | RecParams::RepeatAware { neighbours: nb, .. } => {
                let (idx, sim) = nb.row(i);
                let mut c: Vec<(u32, f64)> = idx
                    .iter()
                    .zip(sim)
                    .filter(|(j, _)| **j as usize != i)
                    .map(|(j, s)| (*j, *s))
                    .collect();
                c.sort_unstable_by(rank_order);
                c.truncate(k);
                Some(c)
            }
            RecParams::Als { items, .. } => {
                let norms: Vec<f64> = items.outer_iter().map(|r| r.dot(&r).sqrt()).collect();
                let yi: ArrayView1<f64> = items.row(i);
                let scores: Vec<f64> = items
                    .outer_iter()
                    .enumerate()
                    .map(|(j, r)| {
                        let d = norms[i] * norms[j];
                        if d > 0.0 {
                            r.dot(&yi) / d
                        } else {
                            0.0
                        }
                    })
                    .collect();
                Some(top_k(&scores, k, |j| j as usize != i))
            }
        }
    }
}

fn knn_scores(seen: &Csr, nb: &Csr, u: usize, n: usize) -> Vec<f64> {
    let mut s = vec![0.0; n];
    let (items, w) = seen.row(u);
    for (&i, &x) in items.iter().zip(w) {
        let (js, sims) = nb.row(i as usize);
        for (&j, &sim) in js.iter().zip(sims) {
            s[j as usize] += x * sim;
        }
    }
    s
}

/// Compares by score descending, then index ascending.
pub fn rank_order(a: &(u32, f64), b: &(u32, f64)) -> Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_sums_duplicates_and_transposes() {
        let m = Csr::from_triples(2, vec![(1, 0, 1.0), (0, 2, 2.0), (1, 0, 3.0)]);
        assert_eq!(m.row(0), (&[2u32][..], &[2.0][..]));
        assert_eq!(m.row(1), (&[0u32][..], &[4.0][..]));
        let t = m.transpose(3);
        assert_eq!(t.row(2), (&[0u32][..], &[2.0][..]));
        assert_eq!(t.row(1).0.len(), 0);
    }

    #[test]
    fn cosine_neighbours_by_hand() {
        // users: 0 has items 0, 1; 1 has items 0, 1, 2; 2 has item 2
        let seen = Csr::from_triples(
            3,
            vec![
                (0, 0, 1.0),
                (0, 1, 1.0),
                (1, 0, 1.0),
                (1, 1, 1.0),
                (1, 2, 1.0),
                (2, 2, 1.0),
            ],
        );
        let nb = item_neighbours(&seen, 3, Similarity::Cosine, 3);
        // cos(0, 1) = 2 / (sqrt 2 sqrt 2) = 1; cos(0, 2) = 1 / (sqrt 2 sqrt 2) = 0.5
        let (j, s) = nb.row(0);
        assert_eq!(j, &[0, 1, 2]);
        assert!((s[0] - 1.0).abs() < 1e-12 && (s[1] - 1.0).abs() < 1e-12);
        assert!((s[2] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn top_k_breaks_ties_by_index() {
        assert_eq!(
            top_k(&[1.0, 3.0, 3.0, 2.0], 3, |_| true),
            vec![(1, 3.0), (2, 3.0), (3, 2.0)]
        );
        assert_eq!(top_k(&[1.0, 3.0], 5, |i| i != 1), vec![(0, 1.0)]);
    }

    #[test]
    fn als_fits_a_block_structure_and_is_deterministic() {
        // two groups of users, each buying its own two items
        let mut t = vec![];
        for u in 0..20u32 {
            let base = if u < 10 { 0 } else { 2 };
            t.push((u, base, 3.0));
            t.push((u, base + 1, 2.0));
        }
        let seen = Csr::from_triples(20, t);
        let h = AlsHyper {
            factors: 4,
            regularization: 0.01,
            alpha: 1.0,
            iterations: 10,
        };
        let (x, y) = fit_als(&seen, 4, h, 7);
        let (x2, y2) = fit_als(&seen, 4, h, 7);
        assert_eq!(x, x2);
        assert_eq!(y, y2);
        let s = y.dot(&x.row(0));
        assert!(s[0] > s[2] && s[1] > s[3], "{s:?}");
    }
}
