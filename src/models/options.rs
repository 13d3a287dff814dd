//! `CREATE MODEL ... OPTIONS (...)`: the common options of every model type, validated with
//! messages that list what is allowed.

use std::collections::BTreeMap;

use datafusion::common::{plan_err, Result};

/// Options every supervised model type accepts.
pub const COMMON_OPTIONS: &[&str] = &[
    "type",
    "label",
    "features",
    "seed",
    "split",
    "null_policy",
    "scale",
    "partition_by",
];

/// Model types this build can train.
pub const MODEL_TYPES: &[&str] = &[
    "logistic_regression",
    "linear_regression",
    "kmeans",
    "decision_tree",
    "random_forest",
    "naive_bayes",
    "mlp",
    "bgnbd",
    "gamma_gamma",
    "popularity",
    "item_knn",
    "als",
    "repeat_aware",
    "forecast",
];

/// Whether a model type is trained from feature columns (and so takes the common options).
/// The buy-till-you-die models read a customer summary instead, the recommenders
/// (user, item, weight) interactions.
pub fn is_supervised(model_type: &str) -> bool {
    !matches!(model_type, "bgnbd" | "gamma_gamma" | "forecast")
        && !crate::models::recs::is_recommender(model_type)
}

/// How rows are held out for evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Split {
    /// Every row trains; metrics are measured on the training rows.
    None,
    /// A seeded random fraction is held out.
    Random(f64),
    /// Rows whose key hashes below the fraction are held out (stable across runs and engines).
    Hash {
        /// Key column.
        column: String,
        /// Held-out fraction.
        fraction: f64,
    },
    /// Rows where the SQL boolean expression is true are held out.
    Expr(String),
}

/// How NULL feature values are handled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NullPolicy {
    /// Any NULL feature or label is an error naming the column and the count.
    Error,
    /// Rows with a NULL are skipped (counted).
    Skip,
    /// NULLs are replaced by a statistic fitted on the training rows.
    Impute(Impute),
}

/// Imputation statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Impute {
    /// Mean of the training values.
    Mean,
    /// Median of the training values.
    Median,
    /// Most frequent training value.
    Mode,
    /// Zero.
    Zero,
}

/// Scaling of numeric features.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// Unscaled.
    None,
    /// `(x - mean) / population std`.
    Standard,
    /// `(x - min) / (max - min)`.
    MinMax,
}

/// Parsed common options plus the type-specific ones left for the model family.
#[derive(Debug, Clone)]
pub struct ModelOptions {
    /// Model type.
    pub model_type: String,
    /// Label column.
    pub label: Option<String>,
    /// Explicit feature list.
    pub features: Option<Vec<String>>,
    /// Seed.
    pub seed: u64,
    /// Hold-out split.
    pub split: Split,
    /// NULL handling.
    pub null_policy: NullPolicy,
    /// Scaling.
    pub scale: Scale,
    /// One sub-model per value of this column.
    pub partition_by: Option<String>,
    /// All options as given.
    pub raw: BTreeMap<String, String>,
}

const STMT: &str = "CREATE MODEL";

fn parse_fraction(key: &str, s: &str, value: &str) -> Result<f64> {
    match s.trim().parse::<f64>() {
        Ok(f) if f > 0.0 && f < 1.0 => Ok(f),
        _ => plan_err!("{STMT}: option {key} = '{value}' has a bad fraction '{s}'; expected a number between 0 and 1 (exclusive)"),
    }
}

