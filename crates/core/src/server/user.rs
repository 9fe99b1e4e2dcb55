//! `zonewise server add-user|change-user|set-password|disable-user|enable-user`: a
//! LOGIN role with a SCRAM-SHA-256 password, a member of its Zonewise role's group,
//! with its zones in `app.user_zone`; each change recorded in the chain
//! (`manage_users`, by the login that made it), as `zonewise user` records its own.

use postgres::Client;

use super::{ServerError, group_role, quoted};
use crate::access::Role;

/// A login name the server can take unquoted in messages and that cannot be
/// mistaken for a built-in or Zonewise role: lower-case letters, digits and `_`,
/// starting with a letter, at most 63 bytes (PostgreSQL's limit).
fn check_login_name(name: &str) -> Result<(), ServerError> {
    let valid = name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(ServerError::Invalid(format!(
            "'{name}' is not a login name for the server: use lower-case letters, digits \
             and '_', starting with a letter, at most 63 characters"
        )));
    }
    if name.starts_with("pg_") || name.starts_with("zonewise_") {
        return Err(ServerError::Invalid(format!(
            "'{name}': names beginning pg_ or zonewise_ are kept for the server's own roles"
        )));
    }
    Ok(())
}

/// Adds login `name` with `role` and `zones`, and its `manage_users` entry, in one
/// transaction. The password is checked as `zonewise user add` checks it and never
/// sent: the SCRAM-SHA-256 verifier is computed here, so neither the statement
/// nor the server's log ever holds the password itself.
pub fn add_login(
    client: &mut Client,
    name: &str,
    role: Role,
    zones: &[String],
    password: &str,
) -> Result<(), ServerError> {
    check_login_name(name)?;
    crate::access::password::check_password(name, password)
        .map_err(|e| ServerError::Invalid(e.to_string()))?;
    let zones = zone_list(zones);
    check_zones(role, &zones)?;
    let mut tx = client.transaction()?;
    let exists: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)",
            &[&name],
        )?
        .get(0);
    if exists {
        return Err(ServerError::Invalid(format!(
            "the server already has a role named '{name}'"
        )));
    }
    let login = quoted(&mut tx, name)?;
    let group = quoted(&mut tx, &group_role(role))?;
    let secret = scram_verifier(&mut tx, password)?;
    tx.batch_execute(&format!(
        "CREATE ROLE {login} LOGIN PASSWORD {secret} IN ROLE {group}"
    ))?;
    for zone in &zones {
        tx.execute(
            "INSERT INTO app.user_zone (user_name, zone_id) VALUES ($1, $2)",
            &[&name, zone],
        )?;
    }
    let detail = if zones.is_empty() {
        format!("added as {}", role.as_str())
    } else {
        format!("added as {}, zones {}", role.as_str(), zones.join(", "))
    };
    record(&mut tx, name, &detail)?;
    tx.commit()?;
    Ok(())
}

/// Zones as given on the command line: trimmed, without empty ones, sorted, once each.
fn zone_list(zones: &[String]) -> Vec<String> {
    let mut zones: Vec<String> = zones
        .iter()
        .map(|z| z.trim().to_string())
        .filter(|z| !z.is_empty())
        .collect();
    zones.sort();
    zones.dedup();
    zones
}

/// Zone managers and the screen see only their zones, so need one; the other
/// roles see every zone or none, so take none.
fn check_zones(role: Role, zones: &[String]) -> Result<(), ServerError> {
    if role.limited_to_zones() && zones.is_empty() {
        return Err(ServerError::Invalid(format!(
            "a {} sees only their zones: give --zone",
            role.as_str()
        )));
    }
    if !role.limited_to_zones() && !zones.is_empty() {
        return Err(ServerError::Invalid(format!(
            "a {} sees every zone or none: --zone is only for zone managers and the \
             round-table screen",
            role.as_str()
        )));
    }
    Ok(())
}

