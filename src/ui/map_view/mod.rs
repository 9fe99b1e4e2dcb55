//! The Map view, for the public health commissioner: a choropleth of LSOAs
//! (coloured by IMD decile or by a service's coverage or uptake) beside the rate
//! per IMD decile with its confidence intervals and slope index of inequality.
//! Selecting a decile or an LSOA in one highlights it in the other.
//!
//! Only suppressed figures ([`Published`]) reach this screen. Geometry is
//! tessellated once per level of detail ([`MapGeometry`]); a frame only moves
//! vertices to the screen and colours them.

mod actions;
mod area_table;
mod camera;
mod canvas;
mod colouring;
mod define_service;
mod figure;
mod need;
mod side_panel;
mod trend_panel;

pub use camera::{Camera, zoom_targets};
pub use colouring::{
    Classes, ColourBy, MAP_LEVELS, Palette, class_breaks, class_of, level_label, parse_breaks,
    rate_of,
};

pub use define_service::{AreaChoice, ServiceForm};
pub use figure::{FigureError, FigureToSave, save_figure};

use super::widgets::section_heading_ui;
use crate::report::map::{MapFigures, ServiceFigures};
use crate::ui::map_geometry::{GroupBorders, MapGeometry};
use crate::uptake::{Level, Measure, Published};
use camera::zoom_ui;
use canvas::map_panel_ui;
use colouring::{ColourKey, Colouring, colouring};
pub use need::NeedSource;
use side_panel::side_panel_ui;

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
    /// England's LSOAs and their prepared geometry, loaded by the shell's
    /// [`MapAction::LoadEngland`] job when first shown.
    england: Option<(MapFigures, Prepared)>,
    england_error: Option<String>,
    /// The shell is exporting tables (its job runs): the button waits.
    pub exporting_tables: bool,
    /// The shell is choosing the figure's file or saving it: the button waits.
    pub exporting_figure: bool,
    /// What the last export did.
    pub export_message: Option<String>,
    pub palette: Palette,
    /// Custom breaks as typed, in %, and as read (proportions) when they parse.
    pub custom_text: String,
    pub custom_breaks: Vec<f64>,
    pub custom_error: Option<String>,
    /// Whose rates the map paints: each LSOA's own, or its zone's or authority's.
    pub map_level: Level,
    /// Which areas the table beside the map lists.
    pub area_level: Level,
    /// (zone, LSOA) whose families the user asked to see: Families opens there.
    pub open_families: Option<(Option<String>, String)>,
    /// Whether the session may open the Families view, so that a selected LSOA
    /// offers its families (set from the role each frame; off for commissioners).
    pub offers_families: bool,
    /// The area picked in the table: the map fades the rest, the chart marks its rate.
    pub selected_area: Option<AreaSelection>,
    /// The area table's order: by rate (highest first) instead of by name.
    pub sort_by_rate: bool,
    /// The map selection (and list) the area table last scrolled to.
    table_follows: Option<(usize, Level)>,
    /// A PNG export being captured: the view is drawn as a figure until the
    /// screen has been captured.
    png: Option<figure::PngExport>,
    /// The last frame's colours and what they were worked out for.
    colour_cache: Option<(ColourKey, Colouring)>,
    /// What this frame asked the shell for (taken by [`map_ui`]).
    action: MapAction,
    /// Times the county's geometry was prepared (tessellated), so a test can
    /// tell that a refresh with the same boundaries does not redo it.
    county_preparations: usize,
    /// Each service's trend (by name) as worked out on the job queue, or why it
    /// could not be; forgotten when new figures arrive.
    pub trends: std::collections::HashMap<String, Result<crate::uptake::trend::Trend, String>>,
    /// Whether the level rates are mapped by was chosen (by the user, the
    /// command line or the last session's settings); until then the map opens
    /// on the finest level whose rates are mostly published
    /// ([`colouring::finest_publishable`]).
    pub level_chosen: bool,
    /// A comparator's rate as typed (in %, e.g. England's), and as read.
    pub comparator_text: String,
    pub comparator: Option<f64>,
    /// Another authority in the database to compare each area with instead of
    /// the rate typed (its code); its published rate is the benchmark.
    pub comparator_authority: Option<String>,
    /// Need beside provision: colour the mapped areas by eligible people
    /// against the rate (3×3 bivariate classes) instead of by rate classes.
    pub need_view: bool,
    /// What the need view's need is: people eligible or an IMD domain.
    pub need_source: NeedSource,
    /// Whether the session may define services (set from the role each frame;
    /// analysts only): "Define a service…" and its form are drawn only then.
    pub defines_services: bool,
    /// "Define a service…"'s form (also "Edit…" of a saved service).
    pub service_form: ServiceForm,
    /// The saved service (name, title) whose deletion waits to be confirmed.
    pub deleting: Option<(String, String)>,
    /// A service just saved, chosen on the map once the figures hold it.
    pub(super) choose_service: Option<String>,
}

