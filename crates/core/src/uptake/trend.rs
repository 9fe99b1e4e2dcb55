//! Uptake over time, for the question that follows every change of targeting:
//! "is the gap closing?". Each period end's figures are [`super::published`]'s,
//! computed and suppressed for that day exactly as the map's are, so every count,
//! rate, SII and gap in a trend is one a reader of that period's published
//! tables already has; the trend adds no cell of its own. Period ends are the
//! published ones ([`period`]) over the data's span: the quarter ends (31 March,
//! the financial year's end, among them) and the latest extract date, no two
//! closer than a quarter (`docs/uptake.md`, "Trends").

use chrono::{Datelike, NaiveDate};
use duckdb::Connection;
use serde::Serialize;

use super::stats::Z_95;
use super::{
    Inequality, Measure, Published, Service, UptakeError, UptakeOptions, UptakeRow, iso_date,
    period,
};

/// The most period ends a trend shows: about four years of quarters. Older
/// quarters are left out (still published: `zonewise uptake --date` gives them).
pub const MAX_PERIODS: usize = 16;

/// One period end's published figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPeriod {
    #[serde(serialize_with = "iso_date")]
    pub date: NaiveDate,
    /// "Q4 2025–26": the financial year's quarter the date ends, or "latest
    /// (1 April 2026)" for the extract date when it ends no quarter.
    pub label: String,
    /// True on 31 March, the end of a financial year.
    pub year_end: bool,
    pub deciles: Vec<UptakeRow>,
    pub quintiles: Vec<UptakeRow>,
    pub county: UptakeRow,
    /// SII and RII as published for the day (withheld when a decile count is).
    pub inequality: Vec<Inequality>,
    /// Gap between the least and most deprived fifths, per measure.
    pub gaps: Vec<Gap>,
}

/// The gap between the least and the most deprived IMD quintile in one measure:
/// the rate in quintile 5 less the rate in quintile 1 (positive when the most
/// deprived are lower, the sign of the SII), from the two quintiles' published
/// counts; `None` when either count is withheld or a denominator is 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Gap {
    pub measure: Measure,
    /// Rate in quintile 1 (most deprived), 0–1.
    pub most_deprived: Option<f64>,
    /// Rate in quintile 5 (least deprived), 0–1.
    pub least_deprived: Option<f64>,
    pub gap: Option<f64>,
    /// Standard error of the gap, √(p₁(1−p₁)/n₁ + p₅(1−p₅)/n₅).
    pub standard_error: Option<f64>,
}

impl Gap {
    /// The gap of `measure` from quintile rows (as published).
    pub fn of(measure: Measure, quintiles: &[UptakeRow]) -> Gap {
        let rate = |quintile: u8| -> Option<(f64, f64)> {
            let row = quintiles
                .iter()
                .find(|r| r.imd_quintile == Some(quintile))?;
            let denominator = match measure {
                Measure::Coverage => row.eligible?,
                Measure::Uptake => row.invited?,
            };
            let attended = row.attended?;
            (denominator > 0).then(|| (attended as f64 / denominator as f64, denominator as f64))
        };
        let (most, least) = (rate(1), rate(5));
        let (gap, standard_error) = match (most, least) {
            (Some((p1, n1)), Some((p5, n5))) => (
                Some(p5 - p1),
                Some((p1 * (1.0 - p1) / n1 + p5 * (1.0 - p5) / n5).sqrt()),
            ),
            _ => (None, None),
        };
        Gap {
            measure,
            most_deprived: most.map(|(p, _)| p),
            least_deprived: least.map(|(p, _)| p),
            gap,
            standard_error,
        }
    }
}

/// How the gap changed between two period ends, and whether by more than chance:
/// z = (gap₂ − gap₁) ÷ √(se₁² + se₂²), larger than chance when |z| > 1.96.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapChange {
    #[serde(serialize_with = "iso_date")]
    pub from: NaiveDate,
    #[serde(serialize_with = "iso_date")]
    pub to: NaiveDate,
    pub from_gap: f64,
    pub to_gap: f64,
    /// to_gap − from_gap.
    pub difference: f64,
    pub standard_error: f64,
    /// 95% interval of the difference: difference ± 1.96 × standard error.
    pub lower: f64,
    pub upper: f64,
    pub larger_than_chance: bool,
}

