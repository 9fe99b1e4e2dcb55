//! `zonewise user add|list|change|password|disable|enable`; the bodies are in
//! `access::cli`.

use std::path::{Path, PathBuf};

use crate::access::cli;
use crate::access::{NewUser, Role, Session, UserChange};

/// Users and their roles.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum UserCommand {
    /// Add a user; asks for the password (or reads one line from standard input).
    Add {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
        /// Login name: letters, digits, '.', '_' or '-'.
        #[arg(long)]
        name: String,
        /// The user's role.
        #[arg(long, ignore_case = true)]
        role: Role,
        /// A zone the user works in (repeat or give a comma list); zone managers and
        /// the round-table screen need one at least.
        #[arg(long, value_delimiter = ',')]
        zone: Vec<String>,
        /// The name shown in the app (default: the login name).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List users: role, zones, and whether each is active, disabled or locked out.
    List {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
    },
    /// Change a user's role, zones and/or display name.
    Change {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
        /// The user's login name.
        #[arg(long)]
        name: String,
        /// The new role.
        #[arg(long, ignore_case = true)]
        role: Option<Role>,
        /// The user's zones, replacing the ones they have (a comma list; '' for none).
        #[arg(long, value_delimiter = ',')]
        zone: Option<Vec<String>>,
        /// The new name shown in the app.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Set a new password for a user (asked twice, or one line from standard input);
    /// also clears a lockout.
    Password {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
        /// The user's login name.
        #[arg(long)]
        name: String,
    },
    /// Stop a user signing in; they stay in the database, as the audit log names them.
    Disable {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
        /// The user's login name.
        #[arg(long)]
        name: String,
    },
    /// Let a disabled user sign in again, or unlock one locked out by failed sign-ins.
    Enable {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
        /// The user's login name.
        #[arg(long)]
        name: String,
    },
}

impl UserCommand {
    /// The database the command changes or lists.
    pub fn database(&self) -> &Path {
        match self {
            UserCommand::Add { db, .. }
            | UserCommand::List { db }
            | UserCommand::Change { db, .. }
            | UserCommand::Password { db, .. }
            | UserCommand::Disable { db, .. }
            | UserCommand::Enable { db, .. } => db,
        }
    }

    /// Runs the command as `session`'s user.
    pub fn run(self, session: &Session) -> anyhow::Result<()> {
        let actor = session.user.as_str();
        match self {
            UserCommand::Add {
                db,
                name,
                role,
                zone,
                display_name,
            } => cli::add_command(
                &db,
                &NewUser {
                    display_name: display_name.unwrap_or_else(|| name.clone()),
                    user: name,
                    role,
                    zones: zone,
                },
                actor,
            ),
            UserCommand::List { db } => cli::list_command(&db),
            UserCommand::Change {
                db,
                name,
                role,
                zone,
                display_name,
            } => cli::change_command(
                &db,
                &name,
                &UserChange {
                    role,
                    zones: zone,
                    display_name,
                },
                actor,
            ),
            UserCommand::Password { db, name } => cli::password_command(&db, &name, actor),
            UserCommand::Disable { db, name } => cli::disable_command(&db, &name, actor),
            UserCommand::Enable { db, name } => cli::enable_command(&db, &name, actor),
        }
    }
}
