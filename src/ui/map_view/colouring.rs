//! How the map is coloured: by IMD decile, or by a rate cut into classes
//! (quantile, equal interval or the analyst's own breaks) with a colour-blind-safe
//! sequential or diverging palette, and the legend that says so.
//!
//! A rate can be mapped per LSOA or per ward, zone or authority (each LSOA painted with
//! its area's rate): in a small county most LSOA rates are suppressed, while its
//! zones' rates are not. Fading what is not selected (another decile, another
//! area) is part of the colouring, so the canvas only paints.

use std::collections::HashMap;

use egui::Color32;

use super::super::widgets::imd_decile_color;
use super::need::{self, NOBODY_ELIGIBLE, NeedClass, NeedSource};
use super::{AreaSelection, Layer, MapState};
use crate::geo::lsoa_shapes::LsoaShape;
use crate::report::map::{MapFigures, ServiceFigures};
use crate::uptake::{Level, Measure, Rate, UptakeRow};

/// What the LSOAs are coloured by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ColourBy {
    Deprivation,
    Coverage,
    Uptake,
}

/// How rates are cut into colour classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Classes {
    /// Five classes with about the same number of areas each.
    Quantile,
    /// Five classes of equal width between the lowest and highest rate (with the
    /// diverging palette, of equal width either side of the county's rate).
    EqualInterval,
    /// The analyst's own breaks ([`MapState::custom_breaks`]).
    Custom,
}

/// Colour scheme for rates, both from ColorBrewer and safe for colour-blind readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Palette {
    /// Yellow–green–blue: light for low rates, dark for high.
    Sequential,
    /// Red–yellow–blue centred on the county's rate: red below it, blue above,
    /// pale yellow for the class holding it.
    Diverging,
}

/// Classes the quantile and equal-interval methods make.
pub const CLASSES: usize = 5;
/// Most classes custom breaks may make (six breaks).
pub const MAX_CLASSES: usize = 7;

/// ColorBrewer YlGnBu, nine classes, light to dark.
const SEQUENTIAL: [[u8; 3]; 9] = [
    [255, 255, 217],
    [237, 248, 177],
    [199, 233, 180],
    [127, 205, 187],
    [65, 182, 196],
    [29, 145, 192],
    [34, 94, 168],
    [37, 52, 148],
    [8, 29, 88],
];
/// ColorBrewer RdYlBu, nine classes, red (low) to blue (high).
const DIVERGING: [[u8; 3]; 9] = [
    [215, 48, 39],
    [244, 109, 67],
    [253, 174, 97],
    [254, 224, 144],
    [255, 255, 191],
    [224, 243, 248],
    [171, 217, 233],
    [116, 173, 209],
    [69, 117, 180],
];
/// Areas whose rate is withheld because a count is small: a muted mauve that is
/// in neither palette and is not the pale grey of "nobody eligible", so that a
/// withheld area reads as "too few people here", not as missing data.
pub const SUPPRESSED: Color32 = Color32::from_rgb(190, 160, 205);
/// Areas with nobody eligible.
pub const NO_DATA: Color32 = Color32::from_rgb(235, 235, 235);
/// How much of its colour a faded (unselected) area keeps.
const FADE: f32 = 0.25;

/// A row's rate for `measure`.
pub fn rate_of(row: &UptakeRow, measure: Measure) -> Option<Rate> {
    match measure {
        Measure::Coverage => row.coverage,
        Measure::Uptake => row.uptake,
    }
}

/// Class breaks (the upper bound of each class but the last) of `rates` by the
/// quantile or equal-interval method: at most four, so five classes; fewer where
/// many rates are equal (a quantile break that repeats, or equals the lowest rate,
/// would make an empty class). Custom breaks come from [`parse_breaks`] instead.
pub fn class_breaks(rates: &[f64], classes: Classes) -> Vec<f64> {
    match classes {
        Classes::Quantile => quantile_breaks(rates, CLASSES),
        Classes::EqualInterval | Classes::Custom => {
            let known = rates.iter().copied().filter(|r| r.is_finite());
            let (low, high) = known.fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(r), h.max(r)));
            if low > high {
                return Vec::new();
            }
            let mut breaks: Vec<f64> = (1..CLASSES)
                .map(|k| low + (high - low) * k as f64 / CLASSES as f64)
                .collect();
            breaks.dedup();
            breaks.retain(|&b| b > low);
            breaks
        }
    }
}

