//! The application shell: opens the database on a worker, keeps the session,
//! the job queue and the figures the views show (`figures`: read per part, when
//! stale and shown), and lays out navigation, the current view and the status bar.
//!
//! The shell knows a view only by its registration ([`View::spec`]): each view
//! is a [`Screen`] owning its state, drawing its parts and running its own jobs
//! through the [`Desk`] the shell lends it; a job's result comes back to the
//! view that started it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use duckdb::Connection;

use super::data_view::{DataState, ImportMessage};
use super::desk::{Desk, Done, JobKey, Message, Queue, Request, Screen};
use super::figures::{Figures, Part, PartData};
use super::jobs::Database;
use super::map_view::MapState;
use super::new_database::{NewDatabaseWizard, Outcome};
use super::settings::{MapChoices, Settings};
use super::views::View;
use super::{login, screenshot};
use crate::access::Session;
use crate::{sample, store};

/// Which database the app works on.
#[derive(Debug, Clone)]
pub enum DatabaseChoice {
    /// The bundled sample county, built into `db_path` from `sample_dir` when needed.
    Sample {
        sample_dir: PathBuf,
        db_path: PathBuf,
    },
    /// An existing database file made by `zonewise ingest`.
    File(PathBuf),
}

impl DatabaseChoice {
    /// The bundled sample county, in its usual places.
    pub fn sample() -> DatabaseChoice {
        DatabaseChoice::Sample {
            sample_dir: crate::bundled::sample_dir(),
            db_path: sample::sample_db_path(),
        }
    }

    fn db_path(&self) -> &PathBuf {
        match self {
            DatabaseChoice::Sample { db_path, .. } | DatabaseChoice::File(db_path) => db_path,
        }
    }
}

/// Every view's state, made by its registration.
fn make_screens() -> BTreeMap<View, Box<dyn Screen>> {
    View::ALL
        .into_iter()
        .map(|view| (view, (view.spec().make)()))
        .collect()
}

/// Lends the shell's session, database, queue and figures to `$view` for one
/// frame, action or job result (a macro, so that the screens stay borrowable
/// beside it).
macro_rules! desk {
    ($app:expr, $ctx:expr, $view:expr) => {
        Desk {
            ctx: $ctx,
            view: $view,
            session: $app.session.as_ref(),
            db: $app.db.as_ref(),
            jobs: &mut $app.jobs,
            figures: &mut $app.figures,
            requests: &mut $app.requests,
            is_sample: matches!($app.database, DatabaseChoice::Sample { .. }),
            requires_login: $app.requires_login,
            session_number: $app.session_number,
        }
    };
}

/// The Zonewise window.
pub struct ZonewiseApp {
    database: DatabaseChoice,
    /// The view on screen.
    pub view: View,
    /// The open database: handed to jobs, never queried on this thread.
    db: Option<Database>,
    /// Every running job: the shell's own and the views'.
    jobs: Queue,
    /// What the views show, read per part; see [`Figures`].
    figures: Figures,
    /// Each view's state, made from its registration.
    screens: BTreeMap<View, Box<dyn Screen>>,
    /// Where views asked the shell to go, handled after their frame or job.
    requests: Vec<Request>,
    /// Counts sign-ins: a view's job started for an earlier session is not
    /// applied to the views of a later one.
    session_number: u64,
    /// Read every part the role's views show (but the audit log) after the
    /// shown view's: set when a session starts, so each view's first visit
    /// shows at once. Later changes re-read only what is shown.
    prefetch: bool,
    /// The view drawn last frame: entering the Audit view verifies the log again.
    shown: Option<View>,
    open_error: Option<String>,
    /// A view's job that stopped without a result (its worker died).
    job_failure: Option<String>,
    /// Jobs started that read and verify the whole audit log.
    audit_verifications: usize,
    /// Sign in with the form's name and password once the database is open.
    sign_in_on_open: bool,
    /// Who is using the app: signed in, or the local analyst on a database without users.
    session: Option<Session>,
    /// The sign-in form, shown while the database has users and nobody has signed in.
    pub login: login::LoginState,
    /// The database has users: the app asks who is there.
    requires_login: bool,
    /// A family to open once the data is shown (`zonewise --family`).
    pending_family: Option<String>,
    /// A person search to run once the data is shown (`zonewise --find`).
    pending_search: Option<String>,
    screenshot: Option<screenshot::Capture>,
    /// What the window remembers between sessions (see [`Settings`]).
    settings: Settings,
    /// Nothing on the command line said what to show: the last view and map
    /// choices are restored.
    restores_view: bool,
    started: bool,
    /// "New database…", while it is open: it takes the central panel.
    new_database: Option<NewDatabaseWizard>,
    /// A database the wizard made, opened once the open database's work is done.
    open_when_idle: Option<PathBuf>,
    /// `--new-database FILE…`: the wizard to open with these extracts.
    pending_new_database: Option<Vec<PathBuf>>,
}

