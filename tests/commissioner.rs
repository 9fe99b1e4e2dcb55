//! A commissioner sees aggregates only: no name and no person-level row through any
//! view, any export those views offer, or any command. Each is listed here and tried
//! as a commissioner on a linked county whose audit log names people too. A view,
//! export button or command added later fails the completeness checks until it is
//! listed and tried here as well.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::app::{
    complete_captures, harness, screen_text, sign_in, wait_for_sign_in_form, wait_while,
};
use common::cli::Run;
use egui_kittest::kittest::{NodeT as _, Queryable, by};
use zonewise::access::cli::{DATABASE_COMMANDS, OFFLINE_COMMANDS, PASSWORD_VARIABLE};
use zonewise::access::{self, NewUser, Purpose, Role, Session};
use zonewise::audit::{self, Action, Filter};
use zonewise::ui::{DatabaseChoice, View, ZonewiseApp};
use zonewise::uptake::DEFAULT_THRESHOLD;

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
    zonewise::risk::prepare_round_dates(&conn).expect("rounds");
    for (user, role) in [("ana", Role::Analyst), ("cal", Role::Commissioner)] {
        let new = NewUser {
            user: user.to_string(),
            display_name: user.to_string(),
            role,
            zones: Vec::new(),
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
    let snapshot = harness.state().snapshot().expect("figures");
    assert!(snapshot.families.families.is_empty(), "families were read");
    assert!(snapshot.review_queue.is_empty(), "record pairs were read");
    assert!(snapshot.audit.entries.is_empty(), "the audit log was read");
    assert!(snapshot.quality.is_empty(), "source quality was read");
    assert_eq!(snapshot.linkage, Default::default(), "linkage was read");
    assert!(snapshot.users.is_empty(), "the users were read");
    assert!(!snapshot.map.services.is_empty(), "uptake is there to map");

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
    harness.state_mut().map.selected = Some(0);
    harness.run_steps(3);
    assert!(harness.query_by_label("Families in this LSOA").is_none());
    assert!(county.leaks(&screen_text(&harness)).is_empty());
    assert_eq!(
        offered,
        EXPORTS.iter().map(|e| e.to_string()).collect(),
        "an export was added or removed: list and try it here"
    );

    // The CSV export, into the folder a dialog would give.
    let folder = county.dir.path().join("csv");
    let chosen = folder.clone();
    let published = harness.state().snapshot().expect("figures").map.services[0]
        .published
        .clone();
    assert_eq!(published.threshold(), DEFAULT_THRESHOLD);
    let ctx = harness.ctx.clone();
    harness
        .state_mut()
        .map
        .start_export(&ctx, published, move || Some(chosen));
    wait_while(&mut harness, "the CSV export did not finish", |harness| {
        harness.state().map.is_loading()
    });
    harness.run_steps(2);
    let files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("exported")
        .map(|entry| entry.expect("entry").path())
        .collect();
    assert!(!files.is_empty());
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
    harness
        .state_mut()
        .map
        .start_png_export(&ctx, move || Some(chosen));
    let mut drawn = false;
    wait_while(&mut harness, "the PNG export did not start", |harness| {
        let map = &harness.state().map;
        map.is_loading() && !map.is_figure()
    });
    while harness.state().map.is_loading() {
        harness.step();
        if harness.state().map.is_figure() {
            drawn = true;
            assert!(county.leaks(&screen_text(&harness)).is_empty());
        }
        complete_captures(&harness, egui::Color32::WHITE);
    }
    assert!(drawn && png.is_file(), "no figure was saved");
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

    // Every command the binary has is either listed as opening a database (with the
    // roles that may run it) or as opening none.
    let listed: BTreeSet<String> = DATABASE_COMMANDS
        .iter()
        .map(|(name, _)| name.to_string())
        .chain(OFFLINE_COMMANDS.iter().map(|name| name.to_string()))
        .collect();
    assert_eq!(subcommands(&[]), listed);
    for offline in OFFLINE_COMMANDS {
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
    ];
    for (command, _) in DATABASE_COMMANDS {
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
    for args in &runs {
        let run = run_as(Some("cal"), args);
        let command = args[0];
        if access::cli::may_run(Role::Commissioner, command) {
            assert!(run.success, "{args:?}: {}", run.stderr);
            assert!(
                county.leaks(&run.stdout).is_empty(),
                "{args:?} shows people"
            );
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
    assert_eq!(refused, runs.len() - 3, "only uptake runs");
    for file in std::fs::read_dir(&csv).expect("uptake CSV") {
        let text = std::fs::read_to_string(file.expect("file").path()).expect("csv");
        assert!(county.leaks(&text).is_empty());
    }
    assert!(!Path::new(&features).exists() && !Path::new(&trained).exists());

    // Small numbers stay withheld: a commissioner may not lower the threshold, which
    // on this county would show counts that are otherwise withheld.
    let unsuppressed = [
        "uptake",
        "--db",
        &db,
        "--service",
        "health_check",
        "--json",
        "--suppress",
        "0",
    ];
    let run = run_as(Some("cal"), &unsuppressed);
    assert!(
        !run.success && run.stderr.contains("may see people"),
        "{}",
        run.stderr
    );
    let suppressed = &unsuppressed[..6];
    assert_ne!(
        run_as(Some("ana"), &unsuppressed).stdout,
        run_as(Some("ana"), suppressed).stdout,
        "the county has small numbers to withhold"
    );
    assert_eq!(
        run_as(Some("cal"), suppressed).stdout,
        run_as(Some("ana"), suppressed).stdout
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
    assert!(audit::verify(&conn).expect("verify").problem.is_none());
}
