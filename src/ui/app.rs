//! The application shell: opens the database on a worker, keeps the session,
//! the job queue and the figures each view shows (`figures`: read per part, when
//! stale and shown), and lays out navigation, the current view and the status bar.
//! Views draw their figures and state and return actions; the shell turns
//! actions into jobs.
//!
//! A view is registered in two places here: its [`View`] variant with
//! [`View::spec`] (label, who may open it, the parts of the data it shows), and
//! its arm in `ZonewiseApp::view_ui`; what it shows is read by its own module
//! (see [`super::figures`]).

use std::path::PathBuf;

use duckdb::Connection;

use super::figures::{Figures, Part, PartData};
use super::jobs::{Database, JobQueue};
use super::map_view::{self, MapAction};
use super::{
    audit_view, data_view, families_view, linkage_view, login, models_view, overview, round_table,
    screenshot, users_view,
};
use crate::access::{Capability, Purpose, Session, UserRow};
use crate::audit::{self, Action, Entry};
use crate::ingest::{IngestReport, Manifest};
use crate::link::ReclusterReport;
use crate::report::family_detail::{Decision, FamilyDetail};
use crate::report::records::{PersonHit, PersonRecords};
use crate::{sample, store};

pub use data_view::ImportMessage;

/// The screens in the left navigation, in order; `--view` takes their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum View {
    Overview,
    Data,
    Linkage,
    Families,
    #[value(alias = "round_table")]
    RoundTable,
    Map,
    Models,
    Audit,
    Users,
}

/// What the shell needs to know of a view: its registration.
pub struct ViewSpec {
    /// The navigation label.
    pub label: &'static str,
    /// What a role must be granted to open the view (`access::Role::may`): the
    /// same policy the command line and `zonewise uptake` ask.
    pub capability: Capability,
    /// The parts of the data the view shows, read when it is shown and stale.
    pub parts: &'static [Part],
}

impl View {
    /// Every view, in navigation order.
    pub const ALL: [View; 9] = [
        View::Overview,
        View::Data,
        View::Linkage,
        View::Families,
        View::RoundTable,
        View::Map,
        View::Models,
        View::Audit,
        View::Users,
    ];

    /// The view's registration. Families' county and the title and status bars
    /// come from [`Part::Overview`], which the shell always reads.
    pub fn spec(self) -> ViewSpec {
        let spec = |label, capability, parts| ViewSpec {
            label,
            capability,
            parts,
        };
        use Capability::*;
        match self {
            View::Overview => spec("Overview", ReadAggregates, &[Part::Overview]),
            View::Data => spec("Data", RunPipeline, &[Part::Quality]),
            View::Linkage => spec("Linkage", RunPipeline, &[Part::Linkage]),
            View::Families => spec("Families", ReadFamilies, &[Part::Families]),
            View::RoundTable => spec("Round table", HoldRoundTable, &[Part::Families]),
            View::Map => spec("Map", ReadAggregates, &[Part::Map]),
            View::Models => spec("Models", ReadAggregates, &[Part::Models]),
            View::Audit => spec("Audit", ReadAuditLog, &[Part::Audit]),
            View::Users => spec("Users", ManageUsers, &[Part::Users]),
        }
    }

    /// The navigation label.
    pub fn label(self) -> &'static str {
        self.spec().label
    }

    /// What a role must be granted to open this view.
    pub fn capability(self) -> Capability {
        self.spec().capability
    }

    /// The parts of the data the view shows.
    pub fn parts(self) -> &'static [Part] {
        self.spec().parts
    }
}

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
    fn db_path(&self) -> &PathBuf {
        match self {
            DatabaseChoice::Sample { db_path, .. } | DatabaseChoice::File(db_path) => db_path,
        }
    }
}

/// Why the Data view does not load extracts into the bundled sample: its database
/// is deleted and rebuilt whenever the sample or the schema changes, so real
/// records loaded into it would be lost, and a council's data must live in a file
/// the council chose and protects.
pub const SAMPLE_IMPORT_REFUSAL: &str = "The sample county cannot take other extracts: its \
    database is rebuilt from the bundled sample whenever the sample or the program changes, \
    so anything loaded into it would be lost. Create a council database instead: \
    zonewise ingest --db FILE --manifest MANIFEST, then open it with zonewise --db FILE.";

/// The kinds of work the shell runs on workers: the status bar lists them, and a
/// finished one is handled by [`ZonewiseApp::job_finished`] by its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobKind {
    /// Opening the database (building the sample first when needed).
    Open,
    /// Reading parts of the figures (see [`Figures`]); the audit log is read
    /// and verified only as the Audit view's part.
    Read,
    Import,
    Recluster,
    /// A meeting pack's save dialog, audit entry and file.
    SavePack,
    /// Checking a password (argon2, deliberately slow) and recording the sign-in.
    SignIn,
    /// A round table's decision and its audit entry.
    Decide,
    /// A change in the Users view (argon2 hashes a new password) and its audit entry.
    ChangeUsers,
    /// The Linkage view's person search (a scan of every person).
    SearchPersons,
    /// One person's records in every source.
    OpenPerson,
    /// A family's single view or a child's page (Families, the Round table's
    /// "show"), recorded first.
    ReadFamily,
    /// A case opened on the round table: its audit entry, before any name shows.
    OpenCase,
    /// A reviewer's verdict on a pair and its audit entry.
    ReviewVerdict,
    /// Reading and tessellating England's LSOAs for the Map view.
    LoadEngland,
    /// The Map view's tables as CSV files: folder dialog, files, audit entry.
    ExportMapTables,
    /// The save dialog of the Map view's PNG figure.
    ChooseMapFigure,
    /// The captured figure: cropped, encoded, recorded, then renamed into place.
    SaveMapFigure,
}

