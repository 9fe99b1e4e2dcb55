//! Overview: the county at a glance — what has been loaded from which agencies,
//! and how the county's neighbourhoods spread over the deprivation deciles.

use egui::RichText;
use egui_plot::{Bar, BarChart, Plot};

use super::desk::{Desk, Screen, waiting_ui};
use super::widgets::{Metric, imd_decile_color, metric_cards_ui, section_heading_ui};
use crate::format::thousands;
use crate::ingest::manifest::AgencyKind;
use crate::report::overview::OverviewFigures;

/// Reads what the Overview shows (the title and status bars show its county
/// and last load too, so every role reads it).
pub fn read(conn: &duckdb::Connection) -> anyhow::Result<OverviewFigures> {
    Ok(crate::report::overview::read_overview(conn)?)
}

/// The Overview keeps nothing between frames: it draws its part.
#[derive(Debug, Default)]
pub struct OverviewView;

impl Screen for OverviewView {
    fn ui(&mut self, ui: &mut egui::Ui, desk: &mut Desk<'_>) {
        match &desk.figures.overview {
            Some(figures) => overview_ui(ui, figures),
            None => waiting_ui(ui),
        }
    }
}

/// Draws the Overview.
pub fn overview_ui(ui: &mut egui::Ui, figures: &OverviewFigures) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.label(RichText::new(&figures.county).size(22.0).strong());
        let when = match (&figures.extract_date, &figures.loaded_at) {
            (Some(extract), Some(loaded)) => format!("Extracts of {extract}, loaded {loaded}"),
            (None, Some(loaded)) => format!("Loaded {loaded}"),
            _ => "Nothing loaded yet: import extracts on the Data view".to_string(),
        };
        ui.label(RichText::new(when).weak());
        ui.add_space(10.0);
        cards_ui(ui, figures);
        ui.add_space(12.0);
        ui.columns(2, |columns| {
            records_chart_ui(&mut columns[0], figures);
            deciles_chart_ui(&mut columns[1], figures);
        });
    });
}

fn cards_ui(ui: &mut egui::Ui, figures: &OverviewFigures) {
    let loaded = figures
        .loaded_at
        .as_deref()
        .map(|at| format!(" Latest load: {at}."))
        .unwrap_or_default();
    let linked = |value: Option<i64>| {
        value
            .map(thousands)
            .unwrap_or_else(|| "not linked".to_string())
    };
    let metrics = [
        Metric {
            value: thousands(figures.person_records),
            label: "person records",
            provenance: format!("Distinct record identifiers summed over the {} sources; one person known to several agencies counts once per agency until linkage.{loaded}", figures.sources),
        },
        Metric {
            value: linked(figures.people),
            label: "people",
            provenance: match figures.people {
                Some(_) => "Distinct people after record linkage (core.person): records of the same person in different systems count once.".to_string(),
                None => "Distinct people after record linkage (core.person). Linkage has not run on this database yet: `zonewise link`.".to_string(),
            },
        },
        Metric {
            value: linked(figures.families),
            label: "families",
            provenance: match figures.families {
                Some(_) => "Households of linked people (core.family), grouped by shared household references and addresses.".to_string(),
                None => "Households of linked people (core.family). Linkage has not run on this database yet: `zonewise link`.".to_string(),
            },
        },
        Metric {
            value: thousands(figures.rows),
            label: "events and records",
            provenance: format!("Rows over all source extracts.{loaded}"),
        },
        Metric {
            value: figures.sources.to_string(),
            label: "sources",
            provenance: "Agency extracts loaded (app.source).".to_string(),
        },
        Metric {
            value: figures.zones.to_string(),
            label: "zones",
            provenance: format!(
                "Family partnership zones (ref.zone) across {} authorities.",
                figures.authorities
            ),
        },
        Metric {
            value: thousands(figures.lsoas),
            label: "neighbourhoods",
            provenance: "Lower layer Super Output Areas 2011 (ref.lsoa), with IMD 2019 from MHCLG.".to_string(),
        },
    ];
    metric_cards_ui(ui, &metrics);
}

