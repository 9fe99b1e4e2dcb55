//! Models: how well the model behind the scores ranks children it was not
//! trained on — which model was chosen and why, its held-out figures beside what
//! the synthetic truth itself reaches (the oracle), its calibration, precision
//! down the ranked list, and the same figures by deprivation, sex and ethnicity —
//! with a plain caution about what such numbers mean.

use egui::RichText;
use egui_plot::{HLine, Legend, Line, Plot, PlotPoints, Points, VLine};

use super::desk::{Desk, Screen, waiting_ui};
use super::widgets::{Metric, section_heading_ui};
use crate::access::Session;
use crate::format::thousands;
use crate::report::models::{AtCapacity, ModelFigures};
use crate::risk::model::evaluation::Evaluation;
use crate::risk::model::file::RiskModelFile;

/// Height of the two charts.
const CHART_HEIGHT: f32 = 240.0;

/// A figure to three decimals, or "–".
fn figure(value: Option<f64>) -> String {
    value.map_or("–".to_string(), |v| format!("{v:.3}"))
}

/// A share as a percentage, or "–".
fn percent(value: Option<f64>) -> String {
    value.map_or("–".to_string(), |v| format!("{:.1}%", v * 100.0))
}

/// Reads what the Models view shows: the model behind the latest scores, with
/// its held-out evaluation.
pub fn read(conn: &duckdb::Connection, session: &Session) -> anyhow::Result<ModelFigures> {
    Ok(crate::report::models::read_models(conn, session)?)
}

/// The Models view keeps nothing between frames: it draws its part.
#[derive(Debug, Default)]
pub struct ModelsView;

impl Screen for ModelsView {
    fn ui(&mut self, ui: &mut egui::Ui, desk: &mut Desk<'_>) {
        match &desk.figures.models {
            Some(figures) => models_ui(ui, figures),
            None => waiting_ui(ui),
        }
    }
}

/// Draws the Models view.
pub fn models_ui(ui: &mut egui::Ui, figures: &ModelFigures) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        section_heading_ui(
            ui,
            "Models",
            "How well the risk model ranks children on a later date it was not trained on.",
        );
        caution_ui(ui);
        if let Some(problem) = &figures.problem {
            ui.colored_label(ui.visuals().error_fg_color, problem);
        }
        let Some(model) = &figures.model else {
            ui.label(
                "No scores yet. Train a model with `zonewise train` and score a date with \
                 `zonewise score`; the model behind the latest scores is shown here.",
            );
            return;
        };
        choice_ui(ui, model, figures);
        let e = &model.evaluation;
        held_out_ui(ui, model);
        if !figures.at_capacity_withheld {
            at_capacity_ui(ui, model, figures.at_capacity.as_ref());
        }
        ui.add_space(8.0);
        ui.columns(2, |columns| {
            calibration_ui(&mut columns[0], e);
            precision_at_k_ui(&mut columns[1], e);
        });
        ui.add_space(8.0);
        fairness_ui(ui, e);
    });
}

/// What the numbers mean, in plain words, above everything else.
fn caution_ui(ui: &mut egui::Ui) {
    egui::Frame::group(ui.style())
        .fill(ui.visuals().warn_fg_color.gamma_multiply(0.08))
        .inner_margin(egui::Margin::symmetric(12, 8))
        .show(ui, |ui| {
            ui.label(RichText::new("What these numbers mean").strong());
            ui.label(
                "A score ranks children by how often children with similar records went on to a \
                 child protection plan or into care within a year. It is not a decision and not \
                 an assessment of a family: flags are for a practitioner to review, with the \
                 records behind each. These figures come from a synthetic county, so they show \
                 that the method works, not how well it would predict for real families.",
            );
        });
    ui.add_space(6.0);
}

