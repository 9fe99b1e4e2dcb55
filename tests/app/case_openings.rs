//! Every way a user can open a case — a family's single view or a person's
//! records — driven through the real UI headless on a generated county, writes an
//! audit entry naming the signed-in user, the action, the subject and the reason
//! typed (where one is asked), and the chain still verifies afterwards.

use crate::common;

use std::time::{Duration, Instant};

use common::app::{
    click_button, click_link, finish_jobs, harness, sign_in, type_into, wait_for_sign_in_form,
};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use zonewise::access::{NewUser, Role, Session, add_user};
use zonewise::report::agenda::agenda;
use zonewise::report::families::read_families;
use zonewise::report::family_detail::read_visible_family;
use zonewise::ui::LinkageState;
use zonewise::ui::families_view::FamiliesState;
use zonewise::ui::families_view::drill::{self, Scope};
use zonewise::ui::round_table::RoundTableState;
use zonewise::ui::{DatabaseChoice, View, ZonewiseApp};

/// Every path by which a user opens a case, each with the audit entries it must
/// write. A new way of opening a family or a person's records is added here.
const PATHS: &[CaseOpening] = &[
    CaseOpening {
        path: "Linkage → Find a person: search, then open a hit",
        open: linkage_search_then_open,
    },
    CaseOpening {
        path: "start-up option --find: searches and opens the first person found",
        open: find_option,
    },
    CaseOpening {
        path: "Families: open a family from the ranked list",
        open: families_list,
    },
    CaseOpening {
        path: "Families: a family's page → a child's page",
        open: family_page_to_child,
    },
    CaseOpening {
        path: "Map: Families in this LSOA → open a family",
        open: map_lsoa_families,
    },
    CaseOpening {
        path: "start-up option --family ID: opens the family in Families",
        open: family_option,
    },
    CaseOpening {
        path: "start-up options --view round-table --family ID: picked on the masked agenda, not opened",
        open: family_option_on_round_table,
    },
    CaseOpening {
        path: "Round table: open a masked case with the reason typed",
        open: round_table_open_case,
    },
    CaseOpening {
        path: "Round table: an opened case → Show the family's records",
        open: round_table_show_records,
    },
];

/// One way of opening a case.
struct CaseOpening {
    path: &'static str,
    /// Drives the path through the UI and returns the openings it must have recorded.
    open: fn(&County) -> Vec<Opened>,
}

/// An `open_person` or `open_family` entry as the audit log must hold it.
#[derive(Debug, Clone, PartialEq)]
struct Opened {
    user: String,
    action: String,
    subject: String,
    reason: Option<String>,
}

impl Opened {
    fn family(user: &str, family_id: &str) -> Opened {
        Opened {
            user: user.to_string(),
            action: "open_family".to_string(),
            subject: family_id.to_string(),
            reason: None,
        }
    }

    fn person(user: &str, person_id: &str) -> Opened {
        Opened {
            action: "open_person".to_string(),
            ..Opened::family(user, person_id)
        }
    }

    fn with_reason(mut self, reason: &str) -> Opened {
        self.reason = Some(reason.to_string());
        self
    }
}

/// An analyst, who may open every view.
const ANALYST: &str = "ana";
/// The zone manager of [`County::zone`], who runs its round table.
const ZONE_MANAGER: &str = "zed";
const PASSWORD: &str = "correct horse battery";
const REASON: &str = "discussed at the round table";

/// An assessed county with two users, and the cases the paths open.
struct County {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    /// A family near the top of the authority's list, with a child, whose name
    /// appears once in the list.
    family_id: String,
    family_name: String,
    child_id: String,
    child_name: String,
    /// The zone with the longest agenda, and a family on it.
    zone: String,
    agenda_family: String,
}

