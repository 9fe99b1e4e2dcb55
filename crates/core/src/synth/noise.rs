//! Identity noise as real agency extracts have it. Each system keeps its own view
//! of a person (a nickname in one, a typo in another, a swapped birth date in a
//! third); the rates below are multiplied by `SynthConfig::noise`.

use chrono::{Datelike, NaiveDate};
use rand::Rng;

/// Chances before the noise multiplier. Documented in docs/synthetic-data.md.
pub mod rates {
    /// A system records the nickname instead of the given name (per system record).
    pub const NICKNAME: f64 = 0.10;
    /// One keyboard slip in the given name (per system record).
    pub const GIVEN_TYPO: f64 = 0.03;
    /// One keyboard slip in the family name (per system record).
    pub const FAMILY_TYPO: f64 = 0.03;
    /// The family name is recorded hyphenated with, or replaced by, another (per system record).
    pub const FAMILY_VARIANT: f64 = 0.03;
    /// The main carer changes family name during the history (per family).
    pub const NAME_CHANGE: f64 = 0.04;
    /// Day and month of birth swapped, only where the swap is a different real date.
    pub const DATE_SWAP: f64 = 0.02;
    /// Birth date off by one day.
    pub const DATE_OFF_BY_ONE: f64 = 0.01;
    /// Birth date not recorded.
    pub const DATE_MISSING: f64 = 0.02;
    /// Sex not recorded.
    pub const SEX_MISSING: f64 = 0.01;
    /// Ethnicity not recorded.
    pub const ETHNICITY_MISSING: f64 = 0.05;
    /// Postcode not recorded.
    pub const POSTCODE_MISSING: f64 = 0.03;
    /// Postcode written without its space, or in lower case.
    pub const POSTCODE_FORMAT: f64 = 0.05;
    /// Street kind abbreviated (Road → Rd) by whoever keyed the record.
    pub const ADDRESS_ABBREVIATED: f64 = 0.15;
    /// The system never recorded the family's later moves.
    pub const STALE_ADDRESS: f64 = 0.30;
    /// The person gets a second record in the same system, used from one event on.
    pub const DUPLICATE: f64 = 0.02;
    /// A row's name has stray spaces or different casing (per row).
    pub const ROW_FORMATTING: f64 = 0.02;
    /// A row is exported twice with the same row key (per row, systems with a row key).
    pub const ROW_REPEATED: f64 = 0.005;
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

/// A postcode without its space, or in lower case, as some systems store them.
pub fn reformat_postcode(postcode: &str, without_space: bool) -> String {
    if without_space {
        postcode.replace(' ', "")
    } else {
        postcode.to_lowercase()
    }
}

/// True with probability `rate × noise` (capped at 1).
pub fn chance<R: Rng>(rng: &mut R, rate: f64, noise: f64) -> bool {
    rng.random::<f64>() < (rate * noise).min(1.0)
}

/// The share of records holding an identifier a system records for `presence` of
/// people at noise 1: missing values scale with noise, so noise 0 has them all.
pub fn presence(presence: f64, noise: f64) -> f64 {
    (1.0 - (1.0 - presence) * noise).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    proptest! {
        #[test]
        fn swapped_dates_are_real_and_differ(days in 0i64..60_000) {
            let date = NaiveDate::from_ymd_opt(1900, 1, 1).expect("date") + chrono::Duration::days(days);
            if let Some(swapped) = swap_day_month(date) {
                prop_assert_ne!(swapped, date);
                prop_assert_eq!(swapped.day(), date.month());
                prop_assert_eq!(swapped.month(), date.day());
                prop_assert_eq!(swapped.year(), date.year());
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

        #[test]
        fn reformatting_keeps_the_letters(seed in 0u64..10_000, name in "[A-Z][a-z]{1,10}") {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let changed = reformat(&mut rng, &name);
            prop_assert_eq!(changed.trim().to_lowercase(), name.to_lowercase());
        }
    }

    #[test]
    fn every_day_of_a_century_swaps_to_a_valid_date_or_none() {
        let mut date = NaiveDate::from_ymd_opt(1950, 1, 1).expect("date");
        let end = NaiveDate::from_ymd_opt(2050, 1, 1).expect("date");
        let mut swapped = 0;
        while date < end {
            if let Some(other) = swap_day_month(date) {
                assert_eq!(swap_day_month(other), Some(date), "swap is its own inverse");
                swapped += 1;
            }
            date = date.succ_opt().expect("next day");
        }
        // 12 × 12 − 12 day/month pairs per year can swap.
        assert_eq!(swapped, 100 * 132);
    }

    #[test]
    fn zero_noise_never_fires_and_keeps_every_identifier() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        assert!((0..10_000).all(|_| !chance(&mut rng, 0.5, 0.0)));
        assert_eq!(presence(0.6, 0.0), 1.0);
        assert!((presence(0.6, 1.0) - 0.6).abs() < 1e-12);
        assert!((presence(0.6, 2.0) - 0.2).abs() < 1e-12);
        assert_eq!(presence(0.6, 5.0), 0.0);
    }

    #[test]
    fn postcode_reformatting_keeps_the_characters() {
        assert_eq!(reformat_postcode("BH10 3JN", true), "BH103JN");
        assert_eq!(reformat_postcode("BH10 3JN", false), "bh10 3jn");
    }
}
