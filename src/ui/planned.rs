//! Views whose issue has not landed yet: each says what it will hold, so a user
//! sees the whole product's shape and nothing pretends to work.

use super::app::View;
use super::widgets::section_heading_ui;

/// True for views that only describe what they will hold.
pub fn is_planned(view: View) -> bool {
    !matches!(
        view,
        View::Overview | View::Data | View::Linkage | View::Map | View::Models
    )
}

/// Draws the description of a planned view.
pub fn planned_ui(ui: &mut egui::Ui, view: View) {
    let (purpose, items) = match view {
        View::Families => (
            "Families ranked by risk, each flag explained.",
            &[
                "Supporting Families criteria met, with the evidence behind each",
                "Model scores with the reasons that raised them most",
                "The single view of a family: members, agencies involved, a timeline of events",
            ][..],
        ),
        View::RoundTable => (
            "The agenda for a zone's round-table meeting, safe to project.",
            &[
                "Families newly flagged, whose score rose, and reviewed before",
                "Identities masked as initials until a case is opened",
                "Recording what the meeting agreed, with who and when",
            ][..],
        ),
        View::Audit => (
            "Who looked at which case, when and why.",
            &[
                "Every case opened, export and login, in a tamper-evident log",
                "The result of verifying the log's hash chain",
            ][..],
        ),
        View::Overview | View::Data | View::Linkage | View::Map | View::Models => ("", &[][..]),
    };
    section_heading_ui(ui, view.label(), purpose);
    ui.label("This view is planned and not yet available. It will show:");
    for item in items {
        ui.label(format!("  •  {item}"));
    }
}
