//! The bundled sample county: where it lives, and the database built from it in
//! the user's data directory so that `cargo run --release` needs no set-up.

use std::path::{Path, PathBuf};

use duckdb::Connection;
use sha2::{Digest, Sha256};

use crate::ingest::{self, IngestProgress, Manifest};
use crate::store;

/// `app.meta` key holding the fingerprint of the sample a database was built from.
const FINGERPRINT_KEY: &str = "sample_fingerprint";

/// The folder with the sample county's manifest: `$ZONEWISE_SAMPLE`, else `data-samples/county`.
pub fn sample_dir() -> PathBuf {
    std::env::var_os("ZONEWISE_SAMPLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/county"))
}

/// The reference data beside the sample county (`data-samples/ref`): IMD,
/// population, boundaries, and England's boundaries and IMD for the map.
pub fn reference_dir() -> PathBuf {
    let sample = sample_dir();
    sample
        .parent()
        .map_or_else(|| sample.join("../ref"), |parent| parent.join("ref"))
}

/// Where the sample database is kept: `<user data dir>/zonewise/sample-county.duckdb`.
pub fn sample_db_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("zonewise")
        .join("sample-county.duckdb")
}

/// Opens the sample database at `db_path`, (re)building it from `sample_dir` when it
/// is missing, was built from different sample files, or has an older schema.
/// Building ingests the sample and links its records.
///
/// The build goes to a temporary file that is renamed into place only when complete,
/// so an interrupted first start never leaves a half-built database behind.
pub fn open_sample(
    sample_dir: &Path,
    db_path: &Path,
    progress: &mut dyn FnMut(&IngestProgress),
) -> anyhow::Result<Connection> {
    let manifest_path = sample_dir.join("manifest.toml");
    let manifest = Manifest::load(&manifest_path)?;
    let fingerprint = fingerprint(&manifest)?;
    if db_path.is_file() {
        let conn = store::open(db_path)?;
        let current = store::meta(&conn, FINGERPRINT_KEY)?;
        let schema = store::meta(&conn, "schema_version")?;
        if current.as_deref() == Some(fingerprint.as_str())
            && schema.as_deref() == Some(store::SCHEMA_VERSION)
        {
            tracing::info!(db = %db_path.display(), "reusing sample database");
            return Ok(conn);
        }
        drop(conn);
        tracing::info!(db = %db_path.display(), "sample changed: rebuilding its database");
    }
    let building = db_path.with_extension("building.duckdb");
    remove_database_files(&building)?;
    {
        let conn = store::open(&building)?;
        ingest::ingest(&conn, &manifest, progress)?;
        progress(&IngestProgress {
            stage: "linking records".to_string(),
            fraction: 1.0,
            rows: 0,
        });
        crate::link::link(&conn, &crate::link::LinkConfig::default())?;
        score_sample(&conn, progress)?;
        store::set_meta(&conn, FINGERPRINT_KEY, &fingerprint)?;
        conn.execute_batch("CHECKPOINT")?;
    }
    remove_database_files(db_path)?;
    std::fs::rename(&building, db_path)?;
    Ok(store::open(db_path)?)
}

/// The committed model that scores the sample county (`models/risk-sample.json`).
pub fn sample_risk_model_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/risk-sample.json")
}

/// Scores the sample's children with the committed model at the extract date
/// and three months before it, so the app has current and previous scores.
fn score_sample(
    conn: &Connection,
    progress: &mut dyn FnMut(&IngestProgress),
) -> anyhow::Result<()> {
    use crate::risk::model::{file::RiskModelFile, score};
    progress(&IngestProgress {
        stage: "scoring families".to_string(),
        fraction: 1.0,
        rows: 0,
    });
    let model = RiskModelFile::load(&sample_risk_model_path())?;
    let extract_date: Option<String> = conn.query_row(
        "SELECT strftime(max(extract_date), '%Y-%m-%d') FROM app.load_run",
        [],
        |row| row.get(0),
    )?;
    let Some(extract_date) = extract_date else {
        anyhow::bail!("the sample manifest records no extract date to score at");
    };
    let current = chrono::NaiveDate::parse_from_str(&extract_date, "%Y-%m-%d")?;
    let previous = current - chrono::Months::new(3);
    for date in [previous, current] {
        crate::risk::build(conn, date)?;
        score::score(conn, &model, date)?;
    }
    Ok(())
}

/// SHA-256 over the manifest, every file it names and the committed risk model,
/// so any change to the sample or the model rebuilds.
fn fingerprint(manifest: &Manifest) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    let mut files: Vec<PathBuf> = manifest
        .sources
        .iter()
        .map(|s| manifest.resolve(&s.file))
        .collect();
    if let Some(reference) = &manifest.reference {
        for file in reference.files() {
            files.push(manifest.resolve(file));
        }
    }
    // The sample is scored with the committed model: a retrained model rescored.
    files.push(sample_risk_model_path());
    hasher.update(manifest.to_toml()?.as_bytes());
    for file in files {
        let bytes = std::fs::read(&file)
            .map_err(|e| anyhow::anyhow!("cannot read sample file {}: {e}", file.display()))?;
        hasher.update(&bytes);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Removes a database file and its write-ahead log, if present.
fn remove_database_files(path: &Path) -> std::io::Result<()> {
    let wal = PathBuf::from(format!("{}.wal", path.display()));
    for file in [path.to_path_buf(), wal] {
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}
