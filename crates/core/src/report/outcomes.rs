//! What became of the families a round table discussed: for every decision, the
//! family's headline problems (the Supporting Families criteria) at the
//! decision's round and at the latest round, each resolved, continuing or new,
//! and whether a child of the family escalated to child protection or care
//! (`risk::label::OUTCOME_EVENTS`, from `core.event`) on or after that round;
//! and each zone's summary by decision type; and the comparison at the cut-off
//! that asks whether help made a difference (`report::effect`).
//!
//! Person-level: read only through `access::person_query`, which records the read
//! first and hands over the session's [`Visibility`]. The rows carry family codes,
//! decisions and criteria, never a name, so a masked screen sees what an unmasked
//! one does; the zone condition keeps a zone manager to their zones.

use std::collections::{BTreeMap, BTreeSet};

use duckdb::Connection;

use super::families::split;
use super::family_detail::{DECISION_COLUMNS, Decision, decision_from_row};
use crate::access::Visibility;
use crate::risk::criteria::DEFAULT_SET;
use crate::risk::label::OUTCOME_EVENTS;
use crate::store::StoreError;

/// A child's escalation after a decision: the first child protection or care
/// episode of a child of the family dated on or after the decision's round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    /// yyyy-mm-dd.
    pub date: String,
    /// `child_protection` or `looked_after`.
    pub event_type: String,
}

/// One decision and what followed it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DecisionOutcome {
    pub family_id: String,
    pub zone_id: Option<String>,
    pub decision: Decision,
    /// Criteria (names) met at the decision's round; `None` when the family was
    /// not assessed then (no child under 18, or no criteria at that date).
    pub at_decision: Option<BTreeSet<String>>,
    /// Criteria met at the latest round; `None` when not assessed then.
    pub now: Option<BTreeSet<String>>,
    pub escalation: Option<Escalation>,
}

impl DecisionOutcome {
    /// A round with criteria has come since the decision's, and the family was
    /// assessed at both: its problems can be compared.
    pub fn followed_up(&self, latest_round: &str) -> bool {
        self.decision.reference_date.as_str() < latest_round
            && self.at_decision.is_some()
            && self.now.is_some()
    }

    fn compare(&self, keep: impl Fn(bool, bool) -> bool) -> Vec<String> {
        let (Some(before), Some(now)) = (&self.at_decision, &self.now) else {
            return Vec::new();
        };
        before
            .union(now)
            .filter(|c| keep(before.contains(*c), now.contains(*c)))
            .cloned()
            .collect()
    }

    /// Problems at the decision no longer met now.
    pub fn resolved(&self) -> Vec<String> {
        self.compare(|before, now| before && !now)
    }

    /// Problems met at the decision and still now.
    pub fn continuing(&self) -> Vec<String> {
        self.compare(|before, now| before && now)
    }

    /// Problems met now that were not at the decision: new.
    pub fn appeared(&self) -> Vec<String> {
        self.compare(|before, now| !before && now)
    }
}

/// Counts over families, for a zone or one decision type in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutcomeCounts {
    /// Families discussed (each once, by its first decision).
    pub families: u64,
    /// Of them, followed up: assessed at the decision's round and a later one.
    pub followed_up: u64,
    /// Problems of the followed-up families at the decision, and how they stand now.
    pub problems_at_decision: u64,
    pub resolved: u64,
    pub continuing: u64,
    pub new: u64,
    /// Families with a child escalated to child protection or care since the decision.
    pub escalated: u64,
}

impl OutcomeCounts {
    /// Counts `outcome`'s family in, "now" being `latest_round`.
    pub(crate) fn add(&mut self, outcome: &DecisionOutcome, latest_round: &str) {
        self.families += 1;
        if outcome.followed_up(latest_round) {
            self.followed_up += 1;
            self.problems_at_decision += outcome.at_decision.as_ref().map_or(0, |s| s.len()) as u64;
            self.resolved += outcome.resolved().len() as u64;
            self.continuing += outcome.continuing().len() as u64;
            self.new += outcome.appeared().len() as u64;
        }
        if outcome.escalation.is_some() {
            self.escalated += 1;
        }
    }
}

/// A zone's outcomes: every family discussed there, and by the type of the
/// family's first decision.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ZoneOutcomes {
    pub zone_id: String,
    pub name: String,
    pub total: OutcomeCounts,
    /// (decision outcome, counts), in `family_detail::OUTCOMES` order.
    pub by_decision: Vec<(String, OutcomeCounts)>,
}

/// The outcomes a session may see.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutcomesFigures {
    /// The latest round with criteria (yyyy-mm-dd): "now".
    pub latest_round: Option<String>,
    /// (name, title) of each criterion, as the latest round applied them.
    pub criteria: Vec<(String, String)>,
    /// Every decision, by family, oldest first: each family's plan history.
    pub decisions: Vec<DecisionOutcome>,
    /// Zones with a family discussed, by name.
    pub zones: Vec<ZoneOutcomes>,
    /// Did it work? Families helped and not at the cut-off (`report::effect`),
    /// over the session's zones.
    pub effect: super::effect::EffectEstimate,
}

