//! Guesses what each column of an extract is — the manifest's [`FieldRole`] —
//! from its header and its first rows, so a council analyst setting up a new
//! database starts from a filled-in form rather than a blank TOML file. Every
//! guess carries the reason a person reads beside it ("header 'DOB'", "97% of
//! values are dates"); the analyst confirms or changes it, and ingest checks
//! every value against the chosen role as it always does.
//!
//! Headers are matched after normalising ("NHS_No", "nhs no" and "NHS No." are
//! one header). Contents are tested with the rules ingest and linkage use:
//! dates in the formats an extract may have, NHS numbers by their modulus-11
//! check digit, UK postcodes by their shape, National Insurance numbers by
//! theirs. When header and contents disagree (a column named "Date" full of
//! postcodes) the contents win and the reason says both.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;

use super::extract_reader::{ExtractSample, SampleValue};
use super::manifest::{AgencyKind, FieldRole, FileFormat};
use super::postcodes::is_postcode;

/// Date formats an extract may use, most common in UK systems first; the
/// guess picks the one that reads most of the sample's dates.
pub const DATE_FORMATS: [&str; 6] = [
    "%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d/%m/%y",
];

/// A share of values at or above which the contents decide a column.
const DECISIVE: f64 = 0.8;
/// A share below which the contents contradict a header.
const CONTRADICTS: f64 = 0.5;

/// How sure a guess is, shown beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    /// Header and contents disagree, or only a weak hint: check it.
    Low,
    /// Header alone, or contents alone.
    Medium,
    /// Header and contents agree.
    High,
}

impl Confidence {
    pub fn label(self) -> &'static str {
        match self {
            Confidence::Low => "check",
            Confidence::Medium => "likely",
            Confidence::High => "sure",
        }
    }
}

/// The guess for one column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnGuess {
    /// The column's header, as in the file.
    pub header: String,
    /// The role proposed, or `None` when the column is best left out.
    pub role: Option<FieldRole>,
    pub confidence: Confidence,
    /// Why, in words a person reads: "header 'DOB'; 97% of values are dates".
    pub reason: String,
}

/// The guess for a whole extract.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractGuess {
    /// One per column, in file order; no role is proposed twice.
    pub columns: Vec<ColumnGuess>,
    /// The date format that reads the sample's dates typed as text (the
    /// manifest has one per extract); `%d/%m/%Y` when there are none.
    pub date_format: String,
}

impl ExtractGuess {
    /// Role → header, as a manifest's `columns` table.
    pub fn roles(&self) -> BTreeMap<FieldRole, String> {
        self.columns
            .iter()
            .filter_map(|c| c.role.map(|role| (role, c.header.clone())))
            .collect()
    }
}

/// The format ingest reads a file as, from its name: CSV (also `.csv.gz`,
/// `.txt`), Parquet, or a spreadsheet.
pub fn format_of(path: &Path) -> FileFormat {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    match name.rsplit('.').next() {
        Some("parquet") => FileFormat::Parquet,
        Some("xlsx" | "xlsm" | "xlsb" | "xls" | "ods") => FileFormat::Excel,
        _ => FileFormat::Csv,
    }
}

/// The delimiter of a delimited text file from its header line: whichever of
/// comma, semicolon, pipe and tab it holds most of (comma when none).
pub fn delimiter_of(header_line: &str) -> char {
    [',', '|', ';', '\t']
        .into_iter()
        .map(|d| (header_line.matches(d).count(), d))
        .max_by_key(|(count, d)| (*count, *d == ','))
        .filter(|(count, _)| *count > 0)
        .map_or(',', |(_, d)| d)
}

/// Reads the first line of a text extract (through gzip for `.gz`), for [`delimiter_of`].
pub fn first_line(path: &Path) -> std::io::Result<String> {
    use std::io::BufRead as _;
    let file = std::fs::File::open(path)?;
    let mut reader = std::io::BufReader::new(crate::compressed::reader(path, file));
    let mut line = String::new();
    reader.read_line(&mut line)?;
    Ok(line)
}

