//! A commissioner sees aggregates only: no name and no person-level row through any
//! view, any export those views offer, or any command. Each is listed here and tried
//! as a commissioner on a linked county whose audit log names people too. A view,
//! export button or command added later fails the completeness checks until it is
//! listed and tried here as well.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::ValueEnum as _;
use common::app::{
    complete_captures, harness, screen_text, sign_in, wait_for_sign_in_form, wait_while,
};
use common::cli::Run;
use egui_kittest::kittest::{NodeT as _, Queryable, by};
use zonewise::access::cli::PASSWORD_VARIABLE;
use zonewise::commands::CommandName;

/// Every command the binary has, by its name, with what it needs: `None` for the
/// commands that open no database.
fn command_names() -> Vec<(&'static str, Option<zonewise::access::Capability>)> {
    CommandName::value_variants()
        .iter()
        .map(|name| (name.as_str(), name.needs()))
        .collect()
}

/// True when the commissioner's role is granted what `command` needs.
fn commissioner_may_run(command: &str) -> bool {
    command_names()
        .into_iter()
        .any(|(name, needs)| name == command && needs.is_some_and(|c| Role::Commissioner.may(c)))
}
use zonewise::access::{self, NewUser, Purpose, Role, Session};
use zonewise::audit::{self, Action, Filter};
use zonewise::risk::rounds::RoundSpan;
use zonewise::ui::map_view::MapState;
use zonewise::ui::{DatabaseChoice, View, ZonewiseApp};
use zonewise::uptake::{DEFAULT_THRESHOLD, period};

const PASSWORD: &str = "correct horse battery";

/// Every export the commissioner's views offer, by its button's label.
const EXPORTS: [&str; 2] = ["Export tables (CSV)…", "Export map and chart (PNG)…"];

struct County {
    dir: tempfile::TempDir,
    db: PathBuf,
    /// "given family" of every person, lower case.
    names: BTreeSet<String>,
    /// Every person and family id, lower case.
    ids: BTreeSet<String>,
}

impl County {
    /// The names and ids in `text`: empty when it is fit for a commissioner.
    fn leaks(&self, text: &str) -> Vec<String> {
        let text = text.to_lowercase();
        self.names
            .iter()
            .chain(&self.ids)
            .filter(|found| text.contains(found.as_str()))
            .cloned()
            .collect()
    }

    fn conn(&self) -> duckdb::Connection {
        zonewise::store::open(&self.db).expect("open")
    }
}

/// A linked county with both rounds' criteria, an analyst `ana` and a commissioner
/// `cal`, and an audit log in which the analyst opened a person and searched a name.
fn county() -> County {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::linked_county(dir.path(), 250, 33);
    let conn = zonewise::store::open(&db).expect("open");
    zonewise::risk::rounds::prepare_rounds(&conn, RoundSpan::Latest(2), &mut |_, _| {})
        .expect("rounds");
    let zone: String = conn
        .query_row("SELECT min(zone_id) FROM ref.zone", [], |row| row.get(0))
        .expect("a zone");
    for (user, role) in [
        ("ana", Role::Analyst),
        ("cal", Role::Commissioner),
        ("zed", Role::ZoneManager),
    ] {
        let new = NewUser {
            user: user.to_string(),
            display_name: user.to_string(),
            role,
            zones: if role == Role::ZoneManager {
                vec![zone.clone()]
            } else {
                Vec::new()
            },
        };
        access::add_user(&conn, &new, PASSWORD, "test").expect("user");
    }
    let people: Vec<(String, String, String, String)> = conn
        .prepare(
            "SELECT person_id, family_id, coalesce(given_name, ''), coalesce(family_name, '')
             FROM core.person ORDER BY person_id",
        )
        .expect("prepare")
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("people");
    let names: BTreeSet<String> = people
        .iter()
        .filter(|(_, _, given, family)| !given.is_empty() && !family.is_empty())
        .map(|(_, _, given, family)| format!("{given} {family}").to_lowercase())
        .collect();
    let ids: BTreeSet<String> = people
        .iter()
        .flat_map(|(person, family, _, _)| [person.to_lowercase(), family.to_lowercase()])
        .collect();
    let analyst = Session {
        user: "ana".to_string(),
        role: Role::Analyst,
        zones: Vec::new(),
    };
    let (person, _, given, family) = &people[0];
    for (action, subject) in [
        (Action::OpenPerson, person.clone()),
        (Action::SearchPersons, format!("{given} {family}")),
    ] {
        let purpose = Purpose {
            action,
            subject,
            reason: Some(format!("asked about {given} {family}")),
        };
        access::person_query(&conn, &analyst, &purpose, |_, _| Ok(())).expect("read");
    }
    County {
        dir,
        db,
        names,
        ids,
    }
}

