//! Features, labels and criteria on a generated county through the real pipeline
//! (synth → ingest → link → `zonewise export-features` and `zonewise criteria`):
//! every child has one row, labels are 0/1 and agree with the county's true
//! outcomes, deleting every event from the reference date on changes no feature,
//! the CSV and Parquet exports read back with the table's values, and every
//! criterion a family meets rests on real events of that family before the date.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::process::Command;

use crate::common;

use arrow_array::Array as _;
use common::{Table, linked_county};
use duckdb::Connection;
use zonewise::risk;
use zonewise::store;

/// The generator's second reference date: outcomes are drawn for the 12 months from it.
const DATE: &str = "2025-04-01";

fn reference() -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(DATE, "%Y-%m-%d").expect("date")
}

fn zonewise(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_zonewise"))
        .args(args)
        .output()
        .expect("run zonewise");
    assert!(
        output.status.success(),
        "zonewise {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The exported rows as the database holds them: every column as text, NULL as "".
fn table_rows(conn: &Connection) -> (Vec<String>, Vec<Vec<String>>) {
    let sql = format!(
        "SELECT COLUMNS(*)::VARCHAR FROM (
             SELECT f.*, l.label, l.follow_up_complete
             FROM mart.risk_feature f JOIN mart.risk_label l USING (reference_date, person_id)
             WHERE f.reference_date = DATE '{DATE}')
         ORDER BY family_id, person_id"
    );
    let mut statement = conn.prepare(&sql).expect("prepare");
    let mut rows = statement.query([]).expect("query");
    let mut values = Vec::new();
    while let Some(row) = rows.next().expect("row") {
        let width = row.as_ref().column_count();
        values.push(
            (0..width)
                .map(|i| {
                    row.get::<_, Option<String>>(i)
                        .expect("value")
                        .unwrap_or_default()
                })
                .collect(),
        );
    }
    drop(rows);
    let names = statement.column_names();
    (names, values)
}

/// Two cells are the same value: equal text, or equal numbers.
fn same(a: &str, b: &str) -> bool {
    a == b
        || matches!((a.parse::<f64>(), b.parse::<f64>()),
                    (Ok(x), Ok(y)) if (x - y).abs() <= 1e-9 * x.abs().max(1.0))
}

fn assert_same_rows(
    what: &str,
    header: &[String],
    rows: &[Vec<String>],
    table: &(Vec<String>, Vec<Vec<String>>),
) {
    let (names, expected) = table;
    // `USING` makes family_id appear once; the export keeps the feature table's columns.
    assert_eq!(header, names.as_slice(), "{what}: columns");
    assert_eq!(rows.len(), expected.len(), "{what}: rows");
    for (index, (row, want)) in rows.iter().zip(expected).enumerate() {
        for ((cell, wanted), name) in row.iter().zip(want).zip(names) {
            assert!(
                same(cell, wanted),
                "{what} row {index} {name}: {cell} against {wanted}"
            );
        }
    }
}

fn parquet_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        File::open(path).expect("open parquet"),
    )
    .expect("parquet")
    .build()
    .expect("reader");
    let mut header = Vec::new();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.expect("batch");
        header = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        for row in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|column| {
                        if column.is_null(row) {
                            String::new()
                        } else {
                            arrow_cast::display::array_value_to_string(column, row).expect("cell")
                        }
                    })
                    .collect(),
            );
        }
    }
    (header, rows)
}

