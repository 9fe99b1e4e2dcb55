//! CSV export of published uptake: what a commissioner takes away. It takes a
//! [`Published`], so only suppressed figures can be written, and every file says
//! on its first lines what it is, for which day, when it was made, where the
//! figures come from and what was withheld, so that a file separated from its
//! email still carries its provenance. The files are staged under temporary names
//! and appear under their own only once the export is in the audit log. The
//! command line calls [`write_csv`]; the UI's save dialog stages the files on a
//! worker ([`stage_csv`]) and the app places them once it has recorded the entry.
//! Format: `docs/uptake.md`.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::trend::Trend;
use super::{Inequality, Published, Rate, UptakeError, UptakeRow};
use crate::audit;
use crate::store::StoreError;

/// Says what a blank cell means, in every file's header lines. Blank rather than
/// a symbol, as Fingertips' data downloads do, so that a spreadsheet or a CSV
/// reader sees a missing number instead of text in a numeric column.
pub const BLANK_CELLS: &str = "A blank count or rate is withheld by suppression (value_note \
     says which) or not defined (a rate with no one in its denominator).";

/// The audit log entry of `published` shown by `actor` at `destination` (a folder
/// or "standard output") as `format`; recorded before anything is shown or placed.
pub fn audit_entry(
    actor: &str,
    published: &Published,
    destination: &str,
    format: &str,
) -> audit::Entry {
    let tables = published.tables();
    audit::Entry::new(actor, audit::Action::Export, destination).with_detail(format!(
        "{} uptake tables ({format}) for {}, counts up to {} withheld",
        tables.service,
        tables.reference_date,
        published.threshold()
    ))
}

/// CSV files written in their folder under temporary names, and the audit entry
/// that must be recorded before they appear under their own: a crash or a
/// refused entry leaves no file a reader could take for an export. Dropping it
/// deletes the files not yet placed.
struct StagedCsv {
    files: Vec<(tempfile::NamedTempFile, PathBuf)>,
    entry: audit::Entry,
}

impl StagedCsv {
    /// Records the export with `record`, then renames each file into place and
    /// returns the paths. When `record` fails nothing is placed and the files stay
    /// staged ([`UptakeError::NotRecorded`]) until dropped.
    fn place(
        &mut self,
        record: impl FnOnce(&audit::Entry) -> Result<i64, StoreError>,
    ) -> Result<Vec<PathBuf>, UptakeError> {
        if self.files.is_empty() {
            return Ok(Vec::new());
        }
        record(&self.entry).map_err(UptakeError::NotRecorded)?;
        self.files
            .drain(..)
            .map(|(staged, path)| {
                staged.persist(&path).map_err(|e| UptakeError::Export {
                    path: path.clone(),
                    source: e.error,
                })?;
                Ok(path)
            })
            .collect()
    }
}

/// Writes `published` as four CSV files in `dir` (see [`stage_csv`]), records the
/// export with `record`, and only then gives the files their names. Returns the
/// paths; if `record` fails, no file is left behind.
pub fn write_csv(
    published: &Published,
    dir: &Path,
    produced: NaiveDate,
    actor: &str,
    record: impl FnOnce(&audit::Entry) -> Result<i64, StoreError>,
) -> Result<Vec<PathBuf>, UptakeError> {
    stage_csv(published, dir, produced, actor)?.place(record)
}

