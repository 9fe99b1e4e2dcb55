//! The Round table's outcomes: what became of the families a zone discussed
//! (`report::outcomes`), as the zone's summary by decision type with each family
//! behind it, and as the picked family's plan history with its headline
//! problems resolved, continuing or new since each decision; and whether help
//! made a difference, at the cut-off (`report::effect`).

use egui::RichText;

use crate::access::{Purpose, Session};
use crate::report::effect::{CAVEAT, EffectEstimate, FOLLOW_UP_DAYS};
use crate::report::families::short_name;
use crate::report::outcomes::{DecisionOutcome, OutcomeCounts, OutcomesFigures, ZoneOutcomes};
use crate::ui::widgets::{OUTCOME_HEADINGS, section_heading_ui};

/// Reads the outcomes of the decisions in `session`'s zones through
/// `access::person_query`, which records the read first; empty for roles that
/// see no family and before any family has been assessed.
pub fn read(conn: &duckdb::Connection, session: &Session) -> anyhow::Result<OutcomesFigures> {
    let assessed = crate::store::scalar_i64(conn, "SELECT count(*) FROM mart.family_criterion")?;
    if session.visibility().is_err() || assessed == 0 {
        return Ok(OutcomesFigures::default());
    }
    let purpose = Purpose::listing("outcomes of the families discussed (Round table)");
    Ok(crate::access::person_query(
        conn,
        session,
        &purpose,
        crate::report::outcomes::read_outcomes,
    )?)
}

/// The zone's outcomes page: the summary by decision type, then each family
/// discussed with how its problems stand since its first decision.
pub(super) fn zone_outcomes_ui(
    ui: &mut egui::Ui,
    outcomes: &OutcomesFigures,
    zone_id: &str,
    selected: &mut Option<String>,
) {
    // The column's width before the tables: the texts below wrap at it even
    // when a table is wider than the column.
    let width = ui.available_width();
    let Some(latest) = outcomes.latest_round.as_deref() else {
        ui.label("No round has been assessed yet.");
        return;
    };
    let Some(zone) = outcomes.zone(zone_id) else {
        ui.label("No family in this zone has been discussed yet.");
        return;
    };
    section_heading_ui(
        ui,
        &format!("Outcomes of the {} families discussed", zone.total.families),
        &format!(
            "Each family counted once, by its first decision; headline problems at that \
             decision's round against the latest round ({latest}). Followed up: assessed at \
             both, with a round between. Escalated: a child's child protection plan or care \
             episode on or after the decision's round."
        ),
    );
    // Eight columns are wider than the page's half at a laptop's width: the
    // table scrolls sideways rather than running under the family panel.
    egui::ScrollArea::horizontal()
        .id_salt("outcomes_by_decision_scroll")
        .show(ui, |ui| outcome_table_ui(ui, zone));
    ui.add_space(8.0);
    ui.scope(|ui| {
        ui.set_max_width(width);
        effect_ui(ui, &outcomes.effect);
    });
    ui.add_space(8.0);
    section_heading_ui(
        ui,
        "Families discussed",
        "Pick one to see its plan history.",
    );
    ui.scope(|ui| {
        ui.set_max_width(width);
        families_discussed_ui(ui, outcomes, zone_id, latest, selected);
    });
}

/// A zone's outcomes by the type of each family's first decision, and all.
fn outcome_table_ui(ui: &mut egui::Ui, zone: &ZoneOutcomes) {
    egui::Grid::new("outcomes_by_decision")
        .striped(true)
        .num_columns(8)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            for heading in OUTCOME_HEADINGS {
                ui.label(RichText::new(heading).strong());
            }
            ui.end_row();
            for (kind, counts) in &zone.by_decision {
                counts_row_ui(ui, kind, counts);
            }
            counts_row_ui(ui, "All decisions", &zone.total);
        });
}

/// The zone's families discussed, each by its first decision, to pick one.
fn families_discussed_ui(
    ui: &mut egui::Ui,
    outcomes: &OutcomesFigures,
    zone_id: &str,
    latest: &str,
    selected: &mut Option<String>,
) {
    for outcome in outcomes.first_decisions() {
        if outcome.zone_id.as_deref() != Some(zone_id) {
            continue;
        }
        ui.horizontal_wrapped(|ui| {
            let picked = selected.as_deref() == Some(outcome.family_id.as_str());
            if ui
                .selectable_label(
                    picked,
                    RichText::new(&outcome.family_id).monospace().strong(),
                )
                .clicked()
            {
                *selected = Some(outcome.family_id.clone());
            }
            ui.label(
                RichText::new(format!(
                    "{} (round of {})",
                    outcome.decision.outcome, outcome.decision.reference_date
                ))
                .weak(),
            );
            problems_ui(ui, outcomes, outcome, latest);
        });
    }
}