impl OutcomesFigures {
    /// A family's decisions, oldest first.
    pub fn history(&self, family_id: &str) -> Vec<&DecisionOutcome> {
        self.decisions
            .iter()
            .filter(|d| d.family_id == family_id)
            .collect()
    }

    /// Each family's first decision: the earliest round's, and of that round's
    /// the last recorded (a correction replaces what it corrects).
    pub fn first_decisions(&self) -> Vec<&DecisionOutcome> {
        let mut first: BTreeMap<&str, &DecisionOutcome> = BTreeMap::new();
        for outcome in &self.decisions {
            let entry = first.entry(&outcome.family_id).or_insert(outcome);
            let round = |d: &DecisionOutcome| d.decision.reference_date.clone();
            if round(outcome) < round(entry)
                || (round(outcome) == round(entry)
                    && outcome.decision.decided_at >= entry.decision.decided_at)
            {
                *entry = outcome;
            }
        }
        first.into_values().collect()
    }

    /// A criterion's title, or its name when unknown.
    pub fn title<'a>(&'a self, name: &'a str) -> &'a str {
        self.criteria
            .iter()
            .find(|(n, _)| n == name)
            .map_or(name, |(_, title)| title.as_str())
    }

    /// A zone's summary.
    pub fn zone(&self, zone_id: &str) -> Option<&ZoneOutcomes> {
        self.zones.iter().find(|z| z.zone_id == zone_id)
    }
}

