//! "Since the last refresh": what the latest linkage run changed against the one
//! before it (`link::lineage`), for the Linkage view: counts of people and
//! families new, merged, split and moved, the round-table decisions that moved
//! with their families, and the families a round table should check. Family ids
//! and counts only: no names.

use duckdb::Connection;

use crate::link::lineage::{self, Changes};
use crate::store::StoreError;

/// A family whose decisions a round table should check after the refresh.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyToCheck {
    /// The family the decisions were on before the refresh.
    pub before: String,
    /// Where they are now: every tied successor, or the same id when it is gone.
    pub now: Vec<String>,
    /// Why: "split" (successors tied, decisions on each) or "gone".
    pub kind: String,
}

/// A family whose decisions moved to another id.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionMove {
    pub before: String,
    pub now: String,
    /// How the family changed: merged, split or regrouped.
    pub kind: String,
    pub decisions: i64,
}

/// What the latest refresh changed; None before a database's second linkage run.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshChanges {
    /// When the latest run finished and when the one before it did.
    pub finished_at: String,
    pub previous_at: String,
    pub changes: Changes,
    pub moves: Vec<DecisionMove>,
    pub to_check: Vec<FamilyToCheck>,
}

/// Reads the changes of the latest linkage run; None when it had no previous run
/// (or linkage has not run).
pub fn read_latest(conn: &Connection) -> Result<Option<RefreshChanges>, StoreError> {
    crate::store::refuse_on_frame("report::refresh::read_latest")?;
    let latest = conn.query_row(
        "SELECT run_id, strftime(finished_at, '%d/%m/%Y %H:%M'),
                (SELECT strftime(max(finished_at), '%d/%m/%Y %H:%M') FROM app.link_run p
                 WHERE p.run_id < r.run_id)
         FROM app.link_run r ORDER BY run_id DESC LIMIT 1",
        [],
        |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
            ))
        },
    );
    let (run_id, finished_at, previous_at) = match latest {
        Ok((run_id, finished, Some(previous))) => (run_id, finished, previous),
        Ok(_) | Err(duckdb::Error::QueryReturnedNoRows) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let recorded: bool = conn.query_row(
        "SELECT count(*) > 0 FROM app.family_change WHERE run_id = ?",
        [run_id],
        |row| row.get(0),
    )?;
    if !recorded {
        return Ok(None);
    }
    let moves = conn
        .prepare(
            "SELECT old_family_id, new_family_id, kind, decisions_moved FROM app.family_change
             WHERE run_id = ? AND decisions_moved > 0 ORDER BY old_family_id, new_family_id",
        )?
        .query_map([run_id], |row| {
            Ok(DecisionMove {
                before: row.get(0)?,
                now: row.get(1)?,
                kind: row.get(2)?,
                decisions: row.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let to_check = conn
        .prepare(
            "SELECT old_family_id, list(coalesce(new_family_id, old_family_id)
                                        ORDER BY new_family_id), any_value(kind)
             FROM app.family_change WHERE run_id = ? AND needs_review
             GROUP BY old_family_id ORDER BY old_family_id",
        )?
        .query_map([run_id], |row| {
            let now: duckdb::types::Value = row.get(1)?;
            Ok(FamilyToCheck {
                before: row.get(0)?,
                now: match now {
                    duckdb::types::Value::List(ids) => ids
                        .into_iter()
                        .filter_map(|id| match id {
                            duckdb::types::Value::Text(id) => Some(id),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                },
                kind: row.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(RefreshChanges {
        finished_at,
        previous_at,
        changes: lineage::summarise(conn, run_id)?,
        moves,
        to_check,
    }))
}
