//! Early-help risk data: features over look-back windows and the supervised label
//! for each child at a reference date (`features`, `label` → `mart.risk_feature`,
//! `mart.risk_label`), the Supporting Families and Troubled Families headline
//! problems as explicit rules with the events behind each (`criteria` →
//! `mart.family_criterion`, `mart.criterion_evidence`), and the feature matrix
//! written out for other tools (`export`), and the models trained on them (`model`
//! → `mart.risk_score`, `mart.risk_reason`), all at each monthly round (`rounds`). Everything is DuckDB SQL over the core
//! tables; see `docs/risk.md` for every feature, the label and every rule.
//!
//! The temporal split: features and criteria see only events dated **before** the
//! reference date R (the records as they stood on the morning of R); the label
//! looks at R and the 12 months after. No event dated R or later reaches a feature.

pub mod criteria;
pub mod export;
pub mod features;
pub mod label;
pub mod model;
pub mod rounds;

use chrono::NaiveDate;
use duckdb::Connection;

/// Why features, labels or criteria could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    #[error("no linked people: run `zonewise ingest` and `zonewise link` first")]
    NotLinked,
    #[error(transparent)]
    Criteria(#[from] criteria::CriteriaError),
    #[error("cannot write {path}: {message}")]
    Export {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("{path}: the export format follows the extension; use .csv or .parquet")]
    ExportFormat { path: std::path::PathBuf },
    #[error("database error while building risk data: {0}")]
    Database(#[from] duckdb::Error),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// What [`build`] wrote for one reference date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildSummary {
    /// Children (rows of `mart.risk_feature` and `mart.risk_label`).
    pub children: u64,
    /// Families those children live in.
    pub families: u64,
    /// Children whose label is 1.
    pub positive_labels: u64,
    /// True when the extracts reach the end of the 12-month outcome period.
    pub follow_up_complete: bool,
}

/// Replaces the features and labels of `reference_date` in one transaction.
pub fn build(conn: &Connection, reference_date: NaiveDate) -> Result<BuildSummary, RiskError> {
    require_linked(conn)?;
    crate::uptake::stats::create_macros(conn)?;
    in_transaction(conn, || {
        features::write(conn, reference_date)?;
        label::write(conn, reference_date)
    })?;
    let (children, families, positive_labels, follow_up_complete): (i64, i64, i64, Option<bool>) =
        conn.query_row(
            "SELECT count(*), count(DISTINCT family_id), count(*) FILTER (WHERE label = 1),
                    bool_and(follow_up_complete)
             FROM mart.risk_label WHERE reference_date = ?::DATE",
            [date_text(reference_date)],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )?;
    Ok(BuildSummary {
        children: children.max(0) as u64,
        families: families.max(0) as u64,
        positive_labels: positive_labels.max(0) as u64,
        follow_up_complete: follow_up_complete.unwrap_or(false),
    })
}

/// Runs `work` in one transaction: all of its writes, or (on an error) none.
fn in_transaction(
    conn: &Connection,
    work: impl FnOnce() -> Result<(), duckdb::Error>,
) -> Result<(), duckdb::Error> {
    conn.execute_batch("BEGIN TRANSACTION")?;
    match work() {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(error) => {
            if let Err(rollback) = conn.execute_batch("ROLLBACK") {
                tracing::error!("rollback after a failed risk write also failed: {rollback}");
            }
            Err(error)
        }
    }
}

/// Refuses to run before linkage has made `core.person` and `core.event`.
fn require_linked(conn: &Connection) -> Result<(), RiskError> {
    let tables = crate::store::table_names(conn)?;
    let has = |name: &str| tables.iter().any(|t| t == name);
    if !(has("core.person") && has("core.event") && has("core.family")) {
        return Err(RiskError::NotLinked);
    }
    let people: i64 = conn.query_row("SELECT count(*) FROM core.person", [], |r| r.get(0))?;
    if people == 0 {
        return Err(RiskError::NotLinked);
    }
    Ok(())
}

/// `DATE 'yyyy-mm-dd'`: a reference date as an SQL literal. Dates come from
/// `NaiveDate`, never from text, so the literal cannot carry anything else.
fn date_sql(date: NaiveDate) -> String {
    format!("DATE '{}'", date_text(date))
}

/// `yyyy-mm-dd`, the form dates are bound and stored in.
fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A string as an SQL literal, quotes doubled.
fn text_sql(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `('a', 'b')`: a list of strings for `IN`.
pub(crate) fn list_sql<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| text_sql(s.as_ref())).collect();
    format!("({})", quoted.join(", "))
}