/// The agency an extract most likely comes from, by the words of its file (or
/// sheet) name: "social_care.csv" is children's social care, "Niche police
/// persons.xlsx" the police; `Other` when no word says.
pub fn agency_of(name: &str) -> AgencyKind {
    let name = normalise(name);
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    if has(&["public health", "health check", "children s centre"]) {
        AgencyKind::PublicHealth
    } else if has(&[
        "social care",
        "csc",
        "children s services",
        "mosaic",
        "liquidlogic",
        "lcs",
    ]) {
        AgencyKind::SocialCare
    } else if has(&["education", "school", "pupil", "attendance", "exclusion"]) {
        AgencyKind::Education
    } else if has(&["police", "niche", "incident", "athena"]) {
        AgencyKind::Police
    } else if has(&["health", "nhs", "hospital", "midwif", "visiting"]) {
        AgencyKind::Health
    } else if has(&["housing", "tenan", "homeless"]) {
        AgencyKind::Housing
    } else if has(&["benefit", "dwp", "universal credit", "claim"]) {
        AgencyKind::Benefits
    } else {
        AgencyKind::Other
    }
}

/// Proposes a role for every column of `sample`.
pub fn guess(sample: &ExtractSample) -> ExtractGuess {
    let date_format = best_date_format(sample);
    let mut columns: Vec<(ColumnGuess, Contents)> = sample
        .headers
        .iter()
        .enumerate()
        .map(|(index, header)| {
            let values: Vec<&SampleValue> = sample
                .rows
                .iter()
                .filter_map(|row| row.get(index))
                .filter(|v| **v != SampleValue::Empty)
                .collect();
            let contents = Contents::of(&values, &date_format);
            (guess_column(header, &contents), contents)
        })
        .collect();
    settle(&mut columns);
    ExtractGuess {
        columns: columns.into_iter().map(|(guess, _)| guess).collect(),
        date_format,
    }
}

/// What the sampled values of one column look like, as shares of the non-empty ones.
#[derive(Debug, Clone, Default)]
struct Contents {
    filled: usize,
    dates: f64,
    nhs_shaped: f64,
    nhs_valid: f64,
    postcodes: f64,
    ni_numbers: f64,
    numbers: f64,
    sexes: f64,
    distinct: f64,
    /// Mean year of the dates, to tell birth dates from event dates.
    mean_year: Option<f64>,
}

impl Contents {
    fn of(values: &[&SampleValue], date_format: &str) -> Contents {
        if values.is_empty() {
            return Contents::default();
        }
        let n = values.len() as f64;
        let share = |test: &dyn Fn(&SampleValue) -> bool| {
            values.iter().filter(|v| test(v)).count() as f64 / n
        };
        let texts: Vec<String> = values.iter().map(|v| v.text()).collect();
        let dates: Vec<NaiveDate> = values
            .iter()
            .filter_map(|v| as_date(v, date_format))
            .collect();
        let distinct = texts
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len() as f64
            / n;
        Contents {
            filled: values.len(),
            dates: dates.len() as f64 / n,
            nhs_shaped: share(&|v| text_of(v).is_some_and(|t| nhs_digits(t).is_some())),
            nhs_valid: share(&|v| text_of(v).is_some_and(is_valid_nhs_number)),
            postcodes: share(&|v| text_of(v).is_some_and(is_postcode)),
            ni_numbers: share(&|v| text_of(v).is_some_and(is_ni_number)),
            numbers: share(&|v| text_of(v).is_some_and(|t| t.parse::<f64>().is_ok())),
            sexes: share(&|v| text_of(v).is_some_and(is_sex_code)),
            distinct,
            mean_year: (!dates.is_empty()).then(|| {
                dates
                    .iter()
                    .map(|d| f64::from(chrono::Datelike::year(d)))
                    .sum::<f64>()
                    / dates.len() as f64
            }),
        }
    }

    /// The role the contents alone point to, with the share that says so.
    fn role(&self) -> Option<(FieldRole, f64, &'static str)> {
        if self.filled == 0 {
            return None;
        }
        [
            (FieldRole::NhsNumber, self.nhs_valid, "valid NHS numbers"),
            (FieldRole::Postcode, self.postcodes, "UK postcodes"),
            (
                FieldRole::NiNumber,
                self.ni_numbers,
                "National Insurance numbers",
            ),
            (FieldRole::EventDate, self.dates, "dates"),
        ]
        .into_iter()
        .find(|(_, share, _)| *share >= DECISIVE)
    }

