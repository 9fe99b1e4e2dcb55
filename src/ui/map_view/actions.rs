//! What the Map view asks for, run on the job queue: loading England's LSOAs,
//! exporting the tables as CSV and the map and chart as a PNG figure (each
//! recorded in the audit log before the file appears); and how new figures
//! reach the prepared geometry.

use std::path::PathBuf;

use super::{MapAction, MapState, map_ui, save_figure};
use crate::access::Capability;
use crate::audit;
use crate::ui::desk::{Desk, Message, Screen, waiting_ui};
use crate::ui::figures::{Figures, Part, PartData};
use crate::ui::views::View;

const LOADING_ENGLAND: &str = "Loading England's LSOAs";
const EXPORTING_TABLES: &str = "Exporting uptake tables";
const CHOOSING_FIGURE: &str = "Exporting the map";
const SAVING_FIGURE: &str = "Saving the map and chart";
const WORKING_OUT_TREND: &str = "Working out the uptake trend";
const READING_EVENT_TYPES: &str = "Reading the event types";
const COUNTING_SERVICE: &str = "Counting the service's people";
const CHOOSING_SERVICES_FILE: &str = "Choosing a services file";
const SAVING_SERVICE: &str = "Saving the service";
const DELETING_SERVICE: &str = "Deleting the service";

/// Whether the form saves a new service or changes a saved one.
#[derive(Debug, Clone, Copy)]
enum Saving {
    New,
    Change,
}

impl Screen for MapState {
    fn ui(&mut self, ui: &mut egui::Ui, desk: &mut Desk<'_>) {
        let Some(county) = &desk.figures.map else {
            return waiting_ui(ui);
        };
        self.offers_families = desk.may(View::Families);
        self.defines_services = desk
            .session()
            .is_some_and(|session| session.role.may(Capability::ChooseDisclosure));
        if let Some(name) = &self.choose_service
            && let Some(index) = county.services.iter().position(|s| &s.name == name)
        {
            self.service = index;
            self.choose_service = None;
        }
        self.exporting_tables = desk.is_running(EXPORTING_TABLES);
        self.exporting_figure = desk.is_running(CHOOSING_FIGURE) || desk.is_running(SAVING_FIGURE);
        let action = map_ui(ui, county, self);
        if let Some((zone, lsoa)) = self.open_families.take() {
            desk.go(View::Families, Some(Message::ShowArea { zone, lsoa }));
        }
        self.act(action, desk);
    }

    /// New figures on the same boundaries keep the prepared geometry; other
    /// boundaries are prepared again.
    fn part_stored(&mut self, part: Part, replaced: Option<&PartData>, figures: &Figures) {
        if part != Part::Map {
            return;
        }
        match (replaced, &figures.map) {
            (Some(PartData::Map(old)), Some(new)) if old.shapes == new.shapes => {
                self.figures_refreshed()
            }
            _ => self.reset_geometry(),
        }
    }

    /// Also while the service form waits for what it asked the database, so
    /// that a screenshot of it shows its counts.
    fn is_capturing(&self) -> bool {
        self.is_figure() || self.defines_services && self.service_form.is_waiting()
    }
}

