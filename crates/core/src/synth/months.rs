//! Monthly extracts (`zonewise synth --months N`): the same county as its systems
//! would have exported it at the start of each of the last N months, so that a
//! monthly refresh can be tested end to end.
//!
//! The output folder itself is the last month (extracts dated `EXTRACT_DATE`);
//! each earlier month is `months/<extract date>/` with its own manifest and
//! extracts: every row dated before that month's extract date, with the same
//! record ids and identities (a system's view of a person is fixed when it first
//! meets them). So each month adds a month of events, births and moves.
//!
//! Between the last two months the generator also plants changes of household
//! that linkage must follow, and lists them in `truth/changes.csv`:
//! - **merged**: a tenant family's main carer becomes a joint tenant of another
//!   tenant family's tenancy during the last month (they move in together): a
//!   new housing record of hers under that tenancy, so the two linked families
//!   become one;
//! - **split**: every earlier month holds a duplicate housing record of a tenant
//!   family's main carer keyed under another tenant family's tenancy, which the
//!   last month no longer holds (the housing team deleted it), so one linked
//!   family becomes two.

use std::path::{Path, PathBuf};

use chrono::{Duration, Months, NaiveDate};

use super::SynthError;
use super::events::Event;
use super::population::Family;
use super::sources::HOUSING;
use super::timeline::{EXTRACT_DATE, LAST_DAY};
use super::writer::Output;

/// One tenant family in this many is merged with the tenant family written before
/// it, and one (another) is split from the one before it: about 1.5% of families
/// each way at the realistic settings, a few per small county.
pub const CHANGE_EVERY: usize = 20;
/// Where in each run of `CHANGE_EVERY` tenant families the merged and the split one fall.
const MERGE_AT: usize = 3;
const SPLIT_AT: usize = 13;

/// Header of `truth/changes.csv`.
pub const CHANGES_HEADER: [&str; 4] = ["month", "kind", "family_id", "with_family_id"];

/// The extract date of each month, oldest first; the last is `EXTRACT_DATE`.
pub fn extract_dates(months: usize) -> Vec<NaiveDate> {
    (0..months.max(1))
        .rev()
        .map(|back| {
            EXTRACT_DATE
                .checked_sub_months(Months::new(back as u32))
                .unwrap_or(EXTRACT_DATE)
        })
        .collect()
}

/// The folder of an earlier month's manifest and extracts.
pub fn month_dir(out_dir: &Path, extract_date: NaiveDate) -> PathBuf {
    out_dir
        .join("months")
        .join(extract_date.format("%Y-%m-%d").to_string())
}

/// An earlier month's open extracts.
pub(super) struct Month {
    /// Rows dated before this day are in this month's extracts.
    pub(super) extract_date: NaiveDate,
    pub(super) extracts: Vec<Output>,
}

/// What the generator plants in one family between the last two months.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Change {
    /// The family's main carer joins `tenancy`, the other family's, in the last month.
    Merged { with: String, tenancy: String },
    /// The family's first housing row carries `tenancy`, the other family's, until
    /// the last month corrects it.
    Split { with: String, tenancy: String },
}

/// The tenant family written last: its id, first tenancy (open before the history,
/// so in every month's extracts) and current one.
struct Tenant {
    family: String,
    first: String,
    current: String,
}

/// Chooses the families to change as they are written, and writes `truth/changes.csv`.
pub(super) struct Planter {
    tenants: usize,
    previous: Option<Tenant>,
    last_month: NaiveDate,
    changes: Output,
}

impl Planter {
    pub(super) fn new(changes: Output) -> Planter {
        Planter {
            tenants: 0,
            previous: None,
            last_month: EXTRACT_DATE,
            changes,
        }
    }

