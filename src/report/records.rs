//! Records as a reviewer or case worker reads them: the review queue with both
//! records of each pair and the weight's explanation, and one person's records
//! across every source.

use duckdb::Connection;

use crate::link::fellegi_sunter::Model;
use crate::link::review;
use crate::link::score::{self, ScoredPair};
use crate::store::{self, StoreError};

/// One source record's identity fields, as standardised for linkage.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordDetails {
    pub key: String,
    pub source: String,
    pub record_id: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// dd/mm/yyyy.
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub postcode: Option<String>,
    pub address: Option<String>,
    pub nhs_number: Option<String>,
    pub ni_number: Option<String>,
    pub upn: Option<String>,
}

impl RecordDetails {
    /// (label, value) of each field, in the order a reviewer compares them.
    pub fn fields(&self) -> [(&'static str, Option<&str>); 10] {
        [
            ("Record", Some(self.record_id.as_str())),
            ("Given name", self.given_name.as_deref()),
            ("Family name", self.family_name.as_deref()),
            ("Date of birth", self.birth_date.as_deref()),
            ("Sex", self.sex.as_deref()),
            ("Postcode", self.postcode.as_deref()),
            ("Address", self.address.as_deref()),
            ("NHS number", self.nhs_number.as_deref()),
            ("NI number", self.ni_number.as_deref()),
            ("UPN", self.upn.as_deref()),
        ]
    }
}

const DETAIL_COLUMNS: &str = "record_key, source, record_id, given, family_raw,
    strftime(birth_date, '%d/%m/%Y'), sex,
    CASE WHEN length(postcode) > 4 THEN left(postcode, -3) || ' ' || right(postcode, 3) ELSE postcode END,
    address_text, nhs, ni, upn";

fn read_details(row: &duckdb::Row<'_>) -> Result<RecordDetails, duckdb::Error> {
    Ok(RecordDetails {
        key: row.get(0)?,
        source: row.get(1)?,
        record_id: row.get(2)?,
        given_name: row.get(3)?,
        family_name: row.get(4)?,
        birth_date: row.get(5)?,
        sex: row.get(6)?,
        postcode: row.get(7)?,
        address: row.get(8)?,
        nhs_number: row.get(9)?,
        ni_number: row.get(10)?,
        upn: row.get(11)?,
    })
}

fn details_of(conn: &Connection, key: &str) -> Result<RecordDetails, duckdb::Error> {
    conn.query_row(
        &format!("SELECT {DETAIL_COLUMNS} FROM link.record WHERE record_key = ?"),
        [key],
        read_details,
    )
}

/// A pair waiting for a reviewer.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewItem {
    pub pair: ScoredPair,
    pub left: RecordDetails,
    pub right: RecordDetails,
}

