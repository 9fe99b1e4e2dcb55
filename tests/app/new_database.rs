//! "New database…" driven headless: a generated county's extracts (one as an
//! Excel workbook) are added to the wizard, their column roles guessed, one
//! corrected in its drop-down, checked, the council's authorities ticked, a
//! failed Create that leaves nothing behind, then a Create that builds a
//! linked, scored database and opens it in the window. The saved manifest
//! round-trips through `Manifest::load`, `zonewise ingest` accepts it, and the
//! database's counts equal the same pipeline run on that manifest and the
//! extract files' own row counts.

use std::path::{Path, PathBuf};

use crate::common;

use common::app::{click_button, harness, screen_text, wait_while};
use egui_kittest::Harness;
use egui_kittest::kittest::{Queryable, by};
use zonewise::ingest::guess::role_label;
use zonewise::ingest::manifest::{FieldRole, FileFormat, Manifest};
use zonewise::ui::new_database::ColumnUse;
use zonewise::ui::{DatabaseChoice, ZonewiseApp};

/// Steps until the wizard's work is done.
fn settle(harness: &mut Harness<'_, ZonewiseApp>) {
    harness.run_steps(2);
    wait_while(harness, "the wizard's work did not finish", |h| {
        h.state().is_busy()
    });
    harness.run_steps(2);
}

/// The rows of the counts every stage leaves, for comparing two databases.
fn counts(db: &Path) -> Vec<(String, i64)> {
    let conn = zonewise::store::open(db).expect("open");
    [
        "staging.education",
        "staging.social_care",
        "staging.police",
        "staging.health",
        "staging.housing",
        "staging.benefits",
        "staging.public_health",
        "core.person",
        "core.family",
        "core.event",
        "mart.family_criterion",
        "mart.risk_score",
        "ref.lsoa",
        "ref.lsoa_vertex",
        "ref.postcode",
    ]
    .iter()
    .map(|table| {
        let n = zonewise::store::scalar_i64(&conn, &format!("SELECT count(*) FROM {table}"))
            .expect("count");
        (table.to_string(), n)
    })
    .collect()
}

