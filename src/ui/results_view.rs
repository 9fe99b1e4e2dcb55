//! Results: the senior manager's view of what the round tables did and achieved
//! (`report::results`). For a round and the authority or one zone: flagged,
//! discussed, days from first flag to decision, decisions by type, plans open
//! and overdue for review, outcomes by the type of the first decision, and the
//! equity of it all by IMD decile with the slope index of inequality. Every
//! figure is a button listing the families behind it, and a family opens in
//! Families. Zone managers see their zones only; commissioners never see it.

use egui::RichText;
use egui_plot::{Bar, BarChart, Legend, Plot};

use crate::access::{Purpose, Session};
use crate::report::outcomes::OutcomeCounts;
use crate::report::results::{Equity, FamilyAtRound, Figure, ResultsFigures, finding};
use crate::ui::desk::{Desk, Message, Screen, waiting_ui};
use crate::ui::views::View;
use crate::ui::widgets::{OUTCOME_HEADINGS, imd_decile_color, section_heading_ui};

/// Reads the results of the rounds in `session`'s zones through
/// `access::person_query`, which records the read first; empty before any
/// family has been assessed or decided.
pub fn read(conn: &duckdb::Connection, session: &Session) -> anyhow::Result<ResultsFigures> {
    let held = crate::store::scalar_i64(
        conn,
        "SELECT (SELECT count(*) FROM mart.family_criterion) + (SELECT count(*) FROM app.round_decision)",
    )?;
    if held == 0 {
        return Ok(ResultsFigures::default());
    }
    let purpose = Purpose::listing("results of the round tables (Results)");
    Ok(crate::access::person_query(
        conn,
        session,
        &purpose,
        crate::report::results::read_results,
    )?)
}

/// The Results view's choices.
#[derive(Debug, Default)]
pub struct ResultsState {
    /// The round shown (yyyy-mm-dd); `ResultsFigures::opening_round` when unset.
    pub round: Option<String>,
    /// The zone shown; every zone the session sees when unset.
    pub zone: Option<String>,
    /// The figure whose families are listed.
    pub figure: Option<Drill>,
    /// Why the equity of a (round, zone) could not be worked out.
    pub equity_error: Option<((String, Option<String>), String)>,
}

/// A figure picked to list the families behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drill {
    /// A count of families at the round (`report::results::Figure`).
    Families(Figure),
    /// Families first discussed at the round (with this first decision).
    FirstDecided(Option<String>),
}

impl Screen for ResultsState {
    fn ui(&mut self, ui: &mut egui::Ui, desk: &mut Desk<'_>) {
        let Some(figures) = &desk.figures.results else {
            return waiting_ui(ui);
        };
        let limited = desk
            .session()
            .is_some_and(|session| session.role.limited_to_zones());
        if let Some(family) = results_ui(ui, figures, limited, self)
            && desk.may(View::Families)
        {
            desk.go(View::Families, Some(Message::OpenFamily(family)));
        }
        self.work_out_equity(desk);
    }
}

const WORKING_OUT_EQUITY: &str = "Working out the equity of the round";

impl ResultsState {
    /// Works out the shown round's equity on a worker when the read did not
    /// (it holds the opening round's): from the decile counts already read,
    /// so nothing about a person is read again.
    fn work_out_equity(&mut self, desk: &mut Desk<'_>) {
        let (Some(figures), Some(round)) = (&desk.figures.results, self.round.clone()) else {
            return;
        };
        let key = (round.clone(), self.zone.clone());
        if figures.equity.contains_key(&key) || desk.is_running(WORKING_OUT_EQUITY) {
            return;
        }
        let deciles = figures.decile_counts(&round, self.zone.as_deref());
        desk.start_on(
            WORKING_OUT_EQUITY,
            move |_, conn| {
                crate::uptake::stats::create_macros(conn)?;
                Ok(crate::report::results::equity(conn, deciles)?)
            },
            move |view: &mut ResultsState, result, desk| match result {
                Ok(equity) => {
                    if let Some(figures) = desk.figures.results.as_mut() {
                        figures.equity.insert(key, equity);
                    }
                }
                // Kept from trying again every frame: the view says why.
                Err(error) => view.equity_error = Some((key, error)),
            },
        );
    }
}

