//! Audit: who did what, when and why, newest first, filtered by user, action and
//! text, under the result of verifying the log's hash chain.
//!
//! The view reads the [`AuditFigures`] its `read` returned and its own filter state and
//! returns an [`AuditAction`]; the shell reads and verifies the log on a worker
//! when the view is entered and when the action asks.

use egui::{Color32, RichText};

use super::desk::{Desk, Screen, waiting_ui};
use super::figures::Part;
use super::widgets::section_heading_ui;
use crate::audit::{Action, LogRow};
use crate::format::thousands;
use crate::report::audit::AuditFigures;

const INTACT: Color32 = Color32::from_rgb(31, 120, 80);
const ROW_HEIGHT: f32 = 20.0;

/// Column widths in points: seq, time, user, action, subject, reason; detail takes the rest.
const WIDTHS: [f32; 6] = [48.0, 150.0, 110.0, 110.0, 260.0, 140.0];

/// Reads the newest entries and verifies the whole chain (a hash over every
/// entry: read only while the Audit view is shown, never for other views).
pub fn read(conn: &duckdb::Connection) -> anyhow::Result<AuditFigures> {
    Ok(crate::report::audit::read_audit(conn)?)
}

impl Screen for AuditState {
    /// "Verify again" marks the log stale: the shell reads and verifies it again.
    fn ui(&mut self, ui: &mut egui::Ui, desk: &mut Desk<'_>) {
        let Some(figures) = &desk.figures.audit else {
            return waiting_ui(ui);
        };
        if audit_ui(ui, figures, self) == AuditAction::Refresh {
            desk.figures.mark_stale(Part::Audit);
        }
    }
}

/// What the user asked the Audit view to do this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    None,
    /// Read the log again and verify it.
    Refresh,
}

/// The Audit view's filters, and the entries they selected last.
#[derive(Debug, Clone, Default)]
pub struct AuditState {
    /// Only this user's entries.
    pub user: Option<String>,
    pub action: Option<Action>,
    /// Text in the user, action, subject, reason or detail.
    pub text: String,
    /// Indices of the entries shown, and what they were selected for.
    shown: Vec<usize>,
    shown_for: Option<FilterKey>,
}

/// What the shown entries depend on.
#[derive(Debug, Clone, PartialEq)]
struct FilterKey {
    user: Option<String>,
    action: Option<Action>,
    text: String,
    entries: usize,
    newest: Option<i64>,
}

impl AuditState {
    fn key(&self, figures: &AuditFigures) -> FilterKey {
        FilterKey {
            user: self.user.clone(),
            action: self.action,
            text: self.text.trim().to_lowercase(),
            entries: figures.entries.len(),
            newest: figures.entries.first().map(|e| e.seq),
        }
    }

    /// Selects the entries matching the filters, when they or the entries changed.
    fn select(&mut self, figures: &AuditFigures) {
        let key = self.key(figures);
        if self.shown_for.as_ref() == Some(&key) {
            return;
        }
        self.shown = figures
            .entries
            .iter()
            .enumerate()
            .filter(|(_, row)| matches(row, &key))
            .map(|(index, _)| index)
            .collect();
        self.shown_for = Some(key);
    }
}

fn matches(row: &LogRow, key: &FilterKey) -> bool {
    key.user.as_ref().is_none_or(|user| &row.user == user)
        && key
            .action
            .is_none_or(|action| row.action == action.as_str())
        && (key.text.is_empty()
            || [
                row.user.as_str(),
                row.action.as_str(),
                row.subject.as_str(),
                row.reason.as_deref().unwrap_or(""),
                row.detail.as_str(),
            ]
            .iter()
            .any(|field| field.to_lowercase().contains(&key.text)))
}

/// Draws the Audit view.
pub fn audit_ui(ui: &mut egui::Ui, figures: &AuditFigures, state: &mut AuditState) -> AuditAction {
    let mut action = AuditAction::None;
    section_heading_ui(
        ui,
        "Audit log",
        "Every case opened, search, export, load and linkage run: who, when and why. \
         Each entry is chained to the one before by its hash, so a changed, removed or \
         reordered entry is found.",
    );
    ui.horizontal(|ui| {
        verification_ui(ui, figures);
        if ui
            .button("Verify again")
            .on_hover_text("Read the log again and check every entry's hash")
            .clicked()
        {
            action = AuditAction::Refresh;
        }
    });
    ui.add_space(6.0);
    filters_ui(ui, figures, state);
    state.select(figures);
    ui.label(
        RichText::new(if figures.total as usize > figures.entries.len() {
            format!(
                "{} of the newest {} entries shown ({} in all; `zonewise audit list` lists every one)",
                thousands(state.shown.len() as i64),
                thousands(figures.entries.len() as i64),
                thousands(figures.total)
            )
        } else {
            format!(
                "{} of {} entries shown, newest first",
                thousands(state.shown.len() as i64),
                thousands(figures.total)
            )
        })
        .weak(),
    );
    ui.add_space(4.0);
    entries_ui(ui, figures, state);
    action
}

