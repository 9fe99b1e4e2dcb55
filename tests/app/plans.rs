//! Flags sized to the meeting and decisions that become plans (issue 15), on a
//! generated county run through the real pipeline: each zone flags its top
//! families within its capacity, checked against a ranking made here from the raw
//! criteria tables; a plan whose review date has passed comes back as due for
//! review and the pack prints it; a plan that ended steps down, is closed, and
//! leaves the agenda; decisions made before plans existed still read; and the
//! decision form, driven headless, records a plan with its audit entry.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use egui::accesskit::Role as Widget;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};
use zonewise::access::{Role, Session, Visibility};
use zonewise::report::agenda::agenda;
use zonewise::report::families::{FamiliesFigures, read_families};
use zonewise::report::family_detail::{
    CLOSED, DecisionError, LEAD_PRACTITIONER, NewDecision, Plan, record_decision,
};
use zonewise::report::flags::{self, DEFAULT_CAPACITY};
use zonewise::report::meeting_pack::meeting_pack_html;
use zonewise::ui::families_view::drill::{self, Scope};
use zonewise::ui::round_table::RoundTableState;
use zonewise::ui::{DatabaseChoice, View, ZonewiseApp};

fn everyone() -> Visibility {
    Session::local_analyst()
        .visibility()
        .expect("analysts see people")
}

struct County {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
}

fn county() -> County {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::app::assessed_county(dir.path(), 300, 21);
    County { _dir: dir, db }
}

