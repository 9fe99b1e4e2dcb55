//! The core tables linkage leaves behind, on a generated county: each person's and
//! family's LSOA (through the synthetic postcode directory) against the generator's
//! own streets and the true homes, and every extract row in `core.event` once, with
//! the person its record was linked to, against the truth.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common;

use common::Table;
use duckdb::Connection;
use zonewise::ingest::manifest::FieldRole;
use zonewise::ingest::{self, Manifest};
use zonewise::link::{self, LinkConfig};
use zonewise::store;
use zonewise::synth::{self, SynthConfig};

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/ref")
}

fn linked_county(out: &Path) -> (Connection, Manifest) {
    synth::generate(
        &SynthConfig {
            out_dir: out.to_path_buf(),
            reference_dir: reference_dir(),
            families: 800,
            seed: 41,
            noise: 1.0,
            gzip: false,
            authorities: Vec::new(),
            months: 1,
            // No early-help effect: the county is the one this test was written on.
            round_tables: zonewise::synth::round_tables::RoundTableConfig::no_effect(),
        },
        &|_, _| {},
    )
    .expect("synth");
    let manifest = Manifest::load(&out.join("manifest.toml")).expect("manifest");
    let conn = store::open_in_memory().expect("db");
    ingest::ingest(&conn, &manifest, "analyst", &mut |_| {}).expect("ingest");
    link::link(&conn, &LinkConfig::default(), "analyst").expect("link");
    (conn, manifest)
}

/// A row of `core.event`: source, line, person, record id, event type, family.
type EventRow = (String, i64, Option<String>, String, String, Option<String>);

