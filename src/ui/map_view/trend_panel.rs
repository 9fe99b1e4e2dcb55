//! Beside the map, under the decile chart: is the gap closing? The rate in the
//! most and least deprived fifths and the county at each published period end
//! as a chart, the board sentence with its test of change, and the figures as a
//! table. The trend is worked out on the job queue ([`super::MapAction::LoadTrend`])
//! from each period end's published figures, so it holds only suppressed counts.

use chrono::Datelike;
use egui::{Color32, RichText};
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use super::super::widgets::section_heading_ui;
use super::{MapAction, MapState};
use crate::report::map::ServiceFigures;
use crate::uptake::Measure;
use crate::uptake::trend::{Trend, TrendPeriod};

/// The period end as a year with its fraction, for the chart's x axis.
fn year_of(period: &TrendPeriod) -> f64 {
    f64::from(period.date.year()) + f64::from(period.date.ordinal0()) / 365.25
}

/// Draws `service`'s trend of `measure`, asking for it when it has not been
/// worked out yet.
pub(super) fn trend_ui(
    ui: &mut egui::Ui,
    service: &ServiceFigures,
    measure: Measure,
    state: &mut MapState,
) {
    section_heading_ui(
        ui,
        &format!("{} {}: is the gap closing?", service.title, measure.label()),
        "The rate in the most and least deprived fifths (IMD quintiles 1 and 5) and the county at each published period end, each suppressed as published for that day.",
    );
    let trend = match state.trends.get(&service.name) {
        Some(Ok(trend)) => trend,
        Some(Err(error)) => {
            ui.colored_label(ui.visuals().warn_fg_color, format!("No trend: {error}"));
            return;
        }
        None => {
            if matches!(state.action, MapAction::None) {
                state.action = MapAction::LoadTrend(service.name.clone());
            }
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Working out the figures at each quarter end…");
            });
            return;
        }
    };
    let Some(at) = trend.sentences.iter().position(|s| s.measure == measure) else {
        return;
    };
    trend_chart_ui(ui, trend, at, measure);
    ui.label(RichText::new(&trend.sentences[at].sentence).strong());
    trend_table_ui(ui, trend, at, measure);
}

fn trend_chart_ui(ui: &mut egui::Ui, trend: &Trend, at: usize, measure: Measure) {
    let series = |pick: &dyn Fn(&TrendPeriod) -> Option<f64>| -> Vec<[f64; 2]> {
        trend
            .periods
            .iter()
            .filter_map(|p| Some([year_of(p), pick(p)? * 100.0]))
            .collect()
    };
    let most = series(&|p| p.gaps.get(at)?.most_deprived);
    let least = series(&|p| p.gaps.get(at)?.least_deprived);
    let county = series(&|p| {
        Some(
            match measure {
                Measure::Coverage => p.county.coverage,
                Measure::Uptake => p.county.uptake,
            }?
            .value,
        )
    });
    let lines = [
        ("Most deprived fifth", most, Color32::from_rgb(202, 0, 32)),
        ("County", county, Color32::from_gray(90)),
        (
            "Least deprived fifth",
            least,
            Color32::from_rgb(5, 113, 176),
        ),
    ];
    Plot::new("uptake_trend")
        .height(200.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .include_y(0.0)
        .legend(Legend::default())
        .x_axis_label("Period end")
        .y_axis_label("%")
        .x_axis_formatter(|mark, _| format!("{:.0}", mark.value.floor()))
        .show(ui, |plot| {
            for (name, points, colour) in lines {
                plot.line(
                    Line::new(name, PlotPoints::from(points.clone()))
                        .color(colour)
                        .width(2.0),
                );
                plot.points(
                    Points::new(name, PlotPoints::from(points))
                        .color(colour)
                        .radius(3.0),
                );
            }
        });
}

fn trend_table_ui(ui: &mut egui::Ui, trend: &Trend, at: usize, measure: Measure) {
    let percent = |value: Option<f64>| {
        value.map_or("suppressed".to_string(), |v| format!("{:.1}%", v * 100.0))
    };
    let points = |value: Option<f64>| {
        value.map_or("suppressed".to_string(), |v| format!("{:+.1}", v * 100.0))
    };
    egui::CollapsingHeader::new("The trend as a table")
        .id_salt("uptake_trend_table")
        .show(ui, |ui| {
            egui::Grid::new("uptake_trend_grid")
                .striped(true)
                .num_columns(6)
                .show(ui, |ui| {
                    for heading in [
                        "Period end",
                        "County",
                        "Most deprived fifth",
                        "Least deprived fifth",
                        "Gap (points)",
                        "SII (points, 95% CI)",
                    ] {
                        ui.label(RichText::new(heading).strong());
                    }
                    ui.end_row();
                    for period in trend.periods.iter().rev() {
                        let gap = period.gaps.get(at);
                        let county = match measure {
                            Measure::Coverage => period.county.coverage,
                            Measure::Uptake => period.county.uptake,
                        };
                        ui.label(format!("{} ({})", period.date, period.label));
                        ui.label(percent(county.map(|r| r.value)));
                        ui.label(percent(gap.and_then(|g| g.most_deprived)));
                        ui.label(percent(gap.and_then(|g| g.least_deprived)));
                        ui.label(points(gap.and_then(|g| g.gap)));
                        let inequality = period.inequality.get(at);
                        ui.label(
                            match inequality.map(|i| (i.sii, i.sii_lower, i.sii_upper)) {
                                Some((Some(s), Some(l), Some(u))) => format!(
                                    "{:+.1} ({:+.1} to {:+.1})",
                                    s * 100.0,
                                    l * 100.0,
                                    u * 100.0
                                ),
                                Some((Some(s), _, _)) => format!("{:+.1}", s * 100.0),
                                _ => "withheld".to_string(),
                            },
                        );
                        ui.end_row();
                    }
                });
            ui.label(RichText::new(trend.note()).weak().small());
        });
}
