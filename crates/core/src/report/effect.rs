//! Did early help work? An honest comparison at the agenda's cut-off.
//!
//! At each round a zone's round table discusses as many families as it can,
//! the neediest first. Families just at the cut-off are alike in the need that
//! ranked them: of those with the same need as the least needy family
//! discussed, some were discussed and some were not, only because the meeting
//! ran out of places. Comparing what followed for the two is a natural
//! experiment, stratified by round and zone:
//!
//! - need: the same count the generator ranks by ([`NEED_SQL`]: the most
//!   social care contacts any one child of the family had in the 365 days
//!   before the round), counted again from `core.event` (a row exported twice,
//!   same row key, counted once);
//! - helped: families whose first decision was at that round; compared: the
//!   families with the same need not discussed at or before it;
//! - outcome: escalations (child protection or care starts of the family's
//!   children, `risk::label::OUTCOME_EVENTS`), counted from [`FOLLOW_UP_DAYS`]
//!   after the round (help takes time) to the end of the extracts, on both
//!   sides alike. Most compared families are discussed at a later round; their
//!   time from [`FOLLOW_UP_DAYS`] after that is counted as helped time, not
//!   dropped (dropping it would compare the helped with the compared families
//!   whose need fell, who were never discussed: a bias the tests showed);
//! - estimate: the rate ratio f that help multiplies escalations by, from a
//!   Poisson model with a rate of its own for each stratum, helped time at
//!   rate f·λ and compared time at λ before and f·λ after their own help
//!   ([`rate_ratio`]: maximum conditional likelihood, 95% profile-likelihood
//!   interval); withheld when either side has fewer than [`MIN_FAMILIES`]
//!   families or no escalation.
//!
//! What it assumes and cannot rule out is in [`CAVEAT`]. Person-derived: read
//! only through `access::person_query`, with the session's zone condition
//! (a zone manager's estimate uses their zones' families only).

use duckdb::Connection;

use crate::access::Visibility;
use crate::risk::label::OUTCOME_EVENTS;
use crate::store::StoreError;

/// Days after the round from which escalations are counted: help is not
/// expected to change anything sooner (the generator's default delay is 60).
pub const FOLLOW_UP_DAYS: i64 = 91;
/// Fewer families than this on either side and the estimate is withheld.
pub const MIN_FAMILIES: u64 = 20;
/// Days of need counted back from a round (as the generator ranks).
pub const NEED_DAYS: i64 = 365;

/// The need measure's events: a child's social care contacts.
pub const NEED_SQL: &str = "e.source = 'social_care' AND e.event_type = 'contact'";

/// What the comparison assumes and cannot rule out, shown beside the figure.
pub const CAVEAT: &str = "This compares families with the same need at the cut-off of the same \
round and zone: those discussed and those the meeting had no place for. It assumes that among \
them who was discussed was as good as chance, and that need is counted the same way the round \
table ranked. It cannot rule out that the meeting chose among equals for reasons the records do \
not show, that linkage split or merged families, or that families not discussed got help \
elsewhere. It says nothing about families far from the cut-off.";

/// One side of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Side {
    /// Families (a family counted once for each round it stood at a cut-off).
    pub families: u64,
    /// Escalations in their follow-up.
    pub escalations: u64,
    /// Follow-up, in family-years.
    pub years: f64,
    /// Of it, years from [`FOLLOW_UP_DAYS`] after the family's own first
    /// discussion: all of it for the helped side.
    pub years_helped: f64,
}

impl Side {
    /// Escalations per 100 family-years.
    pub fn rate(&self) -> Option<f64> {
        (self.years > 0.0).then(|| 100.0 * self.escalations as f64 / self.years)
    }
}

/// A rate ratio with its 95% interval (`high` infinite when the data set no
/// upper bound).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateRatio {
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
}

/// One stratum (a round and zone with families on both sides of its cut-off).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stratum {
    pub helped: Side,
    pub compared: Side,
}

impl Stratum {
    /// The share of the stratum's escalations expected on the helped side when
    /// help multiplies the rate by `f`: f·T₁ / (f·T₁ + U₀ + f·V₀), with T₁ the
    /// helped time and U₀, V₀ the compared time before and after their own help.
    fn helped_share(&self, f: f64) -> f64 {
        let t1 = self.helped.years;
        let v0 = self.compared.years_helped;
        let u0 = self.compared.years - v0;
        f * t1 / (f * t1 + u0 + f * v0)
    }
}

