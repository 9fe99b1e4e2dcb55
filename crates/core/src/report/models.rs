//! What the Models view shows: the model behind the latest scores, read from
//! `mart.risk_model` (where `zonewise score` stores the model file, held-out
//! evaluation included), and for each scored date how many families were
//! flagged (`report::flags`, the zones' capacities) and how many had a child at
//! or above the model's threshold. The evaluation lives in the model file, so the figures on screen are
//! those of the model that made the scores on screen.

use duckdb::Connection;

use crate::risk::model::file::RiskModelFile;

/// One scored reference date.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredDate {
    pub reference_date: String,
    pub model_id: String,
    pub children: i64,
    /// Flagged at the date (each zone's top families within its capacity).
    pub flagged_families: i64,
    /// Families with a child at or above the model's threshold.
    pub above_threshold_families: i64,
}

/// The Models view's figures.
#[derive(Debug, Clone, Default)]
pub struct ModelFigures {
    /// The model of the latest scored date, when anything has been scored.
    pub model: Option<RiskModelFile>,
    /// Latest first.
    pub scored_dates: Vec<ScoredDate>,
    /// Why the stored model could not be read, if it could not.
    pub problem: Option<String>,
}

/// Reads the latest scores' model and every scored date.
pub fn read_models(conn: &Connection) -> Result<ModelFigures, duckdb::Error> {
    let mut statement = conn.prepare(
        "SELECT strftime(s.reference_date, '%Y-%m-%d'), s.model_id, count(*),
                count(DISTINCT s.family_id) FILTER (WHERE s.flagged)
         FROM mart.risk_score s
         GROUP BY ALL ORDER BY 1 DESC",
    )?;
    let mut scored_dates: Vec<ScoredDate> = statement
        .query_map([], |row| {
            Ok(ScoredDate {
                reference_date: row.get(0)?,
                model_id: row.get(1)?,
                children: row.get(2)?,
                flagged_families: 0,
                above_threshold_families: row.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    // Only once something is scored: scores exist after linkage has made the
    // families the flags rank (core.family).
    if !scored_dates.is_empty() {
        let mut flagged = conn.prepare(&format!(
            "SELECT count(*) FILTER (WHERE flagged) FROM ({})",
            super::flags::flags_sql("$1::DATE")
        ))?;
        for date in &mut scored_dates {
            date.flagged_families = flagged.query_row([&date.reference_date], |row| row.get(0))?;
        }
    }
    let mut figures = ModelFigures {
        scored_dates,
        ..ModelFigures::default()
    };
    let Some(latest) = figures.scored_dates.first() else {
        return Ok(figures);
    };
    let stored: Option<String> = conn
        .prepare("SELECT model_json FROM mart.risk_model WHERE model_id = ?")?
        .query_map([&latest.model_id], |row| row.get(0))?
        .next()
        .transpose()?;
    let place = format!("mart.risk_model ({})", latest.model_id);
    match stored.map(|text| RiskModelFile::from_json(&text, &place)) {
        Some(Ok(model)) => figures.model = Some(model),
        Some(Err(error)) => figures.problem = Some(error.to_string()),
        None => figures.problem = Some(format!("{place} is missing: score the date again")),
    }
    Ok(figures)
}