/// Draws the view; returns a family to open when one is clicked.
pub fn results_ui(
    ui: &mut egui::Ui,
    figures: &ResultsFigures,
    limited: bool,
    state: &mut ResultsState,
) -> Option<String> {
    let (Some(latest), Some(opening)) = (figures.rounds.last(), figures.opening_round()) else {
        ui.label("No round has been assessed and no decision recorded yet.");
        return None;
    };
    if state
        .round
        .as_ref()
        .is_none_or(|r| !figures.rounds.contains(r))
    {
        state.round = Some(opening.to_string());
    }
    let round = state.round.clone().unwrap_or_default();
    let everyone = if limited {
        "All your zones"
    } else {
        "The authority"
    };
    let mut open = None;
    ui.horizontal(|ui| {
        ui.label(RichText::new("Results").size(20.0).strong());
        ui.add_space(16.0);
        ui.label("Round");
        egui::ComboBox::from_id_salt("results_round")
            .selected_text(&round)
            .show_ui(ui, |ui| {
                for r in figures.rounds.iter().rev() {
                    if ui.selectable_label(*r == round, r).clicked() {
                        state.round = Some(r.clone());
                        state.figure = None;
                    }
                }
            });
        ui.label("Area");
        let shown = state
            .zone
            .as_deref()
            .map_or(everyone, |z| figures.zone_name(z));
        egui::ComboBox::from_id_salt("results_zone")
            .selected_text(shown)
            .width(220.0)
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(state.zone.is_none(), everyone)
                    .clicked()
                {
                    state.zone = None;
                    state.figure = None;
                }
                for (id, name) in &figures.zones {
                    if ui
                        .selectable_label(state.zone.as_deref() == Some(id), name)
                        .clicked()
                    {
                        state.zone = Some(id.clone());
                        state.figure = None;
                    }
                }
            });
    });
    if round != *latest && round == opening {
        ui.label(
            RichText::new(format!(
                "Opened on {round}, the latest round with decisions: the current round ({latest}) \
                 has flags but no decisions yet. Choose any round above."
            ))
            .weak(),
        );
    }
    ui.separator();
    let zone = state.zone.clone();
    // The families behind the picked figure beside the figures, so a click
    // shows them without scrolling away.
    if let Some(drill) = state.figure.clone() {
        egui::Panel::right("results_families")
            .default_size(420.0)
            .resizable(true)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("results_families_scroll")
                    .show(ui, |ui| {
                        open = families_behind_ui(ui, figures, &round, zone.as_deref(), &drill);
                    });
            });
    }
    // The area's own figures and equity first, what a senior manager reads
    // first; the zones' table (one row a zone, 26 in the sample) after them.
    egui::ScrollArea::vertical().show(ui, |ui| {
        round_ui(ui, figures, &round, zone.as_deref(), state);
        ui.add_space(8.0);
        let key = (round.clone(), zone.clone());
        match (figures.equity.get(&key), &state.equity_error) {
            (Some(equity), _) => equity_ui(ui, equity, state),
            (None, Some((failed, error))) if *failed == key => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("The equity could not be worked out: {error}"),
                );
            }
            (None, _) => {
                ui.label("Working out the equity of this round…");
            }
        }
        if zone.is_none() {
            ui.add_space(8.0);
            zones_table_ui(ui, figures, &round, state);
        }
    });
    open
}

/// A count that lists the families behind it when clicked; `what` names it for
/// screen readers ("Flagged: 12"), since the count alone says nothing.
fn figure_button_ui(
    ui: &mut egui::Ui,
    what: &str,
    count: usize,
    drill: Drill,
    state: &mut ResultsState,
) {
    let picked = state.figure.as_ref() == Some(&drill);
    let response = ui.selectable_label(picked, count.to_string());
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::Role::Button, true, picked, format!("{what}: {count}"))
    });
    if response.clicked() {
        state.figure = Some(drill);
    }
}

/// Each zone's headline figures at the round, a zone's name leading to it.
fn zones_table_ui(
    ui: &mut egui::Ui,
    figures: &ResultsFigures,
    round: &str,
    state: &mut ResultsState,
) {
    section_heading_ui(
        ui,
        "By zone",
        "Pick a zone to see its round; pick a figure to list the families behind it.",
    );
    egui::Grid::new("results_zones")
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for heading in [
                "Zone",
                "Assessed",
                "Flagged",
                "Discussed",
                "Plans agreed",
                "Plans open",
                "Overdue for review",
            ] {
                ui.label(RichText::new(heading).strong());
            }
            ui.end_row();
            for (id, name) in &figures.zones {
                if ui.link(name).clicked() {
                    state.zone = Some(id.clone());
                    state.figure = None;
                }
                let summary = figures.summary(round, Some(id));
                for (count, figure) in [
                    (summary.assessed, Figure::Assessed),
                    (summary.flagged, Figure::Flagged),
                    (summary.discussed, Figure::Discussed),
                    (summary.plans_agreed, Figure::PlanAgreed),
                    (summary.plans_open, Figure::PlanOpen),
                    (summary.overdue, Figure::Overdue),
                ] {
                    // A zone's figure lists its families: go to the zone, then list.
                    if ui.link(count.to_string()).clicked() {
                        state.zone = Some(id.clone());
                        state.figure = Some(Drill::Families(figure));
                    }
                }
                ui.end_row();
            }
        });
}

