//! The held-out figures of a model on one reference date: ranking (ROC AUC,
//! average precision), fit (Brier score, calibration by deciles), the flags at
//! the operating threshold, a zone round table's top k families, the same by
//! IMD decile, sex and ethnicity (fairness), and beside them what the synthetic
//! truth's own probabilities reach on the same children (the oracle).
//!
//! Children are the unit of the model and of most figures. Round tables discuss
//! families, so the top-k figures rank families: a family's score is the highest
//! of its children's and it counts as positive when any child is labelled 1.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::dataset::Rows;
use super::metrics::{self, CalibrationBin, FlagFigures};

/// Families a zone's round table can discuss at one meeting, the default k of
/// the top-k figures and of the operating threshold: a fortnightly meeting of
/// about two hours gives each family five or six minutes.
pub const DEFAULT_K_PER_ZONE: usize = 20;

/// Children's sex and ethnicity, for the fairness table (by person id).
pub type PersonGroups = HashMap<String, (Option<String>, Option<String>)>;

/// Held-out figures of one model on one date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evaluation {
    pub reference_date: String,
    /// Children with a complete 12-month follow-up, and those labelled 1.
    pub children: u64,
    pub positives: u64,
    pub families: u64,
    pub positive_families: u64,
    /// positives / children: the AUC-free baseline of precision.
    pub base_rate: f64,
    pub roc_auc: Option<f64>,
    pub average_precision: Option<f64>,
    pub brier_score: Option<f64>,
    /// The score at or above which a child is flagged.
    pub threshold: f64,
    /// Children flagged at the threshold.
    pub at_threshold: FlagFigures,
    /// Each zone's k highest-scoring families.
    pub top_k: TopK,
    /// Ten bins of children by score: mean score beside observed rate.
    pub calibration: Vec<CalibrationBin>,
    /// Precision among the county's k highest-scoring families, by k.
    pub precision_at_k: Vec<(u64, f64)>,
    pub fairness: Vec<GroupFigures>,
    /// Present when a synthetic county's truth folder was given.
    pub oracle: Option<Oracle>,
}

/// What the top k families of every zone hold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopK {
    pub k_per_zone: u64,
    /// Zones (families with no zone form one more group).
    pub zones: u64,
    /// Families chosen, positive families among them and in all.
    pub families: FlagFigures,
}

/// The figures of one group of children.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupFigures {
    /// `imd_decile`, `sex` or `ethnicity`.
    pub dimension: String,
    pub group: String,
    pub children: u64,
    pub positives: u64,
    pub mean_score: f64,
    pub observed_rate: f64,
    pub roc_auc: Option<f64>,
    pub brier_score: Option<f64>,
    pub at_threshold: FlagFigures,
}

/// The truth's own probabilities on the same children: the best any model of
/// these records could hope to approach (higher when the truth uses hidden
/// circumstances no extract records).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Oracle {
    /// Held-out children matched to a true person with a true probability.
    pub children: u64,
    pub oracle_roc_auc: Option<f64>,
    pub model_roc_auc: Option<f64>,
    pub oracle_average_precision: Option<f64>,
    pub model_average_precision: Option<f64>,
}

/// Family scores (highest child's) and labels (any child's), with each family's zone.
struct Families {
    scores: Vec<f64>,
    labels: Vec<bool>,
    zones: Vec<Option<String>>,
}

fn families(rows: &Rows, scores: &[f64]) -> Families {
    let mut by_family: BTreeMap<&str, (f64, bool, Option<String>)> = BTreeMap::new();
    for (row, &score) in scores.iter().enumerate() {
        let entry = by_family.entry(rows.family_ids[row].as_str()).or_insert((
            f64::NEG_INFINITY,
            false,
            rows.zone_ids[row].clone(),
        ));
        entry.0 = entry.0.max(score);
        entry.1 |= rows.labels[row];
    }
    let mut families = Families {
        scores: Vec::new(),
        labels: Vec::new(),
        zones: Vec::new(),
    };
    for (score, label, zone) in by_family.into_values() {
        families.scores.push(score);
        families.labels.push(label);
        families.zones.push(zone);
    }
    families
}

/// The operating threshold: the score of the family at the round tables' joint
/// capacity (k per zone times the zones) when the date's families are ranked, so
/// flagging at it gives the county about as many families as its meetings can take.
pub fn threshold_for_capacity(rows: &Rows, scores: &[f64], k_per_zone: usize) -> f64 {
    let families = families(rows, scores);
    let zones = families
        .zones
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let mut ranked = families.scores;
    ranked.sort_by(|a, b| b.total_cmp(a));
    let capacity = (k_per_zone * zones.max(1)).clamp(1, ranked.len().max(1));
    ranked.get(capacity - 1).copied().unwrap_or(1.0)
}