/// Writes `published` as four CSV files in `dir` (created if missing), under
/// temporary names until [`StagedCsv::place`]; their names are
/// `<service>-<reference date>-{lsoa,imd,area,inequality}.csv`: per LSOA, per
/// IMD decile and quintile, per zone, authority and county, and the slope and
/// relative indices of inequality. Each begins with `#` lines giving the title,
/// reference date, the date `produced`, the data source, the suppression note and
/// what blank cells mean.
fn stage_csv(
    published: &Published,
    dir: &Path,
    produced: NaiveDate,
    actor: &str,
) -> Result<StagedCsv, UptakeError> {
    std::fs::create_dir_all(dir).map_err(|source| UptakeError::Export {
        path: dir.to_path_buf(),
        source,
    })?;
    let tables = published.tables();
    let measures = if tables.has_invited {
        "coverage and uptake"
    } else {
        "coverage"
    };
    let stem = format!(
        "{}-{}",
        tables.service,
        tables.reference_date.format("%Y-%m-%d")
    );
    let header = |title: String, extra: &[String]| -> Vec<String> {
        let mut lines = vec![
            title,
            format!(
                "Service: {} ({}). {}",
                tables.title, tables.service, tables.description
            ),
            format!(
                "Reference date: {}",
                tables.reference_date.format("%Y-%m-%d")
            ),
            format!("Produced: {}", produced.format("%Y-%m-%d")),
            format!("Source: {}", tables.source),
            format!("Suppression: {}", published.note()),
            BLANK_CELLS.to_string(),
            "Rates are percentages with 95% Wilson score intervals; IMD deciles and quintiles \
             run from 1 (most deprived) to 10 and 5."
                .to_string(),
        ];
        lines.extend(extra.iter().cloned());
        lines.extend(tables.notes.iter().cloned());
        lines
    };
    let has_invited = tables.has_invited;
    let mut written = Vec::with_capacity(4);
    let stage = |name: &str| -> Result<(tempfile::NamedTempFile, PathBuf), UptakeError> {
        let staged = tempfile::Builder::new()
            .prefix(".zonewise-export-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|source| UptakeError::Export {
                path: dir.to_path_buf(),
                source,
            })?;
        Ok((staged, dir.join(format!("{stem}-{name}.csv"))))
    };

    let lsoa_path = stage("lsoa")?;
    write_rows(
        &lsoa_path,
        &header(format!("{}: {measures} per LSOA (2011)", tables.title), &[]),
        &[
            "lsoa_code",
            "lsoa_name",
            "la_code",
            "zone_id",
            "ward_code",
            "imd_decile",
            "imd_quintile",
        ],
        &mut tables.lsoas.iter(),
        &|row| {
            vec![
                row.code.clone(),
                row.name.clone(),
                optional(row.la_code.as_ref()),
                optional(row.zone_id.as_ref()),
                optional(row.ward_code.as_ref()),
                optional(row.imd_decile),
                optional(row.imd_quintile),
            ]
        },
        has_invited,
    )?;
    written.push(lsoa_path);

    let imd_path = stage("imd")?;
    let title = format!(
        "{}: {measures} per IMD 2019 decile and quintile",
        tables.title
    );
    write_rows(
        &imd_path,
        &header(title, &[]),
        &["level", "imd_group", "name", "lsoas"],
        &mut tables.deciles.iter().chain(&tables.quintiles),
        &|row| {
            vec![
                row.level.key().to_string(),
                optional(row.imd_decile.or(row.imd_quintile)),
                row.name.clone(),
                row.lsoas.to_string(),
            ]
        },
        has_invited,
    )?;
    written.push(imd_path);

    let area_path = stage("area")?;
    let title = format!(
        "{}: {measures} per zone, ward, authority and the county",
        tables.title
    );
    let without_lsoa = format!(
        "Eligible people with no LSOA, in no row: {}",
        tables
            .eligible_without_lsoa
            .map_or("withheld".to_string(), |n| n.to_string())
    );
    write_rows(
        &area_path,
        &header(title, &[without_lsoa]),
        &["level", "code", "name", "la_code", "lsoas"],
        &mut tables
            .zones
            .iter()
            .chain(&tables.wards)
            .chain(&tables.authorities)
            .chain(std::iter::once(&tables.county)),
        &|row| {
            vec![
                row.level.key().to_string(),
                row.code.clone(),
                row.name.clone(),
                optional(row.la_code.as_ref()),
                row.lsoas.to_string(),
            ]
        },
        has_invited,
    )?;
    written.push(area_path);

    let inequality_path = stage("inequality")?;
    let columns = [
        "measure",
        "deciles",
        "mean_rate_percent",
        "sii_points",
        "sii_lower_95",
        "sii_upper_95",
        "rii",
        "rii_lower_95",
        "rii_upper_95",
        "statement",
    ];
    let rows = tables.inequality.iter().map(inequality_cells);
    let title = format!(
        "{}: slope and relative index of inequality across IMD 2019 deciles",
        tables.title
    );
    let method = "SII: fitted rate in the least deprived minus the most deprived, in percentage \
                  points (positive: the most deprived are lower); RII: SII ÷ the mean rate; 95% \
                  intervals by simulation (PHE method); computed from the published decile \
                  counts only and withheld when any of them is, since with the shown counts \
                  they would reveal it; rounded to 0.1 points and 2 decimals."
        .to_string();
    write_file(&inequality_path, &header(title, &[method]), &columns, rows)?;
    written.push(inequality_path);
    Ok(StagedCsv {
        files: written,
        entry: audit_entry(actor, published, &dir.display().to_string(), "CSV"),
    })
}