impl ZonewiseApp {
    /// A window on `database`; opening starts with the first frame.
    pub fn new(database: DatabaseChoice) -> ZonewiseApp {
        ZonewiseApp {
            database,
            view: View::Overview,
            db: None,
            jobs: Queue::default(),
            figures: Figures::default(),
            screens: make_screens(),
            requests: Vec::new(),
            session_number: 0,
            prefetch: false,
            shown: None,
            open_error: None,
            job_failure: None,
            audit_verifications: 0,
            sign_in_on_open: false,
            pending_search: None,
            pending_family: None,
            session: None,
            login: login::LoginState::default(),
            requires_login: false,
            screenshot: None,
            settings: Settings::default(),
            restores_view: false,
            started: false,
            new_database: None,
            open_when_idle: None,
            pending_new_database: None,
        }
    }

    /// Opens "New database…" on its extracts step with `files` added, once
    /// the window starts (`--new-database`).
    pub fn with_new_database(mut self, files: Vec<PathBuf>) -> ZonewiseApp {
        self.pending_new_database = Some(files);
        self
    }

    /// Shows the last view and map choices kept from the previous session when
    /// [`ZonewiseApp::restore`] is given them (the command line chose nothing).
    pub fn with_last_view_restored(mut self) -> ZonewiseApp {
        self.restores_view = true;
        self
    }

    /// Takes the settings kept from earlier sessions: the recent databases
    /// always; the last view and the map's choices when the command line chose
    /// nothing to show. A screenshot ignores them (it must not depend on
    /// whoever used the window last).
    pub fn restore(&mut self, settings: Settings) {
        if self.screenshot.is_some() {
            return;
        }
        if self.restores_view {
            if let Some(view) = settings.view {
                self.view = view;
            }
            if let Some(choices) = settings.map {
                choices.apply(self.screen_mut::<MapState>());
            }
        }
        self.settings = settings;
    }

    /// What the window would keep now: the recent databases, the view on
    /// screen and the map's choices.
    pub fn settings(&self) -> Settings {
        Settings {
            view: Some(self.view),
            map: Some(MapChoices::of(self.screen::<MapState>())),
            ..self.settings.clone()
        }
    }

    /// True when the window only takes a screenshot (`--screenshot`).
    pub fn is_screenshot(&self) -> bool {
        self.screenshot.is_some()
    }

    /// Opens another database in this window, as if started on it: everything
    /// read from the last one, its session and every view's state are
    /// forgotten. Refused while work runs (it belongs to the open database).
    pub fn switch_to(&mut self, database: DatabaseChoice) {
        if self.jobs.is_busy() {
            return;
        }
        self.database = database;
        self.db = None;
        self.figures = Figures::default();
        self.screens = make_screens();
        self.session = None;
        self.session_number += 1;
        self.requires_login = false;
        self.login = login::LoginState::default();
        self.open_error = None;
        self.job_failure = None;
        self.prefetch = false;
        self.shown = None;
        self.pending_family = None;
        self.pending_search = None;
        self.started = false;
        self.new_database = None;
    }

