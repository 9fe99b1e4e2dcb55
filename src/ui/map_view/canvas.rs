//! The map canvas: LSOAs as one coloured mesh from the cached tessellation,
//! zone and authority borders, hover and selection outlines, and the legend.
//! Pan, zoom and click are read here and written to the camera and the state.

use egui::{Color32, Rect, RichText, Sense, Shape, Stroke, Vec2, pos2};

use super::camera::{Camera, default_zoom, in_target};
use super::colouring::Colouring;
use super::side_panel::lsoa_summary_ui;
use super::{Layer, MapState, Prepared};
use crate::report::map::{MapFigures, ServiceFigures};
use crate::ui::map_geometry::MapGeometry;

pub(super) fn map_panel_ui(
    ui: &mut egui::Ui,
    figures: &MapFigures,
    prepared: &mut Prepared,
    service: Option<&ServiceFigures>,
    colouring: &Colouring,
    state: &mut MapState,
) {
    let size = Vec2::new(
        ui.available_width(),
        (ui.available_height() - 150.0).max(380.0),
    );
    let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
    let geometry = &mut prepared.geometry;
    if state.camera.is_none() && state.zoom_to.is_empty() {
        state.zoom_to = match state.layer {
            Layer::County => default_zoom(figures),
            Layer::England => "all".to_string(),
        };
    }
    let zoom_to = state.zoom_to.clone();
    let camera = state.camera.get_or_insert_with(|| {
        let mut bounds = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
        for (index, shape) in figures.shapes.iter().enumerate() {
            if in_target(shape, &zoom_to) {
                let b = geometry.area_bounds(index);
                bounds = [
                    bounds[0].min(b[0]),
                    bounds[1].min(b[1]),
                    bounds[2].max(b[2]),
                    bounds[3].max(b[3]),
                ];
            }
        }
        if bounds[0] > bounds[2] {
            return Camera::fit(geometry.size, rect);
        }
        let size = [
            (bounds[2] - bounds[0]) as f64,
            (bounds[3] - bounds[1]) as f64,
        ];
        let mut camera = Camera::fit(size, rect);
        camera.centre = [
            bounds[0] as f64 + size[0] / 2.0,
            bounds[1] as f64 + size[1] / 2.0,
        ];
        camera
    });
    // Pan, zoom (wheel and pinch, about the pointer) and reset.
    if response.dragged() {
        camera.pan(response.drag_delta());
    }
    if let Some(pointer) = response.hover_pos() {
        let (scroll, pinch) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
        let factor = pinch as f64 * (scroll as f64 / 300.0).exp();
        if (factor - 1.0).abs() > 1e-6 {
            camera.zoom_about(rect, pointer, factor);
        }
    }
    if response.double_clicked() {
        *camera = Camera::fit(geometry.size, rect);
        state.zoom_to = "all".to_string();
    }
    let camera = *camera;
    state.hovered = response.hover_pos().and_then(|pos| {
        let p = camera.to_map(rect, pos);
        geometry.hit(p[0], p[1])
    });
    if response.clicked() {
        state.selected = if state.selected == state.hovered {
            None
        } else {
            state.hovered
        };
    }

    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, Color32::from_rgb(246, 248, 250));
    let pixels_per_point = ui.ctx().pixels_per_point() as f64;
    let level = MapGeometry::level_for(camera.metres_per_point / pixels_per_point);
    let view = camera.view(rect);
    painter.add(Shape::Mesh(geometry.fill_mesh(
        level,
        &colouring.colours,
        view,
    )));
    // LSOA edges once they are far enough apart to read.
    if camera.metres_per_point < 80.0 {
        let stroke = Stroke::new(0.5, Color32::from_white_alpha(160));
        let shown: Vec<usize> = (0..geometry.len())
            .filter(|&index| view.shows(geometry.area_bounds(index), 0.0))
            .collect();
        let meshes = geometry.meshes(level);
        for index in shown {
            for ring in meshes.rings(index) {
                painter.add(Shape::line(
                    ring.iter().map(|&v| view.to_screen(v)).collect(),
                    stroke,
                ));
            }
        }
    }
    let (zones, authorities) = &mut prepared.borders;
    for (borders, width, colour) in [
        (zones, 1.0, Color32::from_gray(60)),
        (authorities, 2.2, Color32::from_gray(20)),
    ] {
        painter.add(Shape::Mesh(
            geometry.border_mesh(borders, level, view, width, colour),
        ));
    }
    let meshes = geometry.meshes(level);
    for (index, stroke) in [
        (state.hovered, Stroke::new(1.5, Color32::from_gray(40))),
        (
            state.selected,
            Stroke::new(3.0, Color32::from_rgb(230, 97, 1)),
        ),
    ] {
        if let Some(index) = index {
            for ring in meshes.rings(index) {
                painter.add(Shape::closed_line(
                    ring.iter().map(|&v| view.to_screen(v)).collect(),
                    stroke,
                ));
            }
        }
    }
    legend_ui(ui, rect, colouring);
    if let Some(index) = state.hovered {
        let measure = state.measure();
        response.on_hover_ui_at_pointer(|ui| {
            lsoa_summary_ui(
                ui,
                figures,
                service,
                index,
                measure,
                state.map_level,
                colouring.need.as_ref(),
            );
        });
    }
}

