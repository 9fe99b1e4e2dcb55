//! The days uptake is published for. Counts per LSOA on two nearby days differ by
//! the people who moved, were born or had a birthday in between, so figures for
//! any day a user picks would reveal them day by day despite suppression. Roles
//! that see only aggregates get figures at published period ends alone: the latest
//! extract date (the default, which the map shows) and the quarter ends (31 March,
//! 30 June, 30 September, 31 December) at least a quarter before it. The last
//! rule keeps any two published days a quarter apart: figures for 31 March
//! beside an extract of 1 April would give away, LSOA by LSOA, who turned 40 or
//! had a check on that one day, though each day's small counts are withheld.

use chrono::{Datelike, Days, Months, NaiveDate};
use duckdb::Connection;

/// The latest load's extract date, `None` when no load recorded one.
pub fn latest_extract_date(conn: &Connection) -> Result<Option<NaiveDate>, duckdb::Error> {
    let latest: Option<String> = conn.query_row(
        "SELECT strftime(max(extract_date), '%Y-%m-%d') FROM app.load_run",
        [],
        |row| row.get(0),
    )?;
    Ok(latest.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()))
}

/// True when `date` is a quarter end: 31 March, 30 June, 30 September or 31 December.
pub fn is_quarter_end(date: NaiveDate) -> bool {
    date.month().is_multiple_of(3)
        && date
            .succ_opt()
            .is_none_or(|next| next.month() != date.month())
}

/// True when figures for `date` are published with `extract_date` the latest:
/// the extract date itself, or a quarter end at least a quarter (90 days, the
/// shortest quarter) before it.
pub fn is_published(date: NaiveDate, extract_date: NaiveDate) -> bool {
    date == extract_date
        || (is_quarter_end(date) && quarter_before(extract_date).is_some_and(|q| date <= q))
}

/// 90 days before `date`, the shortest quarter (31 December to 31 March): the
/// latest a published quarter end may be.
fn quarter_before(date: NaiveDate) -> Option<NaiveDate> {
    date.checked_sub_days(Days::new(90))
}

/// The latest `count` published period ends, newest first: the extract date,
/// then the quarter ends at least a quarter before it.
pub fn latest_published(extract_date: NaiveDate, count: usize) -> Vec<NaiveDate> {
    let Some(limit) = quarter_before(extract_date) else {
        return vec![extract_date];
    };
    // The day after the limit, so that a limit on a quarter end is listed.
    let first_of_quarter = limit
        .succ_opt()
        .and_then(|d| d.with_day(1))
        .and_then(|d| d.with_month(3 * ((d.month() - 1) / 3) + 1));
    // The day before the first of the quarter holding the day after the limit is
    // the latest quarter end on or before the limit.
    let mut end = first_of_quarter.and_then(|d| d.pred_opt());
    let mut dates = vec![extract_date];
    while dates.len() < count {
        let Some(quarter_end) = end else { break };
        dates.push(quarter_end);
        end = quarter_end
            .with_day(1)
            .and_then(|d| d.checked_sub_months(Months::new(2)))
            .and_then(|d| d.pred_opt());
    }
    dates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn quarter_ends_and_the_extract_date_are_published_and_nothing_else() {
        let extract = day("2026-04-01");
        for published in ["2026-04-01", "2025-12-31", "2025-09-30", "2025-06-30"] {
            assert!(is_published(day(published), extract), "{published}");
        }
        for not in [
            "2026-04-02",
            "2026-03-31",
            "2026-03-30",
            "2026-06-30",
            "2025-06-29",
            "2025-07-01",
        ] {
            assert!(!is_published(day(not), extract), "{not}");
        }
        assert_eq!(
            latest_published(extract, 4),
            [
                day("2026-04-01"),
                day("2025-12-31"),
                day("2025-09-30"),
                day("2025-06-30")
            ]
        );
        // An extract taken on a quarter end lists that day once, and the quarter
        // end before it (exactly a quarter earlier).
        assert_eq!(
            latest_published(day("2025-12-31"), 3),
            [day("2025-12-31"), day("2025-09-30"), day("2025-06-30")]
        );
        assert!(is_published(day("2025-09-30"), day("2025-12-31")));
        // Mid-quarter: 31 March is six weeks before, too close; 31 December is not.
        assert_eq!(
            latest_published(day("2026-05-15"), 2),
            [day("2026-05-15"), day("2025-12-31")]
        );
        assert!(!is_published(day("2026-03-31"), day("2026-05-15")));
        // Quarter ends a quarter apart are both published, the shortest too.
        assert_eq!(
            latest_published(day("2026-06-30"), 2),
            [day("2026-06-30"), day("2026-03-31")]
        );
        assert_eq!(
            latest_published(day("2026-03-31"), 2),
            [day("2026-03-31"), day("2025-12-31")]
        );
    }
}
