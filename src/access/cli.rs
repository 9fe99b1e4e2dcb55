//! `zonewise user add`: adds a user, asking for the password without echoing it.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use super::{NewUser, add_user};
use crate::{audit, store};

/// Adds `user` to the database at `db`. At a terminal the password is asked twice
/// without echo; otherwise the first line of standard input is the password.
pub fn add_command(db: &Path, user: &NewUser) -> anyhow::Result<()> {
    if !db.is_file() {
        anyhow::bail!("database {} does not exist", db.display());
    }
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {}: ", user.user))?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            anyhow::bail!("the two passwords differ; nothing was added");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    let conn = store::open(db)?;
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
