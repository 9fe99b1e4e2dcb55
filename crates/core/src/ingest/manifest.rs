//! The source manifest: a TOML file that says which extract files make up a
//! county, which agency system each came from, and what each column means.
//!
//! The manifest is the contract between whoever produces extracts (a council's
//! systems, or `zonewise synth`) and `zonewise ingest`. Column names differ from
//! system to system, so every column is mapped to a [`FieldRole`]; staging tables
//! use the role names, which is what lets linkage treat all sources alike.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A parsed manifest, with the directory its relative paths are resolved against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Human name of the county or data set, shown in the app.
    pub county: String,
    /// Date the extracts were taken (ISO `yyyy-mm-dd`), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extract_date: Option<String>,
    /// Reference data (geography and deprivation) that the extracts live in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ReferenceFiles>,
    /// One entry per extract file.
    #[serde(rename = "source", default)]
    pub sources: Vec<SourceSpec>,
    /// Directory that relative paths are resolved against (the manifest's own).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// Reference tables loaded alongside the extracts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceFiles {
    /// IMD 2019 by LSOA 2011, in the column layout of `../shared/data/imd2019_lsoa11_england.csv`.
    pub imd: PathBuf,
    /// ONS mid-2020 population by LSOA 2011 (`lsoa11cd, …, pop_0_17`).
    pub population: PathBuf,
    /// Family partnership zones: `lsoa11cd,zone_id,zone_name,lad19cd`.
    pub zones: PathBuf,
    /// Postcode → LSOA lookup: an extract of the ONS postcode directory (NSPL or
    /// ONSPD) with at least its `pcds` and `lsoa11` columns, cut to the county.
    /// Without it, people and families have no LSOA and uptake cannot be mapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcodes: Option<PathBuf>,
    /// LSOA 2011 boundaries: an ESRI shapefile (`.shp` with its `.shx` and `.dbf`),
    /// or GeoJSON (`.geojson`, `.geojson.gz`) in WGS84 with `LSOA11CD` and `LSOA11NM`;
    /// a shapefile
    /// in British National Grid, fields `LSOA11CD` and `LSOA11NM`, for the map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundaries: Option<PathBuf>,
    /// Electoral ward boundaries: an ESRI shapefile in British National Grid,
    /// fields `WD13CD` and `WD13NM`. Each LSOA is counted in the ward holding its
    /// centroid (best fit), giving uptake per ward. Needs `boundaries`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wards: Option<PathBuf>,
}

impl ReferenceFiles {
    /// Every file named, in load order.
    pub fn files(&self) -> Vec<&Path> {
        let mut files = vec![
            self.imd.as_path(),
            self.population.as_path(),
            self.zones.as_path(),
        ];
        files.extend(self.postcodes.as_deref());
        files.extend(self.boundaries.as_deref());
        files.extend(self.wards.as_deref());
        files
    }
}

/// Which kind of agency system an extract comes from. A closed list, so that a
/// typo in a manifest is caught rather than silently creating a new agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyKind {
    Education,
    SocialCare,
    Police,
    Health,
    Housing,
    Benefits,
    PublicHealth,
    /// Any other system (youth justice, a voluntary sector partner), and the
    /// files of `zonewise link-files`, which need not come from an agency at all.
    Other,
}

impl AgencyKind {
    /// Every kind, in display order.
    pub const ALL: [AgencyKind; 8] = [
        AgencyKind::Education,
        AgencyKind::SocialCare,
        AgencyKind::Police,
        AgencyKind::Health,
        AgencyKind::Housing,
        AgencyKind::Benefits,
        AgencyKind::PublicHealth,
        AgencyKind::Other,
    ];

    /// The label a person reads.
    pub fn label(self) -> &'static str {
        match self {
            AgencyKind::Education => "Education",
            AgencyKind::SocialCare => "Children's social care",
            AgencyKind::Police => "Police",
            AgencyKind::Health => "Health",
            AgencyKind::Housing => "Housing",
            AgencyKind::Benefits => "Benefits",
            AgencyKind::PublicHealth => "Public health",
            AgencyKind::Other => "Other system",
        }
    }

    /// The label of the agency stored as `key`, or `key` itself when it names none.
    pub fn label_of(key: &str) -> &str {
        AgencyKind::ALL
            .into_iter()
            .find(|kind| kind.key() == key)
            .map_or(key, |kind| kind.label())
    }

    /// The snake_case name used in the manifest and the database.
    pub fn key(self) -> &'static str {
        match self {
            AgencyKind::Education => "education",
            AgencyKind::SocialCare => "social_care",
            AgencyKind::Police => "police",
            AgencyKind::Health => "health",
            AgencyKind::Housing => "housing",
            AgencyKind::Benefits => "benefits",
            AgencyKind::PublicHealth => "public_health",
            AgencyKind::Other => "other",
        }
    }
}

