//! Map geometry, prepared once so that a frame never tessellates: each area's
//! polygons triangulated at a few levels of detail, hit testing, the borders
//! between groups of areas (zone and authority outlines), and the screen meshes
//! a frame paints.
//!
//! Levels are simplified through shared arcs ([`Arcs`]), so neighbouring areas
//! keep identical vertices along their common border at every level and no
//! slivers open between them; group borders are drawn from the same arcs.
//!
//! A frame only moves each level's prebuilt vertices to the screen: the areas and
//! border arcs on screen are copied into one mesh, and that mesh is kept (shared
//! through an `Arc`) while the view and colours stay the same.
//!
//! Coordinates are British National Grid metres, stored as `f32` relative to the
//! south-west corner of the map so that single precision keeps centimetres.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use egui::epaint::{Mesh, Vertex};
use egui::{Color32, Pos2, Rect, pos2};
use geo::{BoundingRect, Contains, LineString, MultiPolygon, Point, Polygon, TriangulateEarcut};

use crate::geo::arcs::Arcs;

/// Simplification tolerances of the levels of detail, in metres: level 0 is the
/// boundary as published.
pub const LOD_TOLERANCES: [f64; 5] = [0.0, 8.0, 32.0, 128.0, 512.0];

/// How map points become screen points in one frame: north up, `scale` points
/// per metre, the map point `centre` at the middle of `screen`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScreenTransform {
    /// Relative to [`MapGeometry::origin`], metres.
    pub centre: [f32; 2],
    /// Screen points per metre.
    pub scale: f32,
    /// Where the map is drawn, in screen points.
    pub screen: Rect,
}

impl ScreenTransform {
    /// The view of a camera looking at `centre` (metres from the origin) at
    /// `metres_per_point`, drawn in `screen`.
    pub fn new(centre: [f64; 2], metres_per_point: f64, screen: Rect) -> ScreenTransform {
        ScreenTransform {
            centre: [centre[0] as f32, centre[1] as f32],
            scale: (1.0 / metres_per_point) as f32,
            screen,
        }
    }

    /// Screen position of map point `p`. Subtracting the centre first keeps
    /// single precision exact near the centre, so vertices do not jitter when zoomed in.
    pub fn to_screen(&self, p: [f32; 2]) -> Pos2 {
        let c = self.screen.center();
        pos2(
            c.x + (p[0] - self.centre[0]) * self.scale,
            c.y - (p[1] - self.centre[1]) * self.scale,
        )
    }

    /// Whether map bounds `[min x, min y, max x, max y]` come within `margin`
    /// points of the screen rect: the cheap test that culls areas and arcs.
    pub fn shows(&self, bounds: [f32; 4], margin: f32) -> bool {
        let half = [
            (self.screen.width() / 2.0 + margin) / self.scale,
            (self.screen.height() / 2.0 + margin) / self.scale,
        ];
        bounds[0] <= self.centre[0] + half[0]
            && bounds[2] >= self.centre[0] - half[0]
            && bounds[1] <= self.centre[1] + half[1]
            && bounds[3] >= self.centre[1] - half[1]
    }
}

/// Triangles in map coordinates, in parts (an area, a border arc) that are culled
/// and coloured together: one frame's mesh is a copy of the parts on screen.
#[derive(Debug, Clone, Default)]
struct PartedMesh {
    /// Vertices relative to the origin.
    points: Vec<[f32; 2]>,
    /// Per vertex, a screen offset per point of line width (for border quads,
    /// whose width is in points at any scale); empty for filled areas.
    offsets: Vec<[f32; 2]>,
    /// Three per triangle, into `points`.
    indices: Vec<u32>,
    /// Where each part's vertices and indices end.
    vertex_ends: Vec<u32>,
    index_ends: Vec<u32>,
    /// Each part's bounds relative to the origin.
    bounds: Vec<[f32; 4]>,
}

