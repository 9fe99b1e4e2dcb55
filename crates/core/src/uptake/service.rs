//! Service definitions: which people are eligible for a service, invited to it and
//! attended it, as SQL queries per LSOA in a TOML file. The built-in services
//! (`assets/services.toml`) use the same format as an analyst's own, so neither
//! NHS Health Checks nor children's centres are special cases in the code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::defined::{self, Area, Definition, Eligible, Query, Sex};

/// The built-in services, compiled in so the binary needs no assets folder.
pub const BUILT_IN_TOML: &str = include_str!("../../../../assets/services.toml");

/// One service: its names and how its people are counted.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// Short name used on the command line (`health_check`).
    pub name: String,
    /// Name a person reads ("NHS Health Check").
    pub title: String,
    /// Who is counted as eligible, invited and attended, in words.
    pub description: String,
    pub counting: Counting,
    /// The file the service was read from ("assets/services.toml" for the
    /// built-ins), so that an error in one of its queries names it.
    pub file: PathBuf,
    /// Where in `file` the parts of a defined service are written, so that an
    /// event type the database lacks is named with its line.
    pub lines: Lines,
}

/// How a service's people are counted.
#[derive(Debug, Clone, PartialEq)]
pub enum Counting {
    /// Queries an analyst wrote (the built-ins, and `--services` files).
    Sql(SqlQueries),
    /// A definition as data ([`defined`]), compiled into queries with bound values.
    Defined(Definition),
}

/// A service's three queries, each returning `lsoa_code` and `n`.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlQueries {
    /// People eligible, per LSOA: the denominator of coverage.
    pub eligible: String,
    /// People invited or offered, per LSOA: the denominator of uptake. Optional.
    pub invited: Option<String>,
    /// People who attended or registered, per LSOA: the numerator of both rates.
    pub attended: String,
}

impl SqlQueries {
    /// Each query with its name (`None`: no invitation).
    pub fn each(&self) -> [(&'static str, Option<&str>); 3] {
        [
            ("eligible", Some(self.eligible.as_str())),
            ("invited", self.invited.as_deref()),
            ("attended", Some(self.attended.as_str())),
        ]
    }
}

/// Lines of a services file where a defined service's parts are written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lines {
    /// The service's `[[service]]` table.
    pub service: Option<usize>,
    /// The `[service.eligible]` table (its areas).
    pub eligible: Option<usize>,
    /// Each event type, where it is first written.
    pub events: BTreeMap<String, usize>,
}

impl Service {
    /// True for the services that ship with Zonewise: one of them exactly, not
    /// just a service read from a file of the same name (an analyst's own
    /// `assets/services.toml` must still have its event types checked).
    pub fn is_built_in(&self) -> bool {
        static BUILT_IN: std::sync::OnceLock<Vec<Service>> = std::sync::OnceLock::new();
        BUILT_IN
            .get_or_init(|| built_in().unwrap_or_default())
            .contains(self)
    }

    /// True when the service counts invitations (and so has an uptake rate).
    pub fn has_invited(&self) -> bool {
        match &self.counting {
            Counting::Sql(queries) => queries.invited.is_some(),
            Counting::Defined(definition) => definition.has_invited(),
        }
    }

