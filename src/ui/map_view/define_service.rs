//! "Define a service…" and "Edit…" (analysts only): a window over the map where
//! an analyst describes a service as data — who is eligible by age, sex and
//! area, and which of the database's event types count as invited and attended
//! within a look-back — sees the counts it would give and what saving it would
//! withhold of the services sharing its people (worked out on a job each time
//! the definition changes), and saves it (or, editing a saved service, its
//! changes) for everyone's map and, if chosen, into a services file
//! (`uptake::saved`, `uptake::service::write_into_file`); and the confirmation
//! before a saved service is deleted. The core refuses these to any other role;
//! the form is only drawn for analysts.

use std::collections::BTreeSet;
use std::path::PathBuf;

use egui::RichText;

use super::{MapAction, MapState};
use crate::uptake::defined::{Area, Choices, Definition, Eligible, MAX_AGE, MAX_YEARS, Sex};
use crate::uptake::saved::Preview;
use crate::uptake::service::{self, Counting, Service};

/// What a new service is called while it is previewed: not a valid service
/// name, so never a saved one's.
const NEW_SERVICE: &str = "(new service)";

/// Where eligible people live, as the form chooses it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AreaChoice {
    #[default]
    Whole,
    Authorities,
    Zones,
}

/// The form's fields, what it read and what its jobs returned.
#[derive(Debug, Default)]
pub struct ServiceForm {
    /// The window is shown.
    pub open: bool,
    /// The saved service being edited (its name, which stays), or `None` for a
    /// new one.
    pub editing: Option<String>,
    pub name: String,
    pub title: String,
    /// Left empty, the definition in words is the description.
    pub description: String,
    pub min_age: u32,
    pub max_age: u32,
    pub sex: Sex,
    pub area: AreaChoice,
    pub authorities: BTreeSet<String>,
    pub zones: BTreeSet<String>,
    pub invited: BTreeSet<String>,
    pub attended: BTreeSet<String>,
    /// Only events within `years` before the reference date count.
    pub limit_years: bool,
    pub years: u32,
    /// A services file to write the service into as well, when chosen.
    pub file: Option<PathBuf>,
    /// The database's event types, authorities and zones, once read.
    pub choices: Option<Result<Choices, String>>,
    /// The counts the last definition asked for would give.
    pub preview: Option<(Definition, Result<Preview, String>)>,
    /// The definition whose counts were last asked for (the job may still run).
    pub(super) previewing: Option<Definition>,
    /// What the last save did.
    pub message: Option<Result<String, String>>,
    pub(super) saving: bool,
}

impl ServiceForm {
    /// An empty form for people aged 40–74, events in the five years before the date.
    pub fn new() -> ServiceForm {
        ServiceForm {
            open: true,
            min_age: 40,
            max_age: 74,
            limit_years: true,
            years: 5,
            ..ServiceForm::default()
        }
    }

    /// NHS Health Checks for women, filled in: what `--define-service` opens on.
    pub fn example() -> ServiceForm {
        let events = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        ServiceForm {
            name: "health_check_women".to_string(),
            title: "NHS Health Check, women".to_string(),
            sex: Sex::Female,
            invited: events(&["health_check_invited", "health_check_attended"]),
            attended: events(&["health_check_attended"]),
            ..ServiceForm::new()
        }
    }

    /// The form opened on a saved service, to change it; `None` for a service
    /// not defined as data (the built-ins are, but are never edited).
    pub fn editing(service: &Service) -> Option<ServiceForm> {
        let Counting::Defined(definition) = &service.counting else {
            return None;
        };
        let e = &definition.eligible;
        let (area, authorities, zones) = match &e.area {
            Area::Whole => (AreaChoice::Whole, BTreeSet::new(), BTreeSet::new()),
            Area::Authorities(codes) => (
                AreaChoice::Authorities,
                codes.iter().cloned().collect(),
                BTreeSet::new(),
            ),
            Area::Zones(codes) => (
                AreaChoice::Zones,
                BTreeSet::new(),
                codes.iter().cloned().collect(),
            ),
        };
        // A description that is the definition in words is left to be made again.
        let description = if service.description.trim() == definition.describe() {
            String::new()
        } else {
            service.description.trim().to_string()
        };
        Some(ServiceForm {
            open: true,
            editing: Some(service.name.clone()),
            name: service.name.clone(),
            title: service.title.clone(),
            description,
            min_age: e.min_age,
            max_age: e.max_age,
            sex: e.sex,
            area,
            authorities,
            zones,
            invited: definition.invited_events.iter().cloned().collect(),
            attended: definition.attended_events.iter().cloned().collect(),
            limit_years: definition.within_years.is_some(),
            years: definition.within_years.unwrap_or(5),
            ..ServiceForm::default()
        })
    }

