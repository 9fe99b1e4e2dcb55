//! Checking the chain: every entry in order, linked to the one before, with the
//! hash of its own contents, ending where the head in `app.meta` says it ends.

use duckdb::Connection;

use super::chain::{self, GENESIS_HASH, Hashed};
use super::log::{ROW_COLUMNS, read_row};
use crate::store::StoreError;

/// What is wrong with the log, at its first bad entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// An entry is not there: the seqs jump over it.
    Missing,
    /// An entry's `prev_hash` is not the hash of the entry before it (one was
    /// removed, replaced or moved).
    BrokenLink,
    /// An entry's contents do not give its hash: it was changed after it was written.
    Edited,
    /// The log ends before the head recorded in `app.meta`: its last entries were deleted.
    Truncated,
    /// The head in `app.meta` is missing or does not match the log's last entry.
    Head,
    /// The log no longer holds a head exported earlier ([`Anchor`]).
    Anchor,
}

/// The first bad entry and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The seq of the first entry that is wrong or missing.
    pub seq: i64,
    pub fault: Fault,
    /// For a person: what was found, naming the entry.
    pub message: String,
}

/// A head written down outside the database earlier (`zonewise audit verify` prints
/// it): entry `seq` must still be there with this hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

impl std::str::FromStr for Anchor {
    type Err = String;

    /// Reads `SEQ:HASH`, as `zonewise audit verify` prints the head.
    fn from_str(text: &str) -> Result<Anchor, String> {
        let (seq, hash) = text
            .split_once(':')
            .ok_or_else(|| format!("'{text}': expected SEQ:HASH"))?;
        let seq = seq
            .trim()
            .parse()
            .map_err(|_| format!("'{text}': {seq} is not an entry number"))?;
        let hash = hash.trim().to_ascii_lowercase();
        if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("'{text}': the hash must be 64 hexadecimal digits"));
        }
        Ok(Anchor { seq, hash })
    }
}

/// The outcome of checking the whole log.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    /// Entries read.
    pub entries: i64,
    /// The last entry's hash, to write down elsewhere as an [`Anchor`].
    pub head_hash: Option<String>,
    /// The first problem found, or `None` when the chain is intact.
    pub problem: Option<Problem>,
}

impl Verification {
    /// True when every entry and the head check out.
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }

    /// One line: "chain intact: N entries" or the problem's message.
    pub fn summary(&self) -> String {
        match &self.problem {
            None => format!("chain intact: {} entries", self.entries),
            Some(problem) => problem.message.clone(),
        }
    }
}

/// Checks every entry of `app.audit_log` and the recorded head.
pub fn verify(conn: &Connection) -> Result<Verification, StoreError> {
    verify_with_anchor(conn, None)
}

/// [`verify`], and with `anchor` also that the log still holds that earlier head.
pub fn verify_with_anchor(
    conn: &Connection,
    anchor: Option<&Anchor>,
) -> Result<Verification, StoreError> {
    let mut statement = conn.prepare(&format!(
        "SELECT {ROW_COLUMNS} FROM app.audit_log ORDER BY seq"
    ))?;
    let rows = statement.query_map([], read_row)?;
    let mut expected = 1i64;
    let mut previous = GENESIS_HASH.to_string();
    let mut anchored_hash = None;
    let mut problem = None;
    for row in rows {
        let row = row?;
        let fault = |fault, seq, message| {
            Some(Problem {
                seq,
                fault,
                message,
            })
        };
        if row.seq != expected {
            problem = if row.seq > expected {
                fault(
                    Fault::Missing,
                    expected,
                    format!(
                        "entry {expected} is missing: the log goes from entry {} to entry {} \
                         (deleted, or its number changed)",
                        expected - 1,
                        row.seq
                    ),
                )
            } else {
                fault(
                    Fault::Edited,
                    row.seq,
                    format!("entry {} appears more than once", row.seq),
                )
            };
            break;
        }
        if row.prev_hash != previous {
            problem = fault(
                Fault::BrokenLink,
                row.seq,
                format!(
                    "entry {} does not follow entry {}: its prev_hash is not that entry's hash \
                     (an entry was removed, replaced or moved)",
                    row.seq,
                    row.seq - 1
                ),
            );
            break;
        }
        let computed = Hashed {
            seq: row.seq,
            at: &row.at,
            user: &row.user,
            action: &row.action,
            subject: &row.subject,
            reason: row.reason.as_deref(),
            detail: &row.detail,
            prev_hash: &row.prev_hash,
        }
        .hash();
        if computed != row.hash {
            problem = fault(
                Fault::Edited,
                row.seq,
                format!(
                    "entry {} was changed after it was written: its contents do not match its hash",
                    row.seq
                ),
            );
            break;
        }
        if anchor.is_some_and(|a| a.seq == row.seq) {
            anchored_hash = Some(row.hash.clone());
        }
        previous = row.hash;
        expected += 1;
    }
    let entries = expected - 1;
    let head_hash = (entries > 0).then(|| previous.clone());
    if problem.is_none() {
        problem = check_head(conn, entries, &previous)?;
    }
    if problem.is_none()
        && let Some(anchor) = anchor
    {
        problem = check_anchor(anchor, entries, anchored_hash.as_deref());
    }
    Ok(Verification {
        entries,
        head_hash,
        problem,
    })
}

/// The log must end exactly where `app.meta` says: a chain alone cannot see its
/// last entries deleted.
fn check_head(conn: &Connection, entries: i64, last: &str) -> Result<Option<Problem>, StoreError> {
    let problem = |seq, fault, message| {
        Some(Problem {
            seq,
            fault,
            message,
        })
    };
    Ok(match chain::head(conn)? {
        None if entries == 0 => None,
        None => problem(
            entries,
            Fault::Head,
            format!("the log has {entries} entries but its recorded head (app.meta) is missing"),
        ),
        Some((count, _)) if count > entries => problem(
            entries + 1,
            Fault::Truncated,
            format!(
                "entries {} to {count} are missing: the head recorded {count} entries and the \
                 log ends at entry {entries} (its last entries were deleted)",
                entries + 1
            ),
        ),
        Some((count, _)) if count < entries => problem(
            count + 1,
            Fault::Head,
            format!(
                "entry {} onwards were added without moving the recorded head ({count} entries)",
                count + 1
            ),
        ),
        Some((_, hash)) if hash != last => problem(
            entries,
            Fault::Head,
            format!("entry {entries} is not the entry the recorded head names (its hash differs)"),
        ),
        Some(_) => None,
    })
}

fn check_anchor(anchor: &Anchor, entries: i64, found: Option<&str>) -> Option<Problem> {
    let problem = |fault, message| {
        Some(Problem {
            seq: anchor.seq,
            fault,
            message,
        })
    };
    match found {
        _ if anchor.seq > entries => problem(
            Fault::Truncated,
            format!(
                "entry {} of the exported head is missing: the log ends at entry {entries}",
                anchor.seq
            ),
        ),
        Some(hash) if hash == anchor.hash => None,
        _ => problem(
            Fault::Anchor,
            format!(
                "entry {} is not the entry exported earlier (its hash differs): the log was \
                 rewritten from there on",
                anchor.seq
            ),
        ),
    }
}
