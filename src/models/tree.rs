//! Decision trees (classification, CART) and random forests of them.
//!
//! The tree is grown here, not by linfa-trees: linfa-trees 0.8 prunes every subtree whose
//! leaves predict the same majority class — which throws away the class shares that
//! `predict_proba`, AUC and path contributions need — and breaks ties of that majority vote by
//! `HashMap` iteration order, so the same data gave different trees from one run to the next.
//! The algorithm is scikit-learn's: Gini or entropy, the best split over midpoints between
//! distinct values with `x <= threshold` going left, `max_depth`, `min_samples_leaf` (rows per
//! leaf); a leaf keeps its training class shares as the class probabilities. The node table is what
//! `nodes.parquet` stores; internal nodes keep their share too, for path contributions
//! (`explain_predict`) and impurity-based feature importance.
//!
//! A random forest grows `n_trees` trees, each on a bootstrap sample of the training rows (as
//! row weights) drawing `max_features` candidate features at every split, seeded per tree; its
//! probability is the mean of the trees' leaf shares.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use datafusion::common::{exec_datafusion_err, exec_err, plan_err, Result};
use ndarray::{Array2, ArrayView1};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::options::ModelOptions;

/// Options of `type = 'decision_tree'`.
pub const TREE_OPTIONS: &[&str] = &["max_depth", "min_samples_leaf", "split_quality"];
/// Options of `type = 'random_forest'`.
pub const FOREST_OPTIONS: &[&str] = &[
    "n_trees",
    "max_depth",
    "min_samples_leaf",
    "split_quality",
    "max_features",
];

/// Growth limits of one tree.
#[derive(Debug, Clone, Copy)]
pub struct TreeHyper {
    /// Deepest level (None: grow until pure or `min_samples_leaf`).
    pub max_depth: Option<usize>,
    /// Fewest training rows in a leaf.
    pub min_samples_leaf: usize,
    /// Gini (default) or entropy.
    pub entropy: bool,
}

/// How many features each forest tree sees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxFeatures {
    /// ⌈√p⌉ (the default, as scikit-learn's classifier).
    Sqrt,
    /// ⌈log2 p⌉.
    Log2,
    /// All features.
    All,
    /// A share of the features.
    Fraction(f64),
    /// A count.
    Count(usize),
}

/// Forest settings.
#[derive(Debug, Clone, Copy)]
pub struct ForestHyper {
    /// Number of trees (100).
    pub n_trees: usize,
    /// Per tree.
    pub tree: TreeHyper,
    /// Features per tree.
    pub max_features: MaxFeatures,
}

impl TreeHyper {
    /// Reads and validates the tree options (defaults: max_depth unlimited for forests, 8 for a
    /// single tree).
    pub fn from_options(o: &ModelOptions, default_depth: Option<usize>) -> Result<Self> {
        let max_depth = match o
            .raw
            .get("max_depth")
            .map(|s| s.trim().to_ascii_lowercase())
        {
            None => default_depth,
            Some(s) if s == "none" || s == "0" => None,
            Some(_) => Some(o.integer("max_depth", 8, 1, 1000)? as usize),
        };
        let entropy = match o
            .raw
            .get("split_quality")
            .map(|s| s.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("gini") => false,
            Some("entropy") => true,
            Some(other) => {
                return plan_err!(
                    "CREATE MODEL: option split_quality = '{other}'; expected gini or entropy"
                )
            }
        };
        Ok(Self {
            max_depth,
            min_samples_leaf: o.integer("min_samples_leaf", 1, 1, 1_000_000)? as usize,
            entropy,
        })
    }
}

