//! Changing users once added: role, zones and display name, password, disabled or
//! enabled, each in one transaction with its `manage_users` audit entry; and the
//! list of users. The database is never left without an active analyst, the one
//! role that manages users. A user may be named in any case ([`stored_name`]); the
//! change and its entry use the name as stored.

use duckdb::{Connection, OptionalExt};

use super::lockout::SIGN_IN_LOCKOUT;
use super::password::password_hash;
use super::users::{check_zones, spellings, write_recorded};
use super::{AccessError, Role};

/// What to change about a user; `None` leaves it as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    pub role: Option<Role>,
    /// Replaces every zone the user has (blank names are dropped, so an empty list
    /// or `[""]` removes them all).
    pub zones: Option<Vec<String>>,
    pub display_name: Option<String>,
}

/// One user, as `zonewise user list` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub user: String,
    pub display_name: String,
    /// As stored (a role this build does not know is still listed).
    pub role: String,
    pub zones: Vec<String>,
    pub active: bool,
    /// `yyyy-mm-dd hh:mm`.
    pub created_at: String,
    /// Minutes left of a sign-in lockout, when the name is locked now.
    pub minutes_locked: Option<i64>,
}

impl UserRow {
    /// Whether the user may sign in now: "active", "disabled", or "locked (N min
    /// left)", as `zonewise user list` and the Users view show it.
    pub fn status(&self) -> String {
        match (self.active, self.minutes_locked) {
            (false, _) => "disabled".to_string(),
            (true, Some(minutes)) => format!("locked ({minutes} min left)"),
            (true, None) => "active".to_string(),
        }
    }
}

/// A user as stored, read inside the transaction that changes them.
struct Stored {
    role: String,
    display_name: String,
    zones: Vec<String>,
    active: bool,
}

