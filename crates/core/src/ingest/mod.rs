//! Ingest: validate agency extracts against a source manifest and load them into
//! DuckDB staging tables, all or nothing, with a data-quality summary per source.

pub mod boundaries;
pub mod council;
pub mod error;
pub mod extract_reader;
pub mod guess;
pub mod load;
pub mod manifest;
pub mod postcodes;
pub mod quality;
pub mod reference;
pub mod wards;

pub use error::IngestError;
pub use load::{IngestProgress, IngestReport, ingest};
pub use manifest::Manifest;
pub use quality::{SourceQuality, read_quality};
