//! The postcode → LSOA lookup, `ref.postcode`, from an extract of the ONS postcode
//! directory (NSPL or ONSPD). Agency systems hold addresses, not LSOAs; this is how
//! councils place a person on the map.
//!
//! The file is read row by row so that a bad row is named by its line and column,
//! as extracts are. Only the `pcds` (postcode) and `lsoa11` (LSOA 2011) columns are
//! used; the directory's other columns are ignored, so a council can cut the real
//! NSPL to its own area and load it unchanged.

use std::fs::File;
use std::path::Path;

use duckdb::Connection;

use super::error::{IngestError, Location};
use crate::link::standardise::postcode_key_sql;

/// Header of the postcode column in the ONS postcode directory (one space before the inward code).
pub const POSTCODE_COLUMN: &str = "pcds";
/// Header of the LSOA 2011 code column in the ONS postcode directory.
pub const LSOA_COLUMN: &str = "lsoa11";

/// Replaces `ref.postcode` with the lookup in `file`; `imd` is named when an LSOA is
/// unknown. Must run after `ref.lsoa` is loaded, inside the ingest transaction.
/// Returns the number of postcodes.
pub fn load(conn: &Connection, file: &Path, imd: &Path) -> Result<u64, IngestError> {
    let rows = read_rows(file)?;
    conn.execute_batch(
        "DELETE FROM ref.postcode;
         CREATE OR REPLACE TEMP TABLE postcode_load (line BIGINT, postcode VARCHAR, lsoa_code VARCHAR);",
    )?;
    {
        let mut appender = conn.appender("postcode_load")?;
        for row in &rows {
            appender.append_row(duckdb::params![row.line as i64, row.postcode, row.lsoa])?;
        }
    }
    let key = postcode_key_sql("postcode");
    let conflict: Option<(i64, i64, String)> = optional(conn.query_row(
        &format!(
            "SELECT min(line), max(line), any_value(postcode) FROM postcode_load
             GROUP BY {key} HAVING count(DISTINCT lsoa_code) > 1 ORDER BY 1 LIMIT 1"
        ),
        [],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    ))?;
    if let Some((first, second, postcode)) = conflict {
        return Err(IngestError::BadValue {
            file: file.to_path_buf(),
            at: Location::Line(second as u64),
            column: POSTCODE_COLUMN.to_string(),
            message: format!(
                "postcode {postcode} is also on line {first} with another LSOA; a postcode must map to one LSOA"
            ),
        });
    }
    let unknown: Option<(i64, String)> = optional(conn.query_row(
        "SELECT line, lsoa_code FROM postcode_load p
         ANTI JOIN ref.lsoa l USING (lsoa_code) ORDER BY line LIMIT 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    ))?;
    if let Some((line, code)) = unknown {
        return Err(IngestError::BadValue {
            file: file.to_path_buf(),
            at: Location::Line(line as u64),
            column: LSOA_COLUMN.to_string(),
            message: format!(
                "LSOA {code} is not in the IMD table {}; cut the postcode directory to the county's LSOAs",
                imd.display()
            ),
        });
    }
    conn.execute_batch(&format!(
        "INSERT INTO ref.postcode
         SELECT {key}, any_value(postcode ORDER BY line), any_value(lsoa_code)
         FROM postcode_load GROUP BY {key};
         DROP TABLE postcode_load;"
    ))?;
    let count: i64 = conn.query_row("SELECT count(*) FROM ref.postcode", [], |row| row.get(0))?;
    Ok(count.max(0) as u64)
}

/// One checked row of the postcode file.
struct PostcodeRow {
    line: u64,
    postcode: String,
    lsoa: String,
}

