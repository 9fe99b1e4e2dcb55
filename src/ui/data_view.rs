//! Data: each source's quality summary, and importing new extracts through a
//! source manifest chosen in a file dialog or typed as a path.

use std::path::{Path, PathBuf};

use egui::RichText;

use super::desk::{Desk, Screen, waiting_ui};
use super::views::View;
use super::widgets::section_heading_ui;
use crate::format::thousands;
use crate::ingest::manifest::FieldRole;
use crate::ingest::{IngestReport, Manifest, SourceQuality};

/// The last import's result, shown on the Data view until the next one.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportMessage {
    Loaded(String),
    Failed(String),
}

/// What the Data view keeps between frames.
#[derive(Debug, Clone, Default)]
pub struct DataState {
    /// Text of the manifest path field.
    pub manifest_path: String,
    /// The last import's outcome.
    pub message: Option<ImportMessage>,
}

/// What the user asked the Data view to do this frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataAction {
    None,
    /// Open the file dialog to choose a manifest.
    ChooseManifest,
    /// Load the manifest at this path.
    LoadManifest(std::path::PathBuf),
}

/// Why the Data view does not load extracts into the bundled sample: its database
/// is deleted and rebuilt whenever the sample or the schema changes, so real
/// records loaded into it would be lost, and a council's data must live in a file
/// the council chose and protects.
pub const SAMPLE_IMPORT_REFUSAL: &str = "The sample county cannot take other extracts: its \
    database is rebuilt from the bundled sample whenever the sample or the program changes, \
    so anything loaded into it would be lost. Create a council database instead: \
    zonewise ingest --db FILE --manifest MANIFEST, then open it with zonewise --db FILE.";

/// The title of the job that loads extracts.
const IMPORTING: &str = "Importing extracts";

impl Screen for DataState {
    fn ui(&mut self, ui: &mut egui::Ui, desk: &mut Desk<'_>) {
        let Some(quality) = &desk.figures.quality else {
            return waiting_ui(ui);
        };
        let refusal = desk.is_sample().then_some(SAMPLE_IMPORT_REFUSAL);
        let importing = desk.is_running(IMPORTING);
        let action = data_ui(
            ui,
            quality,
            &mut self.manifest_path,
            importing,
            refusal,
            self.message.as_ref(),
        );
        match action {
            DataAction::None => {}
            DataAction::ChooseManifest => self.import(desk, || {
                rfd::FileDialog::new()
                    .set_title("Choose a source manifest")
                    .add_filter("Source manifest", &["toml"])
                    .pick_file()
            }),
            DataAction::LoadManifest(path) => self.import(desk, move || Some(path)),
        }
    }
}

impl DataState {
    /// Loads the extracts of the manifest `pick` chooses (a file dialog, or the
    /// typed path) on a worker, through the one `Pipeline`; when done, says what
    /// was loaded and makes every part stale (what is on screen is read again at
    /// once, the rest when shown). Refused on the sample and for roles that may
    /// not run the pipeline.
    pub fn import(
        &mut self,
        desk: &mut Desk<'_>,
        pick: impl FnOnce() -> Option<PathBuf> + Send + 'static,
    ) {
        if desk.is_sample() {
            self.message = Some(ImportMessage::Failed(SAMPLE_IMPORT_REFUSAL.to_string()));
            return;
        }
        if !desk.may(View::Data) {
            self.message = Some(ImportMessage::Failed(desk.refusal(View::Data)));
            return;
        }
        self.message = None;
        let actor = desk.actor();
        desk.start_on(
            IMPORTING,
            move |sink, conn| {
                sink.report(None, "Choosing a source manifest…");
                let Some(manifest_path) = pick() else {
                    return Ok(None);
                };
                let manifest = Manifest::load(&manifest_path)?;
                let report = crate::pipeline::Pipeline::new(conn, &actor, &mut |p| {
                    sink.report(Some(p.fraction), format!("Loading {}", p.stage))
                })
                .ingest(&manifest)?;
                Ok(Some((manifest_path, report)))
            },
            |view: &mut DataState, result, desk| match result {
                Ok(None) => {}
                Ok(Some((manifest, report))) => {
                    view.message = Some(loaded_message(&manifest, &report));
                    desk.figures.mark_all_stale();
                }
                Err(error) => {
                    view.message = Some(ImportMessage::Failed(format!(
                        "Nothing was loaded; the database is unchanged. {error}"
                    )))
                }
            },
        );
    }
}

/// What a finished load says.
fn loaded_message(manifest: &Path, report: &IngestReport) -> ImportMessage {
    let rows: u64 = report.sources.iter().map(|(_, rows)| rows).sum();
    ImportMessage::Loaded(format!(
        "Loaded {} rows from {} source(s) in {} ({:.1} s)",
        thousands(rows as i64),
        report.sources.len(),
        manifest.display(),
        report.seconds
    ))
}

/// Reads what the Data view shows: each source's quality summary.
pub fn read(conn: &duckdb::Connection) -> anyhow::Result<Vec<SourceQuality>> {
    Ok(crate::ingest::read_quality(conn)?)
}

