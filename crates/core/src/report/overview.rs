//! The county at a glance: what has been loaded, and the geography it covers.

use duckdb::Connection;

use crate::store::{self, StoreError};

/// Headline numbers for the Overview screen and `zonewise quality`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OverviewFigures {
    /// County (data set) name from the latest load.
    pub county: String,
    /// Extract date of the latest load, `dd/mm/yyyy`.
    pub extract_date: Option<String>,
    /// When the latest load committed.
    pub loaded_at: Option<String>,
    /// Sources loaded.
    pub sources: i64,
    /// Distinct person records summed over sources (before linkage: one person may have several).
    pub person_records: i64,
    /// Rows (events and records) over all sources.
    pub rows: i64,
    /// Linked people and families, once linkage has run.
    pub people: Option<i64>,
    pub families: Option<i64>,
    pub authorities: i64,
    pub zones: i64,
    pub lsoas: i64,
    /// Per source: (source name, agency key, person records, rows).
    pub per_source: Vec<SourceCount>,
    /// Per IMD decile 1–10: LSOAs in the county and their 0–17 population.
    pub per_decile: Vec<DecileCount>,
}

/// One source's bar on the Overview chart.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceCount {
    pub name: String,
    pub agency: String,
    pub records: i64,
    pub rows: i64,
}

/// One IMD decile's share of the county.
#[derive(Debug, Clone, PartialEq)]
pub struct DecileCount {
    pub decile: i32,
    pub lsoas: i64,
    pub population_0_17: i64,
}

/// Reads the overview figures.
pub fn read_overview(conn: &Connection) -> Result<OverviewFigures, StoreError> {
    let (county, extract_date, loaded_at) = conn
        .query_row(
            "SELECT county, strftime(extract_date, '%d/%m/%Y'),
                    strftime(finished_at, '%d/%m/%Y %H:%M')
             FROM app.load_run ORDER BY load_id DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .or_else(|error| match error {
            duckdb::Error::QueryReturnedNoRows => Ok(("No data loaded".to_string(), None, None)),
            other => Err(other),
        })?;
    let tables = store::table_names(conn)?;
    let linked = |table: &str, sql: &str| -> Result<Option<i64>, StoreError> {
        if tables.iter().any(|t| t == table) {
            store::scalar_i64(conn, sql).map(Some)
        } else {
            Ok(None)
        }
    };
    let per_source = conn
        .prepare("SELECT name, agency, records, total_rows FROM app.source ORDER BY agency, name")?
        .query_map([], |row| {
            Ok(SourceCount {
                name: row.get(0)?,
                agency: row.get(1)?,
                records: row.get(2)?,
                rows: row.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let per_decile = conn
        .prepare(
            "SELECT d.decile, count(l.lsoa_code), coalesce(sum(l.population_0_17), 0)
             FROM range(1, 11) AS d(decile)
             LEFT JOIN ref.lsoa l ON l.imd_decile = d.decile
             GROUP BY d.decile ORDER BY d.decile",
        )?
        .query_map([], |row| {
            Ok(DecileCount {
                decile: row.get(0)?,
                lsoas: row.get(1)?,
                population_0_17: row.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(OverviewFigures {
        county,
        extract_date,
        loaded_at,
        sources: per_source.len() as i64,
        person_records: per_source.iter().map(|s| s.records).sum(),
        rows: per_source.iter().map(|s| s.rows).sum(),
        people: linked("core.person", "SELECT count(*) FROM core.person")?,
        families: linked("core.family", "SELECT count(*) FROM core.family")?,
        authorities: store::scalar_i64(conn, "SELECT count(DISTINCT la_code) FROM ref.lsoa")?,
        zones: store::scalar_i64(conn, "SELECT count(*) FROM ref.zone")?,
        lsoas: store::scalar_i64(conn, "SELECT count(*) FROM ref.lsoa")?,
        per_source,
        per_decile,
    })
}