/// Each zone's flagged families at `round`, ranked here from the raw tables: the
/// families of the zone meeting at least one criterion (the county has no model
/// scores), by criteria met then family id, less those in a plan agreed at an
/// earlier round, the first `capacity` of them.
fn flagged_by_hand(
    conn: &duckdb::Connection,
    round: &str,
    capacity: &BTreeMap<String, u32>,
) -> BTreeMap<String, BTreeSet<String>> {
    let rows: Vec<(String, String, i64)> = conn
        .prepare(
            "SELECT f.zone_id, c.family_id, count(*) FILTER (WHERE c.met)
             FROM mart.family_criterion c JOIN core.family f USING (family_id)
             WHERE c.reference_date = ?::DATE AND c.rule_set = 'supporting-families'
               AND f.zone_id IS NOT NULL
             GROUP BY ALL",
        )
        .expect("prepare")
        .query_map([round], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let in_plan: BTreeSet<String> = conn
        .prepare(
            "SELECT family_id FROM app.round_decision WHERE reference_date < ?::DATE
             QUALIFY row_number() OVER (PARTITION BY family_id ORDER BY decided_at DESC) = 1
               AND review_date IS NOT NULL AND outcome <> 'Closed (step down)'",
        )
        .expect("prepare")
        .query_map([round], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let mut by_zone: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for (zone, family, met) in rows {
        if met > 0 && !in_plan.contains(&family) {
            by_zone.entry(zone).or_default().push((-met, family));
        }
    }
    by_zone
        .into_iter()
        .map(|(zone, mut families)| {
            families.sort();
            let cap = capacity.get(&zone).copied().unwrap_or(DEFAULT_CAPACITY) as usize;
            let top = families.into_iter().take(cap).map(|(_, f)| f).collect();
            (zone, top)
        })
        .collect()
}

/// The families the figures flag, per zone.
fn flagged_in(figures: &FamiliesFigures) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_zone: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for family in figures.families.iter().filter(|f| f.flagged) {
        by_zone
            .entry(family.zone_id.clone().expect("a flagged family has a zone"))
            .or_default()
            .insert(family.family_id.clone());
    }
    by_zone
}

#[test]
fn capacity_bounds_every_agenda_and_flagged_means_the_same_everywhere() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let conn = zonewise::store::open(&county.db).expect("open");
    let before = read_families(&conn, &everyone()).expect("families");
    let round = before.current.clone().expect("round");
    // The busiest zone gets a small capacity; the others keep the default.
    let zone = before
        .zones
        .iter()
        .max_by_key(|z| flagged_in(&before).get(&z.zone_id).map_or(0, BTreeSet::len))
        .expect("a zone")
        .zone_id
        .clone();
    let analyst = Session {
        user: "analyst".into(),
        role: Role::Analyst,
        zones: Vec::new(),
    };
    let manager = Session {
        user: "zm".into(),
        role: Role::ZoneManager,
        zones: vec![zone.clone()],
    };
    // A zone manager may not choose what is flagged, even in their own zone:
    // refused in the core, the refusal recorded, nothing changed.
    assert!(matches!(
        flags::set_capacity(&conn, &manager, &zone, 1),
        Err(flags::CapacityError::Refused { .. })
    ));
    let refused = common::audit_entries(&conn, 0, &["zone_capacity"]);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].0, "zm");
    let set = flags::set_capacity(&conn, &analyst, &zone, 3).expect("set");
    assert_eq!(
        (set.capacity, set.set.map(|(who, _)| who)),
        (3, Some("analyst".to_string()))
    );
    assert!(matches!(
        flags::set_capacity(&conn, &analyst, "no such zone", 5),
        Err(flags::CapacityError::UnknownZone(_))
    ));
    let logged = common::audit_entries(&conn, 0, &["zone_capacity"]);
    assert_eq!(logged.len(), 2, "a refusal and one change: {logged:?}");
    assert_eq!(
        (logged[1].0.as_str(), logged[1].2.as_str()),
        ("analyst", zone.as_str())
    );

    let figures = read_families(&conn, &everyone()).expect("families");
    let capacity: BTreeMap<String, u32> = figures
        .zones
        .iter()
        .map(|z| (z.zone_id.clone(), z.capacity))
        .collect();
    assert_eq!(capacity[&zone], 3);
    assert!(
        capacity
            .iter()
            .all(|(z, c)| *z == zone || *c == DEFAULT_CAPACITY),
        "{capacity:?}"
    );
    let expected = flagged_by_hand(&conn, &round, &capacity);
    assert_eq!(flagged_in(&figures), expected);
    assert_eq!(expected[&zone].len(), 3, "the busy zone fills its 3 places");
    let per_zone = flags::flagged_per_zone(&conn, &round).expect("per zone");
    for (zone_id, count) in &per_zone {
        let listed = expected.get(zone_id).map_or(0, BTreeSet::len);
        assert_eq!(*count as usize, listed, "the commands' count for {zone_id}");
    }
    for info in &figures.zones {
        let agenda = agenda(&figures, &info.zone_id);
        assert!(
            agenda.flagged() <= info.capacity as usize,
            "{}",
            info.zone_id
        );
        let on_agenda: BTreeSet<String> = agenda.sections()[..3]
            .iter()
            .flat_map(|(_, _, list)| list.iter().map(|f| f.family_id.clone()))
            .collect();
        let flagged = expected.get(&info.zone_id).cloned().unwrap_or_default();
        assert_eq!(on_agenda, flagged, "the agenda lists the zone's flags");
        // The Families view's figure and the pack say the same number.
        let scope = Scope {
            zone: Some(info.zone_id.clone()),
            ..Scope::default()
        };
        assert_eq!(
            drill::summarise(&figures, &scope).flagged as usize,
            flagged.len()
        );
        let pack = meeting_pack_html(&figures, &info.zone_id, "County", "now");
        assert!(
            pack.contains(&format!(
                "({} flagged: the zone's top families within its capacity of {})",
                flagged.len(),
                info.capacity
            )),
            "{}",
            info.zone_id
        );
    }
    assert!(zonewise::audit::verify(&conn).expect("verify").is_intact());
}

fn plan(review: &str, ends: Option<&str>) -> Plan {
    Plan {
        lead_agency: "School".into(),
        lead_name: "J. Patel".into(),
        actions: "Attendance plan; parenting course".into(),
        review_date: review.into(),
        ends: ends.map(str::to_string),
    }
}

fn plan_decision(family: &str, zone: &str, round: &str, plan: Plan) -> NewDecision {
    NewDecision {
        family_id: family.into(),
        zone_id: Some(zone.into()),
        reference_date: round.into(),
        outcome: LEAD_PRACTITIONER.into(),
        note: String::new(),
        plan: Some(plan),
    }
}

/// The day `days` after `round` (yyyy-mm-dd).
fn day_after(round: &str, days: u64) -> String {
    let day = chrono::NaiveDate::parse_from_str(round, "%Y-%m-%d").expect("day");
    (day + chrono::Days::new(days))
        .format("%Y-%m-%d")
        .to_string()
}