    /// The share of values that fit `role`, and what they are called, where
    /// a role's values have a shape to test.
    fn fit(&self, role: FieldRole) -> Option<(f64, &'static str)> {
        match role {
            FieldRole::BirthDate | FieldRole::EventDate => Some((self.dates, "dates")),
            FieldRole::NhsNumber | FieldRole::ParentNhsNumber => {
                Some((self.nhs_valid, "valid NHS numbers"))
            }
            FieldRole::Postcode => Some((self.postcodes, "UK postcodes")),
            FieldRole::NiNumber => Some((self.ni_numbers, "National Insurance numbers")),
            FieldRole::EventValue => Some((self.numbers, "numbers")),
            FieldRole::Sex => Some((self.sexes, "sex codes")),
            _ => None,
        }
    }
}

fn text_of(value: &SampleValue) -> Option<&str> {
    match value {
        SampleValue::Text(text) => Some(text),
        _ => None,
    }
}

fn as_date(value: &SampleValue, format: &str) -> Option<NaiveDate> {
    match value {
        SampleValue::Date(date) => Some(*date),
        SampleValue::Text(text) => NaiveDate::parse_from_str(text, format)
            .ok()
            .filter(|d| (1900..=2100).contains(&chrono::Datelike::year(d))),
        SampleValue::Empty => None,
    }
}

/// The format in [`DATE_FORMATS`] that reads the most text values of the
/// sample (ties to the first: UK day-first).
fn best_date_format(sample: &ExtractSample) -> String {
    let texts: Vec<&str> = sample.rows.iter().flatten().filter_map(text_of).collect();
    DATE_FORMATS
        .iter()
        .map(|format| {
            let read = texts
                .iter()
                .filter(|t| as_date(&SampleValue::Text((*t).to_string()), format).is_some())
                .count();
            (read, *format)
        })
        .rev()
        .max_by_key(|(read, _)| *read)
        .filter(|(read, _)| *read > 0)
        .map_or(DATE_FORMATS[0], |(_, format)| format)
        .to_string()
}

/// The ten digits of an NHS number written with or without spaces or dashes.
fn nhs_digits(text: &str) -> Option<Vec<u32>> {
    let digits: Vec<u32> = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    (digits.len() == 10).then_some(digits)
}

/// True for an NHS number whose tenth digit is its modulus-11 check digit.
pub fn is_valid_nhs_number(text: &str) -> bool {
    let Some(digits) = nhs_digits(text) else {
        return false;
    };
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(d, w)| d * w)
        .sum();
    let check = 11 - sum % 11;
    match check {
        11 => digits[9] == 0,
        10 => false,
        check => digits[9] == check,
    }
}

/// True for a National Insurance number: two letters, six digits, a letter A–D.
fn is_ni_number(text: &str) -> bool {
    let compact: Vec<char> = text.chars().filter(|c| *c != ' ').collect();
    compact.len() == 9
        && compact[..2].iter().all(char::is_ascii_alphabetic)
        && compact[2..8].iter().all(char::is_ascii_digit)
        && matches!(compact[8].to_ascii_uppercase(), 'A'..='D')
}

/// True for the codes systems use for sex (M/F, Male/Female, the NHS 0/1/2/9).
fn is_sex_code(text: &str) -> bool {
    matches!(
        text.to_ascii_lowercase().as_str(),
        "m" | "f" | "male" | "female" | "u" | "unknown" | "0" | "1" | "2" | "9" | "x"
    )
}

/// A header lower-cased, with every run of other characters as one space:
/// "NHS_No." → "nhs no".
fn normalise(header: &str) -> String {
    let mut out = String::new();
    for c in header.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with(' ') && !out.is_empty() {
            out.push(' ');
        }
    }
    out.trim_end().to_string()
}

