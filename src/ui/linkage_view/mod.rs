//! Linkage: what the latest run found and how confident it is (Summary, with
//! thresholds to try), the pairs waiting for a person's verdict (Review queue), and
//! one person's records across every source (Find a person).
//!
//! The view draws what its `read` returned and its own state and returns a
//! [`LinkageAction`], which `actions` runs on the job queue: verdicts,
//! searches, opening a person and re-clustering.

mod actions;

use egui::{Color32, RichText};
use egui_plot::{Bar, BarChart, Plot, VLine};

use super::desk::{Desk, Message, Screen, waiting_ui};
use super::widgets::{Metric, metric_cards_ui, section_heading_ui};
use crate::access::{Capability, Purpose, Session};
use crate::format::thousands;
use crate::report::linkage::{LinkRunSummary, LinkageFigures, estimate_at};
use crate::report::records::{PersonHit, PersonRecords, RecordDetails, ReviewItem};
use crate::report::refresh::RefreshChanges;

const AGREE: Color32 = Color32::from_rgb(31, 158, 137);
const DIFFER: Color32 = Color32::from_rgb(230, 120, 20);
const NEUTRAL: Color32 = Color32::from_rgb(150, 150, 160);
const TOTAL: Color32 = Color32::from_rgb(59, 82, 139);

/// Match weight (log2 odds) at a match probability.
pub fn weight_at(probability: f64) -> f64 {
    (probability / (1.0 - probability)).log2()
}

/// Match probability at a match weight.
pub fn probability_at(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

/// The Linkage view's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkageTab {
    #[default]
    Summary,
    Review,
    Person,
}

/// Which threshold line is being dragged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Threshold {
    Accept,
    Review,
}

/// What the Linkage view remembers between frames.
#[derive(Debug, Clone, Default)]
pub struct LinkageState {
    pub tab: LinkageTab,
    /// Thresholds being tried, as match weights (accept, review); `None` shows the run's own.
    pub trial: Option<(f64, f64)>,
    dragging: Option<Threshold>,
    /// Index of the selected pair in the review queue.
    pub selected: usize,
    /// Verdicts recorded since the last re-clustering.
    pub decided: usize,
    /// The search box of Find a person.
    pub search: String,
    pub hits: Vec<PersonHit>,
    pub person: Option<PersonRecords>,
    /// Why the last search or record lookup failed.
    pub error: Option<String>,
    /// What the last re-clustering did, or why it or a verdict failed.
    pub message: Option<String>,
}

impl LinkageState {
    /// The thresholds on screen as weights: those being tried, else the run's.
    pub fn thresholds(&self, run: &LinkRunSummary) -> (f64, f64) {
        self.trial.unwrap_or((
            weight_at(run.accept_probability),
            weight_at(run.review_probability),
        ))
    }
}

/// Pairs loaded into the review queue at a time; a reviewer works through these
/// before the next re-clustering brings more.
const REVIEW_QUEUE_LIMIT: usize = 500;

/// What the Linkage view shows: the latest run and the pairs waiting for review.
#[derive(Debug, Clone, Default)]
pub struct LinkageData {
    pub figures: LinkageFigures,
    /// Pairs waiting for review, most probable first (at most 500).
    pub review_queue: Vec<ReviewItem>,
    /// What the latest run changed against the one before (None before a second run).
    pub refresh: Option<RefreshChanges>,
}

/// Reads the latest run and the review queue for `session` (the shell asks only
/// for a role that may open Linkage).
pub fn read(conn: &duckdb::Connection, session: &Session) -> anyhow::Result<LinkageData> {
    Ok(LinkageData {
        figures: crate::report::linkage::read_linkage(conn)?,
        review_queue: read_visible_review_queue(conn, session)?,
        refresh: crate::report::refresh::read_latest(conn)?,
    })
}

