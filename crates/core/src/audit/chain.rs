//! The hash chain: each entry's hash is SHA-256 over a canonical encoding of its
//! fields and the previous entry's hash, so changing, removing or moving an entry
//! breaks every link after it.

use duckdb::{Connection, OptionalExt};
use sha2::{Digest, Sha256};

use super::Entry;
use crate::store::{self, StoreError};

/// `app.meta` keys of the chain's head: how many entries there are and the last hash.
/// Kept apart from the log so that deleting its last entries is seen (a chain alone
/// cannot tell a shortened log from a complete one).
const HEAD_COUNT_KEY: &str = "audit_head_count";
const HEAD_HASH_KEY: &str = "audit_head_hash";

/// `app.meta` key of the first entry's hash (the genesis): kept beside the head so
/// that a log emptied, or replaced from its first entry on, is seen even when the
/// head was rewritten to match.
const GENESIS_KEY: &str = "audit_genesis_hash";

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Names the encoding inside what is hashed, so a later format cannot be confused with this one.
const ENCODING: &str = "zonewise-audit-v1";

/// How `at` is written when hashed: UTC to the microsecond, as DuckDB's TIMESTAMP keeps it
/// (`strftime(at, '%Y-%m-%d %H:%M:%S.%f')` reads it back the same).
pub(super) const AT_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";

/// The fields of one stored entry that its hash covers.
pub(super) struct Hashed<'a> {
    pub seq: i64,
    pub at: &'a str,
    pub user: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub reason: Option<&'a str>,
    pub detail: &'a str,
    pub prev_hash: &'a str,
}

impl Hashed<'_> {
    /// Lower-case hex SHA-256 of the fields as a JSON array. JSON quotes and escapes
    /// every string, so no two different entries encode to the same bytes (plain
    /// concatenation would let "ab"+"c" pass for "a"+"bc"), and a missing reason
    /// (`null`) differs from an empty one (`""`).
    pub fn hash(&self) -> String {
        let encoded = serde_json::json!([
            ENCODING,
            self.seq,
            self.at,
            self.user,
            self.action,
            self.subject,
            self.reason,
            self.detail,
            self.prev_hash,
        ])
        .to_string();
        Sha256::digest(encoded.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The head recorded in `app.meta`: (entries, last hash); an empty chain before the first.
pub(super) fn head(conn: &Connection) -> Result<Option<(i64, String)>, StoreError> {
    let count = store::meta(conn, HEAD_COUNT_KEY)?;
    let hash = store::meta(conn, HEAD_HASH_KEY)?;
    Ok(match (count, hash) {
        (Some(count), Some(hash)) => Some((count.parse().unwrap_or(-1), hash)),
        _ => None,
    })
}

/// The first entry's hash as recorded in `app.meta`.
pub(super) fn genesis(conn: &Connection) -> Result<Option<String>, StoreError> {
    store::meta(conn, GENESIS_KEY)
}

/// The seq of the first entry appended after the head had been deleted from a log
/// that had entries: `verify` reports it for good, since the new head that append
/// records would otherwise hide the deletion.
const HEAD_LOST_KEY: &str = "audit_appended_without_head";

/// The seq before which the head was found missing ([`HEAD_LOST_KEY`]).
pub(super) fn head_lost_before(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(store::meta(conn, HEAD_LOST_KEY)?.map(|seq| seq.parse().unwrap_or(-1)))
}

/// Where the next entry goes: after the recorded head (not after the last row: were
/// the tail deleted, the next entry's seq gap keeps the deletion visible). Without a
/// head, after the log's last row, so that a deleted head does not make every later
/// append collide with entry 1; that append is noted ([`HEAD_LOST_KEY`]) so `verify`
/// still names the missing head.
fn append_after(conn: &Connection) -> Result<(i64, String), StoreError> {
    if let Some(head) = head(conn)? {
        return Ok(head);
    }
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM app.audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((seq, hash)) = last else {
        return Ok((0, GENESIS_HASH.to_string()));
    };
    let next = (seq + 1).to_string();
    conn.execute(
        "INSERT OR IGNORE INTO app.meta VALUES (?, ?)",
        [HEAD_LOST_KEY, next.as_str()],
    )?;
    Ok((seq, hash))
}

/// Appends after [`append_after`] and moves the head; the first entry's hash is
/// also kept as the genesis (never replaced: an emptied log written afresh from
/// entry 1 then no longer matches it).
pub(super) fn append(conn: &Connection, entry: &Entry) -> Result<i64, StoreError> {
    let (count, prev_hash) = append_after(conn)?;
    let seq = count + 1;
    let at = chrono::Utc::now().format(AT_FORMAT).to_string();
    let action = entry.action.as_str();
    let hash = Hashed {
        seq,
        at: &at,
        user: &entry.user,
        action,
        subject: &entry.subject,
        reason: entry.reason.as_deref(),
        detail: &entry.detail,
        prev_hash: &prev_hash,
    }
    .hash();
    conn.execute(
        "INSERT INTO app.audit_log VALUES (?, ?::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?)",
        duckdb::params![
            seq,
            at,
            entry.user,
            action,
            entry.subject,
            entry.reason,
            entry.detail,
            prev_hash,
            hash
        ],
    )?;
    store::set_meta(conn, HEAD_COUNT_KEY, &seq.to_string())?;
    store::set_meta(conn, HEAD_HASH_KEY, &hash)?;
    if seq == 1 {
        conn.execute(
            "INSERT OR IGNORE INTO app.meta VALUES (?, ?)",
            [GENESIS_KEY, hash.as_str()],
        )?;
    }
    Ok(seq)
}

/// Records entry 1's hash as the genesis of a database whose log began before the
/// genesis was kept (one made by an older version), so that from now on the log
/// cannot be replaced from its start unseen. Does nothing when a genesis is kept or
/// there is no entry 1 (`verify` reports that).
pub(super) fn adopt_genesis(conn: &Connection) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR IGNORE INTO app.meta SELECT ?, hash FROM app.audit_log WHERE seq = 1",
        [GENESIS_KEY],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Hashed;

    fn fields<'a>(subject: &'a str, detail: &'a str, reason: Option<&'a str>) -> Hashed<'a> {
        Hashed {
            seq: 1,
            at: "2026-01-01 00:00:00.000000",
            user: "u",
            action: "export",
            subject,
            reason,
            detail,
            prev_hash: super::GENESIS_HASH,
        }
    }

    #[test]
    fn moving_text_between_fields_changes_the_hash() {
        assert_ne!(
            fields("ab", "c", None).hash(),
            fields("a", "bc", None).hash()
        );
        assert_ne!(
            fields("a", "b", None).hash(),
            fields("a", "b", Some("")).hash()
        );
        assert_eq!(fields("a", "b", None).hash().len(), 64);
    }
}