/// The quoted literal of `password`'s SCRAM-SHA-256 verifier (4096 iterations,
/// random salt), computed here so that neither the statement nor the server's log
/// ever holds the password itself.
fn scram_verifier(
    tx: &mut postgres::Transaction<'_>,
    password: &str,
) -> Result<String, ServerError> {
    let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
    tx.batch_execute("SET LOCAL password_encryption = 'scram-sha-256'")?;
    Ok(tx
        .query_one("SELECT quote_literal($1::text)", &[&verifier])?
        .get(0))
}

/// The `manage_users` entry for login `name`, by whoever is signed in.
fn record(tx: &mut postgres::Transaction<'_>, name: &str, detail: &str) -> Result<(), ServerError> {
    tx.execute(
        "SELECT app.audit_append(session_user::text, 'manage_users', $1, NULL, $2)",
        &[&name, &detail],
    )?;
    Ok(())
}

/// A Zonewise login as the server has it now.
struct Login {
    /// Its name, quoted for utility statements.
    quoted: String,
    role: Role,
    zones: Vec<String>,
    may_log_in: bool,
}

/// Login `name`, its changes serialised by a transaction-scoped advisory lock on
/// its name (two at once would each read the zones before the other wrote).
/// Refused for a name that is no login of the server, and for a role that is not
/// a Zonewise login (a member of exactly one Zonewise group, not a superuser):
/// the server's own roles are the IT team's, not `zonewise`'s, to change.
fn existing_login(tx: &mut postgres::Transaction<'_>, name: &str) -> Result<Login, ServerError> {
    check_login_name(name)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(72350018, hashtext($1))",
        &[&name],
    )?;
    let Some(row) = tx.query_opt(
        "SELECT r.rolsuper, r.rolcanlogin,
                array(SELECT g.rolname::text FROM pg_auth_members m
                      JOIN pg_roles g ON g.oid = m.roleid
                      WHERE m.member = r.oid AND g.rolname LIKE 'zonewise\\_%')
         FROM pg_roles r WHERE r.rolname = $1",
        &[&name],
    )?
    else {
        return Err(ServerError::Invalid(format!(
            "the server has no login named '{name}'"
        )));
    };
    let (superuser, may_log_in, groups): (bool, bool, Vec<String>) =
        (row.get(0), row.get(1), row.get(2));
    let roles: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|role| groups.contains(&group_role(*role)))
        .collect();
    let [role] = roles[..] else {
        return Err(ServerError::Invalid(format!(
            "'{name}' is not a Zonewise login (a member of exactly one of the zonewise_ \
             roles): change it with the server's own tools"
        )));
    };
    if superuser {
        return Err(ServerError::Invalid(format!(
            "'{name}' is a superuser: change it with the server's own tools"
        )));
    }
    let zones = tx
        .query(
            "SELECT zone_id FROM app.user_zone WHERE user_name = $1 ORDER BY zone_id",
            &[&name],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect();
    Ok(Login {
        quoted: quoted(tx, name)?,
        role,
        zones,
        may_log_in,
    })
}

/// Changes login `name`'s role (its group) and/or zones (`zones` replaces them), checked
/// as [`add_login`] checks a new one. The entry's detail names each change ("role
/// zone_manager -> senior_manager; zones Z1 -> none"); a change that changes
/// nothing is refused rather than recorded. Row-level security reads the zones at
/// each statement, so the login's next query sees the new ones.
pub fn change_login(
    client: &mut Client,
    name: &str,
    role: Option<Role>,
    zones: Option<&[String]>,
) -> Result<(), ServerError> {
    let mut tx = client.transaction()?;
    let current = existing_login(&mut tx, name)?;
    let role = role.unwrap_or(current.role);
    let zones = zones.map_or_else(|| current.zones.clone(), zone_list);
    check_zones(role, &zones)?;
    let shown = |zones: &[String]| {
        if zones.is_empty() {
            "none".to_string()
        } else {
            zones.join(", ")
        }
    };
    let mut changes = Vec::new();
    if role != current.role {
        let old = quoted(&mut tx, &group_role(current.role))?;
        let new = quoted(&mut tx, &group_role(role))?;
        let login = &current.quoted;
        tx.batch_execute(&format!(
            "REVOKE {old} FROM {login}; GRANT {new} TO {login}"
        ))?;
        changes.push(format!(
            "role {} -> {}",
            current.role.as_str(),
            role.as_str()
        ));
    }
    if zones != current.zones {
        tx.execute("DELETE FROM app.user_zone WHERE user_name = $1", &[&name])?;
        for zone in &zones {
            tx.execute(
                "INSERT INTO app.user_zone (user_name, zone_id) VALUES ($1, $2)",
                &[&name, zone],
            )?;
        }
        changes.push(format!(
            "zones {} -> {}",
            shown(&current.zones),
            shown(&zones)
        ));
    }
    if changes.is_empty() {
        return Err(ServerError::Invalid(format!(
            "nothing to change: {name} already has that role and those zones"
        )));
    }
    record(&mut tx, name, &changes.join("; "))?;
    tx.commit()?;
    Ok(())
}

