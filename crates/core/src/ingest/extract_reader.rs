//! Reads one extract file row by row, checking every value against the manifest
//! and turning it into the typed staging row. All the file/line/column error
//! messages come from here, so the database layer never sees a bad value.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::cast::AsArray;
use arrow_array::types::Date32Type;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use calamine::{Data, Reader as _};
use chrono::{Datelike, NaiveDate};
use duckdb::types::Value;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use super::error::{BlankedValues, IngestError, Location};
use super::manifest::{
    FieldRole, FileFormat, SourceSpec, Unreadable, ValueKind, staging_column_name,
};

/// Dates outside this range are treated as mistakes (a two-digit year read as year 15, say).
const PLAUSIBLE_YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

/// One staging column: its name, SQL type and where its value comes from.
#[derive(Debug, Clone)]
pub struct StagingColumn {
    /// Column name in `staging.<source>`.
    pub name: String,
    /// DuckDB type.
    pub sql_type: &'static str,
    source: ColumnSource,
    kind: ValueKind,
    /// Header text in the file, for messages.
    header: String,
}

#[derive(Debug, Clone)]
enum ColumnSource {
    /// The value is in this field of the row.
    Field(usize),
    /// The same text for every row (the manifest's fixed `event_type`).
    Constant(String),
    /// The role is not in this extract.
    Absent,
}

/// An extract's header and first rows as read, before roles are chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractSample {
    pub headers: Vec<String>,
    /// One value per header in each row.
    pub rows: Vec<Vec<SampleValue>>,
}

/// One value of an [`ExtractSample`].
#[derive(Debug, Clone, PartialEq)]
pub enum SampleValue {
    Empty,
    /// Text as read, trimmed (numbers in a spreadsheet as a person typed them).
    Text(String),
    /// A value the file itself holds as a date (a spreadsheet's date cell, a
    /// Parquet date), which ingest reads as a date whatever the date format.
    Date(NaiveDate),
}

impl SampleValue {
    /// The value as shown in a preview.
    pub fn text(&self) -> String {
        match self {
            SampleValue::Empty => String::new(),
            SampleValue::Text(text) => text.clone(),
            SampleValue::Date(date) => date.format("%d/%m/%Y").to_string(),
        }
    }
}

/// The first rows as ingest would stage them, for a preview before loading.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractPreview {
    /// Staging column names, in the order of each row's values.
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The sheets of a workbook, in order, so a person can choose which to read.
pub fn sheet_names(path: &Path) -> Result<Vec<String>, IngestError> {
    let workbook = calamine::open_workbook_auto(path).map_err(|error| IngestError::Workbook {
        file: path.to_path_buf(),
        message: format!("not a readable spreadsheet ({error})"),
    })?;
    Ok(workbook.sheet_names())
}

/// A streaming, validating reader over one extract.
pub struct ExtractReader {
    file: PathBuf,
    input: Input,
    columns: Vec<StagingColumn>,
    date_format: String,
    unreadable: Unreadable,
    /// Values loaded as missing under [`Unreadable::Blank`].
    blanked: BlankedValues,
    bytes_read: Arc<AtomicU64>,
    total_bytes: u64,
}

/// Where rows come from.
enum Input {
    Csv {
        reader: csv::Reader<Box<dyn Read>>,
        record: csv::ByteRecord,
    },
    Parquet {
        reader: ParquetRecordBatchReader,
        batch: Option<RecordBatch>,
        /// Next row within `batch`.
        next: usize,
        /// Data rows read so far.
        rows: u64,
        total_rows: u64,
    },
    /// A spreadsheet's sheet, read whole (calamine has no streaming reader for
    /// every format; a sheet holds at most about a million rows).
    Sheet {
        range: calamine::Range<Data>,
        sheet: Arc<str>,
        /// Next row of `range` to read; row 0 is the header.
        next: usize,
        /// The number the spreadsheet shows for `range`'s first row.
        first_row: u64,
    },
}

/// One value as read from the file, before it is checked against its role.
enum Cell<'a> {
    Null,
    Text(std::borrow::Cow<'a, str>),
    Date(NaiveDate),
}