impl PartedMesh {
    /// Closes the part whose vertices and indices were pushed since the last one.
    fn end_part(&mut self, bounds: [f32; 4]) {
        self.vertex_ends.push(self.points.len() as u32);
        self.index_ends.push(self.indices.len() as u32);
        self.bounds.push(bounds);
    }

    /// Part `part`'s vertices and indices.
    fn ranges(&self, part: usize) -> (Range<usize>, Range<usize>) {
        let start = |ends: &[u32]| {
            if part == 0 {
                0
            } else {
                ends[part - 1] as usize
            }
        };
        (
            start(&self.vertex_ends)..self.vertex_ends[part] as usize,
            start(&self.index_ends)..self.index_ends[part] as usize,
        )
    }

    /// Replaces `shown` with the parts `view` shows, lines `width` points wide.
    fn shown_in(&self, view: &ScreenTransform, width: f32, shown: &mut Vec<u32>) {
        shown.clear();
        shown.extend(
            (0..self.bounds.len() as u32)
                .filter(|&part| view.shows(self.bounds[part as usize], width)),
        );
    }

    /// Sets `out`'s positions to the vertices `range` moved to `view`, border
    /// quads `width` points wide. Plain slices, so the loop vectorises.
    fn place(&self, range: Range<usize>, view: &ScreenTransform, width: f32, out: &mut [Vertex]) {
        let c = view.screen.center();
        let ([cx, cy], scale) = (view.centre, view.scale);
        for (vertex, p) in out.iter_mut().zip(&self.points[range.clone()]) {
            vertex.pos = pos2(c.x + (p[0] - cx) * scale, c.y - (p[1] - cy) * scale);
        }
        if let Some(offsets) = self.offsets.get(range) {
            for (vertex, offset) in out.iter_mut().zip(offsets) {
                vertex.pos += egui::vec2(offset[0], offset[1]) * width;
            }
        }
    }

    /// Replaces `out`'s contents (keeping its allocation) with the parts
    /// `shown`, moved to the screen; part `i` is coloured `colours[i]`, or the
    /// last colour when there are fewer (a border's single colour).
    fn write_frame(
        &self,
        shown: &[u32],
        view: &ScreenTransform,
        width: f32,
        colours: &[Color32],
        out: &mut Mesh,
    ) {
        out.vertices.clear();
        out.indices.clear();
        let Some(&last_colour) = colours.last() else {
            return;
        };
        for &part in shown {
            let (vertices, indices) = self.ranges(part as usize);
            let colour = colours.get(part as usize).copied().unwrap_or(last_colour);
            let start = out.vertices.len();
            // Indices are into all parts' vertices; shift them to where this part lands.
            let shift = (start as u32).wrapping_sub(vertices.start as u32);
            out.vertices.extend(
                self.points[vertices.clone()]
                    .iter()
                    .map(|_| Vertex::untextured(Pos2::ZERO, colour)),
            );
            self.place(vertices, view, width, &mut out.vertices[start..]);
            out.indices
                .extend(self.indices[indices].iter().map(|i| i.wrapping_add(shift)));
        }
    }

    /// Moves the vertices of `out`, written by [`PartedMesh::write_frame`] for
    /// the same parts, to `view`: triangles and colours stay as they are.
    fn move_frame(&self, shown: &[u32], view: &ScreenTransform, width: f32, out: &mut Mesh) {
        let mut start = 0;
        for &part in shown {
            let (vertices, _) = self.ranges(part as usize);
            let end = start + vertices.len();
            self.place(vertices, view, width, &mut out.vertices[start..end]);
            start = end;
        }
    }
}

/// The last frame's mesh of some parts, kept while what it shows is unchanged.
#[derive(Debug, Default)]
struct FrameCache {
    /// Level, view and line width the mesh was made for.
    drawn: Option<(usize, ScreenTransform, f32)>,
    colours: Vec<Color32>,
    /// The parts in the mesh, and those the next view shows.
    shown: Vec<u32>,
    showing: Vec<u32>,
    mesh: Arc<Mesh>,
}

