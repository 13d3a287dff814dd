//! Metric arithmetic shared by the metric aggregates and by training-time evaluation.
//! Definitions follow scikit-learn for binary problems (positive class = 1 / true).

use std::collections::BTreeMap;

/// Counts of a binary confusion matrix.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Confusion {
    /// True positives.
    pub tp: u64,
    /// False positives.
    pub fp: u64,
    /// True negatives.
    pub tn: u64,
    /// False negatives.
    pub fn_: u64,
}

impl Confusion {
    /// Adds one (prediction, label) pair.
    pub fn add(&mut self, pred: bool, label: bool) {
        match (pred, label) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, false) => self.tn += 1,
            (false, true) => self.fn_ += 1,
        }
    }
    /// Adds another matrix.
    pub fn merge(&mut self, o: &Confusion) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.tn += o.tn;
        self.fn_ += o.fn_;
    }
    fn ratio(num: u64, den: u64) -> Option<f64> {
        (den > 0).then(|| num as f64 / den as f64)
    }
    /// (tp + tn) / n; NULL on empty input.
    pub fn accuracy(&self) -> Option<f64> {
        Self::ratio(self.tp + self.tn, self.tp + self.tn + self.fp + self.fn_)
    }
    /// tp / (tp + fp); NULL when nothing is predicted positive.
    pub fn precision(&self) -> Option<f64> {
        Self::ratio(self.tp, self.tp + self.fp)
    }
    /// tp / (tp + fn); NULL when no label is positive.
    pub fn recall(&self) -> Option<f64> {
        Self::ratio(self.tp, self.tp + self.fn_)
    }
    /// 2 tp / (2 tp + fp + fn); NULL when there is no positive prediction or label.
    pub fn f1(&self) -> Option<f64> {
        Self::ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
}

/// Area under the ROC curve with tied scores averaged (the Mann–Whitney statistic, equal to
/// scikit-learn's `roc_auc_score`). NULL when either class is absent. NaN scores sort last.
pub fn roc_auc(pairs: &mut [(f64, bool)]) -> Option<f64> {
    let n_pos = pairs.iter().filter(|p| p.1).count() as f64;
    let n_neg = pairs.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return None;
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j < pairs.len() && pairs[j].0.total_cmp(&pairs[i].0).is_eq() {
            j += 1;
        }
        // ranks i+1 ..= j share their average
        let avg_rank = (i + 1 + j) as f64 / 2.0;
        let pos_in_group = pairs[i..j].iter().filter(|p| p.1).count() as f64;
        rank_sum_pos += avg_rank * pos_in_group;
        i = j;
    }
    Some((rank_sum_pos - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg))
}

/// Average precision (scikit-learn's `average_precision_score`): the sum over distinct score
/// thresholds, highest first, of (recall gained) × (precision at that threshold). Tied scores
/// form one step. NULL when no label is positive. NaN scores are not expected.
pub fn average_precision(pairs: &mut [(f64, bool)]) -> Option<f64> {
    let n_pos = pairs.iter().filter(|p| p.1).count();
    if n_pos == 0 {
        return None;
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut fp, mut ap, mut prev_recall) = (0usize, 0usize, 0.0, 0.0);
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j < pairs.len() && pairs[j].0.total_cmp(&pairs[i].0).is_eq() {
            if pairs[j].1 {
                tp += 1;
            } else {
                fp += 1;
            }
            j += 1;
        }
        let recall = tp as f64 / n_pos as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
        i = j;
    }
    Some(ap)
}

/// Lift in the top `fraction` of rows by score: the positive rate among the first
/// ⌈fraction·n⌉ rows, divided by the overall positive rate. Rows tied with the boundary score
/// count with the group's positive share, so the result does not depend on row order. NULL when
/// there is no row or no positive label.
pub fn lift_at(pairs: &mut [(f64, bool)], fraction: f64) -> Option<f64> {
    let n = pairs.len();
    let n_pos = pairs.iter().filter(|p| p.1).count();
    if n == 0 || n_pos == 0 {
        return None;
    }
    let k = ((fraction * n as f64).ceil() as usize).clamp(1, n);
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut taken, mut hits, mut i) = (0usize, 0.0, 0);
    while i < n && taken < k {
        let mut j = i;
        let mut pos = 0usize;
        while j < n && pairs[j].0.total_cmp(&pairs[i].0).is_eq() {
            pos += usize::from(pairs[j].1);
            j += 1;
        }
        let group = j - i;
        let take = group.min(k - taken);
        hits += pos as f64 * take as f64 / group as f64;
        taken += take;
        i = j;
    }
    Some((hits / k as f64) / (n_pos as f64 / n as f64))
}

