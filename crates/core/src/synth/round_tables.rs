//! The round tables' past, and the early-help effect the generator plants, so
//! that an estimate of "did it work?" can be checked against a known truth.
//!
//! At each monthly round of the history ([`rounds`]) each zone's round table
//! discusses its top `capacity` families by an observable need measure
//! ([`need`]: what the app can count again from the extracts), ties at the
//! cut-off broken at random. A family is discussed once in the history (it then
//! has a plan). Help changes one thing: every escalation of a child of a
//! discussed family (a child protection or care start) dated `delay_days` or
//! more after the round is kept with probability `effect`, so from then on the
//! family's escalation rate is `effect` times what it would have been.
//! Everything else a family does is drawn before and without the help, so an
//! effect of 1 leaves every extract as it would be without round tables.
//!
//! The decisions are written as the team's own records (`round_tables.csv`, not
//! an agency extract: who was discussed at which round, each family named by
//! its neediest child's social care record), and the truth
//! (`truth/discussions.csv`, `truth/early_help.csv`) beside the other truth.

use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate};
use rand::Rng;

use super::SynthError;
use super::events::Event;
use super::geography::Geography;
use super::population::Family;
use super::sources::{SOCIAL_CARE, SOURCES};
use super::timeline::{EXTRACT_DATE, date};
use super::writer::Output;

/// The round tables the generator simulates; also `zonewise synth`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct RoundTableConfig {
    /// Families each zone's round table discusses at each monthly round of the history.
    #[arg(long = "round-capacity", default_value_t = DEFAULT_CAPACITY)]
    pub capacity: usize,
    /// Early help's planted effect: the factor a discussed family's escalation
    /// rate is multiplied by once help has started (1 = no effect).
    #[arg(long = "help-effect", default_value_t = DEFAULT_EFFECT)]
    pub effect: f64,
    /// Days from the round to the day help starts to change escalations.
    #[arg(long = "help-delay", value_name = "DAYS", default_value_t = DEFAULT_DELAY_DAYS)]
    pub delay_days: i64,
}

/// Three families a zone a month: a sample zone holds about a hundred families,
/// so over two years of rounds about half of its families with any need are
/// discussed, leaving families just below the cut-off to compare with.
pub const DEFAULT_CAPACITY: usize = 3;
/// Help lowers the escalation rate by 40% (a rate ratio of 0.6).
pub const DEFAULT_EFFECT: f64 = 0.6;
/// Help changes nothing in the first 60 days after the round.
pub const DEFAULT_DELAY_DAYS: i64 = 60;

impl Default for RoundTableConfig {
    fn default() -> Self {
        RoundTableConfig {
            capacity: DEFAULT_CAPACITY,
            effect: DEFAULT_EFFECT,
            delay_days: DEFAULT_DELAY_DAYS,
        }
    }
}

impl RoundTableConfig {
    /// The default round tables with no effect: every extract as it would be
    /// without round tables.
    pub fn no_effect() -> Self {
        RoundTableConfig {
            effect: 1.0,
            ..RoundTableConfig::default()
        }
    }

    /// What cannot be generated, in words.
    pub fn problem(&self) -> Option<String> {
        if !(self.effect.is_finite() && (0.0..=1.0).contains(&self.effect)) {
            return Some(format!(
                "help effect must be between 0 and 1 (1 = no effect), not {}",
                self.effect
            ));
        }
        if self.delay_days < 0 {
            return Some(format!(
                "help delay must be 0 days or more, not {}",
                self.delay_days
            ));
        }
        None
    }
}

/// The first round: two years before the extract date, once a full year of
/// history lies behind it for the need measure.
const FIRST_ROUND: NaiveDate = super::timeline::ymd(2024, 4, 1);

