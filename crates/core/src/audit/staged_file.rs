//! Files that never appear without their audit entry: a meeting pack, a map
//! figure, a feature export. Each is written under a hidden temporary name
//! beside where it is going, the entry is recorded, and only then is it renamed
//! into place, so that a reader of the folder never sees an unaudited file.

use std::fs::File;
use std::path::{Path, PathBuf};

use duckdb::Connection;
use tempfile::NamedTempFile;

use super::{Entry, record};
use crate::store::StoreError;

/// A file being written under a hidden temporary name beside `path`. Dropped
/// before [`StagedFile::place`] (the writing failed, or the entry could not be
/// recorded), the temporary file is removed and nothing appears.
pub struct StagedFile {
    staged: NamedTempFile,
    path: PathBuf,
}

/// Why a staged file was not placed.
#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    /// Nothing was placed: the entry could not be recorded (a load holds the
    /// log past its wait, the disk is full).
    #[error("its audit log entry could not be recorded: {0}")]
    NotRecorded(#[source] StoreError),
    /// Writing, syncing or renaming the file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl StagedFile {
    /// Starts `path` as a hidden file named `.zonewise-<kind>…` in its folder,
    /// so that the rename into place stays on one disk. The folder must exist:
    /// one chosen in a save dialog always does, and a missing one is an error
    /// to report rather than a folder to invent.
    pub fn beside(path: &Path, kind: &str) -> std::io::Result<StagedFile> {
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let staged = tempfile::Builder::new()
            .prefix(&format!(".zonewise-{kind}"))
            .tempfile_in(folder)?;
        Ok(StagedFile {
            staged,
            path: path.to_path_buf(),
        })
    }

    /// The file to write the contents into.
    pub fn file(&mut self) -> &mut File {
        self.staged.as_file_mut()
    }

    /// The temporary file's own name, for a writer that opens it by name
    /// (DuckDB's `COPY … TO`).
    pub fn temporary_path(&self) -> &Path {
        self.staged.path()
    }

    /// Syncs what was written, records `entry` (waiting while a load holds the
    /// log), and only then renames the file into place.
    pub fn place(self, conn: &Connection, entry: &Entry) -> Result<PathBuf, PlaceError> {
        self.staged.as_file().sync_all()?;
        record(conn, entry).map_err(PlaceError::NotRecorded)?;
        self.staged.persist(&self.path).map_err(|e| e.error)?;
        Ok(self.path)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::audit::Action;

    fn entries(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM app.audit_log", [], |r| r.get(0))
            .expect("count")
    }

    #[test]
    fn a_placed_file_appears_after_its_entry_and_a_dropped_one_never() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::store::open_in_memory().expect("db");
        let before = entries(&conn);
        std::fs::create_dir(dir.path().join("out")).expect("folder");
        let path = dir.path().join("out").join("pack.html");

        let mut staged = StagedFile::beside(&path, "test").expect("staged");
        staged.file().write_all(b"<p>pack</p>").expect("write");
        assert!(!path.exists(), "nothing under its name before it is placed");
        let entry = Entry::new("ana", Action::Export, path.display().to_string());
        assert_eq!(staged.place(&conn, &entry).expect("placed"), path);
        assert_eq!(std::fs::read(&path).expect("read"), b"<p>pack</p>");
        assert_eq!(entries(&conn), before + 1);

        let dropped = dir.path().join("out").join("never.html");
        let mut staged = StagedFile::beside(&dropped, "test").expect("staged");
        staged.file().write_all(b"x").expect("write");
        drop(staged);
        assert!(!dropped.exists());
        let left: Vec<_> = std::fs::read_dir(dir.path().join("out"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("pack.html")],
            "no temporary file left"
        );
    }

    #[test]
    fn an_entry_that_cannot_be_recorded_places_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::store::open_in_memory().expect("db");
        // The log cannot take an entry once its table is gone.
        conn.execute_batch("DROP TABLE app.audit_log")
            .expect("drop");
        let path = dir.path().join("figure.png");
        let mut staged = StagedFile::beside(&path, "test").expect("staged");
        staged.file().write_all(b"png").expect("write");
        let entry = Entry::new("ana", Action::Export, path.display().to_string());
        let error = staged.place(&conn, &entry).expect_err("not recorded");
        assert!(matches!(error, PlaceError::NotRecorded(_)), "{error}");
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);
    }
}
