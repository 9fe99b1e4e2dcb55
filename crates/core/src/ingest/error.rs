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

    #[error("{file}, {at}: {message}")]
    BadRow {
        file: PathBuf,
        at: Location,
        message: String,
    },

    #[error("{file}, {at}, column '{column}': {message}")]
    BadValue {
        file: PathBuf,
        at: Location,
        column: String,
        message: String,
    },

    #[error("{file}: {message}")]
    Reference { file: PathBuf, message: String },

    /// The workbook cannot be read, or lacks the sheet the manifest names.
    #[error("{file}: {message}")]
    Workbook { file: PathBuf, message: String },

    /// Raised before or by the commit, so the transaction was rolled back.
    #[error("database error while loading, so nothing was loaded: {0}")]
    Database(#[from] duckdb::Error),

    #[error("cannot record the load in the audit log, so nothing was loaded: {0}")]
    Audit(#[from] crate::store::StoreError),
}

/// Where in a file a problem is: a line of a text file (the header is line 1),
/// a data row of a Parquet file (the first row is row 1), or a row of a
/// spreadsheet's sheet numbered as the spreadsheet shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Line(u64),
    Row(u64),
    SheetRow {
        sheet: std::sync::Arc<str>,
        row: u64,
    },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Line(line) => write!(f, "line {line}"),
            Location::Row(row) => write!(f, "row {row}"),
            Location::SheetRow { sheet, row } => write!(f, "sheet '{sheet}', row {row}"),
        }
    }
}

impl Location {
    /// The number stored in the staging table's `_line` column.
    pub fn number(&self) -> u64 {
        match self {
            Location::Line(n) | Location::Row(n) | Location::SheetRow { row: n, .. } => *n,
        }
    }
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
            | IngestError::Reference { file, .. }
            | IngestError::Workbook { file, .. } => Some(file),
            IngestError::Manifest(_) | IngestError::Database(_) | IngestError::Audit(_) => None,
        }
    }
}

/// Values a source with `unreadable = "blank"` loaded as missing: how many, and
/// the first few, each worded as the refusal would have been (file, line, column).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlankedValues {
    pub count: u64,
    pub examples: Vec<String>,
}

impl BlankedValues {
    /// Examples kept per source: enough to find the pattern, not a copy of the file.
    const EXAMPLES: usize = 5;

    pub(super) fn record(&mut self, example: impl FnOnce() -> String) {
        self.count += 1;
        if self.examples.len() < Self::EXAMPLES {
            self.examples.push(example());
        }
    }
}