/// Which model was chosen, on what, and why.
fn choice_ui(ui: &mut egui::Ui, model: &RiskModelFile, figures: &ModelFigures) {
    section_heading_ui(
        ui,
        "The model",
        &format!(
            "{}, model {}, trained on the children of {} and held out on {}.",
            model.estimator.describe(),
            model.model_id,
            model.training_date,
            model.held_out_date
        ),
    );
    ui.label(format!(
        "Chosen because {}",
        lowercase_first(&model.selection.reason)
    ));
    ui.label(
        RichText::new(format!(
            "Compared by {}, on {}.",
            model.selection.metric, model.selection.validation
        ))
        .weak(),
    );
    egui::CollapsingHeader::new("Candidates compared, and both kinds on the held-out date")
        .default_open(false)
        .show(ui, |ui| {
            egui::Grid::new("candidates").striped(true).show(ui, |ui| {
                ui.strong("Candidate");
                ui.strong("Validation average precision");
                ui.strong("Validation ROC AUC");
                ui.end_row();
                for c in &model.selection.candidates {
                    ui.label(&c.description);
                    ui.label(figure(c.validation_average_precision));
                    ui.label(figure(c.validation_roc_auc));
                    ui.end_row();
                }
            });
            ui.add_space(6.0);
            kinds_ui(ui, model);
        });
    // Every monthly round is scored: the latest in a line, the rest on request.
    let Some(latest) = figures.scored_dates.first() else {
        return;
    };
    let row = |d: &crate::report::models::ScoredDate| {
        format!(
            "{}: {} children, {} families flagged (zones' capacities), {} above the threshold",
            d.reference_date,
            thousands(d.children),
            thousands(d.flagged_families),
            thousands(d.above_threshold_families)
        )
    };
    ui.label(RichText::new(format!("Scored dates — {}", row(latest))).weak());
    if figures.scored_dates.len() > 1 {
        egui::CollapsingHeader::new(format!(
            "Every scored round ({}, back to {})",
            figures.scored_dates.len(),
            figures
                .scored_dates
                .last()
                .map_or("", |d| d.reference_date.as_str())
        ))
        .default_open(false)
        .show(ui, |ui| {
            for date in &figures.scored_dates {
                ui.label(RichText::new(row(date)).weak());
            }
        });
    }
}

/// "Logistic regression had …" → "logistic regression had …".
fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

/// The headline held-out figures, with the oracle beside them.
fn held_out_ui(ui: &mut egui::Ui, model: &RiskModelFile) {
    let e = &model.evaluation;
    section_heading_ui(
        ui,
        &format!("Held-out figures on {}", e.reference_date),
        &format!(
            "{} children with a complete year of follow-up, {} of them ({}) escalated.",
            thousands(e.children as i64),
            thousands(e.positives as i64),
            percent(Some(e.base_rate))
        ),
    );
    let oracle = e.oracle.as_ref();
    let metrics = [
        Metric {
            value: figure(e.roc_auc),
            label: "ROC AUC",
            provenance: "The chance that a child who escalated is ranked above one who did not (0.5 is chance, 1 perfect).".to_string(),
        },
        Metric {
            value: oracle.map_or("–".to_string(), |o| figure(o.oracle_roc_auc)),
            label: "oracle ROC AUC",
            provenance: match oracle {
                Some(o) => format!(
                    "The ROC AUC of the synthetic truth's own probabilities on the {} held-out children matched to the truth (this model on them: {}). It uses circumstances no extract records, so it is a ceiling, not a target.",
                    o.children,
                    figure(o.model_roc_auc)
                ),
                None => "Needs the synthetic county's truth folder (zonewise train --truth).".to_string(),
            },
        },
        Metric {
            value: figure(e.average_precision),
            label: "average precision",
            provenance: format!(
                "Area under the precision–recall curve. A random list scores the share who escalated, {}. Oracle: {}.",
                percent(Some(e.base_rate)),
                oracle.map_or("–".to_string(), |o| figure(o.oracle_average_precision))
            ),
        },
        Metric {
            value: figure(e.brier_score),
            label: "Brier score",
            provenance: "Mean squared difference between score and outcome; lower is better.".to_string(),
        },
        Metric {
            value: percent(e.top_k.families.precision),
            label: "precision at capacity",
            provenance: format!(
                "Of the {} highest-scoring families in each of {} zones ({} families: the round tables' capacity when trained), the share with a child who escalated.",
                e.top_k.k_per_zone, e.top_k.zones, e.top_k.families.flagged
            ),
        },
        Metric {
            value: percent(e.top_k.families.recall),
            label: "recall at capacity",
            provenance: format!(
                "Of the {} families with a child who escalated, the share among each zone's top {}.",
                e.positive_families, e.top_k.k_per_zone
            ),
        },
        Metric {
            value: percent(e.at_threshold.precision),
            label: "precision at the threshold",
            provenance: format!(
                "Children scoring at least {:.3} (the threshold: the score of the county's last family within the round tables' capacity at training): {} above it, {} of them escalated; recall {}.",
                e.threshold,
                e.at_threshold.flagged,
                e.at_threshold.true_positives,
                percent(e.at_threshold.recall)
            ),
        },
    ];
    figures_row_ui(ui, &metrics);
}