/// Counts bytes as they are read from disk, so progress works for gzip files too.
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl ExtractReader {
    /// Opens `path` as the manifest's format says, reads its header and maps it to the manifest.
    pub fn open(spec: &SourceSpec, path: &Path) -> Result<ExtractReader, IngestError> {
        Self::open_planned(spec, path, plan_columns)
    }

    fn open_planned(
        spec: &SourceSpec,
        path: &Path,
        plan: Planner,
    ) -> Result<ExtractReader, IngestError> {
        match spec.format {
            FileFormat::Csv => Self::open_csv(spec, path, plan),
            FileFormat::Parquet => Self::open_parquet(spec, path, plan),
            FileFormat::Excel => Self::open_sheet(spec, path, plan),
        }
    }

    /// The header and the first `rows` rows of an extract, every column as read
    /// (text, or a date where the file holds a date), before any role is chosen:
    /// what the column-role guesser and a person choosing roles look at. The
    /// file is opened exactly as ingest opens it (format, delimiter, sheet), so
    /// what cannot be read here names the same file, line and column.
    pub fn sample(
        spec: &SourceSpec,
        path: &Path,
        rows: usize,
    ) -> Result<ExtractSample, IngestError> {
        let mut reader = Self::open_planned(spec, path, every_column)?;
        let headers: Vec<String> = reader.columns.iter().map(|c| c.header.clone()).collect();
        let mut sampled = Vec::new();
        while sampled.len() < rows {
            let Some(at) = reader.advance()? else {
                break;
            };
            let row = reader
                .columns
                .iter()
                .enumerate()
                .map(|(index, column)| {
                    Ok(match reader.cell(index, &at, column)? {
                        Cell::Null => SampleValue::Empty,
                        Cell::Date(date) => SampleValue::Date(date),
                        Cell::Text(text) if text.trim().is_empty() => SampleValue::Empty,
                        Cell::Text(text) => SampleValue::Text(text.trim().to_string()),
                    })
                })
                .collect::<Result<Vec<_>, IngestError>>()?;
            sampled.push(row);
        }
        Ok(ExtractSample {
            headers,
            rows: sampled,
        })
    }

    /// The first `rows` rows as ingest would stage them under `spec`'s roles:
    /// the staging column names and each value as text (dates as yyyy-mm-dd),
    /// or the first error ingest would stop at in those rows.
    pub fn preview(
        spec: &SourceSpec,
        path: &Path,
        rows: usize,
    ) -> Result<ExtractPreview, IngestError> {
        let mut reader = Self::open(spec, path)?;
        let columns: Vec<String> = reader
            .appended_columns()
            .into_iter()
            .skip(1)
            .map(str::to_string)
            .collect();
        let mut read = Vec::new();
        while read.len() < rows {
            let Some(values) = reader.next_row()? else {
                break;
            };
            read.push(values.into_iter().skip(1).map(value_text).collect());
        }
        Ok(ExtractPreview {
            columns,
            rows: read,
        })
    }

    fn open_sheet(
        spec: &SourceSpec,
        path: &Path,
        plan: Planner,
    ) -> Result<ExtractReader, IngestError> {
        let file = path.to_path_buf();
        let total_bytes = std::fs::metadata(path)
            .map_err(|source| IngestError::Open {
                file: file.clone(),
                source,
            })?
            .len();
        if total_bytes == 0 {
            return Err(IngestError::Empty { file });
        }
        let unreadable = |error: calamine::Error| IngestError::Workbook {
            file: file.clone(),
            message: format!("not a readable spreadsheet ({error})"),
        };
        let mut workbook = calamine::open_workbook_auto(path).map_err(unreadable)?;
        let names = workbook.sheet_names();
        let sheet =
            match &spec.sheet {
                Some(wanted) => names.iter().find(|name| *name == wanted).ok_or_else(|| {
                    IngestError::Workbook {
                        file: file.clone(),
                        message: format!(
                            "has no sheet named '{wanted}'; its sheets are: {}",
                            names.join(", ")
                        ),
                    }
                })?,
                None => names
                    .first()
                    .ok_or_else(|| IngestError::Empty { file: file.clone() })?,
            }
            .clone();
        let range = workbook.worksheet_range(&sheet).map_err(unreadable)?;
        let Some((first_row, _)) = range.start() else {
            return Err(IngestError::Empty { file });
        };
        let headers: Vec<String> = (0..range.width())
            .map(|col| match range.get((0, col)).map(sheet_cell) {
                Some(Ok(Cell::Text(text))) => text.trim().to_string(),
                Some(Ok(Cell::Date(date))) => date.format("%Y-%m-%d").to_string(),
                _ => String::new(),
            })
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err(IngestError::Empty { file });
        }
        let columns = plan(spec, &file, &headers)?;
        Ok(ExtractReader {
            file,
            input: Input::Sheet {
                range,
                sheet: sheet.into(),
                next: 1,
                first_row: u64::from(first_row) + 1,
            },
            columns,
            date_format: spec.date_format.clone(),
            unreadable: spec.unreadable,
            blanked: BlankedValues::default(),
            bytes_read: Arc::new(AtomicU64::new(0)),
            total_bytes,
        })
    }

    fn open_parquet(
        spec: &SourceSpec,
        path: &Path,
        plan: Planner,
    ) -> Result<ExtractReader, IngestError> {
        let file = path.to_path_buf();
        let handle = File::open(path).map_err(|source| IngestError::Open {
            file: file.clone(),
            source,
        })?;
        let total_bytes = handle.metadata().map(|m| m.len()).unwrap_or(0);
        if total_bytes == 0 {
            return Err(IngestError::Empty { file });
        }
        let not_parquet = |error: parquet::errors::ParquetError| IngestError::BadRow {
            file: file.clone(),
            at: Location::Row(0),
            message: format!("not a readable Parquet file ({error})"),
        };
        let builder = ParquetRecordBatchReaderBuilder::try_new(handle).map_err(not_parquet)?;
        let total_rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let headers: Vec<String> = builder
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let columns = plan(spec, &file, &headers)?;
        let reader = builder.with_batch_size(8192).build().map_err(not_parquet)?;
        Ok(ExtractReader {
            file,
            input: Input::Parquet {
                reader,
                batch: None,
                next: 0,
                rows: 0,
                total_rows,
            },
            columns,
            date_format: spec.date_format.clone(),
            unreadable: spec.unreadable,
            blanked: BlankedValues::default(),
            bytes_read: Arc::new(AtomicU64::new(0)),
            total_bytes,
        })
    }

    fn open_csv(
        spec: &SourceSpec,
        path: &Path,
        plan: Planner,
    ) -> Result<ExtractReader, IngestError> {
        let file = path.to_path_buf();
        let open_error = |source| IngestError::Open {
            file: file.clone(),
            source,
        };
        let handle = File::open(path).map_err(open_error)?;
        let total_bytes = handle.metadata().map_err(open_error)?.len();
        let bytes_read = Arc::new(AtomicU64::new(0));
        let counted = CountingReader {
            inner: handle,
            count: Arc::clone(&bytes_read),
        };
        let mut input = crate::compressed::reader(path, counted);
        let first_bytes = peek_start(&mut input).map_err(open_error)?;
        if first_bytes.is_empty() {
            return Err(IngestError::Empty { file });
        }
        if let Some(encoding) = utf16_encoding(&first_bytes) {
            return Err(IngestError::NotUtf8File { file, encoding });
        }
        let input: Box<dyn Read> = Box::new(std::io::Cursor::new(first_bytes).chain(input));
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(spec.delimiter as u8)
            .has_headers(true)
            .flexible(false)
            .from_reader(input);
        let headers = reader
            .byte_headers()
            .map_err(|e| csv_error(&file, e))?
            .clone();
        let header_names = decode_headers(&file, &headers)?;
        if header_names.iter().all(|h| h.is_empty()) {
            return Err(IngestError::Empty { file });
        }
        let columns = plan(spec, &file, &header_names)?;
        Ok(ExtractReader {
            file,
            input: Input::Csv {
                reader,
                record: csv::ByteRecord::new(),
            },
            columns,
            date_format: spec.date_format.clone(),
            unreadable: spec.unreadable,
            blanked: BlankedValues::default(),
            bytes_read,
            total_bytes,
        })
    }

    /// The values loaded as missing so far (only under [`Unreadable::Blank`]).
    pub fn blanked(&self) -> &BlankedValues {
        &self.blanked
    }

    /// The staging table's columns, in order.
    pub fn columns(&self) -> &[StagingColumn] {
        &self.columns
    }

    /// The columns [`Self::next_row`] fills, in its order: `_line`, then every column
    /// the extract has. Roles the extract lacks are left to the table's NULL default,
    /// which halves the appender's work for a typical extract.
    pub fn appended_columns(&self) -> Vec<&str> {
        std::iter::once("_line")
            .chain(
                self.columns
                    .iter()
                    .filter(|c| !matches!(c.source, ColumnSource::Absent))
                    .map(|c| c.name.as_str()),
            )
            .collect()
    }

    /// Bytes of the file read so far and the file's size, for progress.
    pub fn progress(&self) -> (u64, u64) {
        match &self.input {
            Input::Csv { .. } => (self.bytes_read.load(Ordering::Relaxed), self.total_bytes),
            // Parquet is read in batches: report the share of rows as a share of the file.
            Input::Parquet {
                rows, total_rows, ..
            } => (
                self.total_bytes * rows / (*total_rows).max(1),
                self.total_bytes,
            ),
            Input::Sheet { range, next, .. } => (
                self.total_bytes * *next as u64 / (range.height() as u64).max(1),
                self.total_bytes,
            ),
        }
    }

    /// Reads the next row as typed values for [`Self::appended_columns`], or `None` at the end.
    pub fn next_row(&mut self) -> Result<Option<Vec<Value>>, IngestError> {
        let Some(at) = self.advance()? else {
            return Ok(None);
        };
        let mut values = Vec::with_capacity(self.columns.len() + 1);
        values.push(Value::BigInt(at.number() as i64));
        let mut blanked = Vec::new();
        for column in &self.columns {
            let value = match &column.source {
                ColumnSource::Absent => continue,
                ColumnSource::Constant(text) => Value::Text(text.clone()),
                ColumnSource::Field(index) => {
                    let cell = self.cell(*index, &at, column)?;
                    match self.typed_value(cell, column, &at) {
                        Err(error)
                            if self.unreadable == Unreadable::Blank
                                && column.kind == ValueKind::Date =>
                        {
                            blanked.push(error.to_string());
                            Value::Null
                        }
                        other => other?,
                    }
                }
            };
            values.push(value);
        }
        for example in blanked {
            self.blanked.record(|| example);
        }
        Ok(Some(values))
    }

    /// Moves to the next row; returns where it is in the file, or `None` at the end.
    fn advance(&mut self) -> Result<Option<Location>, IngestError> {
        match &mut self.input {
            Input::Csv { reader, record } => {
                let more = reader
                    .read_byte_record(record)
                    .map_err(|e| csv_error(&self.file, e))?;
                Ok(more.then(|| Location::Line(record.position().map_or(0, |p| p.line()))))
            }
            Input::Sheet {
                range,
                sheet,
                next,
                first_row,
            } => {
                // A sheet's used range often ends in rows that were formatted
                // but never filled: a row with no value at all is not a record.
                while *next < range.height()
                    && (0..range.width())
                        .all(|col| range.get((*next, col)).is_none_or(|d| *d == Data::Empty))
                {
                    *next += 1;
                }
                if *next >= range.height() {
                    return Ok(None);
                }
                *next += 1;
                Ok(Some(Location::SheetRow {
                    sheet: Arc::clone(sheet),
                    row: *first_row + *next as u64 - 1,
                }))
            }
            Input::Parquet {
                reader,
                batch,
                next,
                rows,
                ..
            } => loop {
                if let Some(current) = batch
                    && *next < current.num_rows()
                {
                    *next += 1;
                    *rows += 1;
                    return Ok(Some(Location::Row(*rows)));
                }
                match reader.next() {
                    None => return Ok(None),
                    Some(Ok(read)) => {
                        *batch = Some(read);
                        *next = 0;
                    }
                    Some(Err(error)) => {
                        return Err(IngestError::BadRow {
                            file: self.file.clone(),
                            at: Location::Row(*rows + 1),
                            message: format!("cannot read the Parquet data: {error}"),
                        });
                    }
                }
            },
        }
    }

    /// The current row's value in field `index`.
    fn cell(
        &self,
        index: usize,
        at: &Location,
        column: &StagingColumn,
    ) -> Result<Cell<'_>, IngestError> {
        match &self.input {
            Input::Csv { record, .. } => {
                let raw = record.get(index).unwrap_or_default();
                let text = std::str::from_utf8(raw).map_err(|e| IngestError::BadValue {
                    file: self.file.clone(),
                    at: at.clone(),
                    column: column.header.clone(),
                    message: format!(
                        "byte {} is not valid UTF-8 (the file may be saved as Windows-1252 or Latin-1); save it as UTF-8",
                        e.valid_up_to() + 1
                    ),
                })?;
                Ok(Cell::Text(std::borrow::Cow::Borrowed(text)))
            }
            Input::Parquet { batch, next, .. } => {
                let Some(batch) = batch else {
                    return Ok(Cell::Null);
                };
                parquet_cell(batch.column(index).as_ref(), *next - 1).map_err(|message| {
                    IngestError::BadValue {
                        file: self.file.clone(),
                        at: at.clone(),
                        column: column.header.clone(),
                        message,
                    }
                })
            }
            Input::Sheet { range, next, .. } => range
                .get((*next - 1, index))
                .map_or(Ok(Cell::Null), sheet_cell)
                .map_err(|message| IngestError::BadValue {
                    file: self.file.clone(),
                    at: at.clone(),
                    column: column.header.clone(),
                    message,
                }),
        }
    }

    fn typed_value(
        &self,
        cell: Cell<'_>,
        column: &StagingColumn,
        at: &Location,
    ) -> Result<Value, IngestError> {
        let bad = |message: String| IngestError::BadValue {
            file: self.file.clone(),
            at: at.clone(),
            column: column.header.clone(),
            message,
        };
        let text = match cell {
            Cell::Date(date) => {
                return match column.kind {
                    ValueKind::Date => Ok(Value::Date32(days_since_epoch(date))),
                    ValueKind::Text => Ok(Value::Text(date.format("%Y-%m-%d").to_string())),
                    ValueKind::Number => Err(bad(format!(
                        "expected a number (such as 92.5), found the date {}; the cell may be formatted as a date",
                        date.format("%d/%m/%Y")
                    ))),
                };
            }
            Cell::Null => std::borrow::Cow::Borrowed(""),
            Cell::Text(text) => text,
        };
        let text = text.trim();
        if text.is_empty() {
            if column.name == FieldRole::RecordId.column() {
                return Err(bad(
                    "the record identifier is empty; every row needs one".to_string()
                ));
            }
            return Ok(Value::Null);
        }
        match column.kind {
            ValueKind::Text => Ok(Value::Text(text.to_string())),
            ValueKind::Number => text.parse::<f64>().map(Value::Double).map_err(|_| {
                bad(format!(
                    "expected a number (such as 92.5), found '{}'",
                    shorten(text)
                ))
            }),
            ValueKind::Date => {
                let expected = || {
                    let example = example_date(&self.date_format);
                    let such_as = if example.is_empty() {
                        String::new()
                    } else {
                        format!(" (such as {example})")
                    };
                    format!(
                        "expected a date as {}{such_as}, found '{}'",
                        human_date_pattern(&self.date_format),
                        shorten(text)
                    )
                };
                let date = NaiveDate::parse_from_str(text, &self.date_format).map_err(|error| {
                    bad(match error.kind() {
                        // Written in the pattern, but no such day: say so, rather
                        // than suggest the pattern is wrong.
                        chrono::format::ParseErrorKind::OutOfRange => format!(
                            "{}, which is not a real date{}",
                            expected(),
                            swapped_hint(text, &self.date_format)
                        ),
                        _ => expected(),
                    })
                })?;
                if !PLAUSIBLE_YEARS.contains(&date.year()) {
                    return Err(bad(format!(
                        "{}; year {} is outside 1900–2100",
                        expected(),
                        date.year()
                    )));
                }
                Ok(Value::Date32(days_since_epoch(date)))
            }
        }
    }
}