/// The comparison as the session may see it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EffectEstimate {
    /// Rounds and zones that contribute (families on both sides).
    pub strata: u64,
    pub helped: Side,
    pub compared: Side,
    /// The factor help multiplies escalations by, with its interval.
    pub ratio: Option<RateRatio>,
    /// Why no ratio is shown, in words.
    pub withheld: Option<String>,
}

/// The log-likelihood of `f` conditional on each stratum's total escalations:
/// Σ aᵢ ln pᵢ(f) + bᵢ ln(1 − pᵢ(f)), pᵢ the helped share ([`Stratum::helped_share`]).
pub fn log_likelihood(strata: &[Stratum], f: f64) -> f64 {
    strata
        .iter()
        .filter(|s| s.helped.years > 0.0 && s.compared.years > 0.0)
        .map(|s| {
            let p = s.helped_share(f);
            let (a, b) = (s.helped.escalations as f64, s.compared.escalations as f64);
            let term = |n: f64, q: f64| if n > 0.0 { n * q.ln() } else { 0.0 };
            term(a, p) + term(b, 1.0 - p)
        })
        .sum()
}

/// The half-width of the 95% profile-likelihood interval: χ²₁ at 95%, halved.
const HALF_CHI_SQUARE_95: f64 = 3.841_458_820_694_124 / 2.0;
/// ln f is searched in this range (f from about 0.00005 to 150).
const LN_RANGE: (f64, f64) = (-10.0, 5.0);

/// The rate ratio help multiplies escalations by: the maximum of
/// [`log_likelihood`] (a grid over ln f, then golden-section search beside its best point),
/// and the 95% interval of the f within χ²₁(95%)/2 of it (bisection). For one
/// stratum the maximum has a closed form, aU₀ / (bT₁ − aV₀) (the crude rate
/// ratio when no compared family was helped). `None` without escalations on
/// both sides.
pub fn rate_ratio(strata: &[Stratum]) -> Option<RateRatio> {
    let counted = |side: fn(&Stratum) -> &Side| {
        strata
            .iter()
            .filter(|s| s.helped.years > 0.0 && s.compared.years > 0.0)
            .map(|s| side(s).escalations)
            .sum::<u64>()
    };
    if counted(|s| &s.helped) == 0 || counted(|s| &s.compared) == 0 {
        return None;
    }
    let ll = |x: f64| log_likelihood(strata, x.exp());
    // A grid first, so the search starts beside the highest peak.
    let step = 0.05;
    let steps = ((LN_RANGE.1 - LN_RANGE.0) / step) as usize;
    let start = (0..=steps)
        .map(|i| LN_RANGE.0 + i as f64 * step)
        .max_by(|a, b| ll(*a).total_cmp(&ll(*b)))
        .unwrap_or(0.0);
    let ratio = 0.5_f64 * (5.0_f64.sqrt() - 1.0);
    let (mut lo, mut hi) = (
        (start - step).max(LN_RANGE.0),
        (start + step).min(LN_RANGE.1),
    );
    for _ in 0..200 {
        let a = hi - ratio * (hi - lo);
        let b = lo + ratio * (hi - lo);
        if ll(a) < ll(b) {
            lo = a;
        } else {
            hi = b;
        }
    }
    let best = 0.5 * (lo + hi);
    let peak = ll(best);
    let edge = |towards: f64| {
        if peak - ll(towards) <= HALF_CHI_SQUARE_95 {
            return towards;
        }
        let (mut inside, mut outside) = (best, towards);
        for _ in 0..100 {
            let mid = 0.5 * (inside + outside);
            if peak - ll(mid) <= HALF_CHI_SQUARE_95 {
                inside = mid;
            } else {
                outside = mid;
            }
        }
        0.5 * (inside + outside)
    };
    let low = edge(LN_RANGE.0);
    let high = edge(LN_RANGE.1);
    Some(RateRatio {
        ratio: best.exp(),
        low: if low <= LN_RANGE.0 { 0.0 } else { low.exp() },
        high: if high >= LN_RANGE.1 {
            f64::INFINITY
        } else {
            high.exp()
        },
    })
}