/// Reads and checks every row: a well-formed UK postcode and a non-empty LSOA code.
fn read_rows(file: &Path) -> Result<Vec<PostcodeRow>, IngestError> {
    let open_error = |source| IngestError::Open {
        file: file.to_path_buf(),
        source,
    };
    let handle = File::open(file).map_err(open_error)?;
    let input = crate::compressed::reader(file, handle);
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let bad_row = |line: u64, message: String| IngestError::BadRow {
        file: file.to_path_buf(),
        at: Location::Line(line),
        message,
    };
    let headers: Vec<String> = reader
        .byte_headers()
        .map_err(|e| bad_row(1, e.to_string()))?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(IngestError::Empty {
            file: file.to_path_buf(),
        });
    }
    let find = |wanted: &str, meaning: &str| {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| IngestError::MissingColumn {
                file: file.to_path_buf(),
                column: wanted.to_string(),
                detail: format!(
                    "({meaning}, as in the ONS postcode directory); the header has: {}",
                    headers.join(", ")
                ),
            })
    };
    let postcode_at = find(POSTCODE_COLUMN, "the postcode")?;
    let lsoa_at = find(LSOA_COLUMN, "the LSOA 2011 code")?;
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                let at = error.position().map_or(line, csv::Position::line);
                return Err(bad_row(at, error.to_string()));
            }
        }
        let line = record.position().map_or(line, csv::Position::line);
        let text = |index: usize, column: &str| -> Result<String, IngestError> {
            let bytes = record.get(index).unwrap_or_default();
            std::str::from_utf8(bytes)
                .map(|s| s.trim().to_string())
                .map_err(|_| IngestError::BadValue {
                    file: file.to_path_buf(),
                    at: Location::Line(line),
                    column: column.to_string(),
                    message: "the value is not UTF-8 text".to_string(),
                })
        };
        let postcode = text(postcode_at, POSTCODE_COLUMN)?;
        let lsoa = text(lsoa_at, LSOA_COLUMN)?;
        let bad_value = |column: &str, message: String| IngestError::BadValue {
            file: file.to_path_buf(),
            at: Location::Line(line),
            column: column.to_string(),
            message,
        };
        if !is_postcode(&postcode) {
            return Err(bad_value(
                POSTCODE_COLUMN,
                format!(
                    "'{postcode}' is not a UK postcode (expected a form like BH1 1AA or NE46 3PQ)"
                ),
            ));
        }
        if lsoa.is_empty() {
            return Err(bad_value(
                LSOA_COLUMN,
                format!("postcode {postcode} has no LSOA code"),
            ));
        }
        rows.push(PostcodeRow {
            line,
            postcode,
            lsoa,
        });
    }
    Ok(rows)
}

/// True for a UK postcode in any case and spacing: an outward code (A9, A99, AA9,
/// AA99, A9A or AA9A) and an inward code (9AA). Only ASCII letters, digits and
/// spaces are allowed, so that the lookup key SQL makes of it is the same text.
pub fn is_postcode(text: &str) -> bool {
    if !text.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ') {
        return false;
    }
    let compact: Vec<u8> = text
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if !(5..=7).contains(&compact.len()) {
        return false;
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    let inward_ok = inward[0].is_ascii_digit()
        && inward[1].is_ascii_alphabetic()
        && inward[2].is_ascii_alphabetic();
    let shape: String = outward
        .iter()
        .map(|b| if b.is_ascii_digit() { '9' } else { 'A' })
        .collect();
    inward_ok
        && matches!(
            shape.as_str(),
            "A9" | "A99" | "AA9" | "AA99" | "A9A" | "AA9A"
        )
}

/// `Ok(None)` for a query that found no row.
fn optional<T>(result: Result<T, duckdb::Error>) -> Result<Option<T>, duckdb::Error> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(duckdb::Error::QueryReturnedNoRows) => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postcodes_of_every_shape_are_accepted_in_any_spacing() {
        for good in [
            "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "W1A 0AX", "EC1A 1BB", "bh1 1aa", "NE463PQ",
        ] {
            assert!(is_postcode(good), "{good}");
        }
        for bad in [
            "",
            "BH1",
            "1BH 1AA",
            "BH1 AAA",
            "BH1 1A1",
            "BHX1 1AA",
            "BH1 1ÅA",
            "BH1-1AA",
            "BH17 1E",
            "BH17 EEU",
            "12345",
            "01/02/2020",
            "Smith",
        ] {
            assert!(!is_postcode(bad), "{bad}");
        }
    }
}