    /// The change planted in `family` (None for most), given its events; counts
    /// tenant families (a main carer with a tenancy) in the order they are written,
    /// so the choice draws nothing and leaves every other family's rows alone.
    pub(super) fn plan(
        &mut self,
        family: &Family,
        events: &[Event],
    ) -> Result<Option<Change>, SynthError> {
        let mut tenancies = events
            .iter()
            .filter(|e| e.source == HOUSING && e.person == 0 && e.event_type == "tenancy_start")
            .filter_map(|e| e.household_ref.as_ref().map(|r| (e.date, r)))
            .collect::<Vec<_>>();
        tenancies.sort();
        let (Some((_, first)), Some((_, current))) = (tenancies.first(), tenancies.last()) else {
            return Ok(None);
        };
        let this = Tenant {
            family: family.id.clone(),
            first: (*first).clone(),
            current: (*current).clone(),
        };
        self.tenants += 1;
        let change = match (self.tenants % CHANGE_EVERY, &self.previous) {
            (MERGE_AT, Some(previous)) => Some(Change::Merged {
                with: previous.family.clone(),
                tenancy: previous.current.clone(),
            }),
            (SPLIT_AT, Some(previous)) => Some(Change::Split {
                with: previous.family.clone(),
                tenancy: previous.first.clone(),
            }),
            _ => None,
        };
        if let Some(change) = &change {
            let (kind, with) = match change {
                Change::Merged { with, .. } => ("merged", with),
                Change::Split { with, .. } => ("split", with),
            };
            let month = self.last_month.format("%Y-%m-%d").to_string();
            self.changes.row([month.as_str(), kind, &family.id, with])?;
        }
        // A family just changed is not the other side of the next change.
        self.previous = change.is_none().then_some(this);
        Ok(change)
    }

    /// `truth/changes.csv`, to be finished with the other files.
    pub(super) fn into_output(self) -> Output {
        self.changes
    }
}

/// The row a change plants, and whether it is in the last month (a merge) or only
/// in the earlier ones (a split): for a merge, the main carer's tenancy start
/// under the other family's current reference on a day of the last month that
/// depends on the family; for a split, one under the other family's first
/// reference on the day of the carer's own first tenancy start, which every
/// earlier month holds. Linkage keeps one household reference per record, so the
/// row goes on a record of its own (see `Outputs::write_family`).
pub(super) fn planted_event(
    change: Change,
    events: &[Event],
    family_index: usize,
) -> Option<(Event, bool)> {
    let row = |date: NaiveDate, tenancy: String| Event {
        source: HOUSING,
        person: 0,
        date,
        event_type: "tenancy_start",
        value: None,
        household_ref: Some(tenancy),
        extra: Vec::new(),
    };
    match change {
        Change::Merged { tenancy, .. } => {
            let month_start = extract_dates(2)[0];
            let days = (LAST_DAY - month_start).num_days().max(0) as usize + 1;
            let date = month_start + Duration::days((family_index % days) as i64);
            Some((row(date, tenancy), true))
        }
        Change::Split { tenancy, .. } => events
            .iter()
            .filter(|e| e.source == HOUSING && e.person == 0 && e.event_type == "tenancy_start")
            .map(|e| e.date)
            .min()
            .map(|date| (row(date, tenancy), false)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::timeline::ymd;
    use super::*;

    #[test]
    fn months_end_at_the_extract_date_a_month_apart() {
        assert_eq!(extract_dates(1), vec![EXTRACT_DATE]);
        assert_eq!(
            extract_dates(3),
            vec![ymd(2026, 2, 1), ymd(2026, 3, 1), EXTRACT_DATE]
        );
    }

    #[test]
    fn a_merge_falls_in_the_last_month() {
        for index in 0..40 {
            let change = Change::Merged {
                with: "F1".to_string(),
                tenancy: "TEN0000001".to_string(),
            };
            let (event, last_month) = planted_event(change, &[], index).expect("a merge row");
            assert!(last_month);
            assert!(event.date >= ymd(2026, 3, 1) && event.date <= LAST_DAY);
        }
    }
}
