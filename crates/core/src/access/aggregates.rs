//! What each role may ask of `zonewise uptake`. Service definitions, the
//! suppression threshold and the day of the figures decide what is disclosed, so
//! only analysts choose them; every other role gets what is published: the
//! built-in services, at the published threshold, for published period ends.

use std::path::Path;

use chrono::NaiveDate;
use duckdb::Connection;

use super::{AccessError, Capability, Session};
use crate::audit::{self, Action, Entry};
use crate::uptake::{DEFAULT_THRESHOLD, period};

/// How many published dates a refused `--date` lists.
const DATES_LISTED: usize = 5;

/// What a run of `zonewise uptake` asks for, as far as the role decides it.
#[derive(Debug, Clone, Copy)]
pub struct UptakeRequest<'a> {
    /// `--services`: a file of service definitions instead of the built-in ones.
    pub services: Option<&'a Path>,
    /// `--suppress`: counts from 1 to this are withheld.
    pub threshold: u64,
    /// `--date`; `None` for the latest extract date.
    pub date: Option<NaiveDate>,
}

impl Session {
    /// Refuses what this session's role may not ask of `zonewise uptake`, before
    /// anything runs, and records the refusal in the audit log as a refused
    /// command is recorded (a `login` entry whose detail says what was refused).
    pub fn check_uptake(
        &self,
        conn: &Connection,
        request: &UptakeRequest<'_>,
    ) -> Result<(), AccessError> {
        let Some((option, why)) = self.uptake_refusal(conn, request)? else {
            return Ok(());
        };
        let role = self.role.as_str();
        let refusal = Entry::new(self.user.clone(), Action::Login, "uptake").with_detail(format!(
            "refused: a {role} may not use `zonewise uptake {option}`"
        ));
        audit::record(conn, &refusal)?;
        Err(AccessError::Invalid(format!(
            "{} ({role}) may not use {option}: {why}",
            self.user
        )))
    }

    /// The option refused and why, or `None` when the request is allowed.
    fn uptake_refusal(
        &self,
        conn: &Connection,
        request: &UptakeRequest<'_>,
    ) -> Result<Option<(String, String)>, AccessError> {
        if request.services.is_some() && !self.role.may(Capability::ChooseDisclosure) {
            return Ok(Some((
                "--services".to_string(),
                "service definitions are SQL over every person's records, so only analysts \
                 write them; use a built-in service (--service health_check or childrens_centre) \
                 or one an analyst saved in the app"
                    .to_string(),
            )));
        }
        if request.threshold != DEFAULT_THRESHOLD && !self.role.may(Capability::ChooseDisclosure) {
            return Ok(Some((
                format!("--suppress {}", request.threshold),
                format!(
                    "figures are published with counts from 1 to {DEFAULT_THRESHOLD} withheld, \
                     and only so: suppression is worked out for each threshold, so figures at \
                     two thresholds together would reveal counts that each withholds"
                ),
            )));
        }
        let Some(date) = request.date else {
            return Ok(None);
        };
        if self.role.may(Capability::ChooseDisclosure) {
            return Ok(None);
        }
        let extract = period::latest_extract_date(conn)?;
        if extract.is_some_and(|extract| period::is_published(date, extract)) {
            return Ok(None);
        }
        let latest = extract.map_or("none, as no extract date is recorded".to_string(), |e| {
            period::latest_published(e, DATES_LISTED)
                .iter()
                .map(|d| d.format("%Y-%m-%d").to_string())
                .collect::<Vec<_>>()
                .join(", ")
        });
        Ok(Some((
            format!("--date {}", date.format("%Y-%m-%d")),
            format!(
                "figures are published for the extract date and the quarter ends (31 Mar, 30 Jun, \
                 30 Sep, 31 Dec) before it only, since figures for any day would reveal \
                 births and birthdays per LSOA day by day; the latest allowed: {latest}"
            ),
        )))
    }
}
