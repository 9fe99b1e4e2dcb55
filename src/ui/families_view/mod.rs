//! Families: a senior manager's drill-down from the whole authority to one child.
//! Each area level (authority, zone, LSOA) shows its headline figures, the areas one
//! level down, and the families in it ranked by risk, filterable by criterion,
//! agency and score; a family opens its single view (`family_page`), and a child
//! in it the child's own page. Breadcrumbs lead back up.

mod actions;
pub mod drill;
mod family_list;
mod family_page;
mod family_path;

use egui::RichText;

use crate::access::{Purpose, Session};
use crate::report::families::FamiliesFigures;
use crate::report::family_detail::FamilyDetail;
use crate::ui::desk::{Desk, Message, Screen, waiting_ui};
use crate::ui::widgets::{Metric, metric_cards_ui};
pub use actions::wanted_family;
pub use drill::{Filters, Level, Scope};
pub(crate) use family_list::score_ui;
pub(crate) use family_path::family_path_ui;

/// Width of the table of zones or LSOAs beside the family list.
const SUB_AREA_WIDTH: f32 = 420.0;

/// The Families view's path, filters and the open family.
#[derive(Debug, Default)]
pub struct FamiliesState {
    pub scope: Scope,
    pub filters: Filters,
    /// The open family's single view (read when it was opened).
    pub detail: Option<FamilyDetail>,
    /// Why the family could not be read.
    pub error: Option<String>,
}

impl Screen for FamiliesState {
    fn ui(&mut self, ui: &mut egui::Ui, desk: &mut Desk<'_>) {
        let Some(families) = &desk.figures.families else {
            return waiting_ui(ui);
        };
        let county = desk
            .figures
            .overview
            .as_ref()
            .map_or("", |o| o.county.as_str());
        let action = families_ui(ui, families, county, self);
        self.act(action, desk);
    }

    fn receive(&mut self, message: Message, desk: &mut Desk<'_>) {
        match message {
            Message::OpenFamily(wanted) => self.open_wanted(desk, &wanted),
            Message::ShowArea { zone, lsoa } => {
                self.scope = Scope {
                    zone,
                    lsoa: Some(lsoa),
                    ..Scope::default()
                };
            }
            Message::FindPerson(_) => {}
        }
    }
}

/// What the user asked the view to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FamiliesAction {
    None,
    /// Read this family's single view and show it (a case opening: audited).
    OpenFamily(String),
    /// Show the child's page of the open family (a person's records opened: audited).
    OpenChild(String),
}

/// Reads the families of the current round that `session` may see, through
/// `access::person_query` (which records the read in the audit log first). The
/// Round table shows the same families: one read serves both views.
pub fn read(conn: &duckdb::Connection, session: &Session) -> anyhow::Result<FamiliesFigures> {
    // Roles that see no person (commissioners) get no family list at all, and
    // nothing is read (or recorded) before any family has been assessed.
    let assessed = crate::store::scalar_i64(conn, "SELECT count(*) FROM mart.family_criterion")?;
    if session.visibility().is_err() || assessed == 0 {
        return Ok(FamiliesFigures::default());
    }
    let purpose = Purpose::listing("families of the current round (Families and Round table)");
    Ok(crate::access::person_query(
        conn,
        session,
        &purpose,
        crate::report::families::read_families,
    )?)
}

/// Reads `family_id`'s single view on the round of `date` for `purpose` (on a
/// worker), through `access::person_query`, which records the opening first;
/// `None` when the family is outside `session`'s zones.
pub fn read_family(
    conn: &duckdb::Connection,
    session: &Session,
    purpose: &Purpose,
    family_id: &str,
    date: &str,
) -> anyhow::Result<Option<FamilyDetail>> {
    Ok(crate::access::person_query(
        conn,
        session,
        purpose,
        |conn, visibility| {
            crate::report::family_detail::read_visible_family(conn, visibility, family_id, date)
        },
    )?)
}

