//! Checking the chain: every entry in order, linked to the one before, with the
//! hash of its own contents, ending where the head in `app.meta` says it ends.

use duckdb::Connection;

use super::Action;
use super::chain::{self, GENESIS_HASH, Hashed};
use super::log::{LogRow, ROW_COLUMNS, read_row};
use crate::store::{self, StoreError};

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
    /// The log is empty, though every database records its creation as entry 1.
    Empty,
    /// Entry 1's hash is not the genesis kept in `app.meta` (or an exported
    /// anchor), or that genesis is missing: the log was replaced from its start.
    Genesis,
    /// Another table shows work (loads, users, linkage runs) that no entry records.
    Unrecorded,
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
/// it): entry `seq` must still be there with this hash, and entry 1 with the
/// genesis hash when the anchor has one (anchors printed before genesis hashes were
/// kept have none, and are still accepted).
#[derive(Debug, Clone, PartialEq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
    pub genesis: Option<String>,
}

impl std::str::FromStr for Anchor {
    type Err = String;

    /// Reads `SEQ:HASH:GENESIS` (or the older `SEQ:HASH`), as `zonewise audit verify`
    /// prints the head.
    fn from_str(text: &str) -> Result<Anchor, String> {
        let mut parts = text.split(':');
        let (Some(seq), Some(hash), genesis, None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("'{text}': expected SEQ:HASH:GENESIS"));
        };
        let seq = seq
            .trim()
            .parse()
            .map_err(|_| format!("'{text}': {seq} is not an entry number"))?;
        let hex = |part: &str, what: &str| {
            let part = part.trim().to_ascii_lowercase();
            if part.len() != 64 || !part.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!(
                    "'{text}': the {what} must be 64 hexadecimal digits"
                ));
            }
            Ok(part)
        };
        Ok(Anchor {
            seq,
            hash: hex(hash, "hash")?,
            genesis: genesis.map(|g| hex(g, "genesis hash")).transpose()?,
        })
    }
}

/// The outcome of checking the whole log.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    /// Entries read.
    pub entries: i64,
    /// The last entry's hash, to write down elsewhere as an [`Anchor`].
    pub head_hash: Option<String>,
    /// Entry 1's hash (the genesis), written down with the head.
    pub genesis: Option<String>,
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

    /// The head to write down outside the database, `SEQ:HASH:GENESIS`, as
    /// [`Anchor`] reads it; `None` for an empty log.
    pub fn anchor(&self) -> Option<String> {
        let (hash, genesis) = (self.head_hash.as_ref()?, self.genesis.as_ref()?);
        Some(format!("{}:{hash}:{genesis}", self.entries))
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
    let Walk {
        entries,
        last: previous,
        genesis,
        anchored_hash,
        problem,
    } = walk(rows, anchor.map(|a| a.seq))?;
    let mut problem = problem;
    let head_hash = (entries > 0).then(|| previous.clone());
    if problem.is_none() {
        problem = check_head(conn, entries, &previous)?;
    }
    if problem.is_none() {
        problem = check_start(conn, genesis.as_deref())?;
    }
    if problem.is_none() {
        problem = check_work(conn)?;
    }
    if problem.is_none()
        && let Some(anchor) = anchor
    {
        problem = check_anchor(anchor, entries, anchored_hash.as_deref())
            .or_else(|| check_anchored_genesis(anchor, genesis.as_deref()));
    }
    Ok(Verification {
        entries,
        head_hash,
        genesis,
        problem,
    })
}

/// What reading the entries in order found: how many are chained, the last and
/// first hashes, the hash of the anchored entry, and the first bad entry.
pub(crate) struct Walk {
    pub entries: i64,
    /// The last good entry's hash (the genesis' prev_hash for an empty log).
    pub last: String,
    pub genesis: Option<String>,
    pub anchored_hash: Option<String>,
    pub problem: Option<Problem>,
}

