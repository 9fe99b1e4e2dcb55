//! The real geography the synthetic county lives in: LSOAs with their IMD decile,
//! child population, synthetic streets and postcodes, and the family partnership
//! zones built from them.
//!
//! Zones, per authority: k = clamp(round(LSOAs / 22), 8, 20) seeds are spread by
//! farthest-point sampling over the polygon adjacency graph (hop distance, so a
//! dense town gets more seeds than a wide moor), then zones grow from their seeds
//! over that graph, the zone with the fewest children taking the next LSOA on its
//! frontier, which keeps every zone contiguous and their child populations close.
//! LSOAs the graph does not connect to the authority's mainland (islands) join
//! the zone of the nearest LSOA. Each zone is named after the 2013 ward containing
//! its seed's centroid.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use geo::{Centroid, Contains, InteriorPoint, Point};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::SynthError;
use super::places::{self, STREET_KINDS, STREETS, UNIT_LETTERS};
use crate::geo::boundaries::{AreaBoundary, WARD_FIELDS, load_boundaries, load_lsoa_boundaries};

/// One LSOA the generator may place families in.
#[derive(Debug, Clone)]
pub struct Lsoa {
    /// LSOA 2011 code.
    pub code: String,
    /// LAD 2019 code of its authority.
    pub lad_code: String,
    /// LAD 2019 name of its authority.
    pub lad_name: String,
    /// IMD 2019 decile: 1 is England's most deprived tenth.
    pub imd_decile: u8,
    /// ONS mid-2020 population aged 0–17, the weight for placing families.
    pub population_0_17: u32,
    /// Centroid in British National Grid metres.
    pub centroid: (f64, f64),
    /// The nearest town, written in addresses.
    pub town: &'static str,
    /// The LSOA's synthetic streets, each with its own postcode unit.
    pub streets: Vec<Street>,
    /// URN of the synthetic primary school serving the LSOA.
    pub primary_school: String,
    /// URN of the synthetic secondary school serving the LSOA.
    pub secondary_school: String,
}

/// A synthetic street and its postcode.
#[derive(Debug, Clone)]
pub struct Street {
    /// Full name ("Heron Close").
    pub name: String,
    /// The name as systems that abbreviate store it ("Heron Cl").
    pub abbreviated: String,
    /// Synthetic unit postcode in a real postcode area ("BH10 3JN").
    pub postcode: String,
}

/// A family partnership zone.
#[derive(Debug, Clone)]
pub struct Zone {
    /// Short id such as `BCP-03`.
    pub id: String,
    /// Ward name of its seed, or "<authority> zone N".
    pub name: String,
    /// LAD 2019 code of its authority.
    pub lad_code: String,
    /// Index (into `Geography::lsoas`) of the LSOA it grew from.
    pub seed: usize,
}

/// The LSOAs (sorted by code) and zones of the chosen authorities.
pub struct Geography {
    /// LSOAs of the chosen authorities, sorted by code.
    pub lsoas: Vec<Lsoa>,
    /// Zones, authority by authority.
    pub zones: Vec<Zone>,
    /// Zone index for each LSOA, parallel to `lsoas`.
    pub zone_of: Vec<usize>,
    /// Adjacency lists over `lsoas` indices: LSOAs whose boundaries share a vertex.
    pub neighbours: Vec<Vec<usize>>,
}

/// File names inside the reference folder.
pub const IMD_FILE: &str = "imd2019_lsoa11.csv";
/// ONS mid-2020 population by LSOA 2011.
pub const POPULATION_FILE: &str = "population_mid2020_lsoa11.csv";
/// LSOA 2011 boundaries (British National Grid).
pub const LSOA_SHAPES: &str = "lsoa2011_bgc_bcp_dorset_northumberland.shp";
/// Electoral ward 2013 boundaries, for zone names.
pub const WARD_SHAPES: &str = "wards2013_bgc_bcp_dorset_northumberland.shp";

/// LSOAs per zone the zone count aims at, before clamping to 8–20.
const LSOAS_PER_ZONE: f64 = 22.0;
/// LSOAs in one synthetic postcode district (one sector each).
const LSOAS_PER_DISTRICT: usize = 9;
/// Streets (and postcode units) per LSOA.
const STREETS_PER_LSOA: usize = 6;
/// LSOAs served by one primary and one secondary school.
const LSOAS_PER_PRIMARY: usize = 3;
const LSOAS_PER_SECONDARY: usize = 10;