/// The round's figures for the area: counts, decisions by type, outcomes.
fn round_ui(
    ui: &mut egui::Ui,
    figures: &ResultsFigures,
    round: &str,
    zone: Option<&str>,
    state: &mut ResultsState,
) {
    let summary = figures.summary(round, zone);
    let area = zone.map_or("every zone", |z| figures.zone_name(z));
    section_heading_ui(
        ui,
        &format!("The round of {round}: {area}"),
        "Assessed: families with a child whose criteria were applied at the round. Flagged: \
         among their zone's top families within its capacity (the agenda's definition). \
         Discussed: a decision recorded at the round. Plans open: the latest decision up to \
         the round agreed a plan that has not ended; overdue: its review date has come with \
         no decision since.",
    );
    egui::Grid::new("results_round")
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for (label, count, figure) in [
                ("Families assessed", summary.assessed, Figure::Assessed),
                ("Flagged", summary.flagged, Figure::Flagged),
                ("Discussed", summary.discussed, Figure::Discussed),
                ("Plans agreed", summary.plans_agreed, Figure::PlanAgreed),
                ("Plans open", summary.plans_open, Figure::PlanOpen),
                ("Plans overdue for review", summary.overdue, Figure::Overdue),
            ] {
                ui.label(label);
                figure_button_ui(ui, label, count, Drill::Families(figure), state);
                ui.end_row();
            }
            ui.label("Days from first flag to decision (median)");
            ui.horizontal(|ui| {
                ui.label(
                    summary
                        .median_days
                        .map_or("–".to_string(), |d| format!("{d:.0}")),
                );
                ui.label(RichText::new("of").weak());
                figure_button_ui(
                    ui,
                    "Timed",
                    summary.timed,
                    Drill::Families(Figure::Timed),
                    state,
                );
                ui.label(
                    RichText::new("families first discussed at this round after a flag").weak(),
                );
            });
            ui.end_row();
        });
    ui.add_space(6.0);
    ui.label(RichText::new("Decisions by type").strong());
    if summary.decided.is_empty() {
        ui.label(RichText::new("No decision recorded at this round.").weak());
    }
    egui::Grid::new("results_decisions")
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for (kind, count) in &summary.decided {
                ui.label(kind);
                figure_button_ui(
                    ui,
                    kind,
                    *count,
                    Drill::Families(Figure::Decided(kind.clone())),
                    state,
                );
                ui.end_row();
            }
        });
    ui.add_space(6.0);
    ui.label(RichText::new("Outcomes by first decision").strong());
    ui.label(
        RichText::new(format!(
            "Families first discussed at this round, each once; headline problems at the \
             decision against the latest round ({}); escalated: a child's child protection \
             plan or care episode since.",
            figures.outcomes.latest_round.as_deref().unwrap_or("none")
        ))
        .weak(),
    );
    egui::Grid::new("results_outcomes")
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for heading in OUTCOME_HEADINGS {
                ui.label(RichText::new(heading).strong());
            }
            ui.end_row();
            for (kind, counts) in &summary.outcomes {
                outcome_row_ui(ui, kind, Some(kind.clone()), counts, state);
            }
            outcome_row_ui(ui, "All", None, &summary.outcomes_total, state);
        });
}

fn outcome_row_ui(
    ui: &mut egui::Ui,
    label: &str,
    kind: Option<String>,
    counts: &OutcomeCounts,
    state: &mut ResultsState,
) {
    ui.label(label);
    figure_button_ui(
        ui,
        &format!("First decided {label}"),
        counts.families as usize,
        Drill::FirstDecided(kind),
        state,
    );
    for value in [
        counts.followed_up,
        counts.problems_at_decision,
        counts.resolved,
        counts.continuing,
        counts.new,
        counts.escalated,
    ] {
        ui.label(value.to_string());
    }
    ui.end_row();
}

