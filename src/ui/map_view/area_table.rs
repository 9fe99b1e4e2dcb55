//! The areas beside the map as a table: zones, wards, authorities or LSOAs with their
//! counts and the mapped rate, sorted by name or by rate. Picking a zone or
//! authority fades the rest of the map and marks its rate on the decile chart;
//! picking an LSOA selects it on the map, and an LSOA clicked on the map marks the
//! row that holds it. Each area's rate is marked better, similar or worse than
//! the county's and a comparator's (`uptake::compare`): another authority in the
//! database (its published rate) or a rate the user types, such as England's.
//! Only suppressed figures reach it, as everywhere on this view.

use egui::RichText;

use super::colouring::{NeedView, rate_of};
use super::side_panel::rate_text;
use super::{AreaSelection, MapState};
use crate::report::map::{MapFigures, ServiceFigures};
use crate::uptake::compare::{Comparison, compare};
use crate::uptake::{Level, Measure, UptakeRow, UptakeTables};

/// Width of the need view's class column, before the rate: what that view is about.
const NEED_WIDTH: f32 = 230.0;

/// The row of the picked area in `tables`.
pub(super) fn area_row<'a>(
    tables: &'a UptakeTables,
    selection: &AreaSelection,
) -> Option<&'a UptakeRow> {
    area_rows(tables, selection.level)
        .iter()
        .find(|r| r.code == selection.code)
}

/// The rows the table lists at `level`.
fn area_rows(tables: &UptakeTables, level: Level) -> &[UptakeRow] {
    match level {
        Level::Authority => &tables.authorities,
        Level::Ward => &tables.wards,
        Level::Lsoa => &tables.lsoas,
        _ => &tables.zones,
    }
}

/// Rows in display order: by name, or by the mapped rate (highest first, areas
/// without a rate last).
pub fn sorted_rows(rows: &[UptakeRow], measure: Measure, by_rate: bool) -> Vec<&UptakeRow> {
    let mut sorted: Vec<&UptakeRow> = rows.iter().collect();
    if by_rate {
        sorted.sort_by(|a, b| {
            let rate = |r: &UptakeRow| rate_of(r, measure).map(|r| r.value);
            match (rate(a), rate(b)) {
                (Some(x), Some(y)) => y.total_cmp(&x),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => a.name.cmp(&b.name),
            }
        });
    } else {
        sorted.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.code.cmp(&b.code)));
    }
    sorted
}

/// What each area is compared with besides the county.
#[derive(Debug, Clone, PartialEq)]
pub struct Benchmark {
    /// Who it is, as the note under the tabs names it ("Dorset", "the rate typed").
    pub name: String,
    /// The column heading's word ("Dorset", "typed").
    pub short: String,
    /// The rate, or `None` when the authority's rate is withheld.
    pub rate: Option<f64>,
}

/// The comparator chosen: another authority's rate from the same published
/// tables (so nothing withheld is used; a withheld rate compares with nothing),
/// else the rate typed, else none.
pub fn benchmark(tables: &UptakeTables, measure: Measure, state: &MapState) -> Option<Benchmark> {
    match &state.comparator_authority {
        Some(code) => {
            let row = tables.authorities.iter().find(|r| &r.code == code)?;
            Some(Benchmark {
                name: row.name.clone(),
                short: row.name.clone(),
                rate: rate_of(row, measure).map(|r| r.value),
            })
        }
        None => state.comparator.map(|rate| Benchmark {
            name: "the rate typed".to_string(),
            short: "typed".to_string(),
            rate: Some(rate),
        }),
    }
}

