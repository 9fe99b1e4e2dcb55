//! The real geography the synthetic county lives in: LSOAs with their IMD decile
//! and child population, and family partnership zones built from them.
//!
//! Zones: within each authority, k = clamp(round(LSOAs / 22), 8, 20) seeds are
//! spread by farthest-point sampling over LSOA centroids, then grown over the
//! polygon adjacency graph (LSOAs sharing a boundary vertex) by multi-source
//! breadth-first search, which makes every zone contiguous. LSOAs the graph does
//! not reach (islands) join the zone of the nearest assigned centroid. Each zone
//! is named after the 2013 ward containing its seed's centroid.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use geo::{Centroid, Contains, Point};

use super::SynthError;
use crate::geo::boundaries::{AreaBoundary, load_boundaries};

/// One LSOA the generator may place families in.
#[derive(Debug, Clone)]
pub struct Lsoa {
    pub code: String,
    pub lad_code: String,
    pub lad_name: String,
    pub imd_decile: u8,
    pub population_0_17: u32,
    pub centroid: (f64, f64),
    /// Index of the LSOA within its authority, used for synthetic postcode districts.
    pub index_in_lad: usize,
}

/// A family partnership zone.
#[derive(Debug, Clone)]
pub struct Zone {
    pub id: String,
    pub name: String,
    pub lad_code: String,
}

/// The LSOAs (sorted by code) and zones of the chosen authorities.
pub struct Geography {
    pub lsoas: Vec<Lsoa>,
    pub zones: Vec<Zone>,
    /// Zone index for each LSOA, parallel to `lsoas`.
    pub zone_of: Vec<usize>,
    /// Adjacency lists over `lsoas` indices (for tests of contiguity).
    pub neighbours: Vec<Vec<usize>>,
}

/// File names inside the reference folder.
const IMD_FILE: &str = "imd2019_lsoa11.csv";
const POPULATION_FILE: &str = "population_mid2020_lsoa11.csv";
const LSOA_SHAPES: &str = "lsoa2011_bgc_bcp_dorset_northumberland.shp";
const WARD_SHAPES: &str = "wards2013_bgc_bcp_dorset_northumberland.shp";

