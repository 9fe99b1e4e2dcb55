//! The command line's side of access: who may run which command ([`sign_in`]),
//! and `zonewise user add|list|change|password|disable|enable`, which ask for
//! passwords without echoing them.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use super::{
    AccessError, Capability, NewUser, Session, UserChange, add_user, change_user, disable_user,
    enable_user, list_users, reset_password,
};
use crate::audit::{self, Action, Entry};
use crate::format::new_table;
use crate::store;

/// Adds `user` to the database at `db`. At a terminal the password is asked twice
/// without echo; otherwise the first line of standard input is the password.
pub fn add_command(db: &Path, user: &NewUser, actor: &str) -> anyhow::Result<()> {
    let conn = open_existing(db)?;
    let password = read_password(&user.user, "nothing was added")?;
    add_user(&conn, user, &password, actor)?;
    println!(
        "Added {} ({}) as {}{}",
        user.user,
        user.display_name,
        user.role.as_str(),
        if user.zones.is_empty() {
            String::new()
        } else {
            format!(" for {}", user.zones.join(", "))
        }
    );
    Ok(())
}

/// `zonewise user list`: every user, their role, zones and whether they may sign in.
pub fn list_command(db: &Path) -> anyhow::Result<()> {
    let conn = open_existing(db)?;
    let users = list_users(&conn)?;
    let mut table = new_table(&["User", "Display name", "Role", "Zones", "Status", "Created"]);
    for user in &users {
        table.add_row(vec![
            user.user.clone(),
            user.display_name.clone(),
            user.role.clone(),
            user.zones.join(", "),
            user.status(),
            user.created_at.clone(),
        ]);
    }
    println!("{table}");
    println!(
        "{} {}",
        users.len(),
        if users.len() == 1 { "user" } else { "users" }
    );
    Ok(())
}

/// `zonewise user change`: a user's role, zones and/or display name.
pub fn change_command(
    db: &Path,
    user: &str,
    change: &UserChange,
    actor: &str,
) -> anyhow::Result<()> {
    let conn = open_existing(db)?;
    change_user(&conn, user, change, actor)?;
    println!("Changed {user}");
    Ok(())
}

/// `zonewise user password`: a new password for a user, read as `user add` reads one.
pub fn password_command(db: &Path, user: &str, actor: &str) -> anyhow::Result<()> {
    let conn = open_existing(db)?;
    let password = read_password(user, "the password was not changed")?;
    reset_password(&conn, user, &password, actor)?;
    println!("New password set for {user}");
    Ok(())
}

/// `zonewise user disable`: the user can no longer sign in; their row stays.
pub fn disable_command(db: &Path, user: &str, actor: &str) -> anyhow::Result<()> {
    let conn = open_existing(db)?;
    disable_user(&conn, user, actor)?;
    println!("Disabled {user}: they can no longer sign in");
    Ok(())
}

/// `zonewise user enable`: a disabled user may sign in again, or a locked-out one
/// at once.
pub fn enable_command(db: &Path, user: &str, actor: &str) -> anyhow::Result<()> {
    let conn = open_existing(db)?;
    enable_user(&conn, user, actor)?;
    println!("{user} may sign in");
    Ok(())
}

/// A password for `user`: at a terminal asked twice without echo (failing with
/// "the two passwords differ; `unchanged`" when they do), otherwise the first line
/// of standard input, so scripts and tests can pipe one in.
pub(crate) fn read_password(user: &str, unchanged: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {user}: "))?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            anyhow::bail!("the two passwords differ; {unchanged}");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

fn open_existing(db: &Path) -> anyhow::Result<duckdb::Connection> {
    if !db.is_file() {
        anyhow::bail!("database {} does not exist", db.display());
    }
    Ok(store::open(db)?)
}

/// The environment variable a script may set to the password of `--as` (a terminal
/// is asked instead, without echo, when it is not set).
pub const PASSWORD_VARIABLE: &str = "ZONEWISE_PASSWORD";

/// Who runs `command` on the database at `db`. Without users (or without the file,
/// which `ingest` creates) that is the local analyst. Otherwise `user` must sign in
/// with their password and their role must be granted what the command `needs`
/// (`commands::CommandName::needs`); both the sign-in and a refusal are in the
/// audit log, and the command passes the session's user to every entry it records.
pub fn sign_in(
    db: &Path,
    user: Option<&str>,
    command: &str,
    needs: Capability,
) -> anyhow::Result<Session> {
    if !db.is_file() {
        return Ok(Session::local_analyst());
    }
    let conn = store::open(db)?;
    if !super::requires_sign_in(&conn)? {
        if let Some(user) = user {
            // Not an error: a script may set ZONEWISE_USER for every database it uses.
            tracing::warn!(
                "{} has no users: running as the local analyst, not as {user}",
                db.display()
            );
        }
        return Ok(Session::local_analyst());
    }
    let Some(user) = user else {
        anyhow::bail!(
            "{} has users: sign in with `--as NAME` (or set ZONEWISE_USER); \
             the password is asked for, or read from {PASSWORD_VARIABLE}",
            db.display()
        );
    };
    let password = match std::env::var(PASSWORD_VARIABLE) {
        Ok(password) => password,
        Err(_) if std::io::stdin().is_terminal() => {
            rpassword::prompt_password(format!("Password for {user}: "))?
        }
        Err(_) => anyhow::bail!(
            "no password for {user}: run at a terminal to be asked, or set {PASSWORD_VARIABLE}"
        ),
    };
    let session = super::authenticate(&conn, user, &password)?;
    if !session.role.may(needs) {
        let refusal =
            Entry::new(session.user.clone(), Action::Login, command).with_detail(format!(
                "refused: a {} may not run `zonewise {command}`",
                session.role.as_str()
            ));
        audit::record(&conn, &refusal)?;
        return Err(AccessError::CommandDenied {
            user: session.user,
            role: session.role.as_str(),
            command: command.to_string(),
        }
        .into());
    }
    Ok(session)
}
