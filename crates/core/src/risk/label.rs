//! The label for supervised learning → `mart.risk_label`: did the child escalate
//! to child protection or care in the 12 months from the reference date R? It is
//! read from the pipeline's own `core.event` (a council's social care extract
//! records these episodes), never from a synthetic county's truth, which is for
//! evaluation only.
//!
//! The outcome period is `[R, R + 12 months)`: it starts on R itself, the first day
//! features do not see, so an event is either a possible feature or a possible
//! outcome, never both.

use chrono::NaiveDate;
use duckdb::Connection;

use super::{date_sql, date_text, list_sql};

/// Social care episodes that make the label 1: escalation to a child protection
/// plan or to being looked after, the crises early help aims to prevent.
pub const OUTCOME_EVENTS: [&str; 2] = ["child_protection", "looked_after"];

/// Months after the reference date the outcome period covers.
pub const OUTCOME_MONTHS: u32 = 12;

/// Replaces the labels of `reference_date`: one per row of `mart.risk_feature` on
/// that date (write the features first). `follow_up_complete` is false when the
/// extracts end before the outcome period does (the extract date of the latest
/// load, or the day after the latest event when no load records one), so a 0 there
/// may be an outcome not yet recorded.
pub fn write(conn: &Connection, reference_date: NaiveDate) -> Result<(), duckdb::Error> {
    conn.execute(
        "DELETE FROM mart.risk_label WHERE reference_date = ?::DATE",
        [date_text(reference_date)],
    )?;
    let r = date_sql(reference_date);
    conn.execute_batch(&format!(
        "INSERT INTO mart.risk_label BY NAME
         WITH data_end AS (
             SELECT coalesce((SELECT max(extract_date) FROM app.load_run),
                             (SELECT max(event_date) + 1 FROM core.event)) AS day)
         SELECT f.reference_date, f.person_id, f.family_id,
                (count(e.event_date) > 0)::INTEGER AS label,
                min(e.event_date) AS outcome_date,
                arg_min(e.event_type, e.event_date) AS outcome_type,
                coalesce(({r} + INTERVAL {months} MONTH)::DATE <= (SELECT day FROM data_end), false)
                    AS follow_up_complete
         FROM mart.risk_feature f
         LEFT JOIN core.event e
                ON e.person_id = f.person_id
               AND e.event_type IN {outcomes}
               AND e.event_date >= {r}
               AND e.event_date < ({r} + INTERVAL {months} MONTH)::DATE
         WHERE f.reference_date = {r}
         GROUP BY f.reference_date, f.person_id, f.family_id",
        months = OUTCOME_MONTHS,
        outcomes = list_sql(&OUTCOME_EVENTS),
    ))
}
