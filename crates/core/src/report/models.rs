//! What the Models view shows: the model behind the latest scores, read from
//! `mart.risk_model` (where `zonewise score` stores the model file, held-out
//! evaluation included), and for each scored date how many families were
//! flagged (`report::flags`, the zones' capacities) and how many had a child at
//! or above the model's threshold. The evaluation lives in the model file, so the figures on screen are
//! those of the model that made the scores on screen.
//!
//! The card's own figures were computed when the model was trained, at a
//! capacity of k families in every zone. Zones' capacities are set later, one by
//! one, so [`AtCapacity`] restates the model on its held-out round as the round
//! tables flag today: each zone's top families within its own capacity
//! (`report::flags`, the same flags as every view), against the families whose
//! children escalated in the following year.

use duckdb::Connection;

use crate::access::{Capability, Session};
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

/// The model's flags at the zones' capacities on its held-out round: what a
/// year of round tables flagging this way would have caught.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtCapacity {
    /// The held-out round (yyyy-mm-dd).
    pub reference_date: String,
    /// The zones' capacities added up, and the zones.
    pub capacity: i64,
    pub zones: i64,
    /// Zones whose capacity an analyst set (the rest have the default).
    pub zones_set: i64,
    /// Families flagged at the round.
    pub flagged: i64,
    /// Of them, families with a child who escalated within the year.
    pub flagged_escalated: i64,
    /// Families in a zone with a child who escalated within the year.
    pub escalated: i64,
}

impl AtCapacity {
    /// The share of flagged families with a child who escalated.
    pub fn precision(&self) -> Option<f64> {
        (self.flagged > 0).then(|| self.flagged_escalated as f64 / self.flagged as f64)
    }

    /// The share of families with a child who escalated that were flagged.
    pub fn recall(&self) -> Option<f64> {
        (self.escalated > 0).then(|| self.flagged_escalated as f64 / self.escalated as f64)
    }
}

/// The Models view's figures.
#[derive(Debug, Clone, Default)]
pub struct ModelFigures {
    /// The model of the latest scored date, when anything has been scored.
    pub model: Option<RiskModelFile>,
    /// The model at the zones' capacities on its held-out round; `None` when
    /// that round is not scored by this model in this database (or has no
    /// criteria or complete follow-up to flag and judge by).
    pub at_capacity: Option<AtCapacity>,
    /// The session's role may not see [`AtCapacity`]: its counts move as soon as
    /// an analyst changes one zone's capacity, so comparing them before and
    /// after would tell whether the family added or dropped escalated.
    pub at_capacity_withheld: bool,
    /// Latest first.
    pub scored_dates: Vec<ScoredDate>,
    /// Why the stored model could not be read, if it could not.
    pub problem: Option<String>,
}

/// Reads the latest scores' model and every scored date; the figures at the
/// zones' capacities only for a role that may set capacities (analysts).
pub fn read_models(conn: &Connection, session: &Session) -> Result<ModelFigures, duckdb::Error> {
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
        Some(Ok(model)) => {
            if session.role.may(Capability::RunPipeline) {
                figures.at_capacity = at_capacity(conn, &model)?;
            } else {
                figures.at_capacity_withheld = true;
            }
            figures.model = Some(model);
        }
        Some(Err(error)) => figures.problem = Some(error.to_string()),
        None => figures.problem = Some(format!("{place} is missing: score the date again")),
    }
    Ok(figures)
}

/// The model's flags on its held-out round at today's capacities (see
/// [`AtCapacity`]); `None` unless this database holds that round's scores by
/// this model, its criteria (which the flags rank by) and labels with a
/// complete year of follow-up.
fn at_capacity(
    conn: &Connection,
    model: &RiskModelFile,
) -> Result<Option<AtCapacity>, duckdb::Error> {
    let date = model.held_out_date.clone();
    let (scored, assessed, followed): (i64, i64, i64) = conn.query_row(
        "SELECT (SELECT count(*) FROM mart.risk_score WHERE reference_date = $1::DATE AND model_id = $2),
                (SELECT count(*) FROM mart.family_criterion WHERE reference_date = $1::DATE),
                (SELECT count(*) FROM mart.risk_label
                 WHERE reference_date = $1::DATE AND follow_up_complete)",
        duckdb::params![date, model.model_id],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    if scored == 0 || assessed == 0 || followed == 0 {
        return Ok(None);
    }
    let default = super::flags::DEFAULT_CAPACITY;
    conn.query_row(
        &format!(
            "WITH flags AS ({flags}),
             escalated AS (
                 SELECT l.family_id FROM mart.risk_label l
                 JOIN core.family f USING (family_id)
                 WHERE l.reference_date = $1::DATE AND l.follow_up_complete AND l.label = 1
                   AND f.zone_id IS NOT NULL
                 GROUP BY l.family_id)
             SELECT (SELECT sum(coalesce(c.capacity, {default}))::BIGINT
                     FROM ref.zone z LEFT JOIN app.zone_capacity c USING (zone_id)),
                    (SELECT count(*) FROM ref.zone),
                    (SELECT count(*) FROM app.zone_capacity c JOIN ref.zone z USING (zone_id)),
                    (SELECT count(*) FROM flags WHERE flagged),
                    (SELECT count(*) FROM flags JOIN escalated USING (family_id) WHERE flagged),
                    (SELECT count(*) FROM escalated)",
            flags = super::flags::flags_sql("$1::DATE")
        ),
        [&date],
        |row| {
            Ok(Some(AtCapacity {
                reference_date: date.clone(),
                capacity: row.get(0)?,
                zones: row.get(1)?,
                zones_set: row.get(2)?,
                flagged: row.get(3)?,
                flagged_escalated: row.get(4)?,
                escalated: row.get(5)?,
            }))
        },
    )
}