/// Work the Map view runs on the shell's job queue (see `actions`), so the
/// status bar shows it and busy state is the shell's.
#[derive(Default)]
pub enum MapAction {
    #[default]
    None,
    /// England's LSOAs are shown and not loaded yet: read and tessellate them.
    LoadEngland,
    /// The tables as CSV files, into a folder the user chooses.
    ExportTables(Box<Published>),
    /// The map and chart as a PNG figure, to a file the user chooses.
    ExportFigure,
    /// The named built-in service's trend is shown and not worked out yet.
    LoadTrend(String),
    /// The figure has been captured from the screen: save it, recorded first.
    SaveFigure(FigureToSave),
    /// The service form is open: read the database's event types, authorities and zones.
    ReadServiceChoices,
    /// Count the people of a service defined in the form.
    PreviewService(Box<crate::uptake::defined::Definition>),
    /// Choose a services file for the form's service to be written into.
    ChooseServicesFile,
    /// Save the form's service for everyone's map (and into the file, if chosen).
    SaveService(Box<crate::uptake::Service>, Option<std::path::PathBuf>),
    /// Save the form's changes to a saved service (and into the file, if chosen).
    ChangeService(Box<crate::uptake::Service>, Option<std::path::PathBuf>),
    /// Delete the named saved service for everyone (confirmed).
    DeleteService(String),
}

/// An area picked in the area table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaSelection {
    pub level: Level,
    pub code: String,
    pub name: String,
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
            for level in 0..crate::ui::map_geometry::LOD_TOLERANCES.len() {
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
            england_error: None,
            exporting_tables: false,
            exporting_figure: false,
            export_message: None,
            palette: Palette::Sequential,
            custom_text: "20, 40, 60".to_string(),
            custom_breaks: vec![0.2, 0.4, 0.6],
            custom_error: None,
            map_level: Level::Lsoa,
            area_level: Level::Zone,
            open_families: None,
            offers_families: false,
            selected_area: None,
            sort_by_rate: false,
            table_follows: None,
            png: None,
            colour_cache: None,
            action: MapAction::None,
            county_preparations: 0,
            trends: Default::default(),
            comparator_text: String::new(),
            comparator: None,
            comparator_authority: None,
            level_chosen: false,
            need_view: false,
            need_source: NeedSource::Eligible,
            defines_services: false,
            service_form: ServiceForm::default(),
            deleting: None,
            choose_service: None,
        }
    }
}

impl MapState {
    /// New figures on the same boundaries: only the colours are worked out
    /// again; the geometry, camera and selection stay.
    pub fn figures_refreshed(&mut self) {
        self.colour_cache = None;
        self.trends.clear();
    }

    /// Times the county's geometry has been prepared since the view was made.
    pub fn county_preparations(&self) -> usize {
        self.county_preparations
    }

