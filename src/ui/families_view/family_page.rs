//! The single view of a family (members, agencies involved and since when, the
//! criteria it meets with their evidence, decisions, its path round by round,
//! and every event across agencies on one timeline), and a child's page: the same narrowed to the child.

use egui::RichText;

use super::{FamiliesAction, Scope};
use crate::report::families::FamiliesFigures;
use crate::report::families::short_name;
use crate::report::family_detail::{FamilyDetail, Member, TimelineEvent};
use crate::ui::widgets::{chip_ui, section_heading_ui};

/// The family's page, or its child's; a child's name asks the shell to open their page.
pub(super) fn family_page_ui(
    ui: &mut egui::Ui,
    figures: &FamiliesFigures,
    detail: &FamilyDetail,
    scope: &Scope,
) -> FamiliesAction {
    let mut action = FamiliesAction::None;
    let row = figures.family(&detail.family_id);
    let child = scope.child.as_deref().and_then(|id| detail.member(id));
    ui.horizontal_wrapped(|ui| {
        match child {
            Some(member) => ui.heading(member.full_name()),
            None => ui.heading(row.map_or_else(|| detail.family_id.clone(), |r| r.display_name())),
        };
        ui.label(RichText::new(&detail.family_id).monospace().weak());
        if let Some(row) = row {
            if let Some(zone) = &row.zone_id {
                ui.label(format!("· {}", figures.zone_name(zone)));
            }
            if let (Some(lsoa), Some(decile)) = (&row.lsoa_code, row.imd_decile) {
                ui.label(format!("· {lsoa}, IMD decile {decile}"));
            }
            super::family_list::score_ui(ui, row);
        }
    });
    ui.label(
        RichText::new(format!(
            "As the records stood on {}. Events from that day on are shown greyed: the flags of that date could not see them.",
            super::long_date(&detail.reference_date)
        ))
        .weak(),
    );
    ui.columns(2, |columns| {
        egui::ScrollArea::vertical().id_salt("family_facts").show(
            &mut columns[0],
            |ui| match child {
                Some(member) => child_facts_ui(ui, member, detail),
                None => {
                    if let Some(person_id) = family_facts_ui(ui, figures, detail) {
                        action = FamiliesAction::OpenChild(person_id);
                    }
                }
            },
        );
        let person = child.map(|m| m.person_id.as_str());
        timeline_ui(&mut columns[1], figures, detail, person);
    });
    action
}

/// The family's members, agencies, criteria and decisions; returns the child
/// whose name was clicked.
fn family_facts_ui(
    ui: &mut egui::Ui,
    figures: &FamiliesFigures,
    detail: &FamilyDetail,
) -> Option<String> {
    let mut opened = None;
    section_heading_ui(
        ui,
        "Members",
        "Open a child for their own records and score.",
    );
    egui::Grid::new("members_grid")
        .striped(true)
        .num_columns(4)
        .show(ui, |ui| {
            for title in ["Name", "Born", "Age", "Score"] {
                ui.label(RichText::new(title).strong());
            }
            ui.end_row();
            for member in &detail.members {
                if member.is_child() {
                    if ui.link(member.full_name()).clicked() {
                        opened = Some(member.person_id.clone());
                    }
                } else {
                    ui.label(member.full_name());
                }
                ui.label(member.birth_date.as_deref().unwrap_or("–"));
                ui.label(member.age.map_or("–".to_string(), |a| a.to_string()));
                ui.label(member.score.map_or(String::new(), |s| {
                    format!(
                        "{:.0}%{}",
                        s * 100.0,
                        if member.flagged {
                            ", above the model's threshold"
                        } else {
                            ""
                        }
                    )
                }));
                ui.end_row();
            }
        });
    section_heading_ui(
        ui,
        "Agencies involved",
        "Each agency's first and latest record of the family; counts leave out universal services.",
    );
    egui::Grid::new("involvement_grid")
        .striped(true)
        .num_columns(4)
        .show(ui, |ui| {
            for title in ["Agency", "Since", "Latest", "Records"] {
                ui.label(RichText::new(title).strong());
            }
            ui.end_row();
            for agency in &detail.involvement {
                ui.label(figures.agency_label(&agency.source));
                ui.label(&agency.since);
                ui.label(&agency.latest);
                ui.label(agency.records.to_string());
                ui.end_row();
            }
        });
    section_heading_ui(
        ui,
        "Criteria met",
        &format!(
            "{}: the rule and the events behind each.",
            figures.rule_set_title
        ),
    );
    if detail.criteria.is_empty() {
        ui.label("None on this date.");
    }
    for (index, criterion) in detail.criteria.iter().enumerate() {
        let chip = figures
            .criteria
            .iter()
            .position(|c| c.name == criterion.name)
            .unwrap_or(index);
        ui.horizontal(|ui| {
            chip_ui(ui, &short_name(&criterion.name), chip);
            ui.label(RichText::new(&criterion.title).strong());
        });
        egui::CollapsingHeader::new(format!("{} evidence events", criterion.evidence.len()))
            .id_salt(("evidence", &criterion.name))
            .show(ui, |ui| {
                ui.label(RichText::new(&criterion.rule).italics());
                for (date, event_type, person) in &criterion.evidence {
                    let who = person
                        .as_deref()
                        .and_then(|p| detail.member(p))
                        .map_or_else(|| "the family".to_string(), Member::full_name);
                    ui.label(format!("{date} · {} · {who}", event_type.replace('_', " ")));
                }
            });
    }
    decisions_ui(ui, detail);
    super::family_path_ui(ui, figures, &detail.path, "family_page");
    opened
}