/// Each zone's `k_per_zone` highest-scoring families (ties by family order).
fn top_k(families: &Families, k_per_zone: usize) -> TopK {
    let mut by_zone: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for (index, zone) in families.zones.iter().enumerate() {
        by_zone.entry(zone.as_deref()).or_default().push(index);
    }
    let mut chosen = vec![false; families.scores.len()];
    for members in by_zone.values_mut() {
        members.sort_by(|&a, &b| {
            families.scores[b]
                .total_cmp(&families.scores[a])
                .then(a.cmp(&b))
        });
        for &index in members.iter().take(k_per_zone) {
            chosen[index] = true;
        }
    }
    TopK {
        k_per_zone: k_per_zone as u64,
        zones: by_zone.len() as u64,
        families: metrics::flag_figures(&chosen, &families.labels),
    }
}

/// The figures of the rows in `members`.
fn group_figures(
    dimension: &str,
    group: String,
    members: &[usize],
    rows: &Rows,
    scores: &[f64],
    threshold: f64,
) -> GroupFigures {
    let scores: Vec<f64> = members.iter().map(|&i| scores[i]).collect();
    let labels: Vec<bool> = members.iter().map(|&i| rows.labels[i]).collect();
    let flags: Vec<bool> = scores.iter().map(|&s| s >= threshold).collect();
    let positives = labels.iter().filter(|&&l| l).count();
    let n = members.len().max(1) as f64;
    GroupFigures {
        dimension: dimension.to_string(),
        group,
        children: members.len() as u64,
        positives: positives as u64,
        mean_score: scores.iter().sum::<f64>() / n,
        observed_rate: positives as f64 / n,
        roc_auc: metrics::roc_auc(&scores, &labels),
        brier_score: metrics::brier_score(&scores, &labels),
        at_threshold: metrics::flag_figures(&flags, &labels),
    }
}

/// The fairness table: the figures by IMD decile, sex and ethnicity.
fn fairness(
    rows: &Rows,
    scores: &[f64],
    threshold: f64,
    people: &PersonGroups,
) -> Vec<GroupFigures> {
    let imd = super::dataset::FEATURES
        .iter()
        .position(|f| f.column == "imd_decile");
    let mut tables = Vec::new();
    let dimensions: [(&str, &dyn Fn(usize) -> String); 3] = [
        ("imd_decile", &|row| {
            imd.and_then(|f| rows.value(row, f))
                .map_or("not known".to_string(), |d| format!("{d:.0}"))
        }),
        ("sex", &|row| {
            people
                .get(&rows.person_ids[row])
                .and_then(|(sex, _)| sex.clone())
                .unwrap_or_else(|| "not recorded".to_string())
        }),
        ("ethnicity", &|row| {
            people
                .get(&rows.person_ids[row])
                .and_then(|(_, ethnicity)| ethnicity.clone())
                .unwrap_or_else(|| "not recorded".to_string())
        }),
    ];
    for (dimension, group_of) in dimensions {
        let mut groups: BTreeMap<(bool, u32, String), Vec<usize>> = BTreeMap::new();
        for row in 0..rows.len() {
            let group = group_of(row);
            // Deciles in numeric order, then the rest by name, "not …" last.
            let key = (
                group.starts_with("not "),
                group.parse::<u32>().unwrap_or(u32::MAX),
                group,
            );
            groups.entry(key).or_default().push(row);
        }
        for ((_, _, group), members) in groups {
            tables.push(group_figures(
                dimension, group, &members, rows, scores, threshold,
            ));
        }
    }
    tables
}

