//! "Define a service…" in the Map view, driven headless: an analyst opens the
//! form, sees the counts the service would give (equal to the core's count made
//! beforehand), saves it, and it is in the map's choice of services; a
//! commissioner then sees the service on the map but never the form.

use crate::common;

use common::app::{finish_jobs, harness, screen_text, sign_in, wait_for_sign_in_form};
use egui_kittest::kittest::Queryable;
use zonewise::access::{self, NewUser, Role};
use zonewise::ui::map_view::{MapState, ServiceForm};
use zonewise::ui::{DatabaseChoice, View, ZonewiseApp};
use zonewise::uptake::service::{Counting, Service};
use zonewise::uptake::{self, UptakeOptions};

const PASSWORD: &str = "correct horse battery";

#[test]
fn an_analyst_defines_a_service_that_everyone_then_sees_and_a_commissioner_cannot_define() {
    let _turn = common::app::one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::app::assessed_county(dir.path(), 250, 33);
    let form = ServiceForm::example();
    // What the form's service counts, worked out by the core before the app opens the file.
    let (expected, expected_published) = {
        let conn = zonewise::store::open(&db).expect("open");
        for (user, role) in [("ana", Role::Analyst), ("cal", Role::Commissioner)] {
            let new = NewUser {
                user: user.to_string(),
                display_name: user.to_string(),
                role,
                zones: Vec::new(),
            };
            access::add_user(&conn, &new, PASSWORD, "test").expect("user");
        }
        let service: Service = form.service().expect("the example is whole");
        assert!(matches!(service.counting, Counting::Defined(_)));
        let options = UptakeOptions::default();
        let counts = uptake::compute(&conn, &service, &options).expect("counts");
        // As the map will show it once saved: suppressed with the built-ins.
        let published = uptake::published(&conn, &service, &options, uptake::DEFAULT_THRESHOLD);
        (counts, published.expect("published"))
    };
    let county = &expected.county;
    assert!(county.attended > Some(0), "{county:?}");

    // The analyst opens the form from the map.
    let app = ZonewiseApp::new(DatabaseChoice::File(db.clone()));
    let mut harness = harness(app, 1400.0, 1000.0);
    wait_for_sign_in_form(&mut harness);
    sign_in(&mut harness, "ana", PASSWORD);
    harness.state_mut().view = View::Map;
    finish_jobs(&mut harness);
    harness.get_by_label("Define a service…").click();
    harness.run_steps(2);
    finish_jobs(&mut harness);
    assert!(
        harness.query_by_label("Define a service").is_some(),
        "the form's window"
    );
    let map = harness.state_mut().screen_mut::<MapState>();
    assert!(map.service_form.choices.as_ref().is_some_and(|c| c.is_ok()));
    // Filled in as the example is, keeping the event types the form read.
    let mut example = ServiceForm::example();
    example.choices = map.service_form.choices.take();
    map.service_form = example;
    harness.run_steps(2);
    finish_jobs(&mut harness);

    // The counts it would give, as the core counts them, on screen.
    let form = &harness.state().screen::<MapState>().service_form;
    let (_, preview) = form.preview.as_ref().expect("counted");
    let preview = preview.as_ref().expect("no error");
    assert_eq!(
        (
            Some(preview.eligible),
            preview.invited,
            Some(preview.attended)
        ),
        (county.eligible, county.invited, county.attended)
    );
    let text = screen_text(&harness);
    let shown = |n: Option<u64>| zonewise::format::thousands(n.expect("count") as i64);
    for count in [county.eligible, county.invited, county.attended] {
        assert!(
            harness.query_by_label(&shown(count)).is_some(),
            "{} not shown in {text}",
            shown(count)
        );
    }
    assert!(text.contains("health_check_attended (") && text.contains("Counts it would give"));

    // Saved: the map reads its figures again and shows the new service.
    harness.get_by_label("Save for everyone's map").click();
    harness.run_steps(2);
    finish_jobs(&mut harness);
    finish_jobs(&mut harness);
    let map = harness.state().screen::<MapState>();
    let message = map.service_form.message.clone().expect("said");
    assert!(
        message
            .as_ref()
            .is_ok_and(|m| m.contains("NHS Health Check, women")),
        "{message:?}"
    );
    let figures = harness.state().figures().map.as_ref().expect("map");
    let index = figures
        .services
        .iter()
        .position(|s| s.name == "health_check_women")
        .expect("in the map's services");
    assert_eq!(map.service, index, "the new service is the one mapped");
    let published = &figures.services[index].published;
    assert_eq!(published, &expected_published);
    drop(harness);

    // A commissioner sees the service on the map, and no form, even forced open.
    let app = ZonewiseApp::new(DatabaseChoice::File(db));
    let mut harness = common::app::harness(app, 1400.0, 1000.0);
    wait_for_sign_in_form(&mut harness);
    sign_in(&mut harness, "cal", PASSWORD);
    harness.state_mut().view = View::Map;
    finish_jobs(&mut harness);
    let figures = harness.state().figures().map.as_ref().expect("map");
    assert!(
        figures
            .services
            .iter()
            .any(|s| s.name == "health_check_women")
    );
    assert!(harness.query_by_label("Define a service…").is_none());
    harness.state_mut().screen_mut::<MapState>().service_form = ServiceForm::example();
    harness.run_steps(3);
    finish_jobs(&mut harness);
    let map = harness.state().screen::<MapState>();
    assert!(!map.defines_services);
    assert!(
        map.service_form.choices.is_none(),
        "nothing was read for the form"
    );
    assert!(
        map.service_form.preview.is_none(),
        "nothing was counted for it"
    );
    let text = screen_text(&harness);
    assert!(!text.contains("Counts it would give") && !text.contains("Save for everyone"));
}

