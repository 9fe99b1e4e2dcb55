//! Small widgets shared by several views.

use egui::{Color32, RichText};

/// A headline figure: a big number over its label, with a hover note saying where it comes from.
pub fn metric_card_ui(ui: &mut egui::Ui, value: &str, label: &str, provenance: &str) {
    egui::Frame::group(ui.style())
        .fill(ui.visuals().faint_bg_color)
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(14, 10))
        .show(ui, |ui| {
            ui.set_min_width(130.0);
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
