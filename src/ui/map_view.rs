//! The Map view, for the public health commissioner: a choropleth of LSOAs
//! (coloured by IMD decile or by a service's coverage or uptake) beside the rate
//! per IMD decile with its confidence intervals and slope index of inequality.
//! Selecting a decile or an LSOA in one highlights it in the other.
//!
//! Only suppressed figures ([`Published`]) reach this screen. Geometry is
//! tessellated once per level of detail ([`MapGeometry`]); a frame only moves
//! vertices to the screen and colours them.

use egui::{Color32, Pos2, Rect, RichText, Sense, Shape, Stroke, Vec2, pos2};
use egui_plot::{Bar, BarChart, Line, Plot, PlotPoints};

use super::jobs::{Job, take_finished};
use super::widgets::{imd_decile_color, section_heading_ui};
use crate::geo::map_geometry::{GroupBorders, MapGeometry, ScreenTransform};
use crate::report::map::{MapFigures, ServiceFigures};
use crate::uptake::{Measure, Published};
use crate::uptake::{Rate, UptakeRow};

/// What the LSOAs are coloured by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourBy {
    Deprivation,
    Coverage,
    Uptake,
}

/// How rates are cut into colour classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classes {
    /// Five classes with about the same number of LSOAs each.
    Quantile,
    /// Five classes of equal width between the lowest and highest rate.
    EqualInterval,
}

/// Five-class sequential colours, light to dark, from ColorBrewer's YlGnBu
/// (colour-blind safe and readable in greyscale).
const RATE_COLOURS: [[u8; 3]; 5] = [
    [255, 255, 204],
    [161, 218, 180],
    [65, 182, 196],
    [44, 127, 184],
    [37, 52, 148],
];
/// LSOAs whose rate is withheld because a count is small.
const SUPPRESSED: Color32 = Color32::from_rgb(200, 200, 200);
/// LSOAs with nobody eligible.
const NO_DATA: Color32 = Color32::from_rgb(235, 235, 235);

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

    /// Screen position of map point `p` (north up).
    pub fn to_screen(&self, rect: Rect, p: [f64; 2]) -> Pos2 {
        let c = rect.center();
        pos2(
            c.x + ((p[0] - self.centre[0]) / self.metres_per_point) as f32,
            c.y - ((p[1] - self.centre[1]) / self.metres_per_point) as f32,
        )
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

/// Zone borders and authority borders.
type Borders = (GroupBorders, GroupBorders);

/// The Map view's choices and its prepared geometry.
pub struct MapState {
    pub colour_by: ColourBy,
    pub classes: Classes,
    /// Index into the figures' services.
    pub service: usize,
    /// Selected LSOA (index into the figures' shapes).
    pub selected: Option<usize>,
    /// Selected IMD decile: the map fades the other LSOAs.
    pub selected_decile: Option<u8>,
    pub hovered: Option<usize>,
    pub camera: Option<Camera>,
    /// The area the camera was last fitted to (a [`zoom_targets`] key; empty until the first frame).
    pub zoom_to: String,
    /// Which LSOAs are drawn.
    pub layer: Layer,
    county: Option<Prepared>,
    /// England's LSOAs and their prepared geometry, loaded on a worker when first shown.
    england: Option<(MapFigures, Prepared)>,
    england_job: Option<Job<(MapFigures, Prepared)>>,
    england_error: Option<String>,
    /// A CSV export under way: the files written, or None when the folder choice was cancelled.
    export_job: Option<Job<Option<Vec<std::path::PathBuf>>>>,
    /// What the last export did.
    pub export_message: Option<String>,
}

/// The LSOAs the map draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// The county's LSOAs with its services' figures.
    County,
    /// Every LSOA in England, coloured by IMD decile (no service figures).
    England,
}

/// A layer's geometry, tessellated once, with its borders and zoom choices.
pub struct Prepared {
    geometry: MapGeometry,
    borders: Borders,
    targets: Vec<(String, String)>,
}