/// The pairs of named records waiting for review, for those who review linkage,
/// read through `access::person_query` (which records the read first); nothing is
/// read or recorded before a linkage run or for other roles.
fn read_visible_review_queue(
    conn: &duckdb::Connection,
    session: &Session,
) -> anyhow::Result<Vec<ReviewItem>> {
    let linked = crate::store::scalar_i64(conn, "SELECT count(*) FROM app.link_run")?;
    if !session.role.may(Capability::RunPipeline) || linked == 0 {
        return Ok(Vec::new());
    }
    let purpose = Purpose {
        action: crate::audit::Action::SearchPersons,
        subject: "pairs of records waiting in the linkage review queue".to_string(),
        reason: None,
    };
    Ok(crate::access::person_query(
        conn,
        session,
        &purpose,
        |conn, visible| {
            crate::report::records::read_review_queue(conn, visible, REVIEW_QUEUE_LIMIT)
        },
    )?)
}

/// People listed by a search.
const SEARCH_LIMIT: usize = 100;

/// Searches people for `text` (a scan of every person, on a worker) through
/// the one door: recorded before any name is on screen, and limited to the
/// zones and masking `session` is given.
pub fn search(
    conn: &duckdb::Connection,
    session: &Session,
    text: &str,
) -> anyhow::Result<Vec<PersonHit>> {
    let purpose = Purpose {
        action: crate::audit::Action::SearchPersons,
        subject: text.trim().to_string(),
        reason: None,
    };
    Ok(crate::access::person_query(
        conn,
        session,
        &purpose,
        |conn, visible| crate::report::records::search_persons(conn, visible, text, SEARCH_LIMIT),
    )?)
}

/// Reads one person's records in every source through the one door (recorded
/// before they are shown); `None` when the person is outside `session`'s zones.
pub fn open_person(
    conn: &duckdb::Connection,
    session: &Session,
    person_id: &str,
) -> anyhow::Result<Option<PersonRecords>> {
    let purpose = Purpose {
        action: crate::audit::Action::OpenPerson,
        subject: person_id.to_string(),
        reason: None,
    };
    Ok(crate::access::person_query(
        conn,
        session,
        &purpose,
        |conn, visible| crate::report::records::read_person_records(conn, visible, person_id),
    )?)
}

/// What the user asked for this frame.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkageAction {
    None,
    /// Re-cluster with these match probabilities and every verdict so far.
    Apply {
        accept: f64,
        review: f64,
    },
    /// A verdict on the review queue's pair `index`.
    Decide {
        index: usize,
        same: bool,
    },
    /// Look for people matching `LinkageState::search`.
    Search,
    /// Show this person's records.
    OpenPerson(String),
}

impl Screen for LinkageState {
    fn ui(&mut self, ui: &mut egui::Ui, desk: &mut Desk<'_>) {
        let Some(linkage) = &desk.figures.linkage else {
            return waiting_ui(ui);
        };
        if let Some(message) = &self.message {
            ui.label(RichText::new(message).strong());
        }
        let busy = desk.is_busy();
        let action = linkage_ui(
            ui,
            &linkage.figures,
            &linkage.review_queue,
            linkage.refresh.as_ref(),
            self,
            busy,
        );
        self.act(action, desk);
    }

    fn receive(&mut self, message: Message, desk: &mut Desk<'_>) {
        if let Message::FindPerson(text) = message {
            self.tab = LinkageTab::Person;
            self.search = text;
            self.start_search(desk, true);
        }
    }
}

/// Draws the Linkage view.
pub fn linkage_ui(
    ui: &mut egui::Ui,
    figures: &LinkageFigures,
    queue: &[ReviewItem],
    refresh: Option<&RefreshChanges>,
    state: &mut LinkageState,
    busy: bool,
) -> LinkageAction {
    ui.label(RichText::new("Record linkage").size(22.0).strong());
    let Some(run) = &figures.run else {
        ui.label("Linkage has not run on this database. Run `zonewise link --db <file>`; the sample county is linked when it is built.");
        return LinkageAction::None;
    };
    ui.label(
        RichText::new(format!(
            "Latest run {}: pairs at or above {} match probability are the same person; from {} they go to review",
            run.finished_at,
            percent(run.accept_probability),
            percent(run.review_probability),
        ))
        .weak(),
    );
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        for (tab, label) in [
            (LinkageTab::Summary, "Summary and thresholds".to_string()),
            (
                LinkageTab::Review,
                format!("Review queue ({})", thousands(queue.len() as i64)),
            ),
            (LinkageTab::Person, "Find a person".to_string()),
        ] {
            if ui
                .add(egui::Button::selectable(
                    state.tab == tab,
                    RichText::new(label).size(15.0),
                ))
                .clicked()
            {
                state.tab = tab;
            }
        }
    });
    ui.separator();
    match state.tab {
        LinkageTab::Summary => summary_ui(ui, figures, run, refresh, state, busy),
        LinkageTab::Review => review_ui(ui, queue, state, busy),
        LinkageTab::Person => person_ui(ui, state),
    }
}

