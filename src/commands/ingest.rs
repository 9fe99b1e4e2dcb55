//! `zonewise ingest`.

use std::path::PathBuf;

use crate::access::Session;
use crate::format::thousands;
use crate::ingest::error::BlankedValues;
use crate::ingest::{self, Manifest};
use crate::pipeline::Pipeline;
use crate::store;

use super::progress::{show_stage, stage_bar};
use super::quality::print_quality;

/// Validate the extracts a source manifest lists and load them, all or nothing.
#[derive(Debug, Clone, clap::Args)]
pub struct IngestCommand {
    /// Database file (created if missing).
    #[arg(long)]
    pub db: PathBuf,
    /// Source manifest (TOML).
    #[arg(long)]
    pub manifest: PathBuf,
}

impl IngestCommand {
    /// `zonewise ingest`: validates and loads a manifest's extracts, then prints the quality summary.
    pub fn run(&self, session: &Session) -> anyhow::Result<()> {
        let (db, manifest_path) = (&self.db, &self.manifest);
        let manifest = Manifest::load(manifest_path)?;
        let conn = store::open(db)?;
        let bar = stage_bar();
        let report =
            Pipeline::new(&conn, &session.user, &mut |p| show_stage(&bar, p)).ingest(&manifest);
        bar.finish_and_clear();
        let report = report?;
        println!(
            "Loaded {} rows from {} sources into {} (load {}) in {:.1} s",
            thousands(report.sources.iter().map(|(_, rows)| *rows as i64).sum()),
            report.sources.len(),
            db.display(),
            report.load_id,
            report.seconds
        );
        print_blanked(
            &report.blanked,
            "loaded as missing (`unreadable = \"blank\"`)",
        );
        print_quality(&ingest::read_quality(&conn)?);
        Ok(())
    }
}

/// Per source, how many unreadable values were `what`, and the first few by line and column.
pub(crate) fn print_blanked(blanked: &[(String, BlankedValues)], what: &str) {
    for (source, values) in blanked {
        println!(
            "{source}: {} unreadable {} {what}, such as:",
            thousands(values.count as i64),
            if values.count == 1 { "value" } else { "values" }
        );
        for example in &values.examples {
            println!("  {example}");
        }
    }
}
