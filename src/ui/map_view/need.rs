//! Need beside provision: each area's need against its rate, both cut into
//! tertiles and coloured with a 3×3 bivariate palette, so that a commissioner
//! sees where much need is reached least. Need is the area's people eligible,
//! or how deprived it is on one IMD domain (health deprivation beside a health
//! check): the mean decile of its LSOAs on that domain.
//!
//! Only published figures take part. An area whose rate (or, for eligible
//! people, its eligible count) is withheld gets no class and is left out of the
//! cut points: they are order statistics of the published values and of the
//! public IMD alone, so they are the same whatever the withheld counts are, and
//! say nothing about them. Which areas are withheld the map shows anyway.

use egui::Color32;

use super::colouring::{quantile_breaks, rate_of};
use crate::geo::imd_domain::ImdDomain;
use crate::uptake::{Measure, UptakeRow};

/// What the need axis measures.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum NeedSource {
    /// The area's published eligible count.
    #[default]
    Eligible,
    /// How deprived the area is on one IMD domain: 11 less the mean decile of
    /// its LSOAs, so that more deprived is more need.
    Domain(ImdDomain),
}

impl NeedSource {
    /// Every choice, as the map offers them.
    pub fn all() -> Vec<NeedSource> {
        std::iter::once(NeedSource::Eligible)
            .chain(ImdDomain::ALL.into_iter().map(NeedSource::Domain))
            .collect()
    }

    /// Its name in the choice.
    pub fn label(self) -> &'static str {
        match self {
            NeedSource::Eligible => "People eligible",
            NeedSource::Domain(domain) => domain.label(),
        }
    }

    /// The need axis's label in the legend.
    pub fn axis(self) -> String {
        match self {
            NeedSource::Eligible => "more eligible".to_string(),
            NeedSource::Domain(domain) => format!("more deprived in {}", domain.short_label()),
        }
    }

    /// A need tertile (0 lowest) in words.
    fn tertile_words(self, tertile: usize) -> String {
        match self {
            NeedSource::Eligible => {
                ["few eligible", "middling eligible", "many eligible"][tertile].to_string()
            }
            NeedSource::Domain(domain) => format!(
                "{} in {}",
                ["less deprived", "middling deprivation", "more deprived"][tertile],
                domain.short_label()
            ),
        }
    }

    /// A need cut point in words: an eligible count, or the mean decile.
    pub fn cut_text(self, cut: f64) -> String {
        match self {
            NeedSource::Eligible => format!("{cut:.0}"),
            NeedSource::Domain(_) => format!("mean decile {:.1}", 11.0 - cut),
        }
    }

    /// The cut points' heading in the legend's notes.
    pub fn cuts_heading(self) -> String {
        match self {
            NeedSource::Eligible => "eligible".to_string(),
            NeedSource::Domain(domain) => format!(
                "{} (IMD 2019 domain, 1 = most deprived)",
                domain.short_label()
            ),
        }
    }
}

/// An area's need on a domain from its LSOAs' deciles on it: 11 less their
/// mean, or `None` when none of them has the domain (a database loaded before
/// the domains were kept).
pub fn domain_need(deciles: impl IntoIterator<Item = Option<u8>>) -> Option<f64> {
    let (sum, n) = deciles
        .into_iter()
        .flatten()
        .fold((0.0, 0.0), |(sum, n), d| (sum + f64::from(d), n + 1.0));
    (n > 0.0).then(|| 11.0 - sum / n)
}

/// Joshua Stevens' red–blue 3×3 bivariate scheme (as in d3's bivariate
/// choropleth), indexed `[rate tertile][need tertile]`: more eligible is redder
/// (left to right), a higher rate bluer (bottom to top), so many eligible
/// people with a low rate stand out in the strongest red.
const BIVARIATE: [[[u8; 3]; 3]; 3] = [
    [[232, 232, 232], [228, 172, 172], [200, 90, 90]],
    [[176, 213, 223], [173, 158, 165], [152, 83, 86]],
    [[100, 172, 190], [98, 127, 140], [87, 66, 73]],
];

/// Areas with nobody eligible, in this view: white, since the scheme's pale
/// grey corner (few eligible, low rate) is the other views' "nobody eligible".
pub const NOBODY_ELIGIBLE: Color32 = Color32::WHITE;

/// An area's tertile of eligible people and of its rate (0 lowest, 2 highest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeedClass {
    pub need: usize,
    pub rate: usize,
}

impl NeedClass {
    /// The class's colour in the bivariate scheme.
    pub fn colour(self) -> Color32 {
        let [r, g, b] = BIVARIATE[self.rate][self.need];
        Color32::from_rgb(r, g, b)
    }

    /// The class in words, e.g. "many eligible, low uptake" or "more deprived
    /// in health, low coverage".
    pub fn label(self, source: NeedSource, measure: Measure) -> String {
        let need = source.tertile_words(self.need);
        let rate = ["low", "middling", "high"][self.rate];
        format!("{need}, {rate} {}", measure.label())
    }
}

