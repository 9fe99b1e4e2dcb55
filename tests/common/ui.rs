//! Driving the app headless (egui_kittest): reading everything on screen, typing,
//! signing in, waiting for its jobs and answering its screenshot requests.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable, by};
use zonewise::ui::ZonewiseApp;

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

/// Types `text` into the first field of `role` on screen, replacing what it held.
pub fn type_into(harness: &mut Harness<'_, ZonewiseApp>, role: egui::accesskit::Role, text: &str) {
    harness.get_by_role(role).focus();
    harness.run_steps(1);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run_steps(1);
    harness.get_by_role(role).type_text(text);
    harness.run_steps(2);
}

/// Fills in the sign-in form and waits for what the session may see to be read.
pub fn sign_in(harness: &mut Harness<'_, ZonewiseApp>, user: &str, password: &str) {
    type_into(harness, egui::accesskit::Role::TextInput, user);
    type_into(harness, egui::accesskit::Role::PasswordInput, password);
    harness.get_by_label("Sign in").click();
    harness.run_steps(2);
    wait_while(harness, "the figures did not load", |app| app.is_busy());
    harness.run_steps(3);
}

/// Steps the app while `busy` holds, failing with `what` after a minute.
pub fn wait_while(
    harness: &mut Harness<'_, ZonewiseApp>,
    what: &str,
    busy: impl Fn(&ZonewiseApp) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while busy(harness.state()) {
        harness.step();
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
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

/// Steps the app until `label` is on screen, failing after a minute.
pub fn wait_for_label(harness: &mut Harness<'_, ZonewiseApp>, label: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while harness.query_by_label(label).is_none() {
        harness.step();
        assert!(Instant::now() < deadline, "'{label}' never showed");
        std::thread::sleep(Duration::from_millis(10));
    }
}
