//! Imports a round-table history: the decisions a team recorded before it used
//! Zonewise (or in another system), as a CSV file, into `app.round_decision`
//! with their rounds. Decisions are the team's own data, not an agency extract:
//! they are not part of a manifest or a load, and are imported once, with one
//! audit entry naming the file.
//!
//! Each row names its family by a record of one of its members in an agency's
//! extract (`source`, `record_id`), as a case system would; linkage says which
//! family that record belongs to. The synthetic county writes such a file
//! (`synth::round_tables::ROUND_TABLES_FILE`), and the sample build imports it.
//!
//! Every row is checked as the decision form checks one (the outcome one of
//! `family_detail::OUTCOMES`, a plan's review and end after its round) and its
//! record must be linked; the first bad row stops the import with its file,
//! line and column, and nothing is kept. A file already imported (a row whose
//! family, round and outcome are recorded) is refused, so decisions are never
//! counted twice.

use std::path::{Path, PathBuf};

use duckdb::Connection;

use super::family_detail::{NewDecision, OUTCOMES, Plan};
use crate::audit::{Action, Entry};
use crate::store::StoreError;

/// The columns the file must have (others are ignored), as the generator writes them.
pub const COLUMNS: [&str; 9] = [
    "round",
    "zone_id",
    "source",
    "record_id",
    "outcome",
    "lead_agency",
    "lead_name",
    "review_date",
    "plan_ends",
];

/// Why a history was not imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}, line {line}, column {column}: {message}")]
    Bad {
        file: PathBuf,
        line: u64,
        column: String,
        message: String,
    },
    #[error("cannot read {file}: {message}")]
    Read { file: PathBuf, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<duckdb::Error> for ImportError {
    fn from(error: duckdb::Error) -> Self {
        ImportError::Store(error.into())
    }
}

/// What an import recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub decisions: u64,
    pub families: u64,
    /// First and last round (yyyy-mm-dd).
    pub rounds: (String, String),
}

/// One row as read, before its record is linked to a family.
struct Row {
    line: u64,
    round: String,
    zone_id: String,
    record_key: String,
    outcome: String,
    plan: Option<Plan>,
}

/// Reads and checks every row of `file`.
fn read_rows(file: &Path) -> Result<Vec<Row>, ImportError> {
    let read_error = |message: String| ImportError::Read {
        file: file.to_path_buf(),
        message,
    };
    let bad = |line: u64, column: &str, message: String| ImportError::Bad {
        file: file.to_path_buf(),
        line,
        column: column.to_string(),
        message,
    };
    let mut reader = csv::Reader::from_path(file).map_err(|e| read_error(e.to_string()))?;
    let header = reader
        .headers()
        .map_err(|e| read_error(e.to_string()))?
        .clone();
    let mut index = [0; COLUMNS.len()];
    for (slot, name) in index.iter_mut().zip(COLUMNS) {
        *slot = header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                bad(
                    1,
                    name,
                    format!(
                        "the header has no '{name}' column (it needs {})",
                        COLUMNS.join(", ")
                    ),
                )
            })?;
    }
    let day = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            bad(line, "-", e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |column: usize| record.get(index[column]).unwrap_or("").trim().to_string();
        let [
            round,
            zone_id,
            source,
            record_id,
            outcome,
            lead_agency,
            lead_name,
            review,
            ends,
        ] = std::array::from_fn(field);
        if day(&round).is_none() {
            return Err(bad(
                line,
                "round",
                format!("'{round}' is not a day (yyyy-mm-dd)"),
            ));
        }
        for (value, column) in [
            (&zone_id, "zone_id"),
            (&source, "source"),
            (&record_id, "record_id"),
        ] {
            if value.is_empty() {
                return Err(bad(line, column, format!("{column} is empty")));
            }
        }
        if !OUTCOMES.contains(&outcome.as_str()) {
            return Err(bad(
                line,
                "outcome",
                format!(
                    "'{outcome}' is not a round-table outcome; it must be one of: {}",
                    OUTCOMES.join(", ")
                ),
            ));
        }
        let plan = (!review.is_empty()).then(|| Plan {
            lead_agency,
            lead_name,
            actions: String::new(),
            review_date: review,
            ends: (!ends.is_empty()).then_some(ends),
        });
        let decision = NewDecision {
            family_id: String::new(),
            zone_id: Some(zone_id.clone()),
            reference_date: round.clone(),
            outcome: outcome.clone(),
            note: String::new(),
            plan: plan.clone(),
        };
        if let Some(problem) = decision.problem() {
            return Err(bad(line, "review_date", problem));
        }
        rows.push(Row {
            line,
            round,
            zone_id,
            record_key: format!("{source}:{record_id}"),
            outcome,
            plan,
        });
    }
    Ok(rows)
}