/// The classes of a set of areas and the tertile cut points they were given by.
#[derive(Debug, Clone, PartialEq)]
pub struct NeedClasses {
    /// The need at which the middle and the top tertile begin (fewer when many
    /// areas have the same; see [`tertile_of`]).
    pub need_cuts: Vec<f64>,
    /// The same for the rate, as a proportion.
    pub rate_cuts: Vec<f64>,
    /// Each area's class, `None` where its count or rate is withheld (or nobody
    /// is eligible).
    pub classes: Vec<Option<NeedClass>>,
    /// How many areas have a class: the areas the cut points come from.
    pub classified: usize,
}

/// An area's published rate of `measure`, or `None` when it is withheld or
/// there is none (nobody eligible or invited).
pub fn published_rate(row: &UptakeRow, measure: Measure) -> Option<f64> {
    let withheld = row.withheld.attended
        || match measure {
            Measure::Coverage => row.withheld.eligible,
            Measure::Uptake => row.withheld.invited,
        };
    if withheld {
        return None;
    }
    Some(rate_of(row, measure)?.value)
}

/// An area's published eligible count and rate of `measure`, or `None` when
/// either is withheld or there is no rate. With [`published_rate`] the only way
/// figures enter the classes: a withheld count is never read, even if a row
/// still carried it.
pub fn published_pair(row: &UptakeRow, measure: Measure) -> Option<(f64, f64)> {
    if row.withheld.eligible {
        return None;
    }
    Some((row.eligible? as f64, published_rate(row, measure)?))
}

/// The tertile of `value` given the cut points of [`quantile_breaks`] into
/// three: with two cuts, the number at or below it; with one (many areas tie),
/// the bottom or the top, so that the tied group is not called middling; with
/// none (every area alike), the middle.
pub fn tertile_of(value: f64, cuts: &[f64]) -> usize {
    let below = cuts.iter().filter(|&&cut| value >= cut).count();
    match cuts.len() {
        0 => 1,
        1 => below * 2,
        _ => below.min(2),
    }
}

