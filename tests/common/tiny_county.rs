//! A county small enough to compute by hand: the core tables linkage would leave
//! (`core.person`, `core.family`, `core.event`) and two LSOAs, written directly so
//! a test knows every person, family and event, and each event's key.

use std::collections::BTreeMap;

use duckdb::{Connection, params};
use zonewise::store;

/// An in-memory database holding a hand-made county.
pub struct TinyCounty {
    pub conn: Connection,
    /// Next line per source, so each event gets a (source, line) key as ingest gives.
    lines: BTreeMap<String, i64>,
}

/// The LSOA in IMD decile 2 (zone Z1) and the one in decile 9 (no zone).
pub const DEPRIVED_LSOA: &str = "E01000002";
pub const AFFLUENT_LSOA: &str = "E01000009";

impl TinyCounty {
    /// An empty county with the schema, the core tables in the layout linkage
    /// makes them, and two LSOAs.
    pub fn new() -> TinyCounty {
        let conn = store::open_in_memory().expect("db");
        conn.execute_batch(
            "CREATE TABLE core.person (person_id VARCHAR, family_id VARCHAR, given_name VARCHAR,
                 family_name VARCHAR, birth_date DATE, sex VARCHAR, postcode VARCHAR,
                 lsoa_code VARCHAR, nhs_number VARCHAR, source_records BIGINT);
             CREATE TABLE core.family (family_id VARCHAR, members BIGINT, children BIGINT,
                 postcode VARCHAR, lsoa_code VARCHAR, zone_id VARCHAR);
             CREATE TABLE core.event (person_id VARCHAR, family_id VARCHAR, source VARCHAR,
                 record_id VARCHAR, row_id VARCHAR, line BIGINT, event_type VARCHAR,
                 event_date DATE, value DOUBLE);
             INSERT INTO ref.lsoa (lsoa_code, lsoa_name, la_code, la_name, imd_score, imd_rank, imd_decile)
             VALUES ('E01000002', 'Deprived 001A', 'E06000001', 'Tiny', 45.0, 3000, 2),
                    ('E01000009', 'Affluent 001B', 'E06000001', 'Tiny', 5.0, 29000, 9);
             INSERT INTO ref.zone VALUES ('Z1', 'Zone one', 'E06000001');
             INSERT INTO ref.lsoa_zone VALUES ('E01000002', 'Z1');",
        )
        .expect("tiny county tables");
        TinyCounty {
            conn,
            lines: BTreeMap::new(),
        }
    }

    /// A family living in `lsoa` (its zone from `ref.lsoa_zone`).
    pub fn family(&self, family_id: &str, lsoa: Option<&str>) {
        self.conn
            .execute(
                "INSERT INTO core.family
                 SELECT ?, 0, 0, NULL, ?, (SELECT zone_id FROM ref.lsoa_zone WHERE lsoa_code = ?)",
                params![family_id, lsoa, lsoa],
            )
            .expect("family");
    }

    /// A person of a family, born on `birth_date` (yyyy-mm-dd).
    pub fn person(&self, person_id: &str, family_id: &str, birth_date: &str) {
        self.conn
            .execute(
                "INSERT INTO core.person (person_id, family_id, given_name, family_name, birth_date, source_records)
                 VALUES (?, ?, ?, 'Tiny', ?::DATE, 1)",
                params![person_id, family_id, person_id, birth_date],
            )
            .expect("person");
    }

    /// An event of a person (in that person's family); returns its key (source, line).
    pub fn event(
        &mut self,
        person_id: &str,
        source: &str,
        event_type: &str,
        date: &str,
        value: Option<f64>,
    ) -> (String, i64) {
        let line = self.lines.entry(source.to_string()).or_insert(1);
        *line += 1;
        let line = *line;
        self.conn
            .execute(
                "INSERT INTO core.event
                 SELECT ?, (SELECT family_id FROM core.person WHERE person_id = ?), ?, ?, NULL, ?, ?, ?::DATE, ?",
                params![person_id, person_id, source, person_id, line, event_type, date, value],
            )
            .expect("event");
        (source.to_string(), line)
    }
}