fn county() -> County {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::app::assessed_county(dir.path(), 300, 21);
    let conn = zonewise::store::open(&db).expect("open");
    let everyone = Session::local_analyst().visibility().expect("analyst");
    let figures = read_families(&conn, &everyone).expect("families");
    let listed = drill::listed(&figures, &Scope::default(), &drill::Filters::default());
    let family = listed
        .iter()
        .take(10)
        .find(|f| {
            f.children > 0
                && listed
                    .iter()
                    .filter(|other| other.display_name() == f.display_name())
                    .count()
                    == 1
        })
        .expect("a family with a child and a name of its own near the top");
    let current = figures.current.clone().expect("round");
    let analyst = zonewise::access::Session::local_analyst()
        .visibility()
        .expect("analysts see people");
    let detail = read_visible_family(&conn, &analyst, &family.family_id, &current)
        .expect("detail")
        .expect("an analyst sees every family");
    let child = detail
        .members
        .iter()
        .find(|m| m.is_child())
        .expect("a child");
    let zone = figures
        .zones
        .iter()
        .max_by_key(|z| agenda(&figures, &z.zone_id).newly_flagged.len())
        .expect("a zone")
        .zone_id
        .clone();
    let agenda_family = agenda(&figures, &zone).newly_flagged[0].family_id.clone();
    for (user, role, zones) in [
        (ANALYST, Role::Analyst, vec![]),
        (ZONE_MANAGER, Role::ZoneManager, vec![zone.clone()]),
    ] {
        let new = NewUser {
            user: user.to_string(),
            display_name: user.to_string(),
            role,
            zones,
        };
        add_user(&conn, &new, PASSWORD, "test").expect("user");
    }
    County {
        family_id: family.family_id.clone(),
        family_name: family.display_name(),
        child_id: child.person_id.clone(),
        child_name: child.full_name(),
        zone,
        agenda_family,
        _dir: dir,
        db,
    }
}

#[test]
fn every_way_of_opening_a_case_is_recorded_with_user_subject_and_reason() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    for opening in PATHS {
        let before = last_seq(&county);
        let expected = (opening.open)(&county);
        let conn = zonewise::store::open(&county.db).expect("open");
        let recorded: Vec<Opened> =
            common::audit_entries(&conn, before, &["open_person", "open_family"])
                .into_iter()
                .map(|(user, action, subject, reason)| Opened {
                    user,
                    action,
                    subject,
                    reason,
                })
                .collect();
        assert_eq!(recorded, expected, "{}", opening.path);
        assert!(
            zonewise::audit::verify(&conn).expect("verify").is_intact(),
            "the chain breaks after: {}",
            opening.path
        );
    }
}

fn last_seq(county: &County) -> i64 {
    let conn = zonewise::store::open(&county.db).expect("open");
    conn.query_row(
        "SELECT coalesce(max(seq), 0) FROM app.audit_log",
        [],
        |row| row.get(0),
    )
    .expect("seq")
}

/// `app` on the county, signed in as `user`, its figures read.
fn signed_in(app: ZonewiseApp, user: &str) -> Harness<'static, ZonewiseApp> {
    let mut harness = harness(app, 1280.0, 1600.0);
    wait_for_sign_in_form(&mut harness);
    sign_in(&mut harness, user, PASSWORD);
    assert_eq!(
        harness.state().session().map(|s| s.user.as_str()),
        Some(user),
        "signed in"
    );
    harness
}

fn app(county: &County) -> ZonewiseApp {
    ZonewiseApp::new(DatabaseChoice::File(county.db.clone()))
}

fn linkage_search_then_open(county: &County) -> Vec<Opened> {
    let mut harness = signed_in(app(county), ANALYST);
    click_button(&harness, "Linkage");
    harness.run_steps(2);
    harness.get_by_label("Find a person").click();
    harness.run_steps(2);
    type_into(
        &mut harness,
        egui::accesskit::Role::TextInput,
        &county.child_id,
    );
    click_button(&harness, "Search");
    harness.run_steps(2);
    common::app::wait_while(&mut harness, "the linkage job did not finish", |h| {
        h.state().is_busy()
    });
    harness.run_steps(2);
    let hit = harness.state().screen::<LinkageState>().hits[0].clone();
    assert_eq!(hit.person_id, county.child_id);
    harness
        .get_by_label_contains(&format!("{} · ", hit.name))
        .click();
    harness.run_steps(2);
    common::app::wait_while(&mut harness, "the linkage job did not finish", |h| {
        h.state().is_busy()
    });
    harness.run_steps(2);
    let person = harness
        .state()
        .screen::<LinkageState>()
        .person
        .clone()
        .expect("opened");
    assert_eq!(person.person_id, county.child_id);
    vec![Opened::person(ANALYST, &county.child_id)]
}

fn find_option(county: &County) -> Vec<Opened> {
    let app = app(county).with_person_search(county.child_id.clone());
    let harness = signed_in(app, ANALYST);
    let person = harness
        .state()
        .screen::<LinkageState>()
        .person
        .clone()
        .expect("opened");
    assert_eq!(person.person_id, county.child_id);
    vec![Opened::person(ANALYST, &county.child_id)]
}