    /// The name the form's preview counts its service under: the saved one
    /// being edited (so that it stands in for it), else one no saved service
    /// can have (so that it is counted beside them all).
    pub fn preview_name(&self) -> String {
        self.editing
            .clone()
            .unwrap_or_else(|| NEW_SERVICE.to_string())
    }

    /// The definition the fields describe, or what is wrong with it.
    pub fn definition(&self) -> Result<Definition, String> {
        let area = match self.area {
            AreaChoice::Whole => Area::Whole,
            AreaChoice::Authorities => {
                Area::Authorities(self.authorities.iter().cloned().collect())
            }
            AreaChoice::Zones => Area::Zones(self.zones.iter().cloned().collect()),
        };
        let definition = Definition {
            eligible: Eligible {
                min_age: self.min_age,
                max_age: self.max_age,
                sex: self.sex,
                area,
            },
            invited_events: self.invited.iter().cloned().collect(),
            attended_events: self.attended.iter().cloned().collect(),
            within_years: self.limit_years.then_some(self.years),
        };
        match definition.shape_error() {
            Some(error) => Err(error),
            None => Ok(definition),
        }
    }

    /// The service the form describes, ready to save, or what is wrong with it.
    pub fn service(&self) -> Result<Service, String> {
        let definition = self.definition()?;
        if let Some(error) = service::name_error(self.name.trim()) {
            return Err(error);
        }
        if self.title.trim().is_empty() {
            return Err("give the service a title, as the map will show it".to_string());
        }
        let description = match self.description.trim() {
            "" => definition.describe(),
            given => given.to_string(),
        };
        Ok(Service {
            name: self.name.trim().to_string(),
            title: self.title.trim().to_string(),
            description,
            counting: Counting::Defined(definition),
            file: PathBuf::from(crate::uptake::saved::SAVED_PLACE),
            lines: Default::default(),
        })
    }

    /// True while the form waits for what it asked the database: its choices,
    /// or the counts of the definition shown.
    pub fn is_waiting(&self) -> bool {
        self.open
            && (self.choices.is_none()
                || self.saving
                || self.definition().is_ok_and(|definition| {
                    self.preview
                        .as_ref()
                        .is_none_or(|(shown, _)| *shown != definition)
                }))
    }
}

/// Draws the form's window when it is open (only for a role that may define
/// services), asking for its choices and its preview as they are needed.
pub(super) fn service_form_ui(ctx: &egui::Context, state: &mut MapState) {
    if !state.defines_services || !state.service_form.open {
        return;
    }
    let mut open = true;
    let heading = if state.service_form.editing.is_some() {
        "Edit a service"
    } else {
        "Define a service"
    };
    egui::Window::new(heading)
        .open(&mut open)
        .default_width(560.0)
        .default_height(660.0)
        .default_pos(egui::pos2(220.0, 60.0))
        .vscroll(true)
        .show(ctx, |ui| form_ui(ui, state));
    state.service_form.open &= open;
}

