//! A round table's decision and its audit entry are one transaction: both are kept
//! or neither. An outcome the form does not offer is refused, and while a load
//! holds the audit log the decision waits on its worker, never on the frame.

use crate::common;

use common::app::{click_button, harness, wait_for_figures};
use egui_kittest::kittest::Queryable;
use zonewise::access::Session;
use zonewise::report::agenda::agenda;
use zonewise::report::families::read_families;
use zonewise::report::family_detail::{DecisionError, NewDecision, OUTCOMES, record_decision};
use zonewise::ui::round_table::RoundTableState;
use zonewise::ui::{DatabaseChoice, View, ZonewiseApp};

struct County {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    /// The zone with the longest agenda, a family on it, and the round.
    zone: String,
    family_id: String,
    round: String,
}

fn county() -> County {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::app::assessed_county(dir.path(), 300, 21);
    let conn = zonewise::store::open(&db).expect("open");
    let everyone = Session::local_analyst().visibility().expect("analyst");
    let figures = read_families(&conn, &everyone).expect("families");
    let zone = figures
        .zones
        .iter()
        .max_by_key(|z| agenda(&figures, &z.zone_id).newly_flagged.len())
        .expect("a zone")
        .zone_id
        .clone();
    let family_id = agenda(&figures, &zone).newly_flagged[0].family_id.clone();
    County {
        zone,
        family_id,
        round: figures.current.clone().expect("round"),
        _dir: dir,
        db,
    }
}

/// (decisions stored for the family, `decision` entries about it, every entry).
fn counts(conn: &duckdb::Connection, family_id: &str) -> (i64, i64, i64) {
    conn.query_row(
        "SELECT (SELECT count(*) FROM app.round_decision WHERE family_id = $1),
                (SELECT count(*) FROM app.audit_log WHERE action = 'decision' AND subject = $1),
                (SELECT count(*) FROM app.audit_log)",
        [family_id],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )
    .expect("counts")
}

#[test]
fn a_decision_commits_with_its_audit_entry_and_an_unknown_outcome_stores_neither() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let conn = zonewise::store::open(&county.db).expect("open");
    let (_, _, entries) = counts(&conn, &county.family_id);

    let decision = |outcome: &str, note: &str| NewDecision {
        family_id: county.family_id.clone(),
        zone_id: Some(county.zone.clone()),
        reference_date: county.round.clone(),
        outcome: outcome.to_string(),
        note: note.to_string(),
        plan: None,
    };
    let refused = record_decision(&conn, &decision("Wait and see", ""), "zm")
        .expect_err("not an outcome the form offers");
    assert!(
        matches!(&refused, DecisionError::UnknownOutcome(outcome) if outcome == "Wait and see")
    );
    assert!(refused.to_string().contains(OUTCOMES[3]), "{refused}");
    assert_eq!(counts(&conn, &county.family_id), (0, 0, entries));

    let decision =
        record_decision(&conn, &decision(OUTCOMES[3], "to social care"), "zm").expect("recorded");
    assert_eq!(decision.outcome, OUTCOMES[3]);
    assert_eq!(counts(&conn, &county.family_id), (1, 1, entries + 1));
    let (user, detail): (String, String) = conn
        .query_row(
            "SELECT \"user\", detail FROM app.audit_log WHERE action = 'decision'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("entry");
    assert_eq!(user, "zm", "the entry names who decided");
    assert_eq!(
        detail,
        format!(
            "{} (zone {}, round of {})",
            OUTCOMES[3], county.zone, county.round
        )
    );
    assert!(zonewise::audit::verify(&conn).expect("verify").is_intact());
}

#[test]
fn while_a_load_holds_the_audit_log_a_decision_waits_on_a_worker_and_is_stored_after_it() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let mut app = ZonewiseApp::new(DatabaseChoice::File(county.db.clone()));
    app.view = View::RoundTable;
    app.screen_mut::<RoundTableState>().zone = Some(county.zone.clone());
    let mut harness = harness(app, 1280.0, 2400.0);
    wait_for_figures(&mut harness);
    harness.run_steps(3);
    harness.get_by_label(&county.family_id).click();
    harness.run_steps(2);
    // Picking the family reads its rounds (an audited read): done before the load.
    common::app::finish_jobs(&mut harness);
    harness.get_by_label(OUTCOMES[1]).click();
    harness.run_steps(2);

    // A load on another thread holds the right to append until told to finish.
    let (held, holding) = std::sync::mpsc::channel();
    let (finish, finished) = std::sync::mpsc::channel::<()>();
    let load = std::thread::spawn(move || {
        let _lock = zonewise::audit::lock_for_append();
        held.send(()).expect("tell the test");
        finished.recv().expect("told to finish");
    });
    holding.recv().expect("the load holds the log");
    click_button(&harness, "Record decision");
    harness.run_steps(5);

    // The frame goes on drawing while the decision waits on its worker; the
    // status bar names it and the button waits too.
    assert!(harness.state().is_busy(), "the decision waits for the load");
    harness.get_by_label("Recording the decision");
    {
        use egui_kittest::kittest::NodeT as _;
        let button = harness.get_by_label("Record decision");
        assert!(button.accesskit_node().is_disabled(), "no second decision");
    }
    let row = harness
        .state()
        .figures()
        .families
        .as_ref()
        .and_then(|families| families.family(&county.family_id).cloned())
        .expect("family");
    assert!(row.decision.is_none(), "nothing shown as decided yet");

    // Once the load is done the decision is stored, with its entry.
    finish.send(()).expect("finish the load");
    load.join().expect("load thread");
    common::app::wait_while(&mut harness, "the decision was not stored", |h| {
        h.state().is_busy()
    });
    harness.run_steps(2);
    harness.get_by_label_contains(&format!("Recorded for {}", county.family_id));
    drop(harness);
    let conn = zonewise::store::open(&county.db).expect("open");
    let (decisions, entries, _) = counts(&conn, &county.family_id);
    assert_eq!((decisions, entries), (1, 1), "stored once, with one entry");
    assert!(zonewise::audit::verify(&conn).expect("verify").is_intact());
}