#[test]
fn a_plan_whose_review_date_has_passed_is_due_for_review_and_printed() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let conn = zonewise::store::open(&county.db).expect("open");
    let figures = read_families(&conn, &everyone()).expect("families");
    let (round, previous) = (
        figures.current.clone().expect("round"),
        figures.previous.clone().expect("two rounds"),
    );
    let zone = figures.zones[0].zone_id.clone();
    let first = agenda(&figures, &zone);
    let flagged: Vec<String> = first.sections()[..3]
        .iter()
        .flat_map(|(_, _, list)| list.iter().map(|f| f.family_id.clone()))
        .collect();
    assert!(flagged.len() >= 2, "the zone flags families");
    let (due, later) = (&flagged[0], &flagged[1]);

    // Plans agreed at the previous round: one reviewed a day after it (passed
    // by now), one reviewed after the current round.
    record_decision(
        &conn,
        &plan_decision(due, &zone, &previous, plan(&day_after(&previous, 1), None)),
        "zm",
    )
    .expect("plan");
    record_decision(
        &conn,
        &plan_decision(later, &zone, &previous, plan(&day_after(&round, 30), None)),
        "zm",
    )
    .expect("plan");
    let after = read_families(&conn, &everyone()).expect("families");
    let agenda = agenda(&after, &zone);
    let ids = |list: &[&zonewise::report::families::FamilyRow]| {
        list.iter().map(|f| f.family_id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&agenda.due_for_review), std::slice::from_ref(due));
    assert!(
        !agenda.contains(later),
        "review not yet due: off the agenda"
    );
    assert_eq!(agenda.in_plan, 1);
    // Families in a plan give their places to the next ones.
    assert!(agenda.flagged() <= agenda.capacity as usize);
    assert_eq!(
        flagged_in(&after).get(&zone).cloned().unwrap_or_default(),
        flagged_by_hand(&conn, &round, &BTreeMap::new())
            .get(&zone)
            .cloned()
            .unwrap_or_default()
    );

    let pack = meeting_pack_html(&after, &zone, "County", "now");
    let section = pack
        .split("<h2>Due for review (1)</h2>")
        .nth(1)
        .expect("section");
    let section = section
        .split("<h2>")
        .next()
        .expect("up to the next section");
    assert!(section.contains(due.as_str()));
    assert!(
        section.contains(&format!(
            "Plan: lead: School, J. Patel; review {}",
            day_after(&previous, 1)
        )),
        "{section}"
    );
    assert!(section.contains("Actions: Attendance plan; parenting course"));
}