    /// Asks for a database file in a dialog on a worker, then opens it.
    fn choose_database(&mut self, ctx: &egui::Context) {
        if self.jobs.is_busy() {
            return;
        }
        self.jobs
            .start(JobKey::ChooseDatabase, "Opening a database", ctx, |sink| {
                sink.report(None, "Choosing a database file…");
                Ok(Done::DatabaseChosen(
                    rfd::FileDialog::new()
                        .set_title("Open a Zonewise database")
                        .add_filter("Zonewise database", &["duckdb"])
                        .pick_file(),
                ))
            });
    }

    /// Saves a PNG of `view` to `path` once the data is shown, then closes the window.
    pub fn with_screenshot(mut self, view: View, path: PathBuf) -> ZonewiseApp {
        self.view = view;
        self.screenshot = Some(screenshot::Capture::new(path));
        self
    }

    /// Opens Linkage → Find a person on the first person matching `text` once the data is shown.
    pub fn with_person_search(mut self, text: String) -> ZonewiseApp {
        self.view = View::Linkage;
        self.pending_search = Some(text);
        self
    }

    /// Opens a family (`top`: the highest-ranked) once the data is shown: on its
    /// zone's agenda when the view is the Round table, else in Families.
    pub fn with_family(mut self, family: String) -> ZonewiseApp {
        if self.view != View::RoundTable {
            self.view = View::Families;
        }
        self.pending_family = Some(family);
        self
    }

    /// Signs in as `user` with `password` as soon as the database is open, when it
    /// has users (`zonewise --as NAME` with `ZONEWISE_PASSWORD`: a projected
    /// round-table screen started by a script, or a screenshot).
    pub fn with_sign_in(mut self, user: String, password: String) -> ZonewiseApp {
        self.login.user = user;
        self.login.password = password;
        self.sign_in_on_open = true;
        self
    }

    /// Who is signed in (the local analyst on a database without users).
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The state of the view `V` (each view has one, whether shown or not).
    pub fn screen<V: Screen>(&self) -> &V {
        self.screens
            .values()
            .find_map(|screen| (screen.as_ref() as &dyn std::any::Any).downcast_ref::<V>())
            .expect("every view's screen is registered")
    }

    /// The state of the view `V`, to change.
    pub fn screen_mut<V: Screen>(&mut self) -> &mut V {
        self.screens
            .values_mut()
            .find_map(|screen| (screen.as_mut() as &mut dyn std::any::Any).downcast_mut::<V>())
            .expect("every view's screen is registered")
    }

