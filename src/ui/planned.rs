//! Views whose issue has not landed yet: each says what it will hold, so a user
//! sees the whole product's shape and nothing pretends to work.

use super::app::View;
use super::widgets::section_heading_ui;

/// True for views that only describe what they will hold.
pub fn is_planned(view: View) -> bool {
    !matches!(
        view,
        View::Overview
            | View::Data
            | View::Linkage
            | View::Map
            | View::Families
            | View::RoundTable
            | View::Audit
    )
}

/// Draws the description of a planned view.
pub fn planned_ui(ui: &mut egui::Ui, view: View) {
    let (purpose, items) = match view {
        View::Models => (
            "How well the risk models perform on later data they were not trained on.",
            &[
                "ROC and precision–recall figures on a held-out reference date",
                "A calibration curve and a fairness table by deprivation, sex and ethnicity",
            ][..],
        ),
        View::Overview
        | View::Data
        | View::Linkage
        | View::Map
        | View::Families
        | View::RoundTable
        | View::Audit => ("", &[][..]),
    };
    section_heading_ui(ui, view.label(), purpose);
    ui.label("This view is planned and not yet available. It will show:");
    for item in items {
        ui.label(format!("  •  {item}"));
    }
}
