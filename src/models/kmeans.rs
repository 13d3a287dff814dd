//! k-means clustering on the preprocessed (imputed, scaled, one-hot) features: k-means++
//! seeding and restarts with linfa-clustering, then exact Lloyd iterations of our own to the
//! fixed point; an explicit initialisation (random rows, first_k or a query) goes straight to
//! the Lloyd iterations. Rows are assigned on all cores.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use datafusion::common::{exec_datafusion_err, plan_err, Result};
use linfa::prelude::*;
use linfa_clustering::{KMeans, KMeansInit};
use ndarray::{Array2, ArrayView1};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::options::ModelOptions;

/// Options of `type = 'kmeans'`.
pub const OPTIONS: &[&str] = &["k", "max_iterations", "tolerance", "init", "n_runs"];

/// How the first centroids are chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum Init {
    /// k-means++ from the seed.
    PlusPlus,
    /// k training rows drawn at random from the seed.
    Random,
    /// The first k training rows, in the canonical (sorted) row order.
    FirstK,
    /// The rows of a query, in the model's feature columns and original units.
    Query(String),
}

/// Hyper-parameters.
#[derive(Debug, Clone)]
pub struct KMeansHyper {
    /// Number of clusters.
    pub k: usize,
    /// Iteration cap per run (300).
    pub max_iterations: u64,
    /// Stop when the centroids move less than this (1e-4).
    pub tolerance: f64,
    /// Initialisation.
    pub init: Init,
    /// Runs from different seeds; the lowest inertia wins (10; 1 with an explicit init).
    pub n_runs: usize,
}

impl KMeansHyper {
    /// Reads and validates the type options.
    pub fn from_options(o: &ModelOptions) -> Result<Self> {
        let k = match o.raw.get("k") {
            None => return plan_err!("CREATE MODEL: option k is required for type kmeans; give the number of clusters, e.g. k = 5"),
            Some(_) => o.integer("k", 0, 1, 10_000)? as usize,
        };
        let init = match o.raw.get("init").map(|s| s.trim()) {
            None | Some("kmeans++") | Some("k-means++") => Init::PlusPlus,
            Some("random") => Init::Random,
            Some("first_k") => Init::FirstK,
            Some(s) if s.to_ascii_lowercase().starts_with("query:") => Init::Query(s[6..].trim().to_string()),
            Some(other) => {
                return plan_err!("CREATE MODEL: option init = '{other}'; expected kmeans++, random, first_k or query:SELECT ... (k rows of the feature columns)")
            }
        };
        let explicit = matches!(init, Init::FirstK | Init::Query(_));
        let n_runs = o.integer("n_runs", if explicit { 1 } else { 10 }, 1, 1000)? as usize;
        if explicit && n_runs != 1 {
            return plan_err!("CREATE MODEL: option n_runs = {n_runs} with init = '{}'; an explicit initialisation runs once (n_runs = 1)", o.raw.get("init").map(String::as_str).unwrap_or(""));
        }
        Ok(Self {
            k,
            max_iterations: o.integer("max_iterations", 300, 1, 1_000_000)?,
            tolerance: o.number("tolerance", 1e-4, 1e-15, 1e6)?,
            init,
            n_runs,
        })
    }
}

/// Fitted centroids (in the preprocessed feature space) and training cluster sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct Centroids {
    /// k × features.
    pub centroids: Array2<f64>,
    /// Training rows per cluster.
    pub sizes: Vec<u64>,
}

