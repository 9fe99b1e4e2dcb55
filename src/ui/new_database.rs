//! "New database…": a council's own database made in the window, without
//! writing a manifest by hand. Four steps: where to keep the file and what to
//! call the county; the council's authorities, chosen from England's (the
//! reference geography is cut from the England-wide data that ships); each
//! extract, with its agency and the role of each column guessed from its
//! header and first rows (`ingest::guess`), a preview of the rows as ingest
//! will read them and the quality summary; and Create, which writes the
//! manifest beside the database (so `zonewise ingest` can repeat the load next
//! month) and builds the database on a job, ingest → link → criteria → scores.
//!
//! Before Create only extract files are read (to guess and preview), in a
//! private in-memory database for the quality summary: there is no database
//! yet whose audit log could record it. The load itself is recorded in the new
//! database's log, by the local analyst, as every load of a database without
//! users is; its first user is added as for any database (`zonewise user add`,
//! or the Users view).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use egui::RichText;

use super::jobs::JobQueue;
use super::widgets::section_heading_ui;
use crate::format::thousands;
use crate::ingest::SourceQuality;
use crate::ingest::council::{self, Authority};
use crate::ingest::extract_reader::{self, ExtractPreview, ExtractReader, ExtractSample};
use crate::ingest::guess::{self, Confidence, ExtractGuess, role_label};
use crate::ingest::manifest::{AgencyKind, FieldRole, FileFormat, Manifest, SourceSpec};

/// Rows read to guess roles and shown in the preview.
const SAMPLE_ROWS: usize = 200;
const PREVIEW_ROWS: usize = 8;

/// The wizard's steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Place,
    Authorities,
    Extracts,
    Create,
}

impl Step {
    const ALL: [Step; 4] = [Step::Place, Step::Authorities, Step::Extracts, Step::Create];

    fn label(self) -> &'static str {
        match self {
            Step::Place => "1. Where to keep it",
            Step::Authorities => "2. Your authorities",
            Step::Extracts => "3. Extracts and their columns",
            Step::Create => "4. Create",
        }
    }
}

/// What one column is to be, as chosen (first by the guesser).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnUse {
    Role(FieldRole),
    /// Loaded as text under its own name (a school's URN, a benefit's name).
    Keep,
    NotUsed,
}

impl ColumnUse {
    fn label(self) -> String {
        match self {
            ColumnUse::Role(role) => role_label(role),
            ColumnUse::Keep => "Keep as text".to_string(),
            ColumnUse::NotUsed => "Not used".to_string(),
        }
    }
}

/// A check's result: the first rows as loaded and the whole file's quality, or ingest's error.
pub type CheckResult = Result<(ExtractPreview, SourceQuality), String>;

/// One extract being set up.
#[derive(Debug, Clone)]
pub struct ExtractDraft {
    pub path: PathBuf,
    pub format: FileFormat,
    /// The workbook's sheets (empty for CSV and Parquet).
    pub sheets: Vec<String>,
    pub sheet: Option<String>,
    pub delimiter: char,
    pub date_format: String,
    /// The staging table's name (from the file's name).
    pub name: String,
    pub agency: AgencyKind,
    pub system: String,
    pub sample: ExtractSample,
    pub guess: ExtractGuess,
    /// One per column of `sample.headers`.
    pub uses: Vec<ColumnUse>,
    /// The last check's result: the rows as read and the quality summary, or the error.
    pub check: Option<CheckResult>,
}

