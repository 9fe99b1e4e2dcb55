//! Families, the drill-down, the round table's agenda, decisions and the meeting
//! pack, on a generated county run through the real pipeline (synth → ingest →
//! link → criteria). Figures are checked against calculations made here from the
//! raw tables; the masked screens and pack are checked for names.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Months, NaiveDate};
use common::app::{
    click_link, finish_jobs, screen_text, sign_in, wait_for_figures, wait_for_sign_in_form,
};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use zonewise::access::{Role, Session, Visibility};
use zonewise::report::agenda::agenda;
use zonewise::report::families::{FamiliesFigures, read_families};
use zonewise::report::family_detail::{
    NewDecision, OUTCOMES, read_visible_family, record_decision,
};
use zonewise::report::meeting_pack::meeting_pack_html;
use zonewise::risk::features::UNIVERSAL_EVENTS;
use zonewise::ui::LinkageState;
use zonewise::ui::data_view::DataState;
use zonewise::ui::families_view::FamiliesState;
use zonewise::ui::families_view::drill::{self, Scope};
use zonewise::ui::round_table::RoundTableState;
use zonewise::ui::{DatabaseChoice, View, ZonewiseApp};

/// What an analyst may see: every zone, names shown.
fn everyone() -> Visibility {
    Session::local_analyst()
        .visibility()
        .expect("analysts see people")
}

struct County {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
}

