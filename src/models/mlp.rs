//! A multilayer perceptron classifier: dense ReLU layers (`hidden_units = '64,32'`), a sigmoid
//! output and binary cross-entropy for a binary label (softmax and categorical cross-entropy
//! for three or more classes), Adam (`learning_rate` 0.001, β1 0.9, β2 0.999, ε 1e-7 as
//! Keras), mini-batches (`batch_size` 32) for `epochs` (50), and a `validation_split` (0.2) of
//! the training rows held back to report validation loss and accuracy per epoch.
//!
//! linfa has no neural network. This is a compact ndarray implementation rather than candle or
//! burn: it adds no dependency and no build time (both frameworks add minutes of compile on two
//! cores for a network this small), and it is deterministic by construction — Glorot-uniform
//! weights, the validation rows and every epoch's shuffle come from the model's seed, and the
//! arithmetic runs single-threaded in a fixed order, so the same statement gives the same
//! weights bit for bit.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use datafusion::common::{exec_datafusion_err, exec_err, plan_err, Result};
use ndarray::{Array1, Array2, ArrayView1, Axis};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::logistic::sigmoid;
use super::naive_bayes::softmax_into;
use super::options::ModelOptions;

/// Options of `type = 'mlp'`.
pub const OPTIONS: &[&str] = &[
    "hidden_units",
    "learning_rate",
    "epochs",
    "batch_size",
    "validation_split",
];

const EPS: f64 = 1e-7;

/// Hyper-parameters.
#[derive(Debug, Clone)]
pub struct MlpHyper {
    /// Units of each hidden layer.
    pub hidden: Vec<usize>,
    /// Adam step size.
    pub learning_rate: f64,
    /// Passes over the training rows.
    pub epochs: usize,
    /// Rows per gradient step.
    pub batch_size: usize,
    /// Share of the training rows kept for validation.
    pub validation_split: f64,
}

impl MlpHyper {
    /// Reads and validates the type options.
    pub fn from_options(o: &ModelOptions) -> Result<Self> {
        let units = o
            .raw
            .get("hidden_units")
            .map(String::as_str)
            .unwrap_or("64,32");
        let hidden: Vec<usize> = match units
            .split(',')
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<usize>().ok().filter(|n| (1..=4096).contains(n)))
            .collect::<Option<Vec<_>>>()
        {
            Some(h) if h.len() <= 8 => h,
            _ => return plan_err!("CREATE MODEL: option hidden_units = '{units}'; expected up to 8 comma-separated layer sizes from 1 to 4096, e.g. '64,32' (or '' for none)"),
        };
        Ok(Self {
            hidden,
            learning_rate: o.number("learning_rate", 0.001, 1e-9, 10.0)?,
            epochs: o.integer("epochs", 50, 1, 100_000)? as usize,
            batch_size: o.integer("batch_size", 32, 1, 1 << 20)? as usize,
            validation_split: o.number("validation_split", 0.2, 0.0, 0.9)?,
        })
    }
}

/// One dense layer: out = in·w + b.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// inputs × outputs.
    pub w: Array2<f64>,
    /// outputs.
    pub b: Array1<f64>,
}

/// Loss and accuracy after one epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Epoch {
    /// Mean training loss over the epoch's batches (as Keras reports it).
    pub loss: f64,
    /// Training accuracy over the epoch's batches.
    pub accuracy: f64,
    /// Validation loss at the end of the epoch (NULL without validation rows).
    pub val_loss: Option<f64>,
    /// Validation accuracy.
    pub val_accuracy: Option<f64>,
}

/// A fitted network.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    /// Hidden layers then the output layer.
    pub layers: Vec<Layer>,
    /// Per epoch.
    pub history: Vec<Epoch>,
}

fn relu(x: f64) -> f64 {
    x.max(0.0)
}