/// When a date that does not exist in `format` would read as a real date with
/// day and month swapped (11/28/2013 in a dd/mm/yyyy extract), a hint saying so.
fn swapped_hint(text: &str, format: &str) -> &'static str {
    let swapped = format
        .replace("%d", "\u{0}")
        .replace("%m", "%d")
        .replace('\u{0}', "%m");
    if swapped != format && NaiveDate::parse_from_str(text, &swapped).is_ok() {
        " (day and month look swapped: this extract may write dates month first)"
    } else {
        ""
    }
}

/// Days since 1970-01-01, DuckDB's DATE representation.
fn days_since_epoch(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (date - epoch).num_days() as i32
}

/// Reads up to 4 KiB from the start of the stream, to sniff emptiness and encoding.
fn peek_start(input: &mut dyn Read) -> std::io::Result<Vec<u8>> {
    let mut start = Vec::with_capacity(4096);
    input.take(4096).read_to_end(&mut start)?;
    Ok(start)
}

fn utf16_encoding(start: &[u8]) -> Option<&'static str> {
    match start {
        [0xFF, 0xFE, ..] => Some("UTF-16 (little-endian)"),
        [0xFE, 0xFF, ..] => Some("UTF-16 (big-endian)"),
        _ => None,
    }
}

fn decode_headers(file: &Path, headers: &csv::ByteRecord) -> Result<Vec<String>, IngestError> {
    headers
        .iter()
        .enumerate()
        .map(|(index, raw)| {
            let raw = if index == 0 {
                raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
            } else {
                raw
            };
            std::str::from_utf8(raw)
                .map(|text| text.trim().to_string())
                .map_err(|_| IngestError::BadRow {
                    file: file.to_path_buf(),
                    at: Location::Line(1),
                    message: format!(
                        "header field {} is not valid UTF-8 (the file may be Windows-1252 or Latin-1); save it as UTF-8",
                        index + 1
                    ),
                })
        })
        .collect()
}