/// Did help make a difference? The comparison at the cut-off over every zone the
/// session sees: both sides' families, escalations and rates, the rate ratio
/// with its interval (or why it is withheld) and the caveat in words.
fn effect_ui(ui: &mut egui::Ui, effect: &EffectEstimate) {
    section_heading_ui(
        ui,
        "Did help make a difference?",
        &format!(
            "Families at the cut-off of the same round and zone (equal need: the most social \
             care contacts of any one child in the year before the round), \
             discussed or not for want of a place; escalations counted from {FOLLOW_UP_DAYS} \
             days after the round, per 100 family-years. Families not discussed then but later \
             count as helped from {FOLLOW_UP_DAYS} days after their own round. Over {} rounds \
             and zones in the zones you see.",
            effect.strata
        ),
    );
    egui::Grid::new("effect_sides")
        .striped(true)
        .num_columns(5)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            for heading in ["", "Families", "Escalations", "Family-years", "Rate"] {
                ui.label(RichText::new(heading).strong());
            }
            ui.end_row();
            for (name, side) in [
                ("Discussed at the cut-off", &effect.helped),
                ("Not discussed (no place)", &effect.compared),
            ] {
                ui.label(name);
                ui.label(side.families.to_string());
                ui.label(side.escalations.to_string());
                ui.label(format!("{:.1}", side.years));
                ui.label(side.rate().map_or("–".to_string(), |r| format!("{r:.1}")));
                ui.end_row();
            }
        });
    match (&effect.ratio, &effect.withheld) {
        (Some(ratio), _) => {
            let high = if ratio.high.is_finite() {
                format!("{:.2}", ratio.high)
            } else {
                "no upper bound".to_string()
            };
            ui.label(
                RichText::new(format!(
                    "Help multiplied escalations by {:.2} (95% interval {:.2} to {high})",
                    ratio.ratio, ratio.low
                ))
                .strong(),
            );
            ui.label(if ratio.high < 1.0 {
                "Families discussed escalated less often than families just like them who were not."
            } else if ratio.low > 1.0 {
                "Families discussed escalated more often than families just like them who were not."
            } else {
                "The interval includes no difference: these figures cannot say whether help changed escalations."
            });
        }
        (None, Some(why)) => {
            ui.label(RichText::new(why).strong());
        }
        (None, None) => {
            ui.label("No round has discussed a family yet.");
        }
    }
    ui.label(RichText::new(CAVEAT).weak());
}

fn counts_row_ui(ui: &mut egui::Ui, kind: &str, counts: &OutcomeCounts) {
    ui.label(kind);
    for value in [
        counts.families,
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

/// How one decision's problems stand now, in words and chips.
fn problems_ui(
    ui: &mut egui::Ui,
    outcomes: &OutcomesFigures,
    outcome: &DecisionOutcome,
    latest: &str,
) {
    if let Some(escalation) = &outcome.escalation {
        ui.label(
            RichText::new(format!(
                "escalated: {} on {}",
                escalation.event_type.replace('_', " "),
                escalation.date
            ))
            .color(ui.visuals().warn_fg_color),
        );
    }
    if !outcome.followed_up(latest) {
        let why = if outcome.decision.reference_date.as_str() >= latest {
            "no round since the decision"
        } else {
            "not assessed at both rounds"
        };
        ui.label(RichText::new(why).weak());
        return;
    }
    for (label, list) in [
        ("resolved", outcome.resolved()),
        ("continuing", outcome.continuing()),
        ("new", outcome.appeared()),
    ] {
        if list.is_empty() {
            continue;
        }
        let names: Vec<String> = list.iter().map(|c| short_name(c)).collect();
        ui.label(format!("{label}: {}", names.join(", ")))
            .on_hover_text(
                list.iter()
                    .map(|c| outcomes.title(c))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
    }
    if outcome.at_decision.as_ref().is_some_and(|s| s.is_empty())
        && outcome.now.as_ref().is_some_and(|s| s.is_empty())
    {
        ui.label(RichText::new("no headline problem then or now").weak());
    }
}

/// The picked family's decisions, oldest first, each with what followed it.
pub(super) fn plan_history_ui(
    ui: &mut egui::Ui,
    outcomes: Option<&OutcomesFigures>,
    family_id: &str,
) {
    let Some(outcomes) = outcomes else {
        return;
    };
    let history = outcomes.history(family_id);
    if history.is_empty() {
        return;
    }
    let latest = outcomes.latest_round.as_deref().unwrap_or_default();
    section_heading_ui(
        ui,
        "Plan history",
        &format!(
            "Each decision, and how the family's headline problems stand at the latest round ({latest})."
        ),
    );
    for outcome in history {
        let decision = &outcome.decision;
        ui.label(
            RichText::new(format!(
                "Round of {}: {} (recorded {} by {})",
                decision.reference_date, decision.outcome, decision.decided_at, decision.decided_by
            ))
            .strong(),
        );
        if let Some(plan) = &decision.plan {
            ui.label(format!("Plan: {}", plan.summary()));
        }
        ui.horizontal_wrapped(|ui| problems_ui(ui, outcomes, outcome, latest));
    }
}
