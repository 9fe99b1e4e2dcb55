//! A zone's round-table agenda at the current round: the families flagged
//! (`report::flags`: the zone's top families within its capacity) that have no
//! plan, split by what changed since the previous round, then the families in a
//! plan whose review is due or who are stepping down. A family decided at this
//! round leaves the agenda for the "decided" list. Shared by the Round table
//! view and the printed meeting pack, so both list the same cases.

use super::families::{FamiliesFigures, FamilyRow};

/// A score rise, in probability points, that puts a flagged family back on the agenda.
pub const SCORE_RISE: f64 = 0.05;

/// A zone's agenda, each section in priority order.
#[derive(Debug, Default)]
pub struct Agenda<'a> {
    pub newly_flagged: Vec<&'a FamilyRow>,
    pub risen: Vec<&'a FamilyRow>,
    pub still_flagged: Vec<&'a FamilyRow>,
    pub due_for_review: Vec<&'a FamilyRow>,
    pub stepping_down: Vec<&'a FamilyRow>,
    /// Decided at this round: off the agenda, listed so the meeting sees what it agreed.
    pub decided: Vec<&'a FamilyRow>,
    /// Families in a plan whose review is not yet due.
    pub in_plan: usize,
    /// The zone's capacity: how many families the round flags at most.
    pub capacity: u32,
}