/// Cross-entropy of a row's class probabilities for class `y` (clipped as Keras).
fn cross_entropy(p: ArrayView1<f64>, y: usize) -> f64 {
    -p[y].clamp(EPS, 1.0 - EPS).ln()
}

/// The predicted class of a row of probabilities: the most likely, the positive class of a
/// binary label from 0.5 up.
pub fn argmax(p: ArrayView1<f64>) -> usize {
    if p.len() == 2 {
        return usize::from(p[1] >= 0.5);
    }
    let mut best = 0;
    for (c, v) in p.iter().enumerate() {
        if *v > p[best] {
            best = c;
        }
    }
    best
}

impl Mlp {
    /// Activations of every layer (the input first, the output last: one sigmoid unit for a
    /// binary label, a softmax over the classes otherwise).
    fn forward(&self, x: &Array2<f64>) -> Vec<Array2<f64>> {
        let mut acts = vec![x.clone()];
        for (l, layer) in self.layers.iter().enumerate() {
            let mut z = acts[l].dot(&layer.w) + &layer.b;
            if l + 1 < self.layers.len() {
                z.mapv_inplace(relu);
            } else if z.ncols() == 1 {
                z.mapv_inplace(sigmoid);
            } else {
                for mut row in z.rows_mut() {
                    let v = row.to_vec();
                    softmax_into(&v, row.view_mut());
                }
            }
            acts.push(z);
        }
        acts
    }

    /// Class probabilities per row (rows × classes).
    pub fn class_probabilities(&self, x: &Array2<f64>) -> Array2<f64> {
        let out = self
            .forward(x)
            .pop()
            .unwrap_or_else(|| Array2::zeros((x.nrows(), 1)));
        if out.ncols() == 1 {
            let mut two = Array2::zeros((out.nrows(), 2));
            for (i, p) in out.column(0).iter().enumerate() {
                two[[i, 0]] = 1.0 - p;
                two[[i, 1]] = *p;
            }
            return two;
        }
        out
    }

    fn evaluate(&self, x: &Array2<f64>, y: &[u32]) -> (f64, f64) {
        let p = self.class_probabilities(x);
        let n = p.nrows().max(1) as f64;
        let (mut loss, mut correct) = (0.0, 0usize);
        for (row, &c) in p.rows().into_iter().zip(y) {
            loss += cross_entropy(row, c as usize);
            correct += usize::from(argmax(row) == c as usize);
        }
        (loss / n, correct as f64 / n)
    }
}

struct Adam {
    m: Vec<(Array2<f64>, Array1<f64>)>,
    v: Vec<(Array2<f64>, Array1<f64>)>,
    t: i32,
}

