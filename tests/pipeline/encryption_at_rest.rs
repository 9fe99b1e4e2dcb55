//! What this build of DuckDB does with `ATTACH … (ENCRYPTION_KEY …)`, offline: it
//! refuses to write an encrypted database without the httpfs extension (OpenSSL),
//! which is not bundled and would be downloaded by `INSTALL httpfs`. If an upgrade
//! changes this, this test fails: revisit "Encryption at rest" in docs/security.md.
//! (A machine where httpfs was installed and loaded by default would fail it too.)

use duckdb::Connection;

fn attach_encrypted(conn: &Connection, path: &std::path::Path) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "ATTACH '{}' AS secret (ENCRYPTION_KEY 'a key the user would type')",
        path.display()
    ))
}

#[test]
fn writing_an_encrypted_database_needs_the_httpfs_extension_in_this_build() {
    let dir = tempfile::tempdir().expect("temp dir");
    let conn = Connection::open_in_memory().expect("in-memory database");
    let version: String = conn
        .query_row("SELECT version()", [], |row| row.get(0))
        .expect("version");
    assert_eq!(
        version, "v1.5.6",
        "DuckDB was upgraded: check the findings below still hold"
    );

    let refused = attach_encrypted(&conn, &dir.path().join("secret.duckdb"))
        .expect_err("an encrypted database cannot be written without httpfs");
    assert!(
        refused.to_string().contains("read-only crypto module"),
        "{refused}"
    );
}