/// Reads the reference folder and builds the zones of the chosen authorities.
pub fn load_geography(
    reference_dir: &Path,
    authorities: &[String],
) -> Result<Geography, SynthError> {
    let imd_path = reference_dir.join(IMD_FILE);
    let population = read_population(&reference_dir.join(POPULATION_FILE))?;
    let boundaries = load_boundaries(&reference_dir.join(LSOA_SHAPES), "LSOA11CD", "LSOA11NM")?;
    let shapes: BTreeMap<&str, &AreaBoundary> =
        boundaries.iter().map(|b| (b.code.as_str(), b)).collect();

    let mut reader =
        csv::Reader::from_path(&imd_path).map_err(|e| SynthError::reference(&imd_path, e))?;
    let mut lsoas = Vec::new();
    for record in reader.deserialize::<ImdRow>() {
        let row = record.map_err(|e| SynthError::reference(&imd_path, e))?;
        if !authorities.is_empty() && !authorities.contains(&row.lad19cd) {
            continue;
        }
        let Some(shape) = shapes.get(row.lsoa11cd.as_str()) else {
            continue;
        };
        let centroid = shape
            .geometry
            .centroid()
            .map(|p| (p.x(), p.y()))
            .unwrap_or_default();
        lsoas.push(Lsoa {
            population_0_17: population.get(&row.lsoa11cd).copied().unwrap_or(0),
            code: row.lsoa11cd,
            lad_code: row.lad19cd,
            lad_name: row.lad19nm,
            imd_decile: row.imd_decile,
            centroid,
            index_in_lad: 0,
        });
    }
    if lsoas.is_empty() {
        return Err(SynthError::Reference {
            file: imd_path,
            message: format!("no LSOAs with boundaries for authorities {authorities:?}"),
        });
    }
    lsoas.sort_by(|a, b| a.code.cmp(&b.code));
    let mut seen_per_lad: BTreeMap<String, usize> = BTreeMap::new();
    for lsoa in &mut lsoas {
        let count = seen_per_lad.entry(lsoa.lad_code.clone()).or_default();
        lsoa.index_in_lad = *count;
        *count += 1;
    }
    let neighbours = adjacency(&lsoas, &shapes);
    let wards = load_boundaries(&reference_dir.join(WARD_SHAPES), "WD13CD", "WD13NM")?;
    let (zones, zone_of) = build_zones(&lsoas, &neighbours, &wards);
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

/// LSOAs are neighbours when their boundaries share a vertex (to the centimetre).
fn adjacency(lsoas: &[Lsoa], shapes: &BTreeMap<&str, &AreaBoundary>) -> Vec<Vec<usize>> {
    let mut by_vertex: BTreeMap<(i64, i64), BTreeSet<usize>> = BTreeMap::new();
    for (index, lsoa) in lsoas.iter().enumerate() {
        let Some(shape) = shapes.get(lsoa.code.as_str()) else {
            continue;
        };
        for polygon in &shape.geometry.0 {
            for coord in polygon.exterior().coords() {
                let key = (
                    (coord.x * 100.0).round() as i64,
                    (coord.y * 100.0).round() as i64,
                );
                by_vertex.entry(key).or_default().insert(index);
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

fn build_zones(
    lsoas: &[Lsoa],
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
        let k = ((members.len() as f64 / 22.0).round() as usize)
            .clamp(8, 20)
            .min(members.len());
        // Farthest-point sampling from the first LSOA by code: deterministic and spread out.
        let mut seeds = vec![members[0]];
        while seeds.len() < k {
            let next = members
                .iter()
                .copied()
                .filter(|m| !seeds.contains(m))
                .max_by(|&a, &b| {
                    let da = seeds
                        .iter()
                        .map(|&s| distance2(lsoas[a].centroid, lsoas[s].centroid))
                        .fold(f64::MAX, f64::min);
                    let db = seeds
                        .iter()
                        .map(|&s| distance2(lsoas[b].centroid, lsoas[s].centroid))
                        .fold(f64::MAX, f64::min);
                    da.total_cmp(&db).then(b.cmp(&a))
                });
            match next {
                Some(next) => seeds.push(next),
                None => break,
            }
        }
        let first_zone = zones.len();
        let mut queue = VecDeque::new();
        for (n, &seed) in seeds.iter().enumerate() {
            zone_of[seed] = first_zone + n;
            queue.push_back(seed);
            zones.push(Zone {
                id: format!("{}-{:02}", lad_short(lad), n + 1),
                name: zone_name(&lsoas[seed], wards, n + 1),
                lad_code: lad.to_string(),
            });
        }
        while let Some(current) = queue.pop_front() {
            for &next in &neighbours[current] {
                if zone_of[next] == usize::MAX && lsoas[next].lad_code == lad {
                    zone_of[next] = zone_of[current];
                    queue.push_back(next);
                }
            }
        }
        // Islands and other unreached LSOAs join the zone of the nearest reached one.
        for &m in &members {
            if zone_of[m] == usize::MAX {
                let nearest = members
                    .iter()
                    .copied()
                    .filter(|&o| zone_of[o] != usize::MAX)
                    .min_by(|&a, &b| {
                        distance2(lsoas[m].centroid, lsoas[a].centroid)
                            .total_cmp(&distance2(lsoas[m].centroid, lsoas[b].centroid))
                    });
                zone_of[m] = nearest.map_or(first_zone, |n| zone_of[n]);
            }
        }
    }
    (zones, zone_of)
}

fn lad_short(lad_code: &str) -> &str {
    match lad_code {
        "E06000058" => "BCP",
        "E06000059" => "DOR",
        "E06000057" => "NBD",
        other => other,
    }
}

/// The name of the ward containing the seed's centroid, else "<authority> zone N".
fn zone_name(seed: &Lsoa, wards: &[AreaBoundary], number: usize) -> String {
    let point = Point::new(seed.centroid.0, seed.centroid.1);
    wards
        .iter()
        .find(|w| w.geometry.contains(&point))
        .map(|w| w.name.clone())
        .unwrap_or_else(|| format!("{} zone {number}", seed.lad_name))
}
