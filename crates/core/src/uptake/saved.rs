//! Services defined in the app and kept in the database (`app.service`), so that
//! every user of the database sees them on the map beside the built-ins. Only
//! services defined as data are kept, never SQL; only a role granted
//! [`Capability::ChooseDisclosure`] (analysts) may save, change or delete one,
//! checked here where it is written rather than only by hiding the form (a
//! refusal is recorded); each save, change and deletion is in the audit log
//! (`define_service`, with who and when), in the same transaction. Built-in
//! services are never saved, changed or deleted.

use std::collections::BTreeSet;
use std::path::Path;

use duckdb::Connection;

use super::defined;
use super::service::{self, Counting, Service, ServiceError};
use super::{Level, Published, UptakeRow, UptakeTables};
use crate::access::{Capability, Session};
use crate::audit::{self, Action, Entry};
use crate::store::StoreError;

/// What saved services are called in messages (they have no file).
pub const SAVED_PLACE: &str = "saved in the database (app.service)";

/// Why a service could not be saved or read.
#[derive(Debug, thiserror::Error)]
pub enum SavedError {
    #[error("{user} ({role}) may not {what} services: only analysts decide what the map discloses")]
    Refused {
        user: String,
        role: &'static str,
        what: &'static str,
    },
    #[error(
        "'{0}' is counted by SQL: only services defined as data (age, sex, area and event types) are saved in the database"
    )]
    NotData(String),
    #[error("'{0}' is a built-in service: built-in services cannot be saved, changed or deleted")]
    BuiltIn(String),
    #[error("'{0}' is already saved: edit it, or choose another name")]
    AlreadySaved(String),
    #[error("no service '{0}' is saved in the database")]
    NotSaved(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Uptake(#[from] super::UptakeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a service would give at the latest extract date, for the analyst
/// defining it: the county's counts (not suppressed: only analysts see them),
/// how many LSOAs with people eligible would have their rate published, and
/// what saving it would withhold of the services that share its people.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub reference_date: chrono::NaiveDate,
    pub eligible: u64,
    /// `None` when the service has no invitation.
    pub invited: Option<u64>,
    pub attended: u64,
    pub lsoas_with_people: usize,
    /// Of those, the LSOAs whose rate (uptake, else coverage) survives suppression.
    pub lsoas_published: usize,
    /// Each other service of which saving it would withhold more areas, in the
    /// order the map lists them.
    pub costs: Vec<Cost>,
}

/// What saving a service costs another service's published tables: the areas
/// (rows at any level) with a count withheld once it is saved that are shown
/// in full now.
#[derive(Debug, Clone, PartialEq)]
pub struct Cost {
    pub title: String,
    /// Areas newly withheld at each level (only levels with some), finest first.
    pub withheld: Vec<(Level, usize)>,
}

impl Cost {
    /// "Saving this withholds 12 more LSOAs and 2 more deciles of NHS Health Check".
    pub fn sentence(&self) -> String {
        let parts: Vec<String> = self
            .withheld
            .iter()
            .map(|&(level, n)| match level {
                Level::County => "the county total".to_string(),
                _ => format!("{n} more {}", level_noun(level, n)),
            })
            .collect();
        let listed = match parts.as_slice() {
            [] => "nothing more".to_string(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        };
        format!("Saving this withholds {listed} of {}", self.title)
    }
}

/// What areas of a level are called, one or several.
fn level_noun(level: Level, n: usize) -> &'static str {
    let (one, several) = match level {
        Level::Lsoa => ("LSOA", "LSOAs"),
        Level::Decile => ("decile", "deciles"),
        Level::Quintile => ("quintile", "quintiles"),
        Level::Zone => ("zone", "zones"),
        Level::Ward => ("ward", "wards"),
        Level::Authority => ("authority", "authorities"),
        Level::County => ("county", "counties"),
    };
    if n == 1 { one } else { several }
}

/// Counts `service`'s people as the map would, for `session`, which must be
/// allowed to choose what is disclosed (the counts are not suppressed), and
/// what saving it would cost the services it may share people with: the joint
/// suppression run with the services as saved now and with `service` saved
/// (in place of the saved one of its name, when it is being edited). Each
/// service is counted once, `service` included; only those that may share
/// people with it, or with the version it replaces, are counted at all, since
/// no other's suppression can change.
pub fn preview(
    conn: &Connection,
    session: &Session,
    service: &Service,
) -> Result<Preview, SavedError> {
    if !session.role.may(Capability::ChooseDisclosure) {
        return Err(SavedError::Refused {
            user: session.user.clone(),
            role: session.role.as_str(),
            what: "define",
        });
    }
    let options = super::UptakeOptions::default();
    let now = available(conn)?;
    let saved = super::commissioned(conn, service)?;
    let now_refs: Vec<&Service> = now.iter().collect();
    let saved_refs: Vec<&Service> = saved.iter().collect();
    let mut with = super::sharing_with(&saved_refs, &service.name);
    let mut without = super::sharing_with(&now_refs, &service.name);
    // Every service either run suppresses: those sharing with it, or with the
    // version it replaces.
    let names: BTreeSet<&str> = with
        .iter()
        .chain(&without)
        .map(|s| s.name.as_str())
        .collect();
    with = saved_refs
        .into_iter()
        .filter(|s| names.contains(s.name.as_str()))
        .collect();
    without = now_refs
        .into_iter()
        .filter(|s| names.contains(s.name.as_str()))
        .collect();
    let mut counted: Vec<(&Service, UptakeTables)> = Vec::new();
    for &other in with.iter().chain(&without) {
        if counted.iter().any(|(s, _)| *s == other) {
            continue;
        }
        match super::compute(conn, other, &options) {
            Ok(tables) => counted.push((other, tables)),
            // The service itself must be counted; another that cannot be is
            // shown nowhere (`published_all`).
            Err(error) if other == service => return Err(error.into()),
            Err(_) => {}
        }
    }
    let suppressed = |services: &[&Service]| -> Result<Vec<(String, Published)>, SavedError> {
        let shown: Vec<(&Service, &UptakeTables)> = services
            .iter()
            .filter_map(|s| counted.iter().find(|(c, _)| c == s))
            .map(|(s, tables)| (*s, tables))
            .collect();
        let published = super::suppress_counted(conn, &shown, &options, super::DEFAULT_THRESHOLD)?;
        Ok(shown
            .iter()
            .map(|(s, _)| s.name.clone())
            .zip(published)
            .collect())
    };
    let after = suppressed(&with)?;
    let before = suppressed(&without)?;
    let tables = &counted
        .iter()
        .find(|(s, _)| *s == service)
        .expect("the service was counted")
        .1;
    let published = &after
        .iter()
        .find(|(name, _)| *name == service.name)
        .expect("the service was suppressed")
        .1;
    let with_people: BTreeSet<&str> = tables
        .lsoas
        .iter()
        .filter(|l| l.eligible > Some(0))
        .map(|l| l.code.as_str())
        .collect();
    let lsoas_published = published
        .tables()
        .lsoas
        .iter()
        .filter(|l| with_people.contains(l.code.as_str()))
        .filter(|l| {
            if tables.has_invited {
                l.uptake.is_some()
            } else {
                l.coverage.is_some()
            }
        })
        .count();
    let costs = after
        .iter()
        .filter(|(name, _)| *name != service.name)
        .filter_map(|(name, after)| {
            let (_, before) = before.iter().find(|(n, _)| n == name)?;
            let cost = Cost {
                title: after.tables().title.clone(),
                withheld: newly_withheld(before.tables(), after.tables()),
            };
            (!cost.withheld.is_empty()).then_some(cost)
        })
        .collect();
    let county = &tables.county;
    Ok(Preview {
        reference_date: tables.reference_date,
        eligible: county.eligible.unwrap_or(0),
        invited: county.invited,
        attended: county.attended.unwrap_or(0),
        lsoas_with_people: with_people.len(),
        lsoas_published,
        costs,
    })
}

/// The areas of each level with a count withheld in `after` and none in
/// `before` (the same service's tables, suppressed two ways).
fn newly_withheld(before: &UptakeTables, after: &UptakeTables) -> Vec<(Level, usize)> {
    let sections = |t: &UptakeTables| -> Vec<Vec<UptakeRow>> {
        vec![
            t.lsoas.clone(),
            t.deciles.clone(),
            t.quintiles.clone(),
            t.zones.clone(),
            t.wards.clone(),
            t.authorities.clone(),
            vec![t.county.clone()],
        ]
    };
    sections(before)
        .into_iter()
        .zip(sections(after))
        .filter_map(|(before, after)| {
            let level = after.first()?.level;
            let n = before
                .iter()
                .zip(&after)
                .filter(|(b, a)| a.withheld.any() && !b.withheld.any())
                .count();
            (n > 0).then_some((level, n))
        })
        .collect()
}

impl From<duckdb::Error> for SavedError {
    fn from(error: duckdb::Error) -> SavedError {
        SavedError::Store(error.into())
    }
}

/// Refuses (and records the refusal of) a `what` ("define", "change",
/// "delete") of the service `name` by a role that may not choose what is
/// disclosed.
fn refuse_unless_analyst(
    conn: &Connection,
    session: &Session,
    name: &str,
    what: &'static str,
) -> Result<(), SavedError> {
    if session.role.may(Capability::ChooseDisclosure) {
        return Ok(());
    }
    let refusal =
        Entry::new(session.user.clone(), Action::DefineService, name).with_detail(format!(
            "refused: a {} may not {what} services",
            session.role.as_str()
        ));
    audit::record(conn, &refusal)?;
    Err(SavedError::Refused {
        user: session.user.clone(),
        role: session.role.as_str(),
        what,
    })
}

/// The saved service called `name`, if any.
fn saved_one(conn: &Connection, name: &str) -> Result<Option<Service>, SavedError> {
    Ok(read(conn)?.into_iter().find(|s| s.name == name))
}

/// Runs `write` and appends `entry` in one transaction: both or neither.
fn with_entry(
    conn: &Connection,
    entry: &Entry,
    write: impl FnOnce() -> duckdb::Result<usize>,
) -> Result<(), SavedError> {
    let lock = audit::lock_for_append();
    conn.execute_batch("BEGIN TRANSACTION")?;
    let written = write()
        .map_err(StoreError::from)
        .and_then(|_| audit::append(conn, &lock, entry));
    match written {
        Ok(_) => conn.execute_batch("COMMIT")?,
        Err(error) => {
            if let Err(rollback) = conn.execute_batch("ROLLBACK") {
                tracing::error!("rollback after a failed service change also failed: {rollback}");
            }
            return Err(error.into());
        }
    }
    Ok(())
}

/// The service as the database keeps it (the TOML of its `[[service]]`),
/// checked as it will be read: a service defined as data, not a built-in's
/// name, naming only what the database holds.
fn kept_text(conn: &Connection, service: &Service) -> Result<String, SavedError> {
    let (Counting::Defined(_), Some(text)) = (&service.counting, service::defined_toml(service))
    else {
        return Err(SavedError::NotData(service.name.clone()));
    };
    if service::built_in()?.iter().any(|s| s.name == service.name) {
        return Err(SavedError::BuiltIn(service.name.clone()));
    }
    // Read back as it will be read, so what is kept is what loads.
    let mut read = service::parse(&text, Path::new(SAVED_PLACE))?;
    defined::check(conn, &read.remove(0))?;
    Ok(text)
}

/// The definition in words, for an audit entry.
fn described(service: &Service) -> String {
    match &service.counting {
        Counting::Defined(definition) => format!("{}: {}", service.title, definition.describe()),
        Counting::Sql(_) => service.title.clone(),
    }
}

/// Saves a new `service` for every user of the database, with its audit entry
/// in the same transaction. Refuses (and records the refusal) when `session`'s
/// role may not choose what is disclosed; refuses a service counted by SQL, a
/// built-in's name, the name of a service already saved (changed with
/// [`change`]), and a definition naming what the database does not hold.
/// Nothing is written when it refuses.
pub fn save(conn: &Connection, session: &Session, service: &Service) -> Result<(), SavedError> {
    crate::store::refuse_on_frame("uptake::saved::save")?;
    refuse_unless_analyst(conn, session, &service.name, "define")?;
    let text = kept_text(conn, service)?;
    if saved_one(conn, &service.name)?.is_some() {
        return Err(SavedError::AlreadySaved(service.name.clone()));
    }
    let entry = Entry::new(session.user.clone(), Action::DefineService, &service.name)
        .with_detail(described(service));
    with_entry(conn, &entry, || {
        conn.execute(
            "INSERT INTO app.service VALUES (?, ?, ?, now()::TIMESTAMP)",
            duckdb::params![service.name, text, session.user],
        )
    })
}

/// Replaces the saved service of `service`'s name with `service`, for every
/// user of the database, with its audit entry (the definition before and
/// after) in the same transaction. Refuses as [`save`] does, and a name that is
/// not saved.
pub fn change(conn: &Connection, session: &Session, service: &Service) -> Result<(), SavedError> {
    crate::store::refuse_on_frame("uptake::saved::change")?;
    refuse_unless_analyst(conn, session, &service.name, "change")?;
    let text = kept_text(conn, service)?;
    let Some(old) = saved_one(conn, &service.name)? else {
        return Err(SavedError::NotSaved(service.name.clone()));
    };
    let entry = Entry::new(session.user.clone(), Action::DefineService, &service.name).with_detail(
        format!("changed from {} to {}", described(&old), described(service)),
    );
    with_entry(conn, &entry, || {
        conn.execute(
            "UPDATE app.service SET definition = ?, saved_by = ?, saved_at = now()::TIMESTAMP
             WHERE name = ?",
            duckdb::params![text, session.user, service.name],
        )
    })
}

/// Deletes the saved service `name` for every user of the database, with its
/// audit entry (the definition deleted) in the same transaction. Refuses (and
/// records) any role but the analyst's; refuses a built-in and a name not saved.
pub fn delete(conn: &Connection, session: &Session, name: &str) -> Result<(), SavedError> {
    crate::store::refuse_on_frame("uptake::saved::delete")?;
    refuse_unless_analyst(conn, session, name, "delete")?;
    if service::built_in()?.iter().any(|s| s.name == name) {
        return Err(SavedError::BuiltIn(name.to_string()));
    }
    let Some(old) = saved_one(conn, name)? else {
        return Err(SavedError::NotSaved(name.to_string()));
    };
    let entry = Entry::new(session.user.clone(), Action::DefineService, name)
        .with_detail(format!("deleted {}", described(&old)));
    with_entry(conn, &entry, || {
        conn.execute("DELETE FROM app.service WHERE name = ?", [name])
    })
}

/// The services saved in the database, by name. A row that is not a single
/// service defined as data (written round the app) is refused, not counted.
pub fn read(conn: &Connection) -> Result<Vec<Service>, SavedError> {
    crate::store::refuse_on_frame("uptake::saved::read")?;
    let rows: Vec<String> = conn
        .prepare("SELECT definition FROM app.service ORDER BY name")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut services = Vec::new();
    for text in rows {
        let mut parsed = service::parse(&text, Path::new(SAVED_PLACE))?;
        match (parsed.len(), parsed.pop()) {
            (1, Some(mut saved)) if matches!(saved.counting, Counting::Defined(_)) => {
                // Lines of the stored text would mean nothing to a reader.
                saved.lines = Default::default();
                services.push(saved);
            }
            _ => return Err(SavedError::NotData(text)),
        }
    }
    Ok(services)
}

/// Every service a user of this database may see: the built-ins, then those
/// saved in the app.
pub fn available(conn: &Connection) -> Result<Vec<Service>, SavedError> {
    let mut services = service::built_in()?;
    services.extend(read(conn)?);
    Ok(services)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cost_reads_as_a_sentence() {
        let cost = |withheld: Vec<(Level, usize)>| Cost {
            title: "NHS Health Check".to_string(),
            withheld,
        };
        assert_eq!(
            cost(vec![(Level::Lsoa, 12), (Level::Decile, 1)]).sentence(),
            "Saving this withholds 12 more LSOAs and 1 more decile of NHS Health Check"
        );
        assert_eq!(
            cost(vec![
                (Level::Decile, 3),
                (Level::Authority, 2),
                (Level::County, 1)
            ])
            .sentence(),
            "Saving this withholds 3 more deciles, 2 more authorities and the county total of \
             NHS Health Check"
        );
    }
}
