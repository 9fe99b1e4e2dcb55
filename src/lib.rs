//! Zonewise: the app's window, the command line and the benchmarks, on top of
//! `zonewise_core` (the pipeline, its data and its access rules), whose modules are
//! re-exported here so that every caller names them one way (`zonewise::link`).
//! The compiler keeps the layering: nothing in the core can import `ui`,
//! `commands` or `bench`. See `docs/ARCHITECTURE.md`.

pub use zonewise_core::{
    access, audit, bundled, compressed, format, geo, ingest, link, model_file, pipeline, report,
    risk, server, store, synth, uptake,
};

pub mod bench;
pub mod commands;
pub mod sample;
pub mod ui;