/// Whole headers that name a role, after [`normalise`].
const HEADER_NAMES: &[(FieldRole, &[&str])] = &[
    (
        FieldRole::NhsNumber,
        &[
            "nhs",
            "nhs no",
            "nhs number",
            "nhs num",
            "nhsno",
            "nhs id",
            "nhs nbr",
        ],
    ),
    (
        FieldRole::BirthDate,
        &[
            "dob",
            "d o b",
            "date of birth",
            "birth date",
            "birthdate",
            "born",
            "birth dt",
        ],
    ),
    (
        FieldRole::Postcode,
        &[
            "postcode",
            "post code",
            "pcode",
            "postal code",
            "post cd",
            "pc",
        ],
    ),
    (
        FieldRole::GivenName,
        &[
            "forename",
            "forenames",
            "first name",
            "firstname",
            "given name",
            "given names",
            "given",
            "christian name",
            "fname",
            "first",
        ],
    ),
    (
        FieldRole::FamilyName,
        &[
            "surname",
            "last name",
            "lastname",
            "family name",
            "familyname",
            "lname",
            "last",
        ],
    ),
    (
        FieldRole::Address,
        &[
            "address",
            "address line 1",
            "address 1",
            "address1",
            "addr",
            "address line1",
            "street",
            "home address",
            "full address",
        ],
    ),
    (
        FieldRole::Sex,
        &["sex", "gender", "sex code", "gender code"],
    ),
    (
        FieldRole::Ethnicity,
        &[
            "ethnicity",
            "ethnic",
            "ethnicity code",
            "ethnic origin",
            "ethnic group",
        ],
    ),
    (
        FieldRole::Upn,
        &["upn", "unique pupil number", "pupil number"],
    ),
    (
        FieldRole::NiNumber,
        &[
            "ni number",
            "nino",
            "ni no",
            "national insurance number",
            "ni",
            "nin",
        ],
    ),
    (
        FieldRole::EventType,
        &[
            "event",
            "event type",
            "type",
            "activity",
            "record type",
            "category",
            "contact type",
            "episode type",
            "incident type",
            "service",
        ],
    ),
    (
        FieldRole::EventDate,
        &[
            "date",
            "event date",
            "start date",
            "contact date",
            "activity date",
            "incident date",
        ],
    ),
    (
        FieldRole::EventValue,
        &[
            "value",
            "amount",
            "attendance",
            "attendance pct",
            "percent",
            "arrears",
            "score",
        ],
    ),
];

/// Words in an identifier's header that make it a person's own record number.
const PERSON_WORDS: &[&str] = &[
    "person",
    "pupil",
    "child",
    "client",
    "patient",
    "tenant",
    "claimant",
    "hospital",
    "subject",
    "individual",
    "customer",
    "mosaic",
    "lcs",
    "case person",
    "resident",
];
/// Words that make an identifier a household's or a case's.
const HOUSEHOLD_WORDS: &[&str] = &[
    "household",
    "tenancy",
    "claim",
    "family",
    "case",
    "property",
];
/// Words that make an identifier one row's (an incident, an attendance).
const ROW_WORDS: &[&str] = &[
    "episode",
    "attendance",
    "incident",
    "contact",
    "event",
    "referral",
    "row",
    "activity",
    "visit",
    "appointment",
    "record",
];
/// Last words that make a header an identifier.
const ID_WORDS: &[&str] = &[
    "id",
    "ref",
    "reference",
    "number",
    "no",
    "num",
    "key",
    "code",
];

/// The role a header names, with the reason.
fn header_role(header: &str) -> Option<(FieldRole, Confidence, String)> {
    let name = normalise(header);
    let quoted = format!("header '{header}'");
    let words: Vec<&str> = name.split(' ').collect();
    if name.contains("uprn") {
        return None;
    }
    let parent = words
        .iter()
        .any(|w| matches!(*w, "mother" | "mothers" | "parent" | "mum" | "maternal"));
    if parent && name.contains("nhs") {
        return Some((FieldRole::ParentNhsNumber, Confidence::Medium, quoted));
    }
    for (role, names) in HEADER_NAMES {
        if names.contains(&name.as_str()) {
            return Some((*role, Confidence::Medium, quoted));
        }
    }
    if name.contains("nhs") {
        return Some((FieldRole::NhsNumber, Confidence::Medium, quoted));
    }
    if name.contains("birth") || words.contains(&"dob") {
        return Some((FieldRole::BirthDate, Confidence::Medium, quoted));
    }
    if name.contains("postcode") || name.contains("post code") {
        return Some((FieldRole::Postcode, Confidence::Medium, quoted));
    }
    if name.contains("surname") || name.contains("family name") || name.contains("last name") {
        return Some((FieldRole::FamilyName, Confidence::Medium, quoted));
    }
    if name.contains("forename") || name.contains("first name") || name.contains("given name") {
        return Some((FieldRole::GivenName, Confidence::Medium, quoted));
    }
    if words.first() == Some(&"address") || name.contains("address line 1") {
        return Some((FieldRole::Address, Confidence::Medium, quoted));
    }
    if words.last().is_some_and(|w| ID_WORDS.contains(w)) {
        let has = |list: &[&str]| list.iter().any(|w| name.contains(w));
        let role = if has(PERSON_WORDS) {
            FieldRole::RecordId
        } else if has(HOUSEHOLD_WORDS) {
            FieldRole::HouseholdRef
        } else if has(ROW_WORDS) {
            FieldRole::RowId
        } else {
            // A plain "id" or "ph_id": likely the record id, settled below.
            return Some((FieldRole::RecordId, Confidence::Low, quoted));
        };
        return Some((role, Confidence::Medium, quoted));
    }
    if words.last() == Some(&"date") || words.first() == Some(&"date") {
        return Some((FieldRole::EventDate, Confidence::Medium, quoted));
    }
    if words.last() == Some(&"type") {
        return Some((FieldRole::EventType, Confidence::Medium, quoted));
    }
    None
}