#[test]
fn a_commissioner_sees_no_person_in_any_view_or_export() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let app = ZonewiseApp::new(DatabaseChoice::File(county.db.clone()));
    let mut harness = harness(app, 1280.0, 1700.0);
    wait_for_sign_in_form(&mut harness);
    sign_in(&mut harness, "cal", PASSWORD);
    assert_eq!(
        harness.state().session().map(|s| s.role),
        Some(Role::Commissioner)
    );

    // What the app holds in memory for the session, not only what it draws.
    // A part of a view the role may not open is not read at all.
    let figures = harness.state().figures();
    assert!(figures.families.is_none(), "families were read");
    assert!(figures.linkage.is_none(), "record pairs were read");
    assert!(figures.audit.is_none(), "the audit log was read");
    assert!(figures.quality.is_none(), "source quality was read");
    assert!(figures.users.is_none(), "the users were read");
    let map = figures.map.as_ref().expect("map");
    assert!(!map.services.is_empty(), "uptake is there to map");

    // Every view, reachable or forced, and the map with an LSOA picked.
    let mut offered = BTreeSet::new();
    for view in View::ALL {
        harness.state_mut().view = view;
        harness.run_steps(3);
        let leaks = county.leaks(&screen_text(&harness));
        assert!(leaks.is_empty(), "{view:?} shows {leaks:?}");
        offered.extend(
            harness
                .query_all(by().role(egui::accesskit::Role::Button))
                .filter_map(|node| node.accesskit_node().label())
                .filter(|label| label.starts_with("Export")),
        );
    }
    harness.state_mut().view = View::Map;
    harness.state_mut().screen_mut::<MapState>().selected = Some(0);
    harness.run_steps(3);
    assert!(harness.query_by_label("Families in this LSOA").is_none());
    assert!(county.leaks(&screen_text(&harness)).is_empty());
    assert_eq!(
        offered,
        EXPORTS.iter().map(|e| e.to_string()).collect(),
        "an export was added or removed: list and try it here"
    );

    // The map works out the trend on the job queue; let it finish, so that the
    // status bar shows the export's job below.
    wait_while(&mut harness, "the trend was not worked out", |harness| {
        harness.state().is_busy()
    });
    // The CSV export, into the folder a dialog would give.
    let folder = county.dir.path().join("csv");
    let chosen = folder.clone();
    let published = harness
        .state()
        .figures()
        .map
        .as_ref()
        .expect("map")
        .services[0]
        .published
        .clone();
    assert_eq!(published.threshold(), DEFAULT_THRESHOLD);
    let ctx = harness.ctx.clone();
    // While the audit log cannot take the entry (held here, as a load holds it),
    // the files are written under temporary names and none has its own: a crash
    // now leaves no export without its entry.
    let held = audit::lock_for_append();
    harness.state_mut().act(&ctx, |map: &mut MapState, desk| {
        map.export_tables(desk, published, move || Some(chosen))
    });
    let names = |folder: &Path| -> Vec<String> {
        std::fs::read_dir(folder)
            .expect("exported")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    };
    // The export waits for the entry on its worker, its files staged.
    wait_while(&mut harness, "the CSV files were not staged", |_| {
        std::fs::read_dir(&folder).map_or(true, |files| files.count() < 4)
    });
    harness.run_steps(3);
    assert!(
        harness.state().is_busy(),
        "the export waits for the audit log"
    );
    // The Map view's jobs are the shell's: the status bar shows this one.
    harness.get_by_label("Exporting uptake tables");
    let staged = names(&folder);
    assert_eq!(staged.len(), 4, "{staged:?}");
    assert!(
        staged.iter().all(|name| !name.ends_with(".csv")),
        "placed before it was recorded: {staged:?}"
    );
    drop(held);
    wait_while(&mut harness, "the CSV export did not finish", |harness| {
        harness.state().is_busy()
    });
    harness.run_steps(2);
    let message = harness.state().screen::<MapState>().export_message.clone();
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.starts_with("Saved 4 files")),
        "{message:?}"
    );
    let files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("exported")
        .map(|entry| entry.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 4, "{files:?}");
    assert!(
        files
            .iter()
            .all(|f| f.extension().is_some_and(|e| e == "csv"))
    );
    for file in &files {
        let text = std::fs::read_to_string(file).expect("csv");
        assert!(county.leaks(&text).is_empty(), "{}", file.display());
        assert!(
            text.contains(&format!(
                "Counts from 1 to {DEFAULT_THRESHOLD} are withheld"
            )),
            "{} is not suppressed",
            file.display()
        );
    }

    // The PNG export draws the view as a figure: what it shows is what is saved.
    let png = county.dir.path().join("map.png");
    let chosen = png.clone();
    harness.state_mut().act(&ctx, |map: &mut MapState, desk| {
        map.export_figure(desk, move || Some(chosen))
    });
    let mut drawn = false;
    wait_while(&mut harness, "the PNG export did not start", |harness| {
        harness.state().is_busy() && !harness.state().screen::<MapState>().is_figure()
    });
    // Like the tables, the figure is written under a temporary name and has its
    // own only once its entry is recorded: held here as a load would hold it.
    let held = audit::lock_for_append();
    let staged_figure = |folder: &Path| {
        std::fs::read_dir(folder)
            .expect("folder")
            .filter_map(|entry| entry.ok())
            .any(|entry| {
                entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".zonewise-figure")
            })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !staged_figure(county.dir.path()) {
        assert!(std::time::Instant::now() < deadline, "no figure was staged");
        harness.step();
        if harness.state().screen::<MapState>().is_figure() {
            drawn = true;
            assert!(county.leaks(&screen_text(&harness)).is_empty());
        }
        complete_captures(&harness, egui::Color32::WHITE);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    harness.run_steps(2);
    assert!(drawn, "the view was not drawn as a figure");
    assert!(
        !png.exists(),
        "the figure had its name before it was recorded"
    );
    harness.get_by_label("Saving the map and chart");
    drop(held);
    wait_while(&mut harness, "the PNG export did not finish", |harness| {
        harness.state().is_busy()
    });
    assert!(png.is_file(), "no figure was saved");
    assert!(
        !staged_figure(county.dir.path()),
        "the staged figure was left behind"
    );
    harness.run_steps(2);
    drop(harness);

    // Both exports are in the audit log under the commissioner's name.
    let conn = county.conn();
    let exports = audit::list(
        &conn,
        &Filter {
            action: Some(Action::Export),
            user: Some("cal".to_string()),
            ..Filter::default()
        },
    )
    .expect("list");
    assert_eq!(exports.len(), 2, "{exports:?}");
    assert!(audit::verify(&conn).expect("verify").problem.is_none());
}

