//! The Round table: a zone manager's agenda, safe to project. Families appear by
//! code and initials only; a case is opened (names shown) only deliberately, with a
//! reason, one family at a time. The meeting's decision is recorded with who and
//! when, and the agenda prints as a masked meeting pack. What the view's
//! actions do is in `actions`.

mod actions;

use std::collections::HashSet;

use egui::RichText;

use crate::report::agenda::agenda;
use crate::report::families::{FamiliesFigures, FamilyRow, short_name};
use crate::report::family_detail::OUTCOMES;
use crate::ui::desk::{Desk, Message, Screen, waiting_ui};
use crate::ui::views::View;
use crate::ui::widgets::{chip_ui, section_heading_ui};

/// The Round table view's choices.
#[derive(Debug, Default)]
pub struct RoundTableState {
    /// The zone whose agenda is shown.
    pub zone: Option<String>,
    /// The family the decision form is for.
    pub selected: Option<String>,
    /// Families opened (unmasked) in this session; the reasons go to the audit log.
    pub opened: HashSet<String>,
    /// The reason typed for opening the selected family.
    pub open_reason: String,
    /// Index into [`OUTCOMES`] and the note of the decision being recorded.
    pub outcome: Option<usize>,
    pub note: String,
    /// The last save's or export's result.
    pub message: Option<String>,
    /// A decision is being recorded (on a worker): the button waits for it.
    pub saving: bool,
    /// The role may open Families, so an opened case offers the family's records
    /// (never on the projected screen, which sees masked identities only).
    pub offers_records: bool,
}

impl Screen for RoundTableState {
    fn ui(&mut self, ui: &mut egui::Ui, desk: &mut Desk<'_>) {
        let Some(families) = &desk.figures.families else {
            return waiting_ui(ui);
        };
        self.offers_records = desk.may(View::Families);
        self.saving = desk.is_running(actions::DECIDING);
        let action = round_table_ui(ui, families, self);
        self.act(action, desk);
    }

    fn receive(&mut self, message: Message, desk: &mut Desk<'_>) {
        if let Message::OpenFamily(wanted) = message {
            self.select_wanted(desk, &wanted);
        }
    }
}

/// What the user asked the view to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundTableAction {
    None,
    /// Unmask one family, for the reason given (audited).
    OpenCase {
        family_id: String,
        reason: String,
    },
    /// Show the opened family's single view in Families.
    ShowFamily(String),
    RecordDecision {
        family_id: String,
        zone_id: String,
        outcome: String,
        note: String,
    },
    /// Save the zone's masked meeting pack through a save dialog.
    ExportPack {
        zone_id: String,
    },
}

pub fn round_table_ui(
    ui: &mut egui::Ui,
    figures: &FamiliesFigures,
    state: &mut RoundTableState,
) -> RoundTableAction {
    let Some(date) = figures.current.as_deref() else {
        ui.heading("Round table");
        ui.label("No families have been assessed yet: run `zonewise criteria` on this database.");
        return RoundTableAction::None;
    };
    if state.zone.is_none() {
        state.zone = figures.zones.first().map(|z| z.zone_id.clone());
    }
    let Some(zone_id) = state.zone.clone() else {
        ui.label("This database has no zones.");
        return RoundTableAction::None;
    };
    let mut action = RoundTableAction::None;
    ui.horizontal(|ui| {
        ui.heading("Round table");
        egui::ComboBox::from_id_salt("round_table_zone")
            .selected_text(figures.zone_name(&zone_id))
            .width(220.0)
            .show_ui(ui, |ui| {
                for zone in &figures.zones {
                    if ui
                        .selectable_label(zone.zone_id == zone_id, &zone.name)
                        .clicked()
                    {
                        state.zone = Some(zone.zone_id.clone());
                        state.selected = None;
                    }
                }
            });
        let since = figures.previous.as_deref().map_or(String::new(), |p| {
            format!(", compared with {}", crate::ui::families_view::long_date(p))
        });
        ui.label(
            RichText::new(format!(
                "records as they stood on {}{since}",
                crate::ui::families_view::long_date(date)
            ))
            .weak(),
        );
        if ui
            .button("Export meeting pack…")
            .on_hover_text("A masked HTML pack of this agenda that prints cleanly (or to PDF).")
            .clicked()
        {
            action = RoundTableAction::ExportPack {
                zone_id: zone_id.clone(),
            };
        }
    });
    ui.label(
        RichText::new(
            "Identities are masked: a family shows by code and initials until a case is opened, \
             with a reason that is recorded. Flags are for discussion, not decisions.",
        )
        .weak(),
    );
    if let Some(message) = &state.message {
        ui.label(RichText::new(message).strong());
    }
    ui.separator();
    let agenda = agenda(figures, &zone_id);
    ui.columns(2, |columns| {
        egui::ScrollArea::vertical()
            .id_salt("agenda")
            .auto_shrink([false, false])
            .show(&mut columns[0], |ui| {
                if agenda.is_empty() {
                    ui.label("Nothing on this zone's agenda this round.");
                }
                for (title, meaning, families) in agenda.sections() {
                    section_heading_ui(ui, &format!("{title} ({})", families.len()), meaning);
                    for family in families {
                        agenda_item_ui(ui, figures, family, state);
                    }
                }
            });
        let selected = state.selected.as_deref().and_then(|id| figures.family(id));
        if let Some(family) = selected {
            let chosen = case_ui(&mut columns[1], figures, family, &zone_id, state);
            if chosen != RoundTableAction::None {
                action = chosen;
            }
        } else {
            columns[1].label("Pick a family on the agenda to discuss it and record the decision.");
        }
    });
    action
}