fn sq_dist(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Fits k-means. `initial` holds the starting centroids of an explicit initialisation.
pub fn fit(
    x: &Array2<f64>,
    hyper: &KMeansHyper,
    initial: Option<Array2<f64>>,
    seed: u64,
) -> Result<Centroids> {
    let n = x.nrows();
    if n < hyper.k {
        return datafusion::common::exec_err!(
            "CREATE MODEL: kmeans with k = {} needs at least {} training rows; got {n}",
            hyper.k,
            hyper.k
        );
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let init = match (&hyper.init, initial) {
        (_, Some(c)) => KMeansInit::Precomputed(c),
        (Init::FirstK, None) => {
            KMeansInit::Precomputed(x.slice(ndarray::s![0..hyper.k, ..]).to_owned())
        }
        (Init::Random, None) => {
            let mut rows: Vec<usize> = (0..n).collect();
            rows.shuffle(&mut rng);
            KMeansInit::Precomputed(x.select(ndarray::Axis(0), &rows[..hyper.k]))
        }
        _ => KMeansInit::KMeansPlusPlus,
    };
    // An explicit start needs no seeding or restarts: Lloyd's iterations from it are ours
    // (below), run to the exact fixed point on all cores.
    if let KMeansInit::Precomputed(c) = &init {
        let mut c = Centroids {
            sizes: vec![0; hyper.k],
            centroids: c.clone(),
        };
        c.polish(x, hyper.max_iterations);
        return Ok(c);
    }
    let dataset = DatasetBase::from(x.clone());
    let model = KMeans::params_with_rng(hyper.k, rng)
        .n_runs(hyper.n_runs)
        .max_n_iterations(hyper.max_iterations)
        .tolerance(hyper.tolerance)
        .init_method(init)
        .fit(&dataset)
        .map_err(|e| exec_datafusion_err!("CREATE MODEL: kmeans failed to fit: {e}"))?;
    let mut c = Centroids {
        sizes: vec![0; hyper.k],
        centroids: model.centroids().clone(),
    };
    c.polish(x, hyper.max_iterations);
    Ok(c)
}

impl Centroids {
    /// Lloyd steps until no row changes cluster: linfa stops at its tolerance, this makes every
    /// centroid the exact mean of its rows (the fixed point scikit-learn reports with tol = 0).
    fn polish(&mut self, x: &Array2<f64>, max_steps: u64) {
        let mut labels = self.assign(x);
        for _ in 0..max_steps {
            let (k, p) = self.centroids.dim();
            let mut sums = Array2::<f64>::zeros((k, p));
            let mut counts = vec![0u64; k];
            for (row, &l) in x.rows().into_iter().zip(&labels) {
                sums.row_mut(l).zip_mut_with(&row, |s, v| *s += v);
                counts[l] += 1;
            }
            for (j, &cnt) in counts.iter().enumerate() {
                if cnt > 0 {
                    let mean = sums.row(j).mapv(|s| s / cnt as f64);
                    self.centroids.row_mut(j).assign(&mean);
                }
            }
            self.sizes = counts;
            let next = self.assign(x);
            if next == labels {
                break;
            }
            labels = next;
        }
    }

    /// The nearest centroid of each row (ties: the lower id), rows split over the cores (each
    /// row's answer is independent of the split).
    pub fn assign(&self, x: &Array2<f64>) -> Vec<usize> {
        let (k, p) = self.centroids.dim();
        let cents: Vec<f64> = self.centroids.iter().copied().collect();
        let nearest = |row: &[f64]| -> usize {
            let mut best = (0, f64::INFINITY);
            for j in 0..k {
                let c = &cents[j * p..(j + 1) * p];
                let d: f64 = row.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum();
                if d < best.1 {
                    best = (j, d);
                }
            }
            best.0
        };
        let Some(data) = x.as_slice() else {
            return x.rows().into_iter().map(|r| nearest(&r.to_vec())).collect();
        };
        let n = x.nrows();
        let threads = std::thread::available_parallelism()
            .map_or(1, |t| t.get())
            .clamp(1, 16);
        if threads == 1 || n < 10_000 || p == 0 {
            return (0..n).map(|i| nearest(&data[i * p..(i + 1) * p])).collect();
        }
        let per = n.div_ceil(threads);
        let mut out = vec![0usize; n];
        std::thread::scope(|s| {
            for (t, part) in out.chunks_mut(per).enumerate() {
                let nearest = &nearest;
                s.spawn(move || {
                    for (j, o) in part.iter_mut().enumerate() {
                        let i = t * per + j;
                        *o = nearest(&data[i * p..(i + 1) * p]);
                    }
                });
            }
        });
        out
    }

    /// Sum of squared distances to the nearest centroid.
    pub fn inertia(&self, x: &Array2<f64>) -> f64 {
        let a = self.assign(x);
        x.rows()
            .into_iter()
            .zip(a)
            .map(|(r, k)| sq_dist(r, self.centroids.row(k)))
            .sum()
    }

    /// Mean silhouette coefficient over at most `sample` rows (drawn from the seed), NULL with
    /// fewer than two clusters present.
    pub fn silhouette(&self, x: &Array2<f64>, sample: usize, seed: u64) -> Option<f64> {
        let mut rows: Vec<usize> = (0..x.nrows()).collect();
        if rows.len() > sample {
            rows.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
            rows.truncate(sample);
            rows.sort_unstable();
        }
        let xs = x.select(ndarray::Axis(0), &rows);
        let labels = self.assign(&xs);
        let k = self.centroids.nrows();
        let mut size = vec![0usize; k];
        labels.iter().for_each(|&l| size[l] += 1);
        if size.iter().filter(|&&s| s > 0).count() < 2 {
            return None;
        }
        // plain row slices: the O(n²) loop below should not build array views
        let flat: Vec<Vec<f64>> = xs.rows().into_iter().map(|r| r.to_vec()).collect();
        let dist = |a: &[f64], b: &[f64]| -> f64 {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f64>()
                .sqrt()
        };
        let mut total = 0.0;
        let mut sums = vec![0.0; k];
        for (i, a) in flat.iter().enumerate() {
            sums.iter_mut().for_each(|s| *s = 0.0);
            for (j, b) in flat.iter().enumerate() {
                if i != j {
                    sums[labels[j]] += dist(a, b);
                }
            }
            let own = labels[i];
            if size[own] <= 1 {
                continue; // a singleton's silhouette is 0
            }
            let a_i = sums[own] / (size[own] - 1) as f64;
            let b_i = (0..k)
                .filter(|&c| c != own && size[c] > 0)
                .map(|c| sums[c] / size[c] as f64)
                .fold(f64::INFINITY, f64::min);
            total += (b_i - a_i) / a_i.max(b_i);
        }
        Some(total / flat.len() as f64)
    }

    /// `centroids.parquet`: cluster, size, then one column per preprocessed feature.
    pub fn to_batch(&self, names: &[String]) -> Result<RecordBatch> {
        let mut fields = vec![
            Field::new("cluster", DataType::Int64, false),
            Field::new("size", DataType::Int64, false),
        ];
        let mut cols: Vec<datafusion::arrow::array::ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(
                0..self.centroids.nrows() as i64,
            )),
            Arc::new(Int64Array::from_iter_values(
                self.sizes.iter().map(|s| *s as i64),
            )),
        ];
        for (j, n) in names.iter().enumerate() {
            fields.push(Field::new(n, DataType::Float64, false));
            cols.push(Arc::new(Float64Array::from(
                self.centroids.column(j).to_vec(),
            )));
        }
        Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
    }

    /// Restores centroids written by [`Centroids::to_batch`].
    pub fn from_batch(batch: &RecordBatch, names: &[String]) -> Result<Self> {
        let k = batch.num_rows();
        let mut centroids = Array2::zeros((k, names.len()));
        for (j, n) in names.iter().enumerate() {
            let c = batch.column_by_name(n).ok_or_else(|| {
                exec_datafusion_err!("model store: centroids.parquet has no column '{n}'")
            })?;
            let c = cast(c, &DataType::Float64)?;
            for (i, v) in c.as_primitive::<Float64Type>().values().iter().enumerate() {
                centroids[[i, j]] = *v;
            }
        }
        let sizes = match batch.column_by_name("size") {
            Some(s) => cast(s, &DataType::Int64)?
                .as_primitive::<Int64Type>()
                .values()
                .iter()
                .map(|v| *v as u64)
                .collect(),
            None => vec![0; k],
        };
        Ok(Self { centroids, sizes })
    }
}