/// Classes of areas given each one's (need, published rate) pair, as
/// [`published_pair`] or a domain's need with [`published_rate`] make them:
/// tertiles of each among the areas that have both.
pub fn classify(areas: &[Option<(f64, f64)>]) -> NeedClasses {
    let published: Vec<(f64, f64)> = areas
        .iter()
        .flatten()
        .copied()
        .filter(|(_, rate)| rate.is_finite())
        .collect();
    let need: Vec<f64> = published.iter().map(|p| p.0).collect();
    let rate: Vec<f64> = published.iter().map(|p| p.1).collect();
    let need_cuts = quantile_breaks(&need, 3);
    let rate_cuts = quantile_breaks(&rate, 3);
    let classes = areas
        .iter()
        .map(|area| {
            let (need, rate) = (*area)?;
            rate.is_finite().then(|| NeedClass {
                need: tertile_of(need, &need_cuts),
                rate: tertile_of(rate, &rate_cuts),
            })
        })
        .collect();
    NeedClasses {
        need_cuts,
        rate_cuts,
        classes,
        classified: published.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uptake::{Level, Rate, Withheld};

    fn area(code: &str, eligible: u64, attended: u64, withheld: Withheld) -> UptakeRow {
        let value = attended as f64 / eligible as f64;
        UptakeRow {
            level: Level::Zone,
            code: code.to_string(),
            name: code.to_string(),
            imd_decile: None,
            imd_quintile: None,
            la_code: None,
            zone_id: None,
            ward_code: None,
            lsoas: 1,
            eligible: Some(eligible),
            invited: None,
            attended: Some(attended),
            coverage: Some(Rate {
                value,
                lower: value,
                upper: value,
            }),
            uptake: None,
            withheld,
        }
    }

    #[test]
    fn nine_areas_fall_one_into_each_class_by_their_tertiles() {
        // Eligible 100…900, and coverage chosen so each (need, rate) pair is met once.
        let rates = [0.1, 0.5, 0.9, 0.5, 0.9, 0.1, 0.9, 0.1, 0.5];
        let rows: Vec<UptakeRow> = (0..9)
            .map(|k| {
                let eligible = 100 * (k as u64 + 1);
                let attended = (rates[k] * eligible as f64).round() as u64;
                area(&format!("z{k}"), eligible, attended, Withheld::default())
            })
            .collect();
        let pairs: Vec<_> = rows
            .iter()
            .map(|r| published_pair(r, Measure::Coverage))
            .collect();
        let classes = classify(&pairs);
        // Sorted eligible 100…900: the 4th (400) and 7th (700) begin the upper tertiles.
        assert_eq!(classes.need_cuts, vec![400.0, 700.0]);
        assert_eq!(classes.rate_cuts, vec![0.5, 0.9]);
        assert_eq!(classes.classified, 9);
        let expected = [
            (0, 0),
            (0, 1),
            (0, 2),
            (1, 1),
            (1, 2),
            (1, 0),
            (2, 2),
            (2, 0),
            (2, 1),
        ];
        for (k, (need, rate)) in expected.into_iter().enumerate() {
            assert_eq!(classes.classes[k], Some(NeedClass { need, rate }), "z{k}");
        }
        let worst = classes.classes[7].expect("class");
        assert_eq!(
            worst.label(NeedSource::Eligible, Measure::Coverage),
            "many eligible, low coverage"
        );
        assert_eq!(worst.colour(), Color32::from_rgb(200, 90, 90));
        assert_eq!(
            classes.classes[0].expect("class").colour(),
            Color32::from_rgb(232, 232, 232)
        );
    }

    #[test]
    fn a_withheld_area_gets_no_class_and_does_not_move_the_cut_points() {
        let shown: Vec<UptakeRow> = [(120, 30), (340, 170), (80, 60), (200, 40)]
            .iter()
            .enumerate()
            .map(|(k, &(e, a))| area(&format!("z{k}"), e, a, Withheld::default()))
            .collect();
        let classes_of = |rows: &[UptakeRow]| {
            let pairs: Vec<_> = rows
                .iter()
                .map(|r| published_pair(r, Measure::Coverage))
                .collect();
            classify(&pairs)
        };
        let alone = classes_of(&shown);
        // However large or small the withheld figures are (here still carried in
        // the row, which a published row never does), nothing changes.
        for (eligible, attended, withheld) in [
            (
                10_000,
                3,
                Withheld {
                    attended: true,
                    ..Withheld::default()
                },
            ),
            (
                3,
                1,
                Withheld {
                    eligible: true,
                    attended: true,
                    ..Withheld::default()
                },
            ),
        ] {
            let mut rows = shown.clone();
            rows.insert(1, area("hidden", eligible, attended, withheld));
            let with = classes_of(&rows);
            assert_eq!(with.classes[1], None);
            assert_eq!(with.need_cuts, alone.need_cuts);
            assert_eq!(with.rate_cuts, alone.rate_cuts);
            assert_eq!(with.classified, 4);
            let mut others = with.classes.clone();
            others.remove(1);
            assert_eq!(others, alone.classes);
        }
        // Eligible 80, 120, 200, 340 cut at the 2nd and 3rd (120, 200); coverage
        // 0.25, 0.5, 0.75, 0.2 sorted 0.2, 0.25, 0.5, 0.75 cut at 0.25 and 0.5.
        assert_eq!(alone.need_cuts, vec![120.0, 200.0]);
        assert_eq!(alone.rate_cuts, vec![0.25, 0.5]);
        assert_eq!(
            alone.classes,
            vec![
                Some(NeedClass { need: 1, rate: 1 }),
                Some(NeedClass { need: 2, rate: 2 }),
                Some(NeedClass { need: 0, rate: 2 }),
                Some(NeedClass { need: 2, rate: 0 }),
            ]
        );
        // An uptake map of the same areas: no invitations, so no rate and no class.
        let uptake: Vec<_> = shown
            .iter()
            .map(|r| published_pair(r, Measure::Uptake))
            .collect();
        assert!(classify(&uptake).classes.iter().all(Option::is_none));
    }

    #[test]
    fn a_domain_need_is_the_mean_decile_turned_round_beside_the_published_rate() {
        // Deciles 1 and 2 (most deprived): need 9.5; a database without domains: none.
        assert_eq!(domain_need([Some(1), Some(2), None]), Some(9.5));
        assert_eq!(domain_need([None, None]), None);
        // An uptake map: an area whose eligible count alone is withheld keeps its
        // published rate, so it has a class on a domain but not by eligible people.
        let mut row = area("z", 3, 2, Withheld::default());
        row.invited = Some(40);
        row.uptake = Some(Rate {
            value: 0.05,
            lower: 0.0,
            upper: 0.2,
        });
        row.eligible = None;
        row.withheld.eligible = true;
        assert_eq!(published_pair(&row, Measure::Uptake), None);
        assert_eq!(published_rate(&row, Measure::Uptake), Some(0.05));
        // A withheld rate: nothing.
        row.withheld.attended = true;
        assert_eq!(published_rate(&row, Measure::Uptake), None);
        let class = NeedClass { need: 2, rate: 0 };
        assert_eq!(
            class.label(NeedSource::Domain(ImdDomain::Health), Measure::Uptake),
            "more deprived in health, low uptake"
        );
        assert_eq!(
            NeedSource::Domain(ImdDomain::Health).cut_text(7.5),
            "mean decile 3.5"
        );
    }

    #[test]
    fn tied_areas_go_to_the_bottom_or_top_tertile_and_identical_ones_to_the_middle() {
        // Six areas: four with 0% and two above; the cut that equals the lowest goes.
        let pairs: Vec<_> = [0.0, 0.0, 0.0, 0.0, 0.3, 0.6]
            .iter()
            .map(|&rate| Some((50.0, rate)))
            .collect();
        let classes = classify(&pairs);
        assert_eq!(classes.rate_cuts, vec![0.3]);
        assert_eq!(classes.need_cuts, Vec::<f64>::new());
        let rates: Vec<usize> = classes.classes.iter().map(|c| c.unwrap().rate).collect();
        assert_eq!(rates, [0, 0, 0, 0, 2, 2]);
        assert!(classes.classes.iter().all(|c| c.unwrap().need == 1));
        assert_eq!(tertile_of(5.0, &[]), 1);
    }
}
