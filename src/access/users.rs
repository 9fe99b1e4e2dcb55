//! Users: adding one (its password kept only as an argon2id hash) and checking a
//! login, each recorded in the audit log; the checks and the recorded write that
//! changing a user (`manage`) shares with adding one.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use duckdb::{Connection, OptionalExt};

use super::lockout::{REFUSED, REFUSED_LOCKED, SIGN_IN_LOCKOUT, SIGNED_IN_PREFIX};
use super::{AccessError, Role, Session};
use crate::audit::{self, Action, Entry};
use crate::store::StoreError;

/// Shortest password accepted (the NCSC advises length over complexity rules).
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A user to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The login name: letters, digits, `.`, `_` and `-`.
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
    let hash = password_hash(password)?;
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
        let entry = Entry {
            user: by.to_string(),
            ..Entry::new(Action::ManageUsers, subject)
        }
        .with_detail(detail);
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

/// The argon2id hash (PHC string, fresh salt) of `password`, refused when shorter
/// than [`MIN_PASSWORD_CHARS`].
pub(super) fn password_hash(password: &str) -> Result<String, AccessError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccessError::Invalid(format!(
            "the password must be at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| AccessError::Password(e.to_string()))?
        .to_string())
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
    let exists: i64 = conn.query_row(
        "SELECT count(*) FROM app.\"user\" WHERE user_name = ?",
        [user],
        |row| row.get(0),
    )?;
    if exists > 0 {
        return Err(AccessError::Invalid(format!(
            "user '{user}' already exists"
        )));
    }
    Ok(())
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

/// Checks `password` for `user` and returns their session. Every attempt is in the
/// audit log, failed ones included; a wrong name and a wrong password get the same
/// answer, so a login screen does not tell which names exist. After repeated
/// failures the name is locked ([`SIGN_IN_LOCKOUT`]), names that do not exist too,
/// and even the right password is refused until the lock ends.
pub fn authenticate(conn: &Connection, user: &str, password: &str) -> Result<Session, AccessError> {
    let entry = |detail: &str| {
        Entry {
            user: user.to_string(),
            ..Entry::new(Action::Login, user)
        }
        .with_detail(detail)
    };
    let now = chrono::Utc::now().naive_utc();
    if let Some(minutes) = SIGN_IN_LOCKOUT.minutes_locked(conn, user, now)? {
        audit::record(conn, &entry(REFUSED_LOCKED))?;
        return Err(AccessError::Locked {
            user: user.to_string(),
            minutes,
        });
    }
    let row = conn.query_row(
        "SELECT role, password_hash, active FROM app.\"user\" WHERE user_name = ?",
        [user],
        |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, bool>(2)?,
            ))
        },
    );
    let found = row.optional()?;
    let verified = found.as_ref().is_some_and(|(_, hash, active)| {
        *active
            && PasswordHash::new(hash).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
    });
    let role = found.as_ref().and_then(|(role, _, _)| Role::parse(role));
    let (Some(role), true) = (role, verified) else {
        audit::record(conn, &entry(REFUSED))?;
        return Err(AccessError::BadLogin);
    };
    audit::record(
        conn,
        &entry(&format!("{SIGNED_IN_PREFIX}{}", role.as_str())),
    )?;
    let zones = conn
        .prepare("SELECT zone_id FROM app.user_zone WHERE user_name = ? ORDER BY zone_id")?
        .query_map([user], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(Session {
        user: user.to_string(),
        role,
        zones,
    })
}