    /// The eligible, invited (`None` without an invitation) and attended queries
    /// with the values they bind, after refusing what would make them unsafe or
    /// wrong: several SQL statements, or a defined service naming an event type,
    /// authority or zone `conn`'s database does not hold.
    pub fn queries(
        &self,
        conn: &duckdb::Connection,
    ) -> Result<[(&'static str, Option<Query>); 3], ServiceError> {
        match &self.counting {
            Counting::Sql(queries) => {
                self.check_one_statement()?;
                let query = |sql: &String| Query {
                    sql: sql.clone(),
                    params: Vec::new(),
                };
                Ok([
                    ("eligible", Some(query(&queries.eligible))),
                    ("invited", queries.invited.as_ref().map(query)),
                    ("attended", Some(query(&queries.attended))),
                ])
            }
            Counting::Defined(definition) => {
                defined::check(conn, self)?;
                Ok(definition.queries())
            }
        }
    }

    /// Where the service is written, for a message: the file, and the line when known.
    pub fn place(&self, line: Option<usize>) -> String {
        match line {
            Some(line) => format!("{}, line {line}", self.file.display()),
            None => self.file.display().to_string(),
        }
    }

    /// Refuses a query that could hold more than one SQL statement. Each query is
    /// pasted into one statement and run prepared, but duckdb-rs's `prepare` (as
    /// of 1.20000.1) runs every statement before the last of a text holding
    /// several, so a `;` would let a service file delete users or rewrite the
    /// audit log. Statements are separated only by `;`, so a text without one is a
    /// single statement: even inside a string or a comment it is refused, which no
    /// count per LSOA needs.
    pub fn check_one_statement(&self) -> Result<(), ServiceError> {
        let Counting::Sql(queries) = &self.counting else {
            return Ok(());
        };
        for (query, text) in queries.each() {
            let Some(text) = text else { continue };
            if let Some(at) = text.find(';') {
                let before = &text[..at];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                return Err(ServiceError::SeveralStatements {
                    service: self.name.clone(),
                    query,
                    path: self.file.clone(),
                    line,
                    column,
                });
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceFile {
    #[serde(rename = "service", default)]
    services: Vec<Spanned<RawService>>,
}

/// A `[[service]]` as written: counted by SQL (`eligible`, `invited` and
/// `attended` queries) or defined as data (a `[service.eligible]` table with
/// `invited_events`, `attended_events` and `within_years`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: String,
    title: String,
    #[serde(default)]
    description: String,
    eligible: Spanned<RawEligible>,
    invited: Option<String>,
    attended: Option<String>,
    invited_events: Option<Vec<Spanned<String>>>,
    attended_events: Option<Vec<Spanned<String>>>,
    within_years: Option<u32>,
}

/// `eligible`: a query, or a table describing the people.
enum RawEligible {
    Sql(String),
    Defined(RawEligibility),
}

impl<'de> Deserialize<'de> for RawEligible {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> serde::de::Visitor<'de> for Either {
            type Value = RawEligible;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a query, or a table with age, sex and an area")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<RawEligible, E> {
                Ok(RawEligible::Sql(text.to_string()))
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                map: M,
            ) -> Result<RawEligible, M::Error> {
                RawEligibility::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawEligible::Defined)
            }
        }
        deserializer.deserialize_any(Either)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEligibility {
    age: [u32; 2],
    #[serde(default)]
    sex: Option<String>,
    authorities: Option<Vec<String>>,
    zones: Option<Vec<String>>,
}

/// Why a service file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("cannot read service file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("service file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// The TOML was read but a service is unusable.
    #[error("service file {path}, line {line}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "service '{service}' in {path}: the {query} query has a ';' at its line {line}, column \
         {column}; a service query must be one SELECT statement, with no ';' even at its end"
    )]
    SeveralStatements {
        service: String,
        query: &'static str,
        path: PathBuf,
        line: usize,
        column: usize,
    },
    #[error(
        "service '{service}' ({place}): no event of type '{event_type}' in this database; \
         its event types are: {known}"
    )]
    UnknownEventType {
        service: String,
        event_type: String,
        place: String,
        known: String,
    },
    #[error(
        "service '{service}' ({place}): no {kind} '{code}' in this database; there are: {known}"
    )]
    UnknownArea {
        service: String,
        kind: &'static str,
        code: String,
        place: String,
        known: String,
    },
    #[error("no service '{name}'; the services are: {known}")]
    Unknown { name: String, known: String },
    #[error("cannot write service file {path}: {message}")]
    Write { path: PathBuf, message: String },
}

/// Where the built-in services are said to be written, in messages.
pub const BUILT_IN_PLACE: &str = "assets/services.toml";

/// The built-in services.
pub fn built_in() -> Result<Vec<Service>, ServiceError> {
    parse(BUILT_IN_TOML, Path::new(BUILT_IN_PLACE))
}

