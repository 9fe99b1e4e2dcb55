//! The synthetic county's calendar: four years of history, two reference dates
//! for training and testing models, and the school terms.

use chrono::{Datelike, Duration, NaiveDate};
use rand::Rng;

/// A date from constants known to be valid; `const` so the calendar can be a table.
pub const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => NaiveDate::MIN,
    }
}

/// First day of the extracts' history.
pub const HISTORY_START: NaiveDate = ymd(2022, 4, 1);
/// The extracts were taken on this day; every event is before it.
pub const EXTRACT_DATE: NaiveDate = ymd(2026, 4, 1);
/// The last day an event can fall on.
pub const LAST_DAY: NaiveDate = ymd(2026, 3, 31);
/// Reference dates: outcomes are escalations in the 12 months after each.
pub const REFERENCE_DATES: [NaiveDate; 2] = [ymd(2024, 4, 1), ymd(2025, 4, 1)];
/// Attendance is reported at the end of each school term in the history.
pub const TERM_ENDS: [NaiveDate; 12] = [
    ymd(2022, 7, 22),
    ymd(2022, 12, 16),
    ymd(2023, 3, 31),
    ymd(2023, 7, 21),
    ymd(2023, 12, 20),
    ymd(2024, 3, 28),
    ymd(2024, 7, 23),
    ymd(2024, 12, 20),
    ymd(2025, 4, 4),
    ymd(2025, 7, 22),
    ymd(2025, 12, 19),
    ymd(2026, 3, 27),
];

/// A date built from parts that may not exist, clamped to a valid day of the month.
pub fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    (1..=day)
        .rev()
        .find_map(|d| NaiveDate::from_ymd_opt(year, month, d))
        .unwrap_or(HISTORY_START)
}

/// The same calendar day `years` later (29 February becomes 28 February).
pub fn years_after(from: NaiveDate, years: i32) -> NaiveDate {
    date(from.year() + years, from.month(), from.day())
}

/// A uniformly random day in `from..=to` (or `from` when the range is empty).
pub fn random_date<R: Rng>(rng: &mut R, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days();
    if span <= 0 {
        return from;
    }
    from + Duration::days(rng.random_range(0..=span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_is_ordered_and_inside_the_history() {
        assert!(TERM_ENDS.windows(2).all(|w| w[0] < w[1]));
        assert!(
            TERM_ENDS
                .iter()
                .all(|d| *d > HISTORY_START && *d <= LAST_DAY)
        );
        assert!(
            REFERENCE_DATES
                .iter()
                .all(|d| *d > HISTORY_START && *d < EXTRACT_DATE)
        );
        assert_eq!(LAST_DAY + Duration::days(1), EXTRACT_DATE);
    }

    #[test]
    fn leap_days_roll_back_not_over() {
        assert_eq!(years_after(ymd(2012, 2, 29), 18), ymd(2030, 2, 28));
        assert_eq!(date(2023, 2, 31), ymd(2023, 2, 28));
    }
}