impl Prepared {
    /// Prepares `figures`' shapes: every level of detail when `all_levels` (on a
    /// worker, for England), otherwise each level when first drawn.
    pub fn new(figures: &MapFigures, all_levels: bool) -> Prepared {
        let mut geometry =
            MapGeometry::new(figures.shapes.iter().map(|s| s.geometry.clone()).collect());
        if all_levels {
            for level in 0..crate::geo::map_geometry::LOD_TOLERANCES.len() {
                geometry.meshes(level);
            }
        }
        let zone_of: Vec<Option<&str>> = figures
            .shapes
            .iter()
            .map(|s| s.zone_id.as_deref())
            .collect();
        let authority_of: Vec<Option<&str>> = figures
            .shapes
            .iter()
            .map(|s| Some(s.la_code.as_str()))
            .collect();
        let borders = (
            geometry.group_borders(&zone_of),
            geometry.group_borders(&authority_of),
        );
        Prepared {
            geometry,
            borders,
            targets: zoom_targets(figures),
        }
    }
}

impl Default for MapState {
    fn default() -> MapState {
        MapState {
            colour_by: ColourBy::Uptake,
            classes: Classes::Quantile,
            service: 0,
            selected: None,
            selected_decile: None,
            hovered: None,
            camera: None,
            zoom_to: String::new(),
            layer: Layer::County,
            county: None,
            england: None,
            england_job: None,
            england_error: None,
            export_job: None,
            export_message: None,
        }
    }
}

impl MapState {
    /// Forgets geometry prepared for earlier figures (called when new figures arrive).
    pub fn reset_geometry(&mut self) {
        self.county = None;
        self.selected = None;
        self.hovered = None;
        self.camera = None;
        self.zoom_to.clear();
    }

    /// Shows every LSOA in England (loaded when the view is next drawn).
    pub fn show_england(&mut self) {
        self.layer = Layer::England;
        self.zoom_to = "all".to_string();
        self.camera = None;
    }

    /// True while England's LSOAs are loading or tables are being exported.
    pub fn is_loading(&self) -> bool {
        self.england_job.is_some() || self.export_job.is_some()
    }

    /// Writes `published` as CSV files into the folder `pick` chooses (a save
    /// dialog in the app), on a worker. Only suppressed tables can be passed.
    pub fn start_export(
        &mut self,
        ctx: &egui::Context,
        published: Published,
        pick: impl FnOnce() -> Option<std::path::PathBuf> + Send + 'static,
    ) {
        self.export_message = None;
        self.export_job = Some(Job::spawn("Exporting uptake tables", ctx, move |sink| {
            sink.report(None, "Choosing a folder…");
            let Some(dir) = pick() else {
                return Ok(None);
            };
            let produced = chrono::Local::now().date_naive();
            Ok(Some(crate::uptake::export::write_csv(
                &published, &dir, produced,
            )?))
        }));
    }

    /// The measure the map shows, when it shows a rate.
    pub fn measure(&self) -> Option<Measure> {
        match self.colour_by {
            ColourBy::Deprivation => None,
            ColourBy::Coverage => Some(Measure::Coverage),
            ColourBy::Uptake => Some(Measure::Uptake),
        }
    }
}

/// A row's rate for `measure`.
pub fn rate_of(row: &UptakeRow, measure: Measure) -> Option<Rate> {
    match measure {
        Measure::Coverage => row.coverage,
        Measure::Uptake => row.uptake,
    }
}