impl ExtractDraft {
    /// Reads `path` (the sheet `sheet` of a workbook) and guesses its columns.
    fn read(path: &Path, sheet: Option<String>) -> anyhow::Result<ExtractDraft> {
        let format = guess::format_of(path);
        let sheets = if format == FileFormat::Excel {
            extract_reader::sheet_names(path)?
        } else {
            Vec::new()
        };
        let sheet = match format {
            FileFormat::Excel => sheet.or_else(|| sheets.first().cloned()),
            _ => None,
        };
        let delimiter = match format {
            FileFormat::Csv => guess::delimiter_of(&guess::first_line(path)?),
            _ => ',',
        };
        let mut spec = SourceSpec {
            name: "extract".to_string(),
            agency: AgencyKind::Other,
            system: String::new(),
            file: path.to_path_buf(),
            format,
            sheet: sheet.clone(),
            delimiter,
            date_format: guess::DATE_FORMATS[0].to_string(),
            columns: Default::default(),
            keep: Vec::new(),
            event_type: None,
            unreadable: Default::default(),
        };
        let sample = ExtractReader::sample(&spec, path, SAMPLE_ROWS)?;
        let guess = guess::guess(&sample);
        spec.date_format = guess.date_format.clone();
        let uses = guess
            .columns
            .iter()
            .map(|c| c.role.map_or(ColumnUse::NotUsed, ColumnUse::Role))
            .collect();
        // A workbook of several sheets may hold several extracts.
        let name = table_name(path, spec.sheet.as_deref().filter(|_| sheets.len() > 1));
        let file_name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let agency = guess::agency_of(&format!(
            "{file_name} {}",
            spec.sheet.as_deref().unwrap_or("")
        ));
        Ok(ExtractDraft {
            path: path.to_path_buf(),
            format,
            sheets,
            sheet,
            delimiter,
            date_format: guess.date_format.clone(),
            name,
            agency,
            system: file_name,
            sample,
            guess,
            uses,
            check: None,
        })
    }

    /// The manifest's entry for this extract, as chosen.
    pub fn spec(&self) -> SourceSpec {
        let mut columns = std::collections::BTreeMap::new();
        let mut keep = Vec::new();
        for (header, use_) in self.sample.headers.iter().zip(&self.uses) {
            match use_ {
                ColumnUse::Role(role) => {
                    columns.insert(*role, header.clone());
                }
                ColumnUse::Keep => keep.push(header.clone()),
                ColumnUse::NotUsed => {}
            }
        }
        SourceSpec {
            name: self.name.clone(),
            agency: self.agency,
            system: self.system.clone(),
            file: self.path.clone(),
            format: self.format,
            sheet: self.sheet.clone(),
            delimiter: self.delimiter,
            date_format: self.date_format.clone(),
            columns,
            keep,
            event_type: None,
            unreadable: Default::default(),
        }
    }

    /// What must change before this extract can be loaded, if anything.
    fn problem(&self) -> Option<String> {
        let roles: Vec<FieldRole> = self
            .uses
            .iter()
            .filter_map(|u| match u {
                ColumnUse::Role(role) => Some(*role),
                _ => None,
            })
            .collect();
        if !roles.contains(&FieldRole::RecordId) {
            return Some("choose the column that is the person's record ID".to_string());
        }
        let mut seen = BTreeSet::new();
        for role in roles {
            if !seen.insert(role) {
                return Some(format!("two columns are the {}", role_label(role)));
            }
        }
        None
    }
}

/// A staging table name from a file's (and a sheet's, when given) name: lower
/// case, `_` for the rest, starting with a letter.
fn table_name(path: &Path, sheet: Option<&str>) -> String {
    let stem = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem.split('.').next().unwrap_or_default();
    let name = match sheet {
        Some(sheet) => format!("{stem}_{sheet}"),
        None => stem.to_string(),
    };
    let mut name: String = crate::ingest::manifest::staging_column_name(&name)
        .trim_matches('_')
        .to_string();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert_str(0, "extract_");
    }
    name
}

/// The wizard's background work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Task {
    Authorities,
    Dialog,
    Read,
    Check,
    Create,
}

enum Done {
    Authorities(Vec<Authority>),
    DatabaseFile(Option<PathBuf>),
    PostcodeFile(Option<PathBuf>),
    /// Extract files chosen in the dialog, to read.
    ExtractFiles(Vec<PathBuf>),
    /// An extract read and guessed: a new one, or the one at the index (another sheet).
    Read(Option<usize>, Box<ExtractDraft>),
    Checked(usize, Box<CheckResult>),
    Created(PathBuf),
}

