//! Services defined as data rather than SQL: the people eligible by age on the
//! reference date, sex and area; invited, those of them with an event of chosen
//! types in a look-back window before that date (optional); attended, those
//! eligible (and invited, when there is an invitation) with an event of the
//! attended types in the window. The app's "Define a service…" form makes one;
//! a services file may hold one beside SQL services (see `assets/services.toml`).
//!
//! A definition is compiled here into the three queries per LSOA that
//! [`super::compute`] runs. Ages, sex, areas, event types and the window reach
//! SQL only as bound parameters (sex as the closed set `F`/`M`), and every
//! condition of the eligible query is repeated inside the invited and attended
//! ones, so attended ⊆ invited ⊆ eligible holds by construction. Event types and
//! area codes are checked against what the database holds before anything runs
//! ([`check`]), so a typo is refused by name rather than counting nobody.

use std::collections::BTreeSet;

use duckdb::Connection;
use duckdb::types::Value;

use super::service::{Counting, Service, ServiceError};

/// Whose sex a service counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Sex {
    #[default]
    Any,
    Female,
    Male,
}

impl Sex {
    /// Every choice, as the form offers them.
    pub const ALL: [Sex; 3] = [Sex::Any, Sex::Female, Sex::Male];

    /// The word written in a services file (`sex = "female"`).
    pub fn key(self) -> &'static str {
        match self {
            Sex::Any => "any",
            Sex::Female => "female",
            Sex::Male => "male",
        }
    }

    /// The choice named `key`, as [`Sex::key`] writes it.
    pub fn from_key(key: &str) -> Option<Sex> {
        Sex::ALL.into_iter().find(|sex| sex.key() == key)
    }

    /// The value of `core.person.sex` it keeps (linkage standardises sex to
    /// `F`, `M` or NULL); `None` for any.
    fn person_code(self) -> Option<&'static str> {
        match self {
            Sex::Any => None,
            Sex::Female => Some("F"),
            Sex::Male => Some("M"),
        }
    }
}

/// Where eligible people live.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum Area {
    /// Everyone in the database, with or without a known LSOA.
    #[default]
    Whole,
    /// People living in these local authorities (LAD codes of `ref.lsoa`).
    Authorities(Vec<String>),
    /// People living in these zones (`ref.zone`).
    Zones(Vec<String>),
}

/// Who is eligible: age in whole years on the reference date, sex and area.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Eligible {
    pub min_age: u32,
    pub max_age: u32,
    pub sex: Sex,
    pub area: Area,
}

/// A service defined as data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Definition {
    pub eligible: Eligible,
    /// Event types that count as an invitation; empty when the service has none
    /// (then only coverage is measured).
    pub invited_events: Vec<String>,
    /// Event types that count as having attended.
    pub attended_events: Vec<String>,
    /// Only events in the whole years before the reference date count; `None`:
    /// any event before it.
    pub within_years: Option<u32>,
}

/// The oldest age a definition may name, and the longest look-back.
pub const MAX_AGE: u32 = 120;
pub const MAX_YEARS: u32 = 100;

/// One query per LSOA and the values bound to its `?` placeholders, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub sql: String,
    pub params: Vec<Value>,
}

impl Definition {
    /// Whether the service has an invitation (and so an uptake rate).
    pub fn has_invited(&self) -> bool {
        !self.invited_events.is_empty()
    }

    /// What is wrong with the definition in itself, before any database is
    /// asked: ages in order and in range, a sensible window, attended events
    /// listed, no event type empty or listed twice.
    pub fn shape_error(&self) -> Option<String> {
        let e = &self.eligible;
        if e.min_age > e.max_age || e.max_age > MAX_AGE {
            return Some(format!(
                "the ages must run from a lower to a higher age, at most {MAX_AGE}, not {} to {}",
                e.min_age, e.max_age
            ));
        }
        if let Some(years) = self.within_years
            && !(1..=MAX_YEARS).contains(&years)
        {
            return Some(format!(
                "within_years must be from 1 to {MAX_YEARS}, not {years}"
            ));
        }
        if self.attended_events.is_empty() {
            return Some("attended_events must list at least one event type".to_string());
        }
        for (list, events) in [
            ("invited_events", &self.invited_events),
            ("attended_events", &self.attended_events),
        ] {
            let mut seen = BTreeSet::new();
            for event in events {
                if event.trim().is_empty() {
                    return Some(format!("{list} has an empty event type"));
                }
                if !seen.insert(event) {
                    return Some(format!("{list} lists '{event}' twice"));
                }
            }
        }
        match &e.area {
            Area::Authorities(codes) | Area::Zones(codes) if codes.is_empty() => {
                Some("an area must name at least one authority or zone".to_string())
            }
            _ => None,
        }
    }

