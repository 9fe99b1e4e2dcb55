//! `zonewise server init|add-user|change-user|set-password|disable-user|enable-user|verify`
//! and `zonewise publish`: the team's shared
//! PostgreSQL server; the bodies are in `server::cli`.

use std::path::PathBuf;

use crate::access::{Role, Session};
use crate::audit::Anchor;
use crate::server::cli;

/// The team's PostgreSQL server. Each command connects as the login in `--server`
/// (a `postgresql://` URL or `host=… user=… dbname=…`; the password from the URL,
/// PGPASSWORD, or asked for), and the server decides what that login may do.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ServerCommand {
    /// Create the schemas, one database role per Zonewise role, row-level security
    /// and the audited functions, on an empty database (as its owner).
    Init {
        /// The server and database, e.g. postgresql://owner@db.council.example/zonewise.
        #[arg(long)]
        server: String,
    },
    /// Add a login with its role and zones; asks for the password (or reads one line
    /// from standard input), which is sent only as a SCRAM-SHA-256 verifier.
    AddUser {
        /// The server and database, as the owner (or a role that may create roles).
        #[arg(long)]
        server: String,
        /// Login name: lower-case letters, digits and '_', starting with a letter.
        #[arg(long)]
        name: String,
        /// The login's role.
        #[arg(long, ignore_case = true)]
        role: Role,
        /// A zone the login works in (repeat or give a comma list); zone managers and
        /// the round-table screen need one at least.
        #[arg(long, value_delimiter = ',')]
        zone: Vec<String>,
    },
    /// Change a login's role and/or zones, as `zonewise user change` does in a file.
    ChangeUser {
        /// The server and database, as the owner (or a role that may create roles).
        #[arg(long)]
        server: String,
        /// The login's name.
        #[arg(long)]
        name: String,
        /// The new role.
        #[arg(long, ignore_case = true)]
        role: Option<Role>,
        /// The login's zones, replacing the ones it has (a comma list; '' for none).
        #[arg(long, value_delimiter = ',')]
        zone: Option<Vec<String>>,
    },
    /// Set a new password for a login (asked twice, or one line from standard input),
    /// sent only as a SCRAM-SHA-256 verifier.
    SetPassword {
        /// The server and database, as the owner (or a role that may create roles).
        #[arg(long)]
        server: String,
        /// The login's name.
        #[arg(long)]
        name: String,
    },
    /// Stop a login connecting, and end its open connections where allowed; the role
    /// stays, as the audit log names it.
    DisableUser {
        /// The server and database, as the owner (or a role that may create roles).
        #[arg(long)]
        server: String,
        /// The login's name.
        #[arg(long)]
        name: String,
    },
    /// Let a disabled login connect again.
    EnableUser {
        /// The server and database, as the owner (or a role that may create roles).
        #[arg(long)]
        server: String,
        /// The login's name.
        #[arg(long)]
        name: String,
    },
    /// Check the server's audit chain; exits non-zero naming the first bad entry.
    Verify {
        /// The server and database, as a login that may read the audit log.
        #[arg(long)]
        server: String,
        /// A head printed by an earlier verify (SEQ:HASH:GENESIS), kept elsewhere.
        #[arg(long)]
        anchor: Option<Anchor>,
    },
}

impl ServerCommand {
    /// Runs the command.
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            ServerCommand::Init { server } => cli::init_command(&server),
            ServerCommand::AddUser {
                server,
                name,
                role,
                zone,
            } => cli::add_user_command(&server, &name, role, &zone),
            ServerCommand::ChangeUser {
                server,
                name,
                role,
                zone,
            } => cli::change_user_command(&server, &name, role, zone.as_deref()),
            ServerCommand::SetPassword { server, name } => {
                cli::set_password_command(&server, &name)
            }
            ServerCommand::DisableUser { server, name } => {
                cli::disable_user_command(&server, &name)
            }
            ServerCommand::EnableUser { server, name } => cli::enable_user_command(&server, &name),
            ServerCommand::Verify { server, anchor } => {
                cli::verify_command(&server, anchor.as_ref())
            }
        }
    }
}

/// Copy what the views read from a database file to the team's server, as one
/// release (the previous one stays whole if anything fails).
#[derive(Debug, Clone, clap::Args)]
pub struct PublishCommand {
    /// Database file.
    #[arg(long)]
    pub db: PathBuf,
    /// The server and database, as an analyst's login.
    #[arg(long)]
    pub server: String,
}

impl PublishCommand {
    /// Publishes as `session` (who the file's log names).
    pub fn run(&self, session: &Session) -> anyhow::Result<()> {
        cli::publish_command(&self.db, &self.server, session)
    }
}
