//! The app builds headless on a generated county, shows Overview figures equal
//! to independent SQL counts over the staged extracts, and navigates.

use crate::common;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use zonewise::audit::{self, Action, Entry};
use zonewise::format::thousands;
use zonewise::geo::imd_domain::ImdDomain;
use zonewise::ingest::{self, Manifest};
use zonewise::store;
use zonewise::synth::{self, SynthConfig};
use zonewise::ui::LinkageState;
use zonewise::ui::audit_view::AuditState;
use zonewise::ui::families_view::FamiliesState;
use zonewise::ui::map_view::{MapState, NeedSource};
use zonewise::ui::{DatabaseChoice, View, ZonewiseApp};

use common::app::{complete_captures, type_into};

struct County {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    manifest: std::path::PathBuf,
}

fn generated_county() -> County {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("county");
    synth::generate(
        &SynthConfig {
            out_dir: out.clone(),
            reference_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("data-samples/ref"),
            families: 400,
            seed: 7,
            noise: 1.0,
            gzip: false,
            authorities: Vec::new(),
            months: 1,
            // No early-help effect: the county is the one this test was written on.
            round_tables: zonewise::synth::round_tables::RoundTableConfig::no_effect(),
        },
        &|_, _| {},
    )
    .expect("synth");
    let manifest = out.join("manifest.toml");
    let db = dir.path().join("county.duckdb");
    {
        let conn = store::open(&db).expect("open");
        ingest::ingest(
            &conn,
            &Manifest::load(&manifest).expect("manifest"),
            "analyst",
            &mut |_| {},
        )
        .expect("ingest");
    }
    County {
        _dir: dir,
        db,
        manifest,
    }
}

/// The app on the county's database, headless, with its first load finished.
fn open_app(county: &County) -> Harness<'static, ZonewiseApp> {
    open_app_sized(county, egui::vec2(1280.0, 800.0))
}

/// The same in a window of `size` points (a tall one shows a whole side panel).
fn open_app_sized(county: &County, size: egui::Vec2) -> Harness<'static, ZonewiseApp> {
    let app = ZonewiseApp::new(DatabaseChoice::File(county.db.clone()));
    let mut harness = Harness::builder()
        .with_size(size)
        .build_ui_state(|ui, app: &mut ZonewiseApp| app.ui(ui), app);
    settle(&mut harness);
    harness
}

/// Steps the UI until the background jobs have finished (bounded, so a hang fails the test).
fn settle(harness: &mut Harness<'_, ZonewiseApp>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        harness.step();
        let app = harness.state();
        if !app.is_busy() && (app.is_ready() || app.open_error().is_some()) {
            break;
        }
        assert!(Instant::now() < deadline, "the app did not finish loading");
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(3);
    common::app::assert_frames_drew_only();
}

#[test]
fn overview_numbers_equal_sql_counts() {
    let _turn = common::app::one_at_a_time();
    let county = generated_county();
    // Independent counts straight from staging and ref, not through the report module,
    // taken before the app opens the file (DuckDB allows one open handle per process).
    let conn = duckdb::Connection::open(&county.db).expect("handle for checking");
    let manifest = Manifest::load(&county.manifest).expect("manifest");
    let union = manifest
        .sources
        .iter()
        .map(|s| format!("SELECT '{0}' AS s, record_id FROM staging.{0}", s.name))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let person_records = store::scalar_i64(
        &conn,
        &format!("SELECT count(DISTINCT (s, record_id)) FROM ({union})"),
    )
    .expect("records");
    let rows = store::scalar_i64(&conn, &format!("SELECT count(*) FROM ({union})")).expect("rows");
    let zones = store::scalar_i64(&conn, "SELECT count(DISTINCT zone_id) FROM ref.lsoa_zone")
        .expect("zones");
    let lsoas = store::scalar_i64(&conn, "SELECT count(*) FROM ref.lsoa").expect("lsoas");
    drop(conn);

    let harness = open_app(&county);
    assert_eq!(harness.state().open_error(), None);

    let figures = &harness
        .state()
        .figures()
        .overview
        .as_ref()
        .expect("overview");
    assert_eq!(figures.person_records, person_records);
    assert_eq!(figures.rows, rows);
    assert_eq!(figures.zones, zones);
    assert_eq!(figures.lsoas, lsoas);
    assert_eq!(figures.sources as usize, manifest.sources.len());
    assert_eq!(
        figures.per_decile.iter().map(|d| d.lsoas).sum::<i64>(),
        lsoas
    );

    // And the same numbers are what the screen shows.
    harness.get_by_label(&thousands(person_records));
    harness.get_by_label(&thousands(rows));
    harness.get_by_label(&zones.to_string());
    harness.get_by_label("person records");
}

#[test]
fn navigation_reaches_every_view() {
    let _turn = common::app::one_at_a_time();
    let county = generated_county();
    let mut harness = open_app(&county);

    harness.get_by_label("Data").click();
    harness.run_steps(2);
    assert_eq!(harness.state().view, View::Data);
    harness.get_by_label("Data sources");
    harness.get_by_label("Import extracts…");
    let manifest = Manifest::load(&county.manifest).expect("manifest");
    for source in &manifest.sources {
        // Once in the quality table and once in the completeness table.
        let shown = harness.query_all_by_label(&source.name).count();
        assert_eq!(shown, 2, "{} on the Data view", source.name);
    }

    // Every view is built: none is a placeholder any more.
    for view in View::ALL {
        harness
            .get_by_role_and_label(egui::accesskit::Role::Button, view.label())
            .click();
        harness.run_steps(2);
        assert_eq!(harness.state().view, view);
        assert!(
            harness.query_by_label_contains("planned").is_none(),
            "{} is a placeholder",
            view.label()
        );
    }
}

