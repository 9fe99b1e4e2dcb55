//! The county's data the views show, in parts each read on its own job and kept
//! until an event makes it stale: an import re-reads what is on screen, not the
//! whole county, and never verifies the audit chain for a view that is not shown.
//!
//! Each part is read by its view's module (`overview::read`, `linkage_view::read`…);
//! [`Part::read`] is the one table from parts to readers, and
//! [`super::views::View::parts`] the one from views to the parts they show.

use std::collections::BTreeSet;

use duckdb::Connection;

use super::{
    audit_view, data_view, families_view, linkage_view, map_view, models_view, overview,
    results_view, round_table, users_view,
};
use crate::access::Session;
use crate::ingest::SourceQuality;
use crate::report::audit::AuditFigures;
use crate::report::families::FamiliesFigures;
use crate::report::map::MapFigures;
use crate::report::models::ModelFigures;
use crate::report::outcomes::OutcomesFigures;
use crate::report::overview::OverviewFigures;
use crate::report::results::ResultsFigures;

/// A piece of the county's data read on its own. Views that show the same data
/// share a part: Families and the Round table both show [`Part::Families`], and
/// the title and status bars (and Families' county) show [`Part::Overview`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    Overview,
    /// Each source's quality summary (Data).
    Quality,
    /// The latest linkage run and the review queue.
    Linkage,
    /// LSOA boundaries and each service's suppressed uptake.
    Map,
    /// Families of the current round, read through the one door.
    Families,
    /// The newest audit entries and the verification of the whole chain.
    Audit,
    /// Users and the zones they may be given.
    Users,
    Models,
    /// What became of the families round tables discussed (Round table).
    Outcomes,
    /// Each round's results by zone and IMD decile (Results).
    Results,
}

impl Part {
    /// Every part.
    pub const ALL: [Part; 10] = [
        Part::Overview,
        Part::Quality,
        Part::Linkage,
        Part::Map,
        Part::Families,
        Part::Audit,
        Part::Users,
        Part::Models,
        Part::Outcomes,
        Part::Results,
    ];

    /// Reads this part for `session`, on a worker. The readers apply the role's
    /// limits themselves (who sees which families and pairs) and record reads
    /// of named records first; the shell asks only for parts of views the role
    /// may open.
    pub fn read(self, conn: &Connection, session: &Session) -> anyhow::Result<PartData> {
        Ok(match self {
            Part::Overview => PartData::Overview(overview::read(conn)?),
            Part::Quality => PartData::Quality(data_view::read(conn)?),
            Part::Linkage => PartData::Linkage(linkage_view::read(conn, session)?),
            Part::Map => PartData::Map(Box::new(map_view::read(conn)?)),
            Part::Families => PartData::Families(families_view::read(conn, session)?),
            Part::Audit => PartData::Audit(audit_view::read(conn)?),
            Part::Users => PartData::Users(users_view::read(conn)?),
            Part::Models => PartData::Models(Box::new(models_view::read(conn, session)?)),
            Part::Outcomes => PartData::Outcomes(round_table::read_outcomes(conn, session)?),
            Part::Results => PartData::Results(Box::new(results_view::read(conn, session)?)),
        })
    }
}

/// One part as read, handed back by the job that read it.
pub enum PartData {
    Overview(OverviewFigures),
    Quality(Vec<SourceQuality>),
    Linkage(linkage_view::LinkageData),
    Map(Box<MapFigures>),
    Families(FamiliesFigures),
    Audit(AuditFigures),
    Users(users_view::UsersData),
    Models(Box<ModelFigures>),
    Outcomes(OutcomesFigures),
    Results(Box<ResultsFigures>),
}

impl PartData {
    pub fn part(&self) -> Part {
        match self {
            PartData::Overview(_) => Part::Overview,
            PartData::Quality(_) => Part::Quality,
            PartData::Linkage(_) => Part::Linkage,
            PartData::Map(_) => Part::Map,
            PartData::Families(_) => Part::Families,
            PartData::Audit(_) => Part::Audit,
            PartData::Users(_) => Part::Users,
            PartData::Models(_) => Part::Models,
            PartData::Outcomes(_) => Part::Outcomes,
            PartData::Results(_) => Part::Results,
        }
    }
}

/// The parts read so far (`None`: never read, or forgotten at sign-out), and
/// which of them are stale.
#[derive(Debug, Default)]
pub struct Figures {
    pub overview: Option<OverviewFigures>,
    pub quality: Option<Vec<SourceQuality>>,
    pub linkage: Option<linkage_view::LinkageData>,
    pub map: Option<MapFigures>,
    pub families: Option<FamiliesFigures>,
    pub audit: Option<AuditFigures>,
    pub users: Option<users_view::UsersData>,
    pub models: Option<ModelFigures>,
    pub outcomes: Option<OutcomesFigures>,
    pub results: Option<ResultsFigures>,
    /// Parts whose data changed since they were read.
    stale: BTreeSet<Part>,
    /// Parts a job is reading now.
    reading: BTreeSet<Part>,
    /// Parts made stale while a job read them: what that job returns may be
    /// older than the change, so they stay stale.
    stale_while_read: BTreeSet<Part>,
}