/// Imports the history in `file` in one transaction with its audit entry
/// naming `actor`; on any bad row nothing is kept.
pub fn import(conn: &Connection, file: &Path, actor: &str) -> Result<Imported, ImportError> {
    crate::store::refuse_on_frame("report::round_history::import")?;
    let rows = read_rows(file)?;
    let lock = crate::audit::lock_for_append();
    conn.execute_batch("BEGIN TRANSACTION")?;
    let result = import_rows(conn, file, actor, &rows, &lock);
    match result {
        Ok(imported) => {
            conn.execute_batch("COMMIT")?;
            Ok(imported)
        }
        Err(error) => {
            if let Err(rollback) = conn.execute_batch("ROLLBACK") {
                tracing::error!("rollback after a failed decision import also failed: {rollback}");
            }
            Err(error)
        }
    }
}

fn import_rows(
    conn: &Connection,
    file: &Path,
    actor: &str,
    rows: &[Row],
    lock: &crate::audit::AppendLock,
) -> Result<Imported, ImportError> {
    let bad = |line: i64, column: &str, message: String| ImportError::Bad {
        file: file.to_path_buf(),
        line: line.max(0) as u64,
        column: column.to_string(),
        message,
    };
    conn.execute_batch(
        "CREATE OR REPLACE TEMP TABLE round_import (
             line BIGINT, round DATE, zone_id VARCHAR, record_key VARCHAR, outcome VARCHAR,
             lead_agency VARCHAR, lead_name VARCHAR, review_date DATE, plan_ends DATE)",
    )?;
    {
        let mut appender = conn.appender("round_import")?;
        for row in rows {
            let plan = row.plan.as_ref();
            appender.append_row(duckdb::params![
                row.line as i64,
                row.round,
                row.zone_id,
                row.record_key,
                row.outcome,
                plan.map(|p| p.lead_agency.as_str()),
                plan.map(|p| p.lead_name.as_str()),
                plan.map(|p| p.review_date.as_str()),
                plan.and_then(|p| p.ends.as_deref()),
            ])?;
        }
    }
    let first = |sql: &str| -> Result<Option<(i64, String)>, duckdb::Error> {
        conn.prepare(sql)?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .next()
            .transpose()
    };
    if let Some((line, zone)) = first(
        "SELECT line, zone_id FROM round_import ANTI JOIN ref.zone USING (zone_id) ORDER BY line LIMIT 1",
    )? {
        return Err(bad(
            line,
            "zone_id",
            format!("there is no zone '{zone}' in this database"),
        ));
    }
    if let Some((line, key)) = first(
        "SELECT i.line, i.record_key FROM round_import i
         LEFT JOIN link.assignment a ON a.record_key = i.record_key
         LEFT JOIN core.person p ON p.person_id = a.person_id
         WHERE p.family_id IS NULL ORDER BY i.line LIMIT 1",
    )? {
        return Err(bad(
            line,
            "record_id",
            format!("record {key} is not a linked record of this database (source:record id)"),
        ));
    }
    conn.execute_batch(
        "CREATE OR REPLACE TEMP TABLE round_import_family AS
         SELECT i.*, p.family_id FROM round_import i
         JOIN link.assignment a ON a.record_key = i.record_key
         JOIN core.person p ON p.person_id = a.person_id",
    )?;
    if let Some((line, family)) = first(
        "SELECT i.line, i.family_id FROM round_import_family i
         JOIN app.round_decision d ON d.family_id = i.family_id AND d.reference_date = i.round
                                  AND d.outcome = i.outcome
         ORDER BY i.line LIMIT 1",
    )? {
        return Err(bad(
            line,
            "round",
            format!(
                "family {family} already has this decision at this round: the history is already imported"
            ),
        ));
    }
    // Decided at noon of the round's day, in the file's order, so a plan's
    // closing decision comes after the plan whatever the day.
    conn.execute(
        "INSERT INTO app.round_decision
             (family_id, zone_id, reference_date, outcome, note, decided_by, decided_at,
              lead_agency, lead_name, actions, review_date, plan_ends)
         SELECT family_id, zone_id, round, outcome, 'imported from ' || ?, ?,
                round + INTERVAL 12 HOUR + line * INTERVAL 1 MILLISECOND,
                lead_agency, lead_name, CASE WHEN review_date IS NOT NULL THEN '' END,
                review_date, plan_ends
         FROM round_import_family ORDER BY line",
        duckdb::params![file_name(file), actor],
    )?;
    let (decisions, families, from, to): (i64, i64, Option<String>, Option<String>) = conn
        .query_row(
            "SELECT count(*), count(DISTINCT family_id), strftime(min(round), '%Y-%m-%d'),
                    strftime(max(round), '%Y-%m-%d')
             FROM round_import_family",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )?;
    let rounds = (from.unwrap_or_default(), to.unwrap_or_default());
    let entry = Entry::new(
        actor,
        Action::Decision,
        format!("import: {}", file_name(file)),
    )
    .with_detail(format!(
        "{decisions} decisions about {families} families, rounds {} to {}, imported from {}",
        rounds.0,
        rounds.1,
        file.display()
    ));
    crate::audit::append(conn, lock, &entry)?;
    conn.execute_batch("DROP TABLE round_import; DROP TABLE round_import_family")?;
    Ok(Imported {
        decisions: decisions as u64,
        families: families as u64,
        rounds,
    })
}

fn file_name(file: &Path) -> String {
    file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().to_string(),
    )
}
