//! Loads every extract of a manifest into `staging.<source>` in one transaction:
//! either the whole manifest lands, with its audit log entry, or the database is
//! left exactly as it was.

use std::time::Instant;

use duckdb::Connection;
use duckdb::appender_params_from_iter;

use super::error::{BlankedValues, IngestError};
use super::extract_reader::ExtractReader;
use super::manifest::{Manifest, SourceSpec};
use super::{quality, reference};
use crate::audit::{Action, AppendLock, Entry};

/// How far a running ingest has got, for a progress bar.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestProgress {
    /// What is being loaded now (a source name, or "reference data").
    pub stage: String,
    /// Share of all input bytes read so far, 0–1.
    pub fraction: f32,
    /// Rows loaded so far in this run.
    pub rows: u64,
}

/// What one committed ingest run loaded.
#[derive(Debug, Clone)]
pub struct IngestReport {
    /// Identifier of the run in `app.load_run`.
    pub load_id: i32,
    /// Source name and rows loaded, in manifest order.
    pub sources: Vec<(String, u64)>,
    /// Per source that loaded any, the values loaded as missing (`unreadable = "blank"`).
    pub blanked: Vec<(String, BlankedValues)>,
    /// Wall time of the run.
    pub seconds: f64,
}

/// Rows between progress callbacks; small enough for a smooth bar, large enough to cost nothing.
const PROGRESS_EVERY_ROWS: u64 = 20_000;

/// Validates and loads every file named by `manifest`, all or nothing; `actor`
/// is who loaded it, for the audit log.
pub fn ingest(
    conn: &Connection,
    manifest: &Manifest,
    actor: &str,
    progress: &mut dyn FnMut(&IngestProgress),
) -> Result<IngestReport, IngestError> {
    let started = Instant::now();
    // Held until the commit: the load's audit entry is appended inside its transaction.
    let lock = crate::audit::lock_for_append();
    conn.execute_batch("BEGIN TRANSACTION")?;
    match load_all(conn, manifest, actor, progress, started, &lock) {
        Ok(report) => {
            conn.execute_batch("COMMIT")?;
            Ok(report)
        }
        Err(error) => {
            if let Err(rollback) = conn.execute_batch("ROLLBACK") {
                // The original error is what the user must fix; the rollback failure is secondary.
                tracing::error!("rollback after a failed ingest also failed: {rollback}");
            }
            Err(error)
        }
    }
}

fn load_all(
    conn: &Connection,
    manifest: &Manifest,
    actor: &str,
    progress: &mut dyn FnMut(&IngestProgress),
    started: Instant,
    lock: &AppendLock,
) -> Result<IngestReport, IngestError> {
    let load_id: i32 = conn.query_row(
        "SELECT coalesce(max(load_id), 0) + 1 FROM app.load_run",
        [],
        |row| row.get(0),
    )?;
    let bytes_total: u64 = manifest
        .sources
        .iter()
        .map(|s| {
            std::fs::metadata(manifest.resolve(&s.file))
                .map(|m| m.len())
                .unwrap_or(0)
        })
        .sum::<u64>()
        .max(1);

    if let Some(reference_files) = &manifest.reference {
        progress(&IngestProgress {
            stage: "reference data".to_string(),
            fraction: 0.0,
            rows: 0,
        });
        reference::load(conn, manifest, reference_files)?;
    }

    let mut bytes_before = 0u64;
    let mut rows_total = 0u64;
    let mut loaded = Vec::with_capacity(manifest.sources.len());
    let mut blanked = Vec::new();
    for spec in &manifest.sources {
        let mut report = |bytes_done: u64, rows: u64| {
            progress(&IngestProgress {
                stage: spec.name.clone(),
                fraction: ((bytes_before + bytes_done) as f64 / bytes_total as f64).min(1.0) as f32,
                rows: rows_total + rows,
            })
        };
        let (rows, bytes, blanks) = load_source(conn, manifest, spec, load_id, &mut report)?;
        if blanks.count > 0 {
            blanked.push((spec.name.clone(), blanks));
        }
        quality::summarise_source(conn, spec, &manifest.resolve(&spec.file), load_id)?;
        bytes_before += bytes;
        rows_total += rows;
        loaded.push((spec.name.clone(), rows));
    }

    conn.execute(
        "INSERT INTO app.load_run VALUES (?, ?::TIMESTAMP, now()::TIMESTAMP, ?, ?, ?::DATE, ?, ?)",
        duckdb::params![
            load_id,
            chrono::Local::now()
                .naive_local()
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            manifest.base_dir.display().to_string(),
            manifest.county,
            manifest.extract_date,
            manifest.sources.len() as i32,
            rows_total as i64,
        ],
    )?;
    crate::audit::append(
        conn,
        lock,
        &Entry::new(
            actor,
            Action::Ingest,
            manifest.base_dir.display().to_string(),
        )
        .with_detail(format!(
            "load {load_id}: {rows_total} rows from {} sources of {}{}",
            manifest.sources.len(),
            manifest.county,
            match blanked.iter().map(|(_, b)| b.count).sum::<u64>() {
                0 => String::new(),
                1 => "; 1 unreadable value loaded as missing".to_string(),
                n => format!("; {n} unreadable values loaded as missing"),
            }
        )),
    )?;
    progress(&IngestProgress {
        stage: "done".to_string(),
        fraction: 1.0,
        rows: rows_total,
    });
    Ok(IngestReport {
        load_id,
        sources: loaded,
        blanked,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Replaces `staging.<name>` with the rows of one extract; returns (rows, bytes
/// read, values loaded as missing).
fn load_source(
    conn: &Connection,
    manifest: &Manifest,
    spec: &SourceSpec,
    load_id: i32,
    report: &mut dyn FnMut(u64, u64),
) -> Result<(u64, u64, BlankedValues), IngestError> {
    let path = manifest.resolve(&spec.file);
    let mut reader = ExtractReader::open(spec, &path)?;
    let column_sql = std::iter::once("_line BIGINT NOT NULL".to_string())
        .chain(
            reader
                .columns()
                .iter()
                .map(|c| format!("\"{}\" {}", c.name, c.sql_type)),
        )
        .collect::<Vec<_>>()
        .join(", ");
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE staging.\"{}\" ({column_sql});",
        spec.name
    ))?;
    let mut rows = 0u64;
    {
        let mut appender =
            conn.appender_with_columns_to_db(&spec.name, "staging", &reader.appended_columns())?;
        while let Some(values) = reader.next_row()? {
            appender.append_row(appender_params_from_iter(values))?;
            rows += 1;
            if rows.is_multiple_of(PROGRESS_EVERY_ROWS) {
                report(reader.progress().0, rows);
            }
        }
        appender.flush()?;
    }
    let bytes = reader.progress().1;
    report(bytes, rows);
    tracing::info!(source = %spec.name, rows, load_id, blanked = reader.blanked().count, "staged");
    Ok((rows, bytes, reader.blanked().clone()))
}
