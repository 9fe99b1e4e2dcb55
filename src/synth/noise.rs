//! Identity noise as real agency extracts have it. Each system keeps its own view
//! of a person (a nickname in one, a typo in another, a swapped birth date in a
//! third); the rates below are multiplied by `SynthConfig::noise`.

use chrono::{Datelike, NaiveDate};
use rand::Rng;

/// Per-system chances, before the noise multiplier. Documented in docs/synthetic-data.md.
pub mod rates {
    /// A system records the nickname instead of the given name.
    pub const NICKNAME: f64 = 0.10;
    /// One keyboard slip in the given name.
    pub const GIVEN_TYPO: f64 = 0.03;
    /// One keyboard slip in the family name.
    pub const FAMILY_TYPO: f64 = 0.03;
    /// The family name is recorded hyphenated with, or replaced by, another family name.
    pub const FAMILY_CHANGE: f64 = 0.03;
    /// Day and month of birth swapped (only where the swap is still a real date).
    pub const DATE_SWAP: f64 = 0.02;
    /// Birth date off by one day.
    pub const DATE_OFF_BY_ONE: f64 = 0.01;
    /// Birth date not recorded.
    pub const DATE_MISSING: f64 = 0.02;
    /// Postcode not recorded.
    pub const POSTCODE_MISSING: f64 = 0.03;
    /// The system never recorded the family's move.
    pub const STALE_ADDRESS: f64 = 0.30;
    /// The person has a second record in the same system.
    pub const DUPLICATE: f64 = 0.02;
    /// A row's text has stray spaces or different casing.
    pub const ROW_FORMATTING: f64 = 0.02;
}

/// Applies one random keyboard slip: substitution, deletion, transposition or insertion.
pub fn typo<R: Rng>(rng: &mut R, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    if chars.len() < 3 {
        return text.to_string();
    }
    // Keep the first letter: people rarely mistype it, and blocking relies on that.
    let position = rng.random_range(1..chars.len());
    let letter = (b'a' + rng.random_range(0..26u8)) as char;
    match rng.random_range(0..4) {
        0 => chars[position] = letter,
        1 => {
            chars.remove(position);
        }
        2 if position + 1 < chars.len() => chars.swap(position, position + 1),
        _ => chars.insert(position, letter),
    }
    chars.into_iter().collect()
}

/// The date with day and month swapped, when that is a different real date.
pub fn swap_day_month(date: NaiveDate) -> Option<NaiveDate> {
    if date.day() > 12 || date.day() == date.month() {
        return None;
    }
    NaiveDate::from_ymd_opt(date.year(), date.day(), date.month())
}

/// Stray whitespace or a change of case, as different data-entry habits produce.
pub fn reformat<R: Rng>(rng: &mut R, text: &str) -> String {
    match rng.random_range(0..4) {
        0 => format!(" {text}"),
        1 => format!("{text}  "),
        2 => text.to_uppercase(),
        _ => text.to_lowercase(),
    }
}

/// True with probability `rate × noise` (capped at 1).
pub fn chance<R: Rng>(rng: &mut R, rate: f64, noise: f64) -> bool {
    rng.random::<f64>() < (rate * noise).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    proptest! {
        #[test]
        fn swapped_dates_are_real_and_differ(days in 0i64..40_000) {
            let date = NaiveDate::from_ymd_opt(1920, 1, 1).expect("date") + chrono::Duration::days(days);
            if let Some(swapped) = swap_day_month(date) {
                prop_assert_ne!(swapped, date);
                prop_assert_eq!(swapped.day(), date.month());
                prop_assert_eq!(swapped.month(), date.day());
            } else {
                prop_assert!(date.day() > 12 || date.day() == date.month());
            }
        }

        #[test]
        fn typos_change_at_most_one_letter_and_keep_the_first(seed in 0u64..10_000, name in "[A-Z][a-z]{2,10}") {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let slipped = typo(&mut rng, &name);
            prop_assert_eq!(slipped.chars().next(), name.chars().next());
            prop_assert!(strsim::levenshtein(&slipped, &name) <= 2);
        }
    }

    #[test]
    fn zero_noise_never_fires() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        assert!((0..10_000).all(|_| !chance(&mut rng, 0.5, 0.0)));
    }
}