/// The services in a TOML file in the format of `assets/services.toml`.
pub fn load(path: &Path) -> Result<Vec<Service>, ServiceError> {
    let text = std::fs::read_to_string(path).map_err(|source| ServiceError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Parses and checks service TOML; `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Service>, ServiceError> {
    let parse_error = |message: String| ServiceError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let line_of = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    // toml's message names the line and column.
    let file: ServiceFile = toml::from_str(text).map_err(|e| parse_error(e.to_string()))?;
    if file.services.is_empty() {
        return Err(parse_error("no [[service]] entries".to_string()));
    }
    let mut services = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for raw in file.services {
        let line = line_of(raw.span().start);
        let invalid = |message: String| ServiceError::Invalid {
            path: path.to_path_buf(),
            line,
            message,
        };
        let raw = raw.into_inner();
        if let Some(message) = name_error(&raw.name) {
            return Err(parse_error(message));
        }
        if !names.insert(raw.name.clone()) {
            return Err(parse_error(format!(
                "two services are named '{}'",
                raw.name
            )));
        }
        let eligible_line = line_of(raw.eligible.span().start);
        let mut lines = Lines {
            service: Some(line),
            ..Lines::default()
        };
        let counting = match raw.eligible.into_inner() {
            RawEligible::Sql(eligible) => {
                if raw.invited_events.is_some()
                    || raw.attended_events.is_some()
                    || raw.within_years.is_some()
                {
                    return Err(invalid(format!(
                        "service '{}': invited_events, attended_events and within_years \
                         belong to a service defined by a [service.eligible] table, not by queries",
                        raw.name
                    )));
                }
                let Some(attended) = raw.attended else {
                    return Err(invalid(format!(
                        "service '{}' has an eligible query but no attended query",
                        raw.name
                    )));
                };
                Counting::Sql(SqlQueries {
                    eligible,
                    invited: raw.invited,
                    attended,
                })
            }
            RawEligible::Defined(eligibility) => {
                if raw.invited.is_some() || raw.attended.is_some() {
                    return Err(invalid(format!(
                        "service '{}' is defined by a [service.eligible] table, so its people \
                         are counted from invited_events and attended_events, not queries",
                        raw.name
                    )));
                }
                lines.eligible = Some(eligible_line);
                let mut events = |list: Option<Vec<Spanned<String>>>| -> Vec<String> {
                    list.unwrap_or_default()
                        .into_iter()
                        .map(|event| {
                            let line = line_of(event.span().start);
                            let event = event.into_inner();
                            lines.events.entry(event.clone()).or_insert(line);
                            event
                        })
                        .collect()
                };
                let invited_events = events(raw.invited_events);
                let attended_events = events(raw.attended_events);
                let sex = match eligibility.sex.as_deref() {
                    None => Sex::Any,
                    Some(key) => Sex::from_key(key).ok_or_else(|| {
                        invalid(format!(
                            "service '{}': sex must be \"any\", \"female\" or \"male\", not \"{key}\"",
                            raw.name
                        ))
                    })?,
                };
                let area = match (eligibility.authorities, eligibility.zones) {
                    (None, None) => Area::Whole,
                    (Some(codes), None) => Area::Authorities(codes),
                    (None, Some(codes)) => Area::Zones(codes),
                    (Some(_), Some(_)) => {
                        return Err(invalid(format!(
                            "service '{}': name authorities or zones, not both",
                            raw.name
                        )));
                    }
                };
                let definition = Definition {
                    eligible: Eligible {
                        min_age: eligibility.age[0],
                        max_age: eligibility.age[1],
                        sex,
                        area,
                    },
                    invited_events,
                    attended_events,
                    within_years: raw.within_years,
                };
                if let Some(message) = definition.shape_error() {
                    return Err(invalid(format!("service '{}': {message}", raw.name)));
                }
                Counting::Defined(definition)
            }
        };
        let service = Service {
            name: raw.name,
            title: raw.title,
            description: raw.description,
            counting,
            file: path.to_path_buf(),
            lines,
        };
        service.check_one_statement()?;
        services.push(service);
    }
    Ok(services)
}

/// What is wrong with a service's short name, if anything: it is typed on the
/// command line and stored in the tables, so lower-case letters, digits and `_`.
pub fn name_error(name: &str) -> Option<String> {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    (!valid).then(|| {
        format!("service name '{name}' must start with a lower-case letter and hold only lower-case letters, digits and '_'")
    })
}

/// The service called `name` among `services`.
pub fn find<'a>(services: &'a [Service], name: &str) -> Result<&'a Service, ServiceError> {
    services
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| ServiceError::Unknown {
            name: name.to_string(),
            known: services
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// A defined service as a `[[service]]` table of a services file (`None` for a
/// service counted by SQL, which is written by hand, never by the app).
pub fn defined_table(service: &Service) -> Option<toml_edit::Table> {
    use toml_edit::{Array, Item, Table, value};
    let Counting::Defined(definition) = &service.counting else {
        return None;
    };
    let list =
        |items: &[String]| -> Item { value(items.iter().map(String::as_str).collect::<Array>()) };
    let mut table = Table::new();
    table["name"] = value(service.name.as_str());
    table["title"] = value(service.title.as_str());
    if !service.description.trim().is_empty() {
        table["description"] = value(service.description.trim());
    }
    if definition.has_invited() {
        table["invited_events"] = list(&definition.invited_events);
    }
    table["attended_events"] = list(&definition.attended_events);
    if let Some(years) = definition.within_years {
        table["within_years"] = value(i64::from(years));
    }
    let e = &definition.eligible;
    let mut eligible = Table::new();
    eligible["age"] = value(Array::from_iter([
        i64::from(e.min_age),
        i64::from(e.max_age),
    ]));
    eligible["sex"] = value(e.sex.key());
    match &e.area {
        Area::Whole => {}
        Area::Authorities(codes) => eligible["authorities"] = list(codes),
        Area::Zones(codes) => eligible["zones"] = list(codes),
    }
    table["eligible"] = Item::Table(eligible);
    Some(table)
}

/// A defined service as the text of a services file holding it alone: how the
/// database keeps it (`app.service`) and how it reads it back with [`parse`].
pub fn defined_toml(service: &Service) -> Option<String> {
    let mut services = toml_edit::ArrayOfTables::new();
    services.push(defined_table(service)?);
    let mut document = toml_edit::DocumentMut::new();
    document["service"] = toml_edit::Item::ArrayOfTables(services);
    Some(document.to_string())
}

/// Writes a defined service into the services file at `path`: in place of the
/// service of the same name, else after the others, keeping the rest of the
/// file (comments included); a new file when there is none. The file is checked
/// as `zonewise uptake --services` reads it before it replaces the old one, so
/// a file that would not load is never written.
pub fn write_into_file(path: &Path, service: &Service) -> Result<(), ServiceError> {
    let write_error = |message: String| ServiceError::Write {
        path: path.to_path_buf(),
        message,
    };
    let table = defined_table(service).ok_or_else(|| {
        write_error(format!(
            "'{}' is counted by SQL; only services defined as data are written by the app",
            service.name
        ))
    })?;
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(ServiceError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if !text.trim().is_empty() {
        // What is there must already be a services file: never overwrite another kind.
        parse(&text, path)?;
    }
    let mut document: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| write_error(e.to_string()))?;
    let services = document
        .entry("service")
        .or_insert(toml_edit::Item::ArrayOfTables(Default::default()))
        .as_array_of_tables_mut()
        .ok_or_else(|| write_error("its `service` is not a list of [[service]] tables".into()))?;
    let same_name = services
        .iter()
        .position(|t| t.get("name").and_then(|n| n.as_str()) == Some(service.name.as_str()));
    match same_name.and_then(|at| services.get_mut(at)) {
        Some(old) => *old = table,
        None => services.push(table),
    }
    let text = document.to_string();
    parse(&text, path)?;
    let saving = path.with_file_name(format!(
        ".{}.saving",
        path.file_name()
            .map_or("services".into(), |n| n.to_string_lossy())
    ));
    std::fs::write(&saving, &text)
        .and_then(|()| std::fs::rename(&saving, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&saving);
            write_error(e.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_services_are_health_checks_and_childrens_centres() {
        let services = built_in().expect("built-in services parse");
        let health_check = find(&services, "health_check").expect("health check");
        assert!(health_check.has_invited());
        let centres = find(&services, "childrens_centre").expect("children's centres");
        assert!(
            !centres.has_invited(),
            "no invitation to a children's centre"
        );
        let error = find(&services, "dentist").expect_err("unknown").to_string();
        assert!(error.contains("health_check, childrens_centre"), "{error}");
        assert!(services.iter().all(Service::is_built_in));
        // A file that happens to have the built-ins' path is not built in unless
        // it holds exactly a built-in service.
        let mut mine = health_check.clone();
        mine.title = "Our checks".into();
        assert_eq!(mine.file, Path::new(BUILT_IN_PLACE));
        assert!(!mine.is_built_in());
    }

    #[test]
    fn bad_service_files_are_named_with_their_line() {
        let error = parse(
            "[[service]]\nname = \"x\"\ntitle = \"X\"\neligible = \"SELECT 1\"\n",
            Path::new("mine.toml"),
        )
        .expect_err("attended is required")
        .to_string();
        assert!(
            error.contains("mine.toml") && error.contains("attended"),
            "{error}"
        );
        let twice =
            "[[service]]\nname = \"x\"\ntitle = \"X\"\neligible = \"e\"\nattended = \"a\"\n";
        let error = parse(&twice.repeat(2), Path::new("mine.toml"))
            .expect_err("duplicate names")
            .to_string();
        assert!(error.contains("two services are named 'x'"), "{error}");
    }

    /// A `;` anywhere in a query, even in a string, is refused with where it is.
    #[test]
    fn a_query_with_a_semicolon_is_refused_with_its_place() {
        let text = "[[service]]\nname = \"x\"\ntitle = \"X\"\neligible = \"SELECT 1\"\n\
                    attended = \"\"\"\nSELECT lsoa_code,\n  'a;b' AS n FROM ref.lsoa\"\"\"\n";
        let error = parse(text, Path::new("mine.toml"))
            .expect_err("a ';'")
            .to_string();
        assert!(
            error.contains(
                "service 'x' in mine.toml: the attended query has a ';' at its line 2, column 5"
            ),
            "{error}"
        );
    }
}
