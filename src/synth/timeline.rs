//! The synthetic county's calendar: four years of history, two reference dates
//! for training and testing models, and the school terms.

use chrono::NaiveDate;
use rand::Rng;

const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => NaiveDate::MIN,
    }
}

/// First day of the extracts' history.
pub const HISTORY_START: NaiveDate = ymd(2022, 4, 1);
/// The extracts were taken on this day; every event is before it.
pub const EXTRACT_DATE: NaiveDate = ymd(2026, 4, 1);
/// Reference dates: outcomes are escalations in the 12 months after each.
pub const REFERENCE_DATES: [NaiveDate; 2] = [ymd(2024, 4, 1), ymd(2025, 4, 1)];
/// Start dates of the school terms in the history (autumn, spring, summer).
pub const TERM_STARTS: [NaiveDate; 11] = [
    ymd(2022, 4, 19),
    ymd(2022, 9, 5),
    ymd(2023, 1, 4),
    ymd(2023, 4, 17),
    ymd(2023, 9, 4),
    ymd(2024, 1, 3),
    ymd(2024, 4, 15),
    ymd(2024, 9, 2),
    ymd(2025, 1, 6),
    ymd(2025, 4, 22),
    ymd(2025, 9, 3),
];

/// A uniformly random day in `from..=to` (or `from` when the range is empty).
pub fn random_date<R: Rng>(rng: &mut R, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days();
    if span <= 0 {
        return from;
    }
    from + chrono::Duration::days(rng.random_range(0..=span))
}