/// Flags and plans by IMD decile (bars: rates), the SII sentences and the table.
fn equity_ui(ui: &mut egui::Ui, equity: &Equity, state: &mut ResultsState) {
    section_heading_ui(
        ui,
        "Equity by IMD decile",
        "Are the most deprived families flagged and helped in proportion to need? Rates of \
         the families assessed (1 = most deprived); slope index of inequality: the fitted \
         rate in the least deprived minus the most deprived, with its 95% interval by \
         simulation (as the uptake's).",
    );
    let percent = |x: u64, n: u64| {
        if n > 0 {
            100.0 * x as f64 / n as f64
        } else {
            0.0
        }
    };
    let bars = |offset: f64, pick: fn(&crate::report::results::DecileCounts) -> (u64, u64)| {
        equity
            .deciles
            .iter()
            .map(|d| {
                let (x, n) = pick(d);
                Bar::new(f64::from(d.decile) + offset, percent(x, n))
                    .width(0.38)
                    .fill(imd_decile_color(i32::from(d.decile)))
            })
            .collect::<Vec<_>>()
    };
    let flagged = BarChart::new("Flagged %", bars(-0.2, |d| (d.flagged, d.assessed)));
    let plans = BarChart::new(
        "Plans agreed %",
        bars(0.2, |d| (d.plans_agreed, d.assessed)),
    )
    .color(egui::Color32::from_rgb(49, 104, 142));
    Plot::new("results_equity")
        .height(200.0)
        .legend(Legend::default())
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .x_axis_label("IMD decile (1 = most deprived); left bar flagged, right bar plans")
        .y_axis_label("% of families assessed")
        .show(ui, |plot| {
            plot.bar_chart(flagged);
            plot.bar_chart(plans);
        });
    for (subject, inequality) in [
        ("The share of families flagged", &equity.flagged),
        ("The share of families given a plan", &equity.plans),
        (
            "The share of families discussed whose problems were resolved",
            &equity.resolved,
        ),
    ] {
        ui.label(finding(subject, inequality));
    }
    egui::Grid::new("results_deciles")
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for heading in [
                "IMD decile",
                "Assessed",
                "Flagged",
                "Plans agreed",
                "Followed up",
                "Resolved",
            ] {
                ui.label(RichText::new(heading).strong());
            }
            ui.end_row();
            for d in &equity.deciles {
                ui.label(d.decile.to_string());
                for (what, count, figure) in [
                    ("Assessed", d.assessed, Figure::Assessed),
                    ("Flagged", d.flagged, Figure::Flagged),
                    ("Plans agreed", d.plans_agreed, Figure::PlanAgreed),
                ] {
                    figure_button_ui(
                        ui,
                        &format!("{what} in decile {}", d.decile),
                        count as usize,
                        Drill::Families(Figure::InDecile(d.decile, Box::new(figure))),
                        state,
                    );
                }
                ui.label(d.followed_up.to_string());
                ui.label(d.resolved.to_string());
                ui.end_row();
            }
        });
}

/// The families behind the picked figure; returns one to open when clicked.
fn families_behind_ui(
    ui: &mut egui::Ui,
    figures: &ResultsFigures,
    round: &str,
    zone: Option<&str>,
    drill: &Drill,
) -> Option<String> {
    let mut open = None;
    let rows: Vec<(String, String)> = match drill {
        Drill::Families(figure) => figures
            .behind(round, zone, figure)
            .into_iter()
            .map(|f| (f.family_id.clone(), describe(figures, f)))
            .collect(),
        Drill::FirstDecided(kind) => figures
            .first_decided(round, zone, kind.as_deref())
            .into_iter()
            .map(|d| {
                let escalated = d
                    .escalation
                    .as_ref()
                    .map_or(String::new(), |e| format!("; escalated {}", e.date));
                (
                    d.family_id.clone(),
                    format!(
                        "{}; {} resolved{escalated}",
                        d.decision.outcome,
                        d.resolved().len()
                    ),
                )
            })
            .collect(),
    };
    let what = match drill {
        Drill::Families(figure) => figure.label(),
        Drill::FirstDecided(Some(kind)) => format!("families first decided '{kind}'"),
        Drill::FirstDecided(None) => "families first discussed".to_string(),
    };
    section_heading_ui(
        ui,
        &format!("The {} {what}", rows.len()),
        "Pick a family to open it in Families (recorded in the audit log).",
    );
    for (family_id, text) in rows {
        ui.horizontal(|ui| {
            if ui
                .link(RichText::new(&family_id).monospace().strong())
                .clicked()
            {
                open = Some(family_id.clone());
            }
            ui.label(RichText::new(text).weak());
        });
    }
    open
}

/// A family's line in the list: zone, decile and what the round counted it in.
fn describe(figures: &ResultsFigures, family: &FamilyAtRound) -> String {
    let mut parts = Vec::new();
    if let Some(zone) = &family.zone_id {
        parts.push(figures.zone_name(zone).to_string());
    }
    if let Some(decile) = family.imd_decile {
        parts.push(format!("IMD decile {decile}"));
    }
    if family.flagged {
        parts.push("flagged".into());
    }
    if let Some(first) = &family.first_flagged {
        parts.push(format!("first flagged {first}"));
    }
    if let Some(decision) = &family.decision {
        parts.push(if family.first_discussed {
            format!("first discussed: {decision}")
        } else {
            decision.clone()
        });
    }
    if let Some(days) = family.days_to_decision {
        parts.push(format!("{days} days from first flag"));
    }
    if family.plan_open {
        parts.push(if family.overdue {
            "plan overdue for review".into()
        } else {
            "in a plan".into()
        });
    }
    parts.join(" · ")
}