    /// Forgets geometry prepared for other boundaries (called when figures with
    /// different LSOA shapes arrive).
    pub fn reset_geometry(&mut self) {
        self.trends.clear();
        self.county = None;
        self.colour_cache = None;
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

    /// True while the view is drawn as a figure for a PNG export: title, map,
    /// chart and footer, without buttons.
    pub fn is_figure(&self) -> bool {
        self.png.is_some()
    }

    /// England's LSOAs as loaded and tessellated on a worker, or why they could not be.
    pub fn england_loaded(&mut self, loaded: Result<(MapFigures, Prepared), String>) {
        match loaded {
            Ok(loaded) => self.england = Some(loaded),
            Err(error) => self.england_error = Some(error),
        }
    }

    /// The file chosen for the PNG figure (`None`: the dialog was cancelled): the
    /// view is drawn as a figure for a few frames, captured and cropped to it.
    pub fn figure_file_chosen(&mut self, path: Option<std::path::PathBuf>) {
        if let Some(path) = path {
            self.png = Some(figure::PngExport::new(path));
        }
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

/// Reads what the Map view shows of the county: LSOA boundaries and each
/// service's suppressed uptake. The geometry prepared from the boundaries is
/// kept while they stay the same ([`MapState::figures_refreshed`]).
pub fn read(conn: &duckdb::Connection) -> anyhow::Result<MapFigures> {
    Ok(crate::report::map::read_map_figures(conn)?)
}

/// Reads and projects England's LSOAs and tessellates every level of detail (a
/// few seconds, on a worker).
pub fn load_england(sink: &super::jobs::ProgressSink) -> anyhow::Result<(MapFigures, Prepared)> {
    sink.report(None, "Reading and projecting England's 32,844 LSOAs…");
    let reference = crate::bundled::reference_dir();
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
}

/// Draws the Map view: the county's layer, or England's once loaded. Returns the
/// work the user (or the view) asked for, for the shell's job queue.
pub fn map_ui(ui: &mut egui::Ui, county: &MapFigures, state: &mut MapState) -> MapAction {
    layers_ui(ui, county, state);
    define_service::service_form_ui(ui.ctx(), state);
    define_service::delete_confirmation_ui(ui.ctx(), state);
    std::mem::take(&mut state.action)
}

fn layers_ui(ui: &mut egui::Ui, county: &MapFigures, state: &mut MapState) {
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
            let mut prepared = match state.county.take() {
                Some(prepared) => prepared,
                None => {
                    state.county_preparations += 1;
                    Prepared::new(county, false)
                }
            };
            layer_ui(ui, county, &mut prepared, state);
            state.county = Some(prepared);
        }
        Layer::England => {
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
                // Asked every frame until loaded; the shell runs one load at a time.
                state.action = MapAction::LoadEngland;
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
    if let Some(service) = service
        && !service.published.tables().has_invited
        && state.colour_by == ColourBy::Uptake
    {
        state.colour_by = ColourBy::Coverage;
    }
    if let (Some(service), Some(measure), false) = (service, state.measure(), state.level_chosen) {
        state.level_chosen = true;
        state.map_level = colouring::finest_publishable(service.published.tables(), measure);
        if state.map_level != Level::Lsoa {
            state.area_level = state.map_level;
        }
    }
    let key = ColourKey::of(
        state,
        state.service.min(figures.services.len().saturating_sub(1)),
    );
    let colouring = match state.colour_cache.take() {
        Some((cached, colouring)) if cached == key => colouring,
        _ => colouring(figures, service, state),
    };
    let figure = ui.scope(|ui| {
        if state.is_figure() {
            figure::title_ui(ui, service, state);
        } else {
            controls_ui(ui, figures, &prepared.targets, state, service);
            if let (Some(error), None) = (&figures.uptake_error, service) {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("No service figures: {error}"),
                );
            }
        }
        ui.columns(2, |columns| {
            map_panel_ui(
                &mut columns[0],
                figures,
                prepared,
                service,
                &colouring,
                state,
            );
            let need = colouring.need.as_ref();
            if state.is_figure() {
                side_panel_ui(&mut columns[1], figures, service, need, state);
            } else {
                egui::ScrollArea::vertical().id_salt("map_side_panel").show(
                    &mut columns[1],
                    |ui| {
                        side_panel_ui(ui, figures, service, need, state);
                    },
                );
            }
        });
        if state.is_figure() {
            figure::footer_ui(ui, service);
        }
    });
    if let Some(export) = &mut state.png
        && let Some(captured) = export.frame(ui.ctx(), figure.response.rect)
    {
        let detail = figure::audit_detail(service, state);
        state.action = MapAction::SaveFigure(FigureToSave { captured, detail });
        state.png = None;
    }
    state.colour_cache = Some((key, colouring));
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
        if state.defines_services
            && ui
                .button("Define a service…")
                .on_hover_text(
                    "Describe a service by age, sex, area and the events that count as invited \
                     and attended, see its counts, and save it for everyone's map",
                )
                .clicked()
            && !state.service_form.open
        {
            state.service_form = ServiceForm::new();
        }
        if state.defines_services
            && let Some(shown) = service.filter(|s| !s.service.is_built_in())
        {
            if ui
                .button("Edit…")
                .on_hover_text("Change this saved service's definition for everyone's map")
                .clicked()
                && let Some(form) = ServiceForm::editing(&shown.service)
            {
                state.service_form = form;
            }
            if ui
                .button("Delete…")
                .on_hover_text("Delete this saved service for everyone (asks first)")
                .clicked()
            {
                state.deleting = Some((shown.name.clone(), shown.title.clone()));
            }
        }
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
        ui.add_space(12.0);
        zoom_ui(ui, targets, state);
        ui.add_space(12.0);
        let busy = state.exporting_figure || state.png.is_some();
        if ui
            .add_enabled(!busy, egui::Button::new("Export map and chart (PNG)…"))
            .on_hover_text("The map and the decile chart as one picture, with title, date, source and the suppression note")
            .clicked()
        {
            state.export_message = None;
            state.action = MapAction::ExportFigure;
        }
    });
    if state.colour_by != ColourBy::Deprivation {
        // The domains' deciles are empty in a database loaded before they were kept.
        let has_domains = figures
            .shapes
            .iter()
            .any(|shape| shape.domain_deciles.iter().any(Option::is_some));
        classes_ui(ui, state, has_domains);
    }
}