/// The audit log entry of `trend` shown by `actor` at `destination` as `format`.
pub fn trend_audit_entry(
    actor: &str,
    trend: &Trend,
    destination: &str,
    format: &str,
) -> audit::Entry {
    let dates = |at: Option<&super::trend::TrendPeriod>| {
        at.map_or("none".to_string(), |p| {
            p.date.format("%Y-%m-%d").to_string()
        })
    };
    audit::Entry::new(actor, audit::Action::Export, destination).with_detail(format!(
        "{} uptake trend ({format}), {} period ends from {} to {}, counts up to {} withheld",
        trend.service,
        trend.periods.len(),
        dates(trend.periods.first()),
        dates(trend.periods.last()),
        trend.threshold()
    ))
}

/// Writes `trend` as two CSV files in `dir`, `<service>-trend-imd.csv` (each
/// period end's IMD deciles, quintiles and county, with counts and rates) and
/// `<service>-trend-inequality.csv` (each period end's SII, RII and gap between
/// the fifths per measure), headed like the other exports and by the board
/// sentences; records the export with `record` and only then places the files.
pub fn write_trend_csv(
    trend: &Trend,
    dir: &Path,
    produced: NaiveDate,
    actor: &str,
    record: impl FnOnce(&audit::Entry) -> Result<i64, StoreError>,
) -> Result<Vec<PathBuf>, UptakeError> {
    std::fs::create_dir_all(dir).map_err(|source| UptakeError::Export {
        path: dir.to_path_buf(),
        source,
    })?;
    let stage = |name: &str| -> Result<(tempfile::NamedTempFile, PathBuf), UptakeError> {
        let staged = tempfile::Builder::new()
            .prefix(".zonewise-export-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|source| UptakeError::Export {
                path: dir.to_path_buf(),
                source,
            })?;
        Ok((
            staged,
            dir.join(format!("{}-trend-{name}.csv", trend.service)),
        ))
    };
    let header = |title: String| -> Vec<String> {
        let mut lines = vec![
            title,
            format!(
                "Period ends: {} quarter ends, each computed and suppressed as published for that day",
                trend.periods.len()
            ),
            format!("Produced: {}", produced.format("%Y-%m-%d")),
            format!("Source: {}", trend.source),
            format!("Suppression: {}", trend.note()),
            BLANK_CELLS.to_string(),
            "Rates are percentages with 95% Wilson score intervals; IMD deciles and quintiles \
             run from 1 (most deprived) to 10 and 5."
                .to_string(),
        ];
        lines.extend(trend.sentences.iter().map(|s| s.sentence.clone()));
        lines.extend(trend.notes.iter().cloned());
        lines
    };
    let has_invited = trend.has_invited;
    let imd_path = stage("imd")?;
    let rows: Vec<(&super::trend::TrendPeriod, &UptakeRow)> = trend
        .periods
        .iter()
        .flat_map(|p| {
            p.deciles
                .iter()
                .chain(&p.quintiles)
                .chain(std::iter::once(&p.county))
                .map(move |row| (p, row))
        })
        .collect();
    let mut columns = vec!["date", "quarter", "level", "imd_group", "name", "lsoas"];
    columns.extend(measure_columns(has_invited));
    write_file(
        &imd_path,
        &header(format!(
            "{}: trend per IMD 2019 decile and quintile and the county",
            trend.title
        )),
        &columns,
        rows.iter().map(|(period, row)| {
            let mut cells = vec![
                period.date.format("%Y-%m-%d").to_string(),
                period.label.clone(),
                row.level.key().to_string(),
                optional(row.imd_decile.or(row.imd_quintile)),
                row.name.clone(),
                row.lsoas.to_string(),
            ];
            cells.extend(measure_cells(row, has_invited));
            cells
        }),
    )?;
    let inequality_path = stage("inequality")?;
    let columns = [
        "date",
        "quarter",
        "measure",
        "deciles",
        "mean_rate_percent",
        "sii_points",
        "sii_lower_95",
        "sii_upper_95",
        "rii",
        "rii_lower_95",
        "rii_upper_95",
        "statement",
        "most_deprived_fifth_percent",
        "least_deprived_fifth_percent",
        "gap_points",
        "gap_standard_error_points",
    ];
    let points = |value: Option<f64>| value.map_or(String::new(), |v| format!("{:.1}", v * 100.0));
    let rows = trend.periods.iter().flat_map(|period| {
        period
            .inequality
            .iter()
            .zip(&period.gaps)
            .map(move |(measure, gap)| {
                let mut cells = vec![
                    period.date.format("%Y-%m-%d").to_string(),
                    period.label.clone(),
                ];
                cells.extend(inequality_cells(measure));
                cells.extend([
                    points(gap.most_deprived),
                    points(gap.least_deprived),
                    points(gap.gap),
                    gap.standard_error
                        .map_or(String::new(), |v| format!("{:.2}", v * 100.0)),
                ]);
                cells
            })
    });
    let title = format!(
        "{}: trend of the slope and relative index of inequality and the gap between the most \
         and least deprived fifths",
        trend.title
    );
    write_file(&inequality_path, &header(title), &columns, rows)?;
    StagedCsv {
        files: vec![imd_path, inequality_path],
        entry: trend_audit_entry(actor, trend, &dir.display().to_string(), "CSV"),
    }
    .place(record)
}

