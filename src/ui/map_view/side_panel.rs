//! Beside the map: the rate per IMD decile as a chart (CI whiskers and the SII
//! line) and a table, the board sentence, CSV export, and the selected LSOA.

use egui::{Color32, RichText};
use egui_plot::{Bar, BarChart, HLine, Line, LineStyle, Plot, PlotPoints};

use super::super::widgets::{imd_decile_color, section_heading_ui};
use super::MapState;
use super::area_table::{area_row, area_table_ui};
use super::colouring::{NeedView, level_label, rate_of};
use crate::report::map::{MapFigures, ServiceFigures};
use crate::uptake::{Level, Measure, Published, Rate, UptakeRow};

/// A rate with its interval, e.g. "41.2% (95% CI 38.0% to 44.5%)".
pub(super) fn rate_text(rate: Rate) -> String {
    format!(
        "{:.1}% (95% CI {:.1}% to {:.1}%)",
        rate.value * 100.0,
        rate.lower * 100.0,
        rate.upper * 100.0
    )
}

/// Name, decile, zone, counts and rates of one LSOA (hover tooltip and selection
/// panel), and, when the map paints a larger area's rate, that area's rate too.
pub(super) fn lsoa_summary_ui(
    ui: &mut egui::Ui,
    figures: &MapFigures,
    service: Option<&ServiceFigures>,
    index: usize,
    measure: Option<Measure>,
    map_level: Level,
    need: Option<&NeedView>,
) {
    let shape = &figures.shapes[index];
    ui.label(RichText::new(format!("{} ({})", shape.name, shape.code)).strong());
    ui.label(format!(
        "IMD decile {} · {}",
        shape.imd_decile,
        match (&shape.zone_name, &shape.zone_id) {
            (Some(name), _) => format!("zone {name}"),
            (None, Some(id)) => format!("zone {id}"),
            (None, None) => shape.la_name.clone(),
        }
    ));
    let Some(service) = service else {
        return;
    };
    if let Some(row) = service.shape_row(Level::Lsoa, index) {
        rows_ui(ui, row, measure);
    }
    if map_level != Level::Lsoa
        && let Some(measure) = measure
        && let Some(area) = service.shape_row(map_level, index)
    {
        let rate = rate_of(area, measure).map_or_else(|| "suppressed".to_string(), rate_text);
        ui.label(
            RichText::new(format!(
                "Mapped: {} {}, {} {rate}",
                level_label(map_level),
                area.name,
                measure.label().to_lowercase()
            ))
            .strong(),
        );
    }
    if let Some(need) = need
        && let Some(area) = service.shape_row(need.level, index)
        && let Some(class) = need.describe(need.level, area)
    {
        let whose = match need.level {
            Level::Lsoa => String::new(),
            level => format!(" ({} {})", level_label(level), area.name),
        };
        ui.label(
            RichText::new(format!(
                "Need beside {}: {class}{whose}",
                need.measure.label()
            ))
            .strong(),
        );
    }
}

/// Counts and both rates of one row, the mapped measure in bold.
fn rows_ui(ui: &mut egui::Ui, row: &UptakeRow, measure: Option<Measure>) {
    let count = |value: Option<u64>, withheld: bool| match (value, withheld) {
        (_, true) => "suppressed".to_string(),
        (Some(v), false) => v.to_string(),
        (None, false) => "—".to_string(),
    };
    ui.label(format!(
        "Eligible {} · invited {} · attended {}",
        count(row.eligible, row.withheld.eligible),
        count(row.invited, row.withheld.invited),
        count(row.attended, row.withheld.attended)
    ));
    for m in [Measure::Coverage, Measure::Uptake] {
        let strong = Some(m) == measure;
        let text = match rate_of(row, m) {
            Some(rate) => format!("{} {}", m.label(), rate_text(rate)),
            None if row.withheld.any() => format!("{}: suppressed", m.label()),
            None => format!("{}: —", m.label()),
        };
        ui.label(if strong {
            RichText::new(text).strong()
        } else {
            RichText::new(text)
        });
    }
}