    /// Runs `act` on the view `V` with the desk, as its own frame would: how
    /// scripts (the benchmarks, the tests) ask a view for what a click asks.
    pub fn act<V: Screen, R>(
        &mut self,
        ctx: &egui::Context,
        act: impl FnOnce(&mut V, &mut Desk<'_>) -> R,
    ) -> R {
        let view = *self
            .screens
            .iter()
            .find(|(_, screen)| (screen.as_ref() as &dyn std::any::Any).is::<V>())
            .expect("every view's screen is registered")
            .0;
        let screen = self.screens.get_mut(&view).expect("registered");
        let screen = (screen.as_mut() as &mut dyn std::any::Any)
            .downcast_mut::<V>()
            .expect("found by its type");
        let result = act(screen, &mut desk!(self, ctx, view));
        self.follow_requests(ctx);
        result
    }

    /// Checks the sign-in form's name and password on a worker (argon2 is slow on
    /// purpose); [`ZonewiseApp::signed_in`] takes the session when it succeeds.
    pub fn sign_in(&mut self, ctx: &egui::Context) {
        if self.jobs.is_running(JobKey::SignIn) {
            return;
        }
        let Some(db) = &self.db else {
            return;
        };
        let user = self.login.user.trim().to_string();
        let password = std::mem::take(&mut self.login.password);
        self.login.error = None;
        self.jobs
            .start_on(db, JobKey::SignIn, "Signing in", ctx, move |sink, conn| {
                sink.report(None, "Checking the password…");
                Ok(Done::SignedIn(crate::access::authenticate(
                    conn, &user, &password,
                )?))
            });
    }

    /// Signed in: opens a view the role may open; the next frame reads its figures.
    fn signed_in(&mut self, session: Session) {
        if !session.role.may(self.view.capability()) {
            self.view = View::ALL
                .into_iter()
                .find(|&view| session.role.may(view.capability()))
                .unwrap_or(View::Overview);
        }
        self.login.error = None;
        self.session = Some(session);
        self.session_number += 1;
        self.prefetch = true;
    }

    /// Forgets the session, everything read for it and every view's state
    /// (jobs still running for it are not applied), back to the sign-in form.
    fn sign_out(&mut self) {
        self.session = None;
        self.session_number += 1;
        self.figures = Figures::default();
        self.prefetch = false;
        self.screens = make_screens();
    }

    /// The figures read so far, per part.
    pub fn figures(&self) -> &Figures {
        &self.figures
    }

    /// True when a session is there and what the current view and the bars
    /// show has been read and is not stale.
    pub fn is_ready(&self) -> bool {
        self.session.is_some() && self.wanted_parts().all(|part| self.figures.is_fresh(part))
    }

    /// The parts on screen: the bars' overview and the current view's, if the
    /// role may open it.
    fn wanted_parts(&self) -> impl Iterator<Item = Part> + use<> {
        let shown: &'static [Part] = if self.may_use(self.view) {
            self.view.parts()
        } else {
            &[]
        };
        std::iter::once(Part::Overview).chain(shown.iter().copied())
    }

    /// Why the database could not be opened, if it could not.
    pub fn open_error(&self) -> Option<&str> {
        self.open_error.as_deref()
    }

    /// The last import's outcome.
    pub fn import_message(&self) -> Option<&ImportMessage> {
        self.screen::<DataState>().message.as_ref()
    }

    /// How many times the app has asked for the whole audit log to be read and
    /// verified: entering the Audit view and "Verify again", never another view's read.
    pub fn audit_verifications(&self) -> usize {
        self.audit_verifications
    }

    /// True while any background job runs, or a view must stay as drawn until
    /// the screen is captured (the map drawn as a figure).
    pub fn is_busy(&self) -> bool {
        self.jobs.is_busy()
            || self.screens.values().any(|screen| screen.is_capturing())
            || self
                .new_database
                .as_ref()
                .is_some_and(NewDatabaseWizard::is_busy)
    }

    /// The database file the window is on (or opening).
    pub fn database_path(&self) -> &std::path::Path {
        self.database.db_path()
    }

    /// The "New database…" wizard, while it is open.
    pub fn new_database(&mut self) -> Option<&mut NewDatabaseWizard> {
        self.new_database.as_mut()
    }

    /// Opens the "New database…" wizard (what its menu entry does), on the
    /// England-wide reference data that ships.
    pub fn start_new_database(&mut self, ctx: &egui::Context) {
        if self.new_database.is_none() {
            self.new_database = Some(NewDatabaseWizard::new(crate::bundled::reference_dir(), ctx));
        }
    }

    /// True when the signed-in role may open `view`.
    fn may_use(&self, view: View) -> bool {
        self.session
            .as_ref()
            .is_some_and(|session| session.role.may(view.capability()))
    }

    /// True when the window is on the bundled sample county.
    pub fn is_sample(&self) -> bool {
        matches!(self.database, DatabaseChoice::Sample { .. })
    }

