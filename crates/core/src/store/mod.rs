//! The DuckDB database: opening it, its schema, and the small helpers every
//! stage uses to read counts from it.

use std::path::Path;

use duckdb::Connection;

mod frame_rule;

pub use frame_rule::{FrameMark, forbid_on_this_thread, refuse_on_frame, refused_on_frames};

/// The schema applied on every open (idempotent `CREATE … IF NOT EXISTS`).
const SCHEMA_SQL: &str = include_str!("schema.sql");

/// Version of [`SCHEMA_SQL`]; a database built by an older layout is rebuilt, not patched.
pub const SCHEMA_VERSION: &str = "15";

/// Why the database could not be opened or queried.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open { path: String, source: duckdb::Error },
    #[error("cannot create the folder for database {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database query failed: {0}")]
    Query(#[from] duckdb::Error),
    #[error("{0} was called while drawing a frame; the UI thread only draws")]
    OnTheFrame(&'static str),
}

/// Removes a database file and its write-ahead log, if present (an unfinished
/// build's, before it starts again or after it failed).
pub fn remove_database_files(path: &Path) -> std::io::Result<()> {
    let wal = std::path::PathBuf::from(format!("{}.wal", path.display()));
    for file in [path.to_path_buf(), wal] {
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Opens (creating if needed) a database file and makes sure the schema exists.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    refuse_on_frame("opening a database")?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // DuckDB gives an unhelpful message for a missing directory; create it instead.
        std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
            path: path.display().to_string(),
            source,
        })?;
    }
    let conn = Connection::open(path).map_err(|source| StoreError::Open {
        path: path.display().to_string(),
        source,
    })?;
    apply_schema(&conn)?;
    Ok(conn)
}

/// Opens a private in-memory database with the schema, for tests and scratch work.
pub fn open_in_memory() -> Result<Connection, StoreError> {
    refuse_on_frame("opening a database")?;
    let conn = Connection::open_in_memory()?;
    apply_schema(&conn)?;
    Ok(conn)
}

/// Creates what is missing of the schema; then, in one transaction, a new database
/// gets its schema version and its creation as the audit log's first entry (so a log
/// emptied later is seen), and an older one keeps its first entry's hash.
fn apply_schema(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(SCHEMA_SQL)?;
    conn.execute_batch("BEGIN TRANSACTION")?;
    match record_version(conn) {
        Ok(()) => {
            conn.execute_batch("COMMIT")?;
            Ok(())
        }
        Err(error) => {
            if let Err(rollback) = conn.execute_batch("ROLLBACK") {
                tracing::error!("rollback after a failed schema set-up also failed: {rollback}");
            }
            Err(error)
        }
    }
}

fn record_version(conn: &Connection) -> Result<(), StoreError> {
    let created = conn.execute(
        "INSERT OR IGNORE INTO app.meta VALUES ('schema_version', ?)",
        [SCHEMA_VERSION],
    )? == 1;
    if created {
        crate::audit::record_creation(conn)?;
    } else {
        crate::audit::adopt_genesis(conn)?;
    }
    Ok(())
}

/// Reads one value from `app.meta`.
pub fn meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    refuse_on_frame("store::meta")?;
    let mut statement = conn.prepare("SELECT value FROM app.meta WHERE key = ?")?;
    let mut rows = statement.query([key])?;
    match rows.next()? {
        Some(row) => Ok(Some(row.get(0)?)),
        None => Ok(None),
    }
}

/// Writes one value to `app.meta`.
pub fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    refuse_on_frame("store::set_meta")?;
    conn.execute(
        "INSERT OR REPLACE INTO app.meta VALUES (?, ?)",
        [key, value],
    )?;
    Ok(())
}

/// Runs a query that returns one integer (a count), treating NULL as 0.
pub fn scalar_i64(conn: &Connection, sql: &str) -> Result<i64, StoreError> {
    refuse_on_frame("store::scalar_i64")?;
    let value: Option<i64> = conn.query_row(sql, [], |row| row.get(0))?;
    Ok(value.unwrap_or(0))
}

/// Every user table as `schema.table`, sorted; used to show and check what a database holds.
pub fn table_names(conn: &Connection) -> Result<Vec<String>, StoreError> {
    refuse_on_frame("store::table_names")?;
    let mut statement = conn.prepare(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables \
         WHERE table_catalog = current_database() ORDER BY 1",
    )?;
    let names = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}