/// Every stratum the session's zones hold: at each round where a zone first
/// discussed a family, the families of that zone with the need of the least
/// needy of them, helped or compared. Pass `visibility` on from
/// `access::person_query`.
pub fn read_strata(conn: &Connection, visibility: &Visibility) -> Result<Vec<Stratum>, StoreError> {
    crate::store::refuse_on_frame("report::effect::read_strata")?;
    let zone_condition = visibility.zone_condition(conn, "f.zone_id")?;
    let sql = format!(
        "WITH first AS (
             SELECT family_id, min(reference_date) AS first_round
             FROM app.round_decision GROUP BY family_id),
         ends AS (SELECT max(event_date) + 1 AS last FROM core.event),
         rounds AS (
             SELECT DISTINCT fd.first_round AS round, f.zone_id
             FROM first fd JOIN core.family f USING (family_id)
             WHERE f.zone_id IS NOT NULL AND {zone_condition}),
         child_need AS (
             SELECT r.round, r.zone_id, f.family_id, e.person_id,
                    count(DISTINCT coalesce(e.row_id, e.line::VARCHAR)) AS need
             FROM rounds r
             JOIN core.family f ON f.zone_id = r.zone_id
             JOIN core.event e ON e.family_id = f.family_id AND {NEED_SQL}
                              AND e.event_date >= r.round - {NEED_DAYS}
                              AND e.event_date < r.round
             LEFT JOIN first fd ON fd.family_id = f.family_id
             WHERE fd.first_round IS NULL OR fd.first_round >= r.round
             GROUP BY ALL),
         need AS (
             SELECT round, zone_id, family_id, max(need) AS need FROM child_need GROUP BY ALL),
         cut AS (
             SELECT n.round, n.zone_id, min(n.need) AS need
             FROM need n JOIN first fd ON fd.family_id = n.family_id AND fd.first_round = n.round
             GROUP BY ALL),
         at_cut AS (
             SELECT n.round, n.zone_id, n.family_id,
                    coalesce(fd.first_round = n.round, false) AS helped,
                    n.round + {FOLLOW_UP_DAYS} AS start, ends.last AS stop,
                    least(ends.last, greatest(n.round, coalesce(fd.first_round, ends.last))
                                     + {FOLLOW_UP_DAYS}) AS helped_from
             FROM need n JOIN cut c USING (round, zone_id, need)
             LEFT JOIN first fd ON fd.family_id = n.family_id
             CROSS JOIN ends),
         escalations AS (
             SELECT a.round, a.zone_id, a.family_id,
                    count(DISTINCT (e.person_id, e.event_date, e.event_type)) AS n
             FROM at_cut a
             JOIN core.event e ON e.family_id = a.family_id
                              AND e.event_type IN {outcomes}
                              AND e.event_date >= a.start AND e.event_date < a.stop
             GROUP BY ALL)
         SELECT strftime(a.round, '%Y-%m-%d'), a.zone_id, a.helped, count(*), sum(coalesce(x.n, 0)),
                sum(greatest(date_diff('day', a.start, a.stop), 0)),
                sum(greatest(date_diff('day', a.helped_from, a.stop), 0))
         FROM at_cut a LEFT JOIN escalations x USING (round, zone_id, family_id)
         GROUP BY ALL ORDER BY 1, 2, 3",
        outcomes = crate::risk::list_sql(&OUTCOME_EVENTS),
    );
    let mut strata: Vec<((String, String), Stratum)> = Vec::new();
    let rows = conn
        .prepare(&sql)?
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, bool>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, i64>(5)?,
                row.get::<_, i64>(6)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (round, zone, helped, families, escalations, days, days_helped) in rows {
        let key = (round, zone);
        let index = match strata.iter().position(|(k, _)| *k == key) {
            Some(index) => index,
            None => {
                strata.push((key, Stratum::default()));
                strata.len() - 1
            }
        };
        let side = Side {
            families: families as u64,
            escalations: escalations as u64,
            years: days as f64 / 365.25,
            years_helped: days_helped as f64 / 365.25,
        };
        if helped {
            strata[index].1.helped = side;
        } else {
            strata[index].1.compared = side;
        }
    }
    Ok(strata
        .into_iter()
        .map(|(_, stratum)| stratum)
        .filter(|s| s.helped.families > 0 && s.compared.families > 0)
        .collect())
}

/// The comparison over `strata`, withheld when either side is too small.
pub fn summarise(strata: &[Stratum]) -> EffectEstimate {
    let add = |a: Side, b: Side| Side {
        families: a.families + b.families,
        escalations: a.escalations + b.escalations,
        years: a.years + b.years,
        years_helped: a.years_helped + b.years_helped,
    };
    let helped = strata
        .iter()
        .fold(Side::default(), |sum, s| add(sum, s.helped));
    let compared = strata
        .iter()
        .fold(Side::default(), |sum, s| add(sum, s.compared));
    let mut estimate = EffectEstimate {
        strata: strata.len() as u64,
        helped,
        compared,
        ratio: None,
        withheld: None,
    };
    if helped.families < MIN_FAMILIES || compared.families < MIN_FAMILIES {
        estimate.withheld = Some(format!(
            "withheld: {} families helped and {} compared at the cut-off; each side needs at least {MIN_FAMILIES}",
            helped.families, compared.families
        ));
    } else {
        estimate.ratio = rate_ratio(strata);
        if estimate.ratio.is_none() {
            estimate.withheld = Some(
                "withheld: no escalation on one side, so no ratio or interval can be given"
                    .to_string(),
            );
        }
    }
    estimate
}