fn form_ui(ui: &mut egui::Ui, state: &mut MapState) {
    let form = &mut state.service_form;
    let choices = match &form.choices {
        None => {
            state.action = MapAction::ReadServiceChoices;
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Reading the database's event types…");
            });
            return;
        }
        Some(Err(error)) => {
            ui.colored_label(ui.visuals().error_fg_color, error);
            return;
        }
        Some(Ok(choices)) => choices.clone(),
    };
    ui.label(
        "Who is eligible, and which recorded events count as invited and attended. Saved, it \
         is on the map for everyone, small numbers withheld as for the built-in services.",
    );
    ui.add_space(4.0);
    egui::Grid::new("service_names")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            ui.label("Name");
            ui.add_enabled(
                form.editing.is_none(),
                egui::TextEdit::singleline(&mut form.name)
                    .hint_text("health_check_women")
                    .desired_width(260.0),
            )
            .on_hover_text("For the command line: lower-case letters, digits and _")
            .on_disabled_hover_text(
                "A saved service keeps its name: the command line and exports know it by it",
            );
            ui.end_row();
            ui.label("Title");
            ui.add(
                egui::TextEdit::singleline(&mut form.title)
                    .hint_text("NHS Health Check, women")
                    .desired_width(400.0),
            );
            ui.end_row();
            ui.label("Description");
            ui.add(
                egui::TextEdit::multiline(&mut form.description)
                    .hint_text("Left empty: the definition in words")
                    .desired_rows(2)
                    .desired_width(400.0),
            );
            ui.end_row();
        });
    ui.separator();
    ui.label(RichText::new("Eligible").strong());
    ui.horizontal(|ui| {
        ui.label("Aged");
        ui.add(egui::DragValue::new(&mut form.min_age).range(0..=MAX_AGE));
        ui.label("to");
        ui.add(egui::DragValue::new(&mut form.max_age).range(0..=MAX_AGE));
        ui.label("on the reference date");
    });
    ui.horizontal(|ui| {
        ui.label("Sex");
        for (sex, label) in [
            (Sex::Any, "Any"),
            (Sex::Female, "Female"),
            (Sex::Male, "Male"),
        ] {
            ui.radio_value(&mut form.sex, sex, label);
        }
    });
    ui.horizontal(|ui| {
        ui.label("Living in");
        ui.radio_value(&mut form.area, AreaChoice::Whole, "the whole database");
        ui.radio_value(
            &mut form.area,
            AreaChoice::Authorities,
            "chosen authorities",
        );
        ui.radio_value(&mut form.area, AreaChoice::Zones, "chosen zones");
    });
    let (places, chosen): (&[(String, String)], _) = match form.area {
        AreaChoice::Whole => (&[], &mut form.authorities),
        AreaChoice::Authorities => (&choices.authorities, &mut form.authorities),
        AreaChoice::Zones => (&choices.zones, &mut form.zones),
    };
    if !places.is_empty() {
        egui::ScrollArea::vertical()
            .id_salt("service_areas")
            .max_height(110.0)
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    for (code, name) in places {
                        tick_ui(ui, chosen, code, &format!("{name} ({code})"));
                    }
                });
            });
    }
    ui.separator();
    ui.horizontal(|ui| {
        ui.checkbox(&mut form.limit_years, "Only events in the");
        ui.add_enabled(
            form.limit_years,
            egui::DragValue::new(&mut form.years).range(1..=MAX_YEARS),
        );
        ui.label(if form.limit_years {
            "years before the reference date count"
        } else {
            "years before: any event before the reference date counts"
        });
    });
    ui.columns(2, |columns| {
        events_ui(
            &mut columns[0],
            "Invited",
            "Eligible people with one of these events (none ticked: no invitation, coverage only)",
            &choices.event_types,
            &mut form.invited,
        );
        events_ui(
            &mut columns[1],
            "Attended",
            "Eligible (and invited) people with one of these events",
            &choices.event_types,
            &mut form.attended,
        );
    });
    ui.separator();
    preview_ui(ui, form, &mut state.action);
    ui.separator();
    save_ui(ui, form, &mut state.action);
}

/// A count with thousands separators.
fn count(n: u64) -> String {
    crate::format::thousands(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A checkbox adding `code` to `chosen` or taking it out.
fn tick_ui(ui: &mut egui::Ui, chosen: &mut BTreeSet<String>, code: &str, label: &str) {
    let mut ticked = chosen.contains(code);
    if ui.checkbox(&mut ticked, label).changed() {
        if ticked {
            chosen.insert(code.to_string());
        } else {
            chosen.remove(code);
        }
    }
}

/// The event types of the database with their counts, each a checkbox.
fn events_ui(
    ui: &mut egui::Ui,
    heading: &str,
    explanation: &str,
    event_types: &[(String, u64)],
    chosen: &mut BTreeSet<String>,
) {
    ui.label(RichText::new(heading).strong())
        .on_hover_text(explanation);
    ui.weak(if chosen.is_empty() {
        "none ticked".to_string()
    } else {
        chosen.iter().cloned().collect::<Vec<_>>().join(", ")
    });
    egui::ScrollArea::vertical()
        .id_salt(heading)
        .max_height(110.0)
        .show(ui, |ui| {
            for (event_type, events) in event_types {
                tick_ui(
                    ui,
                    chosen,
                    event_type,
                    &format!("{event_type} ({})", count(*events)),
                );
            }
        });
}

/// The counts the definition would give, asked for when it changes.
fn preview_ui(ui: &mut egui::Ui, form: &mut ServiceForm, action: &mut MapAction) {
    ui.label(RichText::new("Counts it would give").strong());
    let definition = match form.definition() {
        Ok(definition) => definition,
        Err(error) => {
            ui.colored_label(ui.visuals().warn_fg_color, format!("Not yet: {error}"));
            return;
        }
    };
    if form.previewing.as_ref() != Some(&definition) {
        form.previewing = Some(definition.clone());
        *action = MapAction::PreviewService(Box::new(definition.clone()));
    }
    let shown = form
        .preview
        .as_ref()
        .filter(|(shown, _)| *shown == definition);
    match shown.map(|(_, result)| result) {
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Counting…");
            });
        }
        Some(Err(error)) => {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        Some(Ok(preview)) => {
            let percent = |part: u64, of: u64| {
                if of == 0 {
                    "–".to_string()
                } else {
                    format!("{:.1}%", part as f64 * 100.0 / of as f64)
                }
            };
            egui::Grid::new("service_preview")
                .num_columns(4)
                .spacing([18.0, 4.0])
                .show(ui, |ui| {
                    ui.label("Eligible");
                    ui.label("Invited");
                    ui.label("Attended");
                    ui.label(if preview.invited.is_some() {
                        "Coverage · uptake"
                    } else {
                        "Coverage"
                    });
                    ui.end_row();
                    ui.label(RichText::new(count(preview.eligible)).strong());
                    ui.label(
                        RichText::new(preview.invited.map_or("no invitation".into(), count))
                            .strong(),
                    );
                    ui.label(RichText::new(count(preview.attended)).strong());
                    let coverage = percent(preview.attended, preview.eligible);
                    ui.label(match preview.invited {
                        Some(invited) => {
                            format!("{coverage} · {}", percent(preview.attended, invited))
                        }
                        None => coverage,
                    });
                    ui.end_row();
                });
            ui.label(format!(
                "The whole county on {}, before suppression (analysts only). By LSOA, {} of \
                 the {} with people eligible would have a rate shown, the rest withheld; the map \
                 opens on the finest level whose rates are mostly shown.",
                preview.reference_date.format("%-d %B %Y"),
                count(preview.lsoas_published as u64),
                count(preview.lsoas_with_people as u64),
            ));
            if preview.costs.is_empty() {
                ui.weak("Saving it withholds nothing more of the other services' figures.");
            }
            for cost in &preview.costs {
                ui.colored_label(ui.visuals().warn_fg_color, cost.sentence())
                    .on_hover_text(
                        "Services that may count the same people are suppressed together, so \
                         that one's figures less another's cannot reveal a withheld count: \
                         the areas given are shown now and would be withheld once it is saved",
                    );
            }
        }
    }
}

