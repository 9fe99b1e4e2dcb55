//! Scoring: the candidate pairs with their comparison levels (`link.pair`), and
//! each pair's match weight and probability under a model.
//!
//! The weight is computed twice on purpose: in SQL for every pair (fast), and in
//! Rust for one pair at a time as a list of contributions (the waterfall a
//! reviewer reads). A test keeps the two equal.

use duckdb::Connection;

use super::blocking::{self, BlockingRule};
use super::comparisons::{self, COMPARISONS, TF_FLOOR};
use super::fellegi_sunter::{MISSING, Model};

/// Probabilities are kept away from 0 so that weights stay finite.
const FLOOR: f64 = 1e-6;

/// Pseudo-records behind every term frequency: a value's frequency is estimated
/// as if this many more records held values at the model's average exact-match
/// frequency u. In a file of a few dozen records, the two records of a pair are
/// themselves a large share of their name's count, so the raw frequency would call
/// every name common; the estimate then stays near u (no adjustment). In a county
/// of 100,000 records the raw frequency dominates.
const TF_PSEUDO_RECORDS: f64 = 1000.0;

/// Replaces `link.pair` with the candidate pairs of `rules` (among `records`
/// records of `link.record`), their comparison levels, term frequencies, match
/// weight and probability under `model`, all in one pass: the pairs are written
/// once, never updated.
pub fn build_scored_pairs(
    conn: &Connection,
    rules: &[BlockingRule],
    across_sources_only: bool,
    model: &Model,
    records: usize,
) -> Result<(), duckdb::Error> {
    let n = records as f64;
    // Term frequencies shrunk towards the model's u at the top level.
    let shrunk: Vec<String> = COMPARISONS
        .iter()
        .enumerate()
        .filter_map(|(k, comparison)| {
            let tf = comparison.tf_column()?;
            let u_top = model.comparisons[k].u[comparison.levels() - 1];
            Some(format!(
                "({tf} * {n} + {TF_PSEUDO_RECORDS} * {u_top:.10}) / ({n} + {TF_PSEUDO_RECORDS}) AS {tf}"
            ))
        })
        .collect();
    let levels = format!(
        "l.record_key AS l_key, r.record_key AS r_key, {}",
        comparisons::select_list()
    );
    let with_tf = if shrunk.is_empty() {
        "*".to_string()
    } else {
        format!("* REPLACE ({})", shrunk.join(", "))
    };
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE link.pair AS
         SELECT *, 1 / (1 + pow(2, -match_weight)) AS match_probability FROM (
             SELECT *, {} AS match_weight FROM (SELECT {with_tf} FROM ({})));",
        weight_sql(model),
        blocking::candidate_pairs_sql(rules, across_sources_only, &levels)
    ))
}

/// log2 of the prior odds λ / (1 − λ): the weight of a pair before any evidence.
pub fn prior_weight(model: &Model) -> f64 {
    (model.lambda / (1.0 - model.lambda)).log2()
}

/// The weight one comparison adds at `level`; `tf` is the term frequency of the
/// agreed value, used at the top level of a term-frequency-adjusted comparison.
pub fn level_weight(model: &Model, k: usize, level: i8, tf: Option<f64>) -> f64 {
    if level == MISSING {
        return 0.0;
    }
    let params = &model.comparisons[k];
    let level = level as usize;
    let m = params.m[level].max(FLOOR);
    let top = level + 1 == COMPARISONS[k].levels();
    match tf {
        Some(tf) if top && COMPARISONS[k].term_frequency.is_some() => (m / tf.max(TF_FLOOR)).log2(),
        _ => (m / params.u[level].max(FLOOR)).log2(),
    }
}