#[test]
fn models_view_shows_the_figures_of_the_model_file() {
    let _turn = common::app::one_at_a_time();
    use zonewise::risk::model::file::RiskModelFile;
    let county = generated_county();
    let model = RiskModelFile::load(&zonewise::sample::sample_risk_model_path()).expect("model");
    {
        let conn = duckdb::Connection::open(&county.db).expect("open");
        zonewise::link::link(&conn, &zonewise::link::LinkConfig::default(), "analyst")
            .expect("link");
        let date = chrono::NaiveDate::from_ymd_opt(2026, 4, 1).expect("date");
        zonewise::risk::build(&conn, date).expect("features");
        zonewise::risk::model::score::score(&conn, &model, date).expect("score");
    }
    let mut harness = open_app_sized(&county, egui::vec2(1280.0, 2400.0));
    harness.get_by_label("Models").click();
    harness.run_steps(2);
    assert_eq!(harness.state().view, View::Models);
    let shown = harness
        .state()
        .figures()
        .models
        .as_ref()
        .expect("models")
        .model
        .clone();
    assert!(
        shown == Some(model.clone()),
        "the view reads the model that scored"
    );
    harness.get_by_label("What these numbers mean");
    harness.get_by_label_contains(&model.model_id);
    let e = &model.evaluation;
    let oracle = e.oracle.expect("the sample model has oracle figures");
    for (name, value) in [
        ("ROC AUC", e.roc_auc),
        ("oracle ROC AUC", oracle.oracle_roc_auc),
        ("average precision", e.average_precision),
        ("Brier score", e.brier_score),
    ] {
        let text = format!("{:.3}", value.expect("figure"));
        assert!(
            harness.query_all_by_label(&text).count() >= 1,
            "{name} {text} is on the view"
        );
        assert!(harness.query_all_by_label(name).count() >= 1, "{name}");
    }
    let top_k = format!(
        "{:.1}%",
        e.top_k.families.precision.expect("precision") * 100.0
    );
    assert!(
        harness.query_all_by_label(&top_k).count() >= 1,
        "top-k precision {top_k}"
    );
    harness.get_by_label("Calibration");
    harness.get_by_label("Precision down the list");
    harness.get_by_label("Fairness");
    for group in e.fairness.iter().filter(|g| g.dimension == "sex") {
        assert!(
            harness.query_all_by_label(&group.group).count() >= 1,
            "{}",
            group.group
        );
    }
    harness.get_by_label_contains("Scored dates — 2026-04-01");
}

/// Types a manifest path into the Data view's field and presses Load, as a user would.
fn load_through_path_field(harness: &mut Harness<'_, ZonewiseApp>, manifest: &std::path::Path) {
    harness.run_steps(2);
    type_into(
        harness,
        egui::accesskit::Role::TextInput,
        &manifest.display().to_string(),
    );
    harness.get_by_label("Load").click();
    harness.run_steps(1);
    assert!(
        harness.state().is_busy(),
        "the load runs as a background job"
    );
    settle(harness);
}

#[test]
fn import_from_the_data_view_loads_and_reports_errors() {
    let _turn = common::app::one_at_a_time();
    let county = generated_county();
    let mut harness = open_app(&county);
    harness.state_mut().view = View::Data;

    // A manifest that points at a missing extract: the error is shown, nothing changes.
    let broken = county.manifest.with_file_name("broken.toml");
    let text = std::fs::read_to_string(&county.manifest).expect("read manifest");
    let first_file = Manifest::load(&county.manifest).expect("manifest").sources[0]
        .file
        .display()
        .to_string();
    std::fs::write(&broken, text.replace(&first_file, "extracts/missing.csv")).expect("write");
    let before = harness
        .state()
        .figures()
        .overview
        .as_ref()
        .expect("overview")
        .rows;
    load_through_path_field(&mut harness, &broken);
    match harness.state().import_message() {
        Some(zonewise::ui::ImportMessage::Failed(message)) => {
            assert!(message.contains("missing.csv"), "{message}");
            assert!(message.contains("unchanged"), "{message}");
        }
        other => panic!("expected a failure message, got {other:?}"),
    }
    harness.get_by_label_contains("missing.csv");
    assert_eq!(
        harness
            .state()
            .figures()
            .overview
            .as_ref()
            .expect("overview")
            .rows,
        before
    );

    // The map's geometry is prepared once, when the view is first drawn.
    harness.state_mut().view = View::Map;
    harness.run_steps(3);
    assert_eq!(
        harness.state().screen::<MapState>().county_preparations(),
        1
    );
    harness.state_mut().view = View::Data;
    harness.run_steps(2);
    assert_eq!(
        harness.state().audit_verifications(),
        0,
        "no Audit view yet"
    );

    // The real manifest loads again and the figures are refreshed.
    load_through_path_field(&mut harness, &county.manifest);
    assert!(matches!(
        harness.state().import_message(),
        Some(zonewise::ui::ImportMessage::Loaded(_))
    ));
    let runs = harness
        .state()
        .figures()
        .overview
        .as_ref()
        .expect("overview")
        .loaded_at
        .clone();
    assert!(runs.is_some());
    // The refresh after the load verified no audit chain and, the boundaries
    // being the same, prepared no geometry again…
    assert_eq!(harness.state().audit_verifications(), 0);
    harness.state_mut().view = View::Map;
    harness.run_steps(3);
    assert_eq!(
        harness.state().screen::<MapState>().county_preparations(),
        1
    );
    // …and opening the Audit view verifies the chain, with the load in it.
    harness.get_by_label("Audit").click();
    settle(&mut harness);
    assert_eq!(harness.state().audit_verifications(), 1);
    let audit = &harness.state().figures().audit.as_ref().expect("audit");
    assert!(audit.verification.problem.is_none());
    assert!(
        audit.entries.iter().any(|entry| entry.action == "ingest"),
        "{:?}",
        audit.entries.first()
    );
}