impl MapState {
    /// Runs what the view asked for on the job queue.
    pub fn act(&mut self, action: MapAction, desk: &mut Desk<'_>) {
        match action {
            MapAction::None => {}
            MapAction::LoadEngland => {
                if !desk.is_running(LOADING_ENGLAND) {
                    desk.start(
                        LOADING_ENGLAND,
                        |sink| super::load_england(sink).map(Box::new),
                        |view: &mut MapState, loaded, _| view.england_loaded(loaded.map(|l| *l)),
                    );
                }
            }
            MapAction::LoadTrend(name) => {
                if !desk.is_running(WORKING_OUT_TREND) {
                    let key = name.clone();
                    desk.start_on(
                        WORKING_OUT_TREND,
                        move |sink, conn| {
                            let services = crate::uptake::saved::available(conn)?;
                            let service = crate::uptake::service::find(&services, &name)?;
                            let trend = crate::uptake::trend::trend(
                                conn,
                                service,
                                crate::uptake::DEFAULT_THRESHOLD,
                                |done, of| {
                                    sink.report(
                                        Some(done as f32 / of.max(1) as f32),
                                        format!("Period end {done} of {of}"),
                                    )
                                },
                            )?;
                            Ok(trend)
                        },
                        move |view: &mut MapState, result, _| {
                            view.trends.insert(key, result);
                        },
                    );
                }
            }
            MapAction::ExportTables(published) => self.export_tables(desk, *published, || {
                rfd::FileDialog::new()
                    .set_title("Choose a folder for the uptake tables")
                    .pick_folder()
            }),
            MapAction::ExportFigure => self.export_figure(desk, || {
                rfd::FileDialog::new()
                    .set_title("Save the map and chart as PNG")
                    .add_filter("PNG image", &["png"])
                    .set_file_name("uptake-map.png")
                    .save_file()
            }),
            MapAction::ReadServiceChoices => {
                if !desk.is_running(READING_EVENT_TYPES) {
                    desk.start_on(
                        READING_EVENT_TYPES,
                        |_, conn| Ok(crate::uptake::defined::choices(conn)?),
                        |view: &mut MapState, choices, _| view.service_form.choices = Some(choices),
                    );
                }
            }
            MapAction::PreviewService(definition) => self.preview_service(desk, *definition),
            MapAction::ChooseServicesFile => {
                desk.start(
                    CHOOSING_SERVICES_FILE,
                    |_| {
                        Ok(rfd::FileDialog::new()
                            .set_title("Write the service into a services file")
                            .add_filter("Services (TOML)", &["toml"])
                            .set_file_name("services.toml")
                            .save_file())
                    },
                    |view: &mut MapState, chosen, _| {
                        if let Ok(Some(path)) = chosen {
                            view.service_form.file = Some(path);
                        }
                    },
                );
            }
            MapAction::SaveService(service, file) => {
                self.save_service(desk, *service, file, Saving::New)
            }
            MapAction::ChangeService(service, file) => {
                self.save_service(desk, *service, file, Saving::Change)
            }
            MapAction::DeleteService(name) => self.delete_service(desk, name),
            MapAction::SaveFigure(figure) => {
                let actor = desk.actor();
                desk.start_on(
                    SAVING_FIGURE,
                    move |sink, conn| {
                        sink.report(None, "Encoding and recording the figure…");
                        Ok(save_figure(conn, &figure, &actor)?)
                    },
                    |view: &mut MapState, result, _| {
                        view.export_message = Some(match result {
                            Ok(path) => format!("Saved the map and chart to {}", path.display()),
                            Err(error) => format!("Export failed: {error}"),
                        })
                    },
                );
            }
        }
    }

    /// Counts the people of the form's definition on a worker, as the map would
    /// at the extract date; one count at a time, the latest definition asked again
    /// when the one running ends.
    fn preview_service(
        &mut self,
        desk: &mut Desk<'_>,
        definition: crate::uptake::defined::Definition,
    ) {
        let Some(session) = desk.session().cloned() else {
            return;
        };
        if desk.is_running(COUNTING_SERVICE) {
            // Asked again by the form once the running count is back.
            self.service_form.previewing = None;
            return;
        }
        let service = crate::uptake::Service {
            name: self.service_form.preview_name(),
            title: "The service being defined".to_string(),
            description: String::new(),
            counting: crate::uptake::service::Counting::Defined(definition.clone()),
            file: "the form".into(),
            lines: Default::default(),
        };
        desk.start_on(
            COUNTING_SERVICE,
            move |sink, conn| {
                sink.report(None, "Counting eligible, invited and attended people…");
                Ok(crate::uptake::saved::preview(conn, &session, &service)?)
            },
            move |view: &mut MapState, preview, _| {
                view.service_form.preview = Some((definition, preview));
            },
        );
    }