/// Trains a network on class indices below `classes`; rows are in canonical order, so with
/// the seed the result is fixed.
pub fn fit(x: &Array2<f64>, y: &[u32], classes: usize, hyper: &MlpHyper, seed: u64) -> Result<Mlp> {
    let (n, p) = x.dim();
    if n == 0 {
        return exec_err!("CREATE MODEL: mlp has no training rows");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sizes = vec![p];
    sizes.extend(&hyper.hidden);
    let outputs = if classes == 2 { 1 } else { classes };
    sizes.push(outputs);
    let layers: Vec<Layer> = sizes
        .windows(2)
        .map(|w| {
            let limit = (6.0 / (w[0] + w[1]) as f64).sqrt();
            Layer {
                w: Array2::from_shape_fn((w[0], w[1]), |_| rng.gen_range(-limit..limit)),
                b: Array1::zeros(w[1]),
            }
        })
        .collect();
    let mut net = Mlp {
        layers,
        history: vec![],
    };
    // validation rows: a seeded random share of the training rows
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    let n_val = ((hyper.validation_split * n as f64).round() as usize).min(n.saturating_sub(1));
    let (val, train) = order.split_at(n_val);
    let mut train = train.to_vec();
    train.sort_unstable();
    let mut val_rows = val.to_vec();
    val_rows.sort_unstable();
    let (xv, yv): (Array2<f64>, Vec<u32>) = (
        x.select(Axis(0), &val_rows),
        val_rows.iter().map(|&i| y[i]).collect(),
    );
    let mut adam = Adam {
        m: net
            .layers
            .iter()
            .map(|l| (Array2::zeros(l.w.dim()), Array1::zeros(l.b.len())))
            .collect(),
        v: net
            .layers
            .iter()
            .map(|l| (Array2::zeros(l.w.dim()), Array1::zeros(l.b.len())))
            .collect(),
        t: 0,
    };
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-7f64);
    for _ in 0..hyper.epochs {
        train.shuffle(&mut rng);
        let (mut loss_sum, mut correct) = (0.0, 0usize);
        for batch in train.chunks(hyper.batch_size) {
            let xb = x.select(Axis(0), batch);
            let acts = net.forward(&xb);
            let Some(out) = acts.last() else {
                return exec_err!("CREATE MODEL: mlp has no layers");
            };
            // gradient of the mean cross-entropy w.r.t. the output logits: (p - onehot(y)) / batch
            // (for the single sigmoid unit of a binary label: p - y)
            let bsz = batch.len() as f64;
            let mut delta = out.clone();
            for (r, &i) in batch.iter().enumerate() {
                let c = y[i] as usize;
                if outputs == 1 {
                    let p = out[[r, 0]];
                    let pc = p.clamp(EPS, 1.0 - EPS);
                    loss_sum += if c == 1 { -pc.ln() } else { -(1.0 - pc).ln() };
                    correct += usize::from(usize::from(p >= 0.5) == c);
                    delta[[r, 0]] -= c as f64;
                } else {
                    let row = out.row(r);
                    loss_sum += cross_entropy(row, c);
                    correct += usize::from(argmax(row) == c);
                    delta[[r, c]] -= 1.0;
                }
            }
            delta.mapv_inplace(|d| d / bsz);
            adam.t += 1;
            let (c1, c2) = (1.0 - b1.powi(adam.t), 1.0 - b2.powi(adam.t));
            for l in (0..net.layers.len()).rev() {
                let gw = acts[l].t().dot(&delta);
                let gb = delta.sum_axis(Axis(0));
                if l > 0 {
                    let back = delta.dot(&net.layers[l].w.t());
                    delta = back * acts[l].mapv(|a| if a > 0.0 { 1.0 } else { 0.0 });
                }
                let (mw, mb) = &mut adam.m[l];
                let (vw, vb) = &mut adam.v[l];
                mw.zip_mut_with(&gw, |m, g| *m = b1 * *m + (1.0 - b1) * g);
                mb.zip_mut_with(&gb, |m, g| *m = b1 * *m + (1.0 - b1) * g);
                vw.zip_mut_with(&gw, |v, g| *v = b2 * *v + (1.0 - b2) * g * g);
                vb.zip_mut_with(&gb, |v, g| *v = b2 * *v + (1.0 - b2) * g * g);
                let lr = hyper.learning_rate;
                let layer = &mut net.layers[l];
                ndarray::Zip::from(&mut layer.w)
                    .and(&*mw)
                    .and(&*vw)
                    .for_each(|w, m, v| {
                        *w -= lr * (m / c1) / ((v / c2).sqrt() + eps);
                    });
                ndarray::Zip::from(&mut layer.b)
                    .and(&*mb)
                    .and(&*vb)
                    .for_each(|b, m, v| {
                        *b -= lr * (m / c1) / ((v / c2).sqrt() + eps);
                    });
            }
        }
        let nt = train.len().max(1) as f64;
        let (val_loss, val_accuracy) = if val_rows.is_empty() {
            (None, None)
        } else {
            let (l, a) = net.evaluate(&xv, &yv);
            (Some(l), Some(a))
        };
        if !loss_sum.is_finite() {
            return exec_err!("CREATE MODEL: mlp diverged (the loss is not finite); lower learning_rate or scale the features");
        }
        net.history.push(Epoch {
            loss: loss_sum / nt,
            accuracy: correct as f64 / nt,
            val_loss,
            val_accuracy,
        });
    }
    Ok(net)
}