/// What a finished job produced.
enum JobDone {
    /// The database, and whether it has users (so whoever opens it signs in).
    Opened {
        conn: Connection,
        requires_login: bool,
    },
    /// Parts of the figures, in the order asked for.
    Read(Vec<PartData>),
    Imported(ImportOutcome),
    Reclustered(ReclusterReport),
    /// Where the pack was saved; `None` when the dialog was cancelled.
    PackSaved(Option<PathBuf>),
    SignedIn(Session),
    Decided {
        family_id: String,
        decision: Decision,
    },
    /// The change's outcome (a refusal is an outcome, shown in the view) and the
    /// users as they are after it.
    UsersChanged {
        outcome: Result<String, String>,
        users: Vec<UserRow>,
    },
    /// The people a search found; `open_first` opens the first of them next.
    Found {
        text: String,
        hits: Vec<PersonHit>,
        open_first: bool,
    },
    /// `None` when the person is outside the session's zones.
    PersonOpened {
        person_id: String,
        records: Option<PersonRecords>,
    },
    /// A family read for Families (`child`: for that child's page); `Ok(None)`
    /// when it is outside the session's zones, `Err` why it could not be read.
    FamilyRead {
        family_id: String,
        child: Option<String>,
        detail: Result<Option<FamilyDetail>, String>,
    },
    /// The opening is recorded: the case may be unmasked.
    CaseOpened {
        family_id: String,
    },
    /// The verdict on the pair of these record keys is saved.
    VerdictSaved {
        l_key: String,
        r_key: String,
    },
    EnglandLoaded(Box<(crate::report::map::MapFigures, map_view::Prepared)>),
    /// What the export of the map's tables did ("Export cancelled" too).
    MapTablesExported(String),
    /// The file chosen for the figure; `None` when the dialog was cancelled.
    MapFigureChosen(Option<PathBuf>),
    MapFigureSaved(PathBuf),
}

/// What a finished import job produced.
enum ImportOutcome {
    Cancelled,
    Loaded {
        manifest: PathBuf,
        report: IngestReport,
    },
}

/// The Zonewise window.
pub struct ZonewiseApp {
    database: DatabaseChoice,
    /// The view on screen.
    pub view: View,
    /// The open database: handed to jobs, never queried on this thread.
    db: Option<Database>,
    /// Every running job; see [`JobKind`].
    jobs: JobQueue<JobKind, JobDone>,
    /// What the views show, read per part; see [`Figures`].
    figures: Figures,
    /// Read every part the role's views show (but the audit log) after the
    /// shown view's: set when a session starts, so each view's first visit
    /// shows at once. Later changes re-read only what is shown.
    prefetch: bool,
    /// The view drawn last frame: entering the Audit view verifies the log again.
    shown: Option<View>,
    open_error: Option<String>,
    /// The Data view's path field and last import's outcome.
    pub data: data_view::DataState,
    /// The Linkage view's tabs, trial thresholds, queue position and search.
    pub linkage: linkage_view::LinkageState,
    /// The Map view's choices, camera and prepared geometry.
    pub map: super::map_view::MapState,
    /// The Families view's drill-down path, filters and open family.
    pub families: families_view::FamiliesState,
    /// The Round table view's zone, opened cases and decision form.
    pub round_table: round_table::RoundTableState,
    /// The Audit view's filters.
    pub audit: audit_view::AuditState,
    pub users: users_view::UsersState,
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
    started: bool,
}

