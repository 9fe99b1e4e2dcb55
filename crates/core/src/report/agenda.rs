//! A zone's round-table agenda, from the families of the current round: families
//! newly flagged since the previous round, flagged families whose score or
//! criteria rose, and families the round table has decided about before. Shared by
//! the Round table view and the printed meeting pack, so both list the same cases.

use super::families::{FamiliesFigures, FamilyRow};

/// A score rise, in probability points, that puts a flagged family back on the agenda.
pub const SCORE_RISE: f64 = 0.05;

/// The three sections of a zone's agenda, each in priority order.
#[derive(Debug, Default)]
pub struct Agenda<'a> {
    pub newly_flagged: Vec<&'a FamilyRow>,
    pub risen: Vec<&'a FamilyRow>,
    pub reviewed: Vec<&'a FamilyRow>,
}

impl<'a> Agenda<'a> {
    /// The sections with their headings and what each means, in meeting order.
    pub fn sections(&self) -> [(&'static str, &'static str, &[&'a FamilyRow]); 3] {
        [
            (
                "Newly flagged",
                "Flagged by the model or the criteria this round, not at the previous one, and not yet discussed.",
                &self.newly_flagged,
            ),
            (
                "Score rose",
                "Flagged at both rounds, not yet discussed, and the score rose by 5 points or more, or more criteria are met.",
                &self.risen,
            ),
            (
                "Reviewed before",
                "Discussed at an earlier meeting: the decision recorded, and where things stand now.",
                &self.reviewed,
            ),
        ]
    }

    pub fn len(&self) -> usize {
        self.newly_flagged.len() + self.risen.len() + self.reviewed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The agenda of `zone_id` (families in the order of `figures`, highest priority first).
pub fn agenda<'a>(figures: &'a FamiliesFigures, zone_id: &str) -> Agenda<'a> {
    let at = figures.eligible_at;
    let mut agenda = Agenda::default();
    for family in figures
        .families
        .iter()
        .filter(|f| f.zone_id.as_deref() == Some(zone_id))
    {
        if family.decision.is_some() {
            agenda.reviewed.push(family);
        } else if family.newly_flagged(at) {
            agenda.newly_flagged.push(family);
        } else if family.flagged(at) && rose(family) {
            agenda.risen.push(family);
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
    use crate::report::family_detail::Decision;

    fn family(id: &str, met: usize, before: Option<usize>) -> FamilyRow {
        FamilyRow {
            family_id: id.to_string(),
            zone_id: Some("Z".to_string()),
            criteria_met: (0..met).collect(),
            previous_criteria_met: before,
            ..FamilyRow::default()
        }
    }

    #[test]
    fn each_family_lands_in_one_section() {
        let mut decided = family("decided", 3, Some(3));
        decided.decision = Some(Decision {
            outcome: "Universal services".into(),
            note: String::new(),
            decided_by: "zm".into(),
            decided_at: "2026-01-10 10:00".into(),
            reference_date: "2026-01-01".into(),
        });
        let mut scored = family("scored", 0, Some(0));
        scored.model_flagged = true;
        scored.previously_model_flagged = true;
        scored.score = Some(0.40);
        scored.previous_score = Some(0.30);
        let mut other_zone = family("elsewhere", 4, Some(0));
        other_zone.zone_id = Some("Y".into());
        let figures = FamiliesFigures {
            eligible_at: 3,
            families: vec![
                family("new", 3, Some(1)),
                family("steady", 3, Some(3)),
                family("more", 4, Some(3)),
                family("below", 2, Some(0)),
                decided,
                scored,
                other_zone,
            ],
            ..FamiliesFigures::default()
        };
        let agenda = agenda(&figures, "Z");
        let ids =
            |list: &[&FamilyRow]| list.iter().map(|f| f.family_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&agenda.newly_flagged), ["new"]);
        assert_eq!(ids(&agenda.risen), ["more", "scored"]);
        assert_eq!(ids(&agenda.reviewed), ["decided"]);
        assert_eq!(agenda.len(), 4);
    }
}