/// The model as the round tables flag today: each zone's top families within
/// its own capacity, on the held-out round, beside the card's k per zone.
fn at_capacity_ui(ui: &mut egui::Ui, model: &RiskModelFile, at: Option<&AtCapacity>) {
    ui.add_space(6.0);
    let Some(at) = at else {
        ui.label(
            RichText::new(format!(
                "At the zones' capacities: the held-out round {} is not scored by this model \
                 in this database, so the figures above (k = {} in every zone, at training) \
                 are the only ones. Score that date to see the model as the round tables \
                 flag today.",
                model.held_out_date, model.evaluation.top_k.k_per_zone
            ))
            .weak(),
        );
        return;
    };
    let set = match at.zones_set {
        0 => "every zone at the default".to_string(),
        n => format!("{n} of them set by an analyst"),
    };
    section_heading_ui(
        ui,
        "At the zones' capacities today",
        &format!(
            "Flagged on {} as every view flags: each zone's top families by score and criteria, \
             up to its round table's capacity ({} places in {} zones, {set}), families already \
             in a plan not ranked. Not the card's figures above, which rank every family by \
             score alone, k in every zone, plans or not.",
            at.reference_date,
            thousands(at.capacity),
            thousands(at.zones)
        ),
    );
    figures_row_ui(
        ui,
        &[
            Metric {
                value: thousands(at.flagged),
                label: "families flagged",
                provenance: format!(
                    "Of {} places: a zone with fewer families to rank than places flags them all.",
                    thousands(at.capacity)
                ),
            },
            Metric {
                value: percent(at.precision()),
                label: "precision at the zones' capacities",
                provenance: format!(
                    "{} of the {} flagged families had a child who escalated within the year.",
                    thousands(at.flagged_escalated),
                    thousands(at.flagged)
                ),
            },
            Metric {
                value: percent(at.recall()),
                label: "recall at the zones' capacities",
                provenance: format!(
                    "Of the {} families in a zone with a child who escalated within the year, \
                     the share flagged.",
                    thousands(at.escalated)
                ),
            },
        ],
    );
}

/// Headline figures in one row, each a large value over its name, with where it
/// comes from on hover: more compact than cards, so the charts stay on screen.
fn figures_row_ui(ui: &mut egui::Ui, metrics: &[Metric]) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 28.0;
        for metric in metrics {
            ui.vertical(|ui| {
                ui.label(RichText::new(&metric.value).size(22.0).strong());
                ui.label(RichText::new(metric.label).weak());
            })
            .response
            .on_hover_text(&metric.provenance);
        }
    });
}

/// Both kinds refitted on the training date, on the held-out date.
fn kinds_ui(ui: &mut egui::Ui, model: &RiskModelFile) {
    egui::Grid::new("by_kind").striped(true).show(ui, |ui| {
        ui.strong("Refitted on the training date");
        ui.strong("ROC AUC");
        ui.strong("Average precision");
        ui.strong("Brier score");
        ui.end_row();
        for k in &model.held_out_by_kind {
            ui.label(&k.description);
            ui.label(figure(k.roc_auc));
            ui.label(figure(k.average_precision));
            ui.label(figure(k.brier_score));
            ui.end_row();
        }
    });
}