fn percent(probability: f64) -> String {
    let value = probability * 100.0;
    if (99.0..100.0).contains(&value) {
        format!("{value:.2}%")
    } else {
        format!("{value:.0}%")
    }
}

fn summary_ui(
    ui: &mut egui::Ui,
    figures: &LinkageFigures,
    run: &LinkRunSummary,
    refresh: Option<&RefreshChanges>,
    state: &mut LinkageState,
    busy: bool,
) -> LinkageAction {
    let mut action = LinkageAction::None;
    egui::ScrollArea::vertical().show(ui, |ui| {
        if let Some(refresh) = refresh {
            refresh_ui(ui, refresh);
            ui.add_space(8.0);
        }
        metric_cards_ui(
            ui,
            &[
                Metric {
                    value: thousands(run.records),
                    label: "records",
                    provenance: "Distinct source records linked (link.record)".to_string(),
                },
                Metric {
                    value: thousands(run.candidate_pairs),
                    label: "candidate pairs",
                    provenance: "Pairs from the union of the blocking rules, all scored"
                        .to_string(),
                },
                Metric {
                    value: thousands(run.accepted_pairs),
                    label: "matched pairs",
                    provenance: "Pairs at or above the acceptance probability".to_string(),
                },
                Metric {
                    value: thousands(run.review_pairs),
                    label: "pairs for review",
                    provenance:
                        "Pairs between the review and acceptance probabilities, not yet decided"
                            .to_string(),
                },
                Metric {
                    value: thousands(run.persons),
                    label: "people",
                    provenance: "Connected components of matched pairs (core.person)".to_string(),
                },
            ],
        );
        ui.columns(2, |columns| {
            histogram_ui(&mut columns[0], figures, run, state);
            // A narrower child keeps the caption clear of the window's edge and scroll bar.
            let width = (columns[1].available_width() - 24.0).clamp(200.0, 480.0);
            columns[1].vertical(|ui| {
                ui.set_max_width(width);
                action = thresholds_ui(ui, figures, run, state, busy);
            });
        });
        ui.add_space(8.0);
        overlap_ui(ui, figures);
    });
    action
}

/// "Since the last refresh": what the latest run changed against the one before,
/// the decisions that moved with their families and those a round table should check.
fn refresh_ui(ui: &mut egui::Ui, refresh: &RefreshChanges) {
    let changes = &refresh.changes;
    section_heading_ui(
        ui,
        "Since the last refresh",
        &format!(
            "The run of {} against the one of {}: people and families that continue keep their ids",
            refresh.finished_at, refresh.previous_at
        ),
    );
    let count = |n: u64| thousands(n as i64);
    metric_cards_ui(
        ui,
        &[
            Metric {
                value: count(changes.new_persons),
                label: "new people",
                provenance: "People none of whose records was linked before (app.person_change)"
                    .to_string(),
            },
            Metric {
                value: count(changes.merged_families),
                label: "families merged",
                provenance: "Families made from two or more families of the run before \
                             (app.family_change)"
                    .to_string(),
            },
            Metric {
                value: count(changes.split_families),
                label: "families split",
                provenance: "Families of the run before whose people are now in two or more"
                    .to_string(),
            },
            Metric {
                value: count(changes.moved_zone),
                label: "moved zone",
                provenance: "Families that continue but are now placed in another zone".to_string(),
            },
            Metric {
                value: count(changes.decisions_moved),
                label: "decisions moved",
                provenance: "Round-table decisions moved with their family to its new id, to \
                             the household holding most of its children"
                    .to_string(),
            },
        ],
    );
    ui.label(
        RichText::new(format!(
            "{} families kept, {} new, {} gone; {} people merged, {} split",
            count(changes.families_kept),
            count(changes.new_families),
            count(changes.gone_families),
            count(changes.merged_persons),
            count(changes.split_persons),
        ))
        .weak(),
    );
    if !refresh.to_check.is_empty() {
        ui.add_space(4.0);
        ui.colored_label(
            DIFFER,
            format!(
                "{} famil{} for the round table to check: their people went to households \
                 with as many children each, so each holds the decisions",
                refresh.to_check.len(),
                if refresh.to_check.len() == 1 {
                    "y"
                } else {
                    "ies"
                }
            ),
        );
        for family in &refresh.to_check {
            ui.label(format!(
                "{} ({}) → {}",
                family.before,
                family.kind,
                family.now.join(", ")
            ));
        }
    }
    if !refresh.moves.is_empty() {
        ui.add_space(4.0);
        egui::CollapsingHeader::new(format!(
            "Decisions moved ({})",
            thousands(refresh.moves.len() as i64)
        ))
        .id_salt("decisions_moved")
        .show(ui, |ui| {
            egui::Grid::new("decision_moves")
                .striped(true)
                .spacing([14.0, 4.0])
                .show(ui, |ui| {
                    for heading in ["Family before", "Family now", "Change", "Decisions"] {
                        ui.label(RichText::new(heading).strong());
                    }
                    ui.end_row();
                    for moved in &refresh.moves {
                        ui.label(&moved.before);
                        ui.label(&moved.now);
                        ui.label(&moved.kind);
                        ui.label(thousands(moved.decisions));
                        ui.end_row();
                    }
                });
        });
    }
}