    fn start_opening(&mut self, ctx: &egui::Context) {
        let database = self.database.clone();
        self.jobs
            .start(JobKey::Open, "Opening database", ctx, move |sink| {
                let conn = match database {
                    DatabaseChoice::Sample {
                        sample_dir,
                        db_path,
                    } => {
                        sink.report(None, "Preparing the sample county…");
                        sample::open_sample(&sample_dir, &db_path, &mut |p| {
                            sink.report(
                                Some(p.fraction),
                                format!("Building the sample county: {}", p.stage),
                            )
                        })?
                    }
                    DatabaseChoice::File(path) => {
                        if !path.is_file() {
                            anyhow::bail!("database {} does not exist", path.display());
                        }
                        store::open(&path)?
                    }
                };
                let requires_login = crate::access::requires_sign_in(&conn)?;
                Ok(Done::Opened {
                    conn,
                    requires_login,
                })
            });
    }

    /// Starts reading what is on screen and missing or stale: the bars'
    /// overview and the current view's parts, for a role that may open it (a
    /// hidden view's data is not read, nor kept in memory: the audit log names
    /// people and searches, the review queue pairs named records). Entering the
    /// Audit view verifies the log again. Once a session starts, every other
    /// view's part but the audit log is read after the shown view's.
    fn read_wanted(&mut self, ctx: &egui::Context) {
        if self.shown != Some(self.view) {
            if self.view == View::Audit {
                // Entries were added since it was read: searches, cases opened, exports.
                self.figures.mark_stale(Part::Audit);
            }
            self.shown = Some(self.view);
        }
        if self.open_error.is_some() || self.jobs.is_running(JobKey::Read) {
            return;
        }
        let Some(session) = self.session.clone() else {
            return;
        };
        let mut parts: Vec<Part> = self.wanted_parts().collect();
        if parts.iter().all(|&part| self.figures.is_fresh(part))
            && std::mem::take(&mut self.prefetch)
        {
            for view in View::ALL {
                if view != View::Audit && session.role.may(view.capability()) {
                    parts.extend(view.parts());
                }
            }
        }
        parts.sort();
        parts.dedup();
        parts.retain(|&part| self.figures.wants(part));
        let Some(db) = &self.db else {
            return;
        };
        if parts.is_empty() {
            return;
        }
        self.audit_verifications += usize::from(parts.contains(&Part::Audit));
        self.figures.reading(&parts);
        let title = if parts == [Part::Audit] {
            "Verifying the audit log"
        } else {
            "Reading figures"
        };
        self.jobs
            .start_on(db, JobKey::Read, title, ctx, move |_, conn| {
                let read = parts
                    .iter()
                    .map(|part| part.read(conn, &session))
                    .collect::<anyhow::Result<Vec<PartData>>>()?;
                Ok(Done::Read(read))
            });
    }

    /// Collects finished jobs: the shell's own are taken in here, a view's is
    /// applied to the view that started it (if its session is still the one
    /// signed in); then goes where the views asked.
    fn poll_jobs(&mut self, ctx: &egui::Context) {
        if !self.started {
            self.started = true;
            self.start_opening(ctx);
        }
        for (key, result) in self.jobs.take_finished() {
            match (key, result) {
                (
                    _,
                    Ok(Done::Opened {
                        conn,
                        requires_login,
                    }),
                ) => self.opened(ctx, conn, requires_login),
                (_, Ok(Done::Read(parts))) => self.parts_read(parts),
                (_, Ok(Done::SignedIn(session))) => self.signed_in(session),
                (_, Ok(Done::DatabaseChosen(path))) => {
                    if let Some(path) = path {
                        self.switch_to(DatabaseChoice::File(path));
                    }
                }
                (JobKey::View { view, session, .. }, Ok(Done::View(apply))) => {
                    if session != self.session_number {
                        continue;
                    }
                    if let Some(screen) = self.screens.get_mut(&view) {
                        apply(screen.as_mut(), &mut desk!(self, ctx, view));
                    }
                }
                (_, Ok(Done::View(_))) => {}
                (JobKey::Open, Err(error)) => self.open_error = Some(error),
                (JobKey::Read, Err(error)) => {
                    self.figures.read_failed(&Part::ALL);
                    self.open_error = Some(error)
                }
                (JobKey::SignIn, Err(error)) => self.login.error = Some(error),
                (JobKey::ChooseDatabase, Err(error)) => self.job_failure = Some(error),
                (JobKey::View { title, .. }, Err(error)) => {
                    self.job_failure = Some(format!("{title}: {error}"))
                }
            }
        }
        if let Some(files) = self.pending_new_database.take() {
            self.start_new_database(ctx);
            if let Some(wizard) = &mut self.new_database {
                wizard.step = super::new_database::Step::Extracts;
                for file in files {
                    wizard.add_extract(file, ctx);
                }
            }
        }
        if !self.jobs.is_busy()
            && let Some(path) = self.open_when_idle.take()
        {
            self.switch_to(DatabaseChoice::File(path));
        }
        self.follow_requests(ctx);
    }