impl fmt::Display for AgencyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// File formats ingest can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// Delimited text, UTF-8, with a header row. A `.gz` file is decompressed.
    #[default]
    Csv,
    /// Apache Parquet. Date columns may be stored as dates or as text in `date_format`.
    Parquet,
    /// An Excel workbook (`.xlsx`, `.xlsm`, `.xls`) or OpenDocument spreadsheet
    /// (`.ods`): one sheet, whose first non-empty row is the header. Date cells
    /// are read as dates; dates typed as text follow `date_format`.
    Excel,
}

/// File extensions that only [`FileFormat::Excel`] reads: a manifest naming one
/// with another format is refused before the bytes are misread as text.
const SPREADSHEET_EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// What a column means. Staging columns are named after these roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldRole {
    /// The source system's own identifier for the person (required).
    RecordId,
    /// A key that should be unique per row (incident, attendance); duplicates are reported.
    RowId,
    GivenName,
    FamilyName,
    BirthDate,
    Sex,
    Ethnicity,
    Postcode,
    Address,
    NhsNumber,
    Upn,
    NiNumber,
    /// The NHS number of a child's parent (child health records carry the mother's),
    /// which links the child to that parent's family.
    ParentNhsNumber,
    /// The source's household or case identifier (tenancy, claim, case number).
    HouseholdRef,
    EventType,
    EventDate,
    /// A number attached to the event (attendance %, arrears in pounds).
    EventValue,
}

impl FieldRole {
    /// Every role, in staging column order.
    pub const ALL: [FieldRole; 17] = [
        FieldRole::RecordId,
        FieldRole::RowId,
        FieldRole::GivenName,
        FieldRole::FamilyName,
        FieldRole::BirthDate,
        FieldRole::Sex,
        FieldRole::Ethnicity,
        FieldRole::Postcode,
        FieldRole::Address,
        FieldRole::NhsNumber,
        FieldRole::Upn,
        FieldRole::NiNumber,
        FieldRole::ParentNhsNumber,
        FieldRole::HouseholdRef,
        FieldRole::EventType,
        FieldRole::EventDate,
        FieldRole::EventValue,
    ];

    /// Roles that identify a person, whose completeness the quality report measures.
    pub const IDENTITY: [FieldRole; 10] = [
        FieldRole::GivenName,
        FieldRole::FamilyName,
        FieldRole::BirthDate,
        FieldRole::Sex,
        FieldRole::Ethnicity,
        FieldRole::Postcode,
        FieldRole::Address,
        FieldRole::NhsNumber,
        FieldRole::Upn,
        FieldRole::NiNumber,
    ];

    /// Column name in the staging table.
    pub fn column(self) -> &'static str {
        match self {
            FieldRole::RecordId => "record_id",
            FieldRole::RowId => "row_id",
            FieldRole::GivenName => "given_name",
            FieldRole::FamilyName => "family_name",
            FieldRole::BirthDate => "birth_date",
            FieldRole::Sex => "sex",
            FieldRole::Ethnicity => "ethnicity",
            FieldRole::Postcode => "postcode",
            FieldRole::Address => "address",
            FieldRole::NhsNumber => "nhs_number",
            FieldRole::Upn => "upn",
            FieldRole::NiNumber => "ni_number",
            FieldRole::ParentNhsNumber => "parent_nhs_number",
            FieldRole::HouseholdRef => "household_ref",
            FieldRole::EventType => "event_type",
            FieldRole::EventDate => "event_date",
            FieldRole::EventValue => "event_value",
        }
    }

    /// How values of this role are typed when loaded.
    pub fn value_kind(self) -> ValueKind {
        match self {
            FieldRole::BirthDate | FieldRole::EventDate => ValueKind::Date,
            FieldRole::EventValue => ValueKind::Number,
            _ => ValueKind::Text,
        }
    }
}