impl ForestHyper {
    /// Reads and validates the forest options.
    pub fn from_options(o: &ModelOptions) -> Result<Self> {
        let max_features = match o.raw.get("max_features").map(|s| s.trim().to_ascii_lowercase()) {
            None => MaxFeatures::Sqrt,
            Some(s) if s == "sqrt" => MaxFeatures::Sqrt,
            Some(s) if s == "log2" => MaxFeatures::Log2,
            Some(s) if s == "all" || s == "none" => MaxFeatures::All,
            Some(s) => match (s.parse::<usize>(), s.parse::<f64>()) {
                (Ok(n), _) if n >= 1 => MaxFeatures::Count(n),
                (_, Ok(f)) if f > 0.0 && f <= 1.0 => MaxFeatures::Fraction(f),
                _ => return plan_err!("CREATE MODEL: option max_features = '{s}'; expected sqrt, log2, all, a count or a fraction in (0, 1]"),
            },
        };
        Ok(Self {
            n_trees: o.integer("n_trees", 100, 1, 10_000)? as usize,
            tree: TreeHyper::from_options(o, None)?,
            max_features,
        })
    }
}

/// One node: a split on `feature <= threshold` (left) or a leaf (`feature` = -1).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Preprocessed feature index of the split, -1 for a leaf.
    pub feature: i64,
    /// Rows with `x[feature] <= threshold` go left.
    pub threshold: f64,
    /// Child indices (-1 for a leaf).
    pub left: i64,
    /// Right child.
    pub right: i64,
    /// Training rows reaching the node (with bootstrap multiplicity in a forest).
    pub n: f64,
    /// Share of each class among those rows (class index order; for a binary label the second
    /// is the positive share).
    pub shares: Vec<f64>,
}

/// A tree as a node table; node 0 is the root.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// Nodes.
    pub nodes: Vec<Node>,
    /// Whether impurity is entropy (else Gini), for feature importance.
    pub entropy: bool,
}

/// An ensemble (a single decision tree is an ensemble of one).
#[derive(Debug, Clone, PartialEq)]
pub struct Forest {
    /// Trees.
    pub trees: Vec<Tree>,
    /// Preprocessed feature count.
    pub width: usize,
    /// Number of classes (2 for a binary label).
    pub classes: usize,
}

impl Tree {
    /// The nodes a row passes through, root to leaf.
    fn path(&self, row: ArrayView1<f64>) -> Vec<usize> {
        let mut out = vec![0];
        let mut i = 0;
        while let Some(n) = self.nodes.get(i) {
            if n.feature < 0 {
                break;
            }
            i = if row[n.feature as usize] <= n.threshold {
                n.left as usize
            } else {
                n.right as usize
            };
            out.push(i);
        }
        out
    }

    fn leaf(&self, row: ArrayView1<f64>) -> Option<&Node> {
        self.path(row).last().and_then(|&i| self.nodes.get(i))
    }
}

/// Gini impurity (1 − Σ p²) or entropy (−Σ p log2 p) of class shares.
fn impurity(shares: &[f64], entropy: bool) -> f64 {
    if entropy {
        shares
            .iter()
            .map(|&q| if q > 0.0 { -q * q.log2() } else { 0.0 })
            .sum()
    } else {
        1.0 - shares.iter().map(|q| q * q).sum::<f64>()
    }
}

/// Impurity of class weights summing to `w` (> 0).
fn impurity_of_counts(counts: &[f64], w: f64, entropy: bool) -> f64 {
    if entropy {
        counts
            .iter()
            .map(|&c| {
                let q = c / w;
                if q > 0.0 {
                    -q * q.log2()
                } else {
                    0.0
                }
            })
            .sum()
    } else {
        1.0 - counts.iter().map(|&c| (c / w) * (c / w)).sum::<f64>()
    }
}

/// Growing state of one tree.
struct Grower<'a> {
    /// The features column by column (features × rows), so that a feature's values are
    /// contiguous.
    cols: &'a Array2<f64>,
    /// Class index per row.
    y: &'a [u32],
    classes: usize,
    weight: &'a [f64],
    hyper: TreeHyper,
    /// Candidate features per split (all of them for a single tree).
    max_features: usize,
    rng: ChaCha8Rng,
    nodes: Vec<Node>,
}

