//! Small widgets shared by several views.

use egui::{Color32, RichText};

/// Width of a metric card, so rows of cards can be laid out to fit the window.
pub const METRIC_CARD_WIDTH: f32 = 150.0;

/// One headline figure for [`metric_cards_ui`].
pub struct Metric {
    pub value: String,
    pub label: &'static str,
    /// Where the number comes from, shown on hover.
    pub provenance: String,
}

/// Lays out metric cards in as many rows as the width needs.
pub fn metric_cards_ui(ui: &mut egui::Ui, metrics: &[Metric]) {
    let spacing = 10.0;
    let per_row =
        (((ui.available_width() + spacing) / (METRIC_CARD_WIDTH + 28.0 + spacing)).floor()
            as usize)
            .max(1);
    for row in metrics.chunks(per_row) {
        ui.horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = spacing;
            for metric in row {
                metric_card_ui(ui, &metric.value, metric.label, &metric.provenance);
            }
        });
        ui.add_space(spacing);
    }
}

/// A headline figure: a big number over its label, with a hover note saying where it comes from.
pub fn metric_card_ui(ui: &mut egui::Ui, value: &str, label: &str, provenance: &str) {
    egui::Frame::group(ui.style())
        .fill(ui.visuals().faint_bg_color)
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(14, 10))
        .show(ui, |ui| {
            ui.set_width(METRIC_CARD_WIDTH);
            ui.vertical(|ui| {
                ui.label(RichText::new(value).size(26.0).strong());
                ui.label(RichText::new(label).weak());
            });
        })
        .response
        .on_hover_text(provenance);
}

/// The colour of IMD decile 1 (most deprived) to 10 (least), from the colour-blind-safe
/// viridis scale reversed, so that darker means more deprived.
pub fn imd_decile_color(decile: i32) -> Color32 {
    const VIRIDIS_10: [[u8; 3]; 10] = [
        [68, 1, 84],
        [72, 40, 120],
        [62, 73, 137],
        [49, 104, 142],
        [38, 130, 142],
        [31, 158, 137],
        [53, 183, 121],
        [109, 205, 89],
        [180, 222, 44],
        [253, 231, 37],
    ];
    let [r, g, b] = VIRIDIS_10[(decile.clamp(1, 10) - 1) as usize];
    Color32::from_rgb(r, g, b)
}

/// A section heading with a line of explanation under it.
pub fn section_heading_ui(ui: &mut egui::Ui, title: &str, explanation: &str) {
    ui.add_space(6.0);
    ui.label(RichText::new(title).size(17.0).strong());
    if !explanation.is_empty() {
        ui.label(RichText::new(explanation).weak());
    }
    ui.add_space(4.0);
}

/// A qualitative palette (Okabe–Ito, colour-blind safe, lightened for chip
/// backgrounds) for telling criteria apart; it repeats after eight.
const CHIP_FILLS: [[u8; 3]; 8] = [
    [255, 224, 178],
    [197, 225, 245],
    [200, 236, 214],
    [250, 245, 190],
    [196, 214, 237],
    [246, 211, 190],
    [233, 210, 228],
    [225, 225, 225],
];

/// A small rounded label: a criterion met, an agency, a decision. A single widget
/// (not a frame around a label), so wrapping layouts move it whole to the next line.
pub fn chip_ui(ui: &mut egui::Ui, text: &str, index: usize) -> egui::Response {
    let [r, g, b] = CHIP_FILLS[index % CHIP_FILLS.len()];
    ui.add(
        egui::Button::new(RichText::new(text).small().color(Color32::from_gray(30)))
            .fill(Color32::from_rgb(r, g, b))
            .stroke(egui::Stroke::NONE)
            .corner_radius(8.0)
            .sense(egui::Sense::hover()),
    )
}

/// A plot axis formatter that labels whole-number positions with `names` (one
/// category, lane or bar per integer) and leaves every other mark blank.
pub fn category_axis_formatter(
    names: Vec<String>,
) -> impl Fn(egui_plot::GridMark, &std::ops::RangeInclusive<f64>) -> String {
    move |mark, _| {
        let index = mark.value.round();
        if (mark.value - index).abs() < 1e-6 && index >= 0.0 {
            names.get(index as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }
}

/// The headings of an outcomes table by first decision, as the Round table and
/// Results show it.
pub const OUTCOME_HEADINGS: [&str; 8] = [
    "First decision",
    "Families",
    "Followed up",
    "Problems then",
    "Resolved",
    "Continuing",
    "New",
    "Escalated",
];

#[cfg(test)]
mod tests {
    /// The symbols the views draw: egui's built-in fonts lack many (→, ✔, ⚑), and a
    /// missing glyph draws as a box or, under a strict font policy, panics.
    const SYMBOLS: &str = "›•·–…";

    #[test]
    fn the_views_symbols_have_glyphs() {
        let ctx = egui::Context::default();
        let _ = ctx.run_ui(egui::RawInput::default(), |_| {});
        let font = egui::FontId::proportional(14.0);
        let missing: String = SYMBOLS
            .chars()
            .filter(|&c| !ctx.fonts_mut(|fonts| fonts.has_glyph(&font, c)))
            .collect();
        assert!(missing.is_empty(), "no glyph for {missing:?}");
    }
}
