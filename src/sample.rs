//! The bundled sample county: where it lives, and the database built from it in
//! the user's data directory so that `cargo run --release` needs no set-up.

use std::path::{Path, PathBuf};

use duckdb::Connection;
use sha2::{Digest, Sha256};

use crate::ingest::Manifest;
use crate::pipeline::{Pipeline, Progress};
use crate::risk::model::file::RiskModelFile;
use crate::risk::rounds::RoundSpan;
use crate::store;

/// `app.meta` key holding the fingerprint of the sample a database was built from.
const FINGERPRINT_KEY: &str = "sample_fingerprint";

/// What the build makes of the sample, hashed into its fingerprint: changed when
/// the build assesses differently with the same files and schema (issue 15's
/// monthly rounds), so a database built the old way is rebuilt.
const BUILD: &str = "monthly rounds from the first decision";

/// Where the sample database is kept: `<user data dir>/zonewise/sample-county.duckdb`.
pub fn sample_db_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("zonewise")
        .join("sample-county.duckdb")
}

/// Opens the sample database at `db_path`, (re)building it from `sample_dir` when it
/// is missing, was built from different sample files, or has an older schema.
/// Building runs the whole pipeline: ingests the sample, links its records,
/// imports the round tables' past decisions (`round_tables.csv`, when the
/// sample has one), then assesses and scores (with `models/risk-sample.json`)
/// every monthly round from the first decision's to the extract date
/// (`risk::rounds`).
///
/// The build goes to a temporary file that is renamed into place only when complete,
/// so an interrupted first start never leaves a half-built database behind.
pub fn open_sample(
    sample_dir: &Path,
    db_path: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> anyhow::Result<Connection> {
    let manifest_path = sample_dir.join("manifest.toml");
    let manifest = Manifest::load(&manifest_path)?;
    let fingerprint = fingerprint(&manifest)?;
    if db_path.is_file() {
        // The file is derived from the bundled sample, so one this build cannot
        // open (written by another DuckDB version, or damaged) is rebuilt, not reported.
        match store::open(db_path) {
            Ok(conn) => {
                let current = store::meta(&conn, FINGERPRINT_KEY)?;
                let schema = store::meta(&conn, "schema_version")?;
                if current.as_deref() == Some(fingerprint.as_str())
                    && schema.as_deref() == Some(store::SCHEMA_VERSION)
                {
                    tracing::info!(db = %db_path.display(), "reusing sample database");
                    return Ok(conn);
                }
                tracing::info!(db = %db_path.display(), "sample changed: rebuilding its database");
            }
            Err(error) => {
                tracing::info!(db = %db_path.display(), %error, "cannot open the sample database: rebuilding it");
            }
        }
    }
    let building = db_path.with_extension("building.duckdb");
    store::remove_database_files(&building)?;
    {
        let conn = store::open(&building)?;
        let model = RiskModelFile::load(&sample_risk_model_path())?;
        let actor = crate::audit::os_user();
        let mut pipeline = Pipeline::new(&conn, &actor, progress);
        pipeline.ingest(&manifest)?;
        pipeline.link(&crate::link::LinkConfig::default())?;
        // The round tables' history (team data, not an extract) before the
        // rounds are assessed, so they reach back to its first decision.
        let history = round_tables_file(sample_dir);
        if history.is_file() {
            crate::report::round_history::import(&conn, &history, &actor)?;
        }
        if let Some(rounds) = pipeline.criteria(RoundSpan::History)? {
            pipeline.score_rounds(&model, &rounds)?;
        }
        store::set_meta(&conn, FINGERPRINT_KEY, &fingerprint)?;
        conn.execute_batch("CHECKPOINT")?;
    }
    store::remove_database_files(db_path)?;
    std::fs::rename(&building, db_path)?;
    Ok(store::open(db_path)?)
}

/// The sample's round-table history, imported after the pipeline when present.
fn round_tables_file(sample_dir: &Path) -> PathBuf {
    sample_dir.join(crate::synth::round_tables::ROUND_TABLES_FILE)
}

/// The committed model that scores the sample county (`models/risk-sample.json`).
pub fn sample_risk_model_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/risk-sample.json")
}

/// SHA-256 over [`BUILD`], the manifest, every file it names, the sample's risk
/// model and its round tables' history, so any change to the sample rebuilds.
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
    // The committed risk model scores the sample: a retrained one rebuilds it too.
    files.push(sample_risk_model_path());
    let history = round_tables_file(&manifest.base_dir);
    if history.is_file() {
        files.push(history);
    }
    hasher.update(BUILD.as_bytes());
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
