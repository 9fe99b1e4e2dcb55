//! Exporting the map and the decile chart as one PNG figure for a board paper.
//!
//! While an export runs the view is drawn as a figure (a title with the reference
//! date and the day it was produced, the map and chart without buttons, and a
//! footer with the source and the suppression note, as the CSV exports carry).
//! After a few frames, once layout and plot have settled, the window is captured;
//! a job of the shell then crops it to the figure and saves it ([`save_figure`]),
//! recorded in the audit log before the file has its name. The picture is the
//! screen itself, so it holds only what the commissioner's screen holds:
//! suppressed figures.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use duckdb::Connection;
use egui::{Rect, RichText};

use super::MapState;
use super::colouring::level_label;
use crate::audit::{Action, Entry, PlaceError, StagedFile};
use crate::report::map::ServiceFigures;
use crate::store::StoreError;

/// Frames drawn as a figure before the capture, so layout and plots have settled.
const SETTLE_FRAMES: u32 = 3;

/// Points of the window kept round the figure when it is cropped.
const MARGIN: f32 = 8.0;

/// Source of a figure of deprivation alone.
const DEPRIVATION_SOURCE: &str = "Source: Ministry of Housing, Communities & Local Government, \
     English Indices of Deprivation 2019; LSOA 2011 boundaries, Office for National Statistics. \
     Contains OS data © Crown copyright and database right. Open Government Licence v3.0.";

/// What the capture callback hands back: the window as captured.
type Outcome = Arc<Mutex<Option<Arc<egui::ColorImage>>>>;

/// One PNG export in progress.
pub struct PngExport {
    path: PathBuf,
    frames: u32,
    requested: bool,
    outcome: Outcome,
}

/// The window captured for a figure, with the part of it the figure fills.
pub struct Captured {
    /// Where the figure is to be saved.
    pub path: PathBuf,
    image: Arc<egui::ColorImage>,
    region: Rect,
    pixels_per_point: f32,
}

/// A captured figure and what it shows, for the audit entry recorded (in the
/// name of whoever saves it) before it is saved.
pub struct FigureToSave {
    pub captured: Captured,
    /// The entry's detail: what the figure shows.
    pub detail: String,
}

/// Why a figure was not saved.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    #[error("cannot save {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot save {path}: {source}")]
    Encode {
        path: String,
        source: image::ImageError,
    },
    #[error("{path} was not saved: its audit log entry could not be recorded: {source}")]
    NotRecorded { path: String, source: StoreError },
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
    /// Asks for the capture once settled; returns the capture when it has come.
    pub fn frame(&mut self, ctx: &egui::Context, figure: Rect) -> Option<Captured> {
        if let Some(image) = self.outcome.lock().ok()?.take() {
            return Some(Captured {
                path: self.path.clone(),
                image,
                region: self.region(ctx, figure),
                pixels_per_point: ctx.pixels_per_point(),
            });
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
        let (outcome, repaint) = (self.outcome.clone(), ctx.clone());
        ctx.request_screenshot(move |image| {
            // The callback runs on the UI thread: cropping, encoding and writing
            // are the shell's job ([`save_figure`]).
            if let Ok(mut slot) = outcome.lock() {
                *slot = Some(image);
            }
            repaint.request_repaint();
        });
        None
    }

    /// The figure with a margin round it, within the window; none above it,
    /// where the view's layer buttons end (the title brings its own space).
    fn region(&self, ctx: &egui::Context, figure: Rect) -> Rect {
        Rect::from_min_max(
            figure.min - egui::vec2(MARGIN, 0.0),
            figure.max + egui::vec2(MARGIN, MARGIN),
        )
        .intersect(ctx.content_rect())
    }
}

/// Crops the captured window to the figure and saves it as PNG under a
/// temporary name beside its file, records it in the audit log as `actor`'s (waiting
/// while a load holds it), and only then renames it into place: a figure never
/// appears without its entry. On a worker: encoding takes a while, and the
/// audit log may wait for a load.
pub fn save_figure(
    conn: &Connection,
    figure: &FigureToSave,
    actor: &str,
) -> Result<PathBuf, FigureError> {
    let path = &figure.captured.path;
    let failed = |source: std::io::Error| FigureError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut staged = StagedFile::beside(path, "figure").map_err(failed)?;
    let captured = &figure.captured;
    let cropped = captured
        .image
        .region(&captured.region, Some(captured.pixels_per_point));
    write_png(staged.file(), &cropped).map_err(|source| FigureError::Encode {
        path: path.display().to_string(),
        source,
    })?;
    let entry =
        Entry::new(actor, Action::Export, path.display().to_string()).with_detail(&figure.detail);
    staged.place(conn, &entry).map_err(|error| match error {
        PlaceError::NotRecorded(source) => FigureError::NotRecorded {
            path: path.display().to_string(),
            source,
        },
        PlaceError::Io(source) => failed(source),
    })
}

/// Encodes `image` as PNG into `out`.
fn write_png(
    out: &mut (impl std::io::Write + std::io::Seek),
    image: &egui::ColorImage,
) -> image::ImageResult<()> {
    let [width, height] = image.size;
    let bytes: Vec<u8> = image
        .pixels
        .iter()
        .flat_map(|pixel| pixel.to_srgba_unmultiplied())
        .collect();
    let mut buffered = std::io::BufWriter::new(out);
    image::write_buffer_with_format(
        &mut buffered,
        &bytes,
        width as u32,
        height as u32,
        image::ExtendedColorType::Rgba8,
        image::ImageFormat::Png,
    )?;
    std::io::Write::flush(&mut buffered).map_err(image::ImageError::IoError)
}

/// The audit log entry's detail for a figure: what it shows.
pub(super) fn audit_detail(service: Option<&ServiceFigures>, state: &MapState) -> String {
    format!(
        "map and decile chart (PNG): {}",
        figure_title(service, state)
    )
}

/// What the figure shows, as its title says it.
fn figure_title(service: Option<&ServiceFigures>, state: &MapState) -> String {
    match (state.measure(), service) {
        (Some(measure), Some(service)) if state.need_view => format!(
            "{}: {} beside {} by {}, and {2} by IMD 2019 decile",
            service.title,
            state.need_source.label().to_lowercase(),
            measure.label(),
            level_label(state.map_level)
        ),
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
