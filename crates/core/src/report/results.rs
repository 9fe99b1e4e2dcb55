//! The senior manager's results: per round and per zone (or for every zone the
//! session sees), how many families were flagged, discussed and given plans, how
//! long they waited from their first flag to a decision, what the meetings
//! decided, which plans are open or overdue for review, what became of the
//! families by the type of their first decision, and the equity of all of it by
//! IMD decile with the slope index of inequality.
//!
//! Every figure is a count of families in [`ResultsFigures::families`], one row
//! per round and family, so the families behind a figure are the rows
//! [`ResultsFigures::behind`] selects and the figure is their number. "Flagged" is
//! `report::flags` at each round; outcomes are `report::outcomes`'; the SII is
//! `uptake::stats::inequality`'s. Read only through `access::person_query`.

use std::collections::BTreeMap;

use duckdb::Connection;

use super::family_detail::{CLOSED, OUTCOMES};
use super::flags::flags_sql;
use super::outcomes::{DecisionOutcome, OutcomeCounts, OutcomesFigures, read_outcomes};
use crate::access::Visibility;
use crate::risk::criteria::DEFAULT_SET;
use crate::store::StoreError;
use crate::uptake::stats::{Inequality, Measure};
use crate::uptake::{Level, Rate, UptakeRow, Withheld};

/// One family at one round: what the round's figures count it in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FamilyAtRound {
    /// yyyy-mm-dd.
    pub round: String,
    pub family_id: String,
    pub zone_id: Option<String>,
    /// IMD decile of the family's LSOA (1 = most deprived).
    pub imd_decile: Option<u8>,
    /// Assessed at the round: it had a child, so its criteria were applied.
    pub assessed: bool,
    /// Flagged at the round (`report::flags`).
    pub flagged: bool,
    /// The first round, up to this one, at which it was flagged (yyyy-mm-dd).
    pub first_flagged: Option<String>,
    /// A decision was recorded for it at this round.
    pub discussed: bool,
    /// This round was the first at which it was discussed.
    pub first_discussed: bool,
    /// The round's decision (its last recorded, which replaces the earlier).
    pub decision: Option<String>,
    /// The round's decision agreed a plan.
    pub plan_agreed: bool,
    /// Days from the first round it was flagged to its first decision, for a
    /// family first discussed at this round after a flag.
    pub days_to_decision: Option<i64>,
    /// In a plan at the round: its latest decision up to the round agreed a plan
    /// that has not ended.
    pub plan_open: bool,
    /// An open plan whose review date has come by the round with no decision
    /// since (the agenda's "due for review" not yet reviewed).
    pub overdue: bool,
}

/// A figure of the results, to count or to list the families behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Figure {
    Assessed,
    Flagged,
    Discussed,
    /// Discussed with this decision (the round's last recorded).
    Decided(String),
    /// First discussed at the round after a flag: the families timed.
    Timed,
    PlanAgreed,
    PlanOpen,
    Overdue,
    /// Of one IMD decile, one of the figures above.
    InDecile(u8, Box<Figure>),
}

impl Figure {
    fn counts(&self, family: &FamilyAtRound) -> bool {
        match self {
            Figure::Assessed => family.assessed,
            Figure::Flagged => family.flagged,
            Figure::Discussed => family.discussed,
            Figure::Decided(outcome) => family.decision.as_deref() == Some(outcome),
            Figure::Timed => family.days_to_decision.is_some(),
            Figure::PlanAgreed => family.plan_agreed,
            Figure::PlanOpen => family.plan_open,
            Figure::Overdue => family.overdue,
            Figure::InDecile(decile, figure) => {
                family.imd_decile == Some(*decile) && figure.counts(family)
            }
        }
    }

    /// What the figure counts, in words (for the list of families behind it).
    pub fn label(&self) -> String {
        match self {
            Figure::Assessed => "families assessed".into(),
            Figure::Flagged => "families flagged".into(),
            Figure::Discussed => "families discussed".into(),
            Figure::Decided(outcome) => format!("families decided '{outcome}'"),
            Figure::Timed => "families first discussed after a flag".into(),
            Figure::PlanAgreed => "plans agreed".into(),
            Figure::PlanOpen => "plans open".into(),
            Figure::Overdue => "plans overdue for review".into(),
            Figure::InDecile(decile, figure) => {
                format!("{} in IMD decile {decile}", figure.label())
            }
        }
    }
}