/// Writes a file of area rows: `lead` columns (from `lead_cells`), then each
/// row's counts, rates and value note.
fn write_rows<'a>(
    staged: &(tempfile::NamedTempFile, PathBuf),
    header_lines: &[String],
    lead: &[&str],
    rows: &mut dyn Iterator<Item = &'a UptakeRow>,
    lead_cells: &dyn Fn(&UptakeRow) -> Vec<String>,
    has_invited: bool,
) -> Result<(), UptakeError> {
    let mut columns = lead.to_vec();
    columns.extend(measure_columns(has_invited));
    let rows = rows.map(|row| {
        let mut cells = lead_cells(row);
        cells.extend(measure_cells(row, has_invited));
        cells
    });
    write_file(staged, header_lines, &columns, rows)
}

/// The count and rate columns of a row file, with `value_note` last.
fn measure_columns(has_invited: bool) -> Vec<&'static str> {
    let mut columns = vec!["eligible"];
    if has_invited {
        columns.push("invited");
    }
    columns.extend([
        "attended",
        "coverage_percent",
        "coverage_lower_95",
        "coverage_upper_95",
    ]);
    if has_invited {
        columns.extend(["uptake_percent", "uptake_lower_95", "uptake_upper_95"]);
    }
    columns.push("value_note");
    columns
}

