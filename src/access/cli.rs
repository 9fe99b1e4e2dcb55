//! `zonewise user add|list|change|password|disable|enable`: users on the command
//! line, passwords asked for without echoing them.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use super::{
    NewUser, UserChange, add_user, change_user, disable_user, enable_user, list_users,
    reset_password,
};
use crate::commands::new_table;
use crate::{audit, store};

/// Adds `user` to the database at `db`. At a terminal the password is asked twice
/// without echo; otherwise the first line of standard input is the password.
pub fn add_command(db: &Path, user: &NewUser) -> anyhow::Result<()> {
    let conn = open_existing(db)?;
    let password = read_password(&user.user, "nothing was added")?;
    add_user(&conn, user, &password, &audit::current_user())?;
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
        let status = match (user.active, user.minutes_locked) {
            (false, _) => "disabled".to_string(),
            (true, Some(minutes)) => format!("locked ({minutes} min left)"),
            (true, None) => "active".to_string(),
        };
        table.add_row(vec![
            user.user.clone(),
            user.display_name.clone(),
            user.role.clone(),
            user.zones.join(", "),
            status,
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
pub fn change_command(db: &Path, user: &str, change: &UserChange) -> anyhow::Result<()> {
    let conn = open_existing(db)?;
    change_user(&conn, user, change, &audit::current_user())?;
    println!("Changed {user}");
    Ok(())
}

/// `zonewise user password`: a new password for a user, read as `user add` reads one.
pub fn password_command(db: &Path, user: &str) -> anyhow::Result<()> {
    let conn = open_existing(db)?;
    let password = read_password(user, "the password was not changed")?;
    reset_password(&conn, user, &password, &audit::current_user())?;
    println!("New password set for {user}");
    Ok(())
}

/// `zonewise user disable`: the user can no longer sign in; their row stays.
pub fn disable_command(db: &Path, user: &str) -> anyhow::Result<()> {
    let conn = open_existing(db)?;
    disable_user(&conn, user, &audit::current_user())?;
    println!("Disabled {user}: they can no longer sign in");
    Ok(())
}

/// `zonewise user enable`: a disabled user may sign in again, or a locked-out one
/// at once.
pub fn enable_command(db: &Path, user: &str) -> anyhow::Result<()> {
    let conn = open_existing(db)?;
    enable_user(&conn, user, &audit::current_user())?;
    println!("{user} may sign in");
    Ok(())
}

/// A password for `user`: at a terminal asked twice without echo (failing with
/// "the two passwords differ; `unchanged`" when they do), otherwise the first line
/// of standard input, so scripts and tests can pipe one in.
fn read_password(user: &str, unchanged: &str) -> anyhow::Result<String> {
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