/// Class breaks (the upper bound of each class but the last) of `rates`: at most
/// four, so five classes; fewer where many rates are equal (a quantile break that
/// repeats, or equals the lowest rate, would make an empty class).
pub fn class_breaks(rates: &[f64], classes: Classes) -> Vec<f64> {
    let mut sorted: Vec<f64> = rates.iter().copied().filter(|r| r.is_finite()).collect();
    if sorted.is_empty() {
        return Vec::new();
    }
    sorted.sort_by(f64::total_cmp);
    let n = RATE_COLOURS.len();
    let (low, high) = (sorted[0], sorted[sorted.len() - 1]);
    let mut breaks: Vec<f64> = match classes {
        Classes::Quantile => (1..n)
            .map(|k| sorted[(k * sorted.len() / n).min(sorted.len() - 1)])
            .collect(),
        Classes::EqualInterval => (1..n)
            .map(|k| low + (high - low) * k as f64 / n as f64)
            .collect(),
    };
    breaks.dedup();
    breaks.retain(|&b| b > low);
    breaks
}

/// The class of `rate` given `breaks`: the number of breaks at or below it.
pub fn class_of(rate: f64, breaks: &[f64]) -> usize {
    breaks.iter().filter(|&&b| rate >= b).count()
}

fn rate_colour(class: usize) -> Color32 {
    let [r, g, b] = RATE_COLOURS[class.min(RATE_COLOURS.len() - 1)];
    Color32::from_rgb(r, g, b)
}

/// Colours and legend for the current choice.
struct Colouring {
    colours: Vec<Color32>,
    legend: Vec<(Color32, String)>,
}

fn colouring(
    figures: &MapFigures,
    lsoa_rows: &[Option<&UptakeRow>],
    state: &MapState,
) -> Colouring {
    let Some(measure) = state.measure() else {
        return Colouring {
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
        };
    };
    let rates: Vec<Option<f64>> = lsoa_rows
        .iter()
        .map(|row| row.and_then(|r| rate_of(r, measure)).map(|r| r.value))
        .collect();
    let known: Vec<f64> = rates.iter().flatten().copied().collect();
    let breaks = class_breaks(&known, state.classes);
    let colours = lsoa_rows
        .iter()
        .zip(&rates)
        .map(|(row, rate)| match (row, rate) {
            (_, Some(rate)) => rate_colour(class_of(*rate, &breaks)),
            (Some(row), None) if row.withheld.any() => SUPPRESSED,
            _ => NO_DATA,
        })
        .collect();
    let (low, high) = known
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), &r| (l.min(r), h.max(r)));
    let mut legend = Vec::new();
    if !known.is_empty() {
        let mut bounds = vec![low];
        bounds.extend(&breaks);
        bounds.push(high);
        for class in 0..=breaks.len() {
            legend.push((
                rate_colour(class),
                format!(
                    "{:.0}% to {:.0}%",
                    bounds[class] * 100.0,
                    bounds[class + 1] * 100.0
                ),
            ));
        }
    }
    legend.push((SUPPRESSED, "suppressed (a count of 1–4)".to_string()));
    legend.push((NO_DATA, "nobody eligible".to_string()));
    Colouring { colours, legend }
}