fn records_chart_ui(ui: &mut egui::Ui, figures: &OverviewFigures) {
    section_heading_ui(
        ui,
        "Person records by source",
        "Records each agency system holds (bars), before linkage",
    );
    let names: Vec<String> = figures
        .per_source
        .iter()
        .map(|s| source_label(&s.name, &s.agency))
        .collect();
    let bars = figures
        .per_source
        .iter()
        .enumerate()
        .map(|(i, source)| {
            Bar::new(i as f64, source.records as f64)
                .name(format!(
                    "{}\n{} person records, {} rows",
                    names[i],
                    thousands(source.records),
                    thousands(source.rows)
                ))
                .width(0.7)
        })
        .collect();
    let chart = BarChart::new("Person records", bars)
        .horizontal()
        .color(egui::Color32::from_rgb(49, 104, 142))
        .element_formatter(Box::new(|bar, _| bar.name.clone()));
    let labels = names.clone();
    let max = figures
        .per_source
        .iter()
        .map(|s| s.records)
        .max()
        .unwrap_or(1) as f64;
    let value_labels: Vec<egui_plot::Text> = figures
        .per_source
        .iter()
        .enumerate()
        .map(|(i, source)| {
            egui_plot::Text::new(
                source.name.as_str(),
                egui_plot::PlotPoint::new(source.records as f64 + max * 0.02, i as f64),
                RichText::new(thousands(source.records)).size(13.0),
            )
            .anchor(egui::Align2::LEFT_CENTER)
        })
        .collect();
    Plot::new("records_by_source")
        .height(280.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .show_grid([true, false])
        .y_axis_min_width(150.0)
        .y_grid_spacer(move |_| {
            (0..labels.len())
                .map(|i| egui_plot::GridMark {
                    value: i as f64,
                    step_size: 1.0,
                })
                .collect()
        })
        .y_axis_formatter(super::widgets::category_axis_formatter(names))
        .show_axes([false, true])
        .show_x(false)
        .show_y(false)
        .include_x(0.0)
        .include_x(max * 1.2)
        .show(ui, |plot| {
            plot.bar_chart(chart);
            for label in value_labels {
                plot.text(label);
            }
        });
}

fn deciles_chart_ui(ui: &mut egui::Ui, figures: &OverviewFigures) {
    section_heading_ui(
        ui,
        "Neighbourhoods by deprivation",
        "LSOAs per IMD 2019 decile (1 = most deprived 10% of England)",
    );
    let bars = figures
        .per_decile
        .iter()
        .map(|d| {
            Bar::new(d.decile as f64, d.lsoas as f64)
                .name(format!(
                    "Decile {}: {} LSOAs, {} children aged 0–17",
                    d.decile,
                    d.lsoas,
                    thousands(d.population_0_17)
                ))
                .fill(imd_decile_color(d.decile))
                .width(0.8)
        })
        .collect();
    let chart = BarChart::new("LSOAs", bars).element_formatter(Box::new(|bar, _| bar.name.clone()));
    Plot::new("lsoas_by_decile")
        .height(280.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .x_grid_spacer(|_| {
            (1..=10)
                .map(|d| egui_plot::GridMark {
                    value: d as f64,
                    step_size: 1.0,
                })
                .collect()
        })
        // Deciles sit closer together than egui_plot's default label spacing allows.
        .custom_x_axes(vec![
            egui_plot::AxisHints::new_x()
                .label("IMD decile (1 = most deprived)")
                .label_spacing(20.0..=30.0)
                .formatter(|mark, _| format!("{}", mark.value.round() as i64)),
        ])
        .show_x(false)
        .show_y(false)
        .y_axis_label("LSOAs")
        .include_y(0.0)
        .show(ui, |plot| plot.bar_chart(chart));
}

/// "education" + agency key → "Education: education", or just the agency when they match.
fn source_label(name: &str, agency: &str) -> String {
    let agency_label = AgencyKind::label_of(agency);
    if name == agency {
        agency_label.to_string()
    } else {
        format!("{agency_label} ({name})")
    }
}
