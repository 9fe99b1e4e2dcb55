//! The audit log as the Audit view shows it: the newest entries and the result of
//! verifying the whole chain, read together on a worker.

use duckdb::Connection;

use crate::audit::{self, Filter, LogRow, Verification};
use crate::store::StoreError;

/// Entries the Audit view holds; older ones are listed by `zonewise audit list`.
pub const AUDIT_VIEW_LIMIT: usize = 5_000;

/// The newest entries and the verification of the whole log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditFigures {
    /// Newest first, at most [`AUDIT_VIEW_LIMIT`].
    pub entries: Vec<LogRow>,
    /// Entries in the whole log.
    pub total: i64,
    pub verification: Verification,
}

impl Default for AuditFigures {
    fn default() -> AuditFigures {
        AuditFigures {
            entries: Vec::new(),
            total: 0,
            verification: Verification {
                entries: 0,
                head_hash: None,
                genesis: None,
                problem: None,
            },
        }
    }
}

/// Reads the newest entries and verifies the chain.
pub fn read_audit(conn: &Connection) -> Result<AuditFigures, StoreError> {
    Ok(AuditFigures {
        entries: audit::list(
            conn,
            &Filter {
                limit: Some(AUDIT_VIEW_LIMIT),
                ..Filter::default()
            },
        )?,
        total: audit::total(conn)?,
        verification: audit::verify(conn)?,
    })
}
