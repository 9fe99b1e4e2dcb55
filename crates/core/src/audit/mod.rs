//! The audit log: who did what to which case or file, when and why, kept in
//! `app.audit_log` as a hash chain so that an edited, deleted or reordered entry
//! is found by [`verify`]. Limits of that protection: `docs/security.md`.

mod action;
mod chain;
pub mod cli;
mod lock;
mod log;
mod staged_file;
mod verify;

pub use action::Action;
pub use chain::GENESIS_HASH;
pub use lock::{AppendLock, lock_for_append};
pub use log::{Filter, LogRow, list, total};
pub use staged_file::{PlaceError, StagedFile};
pub use verify::{Anchor, Fault, Problem, Verification, verify, verify_with_anchor};
pub(crate) use verify::{Walk, check_anchor, check_anchored_genesis, compare_head, walk};

use duckdb::Connection;

use crate::store::StoreError;

/// One thing to record: the acting user, what they did and to what.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub user: String,
    pub action: Action,
    /// What was acted on: a person id, a file, a manifest.
    pub subject: String,
    /// Why, when the user gave a reason (opening a case will ask for one).
    pub reason: Option<String>,
    /// What happened, in words: rows loaded, rows exported.
    pub detail: String,
}

impl Entry {
    /// An entry by `user` (who is acting: the session's user, passed down with
    /// the work rather than read from anything global), with no reason and no
    /// detail yet.
    pub fn new(user: impl Into<String>, action: Action, subject: impl Into<String>) -> Entry {
        Entry {
            user: user.into(),
            action,
            subject: subject.into(),
            reason: None,
            detail: String::new(),
        }
    }

    /// The same entry with `detail`.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Entry {
        self.detail = detail.into();
        self
    }

    /// The same entry with the user's reason.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Entry {
        self.reason = Some(reason.into());
        self
    }
}

/// The operating-system user (`$USER`, `$LOGNAME`, `%USERNAME%`): who acts on a
/// database without users, from the command line or the app, and who creates a
/// database. Everyone else acts as their signed-in [`crate::access::Session`]'s
/// user, handed to each piece of work that records an entry.
pub fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Appends `entry` and moves the head, inside the caller's open transaction (begun
/// while holding `lock`), so that the entry commits with the work it records or not
/// at all. Returns its seq.
pub fn append(conn: &Connection, _lock: &AppendLock, entry: &Entry) -> Result<i64, StoreError> {
    chain::append(conn, entry)
}

/// Records the database's creation as its first entry (`create_database`), inside
/// the caller's transaction: for `store`, when it has just created the schema of a
/// new database. It takes no turn ([`lock_for_append`]): no other connection can be
/// appending to a database that did not exist a moment ago, and the caller may be
/// holding the turn while it opens another database.
pub(crate) fn record_creation(conn: &Connection) -> Result<i64, StoreError> {
    let entry = Entry::new(os_user(), Action::CreateDatabase, "database").with_detail(format!(
        "created with schema version {}",
        crate::store::SCHEMA_VERSION
    ));
    chain::append(conn, &entry)
}

/// Keeps entry 1's hash as the genesis of a database made before genesis hashes
/// were kept (see `chain::adopt_genesis`); for `store` when it opens one.
pub(crate) fn adopt_genesis(conn: &Connection) -> Result<(), StoreError> {
    chain::adopt_genesis(conn)
}

/// Appends `entry` in a transaction of its own, waiting for a running load's turn:
/// for work that has none (an export written to a file), right after it succeeds.
/// Never on the frame: it may wait minutes for a load.
pub fn record(conn: &Connection, entry: &Entry) -> Result<i64, StoreError> {
    crate::store::refuse_on_frame("audit::record")?;
    let _lock = lock_for_append();
    conn.execute_batch("BEGIN TRANSACTION")?;
    match chain::append(conn, entry) {
        Ok(seq) => {
            conn.execute_batch("COMMIT")?;
            Ok(seq)
        }
        Err(error) => {
            if let Err(rollback) = conn.execute_batch("ROLLBACK") {
                tracing::error!("rollback after a failed audit append also failed: {rollback}");
            }
            Err(error)
        }
    }
}
