//! `zonewise server init`: the schemas, roles, row-level security and functions
//! of `schema.sql`, in one transaction, and the chain's first entry.

use postgres::Client;

use super::{ServerError, group_role, quoted};
use crate::access::Role;

/// The server's layout: tables, policies, functions and grants.
const SCHEMA: &str = include_str!("schema.sql");

/// Creates everything on an empty database: one NOLOGIN role per Zonewise role
/// (roles belong to the whole cluster, so ones already there are kept), then
/// `schema.sql`, then the `create_database` entry that begins the audit chain.
/// Refuses a database that already has Zonewise's schemas.
pub fn init(client: &mut Client) -> Result<(), ServerError> {
    let existing: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname IN ('ref', 'core', 'mart', 'app')",
            &[],
        )?
        .get(0);
    if existing > 0 {
        return Err(ServerError::Invalid(
            "this database already has Zonewise's schemas (ref, core, mart or app): \
             `server init` runs once, on an empty database"
                .to_string(),
        ));
    }
    let mut tx = client.transaction()?;
    for role in Role::ALL {
        let name = group_role(role);
        let exists: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)",
                &[&name],
            )?
            .get(0);
        if !exists {
            let quoted = quoted(&mut tx, &name)?;
            tx.batch_execute(&format!("CREATE ROLE {quoted} NOLOGIN"))?;
        }
    }
    tx.batch_execute(SCHEMA)?;
    tx.execute(
        "SELECT app.audit_append(session_user::text, 'create_database', 'database', NULL, $1)",
        &[&"created by zonewise server init"],
    )?;
    tx.commit()?;
    Ok(())
}