impl FrameCache {
    /// The mesh of `parts` at `level` in `view`: the kept one when nothing
    /// changed; when only the view moved over the same parts, the kept one with
    /// its vertices moved; otherwise rewritten. Both reuse the allocation, as
    /// egui has dropped its copy of the last frame's shapes by then.
    fn mesh(
        &mut self,
        parts: &PartedMesh,
        level: usize,
        view: ScreenTransform,
        width: f32,
        colours: &[Color32],
    ) -> Arc<Mesh> {
        let drawn = Some((level, view, width));
        if self.drawn == drawn && self.colours == colours {
            return Arc::clone(&self.mesh);
        }
        let same_triangles =
            self.colours == colours && self.drawn.is_some_and(|(l, _, w)| (l, w) == (level, width));
        parts.shown_in(&view, width, &mut self.showing);
        let mesh = Arc::get_mut(&mut self.mesh);
        match mesh {
            Some(mesh) if same_triangles && self.showing == self.shown => {
                parts.move_frame(&self.shown, &view, width, mesh);
            }
            _ => {
                if Arc::get_mut(&mut self.mesh).is_none() {
                    self.mesh = Arc::default();
                }
                std::mem::swap(&mut self.shown, &mut self.showing);
                let mesh = Arc::make_mut(&mut self.mesh);
                parts.write_frame(&self.shown, &view, width, colours, mesh);
                self.colours.clear();
                self.colours.extend_from_slice(colours);
            }
        }
        self.drawn = drawn;
        Arc::clone(&self.mesh)
    }
}

/// Every area at one level of detail.
#[derive(Debug, Clone, Default)]
pub struct LevelMeshes {
    /// Each arc simplified for this level, relative to the origin.
    arcs: Vec<Vec<[f32; 2]>>,
    /// Each area's triangles, one part per area.
    fills: PartedMesh,
    /// Each area's outline rings (exteriors and holes), closed, relative to the origin.
    rings: Vec<Vec<Vec<[f32; 2]>>>,
}

impl LevelMeshes {
    /// Area `index`'s outline rings (exteriors and holes), for outlining it.
    pub fn rings(&self, index: usize) -> &[Vec<[f32; 2]>] {
        &self.rings[index]
    }

    /// Vertices of all areas' triangles.
    pub fn vertex_count(&self) -> usize {
        self.fills.points.len()
    }
}

/// The arcs that separate groups of areas (zones, authorities), with their
/// prepared meshes.
#[derive(Debug, Default)]
pub struct GroupBorders {
    arcs: Vec<usize>,
    /// Per level of detail, each arc's segments as quads of unit width.
    levels: HashMap<usize, PartedMesh>,
    frame: FrameCache,
}

/// The areas of a map and their cached tessellations.
pub struct MapGeometry {
    /// South-west corner of all areas, British National Grid metres.
    pub origin: [f64; 2],
    /// Width and height of all areas, metres.
    pub size: [f64; 2],
    areas: Vec<MultiPolygon<f64>>,
    bounds: Vec<geo::Rect<f64>>,
    arcs: Arcs,
    /// Per level of detail (index into [`LOD_TOLERANCES`]), once built.
    levels: HashMap<usize, LevelMeshes>,
    fill_frame: FrameCache,
}