fn percent(share: f64) -> String {
    format!("{:.0}%", (share * 100.0).floor())
}

/// One column's guess from its header and its contents.
fn guess_column(header: &str, contents: &Contents) -> ColumnGuess {
    let by_header = header_role(header);
    let by_contents = contents.role();
    let (role, confidence, reason) = match (by_header, by_contents) {
        (Some((role, confidence, said)), contents_role) => {
            match (contents.fit(role), contents_role) {
                // The header's role has a shape its values fit.
                (Some((share, what)), _) if share >= DECISIVE => (
                    Some(role),
                    Confidence::High,
                    format!("{said}; {} of values are {what}", percent(share)),
                ),
                // The values are plainly something else: they win.
                (Some((share, what)), Some((other, other_share, other_what)))
                    if share < CONTRADICTS && other != role =>
                {
                    let other = date_role(other, contents);
                    (
                        Some(other),
                        Confidence::Low,
                        format!(
                            "{said}, but {} of values are {other_what} (only {} are {what})",
                            percent(other_share),
                            percent(share)
                        ),
                    )
                }
                // Shaped like NHS numbers but failing the check digit.
                (Some((share, what)), None) if share < CONTRADICTS && contents.filled > 0 => {
                    let extra = if matches!(role, FieldRole::NhsNumber | FieldRole::ParentNhsNumber)
                        && contents.nhs_shaped >= DECISIVE
                    {
                        format!(
                            "; {} have ten digits but fail the NHS number check digit",
                            percent(contents.nhs_shaped - contents.nhs_valid)
                        )
                    } else {
                        String::new()
                    };
                    (
                        Some(role),
                        Confidence::Low,
                        format!(
                            "{said}, but only {} of values are {what}{extra}",
                            percent(share)
                        ),
                    )
                }
                (Some((share, what)), _) if contents.filled > 0 => (
                    Some(role),
                    Confidence::Medium,
                    format!("{said}; {} of values are {what}", percent(share)),
                ),
                _ => (Some(role), confidence, said),
            }
        }
        (None, Some((role, share, what))) => (
            Some(date_role(role, contents)),
            Confidence::Medium,
            format!("{} of values are {what}", percent(share)),
        ),
        (None, None) => (
            None,
            Confidence::Medium,
            if contents.filled == 0 {
                "no values in the first rows".to_string()
            } else {
                "neither the header nor the values match a role".to_string()
            },
        ),
    };
    ColumnGuess {
        header: header.to_string(),
        role,
        confidence,
        reason,
    }
}

/// A column of dates with no header to say which: birth dates when they are
/// mostly before 2000, event dates otherwise.
fn date_role(role: FieldRole, contents: &Contents) -> FieldRole {
    match (role, contents.mean_year) {
        (FieldRole::EventDate, Some(year)) if year < 2000.0 => FieldRole::BirthDate,
        (role, _) => role,
    }
}

/// Gives each role to one column at most (the surest keeps it; the others say
/// which column has it), and makes sure some column is the record id.
fn settle(columns: &mut [(ColumnGuess, Contents)]) {
    let mut order: Vec<usize> = (0..columns.len()).collect();
    // Surest first; among equals, the leftmost.
    order.sort_by_key(|i| (std::cmp::Reverse(columns[*i].0.confidence), *i));
    let mut taken: BTreeMap<FieldRole, String> = BTreeMap::new();
    for i in order {
        let guess = &mut columns[i].0;
        let Some(role) = guess.role else { continue };
        if let Some(holder) = taken.get(&role) {
            guess.reason = format!(
                "{}; '{holder}' is already the {}",
                guess.reason,
                role.column()
            );
            guess.role = None;
            guess.confidence = Confidence::Low;
        } else {
            taken.insert(role, guess.header.clone());
        }
    }
    if taken.contains_key(&FieldRole::RecordId) {
        return;
    }
    // No header said which column is the person's record: the leftmost column
    // whose values are mostly distinct text, not yet given a role.
    if let Some((guess, _)) = columns.iter_mut().find(|(guess, contents)| {
        guess.role.is_none() && contents.filled > 0 && contents.distinct >= 0.2
    }) {
        guess.role = Some(FieldRole::RecordId);
        guess.confidence = Confidence::Low;
        guess.reason = "no column is named as the person's record number; this is the first \
                        identifier-like column"
            .to_string();
    }
}