    /// Shows the views the views asked for, with their messages, for a role
    /// that may open them (a message is not a way round the roles).
    fn follow_requests(&mut self, ctx: &egui::Context) {
        for Request { view, message } in std::mem::take(&mut self.requests) {
            if !self.may_use(view) {
                continue;
            }
            self.view = view;
            if let (Some(message), Some(screen)) = (message, self.screens.get_mut(&view)) {
                screen.receive(message, &mut desk!(self, ctx, view));
            }
        }
    }

    /// The database is open: a database with users asks who is there; one without
    /// runs as the local analyst.
    fn opened(&mut self, ctx: &egui::Context, conn: Connection, requires_login: bool) {
        if let DatabaseChoice::File(path) = &self.database {
            self.settings.remember_database(path);
        }
        self.requires_login = requires_login;
        self.session = (!requires_login).then(Session::local_analyst);
        self.session_number += 1;
        self.prefetch = self.session.is_some();
        self.db = Some(Database::new(conn));
        if self.requires_login && std::mem::take(&mut self.sign_in_on_open) {
            // The figures are read when it succeeds; else the form shows why.
            self.sign_in(ctx);
        }
    }

    /// Parts of the figures are in: kept (each view told, for what it derives
    /// from them), then what the command line asked to open once its data is
    /// there.
    fn parts_read(&mut self, parts: Vec<PartData>) {
        for data in parts {
            let part = data.part();
            let replaced = self.figures.store(data);
            for screen in self.screens.values_mut() {
                screen.part_stored(part, replaced.as_ref(), &self.figures);
            }
            match part {
                Part::Families => {
                    if let Some(family) = self.pending_family.take() {
                        self.requests.push(Request {
                            view: self.view,
                            message: Some(Message::OpenFamily(family)),
                        });
                    }
                }
                // A search asked for on the command line runs only for a role that
                // may open Linkage: `--as screen --find NAME` reads nobody.
                Part::Linkage => {
                    if let Some(text) = self.pending_search.take() {
                        self.requests.push(Request {
                            view: View::Linkage,
                            message: Some(Message::FindPerson(text)),
                        });
                    }
                }
                _ => {}
            }
        }
    }

    /// Draws one frame. The frame only draws: database work and hashing are
    /// refused on this thread while it runs (`store::forbid_on_this_thread`).
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let _frame = store::forbid_on_this_thread();
        let ctx = ui.ctx().clone();
        self.poll_jobs(&ctx);
        self.read_wanted(&ctx);

