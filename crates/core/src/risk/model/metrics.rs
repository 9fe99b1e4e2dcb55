//! Figures of how well scores rank and fit outcomes on a held-out date: ROC AUC
//! (ties count a half), average precision (the area under the precision–recall
//! curve as scikit-learn computes it), precision and recall of a set of flags,
//! the Brier score, a calibration curve by deciles of score and a precision-at-k
//! curve. Every function takes plain scores and labels, so each is checked in the
//! tests below against a hand calculation.

use serde::{Deserialize, Serialize};

/// Area under the ROC curve: the chance that a random positive scores above a
/// random negative, a tie counting a half (the Mann–Whitney U statistic with
/// average ranks). `None` without both a positive and a negative.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let order = ascending(scores);
    let mut positive_rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && scores[order[end + 1]] == scores[order[start]] {
            end += 1;
        }
        // Ranks start..=end (1-based start+1..=end+1) share their average.
        let average_rank = (start + end) as f64 / 2.0 + 1.0;
        for &i in &order[start..=end] {
            if labels[i] {
                positive_rank_sum += average_rank;
            }
        }
        start = end + 1;
    }
    let p = positives as f64;
    Some((positive_rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

/// Average precision: Σ (Rₙ − Rₙ₋₁) Pₙ over the distinct scores from the highest
/// down, where Pₙ and Rₙ are the precision and recall of flagging every score at
/// or above the n-th. Tied scores enter together. `None` without a positive.
pub fn average_precision(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let positives = labels.iter().filter(|&&l| l).count();
    if positives == 0 {
        return None;
    }
    let mut order = ascending(scores);
    order.reverse();
    let (mut true_positives, mut flagged, mut recall_before, mut sum) = (0usize, 0usize, 0.0, 0.0);
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && scores[order[end + 1]] == scores[order[start]] {
            end += 1;
        }
        for &i in &order[start..=end] {
            flagged += 1;
            true_positives += usize::from(labels[i]);
        }
        let recall = true_positives as f64 / positives as f64;
        sum += (recall - recall_before) * true_positives as f64 / flagged as f64;
        recall_before = recall;
        start = end + 1;
    }
    Some(sum)
}

/// Mean squared difference between score and outcome (0 is perfect; always
/// scoring the base rate b gives b(1 − b)). `None` for no rows.
pub fn brier_score(scores: &[f64], labels: &[bool]) -> Option<f64> {
    if scores.is_empty() {
        return None;
    }
    let sum: f64 = scores
        .iter()
        .zip(labels)
        .map(|(s, &l)| (s - f64::from(u8::from(l))).powi(2))
        .sum();
    Some(sum / scores.len() as f64)
}

/// Precision and recall of a set of flags.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FlagFigures {
    /// Rows flagged.
    pub flagged: u64,
    /// Flagged rows whose outcome is positive.
    pub true_positives: u64,
    /// Positives among all rows.
    pub positives: u64,
    /// true_positives / flagged; `None` when nothing is flagged.
    pub precision: Option<f64>,
    /// true_positives / positives; `None` without positives.
    pub recall: Option<f64>,
}

/// Precision and recall of flagging the rows where `flags` is true.
pub fn flag_figures(flags: &[bool], labels: &[bool]) -> FlagFigures {
    let flagged = flags.iter().filter(|&&f| f).count() as u64;
    let positives = labels.iter().filter(|&&l| l).count() as u64;
    let true_positives = flags.iter().zip(labels).filter(|(f, l)| **f && **l).count() as u64;
    FlagFigures {
        flagged,
        true_positives,
        positives,
        precision: (flagged > 0).then(|| true_positives as f64 / flagged as f64),
        recall: (positives > 0).then(|| true_positives as f64 / positives as f64),
    }
}

/// One bin of a calibration curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Rows in the bin.
    pub count: u64,
    /// Mean score of those rows: the predicted rate.
    pub mean_score: f64,
    /// Share of those rows whose outcome is positive: the observed rate.
    pub observed_rate: f64,
}

/// Calibration curve: the rows sorted by score and cut into ten bins of (nearly)
/// equal count, row i of n going to bin ⌊10 i / n⌋; per bin, the mean score
/// beside the observed rate. A calibrated model's points lie on the diagonal.
pub fn calibration_deciles(scores: &[f64], labels: &[bool]) -> Vec<CalibrationBin> {
    const BINS: usize = 10;
    let order = ascending(scores);
    let n = order.len();
    let mut sums = [(0u64, 0.0, 0u64); BINS];
    for (position, &i) in order.iter().enumerate() {
        let bin = &mut sums[position * BINS / n.max(1)];
        bin.0 += 1;
        bin.1 += scores[i];
        bin.2 += u64::from(labels[i]);
    }
    sums.iter()
        .filter(|(count, _, _)| *count > 0)
        .map(|&(count, score_sum, positives)| CalibrationBin {
            count,
            mean_score: score_sum / count as f64,
            observed_rate: positives as f64 / count as f64,
        })
        .collect()
}

/// Precision among the k highest scores, for k = 1, 2, …, n, as `(k, precision)`.
/// Ties at the k-th place are broken by row order, as a list on screen would
/// show them. Past `EVERY_K_UP_TO` only every `step`-th k (and the last) is kept,
/// so the curve of a county of 200,000 families stays about a thousand points.
pub fn precision_at_k_curve(scores: &[f64], labels: &[bool]) -> Vec<(u64, f64)> {
    const EVERY_K_UP_TO: usize = 500;
    const FURTHER_POINTS: usize = 500;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let step = (order.len() / FURTHER_POINTS).max(1);
    let mut hits = 0u64;
    let mut curve = Vec::new();
    for (index, &i) in order.iter().enumerate() {
        hits += u64::from(labels[i]);
        let k = index + 1;
        if k <= EVERY_K_UP_TO || k % step == 0 || k == order.len() {
            curve.push((k as u64, hits as f64 / k as f64));
        }
    }
    curve
}