/// Every held-out figure of `scores` on `rows` (children with complete follow-up).
pub fn evaluate(
    rows: &Rows,
    scores: &[f64],
    threshold: f64,
    k_per_zone: usize,
    people: &PersonGroups,
    truth: Option<&HashMap<String, f64>>,
) -> Evaluation {
    let labels = &rows.labels;
    let positives = labels.iter().filter(|&&l| l).count();
    let flags: Vec<bool> = scores.iter().map(|&s| s >= threshold).collect();
    let families = families(rows, scores);
    let oracle = truth.map(|truth| {
        let matched: Vec<usize> = (0..rows.len())
            .filter(|&i| truth.contains_key(&rows.person_ids[i]))
            .collect();
        let true_scores: Vec<f64> = matched
            .iter()
            .map(|&i| truth[&rows.person_ids[i]])
            .collect();
        let model_scores: Vec<f64> = matched.iter().map(|&i| scores[i]).collect();
        let matched_labels: Vec<bool> = matched.iter().map(|&i| labels[i]).collect();
        Oracle {
            children: matched.len() as u64,
            oracle_roc_auc: metrics::roc_auc(&true_scores, &matched_labels),
            model_roc_auc: metrics::roc_auc(&model_scores, &matched_labels),
            oracle_average_precision: metrics::average_precision(&true_scores, &matched_labels),
            model_average_precision: metrics::average_precision(&model_scores, &matched_labels),
        }
    });
    Evaluation {
        reference_date: rows.reference_date.to_string(),
        children: rows.len() as u64,
        positives: positives as u64,
        families: families.scores.len() as u64,
        positive_families: families.labels.iter().filter(|&&l| l).count() as u64,
        base_rate: positives as f64 / rows.len().max(1) as f64,
        roc_auc: metrics::roc_auc(scores, labels),
        average_precision: metrics::average_precision(scores, labels),
        brier_score: metrics::brier_score(scores, labels),
        threshold,
        at_threshold: metrics::flag_figures(&flags, labels),
        top_k: top_k(&families, k_per_zone),
        calibration: metrics::calibration_deciles(scores, labels),
        precision_at_k: metrics::precision_at_k_curve(&families.scores, &families.labels),
        fairness: fairness(rows, scores, threshold, people),
        oracle,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn rows() -> Rows {
        // Families a (zone 1: two children), b (zone 1), c (zone 2).
        Rows {
            reference_date: chrono::NaiveDate::from_ymd_opt(2025, 4, 1).expect("date"),
            person_ids: ["p1", "p2", "p3", "p4"].map(String::from).to_vec(),
            family_ids: ["a", "a", "b", "c"].map(String::from).to_vec(),
            zone_ids: vec![
                Some("z1".into()),
                Some("z1".into()),
                Some("z1".into()),
                Some("z2".into()),
            ],
            raw: Array2::from_elem((4, super::super::dataset::FEATURES.len()), f64::NAN),
            labels: vec![false, true, false, false],
        }
    }

    #[test]
    fn families_take_their_highest_child_and_top_k_is_per_zone() {
        let rows = rows();
        let scores = [0.1, 0.3, 0.5, 0.2];
        // Families: a 0.3 (positive), b 0.5, c 0.2. One per zone: b (zone 1) and c (zone 2).
        let figures = evaluate(&rows, &scores, 0.25, 1, &PersonGroups::new(), None);
        assert_eq!((figures.families, figures.positive_families), (3, 1));
        assert_eq!(figures.top_k.zones, 2);
        assert_eq!(figures.top_k.families.flagged, 2);
        assert_eq!(figures.top_k.families.true_positives, 0);
        // Two per zone: a and b in zone 1, c: the positive family is found.
        let figures = evaluate(&rows, &scores, 0.25, 2, &PersonGroups::new(), None);
        assert_eq!(figures.top_k.families.recall, Some(1.0));
        // Children flagged at 0.25: p2 (positive) and p3.
        assert_eq!(figures.at_threshold.flagged, 2);
        assert_eq!(figures.at_threshold.precision, Some(0.5));
        // Capacity of one family per zone → two families: the second-ranked family's score.
        assert_eq!(threshold_for_capacity(&rows, &scores, 1), 0.3);
    }

    #[test]
    fn fairness_groups_children_and_oracle_uses_the_truth() {
        let rows = rows();
        let scores = [0.1, 0.3, 0.5, 0.2];
        let mut people = PersonGroups::new();
        people.insert("p1".into(), (Some("F".into()), Some("WBRI".into())));
        people.insert("p2".into(), (Some("M".into()), None));
        let truth: HashMap<String, f64> = [("p1", 0.01), ("p2", 0.9), ("p3", 0.02)]
            .map(|(p, s)| (p.to_string(), s))
            .into();
        let figures = evaluate(&rows, &scores, 0.25, 1, &people, Some(&truth));
        let sex: Vec<(&str, u64)> = figures
            .fairness
            .iter()
            .filter(|g| g.dimension == "sex")
            .map(|g| (g.group.as_str(), g.children))
            .collect();
        assert_eq!(sex, vec![("F", 1), ("M", 1), ("not recorded", 2)]);
        assert!(
            figures
                .fairness
                .iter()
                .any(|g| g.dimension == "imd_decile" && g.group == "not known")
        );
        let oracle = figures.oracle.expect("oracle");
        assert_eq!(oracle.children, 3);
        assert_eq!(oracle.oracle_roc_auc, Some(1.0));
        // The model ranks p3 (0.5) above the positive p2 (0.3): 1 of 2 pairs.
        assert_eq!(oracle.model_roc_auc, Some(0.5));
    }
}
