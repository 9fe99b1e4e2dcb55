//! Exporting the map and the decile chart as one PNG figure for a board paper.
//!
//! While an export runs the view is drawn as a figure (a title with the reference
//! date and the day it was produced, the map and chart without buttons, and a
//! footer with the source and the suppression note, as the CSV exports carry).
//! After a few frames, once layout and plot have settled, the window is captured
//! and cropped to the figure. The picture is the screen itself, so it holds only
//! what the commissioner's screen holds: suppressed figures.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use egui::{Rect, RichText};

use super::MapState;
use super::colouring::level_label;
use crate::report::map::ServiceFigures;
use crate::ui::screenshot::save_png;

/// Frames drawn as a figure before the capture, so layout and plots have settled.
const SETTLE_FRAMES: u32 = 3;

/// Points of the window kept round the figure when it is cropped.
const MARGIN: f32 = 8.0;

/// Source of a figure of deprivation alone.
const DEPRIVATION_SOURCE: &str = "Source: Ministry of Housing, Communities & Local Government, \
     English Indices of Deprivation 2019; LSOA 2011 boundaries, Office for National Statistics. \
     Contains OS data © Crown copyright and database right. Open Government Licence v3.0.";

/// What the capture callback hands back: the file saved, or why not.
type Outcome = Arc<Mutex<Option<Result<PathBuf, String>>>>;

/// One PNG export in progress.
pub struct PngExport {
    path: PathBuf,
    frames: u32,
    requested: bool,
    outcome: Outcome,
}

impl PngExport {
    /// An export that will be saved to `path`.
    pub fn new(path: PathBuf) -> PngExport {
        PngExport {
            path,
            frames: 0,
            requested: false,
            outcome: Arc::default(),
        }
    }

    /// Called after each frame drawn as a figure, with the figure's rectangle.
    /// Asks for the capture once settled; returns the file saved (or why not)
    /// when the export is over.
    pub fn frame(&mut self, ctx: &egui::Context, figure: Rect) -> Option<Result<PathBuf, String>> {
        if let Some(outcome) = self.outcome.lock().ok()?.take() {
            return Some(outcome);
        }
        ctx.request_repaint();
        if self.requested {
            return None;
        }
        self.frames += 1;
        if self.frames < SETTLE_FRAMES {
            return None;
        }
        self.requested = true;
        let (path, outcome, repaint) = (self.path.clone(), self.outcome.clone(), ctx.clone());
        let pixels_per_point = ctx.pixels_per_point();
        // A margin round the figure, within the window; none above it, where the
        // view's layer buttons end (the title brings its own space).
        let figure = Rect::from_min_max(
            figure.min - egui::vec2(MARGIN, 0.0),
            figure.max + egui::vec2(MARGIN, MARGIN),
        )
        .intersect(ctx.content_rect());
        ctx.request_screenshot(move |image| {
            // The callback runs on the UI thread: encode and write on a worker.
            std::thread::spawn(move || {
                let cropped = image.region(&figure, Some(pixels_per_point));
                let saved = save_png(&path, &cropped)
                    .map(|()| path.clone())
                    .map_err(|error| format!("cannot save {}: {error}", path.display()));
                if let Ok(mut slot) = outcome.lock() {
                    *slot = Some(saved);
                }
                repaint.request_repaint();
            });
        });
        None
    }
}

/// The audit log entry of a figure saved to `path`.
pub(super) fn audit_entry(
    path: &std::path::Path,
    service: Option<&ServiceFigures>,
    state: &MapState,
) -> crate::audit::Entry {
    crate::audit::Entry::new(crate::audit::Action::Export, path.display().to_string()).with_detail(
        format!(
            "map and decile chart (PNG): {}",
            figure_title(service, state)
        ),
    )
}

/// What the figure shows, as its title says it.
fn figure_title(service: Option<&ServiceFigures>, state: &MapState) -> String {
    match (state.measure(), service) {
        (Some(measure), Some(service)) => format!(
            "{}: {} by {} and by IMD 2019 decile",
            service.title,
            measure.label().to_lowercase(),
            level_label(state.map_level)
        ),
        _ => "Index of Multiple Deprivation 2019 by LSOA".to_string(),
    }
}

/// The figure's title: what is mapped, for which day, produced when.
pub(super) fn title_ui(ui: &mut egui::Ui, service: Option<&ServiceFigures>, state: &MapState) {
    let what = figure_title(service, state);
    ui.add_space(MARGIN);
    ui.label(RichText::new(what).size(20.0).strong());
    let produced = chrono::Local::now().date_naive().format("%-d %B %Y");
    let line = match service {
        Some(service) => format!(
            "Figures for {} · produced {produced}",
            service
                .published
                .tables()
                .reference_date
                .format("%-d %B %Y")
        ),
        None => format!("Produced {produced}"),
    };
    ui.label(RichText::new(line).weak());
    ui.add_space(4.0);
}

/// The figure's footer: source, suppression note and any notes on the figures.
pub(super) fn footer_ui(ui: &mut egui::Ui, service: Option<&ServiceFigures>) {
    let Some(service) = service else {
        ui.label(RichText::new(DEPRIVATION_SOURCE).small());
        return;
    };
    let tables = service.published.tables();
    ui.add_space(4.0);
    ui.label(RichText::new(format!("Source: {}", tables.source)).small());
    ui.label(RichText::new(format!("Suppression: {}", service.published.note())).small());
    for note in &tables.notes {
        ui.label(RichText::new(note).small());
    }
}
