//! The Round table: a zone manager's agenda, safe to project. Families appear by
//! code and initials only; a case is opened (names shown) only deliberately, with a
//! reason, one family at a time. The meeting's decision is recorded with who and
//! when, as a plan when it makes one (lead practitioner, actions, review date), and
//! the agenda prints as a masked meeting pack. The picked family shows its path
//! round by round (no names in it). What the view's actions do is in
//! `actions`.

mod actions;
mod outcomes;

pub use outcomes::read as read_outcomes;

use std::collections::HashSet;

use egui::RichText;

use crate::report::agenda::agenda;
use crate::report::families::{FamiliesFigures, FamilyRow, short_name};
use crate::report::family_detail::{CLOSED, LEAD_PRACTITIONER, NewDecision, OUTCOMES, Plan};
use crate::report::family_path::PathRound;
use crate::report::outcomes::OutcomesFigures;
use crate::ui::desk::{Desk, Message, Screen, waiting_ui};
use crate::ui::views::View;
use crate::ui::widgets::{chip_ui, section_heading_ui};

/// The Round table view's choices.
#[derive(Debug, Default)]
pub struct RoundTableState {
    /// The zone whose agenda is shown.
    pub zone: Option<String>,
    /// The agenda, or what became of the families discussed.
    pub page: Page,
    /// The family the decision form is for.
    pub selected: Option<String>,
    /// Families opened (unmasked) in this session; the reasons go to the audit log.
    pub opened: HashSet<String>,
    /// The reason typed for opening the selected family.
    pub open_reason: String,
    /// The decision being written.
    pub form: DecisionForm,
    /// The last save's or export's result.
    pub message: Option<String>,
    /// A decision is being recorded (on a worker): the button waits for it.
    pub saving: bool,
    /// The role may write outcome claims (analysts and senior managers), so the
    /// outcomes page offers the button.
    pub offers_claims: bool,
    /// The role may open Families, so an opened case offers the family's records
    /// (never on the projected screen, which sees masked identities only).
    pub offers_records: bool,
    /// The role may set a zone's capacity (analysts: it decides what every view
    /// calls flagged), so the agenda offers the control.
    pub offers_capacity: bool,
    /// The capacity being typed, with the zone it is for (a new zone starts
    /// from that zone's own).
    pub capacity: Option<(String, u32)>,
    /// A capacity is being set (on a worker): the button waits for it.
    pub setting_capacity: bool,
    /// The picked family's path round by round (`report::family_path`), or
    /// why it could not be read, with the family it is of.
    pub path: Option<(String, Result<Vec<PathRound>, String>)>,
}

/// What the view shows of the zone.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    #[default]
    Agenda,
    /// The outcomes of the families discussed (`report::outcomes`).
    Outcomes,
}

/// The decision form's fields, as typed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DecisionForm {
    /// Index into [`OUTCOMES`].
    pub outcome: Option<usize>,
    pub note: String,
    pub lead_agency: String,
    pub lead_name: String,
    pub actions: String,
    /// yyyy-mm-dd.
    pub review_date: String,
    /// yyyy-mm-dd, or blank when no end is agreed.
    pub plan_ends: String,
}

impl DecisionForm {
    /// The decision for `family_id` at `round` (yyyy-mm-dd), once an outcome is
    /// picked. The plan is left out when closing, or when none of its fields is filled.
    pub fn decision(&self, family_id: &str, zone_id: &str, round: &str) -> Option<NewDecision> {
        let outcome = OUTCOMES.get(self.outcome?)?.to_string();
        let fields = [
            &self.lead_agency,
            &self.lead_name,
            &self.actions,
            &self.review_date,
            &self.plan_ends,
        ];
        let plan =
            (outcome != CLOSED && fields.iter().any(|f| !f.trim().is_empty())).then(|| Plan {
                lead_agency: self.lead_agency.trim().to_string(),
                lead_name: self.lead_name.trim().to_string(),
                actions: self.actions.trim().to_string(),
                review_date: self.review_date.trim().to_string(),
                ends: Some(self.plan_ends.trim().to_string()).filter(|e| !e.is_empty()),
            });
        Some(NewDecision {
            family_id: family_id.to_string(),
            zone_id: Some(zone_id.to_string()),
            reference_date: round.to_string(),
            outcome,
            note: self.note.trim().to_string(),
            plan,
        })
    }
}