/// Each view's data is read on its own: an import re-reads what is on screen and
/// leaves the rest stale until shown, and only the Audit view verifies the chain.
#[test]
fn an_import_reads_again_only_the_view_on_screen() {
    use zonewise::ui::figures::Part;
    let _turn = common::app::one_at_a_time();
    let county = generated_county();
    let mut harness = open_app(&county);
    let fresh =
        |harness: &Harness<'_, ZonewiseApp>, part: Part| harness.state().figures().is_fresh(part);
    // Opening reads the shown view, then every other view's part but the audit log.
    for part in Part::ALL {
        assert_eq!(fresh(&harness, part), part != Part::Audit, "{part:?}");
    }
    assert!(harness.state().figures().audit.is_none());
    assert_eq!(harness.state().audit_verifications(), 0);

    harness.state_mut().view = View::Data;
    settle(&mut harness);
    load_through_path_field(&mut harness, &county.manifest);
    assert!(matches!(
        harness.state().import_message(),
        Some(zonewise::ui::ImportMessage::Loaded(_))
    ));
    // The Data view and the bars' overview are read again; nothing else is, and
    // the audit chain is not verified.
    assert!(fresh(&harness, Part::Quality) && fresh(&harness, Part::Overview));
    for part in [
        Part::Linkage,
        Part::Map,
        Part::Families,
        Part::Users,
        Part::Models,
        Part::Outcomes,
    ] {
        assert!(
            !fresh(&harness, part),
            "{part:?} was read for the Data view"
        );
        assert!(
            harness.state().figures().has(part),
            "{part:?} is still shown"
        );
    }
    assert!(harness.state().figures().audit.is_none());
    assert_eq!(harness.state().audit_verifications(), 0);
    let loaded_at = |harness: &Harness<'_, ZonewiseApp>| {
        let figures = harness.state().figures();
        figures
            .overview
            .as_ref()
            .expect("overview")
            .loaded_at
            .clone()
    };
    let after_load = loaded_at(&harness);
    assert!(after_load.is_some());

    // A stale view is read when it is shown; the others stay as they were.
    harness.state_mut().view = View::Families;
    settle(&mut harness);
    assert!(fresh(&harness, Part::Families));
    assert!(!fresh(&harness, Part::Map) && !fresh(&harness, Part::Linkage));
    // The Round table shares Families' read: only its own Outcomes are read.
    harness.state_mut().view = View::RoundTable;
    harness.run_steps(2);
    assert!(
        !harness.state().figures().is_reading(Part::Families),
        "the round table shares Families' read"
    );
    settle(&mut harness);
    assert!(fresh(&harness, Part::Families) && fresh(&harness, Part::Outcomes));
    assert!(!fresh(&harness, Part::Map));

    // The Audit view verifies the chain when it is entered and when asked again…
    harness.get_by_label("Audit").click();
    settle(&mut harness);
    assert_eq!(harness.state().audit_verifications(), 1);
    assert!(fresh(&harness, Part::Audit));
    harness.get_by_label("Verify again").click();
    settle(&mut harness);
    assert_eq!(harness.state().audit_verifications(), 2);
    harness.run_steps(3);
    assert_eq!(harness.state().audit_verifications(), 2, "once per ask");

    // …never for another view's import, but entering it again verifies once more.
    harness.state_mut().view = View::Data;
    settle(&mut harness);
    load_through_path_field(&mut harness, &county.manifest);
    assert_eq!(harness.state().audit_verifications(), 2);
    assert!(!fresh(&harness, Part::Audit));
    assert_ne!(loaded_at(&harness), None);
    harness.get_by_label("Audit").click();
    settle(&mut harness);
    assert_eq!(harness.state().audit_verifications(), 3);
    let audit = harness.state().figures().audit.clone().expect("audit");
    let loads = audit
        .entries
        .iter()
        .filter(|e| e.action == "ingest")
        .count();
    assert!(loads >= 3, "both loads are in the log: {loads}");
}

#[test]
fn linkage_view_shows_the_latest_run() {
    let _turn = common::app::one_at_a_time();
    let county = generated_county();
    let persons = {
        let conn = duckdb::Connection::open(&county.db).expect("open");
        zonewise::link::link(&conn, &zonewise::link::LinkConfig::default(), "analyst")
            .expect("link")
            .persons
    };
    let mut harness = open_app(&county);
    let figures = &harness
        .state()
        .figures()
        .overview
        .as_ref()
        .expect("overview");
    assert_eq!(
        figures.people,
        Some(persons as i64),
        "the Overview counts linked people"
    );
    harness.get_by_label("Linkage").click();
    harness.run_steps(2);
    assert_eq!(harness.state().view, View::Linkage);
    harness.get_by_label("Record linkage");
    harness.get_by_label("candidate pairs");
    assert!(
        harness
            .query_all_by_label(&thousands(persons as i64))
            .count()
            >= 1
    );
    harness.get_by_label_contains("Who knows whom");
    // Reading the review queue's named pairs was recorded before they were shown.
    harness.get_by_label("Audit").click();
    settle(&mut harness);
    let audit = &harness.state().figures().audit.as_ref().expect("audit");
    assert!(
        audit
            .entries
            .iter()
            .any(|entry| entry.action == "search_persons"
                && entry.subject == "pairs of records waiting in the linkage review queue"),
        "{:?}",
        audit.entries
    );
}

