//! Services defined in the app and kept in the database (`app.service`), so that
//! every user of the database sees them on the map beside the built-ins. Only
//! services defined as data are kept, never SQL; only a role granted
//! [`Capability::ChooseDisclosure`] (analysts) may save one, checked here where
//! it is written rather than only by hiding the form; each save is in the audit
//! log, in the same transaction.

use std::path::Path;

use duckdb::Connection;

use super::defined;
use super::service::{self, Counting, Service, ServiceError};
use crate::access::{Capability, Session};
use crate::audit::{self, Action, Entry};
use crate::store::StoreError;

/// What saved services are called in messages (they have no file).
pub const SAVED_PLACE: &str = "saved in the database (app.service)";

/// Why a service could not be saved or read.
#[derive(Debug, thiserror::Error)]
pub enum SavedError {
    #[error("{user} ({role}) may not define services: only analysts decide what the map discloses")]
    Refused { user: String, role: &'static str },
    #[error(
        "'{0}' is counted by SQL: only services defined as data (age, sex, area and event types) are saved in the database"
    )]
    NotData(String),
    #[error("'{0}' is a built-in service's name: choose another")]
    BuiltIn(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Uptake(#[from] super::UptakeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a service would give at the latest extract date, for the analyst
/// defining it: the county's counts (not suppressed: only analysts see them) and
/// how many LSOAs with people eligible would have their rate published.
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
}

/// Counts `service`'s people as the map would, for `session`, which must be
/// allowed to choose what is disclosed (the counts are not suppressed).
pub fn preview(
    conn: &Connection,
    session: &Session,
    service: &Service,
) -> Result<Preview, SavedError> {
    if !session.role.may(Capability::ChooseDisclosure) {
        return Err(SavedError::Refused {
            user: session.user.clone(),
            role: session.role.as_str(),
        });
    }
    let options = super::UptakeOptions::default();
    let tables = super::compute(conn, service, &options)?;
    // Suppressed with the services already shown, as the map will.
    let published = super::published(conn, service, &options, super::DEFAULT_THRESHOLD)?;
    let with_people: Vec<&str> = tables
        .lsoas
        .iter()
        .filter(|l| l.eligible > Some(0))
        .map(|l| l.code.as_str())
        .collect();
    let lsoas_published = published
        .tables()
        .lsoas
        .iter()
        .filter(|l| with_people.contains(&l.code.as_str()))
        .filter(|l| {
            if tables.has_invited {
                l.uptake.is_some()
            } else {
                l.coverage.is_some()
            }
        })
        .count();
    let county = &tables.county;
    Ok(Preview {
        reference_date: tables.reference_date,
        eligible: county.eligible.unwrap_or(0),
        invited: county.invited,
        attended: county.attended.unwrap_or(0),
        lsoas_with_people: with_people.len(),
        lsoas_published,
    })
}

impl From<duckdb::Error> for SavedError {
    fn from(error: duckdb::Error) -> SavedError {
        SavedError::Store(error.into())
    }
}

/// Saves `service` for every user of the database, replacing one of the same
/// name, with its audit entry in the same transaction. Refuses (and records
/// the refusal) when `session`'s role may not choose what is disclosed; refuses
/// a service counted by SQL, a built-in's name, and a definition naming what
/// the database does not hold. Nothing is written when it refuses.
pub fn save(conn: &Connection, session: &Session, service: &Service) -> Result<(), SavedError> {
    crate::store::refuse_on_frame("uptake::saved::save")?;
    if !session.role.may(Capability::ChooseDisclosure) {
        let refusal = Entry::new(session.user.clone(), Action::DefineService, &service.name)
            .with_detail(format!(
                "refused: a {} may not define services",
                session.role.as_str()
            ));
        audit::record(conn, &refusal)?;
        return Err(SavedError::Refused {
            user: session.user.clone(),
            role: session.role.as_str(),
        });
    }
    let (Counting::Defined(definition), Some(text)) =
        (&service.counting, service::defined_toml(service))
    else {
        return Err(SavedError::NotData(service.name.clone()));
    };
    if service::built_in()?.iter().any(|s| s.name == service.name) {
        return Err(SavedError::BuiltIn(service.name.clone()));
    }
    // Read back as it will be read, so what is kept is what loads.
    let mut read = service::parse(&text, Path::new(SAVED_PLACE))?;
    defined::check(conn, &read.remove(0))?;
    let entry = Entry::new(session.user.clone(), Action::DefineService, &service.name)
        .with_detail(format!("{}: {}", service.title, definition.describe()));
    let lock = audit::lock_for_append();
    conn.execute_batch("BEGIN TRANSACTION")?;
    let saved = conn
        .execute(
            "INSERT OR REPLACE INTO app.service VALUES (?, ?, ?, now()::TIMESTAMP)",
            duckdb::params![service.name, text, session.user],
        )
        .map_err(StoreError::from)
        .and_then(|_| audit::append(conn, &lock, &entry));
    match saved {
        Ok(_) => conn.execute_batch("COMMIT")?,
        Err(error) => {
            if let Err(rollback) = conn.execute_batch("ROLLBACK") {
                tracing::error!("rollback after a failed service save also failed: {rollback}");
            }
            return Err(error.into());
        }
    }
    Ok(())
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
