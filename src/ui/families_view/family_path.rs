//! A family's path round by round (`report::family_path`), as a table the
//! family's single view and the Round table's family panel both draw: newest
//! round first, each with where the family stood, its place in the zone's
//! ranking, its score, its headline problems and the decision recorded. It
//! holds no name, so the masked round table shows it as it is.

use egui::RichText;

use crate::report::families::{FamiliesFigures, short_name};
use crate::report::family_path::PathRound;
use crate::ui::widgets::{chip_ui, section_heading_ui};

/// The path's section: heading, explanation and the table (`id` keeps two
/// tables on one screen apart).
pub(crate) fn family_path_ui(
    ui: &mut egui::Ui,
    figures: &FamiliesFigures,
    path: &[PathRound],
    id: &str,
) {
    section_heading_ui(
        ui,
        "Round by round",
        "Each monthly round, newest first: flagged (its place among the zone's families \
         by score and criteria, within the round table's capacity), the headline problems \
         met, the score, and what the meeting decided.",
    );
    if path.is_empty() {
        ui.label("Not assessed at any round yet.");
        return;
    }
    egui::Grid::new(("family_path", id))
        .striped(true)
        .num_columns(5)
        .spacing([10.0, 4.0])
        .show(ui, |ui| {
            for title in ["Round", "Standing", "Place", "Score", "Headline problems"] {
                ui.label(RichText::new(title).strong());
            }
            ui.end_row();
            for step in path {
                round_row_ui(ui, figures, step);
                ui.end_row();
            }
        });
}

fn round_row_ui(ui: &mut egui::Ui, figures: &FamiliesFigures, step: &PathRound) {
    ui.label(&step.round);
    let standing = RichText::new(step.standing());
    let standing = if step.flagged || step.decision.is_some() {
        standing.strong()
    } else {
        standing
    };
    ui.vertical(|ui| {
        ui.label(standing);
        // What was decided, under the standing (a close says it already).
        if let Some(decision) = step.decision.as_ref().filter(|_| !step.closed()) {
            let review = decision.plan.as_ref().map_or(String::new(), |plan| {
                format!(", review {}", plan.review_date)
            });
            let text = format!("{}{review}", decision.outcome);
            let label = ui.label(RichText::new(text).small());
            if let Some(plan) = &decision.plan {
                label.on_hover_text(plan.summary());
            }
        }
    });
    ui.label(place(step));
    ui.label(
        step.score
            .map_or("–".to_string(), |s| format!("{:.0}%", s * 100.0)),
    );
    ui.horizontal_wrapped(|ui| {
        if !step.assessed {
            ui.label(RichText::new("not assessed").weak());
        } else if step.criteria.is_empty() {
            ui.label(RichText::new("none").weak());
        }
        for name in &step.criteria {
            let index = figures.criteria.iter().position(|c| &c.name == name);
            let title = index.map_or(name.as_str(), |i| figures.criteria[i].title.as_str());
            chip_ui(ui, &short_name(name), index.unwrap_or(0)).on_hover_text(title);
        }
    });
}

/// "3rd of 20": the family's place in the zone's ranking against the round
/// table's capacity; "–" when it was not ranked.
fn place(step: &PathRound) -> String {
    match (step.rank, step.capacity) {
        (Some(rank), Some(capacity)) => format!("{} of {capacity}", ordinal(rank)),
        _ => "–".to_string(),
    }
}

/// 1 → "1st", 12 → "12th", 22 → "22nd".
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_read_as_ordinals_of_the_capacity() {
        let words: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 103, 111]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            words,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "103rd",
                "111th"
            ]
        );
        let step = PathRound {
            rank: Some(3),
            capacity: Some(20),
            ..PathRound::default()
        };
        assert_eq!(place(&step), "3rd of 20");
        assert_eq!(place(&PathRound::default()), "–");
    }
}
