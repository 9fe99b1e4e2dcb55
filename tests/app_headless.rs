//! The app builds headless on a generated county, shows Overview figures equal
//! to independent SQL counts over the staged extracts, and navigates.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use zonewise::commands::thousands;
use zonewise::ingest::{self, Manifest};
use zonewise::store;
use zonewise::synth::{self, SynthConfig};
use zonewise::ui::{DatabaseChoice, View, ZonewiseApp};

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
    let app = ZonewiseApp::new(DatabaseChoice::File(county.db.clone()));
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
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
        if !app.is_busy() && (app.snapshot().is_some() || app.open_error().is_some()) {
            break;
        }
        assert!(Instant::now() < deadline, "the app did not finish loading");
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(3);
}

#[test]
fn overview_numbers_equal_sql_counts() {
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

    let figures = &harness.state().snapshot().expect("snapshot").overview;
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
fn navigation_reaches_data_and_planned_views() {
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

    harness.get_by_label("Map").click();
    harness.run_steps(2);
    assert_eq!(harness.state().view, View::Map);
    harness.get_by_label_contains("planned");
}

/// Types a manifest path into the Data view's field and presses Load, as a user would.
fn load_through_path_field(harness: &mut Harness<'_, ZonewiseApp>, manifest: &std::path::Path) {
    harness.run_steps(2);
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .focus();
    harness.run_steps(1);
    // Select whatever an earlier load left in the field, so typing replaces it.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run_steps(1);
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .type_text(&manifest.display().to_string());
    harness.run_steps(2);
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
    let before = harness.state().snapshot().expect("snapshot").overview.rows;
    load_through_path_field(&mut harness, &broken);
    match harness.state().import_message() {
        Some(zonewise::ui::app::ImportMessage::Failed(message)) => {
            assert!(message.contains("missing.csv"), "{message}");
            assert!(message.contains("unchanged"), "{message}");
        }
        other => panic!("expected a failure message, got {other:?}"),
    }
    harness.get_by_label_contains("missing.csv");
    assert_eq!(
        harness.state().snapshot().expect("snapshot").overview.rows,
        before
    );

    // The real manifest loads again and the figures are refreshed.
    load_through_path_field(&mut harness, &county.manifest);
    assert!(matches!(
        harness.state().import_message(),
        Some(zonewise::ui::app::ImportMessage::Loaded(_))
    ));
    let runs = harness
        .state()
        .snapshot()
        .expect("snapshot")
        .overview
        .loaded_at
        .clone();
    assert!(runs.is_some());
}

#[test]
fn linkage_view_shows_the_latest_run() {
    let county = generated_county();
    let persons = {
        let conn = duckdb::Connection::open(&county.db).expect("open");
        zonewise::link::link(&conn, &zonewise::link::LinkConfig::default())
            .expect("link")
            .persons
    };
    let mut harness = open_app(&county);
    let figures = &harness.state().snapshot().expect("snapshot").overview;
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
    harness.get_by_label("Who knows whom");
}