#[test]
fn a_plan_that_ended_steps_down_and_closing_takes_the_family_off_the_agenda() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let conn = zonewise::store::open(&county.db).expect("open");
    let figures = read_families(&conn, &everyone()).expect("families");
    let (round, previous) = (
        figures.current.clone().expect("round"),
        figures.previous.clone().expect("two rounds"),
    );
    let zone = figures.zones[0].zone_id.clone();
    let family = agenda(&figures, &zone).sections()[..3]
        .iter()
        .find_map(|(_, _, list)| list.first().map(|f| f.family_id.clone()))
        .expect("a flagged family");

    // Refused plans store nothing: no lead, a review before the round, closing with a plan.
    let mut no_lead = plan_decision(&family, &zone, &previous, plan(&round, None));
    no_lead.plan = None;
    let mut too_early = plan_decision(&family, &zone, &round, plan(&previous, None));
    too_early.plan.as_mut().expect("plan").review_date = previous.clone();
    let mut closing_plan = plan_decision(&family, &zone, &round, plan(&day_after(&round, 9), None));
    closing_plan.outcome = CLOSED.into();
    for refused in [no_lead, too_early, closing_plan] {
        let error = record_decision(&conn, &refused, "zm").expect_err("refused");
        assert!(matches!(error, DecisionError::Plan(_)), "{error}");
        assert!(refused.problem().is_some(), "the form says why");
    }
    let stored = |conn: &duckdb::Connection| -> i64 {
        conn.query_row("SELECT count(*) FROM app.round_decision", [], |row| {
            row.get(0)
        })
        .expect("count")
    };
    assert_eq!(stored(&conn), 0);

    // A plan agreed at the previous round that ended before this one.
    let ended = plan(&day_after(&round, 30), Some(&day_after(&previous, 2)));
    record_decision(
        &conn,
        &plan_decision(&family, &zone, &previous, ended),
        "lead",
    )
    .expect("plan");
    let after = read_families(&conn, &everyone()).expect("families");
    let agenda_now = agenda(&after, &zone);
    assert!(
        agenda_now
            .stepping_down
            .iter()
            .any(|f| f.family_id == family)
    );
    assert!(
        !after.family(&family).expect("row").flagged,
        "in a plan: not ranked"
    );

    // The meeting closes it: off the agenda, listed as decided, and not
    // flagged again at this round.
    let close = NewDecision {
        outcome: CLOSED.into(),
        plan: None,
        note: "goals met".into(),
        ..plan_decision(&family, &zone, &round, plan(&round, None))
    };
    let closed = record_decision(&conn, &close, "zm").expect("closed");
    assert_eq!((closed.outcome.as_str(), closed.plan), (CLOSED, None));
    let after = read_families(&conn, &everyone()).expect("families");
    let agenda_after = agenda(&after, &zone);
    assert!(!agenda_after.contains(&family), "closed: off the agenda");
    assert!(agenda_after.decided.iter().any(|f| f.family_id == family));
    assert!(!after.family(&family).expect("row").flagged);
    assert!(agenda_after.flagged() <= agenda_after.capacity as usize);

    // Both decisions are in the audit log with who, when and the plan.
    let entries: Vec<(String, String, String)> = conn
        .prepare(
            "SELECT \"user\", detail, strftime(\"at\", '%Y-%m-%d') FROM app.audit_log
             WHERE action = 'decision' AND subject = ? ORDER BY seq",
        )
        .expect("prepare")
        .query_map([&family], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(entries.len(), 2);
    let today = [chrono::Local::now(), chrono::Utc::now().into()]
        .map(|now: chrono::DateTime<chrono::Local>| now.format("%Y-%m-%d").to_string());
    assert!(
        entries.iter().all(|(_, _, at)| today.contains(at)),
        "when: {entries:?}"
    );
    assert_eq!(entries[0].0, "lead");
    assert!(
        entries[0].1.contains("lead: School, J. Patel"),
        "{}",
        entries[0].1
    );
    assert!(
        entries[0]
            .1
            .contains(&format!("ends {}", day_after(&previous, 2)))
    );
    assert_eq!(entries[1].0, "zm");
    assert!(entries[1].1.starts_with(CLOSED), "{}", entries[1].1);
    assert!(zonewise::audit::verify(&conn).expect("verify").is_intact());
}

#[test]
fn decisions_made_before_plans_keep_working() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let (family, zone, round) = {
        let conn = zonewise::store::open(&county.db).expect("open");
        let figures = read_families(&conn, &everyone()).expect("families");
        let family = figures.families[0].clone();
        // The decisions table as databases made before plans have it.
        conn.execute_batch(
            "DROP TABLE app.round_decision;
             CREATE TABLE app.round_decision (
                 family_id VARCHAR NOT NULL, zone_id VARCHAR, reference_date DATE NOT NULL,
                 outcome VARCHAR NOT NULL, note VARCHAR NOT NULL, decided_by VARCHAR NOT NULL,
                 decided_at TIMESTAMP NOT NULL);",
        )
        .expect("old layout");
        conn.execute(
            "INSERT INTO app.round_decision VALUES (?, ?, ?::DATE, 'No further action', 'old', 'zm', now()::TIMESTAMP)",
            duckdb::params![family.family_id, family.zone_id, figures.previous],
        )
        .expect("old decision");
        (
            family.family_id,
            family.zone_id.expect("zone"),
            figures.current.expect("round"),
        )
    };
    let conn = zonewise::store::open(&county.db).expect("opens and migrates");
    let figures = read_families(&conn, &everyone()).expect("families");
    let old = figures
        .family(&family)
        .and_then(|f| f.decision.clone())
        .expect("kept");
    assert_eq!(
        (old.outcome.as_str(), old.note.as_str(), old.plan),
        ("No further action", "old", None)
    );
    let planned = record_decision(
        &conn,
        &plan_decision(&family, &zone, &round, plan(&day_after(&round, 60), None)),
        "zm",
    )
    .expect("a plan on the migrated table");
    assert_eq!(
        planned.plan.expect("plan").review_date,
        day_after(&round, 60)
    );
}

