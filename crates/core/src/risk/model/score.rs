//! Scoring a reference date with a saved model → `mart.risk_score` (every child's
//! score and flag), `mart.risk_reason` (the three features that raised each
//! score most, in words) and `mart.risk_model` (the model file itself, so the
//! app can show what produced the scores). A date's rows are replaced in one
//! transaction: all of them or none.

use chrono::NaiveDate;
use duckdb::{Connection, params};
use ndarray::Array2;

use super::ModelError;
use super::dataset::{self, FEATURES, Population, Rows};
use super::explain::{self, Reason};
use super::file::RiskModelFile;
use crate::risk::date_text;

/// What [`score`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreSummary {
    pub children: u64,
    pub families: u64,
    pub flagged_children: u64,
    pub flagged_families: u64,
}

/// Scores and reasons of each row.
pub struct Scored {
    pub scores: Vec<f64>,
    pub reasons: Vec<Vec<Reason>>,
}

/// Scores rows with a model, and each row's reasons in words.
pub fn score_rows(model: &RiskModelFile, rows: &Rows) -> Scored {
    let inputs = model.preprocessing.transform(rows.raw.view());
    let scores = model.estimator.probabilities(inputs.view());
    let by_input = model.estimator.contributions(inputs.view());
    // A feature's part is that of its value and of its missing indicator together.
    let mut by_feature = Array2::<f64>::zeros((rows.len(), FEATURES.len()));
    for (column, input) in model.preprocessing.inputs.iter().enumerate() {
        let mut target = by_feature.column_mut(input.feature);
        target += &by_input.column(column);
    }
    let reasons = (0..rows.len())
        .map(|row| {
            let parts = by_feature.row(row).to_vec();
            explain::top_reasons(&parts, |feature| rows.value(row, feature))
        })
        .collect();
    Scored { scores, reasons }
}

/// Scores every child of `reference_date` (features built by `risk::build`)
/// and replaces that date's rows of the score tables.
pub fn score(
    conn: &Connection,
    model: &RiskModelFile,
    reference_date: NaiveDate,
) -> Result<ScoreSummary, ModelError> {
    let rows = dataset::read(conn, reference_date, Population::Everyone)?;
    if rows.is_empty() {
        return Err(ModelError::NoChildren(reference_date));
    }
    let scored = score_rows(model, &rows);
    let date = date_text(reference_date);
    crate::risk::in_transaction(conn, || {
        for table in ["risk_score", "risk_reason"] {
            conn.execute(
                &format!("DELETE FROM mart.{table} WHERE reference_date = ?::DATE"),
                [&date],
            )?;
        }
        conn.execute(
            "DELETE FROM mart.risk_model WHERE model_id = ?",
            [&model.model_id],
        )?;
        conn.execute(
            "INSERT INTO mart.risk_model VALUES (?, ?, ?::DATE, ?::DATE, ?, ?)",
            params![
                model.model_id,
                model.estimator.kind(),
                model.training_date,
                model.held_out_date,
                model.created_at,
                model.to_json()
            ],
        )?;
        let mut scores = conn.appender_to_db("risk_score", "mart")?;
        for (row, &score) in scored.scores.iter().enumerate() {
            scores.append_row(params![
                date,
                rows.person_ids[row],
                rows.family_ids[row],
                model.model_id,
                score,
                score >= model.threshold
            ])?;
        }
        scores.flush()?;
        drop(scores);
        let mut reasons = conn.appender_to_db("risk_reason", "mart")?;
        for (row, child_reasons) in scored.reasons.iter().enumerate() {
            for (rank, reason) in child_reasons.iter().enumerate() {
                reasons.append_row(params![
                    date,
                    rows.person_ids[row],
                    rank as i32 + 1,
                    FEATURES[reason.feature].column,
                    reason.contribution,
                    reason.sentence
                ])?;
            }
        }
        reasons.flush()
    })?;
    let (families, flagged_families): (i64, i64) = conn.query_row(
        "SELECT count(*), count(*) FILTER (WHERE flagged) FROM mart.family_risk_score
         WHERE reference_date = ?::DATE",
        [&date],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok(ScoreSummary {
        children: rows.len() as u64,
        families: families.max(0) as u64,
        flagged_children: scored
            .scores
            .iter()
            .filter(|&&s| s >= model.threshold)
            .count() as u64,
        flagged_families: flagged_families.max(0) as u64,
    })
}