/// Draws the Map view: the county's layer, or England's once loaded.
pub fn map_ui(ui: &mut egui::Ui, county: &MapFigures, state: &mut MapState) {
    section_heading_ui(
        ui,
        "Uptake against deprivation",
        "Drag to pan, scroll or pinch to zoom, double-click to see all, click an LSOA or a decile to select it",
    );
    let before = state.layer;
    ui.horizontal(|ui| {
        ui.label("Show");
        ui.selectable_value(&mut state.layer, Layer::County, "This county");
        ui.selectable_value(
            &mut state.layer,
            Layer::England,
            "All of England (IMD 2019)",
        );
    });
    if state.layer != before {
        state.camera = None;
        state.selected = None;
        state.hovered = None;
        state.selected_decile = None;
        state.zoom_to = match state.layer {
            Layer::County => String::new(),
            Layer::England => "all".to_string(),
        };
    }
    match state.layer {
        Layer::County => {
            let mut prepared = state
                .county
                .take()
                .unwrap_or_else(|| Prepared::new(county, false));
            layer_ui(ui, county, &mut prepared, state);
            state.county = Some(prepared);
        }
        Layer::England => {
            if let Some(result) = take_finished(&mut state.england_job) {
                match result {
                    Ok(loaded) => state.england = Some(loaded),
                    Err(error) => state.england_error = Some(error),
                }
            }
            if let Some((figures, mut prepared)) = state.england.take() {
                state.colour_by = ColourBy::Deprivation;
                layer_ui(ui, &figures, &mut prepared, state);
                state.england = Some((figures, prepared));
            } else if let Some(error) = &state.england_error {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("England's boundaries could not be loaded: {error}"),
                );
            } else {
                if state.england_job.is_none() {
                    state.england_job =
                        Some(Job::spawn("Loading England's LSOAs", ui.ctx(), |sink| {
                            sink.report(None, "Reading and projecting England's 32,844 LSOAs…");
                            let reference = crate::sample::reference_dir();
                            let shapes = crate::geo::england::england_shapes(
                                &reference.join(crate::geo::england::ENGLAND_BOUNDARIES),
                                &reference.join(crate::geo::england::ENGLAND_IMD),
                            )?;
                            let figures = MapFigures {
                                shapes,
                                ..MapFigures::default()
                            };
                            sink.report(None, "Tessellating England's LSOAs…");
                            let prepared = Prepared::new(&figures, true);
                            Ok((figures, prepared))
                        }));
                }
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Loading England's 32,844 LSOAs (a few seconds, once)…");
                });
            }
        }
    }
}

/// Draws one layer's controls, map and side panel.
fn layer_ui(
    ui: &mut egui::Ui,
    figures: &MapFigures,
    prepared: &mut Prepared,
    state: &mut MapState,
) {
    if figures.shapes.is_empty() {
        ui.label("This database has no LSOA boundaries: name a boundary shapefile in the manifest's [reference] section (`boundaries = …`) and load it again.");
        return;
    }
    let service = figures
        .services
        .get(state.service.min(figures.services.len().saturating_sub(1)));
    controls_ui(ui, figures, &prepared.targets, state, service);
    if let (Some(error), None) = (&figures.uptake_error, service) {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("No service figures: {error}"),
        );
    }
    if let Some(service) = service
        && !service.published.tables().has_invited
        && state.colour_by == ColourBy::Uptake
    {
        state.colour_by = ColourBy::Coverage;
    }
    let lsoa_rows: Vec<Option<&UptakeRow>> = match service {
        Some(service) => service
            .rows_by_shape
            .iter()
            .map(|row| row.map(|k| &service.published.tables().lsoas[k]))
            .collect(),
        None => vec![None; figures.shapes.len()],
    };
    let colouring = colouring(figures, &lsoa_rows, state);
    ui.columns(2, |columns| {
        map_panel_ui(
            &mut columns[0],
            figures,
            prepared,
            &lsoa_rows,
            &colouring,
            state,
        );
        egui::ScrollArea::vertical()
            .id_salt("map_side_panel")
            .show(&mut columns[1], |ui| {
                side_panel_ui(ui, figures, &lsoa_rows, service, state);
            });
    });
}