/// Reads the strata the session may see and summarises them.
pub fn read_effect(
    conn: &Connection,
    visibility: &Visibility,
) -> Result<EffectEstimate, StoreError> {
    Ok(summarise(&read_strata(conn, visibility)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(families: u64, escalations: u64, years: f64, years_helped: f64) -> Side {
        Side {
            families,
            escalations,
            years,
            years_helped,
        }
    }

    /// The log-likelihood by hand for one stratum: a ln p + b ln(1 − p).
    fn by_hand(a: f64, b: f64, t1: f64, u0: f64, v0: f64, f: f64) -> f64 {
        let p = f * t1 / (f * t1 + u0 + f * v0);
        a * p.ln() + b * (1.0 - p).ln()
    }

    #[test]
    fn one_stratum_matches_its_closed_form_and_interval() {
        // a = 6 escalations in T1 = 20 helped years; b = 30 in 40 compared
        // years, 10 of them after the compared families' own help (U0 = 30).
        let strata = [Stratum {
            helped: side(40, 6, 20.0, 20.0),
            compared: side(60, 30, 40.0, 10.0),
        }];
        let ratio = rate_ratio(&strata).expect("ratio");
        // a·U0 / (b·T1 − a·V0) = 6·30 / (30·20 − 6·10) = 180 / 540 = 1/3.
        assert!((ratio.ratio - 1.0 / 3.0).abs() < 1e-6, "{ratio:?}");
        let peak = by_hand(6.0, 30.0, 20.0, 30.0, 10.0, 1.0 / 3.0);
        for bound in [ratio.low, ratio.high] {
            let drop = peak - by_hand(6.0, 30.0, 20.0, 30.0, 10.0, bound);
            assert!((drop - 3.841_458_8 / 2.0).abs() < 1e-6, "{bound}: {drop}");
        }
        assert!(ratio.low < 1.0 / 3.0 && 1.0 / 3.0 < ratio.high && ratio.high < 1.0);
    }

    #[test]
    fn without_compared_help_it_is_the_crude_rate_ratio() {
        let strata = [Stratum {
            helped: side(25, 5, 20.0, 20.0),
            compared: side(25, 10, 20.0, 0.0),
        }];
        let ratio = rate_ratio(&strata).expect("ratio");
        assert!((ratio.ratio - 0.5).abs() < 1e-6);
        assert!(
            (log_likelihood(&strata, 0.5) - by_hand(5.0, 10.0, 20.0, 20.0, 0.0, 0.5)).abs() < 1e-12
        );
    }

    #[test]
    fn strata_add_their_likelihoods() {
        let one = Stratum {
            helped: side(30, 4, 10.0, 10.0),
            compared: side(40, 10, 15.0, 5.0),
        };
        let two = Stratum {
            helped: side(20, 2, 5.0, 5.0),
            compared: side(20, 6, 5.0, 0.0),
        };
        let f = 0.7;
        let expected = by_hand(4.0, 10.0, 10.0, 10.0, 5.0, f) + by_hand(2.0, 6.0, 5.0, 5.0, 0.0, f);
        assert!((log_likelihood(&[one, two], f) - expected).abs() < 1e-12);
        let estimate = summarise(&[one, two]);
        assert_eq!(estimate.helped, side(50, 6, 15.0, 15.0));
        assert_eq!(estimate.compared.years_helped, 5.0);
    }

    #[test]
    fn small_or_eventless_comparisons_are_withheld() {
        let small = [Stratum {
            helped: side(5, 2, 4.0, 4.0),
            compared: side(50, 9, 40.0, 0.0),
        }];
        let estimate = summarise(&small);
        assert!(estimate.ratio.is_none());
        assert!(
            estimate
                .withheld
                .as_deref()
                .unwrap_or("")
                .contains("5 families helped")
        );
        let eventless = [Stratum {
            helped: side(30, 0, 20.0, 20.0),
            compared: side(30, 4, 20.0, 0.0),
        }];
        assert!(summarise(&eventless).withheld.is_some());
    }
}