/// The legend in the map's lower left corner, as labels (so screen readers and
/// tests read it, unlike text painted into the map).
fn legend_ui(ui: &mut egui::Ui, rect: Rect, colouring: &Colouring) {
    let (legend, notes) = (&colouring.legend, &colouring.notes);
    let font = egui::FontId::proportional(12.0);
    let row = 21.0;
    let text_width = |text: &str| {
        ui.painter()
            .layout_no_wrap(text.to_string(), font.clone(), Color32::BLACK)
            .size()
            .x
    };
    let width = legend
        .iter()
        .map(|(_, label)| text_width(label) + 40.0)
        .chain(notes.iter().map(|note| text_width(note) + 14.0))
        .fold(0.0, f32::max);
    // The need view's 3×3 square: its side, and the height with its axis labels.
    let cell = 14.0;
    let square = if colouring.need.is_some() {
        3.0 * cell + row
    } else {
        0.0
    };
    let width = if let Some(need) = &colouring.need {
        width
            .max(text_width(&rate_axis(need.measure)) + 3.0 * cell + 24.0)
            .max(text_width(&need.source.axis()) + 24.0)
    } else {
        width
    };
    let height = (legend.len() + notes.len()) as f32 * row + square + 10.0;
    let frame = Rect::from_min_size(
        pos2(rect.left() + 8.0, rect.bottom() - height - 8.0),
        Vec2::new(width, height),
    );
    ui.painter()
        .rect_filled(frame, 4.0, Color32::from_white_alpha(225));
    let mut child = ui.new_child(egui::UiBuilder::new().max_rect(frame.shrink(5.0)));
    child.spacing_mut().item_spacing.y = 1.0;
    if let Some(need) = &colouring.need {
        need_square_ui(&mut child, need, cell, &font);
    }
    for (colour, label) in legend {
        child.horizontal(|ui| {
            let (swatch, _) = ui.allocate_exact_size(Vec2::new(16.0, 12.0), Sense::hover());
            ui.painter().rect_filled(swatch, 2.0, *colour);
            ui.painter().rect_stroke(
                swatch,
                2.0,
                Stroke::new(0.5, Color32::from_gray(120)),
                egui::StrokeKind::Inside,
            );
            ui.add(
                egui::Label::new(
                    RichText::new(label)
                        .font(font.clone())
                        .color(Color32::from_gray(30)),
                )
                .selectable(false),
            );
        });
    }
    for note in notes {
        child.add(
            egui::Label::new(
                RichText::new(note)
                    .font(font.clone())
                    .italics()
                    .color(Color32::from_gray(60)),
            )
            .selectable(false),
        );
    }
}

/// The need view's rate axis label, e.g. "higher uptake" (its arrow is painted:
/// egui's built-in fonts have no "↑").
fn rate_axis(measure: crate::uptake::Measure) -> String {
    format!("higher {}", measure.label())
}

/// The need view's legend: the 3×3 bivariate square, more need to the right
/// and a higher rate upwards, with both axes labelled.
fn need_square_ui(
    ui: &mut egui::Ui,
    need: &super::colouring::NeedView,
    cell: f32,
    font: &egui::FontId,
) {
    let measure = need.measure;
    use super::need::NeedClass;
    let label = |ui: &mut egui::Ui, text: String| {
        ui.add(
            egui::Label::new(
                RichText::new(text)
                    .font(font.clone())
                    .color(Color32::from_gray(30)),
            )
            .selectable(false),
        );
    };
    ui.horizontal(|ui| {
        let (square, _) = ui.allocate_exact_size(Vec2::splat(3.0 * cell), Sense::hover());
        for rate in 0..3 {
            for need in 0..3 {
                let min = pos2(
                    square.left() + need as f32 * cell,
                    square.bottom() - (rate + 1) as f32 * cell,
                );
                let colour = NeedClass { need, rate }.colour();
                ui.painter()
                    .rect_filled(Rect::from_min_size(min, Vec2::splat(cell)), 0.0, colour);
            }
        }
        ui.painter().rect_stroke(
            square,
            0.0,
            Stroke::new(0.5, Color32::from_gray(120)),
            egui::StrokeKind::Inside,
        );
        label(ui, rate_axis(measure));
        arrow_ui(ui, Vec2::new(0.0, -1.0));
    });
    ui.horizontal(|ui| {
        label(ui, need.source.axis());
        arrow_ui(ui, Vec2::new(1.0, 0.0));
    });
    ui.add_space(4.0);
}

/// A small arrow pointing along `direction` (a unit vector), in its own space.
fn arrow_ui(ui: &mut egui::Ui, direction: Vec2) {
    let (space, _) = ui.allocate_exact_size(Vec2::splat(12.0), Sense::hover());
    let length = 10.0;
    ui.painter().arrow(
        space.center() - direction * length / 2.0,
        direction * length,
        Stroke::new(1.2, Color32::from_gray(30)),
    );
}
