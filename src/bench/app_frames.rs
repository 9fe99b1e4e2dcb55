//! Frames while the app works (`zonewise bench app`): the worst frame
//! drawn while each piece of the app's database or hashing work runs, against
//! the frame that work made when it ran on the UI thread.
//!
//! A synthetic county is generated, linked and assessed, with one analyst who
//! signs in. First each piece of work is timed as the old path ran it: one call
//! on a connection, in the same process, as the frame used to make it (the
//! old frame is that call plus an idle frame of the same view). Then the app is
//! driven headless, as `bench::map` draws the Map view: each piece of work is
//! asked for in a frame, as a click would, and frames are drawn (about 250 a
//! second at most, leaving the workers the CPU) until no job runs; the worst of
//! them is reported. CPU only (egui layout and tessellation), no GPU.

use std::path::Path;
use std::time::{Duration, Instant};

use duckdb::Connection;

use crate::access::{self, NewUser, Purpose, Role, Session};
use crate::audit::{self, Action, Entry};
use crate::link::LinkConfig;
use crate::report::families::read_families;
use crate::report::family_detail::{NewDecision, OUTCOMES, read_visible_family, record_decision};
use crate::report::records::{read_review_queue, search_persons};
use crate::ui::families_view::{FamiliesAction, FamiliesState};
use crate::ui::map_view::MapState;
use crate::ui::round_table::{RoundTableAction, RoundTableState};
use crate::ui::users_view::{UsersAction, UsersState};
use crate::ui::{DatabaseChoice, LinkageAction, LinkageState, View, ZonewiseApp};

/// Asks the app for a piece of work, as a click would.
type Ask<'a> = dyn FnMut(&mut ZonewiseApp, &egui::Context) + 'a;

/// The window size frames are drawn at.
const WINDOW: egui::Vec2 = egui::vec2(1280.0, 800.0);

/// The analyst who signs in, and a password the policy accepts.
const USER: &str = "bench-analyst";
const PASSWORD: &str = "measured frames, not promises";

/// Times each piece of work is measured (but sign-in, once in the app); the
/// median is reported, since a shared machine's scheduler makes single frames noisy.
const REPEATS: usize = 5;

/// How long a job may take before the benchmark gives up.
const JOB_LIMIT: Duration = Duration::from_secs(600);

/// One piece of work and the frames it cost.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkFrames {
    pub work: String,
    /// An idle frame of the view the work is asked from (median of 10).
    pub idle_frame_ms: f64,
    /// The call the frame made when the work ran on the UI thread (median).
    pub old_call_ms: f64,
    /// The worst frame drawn from asking for the work until its job finished
    /// (median over the runs).
    pub worst_frame_ms: f64,
    /// The worst frame of every run.
    pub worst_frame_max_ms: f64,
    /// Times the work was asked for in the app.
    pub runs: usize,
    /// Frames drawn in a run (median).
    pub frames: usize,
    /// From asking to the result shown (median).
    pub seconds: f64,
}

/// The middle value (the upper one of an even count); 0 for none.
fn median<T: Copy + PartialOrd + Default>(mut values: Vec<T>) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    values.get(values.len() / 2).copied().unwrap_or_default()
}

impl WorkFrames {
    /// The frame the old path drew: the call plus an idle frame.
    pub fn old_frame_ms(&self) -> f64 {
        self.idle_frame_ms + self.old_call_ms
    }
}

/// Command-line settings of `zonewise bench app`.
#[derive(Debug, Clone, clap::Args)]
pub struct AppFramesCommand {
    /// Families in the synthetic county the app is driven on.
    #[arg(long, default_value_t = 2_000)]
    pub families: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Reference data folder (IMD, population, boundaries).
    #[arg(long = "reference", value_name = "REFERENCE", default_value_os_t = crate::bundled::reference_dir())]
    pub reference_dir: std::path::PathBuf,
}

/// `zonewise bench app`: prints the figures as a table or JSON.
pub fn command(settings: &AppFramesCommand) -> anyhow::Result<()> {
    let rows = run(&settings.reference_dir, settings.families)?;
    if settings.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print_table(&rows, settings.families);
    }
    Ok(())
}