/// "Compare with": a rate typed (England's, say) or, when the database holds
/// more than one authority, one of them.
fn comparator_choice_ui(ui: &mut egui::Ui, tables: &UptakeTables, state: &mut MapState) {
    if tables.authorities.len() > 1 {
        let chosen = state
            .comparator_authority
            .as_ref()
            .and_then(|code| tables.authorities.iter().find(|r| &r.code == code))
            .map_or("a rate typed".to_string(), |r| r.name.clone());
        egui::ComboBox::from_id_salt("comparator")
            .selected_text(chosen)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut state.comparator_authority, None, "a rate typed");
                for authority in &tables.authorities {
                    ui.selectable_value(
                        &mut state.comparator_authority,
                        Some(authority.code.clone()),
                        &authority.name,
                    );
                }
            });
    }
    if state.comparator_authority.is_none() {
        let edit = ui.add(
            egui::TextEdit::singleline(&mut state.comparator_text)
                .desired_width(80.0)
                .hint_text("England %"),
        );
        if edit.changed() {
            state.comparator = state
                .comparator_text
                .trim()
                .trim_end_matches('%')
                .parse::<f64>()
                .ok()
                .filter(|v| (0.0..=100.0).contains(v))
                .map(|v| v / 100.0);
        }
        edit.on_hover_text(
            "A rate to compare each area with, such as England's from Fingertips, in %",
        );
    }
}

