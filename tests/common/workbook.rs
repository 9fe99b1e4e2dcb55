//! Writing an extract as a person's Excel would hold it, for the tests that
//! read workbooks (ingest's Excel twin, the app's new-database flow).

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use zonewise::ingest::manifest::{FieldRole, SourceSpec};

use super::Table;

/// Writes `csv` as the sheet `sheet` of the workbook `xlsx`, typing each cell as
/// a person's Excel would hold it: the date roles as date cells, numbers as
/// numbers (unless a leading zero would be lost), everything else as text, and
/// an empty field as an empty cell. Two formatted but empty rows follow the
/// data, as a used sheet often has.
pub fn write_workbook(source: &SourceSpec, csv: &Path, xlsx: &Path, sheet: &str) {
    let table = Table::read(csv, source.delimiter);
    let date_columns: Vec<&String> = [FieldRole::BirthDate, FieldRole::EventDate]
        .iter()
        .filter_map(|role| source.columns.get(role))
        .collect();
    let mut workbook = Workbook::new();
    let worksheet = workbook.add_worksheet();
    worksheet.set_name(sheet).expect("sheet name");
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    for (col, header) in table.header.iter().enumerate() {
        worksheet
            .write_string(0, col as u16, header)
            .expect("header");
    }
    for (index, row) in table.rows.iter().enumerate() {
        let at = index as u32 + 1;
        for (col, text) in row.iter().enumerate() {
            let col = col as u16;
            if text.is_empty() {
                continue;
            }
            if date_columns.contains(&&table.header[col as usize]) {
                let date = NaiveDate::parse_from_str(text, &source.date_format)
                    .expect("a date in the source's format");
                let cell = ExcelDateTime::from_ymd(
                    date.year() as u16,
                    date.month() as u8,
                    date.day() as u8,
                )
                .expect("an Excel date");
                worksheet
                    .write_datetime_with_format(at, col, &cell, &date_format)
                    .expect("date");
            } else if let Some(number) = text
                .parse::<f64>()
                .ok()
                .filter(|_| !text.starts_with('0') || text == "0" || text.starts_with("0."))
            {
                worksheet.write_number(at, col, number).expect("number");
            } else {
                worksheet.write_string(at, col, text).expect("text");
            }
        }
    }
    let blank_rows = table.rows.len() as u32 + 1;
    for row in blank_rows..blank_rows + 2 {
        worksheet
            .write_blank(row, 0, &date_format)
            .expect("formatted blank");
    }
    workbook.save(xlsx).expect("save workbook");
}
