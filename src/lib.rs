//! Zonewise: brings agency extracts about children and families into one DuckDB
//! database, links them, flags families for early help and maps service uptake.
//!
//! Data flows one way: `synth`/extracts → `ingest` → `store` (staging → core → mart)
//! → `report` → `ui`. See `docs/ARCHITECTURE.md`.

pub mod access;
pub mod audit;
pub mod bench;
pub mod commands;
pub mod compressed;
pub mod format;
pub mod geo;
pub mod ingest;
pub mod link;
pub mod model_file;
pub mod pipeline;
pub mod report;
pub mod risk;
pub mod sample;
pub mod store;
pub mod synth;
pub mod ui;
pub mod uptake;