/// Families, then the county's family of the fixture opened from the list.
fn open_from_families_list(county: &County) -> Harness<'static, ZonewiseApp> {
    let mut harness = signed_in(app(county), ANALYST);
    click_button(&harness, "Families");
    harness.run_steps(2);
    click_link(&harness, &county.family_name);
    harness.run_steps(2);
    finish_jobs(&mut harness);
    let detail = harness
        .state()
        .screen::<FamiliesState>()
        .detail
        .clone()
        .expect("opened");
    assert_eq!(detail.family_id, county.family_id);
    harness
}

fn families_list(county: &County) -> Vec<Opened> {
    open_from_families_list(county);
    vec![Opened::family(ANALYST, &county.family_id)]
}

fn family_page_to_child(county: &County) -> Vec<Opened> {
    let mut harness = open_from_families_list(county);
    click_link(&harness, &county.child_name);
    harness.run_steps(2);
    finish_jobs(&mut harness);
    assert_eq!(
        harness
            .state()
            .screen::<FamiliesState>()
            .scope
            .child
            .as_deref(),
        Some(county.child_id.as_str())
    );
    harness.get_by_label("The child");
    vec![
        Opened::family(ANALYST, &county.family_id),
        Opened::person(ANALYST, &county.child_id),
    ]
}

fn map_lsoa_families(county: &County) -> Vec<Opened> {
    let mut harness = signed_in(app(county), ANALYST);
    click_button(&harness, "Map");
    let deadline = Instant::now() + Duration::from_secs(60);
    harness.run_steps(2);
    while harness.state().is_busy() {
        assert!(Instant::now() < deadline, "the map did not load");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(2);
    // The area table draws only the rows in view: an LSOA near the top by name,
    // holding a family whose name is listed once there.
    let (lsoa_name, scope, family_id, family_name) = {
        let figures = harness.state().figures();
        let map = figures.map.as_ref().expect("map");
        let families = figures.families.as_ref().expect("families");
        let mut shapes: Vec<_> = map.shapes.iter().collect();
        shapes.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.code.cmp(&b.code)));
        shapes
            .into_iter()
            .take(8)
            .find_map(|shape| {
                let scope = Scope {
                    zone: shape.zone_id.clone(),
                    lsoa: Some(shape.code.clone()),
                    ..Scope::default()
                };
                let listed = drill::listed(families, &scope, &drill::Filters::default());
                let family = listed.iter().find(|f| {
                    listed
                        .iter()
                        .filter(|other| other.display_name() == f.display_name())
                        .count()
                        == 1
                })?;
                Some((
                    shape.name.clone(),
                    scope.clone(),
                    family.family_id.clone(),
                    family.display_name(),
                ))
            })
            .expect("an LSOA near the top of the table with a family")
    };
    harness.get_by_label("LSOAs").click();
    harness.run_steps(2);
    harness.get_by_label(&lsoa_name).click();
    harness.run_steps(2);
    click_button(&harness, "Families in this LSOA");
    harness.run_steps(2);
    assert_eq!(harness.state().view, View::Families);
    assert_eq!(harness.state().screen::<FamiliesState>().scope, scope);
    click_link(&harness, &family_name);
    harness.run_steps(2);
    finish_jobs(&mut harness);
    let detail = harness
        .state()
        .screen::<FamiliesState>()
        .detail
        .clone()
        .expect("opened");
    assert_eq!(detail.family_id, family_id);
    vec![Opened::family(ANALYST, &family_id)]
}

fn family_option(county: &County) -> Vec<Opened> {
    let harness = signed_in(app(county).with_family(county.family_id.clone()), ANALYST);
    assert_eq!(harness.state().view, View::Families);
    let detail = harness
        .state()
        .screen::<FamiliesState>()
        .detail
        .clone()
        .expect("opened");
    assert_eq!(detail.family_id, county.family_id);
    vec![Opened::family(ANALYST, &county.family_id)]
}

fn family_option_on_round_table(county: &County) -> Vec<Opened> {
    let mut app = app(county);
    app.view = View::RoundTable;
    let harness = signed_in(app.with_family(county.agenda_family.clone()), ZONE_MANAGER);
    assert_eq!(
        harness
            .state()
            .screen::<RoundTableState>()
            .selected
            .as_deref(),
        Some(county.agenda_family.as_str())
    );
    assert!(
        harness
            .state()
            .screen::<RoundTableState>()
            .opened
            .is_empty(),
        "still masked"
    );
    Vec::new()
}

/// The zone manager's round table with the agenda's family opened for [`REASON`].
fn open_case_on_round_table(county: &County) -> Harness<'static, ZonewiseApp> {
    let mut harness = signed_in(app(county), ZONE_MANAGER);
    open_agenda_case(&mut harness, county);
    harness
}

