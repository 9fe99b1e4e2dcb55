//! Rounds: the monthly reference dates at which the round tables meet, and at
//! which every family is assessed (features, labels, the Supporting Families
//! criteria and, where a model is used, scores), so that a family's path
//! (flagged → discussed → plan → reviewed → closed) and its headline problems
//! can be followed round by round, and every decision's round has its criteria.
//!
//! The latest round is the latest extract date (or the day after the latest
//! event when no load records one). Each earlier round is the same day of the
//! month, one month further back: `latest − k months` for k = 1, 2, … (counted
//! from the latest each time, so a 31st steps to the 30th of a 30-day month
//! and back to the 31st, rather than drifting). They go back to the round on or
//! before the earliest round-table decision (`app.round_decision`), so every
//! decision, imported or recorded, has its round assessed; with no decisions,
//! [`DEFAULT_SPAN_MONTHS`] back (a year of rounds to compare). Never more than
//! [`MAX_SPAN_MONTHS`] back: a mistyped decision date of 1925 must not set off
//! a thousand builds.

use chrono::{Months, NaiveDate};
use duckdb::Connection;

use super::{RiskError, build, criteria};

/// Months of rounds before the latest when no decision has been recorded: a
/// year, enough to see a family come, go and come back.
pub const DEFAULT_SPAN_MONTHS: u32 = 12;

/// The most months of rounds before the latest, whatever the decisions say.
pub const MAX_SPAN_MONTHS: u32 = 60;

/// Which rounds to assess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundSpan {
    /// Back to the earliest decision's round, or [`DEFAULT_SPAN_MONTHS`] when
    /// there is none: what the pipeline and the sample build assess.
    History,
    /// The latest `n` monthly rounds only (at least one): for test fixtures
    /// that need a previous round but not a year of them.
    Latest(u32),
}

/// The latest round: the latest extract date, or the day after the latest
/// event when no load records one; `None` when the database holds no events.
pub fn latest_round(conn: &Connection) -> Result<Option<NaiveDate>, RiskError> {
    let latest: Option<String> = conn.query_row(
        "SELECT strftime(coalesce((SELECT max(extract_date) FROM app.load_run),
                                  (SELECT max(event_date) + 1 FROM core.event)), '%Y-%m-%d')",
        [],
        |row| row.get(0),
    )?;
    Ok(latest.and_then(|text| NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok()))
}

/// The monthly rounds from `latest` back to the first on or before `earliest`
/// (at most [`MAX_SPAN_MONTHS`] back; `earliest` after `latest` gives the
/// latest alone), oldest first.
pub fn monthly_rounds(latest: NaiveDate, earliest: NaiveDate) -> Vec<NaiveDate> {
    let mut rounds = vec![latest];
    for k in 1..=MAX_SPAN_MONTHS {
        let Some(round) = latest.checked_sub_months(Months::new(k)) else {
            break;
        };
        if rounds.last().is_some_and(|last| *last <= earliest) {
            break;
        }
        rounds.push(round);
    }
    rounds.reverse();
    rounds
}

/// The rounds `span` asks for, oldest first; `None` when the database holds no
/// events.
pub fn round_dates(
    conn: &Connection,
    span: RoundSpan,
) -> Result<Option<Vec<NaiveDate>>, RiskError> {
    let Some(latest) = latest_round(conn)? else {
        return Ok(None);
    };
    let months_back = |months: u32| latest.checked_sub_months(Months::new(months));
    let earliest = match span {
        RoundSpan::Latest(n) => months_back(n.max(1) - 1),
        RoundSpan::History => {
            let decided: Option<String> = conn.query_row(
                "SELECT strftime(min(reference_date), '%Y-%m-%d') FROM app.round_decision",
                [],
                |row| row.get(0),
            )?;
            match decided.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()) {
                Some(decided) => Some(decided),
                None => months_back(DEFAULT_SPAN_MONTHS),
            }
        }
    };
    Ok(Some(monthly_rounds(latest, earliest.unwrap_or(latest))))
}

/// Builds features, labels and the Supporting Families criteria at each round
/// `span` asks for, so the Families, Round table, Outcomes and Results views
/// have every round to show and compare, telling `done` (steps done, of how
/// many: one a round, and the criteria) after each. Returns the rounds (oldest first), or `None` when the
/// database holds no events.
pub fn prepare_rounds(
    conn: &Connection,
    span: RoundSpan,
    done: &mut dyn FnMut(usize, usize),
) -> Result<Option<Vec<NaiveDate>>, RiskError> {
    let Some(rounds) = round_dates(conn, span)? else {
        return Ok(None);
    };
    let sets = criteria::built_in()?;
    let set = criteria::find(&sets, criteria::DEFAULT_SET)?;
    // Features and labels a round at a time (each one statement over the
    // events); the criteria of every round in one pass, the last step.
    for (index, &date) in rounds.iter().enumerate() {
        build(conn, date)?;
        done(index + 1, rounds.len() + 1);
    }
    criteria::evaluate_rounds(conn, set, &rounds)?;
    done(rounds.len() + 1, rounds.len() + 1);
    Ok(Some(rounds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a day")
    }

    fn days(rounds: &[NaiveDate]) -> Vec<String> {
        rounds.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn rounds_step_back_a_month_to_the_earliest_decision() {
        let rounds = monthly_rounds(day("2026-04-01"), day("2026-01-01"));
        assert_eq!(
            days(&rounds),
            ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
        );
        // A decision between rounds: back to the round before it.
        let rounds = monthly_rounds(day("2026-04-01"), day("2026-01-15"));
        assert_eq!(rounds.first(), Some(&day("2026-01-01")));
        assert_eq!(rounds.len(), 4);
        // The latest alone when the earliest is the latest, or after it.
        assert_eq!(
            days(&monthly_rounds(day("2026-04-01"), day("2026-04-01"))),
            ["2026-04-01"]
        );
        assert_eq!(
            days(&monthly_rounds(day("2026-04-01"), day("2026-05-01"))),
            ["2026-04-01"]
        );
    }

    #[test]
    fn the_31st_keeps_its_day_where_the_month_has_one() {
        let rounds = monthly_rounds(day("2026-03-31"), day("2025-12-31"));
        assert_eq!(
            days(&rounds),
            ["2025-12-31", "2026-01-31", "2026-02-28", "2026-03-31"]
        );
    }

    #[test]
    fn a_date_long_ago_stops_at_the_longest_span() {
        let rounds = monthly_rounds(day("2026-04-01"), day("1925-04-01"));
        assert_eq!(rounds.len() as u32, MAX_SPAN_MONTHS + 1);
        assert_eq!(rounds[0], day("2021-04-01"));
    }
}
