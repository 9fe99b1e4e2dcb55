//! Small-number suppression, the rule every commissioner-facing output follows:
//! a count from 1 to the threshold is withheld with the rates built on it
//! (primary suppression), and so is any further count that a published total
//! would otherwise reveal (secondary suppression); the inequality figures are
//! recomputed from what is then shown, rounded, or withheld with a note when a
//! decile's count is (`stats::published_inequality`). [`Published`] can only be made
//! here, so the mart, the command's table and JSON, and any export taking a
//! `Published` cannot skip it.

use serde::Serialize;

use super::overlap::Overlaps;
use super::solvable::{Elimination, Relation};
use super::{Level, UptakeRow, UptakeTables, stats};

/// Counts from 1 to this are withheld unless told otherwise, as in NHS and
/// Fingertips publications.
pub const DEFAULT_THRESHOLD: u64 = 4;

/// Uptake tables after suppression: the only form shown or exported to a commissioner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Published {
    suppression_threshold: u64,
    suppression_note: String,
    #[serde(flatten)]
    tables: UptakeTables,
}

impl Published {
    /// The suppressed tables.
    pub fn tables(&self) -> &UptakeTables {
        &self.tables
    }

    /// Counts from 1 to this were withheld (0: nothing was).
    pub fn threshold(&self) -> u64 {
        self.suppression_threshold
    }

    /// The sentence every output carries to say what was withheld and why.
    pub fn note(&self) -> &str {
        &self.suppression_note
    }
}

/// The three counts of a row.
#[derive(Debug, Clone, Copy)]
enum Count {
    Eligible,
    Invited,
    Attended,
}

impl Count {
    /// In the order of `Overlaps`' counts.
    const ALL: [Count; 3] = [Count::Eligible, Count::Invited, Count::Attended];

    fn of(self, row: &UptakeRow) -> Option<u64> {
        match self {
            Count::Eligible => row.eligible,
            Count::Invited => row.invited,
            Count::Attended => row.attended,
        }
    }

    fn withhold(self, row: &mut UptakeRow) {
        match self {
            Count::Eligible => {
                row.eligible = None;
                row.withheld.eligible = true;
            }
            Count::Invited => {
                row.invited = None;
                row.withheld.invited = true;
            }
            Count::Attended => {
                row.attended = None;
                row.withheld.attended = true;
            }
        }
    }
}

/// Withholds every count from 1 to `threshold` (primary suppression), then
/// further counts until no withheld count follows from the published sums (an
/// area and its LSOAs, a quintile and its two deciles, the county and its
/// deciles, quintiles, authorities, zones or wards, an authority and its zones or
/// wards, and a zone or ward that holds another whole with the LSOAs that make
/// up the difference), all taken together ([`secondary`]). Rates are withheld
/// with their counts. One service by itself: a service shown beside others that
/// may share its people is suppressed with them ([`suppress_together`]).
pub fn suppress(tables: &UptakeTables, threshold: u64) -> Published {
    let mut published = suppress_together(&[tables], &Overlaps::none(), threshold);
    published.pop().expect("one service in, one out")
}

/// Suppresses services together: each as [`suppress`] does, except that
/// services sharing people in a count ([`Overlaps::groups`]) withhold the same
/// areas in it. An area is withheld for all of them when any of them has a
/// count there from 1 to `threshold`, or when some sum and difference of their
/// counts there is a group of that few people ([`Overlaps::small_differences`]);
/// the further counts are then chosen once for the group. So no service's
/// counts less another's give away what either withholds: every sum of one
/// service is a sum of each (the tables of one database have the same areas),
/// and wherever the group's counts are withheld, each of them is too, so any
/// change that leaves one service's published sums alone can be made to the
/// people of any combination of them without changing another published count.
///
/// The tables must come from one database (the same areas in the same order);
/// the published tables are returned in the order given.
pub fn suppress_together(
    tables: &[&UptakeTables],
    overlaps: &Overlaps,
    threshold: u64,
) -> Vec<Published> {
    let mut flat: Vec<Flat> = tables.iter().map(|tables| Flat::new(tables)).collect();
    let Some(first) = flat.first() else {
        return Vec::new();
    };
    for other in &flat[1..] {
        assert!(
            first.same_areas(other),
            "services suppressed together must be counted in one database"
        );
    }
    let relations = relations(&first.rows);
    let codes: Vec<String> = first.rows.iter().map(|r| r.code.clone()).collect();
    let areas: Vec<Vec<&str>> = area_lsoas(&first.rows)
        .into_iter()
        .map(|lsoas| lsoas.into_iter().map(|i| codes[i].as_str()).collect())
        .collect();
    let small = |n: Option<u64>| matches!(n, Some(n) if (1..=threshold).contains(&n));
    for (at, count) in Count::ALL.into_iter().enumerate() {
        if threshold == 0 {
            break;
        }
        for group in overlaps.groups(at, flat.len()) {
            let counted: Vec<usize> = group
                .into_iter()
                .filter(|&s| flat[s].rows.iter().any(|r| count.of(r).is_some()))
                .collect();
            // The service with most people chooses the further counts: they are
            // the cheapest for its readers, the ones a group's counts mostly are.
            let Some(&lead) = counted
                .iter()
                .max_by_key(|&&s| flat[s].rows.iter().filter_map(|r| count.of(r)).max())
            else {
                continue;
            };
            let mut primary = overlaps.small_differences(at, &counted, &areas, threshold);
            for &s in &counted {
                for (cell, row) in primary.iter_mut().zip(&flat[s].rows) {
                    *cell |= small(count.of(row));
                }
            }
            let withheld = secondary(&relations, &flat[lead].rows, count, primary);
            for &s in &counted {
                for (row, &hide) in flat[s].rows.iter_mut().zip(&withheld) {
                    if hide && count.of(row).is_some() {
                        count.withhold(row);
                    }
                }
            }
        }
    }
    flat.into_iter().map(|f| f.published(threshold)).collect()
}