#[test]
fn review_thresholds_and_person_search_work_from_the_linkage_view() {
    let _turn = common::app::one_at_a_time();
    let county = generated_county();
    {
        let conn = duckdb::Connection::open(&county.db).expect("open");
        zonewise::link::link(&conn, &zonewise::link::LinkConfig::default(), "analyst")
            .expect("link");
    }
    let mut harness = open_app(&county);
    harness.get_by_label("Linkage").click();
    harness.run_steps(2);
    harness.get_by_label_contains("Review queue").click();
    harness.run_steps(2);
    let snapshot = harness.state().figures().linkage.clone().expect("linkage");
    let run = snapshot.figures.run.clone().expect("a run");
    assert!(
        !snapshot.review_queue.is_empty(),
        "a county this size has pairs to review"
    );
    assert_eq!(
        snapshot.review_queue.len() as i64,
        run.review_pairs.min(500)
    );
    let first = snapshot.review_queue[0].clone();
    harness.get_by_label_contains(&first.left.record_id);
    harness.get_by_label("Why this score");

    // A verdict takes the pair off the queue once saved (on a worker)…
    harness.get_by_label("Different people  (D)").click();
    harness.run_steps(2);
    settle(&mut harness);
    let queue = &harness
        .state()
        .figures()
        .linkage
        .as_ref()
        .expect("linkage")
        .review_queue;
    assert_eq!(queue.len(), snapshot.review_queue.len() - 1);
    assert!(!queue.iter().any(|item| item.pair == first.pair));
    assert_eq!(harness.state().screen::<LinkageState>().decided, 1);

    // …and applying it re-clusters: one pair fewer waits, and it stays decided.
    harness.get_by_label("Summary and thresholds").click();
    harness.run_steps(2);
    harness.get_by_label("Apply 1 review decision(s)").click();
    settle(&mut harness);
    let after = harness.state().figures().linkage.clone().expect("linkage");
    let rerun = after.figures.run.clone().expect("run");
    assert_eq!(rerun.review_pairs, run.review_pairs - 1);
    assert!(
        !after
            .review_queue
            .iter()
            .any(|item| item.pair == first.pair)
    );
    assert_eq!(harness.state().screen::<LinkageState>().decided, 0);

    // Trying a stricter threshold shows the model's estimate; applying it accepts that many pairs.
    // A weight on a bucket boundary, where the estimate's pair count is exact.
    let strict = 10.0;
    let expected = zonewise::report::linkage::estimate_at(&after.figures.weight_buckets, strict)
        .accepted_pairs;
    harness.state_mut().screen_mut::<LinkageState>().trial =
        Some((strict, zonewise::ui::linkage_view::weight_at(0.5)));
    harness.run_steps(2);
    assert!(harness.query_all_by_label(&thousands(expected)).count() >= 1);
    harness.get_by_label("Apply thresholds").click();
    settle(&mut harness);
    let strict_run = harness
        .state()
        .figures()
        .linkage
        .as_ref()
        .expect("linkage")
        .figures
        .run
        .clone()
        .expect("run");
    let strict_probability = zonewise::ui::linkage_view::probability_at(strict);
    assert!((strict_run.accept_probability - strict_probability).abs() < 1e-9);
    assert_eq!(strict_run.accepted_pairs, expected);
    assert!(harness.state().screen::<LinkageState>().trial.is_none());

    // Find a person: a search by a source record id finds its person; opening them
    // shows every record, that one included.
    harness.get_by_label("Find a person").click();
    harness.run_steps(2);
    harness.state_mut().screen_mut::<LinkageState>().search = first.left.record_id.to_lowercase();
    harness.get_by_label("Search").click();
    harness.run_steps(2);
    common::app::wait_while(&mut harness, "the linkage job did not finish", |h| {
        h.state().is_busy()
    });
    harness.run_steps(2);
    let hits = harness.state().screen::<LinkageState>().hits.clone();
    assert_eq!(hits.len(), 1, "{hits:?}");
    let hit = hits[0].clone();
    let label = format!(
        "{} · {} · {} record{}",
        hit.name,
        hit.birth_date.as_deref().unwrap_or("no birth date"),
        hit.source_records,
        if hit.source_records == 1 { "" } else { "s" }
    );
    harness.get_by_label(&label).click();
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
    assert_eq!(person.person_id, hit.person_id);
    assert_eq!(person.records.len() as i64, hit.source_records);
    assert!(person.records.iter().any(|r| r.key == first.left.key));
    harness.get_by_label_contains(&format!(
        "{}: {} record",
        person.person_id,
        person.records.len()
    ));

    // A name search is by the standardised name, whatever punctuation is typed.
    let given = first.left.given_name.clone().expect("a given name");
    harness.state_mut().screen_mut::<LinkageState>().search =
        format!(" {}. ", given.to_lowercase());
    harness.get_by_label("Search").click();
    harness.run_steps(2);
    common::app::wait_while(&mut harness, "the linkage job did not finish", |h| {
        h.state().is_busy()
    });
    harness.run_steps(2);
    let hits = &harness.state().screen::<LinkageState>().hits;
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.name.contains(&given)), "{hits:?}");

    // Every verdict, run, search and person opened is in the audit log, newest first.
    harness.get_by_label("Audit").click();
    settle(&mut harness);
    let audit = harness
        .state()
        .figures()
        .audit
        .as_ref()
        .expect("audit")
        .clone();
    let logged: Vec<(&str, &str)> = audit
        .entries
        .iter()
        .map(|e| (e.action.as_str(), e.subject.as_str()))
        .collect();
    let searched = format!(" {}. ", given.to_lowercase());
    assert_eq!(logged[0], ("search_persons", searched.trim()));
    assert_eq!(logged[1], ("open_person", hit.person_id.as_str()));
    assert_eq!(logged[2].0, "search_persons");
    assert!(
        logged
            .iter()
            .filter(|(action, _)| *action == "link")
            .count()
            >= 3
    );
    assert!(logged.iter().any(|(action, _)| *action == "link_review"));
    assert!(audit.verification.is_intact());
}

/// Clicks `label` in an open combo box's list (the same text may be in a table too).
fn pick_from_open_list(harness: &Harness<'_, ZonewiseApp>, label: &str) {
    harness
        .get(
            egui_kittest::kittest::by()
                .label(label)
                .role(egui::accesskit::Role::Button),
        )
        .click();
}

#[test]
fn audit_view_filters_the_log_and_shows_its_verification() {
    let _turn = common::app::one_at_a_time();
    let county = generated_county();
    {
        let conn = store::open(&county.db).expect("open");
        for (user, action, subject) in [
            ("amara", Action::OpenPerson, "P00042"),
            ("ben", Action::Export, "/exports/uptake"),
            ("amara", Action::SearchPersons, "smith"),
        ] {
            let entry = Entry::new(user.to_string(), action, subject);
            audit::record(&conn, &entry).expect("append");
        }
    }
    let mut harness = open_app_sized(&county, egui::vec2(1280.0, 900.0));
    harness.get_by_label("Audit").click();
    settle(&mut harness);
    assert_eq!(harness.state().view, View::Audit);
    harness.get_by_label("chain intact: 5 entries");
    harness.get_by_label("5 of 5 entries shown, newest first");
    harness.get_by_label("P00042");
    harness.get_by_label("ingest");

    type_into(&mut harness, egui::accesskit::Role::TextInput, "p0004");
    harness.get_by_label("1 of 5 entries shown, newest first");
    harness.get_by_label("P00042");
    assert!(harness.query_by_label("/exports/uptake").is_none());

    harness.get_by_label("Clear").click();
    harness.run_steps(2);
    let combo_box = |harness: &Harness<'_, ZonewiseApp>, index: usize| {
        harness
            .get_all_by_role(egui::accesskit::Role::ComboBox)
            .nth(index)
            .expect("the user and action filters")
            .click()
    };
    combo_box(&harness, 0);
    harness.run_steps(2);
    pick_from_open_list(&harness, "amara");
    harness.run_steps(2);
    assert_eq!(
        harness.state().screen::<AuditState>().user.as_deref(),
        Some("amara")
    );
    harness.get_by_label("2 of 5 entries shown, newest first");
    combo_box(&harness, 1);
    harness.run_steps(2);
    pick_from_open_list(&harness, "search_persons");
    harness.run_steps(2);
    harness.get_by_label("1 of 5 entries shown, newest first");
    harness.get_by_label("smith");
    drop(harness);

    // An entry changed behind the app's back is named in red.
    {
        let conn = duckdb::Connection::open(&county.db).expect("open to tamper");
        conn.execute_batch("UPDATE app.audit_log SET subject = 'P00043' WHERE seq = 2")
            .expect("tamper");
    }
    let mut harness = open_app_sized(&county, egui::vec2(1280.0, 900.0));
    harness.get_by_label("Audit").click();
    settle(&mut harness);
    harness.get_by_label(
        "Not intact at entry 2: entry 2 was changed after it was written: its contents do not match its hash",
    );
}

