//! Model files on disk, the linkage model's and the risk model's: readable JSON,
//! read and checked, or written, by one loader, so both refuse a bad file alike,
//! naming the file (and the line and column of bad JSON) and the reason.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A kind of model file: what messages call it and what a parsed file must satisfy.
pub trait ModelFormat: Serialize + DeserializeOwned {
    /// How messages name a file of this kind: "model file", "risk model file".
    const KIND: &'static str;

    /// Why a parsed file cannot be used by this version of Zonewise, if it cannot.
    fn check(&self) -> Result<(), String>;
}

/// Why a model file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    #[error("cannot read {kind} {path}: {source}")]
    Read {
        kind: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("{kind} {path}, line {line}, column {column}: {message}")]
    Parse {
        kind: &'static str,
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{kind} {path}: {message}")]
    Invalid {
        kind: &'static str,
        path: String,
        message: String,
    },
    #[error("cannot write {kind} {path}: {source}")]
    Write {
        kind: &'static str,
        path: String,
        source: std::io::Error,
    },
}

/// Reads a model file and checks it fits this version.
pub fn load<T: ModelFormat>(path: &Path) -> Result<T, ModelFileError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ModelFileError::Read {
        kind: T::KIND,
        path: name.clone(),
        source,
    })?;
    from_json(&text, &name)
}

/// Parses and checks a model's text; `name` says where it came from in errors.
pub fn from_json<T: ModelFormat>(text: &str, name: &str) -> Result<T, ModelFileError> {
    let file: T = serde_json::from_str(text).map_err(|e| ModelFileError::Parse {
        kind: T::KIND,
        path: name.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    file.check().map_err(|message| ModelFileError::Invalid {
        kind: T::KIND,
        path: name.to_string(),
        message,
    })?;
    Ok(file)
}

/// Writes the file as pretty JSON, creating its folder.
pub fn save<T: ModelFormat>(file: &T, path: &Path) -> Result<(), ModelFileError> {
    let failed = |source| ModelFileError::Write {
        kind: T::KIND,
        path: path.display().to_string(),
        source,
    };
    let text = serde_json::to_string_pretty(file).map_err(|e| failed(e.into()))?;
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(failed)?;
    }
    std::fs::write(path, text + "\n").map_err(failed)
}