/// Maps a file's header to the staging columns read from it.
type Planner = fn(&SourceSpec, &Path, &[String]) -> Result<Vec<StagingColumn>, IngestError>;

/// Every column of the file as text, under its own header: for [`ExtractReader::sample`].
fn every_column(
    _spec: &SourceSpec,
    _file: &Path,
    headers: &[String],
) -> Result<Vec<StagingColumn>, IngestError> {
    Ok(headers
        .iter()
        .enumerate()
        .map(|(index, header)| StagingColumn {
            name: header.clone(),
            sql_type: "VARCHAR",
            source: ColumnSource::Field(index),
            kind: ValueKind::Text,
            header: header.clone(),
        })
        .collect())
}

/// A staged value as a person reads it in a preview.
fn value_text(value: Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Text(text) => text,
        Value::Double(number) => number.to_string(),
        Value::BigInt(number) => number.to_string(),
        Value::Date32(days) => NaiveDate::from_ymd_opt(1970, 1, 1)
            .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(days.into())))
            .map_or_else(String::new, |date| date.format("%Y-%m-%d").to_string()),
        other => format!("{other:?}"),
    }
}

fn plan_columns(
    spec: &SourceSpec,
    file: &Path,
    headers: &[String],
) -> Result<Vec<StagingColumn>, IngestError> {
    let find = |wanted: &str, role: &str| -> Result<usize, IngestError> {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| IngestError::MissingColumn {
                file: file.to_path_buf(),
                column: wanted.to_string(),
                detail: format!(
                    "(the manifest maps {role} to it); the header has: {}{}",
                    headers.join(", "),
                    delimiter_hint(spec.delimiter, headers)
                ),
            })
    };
    let mut columns = Vec::with_capacity(FieldRole::ALL.len() + spec.keep.len());
    for role in FieldRole::ALL {
        let (source, header) = match spec.columns.get(&role) {
            Some(header) => (
                ColumnSource::Field(find(header, role.column())?),
                header.clone(),
            ),
            None => match (&spec.event_type, role) {
                (Some(fixed), FieldRole::EventType) => {
                    (ColumnSource::Constant(fixed.clone()), String::new())
                }
                _ => (ColumnSource::Absent, String::new()),
            },
        };
        columns.push(StagingColumn {
            name: role.column().to_string(),
            sql_type: sql_type(role.value_kind()),
            source,
            kind: role.value_kind(),
            header,
        });
    }
    for kept in &spec.keep {
        columns.push(StagingColumn {
            name: staging_column_name(kept),
            sql_type: "VARCHAR",
            source: ColumnSource::Field(find(kept, "a kept column")?),
            kind: ValueKind::Text,
            header: kept.clone(),
        });
    }
    Ok(columns)
}

