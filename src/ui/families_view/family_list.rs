//! The ranked family list of an area: filters, then one row per family with its
//! score and change since the last round, its criteria chips, the agencies that know
//! it and the top reason. A click opens the family.

use egui::RichText;

use super::{FamiliesAction, FamiliesState, drill};
use crate::report::families::short_name;
use crate::report::families::{FamiliesFigures, FamilyRow};
use crate::ui::widgets::chip_ui;

const ROW_HEIGHT: f32 = 64.0;

/// Room a chip needs; past it the rest of a row's criteria become "+n more".
const CHIP_ROOM: f32 = 130.0;

pub(super) fn family_list_ui(
    ui: &mut egui::Ui,
    figures: &FamiliesFigures,
    state: &mut FamiliesState,
) -> FamiliesAction {
    filters_ui(ui, figures, &mut state.filters);
    let listed = drill::listed(figures, &state.scope, &state.filters);
    ui.label(
        RichText::new(format!(
            "{} famil{}, {}",
            listed.len(),
            if listed.len() == 1 { "y" } else { "ies" },
            if figures.model_id.is_some() {
                "highest model score first"
            } else {
                "most criteria met first (no model scores yet)"
            }
        ))
        .weak(),
    );
    let mut action = FamiliesAction::None;
    egui::ScrollArea::vertical()
        .id_salt("family_list")
        .auto_shrink([false, false])
        .show_rows(ui, ROW_HEIGHT, listed.len(), |ui, range| {
            for index in range {
                let family = listed[index];
                if family_row_ui(ui, figures, index + 1, family) {
                    action = FamiliesAction::OpenFamily(family.family_id.clone());
                }
            }
        });
    action
}

fn filters_ui(ui: &mut egui::Ui, figures: &FamiliesFigures, filters: &mut drill::Filters) {
    ui.horizontal_wrapped(|ui| {
        let criterion_text = filters
            .criterion
            .and_then(|c| figures.criteria.get(c))
            .map_or_else(|| "any criterion".to_string(), |c| short_name(&c.name));
        egui::ComboBox::from_id_salt("filter_criterion")
            .selected_text(criterion_text)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut filters.criterion, None, "any criterion");
                for (index, criterion) in figures.criteria.iter().enumerate() {
                    ui.selectable_value(&mut filters.criterion, Some(index), &criterion.title);
                }
            });
        let agency_text = filters
            .agency
            .as_deref()
            .map_or("any agency", |a| figures.agency_label(a))
            .to_string();
        egui::ComboBox::from_id_salt("filter_agency")
            .selected_text(agency_text)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut filters.agency, None, "any agency");
                for (source, label) in &figures.agencies {
                    ui.selectable_value(&mut filters.agency, Some(source.clone()), label);
                }
            });
        if figures.model_id.is_some() {
            ui.label("score at least");
            let mut percent = filters.min_score * 100.0;
            if ui
                .add(
                    egui::Slider::new(&mut percent, 0.0..=100.0)
                        .suffix("%")
                        .integer(),
                )
                .changed()
            {
                filters.min_score = percent / 100.0;
            }
        }
        ui.checkbox(&mut filters.flagged_only, "flagged only");
    });
}

/// One family's row; true when it was clicked open.
fn family_row_ui(
    ui: &mut egui::Ui,
    figures: &FamiliesFigures,
    rank: usize,
    family: &FamilyRow,
) -> bool {
    let mut open = false;
    ui.allocate_ui(egui::vec2(ui.available_width(), ROW_HEIGHT), |ui| {
        ui.vertical(|ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new(format!("{rank}.")).weak());
                let name = family.display_name();
                open = ui
                    .link(RichText::new(name).strong())
                    .on_hover_text(format!(
                        "{} · {} members, {} children",
                        family.family_id, family.members, family.children
                    ))
                    .clicked();
                if let Some(zone) = &family.zone_id {
                    ui.label(RichText::new(figures.zone_name(zone)).weak());
                }
                if let Some(decile) = family.imd_decile {
                    ui.label(RichText::new(format!("IMD {decile}")).weak())
                        .on_hover_text("Deprivation decile of the family's LSOA: 1 is the most deprived tenth of England.");
                }
                score_ui(ui, family);
                if let Some(decision) = &family.decision {
                    ui.label(RichText::new(format!("Decided: {}", decision.outcome)).small())
                        .on_hover_text(format!(
                            "Decided {} by {}",
                            decision.decided_at, decision.decided_by
                        ));
                }
            });
            ui.horizontal(|ui| {
                ui.add_space(24.0);
                for (shown, &criterion) in family.criteria_met.iter().enumerate() {
                    let Some(info) = figures.criteria.get(criterion) else {
                        continue;
                    };
                    if ui.available_width() < CHIP_ROOM {
                        let rest: Vec<&str> = family.criteria_met[shown..]
                            .iter()
                            .filter_map(|&c| figures.criteria.get(c))
                            .map(|c| c.title.as_str())
                            .collect();
                        ui.label(RichText::new(format!("+{} more", rest.len())).small())
                            .on_hover_text(rest.join("\n"));
                        break;
                    }
                    chip_ui(ui, &short_name(&info.name), criterion)
                        .on_hover_text(format!("{}: {}", info.title, info.rule));
                }
            });
            ui.horizontal(|ui| {
                ui.add_space(24.0);
                let agencies: Vec<&str> = family
                    .agencies
                    .iter()
                    .map(|a| figures.agency_label(a))
                    .collect();
                let known = if agencies.is_empty() {
                    "no agency beyond universal services".to_string()
                } else {
                    format!("known to {}", agencies.join(", "))
                };
                let why = family.reasons.first().map_or(String::new(), |r| format!(" · {r}"));
                ui.label(RichText::new(format!("{known}{why}")).small().weak());
            });
        });
    });
    open
}

/// "34% up 6 pts": the score now and its change since the previous round.
pub(crate) fn score_ui(ui: &mut egui::Ui, family: &FamilyRow) {
    let Some(score) = family.score else {
        return;
    };
    let text = RichText::new(format!("{:.0}%", score * 100.0)).strong();
    let text = if family.flagged {
        text.color(ui.visuals().warn_fg_color)
    } else {
        text
    };
    ui.label(text)
        .on_hover_text("Model score: the estimated chance that a child of the family needs a child protection plan or care in the next 12 months. For review, not a decision.");
    if let Some(change) = family.score_change() {
        let points = (change * 100.0).round();
        if points >= 1.0 {
            ui.label(RichText::new(format!("up {points:.0} pts")).small())
                .on_hover_text("Points up since the previous round");
        } else if points <= -1.0 {
            ui.label(RichText::new(format!("down {:.0} pts", -points)).small())
                .on_hover_text("Points down since the previous round");
        }
    }
}
