//! `zonewise publish`: copies what the views read from the analyst's DuckDB file
//! to the server. One server transaction deletes the previous release and COPYs
//! the new one in, so readers see the old release or the new one, never a mix, and
//! a publish that fails anywhere leaves the old one whole. The team's own tables
//! (`app`: decisions, review verdicts, zones, the audit chain) are never touched.

use std::io::Write;

use duckdb::Connection;
use postgres::Client;

use super::ServerError;

/// The tables a publish replaces, in the order they are copied: geography, people,
/// criteria, scores and reasons, models, and the published uptake tables. Their
/// columns are the server's (`schema.sql`), read from the file by name.
pub const PUBLISHED_TABLES: [&str; 19] = [
    "ref.lsoa",
    "ref.zone",
    "ref.lsoa_zone",
    "ref.lsoa_vertex",
    "ref.ward",
    "ref.lsoa_ward",
    "core.family",
    "core.person",
    "core.event",
    "mart.family_criterion",
    "mart.criterion_evidence",
    "mart.criterion_rule",
    "mart.risk_score",
    "mart.risk_reason",
    "mart.risk_model",
    "mart.uptake_lsoa",
    "mart.uptake_decile",
    "mart.uptake_area",
    "mart.uptake_inequality",
];

/// What a publish copied: each table and its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub tables: Vec<(String, u64)>,
}

impl Published {
    /// Rows copied in all.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, rows)| rows).sum()
    }

    /// "N rows in M tables", for messages and the audit entries.
    pub fn summary(&self) -> String {
        format!("{} rows in {} tables", self.rows(), self.tables.len())
    }
}

/// Copies every table of [`PUBLISHED_TABLES`] from `duck` to the server as one
/// release, records it in the server's chain (`publish`, by the login), and calls
/// `before_commit` with what was copied before committing: the command records
/// the export in the file's own log there, so the release is never on the server
/// without its entry in the file (a failure there rolls the server back). A table
/// the file does not have yet (never linked, no uptake run) is published empty.
pub fn publish(
    duck: &Connection,
    client: &mut Client,
    before_commit: impl FnOnce(&Published) -> Result<(), ServerError>,
) -> Result<Published, ServerError> {
    let mut tx = client.transaction()?;
    for table in PUBLISHED_TABLES {
        tx.batch_execute(&format!("DELETE FROM {table}"))?;
    }
    let mut published = Published { tables: Vec::new() };
    for table in PUBLISHED_TABLES {
        let rows = copy_table(duck, &mut tx, table).map_err(|error| match error {
            ServerError::Publish { .. } => error,
            other => ServerError::Publish {
                table: table.to_string(),
                message: other.to_string(),
            },
        })?;
        published.tables.push((table.to_string(), rows));
    }
    tx.execute(
        "SELECT app.audit_record('publish', 'release', $1)",
        &[&published.summary()],
    )?;
    before_commit(&published)?;
    tx.commit()?;
    Ok(published)
}

/// Streams one table from the file into the server with COPY (CSV: a NULL is an
/// empty unquoted field, every value is quoted), its columns named as the server
/// has them. Returns the rows copied.
fn copy_table(
    duck: &Connection,
    tx: &mut postgres::Transaction<'_>,
    table: &str,
) -> Result<u64, ServerError> {
    let (schema, name) = table.split_once('.').expect("schema.table");
    let columns: Vec<String> = tx
        .query(
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
            &[&schema, &name],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let in_file: bool = duck.query_row(
        "SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [schema, name],
        |row| row.get(0),
    )?;
    if !in_file {
        return Ok(0);
    }
    // COPY cannot write to a table with row-level security (core.family): its rows
    // go through a temporary table of the same columns, then one INSERT.
    let guarded: bool = tx
        .query_one(
            "SELECT c.relrowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = $2",
            &[&schema, &name],
        )?
        .get(0);
    let quote = |column: &String| format!("\"{}\"", column.replace('"', "\"\""));
    let listed = columns.iter().map(quote).collect::<Vec<_>>().join(", ");
    let target = if guarded {
        // Spelt out rather than `LIKE`, which needs SELECT on every column.
        let definition: String = tx
            .query_one(
                "SELECT string_agg(quote_ident(a.attname) || ' ' ||
                                   format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                 FROM pg_attribute a
                 WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped",
                &[&table],
            )?
            .get(0);
        tx.batch_execute(&format!(
            "CREATE TEMPORARY TABLE publishing ({definition}) ON COMMIT DROP"
        ))?;
        "publishing".to_string()
    } else {
        table.to_string()
    };
    let cast = columns
        .iter()
        .map(|c| format!("CAST({} AS VARCHAR)", quote(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut statement = duck.prepare(&format!("SELECT {cast} FROM {table}"))?;
    let mut rows = statement.query([])?;
    let mut writer = tx.copy_in(&format!("COPY {target} ({listed}) FROM STDIN (FORMAT csv)"))?;
    let mut line = String::new();
    while let Some(row) = rows.next()? {
        line.clear();
        for i in 0..columns.len() {
            if i > 0 {
                line.push(',');
            }
            if let Some(value) = row.get::<_, Option<String>>(i)? {
                line.push('"');
                line.push_str(&value.replace('"', "\"\""));
                line.push('"');
            }
        }
        line.push('\n');
        writer.write_all(line.as_bytes())?;
    }
    let rows = writer.finish()?;
    if guarded {
        tx.batch_execute(&format!(
            "INSERT INTO {table} ({listed}) SELECT {listed} FROM publishing; DROP TABLE publishing"
        ))?;
    }
    Ok(rows)
}
