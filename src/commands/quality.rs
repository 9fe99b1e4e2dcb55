//! `zonewise quality`, and the quality table `zonewise ingest` prints too.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::format::{new_table, thousands};
use crate::ingest::{self, SourceQuality};
use crate::report::overview::read_overview;
use crate::store;

/// `zonewise quality`: what a database holds.
#[derive(Debug, Clone, clap::Args)]
pub struct QualityCommand {
    /// Database file (default: the sample county's).
    #[arg(long)]
    pub db: Option<PathBuf>,
}

impl QualityCommand {
    /// The database it reads: the one given, else the sample county's.
    pub fn database(&self) -> PathBuf {
        self.db
            .clone()
            .unwrap_or_else(crate::sample::sample_db_path)
    }

    /// `zonewise quality`: prints what a database holds and each source's quality summary.
    pub fn run(&self) -> anyhow::Result<()> {
        let db = &self.database();
        if !db.is_file() {
            anyhow::bail!("database {} does not exist", db.display());
        }
        let conn = store::open(db)?;
        let figures = read_overview(&conn).context("reading the overview")?;
        println!(
            "{}: sources {}, person records {}, rows {}; authorities {}, zones {}, LSOAs {}",
            figures.county,
            figures.sources,
            thousands(figures.person_records),
            thousands(figures.rows),
            figures.authorities,
            figures.zones,
            figures.lsoas
        );
        print_quality(&ingest::read_quality(&conn)?);
        Ok(())
    }
}

/// Each source's quality summary as a table.
pub fn print_quality(sources: &[SourceQuality]) {
    let mut table = new_table(&[
        "Source",
        "Agency",
        "Rows",
        "Person records",
        "Duplicate keys",
        "Events from",
        "to",
        "Completeness of identity fields",
    ]);
    for source in sources {
        let completeness = source
            .completeness
            .iter()
            .map(|(field, share)| format!("{field} {:.0}%", share * 100.0))
            .collect::<Vec<_>>()
            .join(", ");
        table.add_row(vec![
            source.name.clone(),
            source.agency.clone(),
            thousands(source.total_rows),
            thousands(source.records),
            thousands(source.duplicate_keys),
            source.first_event.clone().unwrap_or_default(),
            source.last_event.clone().unwrap_or_default(),
            completeness,
        ]);
    }
    println!("{table}");
}