/// What the shell does after the wizard's frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Stay,
    Cancel,
    /// The database is made: open it.
    Open(PathBuf),
}

/// The wizard's state, kept by the shell while it is open.
pub struct NewDatabaseWizard {
    pub step: Step,
    /// Where the database file will be (`.duckdb`).
    pub db_path: String,
    /// The county's name, shown in the title bar.
    pub county: String,
    reference_dir: PathBuf,
    authorities: Option<Vec<Authority>>,
    /// Codes of the authorities chosen.
    pub chosen: BTreeSet<String>,
    filter: String,
    /// An ONS postcode directory cut (optional): places people in LSOAs.
    pub postcodes: String,
    pub extracts: Vec<ExtractDraft>,
    /// The extract shown in step 3.
    pub current: usize,
    jobs: JobQueue<Task, Done>,
    /// The last failure (a file that cannot be read, a build that stopped).
    pub error: Option<String>,
}

impl NewDatabaseWizard {
    /// A wizard using the England-wide reference data in `reference_dir`; the
    /// list of authorities is read on a job.
    pub fn new(reference_dir: PathBuf, ctx: &egui::Context) -> NewDatabaseWizard {
        let mut wizard = NewDatabaseWizard {
            step: Step::Place,
            db_path: String::new(),
            county: String::new(),
            reference_dir: reference_dir.clone(),
            authorities: None,
            chosen: BTreeSet::new(),
            filter: String::new(),
            postcodes: String::new(),
            extracts: Vec::new(),
            current: 0,
            jobs: JobQueue::default(),
            error: None,
        };
        wizard.jobs.start(
            Task::Authorities,
            "Reading England's authorities",
            ctx,
            move |_| Ok(Done::Authorities(council::authorities(&reference_dir)?)),
        );
        wizard
    }

    /// True while the wizard's work runs.
    pub fn is_busy(&self) -> bool {
        self.jobs.is_busy()
    }

    /// England's authorities, once read.
    pub fn authorities(&self) -> Option<&[Authority]> {
        self.authorities.as_deref()
    }

    /// Reads an extract file and guesses its columns on a job (what the file
    /// dialog does with each file chosen).
    pub fn add_extract(&mut self, path: PathBuf, ctx: &egui::Context) {
        self.read(None, path, None, ctx);
    }

    fn read(
        &mut self,
        index: Option<usize>,
        path: PathBuf,
        sheet: Option<String>,
        ctx: &egui::Context,
    ) {
        self.error = None;
        self.jobs
            .start(Task::Read, "Reading the extract", ctx, move |sink| {
                sink.report(None, format!("Reading {}…", path.display()));
                Ok(Done::Read(
                    index,
                    Box::new(ExtractDraft::read(&path, sheet)?),
                ))
            });
    }

    /// Reads extract `index` as ingest will (a preview and the quality summary) on a job.
    pub fn check(&mut self, index: usize, ctx: &egui::Context) {
        let Some(draft) = self.extracts.get(index) else {
            return;
        };
        let spec = draft.spec();
        let path = draft.path.clone();
        self.jobs
            .start(Task::Check, "Checking the extract", ctx, move |sink| {
                sink.report(None, "Reading the extract as it will be loaded…");
                let result = ExtractReader::preview(&spec, &path, PREVIEW_ROWS)
                    .and_then(|preview| {
                        crate::ingest::quality::preview(&spec, &path).map(|q| (preview, q))
                    })
                    .map_err(|error| crate::format::describe_error(&anyhow::Error::from(error)));
                Ok(Done::Checked(index, Box::new(result)))
            });
    }

    /// The manifest the wizard would write now, with the reference files in
    /// `reference` (relative to the manifest's folder).
    fn manifest(&self, reference: crate::ingest::manifest::ReferenceFiles) -> Manifest {
        Manifest {
            county: self.county.trim().to_string(),
            extract_date: None,
            reference: Some(reference),
            sources: self.extracts.iter().map(ExtractDraft::spec).collect(),
            base_dir: PathBuf::new(),
        }
    }

