//! Excel extracts load through the same validation as CSV: a generated county
//! written as workbooks (dates as real date cells, NHS numbers and values as
//! numbers, as Excel keeps them) loads the same rows as its CSV files, and a bad
//! cell is named by file, sheet, row and column with the database unchanged.

use std::path::Path;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use zonewise::ingest;
use zonewise::ingest::manifest::{FileFormat, Manifest};
use zonewise::store;

use crate::common::workbook::write_workbook;
use crate::common::{synth_county, table_counts};

/// Every staging table's rows, each as text, in file order.
fn staging_rows(conn: &duckdb::Connection, sources: &[String]) -> Vec<(String, Vec<String>)> {
    sources
        .iter()
        .map(|source| {
            let mut statement = conn
                .prepare(&format!(
                    "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM staging.{source} ORDER BY _line"
                ))
                .expect("prepare");
            let rows = statement
                .query_map([], |row| {
                    let width = row.as_ref().column_count();
                    Ok((0..width)
                        .map(|i| {
                            row.get::<_, Option<String>>(i)
                                .map(Option::unwrap_or_default)
                        })
                        .collect::<Result<Vec<_>, _>>()?
                        .join("|"))
                })
                .expect("query")
                .collect::<Result<Vec<_>, _>>()
                .expect("rows");
            (source.clone(), rows)
        })
        .collect()
}

#[test]
fn a_county_in_excel_loads_the_same_rows_as_its_csv_twin() {
    let dir = tempfile::tempdir().expect("temp");
    let manifest_path = synth_county(dir.path(), "county", 60, 17);
    let csv = Manifest::load(&manifest_path).expect("manifest");

    let mut excel = csv.clone();
    for source in &mut excel.sources {
        let workbook = source.file.with_extension("xlsx");
        write_workbook(
            source,
            &csv.resolve(&source.file),
            &csv.resolve(&workbook),
            "Extract",
        );
        source.file = workbook;
        source.format = FileFormat::Excel;
        source.sheet = Some("Extract".to_string());
    }
    // The twin manifest is what an analyst would save: it must read back as written.
    let excel_path = dir.path().join("county").join("excel.toml");
    std::fs::write(&excel_path, excel.to_toml().expect("toml")).expect("write manifest");
    let excel = Manifest::load(&excel_path).expect("the Excel manifest parses");

    let names: Vec<String> = csv.sources.iter().map(|s| s.name.clone()).collect();
    let from_csv = store::open_in_memory().expect("db");
    ingest::ingest(&from_csv, &csv, "analyst", &mut |_| {}).expect("CSV loads");
    let from_excel = store::open_in_memory().expect("db");
    ingest::ingest(&from_excel, &excel, "analyst", &mut |_| {}).expect("Excel loads");

    let csv_rows = staging_rows(&from_csv, &names);
    let excel_rows = staging_rows(&from_excel, &names);
    assert!(csv_rows.iter().map(|(_, rows)| rows.len()).sum::<usize>() > 1000);
    for ((source, csv), (_, excel)) in csv_rows.iter().zip(&excel_rows) {
        assert_eq!(csv.len(), excel.len(), "{source}: row counts differ");
        for (csv, excel) in csv.iter().zip(excel) {
            assert_eq!(csv, excel, "{source}: a row differs");
        }
    }
}

const MANIFEST: &str = r#"
county = "Excel test"
[[source]]
name = "pupils"
agency = "education"
system = "Pupil database"
file = "pupils.xlsx"
format = "excel"
sheet = "Pupils"
event_type = "attendance"
[source.columns]
record_id = "pupil_id"
birth_date = "dob"
event_value = "attendance"
"#;

/// A three-pupil sheet whose third data row (row 4 on screen) has `dob` as given.
fn write_pupils(path: &Path, third_dob: &str) {
    let mut workbook = Workbook::new();
    // A cover sheet first, as workbooks from agency systems often have.
    workbook
        .add_worksheet()
        .set_name("About")
        .expect("name")
        .write_string(0, 0, "Extract from the pupil database")
        .expect("cover");
    let sheet = workbook.add_worksheet();
    sheet.set_name("Pupils").expect("name");
    for (col, header) in ["pupil_id", "dob", "attendance"].iter().enumerate() {
        sheet.write_string(0, col as u16, *header).expect("header");
    }
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    for (row, (id, attendance)) in [("P1", 96.5), ("P2", 91.0), ("P3", 88.0)]
        .into_iter()
        .enumerate()
    {
        let row = row as u32 + 1;
        sheet.write_string(row, 0, id).expect("id");
        sheet.write_number(row, 2, attendance).expect("value");
        if row == 3 {
            sheet.write_string(row, 1, third_dob).expect("typed date");
        } else {
            let date = ExcelDateTime::from_ymd(2015, 2, row as u8).expect("date");
            sheet
                .write_datetime_with_format(row, 1, &date, &date_format)
                .expect("date");
        }
    }
    workbook.save(path).expect("save");
}

#[test]
fn a_bad_cell_is_named_by_sheet_row_and_column_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp");
    let manifest =
        Manifest::parse(MANIFEST, Path::new("m.toml"), dir.path().to_path_buf()).expect("manifest");
    let conn = store::open_in_memory().expect("db");
    let path = dir.path().join("pupils.xlsx");

    // A date typed as text follows the manifest's date_format.
    write_pupils(&path, "03/02/2015");
    ingest::ingest(&conn, &manifest, "analyst", &mut |_| {}).expect("first load");
    let rows: Vec<(String, String, i64)> = conn
        .prepare("SELECT record_id, birth_date::VARCHAR, _line FROM staging.pupils ORDER BY _line")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        rows,
        vec![
            ("P1".to_string(), "2015-02-01".to_string(), 2),
            ("P2".to_string(), "2015-02-02".to_string(), 3),
            ("P3".to_string(), "2015-02-03".to_string(), 4),
        ],
        "date cells and typed dates alike; _line is the row the sheet shows"
    );
    let before = table_counts(&conn);

    write_pupils(&path, "31/02/2015");
    let message = ingest::ingest(&conn, &manifest, "analyst", &mut |_| {})
        .expect_err("an impossible date")
        .to_string();
    assert!(
        message.contains("pupils.xlsx, sheet 'Pupils', row 4, column 'dob'"),
        "{message}"
    );
    assert!(message.contains("dd/mm/yyyy"), "{message}");
    assert_eq!(before, table_counts(&conn), "nothing changed");

    let wrong_sheet = MANIFEST.replace("sheet = \"Pupils\"", "sheet = \"Children\"");
    let manifest = Manifest::parse(&wrong_sheet, Path::new("m.toml"), dir.path().to_path_buf())
        .expect("manifest");
    let message = ingest::ingest(&conn, &manifest, "analyst", &mut |_| {})
        .expect_err("no such sheet")
        .to_string();
    assert!(
        message.contains("no sheet named 'Children'") && message.contains("About, Pupils"),
        "{message}"
    );
    assert_eq!(before, table_counts(&conn), "nothing changed");
}