/// Breaks cutting `values` into `classes` groups of about the same size: the
/// value at each k/classes of the sorted values. Fewer where many are equal (a
/// break that repeats, or equals the lowest value, would make an empty class).
pub fn quantile_breaks(values: &[f64], classes: usize) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|r| r.is_finite()).collect();
    if sorted.is_empty() {
        return Vec::new();
    }
    sorted.sort_by(f64::total_cmp);
    let low = sorted[0];
    let mut breaks: Vec<f64> = (1..classes)
        .map(|k| sorted[(k * sorted.len() / classes).min(sorted.len() - 1)])
        .collect();
    breaks.dedup();
    breaks.retain(|&b| b > low);
    breaks
}

/// Equal-width breaks either side of `centre` (the county's rate), wide enough to
/// hold `low` and `high`, so that the middle of five classes holds the centre.
pub fn diverging_breaks(low: f64, high: f64, centre: f64) -> Vec<f64> {
    let reach = (centre - low).abs().max((high - centre).abs()).max(1e-9);
    let n = CLASSES as f64;
    (1..CLASSES)
        .map(|k| centre + reach * (2.0 * k as f64 - n) / n)
        .collect()
}

/// The class of `rate` given `breaks`: the number of breaks at or below it.
pub fn class_of(rate: f64, breaks: &[f64]) -> usize {
    breaks.iter().filter(|&&b| rate >= b).count()
}

/// Reads custom breaks typed as percentages ("10, 20, 35%"), returned as
/// proportions. They must lie strictly between 0 and 100 and rise.
pub fn parse_breaks(text: &str) -> Result<Vec<f64>, String> {
    let mut breaks = Vec::new();
    for part in text
        .split([',', ';', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let number = part.trim_end_matches('%').trim();
        let value: f64 = number
            .parse()
            .map_err(|_| format!("“{part}” is not a number"))?;
        if !(value > 0.0 && value < 100.0) {
            return Err(format!("{part}: a break must lie between 0% and 100%"));
        }
        if breaks
            .last()
            .is_some_and(|&last: &f64| value / 100.0 <= last)
        {
            return Err(format!("{part}: each break must be above the one before"));
        }
        breaks.push(value / 100.0);
    }
    if breaks.is_empty() {
        return Err("type one or more breaks in %, e.g. 20, 40, 60".to_string());
    }
    if breaks.len() >= MAX_CLASSES {
        return Err(format!(
            "at most {} breaks ({MAX_CLASSES} classes)",
            MAX_CLASSES - 1
        ));
    }
    Ok(breaks)
}

/// The colour at `t` (0–1) along a ramp, interpolated between its stops.
fn ramp(stops: &[[u8; 3]; 9], t: f64) -> Color32 {
    let x = t.clamp(0.0, 1.0) * (stops.len() - 1) as f64;
    let i = (x.floor() as usize).min(stops.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    Color32::from_rgb(mix(a[0], b[0]), mix(a[1], b[1]), mix(a[2], b[2]))
}

/// The colour of class `class` of the classes bounded by `bounds` (lowest rate,
/// breaks, highest rate). Sequential colours step evenly from light to dark;
/// diverging ones sit by how far the class's middle lies from `centre`, so that
/// the class holding the county's rate is the palette's pale middle.
pub fn class_colour(palette: Palette, class: usize, bounds: &[f64], centre: f64) -> Color32 {
    let classes = bounds.len().saturating_sub(1).max(1);
    match palette {
        Palette::Sequential => {
            let t = if classes == 1 {
                0.5
            } else {
                0.85 * class as f64 / (classes - 1) as f64
            };
            ramp(&SEQUENTIAL, t)
        }
        Palette::Diverging => {
            let (low, high) = (bounds[0], bounds[bounds.len() - 1]);
            let reach = (centre - low).abs().max((high - centre).abs()).max(1e-9);
            let middle = if class + 1 < bounds.len() {
                (bounds[class] + bounds[class + 1]) / 2.0
            } else {
                high
            };
            let holds_centre = class_of(centre, &bounds[1..bounds.len() - 1]) == class;
            let t = if holds_centre {
                0.5
            } else {
                0.5 + (middle - centre) / (2.0 * reach)
            };
            ramp(&DIVERGING, t)
        }
    }
}

/// The levels whose rates the map can paint, finest first.
pub const MAP_LEVELS: [Level; 4] = [Level::Lsoa, Level::Ward, Level::Zone, Level::Authority];

/// A map level as the screen names it ("LSOA", "ward", …).
pub fn level_label(level: Level) -> &'static str {
    match level {
        Level::Lsoa => "LSOA",
        other => other.key(),
    }
}

/// Whether `shape` lies in the selected area.
pub fn in_area(shape: &LsoaShape, area: &AreaSelection) -> bool {
    match area.level {
        Level::Zone => shape.zone_id.as_deref() == Some(area.code.as_str()),
        Level::Ward => shape.ward_code.as_deref() == Some(area.code.as_str()),
        Level::Authority => shape.la_code == area.code,
        Level::Lsoa => shape.code == area.code,
        _ => true,
    }
}

/// Colours and legend for the current choice.
pub(super) struct Colouring {
    pub colours: Vec<Color32>,
    /// A swatch and label per class (and for suppressed and empty areas).
    pub legend: Vec<(Color32, String)>,
    /// Lines under the classes that say how to read them.
    pub notes: Vec<String>,
    /// In the need view, each mapped area's class, for the 3×3 legend, the
    /// hover text and the area table.
    pub need: Option<NeedView>,
}

/// The need view's classes of the mapped areas.
pub(super) struct NeedView {
    pub source: NeedSource,
    pub measure: Measure,
    /// The level whose areas were classed (the map's).
    pub level: Level,
    /// Each classed area's class by its code; withheld areas have none.
    pub by_code: HashMap<String, NeedClass>,
}

impl NeedView {
    /// The class of an area at `level` in words, or why it has none; `None`
    /// for areas of another level than the map's.
    pub fn describe(&self, level: Level, row: &UptakeRow) -> Option<String> {
        if level != self.level {
            return None;
        }
        Some(match self.by_code.get(&row.code) {
            Some(class) => class.label(self.source, self.measure),
            None if row.withheld.any() => "withheld".to_string(),
            None => "—".to_string(),
        })
    }
}

/// Everything the colours depend on besides the figures: while it is unchanged
/// the colours of the last frame are reused rather than worked out again.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ColourKey {
    layer: Layer,
    service: usize,
    colour_by: ColourBy,
    classes: Classes,
    palette: Palette,
    custom_breaks: Vec<f64>,
    map_level: Level,
    selected_decile: Option<u8>,
    selected_area: Option<AreaSelection>,
    need_view: bool,
    need_source: NeedSource,
}