/// One service's tables as one list of rows (LSOAs, deciles, quintiles, zones,
/// wards, authorities, the county), which the sums index.
struct Flat {
    tables: UptakeTables,
    rows: Vec<UptakeRow>,
    lengths: [usize; 7],
}

impl Flat {
    fn new(tables: &UptakeTables) -> Flat {
        let mut tables = tables.clone();
        let sections = [
            std::mem::take(&mut tables.lsoas),
            std::mem::take(&mut tables.deciles),
            std::mem::take(&mut tables.quintiles),
            std::mem::take(&mut tables.zones),
            std::mem::take(&mut tables.wards),
            std::mem::take(&mut tables.authorities),
            vec![tables.county.clone()],
        ];
        let lengths = sections.each_ref().map(Vec::len);
        Flat {
            tables,
            rows: sections.into_iter().flatten().collect(),
            lengths,
        }
    }

    /// True when both list the same areas in the same order.
    fn same_areas(&self, other: &Flat) -> bool {
        self.lengths == other.lengths
            && self
                .rows
                .iter()
                .zip(&other.rows)
                .all(|(a, b)| a.level == b.level && a.code == b.code)
    }

    /// The tables again, rates withheld with their counts and the inequality
    /// figures recomputed from what is shown.
    fn published(self, threshold: u64) -> Published {
        let Flat {
            mut tables,
            mut rows,
            lengths,
        } = self;
        for row in &mut rows {
            if row.withheld.attended || row.withheld.eligible {
                row.coverage = None;
            }
            if row.withheld.attended || row.withheld.invited {
                row.uptake = None;
            }
        }
        let mut rest = rows.into_iter();
        let mut section = |length: usize| rest.by_ref().take(length).collect::<Vec<_>>();
        tables.lsoas = section(lengths[0]);
        tables.deciles = section(lengths[1]);
        tables.quintiles = section(lengths[2]);
        tables.zones = section(lengths[3]);
        tables.wards = section(lengths[4]);
        tables.authorities = section(lengths[5]);
        if let Some(county) = section(lengths[6]).pop() {
            tables.county = county;
        }
        if matches!(tables.eligible_without_lsoa, Some(n) if (1..=threshold).contains(&n)) {
            tables.eligible_without_lsoa = None;
        }
        // From the published deciles only: computed from the full ones, the figures
        // with the shown counts would solve for the withheld counts.
        tables.inequality = tables
            .inequality
            .iter()
            .map(|measure| {
                stats::published_inequality(&tables.title, measure.measure, &tables.deciles)
            })
            .collect();
        Published {
            suppression_threshold: threshold,
            suppression_note: note(threshold),
            tables,
        }
    }
}