fn sql_type(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Text => "VARCHAR",
        ValueKind::Date => "DATE",
        ValueKind::Number => "DOUBLE",
    }
}

/// When the header came out as one field full of another delimiter, say so.
fn delimiter_hint(expected: char, headers: &[String]) -> String {
    if headers.len() != 1 {
        return String::new();
    }
    [',', ';', '|', '\t']
        .into_iter()
        .filter(|c| *c != expected)
        .find(|c| headers[0].contains(*c))
        .map(|c| {
            format!(
                " (the header reads as one column: the file seems to use {} as its delimiter, but the manifest says {})",
                delimiter_name(c),
                delimiter_name(expected)
            )
        })
        .unwrap_or_default()
}

fn delimiter_name(c: char) -> String {
    match c {
        '\t' => "tab".to_string(),
        other => format!("'{other}'"),
    }
}

fn csv_error(file: &Path, error: csv::Error) -> IngestError {
    let line = error.position().map_or(0, |p| p.line());
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "found {len} fields but the header has {expected_len}; check for an unquoted delimiter or a missing field"
        ),
        csv::ErrorKind::Io(io) => format!("cannot read the file: {io}"),
        _ => error.to_string(),
    };
    IngestError::BadRow {
        file: file.to_path_buf(),
        at: Location::Line(line),
        message,
    }
}

