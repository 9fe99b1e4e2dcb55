//! What a view is to the shell ([`Screen`]) and what the shell lends a view
//! while it draws or handles what the user asked ([`Desk`]): the session, the
//! figures read so far, and the job queue, whose results come back to the view
//! that started the job. So each view module owns its state, its actions and
//! its jobs' results, and the shell knows a view only by its registration
//! ([`super::views::View::spec`]).

use std::any::Any;

use duckdb::Connection;

use super::figures::{Figures, Part, PartData};
use super::jobs::{Database, JobQueue, ProgressSink};
use super::views::View;
use crate::access::Session;
use crate::audit;

/// A view: its own state, drawn from the figures, with its own jobs.
pub trait Screen: Any {
    /// Draws the view. Called only for a session whose role may open it; what
    /// the user asks for is handled here, through the desk.
    fn ui(&mut self, ui: &mut egui::Ui, desk: &mut Desk<'_>);

    /// Takes a message from another view or the command line (`--family`, `--find`).
    fn receive(&mut self, _message: Message, _desk: &mut Desk<'_>) {}

    /// A part has just been read and stored in `figures`; `replaced` is what it
    /// replaced. For views that keep work derived from a part (the map's geometry).
    fn part_stored(&mut self, _part: Part, _replaced: Option<&PartData>, _figures: &Figures) {}

    /// True while the view must stay as drawn until the screen is captured (the
    /// map drawn as a PNG figure): the app counts as busy.
    fn is_capturing(&self) -> bool {
        false
    }
}

/// What one view (or the command line, through the shell) asks of another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Open this family (`top`: the highest-ranked of the current round): on
    /// its zone's agenda in the Round table, its single view in Families.
    OpenFamily(String),
    /// List the families of this LSOA (the map's "families here").
    ShowArea { zone: Option<String>, lsoa: String },
    /// Search people for this text and open the first found (`--find`).
    FindPerson(String),
}

/// The shell's kinds of job: its own (opening, reading figures, signing in)
/// and each view's, named by the view and the job's title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum JobKey {
    Open,
    Read,
    SignIn,
    /// The dialog choosing another database to open.
    ChooseDatabase,
    /// A view's job: the view it came from, its title, and the session it
    /// was started for (see [`Desk::session_number`]).
    View {
        view: View,
        title: &'static str,
        session: u64,
    },
}

/// What a finished job hands back to the shell.
pub(super) enum Done {
    /// The database, and whether it has users (so whoever opens it signs in).
    Opened {
        conn: Connection,
        requires_login: bool,
    },
    /// Parts of the figures, in the order asked for.
    Read(Vec<PartData>),
    SignedIn(Session),
    /// The database file chosen in the dialog; `None` when it was cancelled.
    DatabaseChosen(Option<std::path::PathBuf>),
    /// A view's job: its result, applied to the view that started it.
    View(Applier),
}

/// A view job's result, waiting to be applied to the view (and desk) it came from.
pub(super) type Applier = Box<dyn FnOnce(&mut dyn Screen, &mut Desk<'_>) + Send>;

/// The shell's one job queue.
pub(super) type Queue = JobQueue<JobKey, Done>;

/// Where the shell is asked to go after a view's frame or job.
pub(super) struct Request {
    pub view: View,
    pub message: Option<Message>,
}

/// What the shell lends a view for one frame, action or job result.
pub struct Desk<'a> {
    pub(super) ctx: &'a egui::Context,
    /// The view being served: its jobs are started under its name.
    pub(super) view: View,
    pub(super) session: Option<&'a Session>,
    pub(super) db: Option<&'a Database>,
    pub(super) jobs: &'a mut Queue,
    /// The figures read so far; views mark parts stale after a change.
    pub figures: &'a mut Figures,
    pub(super) requests: &'a mut Vec<Request>,
    pub(super) is_sample: bool,
    pub(super) requires_login: bool,
    /// Which sign-in this is: a job's result is applied only within the
    /// session that started it, never to the views of the next user.
    pub(super) session_number: u64,
}