impl GapChange {
    /// The change from `from` to `to`, when both gaps are published.
    pub fn between(
        (from, first): (NaiveDate, &Gap),
        (to, last): (NaiveDate, &Gap),
    ) -> Option<GapChange> {
        let (from_gap, to_gap) = (first.gap?, last.gap?);
        let standard_error = (first.standard_error?.powi(2) + last.standard_error?.powi(2)).sqrt();
        let difference = to_gap - from_gap;
        Some(GapChange {
            from,
            to,
            from_gap,
            to_gap,
            difference,
            standard_error,
            lower: difference - Z_95 * standard_error,
            upper: difference + Z_95 * standard_error,
            larger_than_chance: difference.abs() > Z_95 * standard_error,
        })
    }
}

/// The board's sentence about one measure's gap, with the change behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendSentence {
    pub measure: Measure,
    pub change: Option<GapChange>,
    pub sentence: String,
}

/// A service's uptake at each period end, suppressed as published.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    pub service: String,
    pub title: String,
    pub has_invited: bool,
    /// Oldest first.
    pub periods: Vec<TrendPeriod>,
    pub sentences: Vec<TrendSentence>,
    pub source: String,
    pub notes: Vec<String>,
    suppression_threshold: u64,
    suppression_note: String,
}

impl Trend {
    /// Builds the trend from each period end's published figures (oldest first).
    /// Taking [`Published`] is what keeps every figure suppressed.
    pub fn from_published(published: &[Published]) -> Option<Trend> {
        let last = published.last()?;
        let tables = last.tables();
        let measures: Vec<Measure> = if tables.has_invited {
            vec![Measure::Coverage, Measure::Uptake]
        } else {
            vec![Measure::Coverage]
        };
        let periods: Vec<TrendPeriod> = published
            .iter()
            .map(|p| {
                let t = p.tables();
                TrendPeriod {
                    date: t.reference_date,
                    label: if period::is_quarter_end(t.reference_date) {
                        quarter_label(t.reference_date)
                    } else {
                        format!("latest ({})", day(t.reference_date))
                    },
                    year_end: t.reference_date.month() == 3 && t.reference_date.day() == 31,
                    deciles: t.deciles.clone(),
                    quintiles: t.quintiles.clone(),
                    county: t.county.clone(),
                    inequality: t.inequality.clone(),
                    gaps: measures.iter().map(|&m| Gap::of(m, &t.quintiles)).collect(),
                }
            })
            .collect();
        let sentences = measures
            .iter()
            .enumerate()
            .map(|(at, &measure)| {
                let subject = format!("{} {}", tables.title, measure.label());
                let (change, sentence) = match compared(&periods, at) {
                    Some(change) => {
                        let since = periods
                            .iter()
                            .find(|p| p.date == change.from)
                            .filter(|p| p.year_end)
                            .map_or_else(|| day(change.from), |p| financial_year(p.date));
                        let sentence = board_sentence(&subject, &since, &change);
                        (Some(change), sentence)
                    }
                    None => (
                        None,
                        format!(
                            "{subject}: no change in the gap between the most and least deprived \
                             fifths can be given, since fewer than two period ends publish both \
                             fifths' counts."
                        ),
                    ),
                };
                TrendSentence {
                    measure,
                    change,
                    sentence,
                }
            })
            .collect();
        Some(Trend {
            service: tables.service.clone(),
            title: tables.title.clone(),
            has_invited: tables.has_invited,
            periods,
            sentences,
            source: tables.source.clone(),
            notes: tables.notes.clone(),
            suppression_threshold: last.threshold(),
            suppression_note: last.note().to_string(),
        })
    }

    /// Counts from 1 to this were withheld at every period end.
    pub fn threshold(&self) -> u64 {
        self.suppression_threshold
    }

    /// What was withheld and why, for every output.
    pub fn note(&self) -> &str {
        &self.suppression_note
    }
}

