//! Finishes the core tables once people and families are linked: places each
//! person and family in an LSOA (and the family in its zone) through the postcode
//! lookup, and gathers every staged event into `core.event` with its person and
//! family. Every later stage (features, uptake, the map) reads these, never staging.

use duckdb::Connection;

/// What placing and gathering found, for the run summary and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreCounts {
    /// People whose postcode is in `ref.postcode`.
    pub persons_placed: u64,
    /// Families whose modal postcode is in `ref.postcode`.
    pub families_placed: u64,
    /// Rows of `core.event`: one per staged row.
    pub events: u64,
}

/// Fills `core.person.lsoa_code`, `core.family.lsoa_code` and `zone_id`, and
/// replaces `core.event`. Postcodes in `core.person` are already in the lookup's
/// key form (see `standardise::postcode_key_sql`), so they join directly.
pub fn build(conn: &Connection) -> Result<CoreCounts, duckdb::Error> {
    conn.execute_batch(
        "UPDATE core.person p SET lsoa_code = pc.lsoa_code
         FROM ref.postcode pc WHERE pc.postcode = p.postcode;
         UPDATE core.family f SET lsoa_code = pc.lsoa_code, zone_id = lz.zone_id
         FROM ref.postcode pc LEFT JOIN ref.lsoa_zone lz USING (lsoa_code)
         WHERE pc.postcode = f.postcode;",
    )?;
    build_events(conn)?;
    let count = |sql: &str| -> Result<u64, duckdb::Error> {
        conn.query_row(sql, [], |row| row.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
    };
    Ok(CoreCounts {
        persons_placed: count("SELECT count(lsoa_code) FROM core.person")?,
        families_placed: count("SELECT count(lsoa_code) FROM core.family")?,
        events: count("SELECT count(*) FROM core.event")?,
    })
}

/// `core.event`: every row of every staging table listed in `app.source`, with the
/// person its record was linked to (the record key is `source:record_id`, as in
/// `link.record`) and that person's family. `line` is the row's line in its
/// extract, so any figure can be traced back to the file. Linkage has refused to
/// run before this point when no source is loaded.
fn build_events(conn: &Connection) -> Result<(), duckdb::Error> {
    let sources: Vec<String> = conn
        .prepare("SELECT name FROM app.source ORDER BY name")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let rows = sources
        .iter()
        .map(|s| {
            format!(
                "SELECT '{s}' AS source, record_id, row_id, _line AS line, event_type,
                        event_date, event_value FROM staging.\"{s}\""
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE core.event AS
         SELECT a.person_id, p.family_id, e.source, e.record_id, e.row_id, e.line,
                e.event_type, e.event_date, e.event_value AS value
         FROM ({rows}) e
         LEFT JOIN link.assignment a ON a.record_key = e.source || ':' || e.record_id
         LEFT JOIN core.person p ON p.person_id = a.person_id
         ORDER BY e.source, e.line;"
    ))
}
