//! Who may see what: users and their roles (`app.user`, `app.user_zone`), and
//! [`person_query`], the one door every read of person-level data goes through. It
//! checks the role, records the read in the audit log before it happens, and hands
//! the query the session's [`Visibility`]: which zones' families it may return and
//! whether identities must be masked.

mod aggregates;
pub mod cli;
mod lockout;
mod manage;
pub(crate) mod password;
mod policy;
mod role;
mod users;

pub use aggregates::UptakeRequest;
pub use lockout::{LockoutRule, SIGN_IN_LOCKOUT};
pub use manage::{
    UserChange, UserRow, change_user, disable_user, enable_user, list_users, reset_password,
    zone_choices,
};
pub use policy::Capability;
pub use role::Role;
pub use users::{NewUser, add_user, authenticate};

use duckdb::Connection;

use crate::audit::{self, Action, Entry};
use crate::store::StoreError;

/// Why access was refused or could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("{user} ({role}) may not see person-level records")]
    Denied { user: String, role: &'static str },
    #[error("{user} ({role}) may not run `zonewise {command}`")]
    CommandDenied {
        user: String,
        role: &'static str,
        command: String,
    },
    #[error("wrong user name or password")]
    BadLogin,
    /// Too many failed sign-ins for this name ([`SIGN_IN_LOCKOUT`]); the right
    /// password is refused too until the lock ends.
    #[error(
        "too many failed sign-ins for {user}: try again in {minutes} min, or ask an analyst \
         to unlock the account (zonewise user enable)"
    )]
    Locked { user: String, minutes: i64 },
    #[error("{0}")]
    Invalid(String),
    #[error("cannot hash or check the password: {0}")]
    Password(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<duckdb::Error> for AccessError {
    fn from(error: duckdb::Error) -> AccessError {
        AccessError::Store(error.into())
    }
}

/// True when the database has users, so that whoever opens it must sign in. Users
/// who have been disabled count: disabling every account must not open the
/// database to anyone as the local analyst.
pub fn requires_sign_in(conn: &Connection) -> Result<bool, StoreError> {
    Ok(crate::store::scalar_i64(conn, "SELECT count(*) FROM app.\"user\"")? > 0)
}

/// The person using Zonewise: who, in which role, for which zones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub role: Role,
    /// The family partnership zones the user works in (zone managers and the
    /// round-table screen see only these; others see every zone).
    pub zones: Vec<String>,
}

impl Session {
    /// The operating-system user as an analyst: who works on a database without
    /// users, in the app and on the command line, so that reads still go through
    /// [`person_query`] and entries name someone.
    pub fn local_analyst() -> Session {
        Session {
            user: audit::os_user(),
            role: Role::Analyst,
            zones: Vec::new(),
        }
    }

    /// What this session may see of person-level data, or why it may see none.
    pub fn visibility(&self) -> Result<Visibility, AccessError> {
        if !self.role.sees_people() {
            return Err(AccessError::Denied {
                user: self.user.clone(),
                role: self.role.as_str(),
            });
        }
        Ok(Visibility {
            zones: self.role.limited_to_zones().then(|| self.zones.clone()),
            masked: self.role.sees_masked_identities(),
        })
    }
}

/// What a person-level query may return, handed to it by [`person_query`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visibility {
    /// `None`: every zone; otherwise only families in these zones.
    zones: Option<Vec<String>>,
    /// Names, dates of birth and identifiers must be shown as initials or not at all.
    masked: bool,
}

impl Visibility {
    /// A SQL condition keeping only the rows whose zone (`zone_column`, e.g.
    /// `f.zone_id`) the session may see: `TRUE`, `FALSE` for no zones, or a test
    /// against the connection's variable `zonewise_visible_zones`, which this sets
    /// by binding the zones as a parameter. Zone ids come from a form or the
    /// command line (`user add --zone`), so they are never pasted into SQL.
    pub fn zone_condition(
        &self,
        conn: &Connection,
        zone_column: &str,
    ) -> Result<String, duckdb::Error> {
        match &self.zones {
            None => Ok("TRUE".to_string()),
            Some(zones) if zones.is_empty() => Ok("FALSE".to_string()),
            Some(zones) => {
                conn.execute(
                    "SET VARIABLE zonewise_visible_zones = string_split(?, chr(31))",
                    [zones.join("\u{1f}")],
                )?;
                Ok(format!(
                    "list_contains(getvariable('zonewise_visible_zones'), {zone_column})"
                ))
            }
        }
    }