/// A linked county with the criteria applied at the current and previous rounds.
fn county() -> County {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::app::assessed_county(dir.path(), 300, 21);
    County { _dir: dir, db }
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

/// (family, source, event type, date) of every dated event.
fn events(conn: &duckdb::Connection) -> Vec<(String, String, String, NaiveDate)> {
    conn.prepare(
        "SELECT family_id, source, event_type, strftime(event_date, '%Y-%m-%d') FROM core.event
         WHERE family_id IS NOT NULL AND event_date IS NOT NULL",
    )
    .expect("prepare")
    .query_map([], |row| {
        Ok((
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            date(&row.get::<_, String>(3)?),
        ))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

/// family → criteria met at `on`, straight from mart.family_criterion.
fn criteria_met(conn: &duckdb::Connection, on: &str) -> BTreeMap<String, usize> {
    conn.prepare(
        "SELECT family_id, count(*) FILTER (WHERE met) FROM mart.family_criterion
         WHERE reference_date = ?::DATE AND rule_set = 'supporting-families' GROUP BY family_id",
    )
    .expect("prepare")
    .query_map([on], |row| {
        Ok((row.get(0)?, row.get::<_, i64>(1)? as usize))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

#[test]
fn family_figures_and_drill_down_equal_independent_counts() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let conn = zonewise::store::open(&county.db).expect("open");
    let figures = read_families(&conn, &everyone()).expect("families");
    let current = figures.current.clone().expect("current round");
    let previous = figures.previous.clone().expect("previous round");
    assert_eq!(
        date(&previous),
        date(&current).checked_sub_months(Months::new(1)).unwrap()
    );

    // Every family with a child, once, with the criteria it meets now and before.
    let now = criteria_met(&conn, &current);
    let before = criteria_met(&conn, &previous);
    assert_eq!(figures.families.len(), now.len());
    let ids: BTreeSet<&str> = figures
        .families
        .iter()
        .map(|f| f.family_id.as_str())
        .collect();
    assert_eq!(ids.len(), now.len(), "no family listed twice");
    for family in &figures.families {
        assert_eq!(family.criteria_met.len(), now[&family.family_id]);
        assert_eq!(
            family.previous_criteria_met,
            before.get(&family.family_id).copied()
        );
    }
    let eligible = now.values().filter(|&&met| met >= 3).count() as u64;
    let total = drill::summarise(&figures, &Scope::default());
    assert_eq!(total.eligible, eligible);
    assert!(eligible > 0, "a 300-family county has eligible families");

    // Agencies involved: non-universal events in the 12 months before the date, in Rust.
    let r = date(&current);
    let start = r.checked_sub_months(Months::new(12)).unwrap();
    let mut involved: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (family, source, event_type, on) in events(&conn) {
        if on < r && on >= start && !UNIVERSAL_EVENTS.contains(&event_type.as_str()) {
            involved.entry(family).or_default().insert(source);
        }
    }
    for family in &figures.families {
        let expected: Vec<String> = involved
            .get(&family.family_id)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        assert_eq!(family.agencies, expected, "{}", family.family_id);
    }

    // Zone figures equal a direct group-by of families by zone.
    let per_zone: BTreeMap<String, (i64, i64)> = conn
        .prepare(
            "SELECT f.zone_id, count(*), count(*) FILTER (WHERE c.met >= 3)
             FROM (SELECT family_id, count(*) FILTER (WHERE met) AS met FROM mart.family_criterion
                   WHERE reference_date = ?::DATE AND rule_set = 'supporting-families'
                   GROUP BY family_id) c
             JOIN core.family f USING (family_id)
             WHERE f.zone_id IS NOT NULL GROUP BY f.zone_id",
        )
        .expect("prepare")
        .query_map([&current], |row| {
            Ok((row.get(0)?, (row.get(1)?, row.get(2)?)))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let zones = drill::sub_areas(&figures, &Scope::default());
    for zone in zones.iter().filter(|z| !z.code.is_empty()) {
        let (families, eligible) = per_zone[&zone.code];
        assert_eq!(zone.figures.families as i64, families, "{}", zone.name);
        assert_eq!(zone.figures.eligible as i64, eligible, "{}", zone.name);
        // One level down adds up to the zone.
        let scope = Scope {
            zone: Some(zone.code.clone()),
            ..Scope::default()
        };
        let lsoas = drill::sub_areas(&figures, &scope);
        assert_eq!(
            lsoas.iter().map(|l| l.figures.families).sum::<u64>(),
            zone.figures.families
        );
    }

    // Highest priority first: with no model scores, by criteria met.
    assert!(
        figures
            .families
            .windows(2)
            .all(|w| w[0].criteria_met.len() >= w[1].criteria_met.len())
    );
}

#[test]
fn a_family_single_view_holds_all_its_records() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let conn = zonewise::store::open(&county.db).expect("open");
    let figures = read_families(&conn, &everyone()).expect("families");
    let current = figures.current.clone().expect("round");
    let family = &figures.families[0];
    let detail = read_visible_family(&conn, &everyone(), &family.family_id, &current)
        .expect("detail")
        .expect("an analyst sees every family");

    let all_events: Vec<_> = events(&conn)
        .into_iter()
        .filter(|e| e.0 == family.family_id)
        .collect();
    assert_eq!(detail.timeline.len(), all_events.len());
    assert!(
        detail.timeline.windows(2).all(|w| w[0].date >= w[1].date),
        "newest first"
    );
    let mut since: BTreeMap<String, NaiveDate> = BTreeMap::new();
    for (_, source, _, on) in &all_events {
        let first = since.entry(source.clone()).or_insert(*on);
        *first = (*first).min(*on);
    }
    assert_eq!(detail.involvement.len(), since.len());
    for agency in &detail.involvement {
        let expected = since[&agency.source].format("%d/%m/%Y").to_string();
        assert_eq!(agency.since, expected, "{}", agency.source);
    }
    let members: i64 = conn
        .query_row(
            "SELECT count(*) FROM core.person WHERE family_id = ?",
            [&family.family_id],
            |row| row.get(0),
        )
        .expect("members");
    assert_eq!(detail.members.len() as i64, members);
    assert_eq!(detail.criteria.len(), family.criteria_met.len());
    for criterion in &detail.criteria {
        let evidence: i64 = conn
            .query_row(
                "SELECT evidence_events FROM mart.family_criterion
                 WHERE family_id = ? AND criterion = ? AND reference_date = ?::DATE
                   AND rule_set = 'supporting-families'",
                [&family.family_id, &criterion.name, &current],
                |row| row.get(0),
            )
            .expect("evidence");
        assert_eq!(
            criterion.evidence.len() as i64,
            evidence,
            "{}",
            criterion.name
        );
    }
}

/// A zone with families newly flagged, and the figures.
fn busy_zone(figures: &FamiliesFigures) -> String {
    figures
        .zones
        .iter()
        .max_by_key(|z| agenda(figures, &z.zone_id).newly_flagged.len())
        .map(|z| z.zone_id.clone())
        .expect("a zone")
}

/// A decision without a plan about `family` in `zone` at `round`.
pub(crate) fn decision(
    family: &str,
    zone: &str,
    round: &str,
    outcome: &str,
    note: &str,
) -> NewDecision {
    NewDecision {
        family_id: family.to_string(),
        zone_id: Some(zone.to_string()),
        reference_date: round.to_string(),
        outcome: outcome.to_string(),
        note: note.to_string(),
        plan: None,
    }
}

#[test]
fn decisions_are_kept_and_move_a_family_off_the_agenda() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let conn = zonewise::store::open(&county.db).expect("open");
    let figures = read_families(&conn, &everyone()).expect("families");
    let current = figures.current.clone().expect("round");
    let zone = busy_zone(&figures);
    let family = agenda(&figures, &zone).newly_flagged[0].family_id.clone();

    record_decision(
        &conn,
        &decision(&family, &zone, &current, OUTCOMES[0], ""),
        "first",
    )
    .expect("save");
    record_decision(
        &conn,
        &decision(&family, &zone, &current, OUTCOMES[3], "escalated"),
        "zm",
    )
    .expect("save");
    let after = read_families(&conn, &everyone()).expect("families");
    let row = after.family(&family).expect("family");
    let decision = row.decision.as_ref().expect("decision");
    assert_eq!(
        decision.outcome, OUTCOMES[3],
        "the latest decision is current"
    );
    assert_eq!(decision.decided_by, "zm");
    assert_eq!(decision.note, "escalated");
    let agenda = agenda(&after, &zone);
    assert!(agenda.decided.iter().any(|f| f.family_id == family));
    assert!(
        !agenda.contains(&family),
        "decided at this round: off the agenda"
    );
    let detail = read_visible_family(&conn, &everyone(), &family, &current)
        .expect("detail")
        .expect("an analyst sees every family");
    assert_eq!(detail.decisions.len(), 2, "every decision is kept");
}

/// Every given and family name (3+ letters) of the people in `families`, lower case.
fn names_of(conn: &duckdb::Connection, families: &[String]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for family in families {
        let rows: Vec<(Option<String>, Option<String>)> = conn
            .prepare("SELECT given_name, family_name FROM core.person WHERE family_id = ?")
            .expect("prepare")
            .query_map([family], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        for name in rows.into_iter().flat_map(|(g, f)| [g, f]).flatten() {
            for word in name.split(|c: char| !c.is_alphabetic()) {
                if word.chars().count() >= 3 {
                    names.insert(word.to_lowercase());
                }
            }
        }
    }
    names
}

/// The words of `text`, lower case, for whole-word name checks.
fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[test]
fn the_meeting_pack_is_masked() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let conn = zonewise::store::open(&county.db).expect("open");
    let figures = read_families(&conn, &everyone()).expect("families");
    let zone = busy_zone(&figures);
    let html = meeting_pack_html(&figures, &zone, "County", "01/04/2026 09:00");
    let agenda = agenda(&figures, &zone);
    let ids: Vec<String> = agenda
        .sections()
        .iter()
        .flat_map(|(_, _, list)| list.iter().map(|f| f.family_id.clone()))
        .collect();
    assert!(!ids.is_empty());
    for id in &ids {
        assert!(html.contains(id.as_str()), "{id} is on the pack");
    }
    let leaked: Vec<String> = names_of(&conn, &ids)
        .intersection(&words(&html))
        .cloned()
        .collect();
    assert!(leaked.is_empty(), "names on the pack: {leaked:?}");
}

#[test]
fn the_round_table_shows_no_name_until_a_case_is_opened_and_records_decisions() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let (zone, ids, names) = {
        let conn = zonewise::store::open(&county.db).expect("open");
        let figures = read_families(&conn, &everyone()).expect("families");
        let zone = busy_zone(&figures);
        let agenda = agenda(&figures, &zone);
        let ids: Vec<String> = agenda
            .sections()
            .iter()
            .flat_map(|(_, _, list)| list.iter().map(|f| f.family_id.clone()))
            .collect();
        let names = names_of(&conn, &ids);
        (zone, ids, names)
    };
    let mut app = ZonewiseApp::new(DatabaseChoice::File(county.db.clone()));
    app.view = View::RoundTable;
    app.screen_mut::<RoundTableState>().zone = Some(zone);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 2400.0))
        .build_ui_state(|ui, app: &mut ZonewiseApp| app.ui(ui), app);
    wait_for_figures(&mut harness);
    harness.run_steps(3);

    // Every family on the agenda is listed, and picking each shows no name.
    for id in &ids {
        harness.get_by_label(id).click();
        harness.run_steps(2);
        assert_eq!(
            harness
                .state()
                .screen::<RoundTableState>()
                .selected
                .as_deref(),
            Some(id.as_str())
        );
        let shown = words(&screen_text(&harness));
        let leaked: Vec<&String> = names.intersection(&shown).collect();
        assert!(leaked.is_empty(), "names shown while masked: {leaked:?}");
    }

    // Opening a case takes a reason, and shows that family's surname only.
    let first = ids[0].clone();
    harness.get_by_label(&first).click();
    harness.run_steps(2);
    {
        use egui_kittest::kittest::NodeT as _;
        let button = harness.get_by_label("Open case");
        assert!(
            button.accesskit_node().is_disabled(),
            "no reason, no opening"
        );
    }
    // The reason field comes before the decision's note.
    let text_input = egui::accesskit::Role::TextInput;
    let reason = harness
        .query_all_by_role(text_input)
        .next()
        .expect("reason field");
    reason.focus();
    harness.run_steps(1);
    let reason = harness
        .query_all_by_role(text_input)
        .next()
        .expect("reason field");
    reason.type_text("discussed at the meeting");
    harness.run_steps(2);
    harness.get_by_label("Open case").click();
    harness.run_steps(2);
    finish_jobs(&mut harness);
    assert!(
        harness
            .state()
            .screen::<RoundTableState>()
            .opened
            .contains(&first)
    );
    let surname = {
        let figures = harness.state().figures();
        figures
            .families
            .as_ref()
            .expect("families")
            .family(&first)
            .expect("family")
            .surname
            .clone()
    };
    let unmasked = format!("{surname} family");
    assert!(harness.query_all_by_label_contains(&unmasked).count() >= 1);

    // Recording a decision stores it with who and when and moves the family.
    harness.get_by_label(OUTCOMES[1]).click();
    harness.run_steps(2);
    harness.get_by_label("Record decision").click();
    harness.run_steps(2);
    common::app::wait_while(&mut harness, "the decision was not recorded", |h| {
        h.state().is_busy()
    });
    harness.run_steps(2);
    let figures = harness.state().figures();
    let decision = figures
        .families
        .as_ref()
        .expect("families")
        .family(&first)
        .and_then(|f| f.decision.clone())
        .expect("decision recorded");
    assert_eq!(decision.outcome, OUTCOMES[1]);
    assert!(!decision.decided_by.is_empty());
    harness.get_by_label_contains(&format!("Recorded for {first}"));

    // The opening (with its reason) and the decision are in the audit log, whose
    // chain still verifies.
    drop(harness);
    let conn = zonewise::store::open(&county.db).expect("open");
    let logged = |action: &str| -> Vec<(String, Option<String>)> {
        common::audit_entries(&conn, 0, &[action])
            .into_iter()
            .map(|(_, _, subject, reason)| (subject, reason))
            .collect()
    };
    assert_eq!(
        logged("open_family"),
        [(first.clone(), Some("discussed at the meeting".to_string()))]
    );
    assert_eq!(logged("decision"), [(first.clone(), None)]);
    assert!(zonewise::audit::verify(&conn).expect("verify").is_intact());
}

#[test]
fn the_drill_down_reaches_a_child_and_breadcrumbs_lead_back() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let mut harness = {
        let app = ZonewiseApp::new(DatabaseChoice::File(county.db.clone()));
        Harness::builder()
            .with_size(egui::vec2(1280.0, 1600.0))
            .build_ui_state(|ui, app: &mut ZonewiseApp| app.ui(ui), app)
    };
    wait_for_figures(&mut harness);
    harness.get_by_label("Families").click();
    harness.run_steps(2);
    let (county_name, zone, lsoa, family) = {
        let shown = harness.state().figures();
        let figures = shown.families.as_ref().expect("families");
        let zones = drill::sub_areas(figures, &Scope::default());
        let zone = zones
            .iter()
            .find(|z| !z.code.is_empty())
            .expect("zone")
            .clone();
        let scope = Scope {
            zone: Some(zone.code.clone()),
            ..Scope::default()
        };
        let lsoa = drill::sub_areas(figures, &scope)[0].clone();
        let scope = Scope {
            lsoa: Some(lsoa.code.clone()),
            ..scope
        };
        let family = drill::listed(figures, &scope, &drill::Filters::default())
            .into_iter()
            .find(|f| f.children > 0)
            .expect("a family with a child")
            .clone();
        let county = shown.overview.as_ref().expect("overview").county.clone();
        (county, zone, lsoa, family)
    };

    click_link(&harness, &zone.name);
    harness.run_steps(2);
    assert_eq!(
        harness
            .state()
            .screen::<FamiliesState>()
            .scope
            .zone
            .as_deref(),
        Some(zone.code.as_str())
    );
    let lsoa_link = match lsoa.imd_decile {
        Some(decile) => format!("{} (IMD {decile})", lsoa.name),
        None => lsoa.name.clone(),
    };
    click_link(&harness, &lsoa_link);
    harness.run_steps(2);
    assert_eq!(
        harness
            .state()
            .screen::<FamiliesState>()
            .scope
            .lsoa
            .as_deref(),
        Some(lsoa.code.as_str())
    );
    click_link(&harness, &format!("{} family", family.surname));
    harness.run_steps(2);
    finish_jobs(&mut harness);
    let detail = harness
        .state()
        .screen::<FamiliesState>()
        .detail
        .clone()
        .expect("family opened");
    assert_eq!(detail.family_id, family.family_id);
    harness.get_by_label("Timeline");
    let child = detail.members.iter().find(|m| m.is_child()).expect("child");
    click_link(&harness, &child.full_name());
    harness.run_steps(2);
    finish_jobs(&mut harness);
    assert_eq!(
        harness
            .state()
            .screen::<FamiliesState>()
            .scope
            .child
            .as_deref(),
        Some(child.person_id.as_str())
    );
    harness.get_by_label("The child");

    // The zone's crumb goes back to the zone; the county's to the authority.
    click_link(&harness, &zone.name);
    harness.run_steps(2);
    assert_eq!(
        harness.state().screen::<FamiliesState>().scope.level(),
        drill::Level::Zone
    );
    click_link(&harness, &county_name);
    harness.run_steps(2);
    assert_eq!(
        harness.state().screen::<FamiliesState>().scope,
        Scope::default()
    );

    // Opening the family was recorded in the audit log before it was shown.
    drop(harness);
    let conn = zonewise::store::open(&county.db).expect("open");
    let opened: i64 = conn
        .query_row(
            "SELECT count(*) FROM app.audit_log WHERE action = 'open_family' AND subject = ?",
            [&family.family_id],
            |row| row.get(0),
        )
        .expect("audit");
    assert_eq!(opened, 1);
}

#[test]
fn zone_managers_see_their_zones_the_projected_screen_no_surname_commissioners_nothing() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let conn = zonewise::store::open(&county.db).expect("open");
    let all = read_families(&conn, &everyone()).expect("families");
    let zones: Vec<String> = all
        .zones
        .iter()
        .take(2)
        .map(|z| z.zone_id.clone())
        .collect();
    let session = |role| Session {
        user: "someone".into(),
        role,
        zones: zones.clone(),
    };

    let manager = session(Role::ZoneManager)
        .visibility()
        .expect("sees people");
    let theirs = read_families(&conn, &manager).expect("families");
    let expected = all
        .families
        .iter()
        .filter(|f| f.zone_id.as_ref().is_some_and(|z| zones.contains(z)))
        .count();
    assert!(expected > 0);
    assert_eq!(theirs.families.len(), expected);
    assert!(
        theirs
            .families
            .iter()
            .all(|f| zones.contains(f.zone_id.as_ref().unwrap()))
    );
    assert_eq!(theirs.zones.len(), zones.len(), "only their zones to pick");
    assert!(theirs.families.iter().all(|f| !f.surname.is_empty()));

    let screen = session(Role::RoundTable)
        .visibility()
        .expect("sees people, masked");
    let projected = read_families(&conn, &screen).expect("families");
    assert_eq!(projected.families.len(), expected);
    assert!(projected.families.iter().all(|f| f.surname.is_empty()));
    let names = names_of(
        &conn,
        &projected
            .families
            .iter()
            .map(|f| f.family_id.clone())
            .collect::<Vec<_>>(),
    );
    let shown: String = projected
        .families
        .iter()
        .map(|f| format!("{} {}", f.display_name(), f.reasons.join(" ")))
        .collect();
    assert!(names.is_disjoint(&words(&shown)));

    assert!(session(Role::Commissioner).visibility().is_err());
}

#[test]
fn sign_in_decides_what_each_role_sees() {
    let _turn = common::app::one_at_a_time();
    use zonewise::access::{NewUser, add_user};
    let county = county();
    let (zone, full_names, person_ids) = {
        let conn = zonewise::store::open(&county.db).expect("open");
        let zone = read_families(&conn, &everyone()).expect("families").zones[0]
            .zone_id
            .clone();
        for (user, role, zones) in [
            ("ada", Role::Analyst, vec![]),
            ("cara", Role::Commissioner, vec![]),
            ("zed", Role::ZoneManager, vec![zone.clone()]),
        ] {
            let new = NewUser {
                user: user.to_string(),
                display_name: user.to_string(),
                role,
                zones,
            };
            add_user(&conn, &new, "correct horse battery", "test").expect("user");
        }
        let people: Vec<(String, String, String)> = conn
            .prepare(
                "SELECT person_id, coalesce(given_name, ''), coalesce(family_name, '')
                 FROM core.person",
            )
            .expect("prepare")
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        let full_names: BTreeSet<String> = people
            .iter()
            .map(|(_, g, f)| format!("{g} {f}").to_lowercase())
            .collect();
        let ids: BTreeSet<String> = people.into_iter().map(|(id, _, _)| id).collect();
        (zone, full_names, ids)
    };
    let app = ZonewiseApp::new(DatabaseChoice::File(county.db.clone()));
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 1600.0))
        .build_ui_state(|ui, app: &mut ZonewiseApp| app.ui(ui), app);
    wait_for_sign_in_form(&mut harness);
    assert!(
        harness.state().figures().is_empty(),
        "nothing read before signing in"
    );
    assert!(
        harness.query_by_label("Families").is_none(),
        "no navigation yet"
    );

    sign_in(&mut harness, "cara", "wrong password");
    harness.get_by_label("wrong user name or password");
    assert!(harness.state().session().is_none());

    // A commissioner: aggregates only, in every view they can reach.
    sign_in(&mut harness, "cara", "correct horse battery");
    let figures = harness.state().figures();
    assert!(
        figures
            .families
            .as_ref()
            .is_none_or(|f| f.families.is_empty()),
        "no family list is read"
    );
    assert!(
        figures
            .linkage
            .as_ref()
            .is_none_or(|l| l.review_queue.is_empty()),
        "no record pairs are read"
    );
    let button = egui::accesskit::Role::Button;
    for view in View::ALL {
        let reachable = harness
            .query_by_role_and_label(button, view.label())
            .is_some();
        assert_eq!(
            reachable,
            matches!(view, View::Overview | View::Map | View::Models),
            "{view:?}"
        );
    }
    for view in View::ALL {
        harness.state_mut().view = view;
        harness.run_steps(3);
        let text = screen_text(&harness).to_lowercase();
        for name in &full_names {
            assert!(!text.contains(name.as_str()), "{name} on {view:?}");
        }
        for id in &person_ids {
            assert!(!text.contains(&id.to_lowercase()), "{id} on {view:?}");
        }
    }

    // A zone manager: their zone's families only.
    harness.get_by_label("Sign out").click();
    harness.run_steps(2);
    harness.get_by_label("Sign in to Zonewise");
    sign_in(&mut harness, "zed", "correct horse battery");
    harness.state_mut().view = View::Families;
    harness.run_steps(2);
    let families = &harness
        .state()
        .figures()
        .families
        .as_ref()
        .expect("families");
    assert!(!families.families.is_empty());
    assert!(
        families
            .families
            .iter()
            .all(|f| f.zone_id.as_deref() == Some(zone.as_str()))
    );
    assert!(harness.query_by_role_and_label(button, "Linkage").is_none());

    // Five wrong passwords lock the name: the form says so, even for the right one.
    harness.get_by_label("Sign out").click();
    harness.run_steps(2);
    for _ in 0..5 {
        sign_in(&mut harness, "zed", "wrong password");
        harness.get_by_label("wrong user name or password");
    }
    sign_in(&mut harness, "zed", "correct horse battery");
    let locked = zonewise::access::AccessError::Locked {
        user: "zed".to_string(),
        minutes: 15,
    };
    harness.get_by_label(&locked.to_string());
    assert!(harness.state().session().is_none());
    drop(harness);

    // Every sign-in attempt, refused ones included, is in the audit log by name.
    let conn = zonewise::store::open(&county.db).expect("open");
    let logins: Vec<String> = conn
        .prepare("SELECT \"user\" FROM app.audit_log WHERE action = 'login' ORDER BY seq")
        .expect("prepare")
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        logins,
        [
            "cara", "cara", "zed", "zed", "zed", "zed", "zed", "zed", "zed"
        ]
    );
    let listed_by: String = conn
        .query_row(
            "SELECT \"user\" FROM app.audit_log WHERE action = 'list_families' ORDER BY seq DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .expect("family list read");
    assert_eq!(
        listed_by, "zed",
        "reads are recorded under the signed-in user"
    );
}

