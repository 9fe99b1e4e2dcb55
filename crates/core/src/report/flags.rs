//! What "flagged" means, once for every view, command and pack: at a round
//! (reference date), a family is flagged when it is among its zone's top
//! families, as many as the zone's round table can discuss (its capacity,
//! [`DEFAULT_CAPACITY`] unless an analyst set another), ranked by the model's
//! score (its highest child's) and then by the Supporting Families criteria met.
//!
//! Only families the records give a reason to look at are ranked: scored by the
//! model, or meeting at least one criterion. A family in a plan agreed at an
//! earlier round is not ranked (it comes back to the meeting when its review is
//! due or it steps down), so a plan never takes a new family's place; decisions
//! taken at the round itself do not change that round's flags, so the agenda does
//! not move under a meeting as it records them. Families without a zone have no
//! round table and are never flagged.

use duckdb::Connection;

use super::family_detail::CLOSED;
use crate::access::{Capability, Session};
use crate::audit::{Action, Entry};
use crate::risk::criteria::DEFAULT_SET;
use crate::store::StoreError;

/// Families a zone's round table discusses at one round unless an analyst sets
/// otherwise: Hounslow's "top 20", the upper end of Hackney's 10–20 a month.
pub const DEFAULT_CAPACITY: u32 = crate::risk::model::evaluation::DEFAULT_K_PER_ZONE as u32;

/// SQL selecting `(family_id, zone_id, rank, capacity, flagged)` for every ranked
/// family at the round `date` (a SQL expression of type DATE, such as `$1::DATE`;
/// no rows when it is NULL). `rank` is the family's place in its zone, from 1.
/// The order is `families::sort_by_priority`'s: score (unscored last), criteria
/// met, family id.
pub(crate) fn flags_sql(date: &str) -> String {
    format!(
        "SELECT family_id, zone_id, rank, capacity, rank <= capacity AS flagged FROM (
             SELECT c.family_id, f.zone_id,
                    row_number() OVER (PARTITION BY f.zone_id
                        ORDER BY s.score DESC NULLS LAST, c.met DESC, c.family_id) AS rank,
                    coalesce(z.capacity, {DEFAULT_CAPACITY}) AS capacity
             FROM (SELECT family_id, count(*) FILTER (WHERE met) AS met
                   FROM mart.family_criterion
                   WHERE reference_date = {date} AND rule_set = '{DEFAULT_SET}'
                   GROUP BY family_id) c
             JOIN core.family f USING (family_id)
             LEFT JOIN (SELECT family_id, max(score) AS score FROM mart.risk_score
                        WHERE reference_date = {date} GROUP BY family_id) s USING (family_id)
             LEFT JOIN app.zone_capacity z ON z.zone_id = f.zone_id
             LEFT JOIN (SELECT family_id,
                               arg_max(outcome <> '{CLOSED}' AND review_date IS NOT NULL,
                                       decided_at) AS in_plan
                        FROM app.round_decision WHERE reference_date < {date}
                        GROUP BY family_id) d USING (family_id)
             WHERE f.zone_id IS NOT NULL
               AND (s.score IS NOT NULL OR c.met > 0)
               AND NOT coalesce(d.in_plan, false))"
    )
}

/// How many families each zone flagged at `reference_date` (yyyy-mm-dd), zone
/// order; for the commands and the Models view, which count rather than list.
pub fn flagged_per_zone(
    conn: &Connection,
    reference_date: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(conn
        .prepare(&format!(
            "SELECT zone_id, count(*) FILTER (WHERE flagged) FROM ({}) GROUP BY zone_id ORDER BY zone_id",
            flags_sql("$1::DATE")
        ))?
        .query_map([reference_date], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?)
}

/// A zone's capacity, and who set it when (`None`: the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneCapacity {
    pub zone_id: String,
    pub name: String,
    pub capacity: u32,
    /// (who, yyyy-mm-dd hh:mm) when an analyst set it.
    pub set: Option<(String, String)>,
}