/// A round's figures for a zone or every zone the session sees.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoundSummary {
    pub assessed: usize,
    pub flagged: usize,
    pub discussed: usize,
    /// (decision, families) in `family_detail::OUTCOMES` order, then any other.
    pub decided: Vec<(String, usize)>,
    /// Families first discussed at the round after a flag, and the median of
    /// their days from first flag to decision.
    pub timed: usize,
    pub median_days: Option<f64>,
    pub plans_agreed: usize,
    pub plans_open: usize,
    pub overdue: usize,
    /// What became of the families first discussed at the round, by the type of
    /// that first decision (`report::outcomes`), and all together.
    pub outcomes: Vec<(String, OutcomeCounts)>,
    pub outcomes_total: OutcomeCounts,
}

/// One IMD decile's counts at a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecileCounts {
    pub decile: u8,
    pub assessed: u64,
    pub flagged: u64,
    pub plans_agreed: u64,
    /// Of the families first discussed at the round: followed up, and of them
    /// with a headline problem resolved since.
    pub followed_up: u64,
    pub resolved: u64,
}

/// The equity of a round's decisions: each decile's counts and the slope index
/// of inequality of three rates across deciles.
#[derive(Debug, Clone, PartialEq)]
pub struct Equity {
    pub deciles: Vec<DecileCounts>,
    /// Flagged ÷ assessed.
    pub flagged: Inequality,
    /// Plans agreed at the round ÷ assessed.
    pub plans: Inequality,
    /// Followed up with a problem resolved ÷ followed up (families first
    /// discussed at the round).
    pub resolved: Inequality,
}

/// The results a session may see.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultsFigures {
    /// Every round the database holds (criteria applied or decisions taken), oldest first.
    pub rounds: Vec<String>,
    /// (zone id, name) of the zones the session sees, by name.
    pub zones: Vec<(String, String)>,
    /// One row per round and family counted at it.
    pub families: Vec<FamilyAtRound>,
    /// The outcomes of every decision (`report::outcomes`).
    pub outcomes: OutcomesFigures,
    /// Equity per (round, zone; `None` for every zone seen): the opening
    /// round's when read, others as they are worked out for the view.
    pub equity: BTreeMap<(String, Option<String>), Equity>,
}

impl ResultsFigures {
    /// The round the Results view opens on: the latest at which a family the
    /// session sees was discussed, since a round without decisions has only
    /// flags to show; the latest round when none was.
    pub fn opening_round(&self) -> Option<&str> {
        self.families
            .iter()
            .filter(|f| f.discussed)
            .map(|f| f.round.as_str())
            .max()
            .or(self.rounds.last().map(String::as_str))
    }

    /// The families behind `figure` at `round` in `zone` (`None`: every zone seen).
    pub fn behind(&self, round: &str, zone: Option<&str>, figure: &Figure) -> Vec<&FamilyAtRound> {
        self.families
            .iter()
            .filter(|f| f.round == round && in_zone(f.zone_id.as_deref(), zone))
            .filter(|f| figure.counts(f))
            .collect()
    }

    /// The families first discussed at `round` in `zone`, with their outcomes;
    /// `decision`: only those first decided so.
    pub fn first_decided(
        &self,
        round: &str,
        zone: Option<&str>,
        decision: Option<&str>,
    ) -> Vec<&DecisionOutcome> {
        self.outcomes
            .first_decisions()
            .into_iter()
            .filter(|d| d.decision.reference_date == round)
            .filter(|d| in_zone(d.zone_id.as_deref(), zone))
            .filter(|d| decision.is_none_or(|kind| d.decision.outcome == kind))
            .collect()
    }