/// The SQL expression of a `link.pair` row's match weight under `model`.
fn weight_sql(model: &Model) -> String {
    let terms = COMPARISONS
        .iter()
        .enumerate()
        .map(|(k, comparison)| {
            let cases = (0..comparison.levels())
                .map(|level| {
                    let plain = level_weight(model, k, level as i8, None);
                    let top = level + 1 == comparison.levels();
                    match comparison.tf_column() {
                        Some(tf) if top => format!(
                            "WHEN {level} THEN coalesce(log2({:.10} / greatest({tf}, {TF_FLOOR})), {plain:.10})",
                            model.comparisons[k].m[level].max(FLOOR)
                        ),
                        _ => format!("WHEN {level} THEN {plain:.10}"),
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            format!("CASE {} {cases} ELSE 0 END", comparison.name)
        })
        .collect::<Vec<_>>()
        .join(" + ");
    format!("{:.10} + {terms}", prior_weight(model))
}

/// How one comparison moved a pair's weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    pub comparison: &'static str,
    /// −1 when a side is missing.
    pub level: i8,
    /// What the level means ("same year", "missing").
    pub label: &'static str,
    pub weight: f64,
}

/// A pair's weight taken apart: the prior, then each comparison in model order.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub prior: f64,
    pub contributions: Vec<Contribution>,
}

impl Explanation {
    pub fn total(&self) -> f64 {
        self.prior + self.contributions.iter().map(|c| c.weight).sum::<f64>()
    }
}

/// Explains a pair from its levels and term frequencies (one per comparison, `None`
/// where the comparison has none).
pub fn explain(model: &Model, levels: &[i8], tfs: &[Option<f64>]) -> Explanation {
    let contributions = COMPARISONS
        .iter()
        .enumerate()
        .map(|(k, comparison)| {
            let level = levels[k];
            Contribution {
                comparison: comparison.name,
                level,
                label: if level == MISSING {
                    "missing"
                } else {
                    comparison.labels[level as usize]
                },
                weight: level_weight(model, k, level, tfs.get(k).copied().flatten()),
            }
        })
        .collect();
    Explanation {
        prior: prior_weight(model),
        contributions,
    }
}

/// One scored pair read back from `link.pair`, with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPair {
    pub l_key: String,
    pub r_key: String,
    pub match_weight: f64,
    pub match_probability: f64,
    pub explanation: Explanation,
}

/// The SELECT list that [`read_scored_pair`] expects, for a query over `link.pair` aliased `p`.
pub fn scored_pair_columns() -> String {
    let mut columns = vec![
        "p.l_key".to_string(),
        "p.r_key".to_string(),
        "p.match_weight".to_string(),
        "p.match_probability".to_string(),
    ];
    for comparison in &COMPARISONS {
        columns.push(format!("p.{}", comparison.name));
        columns.push(match comparison.tf_column() {
            Some(tf) => format!("p.{tf}"),
            None => "NULL::DOUBLE".to_string(),
        });
    }
    columns.join(", ")
}

/// Reads a row selected with [`scored_pair_columns`].
pub fn read_scored_pair(row: &duckdb::Row<'_>, model: &Model) -> Result<ScoredPair, duckdb::Error> {
    let mut levels = Vec::with_capacity(COMPARISONS.len());
    let mut tfs = Vec::with_capacity(COMPARISONS.len());
    for k in 0..COMPARISONS.len() {
        levels.push(row.get::<_, i8>(4 + 2 * k)?);
        tfs.push(row.get::<_, Option<f64>>(5 + 2 * k)?);
    }
    Ok(ScoredPair {
        l_key: row.get(0)?,
        r_key: row.get(1)?,
        match_weight: row.get(2)?,
        match_probability: row.get(3)?,
        explanation: explain(model, &levels, &tfs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::fellegi_sunter::ComparisonParams;

    #[test]
    fn a_rare_family_name_is_stronger_evidence_than_a_common_one() {
        let model = Model {
            lambda: 1e-4,
            comparisons: COMPARISONS
                .iter()
                .map(|c| {
                    let n = c.levels();
                    let mut m = vec![0.1 / (n - 1) as f64; n];
                    m[n - 1] = 0.9;
                    let mut u = vec![0.01 / (n - 1) as f64; n];
                    u[0] = 0.99;
                    ComparisonParams {
                        name: c.name.to_string(),
                        m,
                        u,
                    }
                })
                .collect(),
        };
        let levels = [3, 3, 4, 2, 1, MISSING, MISSING];
        let family = COMPARISONS
            .iter()
            .position(|c| c.name == "family_name")
            .expect("family");
        let with_family_tf = |tf: f64| {
            let mut tfs = vec![None; COMPARISONS.len()];
            tfs[family] = Some(tf);
            explain(&model, &levels, &tfs)
        };
        let smith = with_family_tf(0.01);
        let kettleborough = with_family_tf(0.0002);
        assert!(kettleborough.total() > smith.total() + 5.0);
        // log2(0.9 / 0.0002) against log2(0.9 / 0.01): the difference is log2(50).
        let difference =
            kettleborough.contributions[family].weight - smith.contributions[family].weight;
        assert!((difference - 50f64.log2()).abs() < 1e-9, "{difference}");
        // Without a frequency the comparison falls back on u; a missing side adds nothing.
        let plain = explain(&model, &levels, &vec![None; COMPARISONS.len()]);
        assert!((plain.total() - model.weight(&levels)).abs() < 1e-9);
        assert_eq!(plain.contributions[5].label, "missing");
        assert_eq!(plain.contributions[5].weight, 0.0);
    }
}