/// Measures every piece of work on a county of `families`.
pub fn run(reference_dir: &Path, families: usize) -> anyhow::Result<Vec<WorkFrames>> {
    let work_dir = tempfile::tempdir()?;
    let spec = super::CountySpec {
        families,
        seed: 19,
        reference_dir: reference_dir.to_path_buf(),
        work_dir: work_dir.path().to_path_buf(),
        memory_limit: None,
    };
    let county = super::generate_and_link(&spec, &LinkConfig::default(), &|_, _| {})?;
    let conn = county.conn;
    crate::risk::rounds::prepare_rounds(
        &conn,
        crate::risk::rounds::RoundSpan::History,
        &mut |_, _| {},
    )?;
    access::add_user(&conn, &analyst(USER), PASSWORD, "bench")?;
    let old = old_calls(&conn)?;
    // DuckDB allows one handle on a file per process: the app opens it again.
    drop(conn);
    let mut driver = Driver::new(ZonewiseApp::new(DatabaseChoice::File(
        work_dir.path().join("county.duckdb"),
    )));
    driver.until_idle()?;
    let mut rows = Vec::new();
    let mut added = 0;
    rows.push(measure(
        &mut driver,
        &old,
        WORK[0],
        None,
        1,
        &mut |app, ctx| {
            app.login.user = USER.to_string();
            app.login.password = PASSWORD.to_string();
            app.sign_in(ctx);
        },
    )?);
    rows.push(measure(
        &mut driver,
        &old,
        WORK[1],
        Some(View::Users),
        REPEATS,
        &mut |app, ctx| {
            added += 1;
            let action = UsersAction::Add(analyst(&format!("bench-{added}")), PASSWORD.to_string());
            app.act(ctx, |view: &mut UsersState, desk| view.act(action, desk));
        },
    )?);
    let text = driver
        .app
        .figures()
        .linkage
        .as_ref()
        .and_then(|linkage| linkage.review_queue.first())
        .map(|item| item.left.family_name.clone().unwrap_or_default())
        .unwrap_or_default();
    rows.push(measure(
        &mut driver,
        &old,
        WORK[2],
        Some(View::Linkage),
        REPEATS,
        &mut |app, ctx| {
            app.screen_mut::<LinkageState>().search = text.clone();
            app.act(ctx, |view: &mut LinkageState, desk| {
                view.act(LinkageAction::Search, desk)
            });
        },
    )?);
    let (family_id, zone_id, round) = driver
        .app
        .figures()
        .families
        .as_ref()
        .and_then(|families| {
            let round = families.current.clone()?;
            families.families.first().map(|f| {
                (
                    f.family_id.clone(),
                    f.zone_id.clone().unwrap_or_default(),
                    round,
                )
            })
        })
        .ok_or_else(|| anyhow::anyhow!("the county has no family on its round"))?;
    let family = family_id.clone();
    rows.push(measure(
        &mut driver,
        &old,
        WORK[3],
        Some(View::Families),
        REPEATS,
        &mut |app, ctx| {
            let action = FamiliesAction::OpenFamily(family.clone());
            app.act(ctx, |view: &mut FamiliesState, desk| view.act(action, desk));
        },
    )?);
    let family = family_id.clone();
    rows.push(measure(
        &mut driver,
        &old,
        WORK[4],
        Some(View::RoundTable),
        REPEATS,
        &mut |app, ctx| {
            let action = RoundTableAction::RecordDecision(NewDecision {
                family_id: family.clone(),
                zone_id: Some(zone_id.clone()),
                reference_date: round.clone(),
                outcome: OUTCOMES[0].to_string(),
                note: "bench".to_string(),
                plan: None,
            });
            app.act(ctx, |view: &mut RoundTableState, desk| {
                view.act(action, desk)
            });
        },
    )?);
    rows.push(measure(
        &mut driver,
        &old,
        WORK[5],
        None,
        REPEATS,
        &mut |app, ctx| {
            let action = RoundTableAction::OpenCase {
                family_id: family_id.clone(),
                reason: "bench".to_string(),
            };
            app.act(ctx, |view: &mut RoundTableState, desk| {
                view.act(action, desk)
            });
        },
    )?);
    rows.push(measure(
        &mut driver,
        &old,
        WORK[6],
        Some(View::Linkage),
        REPEATS,
        &mut |app, ctx| {
            let action = LinkageAction::Decide {
                index: 0,
                same: false,
            };
            app.act(ctx, |view: &mut LinkageState, desk| view.act(action, desk));
        },
    )?);
    let published = driver
        .app
        .figures()
        .map
        .as_ref()
        .and_then(|map| map.services.first())
        .map(|service| service.published.clone())
        .ok_or_else(|| anyhow::anyhow!("the county has no service figures"))?;
    let folder = work_dir.path().join("export");
    rows.push(measure(
        &mut driver,
        &old,
        WORK[7],
        Some(View::Map),
        REPEATS,
        &mut |app, ctx| {
            let folder = folder.clone();
            let published = published.clone();
            app.act(ctx, |view: &mut MapState, desk| {
                view.export_tables(desk, published, move || Some(folder))
            });
        },
    )?);
    Ok(rows)
}

