//! Parquet extracts load through the same validation as CSV: typed dates stay
//! dates, text dates follow the manifest's format, and bad values are named by
//! file, row and column with the database left unchanged.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Date32Array, Float64Array, RecordBatch, StringArray};
use zonewise::ingest::{self, Manifest};
use zonewise::store;

use crate::common::table_counts;

const MANIFEST: &str = r#"
county = "Parquet test"
[[source]]
name = "pupils"
agency = "education"
system = "Pupil database"
file = "pupils.parquet"
format = "parquet"
event_type = "attendance"
[source.columns]
record_id = "pupil_id"
given_name = "forename"
birth_date = "dob"
event_value = "attendance"
event_date = "term_start"
"#;

/// Writes a Parquet file whose `dob` is a real date column and `term_start` is text.
fn write_parquet(path: &Path, term_starts: [&str; 3], with_forename: bool) {
    let mut columns: Vec<(&str, ArrayRef)> = vec![
        (
            "pupil_id",
            Arc::new(StringArray::from(vec!["P1", "P1", "P2"])),
        ),
        (
            "dob",
            // Days since 1970-01-01: 2015-02-03 and 2013-11-12.
            Arc::new(Date32Array::from(vec![
                Some(16469),
                Some(16469),
                Some(16021),
            ])),
        ),
        (
            "attendance",
            Arc::new(Float64Array::from(vec![96.5, 91.0, 88.0])),
        ),
        (
            "term_start",
            Arc::new(StringArray::from(term_starts.to_vec())),
        ),
    ];
    if with_forename {
        columns.push((
            "forename",
            Arc::new(StringArray::from(vec![
                Some("Amelia"),
                Some("Amelia"),
                None,
            ])),
        ));
    }
    let batch = RecordBatch::try_from_iter(columns).expect("batch");
    let mut writer = parquet::arrow::ArrowWriter::try_new(
        File::create(path).expect("create"),
        batch.schema(),
        None,
    )
    .expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
}

#[test]
fn parquet_extract_loads_with_typed_and_text_dates() {
    let dir = tempfile::tempdir().expect("temp");
    write_parquet(
        &dir.path().join("pupils.parquet"),
        ["01/09/2023", "04/01/2024", "01/09/2023"],
        true,
    );
    let manifest =
        Manifest::parse(MANIFEST, Path::new("m.toml"), dir.path().to_path_buf()).expect("manifest");
    let conn = store::open_in_memory().expect("db");
    ingest::ingest(&conn, &manifest, "analyst", &mut |_| {}).expect("parquet loads");
    let (birth, term, value, line, given): (String, String, f64, i64, Option<String>) = conn
        .query_row(
            "SELECT birth_date::VARCHAR, event_date::VARCHAR, event_value, _line, given_name
             FROM staging.pupils WHERE record_id = 'P2'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .expect("P2");
    assert_eq!(birth, "2013-11-12", "a Parquet date column stays a date");
    assert_eq!(
        term, "2023-09-01",
        "text dates follow date_format (dd/mm/yyyy)"
    );
    assert_eq!(value, 88.0);
    assert_eq!(line, 3, "_line holds the Parquet row number");
    assert_eq!(given, None, "a Parquet null is a missing value");
}

#[test]
fn parquet_bad_values_name_row_and_column_and_change_nothing() {
    let dir = tempfile::tempdir().expect("temp");
    let manifest =
        Manifest::parse(MANIFEST, Path::new("m.toml"), dir.path().to_path_buf()).expect("manifest");
    let conn = store::open_in_memory().expect("db");
    write_parquet(
        &dir.path().join("pupils.parquet"),
        ["01/09/2023", "04/01/2024", "01/09/2023"],
        true,
    );
    ingest::ingest(&conn, &manifest, "analyst", &mut |_| {}).expect("first load");
    let before = table_counts(&conn);

    write_parquet(
        &dir.path().join("pupils.parquet"),
        ["01/09/2023", "2024-01-04", "01/09/2023"],
        true,
    );
    let error = ingest::ingest(&conn, &manifest, "analyst", &mut |_| {})
        .expect_err("ISO text in a dd/mm/yyyy column");
    let message = error.to_string();
    assert!(
        message.contains("pupils.parquet, row 2, column 'term_start'"),
        "{message}"
    );
    assert!(message.contains("dd/mm/yyyy"), "{message}");
    assert_eq!(before, table_counts(&conn));

    write_parquet(
        &dir.path().join("pupils.parquet"),
        ["01/09/2023", "04/01/2024", "01/09/2023"],
        false,
    );
    let message = ingest::ingest(&conn, &manifest, "analyst", &mut |_| {})
        .expect_err("no forename")
        .to_string();
    assert!(
        message.contains("missing required column 'forename'"),
        "{message}"
    );
    assert_eq!(before, table_counts(&conn));

    std::fs::write(
        dir.path().join("pupils.parquet"),
        "pupil_id,forename\nP1,Amelia\n",
    )
    .expect("write");
    let message = ingest::ingest(&conn, &manifest, "analyst", &mut |_| {})
        .expect_err("CSV named .parquet")
        .to_string();
    assert!(message.contains("pupils.parquet"), "{message}");
    assert!(message.contains("not a readable Parquet file"), "{message}");
    assert_eq!(before, table_counts(&conn));

    std::fs::write(dir.path().join("pupils.parquet"), "").expect("write");
    let message = ingest::ingest(&conn, &manifest, "analyst", &mut |_| {})
        .expect_err("empty")
        .to_string();
    assert!(
        message.contains("pupils.parquet: the file is empty"),
        "{message}"
    );
    assert_eq!(before, table_counts(&conn));
}