/// Green "chain intact: N entries", or red naming the first bad entry.
fn verification_ui(ui: &mut egui::Ui, figures: &AuditFigures) {
    let verification = &figures.verification;
    let (colour, text) = match &verification.problem {
        None => (INTACT, verification.summary()),
        Some(problem) => (
            ui.visuals().error_fg_color,
            format!("Not intact at entry {}: {}", problem.seq, problem.message),
        ),
    };
    let response = egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(1.5, colour))
        .show(ui, |ui| {
            ui.label(RichText::new(text).color(colour).strong());
        })
        .response;
    if let Some(anchor) = verification.anchor() {
        response.on_hover_text(format!(
            "Head {anchor}. Write it down outside this database (or send it to someone who \
             keeps it): `zonewise audit verify --anchor` then checks the log still holds it."
        ));
    }
}

fn filters_ui(ui: &mut egui::Ui, figures: &AuditFigures, state: &mut AuditState) {
    let mut users: Vec<&str> = figures.entries.iter().map(|e| e.user.as_str()).collect();
    users.sort_unstable();
    users.dedup();
    ui.horizontal(|ui| {
        ui.label("User");
        egui::ComboBox::from_id_salt("audit_user")
            .selected_text(state.user.as_deref().unwrap_or("everyone"))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut state.user, None, "everyone");
                for user in users {
                    ui.selectable_value(&mut state.user, Some(user.to_string()), user);
                }
            });
        ui.label("Action");
        egui::ComboBox::from_id_salt("audit_action")
            .selected_text(state.action.map_or("any", Action::as_str))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut state.action, None, "any");
                for action in Action::ALL {
                    ui.selectable_value(&mut state.action, Some(action), action.as_str());
                }
            });
        ui.label("Containing");
        ui.add(
            egui::TextEdit::singleline(&mut state.text)
                .hint_text("a person id, a file, a word")
                .desired_width(240.0),
        );
        if (state.user.is_some() || state.action.is_some() || !state.text.is_empty())
            && ui.button("Clear").clicked()
        {
            state.user = None;
            state.action = None;
            state.text.clear();
        }
    });
}

fn entries_ui(ui: &mut egui::Ui, figures: &AuditFigures, state: &AuditState) {
    let bad = figures.verification.problem.as_ref().map(|p| p.seq);
    ui.horizontal(|ui| {
        let [fixed @ .., detail] = LogRow::HEADINGS;
        for (title, width) in fixed.into_iter().zip(WIDTHS) {
            cell_ui(ui, width, RichText::new(title).strong());
        }
        ui.label(RichText::new(detail).strong());
    });
    ui.separator();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show_rows(ui, ROW_HEIGHT, state.shown.len(), |ui, range| {
            for &index in &state.shown[range] {
                let row = &figures.entries[index];
                let colour = (Some(row.seq) == bad).then_some(ui.visuals().error_fg_color);
                let text = |text: &str| {
                    let text = RichText::new(text);
                    match colour {
                        Some(colour) => text.color(colour),
                        None => text,
                    }
                };
                ui.horizontal(|ui| {
                    ui.set_height(ROW_HEIGHT);
                    let [fixed @ .., detail] = row.cells();
                    for (cell, width) in fixed.iter().zip(WIDTHS) {
                        cell_ui(ui, width, text(cell)).on_hover_text(cell);
                    }
                    ui.add(egui::Label::new(text(&detail)).truncate());
                });
            }
        });
}

/// One left-aligned cell of fixed width, its text cut short with an ellipsis.
fn cell_ui(ui: &mut egui::Ui, width: f32, text: RichText) -> egui::Response {
    ui.allocate_ui_with_layout(
        egui::vec2(width, ROW_HEIGHT),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_width(width);
            ui.add(egui::Label::new(text).truncate())
        },
    )
    .inner
}