/// The table's section: level tabs, sort order, the rows, and what is picked.
pub(super) fn area_table_ui(
    ui: &mut egui::Ui,
    figures: &MapFigures,
    service: &ServiceFigures,
    measure: Measure,
    need: Option<&NeedView>,
    state: &mut MapState,
) {
    let tables = service.published.tables();
    // The need view's classes, when the table lists the areas mapped.
    let need = need.filter(|need| need.level == state.area_level);
    ui.label(RichText::new("By area").size(15.0).strong());
    ui.horizontal(|ui| {
        for (level, label) in [
            (Level::Zone, "Zones"),
            (Level::Ward, "Wards"),
            (Level::Authority, "Authorities"),
            (Level::Lsoa, "LSOAs"),
        ] {
            if level != Level::Ward || !tables.wards.is_empty() {
                ui.selectable_value(&mut state.area_level, level, label);
            }
        }
        ui.add_space(12.0);
        ui.label("Sort by");
        ui.selectable_value(&mut state.sort_by_rate, false, "name");
        ui.selectable_value(&mut state.sort_by_rate, true, "rate");
    });
    // On a row of its own: beside the tabs it ran off a 1280-point window.
    ui.horizontal(|ui| {
        ui.label("Compare with");
        comparator_choice_ui(ui, tables, state);
    });
    let county_rate = rate_of(&tables.county, measure).map(|r| r.value);
    let comparator = benchmark(tables, measure, state);
    ui.label(
        RichText::new(format!(
            "Better, similar or worse: whether the area's 95% interval lies above, includes or lies below the county's rate{}{}.",
            county_rate.map_or(String::new(), |r| format!(" ({:.1}%)", r * 100.0)),
            match &comparator {
                Some(Benchmark { name, rate: Some(rate), .. }) =>
                    format!(" and {name}'s ({:.1}%)", rate * 100.0),
                Some(Benchmark { name, rate: None, .. }) =>
                    format!("; {name}'s rate is withheld, so nothing is compared with it"),
                None => String::new(),
            }
        ))
        .weak()
        .small(),
    );
    let level = state.area_level;
    let rows = sorted_rows(area_rows(tables, level), measure, state.sort_by_rate);
    // The row holding the LSOA selected on the map.
    let holding = state.selected.map(|index| {
        let shape = &figures.shapes[index];
        match level {
            Level::Authority => shape.la_code.clone(),
            Level::Ward => shape.ward_code.clone().unwrap_or_default(),
            Level::Lsoa => shape.code.clone(),
            _ => shape.zone_id.clone().unwrap_or_default(),
        }
    });
    let row_height = ui.spacing().interact_size.y;
    let widths = [190.0, 70.0, 70.0];
    let (left, right) = (
        egui::Layout::left_to_right(egui::Align::Center),
        egui::Layout::right_to_left(egui::Align::Center),
    );
    // A fixed-width cell, so that rows drawn one by one line up in columns.
    let cell = |ui: &mut egui::Ui,
                width: f32,
                layout: egui::Layout,
                add: &mut dyn FnMut(&mut egui::Ui)| {
        ui.allocate_ui_with_layout(egui::vec2(width, row_height), layout, |ui| {
            ui.set_width(width);
            add(ui);
        });
    };
    ui.horizontal(|ui| {
        let strong = |text: &str| egui::Label::new(RichText::new(text).strong());
        cell(ui, widths[0], left, &mut |ui| {
            ui.add(strong("Area"));
        });
        cell(ui, widths[1], right, &mut |ui| {
            ui.add(strong("Eligible"));
        });
        cell(ui, widths[2], right, &mut |ui| {
            ui.add(strong("Attended"));
        });
        if let Some(need) = need {
            ui.add_space(8.0);
            cell(ui, NEED_WIDTH, left, &mut |ui| {
                ui.add(strong(&format!("Need beside {}", need.measure.label())));
            });
        }
        ui.add_space(8.0);
        let measure = measure.label();
        let mut heading = measure[..1].to_uppercase();
        heading.push_str(&measure[1..]);
        cell(ui, 250.0, left, &mut |ui| {
            ui.add(strong(&format!("{heading} (95% CI)")));
        });
        ui.add(strong("vs county"));
        if let Some(comparator) = &comparator {
            ui.add_space(8.0);
            ui.add(strong(&format!("vs {}", comparator.short)));
        }
    });
    let comparator = comparator.map(|c| c.rate);
    let mark = |ui: &mut egui::Ui, rate: Option<crate::uptake::Rate>, benchmark: Option<f64>| {
        let (text, colour) = match (rate, benchmark) {
            (Some(rate), Some(benchmark)) => {
                let comparison = compare(rate, benchmark);
                let colour = match comparison {
                    Comparison::Better => egui::Color32::from_rgb(5, 113, 176),
                    Comparison::Similar => ui.visuals().text_color(),
                    Comparison::Worse => egui::Color32::from_rgb(202, 0, 32),
                };
                (comparison.label(), colour)
            }
            _ => ("—", ui.visuals().weak_text_color()),
        };
        cell(ui, 64.0, left, &mut |ui| {
            ui.label(RichText::new(text).color(colour));
        });
    };
    let mut scroll = egui::ScrollArea::vertical()
        .id_salt(("area_table", level))
        .max_height(240.0)
        .auto_shrink([false, true]);
    // Follow a selection made on the map (or in another list).
    let follow = state.selected.map(|index| (index, level));
    if state.table_follows != follow {
        state.table_follows = follow;
        if let Some(code) = &holding
            && let Some(position) = rows.iter().position(|r| r.code == *code)
        {
            scroll = scroll.vertical_scroll_offset(position as f32 * row_height);
        }
    }
    let count = |value: Option<u64>, withheld: bool| match (value, withheld) {
        (_, true) => "suppressed".to_string(),
        (Some(v), false) => crate::format::thousands(v as i64),
        (None, false) => "—".to_string(),
    };
    let mut clicked = None;
    scroll.show_rows(ui, row_height, rows.len(), |ui, range| {
        for row in &rows[range] {
            ui.horizontal(|ui| {
                let holds = holding.as_deref() == Some(row.code.as_str());
                let picked = state
                    .selected_area
                    .as_ref()
                    .is_some_and(|a| a.level == level && a.code == row.code)
                    || (level == Level::Lsoa && holds);
                let name = if holds && level != Level::Lsoa {
                    format!("» {}", row.name)
                } else {
                    row.name.clone()
                };
                cell(ui, widths[0], left, &mut |ui| {
                    if ui
                        .add(egui::Button::selectable(picked, name.as_str()).truncate())
                        .on_hover_text(format!("{} ({})", row.name, row.code))
                        .clicked()
                    {
                        clicked = Some((*row).clone());
                    }
                });
                cell(ui, widths[1], right, &mut |ui| {
                    ui.label(count(row.eligible, row.withheld.eligible));
                });
                cell(ui, widths[2], right, &mut |ui| {
                    ui.label(count(row.attended, row.withheld.attended));
                });
                if let Some(class) = need.and_then(|need| need.describe(level, row)) {
                    ui.add_space(8.0);
                    cell(ui, NEED_WIDTH, left, &mut |ui| {
                        ui.label(class.as_str());
                    });
                }
                ui.add_space(8.0);
                let rate = rate_of(row, measure);
                cell(ui, 250.0, left, &mut |ui| {
                    ui.label(match rate {
                        Some(rate) => rate_text(rate),
                        None if row.withheld.any() => "suppressed".to_string(),
                        None => "—".to_string(),
                    });
                });
                mark(ui, rate, county_rate);
                if let Some(benchmark) = comparator {
                    ui.add_space(8.0);
                    mark(ui, rate, benchmark);
                }
            });
        }
    });
    if let Some(row) = clicked {
        pick(figures, level, &row, state);
    }
    if let Some(area) = state.selected_area.clone() {
        ui.horizontal(|ui| {
            ui.label(format!("Picked out on the map: {}", area.name));
            if ui.small_button("Zoom to it").clicked() {
                state.zoom_to = match area.level {
                    Level::Authority => format!("la:{}", area.code),
                    Level::Ward => format!("ward:{}", area.code),
                    _ => format!("zone:{}", area.code),
                };
                state.camera = None;
            }
            if ui.small_button("Show all").clicked() {
                state.selected_area = None;
            }
        });
        spine_chart_ui(ui, figures, &area);
    }
}