impl Figures {
    /// True when `part` has been read.
    pub fn has(&self, part: Part) -> bool {
        match part {
            Part::Overview => self.overview.is_some(),
            Part::Quality => self.quality.is_some(),
            Part::Linkage => self.linkage.is_some(),
            Part::Map => self.map.is_some(),
            Part::Families => self.families.is_some(),
            Part::Audit => self.audit.is_some(),
            Part::Users => self.users.is_some(),
            Part::Models => self.models.is_some(),
            Part::Outcomes => self.outcomes.is_some(),
            Part::Results => self.results.is_some(),
        }
    }

    /// True when nothing has been read.
    pub fn is_empty(&self) -> bool {
        Part::ALL.into_iter().all(|part| !self.has(part))
    }

    /// True when `part` is read and nothing has changed it since.
    pub fn is_fresh(&self, part: Part) -> bool {
        self.has(part) && !self.stale.contains(&part)
    }

    /// True while a job reads `part`.
    pub fn is_reading(&self, part: Part) -> bool {
        self.reading.contains(&part)
    }

    /// True when `part` should be read: missing or stale, and not being read.
    pub fn wants(&self, part: Part) -> bool {
        !self.is_fresh(part) && !self.is_reading(part)
    }

    /// Marks `part` stale: it is read again when a view showing it is shown.
    pub fn mark_stale(&mut self, part: Part) {
        self.stale.insert(part);
        if self.reading.contains(&part) {
            self.stale_while_read.insert(part);
        }
    }

    /// Marks every part stale (an import, a re-clustering).
    pub fn mark_all_stale(&mut self) {
        for part in Part::ALL {
            self.mark_stale(part);
        }
    }

    /// A job starts reading `parts`.
    pub fn reading(&mut self, parts: &[Part]) {
        self.reading.extend(parts.iter().copied());
    }

    /// The job reading `parts` failed: they are no longer being read.
    pub fn read_failed(&mut self, parts: &[Part]) {
        for part in parts {
            self.reading.remove(part);
            self.stale_while_read.remove(part);
        }
    }

    /// Keeps a part just read, and says what it replaced.
    pub fn store(&mut self, data: PartData) -> Option<PartData> {
        let part = data.part();
        self.reading.remove(&part);
        if !self.stale_while_read.remove(&part) {
            self.stale.remove(&part);
        }
        match data {
            PartData::Overview(new) => self.overview.replace(new).map(PartData::Overview),
            PartData::Quality(new) => self.quality.replace(new).map(PartData::Quality),
            PartData::Linkage(new) => self.linkage.replace(new).map(PartData::Linkage),
            PartData::Map(new) => self
                .map
                .replace(*new)
                .map(|old| PartData::Map(Box::new(old))),
            PartData::Families(new) => self.families.replace(new).map(PartData::Families),
            PartData::Audit(new) => self.audit.replace(new).map(PartData::Audit),
            PartData::Users(new) => self.users.replace(new).map(PartData::Users),
            PartData::Models(new) => self
                .models
                .replace(*new)
                .map(|old| PartData::Models(Box::new(old))),
            PartData::Outcomes(new) => self.outcomes.replace(new).map(PartData::Outcomes),
            PartData::Results(new) => self
                .results
                .replace(*new)
                .map(|old| PartData::Results(Box::new(old))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_made_stale_while_it_is_read_stays_stale() {
        let mut figures = Figures::default();
        assert!(figures.wants(Part::Overview));
        figures.reading(&[Part::Overview, Part::Models]);
        assert!(!figures.wants(Part::Overview), "already being read");
        figures.mark_stale(Part::Overview);
        figures.store(PartData::Overview(OverviewFigures::default()));
        figures.store(PartData::Models(Box::default()));
        assert!(figures.has(Part::Overview));
        assert!(!figures.is_fresh(Part::Overview), "read before the change");
        assert!(figures.is_fresh(Part::Models));
        assert!(figures.wants(Part::Overview));
        figures.reading(&[Part::Overview]);
        figures.store(PartData::Overview(OverviewFigures::default()));
        assert!(figures.is_fresh(Part::Overview));
        figures.mark_all_stale();
        assert!(Part::ALL.into_iter().all(|part| figures.wants(part)));
        assert!(figures.wants(Part::Audit) && !figures.has(Part::Audit));
    }
}