fn controls_ui(
    ui: &mut egui::Ui,
    figures: &MapFigures,
    targets: &[(String, String)],
    state: &mut MapState,
    service: Option<&ServiceFigures>,
) {
    ui.horizontal(|ui| {
        if figures.services.is_empty() {
            ui.label("Coloured by IMD 2019 decile; service figures exist only for the county.");
            ui.add_space(12.0);
            zoom_ui(ui, targets, state);
            return;
        }
        ui.label("Service");
        egui::ComboBox::from_id_salt("map_service")
            .selected_text(service.map_or("none", |s| s.title.as_str()))
            .show_ui(ui, |ui| {
                for (index, s) in figures.services.iter().enumerate() {
                    ui.selectable_value(&mut state.service, index, &s.title);
                }
            });
        ui.add_space(12.0);
        ui.label("Colour by");
        ui.selectable_value(&mut state.colour_by, ColourBy::Deprivation, "IMD decile");
        ui.selectable_value(&mut state.colour_by, ColourBy::Coverage, "Coverage");
        let has_invited = service.is_some_and(|s| s.published.tables().has_invited);
        ui.add_enabled_ui(has_invited, |ui| {
            ui.selectable_value(&mut state.colour_by, ColourBy::Uptake, "Uptake")
                .on_disabled_hover_text(
                    "This service records no invitations, so it has coverage only",
                );
        });
        if state.colour_by != ColourBy::Deprivation {
            ui.add_space(12.0);
            ui.label("Classes");
            ui.selectable_value(&mut state.classes, Classes::Quantile, "Quantile");
            ui.selectable_value(&mut state.classes, Classes::EqualInterval, "Equal interval");
        }
        ui.add_space(12.0);
        zoom_ui(ui, targets, state);
    });
}