/// Row indices by ascending score (stable: ties keep row order).
fn ascending(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn roc_auc_counts_pairs_and_halves_ties() {
        // Positives 0.9, 0.5; negatives 0.5, 0.1, 0.3. Pairs (pos, neg):
        // 0.9 beats all three (3); 0.5 ties 0.5 (½), beats 0.1 and 0.3 (2): 5.5 of 6.
        let scores = [0.9, 0.5, 0.5, 0.1, 0.3];
        let labels = [true, true, false, false, false];
        assert!(close(roc_auc(&scores, &labels).expect("auc"), 5.5 / 6.0));
        // All tied: every pair a tie, ½.
        assert!(close(
            roc_auc(&[0.2; 4], &[true, false, true, false]).expect("auc"),
            0.5
        ));
        // Perfectly reversed: 0.
        assert!(close(
            roc_auc(&[0.1, 0.9], &[true, false]).expect("auc"),
            0.0
        ));
        assert_eq!(roc_auc(&[0.1, 0.2], &[false, false]), None);
    }

    #[test]
    fn average_precision_by_hand() {
        // Ranked: 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.1 (neg). Two positives.
        // At 0.9: P = 1, R = ½ → ½ · 1; at 0.8: R unchanged; at 0.7: P = 2/3, R = 1 → ½ · 2/3.
        let scores = [0.1, 0.7, 0.9, 0.8];
        let labels = [false, true, true, false];
        assert!(close(
            average_precision(&scores, &labels).expect("ap"),
            0.5 + 0.5 * 2.0 / 3.0
        ));
        // A tie enters together: 0.9 pos, then {0.5 pos, 0.5 neg}: ½·1 + ½·(2/3).
        let tied = average_precision(&[0.9, 0.5, 0.5], &[true, true, false]).expect("ap");
        assert!(close(tied, 0.5 + 0.5 * 2.0 / 3.0), "{tied}");
        assert_eq!(average_precision(&[0.3], &[false]), None);
    }

    #[test]
    fn brier_score_by_hand() {
        // (0.8−1)² + (0.3−0)² + (0.5−1)² = 0.04 + 0.09 + 0.25 = 0.38; /3.
        let brier = brier_score(&[0.8, 0.3, 0.5], &[true, false, true]).expect("brier");
        assert!(close(brier, 0.38 / 3.0), "{brier}");
        assert_eq!(brier_score(&[], &[]), None);
    }

    #[test]
    fn flags_precision_and_recall_by_hand() {
        let figures = flag_figures(
            &[true, true, true, false, false],
            &[true, false, true, true, false],
        );
        assert_eq!(
            (figures.flagged, figures.true_positives, figures.positives),
            (3, 2, 3)
        );
        assert!(close(figures.precision.expect("p"), 2.0 / 3.0));
        assert!(close(figures.recall.expect("r"), 2.0 / 3.0));
        let none = flag_figures(&[false, false], &[false, false]);
        assert_eq!((none.precision, none.recall), (None, None));
    }

    #[test]
    fn calibration_cuts_ten_equal_bins_by_score() {
        // Twenty rows scored 0.00, 0.05, …, 0.95; the top half positive. Each bin
        // holds two consecutive scores: bin 0 = {0.00, 0.05} (mean 0.025, none
        // positive); bin 9 = {0.90, 0.95} (mean 0.925, both positive).
        let scores: Vec<f64> = (0..20).rev().map(|i| i as f64 * 0.05).collect();
        let labels: Vec<bool> = scores.iter().map(|&s| s >= 0.5).collect();
        let bins = calibration_deciles(&scores, &labels);
        assert_eq!(bins.len(), 10);
        assert!(bins.iter().all(|b| b.count == 2));
        assert!(close(bins[0].mean_score, 0.025));
        assert!(close(bins[0].observed_rate, 0.0));
        assert!(close(bins[9].mean_score, 0.925));
        assert!(close(bins[9].observed_rate, 1.0));
        assert!(close(bins[5].observed_rate, 1.0) && close(bins[4].observed_rate, 0.0));
        // Fewer rows than bins: one row per non-empty bin.
        assert_eq!(calibration_deciles(&[0.2, 0.4], &[true, false]).len(), 2);
    }

    #[test]
    fn precision_at_k_by_hand() {
        // Ranked 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.6 (neg): 1, ½, 2/3, ½.
        let curve = precision_at_k_curve(&[0.6, 0.9, 0.7, 0.8], &[false, true, true, false]);
        let expected = [(1, 1.0), (2, 0.5), (3, 2.0 / 3.0), (4, 0.5)];
        assert_eq!(curve.len(), 4);
        for ((k, p), (ek, ep)) in curve.iter().zip(expected) {
            assert_eq!(*k, ek);
            assert!(close(*p, ep));
        }
        // A long list keeps every k to 500, then a thinner grid ending at n.
        let n = 20_000;
        let scores: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let labels = vec![true; n];
        let curve = precision_at_k_curve(&scores, &labels);
        assert_eq!(curve[499].0, 500);
        assert_eq!(curve.last().map(|c| c.0), Some(n as u64));
        assert!(curve.len() < 1100, "{}", curve.len());
    }
}