/// Asks for `work` from `view` (the current one when `None`) `runs` times, each
/// time drawing frames until its job has finished.
fn measure(
    driver: &mut Driver,
    old: &[(&str, f64)],
    work: &str,
    view: Option<View>,
    runs: usize,
    ask: &mut Ask<'_>,
) -> anyhow::Result<WorkFrames> {
    if let Some(view) = view {
        driver.app.view = view;
    }
    let idle_frame_ms = driver.idle_frame_ms();
    let mut measured = Vec::new();
    for _ in 0..runs {
        measured.push(driver.while_working(ask)?);
    }
    let old_call_ms = old
        .iter()
        .find(|(w, _)| *w == work)
        .map_or(0.0, |(_, ms)| *ms);
    Ok(WorkFrames {
        work: work.to_string(),
        idle_frame_ms,
        old_call_ms,
        worst_frame_ms: median(measured.iter().map(|m| m.0).collect()),
        worst_frame_max_ms: measured.iter().map(|m| m.0).fold(0.0, f64::max),
        runs,
        frames: median(measured.iter().map(|m| m.1).collect()),
        seconds: median(measured.iter().map(|m| m.2).collect()),
    })
}

/// The work measured, in order.
const WORK: [&str; 8] = [
    "sign-in (argon2)",
    "user added (argon2)",
    "person search",
    "opening a family",
    "round-table decision",
    "case opened",
    "review verdict",
    "export recorded (CSV)",
];

fn analyst(user: &str) -> NewUser {
    NewUser {
        user: user.to_string(),
        display_name: user.to_string(),
        role: Role::Analyst,
        zones: Vec::new(),
    }
}