/// The type a staged value is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Text,
    Date,
    Number,
}

/// One extract file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// Unique short name; the staging table is `staging.<name>`.
    pub name: String,
    /// Which kind of agency system this is.
    pub agency: AgencyKind,
    /// The system's name as the council knows it ("Pupil database", "Niche RMS").
    pub system: String,
    /// Path of the extract, relative to the manifest.
    pub file: PathBuf,
    #[serde(default)]
    pub format: FileFormat,
    /// The sheet of an Excel workbook to read; the first sheet when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Field delimiter, one character.
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// chrono `strftime` pattern for every date column; UK extracts use `%d/%m/%Y`.
    #[serde(default = "default_date_format")]
    pub date_format: String,
    /// Role → column header in the file. `record_id` is required.
    pub columns: BTreeMap<FieldRole, String>,
    /// Further columns to keep as text, under their own (lower-cased) names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep: Vec<String>,
    /// Event type for every row, for an extract with no event-type column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// What an unreadable value does: refuse the file (the default, so an analyst
    /// fixes the extract), or load as missing and count it (`link-files`, where
    /// the files are someone else's and a typing error must not stop the run).
    #[serde(default, skip_serializing_if = "Unreadable::is_refuse")]
    pub unreadable: Unreadable,
}

/// What ingest does with a value it cannot read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unreadable {
    /// An impossible or misformatted date refuses the file, naming line and column.
    #[default]
    Refuse,
    /// An impossible or misformatted date is loaded as missing and counted, with
    /// the first few named by line and column. (A postcode not shaped like one is
    /// loaded as written: linkage compares it as missing, for every source.)
    Blank,
}

impl Unreadable {
    fn is_refuse(&self) -> bool {
        *self == Unreadable::Refuse
    }
}

fn default_delimiter() -> char {
    ','
}

fn default_date_format() -> String {
    "%d/%m/%Y".to_string()
}

/// Why a manifest could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read manifest {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("manifest {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("manifest {path}: source '{source_name}': {message}")]
    Invalid {
        path: PathBuf,
        source_name: String,
        message: String,
    },
}

impl Manifest {
    /// Reads and checks a manifest file.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse(&text, path, base_dir)
    }

    /// Parses manifest text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path, base_dir: PathBuf) -> Result<Manifest, ManifestError> {
        let mut manifest: Manifest = toml::from_str(text).map_err(|e| ManifestError::Parse {
            path: path.to_path_buf(),
            // toml's message already names the line and column and quotes the line.
            message: e.to_string(),
        })?;
        manifest.base_dir = base_dir;
        manifest.check(path)?;
        Ok(manifest)
    }

    /// Writes the manifest as TOML (paths are written as given, relative to its directory).
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string_pretty(self)
    }

    /// Resolves a manifest-relative path.
    pub fn resolve(&self, relative: &Path) -> PathBuf {
        if relative.is_absolute() {
            relative.to_path_buf()
        } else {
            self.base_dir.join(relative)
        }
    }

    fn check(&self, path: &Path) -> Result<(), ManifestError> {
        if self.sources.is_empty() {
            return Err(ManifestError::Parse {
                path: path.to_path_buf(),
                message: "no [[source]] entries: a manifest must list at least one extract"
                    .to_string(),
            });
        }
        let mut seen = std::collections::BTreeSet::new();
        for source in &self.sources {
            let invalid = |message: String| ManifestError::Invalid {
                path: path.to_path_buf(),
                source_name: source.name.clone(),
                message,
            };
            if !is_identifier(&source.name) {
                return Err(invalid(
                    "the name must be lower-case letters, digits and '_', starting with a letter"
                        .to_string(),
                ));
            }
            if !seen.insert(source.name.as_str()) {
                return Err(invalid("the name is used by two sources".to_string()));
            }
            if !source.columns.contains_key(&FieldRole::RecordId) {
                return Err(invalid(
                    "columns must name the record_id column (the system's person identifier)"
                        .to_string(),
                ));
            }
            let extension = source
                .file
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .unwrap_or_default();
            if source.format != FileFormat::Excel
                && SPREADSHEET_EXTENSIONS.contains(&extension.as_str())
            {
                return Err(invalid(format!(
                    "{} is a spreadsheet: add format = \"excel\" (and sheet = \"…\" unless it is the first sheet)",
                    source.file.display()
                )));
            }
            if source.sheet.is_some() && source.format != FileFormat::Excel {
                return Err(invalid(
                    "sheet names a sheet of a workbook, so it needs format = \"excel\"".to_string(),
                ));
            }
            if !source.delimiter.is_ascii() {
                return Err(invalid(
                    "the delimiter must be one ASCII character".to_string(),
                ));
            }
            for kept in &source.keep {
                let column = staging_column_name(kept);
                if FieldRole::ALL.iter().any(|role| role.column() == column) {
                    return Err(invalid(format!(
                        "kept column '{kept}' clashes with the role column '{column}'"
                    )));
                }
            }
            if chrono::format::StrftimeItems::new(&source.date_format)
                .any(|item| matches!(item, chrono::format::Item::Error))
            {
                return Err(invalid(format!(
                    "date_format '{}' is not a valid strftime pattern",
                    source.date_format
                )));
            }
        }
        Ok(())
    }
}