/// Reads the reference folder and builds the zones of the chosen authorities
/// (all authorities with boundaries when `authorities` is empty).
pub fn load_geography(
    reference_dir: &Path,
    authorities: &[String],
) -> Result<Geography, SynthError> {
    let imd_path = reference_dir.join(IMD_FILE);
    let population_path = reference_dir.join(POPULATION_FILE);
    let population = read_population(&population_path)?;
    let boundaries = load_lsoa_boundaries(&reference_dir.join(LSOA_SHAPES))?;
    let shapes: BTreeMap<&str, &AreaBoundary> =
        boundaries.iter().map(|b| (b.code.as_str(), b)).collect();

    let mut reader =
        csv::Reader::from_path(&imd_path).map_err(|e| SynthError::reference(&imd_path, e))?;
    // Every LSOA with a boundary, so that postcodes and schools do not depend on
    // which authorities were chosen.
    let mut all = Vec::new();
    for record in reader.deserialize::<ImdRow>() {
        let row = record.map_err(|e| SynthError::reference(&imd_path, e))?;
        let Some(shape) = shapes.get(row.lsoa11cd.as_str()) else {
            continue;
        };
        if !(1..=10).contains(&row.imd_decile) {
            return Err(SynthError::reference(
                &imd_path,
                format!(
                    "{}: imd_decile {} is not 1–10",
                    row.lsoa11cd, row.imd_decile
                ),
            ));
        }
        let Some(&population_0_17) = population.get(&row.lsoa11cd) else {
            return Err(SynthError::reference(
                &population_path,
                format!("no pop_0_17 for {}", row.lsoa11cd),
            ));
        };
        let centroid = shape
            .geometry
            .centroid()
            .map(|p| (p.x(), p.y()))
            .unwrap_or_default();
        all.push(Lsoa {
            town: places::nearest_town(&row.lad19cd, centroid, "Newtown"),
            code: row.lsoa11cd,
            lad_code: row.lad19cd,
            lad_name: row.lad19nm,
            imd_decile: row.imd_decile,
            population_0_17,
            centroid,
            streets: Vec::new(),
            primary_school: String::new(),
            secondary_school: String::new(),
        });
    }
    all.sort_by(|a, b| a.code.cmp(&b.code));
    assign_streets_and_schools(&mut all);

    let known: BTreeSet<&str> = all.iter().map(|l| l.lad_code.as_str()).collect();
    let unknown: Vec<&String> = authorities
        .iter()
        .filter(|a| !known.contains(a.as_str()))
        .collect();
    if !unknown.is_empty() || known.is_empty() {
        return Err(SynthError::reference(
            &imd_path,
            format!(
                "no LSOAs with boundaries for authorities {unknown:?}; the reference data has {known:?}"
            ),
        ));
    }
    let lsoas: Vec<Lsoa> = all
        .into_iter()
        .filter(|l| authorities.is_empty() || authorities.contains(&l.lad_code))
        .collect();
    let neighbours = adjacency(&lsoas, &shapes);
    let wards = load_boundaries(
        &reference_dir.join(WARD_SHAPES),
        WARD_FIELDS.0,
        WARD_FIELDS.1,
    )?;
    let (zones, zone_of) = build_zones(&lsoas, &shapes, &neighbours, &wards);
    Ok(Geography {
        lsoas,
        zones,
        zone_of,
        neighbours,
    })
}

#[derive(serde::Deserialize)]
struct ImdRow {
    lsoa11cd: String,
    lad19cd: String,
    lad19nm: String,
    imd_decile: u8,
}

fn read_population(path: &Path) -> Result<BTreeMap<String, u32>, SynthError> {
    #[derive(serde::Deserialize)]
    struct Row {
        lsoa11cd: String,
        pop_0_17: u32,
    }
    let mut reader = csv::Reader::from_path(path).map_err(|e| SynthError::reference(path, e))?;
    reader
        .deserialize::<Row>()
        .map(|row| {
            row.map(|r| (r.lsoa11cd, r.pop_0_17))
                .map_err(|e| SynthError::reference(path, e))
        })
        .collect()
}