    /// A round's figures for `zone` (`None`: every zone seen).
    pub fn summary(&self, round: &str, zone: Option<&str>) -> RoundSummary {
        let count = |figure: Figure| self.behind(round, zone, &figure).len();
        let discussed = self.behind(round, zone, &Figure::Discussed);
        let mut kinds: Vec<String> = OUTCOMES
            .iter()
            .filter(|kind| {
                discussed
                    .iter()
                    .any(|f| f.decision.as_deref() == Some(kind))
            })
            .map(|kind| kind.to_string())
            .collect();
        for family in &discussed {
            if let Some(kind) = &family.decision
                && !kinds.contains(kind)
            {
                kinds.push(kind.clone());
            }
        }
        let mut days: Vec<i64> = self
            .behind(round, zone, &Figure::Timed)
            .iter()
            .filter_map(|f| f.days_to_decision)
            .collect();
        days.sort_unstable();
        let median_days = match days.len() {
            0 => None,
            n if n % 2 == 1 => Some(days[n / 2] as f64),
            n => Some((days[n / 2 - 1] + days[n / 2]) as f64 / 2.0),
        };
        let latest = self.outcomes.latest_round.as_deref().unwrap_or(round);
        let mut outcomes: Vec<(String, OutcomeCounts)> = Vec::new();
        let mut outcomes_total = OutcomeCounts::default();
        for first in self.first_decided(round, zone, None) {
            outcomes_total.add(first, latest);
            let kind = &first.decision.outcome;
            match outcomes.iter_mut().find(|(k, _)| k == kind) {
                Some((_, counts)) => counts.add(first, latest),
                None => {
                    let mut counts = OutcomeCounts::default();
                    counts.add(first, latest);
                    outcomes.push((kind.clone(), counts));
                }
            }
        }
        outcomes.sort_by_key(|(kind, _)| outcome_order(kind));
        RoundSummary {
            assessed: count(Figure::Assessed),
            flagged: count(Figure::Flagged),
            discussed: discussed.len(),
            decided: kinds
                .into_iter()
                .map(|kind| {
                    let n = count(Figure::Decided(kind.clone()));
                    (kind, n)
                })
                .collect(),
            timed: days.len(),
            median_days,
            plans_agreed: count(Figure::PlanAgreed),
            plans_open: count(Figure::PlanOpen),
            overdue: count(Figure::Overdue),
            outcomes,
            outcomes_total,
        }
    }

    /// Each IMD decile's counts at `round` in `zone`, deciles with nobody left out.
    pub fn decile_counts(&self, round: &str, zone: Option<&str>) -> Vec<DecileCounts> {
        let mut deciles: BTreeMap<u8, DecileCounts> = BTreeMap::new();
        for family in self
            .families
            .iter()
            .filter(|f| f.round == round && in_zone(f.zone_id.as_deref(), zone))
        {
            let Some(decile) = family.imd_decile else {
                continue;
            };
            let counts = deciles.entry(decile).or_insert(DecileCounts {
                decile,
                ..DecileCounts::default()
            });
            if family.assessed {
                counts.assessed += 1;
                counts.flagged += u64::from(family.flagged);
                counts.plans_agreed += u64::from(family.plan_agreed);
            }
        }
        let decile_of: BTreeMap<&str, u8> = self
            .families
            .iter()
            .filter_map(|f| Some((f.family_id.as_str(), f.imd_decile?)))
            .collect();
        let latest = self.outcomes.latest_round.as_deref().unwrap_or(round);
        for first in self.first_decided(round, zone, None) {
            let Some(&decile) = decile_of.get(first.family_id.as_str()) else {
                continue;
            };
            if first.followed_up(latest) {
                let counts = deciles.entry(decile).or_insert(DecileCounts {
                    decile,
                    ..DecileCounts::default()
                });
                counts.followed_up += 1;
                counts.resolved += u64::from(!first.resolved().is_empty());
            }
        }
        deciles.into_values().collect()
    }

    /// The equity of `round` in `zone` (`None`: every zone seen), worked out
    /// and kept unless it is already (`report::results::equity`).
    pub fn equity_at(
        &mut self,
        conn: &Connection,
        round: &str,
        zone: Option<&str>,
    ) -> Result<&Equity, StoreError> {
        let key = (round.to_string(), zone.map(str::to_string));
        if !self.equity.contains_key(&key) {
            let worked_out = equity(conn, self.decile_counts(round, zone))?;
            self.equity.insert(key.clone(), worked_out);
        }
        Ok(&self.equity[&key])
    }

    /// The zone's name, or its id when unknown.
    pub fn zone_name<'a>(&'a self, zone_id: &'a str) -> &'a str {
        self.zones
            .iter()
            .find(|(id, _)| id == zone_id)
            .map_or(zone_id, |(_, name)| name.as_str())
    }
}

fn in_zone(family_zone: Option<&str>, zone: Option<&str>) -> bool {
    zone.is_none_or(|zone| family_zone == Some(zone))
}

fn outcome_order(kind: &str) -> usize {
    OUTCOMES
        .iter()
        .position(|o| *o == kind)
        .unwrap_or(OUTCOMES.len())
}

