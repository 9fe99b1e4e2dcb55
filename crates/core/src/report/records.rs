//! Records as a reviewer or case worker reads them: the review queue with both
//! records of each pair and the weight's explanation, and one person's records
//! across every source.

use duckdb::Connection;

use crate::access::Visibility;
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
    /// The record as `visibility` allows it to be shown: on a masked screen the
    /// names become initials and every other identifying field is blanked, so no
    /// caller can show more than the session may see.
    fn masked_for(mut self, visibility: &Visibility) -> RecordDetails {
        if visibility.masked() {
            self.given_name = Some(visibility.name(self.given_name.as_deref(), None));
            self.family_name = Some(visibility.name(self.family_name.as_deref(), None));
            self.record_id = String::new();
            self.birth_date = None;
            self.postcode = None;
            self.address = None;
            self.nhs_number = None;
            self.ni_number = None;
            self.upn = None;
        }
        self
    }

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

/// A SQL condition true when the source record `key_column` belongs to a person
/// whose family lies in the zones `visibility` allows (always true when it allows
/// every zone, so records not yet in a family still reach the analyst).
fn visible_record_condition(
    conn: &Connection,
    visibility: &Visibility,
    key_column: &str,
) -> Result<String, duckdb::Error> {
    let people = visible_person_condition(conn, visibility, "a.person_id")?;
    if people == "TRUE" {
        return Ok(people);
    }
    Ok(format!(
        "{key_column} IN (SELECT a.record_key FROM link.assignment a WHERE {people})"
    ))
}

/// A SQL condition true when `person_column` is a person whose family lies in the
/// zones `visibility` allows (always true when it allows every zone).
fn visible_person_condition(
    conn: &Connection,
    visibility: &Visibility,
    person_column: &str,
) -> Result<String, duckdb::Error> {
    let zones = visibility.zone_condition(conn, "f.zone_id")?;
    if zones == "TRUE" {
        return Ok(zones);
    }
    Ok(format!(
        "{person_column} IN (SELECT p.person_id FROM core.person p
                             JOIN core.family f ON f.family_id = p.family_id
                             WHERE {zones})"
    ))
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
/// most probable first: only pairs whose both records belong to people in the
/// zones `visibility` allows, masked when it says so.
pub fn read_review_queue(
    conn: &Connection,
    visibility: &Visibility,
    limit: usize,
) -> Result<Vec<ReviewItem>, StoreError> {
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
            "SELECT {} FROM ({}) p WHERE {} AND {}
             ORDER BY p.match_weight DESC, p.l_key, p.r_key LIMIT {limit}",
            score::scored_pair_columns(),
            review::pending_sql(review_from, accept),
            visible_record_condition(conn, visibility, "p.l_key")?,
            visible_record_condition(conn, visibility, "p.r_key")?,
        ))?
        .query_map([], |row| score::read_scored_pair(row, &model))?
        .collect::<Result<Vec<_>, _>>()?;
    pairs
        .into_iter()
        .map(|pair| {
            Ok(ReviewItem {
                left: details_of(conn, &pair.l_key)?.masked_for(visibility),
                right: details_of(conn, &pair.r_key)?.masked_for(visibility),
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
/// `text` (case-insensitive), at most `limit`, among those in the zones
/// `visibility` allows; on a masked screen names are initials and the date of
/// birth and postcode are not read out.
pub fn search_persons(
    conn: &Connection,
    visibility: &Visibility,
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
                    strftime(p.birth_date, '%d/%m/%Y'), p.postcode, p.source_records,
                    p.given_name, p.family_name
             FROM core.person p
             WHERE (upper(concat_ws(' ', p.given_name, p.family_name)) LIKE $1
                    OR upper(p.person_id) LIKE $1 OR p.nhs_number LIKE $1
                    OR p.person_id IN (SELECT person_id FROM core.source_record
                                       WHERE upper(source_record_id) LIKE $1))
               AND {visible}
             ORDER BY p.family_name, p.given_name, p.birth_date, p.person_id
             LIMIT {limit}",
            visible = visible_person_condition(conn, visibility, "p.person_id")?,
        ))?
        .query_map([pattern], |row| {
            let given: Option<String> = row.get(6)?;
            let family: Option<String> = row.get(7)?;
            let masked = visibility.masked();
            Ok(PersonHit {
                person_id: row.get(0)?,
                family_id: row.get(1)?,
                name: if masked {
                    visibility.name(given.as_deref(), family.as_deref())
                } else {
                    row.get(2)?
                },
                birth_date: if masked { None } else { row.get(3)? },
                postcode: if masked { None } else { row.get(4)? },
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

/// Reads a person's records and the scored pairs among them, as `visibility`
/// allows: `None` when the person is outside its zones, masked records on a masked
/// screen.
pub fn read_person_records(
    conn: &Connection,
    visibility: &Visibility,
    person_id: &str,
) -> Result<Option<PersonRecords>, StoreError> {
    let visible: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM core.person WHERE person_id = ? AND {}",
            visible_person_condition(conn, visibility, "person_id")?
        ),
        [person_id],
        |row| row.get(0),
    )?;
    if visible == 0 {
        return Ok(None);
    }
    let records = conn
        .prepare(&format!(
            "SELECT {DETAIL_COLUMNS} FROM link.record
             WHERE record_key IN (SELECT record_key FROM link.assignment WHERE person_id = ?)
             ORDER BY source, record_id"
        ))?
        .query_map([person_id], read_details)?
        .map(|record| record.map(|r| r.masked_for(visibility)))
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
    Ok(Some(PersonRecords {
        person_id: person_id.to_string(),
        records,
        links,
    }))
}