/// A row's counts, rates and note, matching [`measure_columns`].
fn measure_cells(row: &UptakeRow, has_invited: bool) -> Vec<String> {
    let mut cells = vec![optional(row.eligible)];
    if has_invited {
        cells.push(optional(row.invited));
    }
    cells.push(optional(row.attended));
    cells.extend(rate_cells(row.coverage));
    if has_invited {
        cells.extend(rate_cells(row.uptake));
    }
    cells.push(value_note(row, has_invited));
    cells
}

/// Why a row has blanks: which counts and rates suppression withheld, and which
/// rates have no one in their denominator. Empty when nothing is blank.
fn value_note(row: &UptakeRow, has_invited: bool) -> String {
    let withheld = row.withheld;
    let mut hidden: Vec<&str> = [
        ("eligible", withheld.eligible),
        ("invited", withheld.invited),
        ("attended", withheld.attended),
        ("coverage", withheld.eligible || withheld.attended),
        (
            "uptake",
            has_invited && (withheld.invited || withheld.attended),
        ),
    ]
    .into_iter()
    .filter(|(_, hide)| *hide)
    .map(|(name, _)| name)
    .collect();
    let mut notes = Vec::new();
    if !hidden.is_empty() {
        notes.push(format!(
            "suppressed for disclosure control: {}",
            hidden.join(", ")
        ));
    }
    hidden.clear();
    if row.coverage.is_none() && !(withheld.eligible || withheld.attended) {
        hidden.push("coverage (no one eligible)");
    }
    if has_invited && row.uptake.is_none() && !(withheld.invited || withheld.attended) {
        hidden.push("uptake (no one invited)");
    }
    if !hidden.is_empty() {
        notes.push(format!("not defined: {}", hidden.join(", ")));
    }
    notes.join("; ")
}

/// Value, lower and upper limit as percentages to 0.1, or three blanks.
fn rate_cells(rate: Option<Rate>) -> [String; 3] {
    match rate {
        Some(r) => [r.value, r.lower, r.upper].map(|p| format!("{:.1}", p * 100.0)),
        None => Default::default(),
    }
}

/// One inequality measure: rates and the SII in percentage points to 0.1, the RII
/// as a ratio to 2 decimals (as `stats::published_inequality` rounds them).
fn inequality_cells(measure: &Inequality) -> Vec<String> {
    let points = |value: Option<f64>| value.map_or(String::new(), |v| format!("{:.1}", v * 100.0));
    let ratio = |value: Option<f64>| value.map_or(String::new(), |v| format!("{v:.2}"));
    vec![
        measure.measure.label().to_string(),
        measure.deciles.to_string(),
        points(measure.mean_rate),
        points(measure.sii),
        points(measure.sii_lower),
        points(measure.sii_upper),
        ratio(measure.rii),
        ratio(measure.rii_lower),
        ratio(measure.rii_upper),
        measure.sentence.clone(),
    ]
}

fn optional<T: ToString>(value: Option<T>) -> String {
    value.map_or(String::new(), |v| v.to_string())
}

/// Writes the `#` header lines, then the column names and rows as CSV, into the
/// staged file of `path`.
fn write_file(
    (staged, path): &(tempfile::NamedTempFile, PathBuf),
    header_lines: &[String],
    columns: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<(), UptakeError> {
    let error = |source: std::io::Error| UptakeError::Export {
        path: path.clone(),
        source,
    };
    let mut out = BufWriter::new(staged.as_file());
    for line in header_lines {
        // A description may run over several lines; a header line must not.
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        writeln!(out, "# {line}").map_err(error)?;
    }
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(columns).map_err(|e| error(e.into()))?;
    for row in rows {
        csv.write_record(&row).map_err(|e| error(e.into()))?;
    }
    csv.flush().map_err(error)
}
