//! The feature matrix with its label, written to a file another tool can read
//! (`zonewise export-features`): CSV or Parquet, chosen by the file's extension.
//! One row per child, the columns of `mart.risk_feature` then `label` and
//! `follow_up_complete` from `mart.risk_label`. Never any oracle or truth column.

use std::path::Path;

use chrono::NaiveDate;
use duckdb::Connection;

use super::{RiskError, date_sql, text_sql};
use crate::audit::{Action, Entry, PlaceError, StagedFile};

/// The file formats an export can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

impl Format {
    /// The format named by a path's extension (`.csv`, `.parquet`), any case.
    pub fn from_path(path: &Path) -> Result<Format, RiskError> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("csv") => Ok(Format::Csv),
            Some("parquet") => Ok(Format::Parquet),
            _ => Err(RiskError::ExportFormat {
                path: path.to_path_buf(),
            }),
        }
    }

    /// The format's name as people write it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Parquet => "Parquet",
        }
    }
}

/// Rows and columns written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSummary {
    pub rows: u64,
    pub columns: u64,
    pub format: Format,
}

/// The exported rows of one reference date, in family then person order.
fn export_sql(reference_date: NaiveDate) -> String {
    format!(
        "SELECT f.*, l.label, l.follow_up_complete
         FROM mart.risk_feature f
         JOIN mart.risk_label l ON l.reference_date = f.reference_date AND l.person_id = f.person_id
         WHERE f.reference_date = {}
         ORDER BY f.family_id, f.person_id",
        date_sql(reference_date)
    )
}

/// Writes the features and labels of `reference_date` (built by [`super::build`])
/// to `path`. The file is written beside its destination and renamed into place,
/// so a failed export leaves no partial file. The export is recorded in the audit
/// log as `actor`'s.
pub fn write(
    conn: &Connection,
    reference_date: NaiveDate,
    path: &Path,
    actor: &str,
) -> Result<ExportSummary, RiskError> {
    let format = Format::from_path(path)?;
    let failed = |message: String| RiskError::Export {
        path: path.to_path_buf(),
        message,
    };
    // `--out` on the command line may name a folder still to be made.
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(|e| failed(e.to_string()))?;
    }
    let mut staged = StagedFile::beside(path, "export").map_err(|e| failed(e.to_string()))?;
    let query = export_sql(reference_date);
    let rows = match format {
        Format::Csv => {
            let target = text_sql(&staged.temporary_path().to_string_lossy());
            conn.execute_batch(&format!("COPY ({query}) TO {target} (FORMAT csv, HEADER)"))?;
            let rows: i64 =
                conn.query_row(&format!("SELECT count(*) FROM ({query})"), [], |r| r.get(0))?;
            rows.max(0) as u64
        }
        Format::Parquet => {
            let mut statement = conn.prepare(&query)?;
            let batches = statement.query_arrow([])?;
            let mut writer =
                parquet::arrow::ArrowWriter::try_new(staged.file(), batches.get_schema(), None)
                    .map_err(|e| failed(e.to_string()))?;
            let mut rows = 0;
            for batch in batches {
                rows += batch.num_rows() as u64;
                writer.write(&batch).map_err(|e| failed(e.to_string()))?;
            }
            writer.close().map_err(|e| failed(e.to_string()))?;
            rows
        }
    };
    // Recorded before the file appears under its name: if the audit log cannot take
    // the entry, the staged file is dropped and nothing unaudited leaves the database.
    let entry = Entry::new(actor, Action::Export, path.display().to_string()).with_detail(format!(
        "{rows} children's features and labels at {reference_date} ({})",
        format.name()
    ));
    staged.place(conn, &entry).map_err(|error| match error {
        PlaceError::NotRecorded(error) => RiskError::from(error),
        PlaceError::Io(error) => failed(error.to_string()),
    })?;
    let columns: i64 = conn.query_row(
        "SELECT count(*) FROM information_schema.columns
         WHERE table_schema = 'mart' AND table_name = 'risk_feature'",
        [],
        |row| row.get(0),
    )?;
    Ok(ExportSummary {
        rows,
        columns: columns.max(0) as u64 + 2,
        format,
    })
}