    /// What stops Create, if anything.
    pub fn problem(&self) -> Option<String> {
        let path = PathBuf::from(self.db_path.trim());
        if self.db_path.trim().is_empty() {
            return Some("Choose where to keep the database (step 1).".to_string());
        }
        if path.exists() {
            return Some(format!(
                "{} already exists: choose another name (step 1).",
                path.display()
            ));
        }
        if self.county.trim().is_empty() {
            return Some("Name the county or council (step 1).".to_string());
        }
        if self.chosen.is_empty() {
            return Some("Choose at least one authority (step 2).".to_string());
        }
        if self.extracts.is_empty() {
            return Some("Add at least one extract (step 3).".to_string());
        }
        let mut names = BTreeSet::new();
        for draft in &self.extracts {
            if let Some(problem) = draft.problem() {
                return Some(format!("{}: {problem} (step 3).", draft.name));
            }
            if !names.insert(&draft.name) {
                return Some(format!(
                    "Two extracts are called '{}': rename one (step 3).",
                    draft.name
                ));
            }
        }
        None
    }

    /// Where the manifest is written: beside the database, named after it.
    pub fn manifest_path(&self) -> PathBuf {
        let db = PathBuf::from(self.db_path.trim());
        db.with_extension("manifest.toml")
    }

    /// Writes the reference cut and the manifest, then builds the database on a job.
    pub fn create(&mut self, ctx: &egui::Context) {
        if self.problem().is_some() || self.jobs.is_busy() {
            return;
        }
        self.error = None;
        let db_path = PathBuf::from(self.db_path.trim());
        let manifest_path = self.manifest_path();
        let folder = db_path.parent().map(Path::to_path_buf).unwrap_or_default();
        let stem = db_path
            .file_stem()
            .map_or_else(|| "council".into(), |s| s.to_string_lossy().into_owned());
        let reference_out = folder.join(format!("{stem}-reference"));
        let reference_dir = self.reference_dir.clone();
        let codes: Vec<String> = self.chosen.iter().cloned().collect();
        let postcodes = Some(self.postcodes.trim())
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        let draft = self.manifest(crate::ingest::manifest::ReferenceFiles {
            imd: PathBuf::new(),
            population: PathBuf::new(),
            zones: PathBuf::new(),
            postcodes: None,
            boundaries: None,
            wards: None,
        });
        self.jobs
            .start(Task::Create, "Creating the database", ctx, move |sink| {
                sink.report(Some(0.0), "Preparing your authorities' reference data…");
                let mut reference =
                    council::write_reference(&reference_dir, &codes, &reference_out, &folder)?;
                reference.postcodes = postcodes;
                let manifest = Manifest {
                    reference: Some(reference),
                    ..draft
                };
                std::fs::write(&manifest_path, manifest.to_toml()?)?;
                // Read back as the command line will read it next month.
                let manifest = Manifest::load(&manifest_path)?;
                let model = crate::risk::model::file::RiskModelFile::load(
                    &crate::sample::sample_risk_model_path(),
                )?;
                crate::pipeline::build_new_database(
                    &manifest,
                    &db_path,
                    &crate::audit::os_user(),
                    Some(&model),
                    &mut |p| sink.report(Some(p.fraction), p.stage.to_string()),
                )?;
                Ok(Done::Created(db_path))
            });
    }