impl ZonewiseApp {
    /// A window on `database`; opening starts with the first frame.
    pub fn new(database: DatabaseChoice) -> ZonewiseApp {
        ZonewiseApp {
            database,
            view: View::Overview,
            db: None,
            jobs: JobQueue::default(),
            figures: Figures::default(),
            prefetch: false,
            shown: None,
            open_error: None,
            data: data_view::DataState::default(),
            linkage: linkage_view::LinkageState::default(),
            map: super::map_view::MapState::default(),
            families: families_view::FamiliesState::default(),
            round_table: round_table::RoundTableState::default(),
            audit: audit_view::AuditState::default(),
            users: users_view::UsersState::default(),
            audit_verifications: 0,
            sign_in_on_open: false,
            pending_search: None,
            pending_family: None,
            session: None,
            login: login::LoginState::default(),
            requires_login: false,
            screenshot: None,
            started: false,
        }
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
        self.linkage.tab = linkage_view::LinkageTab::Person;
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

    /// Checks the sign-in form's name and password on a worker (argon2 is slow on
    /// purpose); [`ZonewiseApp::signed_in`] takes the session when it succeeds.
    pub fn sign_in(&mut self, ctx: &egui::Context) {
        if self.jobs.is_running(JobKind::SignIn) {
            return;
        }
        let Some(db) = &self.db else {
            return;
        };
        let user = self.login.user.trim().to_string();
        let password = std::mem::take(&mut self.login.password);
        self.login.error = None;
        self.jobs
            .start_on(db, JobKind::SignIn, "Signing in", ctx, move |sink, conn| {
                sink.report(None, "Checking the password…");
                Ok(JobDone::SignedIn(crate::access::authenticate(
                    conn, &user, &password,
                )?))
            });
    }

    /// Who is acting, for every audit entry the app's work records: the signed-in
    /// user, else (a database without users) the operating-system user. Handed
    /// to each job with its work, never kept anywhere global.
    fn actor(&self) -> String {
        self.session
            .as_ref()
            .map_or_else(audit::os_user, |session| session.user.clone())
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
        self.prefetch = true;
    }

    /// Forgets the session and everything read for it, back to the sign-in form.
    fn sign_out(&mut self) {
        self.session = None;
        self.figures = Figures::default();
        self.prefetch = false;
        self.families = families_view::FamiliesState::default();
        self.round_table = round_table::RoundTableState::default();
        self.linkage = linkage_view::LinkageState::default();
        self.users = users_view::UsersState::default();
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
        self.data.message.as_ref()
    }

    /// How many times the app has asked for the whole audit log to be read and
    /// verified: entering the Audit view and "Verify again", never another view's read.
    pub fn audit_verifications(&self) -> usize {
        self.audit_verifications
    }

    /// True while any background job runs, or the Map view is drawn as a figure
    /// until the screen is captured.
    pub fn is_busy(&self) -> bool {
        self.jobs.is_busy() || self.map.is_figure()
    }

    /// True when the signed-in role may open `view`. Every action a view asks for,
    /// and every action pending from the command line, is checked here before it
    /// reads or writes anything, so what a role may not open cannot be reached
    /// round the navigation.
    fn may_use(&self, view: View) -> bool {
        self.session
            .as_ref()
            .is_some_and(|session| session.role.may(view.capability()))
    }

    /// The message for an action refused because the role may not open `view`.
    fn refusal(&self, view: View) -> String {
        match &self.session {
            Some(session) => format!("A {} may not use {}.", session.role.as_str(), view.label()),
            None => "Sign in first.".to_string(),
        }
    }

    /// True when the window is on the bundled sample county.
    pub fn is_sample(&self) -> bool {
        matches!(self.database, DatabaseChoice::Sample { .. })
    }

    /// What the last re-clustering did, or why it failed.
    pub fn linkage_message(&self) -> Option<&str> {
        self.linkage.message.as_deref()
    }

    /// Carries out what the Linkage view asked for, each on a worker.
    pub fn handle_linkage_action(
        &mut self,
        ctx: &egui::Context,
        action: linkage_view::LinkageAction,
    ) {
        use linkage_view::LinkageAction;
        if action != LinkageAction::None && !self.may_use(View::Linkage) {
            self.linkage.error = Some(self.refusal(View::Linkage));
            return;
        }
        match action {
            LinkageAction::None => {}
            LinkageAction::Apply { accept, review } => {
                let Some(db) = &self.db else {
                    return;
                };
                self.linkage.message = None;
                let actor = self.actor();
                self.jobs.start_on(
                    db,
                    JobKind::Recluster,
                    "Re-clustering people",
                    ctx,
                    move |sink, conn| {
                        sink.report(None, "Linking people and families at the new thresholds…");
                        Ok(JobDone::Reclustered(crate::link::recluster(
                            conn, &actor, accept, review,
                        )?))
                    },
                );
            }
            LinkageAction::Decide { index, same } => self.save_verdict(ctx, index, same),
            LinkageAction::Search => self.start_search(ctx, false),
            LinkageAction::OpenPerson(person_id) => self.start_opening_person(ctx, person_id),
        }
    }

    /// Saves a reviewer's verdict on the queue's pair at `index` on a worker (it
    /// waits there while a load holds the audit log); the pair leaves the queue
    /// once saved. One at a time: the view offers no verdict while it is busy.
    fn save_verdict(&mut self, ctx: &egui::Context, index: usize, same: bool) {
        if self.jobs.is_running(JobKind::ReviewVerdict) {
            return;
        }
        let (Some(db), Some(linkage)) = (&self.db, &self.figures.linkage) else {
            return;
        };
        let Some(item) = linkage.review_queue.get(index) else {
            return;
        };
        let (l_key, r_key) = (item.pair.l_key.clone(), item.pair.r_key.clone());
        let decided_by = self.actor();
        self.linkage.message = None;
        self.jobs.start_on(
            db,
            JobKind::ReviewVerdict,
            "Saving the review verdict",
            ctx,
            move |_, conn| {
                crate::link::review::record_decision(conn, &l_key, &r_key, same, &decided_by)?;
                Ok(JobDone::VerdictSaved { l_key, r_key })
            },
        );
    }

    /// A verdict is saved: its pair leaves the queue.
    fn verdict_saved(&mut self, l_key: &str, r_key: &str) {
        if let Some(linkage) = &mut self.figures.linkage {
            linkage.review_queue.retain(|item| {
                (item.pair.l_key.as_str(), item.pair.r_key.as_str()) != (l_key, r_key)
            });
        }
        self.linkage.decided += 1;
    }

    /// Searches people on a worker (a scan of every person), through the one door:
    /// recorded before any name is on screen, and limited to the zones and masking
    /// the session is given. With `open_first` (`--find`) the first person found is
    /// opened next.
    fn start_search(&mut self, ctx: &egui::Context, open_first: bool) {
        let Some(session) = self.session.clone() else {
            return;
        };
        let Some(db) = &self.db else {
            return;
        };
        let text = self.linkage.search.clone();
        self.jobs.start_on(
            db,
            JobKind::SearchPersons,
            "Searching people",
            ctx,
            move |_, conn| {
                let hits = linkage_view::search(conn, &session, &text)?;
                Ok(JobDone::Found {
                    text,
                    hits,
                    open_first,
                })
            },
        );
    }

    fn found(&mut self, ctx: &egui::Context, text: &str, hits: Vec<PersonHit>, open_first: bool) {
        self.linkage.error = hits
            .is_empty()
            .then(|| format!("Nobody matches '{}'.", text.trim()));
        let first = hits.first().map(|hit| hit.person_id.clone());
        self.linkage.hits = hits;
        if let (true, Some(person_id)) = (open_first, first) {
            self.start_opening_person(ctx, person_id);
        }
    }

    /// Reads one person's records on a worker, through the one door (recorded
    /// before they are shown).
    fn start_opening_person(&mut self, ctx: &egui::Context, person_id: String) {
        let Some(session) = self.session.clone() else {
            return;
        };
        let Some(db) = &self.db else {
            return;
        };
        self.jobs.start_on(
            db,
            JobKind::OpenPerson,
            "Opening a person's records",
            ctx,
            move |_, conn| {
                let records = linkage_view::open_person(conn, &session, &person_id)?;
                Ok(JobDone::PersonOpened { person_id, records })
            },
        );
    }

    fn person_opened(&mut self, person_id: &str, records: Option<PersonRecords>) {
        match records {
            Some(person) => {
                self.linkage.error = None;
                self.linkage.person = Some(person);
            }
            None => {
                self.linkage.error = Some(format!("{person_id} is outside the zones you may see."))
            }
        }
    }

    /// Carries out what the Families view asked for: opening a family or a child's
    /// page reads the family's single view (one family's rows) on a worker,
    /// through `access::person_query`, which records the opening first.
    pub fn handle_families_action(
        &mut self,
        ctx: &egui::Context,
        action: families_view::FamiliesAction,
    ) {
        if action != families_view::FamiliesAction::None && !self.may_use(View::Families) {
            self.families.error = Some(self.refusal(View::Families));
            return;
        }
        match action {
            families_view::FamiliesAction::None => {}
            families_view::FamiliesAction::OpenFamily(family_id) => {
                let purpose = Purpose {
                    action: Action::OpenFamily,
                    subject: family_id.clone(),
                    reason: None,
                };
                self.start_reading_family(ctx, purpose, family_id, None);
            }
            families_view::FamiliesAction::OpenChild(person_id) => {
                let Some(family_id) = self.families.detail.as_ref().map(|d| d.family_id.clone())
                else {
                    return;
                };
                let purpose = Purpose {
                    action: Action::OpenPerson,
                    subject: person_id.clone(),
                    reason: None,
                };
                // Read again, so the child's page shows the records as they are now.
                self.start_reading_family(ctx, purpose, family_id, Some(person_id));
            }
        }
    }

    /// Reads `family_id`'s single view on the current round for `purpose` on a
    /// worker (recorded first by `access::person_query`); `child`: for that
    /// child's page. Nothing is read before the data and a session are there.
    fn start_reading_family(
        &mut self,
        ctx: &egui::Context,
        purpose: Purpose,
        family_id: String,
        child: Option<String>,
    ) {
        let (Some(db), Some(families), Some(session)) =
            (&self.db, &self.figures.families, &self.session)
        else {
            return;
        };
        let Some(date) = families.current.clone() else {
            return;
        };
        let session = session.clone();
        self.jobs.start_on(
            db,
            JobKind::ReadFamily,
            "Opening a family",
            ctx,
            move |_, conn| {
                let detail =
                    families_view::read_family(conn, &session, &purpose, &family_id, &date)
                        .map_err(|error| error.to_string());
                Ok(JobDone::FamilyRead {
                    family_id,
                    child,
                    detail,
                })
            },
        );
    }

    /// A family was read for Families: shown (on its child's page when asked),
    /// or why not.
    fn family_read(
        &mut self,
        family_id: String,
        child: Option<String>,
        detail: Result<Option<FamilyDetail>, String>,
    ) {
        match (child, detail) {
            (None, Ok(None)) => {
                self.families.error = Some(format!("{family_id} is outside the zones you may see."))
            }
            (None, Ok(Some(detail))) => {
                let row = self
                    .figures
                    .families
                    .as_ref()
                    .and_then(|families| families.family(&family_id));
                self.families.scope = match row {
                    Some(row) => families_view::Scope::of_family(row),
                    None => families_view::Scope {
                        family: Some(family_id),
                        ..families_view::Scope::default()
                    },
                };
                self.families.detail = Some(detail);
                self.families.error = None;
            }
            (None, Err(error)) => {
                self.families.error = Some(format!("Cannot read {family_id}: {error}"))
            }
            (Some(person_id), Ok(Some(detail))) if detail.member(&person_id).is_some() => {
                self.families.scope.child = Some(person_id);
                self.families.detail = Some(detail);
                self.families.error = None;
            }
            (Some(person_id), Ok(_)) => {
                self.families.error = Some(format!(
                    "{person_id} is not in a family of the zones you may see."
                ))
            }
            (Some(person_id), Err(error)) => {
                self.families.error = Some(format!("Cannot read {person_id}: {error}"))
            }
        }
    }

    /// Carries out what the Round table asked for, each on a worker: opening a
    /// case (its audit entry), recording a decision, the pack's save dialog and write.
    pub fn handle_round_table_action(
        &mut self,
        ctx: &egui::Context,
        action: round_table::RoundTableAction,
    ) {
        use round_table::RoundTableAction;
        if action != RoundTableAction::None && !self.may_use(View::RoundTable) {
            self.round_table.message = Some(self.refusal(View::RoundTable));
            return;
        }
        match action {
            RoundTableAction::None => {}
            RoundTableAction::OpenCase { family_id, reason } => {
                let Some(db) = &self.db else { return };
                // Recorded before any name is shown: no entry, no unmasking.
                let entry = Entry::new(self.actor(), Action::OpenFamily, family_id.as_str())
                    .with_reason(reason)
                    .with_detail("unmasked on the round table");
                self.jobs.start_on(
                    db,
                    JobKind::OpenCase,
                    "Opening the case",
                    ctx,
                    move |_, conn| {
                        audit::record(conn, &entry)?;
                        Ok(JobDone::CaseOpened { family_id })
                    },
                );
            }
            // The projected screen may not open Families: its family is never read
            // unmasked for it (the button is not offered either).
            RoundTableAction::ShowFamily(_) if !self.may_use(View::Families) => {
                self.round_table.message = Some(self.refusal(View::Families));
            }
            RoundTableAction::ShowFamily(family_id) => {
                self.view = View::Families;
                self.handle_families_action(
                    ctx,
                    families_view::FamiliesAction::OpenFamily(family_id),
                );
            }
            RoundTableAction::RecordDecision(decision) => self.record_decision(ctx, decision),
            RoundTableAction::ExportPack { zone_id } => self.export_pack(ctx, &zone_id),
        }
    }

    /// Records a round table's decision on a worker: it waits there while a load
    /// holds the audit log, never on the frame.
    fn record_decision(
        &mut self,
        ctx: &egui::Context,
        decision: crate::report::family_detail::NewDecision,
    ) {
        if self.jobs.is_running(JobKind::Decide) {
            return;
        }
        let Some(db) = &self.db else {
            return;
        };
        let decided_by = self.actor();
        self.round_table.message = None;
        self.jobs.start_on(
            db,
            JobKind::Decide,
            "Recording the decision",
            ctx,
            move |sink, conn| {
                sink.report(
                    None,
                    format!("{} for {}", decision.outcome, decision.family_id),
                );
                let family_id = decision.family_id.clone();
                let decision =
                    crate::report::family_detail::record_decision(conn, &decision, &decided_by)?;
                Ok(JobDone::Decided {
                    family_id,
                    decision,
                })
            },
        );
    }

    /// A decision is stored: its family's row shows it (one family changed, so
    /// nothing else is read again) and the form is cleared.
    fn decided(&mut self, family_id: &str, decision: Decision) {
        self.round_table.message = Some(format!("Recorded for {family_id}: {}.", decision.outcome));
        if let Some(row) = self.figures.families.as_mut().and_then(|families| {
            families
                .families
                .iter_mut()
                .find(|f| f.family_id == family_id)
        }) {
            row.decision = Some(decision);
        }
        self.round_table.decision_recorded();
    }

    fn export_pack(&mut self, ctx: &egui::Context, zone_id: &str) {
        let (Some(families), Some(overview)) = (&self.figures.families, &self.figures.overview)
        else {
            return;
        };
        let generated = chrono::Local::now().format("%d/%m/%Y %H:%M").to_string();
        let html = crate::report::meeting_pack::meeting_pack_html(
            families,
            zone_id,
            &overview.county,
            &generated,
        );
        let file_name = format!(
            "round-table-{}-{}.html",
            zone_id,
            families.current.as_deref().unwrap_or("pack")
        );
        let Some(db) = &self.db else {
            return;
        };
        let zone = zone_id.to_string();
        self.round_table.message = None;
        let actor = self.actor();
        self.jobs.start_on(
            db,
            JobKind::SavePack,
            "Saving the meeting pack",
            ctx,
            move |sink, conn| {
                sink.report(None, "Choosing where to save…");
                let Some(path) = rfd::FileDialog::new()
                    .set_title("Save the meeting pack")
                    .set_file_name(&file_name)
                    .add_filter("Web page (prints to paper or PDF)", &["html"])
                    .save_file()
                else {
                    return Ok(JobDone::PackSaved(None));
                };
                sink.report(None, "Saving the meeting pack…");
                crate::report::meeting_pack::save_pack(conn, &path, &html, &zone, &actor)?;
                Ok(JobDone::PackSaved(Some(path)))
            },
        );
    }

    /// Loads the extracts of the manifest at `path` on a worker (what the Import button does
    /// after its file dialog).
    pub fn import_manifest(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.start_import(ctx, move || Some(path));
    }

    fn start_import(
        &mut self,
        ctx: &egui::Context,
        pick: impl FnOnce() -> Option<PathBuf> + Send + 'static,
    ) {
        if self.is_sample() {
            self.data.message = Some(ImportMessage::Failed(SAMPLE_IMPORT_REFUSAL.to_string()));
            return;
        }
        if !self.may_use(View::Data) {
            self.data.message = Some(ImportMessage::Failed(self.refusal(View::Data)));
            return;
        }
        let Some(db) = &self.db else {
            return;
        };
        self.data.message = None;
        let actor = self.actor();
        self.jobs.start_on(
            db,
            JobKind::Import,
            "Importing extracts",
            ctx,
            move |sink, conn| {
                sink.report(None, "Choosing a source manifest…");
                let Some(manifest_path) = pick() else {
                    return Ok(JobDone::Imported(ImportOutcome::Cancelled));
                };
                let manifest = Manifest::load(&manifest_path)?;
                let report = crate::pipeline::Pipeline::new(conn, &actor, &mut |p| {
                    sink.report(Some(p.fraction), format!("Loading {}", p.stage))
                })
                .ingest(&manifest)?;
                Ok(JobDone::Imported(ImportOutcome::Loaded {
                    manifest: manifest_path,
                    report,
                }))
            },
        );
    }

    fn start_opening(&mut self, ctx: &egui::Context) {
        let database = self.database.clone();
        self.jobs
            .start(JobKind::Open, "Opening database", ctx, move |sink| {
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
                Ok(JobDone::Opened {
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
        if self.open_error.is_some() || self.jobs.is_running(JobKind::Read) {
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
            .start_on(db, JobKind::Read, title, ctx, move |_, conn| {
                let read = parts
                    .iter()
                    .map(|part| part.read(conn, &session))
                    .collect::<anyhow::Result<Vec<PartData>>>()?;
                Ok(JobDone::Read(read))
            });
    }

    /// Runs what the Map view asked for on the job queue.
    fn handle_map_action(&mut self, ctx: &egui::Context, action: MapAction) {
        match action {
            MapAction::None => {}
            MapAction::LoadEngland => {
                if !self.jobs.is_running(JobKind::LoadEngland) {
                    self.jobs.start(
                        JobKind::LoadEngland,
                        "Loading England's LSOAs",
                        ctx,
                        |sink| {
                            Ok(JobDone::EnglandLoaded(Box::new(map_view::load_england(
                                sink,
                            )?)))
                        },
                    );
                }
            }
            MapAction::ExportTables(published) => self.export_map_tables(ctx, *published, || {
                rfd::FileDialog::new()
                    .set_title("Choose a folder for the uptake tables")
                    .pick_folder()
            }),
            MapAction::ExportFigure => self.export_map_figure(ctx, || {
                rfd::FileDialog::new()
                    .set_title("Save the map and chart as PNG")
                    .add_filter("PNG image", &["png"])
                    .set_file_name("uptake-map.png")
                    .save_file()
            }),
            MapAction::SaveFigure(figure) => {
                let Some(db) = &self.db else { return };
                let actor = self.actor();
                self.jobs.start_on(
                    db,
                    JobKind::SaveMapFigure,
                    "Saving the map and chart",
                    ctx,
                    move |sink, conn| {
                        sink.report(None, "Encoding and recording the figure…");
                        Ok(JobDone::MapFigureSaved(map_view::save_figure(
                            conn, &figure, &actor,
                        )?))
                    },
                );
            }
        }
    }

    /// Writes the Map view's `published` tables as CSV files into the folder
    /// `pick` chooses (a dialog in the app), on a worker: under temporary names
    /// until the export is in the audit log (it waits there while a load holds
    /// the log), then renamed into place. Only suppressed tables can be passed.
    pub fn export_map_tables(
        &mut self,
        ctx: &egui::Context,
        published: crate::uptake::Published,
        pick: impl FnOnce() -> Option<PathBuf> + Send + 'static,
    ) {
        let Some(db) = &self.db else { return };
        self.map.export_message = None;
        let actor = self.actor();
        self.jobs.start_on(
            db,
            JobKind::ExportMapTables,
            "Exporting uptake tables",
            ctx,
            move |sink, conn| {
                sink.report(None, "Choosing a folder…");
                let Some(dir) = pick() else {
                    return Ok(JobDone::MapTablesExported("Export cancelled".to_string()));
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
                Ok(JobDone::MapTablesExported(format!(
                    "Saved {} files to {}",
                    files.len(),
                    dir.display()
                )))
            },
        );
    }

    /// Saves the Map view's map and chart as a PNG to the file `pick` chooses (a
    /// save dialog in the app, run on a worker). The view is then drawn as a
    /// figure for a few frames and captured; a job saves it ([`map_view::save_figure`]).
    pub fn export_map_figure(
        &mut self,
        ctx: &egui::Context,
        pick: impl FnOnce() -> Option<PathBuf> + Send + 'static,
    ) {
        self.map.export_message = None;
        self.jobs.start(
            JobKind::ChooseMapFigure,
            "Exporting the map",
            ctx,
            move |sink| {
                sink.report(None, "Choosing a file…");
                Ok(JobDone::MapFigureChosen(pick()))
            },
        );
    }

    /// Collects finished jobs and starts the ones they lead to.
    fn poll_jobs(&mut self, ctx: &egui::Context) {
        if !self.started {
            self.started = true;
            self.start_opening(ctx);
        }
        for (kind, result) in self.jobs.take_finished() {
            self.job_finished(ctx, kind, result);
        }
    }

    /// Takes in what a job produced, or shows why it failed where its kind of work
    /// is shown.
    fn job_finished(
        &mut self,
        ctx: &egui::Context,
        kind: JobKind,
        result: Result<JobDone, String>,
    ) {
        match (kind, result) {
            (
                _,
                Ok(JobDone::Opened {
                    conn,
                    requires_login,
                }),
            ) => self.opened(ctx, conn, requires_login),
            (_, Ok(JobDone::Read(parts))) => self.parts_read(ctx, parts),
            (_, Ok(JobDone::Imported(outcome))) => self.imported(outcome),
            (_, Ok(JobDone::Reclustered(report))) => self.reclustered(&report),
            (_, Ok(JobDone::PackSaved(path))) => {
                self.round_table.message =
                    path.map(|path| format!("Meeting pack saved to {}", path.display()));
            }
            (_, Ok(JobDone::SignedIn(session))) => self.signed_in(session),
            (
                _,
                Ok(JobDone::Decided {
                    family_id,
                    decision,
                }),
            ) => self.decided(&family_id, decision),
            (_, Ok(JobDone::UsersChanged { outcome, users })) => self.users_changed(outcome, users),
            (
                _,
                Ok(JobDone::Found {
                    text,
                    hits,
                    open_first,
                }),
            ) => self.found(ctx, &text, hits, open_first),
            (_, Ok(JobDone::PersonOpened { person_id, records })) => {
                self.person_opened(&person_id, records)
            }
            (
                _,
                Ok(JobDone::FamilyRead {
                    family_id,
                    child,
                    detail,
                }),
            ) => self.family_read(family_id, child, detail),
            (_, Ok(JobDone::CaseOpened { family_id })) => {
                self.round_table.opened.insert(family_id);
                self.round_table.open_reason.clear();
            }
            (_, Ok(JobDone::VerdictSaved { l_key, r_key })) => self.verdict_saved(&l_key, &r_key),
            (_, Ok(JobDone::EnglandLoaded(loaded))) => self.map.england_loaded(Ok(*loaded)),
            (_, Ok(JobDone::MapTablesExported(message))) => self.map.export_message = Some(message),
            (_, Ok(JobDone::MapFigureChosen(path))) => self.map.figure_file_chosen(path),
            (_, Ok(JobDone::MapFigureSaved(path))) => {
                self.map.export_message =
                    Some(format!("Saved the map and chart to {}", path.display()))
            }
            (JobKind::Open, Err(error)) => self.open_error = Some(error),
            (JobKind::Read, Err(error)) => {
                self.figures.read_failed(&Part::ALL);
                self.open_error = Some(error)
            }
            (JobKind::Import, Err(error)) => {
                self.data.message = Some(ImportMessage::Failed(format!(
                    "Nothing was loaded; the database is unchanged. {error}"
                )))
            }
            (JobKind::Recluster, Err(error)) => {
                self.linkage.message = Some(format!("Re-clustering failed: {error}"))
            }
            (JobKind::SavePack, Err(error)) => {
                self.round_table.message = Some(format!("The meeting pack was not saved: {error}"))
            }
            (JobKind::SignIn, Err(error)) => self.login.error = Some(error),
            (JobKind::ChangeUsers, Err(error)) => self.users.finished(Err(error)),
            (JobKind::SearchPersons, Err(error)) => {
                self.linkage.error = Some(format!("Search failed: {error}"))
            }
            (JobKind::OpenPerson, Err(error)) => {
                self.linkage.error =
                    Some(format!("The person's records could not be read: {error}"))
            }
            (JobKind::Decide, Err(error)) => {
                self.round_table.message = Some(format!("The decision could not be saved: {error}"))
            }
            (JobKind::ReadFamily, Err(error)) => {
                self.families.error = Some(format!("The family could not be read: {error}"))
            }
            (JobKind::OpenCase, Err(error)) => {
                self.round_table.message = Some(format!("The case was not opened: {error}"))
            }
            (JobKind::ReviewVerdict, Err(error)) => {
                self.linkage.message = Some(format!("The decision could not be saved: {error}"))
            }
            (JobKind::LoadEngland, Err(error)) => self.map.england_loaded(Err(error)),
            (
                JobKind::ExportMapTables | JobKind::ChooseMapFigure | JobKind::SaveMapFigure,
                Err(error),
            ) => self.map.export_message = Some(format!("Export failed: {error}")),
        }
    }

    /// The database is open: a database with users asks who is there; one without
    /// runs as the local analyst.
    fn opened(&mut self, ctx: &egui::Context, conn: Connection, requires_login: bool) {
        self.requires_login = requires_login;
        self.session = (!requires_login).then(Session::local_analyst);
        self.prefetch = self.session.is_some();
        self.db = Some(Database::new(conn));
        if self.requires_login && std::mem::take(&mut self.sign_in_on_open) {
            // The figures are read when it succeeds; else the form shows why.
            self.sign_in(ctx);
        }
    }

    /// Parts of the figures are in: kept, then what the command line asked to
    /// open once its data is there. The map's geometry is prepared again only
    /// when the boundaries changed.
    fn parts_read(&mut self, ctx: &egui::Context, parts: Vec<PartData>) {
        for data in parts {
            if let PartData::Map(new) = &data {
                match &self.figures.map {
                    Some(old) if old.shapes == new.shapes => self.map.figures_refreshed(),
                    _ => self.map.reset_geometry(),
                }
            }
            let part = data.part();
            self.figures.store(data);
            match part {
                Part::Families => self.open_pending_family(ctx),
                // A search asked for on the command line runs only for a role that
                // may open Linkage: `--as screen --find NAME` reads nobody.
                Part::Linkage if self.may_use(View::Linkage) => {
                    if let Some(text) = self.pending_search.take() {
                        self.linkage.search = text;
                        self.start_search(ctx, true);
                    }
                }
                _ => {}
            }
        }
    }

    /// A load finished (or its dialog was cancelled): says what was loaded and
    /// makes every part stale; what is on screen is read again at once, the
    /// rest when shown.
    fn imported(&mut self, outcome: ImportOutcome) {
        let ImportOutcome::Loaded { manifest, report } = outcome else {
            return;
        };
        let rows: u64 = report.sources.iter().map(|(_, rows)| rows).sum();
        self.data.message = Some(ImportMessage::Loaded(format!(
            "Loaded {} rows from {} source(s) in {} ({:.1} s)",
            crate::format::thousands(rows as i64),
            report.sources.len(),
            manifest.display(),
            report.seconds
        )));
        self.figures.mark_all_stale();
    }

    fn open_pending_family(&mut self, ctx: &egui::Context) {
        let (Some(wanted), Some(families)) = (self.pending_family.take(), &self.figures.families)
        else {
            return;
        };
        let row = if wanted == "top" {
            families.families.first()
        } else {
            families.family(&wanted)
        };
        let Some(row) = row else {
            self.families.error = Some(format!("No family {wanted} on the current round."));
            return;
        };
        // Only on a view the role may open: `--family` is not a way round the roles.
        let wanted_view = match self.view {
            View::RoundTable => View::RoundTable,
            _ => View::Families,
        };
        if !self.may_use(wanted_view) {
            return;
        }
        if self.view == View::RoundTable {
            let zone = row.zone_id.clone();
            let on_agenda = zone.as_deref().and_then(|zone| {
                let agenda = crate::report::agenda::agenda(families, zone);
                let in_agenda = agenda
                    .sections()
                    .iter()
                    .any(|(_, _, list)| list.iter().any(|f| f.family_id == row.family_id));
                let first = agenda
                    .sections()
                    .iter()
                    .find_map(|(_, _, list)| list.first().map(|f| f.family_id.clone()));
                if in_agenda {
                    Some(row.family_id.clone())
                } else {
                    first
                }
            });
            self.round_table.zone = zone;
            self.round_table.selected = on_agenda;
        } else {
            let family_id = row.family_id.clone();
            self.handle_families_action(ctx, families_view::FamiliesAction::OpenFamily(family_id));
        }
    }

    /// People were linked again at new thresholds: says what changed and makes
    /// every part stale, as an import does.
    fn reclustered(&mut self, report: &ReclusterReport) {
        self.linkage.message = Some(format!(
            "Re-clustered: {} matched pairs, {} for review, {} people in {} families",
            crate::format::thousands(report.accepted_pairs as i64),
            crate::format::thousands(report.review_pairs as i64),
            crate::format::thousands(report.persons as i64),
            crate::format::thousands(report.families as i64)
        ));
        self.linkage.trial = None;
        self.linkage.decided = 0;
        self.linkage.selected = 0;
        self.figures.mark_all_stale();
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
                let path = self.database.db_path().display().to_string();
                ui.label(egui::RichText::new(shorten_path(&path)).small().weak())
                    .on_hover_text(format!("Database file: {path}"));
            });
        });
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
        let figures = &self.figures;
        // Each view draws the parts it shows ([`View::spec`]) once they are read.
        macro_rules! read_or_wait {
            ($part:expr) => {
                match &$part {
                    Some(data) => data,
                    None => {
                        ui.centered_and_justified(|ui| {
                            ui.label("Reading the figures… (progress below)");
                        });
                        return;
                    }
                }
            };
        }
        match self.view {
            View::Overview => overview::overview_ui(ui, read_or_wait!(figures.overview)),
            View::Data => {
                let quality = read_or_wait!(figures.quality);
                let refusal = self.is_sample().then_some(SAMPLE_IMPORT_REFUSAL);
                let action = data_view::data_ui(
                    ui,
                    quality,
                    &mut self.data.manifest_path,
                    self.jobs.is_running(JobKind::Import),
                    refusal,
                    self.data.message.as_ref(),
                );
                match action {
                    data_view::DataAction::None => {}
                    data_view::DataAction::ChooseManifest => self.start_import(&ctx, || {
                        rfd::FileDialog::new()
                            .set_title("Choose a source manifest")
                            .add_filter("Source manifest", &["toml"])
                            .pick_file()
                    }),
                    data_view::DataAction::LoadManifest(path) => self.import_manifest(&ctx, path),
                }
            }
            View::Linkage => {
                let linkage = read_or_wait!(figures.linkage);
                if let Some(message) = &self.linkage.message {
                    ui.label(egui::RichText::new(message).strong());
                }
                let busy = self.is_busy();
                let action = linkage_view::linkage_ui(
                    ui,
                    &linkage.figures,
                    &linkage.review_queue,
                    &mut self.linkage,
                    busy,
                );
                self.handle_linkage_action(&ctx, action);
            }
            View::Map => {
                let county = read_or_wait!(figures.map);
                self.map.offers_families = role.may(View::Families.capability());
                self.map.exporting_tables = self.jobs.is_running(JobKind::ExportMapTables);
                self.map.exporting_figure = self.jobs.is_running(JobKind::ChooseMapFigure)
                    || self.jobs.is_running(JobKind::SaveMapFigure);
                let action = map_view::map_ui(ui, county, &mut self.map);
                if let Some((zone, lsoa)) = self.map.open_families.take() {
                    self.view = View::Families;
                    self.families.scope = families_view::Scope {
                        zone,
                        lsoa: Some(lsoa),
                        ..families_view::Scope::default()
                    };
                }
                self.handle_map_action(&ctx, action);
            }
            View::Families => {
                let families = read_or_wait!(figures.families);
                let county = figures.overview.as_ref().map_or("", |o| o.county.as_str());
                let action = families_view::families_ui(ui, families, county, &mut self.families);
                self.handle_families_action(&ctx, action);
            }
            View::RoundTable => {
                let families = read_or_wait!(figures.families);
                self.round_table.offers_records = role.may(View::Families.capability());
                self.round_table.saving = self.jobs.is_running(JobKind::Decide);
                let action = round_table::round_table_ui(ui, families, &mut self.round_table);
                self.handle_round_table_action(&ctx, action);
            }
            View::Audit => {
                let audit = read_or_wait!(figures.audit);
                let action = audit_view::audit_ui(ui, audit, &mut self.audit);
                if action == audit_view::AuditAction::Refresh {
                    self.figures.mark_stale(Part::Audit);
                }
            }
            View::Models => models_view::models_ui(ui, read_or_wait!(figures.models)),
            View::Users => {
                let data = read_or_wait!(figures.users);
                let busy = self.is_busy();
                let action =
                    users_view::users_ui(ui, &data.users, &data.zones, &mut self.users, busy);
                self.handle_users_action(&ctx, action);
            }
        }
    }

    /// Runs what the analyst asked of the Users view on a worker
    /// ([`users_view::apply`]: argon2 hashes a new password).
    pub fn handle_users_action(&mut self, ctx: &egui::Context, action: users_view::UsersAction) {
        use users_view::UsersAction;
        if action == UsersAction::None {
            return;
        }
        if !self.may_use(View::Users) {
            self.users.finished(Err(self.refusal(View::Users)));
            return;
        }
        if self.jobs.is_running(JobKind::ChangeUsers) {
            return;
        }
        let Some(by) = self.session.as_ref().map(|session| session.user.clone()) else {
            return;
        };
        let Some(db) = &self.db else {
            return;
        };
        let had_users = self.requires_login;
        self.jobs.start_on(
            db,
            JobKind::ChangeUsers,
            "Saving the user change",
            ctx,
            move |_, conn| {
                let (outcome, users) = users_view::apply(conn, &action, &by, had_users)?;
                Ok(JobDone::UsersChanged { outcome, users })
            },
        );
    }

    /// A user change was saved or refused: the view says which, with the users as
    /// they now are.
    fn users_changed(&mut self, outcome: Result<String, String>, users: Vec<UserRow>) {
        if let Some(data) = &mut self.figures.users {
            data.users = users;
        }
        self.users.finished(outcome);
    }
}

impl eframe::App for ZonewiseApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        ZonewiseApp::ui(self, ui);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commissioners_and_the_projected_screen_see_no_person_level_view() {
        use crate::access::Role;
        let opens = |role: Role, view: View| role.may(view.capability());
        for view in [
            View::Linkage,
            View::Families,
            View::RoundTable,
            View::Audit,
            View::Users,
        ] {
            assert!(!opens(Role::Commissioner, view), "{view:?}");
        }
        for view in View::ALL {
            assert_eq!(opens(Role::RoundTable, view), view == View::RoundTable);
            assert!(opens(Role::Analyst, view));
        }
        assert!(opens(Role::ZoneManager, View::RoundTable));
        assert!(!opens(Role::ZoneManager, View::Linkage));
        assert!(!opens(Role::ZoneManager, View::Audit));
        assert!(opens(Role::SeniorManager, View::Audit));
        assert!(
            !opens(Role::SeniorManager, View::Users),
            "analysts manage users"
        );
    }

    #[test]
    fn view_names_parse_from_the_command_line() {
        use clap::ValueEnum as _;
        let parse = |name: &str| View::from_str(name, true).ok();
        assert_eq!(parse("round-table"), Some(View::RoundTable));
        assert_eq!(parse("round_table"), Some(View::RoundTable));
        assert_eq!(parse("Overview"), Some(View::Overview));
        assert_eq!(parse("users"), Some(View::Users));
        assert_eq!(parse("nonsense"), None);
    }
}