impl MapGeometry {
    /// Prepares `areas` (one multipolygon each, in map order) and their shared
    /// arcs. Nothing is tessellated until a level is first asked for.
    pub fn new(areas: Vec<MultiPolygon<f64>>) -> MapGeometry {
        let bounds: Vec<geo::Rect<f64>> = areas
            .iter()
            .map(|a| {
                a.bounding_rect()
                    .unwrap_or_else(|| geo::Rect::new((0.0, 0.0), (0.0, 0.0)))
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
            arcs: Arcs::new(&areas),
            areas,
            bounds,
            levels: HashMap::new(),
            fill_frame: FrameCache::default(),
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

    /// Every area at `level`, simplified and tessellated on first use and kept.
    pub fn meshes(&mut self, level: usize) -> &LevelMeshes {
        let level = level.min(LOD_TOLERANCES.len() - 1);
        if !self.levels.contains_key(&level) {
            let meshes = self.tessellate(LOD_TOLERANCES[level]);
            self.levels.insert(level, meshes);
        }
        &self.levels[&level]
    }

    /// Every area's filled triangles at `level` that `view` shows, area `i`
    /// coloured `colours[i]`, as one screen mesh (the last frame's while the
    /// level, view and colours are unchanged).
    pub fn fill_mesh(
        &mut self,
        level: usize,
        colours: &[Color32],
        view: ScreenTransform,
    ) -> Arc<Mesh> {
        let level = level.min(LOD_TOLERANCES.len() - 1);
        self.meshes(level);
        let fills = &self.levels[&level].fills;
        self.fill_frame.mesh(fills, level, view, 0.0, colours)
    }

    /// `borders` at `level` as one screen mesh of quads `width` points wide: a
    /// frame does not stroke tens of thousands of separate anti-aliased lines.
    pub fn border_mesh(
        &mut self,
        borders: &mut GroupBorders,
        level: usize,
        view: ScreenTransform,
        width: f32,
        colour: Color32,
    ) -> Arc<Mesh> {
        let level = level.min(LOD_TOLERANCES.len() - 1);
        let arcs = &self.meshes(level).arcs;
        let quads = borders
            .levels
            .entry(level)
            .or_insert_with(|| border_quads(&borders.arcs, arcs));
        borders.frame.mesh(quads, level, view, width, &[colour])
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

    /// The arcs that separate areas of different groups, or lie on the map's
    /// outer edge of an area in a group: drawn over the areas, they outline each
    /// group (a zone, an authority). An arc two areas of one group share is
    /// inside it; the edge of areas in no group (England has no zones) is not
    /// drawn twice over.
    pub fn group_borders(&self, group_of: &[Option<&str>]) -> GroupBorders {
        let group = |area: usize| group_of.get(area).copied().flatten();
        let arcs = self
            .arcs
            .users
            .iter()
            .enumerate()
            .filter(|(_, users)| match users.as_slice() {
                [only] => group(*only).is_some(),
                [first, rest @ ..] => rest.iter().any(|&area| group(area) != group(*first)),
                [] => false,
            })
            .map(|(arc, _)| arc)
            .collect();
        GroupBorders {
            arcs,
            ..GroupBorders::default()
        }
    }

    /// Every area triangulated from the arcs simplified to `tolerance` metres.
    fn tessellate(&self, tolerance: f64) -> LevelMeshes {
        let lines = self.arcs.simplified(tolerance);
        let origin = self.origin;
        let relative = |x: f64, y: f64| [(x - origin[0]) as f32, (y - origin[1]) as f32];
        let mut level = LevelMeshes {
            arcs: lines
                .iter()
                .map(|line| line.0.iter().map(|c| relative(c.x, c.y)).collect())
                .collect(),
            ..LevelMeshes::default()
        };
        for (index, polygons) in self.arcs.areas.iter().enumerate() {
            let mut rings = Vec::new();
            for polygon in polygons {
                let mut polygon_rings = polygon
                    .iter()
                    .map(|ring| LineString::new(Arcs::ring_points(ring, &lines)));
                let Some(exterior) = polygon_rings.next() else {
                    continue;
                };
                let polygon = Polygon::new(exterior, polygon_rings.collect());
                let raw = polygon.earcut_triangles_raw();
                let fills = &mut level.fills;
                let base = fills.points.len() as u32;
                fills
                    .points
                    .extend(raw.vertices.iter().map(|v| relative(v[0], v[1])));
                fills
                    .indices
                    .extend(raw.triangle_indices.iter().map(|&i| base + i as u32));
                for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                    rings.push(ring.0.iter().map(|c| relative(c.x, c.y)).collect());
                }
            }
            level.fills.end_part(self.area_bounds(index));
            level.rings.push(rings);
        }
        level
    }
}

/// The segments of `arcs` (indices into `lines`, one level's arcs) as quads of
/// unit width, one part per arc.
fn border_quads(arcs: &[usize], lines: &[Vec<[f32; 2]>]) -> PartedMesh {
    let mut quads = PartedMesh::default();
    for &arc in arcs {
        let line = &lines[arc];
        let mut bounds = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
        for pair in line.windows(2) {
            let [a, b] = [pair[0], pair[1]];
            let along = [b[0] - a[0], b[1] - a[1]];
            let length = (along[0] * along[0] + along[1] * along[1]).sqrt();
            if length == 0.0 {
                continue;
            }
            // Half a unit across the segment as the screen sees it (y points down there).
            let across = [along[1] / length / 2.0, along[0] / length / 2.0];
            let base = quads.points.len() as u32;
            quads.points.extend([a, a, b, b]);
            quads.offsets.extend([
                across,
                [-across[0], -across[1]],
                [-across[0], -across[1]],
                across,
            ]);
            quads
                .indices
                .extend([base, base + 1, base + 2, base, base + 2, base + 3]);
            for p in [a, b] {
                bounds = [
                    bounds[0].min(p[0]),
                    bounds[1].min(p[1]),
                    bounds[2].max(p[0]),
                    bounds[3].max(p[1]),
                ];
            }
        }
        quads.end_part(bounds);
    }
    quads
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::boundaries::load_lsoa_boundaries;
    use geo::{Area, InteriorPoint};
    use std::collections::HashSet;
    use std::path::Path;

    fn sample() -> Vec<crate::geo::boundaries::AreaBoundary> {
        load_lsoa_boundaries(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("data-samples/ref/lsoa2011_bgc_bcp_dorset_northumberland.shp"),
        )
        .expect("sample boundaries")
    }

    /// Sum of area `index`'s triangles' areas at a level, in square metres.
    fn triangle_area(level: &LevelMeshes, index: usize) -> f64 {
        let fills = &level.fills;
        let start = if index == 0 {
            0
        } else {
            fills.index_ends[index - 1] as usize
        };
        fills.indices[start..fills.index_ends[index] as usize]
            .chunks(3)
            .map(|t| {
                let [a, b, c] = [t[0], t[1], t[2]].map(|i| fills.points[i as usize]);
                let cross = (b[0] - a[0]) as f64 * (c[1] - a[1]) as f64
                    - (c[0] - a[0]) as f64 * (b[1] - a[1]) as f64;
                cross.abs() / 2.0
            })
            .sum()
    }

    /// A point's exact single-precision coordinates relative to the origin.
    fn point_key(p: [f32; 2]) -> [u32; 2] {
        p.map(f32::to_bits)
    }

    /// Checks that at every level each published vertex that areas share is
    /// kept by all of them or by none: neighbours draw the same border, so no
    /// sliver opens between them. Returns how many shared vertices were checked.
    fn assert_neighbours_share_borders(
        map: &mut MapGeometry,
        areas: &[MultiPolygon<f64>],
    ) -> usize {
        let origin = map.origin;
        let mut sharing: HashMap<[u32; 2], Vec<usize>> = HashMap::new();
        for (index, area) in areas.iter().enumerate() {
            let mut own = HashSet::new();
            for polygon in &area.0 {
                for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                    for c in &ring.0 {
                        own.insert(point_key([
                            (c.x - origin[0]) as f32,
                            (c.y - origin[1]) as f32,
                        ]));
                    }
                }
            }
            for key in own {
                sharing.entry(key).or_default().push(index);
            }
        }
        sharing.retain(|_, users| users.len() > 1);
        for level in 0..LOD_TOLERANCES.len() {
            let meshes = map.meshes(level);
            let kept: Vec<HashSet<[u32; 2]>> = (0..areas.len())
                .map(|index| {
                    meshes
                        .rings(index)
                        .iter()
                        .flatten()
                        .map(|&p| point_key(p))
                        .collect()
                })
                .collect();
            for (vertex, users) in &sharing {
                let keeping: Vec<usize> = users
                    .iter()
                    .copied()
                    .filter(|&area| kept[area].contains(vertex))
                    .collect();
                assert!(
                    keeping.is_empty() || keeping.len() == users.len(),
                    "level {level}: vertex {vertex:?} of areas {users:?} kept only by {keeping:?}"
                );
            }
        }
        sharing.len()
    }

    /// Three areas filling a 10 km × 15 km rectangle: a strip along the bottom
    /// and two above it, their shared borders wiggling through 101 vertices each.
    fn three_neighbours() -> Vec<MultiPolygon<f64>> {
        let wiggle: Vec<(f64, f64)> = (0..=100)
            .map(|i| {
                let x = i as f64 * 100.0;
                (x, 5000.0 + 300.0 * (x / 500.0).sin())
            })
            .collect();
        let middle = wiggle[50];
        let upright: Vec<(f64, f64)> = (0..=100)
            .map(|i| {
                if i == 0 {
                    return middle;
                }
                let t = i as f64;
                (
                    5000.0 + 400.0 * (t / 7.0).sin(),
                    middle.1 + t * (15_000.0 - middle.1) / 100.0,
                )
            })
            .collect();
        let top = upright[100];
        let polygon = |points: Vec<(f64, f64)>| {
            MultiPolygon(vec![Polygon::new(LineString::from(points), vec![])])
        };
        let mut left = wiggle[..=50].to_vec();
        left.extend(&upright[1..]);
        left.push((0.0, 15_000.0));
        let mut right = wiggle[50..].to_vec();
        right.push((10_000.0, 15_000.0));
        right.extend(upright.iter().rev());
        let mut bottom = vec![(0.0, 0.0), (10_000.0, 0.0)];
        bottom.extend(wiggle.iter().rev());
        assert_eq!(top.1, 15_000.0);
        vec![polygon(left), polygon(right), polygon(bottom)]
    }

    #[test]
    fn neighbours_keep_one_border_at_every_level_and_tile_their_union() {
        let areas = three_neighbours();
        let published: f64 = areas.iter().map(|a| a.unsigned_area()).sum();
        assert!((published - 1.5e8).abs() < 1.0, "{published}");
        let mut map = MapGeometry::new(areas.clone());
        // Both wiggles' vertices are shared; the three meeting points are junctions.
        assert!(assert_neighbours_share_borders(&mut map, &areas) >= 200);
        for level in 0..LOD_TOLERANCES.len() {
            let meshes = map.meshes(level);
            let covered: f64 = (0..areas.len()).map(|i| triangle_area(meshes, i)).sum();
            // The union is the rectangle at every level (its sides are straight),
            // so any gap or overlap between neighbours would show in the sum.
            assert!(
                (covered - 1.5e8).abs() < 1.5e8 * 1e-6,
                "level {level}: {covered} m²"
            );
        }
        // The coarsest level keeps few of the wiggles' vertices.
        let vertices = |map: &mut MapGeometry, level: usize| -> usize {
            let meshes = map.meshes(level);
            (0..3).map(|i| meshes.rings(i)[0].len()).sum()
        };
        let (full, coarsest) = (vertices(&mut map, 0), vertices(&mut map, 4));
        assert!(coarsest * 10 < full, "{coarsest} of {full} vertices");
    }

    #[test]
    fn county_neighbours_share_every_border_at_every_level() {
        let areas: Vec<MultiPolygon<f64>> = sample().into_iter().map(|a| a.geometry).collect();
        let published: f64 = areas.iter().map(|a| a.unsigned_area()).sum();
        let mut map = MapGeometry::new(areas.clone());
        let shared = assert_neighbours_share_borders(&mut map, &areas);
        assert!(shared > 20_000, "{shared} shared vertices");
        for level in 0..LOD_TOLERANCES.len() {
            let meshes = map.meshes(level);
            let covered: f64 = (0..areas.len()).map(|i| triangle_area(meshes, i)).sum();
            // Measured: within 0.06% at every level (the coast and islands move most).
            let ratio = covered / published;
            assert!(
                (0.995..1.005).contains(&ratio),
                "level {level}: {covered} m² of {published} m²"
            );
        }
    }

    #[test]
    fn england_keeps_every_lsoa_and_shares_every_border_at_every_level() {
        let areas: Vec<MultiPolygon<f64>> = crate::geo::england::load_england_lsoas(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("data-samples/ref")
                .join(crate::geo::england::ENGLAND_BOUNDARIES),
        )
        .expect("England's boundaries")
        .into_iter()
        .map(|a| a.geometry)
        .collect();
        let published: f64 = areas.iter().map(|a| a.unsigned_area()).sum();
        let mut map = MapGeometry::new(areas.clone());
        assert!(assert_neighbours_share_borders(&mut map, &areas) > 100_000);
        for level in 0..LOD_TOLERANCES.len() {
            let meshes = map.meshes(level);
            let mut covered = 0.0;
            for index in 0..areas.len() {
                let area = triangle_area(meshes, index);
                assert!(area > 0.0, "area {index} vanished at level {level}");
                covered += area;
            }
            let ratio = covered / published;
            assert!(
                (0.995..1.005).contains(&ratio),
                "level {level}: {covered} m² of {published} m²"
            );
        }
    }

    #[test]
    fn triangles_cover_each_area_exactly_at_full_detail() {
        let areas = sample();
        let mut map = MapGeometry::new(areas.iter().map(|a| a.geometry.clone()).collect());
        let meshes = map.meshes(0);
        for (index, area) in areas.iter().enumerate() {
            let published = area.geometry.unsigned_area();
            let covered = triangle_area(meshes, index);
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
        let full = map.meshes(0).vertex_count();
        let coarse = map.meshes(3).vertex_count();
        assert!(coarse * 3 < full, "{coarse} of {full}");
        // Every area keeps some triangles at every level, and large areas stay
        // within a few percent of their area (small ones may lose more to 128 m).
        for level in 1..LOD_TOLERANCES.len() {
            let meshes = map.meshes(level);
            for (index, area) in areas.iter().enumerate() {
                let covered = triangle_area(meshes, index);
                assert!(covered > 0.0, "{} vanished at level {level}", area.code);
                let published = area.geometry.unsigned_area();
                if level == 3 && published > 5e6 {
                    let ratio = covered / published;
                    assert!((0.9..1.1).contains(&ratio), "{}: {ratio}", area.code);
                }
            }
        }
    }

    #[test]
    fn an_island_smaller_than_the_tolerance_is_simplified_less_not_lost() {
        // A 20 m triangle in the sea beside a large square: at 512 m it would
        // collapse to a line.
        let square = Polygon::new(
            LineString::from(vec![
                (0.0, 0.0),
                (5000.0, 0.0),
                (5000.0, 5000.0),
                (0.0, 5000.0),
            ]),
            vec![],
        );
        let island = Polygon::new(
            LineString::from(vec![(6000.0, 0.0), (6020.0, 0.0), (6010.0, 20.0)]),
            vec![],
        );
        let mut map = MapGeometry::new(vec![MultiPolygon(vec![square, island])]);
        let coarsest = map.meshes(LOD_TOLERANCES.len() - 1);
        assert_eq!(coarsest.rings(0).len(), 2);
        let covered = triangle_area(coarsest, 0);
        assert!((covered - (2.5e7 + 200.0)).abs() < 1.0, "{covered}");
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

    fn square(x: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(x, 0.0), (x + 1.0, 0.0), (x + 1.0, 1.0), (x, 1.0)]),
            vec![],
        )])
    }

    #[test]
    fn group_borders_separate_groups_and_skip_shared_edges_within_one() {
        // Three squares in a row: the first two in group A, the third in B.
        let mut map = MapGeometry::new(vec![square(0.0), square(1.0), square(2.0)]);
        let borders = map.group_borders(&[Some("A"), Some("A"), Some("B")]);
        let lines = &map.meshes(0).arcs;
        let segments: Vec<[[f32; 2]; 2]> = borders
            .arcs
            .iter()
            .flat_map(|&arc| lines[arc].windows(2).map(|w| [w[0], w[1]]))
            .collect();
        let vertical_at = |x: f32| {
            segments
                .iter()
                .any(|[a, b]| a[0] == x && b[0] == x && a[1] != b[1])
        };
        assert!(!vertical_at(1.0), "the edge inside group A is not a border");
        assert!(vertical_at(2.0), "the edge between A and B is");
        assert!(vertical_at(0.0) && vertical_at(3.0), "the outer edges are");
        // 3 top + 3 bottom + 2 outer sides + 1 between groups.
        assert_eq!(segments.len(), 9);
        let ungrouped = map.group_borders(&[None, None, None]);
        assert!(
            ungrouped.arcs.is_empty(),
            "areas in no group are not outlined"
        );
    }

    #[test]
    fn a_frame_mesh_holds_the_areas_on_screen_and_is_kept_while_nothing_moves() {
        let mut map = MapGeometry::new(vec![square(0.0), square(1.0), square(2.0)]);
        let screen = Rect::from_min_size(Pos2::ZERO, egui::vec2(80.0, 80.0));
        let colours = [Color32::RED, Color32::GREEN, Color32::BLUE];
        // 100 points per metre about the middle square: only it is on screen.
        let view = ScreenTransform::new([1.5, 0.5], 0.01, screen);
        let first = map.fill_mesh(0, &colours, view);
        assert_eq!(first.vertices.len(), 4);
        assert!(first.vertices.iter().all(|v| v.color == Color32::GREEN));
        let corner = first
            .vertices
            .iter()
            .map(|v| v.pos)
            .fold(Pos2::ZERO, |a, b| a.max(b));
        assert!(
            (corner - egui::pos2(90.0, 90.0)).length() < 1e-3,
            "{corner:?}"
        );
        let again = map.fill_mesh(0, &colours, view);
        assert!(
            Arc::ptr_eq(&first, &again),
            "an unchanged frame reuses the mesh"
        );
        drop((first, again));
        // Zoomed out to 20 points per metre: all three.
        let view = ScreenTransform::new([1.5, 0.5], 0.05, screen);
        let all = map.fill_mesh(0, &colours, view);
        assert_eq!((all.vertices.len(), all.indices.len()), (12, 18));
        let before: Vec<Pos2> = all.vertices.iter().map(|v| v.pos).collect();
        drop(all);
        // Panned by a tenth of a metre, two points: the same squares, moved.
        let panned = ScreenTransform::new([1.6, 0.5], 0.05, screen);
        let moved = map.fill_mesh(0, &colours, panned);
        assert_eq!(moved.indices.len(), 18);
        for (vertex, pos) in moved.vertices.iter().zip(before) {
            assert!((vertex.pos - (pos - egui::vec2(2.0, 0.0))).length() < 1e-3);
        }
        drop(moved);
        let mut borders = map.group_borders(&[Some("A"), Some("A"), Some("B")]);
        let quads = map.border_mesh(&mut borders, 0, view, 2.0, Color32::BLACK);
        assert_eq!(quads.vertices.len(), 9 * 4);
        // The left edge is 2 points wide about x = 40 − 1.5 × 20 = 10.
        let near = |x: f32| quads.vertices.iter().any(|v| (v.pos.x - x).abs() < 1e-3);
        assert!(near(9.0) && near(11.0));
    }
}