        egui::Panel::top("title_bar").show(ui, |ui| self.title_bar_ui(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar_ui(ui));
        egui::Panel::left("navigation")
            .resizable(false)
            .exact_size(170.0)
            .show(ui, |ui| self.navigation_ui(ui));
        egui::CentralPanel::default().show(ui, |ui| self.view_ui(ui));
        self.follow_requests(&ctx);

        // The sign-in form is a finished screen too: nothing is read before it.
        let at_sign_in =
            self.requires_login && self.session.is_none() && self.db.is_some() && !self.is_busy();
        let ready = self.is_ready() && !self.is_busy() || self.open_error.is_some() || at_sign_in;
        if let Some(capture) = &mut self.screenshot {
            capture.frame_ui(ui, ready);
        }
    }

    fn title_bar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading(egui::RichText::new("Zonewise").strong());
            if let Some(overview) = &self.figures.overview {
                ui.separator();
                ui.label(egui::RichText::new(&overview.county).strong());
                if let Some(date) = &overview.extract_date {
                    ui.label(format!("extracts of {date}"));
                }
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if let Some(session) = &self.session
                    && self.requires_login
                {
                    if ui.button("Sign out").clicked() {
                        self.sign_out();
                        return;
                    }
                    ui.label(format!("{} ({})", session.user, session.role.as_str()));
                    ui.separator();
                }
                self.database_menu_ui(ui);
            });
        });
    }

    /// The open database's file, and a menu to open another: a file chosen in
    /// a dialog, a recent one, or the sample county. Offered while no work runs
    /// (it belongs to the open database).
    fn database_menu_ui(&mut self, ui: &mut egui::Ui) {
        let idle = !self.jobs.is_busy();
        ui.add_enabled_ui(idle, |ui| {
            ui.menu_button("Open…", |ui| {
                if ui.button("Open a database file…").clicked() {
                    let ctx = ui.ctx().clone();
                    self.choose_database(&ctx);
                    ui.close();
                }
                if ui
                    .button("New database…")
                    .on_hover_text("Make your council's own database from its extracts")
                    .clicked()
                {
                    let ctx = ui.ctx().clone();
                    self.start_new_database(&ctx);
                    ui.close();
                }
                let recent: Vec<PathBuf> = self
                    .settings
                    .recent
                    .iter()
                    .filter(|known| *known != self.database.db_path())
                    .cloned()
                    .collect();
                if !recent.is_empty() {
                    ui.separator();
                    ui.label(egui::RichText::new("Recent").weak());
                }
                for known in recent {
                    let text = shorten_path(&known.display().to_string());
                    let button = ui
                        .add_enabled(known.is_file(), egui::Button::new(text))
                        .on_disabled_hover_text("This file is no longer there.");
                    if button.clicked() {
                        self.switch_to(DatabaseChoice::File(known));
                        ui.close();
                    }
                }
                if !self.is_sample() {
                    ui.separator();
                    if ui.button("The sample county").clicked() {
                        self.switch_to(DatabaseChoice::sample());
                        ui.close();
                    }
                }
            })
            .response
            .on_hover_text("Open another database in this window");
        });
        let path = self.database.db_path().display().to_string();
        ui.label(egui::RichText::new(shorten_path(&path)).small().weak())
            .on_hover_text(format!("Database file: {path}"));
    }

    fn navigation_ui(&mut self, ui: &mut egui::Ui) {
        ui.add_space(8.0);
        let Some(role) = self.session.as_ref().map(|s| s.role) else {
            return;
        };
        for view in View::ALL.into_iter().filter(|&v| role.may(v.capability())) {
            let text = egui::RichText::new(view.label());
            let response = ui.add_sized(
                [ui.available_width(), 28.0],
                egui::Button::selectable(self.view == view, text.size(15.0)),
            );
            if response.clicked() {
                self.view = view;
            }
        }
    }

    fn status_bar_ui(&self, ui: &mut egui::Ui) {
        let running = self.jobs.progress();
        ui.horizontal(|ui| match running.first() {
            Some((title, progress)) => {
                ui.spinner();
                ui.label(title);
                let bar = match progress.fraction {
                    Some(fraction) => egui::ProgressBar::new(fraction).show_percentage(),
                    None => egui::ProgressBar::new(0.0).animate(true),
                };
                ui.add(bar.desired_width(220.0));
                ui.label(egui::RichText::new(&progress.message).weak());
                // Jobs started later are named too, so none runs unseen.
                if running.len() > 1 {
                    let others: Vec<&str> = running[1..]
                        .iter()
                        .map(|(title, _)| title.as_str())
                        .collect();
                    ui.separator();
                    ui.label(egui::RichText::new(format!("also: {}", others.join(", "))).weak());
                }
            }
            None => match (&self.open_error, &self.figures.overview) {
                (None, _) if self.job_failure.is_some() => {
                    let failure = self.job_failure.as_deref().unwrap_or_default();
                    ui.colored_label(ui.visuals().error_fg_color, failure);
                }
                (Some(_), _) => {
                    ui.colored_label(ui.visuals().error_fg_color, "Database not available");
                }
                (None, Some(overview)) => {
                    ui.label(format!(
                        "Ready · {} sources · last load {}",
                        overview.sources,
                        overview.loaded_at.as_deref().unwrap_or("never")
                    ));
                }
                (None, None) if self.requires_login && self.session.is_none() => {
                    ui.label("Sign in to read the county's figures");
                }
                (None, None) => {
                    ui.label("Starting…");
                }
            },
        });
    }

    fn view_ui(&mut self, ui: &mut egui::Ui) {
        if let Some(wizard) = &mut self.new_database {
            match wizard.ui(ui) {
                Outcome::Stay => {}
                Outcome::Cancel => self.new_database = None,
                Outcome::Open(path) => self.open_when_idle = Some(path),
            }
            return;
        }
        if let Some(error) = &self.open_error {
            ui.add_space(20.0);
            ui.heading("The database could not be opened");
            ui.colored_label(ui.visuals().error_fg_color, error);
            return;
        }
        let Some(role) = self.session.as_ref().map(|s| s.role) else {
            if self.db.is_some() && login::login_ui(ui, &mut self.login) {
                let ctx = ui.ctx().clone();
                self.sign_in(&ctx);
            }
            return;
        };
        if !role.may(self.view.capability()) {
            ui.heading(self.view.label());
            ui.label(format!("A {} may not open this view.", role.as_str()));
            return;
        }
        if self.figures.overview.is_none() {
            ui.centered_and_justified(|ui| {
                ui.label("Preparing the county… (progress below)");
            });
            return;
        }
        let ctx = ui.ctx().clone();
        let view = self.view;
        if let Some(screen) = self.screens.get_mut(&view) {
            screen.ui(ui, &mut desk!(self, &ctx, view));
        }
    }
}

impl eframe::App for ZonewiseApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        ZonewiseApp::ui(self, ui);
    }

    /// Keeps the settings (never in screenshot mode, which must neither
    /// depend on nor change what the user's window remembers).
    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.screenshot.is_none() {
            self.settings().save(storage);
        }
    }

    /// In screenshot mode the pointer is ignored: wherever the display put it, it
    /// must not hover a row or raise a tooltip in the picture.
    fn raw_input_hook(&mut self, _ctx: &egui::Context, raw_input: &mut egui::RawInput) {
        if self.screenshot.is_some() {
            raw_input.events.retain(|event| {
                !matches!(
                    event,
                    egui::Event::PointerMoved(_)
                        | egui::Event::PointerButton { .. }
                        | egui::Event::MouseMoved(_)
                )
            });
            raw_input.events.push(egui::Event::PointerGone);
        }
    }
}

/// Keeps the end of a long path, where the file name is.
fn shorten_path(path: &str) -> String {
    const KEEP: usize = 60;
    let count = path.chars().count();
    if count <= KEEP {
        path.to_string()
    } else {
        format!("…{}", path.chars().skip(count - KEEP).collect::<String>())
    }
}
