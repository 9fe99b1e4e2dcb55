//! Areas' boundaries as shared arcs, so that simplification cannot open slivers
//! between neighbours: each ring is cut at its junctions (vertices where the
//! areas on either side change), every stretch of border is kept once however
//! many rings run along it, and each arc is simplified once with its ends fixed.
//! Two neighbours then draw identical vertices along their border at every level
//! of detail.
//!
//! The ONS boundaries are generalised as one network, so neighbours share exact
//! vertex coordinates along their common borders (in the county's shapefile
//! 22,541 of 28,980 edges belong to two LSOAs and the rest lie on the county's
//! outer edge; in England's file 176,621 of 186,669), and arcs are found by
//! comparing coordinates exactly.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use geo::{Coord, LineString, MultiPolygon, Simplify};

/// A vertex's exact coordinates, as a hash key.
type Key = [u64; 2];

fn key(c: Coord<f64>) -> Key {
    [c.x.to_bits(), c.y.to_bits()]
}

/// An arc as a ring runs along it: which arc, and whether backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArcUse {
    pub arc: usize,
    pub reversed: bool,
}

/// A ring as the arcs it runs along, in order.
pub type ArcRing = Vec<ArcUse>;

/// The arcs of a set of areas and how each area's rings are made of them.
#[derive(Debug, Clone, Default)]
pub struct Arcs {
    /// Each arc's vertices from one junction to the next; a ring without
    /// junctions is one closed arc.
    pub lines: Vec<LineString<f64>>,
    /// Per area, per polygon: the exterior ring, then the holes.
    pub areas: Vec<Vec<Vec<ArcRing>>>,
    /// The areas whose rings run along each arc: one on the map's outer edge,
    /// two on a shared border.
    pub users: Vec<Vec<usize>>,
}

impl Arcs {
    /// Splits the rings of `areas` into shared arcs. A ring with fewer than three
    /// distinct vertices has no area and is left out (a polygon with it as its
    /// exterior too).
    pub fn new(areas: &[MultiPolygon<f64>]) -> Arcs {
        let rings: Vec<Vec<Vec<Vec<Coord<f64>>>>> = areas
            .iter()
            .map(|area| {
                area.0
                    .iter()
                    .filter_map(|polygon| {
                        let exterior = open_ring(polygon.exterior());
                        (exterior.len() >= 3).then(|| {
                            std::iter::once(exterior)
                                .chain(
                                    polygon
                                        .interiors()
                                        .iter()
                                        .map(open_ring)
                                        .filter(|hole| hole.len() >= 3),
                                )
                                .collect()
                        })
                    })
                    .collect()
            })
            .collect();
        // A vertex is a junction when the rings through it do not all come from
        // and go to the same two neighbouring vertices: there a border forks, or
        // the map's edge meets a border between two areas.
        let mut neighbours: HashMap<Key, Option<[Key; 2]>> = HashMap::new();
        for ring in rings.iter().flatten().flatten() {
            let n = ring.len();
            for (i, &point) in ring.iter().enumerate() {
                let mut pair = [key(ring[(i + n - 1) % n]), key(ring[(i + 1) % n])];
                pair.sort_unstable();
                match neighbours.entry(key(point)) {
                    Entry::Vacant(entry) => {
                        entry.insert(Some(pair));
                    }
                    Entry::Occupied(mut entry) => {
                        if *entry.get() != Some(pair) {
                            entry.insert(None);
                        }
                    }
                }
            }
        }
        let is_junction = |c: Coord<f64>| neighbours.get(&key(c)) == Some(&None);
        let mut arcs = Arcs::default();
        let mut known: HashMap<Vec<Key>, usize> = HashMap::new();
        for (area, polygons) in rings.iter().enumerate() {
            let area_rings = polygons
                .iter()
                .map(|polygon| {
                    polygon
                        .iter()
                        .map(|ring| arcs.split(ring, area, &is_junction, &mut known))
                        .collect()
                })
                .collect();
            arcs.areas.push(area_rings);
        }
        arcs
    }