impl Grower<'_> {
    /// Grows the subtree of `rows` (rows with non-zero weight); returns its node index.
    fn grow(&mut self, rows: Vec<usize>, depth: usize) -> usize {
        let k = self.classes;
        let mut counts = vec![0.0; k];
        for &i in &rows {
            counts[self.y[i] as usize] += self.weight[i];
        }
        let w: f64 = counts.iter().sum();
        let shares: Vec<f64> = counts
            .iter()
            .map(|c| if w > 0.0 { c / w } else { 0.0 })
            .collect();
        let id = self.nodes.len();
        let pure = impurity(&shares, self.hyper.entropy) <= 1e-7;
        self.nodes.push(Node {
            feature: -1,
            threshold: 0.0,
            left: -1,
            right: -1,
            n: w,
            shares,
        });
        let leaf_size = self.hyper.min_samples_leaf;
        if pure || self.hyper.max_depth.is_some_and(|d| depth >= d) || rows.len() < 2 * leaf_size {
            return id;
        }
        let p = self.cols.nrows();
        let mut candidates: Vec<usize> = (0..p).collect();
        if self.max_features < p {
            candidates.shuffle(&mut self.rng);
            candidates.truncate(self.max_features);
            candidates.sort_unstable();
        }
        // the best split: (weighted child impurity, feature, threshold)
        let mut best: Option<(f64, usize, f64)> = None;
        // (value, row) of the node's rows for one feature, sorted by value then row: the
        // order is total, so an unstable sort gives the one order
        let mut sorted: Vec<(f64, usize)> = Vec::with_capacity(rows.len());
        let (mut left, mut right) = (vec![0.0; k], vec![0.0; k]);
        for &f in &candidates {
            let col = self.cols.row(f);
            sorted.clear();
            sorted.extend(rows.iter().map(|&i| (col[i], i)));
            sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            left.iter_mut().for_each(|c| *c = 0.0);
            let mut lw = 0.0;
            for j in 0..sorted.len() - 1 {
                let (v, i) = sorted[j];
                lw += self.weight[i];
                left[self.y[i] as usize] += self.weight[i];
                let next = sorted[j + 1].0;
                if next <= v || j + 1 < leaf_size || sorted.len() - j - 1 < leaf_size {
                    continue;
                }
                let rw = w - lw;
                if lw <= 0.0 || rw <= 0.0 {
                    continue;
                }
                for c in 0..k {
                    right[c] = counts[c] - left[c];
                }
                let score = lw * impurity_of_counts(&left, lw, self.hyper.entropy)
                    + rw * impurity_of_counts(&right, rw, self.hyper.entropy);
                if best.is_none_or(|(b, _, _)| score < b) {
                    // the midpoint, or the lower value when the midpoint rounds up to the upper
                    let mut t = v / 2.0 + next / 2.0;
                    if t >= next || !t.is_finite() {
                        t = v;
                    }
                    best = Some((score, f, t));
                }
            }
        }
        let Some((_, feature, threshold)) = best else {
            return id;
        };
        drop(sorted);
        let col = self.cols.row(feature);
        let (l_rows, r_rows): (Vec<usize>, Vec<usize>) =
            rows.into_iter().partition(|&i| col[i] <= threshold);
        let l = self.grow(l_rows, depth + 1);
        let r = self.grow(r_rows, depth + 1);
        let node = &mut self.nodes[id];
        node.feature = feature as i64;
        node.threshold = threshold;
        node.left = l as i64;
        node.right = r as i64;
        id
    }
}

/// Grows one tree on the rows of `cols` (features × rows) with multiplicities `weight`, drawing
/// `max_features` candidate features per split from `rng`.
#[allow(clippy::too_many_arguments)]
fn grow(
    cols: &Array2<f64>,
    y: &[u32],
    classes: usize,
    weight: &[f64],
    hyper: TreeHyper,
    max_features: usize,
    rng: ChaCha8Rng,
) -> Tree {
    let rows: Vec<usize> = (0..cols.ncols()).filter(|&i| weight[i] > 0.0).collect();
    let mut g = Grower {
        cols,
        y,
        classes,
        weight,
        hyper,
        max_features,
        rng,
        nodes: vec![],
    };
    g.grow(rows, 0);
    Tree {
        nodes: g.nodes,
        entropy: hyper.entropy,
    }
}