/// An analyst opens a saved service's form from the map ("Edit…"), prefilled
/// with its definition and showing its counts, changes its ages and saves: the
/// map shows the changed service as `published` gives it. "Delete…" asks
/// first; cancelled, nothing happens; confirmed, the service leaves the map.
/// Both are in the audit log, by the analyst.
#[test]
fn an_analyst_edits_and_deletes_a_saved_service_and_the_map_follows() {
    let _turn = common::app::one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::app::assessed_county(dir.path(), 250, 35);
    let saved_service = ServiceForm::example().service().expect("whole");
    let mut changed = saved_service.clone();
    if let Counting::Defined(definition) = &mut changed.counting {
        definition.eligible.max_age = 60;
        // The form's description is the definition in words, made again.
        changed.description = definition.describe();
    }
    let analyst = zonewise::access::Session {
        user: "ana".to_string(),
        role: Role::Analyst,
        zones: Vec::new(),
    };
    let (expected_counts, expected_published) = {
        let conn = zonewise::store::open(&db).expect("open");
        let new = NewUser {
            user: "ana".to_string(),
            display_name: "Ana".to_string(),
            role: Role::Analyst,
            zones: Vec::new(),
        };
        access::add_user(&conn, &new, PASSWORD, "test").expect("user");
        uptake::saved::save(&conn, &analyst, &saved_service).expect("saved");
        let options = UptakeOptions::default();
        let counts = uptake::compute(&conn, &changed, &options).expect("counts");
        let published = uptake::published(&conn, &changed, &options, uptake::DEFAULT_THRESHOLD);
        (counts, published.expect("published"))
    };

    let app = ZonewiseApp::new(DatabaseChoice::File(db.clone()));
    let mut harness = harness(app, 1400.0, 1000.0);
    wait_for_sign_in_form(&mut harness);
    sign_in(&mut harness, "ana", PASSWORD);
    harness.state_mut().view = View::Map;
    finish_jobs(&mut harness);
    let index = |harness: &egui_kittest::Harness<'_, ZonewiseApp>| {
        harness
            .state()
            .figures()
            .map
            .as_ref()
            .expect("map")
            .services
            .iter()
            .position(|s| s.name == "health_check_women")
    };
    // A built-in offers neither.
    assert!(harness.query_by_label("Edit…").is_none());
    let at = index(&harness).expect("saved service on the map");
    harness.state_mut().screen_mut::<MapState>().service = at;
    harness.run_steps(2);
    harness.get_by_label("Edit…").click();
    harness.run_steps(2);
    finish_jobs(&mut harness);
    assert!(harness.query_by_label("Edit a service").is_some());
    let form = &harness.state().screen::<MapState>().service_form;
    assert_eq!(form.editing.as_deref(), Some("health_check_women"));
    assert_eq!(
        form.service().expect("prefilled").counting,
        saved_service.counting
    );
    assert!(
        form.preview.as_ref().is_some_and(|(_, p)| p.is_ok()),
        "{:?}",
        form.preview
    );
    assert!(screen_text(&harness).contains("Saving it withholds nothing more"));

    // Ages 40–60 instead: its counts, then saved for everyone.
    harness
        .state_mut()
        .screen_mut::<MapState>()
        .service_form
        .max_age = 60;
    harness.run_steps(2);
    finish_jobs(&mut harness);
    let form = &harness.state().screen::<MapState>().service_form;
    let (_, preview) = form.preview.as_ref().expect("counted");
    let preview = preview.as_ref().expect("no error");
    assert_eq!(Some(preview.eligible), expected_counts.county.eligible);
    harness
        .get_by_label("Save changes for everyone's map")
        .click();
    harness.run_steps(2);
    finish_jobs(&mut harness);
    finish_jobs(&mut harness);
    let map = harness.state().screen::<MapState>();
    let message = map.service_form.message.clone().expect("said");
    assert!(
        message
            .as_ref()
            .is_ok_and(|m| m.contains("Saved the changes")),
        "{message:?}"
    );
    let at = index(&harness).expect("still on the map");
    let figures = harness.state().figures().map.as_ref().expect("map");
    assert!(
        figures.services[at].published == expected_published,
        "the map shows the changed service as published gives it"
    );
    assert_eq!(figures.services[at].service, changed);

    // Delete asks first; cancelled, the service stays.
    harness
        .state_mut()
        .screen_mut::<MapState>()
        .service_form
        .open = false;
    harness.state_mut().screen_mut::<MapState>().service = at;
    harness.run_steps(2);
    harness.get_by_label("Delete…").click();
    harness.run_steps(2);
    assert!(harness.query_by_label("Delete for everyone").is_some());
    harness.get_by_label("Cancel").click();
    harness.run_steps(2);
    finish_jobs(&mut harness);
    assert!(harness.query_by_label("Delete for everyone").is_none());
    assert!(index(&harness).is_some(), "cancelled: still there");
    harness.get_by_label("Delete…").click();
    harness.run_steps(2);
    harness.get_by_label("Delete for everyone").click();
    harness.run_steps(2);
    finish_jobs(&mut harness);
    finish_jobs(&mut harness);
    assert_eq!(index(&harness), None, "gone from the map");
    let map = harness.state().screen::<MapState>();
    assert!(
        map.export_message
            .as_ref()
            .is_some_and(|m| m.contains("Deleted the service health_check_women")),
        "{:?}",
        map.export_message
    );
    drop(harness);

    let conn = zonewise::store::open(&db).expect("open");
    assert!(uptake::saved::read(&conn).expect("read").is_empty());
    let entries = common::audit_entries(&conn, 0, &["define_service"]);
    let by_ana: Vec<_> = entries
        .iter()
        .filter(|(user, _, subject, _)| user == "ana" && subject == "health_check_women")
        .collect();
    assert_eq!(by_ana.len(), 3, "saved, changed, deleted: {entries:?}");
}
