//! Users: adding one (its password kept only as an argon2id hash) and checking a
//! login, each recorded in the audit log; the checks and the recorded write that
//! changing a user (`manage`) shares with adding one.

use duckdb::Connection;

use super::lockout::{
    REFUSED, REFUSED_AMBIGUOUS, REFUSED_LOCKED, SIGN_IN_LOCKOUT, SIGNED_IN_PREFIX,
};
use super::password::{password_hash, password_matches};
use super::{AccessError, Role, Session};
use crate::audit::{self, Action, Entry};
use crate::store::StoreError;

/// A user to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The login name: letters, digits, `.`, `_` and `-`; unique ignoring case, and
    /// kept as spelt.
    pub user: String,
    pub display_name: String,
    pub role: Role,
    /// Zones from `ref.zone`; zone managers and the round-table screen need one at least.
    pub zones: Vec<String>,
}

/// Adds `user` with `password`, and its zones (each once), in one transaction with
/// its audit log entry (by `added_by`). The first user must be an analyst.
pub fn add_user(
    conn: &Connection,
    user: &NewUser,
    password: &str,
    added_by: &str,
) -> Result<(), AccessError> {
    check_name(conn, &user.user)?;
    // Once a database has a user, everyone must sign in, and only analysts manage
    // users: a first user of another role would leave no one able to add the rest.
    if user.role != Role::Analyst && !super::requires_sign_in(conn)? {
        return Err(AccessError::Invalid(format!(
            "the first user must be an analyst, who then adds the others: \
             {} would be a {} and no one could manage users",
            user.user,
            user.role.as_str()
        )));
    }
    let mut zones = user.zones.clone();
    zones.sort();
    zones.dedup();
    check_zones(conn, user.role, &zones)?;
    let hash = password_hash(&user.user, password)?;
    let detail = format!(
        "added as {}{}",
        user.role.as_str(),
        if zones.is_empty() {
            String::new()
        } else {
            format!(" for zones {}", zones.join(", "))
        }
    );
    write_recorded(conn, added_by, &user.user, |conn| {
        conn.execute(
            "INSERT INTO app.\"user\" VALUES (?, ?, ?, ?, now()::TIMESTAMP, true)",
            duckdb::params![user.user, user.display_name, user.role.as_str(), hash],
        )?;
        for zone in &zones {
            conn.execute(
                "INSERT INTO app.user_zone VALUES (?, ?)",
                duckdb::params![user.user, zone],
            )?;
        }
        Ok(detail)
    })
}

/// Runs `work` on the user named `subject` and appends a `manage_users` entry by
/// `by` with the detail it returns, in one transaction taken while holding the
/// audit log's turn: the change and its record commit together or not at all.
pub(super) fn write_recorded(
    conn: &Connection,
    by: &str,
    subject: &str,
    work: impl FnOnce(&Connection) -> Result<String, AccessError>,
) -> Result<(), AccessError> {
    let lock = audit::lock_for_append();
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(StoreError::from)?;
    let written = work(conn).and_then(|detail| {
        let entry = Entry::new(by, Action::ManageUsers, subject).with_detail(detail);
        audit::append(conn, &lock, &entry)?;
        Ok(())
    });
    match written {
        Ok(()) => {
            conn.execute_batch("COMMIT").map_err(StoreError::from)?;
            Ok(())
        }
        Err(error) => {
            if let Err(rollback) = conn.execute_batch("ROLLBACK") {
                tracing::error!("rollback after a failed change to a user also failed: {rollback}");
            }
            Err(error)
        }
    }
}

fn check_name(conn: &Connection, user: &str) -> Result<(), AccessError> {
    let name_ok = !user.is_empty()
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !name_ok {
        return Err(AccessError::Invalid(format!(
            "user name '{user}' must be letters, digits, '.', '_' or '-'"
        )));
    }
    // Names are compared ignoring case: "Ana" and "ana" would be two accounts that
    // people, and the audit log's readers, take for one.
    let existing = spellings(conn, user)?;
    match existing.first() {
        None => Ok(()),
        Some(same) if same == user => Err(AccessError::Invalid(format!(
            "user '{user}' already exists"
        ))),
        Some(other) => Err(AccessError::Invalid(format!(
            "user '{other}' already exists, and names are the same whatever their case: \
             choose another name than '{user}'"
        ))),
    }
}

