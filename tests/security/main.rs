//! Security and reliability: users, roles and what each may read; the audit log's
//! hash chain; the team's PostgreSQL server enforcing the roles, under many clients
//! at once and publishes killed part-way, and over TLS; fuzzing every
//! parser of outside files; and imports that stay all or nothing when the process
//! is killed or the disk fills.
//!
//! One test binary rather than one per file: each binary links DuckDB statically,
//! and linking it once per file made every build link it some twenty times.

#[path = "../common/mod.rs"]
mod common;

mod access;
mod audit;
mod fuzz;
mod kill_ingest;
mod server;
mod server_load;
mod server_tls;