impl RoundTableState {
    /// A decision was stored: the form starts again empty.
    pub fn decision_recorded(&mut self) {
        self.form = DecisionForm::default();
    }
}

impl Screen for RoundTableState {
    fn ui(&mut self, ui: &mut egui::Ui, desk: &mut Desk<'_>) {
        let Some(families) = &desk.figures.families else {
            return waiting_ui(ui);
        };
        self.offers_records = desk.may(View::Families);
        self.offers_claims = actions::may_claim(desk);
        self.offers_capacity = actions::may_set_capacity(desk);
        self.saving = desk.is_running(actions::DECIDING);
        self.setting_capacity = desk.is_running(actions::SETTING_CAPACITY);
        let action = round_table_ui(ui, families, desk.figures.outcomes.as_ref(), self);
        self.act(action, desk);
        self.read_path(desk);
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
    /// Record the decision (and its plan) on a worker.
    RecordDecision(NewDecision),
    /// Save the zone's masked meeting pack through a save dialog.
    ExportPack {
        zone_id: String,
    },
    /// Write the outcome claims of every family in a plan the session may see
    /// to a CSV chosen in a save dialog (analysts and senior managers).
    WriteClaims,
    /// Set how many families the zone's round table discusses a round
    /// (analysts), on a worker: the flags of every view follow it.
    SetCapacity {
        zone_id: String,
        capacity: u32,
    },
}

pub fn round_table_ui(
    ui: &mut egui::Ui,
    figures: &FamiliesFigures,
    outcomes: Option<&OutcomesFigures>,
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
        ui.selectable_value(&mut state.page, Page::Agenda, "Agenda");
        ui.selectable_value(&mut state.page, Page::Outcomes, "Outcomes")
            .on_hover_text("What became of the families this zone discussed.");
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
    let agenda = agenda(figures, &zone_id);
    ui.label(format!(
        "{} families to discuss: {} flagged (this zone's top families by score and criteria, \
         within its capacity of {} a round), {} due for review, {} stepping down. \
         {} more in a plan, review not yet due.",
        agenda.len(),
        agenda.flagged(),
        agenda.capacity,
        agenda.due_for_review.len(),
        agenda.stepping_down.len(),
        agenda.in_plan
    ));
    if state.offers_capacity {
        let asked = capacity_ui(ui, &zone_id, agenda.capacity, state);
        if asked != RoundTableAction::None {
            action = asked;
        }
    }
    if let Some(message) = &state.message {
        ui.label(RichText::new(message).strong());
    }
    ui.separator();
    ui.columns(2, |columns| {
        egui::ScrollArea::vertical()
            .id_salt("agenda")
            .auto_shrink([false, false])
            .show(&mut columns[0], |ui| {
                if state.page == Page::Outcomes {
                    if state.offers_claims
                        && ui
                            .button("Write outcome claims…")
                            .on_hover_text(
                                "The families in a plan, in every zone you see, that made \
                                 significant and sustained progress against each headline \
                                 problem (assets/claims.toml), as a CSV with each rule's \
                                 evidence. Recorded in the audit log.",
                            )
                            .clicked()
                    {
                        action = RoundTableAction::WriteClaims;
                    }
                    match outcomes {
                        Some(outcomes) => {
                            outcomes::zone_outcomes_ui(ui, outcomes, &zone_id, &mut state.selected)
                        }
                        None => waiting_ui(ui),
                    }
                    return;
                }
                if agenda.is_empty() {
                    ui.label("Nothing on this zone's agenda this round.");
                }
                for (title, meaning, families) in agenda.sections() {
                    if families.is_empty() {
                        continue;
                    }
                    section_heading_ui(ui, &format!("{title} ({})", families.len()), meaning);
                    for family in families {
                        agenda_item_ui(ui, figures, family, state);
                    }
                }
                if !agenda.decided.is_empty() {
                    section_heading_ui(
                        ui,
                        &format!("Decided at this round ({})", agenda.decided.len()),
                        "Off the agenda: what the meeting agreed.",
                    );
                    for family in &agenda.decided {
                        agenda_item_ui(ui, figures, family, state);
                    }
                }
            });
        let selected = state.selected.as_deref().and_then(|id| figures.family(id));
        if let Some(family) = selected {
            let chosen = egui::ScrollArea::vertical()
                .id_salt("case")
                .auto_shrink([false, false])
                .show(&mut columns[1], |ui| {
                    case_ui(ui, figures, outcomes, family, &zone_id, date, state)
                })
                .inner;
            if chosen != RoundTableAction::None {
                action = chosen;
            }
        } else {
            columns[1].label("Pick a family on the agenda to discuss it and record the decision.");
        }
    });
    action
}

/// An analyst's control for the zone's capacity: the families its round table
/// can discuss a round, which decides how many every view calls flagged.
fn capacity_ui(
    ui: &mut egui::Ui,
    zone_id: &str,
    current: u32,
    state: &mut RoundTableState,
) -> RoundTableAction {
    if state
        .capacity
        .as_ref()
        .is_none_or(|(zone, _)| zone != zone_id)
    {
        state.capacity = Some((zone_id.to_string(), current));
    }
    let mut action = RoundTableAction::None;
    let setting = state.setting_capacity;
    let Some((_, typed)) = state.capacity.as_mut() else {
        return action;
    };
    ui.horizontal(|ui| {
        let label = ui.label("Capacity");
        ui.add(
            egui::DragValue::new(typed)
                .range(1..=200)
                .suffix(" families a round"),
        )
        .labelled_by(label.id)
        .on_hover_text(
            "How many families this zone's round table can discuss at one meeting. \
             The agenda flags the zone's top families up to this number, and every \
             view and the meeting pack count flags the same way.",
        );
        let changed = *typed != current;
        if ui
            .add_enabled(changed && !setting, egui::Button::new("Set capacity"))
            .on_hover_text("Recorded in the audit log with who and when.")
            .clicked()
        {
            action = RoundTableAction::SetCapacity {
                zone_id: zone_id.to_string(),
                capacity: *typed,
            };
        }
        if setting {
            ui.spinner();
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
                let plan = decision
                    .plan
                    .as_ref()
                    .map_or(String::new(), |plan| format!("; {}", plan.summary()));
                ui.label(
                    RichText::new(format!(
                        "Last decision: {} (round of {}){plan}",
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
        && state.selected.as_deref() != Some(family.family_id.as_str())
    {
        state.selected = Some(family.family_id.clone());
        state.open_reason.clear();
        state.form = DecisionForm::default();
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
    outcomes: Option<&OutcomesFigures>,
    family: &FamilyRow,
    zone_id: &str,
    round: &str,
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
        if let Some(plan) = &decision.plan {
            ui.label(format!("Plan: {}", plan.summary()));
            if !plan.actions.is_empty() {
                ui.label(format!("Actions: {}", plan.actions));
            }
        }
    }
    outcomes::plan_history_ui(ui, outcomes, &family.family_id);
    match &state.path {
        Some((id, Ok(path))) if *id == family.family_id => {
            crate::ui::families_view::family_path_ui(ui, figures, path, "round_table");
        }
        Some((id, Err(error))) if *id == family.family_id => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("The family's rounds could not be read: {error}"),
            );
        }
        _ => {
            ui.label("Reading the family's rounds…");
        }
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
    if let Some(decision) = decision_form_ui(ui, &family.family_id, zone_id, round, state) {
        action = RoundTableAction::RecordDecision(decision);
    }
    action
}

/// The decision form: the outcome, the plan (lead practitioner, actions, review
/// date, end) and a note. Returns the decision when "Record decision" is clicked;
/// the button stays off, with the reason shown, while the decision cannot be recorded.
fn decision_form_ui(
    ui: &mut egui::Ui,
    family_id: &str,
    zone_id: &str,
    round: &str,
    state: &mut RoundTableState,
) -> Option<NewDecision> {
    section_heading_ui(
        ui,
        "Decision",
        "What the meeting agreed; saved with your name and the time.",
    );
    let form = &mut state.form;
    for (index, outcome) in OUTCOMES.iter().enumerate() {
        if ui
            .radio_value(&mut form.outcome, Some(index), *outcome)
            .clicked()
            && *outcome == LEAD_PRACTITIONER
            && form.review_date.is_empty()
        {
            form.review_date = in_months(round, 3);
        }
    }
    let closing = form.outcome.and_then(|i| OUTCOMES.get(i)) == Some(&CLOSED);
    if !closing {
        ui.label(
            RichText::new(
                "Plan: needed for an early help lead practitioner; a review date makes any \
                 other outcome a plan too. The family comes back when the review is due.",
            )
            .weak(),
        );
        egui::Grid::new("plan_form")
            .num_columns(2)
            .spacing([8.0, 4.0])
            .show(ui, |ui| {
                labelled_field_ui(
                    ui,
                    "Lead agency",
                    &mut form.lead_agency,
                    "e.g. School",
                    false,
                );
                labelled_field_ui(ui, "Lead practitioner", &mut form.lead_name, "name", false);
                labelled_field_ui(
                    ui,
                    "Actions",
                    &mut form.actions,
                    "what will be done, by whom",
                    true,
                );
                let label = ui.label("Review date");
                ui.horizontal(|ui| {
                    ui.add(
                        egui::TextEdit::singleline(&mut form.review_date)
                            .hint_text("yyyy-mm-dd")
                            .desired_width(100.0),
                    )
                    .labelled_by(label.id);
                    let choices = [
                        ("+6 weeks", in_days(round, 42)),
                        ("+3 months", in_months(round, 3)),
                        ("+6 months", in_months(round, 6)),
                    ];
                    for (text, day) in choices {
                        if ui.small_button(text).clicked() {
                            form.review_date = day;
                        }
                    }
                });
                ui.end_row();
                let label = ui.label("Plan ends");
                ui.add(
                    egui::TextEdit::singleline(&mut form.plan_ends)
                        .hint_text("yyyy-mm-dd, if agreed")
                        .desired_width(160.0),
                )
                .labelled_by(label.id);
                ui.end_row();
            });
    }
    let note_label = ui.label("Note");
    ui.add(
        egui::TextEdit::multiline(&mut form.note)
            .hint_text("what was discussed")
            .desired_rows(2)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(note_label.id);
    let decision = form.decision(family_id, zone_id, round)?;
    let problem = decision.problem();
    if let Some(problem) = &problem {
        ui.label(RichText::new(problem).color(ui.visuals().warn_fg_color));
    }
    ui.add_enabled(
        !state.saving && problem.is_none(),
        egui::Button::new("Record decision"),
    )
    .clicked()
    .then_some(decision)
}

/// One labelled text field of the plan form, on its own grid row.
fn labelled_field_ui(
    ui: &mut egui::Ui,
    label: &str,
    text: &mut String,
    hint: &str,
    multiline: bool,
) {
    let label = ui.label(label);
    let edit = if multiline {
        egui::TextEdit::multiline(text).desired_rows(2)
    } else {
        egui::TextEdit::singleline(text)
    };
    ui.add(edit.hint_text(hint).desired_width(280.0))
        .labelled_by(label.id);
    ui.end_row();
}

/// `round` (yyyy-mm-dd) plus `months`, as yyyy-mm-dd; blank when it is not a day.
fn in_months(round: &str, months: u32) -> String {
    chrono::NaiveDate::parse_from_str(round, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.checked_add_months(chrono::Months::new(months)))
        .map_or(String::new(), |day| day.format("%Y-%m-%d").to_string())
}

/// `round` (yyyy-mm-dd) plus `days`, as yyyy-mm-dd; blank when it is not a day.
fn in_days(round: &str, days: u64) -> String {
    chrono::NaiveDate::parse_from_str(round, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.checked_add_days(chrono::Days::new(days)))
        .map_or(String::new(), |day| day.format("%Y-%m-%d").to_string())
}