    /// Takes in finished work; returns the database to open once created.
    fn poll(&mut self, ctx: &egui::Context) -> Option<PathBuf> {
        let mut created = None;
        for (task, result) in self.jobs.take_finished() {
            match result {
                Ok(Done::Authorities(list)) => self.authorities = Some(list),
                Ok(Done::DatabaseFile(Some(path))) => {
                    let path = if path.extension().is_none() {
                        path.with_extension("duckdb")
                    } else {
                        path
                    };
                    self.db_path = path.display().to_string();
                }
                Ok(Done::PostcodeFile(Some(path))) => self.postcodes = path.display().to_string(),
                Ok(Done::DatabaseFile(None) | Done::PostcodeFile(None)) => {}
                Ok(Done::ExtractFiles(paths)) => {
                    for path in paths {
                        self.add_extract(path, ctx);
                    }
                }
                Ok(Done::Read(Some(index), draft)) if index < self.extracts.len() => {
                    let draft = *draft;
                    self.extracts[index] = ExtractDraft {
                        agency: self.extracts[index].agency,
                        system: self.extracts[index].system.clone(),
                        ..draft
                    };
                }
                Ok(Done::Read(_, draft)) => {
                    self.extracts.push(*draft);
                    self.current = self.extracts.len() - 1;
                }
                Ok(Done::Checked(index, result)) => {
                    if let Some(draft) = self.extracts.get_mut(index) {
                        draft.check = Some(*result);
                    }
                }
                Ok(Done::Created(path)) => created = Some(path),
                Err(error) => {
                    self.error = Some(match task {
                        Task::Create => format!(
                            "{error}\n\nNothing was created: no database file is left at {} \
                             (the unfinished one was removed). The manifest {} is kept, so \
                             the load can be tried again once the file is fixed.",
                            self.db_path.trim(),
                            self.manifest_path().display()
                        ),
                        _ => error,
                    })
                }
            }
        }
        created
    }

    fn dialog(&mut self, ctx: &egui::Context, choose: impl FnOnce() -> Done + Send + 'static) {
        self.jobs
            .start(Task::Dialog, "Choosing a file", ctx, move |_| Ok(choose()));
    }

