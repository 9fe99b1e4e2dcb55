//! Map geometry, prepared once so that a frame never tessellates: each area's
//! polygons triangulated at a few levels of detail (simplified so that no vertex
//! moves by more than the level's tolerance), hit testing, and the borders
//! between groups of areas (zone and authority outlines).
//!
//! Coordinates are British National Grid metres, stored as `f32` relative to the
//! south-west corner of the map so that single precision keeps centimetres.

use std::collections::HashMap;

use geo::{BoundingRect, Contains, MultiPolygon, Point, Rect, Simplify, TriangulateEarcut};

/// Simplification tolerances of the levels of detail, in metres: level 0 is the
/// boundary as published.
pub const LOD_TOLERANCES: [f64; 5] = [0.0, 8.0, 32.0, 128.0, 512.0];

/// One area's triangles at one level of detail, ready to colour and transform.
#[derive(Debug, Clone, Default)]
pub struct AreaMesh {
    /// Vertices relative to [`MapGeometry::origin`].
    pub vertices: Vec<[f32; 2]>,
    /// Three indices into `vertices` per triangle.
    pub indices: Vec<u32>,
    /// Outline rings (exteriors and holes), relative to the origin.
    pub rings: Vec<Vec<[f32; 2]>>,
}

/// The areas of a map and their cached tessellations.
pub struct MapGeometry {
    /// South-west corner of all areas, British National Grid metres.
    pub origin: [f64; 2],
    /// Width and height of all areas, metres.
    pub size: [f64; 2],
    areas: Vec<MultiPolygon<f64>>,
    bounds: Vec<Rect<f64>>,
    /// Per level of detail (index into [`LOD_TOLERANCES`]), each area's mesh once built.
    levels: HashMap<usize, Vec<AreaMesh>>,
}

impl MapGeometry {
    /// Prepares `areas` (one multipolygon each, in map order). Nothing is
    /// tessellated until a level is first asked for.
    pub fn new(areas: Vec<MultiPolygon<f64>>) -> MapGeometry {
        let bounds: Vec<Rect<f64>> = areas
            .iter()
            .map(|a| {
                a.bounding_rect()
                    .unwrap_or_else(|| Rect::new((0.0, 0.0), (0.0, 0.0)))
            })
            .collect();
        let (mut min, mut max) = ([f64::MAX; 2], [f64::MIN; 2]);
        for rect in &bounds {
            min = [min[0].min(rect.min().x), min[1].min(rect.min().y)];
            max = [max[0].max(rect.max().x), max[1].max(rect.max().y)];
        }
        if bounds.is_empty() {
            (min, max) = ([0.0; 2], [1.0; 2]);
        }
        MapGeometry {
            origin: min,
            size: [max[0] - min[0], max[1] - min[1]],
            areas,
            bounds,
            levels: HashMap::new(),
        }
    }

    /// Number of areas.
    pub fn len(&self) -> usize {
        self.areas.len()
    }

    /// True when there are no areas.
    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// The bounding box of area `index`, relative to the origin: `[min x, min y, max x, max y]`.
    pub fn area_bounds(&self, index: usize) -> [f32; 4] {
        let rect = self.bounds[index];
        [
            (rect.min().x - self.origin[0]) as f32,
            (rect.min().y - self.origin[1]) as f32,
            (rect.max().x - self.origin[0]) as f32,
            (rect.max().y - self.origin[1]) as f32,
        ]
    }

    /// The coarsest level whose simplification moves no vertex by more than a
    /// pixel, which the eye does not see on a filled map.
    pub fn level_for(metres_per_pixel: f64) -> usize {
        LOD_TOLERANCES
            .iter()
            .rposition(|&tolerance| tolerance <= metres_per_pixel)
            .unwrap_or(0)
    }

    /// Every area's mesh at `level`, tessellated on first use and kept.
    pub fn meshes(&mut self, level: usize) -> &[AreaMesh] {
        let level = level.min(LOD_TOLERANCES.len() - 1);
        if !self.levels.contains_key(&level) {
            let tolerance = LOD_TOLERANCES[level];
            let meshes = self
                .areas
                .iter()
                .map(|area| tessellate(area, tolerance, self.origin))
                .collect();
            self.levels.insert(level, meshes);
        }
        &self.levels[&level]
    }

