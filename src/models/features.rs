//! Turning Arrow columns into a dense feature matrix: NULL imputation, one-hot encoding of
//! categorical columns and scaling, all fitted on training rows and replayed at prediction.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::common::{exec_datafusion_err, exec_err, Result};
use ndarray::Array2;

use super::options::{Impute, NullPolicy, Scale};
use crate::store::FeatureInfo;
use crate::util::is_categorical;

/// How one input column becomes one or more model features.
#[derive(Debug, Clone, PartialEq)]
pub enum Transform {
    /// A number: optional imputation, then `(x - center) / scale`.
    Numeric {
        /// Value replacing NULL (None: NULL makes the row unscorable).
        impute: Option<f64>,
        /// Subtracted before scaling.
        center: f64,
        /// Divisor after centering (1 when not scaling).
        scale: f64,
    },
    /// Text or boolean: one 0/1 feature per category seen in training.
    Categorical {
        /// Sorted categories.
        categories: Vec<String>,
        /// Category → position.
        index: HashMap<String, usize>,
        /// Category replacing NULL.
        impute: Option<String>,
    },
}

/// One input column and its transform.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    /// Input column name.
    pub name: String,
    /// Arrow type at training time, as text.
    pub data_type: String,
    /// Its transform.
    pub transform: Transform,
}

/// All input columns of a model, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Preprocessor {
    /// Input columns.
    pub columns: Vec<ColumnSpec>,
}

/// Result of transforming columns into a matrix.
pub struct Matrix {
    /// rows × features.
    pub x: Array2<f64>,
    /// Whether each row could be encoded (false: a NULL without imputation).
    pub valid: Vec<bool>,
    /// Values whose category was not seen in training.
    pub unseen: u64,
}