/// Every zone's capacity, by zone name.
pub fn capacities(conn: &Connection) -> Result<Vec<ZoneCapacity>, StoreError> {
    crate::store::refuse_on_frame("report::flags::capacities")?;
    Ok(conn
        .prepare(&format!(
            "SELECT z.zone_id, z.name, coalesce(c.capacity, {DEFAULT_CAPACITY}), c.set_by,
                    strftime(c.set_at, '%Y-%m-%d %H:%M')
             FROM ref.zone z LEFT JOIN app.zone_capacity c USING (zone_id)
             ORDER BY z.name, z.zone_id"
        ))?
        .query_map([], |row| {
            let set_by: Option<String> = row.get(3)?;
            let set_at: Option<String> = row.get(4)?;
            Ok(ZoneCapacity {
                zone_id: row.get(0)?,
                name: row.get(1)?,
                capacity: row.get(2)?,
                set: set_by.zip(set_at),
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// Why a capacity was not set.
#[derive(Debug, thiserror::Error)]
pub enum CapacityError {
    #[error("there is no zone '{0}' in this database (see `zonewise capacity` for the zones)")]
    UnknownZone(String),
    #[error("a round table's capacity must be at least 1 family")]
    Zero,
    #[error(
        "{user} may not set a round table's capacity: a {role} does not choose what is flagged (analysts do)"
    )]
    Refused { user: String, role: &'static str },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sets `zone_id`'s capacity to `capacity` families a round, with its audit entry
/// naming the session's user in the same transaction (both are kept or neither).
/// Capacity decides which families every view calls flagged, so only a role
/// that runs the pipeline (analysts) may set it; anyone else is refused here,
/// whichever screen or command asked, and the refusal is recorded.
pub fn set_capacity(
    conn: &Connection,
    session: &Session,
    zone_id: &str,
    capacity: u32,
) -> Result<ZoneCapacity, CapacityError> {
    crate::store::refuse_on_frame("report::flags::set_capacity")?;
    if !session.role.may(Capability::RunPipeline) {
        let refusal = Entry::new(session.user.clone(), Action::ZoneCapacity, zone_id).with_detail(
            format!("refused: a {} may not set capacity", session.role.as_str()),
        );
        crate::audit::record(conn, &refusal)?;
        return Err(CapacityError::Refused {
            user: session.user.clone(),
            role: session.role.as_str(),
        });
    }
    if capacity == 0 {
        return Err(CapacityError::Zero);
    }
    let known: i64 = conn
        .query_row(
            "SELECT count(*) FROM ref.zone WHERE zone_id = ?",
            [zone_id],
            |row| row.get(0),
        )
        .map_err(StoreError::from)?;
    if known == 0 {
        return Err(CapacityError::UnknownZone(zone_id.to_string()));
    }
    let before = capacities(conn)?
        .into_iter()
        .find(|z| z.zone_id == zone_id)
        .map_or(DEFAULT_CAPACITY, |z| z.capacity);
    let entry = Entry::new(session.user.clone(), Action::ZoneCapacity, zone_id)
        .with_detail(format!("{capacity} families a round (was {before})"));
    let lock = crate::audit::lock_for_append();
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(StoreError::from)?;
    let saved = conn
        .execute(
            "INSERT OR REPLACE INTO app.zone_capacity VALUES (?, ?, ?, now()::TIMESTAMP)",
            duckdb::params![zone_id, capacity, session.user],
        )
        .map_err(StoreError::from)
        .and_then(|_| crate::audit::append(conn, &lock, &entry));
    match saved {
        Ok(_) => conn.execute_batch("COMMIT").map_err(StoreError::from)?,
        Err(error) => {
            if let Err(rollback) = conn.execute_batch("ROLLBACK") {
                tracing::error!("rollback after a failed capacity change also failed: {rollback}");
            }
            return Err(error.into());
        }
    }
    drop(lock);
    capacities(conn)?
        .into_iter()
        .find(|z| z.zone_id == zone_id)
        .ok_or_else(|| CapacityError::UnknownZone(zone_id.to_string()))
}