/// The role as a person reads it, with the name the manifest (and its
/// documentation) gives it: "Birth date · birth_date".
pub fn role_label(role: FieldRole) -> String {
    let words = match role {
        FieldRole::RecordId => "Record ID (the person's ID in this system)",
        FieldRole::RowId => "Row ID (one per incident, contact or episode)",
        FieldRole::GivenName => "Given name",
        FieldRole::FamilyName => "Family name",
        FieldRole::BirthDate => "Birth date",
        FieldRole::Sex => "Sex",
        FieldRole::Ethnicity => "Ethnicity",
        FieldRole::Postcode => "Postcode",
        FieldRole::Address => "Address",
        FieldRole::NhsNumber => "NHS number",
        FieldRole::Upn => "Unique pupil number",
        FieldRole::NiNumber => "National Insurance number",
        FieldRole::ParentNhsNumber => "Parent's NHS number",
        FieldRole::HouseholdRef => "Household reference (tenancy, claim or case)",
        FieldRole::EventType => "Event type",
        FieldRole::EventDate => "Event date",
        FieldRole::EventValue => "Event value (a number)",
    };
    format!("{words} · {}", role.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(headers: &[&str], rows: &[&[&str]]) -> ExtractSample {
        ExtractSample {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|v| {
                            if v.is_empty() {
                                SampleValue::Empty
                            } else {
                                SampleValue::Text(v.to_string())
                            }
                        })
                        .collect()
                })
                .collect(),
        }
    }

    fn role_of(guess: &ExtractGuess, header: &str) -> Option<FieldRole> {
        guess
            .columns
            .iter()
            .find(|c| c.header == header)
            .unwrap_or_else(|| panic!("no column {header}"))
            .role
    }

    fn reason_of<'g>(guess: &'g ExtractGuess, header: &str) -> &'g str {
        &guess
            .columns
            .iter()
            .find(|c| c.header == header)
            .expect("column")
            .reason
    }

    #[test]
    fn nhs_check_digit() {
        // 943 476 5919 is the NHS's own example of a valid number.
        assert!(is_valid_nhs_number("9434765919"));
        assert!(is_valid_nhs_number("943 476 5919"));
        assert!(is_valid_nhs_number("943-476-5919"));
        assert!(!is_valid_nhs_number("9434765918"));
        assert!(!is_valid_nhs_number("943476591"));
        assert!(!is_valid_nhs_number("94347659190"));
        assert!(!is_valid_nhs_number("943476591X"));
        assert!(is_valid_nhs_number("4010232137"));
        // A weighted sum that is a multiple of 11 gives check digit 0.
        assert!(is_valid_nhs_number("1000000060"));
        // Check digit 10 is never issued.
        assert!(!is_valid_nhs_number("1234567890"));
    }

    #[test]
    fn real_shaped_headers_are_named_roles() {
        let headers = [
            "Client ID",
            "NHS No",
            "Forename",
            "Family Name",
            "DOB",
            "Gender",
            "Address Line 1",
            "Post Code",
            "UPRN",
            "Event Date",
            "Event Type",
        ];
        let rows: &[&[&str]] = &[
            &[
                "C001",
                "943 476 5919",
                "Amy",
                "Khan",
                "01/02/2015",
                "F",
                "1 High St",
                "BH17 1EU",
                "100040123456",
                "03/04/2024",
                "referral",
            ],
            &[
                "C002",
                "4010232137",
                "Ben",
                "Smith",
                "11/12/2012",
                "M",
                "2 Low Rd",
                "NE61 1AA",
                "100040123457",
                "05/06/2024",
                "assessment",
            ],
        ];
        let guess = guess(&sample(&headers, rows));
        assert_eq!(role_of(&guess, "Client ID"), Some(FieldRole::RecordId));
        assert_eq!(role_of(&guess, "NHS No"), Some(FieldRole::NhsNumber));
        assert_eq!(role_of(&guess, "Forename"), Some(FieldRole::GivenName));
        assert_eq!(role_of(&guess, "Family Name"), Some(FieldRole::FamilyName));
        assert_eq!(role_of(&guess, "DOB"), Some(FieldRole::BirthDate));
        assert_eq!(role_of(&guess, "Gender"), Some(FieldRole::Sex));
        assert_eq!(role_of(&guess, "Address Line 1"), Some(FieldRole::Address));
        assert_eq!(role_of(&guess, "Post Code"), Some(FieldRole::Postcode));
        assert_eq!(
            role_of(&guess, "UPRN"),
            None,
            "a property reference is no role"
        );
        assert_eq!(role_of(&guess, "Event Date"), Some(FieldRole::EventDate));
        assert_eq!(role_of(&guess, "Event Type"), Some(FieldRole::EventType));
        assert_eq!(
            reason_of(&guess, "DOB"),
            "header 'DOB'; 100% of values are dates"
        );
        assert_eq!(guess.date_format, "%d/%m/%Y");
    }

    #[test]
    fn header_spellings_normalise() {
        for (header, role) in [
            ("nhs_number", FieldRole::NhsNumber),
            ("NHS_No.", FieldRole::NhsNumber),
            ("Date of Birth", FieldRole::BirthDate),
            ("date_of_birth", FieldRole::BirthDate),
            ("Surname", FieldRole::FamilyName),
            ("last_name", FieldRole::FamilyName),
            ("first_name", FieldRole::GivenName),
            ("postcode", FieldRole::Postcode),
            ("Mother NHS Number", FieldRole::ParentNhsNumber),
            ("mother_nhs_number", FieldRole::ParentNhsNumber),
            ("NINO", FieldRole::NiNumber),
            ("Tenancy Ref", FieldRole::HouseholdRef),
            ("Incident Ref", FieldRole::RowId),
            ("PERSON_REF", FieldRole::RecordId),
            ("ethnicity_code", FieldRole::Ethnicity),
            ("Contact Date", FieldRole::EventDate),
        ] {
            assert_eq!(header_role(header).map(|(r, ..)| r), Some(role), "{header}");
        }
    }

    #[test]
    fn a_column_named_date_full_of_postcodes_is_a_postcode() {
        let rows: &[&[&str]] = &[
            &["P1", "BH17 1EU"],
            &["P2", "NE61 1AA"],
            &["P3", "BH21 7XB"],
            &["P4", "DT1 1AB"],
        ];
        let guess = guess(&sample(&["person_id", "Date"], rows));
        let column = &guess.columns[1];
        assert_eq!(column.role, Some(FieldRole::Postcode));
        assert_eq!(column.confidence, Confidence::Low);
        assert_eq!(
            column.reason,
            "header 'Date', but 100% of values are UK postcodes (only 0% are dates)"
        );
    }

    #[test]
    fn nhs_numbers_failing_the_check_digit_are_flagged() {
        let rows: &[&[&str]] = &[
            &["P1", "9434765918"],
            &["P2", "4010232136"],
            &["P3", "1234567890"],
            &["P4", "9434765919"],
        ];
        let guess = guess(&sample(&["person_id", "NHS Number"], rows));
        let column = &guess.columns[1];
        assert_eq!(column.role, Some(FieldRole::NhsNumber));
        assert_eq!(column.confidence, Confidence::Low);
        assert!(
            column
                .reason
                .contains("only 25% of values are valid NHS numbers"),
            "{}",
            column.reason
        );
        assert!(
            column
                .reason
                .contains("75% have ten digits but fail the NHS number check digit"),
            "{}",
            column.reason
        );

        // Without a header saying so, ten digits failing the check are no NHS number.
        let guess = super::guess(&sample(&["person_id", "ref_10"], rows));
        assert_ne!(guess.columns[1].role, Some(FieldRole::NhsNumber));
    }

    #[test]
    fn contents_decide_when_headers_say_nothing() {
        let rows: &[&[&str]] = &[
            &[
                "A1",
                "9434765919",
                "BH17 1EU",
                "01/02/1980",
                "2024-01-03",
                "JK596721A",
            ],
            &[
                "A2",
                "4010232137",
                "NE61 1AA",
                "03/04/1975",
                "2024-02-05",
                "WL596728B",
            ],
        ];
        let guess = guess(&sample(
            &["key", "col2", "col3", "col4", "col5", "col6"],
            rows,
        ));
        assert_eq!(role_of(&guess, "col2"), Some(FieldRole::NhsNumber));
        assert_eq!(
            reason_of(&guess, "col2"),
            "100% of values are valid NHS numbers"
        );
        assert_eq!(role_of(&guess, "col3"), Some(FieldRole::Postcode));
        assert_eq!(role_of(&guess, "col6"), Some(FieldRole::NiNumber));
        assert_eq!(role_of(&guess, "key"), Some(FieldRole::RecordId));
        // One date format per extract: day-first reads col4, so col5 (ISO) is
        // not read as dates under it; the analyst is told by the reason.
        assert_eq!(guess.date_format, "%d/%m/%Y");
        assert_eq!(role_of(&guess, "col4"), Some(FieldRole::BirthDate));
    }

    #[test]
    fn iso_dates_choose_the_iso_format() {
        let rows: &[&[&str]] = &[
            &["H1", "1971-02-06", "2022-06-07"],
            &["H2", "1965-04-02", "2023-04-06"],
        ];
        let guess = guess(&sample(
            &["hospital_number", "birth_date", "contact_date"],
            rows,
        ));
        assert_eq!(guess.date_format, "%Y-%m-%d");
        assert_eq!(role_of(&guess, "birth_date"), Some(FieldRole::BirthDate));
        assert_eq!(role_of(&guess, "contact_date"), Some(FieldRole::EventDate));
        assert_eq!(
            role_of(&guess, "hospital_number"),
            Some(FieldRole::RecordId)
        );
    }

    #[test]
    fn spreadsheet_date_cells_count_as_dates() {
        let mut s = sample(&["id", "DOB"], &[&["A", ""], &["B", ""]]);
        for row in &mut s.rows {
            row[1] = SampleValue::Date(NaiveDate::from_ymd_opt(2010, 5, 6).expect("date"));
        }
        let guess = guess(&s);
        assert_eq!(guess.columns[1].role, Some(FieldRole::BirthDate));
        assert_eq!(guess.columns[1].confidence, Confidence::High);
    }

    #[test]
    fn a_role_goes_to_one_column() {
        let rows: &[&[&str]] = &[
            &["P1", "BH17 1EU", "BH17 1EU"],
            &["P2", "NE61 1AA", "NE61 1AA"],
        ];
        let guess = guess(&sample(&["person_id", "Postcode", "Post Code"], rows));
        assert_eq!(role_of(&guess, "Postcode"), Some(FieldRole::Postcode));
        assert_eq!(role_of(&guess, "Post Code"), None);
        assert!(reason_of(&guess, "Post Code").contains("'Postcode' is already the postcode"));
    }

    #[test]
    fn agencies_from_file_names() {
        for (name, agency) in [
            ("social_care.csv.gz", AgencyKind::SocialCare),
            ("Mosaic children export.xlsx", AgencyKind::SocialCare),
            ("public_health.csv", AgencyKind::PublicHealth),
            ("School census Spring 2025.xlsx", AgencyKind::Education),
            ("police.csv.gz", AgencyKind::Police),
            ("health.csv.gz", AgencyKind::Health),
            ("Housing tenancies.csv", AgencyKind::Housing),
            ("benefits.parquet", AgencyKind::Benefits),
            ("extract 3.csv", AgencyKind::Other),
        ] {
            assert_eq!(agency_of(name), agency, "{name}");
        }
    }

    #[test]
    fn file_formats_and_delimiters() {
        assert_eq!(format_of(Path::new("a/b.csv.gz")), FileFormat::Csv);
        assert_eq!(format_of(Path::new("b.PARQUET")), FileFormat::Parquet);
        assert_eq!(format_of(Path::new("b.xlsx")), FileFormat::Excel);
        assert_eq!(format_of(Path::new("b.xls")), FileFormat::Excel);
        assert_eq!(delimiter_of("PERSON_REF|INCIDENT_REF|FORENAME\n"), '|');
        assert_eq!(delimiter_of("a;b;c"), ';');
        assert_eq!(delimiter_of("a,b,\"c;d\""), ',');
        assert_eq!(delimiter_of("single"), ',');
    }
}