/// Draws the Data view. `manifest_path` is the text of the path field (kept by the
/// shell between frames); `importing` disables both ways in while a load runs;
/// `refusal`, when given, says why nothing may be imported here (the bundled
/// sample) and disables them too.
pub fn data_ui(
    ui: &mut egui::Ui,
    sources: &[SourceQuality],
    manifest_path: &mut String,
    importing: bool,
    refusal: Option<&str>,
    message: Option<&ImportMessage>,
) -> DataAction {
    let mut action = DataAction::None;
    let importing = importing || refusal.is_some();
    ui.horizontal(|ui| {
        ui.label(RichText::new("Data sources").size(22.0).strong());
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let button = egui::Button::new(RichText::new("Import extracts…").size(15.0))
                .min_size(egui::vec2(160.0, 30.0));
            if ui
                .add_enabled(!importing, button)
                .on_hover_text(
                    "Choose a source manifest (TOML) that lists extract files and their columns. \
                     Every file is checked first; if any is bad, nothing is loaded.",
                )
                .clicked()
            {
                action = DataAction::ChooseManifest;
            }
        });
    });
    ui.horizontal(|ui| {
        ui.label("or load a manifest by path:");
        let field = ui.add_enabled(
            !importing,
            egui::TextEdit::singleline(manifest_path)
                .hint_text("/path/to/manifest.toml")
                .desired_width(420.0),
        );
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let clicked = ui
            .add_enabled(
                !importing && !manifest_path.trim().is_empty(),
                egui::Button::new("Load"),
            )
            .clicked();
        if (entered || clicked) && !manifest_path.trim().is_empty() {
            action = DataAction::LoadManifest(manifest_path.trim().into());
        }
    });
    if let Some(refusal) = refusal {
        ui.label(RichText::new(refusal).weak());
    }
    match message {
        Some(ImportMessage::Loaded(text)) => {
            ui.colored_label(egui::Color32::from_rgb(31, 120, 80), text);
        }
        Some(ImportMessage::Failed(text)) => {
            egui::Frame::group(ui.style())
                .stroke(egui::Stroke::new(1.0, ui.visuals().error_fg_color))
                .show(ui, |ui| {
                    ui.colored_label(ui.visuals().error_fg_color, text);
                });
        }
        None => {}
    }
    ui.add_space(6.0);
    egui::ScrollArea::vertical().show(ui, |ui| {
        section_heading_ui(
            ui,
            "Quality of each extract",
            "Hover a figure for what it counts. Duplicate keys are rows sharing a row key.",
        );
        quality_table_ui(ui, sources);
        ui.add_space(14.0);
        section_heading_ui(
            ui,
            "Completeness of identity fields",
            "Share of rows with a value, for the fields each extract has; linkage relies on these",
        );
        completeness_ui(ui, sources);
    });
    action
}

fn quality_table_ui(ui: &mut egui::Ui, sources: &[SourceQuality]) {
    egui::Grid::new("quality_table")
        .striped(true)
        .num_columns(8)
        .spacing([18.0, 6.0])
        .show(ui, |ui| {
            for header in [
                "Source",
                "System",
                "Rows",
                "Person records",
                "Duplicate keys",
                "Events from",
                "Events to",
                "Loaded",
            ] {
                ui.label(RichText::new(header).strong());
            }
            ui.end_row();
            for source in sources {
                ui.label(RichText::new(&source.name).strong())
                    .on_hover_text(format!("File: {}", source.file));
                ui.label(&source.system);
                ui.label(thousands(source.total_rows));
                ui.label(thousands(source.records))
                    .on_hover_text("Distinct record identifiers (the system's own person ids)");
                let duplicates = ui.label(thousands(source.duplicate_keys));
                if source.duplicate_keys > 0 {
                    duplicates.on_hover_text("Rows whose row key appears more than once");
                }
                ui.label(source.first_event.as_deref().unwrap_or("–"));
                ui.label(source.last_event.as_deref().unwrap_or("–"));
                ui.label(&source.loaded_at);
                ui.end_row();
            }
        });
}

/// A source × identity-field matrix of completeness bars; "–" where the extract has no such field.
fn completeness_ui(ui: &mut egui::Ui, sources: &[SourceQuality]) {
    egui::Grid::new("completeness")
        .striped(true)
        .num_columns(FieldRole::IDENTITY.len() + 1)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            ui.label(RichText::new("Source").strong());
            for role in FieldRole::IDENTITY {
                ui.label(RichText::new(field_heading(role)).strong());
            }
            ui.end_row();
            for source in sources {
                ui.label(RichText::new(&source.name).strong());
                for role in FieldRole::IDENTITY {
                    match source.completeness.iter().find(|(f, _)| f == role.column()) {
                        Some((_, share)) => {
                            ui.add(
                                egui::ProgressBar::new(*share as f32)
                                    .desired_width(72.0)
                                    .text(format!("{:.0}%", share * 100.0)),
                            )
                            .on_hover_text(format!(
                                "{}: {:.1}% of {} rows have a {}",
                                source.name,
                                share * 100.0,
                                thousands(source.total_rows),
                                field_heading(role).to_lowercase()
                            ));
                        }
                        None => {
                            ui.label(RichText::new("–").weak())
                                .on_hover_text("This extract has no such field");
                        }
                    }
                }
                ui.end_row();
            }
        });
}

fn field_heading(role: FieldRole) -> &'static str {
    match role {
        FieldRole::GivenName => "Given name",
        FieldRole::FamilyName => "Family name",
        FieldRole::BirthDate => "Birth date",
        FieldRole::Sex => "Sex",
        FieldRole::Ethnicity => "Ethnicity",
        FieldRole::Postcode => "Postcode",
        FieldRole::Address => "Address",
        FieldRole::NhsNumber => "NHS no.",
        FieldRole::Upn => "UPN",
        FieldRole::NiNumber => "NI no.",
        _ => "",
    }
}
