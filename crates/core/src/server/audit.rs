//! `zonewise server verify`: the server's audit chain, checked here with the same
//! hash and walk as the DuckDB file's (`audit::verify`), against the head the
//! append function keeps in `app.audit_head`.

use postgres::Client;

use super::ServerError;
use crate::audit::LogRow;
use crate::audit::{
    Anchor, Fault, Problem, Verification, Walk, check_anchor, check_anchored_genesis, compare_head,
    walk,
};

/// Checks every entry of the server's `app.audit_log` in order, then that the log
/// ends at the recorded head and begins with the recorded genesis, and with
/// `anchor` that it still holds a head exported earlier. Needs a login that may
/// read the log (analyst or senior manager) or the server's owner.
pub fn verify(client: &mut Client, anchor: Option<&Anchor>) -> Result<Verification, ServerError> {
    let rows = client.query(
        "SELECT seq, to_char(\"at\", 'YYYY-MM-DD HH24:MI:SS.US'), \"user\", action, subject,
                reason, detail, prev_hash, hash
         FROM app.audit_log ORDER BY seq",
        &[],
    )?;
    let rows = rows.iter().map(|row| {
        Ok::<_, postgres::Error>(LogRow {
            seq: row.try_get(0)?,
            at: row.try_get(1)?,
            user: row.try_get(2)?,
            action: row.try_get(3)?,
            subject: row.try_get(4)?,
            reason: row.try_get(5)?,
            detail: row.try_get(6)?,
            prev_hash: row.try_get(7)?,
            hash: row.try_get(8)?,
        })
    });
    let Walk {
        entries,
        last,
        genesis,
        anchored_hash,
        mut problem,
    } = walk(rows, anchor.map(|a| a.seq))?;
    let head = client.query_opt("SELECT entries, hash, genesis FROM app.audit_head", &[])?;
    let head: Option<(i64, String, String)> = head.map(|row| (row.get(0), row.get(1), row.get(2)));
    if problem.is_none() {
        problem = check_head(entries, &last, genesis.as_deref(), head.as_ref());
    }
    if problem.is_none()
        && let Some(anchor) = anchor
    {
        problem = check_anchor(anchor, entries, anchored_hash.as_deref())
            .or_else(|| check_anchored_genesis(anchor, genesis.as_deref()));
    }
    Ok(Verification {
        entries,
        head_hash: (entries > 0).then_some(last),
        genesis,
        problem,
    })
}

/// The log must end where `app.audit_head` says and begin with its genesis: a
/// chain alone cannot see its last entries deleted, nor a log replaced from its
/// start.
fn check_head(
    entries: i64,
    last: &str,
    first: Option<&str>,
    head: Option<&(i64, String, String)>,
) -> Option<Problem> {
    let problem = |seq, fault, message: String| {
        Some(Problem {
            seq,
            fault,
            message,
        })
    };
    let Some((count, hash, genesis)) = head else {
        return problem(
            entries.max(1),
            if entries == 0 {
                Fault::Empty
            } else {
                Fault::Head
            },
            format!(
                "the log has {entries} entries but its recorded head (app.audit_head) is \
                 missing: every server records its creation as entry 1"
            ),
        );
    };
    if let Some(problem) = compare_head(entries, last, *count, hash) {
        return Some(problem);
    }
    if first != Some(genesis.as_str()) {
        return problem(
            1,
            Fault::Genesis,
            "entry 1 is not the server's first entry: its hash is not the genesis kept in \
             app.audit_head (the log was replaced from its start)"
                .to_string(),
        );
    }
    None
}