/// Reads every decision the session's zones hold with its outcomes (pass
/// `visibility` on from `access::person_query`), and sums them per zone.
pub fn read_outcomes(
    conn: &Connection,
    visibility: &Visibility,
) -> Result<OutcomesFigures, StoreError> {
    crate::store::refuse_on_frame("report::outcomes::read_outcomes")?;
    crate::uptake::stats::create_macros(conn)?;
    let latest_round: Option<String> = conn.query_row(
        "SELECT strftime(max(reference_date), '%Y-%m-%d') FROM mart.family_criterion
         WHERE rule_set = ?",
        [DEFAULT_SET],
        |row| row.get(0),
    )?;
    let effect = super::effect::read_effect(conn, visibility)?;
    let Some(latest) = latest_round.clone() else {
        return Ok(OutcomesFigures {
            effect,
            ..OutcomesFigures::default()
        });
    };
    let criteria = conn
        .prepare(
            "SELECT criterion, title FROM mart.criterion_rule
             WHERE reference_date = ?::DATE AND rule_set = ? ORDER BY rowid",
        )?
        .query_map([latest.as_str(), DEFAULT_SET], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let zone_condition = visibility.zone_condition(conn, "f.zone_id")?;
    let sql = format!(
        "WITH met AS (
             SELECT family_id, reference_date,
                    coalesce(string_agg(criterion, chr(31) ORDER BY criterion) FILTER (WHERE met), '') AS met
             FROM mart.family_criterion WHERE rule_set = $1 GROUP BY ALL),
         decided AS (
             SELECT family_id, reference_date AS round, decided_at AS decided_ts, {DECISION_COLUMNS}
             FROM app.round_decision),
         escalation AS (
             SELECT d.family_id, d.round, min(e.event_date) AS first_day,
                    arg_min(e.event_type, e.event_date) AS first_type
             FROM (SELECT DISTINCT family_id, round FROM decided) d
             JOIN core.event e ON e.family_id = d.family_id AND e.event_date >= d.round
                              AND e.event_type IN {escalations}
             JOIN core.person p ON p.person_id = e.person_id
             WHERE p.birth_date <= e.event_date AND age_on(p.birth_date, e.event_date) < 18
             GROUP BY ALL)
         SELECT d.family_id, f.zone_id, a.met, b.met,
                strftime(x.first_day, '%Y-%m-%d'), x.first_type,
                d.* EXCLUDE (family_id, round, decided_ts)
         FROM decided d
         JOIN core.family f USING (family_id)
         LEFT JOIN met a ON a.family_id = d.family_id AND a.reference_date = d.round
         LEFT JOIN met b ON b.family_id = d.family_id AND b.reference_date = $2::DATE
         LEFT JOIN escalation x ON x.family_id = d.family_id AND x.round = d.round
         WHERE {zone_condition}
         ORDER BY d.family_id, d.round, d.decided_ts",
        escalations = crate::risk::list_sql(&OUTCOME_EVENTS),
    );
    let set = |met: Option<String>| met.map(|m| split(&m).map(str::to_string).collect());
    let decisions: Vec<DecisionOutcome> = conn
        .prepare(&sql)?
        .query_map([DEFAULT_SET, latest.as_str()], |row| {
            let date: Option<String> = row.get(4)?;
            let event_type: Option<String> = row.get(5)?;
            Ok(DecisionOutcome {
                family_id: row.get(0)?,
                zone_id: row.get(1)?,
                at_decision: set(row.get(2)?),
                now: set(row.get(3)?),
                escalation: date
                    .zip(event_type)
                    .map(|(date, event_type)| Escalation { date, event_type }),
                decision: decision_from_row(row, 6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let names: BTreeMap<String, String> = conn
        .prepare("SELECT zone_id, name FROM ref.zone")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut figures = OutcomesFigures {
        latest_round,
        criteria,
        decisions,
        zones: Vec::new(),
        effect,
    };
    figures.zones = summarise(&figures, &latest, &names);
    Ok(figures)
}

/// Each zone's counts over its families' first decisions, by zone name.
fn summarise(
    figures: &OutcomesFigures,
    latest_round: &str,
    names: &BTreeMap<String, String>,
) -> Vec<ZoneOutcomes> {
    let mut zones: BTreeMap<String, ZoneOutcomes> = BTreeMap::new();
    for outcome in figures.first_decisions() {
        let Some(zone_id) = &outcome.zone_id else {
            continue;
        };
        let zone = zones
            .entry(zone_id.clone())
            .or_insert_with(|| ZoneOutcomes {
                zone_id: zone_id.clone(),
                name: names
                    .get(zone_id)
                    .cloned()
                    .unwrap_or_else(|| zone_id.clone()),
                ..ZoneOutcomes::default()
            });
        zone.total.add(outcome, latest_round);
        let kind = &outcome.decision.outcome;
        match zone.by_decision.iter_mut().find(|(k, _)| k == kind) {
            Some((_, counts)) => counts.add(outcome, latest_round),
            None => {
                let mut counts = OutcomeCounts::default();
                counts.add(outcome, latest_round);
                zone.by_decision.push((kind.clone(), counts));
            }
        }
    }
    let order = |kind: &str| {
        super::family_detail::OUTCOMES
            .iter()
            .position(|o| *o == kind)
            .unwrap_or(usize::MAX)
    };
    let mut zones: Vec<ZoneOutcomes> = zones.into_values().collect();
    for zone in &mut zones {
        zone.by_decision
            .sort_by(|a, b| order(&a.0).cmp(&order(&b.0)).then(a.0.cmp(&b.0)));
    }
    zones.sort_by(|a, b| a.name.cmp(&b.name).then(a.zone_id.cmp(&b.zone_id)));
    zones
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(family: &str, round: &str, at: &[&str], now: &[&str]) -> DecisionOutcome {
        DecisionOutcome {
            family_id: family.into(),
            zone_id: Some("Z".into()),
            decision: Decision {
                outcome: "Universal services".into(),
                reference_date: round.into(),
                decided_at: format!("{round} 10:00"),
                ..Decision::default()
            },
            at_decision: Some(at.iter().map(|s| s.to_string()).collect()),
            now: Some(now.iter().map(|s| s.to_string()).collect()),
            escalation: None,
        }
    }

    #[test]
    fn problems_are_resolved_continuing_or_new() {
        let o = outcome(
            "F",
            "2026-01-01",
            &["crime", "education"],
            &["education", "health"],
        );
        assert_eq!(o.resolved(), ["crime"]);
        assert_eq!(o.continuing(), ["education"]);
        assert_eq!(o.appeared(), ["health"]);
        assert!(o.followed_up("2026-04-01"));
        assert!(!o.followed_up("2026-01-01"), "no round since");
        let unassessed = DecisionOutcome {
            now: None,
            ..o.clone()
        };
        assert!(unassessed.resolved().is_empty() && !unassessed.followed_up("2026-04-01"));
    }

    #[test]
    fn zones_count_each_family_once_by_its_first_decision() {
        let mut later = outcome("F", "2026-04-01", &["education"], &["education"]);
        later.decision.outcome = "Early help lead practitioner".into();
        let mut escalated = outcome("G", "2026-01-01", &["crime"], &[]);
        escalated.escalation = Some(Escalation {
            date: "2026-02-01".into(),
            event_type: "child_protection".into(),
        });
        let figures = OutcomesFigures {
            latest_round: Some("2026-04-01".into()),
            decisions: vec![
                outcome("F", "2026-01-01", &["crime", "education"], &["education"]),
                later,
                escalated,
            ],
            ..OutcomesFigures::default()
        };
        assert_eq!(figures.history("F").len(), 2);
        let zones = summarise(&figures, "2026-04-01", &BTreeMap::new());
        assert_eq!(zones.len(), 1);
        let total = zones[0].total;
        assert_eq!(
            (
                total.families,
                total.followed_up,
                total.problems_at_decision
            ),
            (2, 2, 3)
        );
        assert_eq!((total.resolved, total.continuing, total.new), (2, 1, 0));
        assert_eq!(total.escalated, 1);
        assert_eq!(
            zones[0].by_decision.len(),
            1,
            "both first decided universal"
        );
    }
}