/// The subcommands `zonewise [words] --help` lists (without `help`).
fn subcommands(words: &[&str]) -> BTreeSet<String> {
    let help = run_as(None, &[words, &["--help"]].concat()).stdout;
    help.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Runs the binary signed in as `user` (with the test password), or as nobody.
fn run_as(user: Option<&str>, args: &[&str]) -> Run {
    let mut args = args.to_vec();
    if let Some(user) = user {
        args.extend(["--as", user]);
    }
    let env = [("ZONEWISE_USER", None), (PASSWORD_VARIABLE, Some(PASSWORD))];
    common::cli::zonewise(&args, &env, "")
}

/// Counts from 1 to the published threshold anywhere in uptake's JSON.
fn small_counts(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(key, child)| {
                let count = matches!(
                    key.as_str(),
                    "eligible" | "invited" | "attended" | "eligible_without_lsoa"
                );
                match child.as_u64() {
                    Some(n) if count => usize::from((1..=DEFAULT_THRESHOLD).contains(&n)),
                    _ => small_counts(child),
                }
            })
            .sum(),
        serde_json::Value::Array(items) => items.iter().map(small_counts).sum(),
        _ => 0,
    }
}

/// Counts that any command run on the database would change.
fn state_of(conn: &duckdb::Connection) -> Vec<i64> {
    [
        "SELECT count(*) FROM app.\"user\"",
        "SELECT count(*) FROM core.person",
        "SELECT count(*) FROM mart.family_criterion",
        "SELECT count(*) FROM mart.risk_score",
        "SELECT count(*) FROM app.link_run",
        "SELECT count(*) FROM app.load_run",
    ]
    .into_iter()
    .map(|sql| zonewise::store::scalar_i64(conn, sql).expect(sql))
    .collect()
}