/// The "Zoom to" choice: the camera is fitted to the chosen area on the next frame.
fn zoom_ui(ui: &mut egui::Ui, targets: &[(String, String)], state: &mut MapState) {
    ui.label("Zoom to");
    let current = targets
        .iter()
        .find(|(key, _)| *key == state.zoom_to)
        .map_or("all LSOAs shown", |(_, label)| label.as_str());
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
fn in_target(shape: &crate::geo::lsoa_shapes::LsoaShape, key: &str) -> bool {
    match key.split_once(':') {
        Some(("la", code)) => shape.la_code == code,
        Some(("zone", id)) => shape.zone_id.as_deref() == Some(id),
        _ => true,
    }
}

/// The key of the authority with the most LSOAs: the first view of a county whose
/// authorities lie far apart (the sample's are 400 km apart) shows one of them well.
fn default_zoom(figures: &MapFigures) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for shape in &figures.shapes {
        *counts.entry(shape.la_code.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(code, n)| (n, std::cmp::Reverse(code)))
        .map_or(String::new(), |(code, _)| format!("la:{code}"))
}

fn map_panel_ui(
    ui: &mut egui::Ui,
    figures: &MapFigures,
    prepared: &mut Prepared,
    lsoa_rows: &[Option<&UptakeRow>],
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
    let view = ScreenTransform::new(camera.centre, camera.metres_per_point, rect);
    let faded: Vec<Color32>;
    let colours = match state.selected_decile {
        Some(decile) => {
            faded = (colouring.colours.iter().zip(&figures.shapes))
                .map(|(colour, shape)| {
                    if shape.imd_decile == decile {
                        *colour
                    } else {
                        colour.gamma_multiply(0.25)
                    }
                })
                .collect();
            &faded
        }
        None => &colouring.colours,
    };
    painter.add(Shape::Mesh(geometry.fill_mesh(level, colours, view)));
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
    legend_ui(ui, rect, &colouring.legend);
    if let Some(index) = state.hovered {
        let measure = state.measure();
        response.on_hover_ui_at_pointer(|ui| {
            lsoa_summary_ui(ui, figures, index, lsoa_rows[index], measure);
        });
    }
}

/// The legend in the map's lower left corner, as labels (so screen readers and
/// tests read it, unlike text painted into the map).
fn legend_ui(ui: &mut egui::Ui, rect: Rect, legend: &[(Color32, String)]) {
    let font = egui::FontId::proportional(12.0);
    let row = 21.0;
    let width = legend
        .iter()
        .map(|(_, label)| {
            ui.painter()
                .layout_no_wrap(label.clone(), font.clone(), Color32::BLACK)
                .size()
                .x
        })
        .fold(0.0, f32::max)
        + 40.0;
    let height = legend.len() as f32 * row + 10.0;
    let frame = Rect::from_min_size(
        pos2(rect.left() + 8.0, rect.bottom() - height - 8.0),
        Vec2::new(width, height),
    );
    ui.painter()
        .rect_filled(frame, 4.0, Color32::from_white_alpha(225));
    let mut child = ui.new_child(egui::UiBuilder::new().max_rect(frame.shrink(5.0)));
    child.spacing_mut().item_spacing.y = 1.0;
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
}

/// Name, decile, zone, counts and rates of one LSOA (hover tooltip and selection panel).
fn lsoa_summary_ui(
    ui: &mut egui::Ui,
    figures: &MapFigures,
    index: usize,
    row: Option<&UptakeRow>,
    measure: Option<Measure>,
) {
    let shape = &figures.shapes[index];
    ui.label(RichText::new(format!("{} ({})", shape.name, shape.code)).strong());
    ui.label(format!(
        "IMD decile {} · {}",
        shape.imd_decile,
        match (&shape.zone_name, &shape.zone_id) {
            (Some(name), _) => format!("zone {name}"),
            (None, Some(id)) => format!("zone {id}"),
            (None, None) => shape.la_name.clone(),
        }
    ));
    let Some(row) = row else {
        return;
    };
    let count = |value: Option<u64>, withheld: bool| match (value, withheld) {
        (_, true) => "suppressed".to_string(),
        (Some(v), false) => v.to_string(),
        (None, false) => "—".to_string(),
    };
    ui.label(format!(
        "Eligible {} · invited {} · attended {}",
        count(row.eligible, row.withheld.eligible),
        count(row.invited, row.withheld.invited),
        count(row.attended, row.withheld.attended)
    ));
    for m in [Measure::Coverage, Measure::Uptake] {
        let strong = Some(m) == measure;
        let text = match rate_of(row, m) {
            Some(rate) => format!(
                "{} {:.1}% (95% CI {:.1}% to {:.1}%)",
                m.label(),
                rate.value * 100.0,
                rate.lower * 100.0,
                rate.upper * 100.0
            ),
            None if row.withheld.any() => format!("{}: suppressed", m.label()),
            None => format!("{}: —", m.label()),
        };
        ui.label(if strong {
            RichText::new(text).strong()
        } else {
            RichText::new(text)
        });
    }
}

fn side_panel_ui(
    ui: &mut egui::Ui,
    figures: &MapFigures,
    lsoa_rows: &[Option<&UptakeRow>],
    service: Option<&ServiceFigures>,
    state: &mut MapState,
) {
    let Some(service) = service else {
        return;
    };
    let published: &Published = &service.published;
    let measure = state.measure().unwrap_or(Measure::Coverage);
    section_heading_ui(
        ui,
        &format!("{} {} by IMD decile", service.title, measure.label()),
        "Rate with its 95% confidence interval; the line is the slope index of inequality. Click a decile to pick out its LSOAs.",
    );
    decile_chart_ui(ui, published, measure, state);
    if let Some(inequality) = published
        .tables()
        .inequality
        .iter()
        .find(|i| i.measure == measure)
    {
        ui.label(RichText::new(&inequality.sentence).strong());
        if let (Some(sii), Some(lo), Some(hi)) =
            (inequality.sii, inequality.sii_lower, inequality.sii_upper)
        {
            ui.label(format!(
                "SII {:+.1} points (95% CI {:+.1} to {:+.1}){}",
                sii * 100.0,
                lo * 100.0,
                hi * 100.0,
                match (inequality.rii, inequality.rii_lower, inequality.rii_upper) {
                    (Some(r), Some(l), Some(u)) => format!(" · RII {r:.2} ({l:.2} to {u:.2})"),
                    _ => String::new(),
                }
            ));
        }
    }
    ui.label(RichText::new(published.note()).weak().small());
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        let exporting = state.export_job.is_some();
        if ui
            .add_enabled(!exporting, egui::Button::new("Export tables (CSV)…"))
            .on_hover_text("Per LSOA, decile, area and the inequality measures, suppressed, each with its title, dates, source and suppression note")
            .clicked()
        {
            state.start_export(ui.ctx(), published.clone(), || {
                rfd::FileDialog::new()
                    .set_title("Choose a folder for the uptake tables")
                    .pick_folder()
            });
        }
        if exporting {
            ui.spinner();
        }
    });
    if let Some(result) = take_finished(&mut state.export_job) {
        state.export_message = Some(match result {
            Ok(None) => "Export cancelled".to_string(),
            Ok(Some(files)) => format!(
                "Saved {} files to {}",
                files.len(),
                files
                    .first()
                    .and_then(|f| f.parent())
                    .map_or(String::new(), |d| d.display().to_string())
            ),
            Err(error) => format!("Export failed: {error}"),
        });
    }
    if let Some(message) = &state.export_message {
        ui.label(message);
    }
    ui.add_space(6.0);
    decile_table_ui(ui, published, state);
    ui.add_space(6.0);
    if let Some(index) = state.selected {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            lsoa_summary_ui(ui, figures, index, lsoa_rows[index], Some(measure));
        });
    }
}