fn stored(conn: &Connection, user: &str) -> Result<Stored, AccessError> {
    let row = conn
        .query_row(
            "SELECT role, display_name, active FROM app.\"user\" WHERE user_name = ?",
            [user],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let Some((role, display_name, active)) = row else {
        return Err(AccessError::Invalid(format!(
            "there is no user '{user}' (zonewise user list shows them)"
        )));
    };
    let zones = conn
        .prepare("SELECT zone_id FROM app.user_zone WHERE user_name = ? ORDER BY zone_id")?
        .query_map([user], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(Stored {
        role,
        display_name,
        zones,
        active,
    })
}

/// The stored spelling of the user `user` names: that exact spelling when a user
/// has it, else the one user whose name differs only by case. Users added before
/// names were compared ignoring case may differ only by case; they are told apart
/// by their exact spelling.
fn stored_name(conn: &Connection, user: &str) -> Result<String, AccessError> {
    let mut found = spellings(conn, user)?;
    if found.iter().any(|name| name == user) {
        return Ok(user.to_string());
    }
    match found.len() {
        0 => Err(AccessError::Invalid(format!(
            "there is no user '{user}' (zonewise user list shows them)"
        ))),
        1 => Ok(found.remove(0)),
        _ => Err(AccessError::Invalid(format!(
            "'{user}' is the name of {} users when case is ignored ({}): give the name \
             spelt exactly",
            found.len(),
            found.join(", ")
        ))),
    }
}

/// Refuses to take `user` out of the active analysts when they are the last one:
/// nobody could then add, change or enable users.
fn keep_an_analyst(conn: &Connection, user: &str, current: &Stored) -> Result<(), AccessError> {
    if !current.active || current.role != Role::Analyst.as_str() {
        return Ok(());
    }
    let others: i64 = conn.query_row(
        "SELECT count(*) FROM app.\"user\" WHERE role = ? AND active AND user_name <> ?",
        [Role::Analyst.as_str(), user],
        |row| row.get(0),
    )?;
    if others == 0 {
        return Err(AccessError::Invalid(format!(
            "{user} is the last active analyst: add or enable another analyst first, so \
             that someone can still manage users"
        )));
    }
    Ok(())
}

/// Changes `user`'s role, zones and/or display name (by `changed_by`), checked as
/// [`super::add_user`] checks a new user. The entry's detail names each change
/// ("role zone_manager -> senior_manager; zones Z1 -> Z1, Z2"); a change that
/// changes nothing is refused rather than recorded.
pub fn change_user(
    conn: &Connection,
    user: &str,
    change: &UserChange,
    changed_by: &str,
) -> Result<(), AccessError> {
    let user = &stored_name(conn, user)?;
    write_recorded(conn, changed_by, user, |conn| {
        let current = stored(conn, user)?;
        let role = match change.role {
            Some(role) => role,
            None => Role::parse(&current.role).ok_or_else(|| {
                AccessError::Invalid(format!(
                    "{user} has a role this version does not know ('{}'): give one",
                    current.role
                ))
            })?,
        };
        let zones = match &change.zones {
            Some(zones) => {
                let mut zones: Vec<String> = zones
                    .iter()
                    .map(|zone| zone.trim().to_string())
                    .filter(|zone| !zone.is_empty())
                    .collect();
                zones.sort();
                zones.dedup();
                zones
            }
            None => current.zones.clone(),
        };
        check_zones(conn, role, &zones)?;
        if role != Role::Analyst {
            keep_an_analyst(conn, user, &current)?;
        }
        let mut changes = Vec::new();
        if role.as_str() != current.role {
            conn.execute(
                "UPDATE app.\"user\" SET role = ? WHERE user_name = ?",
                [role.as_str(), user],
            )?;
            changes.push(format!("role {} -> {}", current.role, role.as_str()));
        }
        if zones != current.zones {
            for gone in current.zones.iter().filter(|z| !zones.contains(z)) {
                conn.execute(
                    "DELETE FROM app.user_zone WHERE user_name = ? AND zone_id = ?",
                    duckdb::params![user, gone],
                )?;
            }
            for new in zones.iter().filter(|z| !current.zones.contains(z)) {
                conn.execute(
                    "INSERT INTO app.user_zone VALUES (?, ?)",
                    duckdb::params![user, new],
                )?;
            }
            changes.push(format!(
                "zones {} -> {}",
                zone_list(&current.zones),
                zone_list(&zones)
            ));
        }
        if let Some(display_name) = &change.display_name {
            let display_name = display_name.trim();
            if display_name.is_empty() {
                return Err(AccessError::Invalid(
                    "the display name cannot be empty".to_string(),
                ));
            }
            if display_name != current.display_name {
                conn.execute(
                    "UPDATE app.\"user\" SET display_name = ? WHERE user_name = ?",
                    [display_name, user],
                )?;
                changes.push(format!(
                    "display name '{}' -> '{display_name}'",
                    current.display_name
                ));
            }
        }
        if changes.is_empty() {
            return Err(AccessError::Invalid(format!(
                "nothing to change: {user} already has that role, those zones and that name"
            )));
        }
        Ok(changes.join("; "))
    })
}

fn zone_list(zones: &[String]) -> String {
    if zones.is_empty() {
        "none".to_string()
    } else {
        zones.join(", ")
    }
}

/// Gives `user` a new password (by `reset_by`), for one forgotten or exposed. It
/// also clears a sign-in lockout: the user can sign in with it at once.
pub fn reset_password(
    conn: &Connection,
    user: &str,
    password: &str,
    reset_by: &str,
) -> Result<(), AccessError> {
    let user = &stored_name(conn, user)?;
    let hash = password_hash(user, password)?;
    write_recorded(conn, reset_by, user, |conn| {
        stored(conn, user)?;
        conn.execute(
            "UPDATE app.\"user\" SET password_hash = ? WHERE user_name = ?",
            [hash.as_str(), user],
        )?;
        Ok("password reset".to_string())
    })
}

/// Stops `user` signing in (by `disabled_by`). The user is disabled rather than
/// deleted because audit entries name them: the log must still say who a name was,
/// and a new user must not take over an old user's name and history.
pub fn disable_user(conn: &Connection, user: &str, disabled_by: &str) -> Result<(), AccessError> {
    let user = &stored_name(conn, user)?;
    write_recorded(conn, disabled_by, user, |conn| {
        let current = stored(conn, user)?;
        if !current.active {
            return Err(AccessError::Invalid(format!("{user} is already disabled")));
        }
        keep_an_analyst(conn, user, &current)?;
        conn.execute(
            "UPDATE app.\"user\" SET active = false WHERE user_name = ?",
            [user],
        )?;
        Ok("disabled".to_string())
    })
}

/// Lets a disabled `user` sign in again (by `enabled_by`), or unlocks an active
/// user locked out by failed sign-ins (the entry, "enabled" or "unlocked", is what
/// clears the lockout). Refused for a user who is neither.
pub fn enable_user(conn: &Connection, user: &str, enabled_by: &str) -> Result<(), AccessError> {
    let user = &stored_name(conn, user)?;
    let now = chrono::Utc::now().naive_utc();
    write_recorded(conn, enabled_by, user, |conn| {
        let current = stored(conn, user)?;
        if !current.active {
            conn.execute(
                "UPDATE app.\"user\" SET active = true WHERE user_name = ?",
                [user],
            )?;
            return Ok("enabled".to_string());
        }
        if SIGN_IN_LOCKOUT.minutes_locked(conn, user, now)?.is_some() {
            return Ok("unlocked".to_string());
        }
        Err(AccessError::Invalid(format!(
            "{user} is already enabled and not locked out"
        )))
    })
}

/// Every user, by name, with their zones and whether they are locked out now.
pub fn list_users(conn: &Connection) -> Result<Vec<UserRow>, AccessError> {
    let now = chrono::Utc::now().naive_utc();
    let rows = conn
        .prepare(
            "SELECT u.user_name, u.display_name, u.role,
                    coalesce(string_agg(z.zone_id, ',' ORDER BY z.zone_id), ''),
                    u.active, strftime(u.created_at, '%Y-%m-%d %H:%M')
             FROM app.\"user\" u LEFT JOIN app.user_zone z USING (user_name)
             GROUP BY ALL
             ORDER BY u.user_name",
        )?
        .query_map([], |row| {
            Ok(UserRow {
                user: row.get(0)?,
                display_name: row.get(1)?,
                role: row.get(2)?,
                zones: row
                    .get::<_, String>(3)?
                    .split(',')
                    .filter(|zone| !zone.is_empty())
                    .map(str::to_string)
                    .collect(),
                active: row.get(4)?,
                created_at: row.get(5)?,
                minutes_locked: None,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|row| -> Result<UserRow, AccessError> {
            Ok(UserRow {
                minutes_locked: SIGN_IN_LOCKOUT.minutes_locked(conn, &row.user, now)?,
                ..row
            })
        })
        .collect()
}

/// The zones a user may be given, as (id, name) by name: `ref.zone`.
pub fn zone_choices(conn: &Connection) -> Result<Vec<(String, String)>, AccessError> {
    let zones = conn
        .prepare("SELECT zone_id, name FROM ref.zone ORDER BY name, zone_id")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(zones)
}