/// The monthly rounds: the first day of each month from [`FIRST_ROUND`] to the
/// month before the extract date (the extract date is the app's own round).
pub fn rounds() -> Vec<NaiveDate> {
    let mut rounds = Vec::new();
    let mut round = FIRST_ROUND;
    while round < EXTRACT_DATE {
        rounds.push(round);
        round = months_after(round, 1);
    }
    rounds
}

/// The first of the month `months` after `day`'s month.
pub fn months_after(day: NaiveDate, months: u32) -> NaiveDate {
    let index = day.year() * 12 + day.month0() as i32 + months as i32;
    date(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
}

/// Days of history the need measure counts back from a round.
pub const NEED_DAYS: i64 = 365;

/// A family's need at each round: the most social care contacts any one of its
/// children had in the [`NEED_DAYS`] before the round. One child's count, so
/// that it is the same whichever household the app puts the child's brothers
/// and sisters in; the app counts the same rows of `core.event`
/// (`report::effect`).
pub fn need(events: &[Event], rounds: &[NaiveDate]) -> Vec<u16> {
    rounds
        .iter()
        .map(|&round| neediest_child(events, round).map_or(0, |(_, need)| need))
        .collect()
}

/// The child (member index) with the most social care contacts in the
/// [`NEED_DAYS`] before `round`, and how many (the first such child on a tie).
pub fn neediest_child(events: &[Event], round: NaiveDate) -> Option<(usize, u16)> {
    let from = round - Duration::days(NEED_DAYS);
    let mut counts: Vec<(usize, u16)> = Vec::new();
    for event in events {
        if event.source == SOCIAL_CARE
            && event.event_type == "contact"
            && event.date >= from
            && event.date < round
        {
            match counts.iter_mut().find(|(child, _)| *child == event.person) {
                Some((_, n)) => *n = n.saturating_add(1),
                None => counts.push((event.person, 1)),
            }
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
}

/// One family's place in the ranking: its zone and its need at each round.
pub struct Ranked {
    pub zone: usize,
    pub need: Vec<u16>,
}

/// A family discussed: at which round (index into `rounds`), with what need and
/// at which place in its zone's ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Discussion {
    pub round: usize,
    pub need: u16,
    pub rank: usize,
}

/// Each family's discussion, if any: at each round, per zone, the families not
/// yet discussed with a need of 1 or more, by need (highest first) and then a
/// random draw, the first `capacity` of them.
pub fn choose<R: Rng>(
    families: &[Ranked],
    rounds: usize,
    capacity: usize,
    rng: &mut R,
) -> Vec<Option<Discussion>> {
    let mut discussed: Vec<Option<Discussion>> = vec![None; families.len()];
    let zones = families.iter().map(|f| f.zone + 1).max().unwrap_or(0);
    for round in 0..rounds {
        let mut ranked: Vec<Vec<(u16, u64, usize)>> = vec![Vec::new(); zones];
        for (index, family) in families.iter().enumerate() {
            let need = family.need[round];
            if discussed[index].is_none() && need > 0 {
                ranked[family.zone].push((need, rng.random(), index));
            }
        }
        for zone in &mut ranked {
            zone.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            for (rank, &(need, _, index)) in zone.iter().take(capacity).enumerate() {
                discussed[index] = Some(Discussion {
                    round,
                    need,
                    rank: rank + 1,
                });
            }
        }
    }
    discussed
}

/// The escalations help acts on: the ones `events::outcomes` writes.
fn is_escalation(event: &Event) -> bool {
    event.source == SOCIAL_CARE && matches!(event.event_type, "child_protection" | "looked_after")
}

/// Removes the escalations help prevented: each escalation dated `delay_days` or
/// more after `round` survives with probability `effect`. Returns the removed
/// events' (child, day), for the truth of the outcomes. An effect of 1 draws
/// nothing.
pub fn apply_help<R: Rng>(
    events: &mut Vec<Event>,
    round: NaiveDate,
    config: &RoundTableConfig,
    rng: &mut R,
) -> Vec<(usize, NaiveDate)> {
    if config.effect >= 1.0 {
        return Vec::new();
    }
    let from = round + Duration::days(config.delay_days);
    let mut removed = Vec::new();
    events.retain(|event| {
        if is_escalation(event) && event.date >= from && rng.random::<f64>() >= config.effect {
            removed.push((event.person, event.date));
            false
        } else {
            true
        }
    });
    removed
}

/// The round-table outcomes the history records, spelt as the app's decision
/// form spells them (`report::family_detail::OUTCOMES`; the import refuses any other).
pub const LEAD_PRACTITIONER: &str = "Early help lead practitioner";
/// Closing a plan.
pub const CLOSED: &str = "Closed (step down)";

/// One decision of the history: its round, its outcome and, for a plan, its
/// review and end.
pub type Decision = (NaiveDate, &'static str, Option<(NaiveDate, NaiveDate)>);

/// The decisions the round table recorded for a discussed family: an early
/// help lead practitioner with a review in three months and an end in six, and
/// the plan closed at the round six months on (when that round is in the
/// history). `(round, outcome, review, ends)`.
pub fn decisions(round: NaiveDate) -> Vec<Decision> {
    let review = months_after(round, 3);
    let ends = months_after(round, 6);
    let mut rows = vec![(round, LEAD_PRACTITIONER, Some((review, ends)))];
    if ends < EXTRACT_DATE {
        rows.push((ends, CLOSED, None));
    }
    rows
}

/// The record the decision names the family by: the social care record of the
/// child whose need ranked it (`child`), as a case system names a family by
/// the child referred. `records` holds `(source, member, record id)`.
pub fn naming_record(child: usize, records: &[(usize, usize, String)]) -> Option<&str> {
    records
        .iter()
        .find(|(source, member, _)| *source == SOCIAL_CARE && *member == child)
        .map(|(_, _, id)| id.as_str())
}

/// The round tables' file: the team's record of its decisions, beside the
/// extracts (`zonewise` imports it into `app.round_decision`).
pub const ROUND_TABLES_FILE: &str = "round_tables.csv";

/// Header of [`ROUND_TABLES_FILE`].
pub const ROUND_TABLES_HEADER: [&str; 9] = [
    "round",
    "zone_id",
    "source",
    "record_id",
    "outcome",
    "lead_agency",
    "lead_name",
    "review_date",
    "plan_ends",
];

/// The truth files this module writes under `truth/`.
pub const TRUTH_FILES: [&str; 2] = ["discussions", "early_help"];

/// The decisions and the truth of the discussions, gathered family by family.
#[derive(Default)]
pub struct History {
    /// Rows of [`ROUND_TABLES_FILE`].
    decisions: Vec<[String; 9]>,
    /// `(round, zone id, family id, need, rank)`.
    discussions: Vec<(NaiveDate, String, String, u16, usize)>,
}

impl History {
    /// Records a discussed family's decisions, named by its record in `records`.
    pub fn add(
        &mut self,
        family: &Family,
        geography: &Geography,
        rounds: &[NaiveDate],
        discussion: Discussion,
        child: usize,
        records: &[(usize, usize, String)],
    ) {
        let round = rounds[discussion.round];
        let zone = &geography.zones[geography.zone_of[family.current_address().lsoa]].id;
        self.discussions.push((
            round,
            zone.clone(),
            family.id.clone(),
            discussion.need,
            discussion.rank,
        ));
        let Some(record_id) = naming_record(child, records) else {
            return;
        };
        let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        for (on, outcome, plan) in decisions(round) {
            let (lead_agency, lead_name, review, ends) = match plan {
                Some((review, ends)) => (
                    "Early help".to_string(),
                    format!("Lead practitioner, {zone}"),
                    day(review),
                    day(ends),
                ),
                None => Default::default(),
            };
            self.decisions.push([
                day(on),
                zone.clone(),
                SOURCES[SOCIAL_CARE].name.to_string(),
                record_id.to_string(),
                outcome.to_string(),
                lead_agency,
                lead_name,
                review,
                ends,
            ]);
        }
    }

    /// Writes [`ROUND_TABLES_FILE`] (by round, zone and record) and the truth:
    /// `truth/discussions.csv` (each family discussed, its round, need and
    /// place) and `truth/early_help.csv` (the planted effect and delay, the
    /// capacity and the need measure's days).
    pub fn write(
        mut self,
        out_dir: &Path,
        gzip: bool,
        config: &RoundTableConfig,
    ) -> Result<(), SynthError> {
        self.decisions.sort();
        let mut file = Output::create(out_dir.join(ROUND_TABLES_FILE), false, b',')?;
        file.row(ROUND_TABLES_HEADER)?;
        for row in &self.decisions {
            file.row(row)?;
        }
        file.finish()?;
        let ext = if gzip { "csv.gz" } else { "csv" };
        let truth = out_dir.join("truth");
        self.discussions.sort();
        let mut file = Output::create(truth.join(format!("discussions.{ext}")), gzip, b',')?;
        file.row(["round", "zone_id", "family_id", "need", "rank"])?;
        for (round, zone, family, need, rank) in &self.discussions {
            file.row([
                round.format("%Y-%m-%d").to_string(),
                zone.clone(),
                family.clone(),
                need.to_string(),
                rank.to_string(),
            ])?;
        }
        file.finish()?;
        let mut file = Output::create(truth.join(format!("early_help.{ext}")), gzip, b',')?;
        file.row([
            "help_effect",
            "help_delay_days",
            "round_capacity",
            "need_days",
        ])?;
        file.row([
            config.effect.to_string(),
            config.delay_days.to_string(),
            config.capacity.to_string(),
            NEED_DAYS.to_string(),
        ])?;
        file.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn rounds_are_the_months_before_the_extract_date() {
        let rounds = rounds();
        assert_eq!(rounds.len(), 24);
        assert_eq!(rounds[0], super::super::timeline::ymd(2024, 4, 1));
        assert_eq!(rounds[23], super::super::timeline::ymd(2026, 3, 1));
        assert_eq!(
            months_after(super::super::timeline::ymd(2025, 11, 1), 3),
            super::super::timeline::ymd(2026, 2, 1)
        );
    }

    #[test]
    fn each_zone_discusses_its_neediest_families_once() {
        let families = vec![
            Ranked {
                zone: 0,
                need: vec![5, 5],
            },
            Ranked {
                zone: 0,
                need: vec![1, 4],
            },
            Ranked {
                zone: 0,
                need: vec![2, 1],
            },
            Ranked {
                zone: 1,
                need: vec![0, 0],
            },
            Ranked {
                zone: 1,
                need: vec![0, 1],
            },
        ];
        let chosen = choose(&families, 2, 2, &mut ChaCha8Rng::seed_from_u64(1));
        let rounds: Vec<Option<usize>> = chosen.iter().map(|d| d.map(|d| d.round)).collect();
        // Round 0, zone 0: needs 5 and 2; round 1: only the family of need 4 is left.
        assert_eq!(rounds, [Some(0), Some(1), Some(0), None, Some(1)]);
        assert_eq!(chosen[2].map(|d| (d.need, d.rank)), Some((2, 2)));
    }

    #[test]
    fn ties_at_the_cut_off_are_broken_at_random() {
        let families: Vec<Ranked> = (0..200)
            .map(|_| Ranked {
                zone: 0,
                need: vec![1],
            })
            .collect();
        let chosen = choose(&families, 1, 100, &mut ChaCha8Rng::seed_from_u64(7));
        let first_half = chosen[..100].iter().filter(|d| d.is_some()).count();
        assert_eq!(chosen.iter().filter(|d| d.is_some()).count(), 100);
        assert!(
            (30..=70).contains(&first_half),
            "{first_half} of the first 100"
        );
    }
}
