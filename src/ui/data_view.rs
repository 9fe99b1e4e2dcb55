//! Data: each source's quality summary, and importing new extracts through a
//! source manifest chosen in a file dialog.

use egui::RichText;

use super::app::ImportMessage;
use super::widgets::section_heading_ui;
use crate::commands::thousands;
use crate::ingest::SourceQuality;

/// What the user asked the Data view to do this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataAction {
    None,
    Import,
}

/// Draws the Data view; `importing` disables the import button while a load runs.
pub fn data_ui(
    ui: &mut egui::Ui,
    sources: &[SourceQuality],
    importing: bool,
    message: Option<&ImportMessage>,
) -> DataAction {
    let mut action = DataAction::None;
    ui.horizontal(|ui| {
        ui.label(RichText::new("Data sources").size(22.0).strong());
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let button = egui::Button::new("Import extracts…");
            if ui
                .add_enabled(!importing, button)
                .on_hover_text(
                    "Choose a source manifest (TOML) that lists extract files and their columns. \
                     Every file is checked first; if any is bad, nothing is loaded.",
                )
                .clicked()
            {
                action = DataAction::Import;
            }
        });
    });
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

fn completeness_ui(ui: &mut egui::Ui, sources: &[SourceQuality]) {
    egui::Grid::new("completeness")
        .num_columns(2)
        .spacing([18.0, 8.0])
        .show(ui, |ui| {
            for source in sources {
                ui.label(RichText::new(&source.name).strong());
                ui.horizontal_wrapped(|ui| {
                    for (field, share) in &source.completeness {
                        ui.add(
                            egui::ProgressBar::new(*share as f32)
                                .desired_width(150.0)
                                .text(format!("{} {:.0}%", field.replace('_', " "), share * 100.0)),
                        );
                    }
                });
                ui.end_row();
            }
        });
}
