//! The statistics of uptake: Wilson score intervals for each rate (as DuckDB
//! macros, so every table computes them in SQL), and the slope and relative
//! indices of inequality across IMD deciles (from the decile rows' counts alone,
//! so published figures follow from published counts) with confidence intervals by
//! simulation, following the PHE/OHID method (PHEindicatormethods `phe_sii`,
//! after Low & Low, J Public Health 2004;26:388–395). See `docs/uptake.md`.

use duckdb::Connection;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use super::{Rate, UptakeRow};

/// The 97.5th percentile of the standard normal: z of a two-sided 95% interval.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// Draws for the SII confidence interval, as `phe_sii`'s default.
pub const SIMULATIONS: usize = 100_000;

/// Seed of the simulation, so the same data always give the same interval.
const SIMULATION_SEED: u64 = 5;

/// Fewest deciles with a population for an SII, as `phe_sii` requires (5 to 100 quantiles).
pub const MIN_DECILES: usize = 5;

/// Creates the SQL macros the uptake queries use on this connection:
/// `wilson_lower(x, n)` and `wilson_upper(x, n)`, the 95% Wilson score interval of
/// x out of n (NULL when n is 0; Newcombe 1998, method 3), and `age_on(birth, day)`,
/// age in whole years on a day (DuckDB's `date_diff('year', …)` counts year
/// boundaries instead, which makes a child born in December a year old in January).
pub fn create_macros(conn: &Connection) -> Result<(), duckdb::Error> {
    let z = Z_95;
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP MACRO wilson_lower(x, n) AS
             CASE WHEN n > 0 THEN
                 (2 * x + {z}^2 - {z} * sqrt({z}^2 + 4 * x * (1 - x::DOUBLE / n))) / (2 * (n + {z}^2))
             END;
         CREATE OR REPLACE TEMP MACRO wilson_upper(x, n) AS
             CASE WHEN n > 0 THEN
                 (2 * x + {z}^2 + {z} * sqrt({z}^2 + 4 * x * (1 - x::DOUBLE / n))) / (2 * (n + {z}^2))
             END;
         CREATE OR REPLACE TEMP MACRO age_on(birth, day) AS
             year(day) - year(birth)
             - CASE WHEN month(day) * 100 + day(day) < month(birth) * 100 + day(birth)
                    THEN 1 ELSE 0 END;"
    ))
}

/// One decile's rate for the SII, with what the regression needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecilePoint {
    /// IMD decile, 1 = most deprived.
    pub decile: u8,
    /// Share of the total denominator in this decile (a).
    pub share: f64,
    /// Cumulative rank mid-point (b): share of all deciles before it plus half its own.
    pub rank: f64,
    /// The rate (attended ÷ denominator).
    pub rate: f64,
    /// 95% Wilson limits of the rate.
    pub lower: f64,
    pub upper: f64,
}

/// `DecilePoint`s of one measure from decile rows, in decile order, deciles with
/// no denominator left out (as `phe_sii` drops quantiles with no population).
/// Only the rows' shown counts and intervals are read, so the points of published
/// rows are what a reader of them could compute; a decile whose counts are
/// withheld is left out too ([`withheld_deciles`] says which).
pub fn decile_points(deciles: &[UptakeRow], measure: Measure) -> Vec<DecilePoint> {
    let mut shown: Vec<(u8, f64, f64, Rate)> = deciles
        .iter()
        .filter_map(|row| {
            let (numerator, denominator) = measure.counts(row);
            let (x, n) = (numerator?, denominator?);
            let (interval, decile) = (measure.rate(row)?, row.imd_decile?);
            (n > 0).then_some((decile, x as f64, n as f64, interval))
        })
        .collect();
    shown.sort_by_key(|(decile, ..)| *decile);
    let total: f64 = shown.iter().map(|(_, _, n, _)| n).sum();
    let mut before = 0.0;
    shown
        .into_iter()
        .map(|(decile, x, n, interval)| {
            let share = n / total;
            let rank = before + share / 2.0;
            before += share;
            DecilePoint {
                decile,
                share,
                rank,
                rate: x / n,
                lower: interval.lower,
                upper: interval.upper,
            }
        })
        .collect()
}