/// The postcode key: upper case, letters and digits only.
fn key(postcode: &str) -> String {
    postcode
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn strings(conn: &Connection, sql: &str, columns: usize) -> Vec<Vec<Option<String>>> {
    let mut statement = conn.prepare(sql).expect("prepare");
    statement
        .query_map([], |row| {
            (0..columns)
                .map(|i| row.get::<_, Option<String>>(i))
                .collect()
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// The most common value of each key's list.
fn majority(values: BTreeMap<String, Vec<String>>) -> BTreeMap<String, String> {
    values
        .into_iter()
        .filter_map(|(k, vs)| {
            let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
            for v in &vs {
                *counts.entry(v).or_default() += 1;
            }
            let best = counts.into_iter().max_by_key(|(_, n)| *n)?.0.clone();
            Some((k, best))
        })
        .collect()
}

#[test]
fn people_and_families_are_placed_in_lsoas_and_every_event_lands_once() {
    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("county");
    let (conn, manifest) = linked_county(&out);

    // The generator's own streets: postcode → LSOA, read from the geography, not the file.
    let geography = synth::geography::load_geography(&reference_dir(), &[]).expect("geography");
    let lsoa_of_postcode: BTreeMap<String, String> = geography
        .lsoas
        .iter()
        .flat_map(|l| l.streets.iter().map(|s| (key(&s.postcode), l.code.clone())))
        .collect();
    let zones = Table::read(&out.join("zones.csv"), ',');
    let zone_of_lsoa: BTreeMap<String, String> = zones
        .rows
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();

    // Every person: the LSOA of the postcode linkage chose, and none without one.
    let persons = strings(
        &conn,
        "SELECT person_id, postcode, lsoa_code FROM core.person",
        3,
    );
    assert!(persons.len() > 2000, "{} persons", persons.len());
    for row in &persons {
        let expected = row[1].as_ref().and_then(|p| lsoa_of_postcode.get(p));
        assert_eq!(row[2].as_ref(), expected, "person {:?}", row[0]);
    }
    let placed = persons.iter().filter(|r| r[2].is_some()).count();
    assert!(
        placed as f64 > 0.97 * persons.len() as f64,
        "{placed} of {} placed",
        persons.len()
    );

    // Against the truth: a linked person's true person (the majority over its
    // records) lives in the true family's current LSOA. Stale addresses and moves
    // make some people's modal postcode an old one, so not all agree.
    let records = Table::truth(&out, "records");
    let true_person: BTreeMap<(String, String), (String, String)> = records
        .rows
        .iter()
        .map(|r| ((r[0].clone(), r[1].clone()), (r[2].clone(), r[3].clone())))
        .collect();
    let families = Table::truth(&out, "families");
    let true_lsoa: BTreeMap<String, String> = families
        .rows
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let mut truth_of_linked: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut true_family_of_linked: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in strings(
        &conn,
        "SELECT s.source, s.source_record_id, s.person_id, p.family_id
         FROM core.source_record s JOIN core.person p USING (person_id)",
        4,
    ) {
        let [Some(source), Some(record), Some(person), Some(family)] = &row[..] else {
            panic!("incomplete source record {row:?}");
        };
        let (person_truth, family_truth) = &true_person[&(source.clone(), record.clone())];
        truth_of_linked
            .entry(person.clone())
            .or_default()
            .push(person_truth.clone());
        true_family_of_linked
            .entry(family.clone())
            .or_default()
            .push(family_truth.clone());
    }
    let true_family_of_linked = majority(true_family_of_linked);
    let linked_family: BTreeMap<String, String> =
        strings(&conn, "SELECT person_id, family_id FROM core.person", 2)
            .into_iter()
            .filter_map(|r| Some((r[0].clone()?, r[1].clone()?)))
            .collect();
    let agreeing = persons
        .iter()
        .filter(|r| {
            let Some(person) = &r[0] else { return false };
            let family = &true_family_of_linked[&linked_family[person]];
            r[2].as_ref() == true_lsoa.get(family)
        })
        .count();
    let share = agreeing as f64 / persons.len() as f64;
    // Measured 0.92 on this county (seed 41, 800 families).
    assert!(share > 0.88, "{share:.3} of people in their true LSOA");

    // Families: the LSOA of the modal postcode, and that LSOA's zone.
    for row in strings(
        &conn,
        "SELECT family_id, postcode, lsoa_code, zone_id FROM core.family",
        4,
    ) {
        let expected = row[1].as_ref().and_then(|p| lsoa_of_postcode.get(p));
        assert_eq!(row[2].as_ref(), expected, "family {:?}", row[0]);
        assert_eq!(
            row[3].as_ref(),
            expected.and_then(|l| zone_of_lsoa.get(l)),
            "zone of family {:?}",
            row[0]
        );
    }

    // Events: every extract row once, by (source, line), with its type and date
    // as the file has them, and the person its record was linked to.
    let mut expected_rows: BTreeMap<(String, i64), (String, String)> = BTreeMap::new();
    for spec in &manifest.sources {
        let table = Table::read(&manifest.resolve(&spec.file), spec.delimiter);
        let record = table.column(&spec.columns[&FieldRole::RecordId]);
        let event = table.column(&spec.columns[&FieldRole::EventType]);
        for (index, row) in table.rows.iter().enumerate() {
            // Line 1 is the header; no synthetic field holds a line break.
            let line = index as i64 + 2;
            expected_rows.insert(
                (spec.name.clone(), line),
                (
                    row[record].trim().to_string(),
                    row[event].trim().to_string(),
                ),
            );
        }
    }
    let events: Vec<EventRow> = conn
        .prepare("SELECT source, line, person_id, record_id, event_type, family_id FROM core.event")
        .expect("prepare")
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        events.len(),
        expected_rows.len(),
        "one event per extract row"
    );
    let keys: BTreeSet<(String, i64)> = events.iter().map(|e| (e.0.clone(), e.1)).collect();
    assert_eq!(keys.len(), events.len(), "no row twice");
    let linked_person_of_record: BTreeMap<(String, String), String> = strings(
        &conn,
        "SELECT source, source_record_id, person_id FROM core.source_record",
        3,
    )
    .into_iter()
    .filter_map(|r| Some(((r[0].clone()?, r[1].clone()?), r[2].clone()?)))
    .collect();
    let truth_of_linked = majority(truth_of_linked);
    let mut right_person = 0usize;
    for (source, line, person, record, event_type, family) in &events {
        let (file_record, file_event) = &expected_rows[&(source.clone(), *line)];
        assert_eq!(
            (record, event_type),
            (file_record, file_event),
            "{source} line {line}"
        );
        let person = person.as_ref().expect("every event has a person");
        assert_eq!(
            person,
            &linked_person_of_record[&(source.clone(), record.clone())],
            "{source} line {line}: the record's linked person"
        );
        assert_eq!(
            family.as_ref(),
            linked_family.get(person),
            "{source} line {line}"
        );
        let (true_of_row, _) = &true_person[&(source.clone(), record.clone())];
        if &truth_of_linked[person] == true_of_row {
            right_person += 1;
        }
    }
    let share = right_person as f64 / events.len() as f64;
    // Measured 0.998: linkage's own precision bounds it.
    assert!(share > 0.99, "{share:.4} of events with their true person");
}