/// The stored spellings of the users named `user` ignoring case, in order.
pub(super) fn spellings(conn: &Connection, user: &str) -> Result<Vec<String>, AccessError> {
    Ok(conn
        .prepare(
            "SELECT user_name FROM app.\"user\" WHERE lower(user_name) = lower(?) \
             ORDER BY user_name",
        )?
        .query_map([user], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?)
}

/// Zone managers and the round-table screen need a zone at least, and every zone
/// must be in `ref.zone`.
pub(super) fn check_zones(
    conn: &Connection,
    role: Role,
    zones: &[String],
) -> Result<(), AccessError> {
    if role.limited_to_zones() && zones.is_empty() {
        return Err(AccessError::Invalid(format!(
            "a {} sees only their zones' families: name at least one zone",
            role.as_str()
        )));
    }
    for zone in zones {
        let known: i64 = conn.query_row(
            "SELECT count(*) FROM ref.zone WHERE zone_id = ?",
            [zone],
            |row| row.get(0),
        )?;
        if known == 0 {
            return Err(AccessError::Invalid(format!(
                "zone '{zone}' is not in ref.zone (load the extracts first)"
            )));
        }
    }
    Ok(())
}

/// A user who may be signing in: the stored spelling of the name, and what is checked.
struct Candidate {
    user: String,
    role: String,
    hash: String,
    active: bool,
}

/// Whom a name typed at sign-in names, ignoring case.
enum Named {
    /// No user, or only disabled ones more than one of which has the name.
    Nobody,
    /// One user: the only one of that name who may sign in, or the only one at all.
    One(Candidate),
    /// Several active users whose names differ only by case, made before names were
    /// compared ignoring case: which one is meant cannot be told.
    Several,
}

fn named(conn: &Connection, user: &str) -> Result<Named, AccessError> {
    let mut found = conn
        .prepare(
            "SELECT user_name, role, password_hash, active FROM app.\"user\" \
             WHERE lower(user_name) = lower(?) ORDER BY user_name",
        )?
        .query_map([user], |row| {
            Ok(Candidate {
                user: row.get(0)?,
                role: row.get(1)?,
                hash: row.get(2)?,
                active: row.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let active = found.iter().filter(|c| c.active).count();
    if active > 1 {
        return Ok(Named::Several);
    }
    if active == 1 {
        found.retain(|c| c.active);
    }
    Ok(match found.len() {
        1 => found.pop().map_or(Named::Nobody, Named::One),
        _ => Named::Nobody,
    })
}

/// Checks `password` for `user` (any case) and returns their session, named as the
/// user's name is stored. Every attempt is in the audit log, failed ones included,
/// under the stored spelling when the name is a user's; a wrong name, a disabled
/// user and a wrong password get the same answer after the same work (one argon2
/// verification, against a dummy hash when there is no real one), so neither the
/// answer nor its time tells which names exist. After repeated failures the name is
/// locked ([`SIGN_IN_LOCKOUT`]), names that do not exist too, and even the right
/// password is refused until the lock ends. A name that several users have when case
/// is ignored (possible only in a database made before names were compared so) is
/// refused, naming why, rather than signing in as one of them.
pub fn authenticate(conn: &Connection, user: &str, password: &str) -> Result<Session, AccessError> {
    // Argon2 is slow on purpose: never on the frame.
    crate::store::refuse_on_frame("access::authenticate")?;
    let named = named(conn, user)?;
    let name = match &named {
        Named::One(candidate) => candidate.user.clone(),
        Named::Nobody | Named::Several => user.to_string(),
    };
    let entry =
        |detail: &str| Entry::new(name.clone(), Action::Login, name.as_str()).with_detail(detail);
    let now = chrono::Utc::now().naive_utc();
    if let Some(minutes) = SIGN_IN_LOCKOUT.minutes_locked(conn, &name, now)? {
        audit::record(conn, &entry(REFUSED_LOCKED))?;
        return Err(AccessError::Locked {
            user: name.clone(),
            minutes,
        });
    }
    let candidate = match named {
        Named::One(candidate) => Some(candidate),
        Named::Nobody => None,
        Named::Several => {
            // The same work as any other refusal, though the answer differs.
            password_matches(None, password);
            audit::record(conn, &entry(REFUSED_AMBIGUOUS))?;
            return Err(AccessError::Invalid(format!(
                "'{user}' is the name of more than one user when case is ignored (users \
                 added before names were compared so): ask an analyst to disable all but one \
                 of them (`zonewise user list` shows them), then sign in again"
            )));
        }
    };
    let verified = password_matches(candidate.as_ref().map(|c| c.hash.as_str()), password);
    let role = candidate.as_ref().and_then(|c| Role::parse(&c.role));
    let active = candidate.as_ref().is_some_and(|c| c.active);
    let (Some(role), true, true) = (role, verified, active) else {
        audit::record(conn, &entry(REFUSED))?;
        return Err(AccessError::BadLogin);
    };
    audit::record(
        conn,
        &entry(&format!("{SIGNED_IN_PREFIX}{}", role.as_str())),
    )?;
    let zones = conn
        .prepare("SELECT zone_id FROM app.user_zone WHERE user_name = ? ORDER BY zone_id")?
        .query_map([name.as_str()], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(Session {
        user: name,
        role,
        zones,
    })
}
