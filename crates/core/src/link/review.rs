//! Clerical review: pairs scored between the review and acceptance thresholds wait
//! for a person's verdict, and every verdict is kept in `app.review_decision` and
//! applied on every later run, so a re-run never undoes a reviewer's work.

use duckdb::Connection;

use crate::audit::{Action, Entry};
use crate::store::StoreError;

/// Records a reviewer's verdict on two records (`source:record_id` keys), with its
/// audit log entry in the same transaction.
pub fn record_decision(
    conn: &Connection,
    a: &str,
    b: &str,
    same: bool,
    decided_by: &str,
) -> Result<(), StoreError> {
    let (l_key, r_key) = if a <= b { (a, b) } else { (b, a) };
    let entry = Entry::new(decided_by, Action::LinkReview, format!("{l_key} / {r_key}"))
        .with_detail(if same {
            "the same person"
        } else {
            "different people"
        });
    // Waits while a load holds the audit log (the app runs this on a worker).
    let lock = crate::audit::lock_for_append();
    conn.execute_batch("BEGIN TRANSACTION")?;
    let saved = conn
        .execute(
            "INSERT OR REPLACE INTO app.review_decision VALUES (?, ?, ?, ?, now()::TIMESTAMP)",
            duckdb::params![l_key, r_key, same, decided_by],
        )
        .map_err(StoreError::from)
        .and_then(|_| crate::audit::append(conn, &lock, &entry));
    match saved {
        Ok(_) => conn.execute_batch("COMMIT")?,
        Err(error) => {
            if let Err(rollback) = conn.execute_batch("ROLLBACK") {
                tracing::error!("rollback after a failed review decision also failed: {rollback}");
            }
            return Err(error);
        }
    }
    Ok(())
}

/// The SQL of the pairs that link records, with whether a reviewer said so: every
/// pair a reviewer said is the same person, then the pairs accepted by score and
/// not rejected by a reviewer, strongest first (the order clustering joins them).
pub fn linking_pairs_sql(accept_probability: f64) -> String {
    format!(
        "SELECT l_key, r_key, reviewed FROM (
             SELECT l_key, r_key, true AS reviewed, 2.0 AS strength
             FROM app.review_decision WHERE same
             UNION ALL
             SELECT p.l_key, p.r_key, false, p.match_probability FROM link.pair p
             LEFT JOIN app.review_decision d USING (l_key, r_key)
             WHERE p.match_probability >= {accept_probability} AND d.same IS NULL)
         ORDER BY strength DESC, l_key, r_key"
    )
}

/// Pairs waiting for review: between the thresholds and not yet decided. Records
/// born a generation apart with no shared NHS number are never put to a reviewer:
/// clustering would not join them (`cluster::Evidence`), and they are the parent
/// and child who share a name and an address.
pub fn pending_sql(review_probability: f64, accept_probability: f64) -> String {
    format!(
        "SELECT p.* FROM link.pair p ANTI JOIN app.review_decision d USING (l_key, r_key)
         WHERE p.match_probability >= {review_probability}
           AND p.match_probability < {accept_probability}
           AND NOT (p.birth_date = 0 AND p.nhs_number IS DISTINCT FROM 1)"
    )
}
