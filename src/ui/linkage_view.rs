//! Linkage: what the latest record-linkage run found, how confident its matches
//! are, and how far each agency's people are known to the others.

use egui::RichText;
use egui_plot::{Bar, BarChart, Plot, VLine};

use super::widgets::{Metric, metric_cards_ui, section_heading_ui};
use crate::commands::thousands;
use crate::report::linkage::LinkageFigures;

/// Match weight (log2 odds) at a match probability.
fn weight_at(probability: f64) -> f64 {
    (probability / (1.0 - probability)).log2()
}

/// Draws the Linkage view.
pub fn linkage_ui(ui: &mut egui::Ui, figures: &LinkageFigures) {
    ui.label(RichText::new("Record linkage").size(22.0).strong());
    let Some(run) = &figures.run else {
        ui.label("Linkage has not run on this database. Run `zonewise link --db <file>`; the sample county is linked when it is built.");
        return;
    };
    ui.label(
        RichText::new(format!(
            "Latest run {}: pairs at or above {:.0}% match probability are the same person; {:.0}–{:.0}% go to review",
            run.finished_at,
            run.accept_probability * 100.0,
            run.review_probability * 100.0,
            run.accept_probability * 100.0
        ))
        .weak(),
    );
    ui.add_space(8.0);
    egui::ScrollArea::vertical().show(ui, |ui| {
        metric_cards_ui(
            ui,
            &[
                Metric {
                    value: thousands(run.records),
                    label: "records",
                    provenance: "Distinct source records linked (link.record)".to_string(),
                },
                Metric {
                    value: thousands(run.candidate_pairs),
                    label: "candidate pairs",
                    provenance: "Pairs from the union of the blocking rules, all scored"
                        .to_string(),
                },
                Metric {
                    value: thousands(run.accepted_pairs),
                    label: "matched pairs",
                    provenance: "Pairs at or above the acceptance probability".to_string(),
                },
                Metric {
                    value: thousands(run.review_pairs),
                    label: "pairs for review",
                    provenance: "Pairs between the review and acceptance probabilities".to_string(),
                },
                Metric {
                    value: thousands(run.persons),
                    label: "people",
                    provenance: "Connected components of matched pairs (core.person)".to_string(),
                },
            ],
        );
        ui.add_space(8.0);
        ui.columns(2, |columns| {
            histogram_ui(
                &mut columns[0],
                figures,
                run.accept_probability,
                run.review_probability,
            );
            overlap_ui(&mut columns[1], figures);
        });
    });
}

fn histogram_ui(ui: &mut egui::Ui, figures: &LinkageFigures, accept: f64, review: f64) {
    section_heading_ui(
        ui,
        "Match weights of candidate pairs",
        "log2 odds that a pair is one person; the lines are the review and acceptance thresholds",
    );
    let accept_weight = weight_at(accept);
    let review_weight = weight_at(review);
    let bars = figures
        .weight_histogram
        .iter()
        .map(|(bucket, pairs)| {
            let colour = if *bucket >= accept_weight {
                egui::Color32::from_rgb(31, 158, 137)
            } else if *bucket >= review_weight {
                egui::Color32::from_rgb(253, 174, 97)
            } else {
                egui::Color32::from_rgb(150, 150, 160)
            };
            Bar::new(bucket + 0.5, *pairs as f64)
                .width(1.0)
                .fill(colour)
                .name(format!(
                    "weight {bucket:.0} to {:.0}: {} pairs",
                    bucket + 1.0,
                    thousands(*pairs)
                ))
        })
        .collect();
    Plot::new("link_weights")
        .height(300.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .show_x(false)
        .show_y(false)
        .x_axis_label("match weight")
        .y_axis_label("pairs")
        .include_y(0.0)
        .show(ui, |plot| {
            plot.bar_chart(
                BarChart::new("pairs", bars).element_formatter(Box::new(|bar, _| bar.name.clone())),
            );
            plot.vline(
                VLine::new("review threshold", review_weight)
                    .color(egui::Color32::from_rgb(230, 120, 20)),
            );
            plot.vline(
                VLine::new("acceptance threshold", accept_weight)
                    .color(egui::Color32::from_rgb(20, 120, 100)),
            );
        });
}

fn overlap_ui(ui: &mut egui::Ui, figures: &LinkageFigures) {
    section_heading_ui(
        ui,
        "Who knows whom",
        "Share of each row agency's people who also have a record with the column agency",
    );
    egui::Grid::new("overlap")
        .striped(true)
        .spacing([10.0, 6.0])
        .show(ui, |ui| {
            ui.label("");
            for source in &figures.sources {
                ui.label(RichText::new(short(source)).strong());
            }
            ui.end_row();
            for (i, source) in figures.sources.iter().enumerate() {
                ui.label(RichText::new(source).strong());
                for (j, other) in figures.sources.iter().enumerate() {
                    let share = figures.overlap[i][j];
                    if i == j {
                        ui.label(RichText::new("–").weak());
                    } else {
                        ui.label(format!("{:.0}%", share * 100.0)).on_hover_text(format!(
                            "{:.1}% of the people known to {source} also have a record in {other}",
                            share * 100.0
                        ));
                    }
                }
                ui.end_row();
            }
        });
}

/// Column headings short enough for a matrix.
fn short(source: &str) -> String {
    match source {
        "public_health" => "public h.".to_string(),
        "social_care" => "social care".to_string(),
        other => other.to_string(),
    }
}