fn histogram_ui(
    ui: &mut egui::Ui,
    figures: &LinkageFigures,
    run: &LinkRunSummary,
    state: &mut LinkageState,
) {
    section_heading_ui(
        ui,
        "Match weights of candidate pairs",
        "log2 odds that a pair is one person. Drag the lines to try other thresholds.",
    );
    let (accept_weight, review_weight) = state.thresholds(run);
    // Quarter-wide buckets are summed into bars one weight unit wide.
    let mut bars: Vec<(f64, i64)> = Vec::new();
    for bucket in &figures.weight_buckets {
        let lower = bucket.weight.floor();
        match bars.last_mut() {
            Some((last, pairs)) if *last == lower => *pairs += bucket.pairs,
            _ => bars.push((lower, bucket.pairs)),
        }
    }
    let bars = bars
        .into_iter()
        .map(|(lower, pairs)| {
            let colour = if lower >= accept_weight {
                AGREE
            } else if lower + 1.0 > review_weight {
                Color32::from_rgb(253, 174, 97)
            } else {
                NEUTRAL
            };
            Bar::new(lower + 0.5, pairs as f64)
                .width(1.0)
                .fill(colour)
                .name(format!(
                    "weight {lower:.0} to {:.0}: {} pairs",
                    lower + 1.0,
                    thousands(pairs)
                ))
        })
        .collect();
    let response = Plot::new("link_weights")
        .height(300.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .show_x(false)
        .show_y(false)
        // A labelled line every 10 weight units (bars are 1 wide), lighter lines every 5;
        // the labels are short, so they may sit closer than egui_plot's default 60 points.
        .custom_x_axes(vec![
            egui_plot::AxisHints::new_x()
                .label("match weight")
                .label_spacing(30.0..=45.0),
        ])
        .x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 5.0, 10.0]))
        .y_axis_label("pairs")
        .include_y(0.0)
        .show(ui, |plot| {
            plot.bar_chart(
                BarChart::new("pairs", bars).element_formatter(Box::new(|bar, _| bar.name.clone())),
            );
            plot.vline(
                VLine::new(
                    format!("review from {}", percent(probability_at(review_weight))),
                    review_weight,
                )
                .color(DIFFER)
                .width(3.0),
            );
            plot.vline(
                VLine::new(
                    format!("accept from {}", percent(probability_at(accept_weight))),
                    accept_weight,
                )
                .color(AGREE)
                .width(3.0),
            );
        });
    let pointer_weight = response
        .response
        .interact_pointer_pos()
        .map(|pos| response.transform.value_from_position(pos).x);
    if response.response.drag_started()
        && let Some(x) = pointer_weight
    {
        state.dragging = Some(if (x - accept_weight).abs() <= (x - review_weight).abs() {
            Threshold::Accept
        } else {
            Threshold::Review
        });
    }
    if response.response.dragged()
        && let (Some(line), Some(x)) = (state.dragging, pointer_weight)
    {
        let x = (x * 4.0).round() / 4.0;
        state.trial = Some(match line {
            Threshold::Accept => (x.max(review_weight), review_weight),
            Threshold::Review => (accept_weight, x.min(accept_weight)),
        });
    }
    if response.response.drag_stopped() {
        state.dragging = None;
    }
    if response.response.hovered() {
        ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
    }
}