/// The change the board sentence of measure number `at` reports: from the first
/// financial year's end with a published gap (else the first period end with
/// one) to the last period end with one.
fn compared(periods: &[TrendPeriod], at: usize) -> Option<GapChange> {
    let shown: Vec<&TrendPeriod> = periods
        .iter()
        .filter(|p| p.gaps.get(at).is_some_and(|g| g.gap.is_some()))
        .collect();
    let last = *shown.last()?;
    let first = shown
        .iter()
        .find(|p| p.year_end && p.date < last.date)
        .or_else(|| shown.first().filter(|p| p.date < last.date))?;
    GapChange::between((first.date, &first.gaps[at]), (last.date, &last.gaps[at]))
}

/// "NHS Health Check uptake: the gap between the most and least deprived fifths
/// narrowed from 21 to 14 points since 2023–24 (31 March 2024 to 31 March 2026);
/// the change, −7.0 points (95% CI −12.8 to −1.2), is larger than chance."
pub fn board_sentence(subject: &str, since: &str, change: &GapChange) -> String {
    let (from, to) = (change.from_gap * 100.0, change.to_gap * 100.0);
    let (a, b) = (from.abs().round(), to.abs().round());
    let side = |g: f64| {
        if g >= 0.0 {
            "the most deprived lower"
        } else {
            "the most deprived higher"
        }
    };
    let movement = if a > 0.0 && b > 0.0 && (from > 0.0) != (to > 0.0) {
        format!(
            "went from {a:.0} points ({}) to {b:.0} points ({})",
            side(from),
            side(to)
        )
    } else if a > b {
        format!("narrowed from {a:.0} to {b:.0} points")
    } else if a < b {
        format!("widened from {a:.0} to {b:.0} points")
    } else {
        format!("stayed at about {a:.0} points")
    };
    let verdict = if change.larger_than_chance {
        "is larger than chance"
    } else {
        "is not larger than chance"
    };
    format!(
        "{subject}: the gap between the most and least deprived fifths {movement} since {since} \
         ({} to {}); the change, {:+.1} points (95% CI {:+.1} to {:+.1}), {verdict}.",
        day(change.from),
        day(change.to),
        change.difference * 100.0,
        change.lower * 100.0,
        change.upper * 100.0,
    )
}