/// The need view's need: people eligible, or one of the IMD's domains.
fn need_source_ui(ui: &mut egui::Ui, state: &mut MapState) {
    ui.label("Need");
    egui::ComboBox::from_id_salt("need_source")
        .selected_text(state.need_source.label())
        .show_ui(ui, |ui| {
            for source in NeedSource::all() {
                ui.selectable_value(&mut state.need_source, source, source.label());
            }
        })
        .response
        .on_hover_text(
            "An IMD 2019 domain gives each area the mean decile of its LSOAs on it: \
             public data, beside the published rate",
        );
}

/// How rates are mapped: whose rates, which classes, which palette.
fn classes_ui(ui: &mut egui::Ui, state: &mut MapState, has_domains: bool) {
    // Wrapped: with custom breaks and their error message the row outgrows a
    // narrow window, and a control past its edge could not be reached.
    ui.horizontal_wrapped(|ui| {
        ui.label("Map rates by");
        for level in MAP_LEVELS {
            if ui
                .selectable_value(&mut state.map_level, level, level_label(level))
                .clicked()
            {
                // The area table lists the areas now mapped.
                state.area_level = level;
                state.level_chosen = true;
            }
        }
        ui.add_space(12.0);
        ui.toggle_value(&mut state.need_view, "Need beside rate")
            .on_hover_text(
                "Need (people eligible, or an IMD domain) against the rate, each in thirds of the \
                 areas' published figures: the strongest red is much need reached least (click \
                 again for the rate alone)",
            );
        if state.need_view {
            if has_domains {
                need_source_ui(ui, state);
            }
            return;
        }
        ui.add_space(12.0);
        ui.label("Classes");
        ui.selectable_value(&mut state.classes, Classes::Quantile, "Quantile");
        ui.selectable_value(&mut state.classes, Classes::EqualInterval, "Equal interval");
        ui.selectable_value(&mut state.classes, Classes::Custom, "Custom");
        if state.classes == Classes::Custom {
            let edit = ui.add(
                egui::TextEdit::singleline(&mut state.custom_text)
                    .desired_width(110.0)
                    .hint_text("breaks in %"),
            );
            if edit.changed() {
                match parse_breaks(&state.custom_text) {
                    Ok(breaks) => {
                        state.custom_breaks = breaks;
                        state.custom_error = None;
                    }
                    Err(error) => state.custom_error = Some(error),
                }
            }
            edit.on_hover_text("Upper bounds of each class but the last, in %, e.g. 20, 40, 60");
            if let Some(error) = &state.custom_error {
                ui.colored_label(ui.visuals().error_fg_color, error);
            }
        }
        ui.add_space(12.0);
        ui.label("Palette");
        ui.selectable_value(&mut state.palette, Palette::Sequential, "Sequential")
            .on_hover_text("Light for low rates, dark for high (ColorBrewer YlGnBu)");
        ui.selectable_value(&mut state.palette, Palette::Diverging, "Diverging")
            .on_hover_text("Red below the county's rate, blue above it (ColorBrewer RdYlBu)");
    });
}