/// A stable seed from an LSOA code, so an LSOA's streets are the same in every run.
fn code_seed(code: &str) -> u64 {
    // FNV-1a: tiny, and fixed across Rust versions (unlike the std hasher).
    code.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Gives every LSOA its postcode sector and streets, and its schools.
///
/// Within each postcode area, LSOAs are taken town by town; each run of nine
/// becomes one synthetic district, one sector per LSOA.
fn assign_streets_and_schools(lsoas: &mut [Lsoa]) {
    let mut by_area: BTreeMap<(&'static str, &'static str, String), usize> = BTreeMap::new();
    for (index, lsoa) in lsoas.iter().enumerate() {
        let area = places::postcode_area(&lsoa.lad_code, lsoa.centroid);
        by_area.insert((area, lsoa.town, lsoa.code.clone()), index);
    }
    let mut district_of_area: BTreeMap<&str, usize> = BTreeMap::new();
    let mut previous_town = "";
    let mut previous_area = "";
    let mut in_district = LSOAS_PER_DISTRICT;
    let mut in_primary = LSOAS_PER_PRIMARY;
    let mut in_secondary = LSOAS_PER_SECONDARY;
    let (mut primary, mut secondary) = (110_000, 140_000);
    for ((area, town, _), index) in by_area {
        let new_town = town != previous_town || area != previous_area;
        if new_town || in_district == LSOAS_PER_DISTRICT {
            *district_of_area.entry(area).or_insert(0) += 1;
            in_district = 0;
        }
        if new_town || in_primary == LSOAS_PER_PRIMARY {
            primary += 1;
            in_primary = 0;
        }
        if new_town || in_secondary == LSOAS_PER_SECONDARY {
            secondary += 1;
            in_secondary = 0;
        }
        previous_town = town;
        previous_area = area;
        let district = district_of_area.get(area).copied().unwrap_or(1);
        let sector = in_district + 1;
        in_district += 1;
        in_primary += 1;
        in_secondary += 1;

        let lsoa = &mut lsoas[index];
        lsoa.primary_school = primary.to_string();
        lsoa.secondary_school = secondary.to_string();
        let mut rng = ChaCha8Rng::seed_from_u64(code_seed(&lsoa.code));
        let mut units = BTreeSet::new();
        let mut names = BTreeSet::new();
        while lsoa.streets.len() < STREETS_PER_LSOA {
            let unit = [
                UNIT_LETTERS[rng.random_range(0..UNIT_LETTERS.len())],
                UNIT_LETTERS[rng.random_range(0..UNIT_LETTERS.len())],
            ];
            let stem = STREETS[rng.random_range(0..STREETS.len())];
            let (kind, short) = STREET_KINDS[rng.random_range(0..STREET_KINDS.len())];
            if !units.insert(unit) || !names.insert(stem) {
                continue;
            }
            lsoa.streets.push(Street {
                name: format!("{stem} {kind}"),
                abbreviated: format!("{stem} {short}"),
                postcode: format!(
                    "{area}{district} {sector}{}{}",
                    unit[0] as char, unit[1] as char
                ),
            });
        }
    }
}

/// LSOAs are neighbours when their boundaries share a vertex (to the centimetre).
fn adjacency(lsoas: &[Lsoa], shapes: &BTreeMap<&str, &AreaBoundary>) -> Vec<Vec<usize>> {
    let mut by_vertex: BTreeMap<(i64, i64), BTreeSet<usize>> = BTreeMap::new();
    for (index, lsoa) in lsoas.iter().enumerate() {
        let Some(shape) = shapes.get(lsoa.code.as_str()) else {
            continue;
        };
        for polygon in &shape.geometry.0 {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                for coord in ring.coords() {
                    let key = (
                        (coord.x * 100.0).round() as i64,
                        (coord.y * 100.0).round() as i64,
                    );
                    by_vertex.entry(key).or_default().insert(index);
                }
            }
        }
    }
    let mut neighbours = vec![BTreeSet::new(); lsoas.len()];
    for sharing in by_vertex.values().filter(|s| s.len() > 1) {
        for &a in sharing {
            for &b in sharing {
                if a != b {
                    neighbours[a].insert(b);
                }
            }
        }
    }
    neighbours
        .into_iter()
        .map(|s| s.into_iter().collect())
        .collect()
}

fn distance2(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)
}

/// Connected pieces of `members` in the graph restricted to them, largest first
/// (ties by lowest index), each sorted.
fn components(members: &[usize], neighbours: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let inside: BTreeSet<usize> = members.iter().copied().collect();
    let mut seen = BTreeSet::new();
    let mut pieces = Vec::new();
    for &start in members {
        if !seen.insert(start) {
            continue;
        }
        let mut piece = vec![start];
        let mut queue = VecDeque::from([start]);
        while let Some(current) = queue.pop_front() {
            for &next in &neighbours[current] {
                if inside.contains(&next) && seen.insert(next) {
                    piece.push(next);
                    queue.push_back(next);
                }
            }
        }
        piece.sort_unstable();
        pieces.push(piece);
    }
    pieces.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    pieces
}

