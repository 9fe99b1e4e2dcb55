//! Zonewise's core: brings agency extracts about children and families into one
//! DuckDB database, links them, flags families for early help and computes service
//! uptake, with the audit log and the access rules every reader applies.
//!
//! Data flows one way: `synth`/extracts → `ingest` → `store` (staging → core → mart)
//! → `report`. The window, the command line and the benchmarks live in the
//! `zonewise` crate above this one, so nothing here can reach up into them. See
//! `docs/ARCHITECTURE.md`.

pub mod access;
pub mod audit;
pub mod bundled;
pub mod compressed;
pub mod format;
pub mod geo;
pub mod ingest;
pub mod link;
pub mod model_file;
pub mod pipeline;
pub mod report;
pub mod risk;
pub mod server;
pub mod store;
pub mod synth;
pub mod uptake;