/// Mean score against observed rate in ten bins of children, with the diagonal.
fn calibration_ui(ui: &mut egui::Ui, e: &Evaluation) {
    section_heading_ui(
        ui,
        "Calibration",
        "Children in ten equal bins by score: mean score (across) against the share who escalated (up). On the diagonal, scores mean what they say.",
    );
    let top = e
        .calibration
        .iter()
        .map(|b| b.mean_score.max(b.observed_rate))
        .fold(0.05, f64::max);
    let points: Vec<[f64; 2]> = e
        .calibration
        .iter()
        .map(|b| [b.mean_score, b.observed_rate])
        .collect();
    Plot::new("calibration")
        .height(CHART_HEIGHT)
        .legend(Legend::default().position(egui_plot::Corner::RightBottom))
        .x_axis_label("mean score")
        .y_axis_label("observed rate")
        .include_x(0.0)
        .include_y(0.0)
        .include_x(top)
        .include_y(top)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(
                Line::new(
                    "perfect calibration",
                    PlotPoints::from(vec![[0.0, 0.0], [top, top]]),
                )
                .style(egui_plot::LineStyle::dashed_loose()),
            );
            plot.line(Line::new("this model", PlotPoints::from(points.clone())));
            plot.points(Points::new("bins", PlotPoints::from(points)).radius(4.0));
        });
}

/// Precision among the county's k highest-scoring families, against k.
fn precision_at_k_ui(ui: &mut egui::Ui, e: &Evaluation) {
    let capacity = (e.top_k.k_per_zone * e.top_k.zones) as f64;
    section_heading_ui(
        ui,
        "Precision down the list",
        &format!(
            "Of the county's k highest-scoring families, the share with a child who escalated. The line marks the round tables' capacity ({} families).",
            capacity
        ),
    );
    let points: Vec<[f64; 2]> = e
        .precision_at_k
        .iter()
        .map(|&(k, precision)| [k as f64, precision])
        .collect();
    let family_rate = e.positive_families as f64 / e.families.max(1) as f64;
    Plot::new("precision_at_k")
        .height(CHART_HEIGHT)
        .legend(Legend::default())
        .x_axis_label("families (k)")
        .y_axis_label("precision")
        .include_y(0.0)
        .include_y(1.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(Line::new("this model", PlotPoints::from(points)));
            plot.hline(HLine::new("a random list", family_rate));
            plot.vline(VLine::new("round-table capacity", capacity));
        });
}

/// The held-out figures by IMD decile, sex and ethnicity.
fn fairness_ui(ui: &mut egui::Ui, e: &Evaluation) {
    section_heading_ui(
        ui,
        "Fairness",
        "The same figures for each group of children. Groups with few children give unstable figures; ethnicity is known only for children in the education or social care extracts.",
    );
    egui::Grid::new("fairness").striped(true).show(ui, |ui| {
        for header in [
            "By",
            "Group",
            "Children",
            "Escalated",
            "Mean score",
            "ROC AUC",
            "Flagged",
            "Precision",
            "Recall",
        ] {
            ui.strong(header);
        }
        ui.end_row();
        for g in &e.fairness {
            ui.label(g.dimension.replace('_', " "));
            ui.label(&g.group);
            ui.label(thousands(g.children as i64));
            ui.label(format!("{} ({:.1}%)", g.positives, g.observed_rate * 100.0));
            ui.label(format!("{:.1}%", g.mean_score * 100.0));
            ui.label(figure(g.roc_auc));
            ui.label(thousands(g.at_threshold.flagged as i64));
            ui.label(percent(g.at_threshold.precision));
            ui.label(percent(g.at_threshold.recall));
            ui.end_row();
        }
    });
}