#[test]
fn features_labels_and_criteria_on_a_generated_county() {
    let dir = tempfile::tempdir().expect("temp");
    let db = linked_county(dir.path(), 1200, 29);
    let db_arg = db.to_str().expect("path");

    // Export through the command, as CSV and as Parquet.
    let csv = dir.path().join("features.csv");
    let parquet = dir.path().join("out/features.parquet");
    let printed = zonewise(&[
        "export-features",
        "--db",
        db_arg,
        "--date",
        DATE,
        "--out",
        csv.to_str().expect("path"),
    ]);
    assert!(printed.contains("rows written to"), "{printed}");
    zonewise(&[
        "export-features",
        "--db",
        db_arg,
        "--date",
        DATE,
        "--out",
        parquet.to_str().expect("path"),
    ]);
    for set in ["supporting-families", "troubled-families-2015"] {
        let printed = zonewise(&["criteria", "--db", db_arg, "--date", DATE, "--set", set]);
        assert!(printed.contains("Families meeting"), "{printed}");
    }

    let conn = store::open(&db).expect("open");
    let r = format!("DATE '{DATE}'");

    // Every child under 18 on the date has exactly one row, and nobody else does.
    let children = count(
        &conn,
        &format!(
            "SELECT count(*) FROM core.person
             WHERE birth_date <= {r} AND birth_date > {r} - INTERVAL 18 YEAR"
        ),
    );
    assert!(children > 1000, "{children} children");
    let rows = count(
        &conn,
        &format!("SELECT count(*) FROM mart.risk_feature WHERE reference_date = {r}"),
    );
    assert_eq!(rows, children, "one row per child");
    assert_eq!(
        count(
            &conn,
            &format!(
                "SELECT count(DISTINCT person_id) FROM mart.risk_feature WHERE reference_date = {r}"
            )
        ),
        rows
    );
    assert_eq!(
        count(
            &conn,
            &format!(
                "SELECT count(*) FROM mart.risk_feature f JOIN core.person p USING (person_id)
                 WHERE f.reference_date = {r} AND (p.family_id <> f.family_id OR f.age_years NOT BETWEEN 0 AND 17)"
            )
        ),
        0,
        "each row in the child's family, with an age under 18"
    );

    // Labels: one per row, 0 or 1, a plausible share (the generator's is about 4% a year).
    assert_eq!(count(&conn, "SELECT count(*) FROM mart.risk_label"), rows);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM mart.risk_label WHERE label NOT IN (0, 1)"
        ),
        0
    );
    let positives = count(
        &conn,
        "SELECT count(*) FROM mart.risk_label WHERE label = 1",
    );
    let share = positives as f64 / rows as f64;
    assert!(
        (0.01..0.10).contains(&share),
        "{positives} of {rows} labelled 1"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM mart.risk_label WHERE NOT follow_up_complete"
        ),
        0
    );

    // Against the truth: each labelled child's true person (the majority of its
    // records) and that person's true outcome at this date.
    let county = dir.path().join("county");
    let records = Table::truth(&county, "records");
    let true_person: BTreeMap<(String, String), String> = records
        .rows
        .iter()
        .map(|row| ((row[0].clone(), row[1].clone()), row[2].clone()))
        .collect();
    let mut votes: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut statement = conn
        .prepare("SELECT source, source_record_id, person_id FROM core.source_record")
        .expect("prepare");
    for row in statement
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .expect("query")
    {
        let (source, record, person) = row.expect("row");
        *votes
            .entry(person)
            .or_default()
            .entry(true_person[&(source, record)].clone())
            .or_default() += 1;
    }
    let truth_of: BTreeMap<String, String> = votes
        .into_iter()
        .filter_map(|(person, counts)| {
            Some((person, counts.into_iter().max_by_key(|(_, n)| *n)?.0))
        })
        .collect();
    let outcomes = Table::truth(&county, "outcomes");
    let (person_col, date_col, outcome_col) = (
        outcomes.column("person_id"),
        outcomes.column("reference_date"),
        outcomes.column("outcome"),
    );
    let true_outcome: BTreeMap<String, String> = outcomes
        .rows
        .iter()
        .filter(|row| row[date_col] == DATE)
        .map(|row| (row[person_col].clone(), row[outcome_col].clone()))
        .collect();
    let labels: Vec<(String, i32)> = conn
        .prepare("SELECT person_id, label FROM mart.risk_label")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let (mut compared, mut agree, mut true_positives, mut found) = (0, 0, 0, 0);
    for (person, label) in &labels {
        let Some(outcome) = truth_of.get(person).and_then(|t| true_outcome.get(t)) else {
            continue;
        };
        compared += 1;
        agree += usize::from(outcome == &label.to_string());
        if outcome == "1" {
            true_positives += 1;
            found += usize::from(*label == 1);
        }
    }
    assert!(
        compared as f64 > 0.85 * labels.len() as f64,
        "{compared} of {} compared",
        labels.len()
    );
    assert!(
        agree as f64 > 0.99 * compared as f64,
        "{agree} of {compared} labels agree with the truth"
    );
    assert!(
        true_positives > 10 && found as f64 > 0.95 * true_positives as f64,
        "{found} of {true_positives} true escalations labelled 1"
    );

    // The exports read back with the table's values.
    let table = table_rows(&conn);
    let csv_table = Table::read(&csv, ',');
    assert_same_rows("CSV", &csv_table.header, &csv_table.rows, &table);
    let (header, rows_read) = parquet_rows(&parquet);
    assert_same_rows("Parquet", &header, &rows_read, &table);
    assert!(
        !table
            .0
            .iter()
            .any(|c| c.contains("probability") || c.contains("oracle"))
    );

    // Criteria: one row per family with a child and criterion; met exactly when
    // there is evidence; every evidence row a real event of that family before the date.
    for (set, criteria) in [("supporting-families", 10), ("troubled-families-2015", 6)] {
        let families = count(
            &conn,
            &format!(
                "SELECT count(DISTINCT family_id) FROM mart.risk_feature WHERE reference_date = {r}"
            ),
        );
        assert_eq!(
            count(
                &conn,
                &format!("SELECT count(*) FROM mart.family_criterion WHERE rule_set = '{set}'")
            ),
            families * criteria,
            "{set}"
        );
        assert_eq!(
            count(
                &conn,
                &format!(
                    "SELECT count(*) FROM mart.family_criterion
                     WHERE rule_set = '{set}' AND met <> (evidence_events > 0)"
                )
            ),
            0
        );
        assert_eq!(
            count(
                &conn,
                &format!(
                    "SELECT count(*) FROM mart.criterion_evidence ev
                     LEFT JOIN core.event e USING (source, line)
                     WHERE ev.rule_set = '{set}'
                       AND (e.line IS NULL OR e.family_id <> ev.family_id
                            OR e.event_date >= {r} OR e.event_type <> ev.event_type)"
                )
            ),
            0,
            "{set}: evidence rows are the family's own events before the date"
        );
    }
    let met = |criterion: &str| {
        count(
            &conn,
            &format!(
                "SELECT count(*) FROM mart.family_criterion
                 WHERE rule_set = 'supporting-families' AND criterion = '{criterion}' AND met"
            ),
        )
    };
    for criterion in [
        "education",
        "early_years",
        "health",
        "family_relationships",
        "safe_from_abuse",
        "crime",
        "domestic_abuse",
        "secure_housing",
        "financial_stability",
    ] {
        assert!(met(criterion) > 0, "{criterion} meets no family");
    }
    // No extract in the synthetic county records substance use.
    assert_eq!(met("substance_use"), 0);
    drop(conn);

    // No future leakage: remove every event dated on or after the reference date
    // and build again; not one feature or criterion changes.
    let snapshot = |conn: &Connection, table: &str| -> Vec<String> {
        conn.prepare(&format!("SELECT t::VARCHAR FROM {table} t ORDER BY ALL"))
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let conn = store::open(&db).expect("open");
    let features_before = snapshot(&conn, "mart.risk_feature");
    let criteria_before = snapshot(&conn, "mart.criterion_evidence");
    let removed = conn
        .execute(
            &format!("DELETE FROM core.event WHERE event_date >= {r}"),
            [],
        )
        .expect("delete");
    assert!(removed > 1000, "{removed} later events");
    risk::build(&conn, reference()).expect("features without the future");
    let sets = risk::criteria::built_in().expect("rules");
    for set in &sets {
        risk::criteria::evaluate(&conn, set, reference()).expect("criteria without the future");
    }
    assert_eq!(snapshot(&conn, "mart.risk_feature"), features_before);
    assert_eq!(snapshot(&conn, "mart.criterion_evidence"), criteria_before);
}

#[test]
fn export_refuses_an_unknown_extension_before_touching_the_database() {
    let dir = tempfile::tempdir().expect("temp");
    let output = Command::new(env!("CARGO_BIN_EXE_zonewise"))
        .args([
            "export-features",
            "--db",
            "missing.duckdb",
            "--date",
            DATE,
            "--out",
        ])
        .arg(dir.path().join("features.xlsx"))
        .output()
        .expect("run");
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("features.xlsx") && message.contains(".parquet"),
        "{message}"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_zonewise"))
        .args([
            "criteria",
            "--db",
            "missing.duckdb",
            "--date",
            "1 April 2025",
        ])
        .output()
        .expect("run");
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("yyyy-mm-dd"), "{message}");
}