impl ColourKey {
    pub(super) fn of(state: &MapState, service: usize) -> ColourKey {
        ColourKey {
            layer: state.layer,
            service,
            colour_by: state.colour_by,
            classes: state.classes,
            palette: state.palette,
            custom_breaks: state.custom_breaks.clone(),
            map_level: state.map_level,
            selected_decile: state.selected_decile,
            selected_area: state.selected_area.clone(),
            need_view: state.need_view,
            need_source: state.need_source,
        }
    }
}

/// A percentage with as many decimals as the spread of the rates needs.
fn percent(value: f64, decimals: usize) -> String {
    format!("{:.*}%", decimals, value * 100.0)
}

pub(super) fn colouring(
    figures: &MapFigures,
    service: Option<&ServiceFigures>,
    state: &MapState,
) -> Colouring {
    let mut colouring = match (state.measure(), service) {
        (Some(measure), Some(service)) if state.need_view => need_colouring(
            figures,
            service,
            measure,
            state.map_level,
            state.need_source,
        ),
        (Some(measure), Some(service)) => rate_colouring(figures, service, measure, state),
        _ => deprivation_colouring(figures),
    };
    let faded = |shape: &LsoaShape| {
        state.selected_decile.is_some_and(|d| shape.imd_decile != d)
            || state
                .selected_area
                .as_ref()
                .is_some_and(|area| area.level != Level::Lsoa && !in_area(shape, area))
    };
    for (colour, shape) in colouring.colours.iter_mut().zip(&figures.shapes) {
        if faded(shape) {
            *colour = colour.gamma_multiply(FADE);
        }
    }
    colouring
}