/// On `harness`'s round table, opens the agenda's family for [`REASON`].
fn open_agenda_case(harness: &mut Harness<'static, ZonewiseApp>, county: &County) {
    click_button(harness, "Round table");
    harness.run_steps(2);
    assert_eq!(
        harness.state().screen::<RoundTableState>().zone.as_deref(),
        Some(county.zone.as_str())
    );
    harness.get_by_label(&county.agenda_family).click();
    harness.run_steps(2);
    // The reason field is the first on the screen, before the decision's note.
    type_into(harness, egui::accesskit::Role::TextInput, REASON);
    click_button(harness, "Open case");
    harness.run_steps(2);
    finish_jobs(harness);
    assert!(
        harness
            .state()
            .screen::<RoundTableState>()
            .opened
            .contains(&county.agenda_family)
    );
}

/// Who acts travels with each window's session: a second window signed in as
/// someone else (on a copy of the county, as DuckDB allows one handle per file
/// in a process) does not change whom the first window's entries name. With
/// one process-wide "signed-in user", the analyst's later sign-in would have
/// put their name on the zone manager's case opening.
#[test]
fn each_window_names_its_own_user_while_another_is_signed_in() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let copy = elsewhere.path().join("copy.duckdb");
    std::fs::copy(&county.db, &copy).expect("copy the county");
    let before = last_seq(&county);

    let mut zone_manager = signed_in(app(&county), ZONE_MANAGER);
    let analyst = signed_in(ZonewiseApp::new(DatabaseChoice::File(copy)), ANALYST);
    open_agenda_case(&mut zone_manager, &county);
    drop(zone_manager);

    let conn = zonewise::store::open(&county.db).expect("open");
    let recorded = common::audit_entries(&conn, before, &["open_family"]);
    assert_eq!(recorded.len(), 1, "one case opened: {recorded:?}");
    assert_eq!(recorded[0].0, ZONE_MANAGER, "named by its own window");
    assert_eq!(
        analyst.state().session().map(|s| s.user.as_str()),
        Some(ANALYST),
        "the other window is still signed in"
    );
}

fn round_table_open_case(county: &County) -> Vec<Opened> {
    open_case_on_round_table(county);
    vec![Opened::family(ZONE_MANAGER, &county.agenda_family).with_reason(REASON)]
}

fn round_table_show_records(county: &County) -> Vec<Opened> {
    let mut harness = open_case_on_round_table(county);
    click_button(&harness, "Show the family's records");
    harness.run_steps(2);
    finish_jobs(&mut harness);
    assert_eq!(harness.state().view, View::Families);
    let detail = harness
        .state()
        .screen::<FamiliesState>()
        .detail
        .clone()
        .expect("opened");
    assert_eq!(detail.family_id, county.agenda_family);
    vec![
        Opened::family(ZONE_MANAGER, &county.agenda_family).with_reason(REASON),
        Opened::family(ZONE_MANAGER, &county.agenda_family),
    ]
}

/// A job started for one user that finishes after they signed out is not
/// applied to the views of whoever signs in next: a zone manager signing in on
/// the same screen never sees the analyst's search results.
#[test]
fn a_search_finishing_after_sign_out_reaches_nobody() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let mut harness = signed_in(app(&county), ANALYST);
    click_button(&harness, "Linkage");
    harness.run_steps(2);
    harness.state_mut().screen_mut::<LinkageState>().search = county.child_id.clone();
    let ctx = harness.ctx.clone();
    // The search records itself in the audit log first: holding the log keeps
    // it running until the analyst has gone.
    let held = zonewise::audit::lock_for_append();
    harness
        .state_mut()
        .act(&ctx, |view: &mut LinkageState, desk| {
            view.act(zonewise::ui::LinkageAction::Search, desk)
        });
    assert!(harness.state().is_busy(), "the search waits for the log");
    click_button(&harness, "Sign out");
    harness.run_steps(2);
    assert!(harness.state().session().is_none());
    drop(held);
    common::app::wait_while(&mut harness, "the search did not finish", |h| {
        h.state().is_busy()
    });
    harness.run_steps(2);
    let linkage = harness.state().screen::<LinkageState>();
    assert!(linkage.hits.is_empty() && linkage.search.is_empty());
    sign_in(&mut harness, ZONE_MANAGER, PASSWORD);
    common::app::wait_for_figures(&mut harness);
    let linkage = harness.state().screen::<LinkageState>();
    assert!(
        linkage.hits.is_empty() && linkage.person.is_none(),
        "the analyst's results never reach the next user"
    );
    assert!(
        harness
            .query_by_label_contains(&county.child_name)
            .is_none(),
        "no name on the next user's screen"
    );
}