/// Secondary suppression of one count: starting from the primary cells, asks of
/// all the sums at once which withheld counts a reader could solve for
/// ([`Elimination`]) and, for each, withholds the cheapest shown count
/// ([`cost`]) that frees it: one whose withholding opens a new way to change the
/// unknowns without changing any sum, passing through it. A count freed stays
/// free whatever is withheld after it, so one elimination serves every choice
/// of a round. When no single count frees one (a row of a two-way table needs
/// two more corners to make a rectangle), the cheapest pair near it that does
/// ([`cheapest_pair`]); failing that, one partner ([`nearest_partner`]) and the
/// next round looks again.
///
/// Choosing only the smallest part of each sum with one withheld member, as this
/// once did, picked partners in other wards, zones and deciles, each opening
/// sums to cover in turn: at 20,000 families nearly every LSOA was withheld
/// (see `docs/benchmarks.md`).
fn secondary(
    relations: &[Relation],
    rows: &[UptakeRow],
    count: Count,
    mut withheld: Vec<bool>,
) -> Vec<bool> {
    let mut holding = vec![Vec::new(); rows.len()];
    for (r, relation) in relations.iter().enumerate() {
        for cell in members(relation) {
            holding[cell].push(r);
        }
    }
    loop {
        let unknown: Vec<bool> = rows
            .iter()
            .zip(&withheld)
            .map(|(r, &hidden)| hidden || count.of(r).is_none())
            .collect();
        let elimination = Elimination::new(relations, &unknown);
        let given_away: Vec<usize> = elimination
            .determined()
            .into_iter()
            .filter(|&cell| withheld[cell] && count.of(&rows[cell]).is_some())
            .collect();
        if given_away.is_empty() {
            return withheld;
        }
        // Each shown cell's column through this round's elimination.
        let carried: Vec<Option<Vec<f64>>> = (0..rows.len())
            .map(|i| {
                (!unknown[i] && !holding[i].is_empty())
                    .then(|| elimination.carry(relations, &holding[i], i))
            })
            .collect();
        let mut singles: Vec<(usize, Vec<usize>)> = carried
            .iter()
            .enumerate()
            .filter_map(|(i, column)| Some((i, elimination.freed(column.as_ref()?))))
            .filter(|(_, freed)| !freed.is_empty())
            .collect();
        singles.sort_by_cached_key(|(i, _)| cost(&rows[*i], count));
        let mut free = vec![false; rows.len()];
        for cell in given_away {
            if free[cell] {
                continue;
            }
            let single = singles
                .iter()
                .find(|(i, freed)| !withheld[*i] && freed.contains(&cell))
                .map(|(i, freed)| (vec![*i], freed.clone()));
            let chosen = single.or_else(|| {
                let available = |i: usize| carried[i].is_some() && !withheld[i];
                let pool = nearby(relations, &holding, cell, available);
                cheapest_pair(&elimination, rows, count, &carried, &pool, cell)
            });
            match chosen {
                Some((extra, freed)) => {
                    extra.into_iter().for_each(|i| withheld[i] = true);
                    freed.into_iter().for_each(|j| free[j] = true);
                }
                None => {
                    if let Some(extra) =
                        nearest_partner(relations, rows, count, &holding, &withheld, cell)
                    {
                        withheld[extra] = true;
                    }
                }
            }
        }
    }
}

/// Cells to withhold, and the withheld cells that no longer follow once they are.
type Choice = (Vec<usize>, Vec<usize>);

/// The total and parts of a sum.
fn members(relation: &Relation) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(relation.total).chain(relation.parts.iter().copied())
}

/// Of the shown cells in `pool`, the two whose withholding together frees `cell`
/// at the least cost (the coarser level of the two, then their counts' sum),
/// with every determined cell they free.
fn cheapest_pair(
    elimination: &Elimination,
    rows: &[UptakeRow],
    count: Count,
    carried: &[Option<Vec<f64>>],
    pool: &[usize],
    cell: usize,
) -> Option<Choice> {
    let mut best: Option<((u8, u64), Choice)> = None;
    for (at, &first) in pool.iter().enumerate() {
        for &second in &pool[at + 1..] {
            let (Some(a), Some(b)) = (&carried[first], &carried[second]) else {
                continue;
            };
            let Some(combined) = elimination.pair(a, b) else {
                continue;
            };
            let freed = elimination.freed(&combined);
            if !freed.contains(&cell) {
                continue;
            }
            let (order_a, _, n_a, _) = cost(&rows[first], count);
            let (order_b, _, n_b, _) = cost(&rows[second], count);
            let key = (order_a.max(order_b), n_a + n_b);
            if best.as_ref().is_none_or(|(known, ..)| key < *known) {
                best = Some((key, (vec![first, second], freed)));
            }
        }
    }
    best.map(|(_, choice)| choice)
}

/// The cells near `cell` that `keep` accepts: members of the smallest sums it is
/// in (its ward, zone, decile) until there are enough to pair, so that the pair
/// search stays small while the county and authority sums hold every LSOA.
fn nearby(
    relations: &[Relation],
    holding: &[Vec<usize>],
    cell: usize,
    keep: impl Fn(usize) -> bool,
) -> Vec<usize> {
    const ENOUGH: usize = 120;
    let mut sums = holding[cell].clone();
    sums.sort_by_key(|&r| relations[r].parts.len());
    let mut pool: Vec<usize> = Vec::new();
    for r in sums {
        if pool.len() >= ENOUGH {
            break;
        }
        for i in members(&relations[r]) {
            if i != cell && keep(i) && !pool.contains(&i) {
                pool.push(i);
            }
        }
    }
    pool
}

