//! Reading the audit log back: every stored field, filtered in SQL, newest first.

use chrono::NaiveDate;
use duckdb::Connection;

use super::Action;
use crate::store::{self, StoreError};

/// One stored entry, exactly as kept (the action as text, so that an entry edited to
/// an unknown action is still shown and reported rather than unreadable).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogRow {
    pub seq: i64,
    /// UTC, `yyyy-mm-dd hh:mm:ss.ffffff`.
    pub at: String,
    pub user: String,
    pub action: String,
    pub subject: String,
    pub reason: Option<String>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl LogRow {
    /// The column headings of [`LogRow::cells`], as the Audit view and
    /// `zonewise audit list` show them.
    pub const HEADINGS: [&'static str; 7] = [
        "Seq", "At (UTC)", "User", "Action", "Subject", "Reason", "Detail",
    ];

    /// The entry as the columns of [`LogRow::HEADINGS`] (the time to the second).
    pub fn cells(&self) -> [String; 7] {
        [
            self.seq.to_string(),
            self.at.get(..19).unwrap_or(&self.at).to_string(),
            self.user.clone(),
            self.action.clone(),
            self.subject.clone(),
            self.reason.clone().unwrap_or_default(),
            self.detail.clone(),
        ]
    }
}

/// Which entries to list; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub user: Option<String>,
    pub action: Option<Action>,
    /// Entries on or after this UTC day.
    pub since: Option<NaiveDate>,
    /// Text contained (case-insensitively) in the user, action, subject, reason or detail.
    pub text: Option<String>,
    /// At most this many entries, the newest.
    pub limit: Option<usize>,
}

/// The columns of [`LogRow`], `at` written as the hash covers it.
pub(super) const ROW_COLUMNS: &str = "seq, strftime(\"at\", '%Y-%m-%d %H:%M:%S.%f'), \"user\", action, \
     subject, reason, detail, prev_hash, hash";

pub(super) fn read_row(row: &duckdb::Row<'_>) -> Result<LogRow, duckdb::Error> {
    Ok(LogRow {
        seq: row.get(0)?,
        at: row.get(1)?,
        user: row.get(2)?,
        action: row.get(3)?,
        subject: row.get(4)?,
        reason: row.get(5)?,
        detail: row.get(6)?,
        prev_hash: row.get(7)?,
        hash: row.get(8)?,
    })
}

/// The entries `filter` selects, newest first.
pub fn list(conn: &Connection, filter: &Filter) -> Result<Vec<LogRow>, StoreError> {
    let text = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| format!("%{}%", t.to_lowercase()));
    let limit = filter
        .limit
        .map_or_else(String::new, |n| format!("LIMIT {n}"));
    let rows = conn
        .prepare(&format!(
            "SELECT {ROW_COLUMNS} FROM app.audit_log
             WHERE ($1::VARCHAR IS NULL OR \"user\" = $1)
               AND ($2::VARCHAR IS NULL OR action = $2)
               AND ($3::DATE IS NULL OR \"at\" >= $3::DATE)
               AND ($4::VARCHAR IS NULL OR lower(concat_ws(' ', \"user\", action, subject, reason, detail)) LIKE $4)
             ORDER BY seq DESC {limit}"
        ))?
        .query_map(
            duckdb::params![
                filter.user,
                filter.action.map(Action::as_str),
                filter.since.map(|d| d.to_string()),
                text
            ],
            read_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// How many entries the log holds.
pub fn total(conn: &Connection) -> Result<i64, StoreError> {
    store::scalar_i64(conn, "SELECT count(*) FROM app.audit_log")
}