/// One family on the agenda, masked unless opened.
fn agenda_item_ui(
    ui: &mut egui::Ui,
    figures: &FamiliesFigures,
    family: &FamilyRow,
    state: &mut RoundTableState,
) {
    let selected = state.selected.as_deref() == Some(family.family_id.as_str());
    let frame = egui::Frame::group(ui.style()).fill(if selected {
        ui.visuals().selection.bg_fill.linear_multiply(0.4)
    } else {
        ui.visuals().panel_fill
    });
    let mut picked = false;
    let response = frame
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                if ui
                    .selectable_label(
                        selected,
                        RichText::new(&family.family_id).monospace().strong(),
                    )
                    .clicked()
                {
                    picked = true;
                }
                ui.label(identity(family, state));
                let children = match family.children {
                    1 => "1 child".to_string(),
                    n => format!("{n} children"),
                };
                ui.label(RichText::new(children).weak());
                crate::ui::families_view::score_ui(ui, family);
                for &criterion in &family.criteria_met {
                    if let Some(info) = figures.criteria.get(criterion) {
                        chip_ui(ui, &short_name(&info.name), criterion).on_hover_text(&info.title);
                    }
                }
            });
            if let Some(reason) = family.reasons.first() {
                ui.label(RichText::new(reason).small().weak());
            }
            if let Some(decision) = &family.decision {
                ui.label(
                    RichText::new(format!(
                        "Last decision: {} (round of {})",
                        decision.outcome, decision.reference_date
                    ))
                    .small(),
                );
            }
        })
        .response;
    if ui
        .interact(
            response.rect,
            response.id.with("pick"),
            egui::Sense::click(),
        )
        .clicked()
    {
        state.selected = Some(family.family_id.clone());
        state.open_reason.clear();
        state.outcome = None;
        state.note.clear();
    }
}

/// Initials, or the surname once the case has been opened.
fn identity(family: &FamilyRow, state: &RoundTableState) -> String {
    if state.opened.contains(&family.family_id) {
        format!("{} ({})", family.display_name(), family.initials)
    } else {
        family.initials.clone()
    }
}

/// The picked family: opening the case, and the decision form.
fn case_ui(
    ui: &mut egui::Ui,
    figures: &FamiliesFigures,
    family: &FamilyRow,
    zone_id: &str,
    state: &mut RoundTableState,
) -> RoundTableAction {
    let mut action = RoundTableAction::None;
    section_heading_ui(
        ui,
        &format!("{} · {}", family.family_id, identity(family, state)),
        "",
    );
    ui.horizontal_wrapped(|ui| {
        crate::ui::families_view::score_ui(ui, family);
        for &criterion in &family.criteria_met {
            if let Some(info) = figures.criteria.get(criterion) {
                chip_ui(ui, &short_name(&info.name), criterion)
                    .on_hover_text(format!("{}: {}", info.title, info.rule));
            }
        }
    });
    for reason in &family.reasons {
        ui.label(format!("• {reason}"));
    }
    if let Some(decision) = &family.decision {
        ui.label(format!(
            "Last decision: {} (round of {}, recorded {} by {})",
            decision.outcome, decision.reference_date, decision.decided_at, decision.decided_by
        ));
    }
    if !family.agencies.is_empty() {
        let agencies: Vec<&str> = family
            .agencies
            .iter()
            .map(|a| figures.agency_label(a))
            .collect();
        ui.label(format!(
            "Known in the last 12 months to {}",
            agencies.join(", ")
        ));
    }
    ui.add_space(6.0);
    if state.opened.contains(&family.family_id) {
        if state.offers_records && ui.button("Show the family's records").clicked() {
            action = RoundTableAction::ShowFamily(family.family_id.clone());
        }
    } else {
        ui.label("Open the case to see names (the reason is recorded):");
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(&mut state.open_reason)
                    .hint_text("reason for opening")
                    .desired_width(260.0),
            );
            let ready = !state.open_reason.trim().is_empty();
            if ui
                .add_enabled(ready, egui::Button::new("Open case"))
                .clicked()
            {
                action = RoundTableAction::OpenCase {
                    family_id: family.family_id.clone(),
                    reason: state.open_reason.trim().to_string(),
                };
            }
        });
    }
    ui.separator();
    section_heading_ui(
        ui,
        "Decision",
        "What the meeting agreed; saved with your name and the time.",
    );
    for (index, outcome) in OUTCOMES.iter().enumerate() {
        ui.radio_value(&mut state.outcome, Some(index), *outcome);
    }
    ui.add(
        egui::TextEdit::multiline(&mut state.note)
            .hint_text("note (lead practitioner, actions, review date)")
            .desired_rows(3)
            .desired_width(f32::INFINITY),
    );
    if let Some(index) = state.outcome
        && ui
            .add_enabled(!state.saving, egui::Button::new("Record decision"))
            .clicked()
    {
        action = RoundTableAction::RecordDecision {
            family_id: family.family_id.clone(),
            zone_id: zone_id.to_string(),
            outcome: OUTCOMES[index].to_string(),
            note: state.note.trim().to_string(),
        };
    }
    action
}
