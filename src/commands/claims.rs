//! `zonewise claims`: the Supporting Families outcome claims of the families in
//! a plan, as a claim-ready CSV with each rule's evidence (`report::claims`).

use std::path::PathBuf;

use crate::access::Session;
use crate::report::claims;
use crate::store;

/// Write the families that made significant and sustained progress against
/// every headline problem of their first plan, with each rule's evidence.
#[derive(Debug, Clone, clap::Args)]
pub struct ClaimsCommand {
    /// Database file.
    #[arg(long)]
    pub db: PathBuf,
    /// The CSV file to write (recorded in the audit log before it appears).
    #[arg(long)]
    pub out: PathBuf,
    /// Progress rules in the format of assets/claims.toml (the built-in ones if not given).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

impl ClaimsCommand {
    /// Assesses the families the session may see and writes the claims.
    pub fn run(&self, session: &Session) -> anyhow::Result<()> {
        if !self.db.is_file() {
            anyhow::bail!("database {} does not exist", self.db.display());
        }
        let (rules, named) = match &self.rules {
            Some(path) => (claims::load(path)?, path.display().to_string()),
            None => (claims::built_in()?, "built in".to_string()),
        };
        let conn = store::open(&self.db)?;
        let summary = claims::write_claims(&conn, session, &rules, &named, &self.out)?;
        println!(
            "{} of {} families in a plan claimed at {}: {}",
            summary.claimed,
            summary.in_plan,
            summary.claim_date,
            self.out.display()
        );
        Ok(())
    }
}