/// A person of the county with their family's zone, for the readers' tests.
#[derive(Debug, Clone)]
struct Someone {
    person_id: String,
    family_id: String,
    family_name: String,
    zone_id: String,
}

/// Everyone with a family name and a zone, in person id order.
fn people_with_zones(conn: &duckdb::Connection) -> Vec<Someone> {
    conn.prepare(
        "SELECT p.person_id, p.family_id, p.family_name, f.zone_id
         FROM core.person p JOIN core.family f USING (family_id)
         WHERE p.family_name IS NOT NULL AND length(p.family_name) > 2 AND f.zone_id IS NOT NULL
         ORDER BY p.person_id",
    )
    .expect("prepare")
    .query_map([], |row| {
        Ok(Someone {
            person_id: row.get(0)?,
            family_id: row.get(1)?,
            family_name: row.get(2)?,
            zone_id: row.get(3)?,
        })
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

/// True when `name` is only initials ("A. S.").
fn only_initials(name: &str) -> bool {
    name.split_whitespace()
        .all(|part| part.chars().count() == 2 && part.ends_with('.'))
}

#[test]
fn every_person_reader_applies_the_zones_and_masking_it_is_given() {
    let _turn = common::app::one_at_a_time();
    use zonewise::report::records::{read_person_records, read_review_queue, search_persons};
    let county = county();
    let conn = zonewise::store::open(&county.db).expect("open");
    let figures = read_families(&conn, &everyone()).expect("families");
    let zone = busy_zone(&figures);
    let people = people_with_zones(&conn);
    let insider = people.iter().find(|p| p.zone_id == zone).expect("insider");
    let outsider = people.iter().find(|p| p.zone_id != zone).expect("outsider");
    let in_zone = |role| {
        Session {
            user: "someone".into(),
            role,
            zones: vec![zone.clone()],
        }
        .visibility()
        .expect("sees people")
    };
    let manager = in_zone(Role::ZoneManager);
    let screen = in_zone(Role::RoundTable);
    let current = figures.current.clone().expect("round");

    // The search finds only people of the session's zones.
    let found = |visible: &Visibility, who: &Someone| {
        search_persons(&conn, visible, &who.person_id, 10).expect("search")
    };
    assert_eq!(
        found(&everyone(), outsider).len(),
        1,
        "an analyst finds anyone"
    );
    assert!(
        found(&manager, outsider).is_empty(),
        "another zone's person"
    );
    let hit = &found(&manager, insider)[0];
    assert!(hit.name.contains(&insider.family_name), "{}", hit.name);
    assert!(hit.birth_date.is_some());
    // On a masked screen a hit is initials, with no date of birth or postcode.
    let masked = &found(&screen, insider)[0];
    assert!(only_initials(&masked.name), "{}", masked.name);
    assert_eq!(
        (masked.birth_date.clone(), masked.postcode.clone()),
        (None, None)
    );

    // A person's records: none outside the zones, masked on the screen.
    assert!(
        read_person_records(&conn, &manager, &outsider.person_id)
            .expect("read")
            .is_none()
    );
    let records = read_person_records(&conn, &screen, &insider.person_id)
        .expect("read")
        .expect("their zone");
    assert!(!records.records.is_empty());
    for record in &records.records {
        assert!(only_initials(record.family_name.as_deref().unwrap_or("")));
        assert!(only_initials(record.given_name.as_deref().unwrap_or("")));
        assert_eq!(record.birth_date, None);
        assert_eq!(record.nhs_number, None);
        assert_eq!(record.postcode, None);
        assert_eq!(record.address, None);
    }
    let unmasked = read_person_records(&conn, &manager, &insider.person_id)
        .expect("read")
        .expect("their zone");
    assert!(unmasked.records.iter().any(|r| r.birth_date.is_some()));

    // A family's single view: none outside the zones; initials on the screen.
    assert!(
        read_visible_family(&conn, &manager, &outsider.family_id, &current)
            .expect("read")
            .is_none()
    );
    let family = read_visible_family(&conn, &screen, &insider.family_id, &current)
        .expect("read")
        .expect("their zone");
    let names = names_of(&conn, std::slice::from_ref(&insider.family_id));
    for member in &family.members {
        assert!(only_initials(&member.full_name()), "{}", member.full_name());
        assert_eq!(member.birth_date, None);
        assert!(names.is_disjoint(&words(&member.full_name())));
    }

    // The review queue: only pairs whose both records are people of the zones,
    // the same pairs as the whole queue filtered independently. The zone is one
    // that holds a pending pair, so the check is not vacuous.
    let zone_of: BTreeMap<String, String> = conn
        .prepare(
            "SELECT a.record_key, f.zone_id FROM link.assignment a
             JOIN core.person p USING (person_id)
             JOIN core.family f ON f.family_id = p.family_id WHERE f.zone_id IS NOT NULL",
        )
        .expect("prepare")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("zones");
    let pairs = |visible: &Visibility| -> Vec<(String, String)> {
        read_review_queue(&conn, visible, 10_000)
            .expect("queue")
            .into_iter()
            .map(|item| (item.pair.l_key, item.pair.r_key))
            .collect()
    };
    let whole = pairs(&everyone());
    let queue_zone = whole
        .iter()
        .find_map(|(l, r)| zone_of.get(l).filter(|z| zone_of.get(r) == Some(*z)))
        .expect("a pending pair within one zone")
        .clone();
    let in_queue_zone = |role| {
        Session {
            user: "someone".into(),
            role,
            zones: vec![queue_zone.clone()],
        }
        .visibility()
        .expect("sees people")
    };
    let expected: Vec<(String, String)> = whole
        .iter()
        .filter(|(l, r)| zone_of.get(l) == Some(&queue_zone) && zone_of.get(r) == Some(&queue_zone))
        .cloned()
        .collect();
    assert!(
        expected.len() < whole.len(),
        "the county has pairs outside the zone too"
    );
    assert_eq!(pairs(&in_queue_zone(Role::ZoneManager)), expected);
    let masked_queue =
        read_review_queue(&conn, &in_queue_zone(Role::RoundTable), 10_000).expect("queue");
    assert_eq!(masked_queue.len(), expected.len());
    for item in masked_queue {
        for record in [&item.left, &item.right] {
            assert!(only_initials(record.family_name.as_deref().unwrap_or("")));
            assert_eq!(
                (record.birth_date.clone(), record.nhs_number.clone()),
                (None, None)
            );
        }
    }
}

#[test]
fn the_projected_screen_reads_nobody_through_the_command_line_or_the_round_table() {
    let _turn = common::app::one_at_a_time();
    use zonewise::access::{NewUser, add_user};
    use zonewise::ui::round_table::RoundTableAction;
    const PASSWORD: &str = "tulip-anchor-quarry-42";
    let county = county();
    let (zone, outsider, ours) = {
        let conn = zonewise::store::open(&county.db).expect("open");
        let figures = read_families(&conn, &everyone()).expect("families");
        let zone = busy_zone(&figures);
        let people = people_with_zones(&conn);
        let outsider = people
            .iter()
            .find(|p| p.zone_id != zone)
            .expect("outsider")
            .clone();
        let ours = agenda(&figures, &zone)
            .sections()
            .iter()
            .find_map(|(_, _, list)| list.first().map(|f| f.family_id.clone()))
            .expect("a family on the agenda");
        for (user, role, zones) in [
            ("ada", Role::Analyst, vec![]),
            ("screen", Role::RoundTable, vec![zone.clone()]),
        ] {
            let new = NewUser {
                user: user.to_string(),
                display_name: user.to_string(),
                role,
                zones,
            };
            add_user(&conn, &new, PASSWORD, "test").expect("user");
        }
        (zone, outsider, ours)
    };
    // `zonewise --db FILE --as screen --find SURNAME --family F`, as a script might start it.
    let app = ZonewiseApp::new(DatabaseChoice::File(county.db.clone()))
        .with_sign_in("screen".to_string(), PASSWORD.to_string())
        .with_person_search(outsider.family_name.clone())
        .with_family(outsider.family_id.clone());
    let mut harness = common::app::harness(app, 1280.0, 1600.0);
    wait_for_figures(&mut harness);
    harness.run_steps(3);
    let state = harness.state();
    assert_eq!(state.view, View::RoundTable, "the only view it may open");
    assert!(
        state.screen::<LinkageState>().hits.is_empty(),
        "nobody was searched for"
    );
    assert!(state.screen::<LinkageState>().person.is_none());
    assert!(
        state.screen::<FamiliesState>().detail.is_none(),
        "no family was opened"
    );

    // Asking the shell directly to show an agenda family's records is refused too.
    harness.state_mut().screen_mut::<RoundTableState>().zone = Some(zone.clone());
    let ctx = harness.ctx.clone();
    let action = RoundTableAction::ShowFamily(ours.clone());
    harness
        .state_mut()
        .act(&ctx, |view: &mut RoundTableState, desk| {
            view.act(action, desk)
        });
    assert!(harness.state().screen::<FamiliesState>().detail.is_none());
    assert!(
        harness
            .state()
            .screen::<RoundTableState>()
            .message
            .as_deref()
            .is_some_and(|m| m.contains("may not use Families"))
    );
    drop(harness);

    let conn = zonewise::store::open(&county.db).expect("open");
    let reads: i64 = conn
        .query_row(
            "SELECT count(*) FROM app.audit_log
             WHERE action IN ('search_persons', 'open_person', 'open_family')",
            [],
            |row| row.get(0),
        )
        .expect("count");
    assert_eq!(
        reads, 0,
        "no person-level read happened, so none is recorded"
    );
}

#[test]
fn the_sample_county_takes_no_import() {
    let _turn = common::app::one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = ZonewiseApp::new(DatabaseChoice::Sample {
        sample_dir: dir.path().join("sample"),
        db_path: dir.path().join("sample.duckdb"),
    });
    assert!(app.is_sample());
    let manifest = dir.path().join("manifest.toml");
    app.act(&egui::Context::default(), |data: &mut DataState, desk| {
        data.import(desk, move || Some(manifest))
    });
    assert!(!app.is_busy(), "no import job was started");
    assert_eq!(
        app.import_message(),
        Some(&zonewise::ui::ImportMessage::Failed(
            zonewise::ui::SAMPLE_IMPORT_REFUSAL.to_string()
        ))
    );
    assert!(zonewise::ui::SAMPLE_IMPORT_REFUSAL.contains("zonewise ingest --db FILE"));
    assert!(
        !dir.path().join("sample.duckdb").exists(),
        "nothing was opened"
    );
}

#[test]
fn a_meeting_pack_appears_only_with_its_audit_entry() {
    let _turn = common::app::one_at_a_time();
    use zonewise::report::meeting_pack::save_pack;
    let county = county();
    let conn = zonewise::store::open(&county.db).expect("open");
    let out = tempfile::tempdir().expect("temp dir");
    let saved = out.path().join("pack.html");
    save_pack(&conn, &saved, "<p>pack</p>", "Z1", "analyst").expect("saved");
    assert_eq!(
        std::fs::read_to_string(&saved).expect("file"),
        "<p>pack</p>"
    );
    let recorded: i64 = conn
        .query_row(
            "SELECT count(*) FROM app.audit_log WHERE action = 'export' AND subject = ?",
            [saved.display().to_string()],
            |row| row.get(0),
        )
        .expect("count");
    assert_eq!(recorded, 1);

    // When the entry cannot be written, no file appears, not even a staged one.
    conn.execute_batch("DROP TABLE app.audit_log")
        .expect("break the log");
    let refused = out.path().join("refused.html");
    let error =
        save_pack(&conn, &refused, "<p>pack</p>", "Z1", "analyst").expect_err("not recorded");
    assert!(error.to_string().contains("audit log"), "{error}");
    let left: Vec<_> = std::fs::read_dir(out.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("pack.html")]);
}