impl Desk<'_> {
    pub fn ctx(&self) -> &egui::Context {
        self.ctx
    }

    /// Who is signed in (the local analyst on a database without users).
    pub fn session(&self) -> Option<&Session> {
        self.session
    }

    /// Who is acting, for every audit entry a view's job records: the signed-in
    /// user, else the operating-system user. Handed to each job with its work.
    pub fn actor(&self) -> String {
        self.session
            .map_or_else(audit::os_user, |session| session.user.clone())
    }

    /// True when the signed-in role may open `view`. Every view checks the views
    /// whose data an action reads or writes before it starts the job, so what a
    /// role may not open cannot be reached round the navigation.
    pub fn may(&self, view: View) -> bool {
        self.session
            .is_some_and(|session| session.role.may(view.capability()))
    }

    /// The message for an action refused because the role may not open `view`.
    pub fn refusal(&self, view: View) -> String {
        match self.session {
            Some(session) => format!("A {} may not use {}.", session.role.as_str(), view.label()),
            None => "Sign in first.".to_string(),
        }
    }

    /// True when the window is on the bundled sample county.
    pub fn is_sample(&self) -> bool {
        self.is_sample
    }

    /// True when the database has users (so the app asks who is there).
    pub fn requires_login(&self) -> bool {
        self.requires_login
    }

    /// True while this view's job of `title` runs.
    pub fn is_running(&self, title: &'static str) -> bool {
        self.jobs.is_running(self.key(title))
    }

    /// True while any job runs.
    pub fn is_busy(&self) -> bool {
        self.jobs.is_busy()
    }

    fn key(&self, title: &'static str) -> JobKey {
        JobKey::View {
            view: self.view,
            title,
            session: self.session_number,
        }
    }

    /// Shows `view` next, handing it `message` if given.
    pub fn go(&mut self, view: View, message: Option<Message>) {
        self.requests.push(Request { view, message });
    }

    /// Runs `work` on a worker as this view's job `title` (shown in the status
    /// bar); `apply` takes its result (or why it failed) back into the view
    /// `V` on the frame thread.
    pub fn start<V: Screen, R: Send + 'static>(
        &mut self,
        title: &'static str,
        work: impl FnOnce(&ProgressSink) -> anyhow::Result<R> + Send + 'static,
        apply: impl FnOnce(&mut V, Result<R, String>, &mut Desk<'_>) + Send + 'static,
    ) {
        self.jobs
            .start(self.key(title), title, self.ctx, move |sink| {
                Ok(applier(work(sink), apply))
            });
    }

    /// As [`Desk::start`], with a connection to the database made on the worker.
    /// Does nothing while no database is open.
    pub fn start_on<V: Screen, R: Send + 'static>(
        &mut self,
        title: &'static str,
        work: impl FnOnce(&ProgressSink, &Connection) -> anyhow::Result<R> + Send + 'static,
        apply: impl FnOnce(&mut V, Result<R, String>, &mut Desk<'_>) + Send + 'static,
    ) {
        let Some(db) = self.db else {
            return;
        };
        self.jobs
            .start_on(db, self.key(title), title, self.ctx, move |sink, conn| {
                Ok(applier(work(sink, conn), apply))
            });
    }
}

/// Folds a job's result into the applier for its view `V`.
fn applier<V: Screen, R: Send + 'static>(
    result: anyhow::Result<R>,
    apply: impl FnOnce(&mut V, Result<R, String>, &mut Desk<'_>) + Send + 'static,
) -> Done {
    let result = result.map_err(|error| crate::format::describe_error(&error));
    Done::View(Box::new(move |screen: &mut dyn Screen, desk| {
        let screen: &mut dyn Any = screen;
        if let Some(view) = screen.downcast_mut::<V>() {
            apply(view, result, desk);
        }
    }))
}

/// Shown in place of a view whose figures are still being read.
pub fn waiting_ui(ui: &mut egui::Ui) {
    ui.centered_and_justified(|ui| {
        ui.label("Reading the figures… (progress below)");
    });
}