/// Save, and the services file to write the service into as well.
fn save_ui(ui: &mut egui::Ui, form: &mut ServiceForm, action: &mut MapAction) {
    ui.horizontal(|ui| {
        ui.label("Also write it into a services file:");
        match &form.file {
            Some(path) => {
                ui.monospace(path.display().to_string());
                if ui
                    .small_button("✕")
                    .on_hover_text("Do not write a file")
                    .clicked()
                {
                    form.file = None;
                }
            }
            None => {
                ui.weak("none");
            }
        }
        if ui
            .button("Choose file…")
            .on_hover_text(
                "A TOML file in the format of assets/services.toml: the service is added, or \
                 replaces the one of the same name, so `zonewise uptake --services FILE` reads it",
            )
            .clicked()
        {
            *action = MapAction::ChooseServicesFile;
        }
    });
    let service = form.service();
    ui.horizontal(|ui| {
        let ready = service.is_ok() && !form.saving;
        let label = if form.editing.is_some() {
            "Save changes for everyone's map"
        } else {
            "Save for everyone's map"
        };
        let save = ui
            .add_enabled(ready, egui::Button::new(label))
            .on_hover_text("Kept in the database (recorded in the audit log); every user who may see the map sees it");
        if save.clicked()
            && let Ok(service) = &service
        {
            form.saving = true;
            form.message = None;
            let service = Box::new(service.clone());
            *action = if form.editing.is_some() {
                MapAction::ChangeService(service, form.file.clone())
            } else {
                MapAction::SaveService(service, form.file.clone())
            };
        }
        if form.saving {
            ui.spinner();
        }
    });
    if let Err(error) = &service {
        ui.weak(error);
    }
    match &form.message {
        Some(Ok(message)) => {
            ui.label(message);
        }
        Some(Err(error)) => {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        None => {}
    }
}

/// Asks before a saved service is deleted for everyone (analysts only).
pub(super) fn delete_confirmation_ui(ctx: &egui::Context, state: &mut MapState) {
    if !state.defines_services {
        return;
    }
    let Some((name, title)) = state.deleting.clone() else {
        return;
    };
    let mut open = true;
    egui::Window::new("Delete a service")
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .default_pos(egui::pos2(320.0, 160.0))
        .show(ctx, |ui| {
            ui.label(format!(
                "Delete \"{title}\" ({name}) for everyone? It leaves every user's map and \
                 `zonewise uptake`; the audit log keeps its definition. It can be defined again."
            ));
            ui.horizontal(|ui| {
                if ui.button("Delete for everyone").clicked() {
                    state.action = MapAction::DeleteService(name.clone());
                    state.deleting = None;
                }
                if ui.button("Cancel").clicked() {
                    state.deleting = None;
                }
            });
        });
    if !open {
        state.deleting = None;
    }
}