/// The deciles whose numerator or denominator of `measure` is withheld.
pub fn withheld_deciles(deciles: &[UptakeRow], measure: Measure) -> Vec<u8> {
    deciles
        .iter()
        .filter(|row| {
            let (numerator, denominator) = measure.withheld(row);
            numerator || denominator
        })
        .filter_map(|row| row.imd_decile)
        .collect()
}

/// Which rate an inequality measure is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Attended ÷ eligible.
    Coverage,
    /// Attended ÷ invited.
    Uptake,
}

impl Measure {
    /// The word a board paper uses.
    pub fn label(self) -> &'static str {
        match self {
            Measure::Coverage => "coverage",
            Measure::Uptake => "uptake",
        }
    }

    /// A row's (numerator, denominator) counts for this measure, `None` where withheld.
    fn counts(self, row: &UptakeRow) -> (Option<u64>, Option<u64>) {
        match self {
            Measure::Coverage => (row.attended, row.eligible),
            Measure::Uptake => (row.attended, row.invited),
        }
    }

    /// Whether a row's numerator and denominator of this measure are withheld.
    fn withheld(self, row: &UptakeRow) -> (bool, bool) {
        let withheld = row.withheld;
        match self {
            Measure::Coverage => (withheld.attended, withheld.eligible),
            Measure::Uptake => (withheld.attended, withheld.invited),
        }
    }

    /// A row's rate of this measure with its interval.
    fn rate(self, row: &UptakeRow) -> Option<Rate> {
        match self {
            Measure::Coverage => row.coverage,
            Measure::Uptake => row.uptake,
        }
    }
}

/// Slope and relative index of inequality of one measure across deciles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inequality {
    pub measure: Measure,
    /// Deciles with a population that the line was fitted to.
    pub deciles: usize,
    /// Population-weighted mean rate (the overall rate), 0–1.
    pub mean_rate: Option<f64>,
    /// SII: fitted rate in the least deprived minus the most deprived, as a proportion.
    pub sii: Option<f64>,
    pub sii_lower: Option<f64>,
    pub sii_upper: Option<f64>,
    /// RII: SII ÷ the population-weighted mean rate.
    pub rii: Option<f64>,
    pub rii_lower: Option<f64>,
    pub rii_upper: Option<f64>,
    /// The finding in a sentence for the board.
    pub sentence: String,
}

/// Computes the SII and RII of `measure` from the decile rows at full precision:
/// the analyst's figures, from unsuppressed rows ([`super::compute`]).
pub fn inequality(title: &str, measure: Measure, deciles: &[UptakeRow]) -> Inequality {
    measure_inequality(title, measure, deciles, false)
}

/// The SII and RII that may be published with suppressed `deciles`: computed
/// from their shown counts only, withheld when any decile's count is (a figure
/// computed from every decile, with the shown counts, would solve for the
/// withheld one), and rounded to what a reader needs ([`round_for_publication`]).
/// The board sentence quotes the rounded figures.
pub fn published_inequality(title: &str, measure: Measure, deciles: &[UptakeRow]) -> Inequality {
    measure_inequality(title, measure, deciles, true)
}

/// Decimal places of published rates and SIIs as proportions: 0.1 percentage
/// points, what a board paper quotes; more would only help solve for counts.
pub const PUBLISHED_RATE_DECIMALS: i32 = 3;
/// Decimal places of a published RII (a ratio).
pub const PUBLISHED_RII_DECIMALS: i32 = 2;

/// `value` rounded to `decimals` places (a negative value rounded to zero is
/// +0, so that it is not published as "-0.0").
pub fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale + 0.0
}