/// Reads one Parquet value: text as text, dates as dates, other types in their text form.
fn parquet_cell(array: &dyn Array, row: usize) -> Result<Cell<'_>, String> {
    if array.is_null(row) {
        return Ok(Cell::Null);
    }
    Ok(match array.data_type() {
        DataType::Utf8 => Cell::Text(array.as_string::<i32>().value(row).into()),
        DataType::LargeUtf8 => Cell::Text(array.as_string::<i64>().value(row).into()),
        DataType::Utf8View => Cell::Text(array.as_string_view().value(row).into()),
        DataType::Date32 => array
            .as_primitive::<Date32Type>()
            .value_as_date(row)
            .map(Cell::Date)
            .ok_or_else(|| "the date is out of range".to_string())?,
        _ => {
            let formatter = arrow_cast::display::ArrayFormatter::try_new(
                array,
                &arrow_cast::display::FormatOptions::default(),
            )
            .map_err(|e| format!("unsupported Parquet type {}: {e}", array.data_type()))?;
            Cell::Text(formatter.value(row).to_string().into())
        }
    })
}

/// Reads one spreadsheet cell: text as text, date cells as dates, numbers in the
/// form a person typed them (an NHS number stored as a number has no `.0`).
fn sheet_cell(data: &Data) -> Result<Cell<'_>, String> {
    Ok(match data {
        Data::Empty => Cell::Null,
        Data::String(text) | Data::DurationIso(text) => Cell::Text(text.as_str().into()),
        Data::Int(number) => Cell::Text(number.to_string().into()),
        Data::Float(number) => Cell::Text(number_text(*number).into()),
        Data::Bool(value) => Cell::Text(if *value { "TRUE" } else { "FALSE" }.into()),
        Data::DateTime(when) if when.is_duration() => {
            return Err("expected a date or text, found a duration".to_string());
        }
        Data::DateTime(when) => when
            .as_datetime()
            .map(|when| Cell::Date(when.date()))
            .ok_or_else(|| "the date is out of range".to_string())?,
        // OpenDocument stores dates as ISO 8601 text; the date is its first ten characters.
        Data::DateTimeIso(text) => text
            .get(..10)
            .and_then(|day| NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
            .map_or_else(|| Cell::Text(text.as_str().into()), Cell::Date),
        Data::Error(error) => {
            return Err(format!(
                "the cell holds the spreadsheet error {error}; fix the formula or type the value"
            ));
        }
    })
}