/// The clipping of scikit-learn's `log_loss`: probabilities are kept within
/// [eps, 1 - eps] with eps the float64 machine epsilon.
pub fn log_loss_term(p: f64, label: bool) -> f64 {
    let eps = f64::EPSILON;
    let p = p.clamp(eps, 1.0 - eps);
    if label {
        -p.ln()
    } else {
        -(1.0 - p).ln()
    }
}

/// Classification metrics of probabilities against binary labels at threshold 0.5.
pub fn binary_metrics(probs: &[f64], labels: &[bool]) -> BTreeMap<String, Option<f64>> {
    let mut c = Confusion::default();
    let mut ll = 0.0;
    let mut pairs = Vec::with_capacity(probs.len());
    for (&p, &y) in probs.iter().zip(labels) {
        c.add(p >= 0.5, y);
        ll += log_loss_term(p, y);
        pairs.push((p, y));
    }
    let n = probs.len();
    let mut m = BTreeMap::new();
    m.insert("accuracy".into(), c.accuracy());
    m.insert("precision".into(), c.precision());
    m.insert("recall".into(), c.recall());
    m.insert("f1_score".into(), c.f1());
    m.insert("roc_auc".into(), roc_auc(&mut pairs));
    m.insert("log_loss".into(), (n > 0).then(|| ll / n as f64));
    m
}