fn thresholds_ui(
    ui: &mut egui::Ui,
    figures: &LinkageFigures,
    run: &LinkRunSummary,
    state: &mut LinkageState,
    busy: bool,
) -> LinkageAction {
    section_heading_ui(
        ui,
        "Thresholds",
        "What the model expects at these thresholds, before anyone re-clusters",
    );
    let (mut accept, mut review) = state.thresholds(run);
    let accept_changed = ui
        .add(
            egui::Slider::new(&mut accept, -10.0..=30.0)
                .text("accept at weight")
                .custom_formatter(|w, _| format!("{w:.2} ({})", percent(probability_at(w)))),
        )
        .changed();
    let review_changed = ui
        .add(
            egui::Slider::new(&mut review, -10.0..=30.0)
                .text("review from weight")
                .custom_formatter(|w, _| format!("{w:.2} ({})", percent(probability_at(w)))),
        )
        .changed();
    if accept_changed || review_changed {
        if accept_changed {
            review = review.min(accept);
        } else {
            accept = accept.max(review);
        }
        state.trial = Some((accept, review));
    }
    let at_accept = estimate_at(&figures.weight_buckets, accept);
    let at_review = estimate_at(&figures.weight_buckets, review);
    ui.add_space(6.0);
    egui::Grid::new("threshold_estimates")
        .num_columns(2)
        .spacing([16.0, 6.0])
        .striped(true)
        .show(ui, |ui| {
            ui.label("Pairs accepted");
            ui.label(RichText::new(thousands(at_accept.accepted_pairs)).strong());
            ui.end_row();
            ui.label("Pairs for review");
            ui.label(
                RichText::new(thousands(
                    at_review.accepted_pairs - at_accept.accepted_pairs,
                ))
                .strong(),
            );
            ui.end_row();
            ui.label("Estimated precision")
                .on_hover_text("Expected share of accepted pairs that are the same person");
            ui.label(RichText::new(format!("{:.2}%", at_accept.precision * 100.0)).strong());
            ui.end_row();
            ui.label("Estimated recall").on_hover_text(
                "Expected share of the true matches among candidate pairs that are accepted",
            );
            ui.label(RichText::new(format!("{:.2}%", at_accept.recall * 100.0)).strong());
            ui.end_row();
        });
    ui.add_space(4.0);
    ui.add(
        egui::Label::new(
            RichText::new(
                "Estimates take each pair's match probability at face value, so they are only as good as \
                 the model's calibration, and they cannot count true matches that no blocking rule paired. \
                 On synthetic data, `zonewise evaluate-linkage` measures the real figures.",
            )
            .weak()
            .small(),
        )
        .wrap(),
    );
    ui.add_space(6.0);
    let changed = state.trial.is_some();
    ui.horizontal(|ui| {
        let label = match (changed, state.decided) {
            (_, 0) => "Apply thresholds".to_string(),
            (false, n) => format!("Apply {n} review decision(s)"),
            (true, n) => format!("Apply thresholds and {n} decision(s)"),
        };
        let apply = ui
            .add_enabled(
                !busy && (changed || state.decided > 0),
                egui::Button::new(RichText::new(label).strong()),
            )
            .on_hover_text(
                "Re-clusters people and families with these thresholds and every review decision; scores are not recomputed",
            );
        if ui
            .add_enabled(changed, egui::Button::new("Reset"))
            .clicked()
        {
            state.trial = None;
        }
        if apply.clicked() {
            return LinkageAction::Apply {
                accept: probability_at(accept),
                review: probability_at(review),
            };
        }
        LinkageAction::None
    })
    .inner
}