    /// The definition in words, for its description when none is given and for
    /// its audit entry.
    pub fn describe(&self) -> String {
        let e = &self.eligible;
        let who = match e.sex {
            Sex::Any => "People",
            Sex::Female => "Women and girls",
            Sex::Male => "Men and boys",
        };
        let area = match &e.area {
            Area::Whole => String::new(),
            Area::Authorities(codes) => format!(" living in {}", codes.join(", ")),
            Area::Zones(codes) => format!(" living in zone {}", codes.join(", ")),
        };
        let window = match self.within_years {
            Some(1) => "in the year before it".to_string(),
            Some(years) => format!("in the {years} years before it"),
            None => "at any time before it".to_string(),
        };
        let mut words = format!(
            "{who} aged {}–{} on the reference date{area} (eligible)",
            e.min_age, e.max_age
        );
        if self.has_invited() {
            words.push_str(&format!(
                ", those with {} {window} (invited)",
                self.invited_events.join(" or ")
            ));
        }
        let of = if self.has_invited() {
            "invited"
        } else {
            "eligible"
        };
        words.push_str(&format!(
            ", and those {of} with {} {window} (attended).",
            self.attended_events.join(" or ")
        ));
        words
    }

    /// The eligible, invited (when there is an invitation) and attended queries,
    /// each counting people per LSOA.
    pub fn queries(&self) -> [(&'static str, Option<Query>); 3] {
        self.people_queries().map(|(name, query)| {
            let counted = query.map(|q| Query {
                sql: format!(
                    "SELECT lsoa_code, count(*) AS n FROM (\n{}\n) GROUP BY lsoa_code",
                    q.sql
                ),
                params: q.params,
            });
            (name, counted)
        })
    }

    /// False when no person can be eligible for both: their ages, or their
    /// sexes, or their authorities or zones do not meet. Services that may share
    /// people are suppressed together (`overlap`); those that cannot need not be.
    pub fn may_share_people(&self, other: &Definition) -> bool {
        let (a, b) = (&self.eligible, &other.eligible);
        let ages = a.min_age <= b.max_age && b.min_age <= a.max_age;
        let sexes = !matches!(
            (a.sex, b.sex),
            (Sex::Female, Sex::Male) | (Sex::Male, Sex::Female)
        );
        let meet = |x: &[String], y: &[String]| x.iter().any(|code| y.contains(code));
        let areas = match (&a.area, &b.area) {
            (Area::Authorities(x), Area::Authorities(y)) | (Area::Zones(x), Area::Zones(y)) => {
                meet(x, y)
            }
            // A zone may lie in any authority: only the database knows.
            _ => true,
        };
        ages && sexes && areas
    }

    /// The same three, each listing its people (`person_id`, `lsoa_code`): what
    /// suppression reads to find the services that share people and the small
    /// groups one service's counts less another's would reveal (`overlap`).
    pub fn people_queries(&self) -> [(&'static str, Option<Query>); 3] {
        let invited = self
            .has_invited()
            .then(|| self.query(&[&self.invited_events]));
        let attended = if self.has_invited() {
            self.query(&[&self.invited_events, &self.attended_events])
        } else {
            self.query(&[&self.attended_events])
        };
        [
            ("eligible", Some(self.query(&[]))),
            ("invited", invited),
            ("attended", Some(attended)),
        ]
    }

    /// People eligible who have, for each list in `events`, an event of one of
    /// its types in the window: one row per person with their LSOA.
    fn query(&self, events: &[&Vec<String>]) -> Query {
        let e = &self.eligible;
        let mut params = vec![Value::UInt(e.min_age), Value::UInt(e.max_age)];
        let mut sql = "SELECT p.person_id, p.lsoa_code
FROM core.person p
WHERE age_on(p.birth_date, getvariable('reference_date')) BETWEEN ? AND ?"
            .to_string();
        if let Some(code) = e.sex.person_code() {
            sql.push_str("\n  AND p.sex = ?");
            params.push(Value::Text(code.to_string()));
        }
        let (lookup, column, codes) = match &e.area {
            Area::Whole => ("", "", &Vec::new()),
            Area::Authorities(codes) => ("ref.lsoa", "la_code", codes),
            Area::Zones(codes) => ("ref.lsoa_zone", "zone_id", codes),
        };
        if !codes.is_empty() {
            sql.push_str(&format!(
                "\n  AND p.lsoa_code IN (SELECT lsoa_code FROM {lookup} WHERE {column} IN ({}))",
                placeholders(codes.len())
            ));
            params.extend(codes.iter().map(|code| Value::Text(code.clone())));
        }
        for types in events {
            sql.push_str(&format!(
                "\n  AND EXISTS (SELECT 1 FROM core.event e WHERE e.person_id = p.person_id
      AND e.event_type IN ({})
      AND e.event_date < getvariable('reference_date')",
                placeholders(types.len())
            ));
            params.extend(types.iter().map(|t| Value::Text(t.clone())));
            if let Some(years) = self.within_years {
                sql.push_str(
                    "\n      AND e.event_date >= getvariable('reference_date') - to_years(?::INTEGER)",
                );
                params.push(Value::UInt(years));
            }
            sql.push(')');
        }
        Query { sql, params }
    }
}

/// `?, ?, …`: `n` placeholders (never text from the definition).
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// What a definition may name in this database, with counts for the form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Choices {
    /// Each event type in `core.event` and its number of events.
    pub event_types: Vec<(String, u64)>,
    /// Each local authority (code, name).
    pub authorities: Vec<(String, String)>,
    /// Each zone (id, name).
    pub zones: Vec<(String, String)>,
}

/// The event types, authorities and zones of the database.
pub fn choices(conn: &Connection) -> Result<Choices, duckdb::Error> {
    let pairs = |sql: &str| -> Result<Vec<(String, String)>, duckdb::Error> {
        conn.prepare(sql)?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect()
    };
    let has_events: i64 = conn.query_row(
        "SELECT count(*) FROM information_schema.tables
         WHERE table_schema = 'core' AND table_name = 'event'",
        [],
        |row| row.get(0),
    )?;
    let event_types = if has_events == 0 {
        Vec::new()
    } else {
        conn.prepare(
            "SELECT event_type, count(*) FROM core.event
             WHERE event_type IS NOT NULL GROUP BY event_type ORDER BY event_type",
        )?
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?.max(0) as u64,
            ))
        })?
        .collect::<Result<_, _>>()?
    };
    Ok(Choices {
        event_types,
        authorities: pairs(
            "SELECT la_code, any_value(la_name) FROM ref.lsoa GROUP BY la_code ORDER BY 2",
        )?,
        zones: pairs("SELECT zone_id, name FROM ref.zone ORDER BY name")?,
    })
}