#[test]
fn a_commissioner_runs_no_command_that_yields_a_person() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let db = county.db.display().to_string();
    let out = county.dir.path();
    let path = |name: &str| out.join(name).display().to_string();
    let model = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models/risk-sample.json")
        .display()
        .to_string();
    let (manifest, truth) = (path("county/manifest.toml"), path("county/truth"));
    let (features, trained, csv) = (path("f.csv"), path("m.json"), path("uptake"));
    let claims = path("claims.csv");
    let csv_centres = path("uptake-centres");
    let threshold = DEFAULT_THRESHOLD.to_string();
    // The published period ends: the extract date and the quarter end before it.
    let extract = period::latest_extract_date(&county.conn())
        .expect("read")
        .expect("an extract date");
    let published = period::latest_published(extract, 2);
    let quarter_end = published[1].format("%Y-%m-%d").to_string();
    let extract_day = extract.format("%Y-%m-%d").to_string();

    // Every command the binary has is either listed as opening a database (with the
    // roles that may run it) or as opening none.
    let listed: BTreeSet<String> = command_names()
        .into_iter()
        .map(|(name, _)| name.to_string())
        .collect();
    let offline_commands: Vec<&str> = command_names()
        .into_iter()
        .filter(|(_, needs)| needs.is_none())
        .map(|(name, _)| name)
        .collect();
    assert_eq!(offline_commands, ["synth", "link-files", "server", "bench"]);
    assert_eq!(subcommands(&[]), listed);
    for offline in offline_commands {
        let mut helps = vec![run_as(None, &[offline, "--help"]).stdout];
        for sub in subcommands(&[offline]) {
            helps.push(run_as(None, &[offline, &sub, "--help"]).stdout);
        }
        assert!(
            helps.iter().all(|help| !help.contains("--db")),
            "{offline} opens a database"
        );
    }

    // Each database command (each subcommand of `user` and `audit`) as the
    // commissioner: only uptake runs, and it shows no one.
    let runs: Vec<Vec<&str>> = vec![
        vec!["ingest", "--db", &db, "--manifest", &manifest],
        vec!["link", "--db", &db],
        vec!["evaluate-linkage", "--db", &db, "--truth", &truth],
        vec!["uptake", "--db", &db, "--service", "health_check"],
        vec!["uptake", "--db", &db, "--service", "childrens_centre"],
        vec!["uptake", "--db", &db, "--service", "health_check", "--json"],
        vec![
            "uptake",
            "--db",
            &db,
            "--service",
            "childrens_centre",
            "--json",
        ],
        vec![
            "uptake",
            "--db",
            &db,
            "--service",
            "health_check",
            "--csv",
            &csv,
        ],
        vec![
            "uptake",
            "--db",
            &db,
            "--service",
            "childrens_centre",
            "--csv",
            &csv_centres,
        ],
        vec![
            "uptake",
            "--db",
            &db,
            "--service",
            "health_check",
            "--json",
            "--suppress",
            &threshold,
        ],
        vec![
            "uptake",
            "--db",
            &db,
            "--service",
            "health_check",
            "--json",
            "--date",
            &quarter_end,
        ],
        vec![
            "uptake",
            "--db",
            &db,
            "--service",
            "childrens_centre",
            "--date",
            &extract_day,
        ],
        vec![
            "export-features",
            "--db",
            &db,
            "--date",
            "2025-04-01",
            "--out",
            &features,
        ],
        vec!["criteria", "--db", &db, "--date", "2026-01-01"],
        vec![
            "train",
            "--db",
            &db,
            "--train-date",
            "2024-04-01",
            "--test-date",
            "2025-04-01",
            "--out",
            &trained,
        ],
        vec![
            "score",
            "--db",
            &db,
            "--model",
            &model,
            "--date",
            "2026-04-01",
        ],
        vec![
            "evaluate",
            "--db",
            &db,
            "--model",
            &model,
            "--date",
            "2025-04-01",
        ],
        vec!["quality", "--db", &db],
        vec!["capacity", "--db", &db],
        vec!["capacity", "--db", &db, "--zone", "Z1", "--set", "5"],
        vec!["claims", "--db", &db, "--out", &claims],
        vec![
            "user", "add", "--db", &db, "--name", "eve", "--role", "analyst",
        ],
        vec!["user", "list", "--db", &db],
        vec![
            "user", "change", "--db", &db, "--name", "cal", "--role", "analyst",
        ],
        vec!["user", "password", "--db", &db, "--name", "ana"],
        vec!["user", "disable", "--db", &db, "--name", "ana"],
        vec!["user", "enable", "--db", &db, "--name", "cal"],
        vec!["audit", "verify", "--db", &db],
        vec!["audit", "list", "--db", &db],
        // Refused before it connects: the file's sign-in decides.
        vec![
            "publish",
            "--db",
            &db,
            "--server",
            "host=/nonexistent user=cal dbname=zonewise",
        ],
    ];
    for (command, _) in command_names()
        .into_iter()
        .filter(|(_, needs)| needs.is_some())
    {
        assert!(
            runs.iter().any(|run| run[0] == command),
            "{command} is not tried"
        );
    }
    for parent in ["user", "audit"] {
        for sub in subcommands(&[parent]) {
            assert!(
                runs.iter().any(|run| run[0] == parent && run[1] == sub),
                "{parent} {sub} is not tried"
            );
        }
    }
    let before = state_of(&county.conn());
    let mut refused = 0;
    let mut ran = 0;
    for args in &runs {
        let run = run_as(Some("cal"), args);
        let command = args[0];
        if commissioner_may_run(command) {
            assert!(run.success, "{args:?}: {}", run.stderr);
            assert!(
                county.leaks(&run.stdout).is_empty(),
                "{args:?} shows people"
            );
            if args.contains(&"--json") {
                let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
                assert_eq!(small_counts(&json), 0, "{args:?} shows a small count");
            }
            ran += 1;
        } else {
            refused += 1;
            assert!(!run.success, "{args:?} ran");
            assert!(
                run.stderr.contains(&format!(
                    "cal (commissioner) may not run `zonewise {command}`"
                )),
                "{args:?}: {}",
                run.stderr
            );
        }
    }
    assert_eq!(refused, runs.len() - ran, "only uptake runs");
    for folder in [&csv, &csv_centres] {
        let files: Vec<_> = std::fs::read_dir(folder).expect("uptake CSV").collect();
        assert_eq!(files.len(), 4, "{folder}");
        for file in files {
            let text = std::fs::read_to_string(file.expect("file").path()).expect("csv");
            assert!(county.leaks(&text).is_empty());
            assert!(text.contains(&format!(
                "Counts from 1 to {DEFAULT_THRESHOLD} are withheld"
            )));
        }
    }
    // Every run of uptake is in the audit log, the printed tables too.
    let exports = audit::list(
        &county.conn(),
        &Filter {
            action: Some(Action::Export),
            user: Some("cal".to_string()),
            ..Filter::default()
        },
    )
    .expect("list");
    assert_eq!(exports.len(), ran, "{exports:?}");
    assert!(
        !Path::new(&features).exists()
            && !Path::new(&trained).exists()
            && !Path::new(&claims).exists()
    );

    // What only analysts choose is refused, before anything runs, and recorded:
    // a services file (this one would print surnames in its error message), any
    // threshold but the published one, and a day that is not a published period end.
    let crafted = path("crafted.toml");
    std::fs::write(
        &crafted,
        "[[service]]\nname = \"names\"\ntitle = \"Names\"\n\
         eligible = \"SELECT family_name AS lsoa_code, 1 AS n FROM core.person\"\n\
         attended = \"SELECT family_name AS lsoa_code, 1 AS n FROM core.person\"\n",
    )
    .expect("write");
    let day_after = (extract + chrono::Days::new(1))
        .format("%Y-%m-%d")
        .to_string();
    let day_before_quarter_end = (published[1] - chrono::Days::new(1))
        .format("%Y-%m-%d")
        .to_string();
    // A quarter end after the extract date: no figures for it are published yet.
    let later_quarter_end = period::latest_published(extract + chrono::Days::new(200), 2)[1]
        .format("%Y-%m-%d")
        .to_string();
    let health_check = ["uptake", "--db", &db, "--service", "health_check", "--json"];
    let option_refusals: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["--services", &crafted, "--service", "names"],
            "--services".to_string(),
        ),
        (vec!["--suppress", "0"], "--suppress 0".to_string()),
        (vec!["--suppress", "3"], "--suppress 3".to_string()),
        (vec!["--suppress", "10"], "--suppress 10".to_string()),
        (vec!["--date", &day_after], format!("--date {day_after}")),
        (
            vec!["--date", &day_before_quarter_end],
            format!("--date {day_before_quarter_end}"),
        ),
        (
            vec!["--date", &later_quarter_end],
            format!("--date {later_quarter_end}"),
        ),
    ];
    for (user, role) in [("cal", "commissioner"), ("zed", "zone_manager")] {
        for (extra, option) in &option_refusals {
            let mut args = health_check.to_vec();
            if extra[0] == "--services" {
                args.truncate(3);
            }
            args.extend(extra.iter().copied());
            let run = run_as(Some(user), &args);
            assert!(!run.success, "{user} ran {args:?}");
            assert!(
                run.stderr
                    .contains(&format!("{user} ({role}) may not use {option}")),
                "{args:?}: {}",
                run.stderr
            );
            assert!(county.leaks(&run.output()).is_empty(), "{}", run.stderr);
            if option.starts_with("--date") {
                let listed = format!("{extract_day}, {quarter_end}");
                assert!(run.stderr.contains(&listed), "{}", run.stderr);
            }
        }
    }
    // The zone manager gets the published figures, at a published period end.
    let mut at_quarter_end = health_check.to_vec();
    at_quarter_end.extend(["--date", quarter_end.as_str()]);
    let run = run_as(Some("zed"), &at_quarter_end);
    assert!(run.success, "{}", run.stderr);
    assert_eq!(run.stdout, run_as(Some("cal"), &at_quarter_end).stdout);
    // An analyst still chooses: a lower threshold shows counts that are withheld.
    let mut unsuppressed = health_check.to_vec();
    unsuppressed.extend(["--suppress", "0"]);
    assert_ne!(
        run_as(Some("ana"), &unsuppressed).stdout,
        run_as(Some("ana"), &health_check).stdout,
        "the county has small numbers to withhold"
    );
    assert_eq!(
        run_as(Some("cal"), &health_check).stdout,
        run_as(Some("ana"), &health_check).stdout
    );

    // Nobody signed in runs nothing; nothing changed; every refusal is recorded.
    let run = run_as(None, &["quality", "--db", &db]);
    assert!(!run.success && run.stderr.contains("sign in with `--as NAME`"));
    let conn = county.conn();
    assert_eq!(
        state_of(&conn),
        before,
        "a refused command changed the database"
    );
    let refusals = audit::list(
        &conn,
        &Filter {
            action: Some(Action::Login),
            user: Some("cal".to_string()),
            ..Filter::default()
        },
    )
    .expect("list")
    .into_iter()
    .filter(|row| {
        row.detail
            .starts_with("refused: a commissioner may not run")
    })
    .count();
    assert_eq!(refusals, refused);
    for (user, role) in [("cal", "commissioner"), ("zed", "zone_manager")] {
        let options_refused = audit::list(
            &conn,
            &Filter {
                action: Some(Action::Login),
                user: Some(user.to_string()),
                ..Filter::default()
            },
        )
        .expect("list")
        .into_iter()
        .filter(|row| {
            row.subject == "uptake"
                && row.detail.starts_with(&format!(
                    "refused: a {role} may not use `zonewise uptake --"
                ))
        })
        .count();
        assert_eq!(options_refused, option_refusals.len(), "{user}");
    }
    assert!(audit::verify(&conn).expect("verify").problem.is_none());
}