fn overlap_ui(ui: &mut egui::Ui, figures: &LinkageFigures) {
    section_heading_ui(
        ui,
        "Who knows whom: match rates between sources",
        "Share of each row agency's people who also have a record with the column agency",
    );
    egui::Grid::new("overlap")
        .striped(true)
        .spacing([10.0, 6.0])
        .show(ui, |ui| {
            ui.label("");
            for source in &figures.sources {
                ui.label(RichText::new(short(source)).strong());
            }
            ui.end_row();
            for (i, source) in figures.sources.iter().enumerate() {
                ui.label(RichText::new(source).strong());
                for (j, other) in figures.sources.iter().enumerate() {
                    let share = figures.overlap[i][j];
                    if i == j {
                        ui.label(RichText::new("–").weak());
                    } else {
                        ui.label(format!("{:.0}%", share * 100.0)).on_hover_text(format!(
                            "{:.1}% of the people known to {source} also have a record in {other}",
                            share * 100.0
                        ));
                    }
                }
                ui.end_row();
            }
        });
}

/// Column headings short enough for a matrix.
fn short(source: &str) -> String {
    match source {
        "public_health" => "public h.".to_string(),
        "social_care" => "social care".to_string(),
        other => other.to_string(),
    }
}

fn review_ui(
    ui: &mut egui::Ui,
    queue: &[ReviewItem],
    state: &mut LinkageState,
    busy: bool,
) -> LinkageAction {
    if queue.is_empty() {
        ui.add_space(12.0);
        ui.label(RichText::new("No pairs are waiting for review.").size(16.0));
        if state.decided > 0 {
            ui.label(format!(
                "{} decision(s) are recorded; apply them on the Summary tab to re-cluster.",
                state.decided
            ));
        }
        return LinkageAction::None;
    }
    state.selected = state.selected.min(queue.len() - 1);
    let mut action = LinkageAction::None;
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            ui.set_width(300.0);
            ui.label(
                RichText::new(format!(
                    "{} pairs, most probable first",
                    thousands(queue.len() as i64)
                ))
                .weak(),
            );
            egui::ScrollArea::vertical()
                .id_salt("review_list")
                .max_height(ui.available_height() - 8.0)
                .show(ui, |ui| {
                    for (index, item) in queue.iter().enumerate() {
                        let text = format!(
                            "{}  {} · {}",
                            percent(item.pair.match_probability),
                            name_of(&item.left),
                            name_of(&item.right)
                        );
                        let button = egui::Button::selectable(state.selected == index, text);
                        if ui.add_sized([290.0, 22.0], button).clicked() {
                            state.selected = index;
                        }
                    }
                });
        });
        ui.separator();
        ui.vertical(|ui| {
            egui::ScrollArea::vertical()
                .id_salt("review_pair")
                .show(ui, |ui| {
                    let item = &queue[state.selected];
                    action = pair_ui(ui, item, state, queue.len(), busy);
                });
        });
    });
    action
}

fn name_of(record: &RecordDetails) -> String {
    format!(
        "{} {}",
        record.given_name.as_deref().unwrap_or("?"),
        record.family_name.as_deref().unwrap_or("?")
    )
}

