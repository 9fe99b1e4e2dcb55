//! Driving the app headless (egui_kittest) on a generated county: an assessed
//! county to open, waiting for its figures, signing in, typing and clicking, and
//! answering the screenshots it asks for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable, by};
use zonewise::ui::ZonewiseApp;

/// A linked county of `families` (see [`super::linked_county`]) with the criteria
/// applied at the current and previous monthly rounds, so Families and the Round table
/// have families to show. Built once per test binary for each `families` and
/// `seed` (several tests read the same county) and copied into `dir` for each
/// caller, who may write to its copy.
pub fn assessed_county(dir: &Path, families: usize, seed: u64) -> PathBuf {
    static BUILT: Mutex<BTreeMap<(usize, u64), PathBuf>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    let original = built.entry((families, seed)).or_insert_with(|| {
        // Under the target directory rather than a temporary one: a static's
        // temporary directory would never be removed; this one is replaced each run.
        let build_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("assessed-county-{families}-{seed}"));
        let _ = std::fs::remove_dir_all(&build_dir);
        std::fs::create_dir_all(&build_dir).expect("build dir");
        let db = super::linked_county(&build_dir, families, seed);
        let conn = zonewise::store::open(&db).expect("open");
        // The latest two monthly rounds: a previous round to compare with,
        // without a year of them to build for every county.
        let dates = zonewise::risk::rounds::prepare_rounds(
            &conn,
            zonewise::risk::rounds::RoundSpan::Latest(2),
            &mut |_, _| {},
        )
        .expect("rounds");
        assert!(dates.is_some(), "the county has events");
        db
    });
    let copy = dir.join("county.duckdb");
    std::fs::copy(&*original, &copy).expect("copy the county");
    copy
}

/// Held by each test of the app binary: the turn at appending to the audit log is
/// one per process and the tests read the log's newest entries, so two tests'
/// apps, or an app and a county being built, must not run at once.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The app headless in a window of `width` × `height` points.
pub fn harness(app: ZonewiseApp, width: f32, height: f32) -> Harness<'static, ZonewiseApp> {
    Harness::builder()
        .with_size(egui::vec2(width, height))
        .build_ui_state(|ui, app: &mut ZonewiseApp| app.ui(ui), app)
}

/// Steps the app until its figures are read and no job runs (bounded: a hang fails).
pub fn wait_for_figures(harness: &mut Harness<'_, ZonewiseApp>) {
    wait_while(harness, "the app did not load", |harness| {
        !harness.state().is_ready() || harness.state().is_busy()
    });
}

/// Steps the app until the sign-in form is shown (bounded).
pub fn wait_for_sign_in_form(harness: &mut Harness<'_, ZonewiseApp>) {
    wait_while(harness, "no sign-in form", |harness| {
        harness.query_by_label("Sign in to Zonewise").is_none()
    });
}

/// Steps the app while `busy` holds, failing with `what` after a minute, and
/// fails if any frame so far touched the database (see [`assert_frames_drew_only`]).
pub fn wait_while(
    harness: &mut Harness<'_, ZonewiseApp>,
    what: &str,
    busy: impl Fn(&Harness<'_, ZonewiseApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while busy(harness) {
        harness.step();
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_frames_drew_only();
}

/// Fails if database work or hashing was attempted while a frame was drawn, in
/// any test of this binary so far: the app refuses it there (and counts it), so
/// every test that waits for the app checks that the frame only draws.
pub fn assert_frames_drew_only() {
    assert_eq!(
        zonewise::store::refused_on_frames(),
        0,
        "database work was attempted while drawing a frame (see the error log)"
    );
}

/// Types `text` into the first field of `role` on screen, replacing what it held.
pub fn type_into(harness: &mut Harness<'_, ZonewiseApp>, role: egui::accesskit::Role, text: &str) {
    first_of_role(harness, role).focus();
    harness.run_steps(1);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run_steps(1);
    first_of_role(harness, role).type_text(text);
    harness.run_steps(2);
}

fn first_of_role<'h>(
    harness: &'h Harness<'_, ZonewiseApp>,
    role: egui::accesskit::Role,
) -> egui_kittest::Node<'h> {
    harness
        .query_all_by_role(role)
        .next()
        .unwrap_or_else(|| panic!("no {role:?} on screen"))
}

/// Signs in through the form and waits for the figures the role may see.
pub fn sign_in(harness: &mut Harness<'_, ZonewiseApp>, user: &str, password: &str) {
    type_into(harness, egui::accesskit::Role::TextInput, user);
    type_into(harness, egui::accesskit::Role::PasswordInput, password);
    harness.get_by_label("Sign in").click();
    harness.run_steps(2);
    wait_while(harness, "the figures did not load", |harness| {
        harness.state().is_busy()
    });
    harness.run_steps(3);
}

/// Clicks the link labelled `label` (the same words may also be plain text).
pub fn click_link(harness: &Harness<'_, ZonewiseApp>, label: &str) {
    harness
        .get_by_role_and_label(egui::accesskit::Role::Link, label)
        .click();
}

/// Clicks the button labelled `label` (the same words may also be plain text).
pub fn click_button(harness: &Harness<'_, ZonewiseApp>, label: &str) {
    harness
        .get_by_role_and_label(egui::accesskit::Role::Button, label)
        .click();
}

/// Every text on screen (labels and values of all widgets laid out, scrolled or not).
pub fn screen_text(harness: &Harness<'_, ZonewiseApp>) -> String {
    harness
        .query_all(by().predicate(|_| true))
        .map(|node| {
            let node = node.accesskit_node();
            format!(
                "{} {}",
                node.label().unwrap_or_default(),
                node.value().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Answers the screenshots the app asked for this frame with an image of one
/// `colour` (a headless harness renders nothing); true when there were any.
pub fn complete_captures(harness: &Harness<'_, ZonewiseApp>, colour: egui::Color32) -> bool {
    let requests: Vec<egui::ScreenshotCallback> = harness
        .output()
        .viewport_output
        .values()
        .flat_map(|v| v.commands.iter())
        .filter_map(|command| match command {
            egui::ViewportCommand::Screenshot(callback) => Some(callback.clone()),
            _ => None,
        })
        .collect();
    let any = !requests.is_empty();
    for callback in requests {
        let image = egui::ColorImage::filled([1280, 1700], colour);
        callback.complete(std::sync::Arc::new(image));
    }
    any
}

/// Steps the app until every job it started has finished (bounded: a hang
/// fails), then lets the screen show what they brought.
pub fn finish_jobs(harness: &mut Harness<'_, ZonewiseApp>) {
    wait_while(harness, "a job did not finish", |harness| {
        harness.state().is_busy()
    });
    harness.run_steps(2);
}
