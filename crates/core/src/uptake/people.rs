//! Whom a service counts, one row per person: what suppression reads to find
//! the services that share people and the small groups one service's counts less
//! another's would reveal (`overlap`), and what [`super::compute`] counts per
//! LSOA.
//!
//! A service defined as data lists its people by construction. A service counted
//! by an analyst's SQL lists them when each of its queries returns a `person_id`
//! column (one row per person of `core.person`): Zonewise then places each person
//! by their LSOA in `core.person`, as it places the people of a defined service,
//! so that the two are counted alike and their people can be matched. A query
//! returning only counts per LSOA (`lsoa_code`, `n`) lists nobody: such a service
//! is counted, but published beside others it is refused (see
//! [`super::UptakeError::CountsOnly`] and `docs/uptake.md`, "Services").

use duckdb::Connection;

use super::UptakeError;
use super::defined::{self, Query};
use super::service::{Counting, Service};

/// The eligible, invited (`None` without an invitation) and attended queries.
pub type Queries = [(&'static str, Option<Query>); 3];

/// A service's people as this database can list them.
pub enum Listing {
    /// One query per count, each one row per person (`person_id`, `lsoa_code`).
    People(Queries),
    /// SQL returning counts per LSOA: whom it counts is not known.
    CountsOnly,
}

/// Lists `service`'s people: a defined service's queries (after its event
/// types and areas are checked), or an SQL service's whose queries all return
/// `person_id`. Refuses an SQL service mixing the two shapes, naming the query
/// that counts. The `reference_date` variable must be set
/// ([`super::prepare_queries`]): the queries are described, not run.
pub fn listing(conn: &Connection, service: &Service) -> Result<Listing, UptakeError> {
    let queries = match &service.counting {
        Counting::Defined(definition) => {
            defined::check(conn, service)?;
            return Ok(Listing::People(definition.people_queries()));
        }
        Counting::Sql(queries) => queries,
    };
    service.check_one_statement()?;
    let mut listed = Vec::new();
    for (name, sql) in queries.each() {
        if let Some(sql) = sql {
            listed.push((name, lists_people(conn, service, name, sql)?));
        }
    }
    let people = listed.iter().filter(|(_, people)| *people).count();
    if people == 0 {
        return Ok(Listing::CountsOnly);
    }
    if let Some((counts, _)) = listed.iter().find(|(_, people)| !people) {
        return Err(UptakeError::MixedShapes {
            service: service.name.clone(),
            place: service.place(service.lines.service),
            query: counts,
        });
    }
    Ok(Listing::People(queries.each().map(|(name, sql)| {
        let query = sql.map(|sql| Query {
            // The analyst's query on lines of its own, so that a trailing `--`
            // comment cannot swallow what follows.
            sql: format!(
                "SELECT p.person_id, p.lsoa_code FROM core.person p
                 WHERE p.person_id IN (SELECT person_id::VARCHAR FROM (\n{sql}\n))"
            ),
            params: Vec::new(),
        });
        (name, query)
    })))
}

/// The queries [`super::compute`] runs, each counting people per LSOA
/// (`lsoa_code`, `n`): a listing's people counted, or an SQL service's own
/// counts. An SQL service's listed people must all be in `core.person`.
pub fn counting(conn: &Connection, service: &Service) -> Result<Queries, UptakeError> {
    match listing(conn, service)? {
        Listing::People(queries) => {
            if let Counting::Sql(sql) = &service.counting {
                for (name, sql) in sql.each() {
                    if let Some(sql) = sql {
                        check_known(conn, service, name, sql)?;
                    }
                }
            }
            Ok(queries.map(|(name, query)| {
                let counted = query.map(|q| Query {
                    sql: format!(
                        "SELECT lsoa_code, count(*) AS n FROM (\n{}\n) GROUP BY lsoa_code",
                        q.sql
                    ),
                    params: q.params,
                });
                (name, counted)
            }))
        }
        Listing::CountsOnly => Ok(service.queries(conn)?),
    }
}

/// True when the query's result has a `person_id` column (it lists people),
/// read from its description without running it.
fn lists_people(
    conn: &Connection,
    service: &Service,
    name: &'static str,
    sql: &str,
) -> Result<bool, UptakeError> {
    let failed = |e: duckdb::Error| UptakeError::Query {
        service: service.name.clone(),
        query: name,
        file: service.file.clone(),
        message: e.to_string(),
    };
    let mut statement = conn
        .prepare(&format!("DESCRIBE SELECT * FROM (\n{sql}\n)"))
        .map_err(failed)?;
    let columns: Vec<String> = statement
        .query_map([], |row| row.get(0))
        .and_then(|rows| rows.collect())
        .map_err(failed)?;
    Ok(columns.iter().any(|c| c.eq_ignore_ascii_case("person_id")))
}

/// Refuses a query listing a `person_id` that is not in `core.person` (or
/// none), which would be counted nowhere.
fn check_known(
    conn: &Connection,
    service: &Service,
    name: &'static str,
    sql: &str,
) -> Result<(), UptakeError> {
    let unknown = conn.query_row(
        &format!(
            "SELECT coalesce(q.person_id::VARCHAR, '(none)') FROM (\n{sql}\n) q
             WHERE q.person_id IS NULL
                OR q.person_id::VARCHAR NOT IN (SELECT person_id FROM core.person)
             LIMIT 1"
        ),
        [],
        |row| row.get::<_, String>(0),
    );
    match unknown {
        Ok(person) => Err(UptakeError::UnknownPerson {
            service: service.name.clone(),
            query: name,
            person,
        }),
        Err(duckdb::Error::QueryReturnedNoRows) => Ok(()),
        Err(e) => Err(UptakeError::Query {
            service: service.name.clone(),
            query: name,
            file: service.file.clone(),
            message: e.to_string(),
        }),
    }
}