/// Hop distances from `sources` over the graph restricted to `inside`.
fn hops_from(
    sources: &[usize],
    inside: &BTreeSet<usize>,
    neighbours: &[Vec<usize>],
) -> BTreeMap<usize, usize> {
    let mut distance = BTreeMap::new();
    let mut queue = VecDeque::new();
    for &source in sources {
        distance.insert(source, 0);
        queue.push_back(source);
    }
    while let Some(current) = queue.pop_front() {
        let next_distance = distance[&current] + 1;
        for &next in &neighbours[current] {
            if inside.contains(&next) && !distance.contains_key(&next) {
                distance.insert(next, next_distance);
                queue.push_back(next);
            }
        }
    }
    distance
}

/// Farthest-point sampling by hop distance on the mainland, starting from the LSOA
/// nearest the child-weighted centre; ties go to the farther centroid, then the lower index.
fn spread_seeds(
    lsoas: &[Lsoa],
    mainland: &[usize],
    neighbours: &[Vec<usize>],
    k: usize,
) -> Vec<usize> {
    let weight: f64 = mainland
        .iter()
        .map(|&i| f64::from(lsoas[i].population_0_17.max(1)))
        .sum();
    let centre = mainland.iter().fold((0.0, 0.0), |acc, &i| {
        let w = f64::from(lsoas[i].population_0_17.max(1)) / weight;
        (
            acc.0 + w * lsoas[i].centroid.0,
            acc.1 + w * lsoas[i].centroid.1,
        )
    });
    let Some(first) = mainland.iter().copied().min_by(|&a, &b| {
        distance2(lsoas[a].centroid, centre).total_cmp(&distance2(lsoas[b].centroid, centre))
    }) else {
        return Vec::new();
    };
    let inside: BTreeSet<usize> = mainland.iter().copied().collect();
    let mut seeds = vec![first];
    while seeds.len() < k {
        let hops = hops_from(&seeds, &inside, neighbours);
        let nearest_seed = |i: usize| {
            seeds
                .iter()
                .map(|&s| distance2(lsoas[i].centroid, lsoas[s].centroid))
                .fold(f64::MAX, f64::min)
        };
        let next = mainland
            .iter()
            .copied()
            .filter(|m| !seeds.contains(m))
            .max_by(|&a, &b| {
                let ha = hops.get(&a).copied().unwrap_or(0);
                let hb = hops.get(&b).copied().unwrap_or(0);
                ha.cmp(&hb)
                    .then(nearest_seed(a).total_cmp(&nearest_seed(b)))
                    .then(b.cmp(&a))
            });
        match next {
            Some(next) => seeds.push(next),
            None => break,
        }
    }
    seeds
}

fn build_zones(
    lsoas: &[Lsoa],
    shapes: &BTreeMap<&str, &AreaBoundary>,
    neighbours: &[Vec<usize>],
    wards: &[AreaBoundary],
) -> (Vec<Zone>, Vec<usize>) {
    let mut zones = Vec::new();
    let mut zone_of = vec![usize::MAX; lsoas.len()];
    let lads: BTreeSet<&str> = lsoas.iter().map(|l| l.lad_code.as_str()).collect();
    for lad in lads {
        let members: Vec<usize> = (0..lsoas.len())
            .filter(|&i| lsoas[i].lad_code == lad)
            .collect();
        let pieces = components(&members, neighbours);
        let Some(mainland) = pieces.first() else {
            continue;
        };
        let k = ((members.len() as f64 / LSOAS_PER_ZONE).round() as usize)
            .clamp(8, 20)
            .min(mainland.len());
        let seeds = spread_seeds(lsoas, mainland, neighbours, k);
        let first_zone = zones.len();
        let mut children = Vec::with_capacity(seeds.len());
        let mut used_names = BTreeSet::new();
        for (n, &seed) in seeds.iter().enumerate() {
            zone_of[seed] = first_zone + n;
            children.push(u64::from(lsoas[seed].population_0_17));
            let mut name = zone_name(
                &lsoas[seed],
                shapes.get(lsoas[seed].code.as_str()).copied(),
                wards,
                n + 1,
            );
            if !used_names.insert(name.clone()) {
                // Two seeds in one ward: the second takes the plain numbered name.
                name = format!("{} zone {}", lsoas[seed].lad_name, n + 1);
                used_names.insert(name.clone());
            }
            zones.push(Zone {
                id: format!("{}-{:02}", places::authority_short_name(lad), n + 1),
                name,
                lad_code: lad.to_string(),
                seed,
            });
        }
        // Growth: the zone with the fewest children takes its frontier LSOA nearest its
        // seed. Each step adds a neighbour of the zone, so zones stay contiguous.
        let on_mainland: BTreeSet<usize> = mainland.iter().copied().collect();
        loop {
            let mut best: Option<(u64, usize, usize)> = None;
            for (n, &seed) in seeds.iter().enumerate() {
                let zone = first_zone + n;
                if best.is_some_and(|(c, _, _)| children[n] >= c) {
                    continue;
                }
                let frontier = mainland
                    .iter()
                    .copied()
                    .filter(|&m| {
                        zone_of[m] == usize::MAX
                            && neighbours[m].iter().any(|&o| zone_of[o] == zone)
                    })
                    .min_by(|&a, &b| {
                        distance2(lsoas[a].centroid, lsoas[seed].centroid)
                            .total_cmp(&distance2(lsoas[b].centroid, lsoas[seed].centroid))
                            .then(a.cmp(&b))
                    });
                if let Some(next) = frontier {
                    best = Some((children[n], n, next));
                }
            }
            let Some((_, n, next)) = best else {
                break;
            };
            zone_of[next] = first_zone + n;
            children[n] += u64::from(lsoas[next].population_0_17);
        }
        debug_assert!(on_mainland.iter().all(|&m| zone_of[m] != usize::MAX));
        // Islands: each piece joins, whole, the zone of the nearest assigned LSOA.
        for piece in pieces.iter().skip(1) {
            let nearest = piece
                .iter()
                .flat_map(|&p| {
                    mainland
                        .iter()
                        .map(move |&m| (distance2(lsoas[p].centroid, lsoas[m].centroid), m))
                })
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let zone = nearest.map_or(first_zone, |(_, m)| zone_of[m]);
            for &p in piece {
                zone_of[p] = zone;
            }
        }
    }
    (zones, zone_of)
}