fn deprivation_colouring(figures: &MapFigures) -> Colouring {
    Colouring {
        notes: Vec::new(),
        need: None,
        colours: figures
            .shapes
            .iter()
            .map(|s| imd_decile_color(s.imd_decile as i32))
            .collect(),
        legend: (1..=10)
            .map(|d| {
                let label = match d {
                    1 => "1 most deprived".to_string(),
                    10 => "10 least deprived".to_string(),
                    d => d.to_string(),
                };
                (imd_decile_color(d), label)
            })
            .collect(),
    }
}

fn rate_colouring(
    figures: &MapFigures,
    service: &ServiceFigures,
    measure: Measure,
    state: &MapState,
) -> Colouring {
    let rows: Vec<Option<&UptakeRow>> = (0..figures.shapes.len())
        .map(|i| service.shape_row(state.map_level, i))
        .collect();
    let rates: Vec<Option<f64>> = rows
        .iter()
        .map(|row| row.and_then(|r| rate_of(r, measure)).map(|r| r.value))
        .collect();
    let known: Vec<f64> = rates.iter().flatten().copied().collect();
    let centre = rate_of(&service.published.tables().county, measure).map(|r| r.value);
    let (low, high) = known
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), &r| (l.min(r), h.max(r)));
    let breaks = match (state.classes, state.palette, centre) {
        (Classes::Custom, _, _) if !state.custom_breaks.is_empty() => state.custom_breaks.clone(),
        (Classes::EqualInterval, Palette::Diverging, Some(centre)) if !known.is_empty() => {
            diverging_breaks(low, high, centre)
        }
        (classes, _, _) => class_breaks(&known, classes),
    };
    let mut bounds = Vec::with_capacity(breaks.len() + 2);
    bounds.push(low.min(breaks.first().copied().unwrap_or(low)).max(0.0));
    bounds.extend(&breaks);
    bounds.push(high.max(breaks.last().copied().unwrap_or(high)).min(1.0));
    let centre = centre.unwrap_or((low + high) / 2.0);
    let palette: Vec<Color32> = (0..=breaks.len())
        .map(|class| class_colour(state.palette, class, &bounds, centre))
        .collect();
    let colours = rows
        .iter()
        .zip(&rates)
        .map(|(row, rate)| match (row, rate) {
            (_, Some(rate)) => palette[class_of(*rate, &breaks)],
            (Some(row), None) if row.withheld.any() => SUPPRESSED,
            _ => NO_DATA,
        })
        .collect();
    let mut legend = Vec::new();
    let mut notes = Vec::new();
    if !known.is_empty() {
        let spread = bounds[bounds.len() - 1] - bounds[0];
        let decimals = if spread < 0.1 { 1 } else { 0 };
        let custom = state.classes == Classes::Custom;
        let last = breaks.len();
        for (class, &colour) in palette.iter().enumerate() {
            let (from, to) = (
                percent(bounds[class], decimals),
                percent(bounds[class + 1], decimals),
            );
            let label = match class {
                0 if custom => format!("under {to}"),
                c if custom && c == last => format!("{from} or more"),
                _ => format!("{from} to {to}"),
            };
            legend.push((colour, label));
        }
        if state.palette == Palette::Diverging {
            notes.push(format!("centred on the county's {}", percent(centre, 1)));
        }
    }
    if state.map_level != Level::Lsoa {
        notes.push(format!(
            "each LSOA shows its {}'s rate",
            level_label(state.map_level)
        ));
    }
    legend.push((SUPPRESSED, withheld_label(service)));
    legend.push((NO_DATA, "nobody eligible".to_string()));
    Colouring {
        colours,
        legend,
        notes,
        need: None,
    }
}

/// The legend's line for withheld areas, the same in every rate colouring.
fn withheld_label(service: &ServiceFigures) -> String {
    format!(
        "fewer than {} people — withheld (or a count that would reveal one)",
        service.published.threshold() + 1
    )
}

/// Cut points in words: where the middle and the top third begin.
fn cuts_text(cuts: &[f64], show: impl Fn(f64) -> String) -> String {
    match cuts {
        [] => "all alike".to_string(),
        [top] => format!("top from {}", show(*top)),
        [middle, top, ..] => format!("middle from {}, top from {}", show(*middle), show(*top)),
    }
}