    /// The area containing the point (`x`, `y`) relative to the origin, if any.
    pub fn hit(&self, x: f64, y: f64) -> Option<usize> {
        let point = Point::new(x + self.origin[0], y + self.origin[1]);
        (0..self.areas.len()).find(|&i| {
            let rect = self.bounds[i];
            rect.min().x <= point.x()
                && point.x() <= rect.max().x
                && rect.min().y <= point.y()
                && point.y() <= rect.max().y
                && self.areas[i].contains(&point)
        })
    }

    /// The edges of the published boundaries that separate areas of different
    /// groups, or lie on the map's outer edge: drawn over the areas, they outline
    /// each group (a zone, an authority). Adjacent areas share their border
    /// vertices in the ONS files, so an edge is interior when both areas have it.
    pub fn group_borders(&self, group_of: &[Option<&str>]) -> Vec<[[f32; 2]; 2]> {
        // Each undirected edge (exact vertex coordinates) with the groups of the areas having it.
        let mut edges: HashMap<[u64; 4], Vec<Option<&str>>> = HashMap::new();
        let key = |a: [f64; 2], b: [f64; 2]| {
            let (a, b) = if (a[0], a[1]) <= (b[0], b[1]) {
                (a, b)
            } else {
                (b, a)
            };
            [
                a[0].to_bits(),
                a[1].to_bits(),
                b[0].to_bits(),
                b[1].to_bits(),
            ]
        };
        for (index, area) in self.areas.iter().enumerate() {
            let group = group_of.get(index).copied().flatten();
            for polygon in &area.0 {
                for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                    for line in ring.lines() {
                        edges
                            .entry(key([line.start.x, line.start.y], [line.end.x, line.end.y]))
                            .or_default()
                            .push(group);
                    }
                }
            }
        }
        let mut borders: Vec<[[f32; 2]; 2]> = edges
            .into_iter()
            .filter(|(_, groups)| groups.len() == 1 || groups.iter().any(|g| *g != groups[0]))
            .map(|(edge, _)| {
                let point = |x: u64, y: u64| {
                    [
                        (f64::from_bits(x) - self.origin[0]) as f32,
                        (f64::from_bits(y) - self.origin[1]) as f32,
                    ]
                };
                [point(edge[0], edge[1]), point(edge[2], edge[3])]
            })
            .collect();
        // A fixed order, so that the same data draws the same way.
        borders.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        borders
    }
}