/// The picked area against the county across every service and measure: the
/// area's rate as a dot with its 95% interval, the county's as a diamond, one
/// line each, coloured by the mark (better, similar, worse than the county).
fn spine_chart_ui(ui: &mut egui::Ui, figures: &MapFigures, area: &AreaSelection) {
    use egui_plot::{Line, MarkerShape, Plot, PlotPoints, Points};
    let mut lines = Vec::new();
    for service in &figures.services {
        let tables = service.published.tables();
        let measures: &[Measure] = if tables.has_invited {
            &[Measure::Coverage, Measure::Uptake]
        } else {
            &[Measure::Coverage]
        };
        for &measure in measures {
            let rate = area_row(tables, area).and_then(|row| rate_of(row, measure));
            let county = rate_of(&tables.county, measure);
            lines.push((
                format!("{} {}", service.title, measure.label()),
                rate,
                county,
            ));
        }
    }
    if lines.is_empty() {
        return;
    }
    let labels: Vec<String> = lines.iter().map(|(label, ..)| label.clone()).collect();
    Plot::new(("area_spine", area.code.as_str()))
        .height(40.0 + 34.0 * lines.len() as f32)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .include_x(0.0)
        .include_x(100.0)
        .include_y(-0.6)
        .include_y(lines.len() as f64 - 0.4)
        .x_axis_label(format!(
            "% ({}: dot and 95% CI; county: diamond)",
            area.name
        ))
        .y_axis_formatter(move |mark, _| {
            let at = mark.value.round();
            if (mark.value - at).abs() < 1e-6 && at >= 0.0 {
                labels.get(at as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 1.0, 1.0]))
        .show(ui, |plot| {
            for (at, (label, rate, county)) in lines.iter().enumerate() {
                let y = at as f64;
                if let Some(county) = county {
                    plot.points(
                        Points::new(format!("county {label}"), vec![[county.value * 100.0, y]])
                            .shape(MarkerShape::Diamond)
                            .radius(6.0)
                            .color(egui::Color32::from_gray(40)),
                    );
                }
                let Some(rate) = rate else { continue };
                let colour = match county.map(|c| compare(*rate, c.value)) {
                    Some(Comparison::Better) => egui::Color32::from_rgb(5, 113, 176),
                    Some(Comparison::Worse) => egui::Color32::from_rgb(202, 0, 32),
                    _ => egui::Color32::from_gray(120),
                };
                plot.line(
                    Line::new(
                        format!("ci {label}"),
                        PlotPoints::from(vec![[rate.lower * 100.0, y], [rate.upper * 100.0, y]]),
                    )
                    .color(colour)
                    .width(2.0),
                );
                plot.points(
                    Points::new(label.as_str(), vec![[rate.value * 100.0, y]])
                        .shape(MarkerShape::Circle)
                        .radius(5.0)
                        .color(colour),
                );
            }
        });
}

/// A click on a row: an LSOA is selected on the map, a zone or authority is
/// picked out (a second click puts it back).
fn pick(figures: &MapFigures, level: Level, row: &UptakeRow, state: &mut MapState) {
    if level == Level::Lsoa {
        let index = figures.shapes.iter().position(|s| s.code == row.code);
        state.selected = if state.selected == index { None } else { index };
        // The table need not scroll to a row the user just clicked.
        state.table_follows = state.selected.map(|index| (index, level));
        return;
    }
    let same = state
        .selected_area
        .as_ref()
        .is_some_and(|a| a.level == level && a.code == row.code);
    state.selected_area = (!same).then(|| AreaSelection {
        level,
        code: row.code.clone(),
        name: row.name.clone(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uptake::{Rate, Withheld};

    fn row(code: &str, name: &str, coverage: Option<f64>) -> UptakeRow {
        UptakeRow {
            level: Level::Zone,
            code: code.to_string(),
            name: name.to_string(),
            imd_decile: None,
            imd_quintile: None,
            la_code: None,
            zone_id: None,
            ward_code: None,
            lsoas: 1,
            eligible: Some(100),
            invited: None,
            attended: coverage.map(|c| (c * 100.0) as u64),
            coverage: coverage.map(|value| Rate {
                value,
                lower: value,
                upper: value,
            }),
            uptake: None,
            withheld: Withheld::default(),
        }
    }

    #[test]
    fn rows_sort_by_name_or_by_rate_with_unknown_rates_last() {
        let rows = vec![
            row("z1", "Coastal", Some(0.30)),
            row("z2", "Abbey", None),
            row("z3", "Bridge", Some(0.55)),
            row("z4", "Dale", Some(0.41)),
        ];
        let names = |sorted: Vec<&UptakeRow>| -> Vec<String> {
            sorted.into_iter().map(|r| r.name.clone()).collect()
        };
        assert_eq!(
            names(sorted_rows(&rows, Measure::Coverage, false)),
            ["Abbey", "Bridge", "Coastal", "Dale"]
        );
        assert_eq!(
            names(sorted_rows(&rows, Measure::Coverage, true)),
            ["Bridge", "Dale", "Coastal", "Abbey"]
        );
    }

    /// Two authorities, one with a published coverage of 41% and one whose
    /// count is withheld. Choosing the first compares with its published rate
    /// (and an area above its interval is better); choosing the second compares
    /// with nothing; with no authority chosen, the rate typed is the comparator.
    #[test]
    fn another_authority_is_compared_by_its_published_rate_and_a_withheld_one_by_none() {
        let authority = |code: &str, name: &str, coverage: Option<f64>| {
            let mut r = row(code, name, coverage);
            r.level = Level::Authority;
            if coverage.is_none() {
                r.withheld.attended = true;
            }
            r
        };
        let county = row("all", "County", Some(0.5));
        let tables = UptakeTables {
            service: "s".into(),
            title: "S".into(),
            description: String::new(),
            reference_date: chrono::NaiveDate::from_ymd_opt(2026, 4, 1).expect("date"),
            has_invited: false,
            lsoas: Vec::new(),
            deciles: Vec::new(),
            quintiles: Vec::new(),
            zones: Vec::new(),
            wards: Vec::new(),
            authorities: vec![
                authority("E1", "Dorset", Some(0.41)),
                authority("E2", "Poole", None),
            ],
            county,
            eligible_without_lsoa: None,
            inequality: Vec::new(),
            notes: Vec::new(),
            source: String::new(),
        };
        let mut state = MapState {
            comparator_authority: Some("E1".into()),
            comparator: Some(0.9),
            ..MapState::default()
        };
        let chosen = benchmark(&tables, Measure::Coverage, &state).expect("Dorset");
        assert_eq!((chosen.name.as_str(), chosen.rate), ("Dorset", Some(0.41)));
        let area = Rate {
            value: 0.6,
            lower: 0.5,
            upper: 0.7,
        };
        assert_eq!(
            compare(area, chosen.rate.expect("rate")),
            Comparison::Better
        );
        state.comparator_authority = Some("E2".into());
        let withheld = benchmark(&tables, Measure::Coverage, &state).expect("Poole");
        assert_eq!(withheld.rate, None, "a withheld rate is never a benchmark");
        state.comparator_authority = None;
        let typed = benchmark(&tables, Measure::Coverage, &state).expect("typed");
        assert_eq!(typed.rate, Some(0.9));
        state.comparator = None;
        assert!(benchmark(&tables, Measure::Coverage, &state).is_none());
    }
}
