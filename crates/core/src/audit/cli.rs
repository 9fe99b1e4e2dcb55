//! `zonewise audit verify|list`: the log's verification and its entries on the command line.

use std::path::Path;

use super::{Anchor, Filter, LogRow, list, verify_with_anchor};
use crate::format::new_table;
use crate::store;

/// `zonewise audit verify`: checks the chain and the head; fails naming the first bad
/// entry. On success prints the head as `SEQ:HASH` to keep outside the database.
pub fn verify_command(db: &Path, anchor: Option<&Anchor>) -> anyhow::Result<()> {
    let conn = open_existing(db)?;
    let verification = verify_with_anchor(&conn, anchor)?;
    if let Some(problem) = &verification.problem {
        anyhow::bail!(
            "audit log of {} is not intact: {}",
            db.display(),
            problem.message
        );
    }
    println!("{}", verification.summary());
    if let Some(anchor) = verification.anchor() {
        println!(
            "head {anchor}\nKeep this line somewhere the database's users cannot change; \
             `zonewise audit verify --anchor {anchor}` later checks the log still holds it."
        );
    }
    Ok(())
}

/// `zonewise audit list`: the entries a filter selects, newest first.
pub fn list_command(db: &Path, filter: &Filter) -> anyhow::Result<()> {
    let conn = open_existing(db)?;
    let rows = list(&conn, filter)?;
    let mut table = new_table(&LogRow::HEADINGS);
    for row in &rows {
        table.add_row(row.cells());
    }
    println!("{table}");
    println!(
        "{} {}",
        rows.len(),
        if rows.len() == 1 { "entry" } else { "entries" }
    );
    Ok(())
}

fn open_existing(db: &Path) -> anyhow::Result<duckdb::Connection> {
    if !db.is_file() {
        anyhow::bail!("database {} does not exist", db.display());
    }
    Ok(store::open(db)?)
}