/// Gives login `name` a new password, checked and sent as [`add_login`] does.
pub fn set_password(client: &mut Client, name: &str, password: &str) -> Result<(), ServerError> {
    check_login_name(name)?;
    crate::access::password::check_password(name, password)
        .map_err(|e| ServerError::Invalid(e.to_string()))?;
    let mut tx = client.transaction()?;
    let login = existing_login(&mut tx, name)?;
    let secret = scram_verifier(&mut tx, password)?;
    tx.batch_execute(&format!("ALTER ROLE {} PASSWORD {secret}", login.quoted))?;
    record(&mut tx, name, "password reset")?;
    tx.commit()?;
    Ok(())
}

/// What became of a disabled login's open connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenSessions {
    /// This many were ended.
    Ended(u64),
    /// This many stay open until they disconnect: the login that disabled may not
    /// end other roles' connections (only a superuser or a member of
    /// `pg_signal_backend` may).
    Left(u64),
}

/// Stops login `name` connecting (`NOLOGIN`). The role stays, as the audit chain
/// names it and a new login must not take over its name and history. Its
/// connections already open are then ended where the server lets this login end
/// them; otherwise they are counted, to be told.
pub fn disable_login(client: &mut Client, name: &str) -> Result<OpenSessions, ServerError> {
    let mut tx = client.transaction()?;
    let login = existing_login(&mut tx, name)?;
    if !login.may_log_in {
        return Err(ServerError::Invalid(format!("{name} is already disabled")));
    }
    tx.batch_execute(&format!("ALTER ROLE {} NOLOGIN", login.quoted))?;
    record(&mut tx, name, "disabled")?;
    tx.commit()?;
    let open: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = $1",
            &[&name],
        )?
        .get(0);
    let ended = client.query_one(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000))
         FROM pg_stat_activity WHERE usename = $1",
        &[&name],
    );
    match ended {
        Ok(row) => Ok(OpenSessions::Ended(row.get::<_, i64>(0) as u64)),
        Err(error) if error.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) => {
            Ok(OpenSessions::Left(open as u64))
        }
        Err(error) => Err(error.into()),
    }
}

/// Lets disabled login `name` connect again.
pub fn enable_login(client: &mut Client, name: &str) -> Result<(), ServerError> {
    let mut tx = client.transaction()?;
    let login = existing_login(&mut tx, name)?;
    if login.may_log_in {
        return Err(ServerError::Invalid(format!("{name} is already enabled")));
    }
    tx.batch_execute(&format!("ALTER ROLE {} LOGIN", login.quoted))?;
    record(&mut tx, name, "enabled")?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_login_name;

    #[test]
    fn login_names_are_plain_identifiers_outside_the_servers_own() {
        for good in ["ana", "zoe_2", "a"] {
            assert!(check_login_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Ana",
            "2zoe",
            "ana; DROP TABLE core.person",
            "a\"b",
            "pg_monitor",
            "zonewise_analyst",
            &"a".repeat(64),
        ] {
            assert!(check_login_name(bad).is_err(), "{bad}");
        }
    }
}