    /// Saves the form's service (new, or the changes to a saved one) for every
    /// user of the database (the core refuses any role but the analyst's) and,
    /// when a file was chosen, writes it into that services file; then the map's
    /// figures are read again and the service is chosen on the map.
    fn save_service(
        &mut self,
        desk: &mut Desk<'_>,
        service: crate::uptake::Service,
        file: Option<PathBuf>,
        saving: Saving,
    ) {
        let Some(session) = desk.session().cloned() else {
            self.service_form.saving = false;
            self.service_form.message = Some(Err(desk.refusal(View::Map)));
            return;
        };
        desk.start_on(
            SAVING_SERVICE,
            move |sink, conn| {
                sink.report(None, "Saving the service…");
                let said = match saving {
                    Saving::New => {
                        crate::uptake::saved::save(conn, &session, &service)?;
                        "Saved"
                    }
                    Saving::Change => {
                        crate::uptake::saved::change(conn, &session, &service)?;
                        "Saved the changes to"
                    }
                };
                let mut said = format!(
                    "{said} \"{}\": it is on the map for everyone who may see the map",
                    service.title
                );
                if let Some(file) = file {
                    crate::uptake::service::write_into_file(&file, &service)?;
                    said.push_str(&format!(", and written into {}", file.display()));
                }
                Ok((service.name.clone(), said))
            },
            |view: &mut MapState, result, desk| {
                view.service_form.saving = false;
                match result {
                    Ok((name, said)) => {
                        desk.figures.mark_stale(Part::Map);
                        view.choose_service = Some(name.clone());
                        // Saved, a new service is edited from now on, and its
                        // preview counted again as the saved one it now is.
                        view.service_form.editing = Some(name);
                        view.service_form.previewing = None;
                        view.service_form.message = Some(Ok(said));
                    }
                    Err(error) => view.service_form.message = Some(Err(error)),
                }
            },
        );
    }

    /// Deletes a saved service for every user of the database (the core refuses
    /// any role but the analyst's, and the built-ins); then the map's figures
    /// are read again, on the first service.
    fn delete_service(&mut self, desk: &mut Desk<'_>, name: String) {
        let Some(session) = desk.session().cloned() else {
            self.export_message = Some(desk.refusal(View::Map));
            return;
        };
        self.export_message = None;
        desk.start_on(
            DELETING_SERVICE,
            move |sink, conn| {
                sink.report(None, "Deleting the service…");
                crate::uptake::saved::delete(conn, &session, &name)?;
                Ok(name)
            },
            |view: &mut MapState, result, desk| match result {
                Ok(name) => {
                    desk.figures.mark_stale(Part::Map);
                    view.service = 0;
                    if view.service_form.editing.as_ref() == Some(&name) {
                        view.service_form.open = false;
                    }
                    view.export_message = Some(format!("Deleted the service {name} for everyone"));
                }
                Err(error) => view.export_message = Some(format!("Not deleted: {error}")),
            },
        );
    }

    /// Writes the view's `published` tables as CSV files into the folder `pick`
    /// chooses (a dialog in the app), on a worker: under temporary names until
    /// the export is in the audit log (it waits there while a load holds the
    /// log), then renamed into place. Only suppressed tables can be passed.
    pub fn export_tables(
        &mut self,
        desk: &mut Desk<'_>,
        published: crate::uptake::Published,
        pick: impl FnOnce() -> Option<PathBuf> + Send + 'static,
    ) {
        self.export_message = None;
        let actor = desk.actor();
        desk.start_on(
            EXPORTING_TABLES,
            move |sink, conn| {
                sink.report(None, "Choosing a folder…");
                let Some(dir) = pick() else {
                    return Ok("Export cancelled".to_string());
                };
                sink.report(None, "Writing and recording the tables…");
                let produced = chrono::Local::now().date_naive();
                let files = crate::uptake::export::write_csv(
                    &published,
                    &dir,
                    produced,
                    &actor,
                    |entry| audit::record(conn, entry),
                )?;
                Ok(format!("Saved {} files to {}", files.len(), dir.display()))
            },
            |view: &mut MapState, result, _| {
                view.export_message = Some(result.unwrap_or_else(|e| format!("Export failed: {e}")))
            },
        );
    }

    /// Saves the map and chart as a PNG to the file `pick` chooses (a save dialog,
    /// run on a worker). The view is then drawn as a figure for a few frames and
    /// captured; [`MapAction::SaveFigure`] saves it.
    pub fn export_figure(
        &mut self,
        desk: &mut Desk<'_>,
        pick: impl FnOnce() -> Option<PathBuf> + Send + 'static,
    ) {
        self.export_message = None;
        desk.start(
            CHOOSING_FIGURE,
            move |sink| {
                sink.report(None, "Choosing a file…");
                Ok(pick())
            },
            |view: &mut MapState, result, _| match result {
                Ok(path) => view.figure_file_chosen(path),
                Err(error) => view.export_message = Some(format!("Export failed: {error}")),
            },
        );
    }
}