/// The model of the latest linkage run, if linkage has run.
pub fn latest_model(conn: &Connection) -> Result<Option<Model>, StoreError> {
    let json = conn.query_row(
        "SELECT model_json FROM app.link_run ORDER BY run_id DESC LIMIT 1",
        [],
        |row| row.get::<_, String>(0),
    );
    match json {
        Ok(json) => Ok(serde_json::from_str(&json).ok()),
        Err(duckdb::Error::QueryReturnedNoRows) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Up to `limit` pairs between the latest run's thresholds with no decision yet,
/// most probable first.
pub fn read_review_queue(conn: &Connection, limit: usize) -> Result<Vec<ReviewItem>, StoreError> {
    let Some(model) = latest_model(conn)? else {
        return Ok(Vec::new());
    };
    if !store::table_names(conn)?.iter().any(|t| t == "link.pair") {
        return Ok(Vec::new());
    }
    let (accept, review_from): (f64, f64) = conn.query_row(
        "SELECT accept_probability, review_probability FROM app.link_run ORDER BY run_id DESC LIMIT 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let pairs = conn
        .prepare(&format!(
            "SELECT {} FROM ({}) p ORDER BY p.match_weight DESC, p.l_key, p.r_key LIMIT {limit}",
            score::scored_pair_columns(),
            review::pending_sql(review_from, accept)
        ))?
        .query_map([], |row| score::read_scored_pair(row, &model))?
        .collect::<Result<Vec<_>, _>>()?;
    pairs
        .into_iter()
        .map(|pair| {
            Ok(ReviewItem {
                left: details_of(conn, &pair.l_key)?,
                right: details_of(conn, &pair.r_key)?,
                pair,
            })
        })
        .collect()
}

/// A person found by a search.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonHit {
    pub person_id: String,
    pub family_id: Option<String>,
    pub name: String,
    pub birth_date: Option<String>,
    pub postcode: Option<String>,
    pub source_records: i64,
}

/// People whose name, person id, NHS number or any source record id contains
/// `text` (case-insensitive), at most `limit`.
pub fn search_persons(
    conn: &Connection,
    text: &str,
    limit: usize,
) -> Result<Vec<PersonHit>, StoreError> {
    let needle = text.trim();
    if needle.is_empty() || !store::table_names(conn)?.iter().any(|t| t == "core.person") {
        return Ok(Vec::new());
    }
    // Names are stored standardised (capitals, no punctuation), so "O'Brien-Smith"
    // is looked for as "OBRIENSMITH"; ids keep their letters and digits.
    let cleaned: String = needle
        .to_uppercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .collect();
    let pattern = format!("%{}%", cleaned.trim());
    let hits = conn
        .prepare(&format!(
            "SELECT p.person_id, p.family_id,
                    concat_ws(' ', p.given_name, p.family_name),
                    strftime(p.birth_date, '%d/%m/%Y'), p.postcode, p.source_records
             FROM core.person p
             WHERE upper(concat_ws(' ', p.given_name, p.family_name)) LIKE $1
                OR upper(p.person_id) LIKE $1 OR p.nhs_number LIKE $1
                OR p.person_id IN (SELECT person_id FROM core.source_record
                                   WHERE upper(source_record_id) LIKE $1)
             ORDER BY p.family_name, p.given_name, p.birth_date, p.person_id
             LIMIT {limit}"
        ))?
        .query_map([pattern], |row| {
            Ok(PersonHit {
                person_id: row.get(0)?,
                family_id: row.get(1)?,
                name: row.get(2)?,
                birth_date: row.get(3)?,
                postcode: row.get(4)?,
                source_records: row.get(5)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(hits)
}

/// How two of a person's records relate.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordLink {
    pub l_key: String,
    pub r_key: String,
    pub match_probability: f64,
    /// "matched", "confirmed by a reviewer", or "linked through others".
    pub how: &'static str,
}

/// One person's records in every source and the links between them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PersonRecords {
    pub person_id: String,
    pub records: Vec<RecordDetails>,
    pub links: Vec<RecordLink>,
}

/// Reads a person's records and the scored pairs among them.
pub fn read_person_records(
    conn: &Connection,
    person_id: &str,
) -> Result<PersonRecords, StoreError> {
    let records = conn
        .prepare(&format!(
            "SELECT {DETAIL_COLUMNS} FROM link.record
             WHERE record_key IN (SELECT record_key FROM link.assignment WHERE person_id = ?)
             ORDER BY source, record_id"
        ))?
        .query_map([person_id], read_details)?
        .collect::<Result<Vec<_>, _>>()?;
    let links = conn
        .prepare(
            "SELECT p.l_key, p.r_key, p.match_probability, d.same
             FROM link.pair p
             JOIN link.assignment a ON a.record_key = p.l_key AND a.person_id = $1
             JOIN link.assignment b ON b.record_key = p.r_key AND b.person_id = $1
             LEFT JOIN app.review_decision d USING (l_key, r_key)
             ORDER BY p.match_probability DESC",
        )?
        .query_map([person_id], |row| {
            let probability: f64 = row.get(2)?;
            let decided: Option<bool> = row.get(3)?;
            Ok(RecordLink {
                l_key: row.get(0)?,
                r_key: row.get(1)?,
                match_probability: probability,
                how: match decided {
                    Some(true) => "confirmed by a reviewer",
                    Some(false) => "rejected by a reviewer",
                    None => "scored",
                },
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PersonRecords {
        person_id: person_id.to_string(),
        records,
        links,
    })
}