/// The decile figures as a table; clicking a decile picks out its LSOAs on the map
/// and its bar in the chart.
fn decile_table_ui(ui: &mut egui::Ui, published: &Published, state: &mut MapState) {
    let count = |value: Option<u64>, withheld: bool| match (value, withheld) {
        (_, true) => "suppressed".to_string(),
        (Some(v), false) => crate::commands::thousands(v as i64),
        (None, false) => "—".to_string(),
    };
    let rate = |rate: Option<Rate>| {
        rate.map_or("—".to_string(), |r| {
            format!(
                "{:.1}% ({:.1}–{:.1})",
                r.value * 100.0,
                r.lower * 100.0,
                r.upper * 100.0
            )
        })
    };
    egui::Grid::new("uptake_decile_table")
        .striped(true)
        .num_columns(6)
        .show(ui, |ui| {
            for heading in [
                "IMD decile",
                "Eligible",
                "Invited",
                "Attended",
                "Coverage (95% CI)",
                "Uptake (95% CI)",
            ] {
                ui.label(RichText::new(heading).strong());
            }
            ui.end_row();
            for row in published
                .tables()
                .deciles
                .iter()
                .filter(|r| r.level == crate::uptake::Level::Decile)
            {
                let Some(decile) = row.imd_decile else {
                    continue;
                };
                let label = match decile {
                    1 => "1 most deprived".to_string(),
                    10 => "10 least deprived".to_string(),
                    d => d.to_string(),
                };
                let selected = state.selected_decile == Some(decile);
                if ui.selectable_label(selected, label).clicked() {
                    state.selected_decile = if selected { None } else { Some(decile) };
                }
                ui.label(count(row.eligible, row.withheld.eligible));
                ui.label(count(row.invited, row.withheld.invited));
                ui.label(count(row.attended, row.withheld.attended));
                ui.label(rate(row.coverage));
                ui.label(rate(row.uptake));
                ui.end_row();
            }
        });
}

