//! The data-quality summary of each loaded source: rows, person records, duplicate
//! keys, the span of its events and how complete each identity field is.
//! Written to `app.source` / `app.source_field` inside the ingest transaction.

use std::path::Path;

use duckdb::{Connection, params};

use super::manifest::{FieldRole, SourceSpec};

/// One source's summary, as the Data view and `zonewise quality` show it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceQuality {
    pub name: String,
    pub agency: String,
    pub system: String,
    pub file: String,
    pub loaded_at: String,
    pub total_rows: i64,
    pub records: i64,
    pub duplicate_keys: i64,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    /// (field, share of rows filled 0–1), only for fields the extract has.
    pub completeness: Vec<(String, f64)>,
}

/// Computes and stores the summary of `staging.<spec.name>` (run inside the load transaction).
pub fn summarise_source(
    conn: &Connection,
    spec: &SourceSpec,
    file: &Path,
    load_id: i32,
) -> Result<(), duckdb::Error> {
    let table = format!("staging.\"{}\"", spec.name);
    conn.execute(
        &format!(
            "INSERT OR REPLACE INTO app.source
             SELECT ?, ?, ?, ?, ?, now()::TIMESTAMP,
                    count(*),
                    count(DISTINCT record_id),
                    coalesce((SELECT sum(n) FROM (SELECT count(*) AS n FROM {table}
                              WHERE row_id IS NOT NULL GROUP BY row_id HAVING count(*) > 1)), 0),
                    min(event_date), max(event_date)
             FROM {table}"
        ),
        params![
            spec.name,
            spec.agency.key(),
            spec.system,
            file.display().to_string(),
            load_id
        ],
    )?;
    conn.execute(
        "DELETE FROM app.source_field WHERE source = ?",
        [&spec.name],
    )?;
    let selects = FieldRole::IDENTITY
        .iter()
        .map(|role| {
            format!(
                "SELECT '{field}', {mapped}, count({field}), count(*) FROM {table}",
                field = role.column(),
                mapped = spec.columns.contains_key(role),
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    conn.execute(
        &format!("INSERT INTO app.source_field SELECT ?, * FROM ({selects})"),
        [&spec.name],
    )?;
    Ok(())
}

/// Reads every source's summary, in agency order.
pub fn read_quality(conn: &Connection) -> Result<Vec<SourceQuality>, duckdb::Error> {
    let mut statement = conn.prepare(
        "SELECT name, agency, system, file, strftime(loaded_at, '%d/%m/%Y %H:%M'),
                total_rows, records, duplicate_keys,
                strftime(first_event, '%d/%m/%Y'), strftime(last_event, '%d/%m/%Y')
         FROM app.source ORDER BY agency, name",
    )?;
    let mut sources = statement
        .query_map([], |row| {
            Ok(SourceQuality {
                name: row.get(0)?,
                agency: row.get(1)?,
                system: row.get(2)?,
                file: row.get(3)?,
                loaded_at: row.get(4)?,
                total_rows: row.get(5)?,
                records: row.get(6)?,
                duplicate_keys: row.get(7)?,
                first_event: row.get(8)?,
                last_event: row.get(9)?,
                completeness: Vec::new(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut fields = conn.prepare(
        "SELECT field, filled::DOUBLE / greatest(total_rows, 1) FROM app.source_field
         WHERE source = ? AND mapped",
    )?;
    for source in &mut sources {
        source.completeness = fields
            .query_map([&source.name], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        source
            .completeness
            .sort_by_key(|(field, _)| identity_order(field));
    }
    Ok(sources)
}

/// Position of a field in [`FieldRole::IDENTITY`], so names come before identifiers.
fn identity_order(field: &str) -> usize {
    FieldRole::IDENTITY
        .iter()
        .position(|role| role.column() == field)
        .unwrap_or(usize::MAX)
}

/// The summary one extract would have, before anything is loaded: the extract
/// is read exactly as ingest reads it into a private in-memory database (no
/// reference data, nothing written to any file), summarised and dropped with
/// it. A bad value stops it with ingest's own error (file, line or sheet and
/// row, column).
pub fn preview(spec: &SourceSpec, file: &Path) -> Result<SourceQuality, super::IngestError> {
    let conn = crate::store::open_in_memory()?;
    let manifest = super::Manifest {
        county: "preview".to_string(),
        extract_date: None,
        reference: None,
        sources: vec![SourceSpec {
            file: file.to_path_buf(),
            ..spec.clone()
        }],
        base_dir: std::path::PathBuf::new(),
    };
    super::ingest(&conn, &manifest, "preview", &mut |_| {})?;
    Ok(read_quality(&conn)?.remove(0))
}