    /// Draws the wizard in the window's central panel.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Outcome {
        let ctx = ui.ctx().clone();
        if let Some(path) = self.poll(&ctx) {
            return Outcome::Open(path);
        }
        let busy = self.jobs.is_busy();
        let mut outcome = Outcome::Stay;
        ui.horizontal(|ui| {
            ui.heading("A new council database");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .add_enabled(
                        !self.jobs.is_running(Task::Create),
                        egui::Button::new("Cancel"),
                    )
                    .clicked()
                {
                    outcome = Outcome::Cancel;
                }
            });
        });
        ui.horizontal(|ui| {
            for step in Step::ALL {
                if ui
                    .selectable_label(self.step == step, step.label())
                    .clicked()
                    && !busy
                {
                    self.step = step;
                }
            }
        });
        ui.separator();
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
            ui.add_space(6.0);
        }
        for (title, progress) in self.jobs.progress() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(if progress.message.is_empty() {
                    title
                } else {
                    progress.message.clone()
                });
            });
            if let Some(fraction) = progress.fraction {
                ui.add(egui::ProgressBar::new(fraction).show_percentage());
            }
        }
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| match self.step {
                Step::Place => self.place_ui(ui, &ctx),
                Step::Authorities => self.authorities_ui(ui, &ctx),
                Step::Extracts => self.extracts_ui(ui, &ctx),
                Step::Create => self.create_ui(ui, &ctx),
            });
        outcome
    }

    fn next_button(&mut self, ui: &mut egui::Ui, next: Step) {
        ui.add_space(10.0);
        if ui.button(format!("Next: {}", next.label())).clicked() {
            self.step = next;
        }
    }

    fn place_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        section_heading_ui(
            ui,
            "Where to keep the database",
            "One file holds everything loaded, linked and scored. Keep it where your \
             council keeps case data: it holds people's records.",
        );
        ui.horizontal(|ui| {
            ui.label("Database file");
            ui.add(egui::TextEdit::singleline(&mut self.db_path).desired_width(420.0));
            if ui.button("Choose…").clicked() {
                self.dialog(ctx, || {
                    Done::DatabaseFile(
                        rfd::FileDialog::new()
                            .set_title("Where to keep the new database")
                            .add_filter("Zonewise database", &["duckdb"])
                            .set_file_name("council.duckdb")
                            .save_file(),
                    )
                });
            }
        });
        ui.horizontal(|ui| {
            ui.label("Council or county name");
            ui.add(egui::TextEdit::singleline(&mut self.county).desired_width(300.0));
        });
        if !self.db_path.trim().is_empty() {
            ui.label(
                RichText::new(format!(
                    "The load's description (manifest) will be saved as {}, so the same \
                     load can be repeated next month with: zonewise ingest --db … --manifest …",
                    self.manifest_path().display()
                ))
                .weak(),
            );
        }
        self.next_button(ui, Step::Authorities);
    }

    fn authorities_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        section_heading_ui(
            ui,
            "Your council's local authorities",
            "Deprivation (IMD 2019), population and neighbourhood (LSOA) boundaries for \
             these authorities are taken from the England-wide data that ships with \
             Zonewise. Each authority starts as one zone; replace zones.csv with your \
             family partnership zones if you have them.",
        );
        let Some(list) = &self.authorities else {
            ui.label("Reading England's authorities…");
            return;
        };
        ui.horizontal(|ui| {
            ui.label("Find");
            ui.text_edit_singleline(&mut self.filter);
        });
        let filter = self.filter.to_lowercase();
        let chosen_names: Vec<String> = list
            .iter()
            .filter(|a| self.chosen.contains(&a.code))
            .map(|a| a.name.clone())
            .collect();
        ui.label(if chosen_names.is_empty() {
            "None chosen yet.".to_string()
        } else {
            format!("Chosen: {}", chosen_names.join(", "))
        });
        egui::ScrollArea::vertical()
            .id_salt("authorities")
            .max_height(260.0)
            .show(ui, |ui| {
                for authority in list.iter().filter(|a| {
                    filter.is_empty()
                        || a.name.to_lowercase().contains(&filter)
                        || a.code.to_lowercase().contains(&filter)
                }) {
                    let mut on = self.chosen.contains(&authority.code);
                    let text = format!(
                        "{} ({}, {} neighbourhoods)",
                        authority.name, authority.code, authority.lsoas
                    );
                    if ui.checkbox(&mut on, text).changed() {
                        if on {
                            self.chosen.insert(authority.code.clone());
                        } else {
                            self.chosen.remove(&authority.code);
                        }
                    }
                }
            });
        ui.add_space(8.0);
        ui.label(
            "Postcode lookup (optional): a cut of the ONS postcode directory for your area \
             (columns pcds and lsoa11). Without it people cannot be placed on the map.",
        );
        ui.horizontal(|ui| {
            ui.add(egui::TextEdit::singleline(&mut self.postcodes).desired_width(420.0));
            if ui.button("Choose…").clicked() {
                self.dialog(ctx, || {
                    Done::PostcodeFile(
                        rfd::FileDialog::new()
                            .set_title("Postcode lookup")
                            .add_filter("CSV", &["csv", "gz"])
                            .pick_file(),
                    )
                });
            }
        });
        self.next_button(ui, Step::Extracts);
    }

    fn extracts_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        section_heading_ui(
            ui,
            "Each agency's extract",
            "Add each file you received: CSV (also .csv.gz), Parquet or Excel. The role of \
             each column is guessed from its header and its first rows; check each guess \
             and change it where it is wrong.",
        );
        ui.horizontal(|ui| {
            if ui.button("Add extract files…").clicked() {
                self.dialog(ctx, || {
                    Done::ExtractFiles(
                        rfd::FileDialog::new()
                            .set_title("Extract files")
                            .add_filter(
                                "Extracts",
                                &["csv", "gz", "txt", "parquet", "xlsx", "xlsm", "xls", "ods"],
                            )
                            .pick_files()
                            .unwrap_or_default(),
                    )
                });
            }
            for (index, draft) in self.extracts.iter().enumerate() {
                if ui
                    .selectable_label(self.current == index, &draft.name)
                    .clicked()
                {
                    self.current = index;
                }
            }
        });
        let index = self.current;
        let Some(draft) = self.extracts.get_mut(index) else {
            ui.label("No extracts yet.");
            return;
        };
        ui.add_space(6.0);
        let mut reread = None;
        let mut remove = false;
        egui::Grid::new("extract_fields")
            .num_columns(2)
            .show(ui, |ui| {
                ui.label("File");
                ui.label(draft.path.display().to_string());
                ui.end_row();
                if !draft.sheets.is_empty() {
                    ui.label("Sheet");
                    let mut sheet = draft.sheet.clone().unwrap_or_default();
                    egui::ComboBox::from_id_salt("sheet")
                        .selected_text(&sheet)
                        .show_ui(ui, |ui| {
                            for name in &draft.sheets {
                                ui.selectable_value(&mut sheet, name.clone(), name);
                            }
                        });
                    if Some(&sheet) != draft.sheet.as_ref() {
                        reread = Some(sheet);
                    }
                    ui.end_row();
                }
                ui.label("Agency");
                egui::ComboBox::from_id_salt("agency")
                    .selected_text(draft.agency.label())
                    .show_ui(ui, |ui| {
                        for kind in AgencyKind::ALL {
                            ui.selectable_value(&mut draft.agency, kind, kind.label());
                        }
                    });
                ui.end_row();
                ui.label("System");
                ui.text_edit_singleline(&mut draft.system);
                ui.end_row();
                ui.label("Short name");
                ui.text_edit_singleline(&mut draft.name);
                ui.end_row();
                ui.label("Dates written as");
                egui::ComboBox::from_id_salt("date_format")
                    .selected_text(extract_reader::human_date_pattern(&draft.date_format))
                    .show_ui(ui, |ui| {
                        for format in guess::DATE_FORMATS {
                            ui.selectable_value(
                                &mut draft.date_format,
                                format.to_string(),
                                extract_reader::human_date_pattern(format),
                            );
                        }
                    });
                ui.end_row();
            });
        ui.add_space(6.0);
        ui.label(RichText::new("Columns").strong());
        egui::Grid::new("columns")
            .striped(true)
            .num_columns(4)
            .show(ui, |ui| {
                ui.label(RichText::new("Column in the file").strong());
                ui.label(RichText::new("First values").strong());
                ui.label(RichText::new("Loaded as").strong());
                ui.label(RichText::new("Why").strong());
                ui.end_row();
                for (column, header) in draft.sample.headers.iter().enumerate() {
                    ui.label(header);
                    let examples: Vec<String> = draft
                        .sample
                        .rows
                        .iter()
                        .map(|row| row.get(column).map(|v| v.text()).unwrap_or_default())
                        .filter(|t| !t.is_empty())
                        .take(3)
                        .collect();
                    ui.label(RichText::new(shorten(&examples.join(" · "), 44)).weak());
                    let use_ = &mut draft.uses[column];
                    egui::ComboBox::from_id_salt(("role", column))
                        .width(330.0)
                        .selected_text(use_.label())
                        .show_ui(ui, |ui| {
                            ui.selectable_value(use_, ColumnUse::NotUsed, "Not used");
                            ui.selectable_value(use_, ColumnUse::Keep, "Keep as text");
                            for role in FieldRole::ALL {
                                ui.selectable_value(use_, ColumnUse::Role(role), role_label(role));
                            }
                        });
                    let guessed = &draft.guess.columns[column];
                    let colour = match guessed.confidence {
                        Confidence::High => ui.visuals().text_color(),
                        Confidence::Medium => ui.visuals().weak_text_color(),
                        Confidence::Low => ui.visuals().warn_fg_color,
                    };
                    ui.label(RichText::new(&guessed.reason).color(colour));
                    ui.end_row();
                }
            });
        if let Some(problem) = draft.problem() {
            ui.colored_label(ui.visuals().warn_fg_color, format!("To fix: {problem}."));
        }
        ui.add_space(6.0);
        let mut check = false;
        ui.horizontal(|ui| {
            check = ui
                .add_enabled(
                    draft.problem().is_none(),
                    egui::Button::new("Check these rows"),
                )
                .on_hover_text(
                    "Read the file as it will be loaded: the first rows and the quality summary",
                )
                .clicked();
            remove = ui.button("Remove this extract").clicked();
        });
        match &draft.check {
            Some(Ok((preview, quality))) => {
                preview_ui(ui, preview);
                quality_ui(ui, quality);
            }
            Some(Err(error)) => {
                ui.colored_label(ui.visuals().error_fg_color, error);
            }
            None => {}
        }
        let path = draft.path.clone();
        if check {
            self.check(index, ctx);
        }
        if let Some(sheet) = reread {
            self.read(Some(index), path, Some(sheet), ctx);
        }
        if remove {
            self.extracts.remove(index);
            self.current = self.current.saturating_sub(1);
        }
        self.next_button(ui, Step::Create);
    }

    fn create_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        section_heading_ui(
            ui,
            "Create the database",
            "Loads every extract, links records into people and families, finds the \
             families meeting the Supporting Families criteria and scores them with the \
             model that ships with Zonewise (train your own with zonewise train once you \
             have a year of outcomes). If anything is wrong with a file, nothing is \
             created and the file, row and column are named.",
        );
        egui::Grid::new("summary").num_columns(2).show(ui, |ui| {
            ui.label("Database file");
            ui.label(self.db_path.trim());
            ui.end_row();
            ui.label("Manifest");
            ui.label(self.manifest_path().display().to_string());
            ui.end_row();
            ui.label("Authorities");
            ui.label(self.chosen.iter().cloned().collect::<Vec<_>>().join(", "));
            ui.end_row();
            ui.label("Extracts");
            ui.label(
                self.extracts
                    .iter()
                    .map(|d| format!("{} ({})", d.name, d.agency.label()))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            ui.end_row();
        });
        ui.add_space(8.0);
        let problem = self.problem();
        if let Some(problem) = &problem {
            ui.colored_label(ui.visuals().warn_fg_color, problem);
        }
        if ui
            .add_enabled(
                problem.is_none() && !self.jobs.is_busy(),
                egui::Button::new("Create the database"),
            )
            .clicked()
        {
            self.create(ctx);
        }
    }
}