/// Each piece of work timed as the UI thread used to run it: one call.
fn old_calls(conn: &Connection) -> anyhow::Result<Vec<(&'static str, f64)>> {
    let timed = |run: &mut dyn FnMut() -> anyhow::Result<()>| -> anyhow::Result<f64> {
        let mut times = Vec::new();
        for _ in 0..REPEATS {
            let started = Instant::now();
            run()?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        Ok(median(times))
    };
    let mut added = 0;
    let mut session: Option<Session> = None;
    let sign_in = timed(&mut || {
        session = Some(access::authenticate(conn, USER, PASSWORD)?);
        Ok(())
    })?;
    let session = session.ok_or_else(|| anyhow::anyhow!("no session"))?;
    let add = timed(&mut || {
        added += 1;
        let user = analyst(&format!("bench-old-{added}"));
        Ok(access::add_user(conn, &user, PASSWORD, USER)?)
    })?;
    let purpose = |action: Action, subject: &str| Purpose {
        action,
        subject: subject.to_string(),
        reason: None,
    };
    let families = access::person_query(
        conn,
        &session,
        &purpose(Action::ListFamilies, "bench"),
        read_families,
    )?;
    let date = families.current.clone().unwrap_or_default();
    let family = families
        .families
        .first()
        .ok_or_else(|| anyhow::anyhow!("the county has no family on its round"))?;
    let queue = access::person_query(
        conn,
        &session,
        &purpose(Action::SearchPersons, "bench"),
        |conn, v| read_review_queue(conn, v, 1),
    )?;
    let pair = queue
        .first()
        .ok_or_else(|| anyhow::anyhow!("the county has no pair to review"))?;
    let text = pair.left.family_name.clone().unwrap_or_default();
    let search = timed(&mut || {
        access::person_query(
            conn,
            &session,
            &purpose(Action::SearchPersons, &text),
            |conn, v| search_persons(conn, v, &text, 100),
        )?;
        Ok(())
    })?;
    let open = timed(&mut || {
        access::person_query(
            conn,
            &session,
            &purpose(Action::OpenFamily, &family.family_id),
            |conn, v| read_visible_family(conn, v, &family.family_id, &date),
        )?;
        Ok(())
    })?;
    let decide = timed(&mut || {
        record_decision(
            conn,
            &NewDecision {
                family_id: family.family_id.clone(),
                zone_id: family.zone_id.clone(),
                reference_date: date.clone(),
                outcome: OUTCOMES[1].to_string(),
                note: "bench".to_string(),
                plan: None,
            },
            USER,
        )?;
        Ok(())
    })?;
    let case = timed(&mut || {
        audit::record(
            conn,
            &Entry::new(USER, Action::OpenFamily, family.family_id.as_str()),
        )?;
        Ok(())
    })?;
    let verdict = timed(&mut || {
        crate::link::review::record_decision(conn, &pair.pair.l_key, &pair.pair.r_key, true, USER)?;
        Ok(())
    })?;
    // The old frame recorded a staged export and renamed its files; the renames
    // are left out, so this is the least that frame did.
    let export = timed(&mut || {
        audit::record(conn, &Entry::new(USER, Action::Export, "bench folder"))?;
        Ok(())
    })?;
    Ok(WORK
        .into_iter()
        .zip([sign_in, add, search, open, decide, case, verdict, export])
        .collect())
}

/// The app drawn headless, a frame at a time.
struct Driver {
    ctx: egui::Context,
    app: ZonewiseApp,
}

impl Driver {
    fn new(app: ZonewiseApp) -> Driver {
        Driver {
            ctx: egui::Context::default(),
            app,
        }
    }

    /// Draws one frame, first asking for `ask`'s work as a click would; its time in ms.
    fn frame(&mut self, ask: Option<&mut Ask<'_>>) -> f64 {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, WINDOW)),
            ..Default::default()
        };
        let Driver { ctx, app } = self;
        let mut ask = ask;
        let started = Instant::now();
        let output = ctx.run_ui(input, |ui| {
            // Once, should egui draw the frame twice.
            if let Some(ask) = ask.take() {
                ask(app, ui.ctx());
            }
            app.ui(ui);
        });
        let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
        std::hint::black_box(primitives);
        started.elapsed().as_secs_f64() * 1000.0
    }

    /// The median of 10 frames with nothing running (after a few to settle the view).
    fn idle_frame_ms(&mut self) -> f64 {
        for _ in 0..5 {
            self.frame(None);
        }
        let mut times: Vec<f64> = (0..10).map(|_| self.frame(None)).collect();
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    }

    /// Draws frames until no job runs; the worst frame (ms), the frames drawn and the seconds.
    fn until_idle(&mut self) -> anyhow::Result<(f64, usize, f64)> {
        self.while_working(&mut |_, _| {})
    }

    /// Asks for `ask`'s work in a frame, then draws frames until no job runs.
    fn while_working(&mut self, ask: &mut Ask<'_>) -> anyhow::Result<(f64, usize, f64)> {
        let started = Instant::now();
        let mut worst = self.frame(Some(ask));
        let mut frames = 1;
        // A frame or two more: a job finished shows its result in the next.
        let mut after = 2;
        while self.app.is_busy() || after > 0 {
            if !self.app.is_busy() {
                after -= 1;
            }
            anyhow::ensure!(started.elapsed() < JOB_LIMIT, "a job did not finish");
            std::thread::sleep(Duration::from_millis(4));
            worst = worst.max(self.frame(None));
            frames += 1;
        }
        if let Some(error) = self.app.open_error() {
            anyhow::bail!("the app could not read the county: {error}");
        }
        Ok((worst, frames, started.elapsed().as_secs_f64()))
    }
}

/// Prints the figures as a table.
pub fn print_table(rows: &[WorkFrames], families: usize) {
    let mut table = crate::format::new_table(&[
        "work",
        "idle frame ms",
        "old frame ms (call + idle)",
        "worst frame now ms (median)",
        "old ÷ now",
        "worst of the runs ms",
        "runs",
        "frames",
        "job s",
    ]);
    for row in rows {
        table.add_row([
            row.work.clone(),
            format!("{:.1}", row.idle_frame_ms),
            format!("{:.1}", row.old_frame_ms()),
            format!("{:.1}", row.worst_frame_ms),
            format!("{:.1}", row.old_frame_ms() / row.worst_frame_ms.max(1e-9)),
            format!("{:.1}", row.worst_frame_max_ms),
            row.runs.to_string(),
            row.frames.to_string(),
            format!("{:.2}", row.seconds),
        ]);
    }
    println!("{table}");
    println!(
        "Frames while the app works, on a synthetic county of {} families: each piece of work asked for in a frame of {}×{} points, frames drawn until its job finished (medians of {REPEATS} runs, sign-in once); the old frame is the same work called on the UI thread (median of {REPEATS}) plus an idle frame of the view. CPU only, no GPU.",
        crate::format::thousands(families as i64),
        WINDOW.x,
        WINDOW.y
    );
}