/// For a withheld cell that neither one further count nor a pair near it frees,
/// one partner from the sums it is in, at the finest level, leaving the fewest
/// sums giving something away, so that a later round can close the pattern:
/// each sum the partner is in that holds nothing withheld yet is opened, and
/// each sum of `cell`'s in which `cell` is the only withheld member and the
/// partner is not stays open. Among equals, the cheapest ([`cost`]).
fn nearest_partner(
    relations: &[Relation],
    rows: &[UptakeRow],
    count: Count,
    holding: &[Vec<usize>],
    withheld: &[bool],
    cell: usize,
) -> Option<usize> {
    let hidden: Vec<usize> = relations
        .iter()
        .map(|relation| members(relation).filter(|&i| withheld[i]).count())
        .collect();
    holding[cell]
        .iter()
        .flat_map(|&r| members(&relations[r]))
        .filter(|&i| !withheld[i] && count.of(&rows[i]).is_some())
        .min_by_key(|&i| {
            let opened = holding[i].iter().filter(|&&r| hidden[r] == 0).count()
                + holding[cell]
                    .iter()
                    .filter(|&&r| hidden[r] == 1 && !holding[i].contains(&r))
                    .count();
            let (order, zero, n, code) = cost(&rows[i], count);
            (order, opened, zero, n, code)
        })
}

/// What withholding a further count costs a reader, least first: the finest
/// level goes first (an LSOA before its ward, zone or authority, the deciles and
/// county last), since the larger areas are what a commissioner reads first;
/// then the smallest count, zeros last (withholding a zero hides nothing a
/// reader could not guess), ties by code.
fn cost(row: &UptakeRow, count: Count) -> (u8, bool, u64, String) {
    let order = match row.level {
        Level::Lsoa => 0,
        Level::Ward => 1,
        Level::Zone => 2,
        Level::Authority => 3,
        Level::Decile | Level::Quintile => 4,
        Level::County => 5,
    };
    let n = count.of(row).unwrap_or(0);
    (order, n == 0, n, row.code.clone())
}

/// What suppression did, in words, for every table and export.
fn note(threshold: u64) -> String {
    if threshold == 0 {
        "Unsuppressed: small numbers are shown. Not for publication.".to_string()
    } else {
        format!(
            "Counts from 1 to {threshold} are withheld, with the rates built on them, and so is \
             any further count that a total would reveal; withheld values are shown as blank."
        )
    }
}

/// Every sum the tables publish, over the flat row list.
fn relations(rows: &[UptakeRow]) -> Vec<Relation> {
    let of_level = |level: Level| -> Vec<usize> {
        rows.iter()
            .enumerate()
            .filter(|(_, r)| r.level == level)
            .map(|(i, _)| i)
            .collect()
    };
    let lsoas = of_level(Level::Lsoa);
    let deciles = of_level(Level::Decile);
    let quintiles = of_level(Level::Quintile);
    let zones = of_level(Level::Zone);
    let wards = of_level(Level::Ward);
    let authorities = of_level(Level::Authority);
    let county = of_level(Level::County);
    let mut relations: Vec<Relation> = area_lsoas(rows)
        .into_iter()
        .enumerate()
        .filter(|(area, _)| rows[*area].level != Level::Lsoa)
        .map(|(total, parts)| Relation { total, parts })
        .collect();
    for &quintile in &quintiles {
        let parts = deciles
            .iter()
            .copied()
            .filter(|&d| rows[d].imd_decile.map(|d| d.div_ceil(2)) == rows[quintile].imd_quintile)
            .collect();
        relations.push(Relation {
            total: quintile,
            parts,
        });
    }
    // An authority is the sum of its zones (or wards), and the county of its zones,
    // only when they cover it exactly; LSOA counts say whether they do.
    let lsoas_in = |parts: &[usize]| parts.iter().map(|&i| rows[i].lsoas).sum::<u64>();
    for &authority in &authorities {
        for areas in [&zones, &wards] {
            let parts: Vec<usize> = areas
                .iter()
                .copied()
                .filter(|&z| rows[z].la_code.as_deref() == Some(rows[authority].code.as_str()))
                .collect();
            if !parts.is_empty() && lsoas_in(&parts) == rows[authority].lsoas {
                relations.push(Relation {
                    total: authority,
                    parts,
                });
            }
        }
    }
    relations.extend(nested(rows, &lsoas, &zones, &wards));
    for &total in &county {
        for parts in [&deciles, &quintiles, &authorities, &zones, &wards] {
            if lsoas_in(parts) == rows[total].lsoas {
                relations.push(Relation {
                    total,
                    parts: parts.clone(),
                });
            }
        }
    }
    relations
}