/// The Map view works out the trend on the job queue and shows a commissioner its
/// chart, the board sentence and the table, all from each period end's published
/// figures: what it holds equals the core's trend, no count in it is from 1 to
/// the threshold, and the screen names no one.
#[test]
fn a_commissioner_sees_the_trend_and_the_board_sentence_and_no_small_count() {
    let _turn = common::app::one_at_a_time();
    let county = county();
    let app = ZonewiseApp::new(DatabaseChoice::File(county.db.clone()));
    let mut harness = harness(app, 1280.0, 2400.0);
    wait_for_sign_in_form(&mut harness);
    sign_in(&mut harness, "cal", PASSWORD);
    harness.state_mut().view = View::Map;
    wait_while(&mut harness, "the trend was not worked out", |harness| {
        harness.state().screen::<MapState>().trends.is_empty()
    });
    harness.run_steps(3);
    let held = harness.state().screen::<MapState>().trends.clone();
    let (name, shown) = held.iter().next().expect("a trend");
    let shown = shown.as_ref().expect("the trend");
    let services = zonewise::uptake::service::built_in().expect("services");
    let service = zonewise::uptake::service::find(&services, name).expect("service");
    let expected =
        zonewise::uptake::trend::trend(&county.conn(), service, DEFAULT_THRESHOLD, |_, _| {})
            .expect("trend");
    assert_eq!(
        shown, &expected,
        "the view's trend is the core's, suppressed"
    );
    assert_eq!(
        small_counts(&serde_json::to_value(shown).expect("JSON")),
        0,
        "a count from 1 to the threshold is held"
    );
    assert!(
        harness
            .query_by_label_contains("is the gap closing?")
            .is_some()
    );
    let text = screen_text(&harness);
    assert!(
        shown.sentences.iter().any(|s| text.contains(&s.sentence)),
        "no board sentence on screen"
    );
    assert!(county.leaks(&text).is_empty());
}
