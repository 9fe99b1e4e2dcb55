//! The pipeline end to end on generated and hand-made counties: the synthetic
//! county, ingest (good and bad input, CSV, Parquet and Excel), linkage, the core tables,
//! risk features, criteria and models, uptake, and the benchmarks' own checks.
//!
//! One test binary rather than one per file: each binary links DuckDB statically,
//! and linking it once per file made every build link it some twenty times.

#[path = "../common/mod.rs"]
mod common;

mod bench;
mod bench_uptake;
mod core_tables;
mod early_help;
mod encryption_at_rest;
mod ingest_bad_input;
mod ingest_excel;
mod ingest_parquet;
mod link;
mod link_files;
mod refresh;
mod risk_criteria;
mod risk_features;
mod risk_model;
mod risk_pipeline;
mod rounds;
mod sample_county;
mod synth;
mod uptake;
mod uptake_defined;
mod uptake_services;
mod uptake_trend;