/// The staging column a kept column is stored under: lower-case, non-alphanumerics as `_`.
pub fn staging_column_name(header: &str) -> String {
    header
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
county = "Test"
[[source]]
name = "schools"
agency = "education"
system = "Pupil database"
file = "schools.csv"
[source.columns]
record_id = "pupil_id"
given_name = "forename"
"#;

    #[test]
    fn minimal_manifest_gets_uk_defaults() {
        let manifest = Manifest::parse(MINIMAL, Path::new("m.toml"), PathBuf::new())
            .expect("minimal manifest parses");
        let source = &manifest.sources[0];
        assert_eq!(source.date_format, "%d/%m/%Y");
        assert_eq!(source.delimiter, ',');
        assert_eq!(source.columns[&FieldRole::GivenName], "forename");
    }

    #[test]
    fn round_trips_through_toml() {
        let manifest = Manifest::parse(MINIMAL, Path::new("m.toml"), PathBuf::new())
            .expect("minimal manifest parses");
        let text = manifest.to_toml().expect("serialises");
        let again =
            Manifest::parse(&text, Path::new("m.toml"), PathBuf::new()).expect("parses again");
        assert_eq!(manifest, again);
    }

    #[test]
    fn unknown_agency_names_line_and_allowed_values() {
        let text = MINIMAL.replace("\"education\"", "\"schools_dept\"");
        let error = Manifest::parse(&text, Path::new("m.toml"), PathBuf::new())
            .expect_err("unknown agency is rejected");
        let message = error.to_string();
        assert!(message.contains("m.toml"), "{message}");
        assert!(message.contains("line 5"), "{message}");
        assert!(message.contains("social_care"), "{message}");
    }

    #[test]
    fn a_workbook_needs_the_excel_format_and_a_sheet_needs_a_workbook() {
        let text = MINIMAL.replace("schools.csv", "schools.xlsx");
        let error = Manifest::parse(&text, Path::new("m.toml"), PathBuf::new())
            .expect_err("a workbook read as CSV is refused");
        assert!(error.to_string().contains("format = \"excel\""), "{error}");

        let text = text.replace(
            "file = \"schools.xlsx\"",
            "file = \"schools.xlsx\"\nformat = \"excel\"\nsheet = \"Pupils\"",
        );
        let manifest = Manifest::parse(&text, Path::new("m.toml"), PathBuf::new())
            .expect("an Excel source parses");
        assert_eq!(manifest.sources[0].format, FileFormat::Excel);
        assert_eq!(manifest.sources[0].sheet.as_deref(), Some("Pupils"));

        let text = MINIMAL.replace(
            "file = \"schools.csv\"",
            "file = \"schools.csv\"\nsheet = \"Pupils\"",
        );
        let error = Manifest::parse(&text, Path::new("m.toml"), PathBuf::new())
            .expect_err("a CSV file has no sheets");
        assert!(error.to_string().contains("sheet"), "{error}");
    }

    #[test]
    fn missing_record_id_is_rejected() {
        let text = MINIMAL.replace("record_id = \"pupil_id\"\n", "");
        let error = Manifest::parse(&text, Path::new("m.toml"), PathBuf::new())
            .expect_err("record_id is required");
        assert!(error.to_string().contains("record_id"));
    }
}