impl Mlp {
    /// `mlp.parquet`: layer, input (-1 for the bias), output, weight.
    pub fn to_batch(&self) -> Result<RecordBatch> {
        let (mut layer, mut input, mut output, mut weight) = (vec![], vec![], vec![], vec![]);
        for (l, ly) in self.layers.iter().enumerate() {
            for ((i, o), w) in ly.w.indexed_iter() {
                layer.push(l as i64);
                input.push(i as i64);
                output.push(o as i64);
                weight.push(*w);
            }
            for (o, b) in ly.b.iter().enumerate() {
                layer.push(l as i64);
                input.push(-1);
                output.push(o as i64);
                weight.push(*b);
            }
        }
        let schema = Schema::new(vec![
            Field::new("layer", DataType::Int64, false),
            Field::new("input", DataType::Int64, false),
            Field::new("output", DataType::Int64, false),
            Field::new("weight", DataType::Float64, false),
        ]);
        Ok(RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(layer)),
                Arc::new(Int64Array::from(input)),
                Arc::new(Int64Array::from(output)),
                Arc::new(Float64Array::from(weight)),
            ],
        )?)
    }

    /// `training_info.parquet`: epoch, loss, accuracy, val_loss, val_accuracy.
    pub fn history_batch(&self) -> Result<RecordBatch> {
        let h = &self.history;
        let schema = Schema::new(vec![
            Field::new("epoch", DataType::Int64, false),
            Field::new("loss", DataType::Float64, false),
            Field::new("accuracy", DataType::Float64, false),
            Field::new("val_loss", DataType::Float64, true),
            Field::new("val_accuracy", DataType::Float64, true),
        ]);
        Ok(RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from_iter_values(1..=h.len() as i64)),
                Arc::new(Float64Array::from_iter_values(h.iter().map(|e| e.loss))),
                Arc::new(Float64Array::from_iter_values(h.iter().map(|e| e.accuracy))),
                Arc::new(h.iter().map(|e| e.val_loss).collect::<Float64Array>()),
                Arc::new(h.iter().map(|e| e.val_accuracy).collect::<Float64Array>()),
            ],
        )?)
    }

    /// Restores the layers written by [`Mlp::to_batch`] for `width` inputs and `classes`
    /// classes.
    pub fn from_batch(batch: &RecordBatch, width: usize, classes: usize) -> Result<Self> {
        let col = |name: &str| {
            batch.column_by_name(name).ok_or_else(|| {
                exec_datafusion_err!("model store: mlp.parquet has no column '{name}'")
            })
        };
        let int = |name: &str| -> Result<Vec<i64>> {
            Ok(cast(col(name)?, &DataType::Int64)?
                .as_primitive::<Int64Type>()
                .values()
                .to_vec())
        };
        let (layer, input, output) = (int("layer")?, int("input")?, int("output")?);
        let weight = cast(col("weight")?, &DataType::Float64)?
            .as_primitive::<Float64Type>()
            .values()
            .to_vec();
        let damaged = || {
            exec_err!("model store: mlp.parquet does not fit the model's {width} features and {classes} classes")
        };
        // indices must be within the table's own size before anything is indexed by them
        let rows = layer.len() as i64;
        if layer.iter().any(|&l| l < 0 || l >= rows)
            || input.iter().any(|&v| v < -1 || v >= rows)
            || output.iter().any(|&v| v < 0 || v >= rows)
        {
            return damaged();
        }
        let n_layers = layer.iter().copied().max().map_or(0, |m| m as usize + 1);
        // layer shapes: inputs = max input + 1 (the first layer must take `width`), outputs = max output + 1
        let mut shapes = vec![(0usize, 0usize); n_layers];
        for r in 0..layer.len() {
            let s = &mut shapes[layer[r] as usize];
            s.0 = s.0.max((input[r] + 1) as usize);
            s.1 = s.1.max(output[r] as usize + 1);
        }
        let outputs = if classes == 2 { 1 } else { classes };
        if shapes.first().is_none_or(|s| s.0 != width)
            || shapes.last().is_none_or(|s| s.1 != outputs)
            || shapes.iter().any(|s| s.0 == 0 || s.1 == 0)
            || shapes.windows(2).any(|w| w[0].1 != w[1].0)
        {
            return damaged();
        }
        let mut layers: Vec<Layer> = shapes
            .iter()
            .map(|&(i, o)| Layer {
                w: Array2::zeros((i, o)),
                b: Array1::zeros(o),
            })
            .collect();
        for r in 0..layer.len() {
            let l = &mut layers[layer[r] as usize];
            let o = output[r] as usize;
            if input[r] < 0 {
                l.b[o] = weight[r];
            } else {
                l.w[[input[r] as usize, o]] = weight[r];
            }
        }
        Ok(Self {
            layers,
            history: vec![],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_xor_deterministically() {
        let x = Array2::from_shape_fn((200, 2), |(i, j)| if (i >> j) & 1 == 1 { 1.0 } else { 0.0 });
        let y: Vec<u32> = (0..200)
            .map(|i| u32::from((i & 1) != ((i >> 1) & 1)))
            .collect();
        let h = MlpHyper {
            hidden: vec![16, 8],
            learning_rate: 0.01,
            epochs: 100,
            batch_size: 16,
            validation_split: 0.1,
        };
        let a = fit(&x, &y, 2, &h, 7).unwrap();
        let b = fit(&x, &y, 2, &h, 7).unwrap();
        assert_eq!(a, b);
        let p = a.class_probabilities(&x);
        let acc = p
            .rows()
            .into_iter()
            .zip(&y)
            .filter(|(p, y)| argmax(p.view()) == **y as usize)
            .count();
        assert_eq!(acc, 200, "XOR not learned: {:?}", a.history.last());
        assert!(a.history.last().unwrap().val_accuracy == Some(1.0));
        let back = Mlp::from_batch(&a.to_batch().unwrap(), 2, 2).unwrap();
        assert_eq!(back.class_probabilities(&x), p);
    }

    #[test]
    fn softmax_learns_three_classes() {
        // class = which of three bands x0 falls in (x1 is noise)
        let x = Array2::from_shape_fn((300, 2), |(i, j)| {
            if j == 0 {
                (i % 30) as f64 / 10.0 - 1.5
            } else {
                ((i * 7) % 13) as f64 / 13.0
            }
        });
        let y: Vec<u32> = (0..300).map(|i| ((i % 30) / 10) as u32).collect();
        let h = MlpHyper {
            hidden: vec![16],
            learning_rate: 0.01,
            epochs: 200,
            batch_size: 16,
            validation_split: 0.0,
        };
        let a = fit(&x, &y, 3, &h, 3).unwrap();
        assert_eq!(a, fit(&x, &y, 3, &h, 3).unwrap());
        let p = a.class_probabilities(&x);
        assert_eq!(p.ncols(), 3);
        for row in p.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-12);
        }
        let acc = p
            .rows()
            .into_iter()
            .zip(&y)
            .filter(|(p, y)| argmax(p.view()) == **y as usize)
            .count();
        assert!(acc >= 290, "three bands not learned: {acc}/300");
        let back = Mlp::from_batch(&a.to_batch().unwrap(), 2, 3).unwrap();
        assert_eq!(back.class_probabilities(&x), p);
        assert!(Mlp::from_batch(&a.to_batch().unwrap(), 2, 2).is_err());
    }
}