/// The text field labelled `label`.
fn field<'h>(harness: &'h Harness<'_, ZonewiseApp>, label: &'h str) -> egui_kittest::Node<'h> {
    harness
        .query_all_by_label(label)
        .find(|node| {
            matches!(
                node.accesskit_node().role(),
                Widget::TextInput | Widget::MultilineTextInput
            )
        })
        .unwrap_or_else(|| panic!("no field labelled {label}"))
}

fn type_into_field(harness: &mut Harness<'_, ZonewiseApp>, label: &str, text: &str) {
    field(harness, label).focus();
    harness.run_steps(1);
    field(harness, label).type_text(text);
    harness.run_steps(2);
}

#[test]
fn the_decision_form_records_a_plan_with_its_audit_entry() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let (zone, family, round) = {
        let conn = zonewise::store::open(&county.db).expect("open");
        let figures = read_families(&conn, &everyone()).expect("families");
        // The first zone with a family newly flagged this round (which zones have
        // one depends on the generated county).
        let (zone, family) = figures
            .zones
            .iter()
            .find_map(|zone| {
                let newly = agenda(&figures, &zone.zone_id).newly_flagged;
                Some((zone.zone_id.clone(), newly.first()?.family_id.clone()))
            })
            .expect("a zone with a newly flagged family");
        (zone, family, figures.current.clone().expect("round"))
    };
    let mut app = ZonewiseApp::new(DatabaseChoice::File(county.db.clone()));
    app.view = View::RoundTable;
    app.screen_mut::<RoundTableState>().zone = Some(zone.clone());
    let mut harness = common::app::harness(app, 1280.0, 2400.0);
    common::app::wait_for_figures(&mut harness);
    harness.run_steps(3);
    harness.get_by_label(&family).click();
    harness.run_steps(2);

    // A lead practitioner: the review date is offered three months on, and the
    // button waits for the lead's name, saying so.
    harness.get_by_label(LEAD_PRACTITIONER).click();
    harness.run_steps(2);
    let three_months = chrono::NaiveDate::parse_from_str(&round, "%Y-%m-%d")
        .expect("day")
        .checked_add_months(chrono::Months::new(3))
        .expect("day")
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        harness.state().screen::<RoundTableState>().form.review_date,
        three_months
    );
    assert!(
        harness
            .get_by_role_and_label(Widget::Button, "Record decision")
            .accesskit_node()
            .is_disabled()
    );
    harness.get_by_label_contains("name the lead practitioner");

    type_into_field(&mut harness, "Lead agency", "School");
    type_into_field(&mut harness, "Lead practitioner", "J. Patel");
    type_into_field(&mut harness, "Actions", "Attendance plan");
    harness.get_by_label("+6 months").click();
    harness.run_steps(2);
    let six_months = chrono::NaiveDate::parse_from_str(&round, "%Y-%m-%d")
        .expect("day")
        .checked_add_months(chrono::Months::new(6))
        .expect("day")
        .format("%Y-%m-%d")
        .to_string();
    common::app::click_button(&harness, "Record decision");
    harness.run_steps(2);
    common::app::wait_while(&mut harness, "the decision was not recorded", |h| {
        h.state().is_busy()
    });
    harness.run_steps(2);
    harness.get_by_label_contains(&format!("Recorded for {family}"));
    assert_eq!(
        harness.state().screen::<RoundTableState>().form,
        Default::default(),
        "the form starts again"
    );
    // The family is off the agenda, under "Decided at this round".
    harness.get_by_label_contains("Decided at this round (1)");
    drop(harness);

    let conn = zonewise::store::open(&county.db).expect("open");
    let row: (String, String, String, String, String, Option<String>) = conn
        .query_row(
            "SELECT outcome, lead_agency, lead_name, actions, strftime(review_date, '%Y-%m-%d'),
                    strftime(plan_ends, '%Y-%m-%d')
             FROM app.round_decision WHERE family_id = ?",
            [&family],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ))
            },
        )
        .expect("stored");
    assert_eq!(
        row,
        (
            LEAD_PRACTITIONER.to_string(),
            "School".to_string(),
            "J. Patel".to_string(),
            "Attendance plan".to_string(),
            six_months.clone(),
            None
        )
    );
    let detail: String = conn
        .query_row(
            "SELECT detail FROM app.audit_log WHERE action = 'decision' AND subject = ?",
            [&family],
            |row| row.get(0),
        )
        .expect("entry");
    assert_eq!(
        detail,
        format!(
            "{LEAD_PRACTITIONER} (zone {zone}, round of {round}); lead: School, J. Patel; review {six_months}"
        )
    );
    assert!(zonewise::audit::verify(&conn).expect("verify").is_intact());
}