    /// True when identities must be masked (the projected round-table screen).
    pub fn masked(&self) -> bool {
        self.masked
    }

    /// A person's name as the session may see it: in full, or as initials
    /// ("A. S.") when identities are masked.
    pub fn name(&self, given: Option<&str>, family: Option<&str>) -> String {
        let parts = [given, family]
            .into_iter()
            .flatten()
            .filter(|p| !p.trim().is_empty());
        if self.masked {
            parts
                .filter_map(|part| part.trim().chars().next())
                .map(|initial| format!("{}.", initial.to_uppercase()))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            parts.map(str::trim).collect::<Vec<_>>().join(" ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Visibility;

    #[test]
    fn masked_names_are_initials() {
        let shown = Visibility {
            zones: None,
            masked: false,
        };
        let masked = Visibility {
            zones: Some(vec!["Z1".to_string()]),
            masked: true,
        };
        assert_eq!(shown.name(Some("amara"), Some("O'Brien")), "amara O'Brien");
        assert_eq!(masked.name(Some("amara"), Some("O'Brien")), "A. O.");
        assert_eq!(masked.name(None, Some("Étienne")), "É.");
        assert_eq!(masked.name(None, None), "");
    }

    #[test]
    fn zone_conditions_bind_the_zones_rather_than_paste_them() {
        let conn = duckdb::Connection::open_in_memory().expect("memory");
        let quoted = "Z1') OR TRUE OR ('".to_string();
        let limited = Visibility {
            zones: Some(vec!["Z2".to_string(), quoted.clone()]),
            masked: false,
        };
        let condition = limited.zone_condition(&conn, "zone").expect("condition");
        assert!(!condition.contains("Z2"), "{condition}");
        let kept: Vec<String> = conn
            .prepare(&format!(
                "SELECT zone FROM (VALUES ('Z1'), ('Z2'), (?)) t(zone) WHERE {condition} ORDER BY zone"
            ))
            .expect("prepare")
            .query_map([&quoted], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(kept, ["Z1') OR TRUE OR ('", "Z2"]);
        let everyone = Visibility {
            zones: None,
            masked: false,
        };
        assert_eq!(everyone.zone_condition(&conn, "zone").expect("all"), "TRUE");
        let nobody = Visibility {
            zones: Some(Vec::new()),
            masked: false,
        };
        assert_eq!(nobody.zone_condition(&conn, "zone").expect("none"), "FALSE");
    }
}

/// What a person-level read is for: recorded in the audit log before it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Purpose {
    /// `OpenPerson`, `OpenFamily`, `SearchPersons` or `Export`.
    pub action: Action,
    /// The person, family, search text or file.
    pub subject: String,
    /// Why, when the user was asked.
    pub reason: Option<String>,
}

impl Purpose {
    /// A list of families (`Action::ListFamilies`) read for `subject` without
    /// asking why: what the Families, Round table, Results and claims reads are.
    pub fn listing(subject: impl Into<String>) -> Purpose {
        Purpose {
            action: Action::ListFamilies,
            subject: subject.into(),
            reason: None,
        }
    }
}

/// Runs `read`, a person-level query, for `session`: records `purpose` in the audit
/// log (so a read that is not recorded does not happen), refuses roles that may not
/// see people (the refusal recorded too), then runs `read` with what the session
/// may see. While a load is being recorded it waits for it: for workers. The query
/// must apply [`Visibility::zone_condition`] and [`Visibility::masked`] itself.
pub fn person_query<T>(
    conn: &Connection,
    session: &Session,
    purpose: &Purpose,
    read: impl FnOnce(&Connection, &Visibility) -> Result<T, StoreError>,
) -> Result<T, AccessError> {
    let visibility = session.visibility();
    audit::record(conn, &read_entry(session, purpose, &visibility))?;
    Ok(read(conn, &visibility?)?)
}

/// The audit entry of a person-level read, or of its refusal: an attempt is what
/// an auditor looks for, so refusals are recorded too.
fn read_entry(
    session: &Session,
    purpose: &Purpose,
    visibility: &Result<Visibility, AccessError>,
) -> Entry {
    let mut entry = Entry::new(
        session.user.clone(),
        purpose.action,
        purpose.subject.as_str(),
    )
    .with_detail(match visibility {
        Ok(_) => format!("as {}", session.role.as_str()),
        Err(_) => format!("refused: a {} may not see people", session.role.as_str()),
    });
    entry.reason = purpose.reason.clone();
    entry
}