fn child_facts_ui(ui: &mut egui::Ui, member: &Member, detail: &FamilyDetail) {
    section_heading_ui(ui, "The child", "");
    egui::Grid::new("child_grid").num_columns(2).show(ui, |ui| {
        ui.label("Born");
        ui.label(member.birth_date.as_deref().unwrap_or("–"));
        ui.end_row();
        ui.label("Age on the date");
        ui.label(member.age.map_or("–".to_string(), |a| a.to_string()));
        ui.end_row();
        ui.label("Sex");
        ui.label(member.sex.as_deref().unwrap_or("–"));
        ui.end_row();
        ui.label("Model score");
        ui.label(member.score.map_or("not scored".to_string(), |s| {
            format!(
                "{:.0}%{}",
                s * 100.0,
                if member.flagged {
                    ", above the model's threshold"
                } else {
                    ""
                }
            )
        }));
        ui.end_row();
    });
    section_heading_ui(
        ui,
        "What raised the score most",
        "From the model's features; for review, not a decision.",
    );
    if member.reasons.is_empty() {
        ui.label("No model reasons for this date.");
    }
    for reason in &member.reasons {
        ui.label(format!("• {reason}"));
    }
    section_heading_ui(ui, "Criteria evidence about the child", "");
    let mut any = false;
    for criterion in &detail.criteria {
        for (date, event_type, person) in &criterion.evidence {
            if person.as_deref() == Some(member.person_id.as_str()) {
                any = true;
                ui.label(format!(
                    "{date} · {} · {}",
                    event_type.replace('_', " "),
                    criterion.title
                ));
            }
        }
    }
    if !any {
        ui.label("None: the family's criteria rest on other members' records.");
    }
}

fn decisions_ui(ui: &mut egui::Ui, detail: &FamilyDetail) {
    section_heading_ui(ui, "Round-table decisions", "");
    if detail.decisions.is_empty() {
        ui.label("None recorded.");
    }
    for decision in &detail.decisions {
        ui.label(format!(
            "{} · {} · by {} (round of {})",
            decision.decided_at, decision.outcome, decision.decided_by, decision.reference_date
        ));
        if !decision.note.is_empty() {
            ui.label(RichText::new(&decision.note).italics());
        }
    }
}