#[test]
fn an_analyst_sets_a_zones_capacity_on_the_round_table_and_the_agenda_follows() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let zone = {
        let conn = zonewise::store::open(&county.db).expect("open");
        let figures = read_families(&conn, &everyone()).expect("families");
        // The busiest zone, so that a smaller capacity drops families from it.
        figures
            .zones
            .iter()
            .max_by_key(|z| {
                flagged_in(&figures)
                    .get(&z.zone_id)
                    .map_or(0, BTreeSet::len)
            })
            .expect("a zone")
            .zone_id
            .clone()
    };
    let mut app = ZonewiseApp::new(DatabaseChoice::File(county.db.clone()));
    app.view = View::RoundTable;
    app.screen_mut::<RoundTableState>().zone = Some(zone.clone());
    let mut harness = common::app::harness(app, 1280.0, 1600.0);
    common::app::wait_for_figures(&mut harness);
    harness.run_steps(3);
    harness.get_by_label_contains(&format!(
        "within its capacity of {DEFAULT_CAPACITY} a round"
    ));
    // Nothing to set until the number changes.
    assert!(
        harness
            .get_by_role_and_label(Widget::Button, "Set capacity")
            .accesskit_node()
            .is_disabled()
    );
    harness.state_mut().screen_mut::<RoundTableState>().capacity = Some((zone.clone(), 2));
    harness.run_steps(2);
    common::app::click_button(&harness, "Set capacity");
    harness.run_steps(2);
    common::app::wait_while(&mut harness, "the capacity was not set", |h| {
        h.state().is_busy()
    });
    common::app::wait_for_figures(&mut harness);
    harness.run_steps(3);
    harness.get_by_label_contains("now discusses 2 families a round");
    harness.get_by_label_contains("within its capacity of 2 a round");
    let shown = {
        let figures = harness
            .state()
            .figures()
            .families
            .clone()
            .expect("families read again");
        agenda(&figures, &zone).flagged()
    };
    drop(harness);

    let conn = zonewise::store::open(&county.db).expect("open");
    let stored = flags::capacities(&conn)
        .expect("capacities")
        .into_iter()
        .find(|z| z.zone_id == zone)
        .expect("the zone");
    let user = zonewise::audit::os_user();
    assert_eq!(
        (stored.capacity, stored.set.map(|(who, _)| who)),
        (2, Some(user.clone()))
    );
    let round = read_families(&conn, &everyone())
        .expect("families")
        .current
        .expect("round");
    let per_zone = flags::flagged_per_zone(&conn, &round).expect("per zone");
    let counted = per_zone
        .iter()
        .find(|(z, _)| *z == zone)
        .map_or(0, |(_, n)| *n);
    assert_eq!((shown, counted), (2, 2), "the agenda shows the new flags");
    let logged = common::audit_entries(&conn, 0, &["zone_capacity"]);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(
        (logged[0].0.as_str(), logged[0].2.as_str()),
        (user.as_str(), zone.as_str())
    );
}

