//! A model's figures as tables of text: how it was chosen, its held-out figures,
//! calibration and fairness. The model card writes them as Markdown and
//! `zonewise train|evaluate` print them, so both show the same figures under the
//! same names.

use super::evaluation::Evaluation;
use super::file::RiskModelFile;

/// Headers and rows of text, to be drawn as Markdown or as a terminal table.
#[derive(Debug, Clone, PartialEq)]
pub struct TextTable {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl TextTable {
    /// The table as Markdown, one line per row, each ending in a newline.
    pub fn markdown(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let headers: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        let rule: Vec<String> = self.headers.iter().map(|_| "---".to_string()).collect();
        let mut out = line(&headers) + &line(&rule);
        for row in &self.rows {
            out += &line(row);
        }
        out
    }
}

/// A figure to three decimals, or "–" when undefined.
pub fn figure(value: Option<f64>) -> String {
    value.map_or("–".to_string(), |v| format!("{v:.3}"))
}

/// A share as a percentage, or "–".
pub fn percent(value: Option<f64>) -> String {
    value.map_or("–".to_string(), |v| format!("{:.1}%", v * 100.0))
}

/// The candidates tried while choosing, with their validation figures.
pub fn candidates(model: &RiskModelFile) -> TextTable {
    TextTable {
        headers: vec![
            "candidate",
            "validation average precision",
            "validation ROC AUC",
        ],
        rows: model
            .selection
            .candidates
            .iter()
            .map(|c| {
                vec![
                    c.description.clone(),
                    figure(c.validation_average_precision),
                    figure(c.validation_roc_auc),
                ]
            })
            .collect(),
    }
}

/// The best of each kind refitted on the training date, on the held-out date.
pub fn held_out_by_kind(model: &RiskModelFile) -> TextTable {
    TextTable {
        headers: vec!["model", "ROC AUC", "average precision", "Brier"],
        rows: model
            .held_out_by_kind
            .iter()
            .map(|k| {
                vec![
                    k.description.clone(),
                    figure(k.roc_auc),
                    figure(k.average_precision),
                    figure(k.brier_score),
                ]
            })
            .collect(),
    }
}

/// The held-out figures: ranking, the oracle's, calibration in one number, and
/// what the threshold and each zone's top families catch.
pub fn held_out_figures(e: &Evaluation) -> TextTable {
    let oracle = e.oracle.as_ref();
    let rows = [
        ("ROC AUC", figure(e.roc_auc)),
        (
            "ROC AUC of the truth's own probabilities (oracle), same children",
            oracle.map_or("not computed (no truth folder)".to_string(), |o| {
                format!(
                    "{} (this model on those {} children: {})",
                    figure(o.oracle_roc_auc),
                    o.children,
                    figure(o.model_roc_auc)
                )
            }),
        ),
        ("Average precision (PR AUC)", figure(e.average_precision)),
        (
            "Average precision of the oracle",
            oracle.map_or("–".to_string(), |o| figure(o.oracle_average_precision)),
        ),
        (
            "Share labelled 1 (precision of a random list)",
            percent(Some(e.base_rate)),
        ),
        ("Brier score", figure(e.brier_score)),
        (
            "Operating threshold",
            format!(
                "{:.3} (the round tables' capacity, k per zone, on the training date)",
                e.threshold
            ),
        ),
        (
            "Children at or above the threshold",
            format!(
                "{}: precision {}, recall {}",
                e.at_threshold.flagged,
                percent(e.at_threshold.precision),
                percent(e.at_threshold.recall)
            ),
        ),
        (
            "Flagged at capacity (each zone's top k families)",
            format!(
                "k = {} in {} zones, {} families: precision {}, recall {} of {} families with an escalation",
                e.top_k.k_per_zone,
                e.top_k.zones,
                e.top_k.families.flagged,
                percent(e.top_k.families.precision),
                percent(e.top_k.families.recall),
                e.positive_families
            ),
        ),
    ];
    TextTable {
        headers: vec!["figure", "value"],
        rows: rows
            .into_iter()
            .map(|(name, value)| vec![name.to_string(), value])
            .collect(),
    }
}

/// Children in ten bins by score: mean score against the observed rate.
pub fn calibration(e: &Evaluation) -> TextTable {
    TextTable {
        headers: vec!["bin", "children", "mean score", "observed rate"],
        rows: e
            .calibration
            .iter()
            .enumerate()
            .map(|(index, bin)| {
                vec![
                    (index + 1).to_string(),
                    bin.count.to_string(),
                    format!("{:.1}%", bin.mean_score * 100.0),
                    format!("{:.1}%", bin.observed_rate * 100.0),
                ]
            })
            .collect(),
    }
}

/// The same figures by IMD decile, sex and ethnicity.
pub fn fairness(e: &Evaluation) -> TextTable {
    TextTable {
        headers: vec![
            "by",
            "group",
            "children",
            "labelled 1",
            "mean score",
            "ROC AUC",
            "flagged",
            "precision",
            "recall",
        ],
        rows: e
            .fairness
            .iter()
            .map(|g| {
                vec![
                    g.dimension.clone(),
                    g.group.clone(),
                    g.children.to_string(),
                    format!("{} ({:.1}%)", g.positives, g.observed_rate * 100.0),
                    format!("{:.1}%", g.mean_score * 100.0),
                    figure(g.roc_auc),
                    g.at_threshold.flagged.to_string(),
                    percent(g.at_threshold.precision),
                    percent(g.at_threshold.recall),
                ]
            })
            .collect(),
    }
}
