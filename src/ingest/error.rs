//! What can go wrong while ingesting, worded for the analyst who has to fix the file.

use std::path::PathBuf;

use super::manifest::ManifestError;

/// An ingest failure. Every variant about a file names the file, and where it
/// can, the line and the column, and says what was expected.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),

    #[error("{file}: cannot read the file: {source}")]
    Open {
        file: PathBuf,
        source: std::io::Error,
    },

    #[error("{file}: the file is empty; expected a header row naming the columns")]
    Empty { file: PathBuf },

    #[error(
        "{file}: the file is {encoding}, not UTF-8; save it as UTF-8 (in Excel: CSV UTF-8) and load it again"
    )]
    NotUtf8File {
        file: PathBuf,
        encoding: &'static str,
    },

    #[error("{file}, line 1: missing required column '{column}' {detail}")]
    MissingColumn {
        file: PathBuf,
        column: String,
        /// Which role needs it, the header found, and a guess at the cause.
        detail: String,
    },

    #[error("{file}, line {line}: {message}")]
    BadRow {
        file: PathBuf,
        line: u64,
        message: String,
    },

    #[error("{file}, line {line}, column '{column}': {message}")]
    BadValue {
        file: PathBuf,
        line: u64,
        column: String,
        message: String,
    },

    #[error("{file}: {message}")]
    Reference { file: PathBuf, message: String },

    #[error("database error while loading: {0}")]
    Database(#[from] duckdb::Error),
}

impl IngestError {
    /// The file the error is about, if it is about one.
    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            IngestError::Open { file, .. }
            | IngestError::Empty { file }
            | IngestError::NotUtf8File { file, .. }
            | IngestError::MissingColumn { file, .. }
            | IngestError::BadRow { file, .. }
            | IngestError::BadValue { file, .. }
            | IngestError::Reference { file, .. } => Some(file),
            IngestError::Manifest(_) | IngestError::Database(_) => None,
        }
    }
}