#[test]
fn the_models_view_states_the_model_at_the_zones_capacities_on_its_held_out_round() {
    use zonewise::risk::model::file::RiskModelFile;
    let _turn = common::app::one_at_a_time();
    let county = county();
    let model = RiskModelFile::load(&zonewise::sample::sample_risk_model_path()).expect("model");
    let round = model.held_out_date.clone();
    let conn = zonewise::store::open(&county.db).expect("open");
    let date = chrono::NaiveDate::parse_from_str(&round, "%Y-%m-%d").expect("day");
    zonewise::risk::build(&conn, date).expect("features and labels");
    let sets = zonewise::risk::criteria::built_in().expect("criteria");
    let set = zonewise::risk::criteria::find(&sets, zonewise::risk::criteria::DEFAULT_SET)
        .expect("the default set");
    zonewise::risk::criteria::evaluate(&conn, set, date).expect("criteria");
    zonewise::risk::model::score::score(&conn, &model, date).expect("scores");
    let zones: Vec<String> = flags::capacities(&conn)
        .expect("zones")
        .into_iter()
        .map(|z| z.zone_id)
        .collect();
    // The small county has fewer families than 20 a zone: smaller capacities,
    // unequal between zones, make the flags a choice.
    let capacity = |zone: &str| match zones.iter().position(|z| z == zone) {
        Some(0) => 1,
        Some(1) => 5,
        _ => 3,
    };
    let analyst = Session::local_analyst();
    for zone in &zones {
        flags::set_capacity(&conn, &analyst, zone, capacity(zone) as u32).expect("set");
    }

    // Ranked here from the raw tables: each zone's families with a score or a
    // criterion met, by highest child's score, then criteria met, then id; the
    // first `capacity` of each (the county has no decisions, so no plans).
    let rows: Vec<(String, String, i64, Option<f64>)> = conn
        .prepare(
            "SELECT f.zone_id, c.family_id, count(*) FILTER (WHERE c.met),
                    (SELECT max(score) FROM mart.risk_score s
                     WHERE s.family_id = c.family_id AND s.reference_date = ?::DATE)
             FROM mart.family_criterion c JOIN core.family f USING (family_id)
             WHERE c.reference_date = ?::DATE AND c.rule_set = 'supporting-families'
               AND f.zone_id IS NOT NULL
             GROUP BY ALL",
        )
        .expect("prepare")
        .query_map([&round, &round], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let mut by_zone: BTreeMap<String, Vec<(String, i64, Option<f64>)>> = BTreeMap::new();
    for (zone, family, met, score) in rows {
        if score.is_some() || met > 0 {
            by_zone.entry(zone).or_default().push((family, met, score));
        }
    }
    let mut flagged = BTreeSet::new();
    for (zone, mut families) in by_zone {
        families.sort_by(|a, b| {
            let score = |s: Option<f64>| s.unwrap_or(f64::NEG_INFINITY);
            score(b.2)
                .total_cmp(&score(a.2))
                .then(b.1.cmp(&a.1))
                .then(a.0.cmp(&b.0))
        });
        flagged.extend(families.into_iter().take(capacity(&zone)).map(|f| f.0));
    }
    let escalated: BTreeSet<String> = conn
        .prepare(
            "SELECT DISTINCT l.family_id FROM mart.risk_label l JOIN core.family f USING (family_id)
             WHERE l.reference_date = ?::DATE AND l.follow_up_complete AND l.label = 1
               AND f.zone_id IS NOT NULL",
        )
        .expect("prepare")
        .query_map([&round], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let places = zones.iter().map(|z| capacity(z) as i64).sum::<i64>();

    // A senior manager (not an analyst) is not shown them: they move with a
    // single zone's capacity.
    let manager = Session {
        user: "sm".into(),
        role: Role::SeniorManager,
        zones: Vec::new(),
    };
    let withheld = zonewise::report::models::read_models(&conn, &manager).expect("models");
    assert!(withheld.at_capacity.is_none() && withheld.at_capacity_withheld);
    assert!(withheld.model.is_some(), "the card itself is shown");
    let figures = zonewise::report::models::read_models(&conn, &analyst).expect("models");
    let at = figures.at_capacity.expect("the held-out round is scored");
    assert_eq!(
        (
            at.reference_date.as_str(),
            at.capacity,
            at.zones,
            at.zones_set
        ),
        (
            round.as_str(),
            places,
            zones.len() as i64,
            zones.len() as i64
        )
    );
    assert_eq!(at.flagged as usize, flagged.len());
    assert_eq!(
        at.flagged_escalated as usize,
        flagged.intersection(&escalated).count()
    );
    assert_eq!(at.escalated as usize, escalated.len());
    assert!(at.flagged_escalated > 0 && at.escalated > at.flagged_escalated);
    drop(conn);

    let mut app = ZonewiseApp::new(DatabaseChoice::File(county.db.clone()));
    app.view = View::Models;
    let mut harness = common::app::harness(app, 1280.0, 2400.0);
    common::app::wait_for_figures(&mut harness);
    harness.run_steps(3);
    harness.get_by_label("At the zones' capacities today");
    harness.get_by_label("precision at the zones' capacities");
    let precision = format!("{:.1}%", at.precision().expect("flags") * 100.0);
    assert!(
        harness.query_all_by_label(&precision).count() >= 1,
        "{precision} on the view"
    );
}

#[test]
fn the_round_table_shows_a_picked_familys_rounds_read_through_the_audited_door() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let (zone, family, place, rounds, before) = {
        let conn = zonewise::store::open(&county.db).expect("open");
        let figures = read_families(&conn, &everyone()).expect("families");
        let round = figures.current.clone().expect("round");
        // The zone's ranking at the round, made here as `flagged_by_hand` makes
        // it (criteria met, then family id; the county has no scores).
        let capacity: BTreeMap<String, u32> = BTreeMap::new();
        let flagged = flagged_by_hand(&conn, &round, &capacity);
        let (zone, family) = flagged
            .iter()
            .find_map(|(zone, families)| Some((zone.clone(), families.iter().next()?.clone())))
            .expect("a zone with a flagged family");
        let mut ranked: Vec<(i64, String)> = conn
            .prepare(
                "SELECT -count(*) FILTER (WHERE c.met), c.family_id
                 FROM mart.family_criterion c JOIN core.family f USING (family_id)
                 WHERE c.reference_date = ?::DATE AND c.rule_set = 'supporting-families'
                   AND f.zone_id = ?
                 GROUP BY ALL HAVING count(*) FILTER (WHERE c.met) > 0",
            )
            .expect("prepare")
            .query_map([&round, &zone], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        ranked.sort();
        let rank = 1 + ranked
            .iter()
            .position(|(_, f)| *f == family)
            .expect("ranked");
        let rounds: Vec<String> = conn
            .prepare(
                "SELECT DISTINCT strftime(reference_date, '%Y-%m-%d') FROM mart.family_criterion
                 WHERE family_id = ? ORDER BY 1",
            )
            .expect("prepare")
            .query_map([&family], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        let suffix = match (rank % 10, rank % 100) {
            (_, 11..=13) => "th",
            (1, _) => "st",
            (2, _) => "nd",
            (3, _) => "rd",
            _ => "th",
        };
        let before: i64 = conn
            .query_row("SELECT max(seq) FROM app.audit_log", [], |row| row.get(0))
            .expect("seq");
        (
            zone,
            family,
            format!("{rank}{suffix} of {DEFAULT_CAPACITY}"),
            rounds,
            before,
        )
    };
    let mut app = ZonewiseApp::new(DatabaseChoice::File(county.db.clone()));
    app.view = View::RoundTable;
    app.screen_mut::<RoundTableState>().zone = Some(zone.clone());
    let mut harness = common::app::harness(app, 1280.0, 2400.0);
    common::app::wait_for_figures(&mut harness);
    harness.run_steps(3);
    harness.get_by_label(&family).click();
    harness.run_steps(2);
    common::app::wait_while(&mut harness, "the rounds were not read", |h| {
        h.state().is_busy()
    });
    harness.run_steps(3);
    harness.get_by_label("Round by round");
    assert!(rounds.len() >= 2, "{rounds:?}");
    for round in &rounds {
        assert!(
            harness.query_all_by_label(round).count() >= 1,
            "round {round} on the panel"
        );
    }
    assert!(
        harness.query_all_by_label(&place).count() >= 1,
        "{place} on the panel"
    );
    drop(harness);

    let conn = zonewise::store::open(&county.db).expect("open");
    let reads = common::audit_entries(&conn, before, &["list_families"]);
    assert!(
        reads.iter().any(
            |(_, _, subject, _)| *subject == format!("rounds of family {family} (Round table)")
        ),
        "the path read is in the log: {reads:?}"
    );
}