/// Reads every round's families and outcomes in the zones `visibility` allows
/// (pass it on from `access::person_query`), and works out the opening round's
/// equity for each zone and for all of them.
pub fn read_results(
    conn: &Connection,
    visibility: &Visibility,
) -> Result<ResultsFigures, StoreError> {
    crate::store::refuse_on_frame("report::results::read_results")?;
    crate::uptake::stats::create_macros(conn)?;
    let rounds: Vec<String> = conn
        .prepare(
            "SELECT strftime(round, '%Y-%m-%d') FROM (
                 SELECT reference_date AS round FROM mart.family_criterion WHERE rule_set = ?
                 UNION SELECT reference_date FROM app.round_decision)
             ORDER BY round",
        )?
        .query_map([DEFAULT_SET], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    if rounds.is_empty() {
        return Ok(ResultsFigures::default());
    }
    let zone_condition = visibility.zone_condition(conn, "z.zone_id")?;
    let zones = conn
        .prepare(&format!(
            "SELECT zone_id, name FROM ref.zone z WHERE {zone_condition} ORDER BY name, zone_id"
        ))?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let families = read_families_at_rounds(conn, &rounds, visibility)?;
    let outcomes = read_outcomes(conn, visibility)?;
    let mut figures = ResultsFigures {
        rounds,
        zones,
        families,
        outcomes,
        equity: BTreeMap::new(),
    };
    // The opening round's equity for every zone and all of them; another
    // round's is worked out when it is shown (`equity_at`): each is
    // 300,000 simulations, and a year of monthly rounds by thirty zones would
    // keep the read a minute.
    if let Some(round) = figures.opening_round().map(str::to_string) {
        let scopes: Vec<Option<String>> = std::iter::once(None)
            .chain(figures.zones.iter().map(|(id, _)| Some(id.clone())))
            .collect();
        for zone in scopes {
            let equity = equity(conn, figures.decile_counts(&round, zone.as_deref()))?;
            figures.equity.insert((round.clone(), zone), equity);
        }
    }
    Ok(figures)
}