fn pair_ui(
    ui: &mut egui::Ui,
    item: &ReviewItem,
    state: &mut LinkageState,
    queue_len: usize,
    busy: bool,
) -> LinkageAction {
    ui.label(
        RichText::new(format!(
            "Pair {} of {}: match probability {} (weight {:.1})",
            state.selected + 1,
            thousands(queue_len as i64),
            percent(item.pair.match_probability),
            item.pair.match_weight
        ))
        .size(17.0)
        .strong(),
    );
    ui.add_space(4.0);
    egui::Grid::new("pair_side_by_side")
        .num_columns(3)
        .striped(true)
        .spacing([18.0, 5.0])
        .show(ui, |ui| {
            ui.label("");
            ui.label(RichText::new(&item.left.source).strong());
            ui.label(RichText::new(&item.right.source).strong());
            ui.end_row();
            for ((label, left), (_, right)) in
                item.left.fields().into_iter().zip(item.right.fields())
            {
                ui.label(RichText::new(label).weak());
                let colour = match (left, right) {
                    _ if label == "Record" => None,
                    (Some(a), Some(b)) if a == b => Some(AGREE),
                    (Some(_), Some(_)) => Some(DIFFER),
                    _ => None,
                };
                for value in [left, right] {
                    let text = RichText::new(value.unwrap_or("—"));
                    ui.label(match (colour, value) {
                        (Some(colour), Some(_)) => text.color(colour).strong(),
                        (_, None) => text.weak(),
                        _ => text,
                    });
                }
                ui.end_row();
            }
        });
    ui.add_space(8.0);
    let mut action = LinkageAction::None;
    ui.horizontal(|ui| {
        let typing = ui.ctx().memory(|m| m.focused().is_some());
        let ctx = ui.ctx().clone();
        let key = |k: egui::Key| !typing && ctx.input(|i| i.key_pressed(k));
        let same = ui
            .add_enabled(
                !busy,
                egui::Button::new(RichText::new("Same person  (S)").strong().color(AGREE)),
            )
            .clicked()
            || (!busy && key(egui::Key::S));
        let different = ui
            .add_enabled(
                !busy,
                egui::Button::new(
                    RichText::new("Different people  (D)")
                        .strong()
                        .color(DIFFER),
                ),
            )
            .clicked()
            || (!busy && key(egui::Key::D));
        let skip = ui.button("Skip  (N)").clicked() || key(egui::Key::N);
        if same || different {
            action = LinkageAction::Decide {
                index: state.selected,
                same,
            };
        } else if skip {
            state.selected = (state.selected + 1) % queue_len;
        }
        if state.decided > 0 {
            ui.label(
                RichText::new(format!(
                    "{} decided; apply on the Summary tab to re-cluster",
                    state.decided
                ))
                .weak(),
            );
        }
    });
    ui.add_space(8.0);
    waterfall_ui(ui, item);
    action
}

/// How each comparison moved the pair's weight: the prior, a bar per comparison
/// from where the previous one ended, and the total.
fn waterfall_ui(ui: &mut egui::Ui, item: &ReviewItem) {
    section_heading_ui(
        ui,
        "Why this score",
        "Each comparison adds or takes away weight (log2 odds) from the prior",
    );
    let explanation = &item.pair.explanation;
    let mut steps: Vec<(String, String, f64)> = vec![(
        "prior".to_string(),
        "two random records".to_string(),
        explanation.prior,
    )];
    steps.extend(explanation.contributions.iter().map(|c| {
        (
            c.comparison.replace('_', " "),
            c.label.to_string(),
            c.weight,
        )
    }));
    let mut start = 0.0;
    let mut bars: Vec<Bar> = steps
        .iter()
        .enumerate()
        .map(|(i, (name, label, weight))| {
            let bar = Bar::new(i as f64, *weight)
                .base_offset(start)
                .width(0.7)
                .fill(if *weight >= 0.0 { AGREE } else { DIFFER })
                .name(format!("{name}: {label}, {weight:+.2}"));
            start += weight;
            bar
        })
        .collect();
    let total = explanation.total();
    bars.push(
        Bar::new(steps.len() as f64, total)
            .width(0.7)
            .fill(TOTAL)
            .name(format!("total: {total:+.2}")),
    );
    let names: Vec<String> = steps
        .iter()
        .map(|(name, _, _)| name.clone())
        .chain(std::iter::once("total".to_string()))
        .collect();
    Plot::new("waterfall")
        .height(220.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .show_x(false)
        .show_y(false)
        .y_axis_label("weight")
        .x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 1.0, 1.0]))
        .x_axis_formatter(move |mark, _| {
            let index = mark.value.round();
            if (mark.value - index).abs() < 1e-6 && index >= 0.0 {
                names.get(index as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .show(ui, |plot| {
            plot.bar_chart(
                BarChart::new("weights", bars)
                    .element_formatter(Box::new(|bar, _| bar.name.clone())),
            );
        });
    ui.add_space(6.0);
    egui::Grid::new("waterfall_table")
        .num_columns(3)
        .striped(true)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            for (name, label, weight) in &steps {
                ui.label(RichText::new(name).strong());
                ui.label(label);
                ui.label(
                    RichText::new(format!("{weight:+.2}")).color(if *weight >= 0.0 {
                        AGREE
                    } else {
                        DIFFER
                    }),
                );
                ui.end_row();
            }
            ui.label(RichText::new("total").strong());
            ui.label(format!(
                "{} match probability",
                percent(item.pair.match_probability)
            ));
            ui.label(RichText::new(format!("{total:+.2}")).strong().color(TOTAL));
            ui.end_row();
        });
}

fn person_ui(ui: &mut egui::Ui, state: &mut LinkageState) -> LinkageAction {
    let mut action = LinkageAction::None;
    ui.horizontal(|ui| {
        let field = ui.add(
            egui::TextEdit::singleline(&mut state.search)
                .hint_text("Name, person id, NHS number or a source record id")
                .desired_width(360.0),
        );
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Search").clicked() || entered {
            action = LinkageAction::Search;
        }
    });
    if let Some(error) = &state.error {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
    ui.add_space(6.0);
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            ui.set_width(300.0);
            if state.hits.is_empty() {
                ui.label(
                    RichText::new("Search for a person to see every record linked to them.").weak(),
                );
            }
            egui::ScrollArea::vertical()
                .id_salt("person_hits")
                .max_height(ui.available_height() - 8.0)
                .show(ui, |ui| {
                    for hit in &state.hits {
                        let open = state
                            .person
                            .as_ref()
                            .is_some_and(|p| p.person_id == hit.person_id);
                        let text = format!(
                            "{} · {} · {} record{}",
                            hit.name,
                            hit.birth_date.as_deref().unwrap_or("no birth date"),
                            hit.source_records,
                            if hit.source_records == 1 { "" } else { "s" }
                        );
                        if ui
                            .add_sized([290.0, 22.0], egui::Button::selectable(open, text))
                            .on_hover_text(format!(
                                "{} in family {}, {}",
                                hit.person_id,
                                hit.family_id.as_deref().unwrap_or("—"),
                                hit.postcode.as_deref().unwrap_or("no postcode")
                            ))
                            .clicked()
                        {
                            action = LinkageAction::OpenPerson(hit.person_id.clone());
                        }
                    }
                });
        });
        ui.separator();
        ui.vertical(|ui| {
            if let Some(person) = &state.person {
                person_records_ui(ui, person);
            }
        });
    });
    action
}