/// Rounds every figure of `result` to what a reader needs (see
/// [`PUBLISHED_RATE_DECIMALS`]), so that published figures carry no more than
/// their counts support.
fn round_for_publication(result: &mut Inequality) {
    for value in [
        &mut result.mean_rate,
        &mut result.sii,
        &mut result.sii_lower,
        &mut result.sii_upper,
    ] {
        *value = value.map(|v| round_to(v, PUBLISHED_RATE_DECIMALS));
    }
    for value in [
        &mut result.rii,
        &mut result.rii_lower,
        &mut result.rii_upper,
    ] {
        *value = value.map(|v| round_to(v, PUBLISHED_RII_DECIMALS));
    }
}

/// The SII and RII of `measure`: points as the weighted least-squares line (the
/// coefficients of [`slope_coefficients`]), 95% intervals by simulation; rounded
/// for publication when `publishing`, and then withheld when a decile's counts are.
fn measure_inequality(
    title: &str,
    measure: Measure,
    deciles: &[UptakeRow],
    publishing: bool,
) -> Inequality {
    let subject = format!("{title} {}", measure.label());
    let withheld = withheld_deciles(deciles, measure);
    let points = decile_points(deciles, measure);
    let mut result = Inequality {
        measure,
        deciles: points.len(),
        mean_rate: None,
        sii: None,
        sii_lower: None,
        sii_upper: None,
        rii: None,
        rii_lower: None,
        rii_upper: None,
        sentence: String::new(),
    };
    if !withheld.is_empty() {
        result.deciles = 0;
        let list = withheld
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        result.sentence = format!(
            "{subject}: the slope and relative indices of inequality and the mean rate are \
             withheld, since counts of IMD decile{} {list} are withheld as small numbers and \
             figures computed from every decile would reveal them.",
            if withheld.len() == 1 { "" } else { "s" }
        );
        return result;
    }
    if points.len() < MIN_DECILES {
        result.sentence = format!(
            "{subject}: no slope index of inequality, since only {} IMD deciles have anyone counted (at least {MIN_DECILES} are needed).",
            points.len()
        );
        return result;
    }
    let mean: f64 = points.iter().map(|p| p.share * p.rate).sum();
    let sii: f64 = slope_coefficients(&points)
        .iter()
        .zip(&points)
        .map(|(c, p)| c * p.rate)
        .sum();
    result.mean_rate = Some(mean);
    result.sii = Some(sii);
    result.rii = (mean > 0.0).then(|| sii / mean);
    let interval = simulate(&points, SIMULATIONS);
    if let Some(((sii_lower, sii_upper), rii)) = interval {
        result.sii_lower = Some(sii_lower);
        result.sii_upper = Some(sii_upper);
        if let Some((rii_lower, rii_upper)) = rii {
            result.rii_lower = Some(rii_lower);
            result.rii_upper = Some(rii_upper);
        }
    }
    if publishing {
        round_for_publication(&mut result);
    }
    let quoted = match (result.sii_lower, result.sii_upper) {
        (Some(lower), Some(upper)) => Some((lower, upper)),
        _ => None,
    };
    result.sentence = sentence(&subject, result.sii.unwrap_or(sii), quoted);
    result
}

/// The weights c with SII = Σ c·rate: the weighted least-squares slope is linear in
/// the rates, c_i = a_i (b_i − b̄) / Σ a_j (b_j − b̄)², b̄ = Σ a_i b_i.
pub fn slope_coefficients(points: &[DecilePoint]) -> Vec<f64> {
    let mean_rank: f64 = points.iter().map(|p| p.share * p.rank).sum();
    let spread: f64 = points
        .iter()
        .map(|p| p.share * (p.rank - mean_rank).powi(2))
        .sum();
    points
        .iter()
        .map(|p| p.share * (p.rank - mean_rank) / spread)
        .collect()
}