/// Need beside provision: the mapped areas' need (eligible people, or an IMD
/// domain) against their rate, each in tertiles of the published figures
/// (`need::classify`), in the bivariate palette; withheld areas in their own
/// colour, as in the rate view.
fn need_colouring(
    figures: &MapFigures,
    service: &ServiceFigures,
    measure: Measure,
    level: Level,
    source: NeedSource,
) -> Colouring {
    // A database loaded before the domains were kept has none: need is then
    // people eligible, and the legend says why.
    let without_domains = match source {
        NeedSource::Domain(domain) => !figures
            .shapes
            .iter()
            .any(|shape| shape.domain_deciles[domain.index()].is_some()),
        NeedSource::Eligible => false,
    };
    let source = if without_domains {
        NeedSource::Eligible
    } else {
        source
    };
    // Each mapped area once (at a coarser level many LSOAs share one), so that
    // every area counts once in the tertiles, however many LSOAs it holds.
    let mut area_of_code: HashMap<&str, usize> = HashMap::new();
    let mut areas: Vec<&UptakeRow> = Vec::new();
    let shape_area: Vec<Option<usize>> = (0..figures.shapes.len())
        .map(|i| {
            let row = service.shape_row(level, i)?;
            Some(*area_of_code.entry(row.code.as_str()).or_insert_with(|| {
                areas.push(row);
                areas.len() - 1
            }))
        })
        .collect();
    let pairs: Vec<Option<(f64, f64)>> = match source {
        NeedSource::Eligible => areas
            .iter()
            .map(|row| need::published_pair(row, measure))
            .collect(),
        NeedSource::Domain(domain) => {
            // Each area's LSOAs' deciles on the domain (public data).
            let mut deciles: Vec<Vec<Option<u8>>> = vec![Vec::new(); areas.len()];
            for (shape, area) in figures.shapes.iter().zip(&shape_area) {
                if let Some(k) = area {
                    deciles[*k].push(shape.domain_deciles[domain.index()]);
                }
            }
            areas
                .iter()
                .zip(deciles)
                .map(|(row, deciles)| {
                    Some((
                        need::domain_need(deciles)?,
                        need::published_rate(row, measure)?,
                    ))
                })
                .collect()
        }
    };
    let classes = need::classify(&pairs);
    let colours = shape_area
        .iter()
        .map(|area| match area {
            Some(k) => match classes.classes[*k] {
                Some(class) => class.colour(),
                None if areas[*k].withheld.any() => SUPPRESSED,
                None => NOBODY_ELIGIBLE,
            },
            None => NOBODY_ELIGIBLE,
        })
        .collect();
    let by_code = areas
        .iter()
        .zip(&classes.classes)
        .filter_map(|(row, class)| Some((row.code.clone(), (*class)?)))
        .collect();
    let name = level_label(level);
    let mut notes = vec![format!(
        "thirds of the {} {name}s with both published",
        classes.classified
    )];
    if without_domains {
        notes.push(
            "no IMD domains in this database (loaded before they were kept): load its \
             reference data again"
                .to_string(),
        );
    }
    notes.push(format!(
        "{}: {}",
        source.cuts_heading(),
        cuts_text(&classes.need_cuts, |v| source.cut_text(v))
    ));
    notes.push(format!(
        "{}: {}",
        measure.label(),
        cuts_text(&classes.rate_cuts, |v| percent(v, 1))
    ));
    if level != Level::Lsoa {
        notes.push(format!("each LSOA shows its {name}'s class"));
    }
    Colouring {
        colours,
        legend: vec![
            (SUPPRESSED, withheld_label(service)),
            (NOBODY_ELIGIBLE, "nobody eligible".to_string()),
        ],
        notes,
        need: Some(NeedView {
            source,
            measure,
            level,
            by_code,
        }),
    }
}