#[test]
fn map_view_shows_suppressed_uptake_and_selects_lsoas_and_deciles() {
    let _turn = common::app::one_at_a_time();
    let county = generated_county();
    let expected = linked_health_check(&county);
    // Tall enough to show the whole side panel, decile table included.
    let mut harness = open_app_sized(&county, egui::vec2(1280.0, 1400.0));
    open_map(&mut harness);
    assert_eq!(harness.state().view, View::Map);
    harness.get_by_label("Uptake against deprivation");
    harness.get_by_label("NHS Health Check uptake by IMD decile");
    let sentence = &expected
        .tables()
        .inequality
        .iter()
        .find(|i| i.measure == zonewise::uptake::Measure::Uptake)
        .expect("uptake inequality")
        .sentence;
    harness.get_by_label(sentence);
    harness.get_by_label("fewer than 5 people — withheld (or a count that would reveal one)");

    // Move the pointer over the map until it is over an LSOA: the tooltip names it,
    // and shows no count from 1 to 4.
    let mut found = None;
    'search: for y in (150..650).step_by(25) {
        for x in (200..700).step_by(25) {
            let pos = egui::pos2(x as f32, y as f32);
            harness.hover_at(pos);
            harness.run_steps(2);
            if let Some(index) = harness.state().screen::<MapState>().hovered {
                found = Some((index, pos));
                break 'search;
            }
        }
    }
    let (index, pos) = found.expect("an LSOA under the pointer somewhere on the map");
    // Tooltips wait for the pointer to rest.
    harness
        .ctx
        .all_styles_mut(|style| style.interaction.tooltip_delay = 0.0);
    harness.run_steps(3);
    let shape = harness.state().figures().map.as_ref().expect("map").shapes[index].clone();
    harness.get_by_label_contains(&format!("{} ({})", shape.name, shape.code));
    let counts = label_text(&harness, "Eligible ");
    for number in counts
        .split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
    {
        let n: u64 = number.parse().expect("number");
        assert!(n == 0 || n > 4, "a small count is shown: {counts}");
    }

    // A click selects the LSOA; picking a decile fades the others until "Show all".
    for pressed in [true, false] {
        harness.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    harness.run_steps(2);
    assert_eq!(harness.state().screen::<MapState>().selected, Some(index));
    harness.state_mut().screen_mut::<MapState>().selected_decile = Some(3);
    harness.run_steps(2);
    harness.get_by_label("Showing decile 3 on the map");
    harness.get_by_label("Show all").click();
    harness.run_steps(2);
    assert_eq!(harness.state().screen::<MapState>().selected_decile, None);
    // The decile table selects a decile too.
    harness.get_by_label("1 most deprived").click();
    harness.run_steps(2);
    assert_eq!(
        harness.state().screen::<MapState>().selected_decile,
        Some(1)
    );

    // Export (the folder a save dialog would give): four suppressed CSV files.
    let out = tempfile::tempdir().expect("temp");
    let folder = out.path().to_path_buf();
    let ctx = harness.ctx.clone();
    let published = expected.clone();
    harness.state_mut().act(&ctx, |map: &mut MapState, desk| {
        map.export_tables(desk, published, move || Some(folder))
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while harness.state().is_busy() {
        assert!(Instant::now() < deadline, "the export did not finish");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(2);
    let message = harness
        .state()
        .screen::<MapState>()
        .export_message
        .clone()
        .expect("a message");
    assert!(message.starts_with("Saved 4 files to"), "{message}");
    let files: Vec<_> = std::fs::read_dir(out.path())
        .expect("folder")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 4, "{files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).expect("csv");
        assert!(text.starts_with("# "), "{}", file.display());
        assert!(text.contains(expected.note()), "{}", file.display());
    }
    // The export is in the audit log, with the folder and what was written.
    harness.get_by_label("Audit").click();
    settle(&mut harness);
    let audit = &harness.state().figures().audit.as_ref().expect("audit");
    let newest = &audit.entries[0];
    assert_eq!(newest.action, "export");
    assert_eq!(newest.subject, out.path().display().to_string());
    assert!(
        newest
            .detail
            .starts_with("health_check uptake tables (CSV)"),
        "{}",
        newest.detail
    );

    // Back on the map, the selected LSOA leads on to its families (the drill-down).
    harness.get_by_label("Map").click();
    harness.run_steps(2);
    // The selected LSOA leads on to its families (the drill-down from the map).
    let code = harness.state().figures().map.as_ref().expect("map").shapes[index]
        .code
        .clone();
    harness.get_by_label("Families in this LSOA").click();
    harness.run_steps(2);
    assert_eq!(harness.state().view, View::Families);
    assert_eq!(
        harness
            .state()
            .screen::<FamiliesState>()
            .scope
            .lsoa
            .as_deref(),
        Some(code.as_str())
    );
}

/// The county linked, and the NHS Health Check figures as the map shows them.
fn linked_health_check(county: &County) -> zonewise::uptake::Published {
    let conn = duckdb::Connection::open(&county.db).expect("open");
    zonewise::link::link(&conn, &zonewise::link::LinkConfig::default(), "analyst").expect("link");
    let services = zonewise::uptake::service::built_in().expect("services");
    let service = zonewise::uptake::service::find(&services, "health_check").expect("service");
    let tables = zonewise::uptake::compute(&conn, service, &Default::default()).expect("uptake");
    zonewise::uptake::suppress(&tables, zonewise::uptake::DEFAULT_THRESHOLD)
}

/// Opens the Map view and steps until its geometry is prepared (on a worker, which
/// a loaded machine may take a while to finish).
fn open_map(harness: &mut Harness<'_, ZonewiseApp>) {
    harness.get_by_label("Map").click();
    harness.run_steps(3);
    common::app::wait_while(harness, "the map did not load", |h| h.state().is_busy());
    harness.run_steps(2);
}

/// The text of the first label containing `part`.
fn label_text(harness: &Harness<'_, ZonewiseApp>, part: &str) -> String {
    use egui_kittest::kittest::NodeT as _;
    let node = harness.get_by_label_contains(part);
    let node = node.accesskit_node();
    node.label()
        .or_else(|| node.value())
        .unwrap_or_else(|| panic!("no text: {node:?}"))
}

#[test]
fn map_area_table_cross_filters_custom_and_diverging_classes_and_png_export_saves_the_figure() {
    let _turn = common::app::one_at_a_time();
    let county = generated_county();
    let expected = linked_health_check(&county);
    let mut harness = open_app_sized(&county, egui::vec2(1280.0, 1700.0));
    open_map(&mut harness);
    // The map opened on the finest level whose rates are mostly published; this
    // test maps LSOAs and lists zones, as a user who chose them would.
    let map = harness.state_mut().screen_mut::<MapState>();
    map.map_level = zonewise::uptake::Level::Lsoa;
    map.area_level = zonewise::uptake::Level::Zone;
    harness.run_steps(2);
    harness.get_by_label("By area");

    // A zone picked in the table is picked out on the map and marked on the chart
    // with its own (unsuppressed) uptake.
    let zone = expected
        .tables()
        .zones
        .iter()
        .filter(|z| z.uptake.is_some())
        .min_by(|a, b| a.name.cmp(&b.name))
        .expect("a zone with an uptake rate")
        .clone();
    harness.get_by_label(&zone.name).click();
    harness.run_steps(2);
    let picked = harness
        .state()
        .screen::<MapState>()
        .selected_area
        .clone()
        .expect("picked");
    assert_eq!(
        (picked.level, picked.code.as_str()),
        (zonewise::uptake::Level::Zone, zone.code.as_str())
    );
    let rate = zone.uptake.expect("rate");
    assert_eq!(
        label_text(&harness, "Dashed line: "),
        format!(
            "Dashed line: {}, uptake {:.1}% (95% CI {:.1}% to {:.1}%)",
            zone.name,
            rate.value * 100.0,
            rate.lower * 100.0,
            rate.upper * 100.0
        )
    );
    harness.get_by_label("Zoom to it").click();
    harness.run_steps(2);
    assert_eq!(
        harness.state().screen::<MapState>().zoom_to,
        format!("zone:{}", zone.code)
    );
    harness.get_by_label("Show all").click();
    harness.run_steps(2);
    assert_eq!(harness.state().screen::<MapState>().selected_area, None);

    // An LSOA picked in the table is the map's selection; the zone that holds it
    // is then marked in the zone list.
    harness.get_by_label("LSOAs").click();
    harness.run_steps(2);
    let first = expected
        .tables()
        .lsoas
        .iter()
        .min_by(|a, b| a.name.cmp(&b.name).then_with(|| a.code.cmp(&b.code)))
        .expect("an LSOA")
        .clone();
    harness.get_by_label(&first.name).click();
    harness.run_steps(2);
    let shapes = harness
        .state()
        .figures()
        .map
        .as_ref()
        .expect("map")
        .shapes
        .clone();
    let index = harness
        .state()
        .screen::<MapState>()
        .selected
        .expect("selected");
    assert_eq!(shapes[index].code, first.code);
    if let Some(zone_name) = &shapes[index].zone_name {
        harness.get_by_label("Zones").click();
        harness.run_steps(2);
        harness.get_by_label(&format!("» {zone_name}"));
    }

    // Rates mapped by zone (a small county's LSOA rates are mostly suppressed).
    harness.get_by_label("zone").click();
    harness.run_steps(2);
    harness.get_by_label("each LSOA shows its zone's rate");

    // Custom breaks: the legend follows them; breaks that do not rise are refused.
    harness.get_by_label("Custom").click();
    harness.run_steps(2);
    type_into(&mut harness, egui::accesskit::Role::TextInput, "10, 30, 50");
    assert_eq!(
        harness.state().screen::<MapState>().custom_breaks,
        vec![0.10, 0.30, 0.50]
    );
    harness.get_by_label("under 10%");
    harness.get_by_label("50% or more");
    type_into(&mut harness, egui::accesskit::Role::TextInput, "30, 10");
    harness.get_by_label_contains("each break must be above the one before");
    assert_eq!(
        harness.state().screen::<MapState>().custom_breaks,
        vec![0.10, 0.30, 0.50]
    );

    // Diverging classes are centred on the county's rate.
    harness.get_by_label("Equal interval").click();
    harness.run_steps(2);
    harness.get_by_label("Diverging").click();
    harness.run_steps(2);
    let county_rate = expected.tables().county.uptake.expect("county rate");
    harness.get_by_label(&format!(
        "centred on the county's {:.1}%",
        county_rate.value * 100.0
    ));

    // PNG export: drawn as a figure (title, no buttons), captured, cropped and saved.
    let out = tempfile::tempdir().expect("temp");
    let path = out.path().join("map.png");
    let chosen = path.clone();
    let ctx = harness.ctx.clone();
    harness.state_mut().act(&ctx, |map: &mut MapState, desk| {
        map.export_figure(desk, move || Some(chosen))
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut title_seen = false;
    let mut captured = None;
    while harness.state().is_busy() {
        assert!(Instant::now() < deadline, "the PNG export did not finish");
        harness.step();
        if harness.state().screen::<MapState>().is_figure() {
            title_seen |= harness
                .query_by_label("NHS Health Check: uptake by zone and by IMD 2019 decile")
                .is_some();
            assert!(harness.query_by_label("Export tables (CSV)…").is_none());
        }
        if complete_captures(&harness, egui::Color32::from_rgb(9, 99, 199)) {
            captured = Some(());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(title_seen, "the figure had no title");
    assert!(captured.is_some(), "no capture was asked for");
    harness.run_steps(2);
    let message = harness
        .state()
        .screen::<MapState>()
        .export_message
        .clone()
        .expect("message");
    assert_eq!(
        message,
        format!("Saved the map and chart to {}", path.display())
    );
    let saved = image::open(&path).expect("a PNG").to_rgba8();
    // Cropped to the figure: the view's width (not the navigation), less than the window's height.
    assert!(
        saved.width() > 600 && saved.width() < 1280,
        "{}",
        saved.width()
    );
    assert!(
        saved.height() > 400 && saved.height() < 1700,
        "{}",
        saved.height()
    );
    assert_eq!(saved.get_pixel(5, 5).0, [9, 99, 199, 255]);
    // Back to the ordinary view.
    harness.get_by_label("Export tables (CSV)…");

    // A file that cannot be written is reported, and the view comes back.
    let unwritable = out.path().join("no such folder").join("map.png");
    let chosen = unwritable.clone();
    harness.state_mut().act(&ctx, |map: &mut MapState, desk| {
        map.export_figure(desk, move || Some(chosen))
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while harness.state().is_busy() {
        assert!(
            Instant::now() < deadline,
            "the failing export did not finish"
        );
        harness.step();
        complete_captures(&harness, egui::Color32::WHITE);
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.run_steps(2);
    let message = harness
        .state()
        .screen::<MapState>()
        .export_message
        .clone()
        .expect("message");
    assert!(
        message.starts_with(&format!(
            "Export failed: cannot save {}",
            unwritable.display()
        )),
        "{message}"
    );
    assert!(!unwritable.exists());
    harness.get_by_label(&message);
    harness.get_by_label("Export tables (CSV)…");

    // The saved figure is in the audit log; the one that failed is not.
    harness.get_by_label("Audit").click();
    settle(&mut harness);
    let audit = &harness.state().figures().audit.as_ref().expect("audit");
    let exports: Vec<_> = audit
        .entries
        .iter()
        .filter(|e| e.action == "export")
        .collect();
    assert_eq!(exports.len(), 1, "{exports:?}");
    assert_eq!(exports[0].subject, path.display().to_string());
    assert_eq!(
        exports[0].detail,
        "map and decile chart (PNG): NHS Health Check: uptake by zone and by IMD 2019 decile"
    );
}

/// The title bar's database menu opens a recent council database in the same
/// window, with nothing of the first one kept; the window remembers both files,
/// the view and the map's choices for next time, and a screenshot ignores them.
#[test]
fn the_database_menu_opens_a_recent_county_and_the_window_remembers_it() {
    use zonewise::ui::settings::{MapChoices, Settings};
    use zonewise::uptake::Level;
    let _turn = common::app::one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let [first, second] = ["first", "second"].map(|name| {
        let folder = dir.path().join(name);
        std::fs::create_dir_all(&folder).expect("folder");
        common::app::assessed_county(&folder, 300, 21)
    });
    // The second county has users: whoever opens it signs in (the first's
    // local analyst does not carry over).
    let analyst = zonewise::access::NewUser {
        user: "ana".to_string(),
        display_name: "Ana".to_string(),
        role: zonewise::access::Role::Analyst,
        zones: vec![],
    };
    let conn = zonewise::store::open(&second).expect("open");
    zonewise::access::add_user(&conn, &analyst, "correct horse battery", "test").expect("user");
    drop(conn);
    let mut map = MapState::default();
    map.map_level = Level::Zone;
    let kept = Settings {
        recent: vec![second.clone()],
        view: Some(View::Models),
        map: Some(MapChoices::of(&map)),
    };

    let mut screenshot = ZonewiseApp::new(DatabaseChoice::File(first.clone()))
        .with_last_view_restored()
        .with_screenshot(View::Overview, dir.path().join("shot.png"));
    screenshot.restore(kept.clone());
    assert_eq!(
        screenshot.view,
        View::Overview,
        "a screenshot shows what it was asked"
    );
    assert_eq!(
        screenshot.settings().recent,
        Vec::<std::path::PathBuf>::new()
    );

    let mut app = ZonewiseApp::new(DatabaseChoice::File(first.clone())).with_last_view_restored();
    app.restore(kept);
    assert_eq!(app.view, View::Models, "the last view is shown again");
    assert_eq!(app.screen::<MapState>().map_level, Level::Zone);
    let mut harness = common::app::harness(app, 1280.0, 800.0);
    common::app::wait_for_figures(&mut harness);
    assert_eq!(
        harness.state().settings().recent,
        [first.clone(), second.clone()],
        "the database opened is remembered first"
    );
    let models_of_first = harness.state().figures().models.is_some();
    assert!(models_of_first);

    assert!(
        harness
            .query_by_label_contains("first/county.duckdb")
            .is_some()
    );
    common::app::click_button(&harness, "Open…");
    harness.run_steps(2);
    harness
        .get_by_label_contains("second/county.duckdb")
        .click();
    harness.run_steps(1);
    assert!(
        harness.state().figures().overview.is_none() && harness.state().session().is_none(),
        "nothing read from the first database, nor its session, is kept"
    );
    common::app::wait_for_sign_in_form(&mut harness);
    common::app::sign_in(&mut harness, "ana", "correct horse battery");
    common::app::wait_for_figures(&mut harness);
    let settings = harness.state().settings();
    assert_eq!(settings.recent, [second.clone(), first.clone()]);
    assert_eq!(settings.view, Some(View::Models));
    assert!(
        harness
            .query_by_label_contains("second/county.duckdb")
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("first/county.duckdb")
            .is_none()
    );
}

/// Tertile cut points of `values` as a reader would work them out by hand: the
/// values a third and two thirds of the way up the sorted list (checked to be
/// distinct and above the lowest, so that no class is empty or tied).
fn hand_tertiles(mut values: Vec<f64>) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let (middle, top) = (values[n / 3], values[2 * n / 3]);
    assert!(
        values[0] < middle && middle < top,
        "ties at the cut points: {values:?}"
    );
    (middle, top)
}

/// Need beside provision: the map coloured by people eligible against uptake,
/// each in thirds of the published figures of the mapped areas. The legend's
/// cut points and an area's class match a hand calculation from the published
/// tables; an area whose rate is withheld has no class.
#[test]
fn map_need_view_classes_areas_by_thirds_of_the_published_eligible_and_rate() {
    use zonewise::uptake::{Level, UptakeRow};
    let _turn = common::app::one_at_a_time();
    let county = generated_county();
    let expected = linked_health_check(&county);
    let mut harness = open_app_sized(&county, egui::vec2(1280.0, 1700.0));
    open_map(&mut harness);
    let map = harness.state_mut().screen_mut::<MapState>();
    map.map_level = Level::Zone;
    map.area_level = Level::Zone;
    harness.run_steps(2);
    harness.get_by_label("Need beside rate").click();
    harness.run_steps(2);
    assert!(harness.state().screen::<MapState>().need_view);

    // The 3×3 legend's axes, and withheld areas keep their own entry.
    harness.get_by_label("more eligible");
    harness.get_by_label("higher uptake");
    harness.get_by_label_contains("fewer than 5 people — withheld");
    harness.get_by_label("Need beside uptake");

    // The cut points, by hand from the zones whose eligible count and uptake are both published.
    let published = |rows: &[UptakeRow]| -> Vec<(String, f64, f64)> {
        rows.iter()
            .filter_map(|r| Some((r.code.clone(), r.eligible? as f64, r.uptake?.value)))
            .collect()
    };
    let zones = published(&expected.tables().zones);
    let (need_middle, need_top) = hand_tertiles(zones.iter().map(|z| z.1).collect());
    let (rate_middle, rate_top) = hand_tertiles(zones.iter().map(|z| z.2).collect());
    harness.get_by_label(&format!(
        "thirds of the {} zones with both published",
        zones.len()
    ));
    harness.get_by_label(&format!(
        "eligible: middle from {need_middle:.0}, top from {need_top:.0}"
    ));
    harness.get_by_label(&format!(
        "uptake: middle from {:.1}%, top from {:.1}%",
        rate_middle * 100.0,
        rate_top * 100.0
    ));

    // One area's class: the zone with the most people eligible, as the
    // selected LSOA in it says.
    let third = |v: f64, middle: f64, top: f64| (v >= middle) as usize + (v >= top) as usize;
    let (code, eligible, rate) = zones
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .expect("a zone")
        .clone();
    let words = format!(
        "{}, {} uptake",
        ["few eligible", "middling eligible", "many eligible"]
            [third(eligible, need_middle, need_top)],
        ["low", "middling", "high"][third(rate, rate_middle, rate_top)]
    );
    let zone = expected
        .tables()
        .zones
        .iter()
        .find(|z| z.code == code)
        .expect("zone");
    let shapes = &harness.state().figures().map.as_ref().expect("map").shapes;
    let index = shapes
        .iter()
        .position(|s| s.zone_id.as_deref() == Some(code.as_str()))
        .expect("an LSOA in the zone");
    harness.state_mut().screen_mut::<MapState>().selected = Some(index);
    harness.run_steps(2);
    assert_eq!(
        label_text(&harness, "Need beside uptake: "),
        format!("Need beside uptake: {words} (zone {})", zone.name)
    );

    // Mapped by LSOA, where many rates are withheld: a withheld LSOA has no
    // class, and the cut points count only the LSOAs with both published.
    let map = harness.state_mut().screen_mut::<MapState>();
    map.map_level = Level::Lsoa;
    map.area_level = Level::Lsoa;
    let withheld = expected
        .tables()
        .lsoas
        .iter()
        .find(|l| l.uptake.is_none() && l.withheld.any())
        .expect("a withheld LSOA");
    let shapes = &harness.state().figures().map.as_ref().expect("map").shapes;
    let index = shapes
        .iter()
        .position(|s| s.code == withheld.code)
        .expect("its shape");
    harness.state_mut().screen_mut::<MapState>().selected = Some(index);
    harness.run_steps(2);
    assert_eq!(
        label_text(&harness, "Need beside uptake: "),
        "Need beside uptake: withheld"
    );
    harness.get_by_label(&format!(
        "thirds of the {} LSOAs with both published",
        published(&expected.tables().lsoas).len()
    ));

    // Need as an IMD domain, by zone: health deprivation, each zone's need the
    // mean of its LSOAs' health deciles as the IMD file gives them (read here
    // from the file), beside every zone whose uptake is published.
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data-samples/ref/imd2019_lsoa11.csv");
    let mut reader = csv::Reader::from_path(&file).expect("IMD file");
    let headers = reader.headers().expect("headers").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (code_at, health_at) = (column("lsoa11cd"), column("health_decile"));
    let health: std::collections::HashMap<String, f64> = reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            (
                r[code_at].to_string(),
                r[health_at].parse().expect("decile"),
            )
        })
        .collect();
    let map = harness.state_mut().screen_mut::<MapState>();
    map.map_level = Level::Zone;
    map.area_level = Level::Zone;
    map.need_source = NeedSource::Domain(ImdDomain::Health);
    harness.run_steps(2);
    harness.get_by_label("more deprived in health");
    let shapes = &harness.state().figures().map.as_ref().expect("map").shapes;
    let zones: Vec<(String, String, f64, f64)> = expected
        .tables()
        .zones
        .iter()
        .filter_map(|z| {
            let deciles: Vec<f64> = shapes
                .iter()
                .filter(|s| s.zone_id.as_deref() == Some(z.code.as_str()))
                .map(|s| health[&s.code])
                .collect();
            let mean = deciles.iter().sum::<f64>() / deciles.len() as f64;
            Some((z.code.clone(), z.name.clone(), 11.0 - mean, z.uptake?.value))
        })
        .collect();
    let (need_middle, need_top) = hand_tertiles(zones.iter().map(|z| z.2).collect());
    harness.get_by_label(&format!(
        "thirds of the {} zones with both published",
        zones.len()
    ));
    harness.get_by_label(&format!(
        "health (IMD 2019 domain, 1 = most deprived): middle from mean decile {:.1}, top from \
         mean decile {:.1}",
        11.0 - need_middle,
        11.0 - need_top
    ));
    let (code, name, need, rate) = zones
        .iter()
        .max_by(|a, b| a.2.total_cmp(&b.2).then_with(|| b.0.cmp(&a.0)))
        .expect("a zone")
        .clone();
    let (rate_middle, rate_top) = hand_tertiles(zones.iter().map(|z| z.3).collect());
    let words = format!(
        "{} in health, {} uptake",
        ["less deprived", "middling deprivation", "more deprived"]
            [third(need, need_middle, need_top)],
        ["low", "middling", "high"][third(rate, rate_middle, rate_top)]
    );
    let index = shapes
        .iter()
        .position(|s| s.zone_id.as_deref() == Some(code.as_str()))
        .expect("an LSOA in the zone");
    harness.state_mut().screen_mut::<MapState>().selected = Some(index);
    harness.run_steps(2);
    assert_eq!(
        label_text(&harness, "Need beside uptake: "),
        format!("Need beside uptake: {words} (zone {name})")
    );
}