fn shorten(text: &str, keep: usize) -> String {
    if text.chars().count() > keep {
        format!("{}…", text.chars().take(keep).collect::<String>())
    } else {
        text.to_string()
    }
}

/// The first rows as they will be loaded.
fn preview_ui(ui: &mut egui::Ui, preview: &ExtractPreview) {
    ui.add_space(6.0);
    ui.label(RichText::new("The first rows, as they will be loaded").strong());
    egui::ScrollArea::horizontal()
        .id_salt("preview")
        .show(ui, |ui| {
            egui::Grid::new("preview_rows")
                .striped(true)
                .show(ui, |ui| {
                    for column in &preview.columns {
                        ui.label(RichText::new(column).strong());
                    }
                    ui.end_row();
                    for row in &preview.rows {
                        for value in row {
                            ui.label(shorten(value, 30));
                        }
                        ui.end_row();
                    }
                });
        });
}

/// The quality summary the Data view will show once loaded.
fn quality_ui(ui: &mut egui::Ui, quality: &SourceQuality) {
    ui.add_space(6.0);
    ui.label(RichText::new("Quality of the whole file").strong());
    ui.label(format!(
        "{} rows · {} people's records · {} duplicated row IDs · events {} to {}",
        thousands(quality.total_rows),
        thousands(quality.records),
        thousands(quality.duplicate_keys),
        quality.first_event.as_deref().unwrap_or("–"),
        quality.last_event.as_deref().unwrap_or("–"),
    ));
    ui.label(
        quality
            .completeness
            .iter()
            .map(|(field, share)| format!("{field}: {:.0}% filled", share * 100.0))
            .collect::<Vec<_>>()
            .join(" · "),
    );
}