/// Classification metrics of class probabilities (rows × classes, three or more classes)
/// against class indices, as scikit-learn's macro averages: accuracy of the most likely class;
/// precision, recall and F1 per class (0 where undefined, as scikit-learn's `zero_division`)
/// averaged over the classes present in the labels or the predictions; `roc_auc` the mean one-vs-rest AUC (NULL when a class is absent
/// from the labels); `log_loss` the mean −ln P(true class), clipped as [`log_loss_term`].
/// A class index ≥ the number of columns counts as a wrong prediction.
pub fn multiclass_metrics(
    probs: &ndarray::Array2<f64>,
    y: &[u32],
) -> BTreeMap<String, Option<f64>> {
    let (n, k) = probs.dim();
    let mut tp = vec![0u64; k];
    let mut predicted = vec![0u64; k];
    let mut actual = vec![0u64; k];
    let mut ll = 0.0;
    for (row, &c) in probs.rows().into_iter().zip(y) {
        let c = c as usize;
        let mut best = 0;
        for (j, v) in row.iter().enumerate() {
            if *v > row[best] {
                best = j;
            }
        }
        predicted[best] += 1;
        // a class index out of range (a held-out class training never saw) is always wrong
        let p = if c < k {
            actual[c] += 1;
            tp[c] += u64::from(best == c);
            row[c]
        } else {
            0.0
        };
        ll += -p.clamp(f64::EPSILON, 1.0 - f64::EPSILON).ln();
    }
    let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    // scikit-learn's macro average runs over the classes present in the labels or predictions
    let present: Vec<bool> = (0..k).map(|c| actual[c] + predicted[c] > 0).collect();
    let n_present = present.iter().filter(|p| **p).count();
    let mean = |v: Vec<f64>| {
        (n_present > 0).then(|| {
            v.iter()
                .zip(&present)
                .filter(|(_, p)| **p)
                .map(|(x, _)| x)
                .sum::<f64>()
                / n_present as f64
        })
    };
    let mean_all = |v: Vec<f64>| (n > 0 && k > 0).then(|| v.iter().sum::<f64>() / k as f64);
    let precision: Vec<f64> = (0..k).map(|c| ratio(tp[c], predicted[c])).collect();
    let recall: Vec<f64> = (0..k).map(|c| ratio(tp[c], actual[c])).collect();
    let f1: Vec<f64> = (0..k)
        .map(|c| ratio(2 * tp[c], predicted[c] + actual[c]))
        .collect();
    let auc: Option<Vec<f64>> = (0..k)
        .map(|c| {
            let mut pairs: Vec<(f64, bool)> = probs
                .column(c)
                .iter()
                .zip(y)
                .map(|(&p, &l)| (p, l as usize == c))
                .collect();
            roc_auc(&mut pairs)
        })
        .collect();
    let mut m = BTreeMap::new();
    m.insert(
        "accuracy".into(),
        (n > 0).then(|| tp.iter().sum::<u64>() as f64 / n as f64),
    );
    m.insert("precision".into(), mean(precision));
    m.insert("recall".into(), mean(recall));
    m.insert("f1_score".into(), mean(f1));
    m.insert("roc_auc".into(), auc.and_then(mean_all));
    m.insert("log_loss".into(), (n > 0).then(|| ll / n as f64));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiclass_by_hand() {
        // three rows, three classes: rows 0 and 1 right, row 2 (class 2) predicted 1
        let p = ndarray::arr2(&[[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.5, 0.3]]);
        let m = multiclass_metrics(&p, &[0, 1, 2]);
        assert_eq!(m["accuracy"], Some(2.0 / 3.0));
        // precision: 1, 1/2, 0 (nothing predicted 2); recall 1, 1, 0
        assert_eq!(m["precision"], Some(0.5));
        assert_eq!(m["recall"], Some(2.0 / 3.0));
        // f1: 1, 2/3, 0
        assert!((m["f1_score"].unwrap() - (1.0 + 2.0 / 3.0) / 3.0).abs() < 1e-15);
        // each class's own row scores highest for it except class 1: 0.5 vs 0.8 vs 0.2 -> AUC 1
        assert_eq!(m["roc_auc"], Some(1.0));
        let ll = -(0.7f64.ln() + 0.8f64.ln() + 0.3f64.ln()) / 3.0;
        assert!((m["log_loss"].unwrap() - ll).abs() < 1e-15);
    }

    #[test]
    fn auc_by_hand() {
        // positives 0.8, 0.4; negatives 0.4, 0.1: pairs (0.8>0.4)=1, (0.8>0.1)=1, (0.4=0.4)=0.5, (0.4>0.1)=1
        let mut p = vec![(0.8, true), (0.4, true), (0.4, false), (0.1, false)];
        assert_eq!(roc_auc(&mut p), Some(3.5 / 4.0));
        let mut one = vec![(0.1, true)];
        assert_eq!(roc_auc(&mut one), None);
    }

    #[test]
    fn average_precision_and_lift_by_hand() {
        // scores 0.9 (1), 0.8 (0), 0.7 (1), 0.1 (0): AP = 0.5·1 + 0.5·(2/3)
        let mut p = vec![(0.9, true), (0.8, false), (0.7, true), (0.1, false)];
        assert_eq!(average_precision(&mut p), Some(0.5 + 0.5 * 2.0 / 3.0));
        assert_eq!(average_precision(&mut [(0.3, false)]), None);
        // top half: 0.9 (1), 0.8 (0) -> rate 0.5 over base 0.5 = 1
        assert_eq!(lift_at(&mut p, 0.5), Some(1.0));
        // top quarter: 0.9 (1) -> 1 / 0.5 = 2
        assert_eq!(lift_at(&mut p, 0.25), Some(2.0));
        // a tie across the boundary counts its positive share: top 1 of (0.5, 1), (0.5, 0)
        let mut t = vec![(0.5, true), (0.5, false), (0.1, false), (0.1, false)];
        assert_eq!(lift_at(&mut t, 0.25), Some(0.5 / 0.25));
    }

    #[test]
    fn confusion_by_hand() {
        let mut c = Confusion::default();
        for (p, l) in [
            (true, true),
            (true, false),
            (false, true),
            (false, false),
            (true, true),
        ] {
            c.add(p, l);
        }
        assert_eq!(c.accuracy(), Some(0.6));
        assert_eq!(c.precision(), Some(2.0 / 3.0));
        assert_eq!(c.recall(), Some(2.0 / 3.0));
        assert_eq!(c.f1(), Some(4.0 / 6.0));
    }
}