/// 95% intervals of the SII and RII by simulation, as `phe_sii` does for
/// proportions: each decile's rate is drawn on the logit scale from a normal with
/// the rate as mean and the standard error implied by its Wilson interval, turned
/// back into a rate, and the SII (and RII) refitted; the interval is the 2.5th and
/// 97.5th percentiles of `draws` refits. `None` when a decile's rate is 0 or 1,
/// which has no logit.
pub fn simulate(points: &[DecilePoint], draws: usize) -> Option<SimulatedIntervals> {
    let logit = |p: f64| (p / (1.0 - p)).ln();
    let mut scales = Vec::with_capacity(points.len());
    for p in points {
        if !(p.rate > 0.0 && p.rate < 1.0 && p.lower > 0.0 && p.upper < 1.0) {
            return None;
        }
        scales.push((
            logit(p.rate),
            (logit(p.upper) - logit(p.lower)) / (2.0 * Z_95),
        ));
    }
    let coefficients = slope_coefficients(points);
    let mut rng = ChaCha8Rng::seed_from_u64(SIMULATION_SEED);
    let mut slopes = Vec::with_capacity(draws);
    let mut relatives = Vec::with_capacity(draws);
    for _ in 0..draws {
        let (mut slope, mut mean) = (0.0, 0.0);
        for ((centre, scale), (c, point)) in scales.iter().zip(coefficients.iter().zip(points)) {
            let z: f64 = StandardNormal.sample(&mut rng);
            let rate = 1.0 / (1.0 + (-(centre + scale * z)).exp());
            slope += c * rate;
            mean += point.share * rate;
        }
        slopes.push(slope);
        relatives.push(slope / mean);
    }
    let sii = percentiles_95(&mut slopes)?;
    Some((sii, percentiles_95(&mut relatives)))
}

/// (SII lower, upper) and, where defined, (RII lower, upper).
pub type SimulatedIntervals = ((f64, f64), Option<(f64, f64)>);

/// 2.5th and 97.5th percentiles, interpolated between order statistics as R's
/// default `quantile` (type 7) does.
fn percentiles_95(values: &mut [f64]) -> Option<(f64, f64)> {
    if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let position = p * (values.len() - 1) as f64;
        let below = position.floor() as usize;
        let above = position.ceil() as usize;
        values[below] + (values[above] - values[below]) * (position - below as f64)
    };
    Some((at(0.025), at(0.975)))
}