/// A spreadsheet number as text: whole numbers without a decimal point (as
/// identifiers are typed), others as Rust writes them, which round-trips.
fn number_text(number: f64) -> String {
    /// Integers up to 2^53 are exact in an f64.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if number.fract() == 0.0 && number.abs() < EXACT {
        format!("{}", number as i64)
    } else {
        number.to_string()
    }
}

/// `%d/%m/%Y` → `dd/mm/yyyy`, for messages.
pub fn human_date_pattern(format: &str) -> String {
    format
        .replace("%d", "dd")
        .replace("%m", "mm")
        .replace("%Y", "yyyy")
        .replace("%y", "yy")
        .replace("%b", "Mon")
}

/// 31 December 2024 written in `format`, or nothing when the format names what a
/// date does not have (`%H`, `%z`: chrono refuses, and `to_string` would panic).
fn example_date(format: &str) -> String {
    use std::fmt::Write as _;
    let mut example = String::new();
    match NaiveDate::from_ymd_opt(2024, 12, 31) {
        Some(date) if write!(example, "{}", date.format(format)).is_ok() => example,
        _ => String::new(),
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_pattern_is_readable() {
        assert_eq!(human_date_pattern("%d/%m/%Y"), "dd/mm/yyyy");
        assert_eq!(human_date_pattern("%Y-%m-%d"), "yyyy-mm-dd");
        assert_eq!(example_date("%d/%m/%Y"), "31/12/2024");
        // Found by tests/security/fuzz.rs: a format with a time or zone has no example date.
        assert_eq!(example_date("%d/%m/%Y %H:%M"), "");
        assert_eq!(example_date("%z"), "");
    }

    #[test]
    fn epoch_days_match_duckdb() {
        let date = NaiveDate::from_ymd_opt(2024, 4, 1).expect("valid date");
        assert_eq!(days_since_epoch(date), 19814);
    }

    #[test]
    fn spreadsheet_cells_read_as_a_person_typed_them() {
        let text = |data: &Data| match sheet_cell(data) {
            Ok(Cell::Text(text)) => text.into_owned(),
            _ => panic!("not text"),
        };
        assert_eq!(text(&Data::Float(9_434_765_919.0)), "9434765919");
        assert_eq!(text(&Data::Float(92.5)), "92.5");
        assert_eq!(text(&Data::Int(-3)), "-3");
        assert_eq!(text(&Data::String("Smith".into())), "Smith");
        // 45383 is 1 April 2024 in Excel's 1900 date system.
        let date =
            calamine::ExcelDateTime::new(45383.0, calamine::ExcelDateTimeType::DateTime, false);
        assert!(matches!(
            sheet_cell(&Data::DateTime(date)),
            Ok(Cell::Date(d)) if d == NaiveDate::from_ymd_opt(2024, 4, 1).expect("date")
        ));
        assert!(matches!(
            sheet_cell(&Data::DateTimeIso("2024-04-01T00:00:00".into())),
            Ok(Cell::Date(d)) if d == NaiveDate::from_ymd_opt(2024, 4, 1).expect("date")
        ));
        let error = sheet_cell(&Data::Error(calamine::CellErrorType::NA))
            .err()
            .expect("an error cell is refused");
        assert!(error.contains("#N/A"), "{error}");
        assert!(matches!(sheet_cell(&Data::Empty), Ok(Cell::Null)));
    }

    #[test]
    fn delimiter_hint_spots_semicolons() {
        let hint = delimiter_hint(',', &["id;name;dob".to_string()]);
        assert!(hint.contains("';'"), "{hint}");
        assert_eq!(delimiter_hint(',', &["id".into(), "name".into()]), "");
    }
}