impl ModelOptions {
    /// Validates the options. `type_options` lists the options of the model type.
    pub fn parse(raw: BTreeMap<String, String>) -> Result<Self> {
        let Some(model_type) = raw.get("type").map(|t| t.to_ascii_lowercase()) else {
            return plan_err!(
                "{STMT}: missing option type; expected one of {}",
                MODEL_TYPES.join(", ")
            );
        };
        if !MODEL_TYPES.contains(&model_type.as_str()) {
            return plan_err!(
                "{STMT}: unknown type '{model_type}'; expected one of {}",
                MODEL_TYPES.join(", ")
            );
        }
        let type_opts = crate::models::type_options(&model_type);
        let common: &[&str] = if is_supervised(&model_type) {
            COMMON_OPTIONS
        } else {
            &["type", "seed"]
        };
        for key in raw.keys() {
            if !common.contains(&key.as_str()) && !type_opts.contains(&key.as_str()) {
                let mut allowed: Vec<&str> = common.iter().chain(type_opts).copied().collect();
                allowed.sort_unstable();
                return plan_err!(
                    "{STMT}: unknown option '{key}' for type {model_type}; expected one of {}",
                    allowed.join(", ")
                );
            }
        }
        let seed = match raw.get("seed") {
            None => 42,
            Some(s) => match s.parse::<u64>() {
                Ok(v) => v,
                Err(_) => {
                    return plan_err!(
                        "{STMT}: option seed = '{s}'; expected a non-negative integer"
                    )
                }
            },
        };
        let split = match raw.get("split").map(|s| s.trim()) {
            None | Some("none") => Split::None,
            Some(s) => {
                let (kind, rest) = s.split_once(':').unwrap_or((s, ""));
                match kind {
                    "random" => Split::Random(parse_fraction("split", rest, s)?),
                    "hash" => match rest.rsplit_once(':') {
                        Some((col, frac)) if !col.trim().is_empty() => Split::Hash {
                            column: col.trim().to_string(),
                            fraction: parse_fraction("split", frac, s)?,
                        },
                        _ => return plan_err!("{STMT}: option split = '{s}'; expected 'hash:COLUMN:FRACTION', e.g. 'hash:customer_id:0.2'"),
                    },
                    "expr" if !rest.trim().is_empty() => Split::Expr(rest.to_string()),
                    _ => return plan_err!("{STMT}: option split = '{s}'; expected none, random:FRACTION, hash:COLUMN:FRACTION or expr:SQL_BOOLEAN"),
                }
            }
        };
        let null_policy = match raw.get("null_policy").map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            None | Some("error") => NullPolicy::Error,
            Some("skip") => NullPolicy::Skip,
            Some("impute:mean") => NullPolicy::Impute(Impute::Mean),
            Some("impute:median") => NullPolicy::Impute(Impute::Median),
            Some("impute:mode") => NullPolicy::Impute(Impute::Mode),
            Some("impute:zero") => NullPolicy::Impute(Impute::Zero),
            Some(other) => return plan_err!("{STMT}: option null_policy = '{other}'; expected one of error, skip, impute:mean, impute:median, impute:mode, impute:zero"),
        };
        let scale = match raw
            .get("scale")
            .map(|s| s.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("none") => Scale::None,
            Some("standard") => Scale::Standard,
            Some("minmax") => Scale::MinMax,
            Some(other) => {
                return plan_err!(
                    "{STMT}: option scale = '{other}'; expected one of none, standard, minmax"
                )
            }
        };
        let features = raw.get("features").map(|f| {
            f.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        });
        if features.as_ref().is_some_and(|f| f.is_empty()) {
            return plan_err!("{STMT}: option features is empty; expected a comma-separated list of columns, e.g. 'recency_days,frequency'");
        }
        Ok(Self {
            model_type,
            label: raw.get("label").cloned(),
            features,
            seed,
            split,
            null_policy,
            scale,
            partition_by: raw
                .get("partition_by")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            raw,
        })
    }

    /// A type option parsed as a number within bounds, or its default.
    pub fn number(&self, key: &str, default: f64, min: f64, max: f64) -> Result<f64> {
        match self.raw.get(key) {
            None => Ok(default),
            Some(s) => match s.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && v >= min && v <= max => Ok(v),
                _ => {
                    plan_err!("{STMT}: option {key} = '{s}'; expected a number from {min} to {max}")
                }
            },
        }
    }

    /// A type option naming a column, or its default.
    pub fn column(&self, key: &str, default: &str) -> String {
        self.raw
            .get(key)
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| default.to_string())
    }

    /// A type option parsed as a whole number within bounds, or its default.
    pub fn integer(&self, key: &str, default: u64, min: u64, max: u64) -> Result<u64> {
        match self.raw.get(key) {
            None => Ok(default),
            Some(s) => match s.trim().parse::<u64>() {
                Ok(v) if v >= min && v <= max => Ok(v),
                _ => plan_err!(
                    "{STMT}: option {key} = '{s}'; expected a whole number from {min} to {max}"
                ),
            },
        }
    }
}