/// The rows of [`FamilyAtRound`] for `rounds`: flags by `report::flags` at each
/// round (bound as parameters 2…), decisions from `app.round_decision`.
fn read_families_at_rounds(
    conn: &Connection,
    rounds: &[String],
    visibility: &Visibility,
) -> Result<Vec<FamilyAtRound>, StoreError> {
    let flags = (0..rounds.len())
        .map(|i| {
            let date = format!("${}::DATE", i + 2);
            format!(
                "SELECT {date} AS round, family_id, flagged FROM ({})",
                flags_sql(&date)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let round_list = (0..rounds.len())
        .map(|i| format!("(${}::DATE)", i + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let zone_condition = visibility.zone_condition(conn, "fam.zone_id")?;
    let sql = format!(
        "WITH rounds(round) AS (VALUES {round_list}),
         flags AS ({flags}),
         assessed AS (
             SELECT DISTINCT reference_date AS round, family_id FROM mart.family_criterion
             WHERE rule_set = $1),
         first_flag AS (
             SELECT r.round, f.family_id, min(f.round) AS first_flagged
             FROM rounds r JOIN flags f ON f.flagged AND f.round <= r.round
             GROUP BY ALL),
         at_round AS (
             SELECT reference_date AS round, family_id,
                    arg_max(outcome, decided_at) AS decision,
                    arg_max(review_date IS NOT NULL AND outcome <> '{CLOSED}', decided_at) AS plan_agreed,
                    min(decided_at)::DATE AS first_decided_on
             FROM app.round_decision GROUP BY ALL),
         first_round AS (
             SELECT family_id, min(reference_date) AS first_round
             FROM app.round_decision GROUP BY ALL),
         standing AS (
             SELECT r.round, d.family_id,
                    arg_max(d.review_date IS NOT NULL AND d.outcome <> '{CLOSED}'
                            AND (d.plan_ends IS NULL OR d.plan_ends > r.round), d.decided_at) AS plan_open,
                    arg_max(d.review_date, d.decided_at) AS review_date
             FROM rounds r JOIN app.round_decision d ON d.reference_date <= r.round
             GROUP BY ALL),
         universe AS (
             SELECT round, family_id FROM assessed WHERE round IN (SELECT round FROM rounds)
             UNION SELECT round, family_id FROM standing)
         SELECT strftime(u.round, '%Y-%m-%d'), u.family_id, fam.zone_id, l.imd_decile,
                a.family_id IS NOT NULL, coalesce(fl.flagged, false),
                strftime(ff.first_flagged, '%Y-%m-%d'),
                ar.family_id IS NOT NULL, coalesce(fr.first_round = u.round, false),
                ar.decision, coalesce(ar.plan_agreed, false),
                CASE WHEN fr.first_round = u.round
                     THEN date_diff('day', ff.first_flagged, ar.first_decided_on) END,
                coalesce(s.plan_open, false),
                coalesce(s.plan_open AND s.review_date <= u.round, false)
         FROM universe u
         JOIN core.family fam USING (family_id)
         LEFT JOIN ref.lsoa l ON l.lsoa_code = fam.lsoa_code
         LEFT JOIN assessed a ON a.round = u.round AND a.family_id = u.family_id
         LEFT JOIN flags fl ON fl.round = u.round AND fl.family_id = u.family_id
         LEFT JOIN first_flag ff ON ff.round = u.round AND ff.family_id = u.family_id
         LEFT JOIN at_round ar ON ar.round = u.round AND ar.family_id = u.family_id
         LEFT JOIN first_round fr ON fr.family_id = u.family_id
         LEFT JOIN standing s ON s.round = u.round AND s.family_id = u.family_id
         WHERE {zone_condition}
         ORDER BY u.round, u.family_id"
    );
    let mut params: Vec<&dyn duckdb::ToSql> = vec![&DEFAULT_SET];
    params.extend(rounds.iter().map(|r| r as &dyn duckdb::ToSql));
    Ok(conn
        .prepare(&sql)?
        .query_map(params.as_slice(), |row| {
            let decile: Option<i32> = row.get(3)?;
            Ok(FamilyAtRound {
                round: row.get(0)?,
                family_id: row.get(1)?,
                zone_id: row.get(2)?,
                imd_decile: decile.and_then(|d| u8::try_from(d).ok()),
                assessed: row.get(4)?,
                flagged: row.get(5)?,
                first_flagged: row.get(6)?,
                discussed: row.get(7)?,
                first_discussed: row.get(8)?,
                decision: row.get(9)?,
                plan_agreed: row.get(10)?,
                days_to_decision: row.get(11)?,
                plan_open: row.get(12)?,
                overdue: row.get(13)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// The SII of each rate across `deciles` (`uptake::stats::inequality`, with its
/// 95% interval by simulation), each decile's rate with its Wilson interval
/// from the database's `wilson_*` macros (made by [`read_results`]).
pub fn equity(conn: &Connection, deciles: Vec<DecileCounts>) -> Result<Equity, StoreError> {
    let inequality = |title: &str, count: fn(&DecileCounts) -> (u64, u64)| {
        let rows = decile_rows(conn, &deciles, count)?;
        Ok::<_, StoreError>(crate::uptake::stats::inequality(
            title,
            Measure::Coverage,
            &rows,
        ))
    };
    Ok(Equity {
        flagged: inequality("Flagging", |d| (d.flagged, d.assessed))?,
        plans: inequality("Plans", |d| (d.plans_agreed, d.assessed))?,
        resolved: inequality("Problems resolved", |d| (d.resolved, d.followed_up))?,
        deciles,
    })
}

/// The deciles as `uptake` rows of one rate (numerator as attended, denominator
/// as eligible), so the uptake's SII applies unchanged.
fn decile_rows(
    conn: &Connection,
    deciles: &[DecileCounts],
    count: fn(&DecileCounts) -> (u64, u64),
) -> Result<Vec<UptakeRow>, StoreError> {
    let counted: Vec<(u8, u64, u64)> = deciles
        .iter()
        .map(|d| {
            let (x, n) = count(d);
            (d.decile, x, n)
        })
        .filter(|(_, _, n)| *n > 0)
        .collect();
    let list = |pick: fn(&(u8, u64, u64)) -> u64| {
        counted
            .iter()
            .map(|c| pick(c).to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let intervals: Vec<(f64, f64)> = if counted.is_empty() {
        Vec::new()
    } else {
        conn.prepare(
            "SELECT wilson_lower(x[i], n[i]), wilson_upper(x[i], n[i])
             FROM (SELECT string_split(?, ',')::BIGINT[] AS x, string_split(?, ',')::BIGINT[] AS n),
                  range(1, len(x) + 1) t(i)
             ORDER BY i",
        )?
        .query_map([list(|c| c.1), list(|c| c.2)], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect::<Result<_, _>>()?
    };
    Ok(counted
        .iter()
        .zip(intervals)
        .map(|(&(decile, x, n), (lower, upper))| UptakeRow {
            level: Level::Decile,
            code: decile.to_string(),
            name: format!("Decile {decile}"),
            imd_decile: Some(decile),
            imd_quintile: None,
            la_code: None,
            zone_id: None,
            ward_code: None,
            lsoas: 0,
            eligible: Some(n),
            invited: Some(n),
            attended: Some(x),
            coverage: Some(Rate {
                value: x as f64 / n as f64,
                lower,
                upper,
            }),
            uptake: None,
            withheld: Withheld::default(),
        })
        .collect())
}

/// The subject's finding in a sentence (the uptake's board sentence, with the
/// rate named), or why there is no SII.
pub fn finding(subject: &str, inequality: &Inequality) -> String {
    match inequality.sii {
        Some(sii) => crate::uptake::stats::sentence(
            subject,
            sii,
            inequality.sii_lower.zip(inequality.sii_upper),
        ),
        None => format!(
            "{subject}: no slope index of inequality, since only {} IMD deciles have families counted (at least {} are needed).",
            inequality.deciles,
            crate::uptake::stats::MIN_DECILES
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let conn = crate::store::open_in_memory().expect("db");
        crate::uptake::stats::create_macros(&conn).expect("macros");
        conn
    }

    /// Five deciles of 100 families each, flagged 50, 40, 30, 20 and 10: the
    /// flag rate falls 10 points a decile. With equal shares the ranks are 0.1,
    /// 0.3, 0.5, 0.7 and 0.9, and the least-squares line through (rank, rate)
    /// falls 0.1 per 0.2 of rank: a slope of −0.5 from the most to the least
    /// deprived, so the SII (least minus most deprived) is −0.50 and the most
    /// deprived are flagged 50 points more often.
    #[test]
    fn the_sii_of_a_made_up_table_is_the_hand_calculation() {
        let deciles: Vec<DecileCounts> = (1..=5u8)
            .map(|d| DecileCounts {
                decile: d,
                assessed: 100,
                flagged: 60 - 10 * u64::from(d),
                plans_agreed: 10,
                ..DecileCounts::default()
            })
            .collect();
        let equity = equity(&conn(), deciles).expect("equity");
        let sii = equity.flagged.sii.expect("an SII");
        assert!((sii - -0.5).abs() < 1e-12, "{sii}");
        let (lower, upper) = (
            equity.flagged.sii_lower.expect("lower"),
            equity.flagged.sii_upper.expect("upper"),
        );
        assert!(lower < sii && sii < upper && upper < 0.0, "{lower} {upper}");
        assert!((equity.flagged.mean_rate.expect("mean") - 0.3).abs() < 1e-12);
        // The same rate everywhere: no gradient.
        assert!(equity.plans.sii.expect("an SII").abs() < 1e-12);
        let sentence = finding("The share of families flagged", &equity.flagged);
        assert!(
            sentence.starts_with(
                "The share of families flagged in the most deprived areas is 50 percentage points higher"
            ),
            "{sentence}"
        );
        // Nobody followed up: no SII, and the sentence says why.
        assert_eq!(equity.resolved.sii, None);
        assert!(finding("Resolved", &equity.resolved).contains("only 0 IMD deciles"));
    }

    #[test]
    fn unequal_shares_weight_the_line_as_the_hand_calculation() {
        // Deciles 1–5 with 100, 300, 100, 300, 200 families and rates 0.4, 0.3,
        // 0.3, 0.2, 0.1. Shares a = .1 .3 .1 .3 .2, ranks b = .05 .25 .45 .65 .9,
        // b̄ = Σab = .005+.075+.045+.195+.18 = .5, Σa(b−b̄)² = .1(.2025)+.3(.0625)
        // +.1(.0025)+.3(.0225)+.2(.16) = .02025+.01875+.00025+.00675+.032 = .078,
        // Σa(b−b̄)rate = .1(−.45)(.4)+.3(−.25)(.3)+.1(−.05)(.3)+.3(.15)(.2)+.2(.4)(.1)
        // = −.018−.0225−.0015+.009+.008 = −.025; SII = −.025/.078.
        let sizes = [100, 300, 100, 300, 200];
        let rates = [0.4, 0.3, 0.3, 0.2, 0.1];
        let deciles: Vec<DecileCounts> = (0..5)
            .map(|i| DecileCounts {
                decile: i as u8 + 1,
                assessed: sizes[i],
                flagged: (sizes[i] as f64 * rates[i]).round() as u64,
                ..DecileCounts::default()
            })
            .collect();
        let equity = equity(&conn(), deciles).expect("equity");
        let sii = equity.flagged.sii.expect("an SII");
        assert!((sii - -0.025 / 0.078).abs() < 1e-9, "{sii}");
    }
}
