//! `zonewise server add-user`: a LOGIN role with a SCRAM-SHA-256 password, a member
//! of its Zonewise role's group, with its zones in `app.user_zone`.

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
    let zones: Vec<String> = zones
        .iter()
        .map(|z| z.trim().to_string())
        .filter(|z| !z.is_empty())
        .collect();
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
    let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
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
    let secret: String = tx
        .query_one("SELECT quote_literal($1::text)", &[&verifier])?
        .get(0);
    tx.batch_execute("SET LOCAL password_encryption = 'scram-sha-256'")?;
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
    tx.execute(
        "SELECT app.audit_append(session_user::text, 'manage_users', $1, NULL, $2)",
        &[&name, &detail],
    )?;
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