fn person_records_ui(ui: &mut egui::Ui, person: &PersonRecords) {
    ui.label(
        RichText::new(format!(
            "{}: {} records in {} sources",
            person.person_id,
            person.records.len(),
            {
                let mut sources: Vec<&str> =
                    person.records.iter().map(|r| r.source.as_str()).collect();
                sources.dedup();
                sources.len()
            }
        ))
        .size(17.0)
        .strong(),
    );
    ui.add_space(4.0);
    egui::ScrollArea::horizontal()
        .id_salt("person_records")
        .show(ui, |ui| {
            egui::Grid::new("person_records_grid")
                .striped(true)
                .spacing([14.0, 5.0])
                .show(ui, |ui| {
                    ui.label(RichText::new("Source").strong());
                    for (label, _) in RecordDetails::default().fields() {
                        ui.label(RichText::new(label).strong());
                    }
                    ui.end_row();
                    for record in &person.records {
                        ui.label(&record.source);
                        for (_, value) in record.fields() {
                            ui.label(value.map_or(RichText::new("—").weak(), RichText::new));
                        }
                        ui.end_row();
                    }
                });
        });
    ui.add_space(8.0);
    section_heading_ui(
        ui,
        "How the records are linked",
        "Scored pairs among this person's records; records can also be linked through others",
    );
    egui::Grid::new("person_links")
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for heading in ["Record", "Record", "Match probability", ""] {
                ui.label(RichText::new(heading).strong());
            }
            ui.end_row();
            for link in &person.links {
                ui.label(&link.l_key);
                ui.label(&link.r_key);
                ui.label(percent(link.match_probability));
                ui.label(RichText::new(link.how).weak());
                ui.end_row();
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_and_probabilities_convert_both_ways() {
        for p in [0.5, 0.8, 0.95, 0.999] {
            assert!((probability_at(weight_at(p)) - p).abs() < 1e-12);
        }
        assert_eq!(weight_at(0.5), 0.0);
    }
}