/// Reads stored entries in seq order and stops at the first that is missing, out of
/// order, not linked to the one before, or not matching its hash: the part of
/// verifying that is the same for the DuckDB file and the team server.
pub(crate) fn walk<E>(
    rows: impl IntoIterator<Item = Result<LogRow, E>>,
    anchor_seq: Option<i64>,
) -> Result<Walk, E> {
    let mut expected = 1i64;
    let mut previous = GENESIS_HASH.to_string();
    let mut anchored_hash = None;
    let mut genesis = None;
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
        if anchor_seq == Some(row.seq) {
            anchored_hash = Some(row.hash.clone());
        }
        if row.seq == 1 {
            genesis = Some(row.hash.clone());
        }
        previous = row.hash;
        expected += 1;
    }
    Ok(Walk {
        entries: expected - 1,
        last: previous,
        genesis,
        anchored_hash,
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
    if let Some(seq) = chain::head_lost_before(conn)? {
        return Ok(problem(
            seq,
            Fault::Head,
            format!(
                "the recorded head (app.meta) was missing when entry {seq} was appended: it \
                 had been deleted, so entries deleted before then may not be seen"
            ),
        ));
    }
    Ok(match chain::head(conn)? {
        None if entries == 0 => None,
        None => problem(
            entries,
            Fault::Head,
            format!("the log has {entries} entries but its recorded head (app.meta) is missing"),
        ),
        Some((count, hash)) => compare_head(entries, last, count, &hash),
    })
}

/// A log of `entries` ending in `last` against the head recorded beside it
/// (`count` entries ending in `hash`; `app.meta` in the file, `app.audit_head` on
/// the team server): fewer entries than recorded were deleted, more were added
/// without moving the head, another last hash was rewritten.
pub(crate) fn compare_head(entries: i64, last: &str, count: i64, hash: &str) -> Option<Problem> {
    let (seq, fault, message) = if count > entries {
        (
            entries + 1,
            Fault::Truncated,
            format!(
                "entries {} to {count} are missing: the head recorded {count} entries and the \
                 log ends at entry {entries} (its last entries were deleted)",
                entries + 1
            ),
        )
    } else if count < entries {
        (
            count + 1,
            Fault::Head,
            format!(
                "entry {} onwards were added without moving the recorded head ({count} entries)",
                count + 1
            ),
        )
    } else if hash != last {
        (
            entries,
            Fault::Head,
            format!("entry {entries} is not the entry the recorded head names (its hash differs)"),
        )
    } else {
        return None;
    };
    Some(Problem {
        seq,
        fault,
        message,
    })
}

/// The log must begin with the entry whose hash `app.meta` keeps as the genesis:
/// every database records its creation as entry 1, so an empty log, or one whose
/// first entry is another, was emptied or replaced.
fn check_start(conn: &Connection, first: Option<&str>) -> Result<Option<Problem>, StoreError> {
    let kept = chain::genesis(conn)?;
    let (fault, message) = match (first, kept) {
        (None, kept) => (
            Fault::Empty,
            format!(
                "the log is empty, but every database records its creation as entry 1: its \
                 entries were deleted{}",
                if kept.is_some() {
                    " (app.meta still keeps the first entry's hash)"
                } else {
                    ""
                }
            ),
        ),
        (Some(_), None) => (
            Fault::Genesis,
            "the hash of entry 1 (the genesis) kept in app.meta is missing: it was deleted"
                .to_string(),
        ),
        (Some(first), Some(kept)) if first != kept => (
            Fault::Genesis,
            "entry 1 is not the database's first entry: its hash is not the genesis kept in \
             app.meta (the log was replaced from its start)"
                .to_string(),
        ),
        (Some(_), Some(_)) => return Ok(None),
    };
    Ok(Some(Problem {
        seq: 1,
        fault,
        message,
    }))
}

/// Tables whose rows are work that always appends an entry of this action.
const RECORDED_WORK: [(&str, &str, Action); 3] = [
    ("app.load_run", "loads", Action::Ingest),
    ("app.\"user\"", "users", Action::ManageUsers),
    ("app.link_run", "linkage runs", Action::Link),
];

/// A log emptied and begun again (its creation entry written afresh) still shows,
/// when the database holds work that no entry records.
fn check_work(conn: &Connection) -> Result<Option<Problem>, StoreError> {
    for (table, what, action) in RECORDED_WORK {
        let rows = store::scalar_i64(conn, &format!("SELECT count(*) FROM {table}"))?;
        if rows == 0 {
            continue;
        }
        let recorded: i64 = conn.query_row(
            "SELECT count(*) FROM app.audit_log WHERE action = ?",
            [action.as_str()],
            |row| row.get(0),
        )?;
        if recorded == 0 {
            return Ok(Some(Problem {
                seq: 1,
                fault: Fault::Unrecorded,
                message: format!(
                    "{table} holds {rows} {what} but the log has no {action} entry: the \
                     entries recording them were deleted"
                ),
            }));
        }
    }
    Ok(None)
}

pub(crate) fn check_anchored_genesis(anchor: &Anchor, first: Option<&str>) -> Option<Problem> {
    let wanted = anchor.genesis.as_deref()?;
    (first != Some(wanted)).then(|| Problem {
        seq: 1,
        fault: Fault::Genesis,
        message: "entry 1 is not the first entry of the exported head: its hash is not the \
                  anchor's genesis (the log was replaced from its start)"
            .to_string(),
    })
}

pub(crate) fn check_anchor(anchor: &Anchor, entries: i64, found: Option<&str>) -> Option<Problem> {
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
