//! `zonewise server init|add-user|change-user|set-password|disable-user|enable-user|verify`
//! and `zonewise publish` on the command
//! line. The server checks who may do each (the login in `--server`); `publish`
//! also signs in to the DuckDB file, which records the release as an export.

use std::path::Path;

use super::{
    OpenSessions, ServerError, add_login, change_login, connect, describe, disable_login,
    enable_login, init, publish, set_password, verify,
};
use crate::access::{Role, Session};
use crate::audit::{self, Action, Anchor, Entry};
use crate::store;

/// `zonewise server init`: the schemas, roles, policies and functions.
pub fn init_command(url: &str) -> anyhow::Result<()> {
    let mut client = connect(url)?;
    init(&mut client)?;
    println!(
        "Initialised {}: schemas ref, core, mart and app, roles {}; add logins with \
         `zonewise server add-user`, then `zonewise publish`",
        describe(url),
        Role::ALL
            .iter()
            .map(|role| super::group_role(*role))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// `zonewise server add-user`: the password asked twice without echo at a
/// terminal, otherwise the first line of standard input.
pub fn add_user_command(url: &str, name: &str, role: Role, zones: &[String]) -> anyhow::Result<()> {
    let mut client = connect(url)?;
    let password = crate::access::cli::read_password(name, "nothing was added")?;
    add_login(&mut client, name, role, zones, &password)?;
    println!(
        "Added login {name} to {} as {}{}",
        describe(url),
        role.as_str(),
        if zones.is_empty() {
            String::new()
        } else {
            format!(" for {}", zones.join(", "))
        }
    );
    Ok(())
}

/// `zonewise server change-user`: a login's role and/or zones (`zones` replaces them).
pub fn change_user_command(
    url: &str,
    name: &str,
    role: Option<Role>,
    zones: Option<&[String]>,
) -> anyhow::Result<()> {
    let mut client = connect(url)?;
    change_login(&mut client, name, role, zones)?;
    println!("Changed login {name} on {}", describe(url));
    Ok(())
}

/// `zonewise server set-password`: read as `add-user` reads one.
pub fn set_password_command(url: &str, name: &str) -> anyhow::Result<()> {
    let mut client = connect(url)?;
    let password = crate::access::cli::read_password(name, "the password was not changed")?;
    set_password(&mut client, name, &password)?;
    println!("New password set for login {name} on {}", describe(url));
    Ok(())
}

/// `zonewise server disable-user`: the login can no longer connect; says what became
/// of its open connections.
pub fn disable_user_command(url: &str, name: &str) -> anyhow::Result<()> {
    let mut client = connect(url)?;
    let sessions = disable_login(&mut client, name)?;
    println!(
        "Disabled login {name} on {}: it can no longer connect",
        describe(url)
    );
    match sessions {
        OpenSessions::Ended(0) => {}
        OpenSessions::Ended(n) => println!("Ended its {n} open connection(s)"),
        OpenSessions::Left(n) => println!(
            "Its {n} open connection(s) stay open until they end: only a superuser or a \
             member of pg_signal_backend may end them (pg_terminate_backend)"
        ),
    }
    Ok(())
}

/// `zonewise server enable-user`: a disabled login may connect again.
pub fn enable_user_command(url: &str, name: &str) -> anyhow::Result<()> {
    let mut client = connect(url)?;
    enable_login(&mut client, name)?;
    println!("Login {name} may connect to {} again", describe(url));
    Ok(())
}

/// `zonewise server verify`: as `zonewise audit verify`, on the server's chain.
pub fn verify_command(url: &str, anchor: Option<&Anchor>) -> anyhow::Result<()> {
    let mut client = connect(url)?;
    let verification = verify(&mut client, anchor)?;
    if let Some(problem) = &verification.problem {
        anyhow::bail!(
            "audit log of {} is not intact: {}",
            describe(url),
            problem.message
        );
    }
    println!("{}", verification.summary());
    if let Some(anchor) = verification.anchor() {
        println!(
            "head {anchor}\nKeep this line somewhere the server's administrators cannot \
             change; `zonewise server verify --anchor {anchor}` later checks the log still holds it."
        );
    }
    Ok(())
}

/// `zonewise publish`: the file's release to the server, recorded in both logs.
pub fn publish_command(db: &Path, url: &str, session: &Session) -> anyhow::Result<()> {
    if !db.is_file() {
        anyhow::bail!("database {} does not exist", db.display());
    }
    let duck = store::open(db)?;
    let mut client = connect(url)?;
    let target = describe(url);
    let published = publish(&duck, &mut client, |published| {
        let entry = Entry::new(
            session.user.clone(),
            Action::Export,
            format!("server {target}"),
        )
        .with_detail(format!("published {}", published.summary()));
        audit::record(&duck, &entry).map_err(ServerError::from)?;
        Ok(())
    })?;
    for (table, rows) in &published.tables {
        println!("{table:<26} {rows:>10}");
    }
    println!("Published {} to {target}", published.summary());
    Ok(())
}
