//! `zonewise audit verify|list`; the bodies are in `audit::cli`.

use std::path::{Path, PathBuf};

use crate::audit::{self, Action, Anchor, Filter};

/// The audit log: verify its hash chain, or list its entries.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AuditCommand {
    /// Check every entry's hash and link and the recorded head; exits non-zero naming
    /// the first bad entry.
    Verify {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
        /// A head printed by an earlier verify (SEQ:HASH:GENESIS, or an older SEQ:HASH),
        /// kept outside the database: the log must still hold that entry with that
        /// hash, and begin with the entry whose hash is GENESIS.
        #[arg(long)]
        anchor: Option<Anchor>,
    },
    /// List entries, newest first.
    List {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
        /// Only this user's entries.
        #[arg(long)]
        user: Option<String>,
        /// Only this action.
        #[arg(long, ignore_case = true)]
        action: Option<Action>,
        /// Only entries on or after this UTC day.
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
        since: Option<chrono::NaiveDate>,
    },
}

impl AuditCommand {
    /// The database whose log it reads.
    pub fn database(&self) -> &Path {
        match self {
            AuditCommand::Verify { db, .. } | AuditCommand::List { db, .. } => db,
        }
    }

    /// Runs the command.
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            AuditCommand::Verify { db, anchor } => audit::cli::verify_command(&db, anchor.as_ref()),
            AuditCommand::List {
                db,
                user,
                action,
                since,
            } => audit::cli::list_command(
                &db,
                &Filter {
                    user,
                    action,
                    since,
                    ..Default::default()
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum as _;

    use crate::audit::Action;

    #[test]
    fn every_action_is_offered_by_its_stored_name_or_with_dashes() {
        for action in Action::ALL {
            assert_eq!(Action::from_str(action.as_str(), false), Ok(action));
        }
        assert_eq!(
            Action::from_str("Open-Person", true),
            Ok(Action::OpenPerson)
        );
        assert!(Action::from_str("delete", true).is_err());
    }
}