/// Casts a column to the representation a transform reads: Float64 for numbers, Utf8 for
/// categories.
pub(crate) fn normalize_column(array: &ArrayRef, categorical: bool) -> Result<ArrayRef> {
    if categorical {
        Ok(cast(array, &DataType::Utf8)?)
    } else {
        Ok(cast(array, &DataType::Float64)?)
    }
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

impl Preprocessor {
    /// Fits imputation, categories and scaling on the rows where `fit_rows` is true.
    /// `columns` are normalized (Float64 or Utf8) and named by `infos`.
    pub fn fit(
        infos: &[FeatureInfo],
        columns: &[ArrayRef],
        fit_rows: &[bool],
        null_policy: NullPolicy,
        scale: Scale,
    ) -> Result<Self> {
        let mut specs = vec![];
        for (info, col) in infos.iter().zip(columns) {
            let transform = if info.kind == "categorical" {
                let s = col.as_string::<i32>();
                let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
                for (i, v) in s.iter().enumerate() {
                    if let (Some(v), true) = (v, fit_rows[i]) {
                        *counts.entry(v).or_default() += 1;
                    }
                }
                let categories: Vec<String> = counts.keys().map(|s| s.to_string()).collect();
                let impute = match null_policy {
                    // Text has no mean or median: every imputing policy takes the most frequent
                    // category (ties: the smallest), 'zero' included.
                    NullPolicy::Impute(_) => {
                        let mut best: Option<(&str, u64)> = None;
                        for (k, c) in &counts {
                            if best.is_none_or(|(_, bc)| *c > bc) {
                                best = Some((k, *c));
                            }
                        }
                        best.map(|(k, _)| k.to_string())
                    }
                    _ => None,
                };
                let index = categories
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.clone(), i))
                    .collect();
                Transform::Categorical {
                    categories,
                    index,
                    impute,
                }
            } else {
                let f = col.as_primitive::<Float64Type>();
                let mut vals: Vec<f64> = f
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| v.filter(|_| fit_rows[i]))
                    .collect();
                let impute = match null_policy {
                    NullPolicy::Impute(how) if !vals.is_empty() => Some(match how {
                        Impute::Zero => 0.0,
                        Impute::Mean => vals.iter().sum::<f64>() / vals.len() as f64,
                        Impute::Median => {
                            vals.sort_by(f64::total_cmp);
                            median(&vals)
                        }
                        Impute::Mode => {
                            let mut sorted = vals.clone();
                            sorted.sort_by(f64::total_cmp);
                            let (mut best, mut best_n, mut i) = (sorted[0], 0usize, 0usize);
                            while i < sorted.len() {
                                let mut j = i;
                                while j < sorted.len() && sorted[j] == sorted[i] {
                                    j += 1;
                                }
                                if j - i > best_n {
                                    best_n = j - i;
                                    best = sorted[i];
                                }
                                i = j;
                            }
                            best
                        }
                    }),
                    NullPolicy::Impute(_) => Some(0.0),
                    _ => None,
                };
                // Scaling statistics include imputed values, as a pipeline of imputer then scaler.
                if let Some(v) = impute {
                    let missing = f
                        .iter()
                        .enumerate()
                        .filter(|(i, x)| x.is_none() && fit_rows[*i])
                        .count();
                    vals.extend(std::iter::repeat_n(v, missing));
                }
                let (center, scale) = match scale {
                    Scale::None => (0.0, 1.0),
                    Scale::Standard => {
                        let n = vals.len().max(1) as f64;
                        let mean = vals.iter().sum::<f64>() / n;
                        let var = vals.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
                        let sd = var.sqrt();
                        (mean, if sd > 0.0 { sd } else { 1.0 })
                    }
                    Scale::MinMax => {
                        let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
                        let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        if lo.is_finite() && hi > lo {
                            (lo, hi - lo)
                        } else {
                            (if lo.is_finite() { lo } else { 0.0 }, 1.0)
                        }
                    }
                };
                Transform::Numeric {
                    impute,
                    center,
                    scale,
                }
            };
            specs.push(ColumnSpec {
                name: info.name.clone(),
                data_type: info.data_type.clone(),
                transform,
            });
        }
        Ok(Self { columns: specs })
    }

    /// Number of model features after one-hot expansion.
    pub fn width(&self) -> usize {
        self.columns
            .iter()
            .map(|c| match &c.transform {
                Transform::Numeric { .. } => 1,
                Transform::Categorical { categories, .. } => categories.len(),
            })
            .sum()
    }

    /// Names of the model features after expansion (`col` or `col=category`).
    pub fn feature_names(&self) -> Vec<String> {
        let mut out = vec![];
        for c in &self.columns {
            match &c.transform {
                Transform::Numeric { .. } => out.push(c.name.clone()),
                Transform::Categorical { categories, .. } => {
                    out.extend(categories.iter().map(|k| format!("{}={k}", c.name)))
                }
            }
        }
        out
    }

    /// Encodes columns (in model order, any supported Arrow type) into a dense matrix.
    pub fn transform(&self, columns: &[ArrayRef]) -> Result<Matrix> {
        let rows = columns.first().map(|c| c.len()).unwrap_or(0);
        let mut x = Array2::<f64>::zeros((rows, self.width()));
        let mut valid = vec![true; rows];
        let mut unseen = 0u64;
        let mut offset = 0;
        for (spec, col) in self.columns.iter().zip(columns) {
            match &spec.transform {
                Transform::Numeric {
                    impute,
                    center,
                    scale,
                } => {
                    let col = normalize_column(col, false)?;
                    let f = col.as_primitive::<Float64Type>();
                    for (i, v) in f.iter().enumerate() {
                        match v.or(*impute) {
                            Some(v) => x[[i, offset]] = (v - center) / scale,
                            None => valid[i] = false,
                        }
                    }
                    offset += 1;
                }
                Transform::Categorical {
                    categories,
                    index,
                    impute,
                } => {
                    let col = normalize_column(col, true)?;
                    let s = col.as_string::<i32>();
                    for (i, v) in s.iter().enumerate() {
                        match v.or(impute.as_deref()) {
                            Some(v) => match index.get(v) {
                                Some(k) => x[[i, offset + k]] = 1.0,
                                None => unseen += 1,
                            },
                            None => valid[i] = false,
                        }
                    }
                    offset += categories.len();
                }
            }
        }
        Ok(Matrix { x, valid, unseen })
    }

    /// The preprocessing table stored as `preprocessing.parquet`: one row per model feature.
    pub fn to_batch(&self) -> Result<RecordBatch> {
        let (mut input, mut dtype, mut kind, mut category) = (vec![], vec![], vec![], vec![]);
        let (mut impute_num, mut impute_cat, mut center, mut scale) =
            (vec![], vec![], vec![], vec![]);
        for c in &self.columns {
            match &c.transform {
                Transform::Numeric {
                    impute,
                    center: m,
                    scale: s,
                } => {
                    input.push(c.name.clone());
                    dtype.push(c.data_type.clone());
                    kind.push("numeric".to_string());
                    category.push(None);
                    impute_num.push(*impute);
                    impute_cat.push(None);
                    center.push(*m);
                    scale.push(*s);
                }
                Transform::Categorical {
                    categories, impute, ..
                } => {
                    // A categorical column with no category seen still needs a row to be restored.
                    let cats: Vec<Option<String>> = if categories.is_empty() {
                        vec![None]
                    } else {
                        categories.iter().cloned().map(Some).collect()
                    };
                    for k in cats {
                        input.push(c.name.clone());
                        dtype.push(c.data_type.clone());
                        kind.push("categorical".to_string());
                        category.push(k);
                        impute_num.push(None);
                        impute_cat.push(impute.clone());
                        center.push(0.0);
                        scale.push(1.0);
                    }
                }
            }
        }
        let schema = Arc::new(Schema::new(vec![
            Field::new("input", DataType::Utf8, false),
            Field::new("data_type", DataType::Utf8, false),
            Field::new("kind", DataType::Utf8, false),
            Field::new("category", DataType::Utf8, true),
            Field::new("impute_value", DataType::Float64, true),
            Field::new("impute_category", DataType::Utf8, true),
            Field::new("center", DataType::Float64, false),
            Field::new("scale", DataType::Float64, false),
        ]));
        Ok(RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(input)),
                Arc::new(StringArray::from(dtype)),
                Arc::new(StringArray::from(kind)),
                Arc::new(StringArray::from(category)),
                Arc::new(Float64Array::from(impute_num)),
                Arc::new(StringArray::from(impute_cat)),
                Arc::new(Float64Array::from(center)),
                Arc::new(Float64Array::from(scale)),
            ],
        )?)
    }

    /// Restores the preprocessing table written by [`Preprocessor::to_batch`].
    pub fn from_batch(batch: &RecordBatch) -> Result<Self> {
        let col = |name: &str| {
            batch.column_by_name(name).ok_or_else(|| {
                exec_datafusion_err!("model store: preprocessing.parquet has no column '{name}'")
            })
        };
        let (input, dtype, kind, category) = (
            col("input")?,
            col("data_type")?,
            col("kind")?,
            col("category")?,
        );
        let (impute_num, impute_cat, center, scale) = (
            col("impute_value")?,
            col("impute_category")?,
            col("center")?,
            col("scale")?,
        );
        let s = |a: &ArrayRef| -> Result<StringArray> {
            Ok(cast(a, &DataType::Utf8)?.as_string::<i32>().clone())
        };
        let f = |a: &ArrayRef| -> Result<Float64Array> {
            Ok(cast(a, &DataType::Float64)?
                .as_primitive::<Float64Type>()
                .clone())
        };
        let (input, dtype, kind, category, impute_cat) =
            (s(input)?, s(dtype)?, s(kind)?, s(category)?, s(impute_cat)?);
        let (impute_num, center, scale) = (f(impute_num)?, f(center)?, f(scale)?);
        let mut columns: Vec<ColumnSpec> = vec![];
        for i in 0..batch.num_rows() {
            let name = input.value(i).to_string();
            if kind.value(i) == "numeric" {
                columns.push(ColumnSpec {
                    name,
                    data_type: dtype.value(i).to_string(),
                    transform: Transform::Numeric {
                        impute: impute_num.is_valid(i).then(|| impute_num.value(i)),
                        center: center.value(i),
                        scale: scale.value(i),
                    },
                });
                continue;
            }
            let same = columns.last().is_some_and(|c| {
                c.name == name && matches!(c.transform, Transform::Categorical { .. })
            });
            if !same {
                columns.push(ColumnSpec {
                    name: name.clone(),
                    data_type: dtype.value(i).to_string(),
                    transform: Transform::Categorical {
                        categories: vec![],
                        index: HashMap::new(),
                        impute: impute_cat
                            .is_valid(i)
                            .then(|| impute_cat.value(i).to_string()),
                    },
                });
            }
            if let Some(ColumnSpec {
                transform:
                    Transform::Categorical {
                        categories, index, ..
                    },
                ..
            }) = columns.last_mut()
            {
                if category.is_valid(i) {
                    index.insert(category.value(i).to_string(), categories.len());
                    categories.push(category.value(i).to_string());
                }
            }
        }
        Ok(Self { columns })
    }
}

/// Checks a normalized numeric column for NaN and infinities, which no policy handles.
pub(crate) fn check_finite(stmt: &str, name: &str, col: &ArrayRef) -> Result<()> {
    let f = col.as_primitive::<Float64Type>();
    let bad = f.iter().flatten().filter(|v| !v.is_finite()).count();
    if bad > 0 {
        return exec_err!(
            "{stmt}: column '{name}' has {bad} NaN or infinite values; expected finite numbers or NULL (filter them, or turn them into NULL with nullif/CASE and pick a null_policy)"
        );
    }
    Ok(())
}

/// Whether an Arrow type is a supported feature type and which kind it is.
pub(crate) fn feature_kind(dt: &DataType) -> Option<&'static str> {
    if is_categorical(dt) {
        Some("categorical")
    } else if dt.is_numeric() {
        Some("numeric")
    } else {
        None
    }
}

/// Returns the NULL count of each column over the given rows.
pub(crate) fn null_counts(columns: &[ArrayRef], rows: &[bool]) -> Vec<u64> {
    columns
        .iter()
        .map(|c| (0..c.len()).filter(|&i| rows[i] && c.is_null(i)).count() as u64)
        .collect()
}