/// "NHS Health Check uptake in the most deprived areas is 14 percentage points
/// lower than in the least deprived (SII +14.2 points, 95% CI +9.1 to +19.3)."
/// The SII is least deprived minus most deprived, so a positive one means the most
/// deprived are lower.
pub fn sentence(subject: &str, sii: f64, interval: Option<(f64, f64)>) -> String {
    let points = sii * 100.0;
    let size = points.abs().round();
    let finding = if size < 1.0 {
        format!("{subject} is about the same in the most and the least deprived areas")
    } else {
        let direction = if points > 0.0 { "lower" } else { "higher" };
        format!(
            "{subject} in the most deprived areas is {size:.0} percentage point{} {direction} than in the least deprived",
            if size == 1.0 { "" } else { "s" }
        )
    };
    match interval {
        Some((lower, upper)) => {
            let (lower, upper) = (lower * 100.0, upper * 100.0);
            let uncertain = if lower <= 0.0 && upper >= 0.0 {
                "; the interval includes no difference, so the gradient may be chance"
            } else {
                ""
            };
            format!(
                "{finding} (slope index of inequality {points:+.1} points, 95% CI {lower:+.1} to {upper:+.1}{uncertain})."
            )
        }
        None => format!(
            "{finding} (slope index of inequality {points:+.1} points; no confidence interval, as a decile's rate is 0% or 100%)."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wilson(conn: &Connection, x: i64, n: i64) -> (f64, f64) {
        conn.query_row(
            "SELECT wilson_lower(?::BIGINT, ?::BIGINT), wilson_upper(?::BIGINT, ?::BIGINT)",
            [x, n, x, n],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("wilson")
    }

    /// Newcombe RG, Two-sided confidence intervals for the single proportion:
    /// comparison of seven methods, Statistics in Medicine 1998;17:857–872, Table II,
    /// method 3 (score, no continuity correction), to the four decimals printed there.
    #[test]
    fn wilson_intervals_match_newcombes_worked_examples() {
        let conn = crate::store::open_in_memory().expect("db");
        create_macros(&conn).expect("macros");
        for (x, n, lower, upper) in [
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
        ] {
            let (l, u) = wilson(&conn, x, n);
            assert!((l - lower).abs() < 5e-5, "{x}/{n}: lower {l:.5} vs {lower}");
            assert!((u - upper).abs() < 5e-5, "{x}/{n}: upper {u:.5} vs {upper}");
        }
        // By hand, 5/10 (p = 1/2, so the interval is symmetric):
        // centre (2·5 + z²)/(2(10 + z²)) = 1/2, half-width z·√(z² + 4·5·½)/(2(10 + z²))
        // = 1.96·√(3.8415 + 10)/(2·13.8415) = 1.96·3.7204/27.683 = 0.2634.
        let (l, u) = wilson(&conn, 5, 10);
        assert!((l - (0.5 - 0.2634)).abs() < 1e-4 && (u - (0.5 + 0.2634)).abs() < 1e-4);
        let none: Option<f64> = conn
            .query_row("SELECT wilson_lower(0, 0)", [], |row| row.get(0))
            .expect("n = 0");
        assert_eq!(none, None, "no interval without a denominator");
    }

    #[test]
    fn age_on_counts_whole_years() {
        let conn = crate::store::open_in_memory().expect("db");
        create_macros(&conn).expect("macros");
        let age = |birth: &str, day: &str| -> i64 {
            conn.query_row("SELECT age_on(?::DATE, ?::DATE)", [birth, day], |row| {
                row.get(0)
            })
            .expect("age")
        };
        assert_eq!(age("2021-12-31", "2026-04-01"), 4);
        assert_eq!(age("2021-04-01", "2026-04-01"), 5, "fifth birthday");
        assert_eq!(age("2021-04-02", "2026-04-01"), 4, "the day before it");
        assert_eq!(age("1952-02-29", "2026-04-01"), 74);
    }

    /// Five equal quintile-like groups with rates 10%…50%: ranks 0.1, 0.3, …, 0.9,
    /// so the line is rate = 0.05 + 0.5·rank by hand: SII 0.5, mean 0.3, RII 5/3.
    #[test]
    fn slope_of_an_exact_line_is_its_gradient() {
        let points: Vec<DecilePoint> = (0..5)
            .map(|i| DecilePoint {
                decile: i as u8 + 1,
                share: 0.2,
                rank: 0.1 + 0.2 * i as f64,
                rate: 0.1 * (i + 1) as f64,
                lower: 0.1 * (i + 1) as f64 - 0.02,
                upper: 0.1 * (i + 1) as f64 + 0.02,
            })
            .collect();
        let sii: f64 = slope_coefficients(&points)
            .iter()
            .zip(&points)
            .map(|(c, p)| c * p.rate)
            .sum();
        assert!((sii - 0.5).abs() < 1e-12, "{sii}");
        let ((lower, upper), rii) = simulate(&points, 20_000).expect("interval");
        assert!(
            lower < 0.5 && 0.5 < upper && upper - lower < 0.2,
            "{lower} {upper}"
        );
        let (rii_lower, rii_upper) = rii.expect("rii");
        assert!(rii_lower < 5.0 / 3.0 && 5.0 / 3.0 < rii_upper);
        assert_eq!(
            simulate(&points, 1000),
            simulate(&points, 1000),
            "seeded: same data, same interval"
        );
    }

    #[test]
    fn sentences_follow_the_sign_and_say_when_the_interval_spans_zero() {
        assert_eq!(
            sentence("NHS Health Check uptake", 0.142, Some((0.091, 0.193))),
            "NHS Health Check uptake in the most deprived areas is 14 percentage points lower than in the least deprived (slope index of inequality +14.2 points, 95% CI +9.1 to +19.3)."
        );
        let higher = sentence("Registration", -0.2, Some((-0.3, -0.1)));
        assert!(higher.contains("20 percentage points higher"), "{higher}");
        let unclear = sentence("Coverage", 0.03, Some((-0.01, 0.07)));
        assert!(unclear.contains("may be chance"), "{unclear}");
        assert!(sentence("Coverage", 0.002, None).contains("about the same"));
    }
}
