//! Service definitions: which people are eligible for a service, invited to it and
//! attended it, as SQL queries per LSOA in a TOML file. The built-in services
//! (`assets/services.toml`) use the same format as an analyst's own, so neither
//! NHS Health Checks nor children's centres are special cases in the code.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The built-in services, compiled in so the binary needs no assets folder.
pub const BUILT_IN_TOML: &str = include_str!("../../../../assets/services.toml");

/// One service and its three queries.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Short name used on the command line (`health_check`).
    pub name: String,
    /// Name a person reads ("NHS Health Check").
    pub title: String,
    /// Who is counted as eligible, invited and attended, in words.
    #[serde(default)]
    pub description: String,
    /// People eligible, per LSOA: the denominator of coverage.
    pub eligible: String,
    /// People invited or offered, per LSOA: the denominator of uptake. Optional.
    #[serde(default)]
    pub invited: Option<String>,
    /// People who attended or registered, per LSOA: the numerator of both rates.
    pub attended: String,
    /// The file the service was read from ("assets/services.toml" for the
    /// built-ins), so that an error in one of its queries names it.
    #[serde(skip)]
    pub file: PathBuf,
}

impl Service {
    /// The service's queries by name (`invited` only when it has one).
    pub fn queries(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("eligible", Some(self.eligible.as_str())),
            ("invited", self.invited.as_deref()),
            ("attended", Some(self.attended.as_str())),
        ]
        .into_iter()
        .filter_map(|(name, query)| Some((name, query?)))
    }

    /// Refuses a query that could hold more than one SQL statement. Each query is
    /// pasted into one statement and run prepared, but duckdb-rs's `prepare` (as
    /// of 1.20000.1) runs every statement before the last of a text holding
    /// several, so a `;` would let a service file delete users or rewrite the
    /// audit log. Statements are separated only by `;`, so a text without one is a
    /// single statement: even inside a string or a comment it is refused, which no
    /// count per LSOA needs.
    pub fn check_one_statement(&self) -> Result<(), ServiceError> {
        for (query, text) in self.queries() {
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
    services: Vec<Service>,
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
    #[error("no service '{name}'; the services are: {known}")]
    Unknown { name: String, known: String },
}

/// The built-in services.
pub fn built_in() -> Result<Vec<Service>, ServiceError> {
    parse(BUILT_IN_TOML, Path::new("assets/services.toml"))
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
    // toml's message names the line and column.
    let mut file: ServiceFile = toml::from_str(text).map_err(|e| parse_error(e.to_string()))?;
    if file.services.is_empty() {
        return Err(parse_error("no [[service]] entries".to_string()));
    }
    for service in &mut file.services {
        service.file = path.to_path_buf();
    }
    let mut names = std::collections::BTreeSet::new();
    for service in &file.services {
        service.check_one_statement()?;
        let valid_name = service.name.starts_with(|c: char| c.is_ascii_lowercase())
            && service
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_name {
            return Err(parse_error(format!(
                "service name '{}' must be lower-case letters, digits and '_'",
                service.name
            )));
        }
        if !names.insert(service.name.as_str()) {
            return Err(parse_error(format!(
                "two services are named '{}'",
                service.name
            )));
        }
    }
    Ok(file.services)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_services_are_health_checks_and_childrens_centres() {
        let services = built_in().expect("built-in services parse");
        let health_check = find(&services, "health_check").expect("health check");
        assert!(health_check.invited.is_some());
        let centres = find(&services, "childrens_centre").expect("children's centres");
        assert!(
            centres.invited.is_none(),
            "no invitation to a children's centre"
        );
        let error = find(&services, "dentist").expect_err("unknown").to_string();
        assert!(error.contains("health_check, childrens_centre"), "{error}");
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