impl<'a> Agenda<'a> {
    /// The sections with their headings and what each means, in meeting order.
    pub fn sections(&self) -> [(&'static str, &'static str, &[&'a FamilyRow]); 5] {
        [
            (
                "Newly flagged",
                "Among the zone's top families this round (score, then criteria, within its capacity), not at the previous one.",
                &self.newly_flagged,
            ),
            (
                "Score rose",
                "Flagged at both rounds and still without a plan: the score rose by 5 points or more, or more criteria are met.",
                &self.risen,
            ),
            (
                "Still flagged",
                "Flagged at both rounds and still without a plan.",
                &self.still_flagged,
            ),
            (
                "Due for review",
                "In a plan whose review date has come: what the lead practitioner reports, and what next.",
                &self.due_for_review,
            ),
            (
                "Stepping down",
                "In a plan that has ended, or whose score and criteria fell at each of the last two rounds: for the meeting to close.",
                &self.stepping_down,
            ),
        ]
    }

    /// Families to discuss (not counting those decided at this round).
    pub fn len(&self) -> usize {
        self.sections().iter().map(|(_, _, list)| list.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Families flagged at this round: the flagged sections and those decided
    /// since; never more than the capacity.
    pub fn flagged(&self) -> usize {
        self.newly_flagged.len()
            + self.risen.len()
            + self.still_flagged.len()
            + self.decided.iter().filter(|f| f.flagged).count()
    }

    /// Whether `family_id` is on the agenda (in a section to discuss).
    pub fn contains(&self, family_id: &str) -> bool {
        self.sections()
            .iter()
            .any(|(_, _, list)| list.iter().any(|f| f.family_id == family_id))
    }
}

/// The agenda of `zone_id` (families in the order of `figures`, highest priority first).
pub fn agenda<'a>(figures: &'a FamiliesFigures, zone_id: &str) -> Agenda<'a> {
    let round = figures.current.as_deref().unwrap_or_default();
    let mut agenda = Agenda {
        capacity: figures
            .zones
            .iter()
            .find(|z| z.zone_id == zone_id)
            .map_or(super::flags::DEFAULT_CAPACITY, |z| z.capacity),
        ..Agenda::default()
    };
    for family in figures
        .families
        .iter()
        .filter(|f| f.zone_id.as_deref() == Some(zone_id))
    {
        match &family.decision {
            Some(decision) if decision.reference_date.as_str() >= round => {
                agenda.decided.push(family)
            }
            Some(decision) if decision.in_plan() => {
                let plan = decision.plan.as_ref();
                let ended = plan
                    .and_then(|p| p.ends.as_deref())
                    .is_some_and(|ends| ends <= round);
                if ended || family.fell_two_rounds() {
                    agenda.stepping_down.push(family);
                } else if plan.is_some_and(|p| p.review_date.as_str() <= round) {
                    agenda.due_for_review.push(family);
                } else {
                    agenda.in_plan += 1;
                }
            }
            _ if !family.flagged => {}
            _ if family.newly_flagged() => agenda.newly_flagged.push(family),
            _ if rose(family) => agenda.risen.push(family),
            _ => agenda.still_flagged.push(family),
        }
    }
    agenda
}

fn rose(family: &FamilyRow) -> bool {
    family.score_change().is_some_and(|c| c >= SCORE_RISE)
        || family
            .previous_criteria_met
            .is_some_and(|before| family.criteria_met.len() > before)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::families::ZoneInfo;
    use crate::report::family_detail::{CLOSED, Decision, Plan};

    fn family(id: &str, met: usize, before: Option<usize>) -> FamilyRow {
        FamilyRow {
            family_id: id.to_string(),
            zone_id: Some("Z".to_string()),
            criteria_met: (0..met).collect(),
            previous_criteria_met: before,
            ..FamilyRow::default()
        }
    }

    fn flagged(id: &str, before: bool) -> FamilyRow {
        FamilyRow {
            flagged: true,
            previously_flagged: before,
            ..family(id, 1, Some(1))
        }
    }

    fn decided(mut row: FamilyRow, round: &str, outcome: &str, plan: Option<Plan>) -> FamilyRow {
        row.decision = Some(Decision {
            outcome: outcome.into(),
            decided_by: "zm".into(),
            decided_at: format!("{round} 10:00"),
            reference_date: round.into(),
            plan,
            ..Decision::default()
        });
        row
    }

    fn plan(review: &str, ends: Option<&str>) -> Option<Plan> {
        Some(Plan {
            lead_agency: "School".into(),
            lead_name: "J. Patel".into(),
            actions: "Attendance plan".into(),
            review_date: review.into(),
            ends: ends.map(str::to_string),
        })
    }

    fn figures(families: Vec<FamilyRow>) -> FamiliesFigures {
        FamiliesFigures {
            current: Some("2026-04-01".into()),
            eligible_at: 3,
            zones: vec![ZoneInfo {
                zone_id: "Z".into(),
                name: "Zed".into(),
                capacity: 4,
            }],
            families,
            ..FamiliesFigures::default()
        }
    }

    fn ids(list: &[&FamilyRow]) -> Vec<String> {
        list.iter().map(|f| f.family_id.clone()).collect()
    }

    #[test]
    fn each_family_lands_in_one_section() {
        let mut scored = flagged("scored", true);
        scored.score = Some(0.40);
        scored.previous_score = Some(0.30);
        let mut more = flagged("more", true);
        more.criteria_met = vec![0, 1];
        let mut other_zone = flagged("elsewhere", false);
        other_zone.zone_id = Some("Y".into());
        // Fell at both rounds: 3 → 2 → 2 criteria with the score 0.5 → 0.4 → 0.3.
        let mut falling = family("falling", 2, Some(2));
        falling.earlier_criteria_met = Some(3);
        (falling.earlier_score, falling.previous_score, falling.score) =
            (Some(0.5), Some(0.4), Some(0.3));
        let figures = figures(vec![
            flagged("new", false),
            scored,
            more,
            flagged("steady", true),
            family("unflagged", 2, Some(0)),
            decided(
                flagged("decided now", false),
                "2026-04-01",
                "Universal services",
                None,
            ),
            decided(
                flagged("no plan", true),
                "2026-01-01",
                "No further action",
                None,
            ),
            decided(
                family("review", 1, Some(1)),
                "2026-01-01",
                "Early help lead practitioner",
                plan("2026-03-15", None),
            ),
            decided(
                family("ended", 1, Some(1)),
                "2026-01-01",
                "Early help lead practitioner",
                plan("2026-06-01", Some("2026-03-31")),
            ),
            decided(
                falling,
                "2025-10-01",
                "Early help lead practitioner",
                plan("2026-06-01", None),
            ),
            decided(
                family("planned", 1, Some(1)),
                "2026-01-01",
                "Early help lead practitioner",
                plan("2026-06-01", None),
            ),
            decided(flagged("closed", false), "2026-01-01", CLOSED, None),
            other_zone,
        ]);
        let agenda = agenda(&figures, "Z");
        assert_eq!(ids(&agenda.newly_flagged), ["new", "closed"]);
        assert_eq!(ids(&agenda.risen), ["scored", "more"]);
        assert_eq!(ids(&agenda.still_flagged), ["steady", "no plan"]);
        assert_eq!(ids(&agenda.due_for_review), ["review"]);
        assert_eq!(ids(&agenda.stepping_down), ["ended", "falling"]);
        assert_eq!(ids(&agenda.decided), ["decided now"]);
        assert_eq!(agenda.in_plan, 1, "planned: review in June");
        assert_eq!(agenda.len(), 9);
        assert_eq!(agenda.capacity, 4);
        assert!(agenda.contains("review") && !agenda.contains("decided now"));
    }

    #[test]
    fn falling_needs_both_rounds_and_no_rise() {
        let mut row = family("f", 2, Some(2));
        row.earlier_criteria_met = Some(2);
        (row.earlier_score, row.previous_score, row.score) = (Some(0.5), Some(0.4), Some(0.3));
        assert!(row.fell_two_rounds(), "the score fell twice");
        row.score = Some(0.45);
        assert!(!row.fell_two_rounds(), "rose at the last round");
        row.score = Some(0.3);
        row.criteria_met = vec![0, 1, 2];
        assert!(!row.fell_two_rounds(), "more criteria met");
        row.criteria_met = vec![0];
        row.earlier_criteria_met = None;
        assert!(!row.fell_two_rounds(), "no third round");
    }
}