/// Fits a single decision tree on every training row; `y` holds class indices below `classes`.
pub fn fit_tree(x: &Array2<f64>, y: &[u32], classes: usize, hyper: TreeHyper) -> Result<Forest> {
    let cols = x.t().as_standard_layout().into_owned();
    let tree = grow(
        &cols,
        y,
        classes,
        &vec![1.0; x.nrows()],
        hyper,
        x.ncols(),
        ChaCha8Rng::seed_from_u64(0),
    );
    Ok(Forest {
        trees: vec![tree],
        width: x.ncols(),
        classes,
    })
}

/// Fits a random forest; trees are grown in parallel, each from its own seed, so the forest
/// does not depend on the number of threads.
pub fn fit_forest(
    x: &Array2<f64>,
    y: &[u32],
    classes: usize,
    hyper: ForestHyper,
    seed: u64,
) -> Result<Forest> {
    let (n, p) = x.dim();
    let m = match hyper.max_features {
        MaxFeatures::Sqrt => (p as f64).sqrt().ceil() as usize,
        MaxFeatures::Log2 => (p as f64).log2().ceil() as usize,
        MaxFeatures::All => p,
        MaxFeatures::Fraction(f) => (f * p as f64).ceil() as usize,
        MaxFeatures::Count(c) => c,
    }
    .clamp(1, p.max(1));
    let cols = x.t().as_standard_layout().into_owned();
    let one = |t: usize| -> Result<Tree> {
        let mut rng =
            ChaCha8Rng::seed_from_u64(seed ^ (t as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut weight = vec![0.0; n];
        for _ in 0..n {
            weight[rng.gen_range(0..n)] += 1.0;
        }
        Ok(grow(&cols, y, classes, &weight, hyper.tree, m, rng))
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(hyper.n_trees);
    let results: Vec<Result<Tree>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let one = &one;
                s.spawn(move || {
                    (k..hyper.n_trees)
                        .step_by(threads)
                        .map(|t| (t, one(t)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<(usize, Result<Tree>)> = vec![];
        for h in handles {
            match h.join() {
                Ok(v) => all.extend(v),
                Err(_) => all.push((
                    usize::MAX,
                    exec_err!("CREATE MODEL: a random forest worker failed"),
                )),
            }
        }
        all.sort_by_key(|(t, _)| *t);
        all.into_iter().map(|(_, r)| r).collect()
    });
    Ok(Forest {
        trees: results.into_iter().collect::<Result<_>>()?,
        width: p,
        classes,
    })
}

impl Forest {
    /// Class probabilities per row (rows × classes): the mean of the trees' leaf shares.
    pub fn class_probabilities(&self, x: &Array2<f64>) -> Array2<f64> {
        let t = self.trees.len().max(1) as f64;
        let mut out = Array2::zeros((x.nrows(), self.classes));
        for (i, r) in x.rows().into_iter().enumerate() {
            for tree in &self.trees {
                if let Some(leaf) = tree.leaf(r) {
                    for (c, s) in leaf.shares.iter().enumerate().take(self.classes) {
                        out[[i, c]] += s;
                    }
                }
            }
            out.row_mut(i).mapv_inplace(|v| v / t);
        }
        out
    }

    /// The forest's base value for `class`: the mean of the trees' root shares (the training
    /// share of that class).
    pub fn base(&self, class: usize) -> f64 {
        let k = self.trees.len().max(1) as f64;
        self.trees
            .iter()
            .map(|t| {
                t.nodes
                    .first()
                    .and_then(|n| n.shares.get(class))
                    .copied()
                    .unwrap_or(0.0)
            })
            .sum::<f64>()
            / k
    }

    /// Path contributions per row and feature (Saabas) to the probability of each row's
    /// `class[i]`: each split along a row's path credits its feature with the change in that
    /// class's share; they sum to probability − base.
    pub fn contributions(&self, x: &Array2<f64>, class: &[usize]) -> Array2<f64> {
        let k = self.trees.len().max(1) as f64;
        let mut out = Array2::zeros((x.nrows(), self.width));
        for (i, row) in x.rows().into_iter().enumerate() {
            let c = class[i];
            for t in &self.trees {
                let path = t.path(row);
                for w in path.windows(2) {
                    let (parent, child) = (&t.nodes[w[0]], &t.nodes[w[1]]);
                    let share = |n: &Node| n.shares.get(c).copied().unwrap_or(0.0);
                    out[[i, parent.feature as usize]] += (share(child) - share(parent)) / k;
                }
            }
        }
        out
    }

    /// Impurity-based feature importance (mean decrease in impurity, normalised to sum to 1
    /// per tree, then averaged over trees), as scikit-learn's `feature_importances_`.
    pub fn importance(&self) -> Vec<f64> {
        let mut total = vec![0.0; self.width];
        for t in &self.trees {
            let mut imp = vec![0.0; self.width];
            for n in &t.nodes {
                if n.feature < 0 {
                    continue;
                }
                let (l, r) = (&t.nodes[n.left as usize], &t.nodes[n.right as usize]);
                let dec = n.n * impurity(&n.shares, t.entropy)
                    - l.n * impurity(&l.shares, t.entropy)
                    - r.n * impurity(&r.shares, t.entropy);
                imp[n.feature as usize] += dec.max(0.0);
            }
            let s: f64 = imp.iter().sum();
            if s > 0.0 {
                for (a, b) in total.iter_mut().zip(&imp) {
                    *a += b / s;
                }
            }
        }
        let k = self.trees.len().max(1) as f64;
        total.iter().map(|v| v / k).collect()
    }

    /// `nodes.parquet`: tree, node, feature (name, NULL for leaves), feature_index, threshold,
    /// left, right, n_samples, value (the second class's share: the positive share of a binary
    /// label) and `share_0`, `share_1`, ... (every class's share, in class order).
    pub fn to_batch(&self, names: &[String]) -> Result<RecordBatch> {
        let (mut tree, mut node, mut fname, mut fidx) = (vec![], vec![], vec![], vec![]);
        let (mut thr, mut left, mut right, mut n) = (vec![], vec![], vec![], vec![]);
        let mut shares: Vec<Vec<f64>> = vec![vec![]; self.classes];
        for (t, tr) in self.trees.iter().enumerate() {
            for (i, nd) in tr.nodes.iter().enumerate() {
                tree.push(t as i64);
                node.push(i as i64);
                fname.push(
                    usize::try_from(nd.feature)
                        .ok()
                        .and_then(|f| names.get(f).cloned()),
                );
                fidx.push(nd.feature);
                thr.push(nd.threshold);
                left.push(nd.left);
                right.push(nd.right);
                n.push(nd.n);
                for (c, col) in shares.iter_mut().enumerate() {
                    col.push(nd.shares.get(c).copied().unwrap_or(0.0));
                }
            }
        }
        let split = self.trees.first().is_some_and(|t| t.entropy);
        let mut fields = vec![
            Field::new("tree", DataType::Int64, false),
            Field::new("node", DataType::Int64, false),
            Field::new("feature", DataType::Utf8, true),
            Field::new("feature_index", DataType::Int64, false),
            Field::new("threshold", DataType::Float64, false),
            Field::new("left", DataType::Int64, false),
            Field::new("right", DataType::Int64, false),
            Field::new("n_samples", DataType::Float64, false),
            Field::new("value", DataType::Float64, false),
        ];
        let value = shares.get(1).cloned().unwrap_or_default();
        let n_rows = value.len();
        let mut cols: Vec<datafusion::arrow::array::ArrayRef> = vec![
            Arc::new(Int64Array::from(tree)),
            Arc::new(Int64Array::from(node)),
            Arc::new(StringArray::from(fname)),
            Arc::new(Int64Array::from(fidx)),
            Arc::new(Float64Array::from(thr)),
            Arc::new(Int64Array::from(left)),
            Arc::new(Int64Array::from(right)),
            Arc::new(Float64Array::from(n)),
            Arc::new(Float64Array::from(value)),
        ];
        for (c, col) in shares.into_iter().enumerate() {
            fields.push(Field::new(format!("share_{c}"), DataType::Float64, false));
            cols.push(Arc::new(Float64Array::from(col)));
        }
        // also as a column: schema metadata does not survive every Parquet reader
        let quality = if split { "entropy" } else { "gini" };
        fields.push(Field::new("split_quality", DataType::Utf8, false));
        cols.push(Arc::new(StringArray::from(vec![quality; n_rows])));
        let schema = Schema::new(fields).with_metadata(
            [(
                "split_quality".to_string(),
                if split { "entropy" } else { "gini" }.to_string(),
            )]
            .into(),
        );
        Ok(RecordBatch::try_new(Arc::new(schema), cols)?)
    }

    /// Restores a forest written by [`Forest::to_batch`] for `width` features and `classes`
    /// classes (a table without `share_` columns, from an earlier version, is binary: its
    /// `value` is the positive share).
    pub fn from_batch(batch: &RecordBatch, width: usize, classes: usize) -> Result<Self> {
        let col = |name: &str| -> Result<datafusion::arrow::array::ArrayRef> {
            batch.column_by_name(name).cloned().ok_or_else(|| {
                exec_datafusion_err!("model store: nodes.parquet has no column '{name}'")
            })
        };
        let i = |name: &str| -> Result<Vec<i64>> {
            Ok(cast(&col(name)?, &DataType::Int64)?
                .as_primitive::<Int64Type>()
                .values()
                .to_vec())
        };
        let f = |name: &str| -> Result<Vec<f64>> {
            Ok(cast(&col(name)?, &DataType::Float64)?
                .as_primitive::<Float64Type>()
                .values()
                .to_vec())
        };
        let (tree, feature, left, right) =
            (i("tree")?, i("feature_index")?, i("left")?, i("right")?);
        let (thr, n) = (f("threshold")?, f("n_samples")?);
        let shares: Vec<Vec<f64>> = if batch.column_by_name("share_0").is_some() {
            (0..classes)
                .map(|c| f(&format!("share_{c}")))
                .collect::<Result<_>>()?
        } else if classes == 2 {
            let v = f("value")?;
            vec![v.iter().map(|p| 1.0 - p).collect(), v]
        } else {
            return exec_err!(
                "model store: nodes.parquet has no class shares for {classes} classes"
            );
        };
        let entropy = match batch.column_by_name("split_quality") {
            Some(c) => {
                let c = cast(c, &DataType::Utf8)?;
                let c = c.as_string::<i32>();
                c.iter().next().flatten() == Some("entropy")
            }
            None => batch
                .schema()
                .metadata()
                .get("split_quality")
                .is_some_and(|s| s == "entropy"),
        };
        let mut trees: Vec<Tree> = vec![];
        for r in 0..batch.num_rows() {
            let t = usize::try_from(tree[r])
                .ok()
                .filter(|t| *t < batch.num_rows())
                .ok_or_else(|| {
                    exec_datafusion_err!("model store: nodes.parquet has tree {}", tree[r])
                })?;
            while trees.len() <= t {
                trees.push(Tree {
                    nodes: vec![],
                    entropy,
                });
            }
            if feature[r] >= width as i64 {
                return exec_err!(
                    "model store: nodes.parquet splits on feature {} of {width}",
                    feature[r]
                );
            }
            trees[t].nodes.push(Node {
                feature: feature[r],
                threshold: thr[r],
                left: left[r],
                right: right[r],
                n: n[r],
                shares: shares.iter().map(|s| s[r]).collect(),
            });
        }
        // children come after their parent (as the grower writes them), so no path can cycle
        for t in &trees {
            let len = t.nodes.len() as i64;
            if t.nodes.iter().enumerate().any(|(i, n)| {
                let i = i as i64;
                n.feature >= 0 && (n.left <= i || n.right <= i || n.left >= len || n.right >= len)
            }) {
                return exec_err!("model store: nodes.parquet has a child index out of range");
            }
        }
        Ok(Self {
            trees,
            width,
            classes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_probabilities_contributions_and_importance() {
        // x0 separates the classes except one row; x1 is noise
        let x = Array2::from_shape_vec(
            (6, 2),
            vec![0.0, 5.0, 1.0, 3.0, 2.0, 4.0, 3.0, 1.0, 4.0, 2.0, 5.0, 0.0],
        )
        .unwrap();
        let y = [0, 0, 1, 1, 1, 1];
        let f = fit_tree(
            &x,
            &y,
            2,
            TreeHyper {
                max_depth: Some(1),
                min_samples_leaf: 1,
                entropy: false,
            },
        )
        .unwrap();
        let p = f.class_probabilities(&x).column(1).to_vec();
        assert_eq!(p, vec![0.0, 0.0, 1.0, 1.0, 1.0, 1.0]);
        assert!((f.base(1) - 4.0 / 6.0).abs() < 1e-15);
        let c = f.contributions(&x, &[1; 6]);
        for (i, row) in c.rows().into_iter().enumerate() {
            assert!((row.sum() + f.base(1) - p[i]).abs() < 1e-12);
        }
        assert_eq!(f.importance(), vec![1.0, 0.0]);
        let names = vec!["x0".to_string(), "x1".to_string()];
        let back = Forest::from_batch(&f.to_batch(&names).unwrap(), 2, 2).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn forest_is_seeded() {
        let x = Array2::from_shape_fn((40, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f64);
        let y: Vec<u32> = (0..40).map(|i| u32::from((i * 7) % 11 > 5)).collect();
        let h = ForestHyper {
            n_trees: 9,
            tree: TreeHyper {
                max_depth: Some(3),
                min_samples_leaf: 1,
                entropy: false,
            },
            max_features: MaxFeatures::Count(2),
        };
        let a = fit_forest(&x, &y, 2, h, 3).unwrap();
        let b = fit_forest(&x, &y, 2, h, 3).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.trees.len(), 9);
        let c = a.contributions(&x, &[1; 40]);
        let p = a.class_probabilities(&x).column(1).to_vec();
        for (i, row) in c.rows().into_iter().enumerate() {
            assert!((row.sum() + a.base(1) - p[i]).abs() < 1e-12);
        }
    }

    #[test]
    fn three_classes() {
        // x0 < 2: class 0, 2..4: class 1, >= 4: class 2
        let x = Array2::from_shape_fn((6, 1), |(i, _)| i as f64);
        let y = [0, 0, 1, 1, 2, 2];
        let h = TreeHyper {
            max_depth: None,
            min_samples_leaf: 1,
            entropy: false,
        };
        let f = fit_tree(&x, &y, 3, h).unwrap();
        let p = f.class_probabilities(&x);
        for (i, &c) in y.iter().enumerate() {
            assert_eq!(p[[i, c as usize]], 1.0);
        }
        let names = vec!["x0".to_string()];
        let back = Forest::from_batch(&f.to_batch(&names).unwrap(), 1, 3).unwrap();
        assert_eq!(back, f);
        let cls: Vec<usize> = y.iter().map(|&c| c as usize).collect();
        let c = f.contributions(&x, &cls);
        for (i, &k) in cls.iter().enumerate() {
            assert!((c[[i, 0]] + f.base(k) - 1.0).abs() < 1e-12);
        }
    }
}
