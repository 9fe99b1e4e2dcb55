//! The drill-down path (authority → zone → LSOA → family → child) and the figures
//! shown at each area level, computed from the family rows read for the view so that every
//! level adds up to the one above it.

use crate::report::families::{FamiliesFigures, FamilyRow};

/// Where the senior manager has drilled to. Each field narrows the one before.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub zone: Option<String>,
    pub lsoa: Option<String>,
    pub family: Option<String>,
    pub child: Option<String>,
}

/// The level a scope shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Authority,
    Zone,
    Lsoa,
    Family,
    Child,
}

impl Scope {
    pub fn level(&self) -> Level {
        if self.child.is_some() {
            Level::Child
        } else if self.family.is_some() {
            Level::Family
        } else if self.lsoa.is_some() {
            Level::Lsoa
        } else if self.zone.is_some() {
            Level::Zone
        } else {
            Level::Authority
        }
    }

    /// The family lies inside the scope's area (the family and child fields do not narrow).
    pub fn contains(&self, family: &FamilyRow) -> bool {
        let within = |want: &Option<String>, have: &Option<String>| {
            want.as_ref().is_none_or(|w| have.as_ref() == Some(w))
        };
        within(&self.zone, &family.zone_id) && within(&self.lsoa, &family.lsoa_code)
    }

    /// The scope cut back to `level` (what a breadcrumb does).
    pub fn up_to(&self, level: Level) -> Scope {
        let keep = |at: Level, value: &Option<String>| {
            if (level as u8) >= (at as u8) {
                value.clone()
            } else {
                None
            }
        };
        Scope {
            zone: keep(Level::Zone, &self.zone),
            lsoa: keep(Level::Lsoa, &self.lsoa),
            family: keep(Level::Family, &self.family),
            child: keep(Level::Child, &self.child),
        }
    }

    /// The scope of one family, with its zone and LSOA filled in (a click from a list or the map).
    pub fn of_family(family: &FamilyRow) -> Scope {
        Scope {
            zone: family.zone_id.clone(),
            lsoa: family.lsoa_code.clone(),
            family: Some(family.family_id.clone()),
            child: None,
        }
    }
}

/// An area's figures for the drill-down table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AreaFigures {
    /// Families with a child under 18 on the reference date.
    pub families: u64,
    /// Flagged: among their zone's top families within its capacity (`report::flags`).
    pub flagged: u64,
    pub eligible: u64,
    /// With a child at or above the model's own threshold.
    pub model_flagged: u64,
    /// Criteria met, summed over families (÷ families for the mean).
    pub criteria_met: u64,
    /// Families known to two or more agencies in the last 12 months.
    pub multi_agency: u64,
    /// Families with a round-table decision recorded.
    pub decided: u64,
}

impl AreaFigures {
    pub fn add(&mut self, family: &FamilyRow, eligible_at: usize) {
        self.families += 1;
        self.flagged += u64::from(family.flagged);
        self.eligible += u64::from(family.eligible(eligible_at));
        self.model_flagged += u64::from(family.model_flagged);
        self.criteria_met += family.criteria_met.len() as u64;
        self.multi_agency += u64::from(family.agencies.len() >= 2);
        self.decided += u64::from(family.decision.is_some());
    }

    pub fn mean_criteria(&self) -> f64 {
        if self.families == 0 {
            0.0
        } else {
            self.criteria_met as f64 / self.families as f64
        }
    }
}

/// The figures of every family in `scope`.
pub fn summarise(figures: &FamiliesFigures, scope: &Scope) -> AreaFigures {
    let mut total = AreaFigures::default();
    for family in figures.families.iter().filter(|f| scope.contains(f)) {
        total.add(family, figures.eligible_at);
    }
    total
}

/// One row of the table of areas one level down: its code, name and figures.
#[derive(Debug, Clone, PartialEq)]
pub struct SubArea {
    pub code: String,
    pub name: String,
    pub imd_decile: Option<i32>,
    pub figures: AreaFigures,
}

/// The areas one level below `scope` (zones of the authority, LSOAs of a zone),
/// most flagged families first. Empty below the LSOA level.
pub fn sub_areas(figures: &FamiliesFigures, scope: &Scope) -> Vec<SubArea> {
    let level = scope.level();
    let mut areas: Vec<SubArea> = Vec::new();
    for family in figures.families.iter().filter(|f| scope.contains(f)) {
        let (code, name) = match level {
            Level::Authority => {
                let code = family.zone_id.clone().unwrap_or_default();
                let name = if code.is_empty() {
                    "No zone".to_string()
                } else {
                    figures.zone_name(&code).to_string()
                };
                (code, name)
            }
            Level::Zone => {
                let code = family.lsoa_code.clone().unwrap_or_default();
                (code.clone(), code)
            }
            _ => return Vec::new(),
        };
        let index = match areas.iter().position(|a| a.code == code) {
            Some(index) => index,
            None => {
                areas.push(SubArea {
                    code,
                    name,
                    imd_decile: family.imd_decile,
                    figures: AreaFigures::default(),
                });
                areas.len() - 1
            }
        };
        areas[index].figures.add(family, figures.eligible_at);
    }
    areas.sort_by(|a, b| {
        b.figures
            .flagged
            .cmp(&a.figures.flagged)
            .then(a.name.cmp(&b.name))
    });
    areas
}