#[test]
fn a_council_database_is_made_in_the_window_from_its_extracts() {
    let _turn = common::app::one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let synth_manifest = common::synth_county(dir.path(), "received", 40, 20);
    let synth = Manifest::load(&synth_manifest).expect("synth manifest");
    // The education extract arrives as a workbook, on a sheet named "Pupils".
    let education = &synth.sources[0];
    assert_eq!(education.name, "education");
    let xlsx = dir.path().join("received/extracts/education.xlsx");
    common::workbook::write_workbook(education, &synth.resolve(&education.file), &xlsx, "Pupils");
    let files: Vec<PathBuf> = synth
        .sources
        .iter()
        .map(|s| {
            if s.name == "education" {
                xlsx.clone()
            } else {
                synth.resolve(&s.file)
            }
        })
        .collect();

    // The window starts on an empty database without users.
    let start = dir.path().join("start.duckdb");
    drop(zonewise::store::open(&start).expect("start database"));
    let mut harness = harness(
        ZonewiseApp::new(DatabaseChoice::File(start)),
        1400.0,
        1000.0,
    );
    settle(&mut harness);
    harness.get_by_label("Open…").click();
    harness.run_steps(2);
    harness.get_by_label("New database…").click();
    settle(&mut harness);
    assert!(
        harness.state_mut().new_database().is_some(),
        "the wizard is open"
    );

    // Step 1: where to keep it (what the save dialog fills in) and a name.
    let db = dir.path().join("council/new-council.duckdb");
    std::fs::create_dir_all(db.parent().expect("folder")).expect("folder");
    {
        let wizard = harness.state_mut().new_database().expect("wizard");
        wizard.db_path = db.display().to_string();
        wizard.county = "Test council".to_string();
    }
    // Step 2: the authorities, ticked in the list of England's.
    harness.get_by_label("2. Your authorities").click();
    settle(&mut harness);
    let authorities = harness
        .state_mut()
        .new_database()
        .expect("wizard")
        .authorities()
        .expect("read")
        .len();
    assert_eq!(
        authorities, 317,
        "every English authority of 2019 is offered"
    );
    for (find, label) in [
        (
            "bournemouth",
            "Bournemouth, Christchurch and Poole (E06000058, 233 neighbourhoods)",
        ),
        ("E06000059", "Dorset (E06000059, 219 neighbourhoods)"),
        ("northumb", "Northumberland (E06000057, 197 neighbourhoods)"),
    ] {
        // Found by the first field on the step, "Find".
        common::app::type_into(&mut harness, egui::accesskit::Role::TextInput, find);
        harness.get_by_label(label).click();
        harness.run_steps(1);
    }
    {
        let wizard = harness.state_mut().new_database().expect("wizard");
        let chosen: Vec<&str> = wizard.chosen.iter().map(String::as_str).collect();
        assert_eq!(chosen, ["E06000057", "E06000058", "E06000059"]);
        wizard.postcodes = synth
            .resolve(
                &synth
                    .reference
                    .as_ref()
                    .expect("reference")
                    .postcodes
                    .clone()
                    .expect("postcodes"),
            )
            .display()
            .to_string();
    }

    // Step 3: each extract, as the file dialog hands them over.
    harness
        .get_by_label("3. Extracts and their columns")
        .click();
    harness.run_steps(1);
    for file in &files {
        let ctx = harness.ctx.clone();
        harness
            .state_mut()
            .new_database()
            .expect("wizard")
            .add_extract(file.clone(), &ctx);
        settle(&mut harness);
    }
    {
        let wizard = harness.state_mut().new_database().expect("wizard");
        assert_eq!(wizard.extracts.len(), synth.sources.len());
        for (draft, source) in wizard.extracts.iter_mut().zip(&synth.sources) {
            assert_eq!(draft.name, source.name, "named after the file");
            assert_eq!(draft.delimiter, source.delimiter, "{}", source.name);
            assert_eq!(draft.date_format, source.date_format, "{}", source.name);
            // The guessed roles are the synthetic county's own, but for the
            // police incident reference, which reads as a row ID (several
            // people share an incident, which the quality summary shows).
            let mut guessed = draft.spec().columns;
            if source.name == "police" {
                assert_eq!(
                    guessed.remove(&FieldRole::RowId).as_deref(),
                    Some("INCIDENT_REF")
                );
            }
            assert_eq!(guessed, source.columns, "{}", source.name);
            // The agency is guessed from the file's name; the system's name
            // is the analyst's to type.
            assert_eq!(draft.agency, source.agency, "{}", source.name);
            draft.system = source.system.clone();
        }
        assert_eq!(wizard.extracts[0].format, FileFormat::Excel);
        assert_eq!(wizard.extracts[0].sheet.as_deref(), Some("Pupils"));
        wizard.current = 2;
    }
    // The police extract on screen: the incident reference's role is changed
    // in its drop-down to kept text, as the sample county keeps it.
    harness.run_steps(2);
    let row_id = role_label(FieldRole::RowId);
    harness
        .query_all(by().predicate(|node| {
            node.value().as_deref() == Some(row_id.as_str())
                || node.label().as_deref() == Some(row_id.as_str())
        }))
        .next()
        .expect("the incident reference's drop-down")
        .click();
    harness.run_steps(2);
    harness.get_by_label("Keep as text").click();
    harness.run_steps(2);
    {
        let wizard = harness.state_mut().new_database().expect("wizard");
        let police = &wizard.extracts[2];
        let at = police
            .sample
            .headers
            .iter()
            .position(|h| h == "INCIDENT_REF")
            .expect("column");
        assert_eq!(police.uses[at], ColumnUse::Keep);
        // ROLE is left unused by the guess; the sample county keeps it too.
        let role = police
            .sample
            .headers
            .iter()
            .position(|h| h == "ROLE")
            .expect("ROLE");
        assert_eq!(wizard.extracts[2].uses[role], ColumnUse::NotUsed);
        wizard.extracts[2].uses[role] = ColumnUse::Keep;
        let urn = wizard.extracts[0]
            .sample
            .headers
            .iter()
            .position(|h| h == "school_urn")
            .expect("urn");
        wizard.extracts[0].uses[urn] = ColumnUse::Keep;
        let benefit = wizard.extracts[5]
            .sample
            .headers
            .iter()
            .position(|h| h == "benefit")
            .expect("benefit");
        wizard.extracts[5].uses[benefit] = ColumnUse::Keep;
    }

    // Check the police rows: a preview as loaded and the whole file's quality.
    click_button(&harness, "Check these rows");
    settle(&mut harness);
    let police_rows = common::Table::read(&files[2], '|').rows.len() as i64;
    {
        let wizard = harness.state_mut().new_database().expect("wizard");
        let (preview, quality) = wizard.extracts[2]
            .check
            .clone()
            .expect("checked")
            .expect("readable");
        assert_eq!(preview.rows.len(), 8);
        assert!(preview.columns.contains(&"incident_ref".to_string()));
        assert_eq!(preview.columns[0], "record_id");
        assert_eq!(quality.total_rows, police_rows);
    }
    let text = screen_text(&harness);
    assert!(
        text.contains("The first rows, as they will be loaded"),
        "{text}"
    );
    assert!(text.contains(&format!("{police_rows} rows")), "{text}");

    // Step 4: a bad date in the housing file stops Create, naming file, line
    // and column, and nothing is left that looks like a database.
    let housing = files[4].clone();
    let original = std::fs::read(&housing).expect("housing");
    let mut broken = String::from_utf8(original.clone()).expect("utf-8");
    broken.push_str("T9999999,TEN9,Ann,Bad,31/02/1990,,,BH17 1EU,tenancy_start,01/01/2024,\n");
    let bad_line = broken.lines().count();
    std::fs::write(&housing, broken).expect("break housing");
    harness.get_by_label("4. Create").click();
    harness.run_steps(1);
    click_button(&harness, "Create the database");
    settle(&mut harness);
    let error = harness
        .state_mut()
        .new_database()
        .expect("the wizard stays open")
        .error
        .clone()
        .expect("an error");
    assert!(error.contains(&housing.display().to_string()), "{error}");
    assert!(error.contains(&format!("line {bad_line}")), "{error}");
    assert!(error.contains("'dob'"), "{error}");
    assert!(error.contains("Nothing was created"), "{error}");
    assert!(!db.exists(), "no database after a failed Create");
    assert!(!db.with_extension("building.duckdb").exists());

    // Fixed, Create builds the database and the window opens it.
    std::fs::write(&housing, original).expect("fix housing");
    click_button(&harness, "Create the database");
    wait_while(&mut harness, "the new database was not opened", |h| {
        h.state().database_path() != db || !h.state().is_ready() || h.state().is_busy()
    });
    harness.run_steps(3);
    let text = screen_text(&harness);
    assert!(
        text.contains("Test council"),
        "the title bar names the new county: {text}"
    );
    drop(harness);

    // The manifest beside it round-trips and repeats the same load.
    let manifest_path = db.with_extension("manifest.toml");
    let saved = Manifest::load(&manifest_path).expect("the saved manifest loads");
    assert_eq!(saved.county, "Test council");
    assert_eq!(saved.sources.len(), 7);
    assert_eq!(saved.sources[0].format, FileFormat::Excel);
    assert_eq!(saved.sources[2].keep, ["INCIDENT_REF", "ROLE"]);
    let again = Manifest::parse(
        &saved.to_toml().expect("toml"),
        &manifest_path,
        saved.base_dir.clone(),
    )
    .expect("parses again");
    assert_eq!(again, saved);
    let cli_db = dir.path().join("cli.duckdb");
    let run = common::cli::zonewise(
        &[
            "ingest",
            "--db",
            &cli_db.display().to_string(),
            "--manifest",
            &manifest_path.display().to_string(),
        ],
        &[],
        "",
    );
    assert!(
        run.success,
        "zonewise ingest takes the manifest: {}",
        run.output()
    );

    // The same pipeline on the saved manifest gives the same database.
    let twin = dir.path().join("twin.duckdb");
    {
        let conn = zonewise::store::open(&twin).expect("twin");
        let model = zonewise::risk::model::file::RiskModelFile::load(
            &zonewise::sample::sample_risk_model_path(),
        )
        .expect("model");
        zonewise::pipeline::Pipeline::new(&conn, "analyst", &mut |_| {})
            .run(&zonewise::pipeline::Plan {
                manifest: &saved,
                link: &zonewise::link::LinkConfig::default(),
                criteria: true,
                model: Some(&model),
            })
            .expect("pipeline");
    }
    let made = counts(&db);
    assert_eq!(made, counts(&twin));
    // Independently: every extract's rows are staged, and the three
    // authorities' LSOAs are the reference.
    for (file, source) in files.iter().zip(&synth.sources) {
        let rows = if source.name == "education" {
            common::Table::read(&synth.resolve(&source.file), ',')
                .rows
                .len()
        } else {
            common::Table::read(file, source.delimiter).rows.len()
        };
        let staged = made
            .iter()
            .find(|(table, _)| *table == format!("staging.{}", source.name))
            .expect("staged")
            .1;
        assert_eq!(staged, rows as i64, "{}", source.name);
    }
    let get = |name: &str| made.iter().find(|(t, _)| t == name).expect(name).1;
    assert_eq!(get("ref.lsoa"), 649);
    assert!(get("ref.lsoa_vertex") > 0, "the map has boundaries");
    assert!(
        get("core.person") > 0 && get("mart.risk_score") > 0,
        "{made:?}"
    );
    // The load is in the new database's audit log, by the local analyst.
    let conn = zonewise::store::open(&db).expect("open");
    let ingests = zonewise::store::scalar_i64(
        &conn,
        "SELECT count(*) FROM app.audit_log WHERE action = 'ingest'",
    )
    .expect("audit");
    assert_eq!(ingests, 1);
    assert!(
        !zonewise::access::requires_sign_in(&conn).expect("users"),
        "a new database has no users yet: its first is added as for any database"
    );
}