    /// Cuts the open ring `ring` of `area` at its junctions into arcs, adding
    /// those not seen before. A ring without junctions starts at its least vertex,
    /// so that the two rings along a closed border (an island and the hole it
    /// fills) make the same arc.
    fn split(
        &mut self,
        ring: &[Coord<f64>],
        area: usize,
        is_junction: &impl Fn(Coord<f64>) -> bool,
        known: &mut HashMap<Vec<Key>, usize>,
    ) -> ArcRing {
        let n = ring.len();
        let start = (0..n)
            .find(|&i| is_junction(ring[i]))
            .or_else(|| (0..n).min_by_key(|&i| key(ring[i])))
            .unwrap_or(0);
        let mut uses = Vec::new();
        let mut line = vec![ring[start]];
        for step in 1..=n {
            let point = ring[(start + step) % n];
            line.push(point);
            if step == n || is_junction(point) {
                let arc = std::mem::replace(&mut line, vec![point]);
                uses.push(self.intern(arc, area, known));
            }
        }
        uses
    }

    /// The arc along `line`, added unless it (or its reverse) is already known.
    fn intern(
        &mut self,
        mut line: Vec<Coord<f64>>,
        area: usize,
        known: &mut HashMap<Vec<Key>, usize>,
    ) -> ArcUse {
        let forward: Vec<Key> = line.iter().map(|&c| key(c)).collect();
        let backward: Vec<Key> = forward.iter().rev().copied().collect();
        let reversed = backward < forward;
        let canonical = if reversed {
            line.reverse();
            backward
        } else {
            forward
        };
        let arc = *known.entry(canonical).or_insert_with(|| {
            self.lines.push(LineString::new(line));
            self.users.push(Vec::new());
            self.lines.len() - 1
        });
        self.users[arc].push(area);
        ArcUse { arc, reversed }
    }

    /// Every arc simplified by Douglas–Peucker so that no vertex moves by more
    /// than `tolerance` metres, its ends kept. Where a ring would collapse below
    /// three vertices its arcs are simplified less (a quarter as much each time,
    /// then not at all) for every ring that runs along them, so no part vanishes
    /// and neighbours still share their border.
    pub fn simplified(&self, tolerance: f64) -> Vec<LineString<f64>> {
        let mut tolerances = vec![tolerance; self.lines.len()];
        let mut lines: Vec<LineString<f64>> =
            self.lines.iter().map(|l| l.simplify(tolerance)).collect();
        loop {
            let mut changed = false;
            for ring in self.areas.iter().flatten().flatten() {
                // Consecutive arcs share their end vertex.
                let vertices: usize = ring.iter().map(|u| lines[u.arc].0.len() - 1).sum();
                if vertices >= 3 {
                    continue;
                }
                for u in ring {
                    let tolerance = &mut tolerances[u.arc];
                    if *tolerance > 0.0 {
                        *tolerance = if *tolerance >= 4.0 {
                            *tolerance / 4.0
                        } else {
                            0.0
                        };
                        lines[u.arc] = self.lines[u.arc].simplify(*tolerance);
                        changed = true;
                    }
                }
            }
            if !changed {
                return lines;
            }
        }
    }

    /// The closed ring that runs along `ring`'s arcs, taken from `lines` (all
    /// arcs at one level, as [`Arcs::simplified`] returns them).
    pub fn ring_points(ring: &[ArcUse], lines: &[LineString<f64>]) -> Vec<Coord<f64>> {
        let mut points: Vec<Coord<f64>> = Vec::new();
        for u in ring {
            let line = &lines[u.arc].0;
            // Each arc starts where the previous one ended.
            let skip = usize::from(!points.is_empty());
            if u.reversed {
                points.extend(line.iter().rev().skip(skip));
            } else {
                points.extend(line.iter().skip(skip));
            }
        }
        points
    }
}

/// A ring's vertices without the closing repeat of the first or any vertex
/// repeated straight after itself.
fn open_ring(ring: &LineString<f64>) -> Vec<Coord<f64>> {
    let mut points: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len());
    for &c in &ring.0 {
        if points.last() != Some(&c) {
            points.push(c);
        }
    }
    while points.len() > 1 && points.first() == points.last() {
        points.pop();
    }
    points
}
