//! Users: adding one (its password kept only as an argon2id hash) and checking a
//! login, each recorded in the audit log.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use duckdb::Connection;

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

/// Adds `user` with `password`, and its zones, in one transaction with its audit
/// log entry (by `added_by`).
pub fn add_user(
    conn: &Connection,
    user: &NewUser,
    password: &str,
    added_by: &str,
) -> Result<(), AccessError> {
    check(conn, user, password)?;
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| AccessError::Password(e.to_string()))?
        .to_string();
    let entry = Entry {
        user: added_by.to_string(),
        ..Entry::new(Action::ManageUsers, user.user.as_str())
    }
    .with_detail(format!(
        "added as {}{}",
        user.role.as_str(),
        if user.zones.is_empty() {
            String::new()
        } else {
            format!(" for zones {}", user.zones.join(", "))
        }
    ));
    let lock = audit::lock_for_append();
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(StoreError::from)?;
    let written = (|| -> Result<(), StoreError> {
        conn.execute(
            "INSERT INTO app.\"user\" VALUES (?, ?, ?, ?, now()::TIMESTAMP, true)",
            duckdb::params![user.user, user.display_name, user.role.as_str(), hash],
        )?;
        for zone in &user.zones {
            conn.execute(
                "INSERT INTO app.user_zone VALUES (?, ?)",
                duckdb::params![user.user, zone],
            )?;
        }
        audit::append(conn, &lock, &entry)?;
        Ok(())
    })();
    match written {
        Ok(()) => {
            conn.execute_batch("COMMIT").map_err(StoreError::from)?;
            Ok(())
        }
        Err(error) => {
            if let Err(rollback) = conn.execute_batch("ROLLBACK") {
                tracing::error!("rollback after a failed user add also failed: {rollback}");
            }
            Err(error.into())
        }
    }
}

fn check(conn: &Connection, user: &NewUser, password: &str) -> Result<(), AccessError> {
    let invalid = |message: String| Err(AccessError::Invalid(message));
    let name_ok = !user.user.is_empty()
        && user
            .user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !name_ok {
        return invalid(format!(
            "user name '{}' must be letters, digits, '.', '_' or '-'",
            user.user
        ));
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return invalid(format!(
            "the password must be at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    let exists: i64 = conn
        .query_row(
            "SELECT count(*) FROM app.\"user\" WHERE user_name = ?",
            [&user.user],
            |row| row.get(0),
        )
        .map_err(StoreError::from)?;
    if exists > 0 {
        return invalid(format!("user '{}' already exists", user.user));
    }
    if user.role.limited_to_zones() && user.zones.is_empty() {
        return invalid(format!(
            "a {} sees only their zones' families: name at least one zone",
            user.role.as_str()
        ));
    }
    for zone in &user.zones {
        let known: i64 = conn
            .query_row(
                "SELECT count(*) FROM ref.zone WHERE zone_id = ?",
                [zone],
                |row| row.get(0),
            )
            .map_err(StoreError::from)?;
        if known == 0 {
            return invalid(format!(
                "zone '{zone}' is not in ref.zone (load the extracts first)"
            ));
        }
    }
    Ok(())
}

/// Checks `password` for `user` and returns their session. Every attempt is in the
/// audit log, failed ones included; a wrong name and a wrong password get the same
/// answer, so a login screen does not tell which names exist.
pub fn authenticate(conn: &Connection, user: &str, password: &str) -> Result<Session, AccessError> {
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
    let found = match row {
        Ok(found) => Some(found),
        Err(duckdb::Error::QueryReturnedNoRows) => None,
        Err(error) => return Err(StoreError::from(error).into()),
    };
    let verified = found.as_ref().is_some_and(|(_, hash, active)| {
        *active
            && PasswordHash::new(hash).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
    });
    let role = found.as_ref().and_then(|(role, _, _)| Role::parse(role));
    let entry = |detail: &str| {
        Entry {
            user: user.to_string(),
            ..Entry::new(Action::Login, user)
        }
        .with_detail(detail)
    };
    let (Some(role), true) = (role, verified) else {
        audit::record(conn, &entry("refused"))?;
        return Err(AccessError::BadLogin);
    };
    audit::record(conn, &entry(&format!("as {}", role.as_str())))?;
    let zones = conn
        .prepare("SELECT zone_id FROM app.user_zone WHERE user_name = ? ORDER BY zone_id")
        .and_then(|mut statement| {
            statement
                .query_map([user], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()
        })
        .map_err(StoreError::from)?;
    Ok(Session {
        user: user.to_string(),
        role,
        zones,
    })
}