/// The LSOAs (row indices) each row counts: an LSOA itself, an area those whose
/// decile, quintile, zone, ward or authority it is, the county all of them.
fn area_lsoas(rows: &[UptakeRow]) -> Vec<Vec<usize>> {
    let lsoas: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].level == Level::Lsoa)
        .collect();
    let lsoas_where = |keep: &dyn Fn(&UptakeRow) -> bool| -> Vec<usize> {
        lsoas.iter().copied().filter(|&i| keep(&rows[i])).collect()
    };
    rows.iter()
        .enumerate()
        .map(|(at, row)| match row.level {
            Level::Lsoa => vec![at],
            Level::Decile => lsoas_where(&|l| l.imd_decile == row.imd_decile),
            Level::Quintile => lsoas_where(&|l| l.imd_quintile == row.imd_quintile),
            Level::Zone => lsoas_where(&|l| l.zone_id.as_deref() == Some(row.code.as_str())),
            Level::Ward => lsoas_where(&|l| l.ward_code.as_deref() == Some(row.code.as_str())),
            Level::Authority => lsoas_where(&|l| l.la_code.as_deref() == Some(row.code.as_str())),
            Level::County => lsoas.clone(),
        })
        .collect()
}

/// Zones and wards overlap without nesting, so one can hold another whole: a ward
/// of three LSOAs holding a zone of two. Then the larger's count less the
/// smaller's is the sum of the LSOAs between them, which a withheld LSOA there
/// must not be recoverable from: each such pair is a sum too.
fn nested(rows: &[UptakeRow], lsoas: &[usize], zones: &[usize], wards: &[usize]) -> Vec<Relation> {
    use std::collections::BTreeSet;
    let members = |area: usize| -> BTreeSet<usize> {
        let row = &rows[area];
        lsoas
            .iter()
            .copied()
            .filter(|&l| {
                let key = match row.level {
                    Level::Zone => rows[l].zone_id.as_deref(),
                    _ => rows[l].ward_code.as_deref(),
                };
                key == Some(row.code.as_str())
            })
            .collect()
    };
    let zone_members: Vec<(usize, BTreeSet<usize>)> =
        zones.iter().map(|&z| (z, members(z))).collect();
    let ward_members: Vec<(usize, BTreeSet<usize>)> =
        wards.iter().map(|&w| (w, members(w))).collect();
    let mut relations = Vec::new();
    for (zone, in_zone) in &zone_members {
        for (ward, in_ward) in &ward_members {
            let pairs = [
                (*zone, in_zone, *ward, in_ward),
                (*ward, in_ward, *zone, in_zone),
            ];
            for (outer, outer_set, inner, inner_set) in pairs {
                if inner_set.is_empty() || inner_set == outer_set || !inner_set.is_subset(outer_set)
                {
                    continue;
                }
                let mut parts = vec![inner];
                parts.extend(outer_set.difference(inner_set).copied());
                relations.push(Relation {
                    total: outer,
                    parts,
                });
            }
        }
    }
    relations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uptake::{Measure, Rate, Withheld};

    fn row(level: Level, code: &str, decile: Option<u8>, counts: (u64, u64)) -> UptakeRow {
        UptakeRow {
            level,
            code: code.to_string(),
            name: code.to_string(),
            imd_decile: decile,
            imd_quintile: decile.map(|d| d.div_ceil(2)),
            la_code: Some("E1".to_string()),
            zone_id: None,
            ward_code: None,
            lsoas: 1,
            eligible: Some(counts.0),
            invited: None,
            attended: Some(counts.1),
            coverage: Some(Rate {
                value: counts.1 as f64 / counts.0 as f64,
                lower: 0.0,
                upper: 1.0,
            }),
            uptake: None,
            withheld: Withheld::default(),
        }
    }

    /// Tables of `lsoas` and `county` alone, for a test to add the levels it needs.
    fn tables(lsoas: Vec<UptakeRow>, county: UptakeRow) -> UptakeTables {
        UptakeTables {
            service: "s".into(),
            title: "S".into(),
            description: String::new(),
            reference_date: chrono::NaiveDate::from_ymd_opt(2026, 4, 1).expect("date"),
            has_invited: false,
            lsoas,
            deciles: Vec::new(),
            quintiles: Vec::new(),
            zones: Vec::new(),
            wards: Vec::new(),
            authorities: Vec::new(),
            county,
            eligible_without_lsoa: None,
            inequality: Vec::new(),
            notes: Vec::new(),
            source: String::new(),
        }
    }

    /// Three LSOAs of decile 1: attended 3 (small), 9 and 12. The decile total (24)
    /// would give the 3 away, so the next smallest (9) goes too; the LSOA with 3 also
    /// loses its coverage, and nothing else changes.
    #[test]
    fn one_small_count_in_a_total_takes_the_next_smallest_with_it() {
        let lsoas = vec![
            row(Level::Lsoa, "A", Some(1), (20, 3)),
            row(Level::Lsoa, "B", Some(1), (20, 9)),
            row(Level::Lsoa, "C", Some(1), (30, 12)),
        ];
        let mut decile = row(Level::Decile, "1", Some(1), (70, 24));
        decile.lsoas = 3;
        let mut county = row(Level::County, "all", None, (70, 24));
        county.lsoas = 3;
        let tables = UptakeTables {
            deciles: vec![decile],
            eligible_without_lsoa: Some(2),
            ..tables(lsoas, county)
        };
        let published = suppress(&tables, DEFAULT_THRESHOLD);
        let shown = published.tables();
        let attended: Vec<Option<u64>> = shown.lsoas.iter().map(|r| r.attended).collect();
        assert_eq!(attended, [None, None, Some(12)]);
        assert!(shown.lsoas[0].coverage.is_none() && shown.lsoas[1].coverage.is_none());
        assert!(shown.lsoas[2].coverage.is_some());
        assert_eq!(shown.deciles[0].attended, Some(24));
        assert_eq!(
            shown.lsoas[0].eligible,
            Some(20),
            "eligible 20 is not small"
        );
        assert_eq!(
            shown.eligible_without_lsoa, None,
            "2 people without an LSOA"
        );
        let unsuppressed = suppress(&tables, 0);
        assert_eq!(unsuppressed.tables().lsoas, tables.lsoas);
    }

    /// A ward (A, B, C) holds a zone (A, B) whole: with A, B and C withheld as small,
    /// the ward's attended (9) less the zone's (5) would give C's 4 away, so one of
    /// the two totals is withheld as well.
    #[test]
    fn a_ward_holding_a_zone_whole_cannot_give_away_the_lsoas_between_them() {
        let lsoa = |code: &str, zone: &str, ward: &str, attended: u64| {
            let mut r = row(Level::Lsoa, code, Some(1), (40, attended));
            r.zone_id = Some(zone.to_string());
            r.ward_code = Some(ward.to_string());
            r
        };
        let area = |level: Level, code: &str, lsoas: u64, counts: (u64, u64)| {
            let mut r = row(level, code, None, counts);
            r.imd_quintile = None;
            r.lsoas = lsoas;
            r
        };
        let lsoas = vec![
            lsoa("A", "Z", "W", 2),
            lsoa("B", "Z", "W", 3),
            lsoa("C", "Z2", "W", 4),
            lsoa("D", "Z2", "W2", 20),
            lsoa("E", "Z2", "W2", 30),
        ];
        let tables = UptakeTables {
            zones: vec![
                area(Level::Zone, "Z", 2, (80, 5)),
                area(Level::Zone, "Z2", 3, (120, 54)),
            ],
            wards: vec![
                area(Level::Ward, "W", 3, (120, 9)),
                area(Level::Ward, "W2", 2, (80, 50)),
            ],
            eligible_without_lsoa: Some(0),
            ..tables(lsoas, area(Level::County, "all", 5, (200, 59)))
        };
        let published = suppress(&tables, DEFAULT_THRESHOLD);
        let shown = published.tables();
        assert!(shown.lsoas[2].withheld.attended, "C is small");
        let (zone, ward) = (&shown.zones[0], &shown.wards[0]);
        assert!(
            zone.withheld.attended || ward.withheld.attended,
            "ward {:?} less zone {:?} reveals C",
            ward.attended,
            zone.attended
        );
        // Every published sum still adds up where all its parts are shown.
        let county = shown.county.attended;
        let wards: Option<u64> = shown.wards.iter().map(|w| w.attended).sum();
        if let (Some(county), Some(wards)) = (county, wards) {
            assert_eq!(county, wards);
        }
    }

    /// Ten deciles of one LSOA each, 100 eligible and coverage rising with the
    /// decile, decile 3's attended count `third`.
    fn ten_deciles(third: u64) -> UptakeTables {
        let attended = |d: u8| if d == 3 { third } else { 10 + 5 * u64::from(d) };
        let deciles: Vec<UptakeRow> = (1..=10)
            .map(|d| row(Level::Decile, &d.to_string(), Some(d), (100, attended(d))))
            .collect();
        let lsoas = deciles
            .iter()
            .map(|decile| UptakeRow {
                level: Level::Lsoa,
                code: format!("L{}", decile.code),
                ..decile.clone()
            })
            .collect();
        let total: u64 = (1..=10).map(attended).sum();
        let mut county = row(Level::County, "all", None, (1000, total));
        county.lsoas = 10;
        UptakeTables {
            inequality: vec![stats::inequality("S", Measure::Coverage, &deciles)],
            deciles,
            eligible_without_lsoa: Some(0),
            ..tables(lsoas, county)
        }
    }

    /// Decile 3's attended count is 2, withheld: an SII or RII computed from every
    /// decile would, with the nine shown counts, give it away, so neither is published.
    #[test]
    fn no_inequality_figure_is_published_when_a_decile_count_is_withheld() {
        let tables = ten_deciles(2);
        assert!(tables.inequality[0].sii.is_some(), "the analyst's figure");
        let published = suppress(&tables, DEFAULT_THRESHOLD);
        let shown = &published.tables().inequality[0];
        assert!(published.tables().deciles[2].withheld.attended);
        assert_eq!(
            (
                shown.sii,
                shown.rii,
                shown.mean_rate,
                shown.sii_lower,
                shown.rii_upper
            ),
            (None, None, None, None, None)
        );
        assert!(shown.sentence.contains("withheld"), "{}", shown.sentence);
    }

    /// With every decile shown, the published SII is the slope fitted here to the
    /// published counts (equal shares, ranks 0.05 … 0.95), to 0.1 percentage
    /// points, and the board sentence quotes that rounded value.
    #[test]
    fn the_published_sii_follows_from_the_published_counts_rounded() {
        let published = suppress(&ten_deciles(23), DEFAULT_THRESHOLD);
        let shown = published.tables();
        let points: Vec<(f64, f64)> = shown
            .deciles
            .iter()
            .map(|d| {
                let rank = (f64::from(d.imd_decile.expect("decile")) - 0.5) / 10.0;
                let rate = d.attended.expect("shown") as f64 / d.eligible.expect("shown") as f64;
                (rank, rate)
            })
            .collect();
        let mean_rank = points.iter().map(|(b, _)| b).sum::<f64>() / 10.0;
        let mean_rate = points.iter().map(|(_, y)| y).sum::<f64>() / 10.0;
        let slope = points
            .iter()
            .map(|(b, y)| (b - mean_rank) * (y - mean_rate))
            .sum::<f64>()
            / points
                .iter()
                .map(|(b, _)| (b - mean_rank).powi(2))
                .sum::<f64>();
        let figure = &shown.inequality[0];
        let sii = figure.sii.expect("published");
        assert!((sii - slope).abs() <= 0.0005 + 1e-12, "{sii} vs {slope}");
        assert!(
            ((sii * 1000.0).round() - sii * 1000.0).abs() < 1e-9,
            "{sii} rounded"
        );
        let rii = figure.rii.expect("rii");
        assert!((rii - slope / mean_rate).abs() <= 0.005 + 0.01, "{rii}");
        assert!(
            ((rii * 100.0).round() - rii * 100.0).abs() < 1e-9,
            "{rii} rounded"
        );
        assert_eq!(figure.mean_rate, Some(stats::round_to(mean_rate, 3)));
        assert!(
            figure
                .sentence
                .contains(&format!("{:+.1} points", sii * 100.0)),
            "{}",
            figure.sentence
        );
    }

    /// Rank of a matrix over the integers modulo a large prime: exact, and
    /// independent of the elimination suppression uses.
    fn rank_mod_p(mut matrix: Vec<Vec<i64>>) -> usize {
        const P: i64 = 1_000_000_007;
        let power = |mut base: i64, mut exp: i64| {
            let mut out = 1;
            base = base.rem_euclid(P);
            while exp > 0 {
                if exp & 1 == 1 {
                    out = out * base % P;
                }
                base = base * base % P;
                exp >>= 1;
            }
            out
        };
        let columns = matrix.first().map_or(0, Vec::len);
        let mut rank = 0;
        for col in 0..columns {
            let Some(pivot) = (rank..matrix.len()).find(|&r| matrix[r][col].rem_euclid(P) != 0)
            else {
                continue;
            };
            matrix.swap(rank, pivot);
            let inverse = power(matrix[rank][col], P - 2);
            let pivot_row = matrix[rank].clone();
            for (r, row) in matrix.iter_mut().enumerate() {
                if r != rank {
                    let factor = row[col].rem_euclid(P) * inverse % P;
                    for (value, pivot) in row.iter_mut().zip(&pivot_row) {
                        *value = (*value - factor * pivot).rem_euclid(P);
                    }
                }
            }
            rank += 1;
        }
        rank
    }

    /// Three wards of three LSOAs, one in each of deciles 1–3, every count 25 or
    /// more but one of 2. Ward, decile and county totals are all published, so
    /// the fewest LSOAs that protect the 2 are a rectangle of four (two wards by
    /// two deciles): that is what is withheld, every total stays published, and
    /// no withheld count follows from the published sums (checked by rank).
    #[test]
    fn one_small_count_costs_a_rectangle_and_no_more() {
        // Ward by decile. Taking the smallest part of each sum with one withheld
        // member goes 2 → 25 (ward 1) → 26 (decile 1) → 27 (ward 2) → 28
        // (decile 3) → 29 (ward 3): six counts where four protect the 2.
        const ATTENDED: [[u64; 3]; 3] = [[2, 25, 40], [26, 45, 27], [30, 29, 28]];
        let mut lsoas = Vec::new();
        for ward in 1..=3u64 {
            for decile in 1..=3u8 {
                let attended = ATTENDED[ward as usize - 1][usize::from(decile) - 1];
                let mut r = row(
                    Level::Lsoa,
                    &format!("W{ward}D{decile}"),
                    Some(decile),
                    (100, attended),
                );
                r.ward_code = Some(format!("W{ward}"));
                lsoas.push(r);
            }
        }
        let total = |keep: &dyn Fn(&UptakeRow) -> bool| -> (u64, u64) {
            let kept: Vec<&UptakeRow> = lsoas.iter().filter(|r| keep(r)).collect();
            (
                kept.iter().map(|r| r.eligible.unwrap()).sum(),
                kept.iter().map(|r| r.attended.unwrap()).sum(),
            )
        };
        let area = |level: Level, code: &str, decile: Option<u8>, counts: (u64, u64)| {
            let mut r = row(level, code, decile, counts);
            r.imd_quintile = None;
            r.lsoas = 3;
            r
        };
        let wards: Vec<UptakeRow> = (1..=3)
            .map(|w| {
                let code = format!("W{w}");
                area(
                    Level::Ward,
                    &code,
                    None,
                    total(&|r| r.ward_code.as_deref() == Some(code.as_str())),
                )
            })
            .collect();
        let deciles: Vec<UptakeRow> = (1..=3u8)
            .map(|d| {
                area(
                    Level::Decile,
                    &d.to_string(),
                    Some(d),
                    total(&|r| r.imd_decile == Some(d)),
                )
            })
            .collect();
        let mut county = area(Level::County, "all", None, total(&|_| true));
        county.lsoas = 9;
        for r in &mut lsoas {
            r.imd_quintile = None;
        }
        let tables = UptakeTables {
            wards,
            deciles,
            eligible_without_lsoa: Some(0),
            ..tables(lsoas, county)
        };
        let published = suppress(&tables, DEFAULT_THRESHOLD);
        let shown = published.tables();
        let withheld: Vec<&UptakeRow> =
            shown.lsoas.iter().filter(|r| r.withheld.attended).collect();
        assert_eq!(
            withheld.len(),
            4,
            "{:?}",
            withheld.iter().map(|r| &r.code).collect::<Vec<_>>()
        );
        assert!(shown.lsoas[0].withheld.attended, "the small count");
        let wards_of: std::collections::BTreeSet<_> =
            withheld.iter().map(|r| r.ward_code.clone()).collect();
        let deciles_of: std::collections::BTreeSet<_> =
            withheld.iter().map(|r| r.imd_decile).collect();
        assert_eq!((wards_of.len(), deciles_of.len()), (2, 2), "a rectangle");
        assert!(
            shown
                .wards
                .iter()
                .chain(&shown.deciles)
                .all(|r| r.attended.is_some())
        );
        assert!(shown.county.attended.is_some());
        // The sums a reader has, as equations in the withheld LSOAs: each ward's,
        // each decile's and the county's. A withheld count is determined exactly
        // when dropping its column lowers the rank.
        let hidden: Vec<&UptakeRow> = withheld;
        let equation = |keep: &dyn Fn(&UptakeRow) -> bool| -> Vec<i64> {
            hidden.iter().map(|r| i64::from(keep(r))).collect()
        };
        let mut sums: Vec<Vec<i64>> = Vec::new();
        for w in 1..=3 {
            let code = format!("W{w}");
            sums.push(equation(&|r| r.ward_code.as_deref() == Some(code.as_str())));
        }
        for d in 1..=3u8 {
            sums.push(equation(&|r| r.imd_decile == Some(d)));
        }
        sums.push(equation(&|_| true));
        let full = rank_mod_p(sums.clone());
        for (j, cell) in hidden.iter().enumerate() {
            let without: Vec<Vec<i64>> = sums
                .iter()
                .map(|row| {
                    row.iter()
                        .enumerate()
                        .filter(|&(c, _)| c != j)
                        .map(|(_, &v)| v)
                        .collect()
                })
                .collect();
            assert_eq!(
                rank_mod_p(without),
                full,
                "{} follows from the published sums",
                cell.code
            );
        }
    }
}