/// The finest level (LSOA, then ward, zone, authority) at which at least half
/// the areas have a published rate of `measure`: what the map shows first, so
/// that it opens on rates rather than on withheld areas.
pub fn finest_publishable(tables: &crate::uptake::UptakeTables, measure: Measure) -> Level {
    let levels = [
        (Level::Lsoa, &tables.lsoas),
        (Level::Ward, &tables.wards),
        (Level::Zone, &tables.zones),
    ];
    levels
        .into_iter()
        .find(|(_, rows)| {
            let shown = rows
                .iter()
                .filter(|r| rate_of(r, measure).is_some())
                .count();
            !rows.is_empty() && shown * 2 >= rows.len()
        })
        .map_or(Level::Authority, |(level, _)| level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_classes_hold_equal_shares_and_equal_intervals_equal_widths() {
        let rates: Vec<f64> = (0..100).map(|i| (i as f64 / 100.0).powi(2)).collect();
        let quantile = class_breaks(&rates, Classes::Quantile);
        let mut counts = [0usize; 5];
        for &r in &rates {
            counts[class_of(r, &quantile)] += 1;
        }
        assert_eq!(counts, [20; 5]);
        let equal = class_breaks(&rates, Classes::EqualInterval);
        let high = rates[99];
        for (k, b) in equal.iter().enumerate() {
            assert!((b - high * (k + 1) as f64 / 5.0).abs() < 1e-12);
        }
        // Half the LSOAs at 0%: no empty class below the first break.
        let tied: Vec<f64> = (0..100)
            .map(|i| if i < 50 { 0.0 } else { i as f64 / 100.0 })
            .collect();
        let breaks = class_breaks(&tied, Classes::Quantile);
        assert!(breaks.iter().all(|&b| b > 0.0), "{breaks:?}");
        assert!(breaks.windows(2).all(|w| w[0] < w[1]), "{breaks:?}");
        assert_eq!(class_of(0.0, &breaks), 0);
    }

    #[test]
    fn custom_breaks_are_read_as_rising_percentages() {
        assert_eq!(parse_breaks("10, 25%;40").unwrap(), vec![0.10, 0.25, 0.40]);
        assert_eq!(parse_breaks(" 50 ").unwrap(), vec![0.5]);
        for (text, says) in [
            ("", "one or more"),
            ("10, x", "“x” is not a number"),
            ("30, 20", "above the one before"),
            ("20, 20", "above the one before"),
            ("0", "between 0% and 100%"),
            ("100", "between 0% and 100%"),
            ("10 20 30 40 50 60 70", "at most 6 breaks"),
        ] {
            let error = parse_breaks(text).unwrap_err();
            assert!(error.contains(says), "{text:?}: {error}");
        }
        // A rate on a break belongs to the class above it.
        let breaks = parse_breaks("20, 40").unwrap();
        assert_eq!(class_of(0.199, &breaks), 0);
        assert_eq!(class_of(0.20, &breaks), 1);
        assert_eq!(class_of(0.95, &breaks), 2);
    }

    #[test]
    fn diverging_classes_are_symmetric_about_the_county_rate_which_gets_the_pale_middle() {
        let breaks = diverging_breaks(0.30, 0.45, 0.40);
        // Reach 0.10 either side, five classes 0.04 wide, the middle one 0.38–0.42.
        let expected = [0.34, 0.38, 0.42, 0.46];
        for (b, e) in breaks.iter().zip(expected) {
            assert!((b - e).abs() < 1e-12, "{breaks:?}");
        }
        assert_eq!(class_of(0.40, &breaks), 2);
        let mut bounds = vec![0.30];
        bounds.extend(&breaks);
        bounds.push(0.50);
        let middle = class_colour(Palette::Diverging, 2, &bounds, 0.40);
        assert_eq!(middle, Color32::from_rgb(255, 255, 191));
        // Below the county rate is red-ish, above it blue-ish, further is stronger.
        let below = class_colour(Palette::Diverging, 0, &bounds, 0.40);
        let above = class_colour(Palette::Diverging, 4, &bounds, 0.40);
        assert!(below.r() > below.b() && above.b() > above.r());
        let near_below = class_colour(Palette::Diverging, 1, &bounds, 0.40);
        assert!(below.g() < near_below.g());
    }

    #[test]
    fn sequential_colours_darken_with_the_class() {
        let bounds = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
        let lightness = |c: Color32| c.r() as u32 + c.g() as u32 + c.b() as u32;
        let colours: Vec<Color32> = (0..5)
            .map(|k| class_colour(Palette::Sequential, k, &bounds, 0.5))
            .collect();
        assert!(
            colours
                .windows(2)
                .all(|w| lightness(w[0]) > lightness(w[1])),
            "{colours:?}"
        );
        assert_eq!(colours[0], Color32::from_rgb(255, 255, 217));
    }
}
