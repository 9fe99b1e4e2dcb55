//! The app driven headless (egui_kittest) on generated counties: every view, the
//! families and round-table screens, case openings, decisions, the results view,
//! the Users view, and what a commissioner may and may not see.
//!
//! One test binary rather than one per file: each binary links DuckDB statically,
//! and linking it once per file made every build link it some twenty times.

#[path = "../common/mod.rs"]
mod common;

mod app_headless;
mod case_openings;
mod commissioner;
mod define_service;
mod families;
mod new_database;
mod outcomes;
mod plans;
mod refresh;
mod results;
mod round_decisions;
mod users_view;