pub(super) fn side_panel_ui(
    ui: &mut egui::Ui,
    figures: &MapFigures,
    service: Option<&ServiceFigures>,
    need: Option<&NeedView>,
    state: &mut MapState,
) {
    let Some(service) = service else {
        return;
    };
    let figure = state.is_figure();
    let published: &Published = &service.published;
    let measure = state.measure().unwrap_or(Measure::Coverage);
    section_heading_ui(
        ui,
        &format!("{} {} by IMD decile", service.title, measure.label()),
        if figure {
            "Rate with its 95% confidence interval; the line is the slope index of inequality."
        } else {
            "Rate with its 95% confidence interval; the line is the slope index of inequality. Click a decile to pick out its LSOAs."
        },
    );
    decile_chart_ui(ui, published, measure, state);
    if let Some(inequality) = published
        .tables()
        .inequality
        .iter()
        .find(|i| i.measure == measure)
    {
        ui.label(RichText::new(&inequality.sentence).strong());
        if let (Some(sii), Some(lo), Some(hi)) =
            (inequality.sii, inequality.sii_lower, inequality.sii_upper)
        {
            ui.label(format!(
                "SII {:+.1} points (95% CI {:+.1} to {:+.1}){}",
                sii * 100.0,
                lo * 100.0,
                hi * 100.0,
                match (inequality.rii, inequality.rii_lower, inequality.rii_upper) {
                    (Some(r), Some(l), Some(u)) => format!(" · RII {r:.2} ({l:.2} to {u:.2})"),
                    _ => String::new(),
                }
            ));
        }
    }
    if figure {
        return;
    }
    ui.label(RichText::new(published.note()).weak().small());
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        let exporting = state.exporting_tables;
        if ui
            .add_enabled(!exporting, egui::Button::new("Export tables (CSV)…"))
            .on_hover_text("Per LSOA, decile, area and the inequality measures, suppressed, each with its title, dates, source and suppression note")
            .clicked()
        {
            state.export_message = None;
            state.action = super::MapAction::ExportTables(Box::new(published.clone()));
        }
        if exporting {
            ui.spinner();
        }
    });
    if let Some(message) = &state.export_message {
        ui.label(message);
    }
    ui.add_space(6.0);
    if let Some(index) = state.selected {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            lsoa_summary_ui(
                ui,
                figures,
                Some(service),
                index,
                Some(measure),
                state.map_level,
                need,
            );
            if state.offers_families
                && state.layer != super::Layer::England
                && ui
                    .button("Families in this LSOA")
                    .on_hover_text("Open the Families view on this LSOA's families")
                    .clicked()
            {
                let shape = &figures.shapes[index];
                state.open_families = Some((shape.zone_id.clone(), shape.code.clone()));
            }
        });
        ui.add_space(6.0);
    }
    area_table_ui(ui, figures, service, measure, need, state);
    ui.add_space(6.0);
    decile_table_ui(ui, published, state);
    ui.add_space(6.0);
    super::trend_panel::trend_ui(ui, service, measure, state);
}

/// The decile figures as a table; clicking a decile picks out its LSOAs on the map
/// and its bar in the chart.
fn decile_table_ui(ui: &mut egui::Ui, published: &Published, state: &mut MapState) {
    let count = |value: Option<u64>, withheld: bool| match (value, withheld) {
        (_, true) => "suppressed".to_string(),
        (Some(v), false) => crate::format::thousands(v as i64),
        (None, false) => "—".to_string(),
    };
    let rate = |rate: Option<Rate>| {
        rate.map_or("—".to_string(), |r| {
            format!(
                "{:.1}% ({:.1}–{:.1})",
                r.value * 100.0,
                r.lower * 100.0,
                r.upper * 100.0
            )
        })
    };
    egui::Grid::new("uptake_decile_table")
        .striped(true)
        .num_columns(6)
        .show(ui, |ui| {
            for heading in [
                "IMD decile",
                "Eligible",
                "Invited",
                "Attended",
                "Coverage (95% CI)",
                "Uptake (95% CI)",
            ] {
                ui.label(RichText::new(heading).strong());
            }
            ui.end_row();
            for row in published
                .tables()
                .deciles
                .iter()
                .filter(|r| r.level == crate::uptake::Level::Decile)
            {
                let Some(decile) = row.imd_decile else {
                    continue;
                };
                let label = match decile {
                    1 => "1 most deprived".to_string(),
                    10 => "10 least deprived".to_string(),
                    d => d.to_string(),
                };
                let selected = state.selected_decile == Some(decile);
                if ui.selectable_label(selected, label).clicked() {
                    state.selected_decile = if selected { None } else { Some(decile) };
                }
                ui.label(count(row.eligible, row.withheld.eligible));
                ui.label(count(row.invited, row.withheld.invited));
                ui.label(count(row.attended, row.withheld.attended));
                ui.label(rate(row.coverage));
                ui.label(rate(row.uptake));
                ui.end_row();
            }
        });
}