/// Rate per decile as bars with CI whiskers, and the SII line.
fn decile_chart_ui(
    ui: &mut egui::Ui,
    published: &Published,
    measure: Measure,
    state: &mut MapState,
) {
    let deciles: Vec<&UptakeRow> = published
        .tables()
        .deciles
        .iter()
        .filter(|r| r.imd_decile.is_some() && r.level == crate::uptake::Level::Decile)
        .collect();
    let bars: Vec<Bar> = deciles
        .iter()
        .filter_map(|row| {
            let decile = row.imd_decile?;
            let rate = rate_of(row, measure)?;
            let mut fill = imd_decile_color(decile as i32);
            if state.selected_decile.is_some_and(|d| d != decile) {
                fill = fill.gamma_multiply(0.3);
            }
            Some(
                Bar::new(decile as f64, rate.value * 100.0)
                    .width(0.8)
                    .fill(fill)
                    .name(format!(
                        "decile {decile}: {:.1}% ({:.1}% to {:.1}%)",
                        rate.value * 100.0,
                        rate.lower * 100.0,
                        rate.upper * 100.0
                    )),
            )
        })
        .collect();
    let whiskers: Vec<Line> = deciles
        .iter()
        .filter_map(|row| {
            let decile = row.imd_decile? as f64;
            let rate = rate_of(row, measure)?;
            Some(
                Line::new(
                    format!("ci{decile}"),
                    PlotPoints::from(vec![
                        [decile, rate.lower * 100.0],
                        [decile, rate.upper * 100.0],
                    ]),
                )
                .color(Color32::from_gray(30))
                .width(1.5),
            )
        })
        .collect();
    // The SII line over the deciles' cumulative rank mid-points (population = eligible).
    let sii_line = published
        .tables()
        .inequality
        .iter()
        .find(|i| i.measure == measure)
        .and_then(|i| Some((i.sii?, i.mean_rate?)))
        .map(|(sii, mean)| {
            let populations: Vec<(f64, f64)> = deciles
                .iter()
                .filter_map(|r| Some((r.imd_decile? as f64, r.eligible? as f64)))
                .collect();
            let total: f64 = populations.iter().map(|p| p.1).sum::<f64>().max(1.0);
            let mut cumulative = 0.0;
            let points: Vec<[f64; 2]> = populations
                .iter()
                .map(|&(decile, population)| {
                    let mid = (cumulative + population / 2.0) / total;
                    cumulative += population;
                    [decile, (mean + sii * (mid - 0.5)) * 100.0]
                })
                .collect();
            Line::new("slope index of inequality", PlotPoints::from(points))
                .color(Color32::from_rgb(230, 97, 1))
                .width(2.0)
        });
    let response = Plot::new("uptake_deciles")
        .height(230.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .show_x(false)
        .include_y(0.0)
        .x_axis_label("IMD decile (1 = most deprived)")
        .y_axis_label("%")
        .x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 1.0, 1.0]))
        .show(ui, |plot| {
            plot.bar_chart(
                BarChart::new("rate", bars).element_formatter(Box::new(|bar, _| bar.name.clone())),
            );
            for whisker in whiskers {
                plot.line(whisker);
            }
            if let Some(line) = sii_line {
                plot.line(line);
            }
        });
    if response.response.clicked()
        && let Some(pos) = response.response.interact_pointer_pos()
    {
        let decile = response.transform.value_from_position(pos).x.round();
        if (1.0..=10.0).contains(&decile) {
            let decile = decile as u8;
            state.selected_decile = if state.selected_decile == Some(decile) {
                None
            } else {
                Some(decile)
            };
        }
    }
    if let Some(decile) = state.selected_decile {
        ui.horizontal(|ui| {
            ui.label(format!("Showing decile {decile} on the map"));
            if ui.small_button("Show all").clicked() {
                state.selected_decile = None;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen() -> Rect {
        Rect::from_min_size(pos2(100.0, 50.0), Vec2::new(800.0, 600.0))
    }

    #[test]
    fn screen_and_map_positions_round_trip_and_north_is_up() {
        let camera = Camera::fit([40_000.0, 30_000.0], screen());
        let p = [12_345.0, 6_789.0];
        let back = camera.to_map(screen(), camera.to_screen(screen(), p));
        assert!((back[0] - p[0]).abs() < 0.5 && (back[1] - p[1]).abs() < 0.5);
        let south = camera.to_screen(screen(), [20_000.0, 0.0]);
        let north = camera.to_screen(screen(), [20_000.0, 30_000.0]);
        assert!(north.y < south.y);
        // The whole county fits.
        assert!(screen().contains(camera.to_screen(screen(), [0.0, 0.0])));
        assert!(screen().contains(camera.to_screen(screen(), [40_000.0, 30_000.0])));
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
}
