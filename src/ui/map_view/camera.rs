//! Where the map looks: the camera (centre and scale, pan and zoom about the
//! pointer) and the areas it can be fitted to ("Zoom to").

use egui::{Pos2, Rect, Vec2};

use super::MapState;
use crate::geo::lsoa_shapes::LsoaShape;
use crate::report::map::MapFigures;
use crate::ui::map_geometry::ScreenTransform;

/// Where the map looks: the point at the centre (metres from the geometry's
/// origin) and the scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    pub centre: [f64; 2],
    pub metres_per_point: f64,
}

impl Camera {
    /// The camera showing all of `size` (metres) inside `rect`, with a margin.
    pub fn fit(size: [f64; 2], rect: Rect) -> Camera {
        let scale =
            (size[0] / rect.width().max(1.0) as f64).max(size[1] / rect.height().max(1.0) as f64);
        Camera {
            centre: [size[0] / 2.0, size[1] / 2.0],
            metres_per_point: (scale * 1.05).max(1e-3),
        }
    }

    /// How this camera draws map points in `rect` (its inverse is [`Camera::to_map`]).
    pub fn view(&self, rect: Rect) -> ScreenTransform {
        ScreenTransform::new(self.centre, self.metres_per_point, rect)
    }

    /// Map point under screen position `pos`.
    pub fn to_map(&self, rect: Rect, pos: Pos2) -> [f64; 2] {
        let c = rect.center();
        [
            self.centre[0] + (pos.x - c.x) as f64 * self.metres_per_point,
            self.centre[1] - (pos.y - c.y) as f64 * self.metres_per_point,
        ]
    }

    /// Zooms by `factor` (above 1 zooms in) keeping the map point under `pos` still.
    pub fn zoom_about(&mut self, rect: Rect, pos: Pos2, factor: f64) {
        let before = self.to_map(rect, pos);
        self.metres_per_point = (self.metres_per_point / factor).clamp(0.5, 50_000.0);
        let after = self.to_map(rect, pos);
        self.centre[0] += before[0] - after[0];
        self.centre[1] += before[1] - after[1];
    }

    /// Moves the map with the pointer by `delta` points.
    pub fn pan(&mut self, delta: Vec2) {
        self.centre[0] -= delta.x as f64 * self.metres_per_point;
        self.centre[1] += delta.y as f64 * self.metres_per_point;
    }
}

/// The "Zoom to" choice: the camera is fitted to the chosen area on the next frame.
pub(super) fn zoom_ui(ui: &mut egui::Ui, targets: &[(String, String)], state: &mut MapState) {
    ui.label("Zoom to");
    let current = targets
        .iter()
        .find(|(key, _)| *key == state.zoom_to)
        .map_or("the picked area", |(_, label)| label.as_str());
    egui::ComboBox::from_id_salt("map_zoom")
        .selected_text(current)
        .show_ui(ui, |ui| {
            for (key, label) in targets {
                if ui.selectable_label(state.zoom_to == *key, label).clicked() {
                    state.zoom_to = key.clone();
                    state.camera = None;
                }
            }
        });
}

/// Areas the map can be fitted to: the whole county, each authority, each zone
/// (key "all" for everything, "la:CODE", "zone:ID").
pub fn zoom_targets(figures: &MapFigures) -> Vec<(String, String)> {
    // Keyed by label, so each list comes out in alphabetical order.
    let mut authorities = std::collections::BTreeMap::new();
    let mut zones = std::collections::BTreeMap::new();
    for shape in &figures.shapes {
        authorities.insert(shape.la_name.clone(), format!("la:{}", shape.la_code));
        if let Some(zone) = &shape.zone_id {
            let label = format!("zone {}", shape.zone_name.as_deref().unwrap_or(zone));
            zones.insert(label, format!("zone:{zone}"));
        }
    }
    let authorities = authorities.into_iter().map(|(label, key)| (key, label));
    let zones = zones.into_iter().map(|(label, key)| (key, label));
    std::iter::once(("all".to_string(), "all LSOAs shown".to_string()))
        .chain(authorities)
        .chain(zones)
        .collect()
}

/// Whether `shape` belongs to the zoom target `key`.
pub(super) fn in_target(shape: &LsoaShape, key: &str) -> bool {
    match key.split_once(':') {
        Some(("la", code)) => shape.la_code == code,
        Some(("zone", id)) => shape.zone_id.as_deref() == Some(id),
        Some(("ward", code)) => shape.ward_code.as_deref() == Some(code),
        _ => true,
    }
}

/// The key of the authority with the most LSOAs: the first view of a county whose
/// authorities lie far apart (the sample's are 400 km apart) shows one of them well.
pub(super) fn default_zoom(figures: &MapFigures) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for shape in &figures.shapes {
        *counts.entry(shape.la_code.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(code, n)| (n, std::cmp::Reverse(code)))
        .map_or(String::new(), |(code, _)| format!("la:{code}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::pos2;

    fn screen() -> Rect {
        Rect::from_min_size(pos2(100.0, 50.0), Vec2::new(800.0, 600.0))
    }

    /// What is drawn at a screen point is what a click there hits: drawing
    /// (`view`) and hit testing (`to_map`) are inverses.
    #[test]
    fn screen_and_map_positions_round_trip_and_north_is_up() {
        let camera = Camera::fit([40_000.0, 30_000.0], screen());
        let view = camera.view(screen());
        let p = [12_345.0, 6_789.0];
        let back = camera.to_map(screen(), view.to_screen(p));
        assert!((back[0] - p[0] as f64).abs() < 0.5 && (back[1] - p[1] as f64).abs() < 0.5);
        let south = view.to_screen([20_000.0, 0.0]);
        let north = view.to_screen([20_000.0, 30_000.0]);
        assert!(north.y < south.y);
        // The whole county fits.
        assert!(screen().contains(view.to_screen([0.0, 0.0])));
        assert!(screen().contains(view.to_screen([40_000.0, 30_000.0])));
    }

    #[test]
    fn zooming_keeps_the_point_under_the_pointer_still() {
        let mut camera = Camera::fit([40_000.0, 30_000.0], screen());
        let pointer = pos2(300.0, 200.0);
        let before = camera.to_map(screen(), pointer);
        camera.zoom_about(screen(), pointer, 2.5);
        let after = camera.to_map(screen(), pointer);
        assert!((before[0] - after[0]).abs() < 1e-6 && (before[1] - after[1]).abs() < 1e-6);
        let mut panned = camera;
        panned.pan(Vec2::new(10.0, 0.0));
        assert!(panned.centre[0] < camera.centre[0]);
    }
}