/// Rate per decile as bars with CI whiskers, and the SII line.
fn decile_chart_ui(
    ui: &mut egui::Ui,
    published: &Published,
    measure: Measure,
    state: &mut MapState,
) {
    let deciles: Vec<&UptakeRow> = published
        .tables()
        .deciles
        .iter()
        .filter(|r| r.imd_decile.is_some() && r.level == crate::uptake::Level::Decile)
        .collect();
    let bars: Vec<Bar> = deciles
        .iter()
        .filter_map(|row| {
            let decile = row.imd_decile?;
            let rate = rate_of(row, measure)?;
            let mut fill = imd_decile_color(decile as i32);
            if state.selected_decile.is_some_and(|d| d != decile) {
                fill = fill.gamma_multiply(0.3);
            }
            Some(
                Bar::new(decile as f64, rate.value * 100.0)
                    .width(0.8)
                    .fill(fill)
                    .name(format!(
                        "decile {decile}: {:.1}% ({:.1}% to {:.1}%)",
                        rate.value * 100.0,
                        rate.lower * 100.0,
                        rate.upper * 100.0
                    )),
            )
        })
        .collect();
    let whiskers: Vec<Line> = deciles
        .iter()
        .filter_map(|row| {
            let decile = row.imd_decile? as f64;
            let rate = rate_of(row, measure)?;
            Some(
                Line::new(
                    format!("ci{decile}"),
                    PlotPoints::from(vec![
                        [decile, rate.lower * 100.0],
                        [decile, rate.upper * 100.0],
                    ]),
                )
                .color(Color32::from_gray(30))
                .width(1.5),
            )
        })
        .collect();
    // The SII line over the deciles' cumulative rank mid-points (population = eligible).
    let sii_line = published
        .tables()
        .inequality
        .iter()
        .find(|i| i.measure == measure)
        .and_then(|i| Some((i.sii?, i.mean_rate?)))
        .map(|(sii, mean)| {
            let populations: Vec<(f64, f64)> = deciles
                .iter()
                .filter_map(|r| Some((r.imd_decile? as f64, r.eligible? as f64)))
                .collect();
            let total: f64 = populations.iter().map(|p| p.1).sum::<f64>().max(1.0);
            let mut cumulative = 0.0;
            let points: Vec<[f64; 2]> = populations
                .iter()
                .map(|&(decile, population)| {
                    let mid = (cumulative + population / 2.0) / total;
                    cumulative += population;
                    [decile, (mean + sii * (mid - 0.5)) * 100.0]
                })
                .collect();
            Line::new("slope index of inequality", PlotPoints::from(points))
                .color(Color32::from_rgb(230, 97, 1))
                .width(2.0)
        });
    // The area picked in the area table, as a dashed line across the deciles.
    let area = state.selected_area.as_ref().and_then(|selection| {
        let row = area_row(published.tables(), selection)?;
        Some((selection.name.clone(), rate_of(row, measure)?))
    });
    let response = Plot::new("uptake_deciles")
        .height(230.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .show_x(false)
        .include_y(0.0)
        .x_axis_label("IMD decile (1 = most deprived)")
        .y_axis_label("%")
        .x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 1.0, 1.0]))
        .show(ui, |plot| {
            plot.bar_chart(
                BarChart::new("rate", bars).element_formatter(Box::new(|bar, _| bar.name.clone())),
            );
            for whisker in whiskers {
                plot.line(whisker);
            }
            if let Some(line) = sii_line {
                plot.line(line);
            }
            if let Some((name, rate)) = &area {
                plot.hline(
                    HLine::new(name.as_str(), rate.value * 100.0)
                        .color(Color32::from_rgb(230, 97, 1))
                        .width(1.5)
                        .style(LineStyle::dashed_loose()),
                );
            }
        });
    if let Some((name, rate)) = &area {
        ui.label(format!(
            "Dashed line: {name}, {} {}",
            measure.label().to_lowercase(),
            rate_text(*rate)
        ));
    }
    if response.response.clicked()
        && let Some(pos) = response.response.interact_pointer_pos()
    {
        let decile = response.transform.value_from_position(pos).x.round();
        if (1.0..=10.0).contains(&decile) {
            let decile = decile as u8;
            state.selected_decile = if state.selected_decile == Some(decile) {
                None
            } else {
                Some(decile)
            };
        }
    }
    if let Some(decile) = state.selected_decile {
        ui.horizontal(|ui| {
            ui.label(format!("Showing decile {decile} on the map"));
            if ui.small_button("Show all").clicked() {
                state.selected_decile = None;
            }
        });
    }
}