/// Triangulates `area` simplified to `tolerance` metres. No part vanishes: one the
/// simplification would collapse is simplified less.
fn tessellate(area: &MultiPolygon<f64>, tolerance: f64, origin: [f64; 2]) -> AreaMesh {
    let mut mesh = AreaMesh::default();
    let relative = |x: f64, y: f64| [(x - origin[0]) as f32, (y - origin[1]) as f32];
    for polygon in &area.0 {
        // A part smaller than the tolerance would collapse: simplify it less
        // (a quarter as much each time), and as published when nothing smaller works.
        let mut simplified = polygon.clone();
        let mut step = tolerance;
        while step >= 1.0 {
            let s = polygon.simplify(step);
            if s.exterior().0.len() >= 4 {
                simplified = s;
                break;
            }
            step /= 4.0;
        }
        let raw = simplified.earcut_triangles_raw();
        let base = mesh.vertices.len() as u32;
        mesh.vertices
            .extend(raw.vertices.iter().map(|v| relative(v[0], v[1])));
        mesh.indices
            .extend(raw.triangle_indices.iter().map(|&i| base + i as u32));
        for ring in std::iter::once(simplified.exterior()).chain(simplified.interiors()) {
            mesh.rings
                .push(ring.0.iter().map(|c| relative(c.x, c.y)).collect());
        }
    }
    mesh
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::boundaries::load_lsoa_boundaries;
    use geo::{Area, InteriorPoint};
    use std::path::Path;

    fn sample() -> Vec<crate::geo::boundaries::AreaBoundary> {
        load_lsoa_boundaries(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("data-samples/ref/lsoa2011_bgc_bcp_dorset_northumberland.shp"),
        )
        .expect("sample boundaries")
    }

    /// Sum of the triangles' areas, in square metres.
    fn triangle_area(mesh: &AreaMesh) -> f64 {
        mesh.indices
            .chunks(3)
            .map(|t| {
                let [a, b, c] = [t[0], t[1], t[2]].map(|i| mesh.vertices[i as usize]);
                let cross = (b[0] - a[0]) as f64 * (c[1] - a[1]) as f64
                    - (c[0] - a[0]) as f64 * (b[1] - a[1]) as f64;
                cross.abs() / 2.0
            })
            .sum()
    }

    #[test]
    fn triangles_cover_each_area_exactly_at_full_detail() {
        let areas = sample();
        let mut map = MapGeometry::new(areas.iter().map(|a| a.geometry.clone()).collect());
        let meshes = map.meshes(0).to_vec();
        for (area, mesh) in areas.iter().zip(&meshes) {
            let published = area.geometry.unsigned_area();
            let covered = triangle_area(mesh);
            assert!(
                (covered - published).abs() <= published * 1e-4 + 1.0,
                "{}: triangles {covered} m² against {published} m²",
                area.code
            );
        }
    }

    #[test]
    fn coarser_levels_have_fewer_vertices_and_still_cover_each_area() {
        let areas = sample();
        let mut map = MapGeometry::new(areas.iter().map(|a| a.geometry.clone()).collect());
        let count = |meshes: &[AreaMesh]| meshes.iter().map(|m| m.vertices.len()).sum::<usize>();
        let full = count(map.meshes(0));
        let coarse = count(map.meshes(3));
        assert!(coarse * 3 < full, "{coarse} of {full}");
        // Every area keeps some triangles, and within a few percent of its area
        // (large areas; small ones may lose more to a 128 m tolerance).
        for (area, mesh) in areas.iter().zip(map.meshes(3)) {
            assert!(!mesh.indices.is_empty(), "{} vanished", area.code);
            let published = area.geometry.unsigned_area();
            if published > 5e6 {
                let ratio = triangle_area(mesh) / published;
                assert!((0.9..1.1).contains(&ratio), "{}: {ratio}", area.code);
            }
        }
    }

    #[test]
    fn a_point_inside_each_area_hits_that_area() {
        let areas = sample();
        let map = MapGeometry::new(areas.iter().map(|a| a.geometry.clone()).collect());
        for (index, area) in areas.iter().enumerate() {
            let inside = area.geometry.interior_point().expect("inside");
            let hit = map.hit(inside.x() - map.origin[0], inside.y() - map.origin[1]);
            assert_eq!(hit, Some(index), "{}", area.code);
        }
        assert_eq!(map.hit(-1000.0, -1000.0), None);
    }

    #[test]
    fn level_of_detail_follows_the_scale() {
        assert_eq!(MapGeometry::level_for(1.0), 0);
        assert_eq!(MapGeometry::level_for(16.0), 1);
        assert_eq!(MapGeometry::level_for(100.0), 2);
        assert_eq!(MapGeometry::level_for(10_000.0), LOD_TOLERANCES.len() - 1);
    }

    #[test]
    fn group_borders_separate_groups_and_skip_shared_edges_within_one() {
        let square = |x: f64| {
            MultiPolygon(vec![geo::Polygon::new(
                geo::LineString::from(vec![
                    (x, 0.0),
                    (x + 1.0, 0.0),
                    (x + 1.0, 1.0),
                    (x, 1.0),
                    (x, 0.0),
                ]),
                vec![],
            )])
        };
        // Three squares in a row: the first two in group A, the third in B.
        let map = MapGeometry::new(vec![square(0.0), square(1.0), square(2.0)]);
        let borders = map.group_borders(&[Some("A"), Some("A"), Some("B")]);
        let vertical_at = |x: f32| {
            borders
                .iter()
                .any(|[a, b]| a[0] == x && b[0] == x && a[1] != b[1])
        };
        assert!(!vertical_at(1.0), "the edge inside group A is not a border");
        assert!(vertical_at(2.0), "the edge between A and B is");
        assert!(vertical_at(0.0) && vertical_at(3.0), "the outer edges are");
        // 3 top + 3 bottom + 2 outer sides + 1 between groups.
        assert_eq!(borders.len(), 9);
    }
}
