//! Figures for the Linkage view: the latest run, how match weights spread, and
//! how far each agency's people are known to each other agency.

use duckdb::Connection;

use crate::store::{self, StoreError};

/// The latest linkage run, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRunSummary {
    pub finished_at: String,
    pub records: i64,
    pub candidate_pairs: i64,
    pub accepted_pairs: i64,
    pub review_pairs: i64,
    pub persons: i64,
    pub accept_probability: f64,
    pub review_probability: f64,
}

/// What the Linkage view shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkageFigures {
    pub run: Option<LinkRunSummary>,
    /// (lower bound of a 1-wide match-weight bucket, candidate pairs in it).
    pub weight_histogram: Vec<(f64, i64)>,
    /// Sources in display order.
    pub sources: Vec<String>,
    /// overlap[a][b]: share of source a's people who also have a record in source b.
    pub overlap: Vec<Vec<f64>>,
}

/// Reads the Linkage figures; empty when linkage has not run.
pub fn read_linkage(conn: &Connection) -> Result<LinkageFigures, StoreError> {
    let tables = store::table_names(conn)?;
    let run = conn
        .query_row(
            "SELECT strftime(finished_at, '%d/%m/%Y %H:%M'), records, candidate_pairs, accepted_pairs,
                    review_pairs, persons, accept_probability, review_probability
             FROM app.link_run ORDER BY run_id DESC LIMIT 1",
            [],
            |row| {
                Ok(LinkRunSummary {
                    finished_at: row.get(0)?,
                    records: row.get(1)?,
                    candidate_pairs: row.get(2)?,
                    accepted_pairs: row.get(3)?,
                    review_pairs: row.get(4)?,
                    persons: row.get(5)?,
                    accept_probability: row.get(6)?,
                    review_probability: row.get(7)?,
                })
            },
        )
        .map(Some)
        .or_else(|error| match error {
            duckdb::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })?;
    let has = |table: &str| tables.iter().any(|t| t == table);
    if run.is_none() || !has("link.pair") || !has("core.source_record") {
        return Ok(LinkageFigures::default());
    }
    let weight_histogram = conn
        .prepare(
            "SELECT floor(match_weight)::DOUBLE AS bucket, count(*)::BIGINT
             FROM link.pair GROUP BY bucket ORDER BY bucket",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let sources: Vec<String> = conn
        .prepare("SELECT DISTINCT source FROM core.source_record ORDER BY source")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut overlap = vec![vec![0.0; sources.len()]; sources.len()];
    let mut statement = conn.prepare(
        "WITH people AS (SELECT DISTINCT source, person_id FROM core.source_record)
         SELECT a.source, b.source,
                count(DISTINCT b.person_id)::DOUBLE
                  / (SELECT count(*) FROM people p WHERE p.source = a.source)
         FROM people a JOIN people b ON a.person_id = b.person_id
         GROUP BY a.source, b.source",
    )?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, f64>(2)?,
        ))
    })?;
    for row in rows {
        let (a, b, share) = row?;
        if let (Some(i), Some(j)) = (
            sources.iter().position(|s| *s == a),
            sources.iter().position(|s| *s == b),
        ) {
            overlap[i][j] = share;
        }
    }
    Ok(LinkageFigures {
        run,
        weight_histogram,
        sources,
        overlap,
    })
}