/// The name of the ward containing the seed's centroid (or, for an LSOA whose
/// centroid falls outside it, a point inside the LSOA), else "<authority> zone N".
fn zone_name(
    seed: &Lsoa,
    shape: Option<&AreaBoundary>,
    wards: &[AreaBoundary],
    number: usize,
) -> String {
    let centroid = Point::new(seed.centroid.0, seed.centroid.1);
    let inside = shape.and_then(|s| s.geometry.interior_point());
    std::iter::once(centroid)
        .chain(inside)
        .find_map(|point| wards.iter().find(|w| w.geometry.contains(&point)))
        .map(|w| w.name.clone())
        .unwrap_or_else(|| format!("{} zone {number}", seed.lad_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geography() -> Geography {
        let reference = crate::bundled::repository_dir().join("data-samples/ref");
        load_geography(&reference, &[]).expect("geography")
    }

    #[test]
    fn postcodes_and_streets_are_unique_and_well_formed() {
        let geography = geography();
        let mut postcodes = BTreeSet::new();
        let mut sectors = BTreeSet::new();
        for lsoa in &geography.lsoas {
            assert_eq!(lsoa.streets.len(), STREETS_PER_LSOA);
            let sector = &lsoa.streets[0].postcode[..lsoa.streets[0].postcode.len() - 2];
            assert!(sectors.insert(sector.to_string()), "sector {sector} shared");
            for street in &lsoa.streets {
                assert!(
                    postcodes.insert(street.postcode.clone()),
                    "{}",
                    street.postcode
                );
                assert!(street.postcode.starts_with(sector));
                let (outward, inward) = street.postcode.split_once(' ').expect("space");
                assert!(outward.len() >= 3 && outward.len() <= 4, "{outward}");
                assert_eq!(inward.len(), 3, "{inward}");
            }
        }
    }

    #[test]
    fn choosing_an_authority_keeps_its_postcodes() {
        let reference = crate::bundled::repository_dir().join("data-samples/ref");
        let dorset = load_geography(&reference, &["E06000059".to_string()]).expect("dorset alone");
        let all = geography();
        assert!(dorset.lsoas.iter().all(|l| l.lad_code == "E06000059"));
        for lsoa in &dorset.lsoas {
            let same = all
                .lsoas
                .iter()
                .find(|l| l.code == lsoa.code)
                .expect("in all");
            assert_eq!(same.streets[0].postcode, lsoa.streets[0].postcode);
        }
    }

    #[test]
    fn unknown_authority_is_refused() {
        let reference = crate::bundled::repository_dir().join("data-samples/ref");
        let error = load_geography(&reference, &["E09000001".to_string()])
            .err()
            .expect("unknown code refused");
        assert!(error.to_string().contains("E09000001"), "{error}");
    }
}