/// Every event of the family (or of one person), newest first.
fn timeline_ui(
    ui: &mut egui::Ui,
    figures: &FamiliesFigures,
    detail: &FamilyDetail,
    person: Option<&str>,
) {
    let events: Vec<&TimelineEvent> = detail
        .timeline
        .iter()
        .filter(|e| person.is_none() || e.person_id.as_deref() == person)
        .collect();
    section_heading_ui(
        ui,
        "Timeline",
        &format!(
            "{} events across agencies: each agency's in its own lane (the dashed line is the reference date), then listed newest first.",
            events.len()
        ),
    );
    timeline_chart_ui(ui, figures, detail, &events);
    egui::ScrollArea::vertical()
        .id_salt("family_timeline")
        .auto_shrink([false, false])
        .show_rows(ui, 20.0, events.len(), |ui, range| {
            for event in &events[range] {
                let who = event
                    .person_id
                    .as_deref()
                    .and_then(|p| detail.member(p))
                    .map_or_else(String::new, Member::first_name);
                let value = event.value.map_or(String::new(), |v| format!(" ({v})"));
                let text = format!(
                    "{} · {} · {}{} · {}",
                    event.date,
                    figures.agency_label(&event.source),
                    event.event_type.replace('_', " "),
                    value,
                    who
                );
                let text = if event.after_reference {
                    RichText::new(text).weak()
                } else {
                    RichText::new(text)
                };
                ui.label(text);
            }
        });
}

/// Days since 1970-01-01 of a yyyy-mm-dd date: the chart's x axis.
fn day_number(date: &str) -> Option<f64> {
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some(
        day.signed_duration_since(chrono::NaiveDate::default())
            .num_days() as f64,
    )
}

/// "27/03/2025" for a day number.
fn day_label(day: f64) -> String {
    chrono::NaiveDate::default()
        .checked_add_signed(chrono::Duration::days(day.round() as i64))
        .map_or_else(String::new, |d| d.format("%d/%m/%Y").to_string())
}

/// "Mar 2025" for a day number.
fn month_label(day: f64) -> String {
    chrono::NaiveDate::default()
        .checked_add_signed(chrono::Duration::days(day.round() as i64))
        .map_or_else(String::new, |d| d.format("%b %Y").to_string())
}

/// Every event as a dot in its agency's lane over time, with the reference date
/// marked: where the records cluster, and which agencies came in when, at a glance.
fn timeline_chart_ui(
    ui: &mut egui::Ui,
    figures: &FamiliesFigures,
    detail: &FamilyDetail,
    events: &[&TimelineEvent],
) {
    use egui_plot::{Plot, PlotPoints, Points, VLine};
    let lanes: Vec<&str> = detail
        .involvement
        .iter()
        .map(|i| i.source.as_str())
        .collect();
    if lanes.is_empty() || events.is_empty() {
        return;
    }
    let lane_names: Vec<String> = lanes
        .iter()
        .map(|s| figures.agency_label(s).to_string())
        .collect();
    let names = lane_names.clone();
    let reference = day_number(&detail.reference_date);
    Plot::new(("family_timeline_chart", &detail.family_id))
        .height(40.0 + 22.0 * lanes.len() as f32)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .show_y(false)
        .include_y(-0.7)
        .include_y(lanes.len() as f64 - 0.3)
        .y_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 1.0, 1.0]))
        .y_axis_formatter(crate::ui::widgets::category_axis_formatter(names))
        .x_axis_formatter(|mark, _| month_label(mark.value))
        .label_formatter(|hover| match hover {
            egui_plot::HoverPosition::NearDataPoint {
                plot_name,
                position,
                ..
            } => Some(format!("{plot_name}\n{}", day_label(position.x))),
            egui_plot::HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            for (lane, source) in lanes.iter().enumerate() {
                let points: Vec<[f64; 2]> = events
                    .iter()
                    .filter(|e| e.source == *source)
                    .filter_map(|e| Some([day_number(&e.date)?, lane as f64]))
                    .collect();
                if !points.is_empty() {
                    plot.points(
                        Points::new(lane_names[lane].clone(), PlotPoints::from(points)).radius(3.5),
                    );
                }
            }
            if let Some(day) = reference {
                plot.vline(
                    VLine::new("reference date", day).style(egui_plot::LineStyle::dashed_loose()),
                );
            }
        });
}