/// The list's filters, applied on top of the scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Index into the figures' criteria: families meeting it.
    pub criterion: Option<usize>,
    /// Source name: families that agency knows (last 12 months).
    pub agency: Option<String>,
    /// Families scoring at least this (0–1); families without a score pass only at 0.
    pub min_score: f64,
    pub flagged_only: bool,
}

impl Filters {
    pub fn keeps(&self, family: &FamilyRow) -> bool {
        self.criterion
            .is_none_or(|c| family.criteria_met.contains(&c))
            && self
                .agency
                .as_ref()
                .is_none_or(|a| family.agencies.contains(a))
            && (self.min_score <= 0.0 || family.score.is_some_and(|s| s >= self.min_score))
            && (!self.flagged_only || family.flagged)
    }
}

/// The families of the list: in scope, through the filters, in priority order.
pub fn listed<'a>(
    figures: &'a FamiliesFigures,
    scope: &Scope,
    filters: &Filters,
) -> Vec<&'a FamilyRow> {
    figures
        .families
        .iter()
        .filter(|f| scope.contains(f) && filters.keeps(f))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(id: &str, zone: &str, lsoa: &str, met: Vec<usize>, score: Option<f64>) -> FamilyRow {
        FamilyRow {
            family_id: id.to_string(),
            zone_id: Some(zone.to_string()),
            lsoa_code: Some(lsoa.to_string()),
            flagged: !met.is_empty() || score.is_some_and(|s| s >= 0.5),
            criteria_met: met,
            score,
            model_flagged: score.is_some_and(|s| s >= 0.5),
            agencies: vec!["police".to_string(), "education".to_string()],
            ..FamilyRow::default()
        }
    }

    fn figures() -> FamiliesFigures {
        FamiliesFigures {
            eligible_at: 2,
            families: vec![
                family("F1", "Z1", "L1", vec![0, 1], None),
                family("F2", "Z1", "L2", vec![0], Some(0.7)),
                family("F3", "Z2", "L3", vec![], Some(0.1)),
            ],
            ..FamiliesFigures::default()
        }
    }

    #[test]
    fn breadcrumbs_cut_the_scope_back() {
        let scope = Scope {
            zone: Some("Z1".into()),
            lsoa: Some("L1".into()),
            family: Some("F1".into()),
            child: Some("P1".into()),
        };
        assert_eq!(scope.level(), Level::Child);
        assert_eq!(scope.up_to(Level::Zone).level(), Level::Zone);
        assert_eq!(scope.up_to(Level::Zone).lsoa, None);
        assert_eq!(scope.up_to(Level::Authority), Scope::default());
        assert_eq!(scope.up_to(Level::Family).child, None);
    }

    #[test]
    fn sub_areas_add_up_to_the_area_above() {
        let figures = figures();
        let all = summarise(&figures, &Scope::default());
        assert_eq!(all.families, 3);
        assert_eq!(all.flagged, 2, "F1 and F2");
        assert_eq!(all.criteria_met, 3);
        let zones = sub_areas(&figures, &Scope::default());
        assert_eq!(zones.len(), 2);
        let sum: u64 = zones.iter().map(|z| z.figures.families).sum();
        assert_eq!(sum, all.families);
        assert_eq!(zones[0].code, "Z1", "most flagged first");
        let zone = Scope {
            zone: Some("Z1".into()),
            ..Scope::default()
        };
        let lsoas = sub_areas(&figures, &zone);
        assert_eq!(lsoas.len(), 2);
        assert_eq!(
            lsoas.iter().map(|l| l.figures.flagged).sum::<u64>(),
            summarise(&figures, &zone).flagged
        );
    }

    #[test]
    fn filters_narrow_the_list() {
        let figures = figures();
        let everyone = listed(&figures, &Scope::default(), &Filters::default());
        assert_eq!(everyone.len(), 3);
        let by_criterion = Filters {
            criterion: Some(1),
            ..Filters::default()
        };
        let hits = listed(&figures, &Scope::default(), &by_criterion);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].family_id, "F1");
        let by_score = Filters {
            min_score: 0.5,
            ..Filters::default()
        };
        let hits = listed(&figures, &Scope::default(), &by_score);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].family_id, "F2");
        let flagged = Filters {
            flagged_only: true,
            ..Filters::default()
        };
        assert_eq!(listed(&figures, &Scope::default(), &flagged).len(), 2);
        let by_agency = Filters {
            agency: Some("housing".into()),
            ..Filters::default()
        };
        assert!(listed(&figures, &Scope::default(), &by_agency).is_empty());
    }
}