/// "31 March 2024".
fn day(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

/// The financial year (1 April to 31 March) holding `date`: "2023–24".
pub fn financial_year(date: NaiveDate) -> String {
    let start = if date.month() >= 4 {
        date.year()
    } else {
        date.year() - 1
    };
    format!("{start}–{:02}", (start + 1) % 100)
}

/// "Q4 2023–24" for 31 March 2024: the financial year's quarter a date ends.
pub fn quarter_label(date: NaiveDate) -> String {
    let quarter = (date.month() + 8) % 12 / 3 + 1;
    format!("Q{quarter} {}", financial_year(date))
}

/// The period ends a trend shows, oldest first: the published period ends
/// ([`period::latest_published`]: the extract date and the quarter ends at least
/// a quarter before it) from the earliest event in `core.event` on, the latest
/// [`MAX_PERIODS`] of them.
pub fn trend_dates(conn: &Connection) -> Result<Vec<NaiveDate>, UptakeError> {
    let extract = period::latest_extract_date(conn)?.ok_or(UptakeError::NoReferenceDate)?;
    let earliest: Option<String> = conn.query_row(
        "SELECT strftime(min(event_date), '%Y-%m-%d') FROM core.event",
        [],
        |row| row.get(0),
    )?;
    let Some(earliest) = earliest.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
    else {
        return Ok(Vec::new());
    };
    let mut dates: Vec<NaiveDate> = period::latest_published(extract, MAX_PERIODS)
        .into_iter()
        .filter(|&d| d >= earliest)
        .collect();
    dates.reverse();
    Ok(dates)
}

/// `service`'s trend: [`super::published`] at each of [`trend_dates`], with
/// `threshold`; `progress(done, of)` after each period end.
pub fn trend(
    conn: &Connection,
    service: &Service,
    threshold: u64,
    mut progress: impl FnMut(usize, usize),
) -> Result<Trend, UptakeError> {
    let dates = trend_dates(conn)?;
    let mut published = Vec::with_capacity(dates.len());
    for (done, &date) in dates.iter().enumerate() {
        let options = UptakeOptions {
            reference_date: Some(date),
        };
        published.push(super::published(conn, service, &options, threshold)?);
        progress(done + 1, dates.len());
    }
    Trend::from_published(&published).ok_or(UptakeError::NoPeriods)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(p1: (u64, u64), p5: (u64, u64)) -> Gap {
        let quintile = |q: u8, (attended, eligible): (u64, u64)| UptakeRow {
            level: super::super::Level::Quintile,
            code: q.to_string(),
            name: String::new(),
            imd_decile: None,
            imd_quintile: Some(q),
            la_code: None,
            zone_id: None,
            ward_code: None,
            lsoas: 1,
            eligible: Some(eligible),
            invited: None,
            attended: Some(attended),
            coverage: None,
            uptake: None,
            withheld: Default::default(),
        };
        Gap::of(Measure::Coverage, &[quintile(1, p1), quintile(5, p5)])
    }

    /// By hand: 2023–24, most deprived 210 of 1,000 (21%), least 420 of 1,000
    /// (42%): gap 0.21, se √(.21·.79/1000 + .42·.58/1000) = √0.0004095 = 0.020236.
    /// 2025–26, 300 of 1,000 and 440 of 1,000: gap 0.14, se √(.3·.7/1000 +
    /// .44·.56/1000) = √0.0004564 = 0.021364. Change −0.07, se √(0.0004095 +
    /// 0.0004564) = √0.0008659 = 0.029426, z = −2.379: larger than chance; 95% CI
    /// −0.07 ± 1.96·0.029426 = −0.1277 to −0.0123.
    #[test]
    fn the_change_in_the_gap_and_its_test_match_a_hand_calculation() {
        let before = gap((210, 1000), (420, 1000));
        let after = gap((300, 1000), (440, 1000));
        assert!((before.gap.expect("gap") - 0.21).abs() < 1e-12);
        assert!((before.standard_error.expect("se") - 0.020236).abs() < 5e-7);
        assert!((after.standard_error.expect("se") - 0.021364).abs() < 5e-7);
        let from = NaiveDate::from_ymd_opt(2024, 3, 31).expect("date");
        let to = NaiveDate::from_ymd_opt(2026, 3, 31).expect("date");
        let change = GapChange::between((from, &before), (to, &after)).expect("change");
        assert!((change.difference + 0.07).abs() < 1e-12);
        assert!((change.standard_error - 0.029426).abs() < 5e-7);
        assert!((change.difference / change.standard_error + 2.379).abs() < 5e-4);
        assert!((change.lower + 0.1277).abs() < 5e-5 && (change.upper + 0.0123).abs() < 5e-5);
        assert!(change.larger_than_chance);
        assert_eq!(
            board_sentence("NHS Health Check uptake", &financial_year(from), &change),
            "NHS Health Check uptake: the gap between the most and least deprived fifths \
             narrowed from 21 to 14 points since 2023–24 (31 March 2024 to 31 March 2026); the \
             change, -7.0 points (95% CI -12.8 to -1.2), is larger than chance."
        );
        // Half the people: se × √2 = 0.041615, |z| = 1.682 < 1.96: not larger than chance.
        let small = GapChange::between(
            (from, &gap((105, 500), (210, 500))),
            (to, &gap((150, 500), (220, 500))),
        )
        .expect("change");
        assert!((small.standard_error - 0.041615).abs() < 5e-6);
        assert!(!small.larger_than_chance);
        assert!(
            board_sentence("S", "2023–24", &small).ends_with("is not larger than chance."),
            "{}",
            board_sentence("S", "2023–24", &small)
        );
    }

    #[test]
    fn quarters_are_labelled_by_financial_year() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        assert_eq!(quarter_label(d(2024, 3, 31)), "Q4 2023–24");
        assert_eq!(quarter_label(d(2024, 6, 30)), "Q1 2024–25");
        assert_eq!(quarter_label(d(2024, 9, 30)), "Q2 2024–25");
        assert_eq!(quarter_label(d(2024, 12, 31)), "Q3 2024–25");
        assert_eq!(financial_year(d(2099, 12, 31)), "2099–00");
    }
}