/// Refuses a defined service naming an event type, authority or zone the
/// database does not hold, by name, with where it is written. Services counted
/// by SQL pass: their queries are checked as they run. So do a built-in
/// service's event types: a council's extracts without health checks count
/// nobody checked, not an error in a file the council never wrote.
pub fn check(conn: &Connection, service: &Service) -> Result<(), ServiceError> {
    let Counting::Defined(definition) = &service.counting else {
        return Ok(());
    };
    let choices = choices(conn).map_err(|e| ServiceError::Parse {
        path: service.file.clone(),
        message: format!("cannot read the database's event types: {e}"),
    })?;
    let known: BTreeSet<&str> = choices
        .event_types
        .iter()
        .map(|(t, _)| t.as_str())
        .collect();
    let events = definition
        .invited_events
        .iter()
        .chain(&definition.attended_events)
        .filter(|_| !service.is_built_in());
    for event in events {
        if !known.contains(event.as_str()) {
            return Err(ServiceError::UnknownEventType {
                service: service.name.clone(),
                event_type: event.clone(),
                place: service.place(service.lines.events.get(event).copied()),
                known: known.iter().copied().collect::<Vec<_>>().join(", "),
            });
        }
    }
    let (kind, codes, known): (&str, &Vec<String>, Vec<&str>) = match &definition.eligible.area {
        Area::Whole => return Ok(()),
        Area::Authorities(codes) => (
            "authority",
            codes,
            choices
                .authorities
                .iter()
                .map(|(c, _)| c.as_str())
                .collect(),
        ),
        Area::Zones(codes) => (
            "zone",
            codes,
            choices.zones.iter().map(|(c, _)| c.as_str()).collect(),
        ),
    };
    if let Some(code) = codes.iter().find(|code| !known.contains(&code.as_str())) {
        return Err(ServiceError::UnknownArea {
            service: service.name.clone(),
            kind,
            code: code.clone(),
            place: service.place(service.lines.eligible),
            known: known.join(", "),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition() -> Definition {
        Definition {
            eligible: Eligible {
                min_age: 40,
                max_age: 74,
                sex: Sex::Female,
                area: Area::Zones(vec!["Z1".to_string(), "Z2".to_string()]),
            },
            invited_events: vec!["invited".to_string()],
            attended_events: vec!["attended".to_string()],
            within_years: Some(5),
        }
    }

    /// Every value reaches the query as a parameter: none of the definition's
    /// text is in the SQL, and there is one value per placeholder.
    #[test]
    fn values_are_bound_never_pasted() {
        let mut definition = definition();
        definition.eligible.area = Area::Zones(vec!["Z1'; DROP TABLE app.user; --".to_string()]);
        for (_, query) in definition.queries() {
            let query = query.expect("all three");
            assert!(!query.sql.contains("Z1") && !query.sql.contains("invited'"));
            assert!(!query.sql.contains("'F'"), "{}", query.sql);
            assert_eq!(query.sql.matches('?').count(), query.params.len());
        }
    }

    #[test]
    fn a_definition_reads_as_a_sentence_and_its_mistakes_are_named() {
        let definition = definition();
        assert_eq!(
            definition.describe(),
            "Women and girls aged 40–74 on the reference date living in zone Z1, Z2 (eligible), \
             those with invited in the 5 years before it (invited), and those invited with \
             attended in the 5 years before it (attended)."
        );
        assert_eq!(definition.shape_error(), None);
        let mut wrong = definition.clone();
        wrong.eligible.min_age = 80;
        assert!(wrong.shape_error().expect("ages").contains("80 to 74"));
        let mut wrong = definition.clone();
        wrong.attended_events.clear();
        assert!(
            wrong
                .shape_error()
                .expect("none")
                .contains("attended_events")
        );
        let mut wrong = definition;
        wrong.within_years = Some(0);
        assert!(wrong.shape_error().expect("window").contains("not 0"));
    }
}