/// Draws the view.
pub fn families_ui(
    ui: &mut egui::Ui,
    figures: &FamiliesFigures,
    county: &str,
    state: &mut FamiliesState,
) -> FamiliesAction {
    let Some(date) = figures.current.as_deref() else {
        ui.heading("Families");
        ui.label(
            "No families have been assessed yet: run `zonewise criteria` (and `zonewise score`) \
             on this database, or open the sample county.",
        );
        return FamiliesAction::None;
    };
    breadcrumbs_ui(ui, figures, county, state);
    ui.separator();
    if let Some(error) = &state.error {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
    match state.scope.level() {
        Level::Family | Level::Child => match &state.detail {
            Some(detail) if Some(&detail.family_id) == state.scope.family.as_ref() => {
                family_page::family_page_ui(ui, figures, detail, &state.scope)
            }
            _ => {
                ui.label("Reading the family…");
                FamiliesAction::None
            }
        },
        _ => area_ui(ui, figures, county, date, state),
    }
}

/// "Dorset › North zone › E01012345 › Smith family › Amy": each crumb but the last goes back up.
fn breadcrumbs_ui(
    ui: &mut egui::Ui,
    figures: &FamiliesFigures,
    county: &str,
    state: &mut FamiliesState,
) {
    let scope = state.scope.clone();
    let mut crumbs: Vec<(Level, String)> = vec![(Level::Authority, county.to_string())];
    if let Some(zone) = &scope.zone {
        crumbs.push((Level::Zone, figures.zone_name(zone).to_string()));
    }
    if let Some(lsoa) = &scope.lsoa {
        crumbs.push((Level::Lsoa, lsoa.clone()));
    }
    if let Some(family) = &scope.family {
        let name = figures
            .family(family)
            .map_or_else(|| family.clone(), |f| f.display_name());
        crumbs.push((Level::Family, name));
    }
    if let Some(child) = &scope.child {
        let name = state
            .detail
            .as_ref()
            .and_then(|d| d.member(child))
            .map_or_else(|| child.clone(), |m| m.full_name());
        crumbs.push((Level::Child, name));
    }
    ui.horizontal_wrapped(|ui| {
        let last = crumbs.len() - 1;
        for (index, (level, name)) in crumbs.into_iter().enumerate() {
            if index > 0 {
                ui.label(RichText::new("›").weak());
            }
            if index == last {
                ui.label(RichText::new(name).strong().size(16.0));
            } else if ui.link(RichText::new(name).size(16.0)).clicked() {
                state.scope = scope.up_to(level);
            }
        }
    });
}

/// An area level: headline figures, the areas one level down, and the ranked families.
fn area_ui(
    ui: &mut egui::Ui,
    figures: &FamiliesFigures,
    county: &str,
    date: &str,
    state: &mut FamiliesState,
) -> FamiliesAction {
    let total = drill::summarise(figures, &state.scope);
    let area = match state.scope.level() {
        Level::Authority => county.to_string(),
        Level::Zone => state
            .scope
            .zone
            .as_deref()
            .map_or_else(String::new, |z| figures.zone_name(z).to_string()),
        _ => state.scope.lsoa.clone().unwrap_or_default(),
    };
    let place = match state.scope.level() {
        Level::Authority => String::new(),
        _ => format!("{area}: "),
    };
    ui.label(
        RichText::new(format!(
            "{place}families with a child under 18, as the records stood on {}",
            long_date(date)
        ))
        .weak(),
    );
    metric_cards_ui(ui, &headline_metrics(figures, &total));
    let subs = drill::sub_areas(figures, &state.scope);
    let mut action = FamiliesAction::None;
    if subs.is_empty() {
        action = family_list::family_list_ui(ui, figures, state);
    } else {
        let height = ui.available_height();
        ui.horizontal_top(|ui| {
            let table = egui::vec2(SUB_AREA_WIDTH, height);
            let picked = ui
                .allocate_ui(table, |ui| {
                    ui.vertical(|ui| sub_area_table_ui(ui, state, &subs)).inner
                })
                .inner;
            if let Some(scope) = picked {
                state.scope = scope;
            }
            ui.separator();
            ui.vertical(|ui| action = family_list::family_list_ui(ui, figures, state));
        });
    }
    action
}

/// "2026-04-01" → "1 April 2026".
pub(crate) fn long_date(date: &str) -> String {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_or_else(|_| date.to_string(), |d| d.format("%-d %B %Y").to_string())
}

/// "20 families a round" or "20 in most zones, 12 in Hounslow West".
fn capacities(figures: &FamiliesFigures) -> String {
    let mut counts: std::collections::BTreeMap<u32, Vec<&str>> = Default::default();
    for zone in &figures.zones {
        counts.entry(zone.capacity).or_default().push(&zone.name);
    }
    let most = counts
        .iter()
        .max_by_key(|(capacity, zones)| (zones.len(), std::cmp::Reverse(**capacity)))
        .map(|(capacity, _)| *capacity)
        .unwrap_or(crate::report::flags::DEFAULT_CAPACITY);
    let others: Vec<String> = counts
        .iter()
        .filter(|(capacity, _)| **capacity != most)
        .map(|(capacity, zones)| format!("{capacity} in {}", zones.join(", ")))
        .collect();
    if others.is_empty() {
        format!("{most} families a round")
    } else {
        format!(
            "{most} families a round in most zones, {}",
            others.join("; ")
        )
    }
}

fn headline_metrics(figures: &FamiliesFigures, total: &drill::AreaFigures) -> Vec<Metric> {
    let n = |v: u64| crate::format::thousands(v as i64);
    vec![
        Metric {
            value: n(total.families),
            label: "families with a child",
            provenance: "Families in core.family with a child under 18 on the reference date."
                .to_string(),
        },
        Metric {
            value: n(total.flagged),
            label: "flagged for review",
            provenance: format!(
                "Families among their zone's top families by score, then criteria met, within \
                 the zone's round-table capacity ({}); families in a plan are not ranked. \
                 The same families as on the round tables' agendas.",
                capacities(figures)
            ),
        },
        Metric {
            value: n(total.eligible),
            label: "meet the criteria",
            provenance: format!(
                "{}: families meeting at least {} criteria (evidence before the reference date).",
                figures.rule_set_title, figures.eligible_at
            ),
        },
        Metric {
            value: if figures.model_id.is_some() {
                n(total.model_flagged)
            } else {
                "–".to_string()
            },
            label: "above the model's threshold",
            provenance: match &figures.model_id {
                Some(model) => format!(
                    "Families with a child at or above the threshold of {model} (set for the \
                     capacity it was trained at); what is flagged is decided by each zone's capacity."
                ),
                None => "No model has scored this date: run `zonewise score`.".to_string(),
            },
        },
        Metric {
            value: format!("{:.1}", total.mean_criteria()),
            label: "criteria met, mean",
            provenance: "Criteria met per family, averaged over the families here.".to_string(),
        },
        Metric {
            value: n(total.multi_agency),
            label: "known to 2+ agencies",
            provenance: "Families with records beyond universal services from two or more \
                         agencies in the 12 months before the reference date."
                .to_string(),
        },
        Metric {
            value: n(total.decided),
            label: "decisions taken",
            provenance: "Families with a round-table decision recorded.".to_string(),
        },
    ]
}

/// The zones of the authority or LSOAs of a zone; a click drills into one.
fn sub_area_table_ui(
    ui: &mut egui::Ui,
    state: &FamiliesState,
    subs: &[drill::SubArea],
) -> Option<Scope> {
    let mut chosen = None;
    let heading = match state.scope.level() {
        Level::Authority => "Zones",
        _ => "LSOAs",
    };
    ui.label(RichText::new(heading).strong().size(15.0));
    egui::ScrollArea::vertical()
        .id_salt("sub_areas")
        .show(ui, |ui| {
            egui::Grid::new("sub_area_grid")
                .striped(true)
                .num_columns(6)
                .show(ui, |ui| {
                    for title in [
                        "Area",
                        "Families",
                        "Flagged",
                        "Mean criteria",
                        "2+ agencies",
                        "Decided",
                    ] {
                        ui.label(RichText::new(title).strong());
                    }
                    ui.end_row();
                    for sub in subs {
                        let label = match sub.imd_decile {
                            Some(decile) if state.scope.level() == Level::Zone => {
                                format!("{} (IMD {decile})", sub.name)
                            }
                            _ => sub.name.clone(),
                        };
                        if ui.link(label).clicked() {
                            let mut scope = state.scope.clone();
                            match state.scope.level() {
                                Level::Authority => scope.zone = Some(sub.code.clone()),
                                _ => scope.lsoa = Some(sub.code.clone()),
                            }
                            chosen = Some(scope);
                        }
                        let f = &sub.figures;
                        ui.label(f.families.to_string());
                        ui.label(f.flagged.to_string());
                        ui.label(format!("{:.1}", f.mean_criteria()));
                        ui.label(f.multi_agency.to_string());
                        ui.label(f.decided.to_string());
                        ui.end_row();
                    }
                });
        });
    chosen
}
