//! The Users view, driven headless as an analyst who signed in at start-up: a
//! user's zones changed, a user disabled, the last analyst kept, a user added, and
//! mismatched, blank and common passwords refused; each change in the database and
//! the audit log.

use crate::common;

use common::app::{click_button, harness, wait_for_figures};
use egui::accesskit::Role as Widget;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use zonewise::access::{self, AccessError, NewUser, Role};
use zonewise::audit::{self, Action, Filter};
use zonewise::ui::users_view::UsersState;
use zonewise::ui::{DatabaseChoice, View, ZonewiseApp};

const PASSWORD: &str = "correct horse battery";

/// Types `text` into the `nth` field of `role` on screen, replacing what it held.
fn type_into_nth(harness: &mut Harness<'_, ZonewiseApp>, role: Widget, nth: usize, text: &str) {
    let field = || harness.query_all_by_role(role).nth(nth).expect("field");
    field().focus();
    harness.run_steps(1);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run_steps(1);
    harness
        .query_all_by_role(role)
        .nth(nth)
        .expect("field")
        .type_text(text);
    harness.run_steps(2);
}

/// The view's message once the change asked for has been saved or refused on
/// its worker.
fn message(harness: &mut Harness<'_, ZonewiseApp>) -> Result<String, String> {
    common::app::wait_while(harness, "the user change did not finish", |h| {
        h.state().is_busy()
    });
    harness.run_steps(2);
    harness
        .state()
        .screen::<UsersState>()
        .message
        .clone()
        .expect("a message")
}

#[test]
fn an_analyst_changes_disables_and_adds_users_in_the_users_view() {
    let _turn = common::app::one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("users.duckdb");
    {
        let conn = zonewise::store::open(&db).expect("open");
        conn.execute_batch(
            "INSERT INTO ref.zone VALUES ('Z1', 'Zone one', 'E06000001'),
                                         ('Z2', 'Zone two', 'E06000001')",
        )
        .expect("zones");
        for (user, role, zones) in [
            ("ana", Role::Analyst, vec![]),
            ("zoe", Role::ZoneManager, vec!["Z1".to_string()]),
        ] {
            let new = NewUser {
                user: user.to_string(),
                display_name: user.to_uppercase(),
                role,
                zones,
            };
            access::add_user(&conn, &new, PASSWORD, "test").expect("user");
        }
    }
    let app = ZonewiseApp::new(DatabaseChoice::File(db.clone()))
        .with_sign_in("ana".to_string(), PASSWORD.to_string());
    let mut harness = harness(app, 1280.0, 1000.0);
    wait_for_figures(&mut harness);
    assert_eq!(
        harness.state().session().map(|s| s.role),
        Some(Role::Analyst)
    );
    harness.state_mut().view = View::Users;
    harness.run_steps(3);

    // Zoe gets a second zone.
    harness.get_by_label("zoe").click();
    harness.run_steps(2);
    harness.get_by_label("Change zoe");
    harness.get_by_label("Zone two (Z2)").click();
    harness.run_steps(2);
    click_button(&harness, "Save changes");
    harness.run_steps(2);
    assert_eq!(
        message(&mut harness),
        Ok("Saved the changes to zoe".to_string())
    );
    harness.get_by_label("Zone one, Zone two");

    // Zoe disabled (rows are by name: ana, zoe); the last analyst cannot be. The
    // rows' buttons share a label, so each is clicked by its accessibility node.
    harness
        .query_all_by_role_and_label(Widget::Button, "Disable")
        .nth(1)
        .expect("zoe's button")
        .click_accesskit();
    harness.run_steps(2);
    assert_eq!(
        message(&mut harness),
        Ok("Disabled zoe: they can no longer sign in".to_string())
    );
    harness
        .query_all_by_role_and_label(Widget::Button, "Disable")
        .next()
        .expect("ana's button")
        .click_accesskit();
    harness.run_steps(2);
    let refused = message(&mut harness).expect_err("the last analyst");
    assert!(refused.contains("last active analyst"), "{refused}");

    // A new user: mismatched passwords are refused, then added.
    click_button(&harness, "New user…");
    harness.run_steps(2);
    type_into_nth(&mut harness, Widget::TextInput, 0, "sam");
    type_into_nth(&mut harness, Widget::TextInput, 1, "Sam Okafor");
    harness.get_by_label("Zone one (Z1)").click();
    harness.run_steps(1);
    type_into_nth(
        &mut harness,
        Widget::PasswordInput,
        0,
        "a long enough passphrase",
    );
    type_into_nth(
        &mut harness,
        Widget::PasswordInput,
        1,
        "a different passphrase",
    );
    click_button(&harness, "Add user");
    harness.run_steps(2);
    assert_eq!(
        message(&mut harness),
        Err("the two passwords differ".to_string())
    );
    // Blank and commonly breached passwords are refused by the same rule as `user add`.
    for (password, why) in [
        ("            ", "cannot be blank"),
        ("Password1234", "most common passwords"),
    ] {
        type_into_nth(&mut harness, Widget::PasswordInput, 0, password);
        type_into_nth(&mut harness, Widget::PasswordInput, 1, password);
        click_button(&harness, "Add user");
        harness.run_steps(2);
        let refused = message(&mut harness).expect_err(why);
        assert!(refused.contains(why), "{refused}");
    }
    type_into_nth(
        &mut harness,
        Widget::PasswordInput,
        0,
        "a long enough passphrase",
    );
    type_into_nth(
        &mut harness,
        Widget::PasswordInput,
        1,
        "a long enough passphrase",
    );
    click_button(&harness, "Add user");
    harness.run_steps(2);
    assert_eq!(
        message(&mut harness),
        Ok("Added sam as Zone manager".to_string())
    );
    harness.get_by_label("Sam Okafor");
    drop(harness);

    let conn = zonewise::store::open(&db).expect("open");
    let zoe = access::authenticate(&conn, "zoe", PASSWORD).expect_err("zoe is disabled");
    assert!(matches!(zoe, AccessError::BadLogin), "{zoe}");
    let sam = access::authenticate(&conn, "sam", "a long enough passphrase").expect("sam");
    assert_eq!(
        (sam.role, sam.zones),
        (Role::ZoneManager, vec!["Z1".to_string()])
    );
    let users = access::list_users(&conn).expect("users");
    let zoe = users.iter().find(|u| u.user == "zoe").expect("zoe");
    assert_eq!(
        (zoe.zones.clone(), zoe.active),
        (vec!["Z1".to_string(), "Z2".to_string()], false)
    );
    let changes: Vec<(String, String, String)> = audit::list(
        &conn,
        &Filter {
            action: Some(Action::ManageUsers),
            ..Filter::default()
        },
    )
    .expect("log")
    .into_iter()
    .rev()
    .skip(2)
    .map(|row| (row.user, row.subject, row.detail))
    .collect();
    let by_ana =
        |subject: &str, detail: &str| ("ana".to_string(), subject.to_string(), detail.to_string());
    assert_eq!(
        changes,
        [
            by_ana("zoe", "zones Z1 -> Z1, Z2"),
            by_ana("zoe", "disabled"),
            by_ana("sam", "added as zone_manager for zones Z1"),
        ]
    );
    assert!(audit::verify(&conn).expect("verify").is_intact());
}
