//! The team's shared PostgreSQL server (issue 17): `init` creates its schemas,
//! Zonewise's roles as database roles, row-level security and the audited
//! functions that are the only way to read people; `user` adds and changes logins; `publish`
//! copies what the views read from the analyst's DuckDB file in one transaction;
//! `audit` verifies the server's audit chain. The server, not the app, enforces
//! who sees what, so a login connecting with `psql` gets no more than through
//! Zonewise. Set-up for a council's IT team: `docs/server.md`.

mod audit;
pub mod cli;
mod init;
mod publish;
pub mod tls;
mod user;

pub use audit::verify;
pub use init::init;
pub use publish::{PUBLISHED_TABLES, Published, publish};
pub use user::{OpenSessions, add_login, change_login, disable_login, enable_login, set_password};

use std::io::IsTerminal;

use crate::access::Role;
use crate::store::StoreError;

/// What went wrong talking to the server or with what was asked of it.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("server: {}", server_message(.0))]
    Postgres(#[from] postgres::Error),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("publishing {table}: {message}")]
    Publish { table: String, message: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl From<duckdb::Error> for ServerError {
    fn from(error: duckdb::Error) -> ServerError {
        ServerError::Store(error.into())
    }
}

/// What the server said: its error's severity, message, detail and hint (the
/// client error's own text is only "db error" for these), else the client's.
fn server_message(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut message = format!("{}: {}", db.severity(), db.message());
            if let Some(detail) = db.detail() {
                message.push_str(&format!(" ({detail})"));
            }
            if let Some(hint) = db.hint() {
                message.push_str(&format!("; {hint}"));
            }
            message
        }
        None => {
            // The client's own text is its kind ("error performing TLS
            // handshake"); why is in the chain of sources beneath it.
            let mut message = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            if message.contains("certificate") {
                message.push_str(&format!(
                    "; the server's certificate must be signed by a root this machine \
                     trusts and name the host connected to: set {} to the file of the \
                     council's CA certificate (docs/server.md, \"TLS\")",
                    tls::ROOT_CERT_VARIABLE
                ));
            }
            message
        }
    }
}

/// The server's database role that holds Zonewise role `role`'s grants: every
/// login is a member of exactly one.
pub fn group_role(role: Role) -> String {
    format!("zonewise_{}", role.as_str())
}

/// Connects to `url` (a `postgresql://` URL or `host=… user=… dbname=…` pairs, as
/// libpq reads them). Without a password in it, `PGPASSWORD` is used, or one is
/// asked for at a terminal. Over TCP the connection is encrypted whenever the
/// server offers TLS, and must be under `sslmode=require`; the server's
/// certificate is checked against the roots [`tls::connector`] trusts,
/// `PGSSLROOTCERT`'s among them.
pub fn connect(url: &str) -> Result<postgres::Client, ServerError> {
    connect_trusting(url, tls::root_file_from_environment().as_deref())
}

/// [`connect`], trusting the root certificates in `root_file` as well (rather
/// than `PGSSLROOTCERT`'s).
pub fn connect_trusting(
    url: &str,
    root_file: Option<&std::path::Path>,
) -> Result<postgres::Client, ServerError> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| ServerError::Invalid(format!("--server: {e}")))?;
    if config.get_password().is_none() {
        if let Ok(password) = std::env::var("PGPASSWORD") {
            config.password(password);
        } else if std::io::stdin().is_terminal() {
            let user = config.get_user().unwrap_or("the server").to_string();
            config.password(rpassword::prompt_password(format!(
                "Password for {user}: "
            ))?);
        }
    }
    let tls = tls::connector(root_file)?;
    Ok(config.connect(tls)?)
}

/// Where `url` points, without its password: for audit entries and messages.
pub fn describe(url: &str) -> String {
    let Ok(config) = url.parse::<postgres::Config>() else {
        return "a server".to_string();
    };
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    format!(
        "{}@{}/{}",
        config.get_user().unwrap_or("?"),
        hosts.join(","),
        config.get_dbname().unwrap_or("?")
    )
}

/// `text` as an SQL identifier, quoted by the server's own `quote_ident` (utility
/// statements such as CREATE ROLE take no parameters).
fn quoted(client: &mut impl postgres::GenericClient, text: &str) -> Result<String, ServerError> {
    Ok(client
        .query_one("SELECT quote_ident($1::text)", &[&text])?
        .get(0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_description_never_holds_the_password() {
        let url = "postgresql://ana:secret-words@db.council.example:5432/zonewise";
        let described = super::describe(url);
        assert_eq!(described, "ana@db.council.example/zonewise");
        assert!(!super::describe("host=/tmp/x user=bo password=hunter2").contains("hunter2"));
    }
}
