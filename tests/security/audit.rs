//! The audit log: the hash chain verifies after many appends, and every kind of
//! tampering (an edited field, a deleted entry in the middle or at the end, a
//! reordering) is found and named; ingest, linkage and exports append entries.

use crate::common;

use duckdb::Connection;
use zonewise::audit::{self, Action, Anchor, Entry, Fault, Filter};
use zonewise::store;

/// A log of `n` entries in an in-memory database: its creation (entry 1), then
/// entries by three users, some with a reason.
fn log_of(n: i64) -> Connection {
    let conn = store::open_in_memory().expect("db");
    fill(&conn, n);
    conn
}

fn fill(conn: &Connection, n: i64) {
    for i in 2..=n {
        let action = Action::ALL[i as usize % Action::ALL.len()];
        let mut entry = Entry::new(
            ["amara", "ben", "chen"][i as usize % 3],
            action,
            format!("P{i:05}"),
        )
        .with_detail(format!(
            "entry number {i}, with \"quotes\", a\nnewline and ünïcode"
        ));
        if i % 4 == 0 {
            entry = entry.with_reason(format!("reason {i}"));
        }
        assert_eq!(audit::record(conn, &entry).expect("append"), i);
    }
}

/// Verifies and returns the first problem, which there must be.
fn problem(conn: &Connection) -> audit::Problem {
    audit::verify(conn)
        .expect("verify")
        .problem
        .expect("tampering must be found")
}

#[test]
fn chain_verifies_after_many_appends_and_lists_by_filter() {
    let conn = log_of(300);
    let verification = audit::verify(&conn).expect("verify");
    assert!(verification.is_intact(), "{:?}", verification.problem);
    assert_eq!(verification.entries, 300);
    assert_eq!(verification.summary(), "chain intact: 300 entries");
    let head: String = conn
        .query_row("SELECT hash FROM app.audit_log WHERE seq = 300", [], |r| {
            r.get(0)
        })
        .expect("last hash");
    assert_eq!(verification.head_hash.as_deref(), Some(head.as_str()));

    let all = audit::list(&conn, &Filter::default()).expect("list");
    assert_eq!(all.len(), 300);
    assert!(all.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");
    let bens = audit::list(
        &conn,
        &Filter {
            user: Some("ben".into()),
            ..Filter::default()
        },
    )
    .expect("by user");
    assert_eq!(bens.len(), 99, "entries 4, 7, …, 298");
    assert!(bens.iter().all(|r| r.user == "ben"));
    let exports = audit::list(
        &conn,
        &Filter {
            action: Some(Action::Export),
            ..Filter::default()
        },
    )
    .expect("by action");
    let expected = (2..=300)
        .filter(|i| Action::ALL[i % Action::ALL.len()] == Action::Export)
        .count();
    assert_eq!(exports.len(), expected);
    let found = audit::list(
        &conn,
        &Filter {
            text: Some("REASON 12".into()),
            ..Filter::default()
        },
    )
    .expect("by text");
    assert_eq!(
        found.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![128, 124, 120, 12]
    );
    let tomorrow = chrono::Utc::now().date_naive() + chrono::Days::new(1);
    let none = audit::list(
        &conn,
        &Filter {
            since: Some(tomorrow),
            ..Filter::default()
        },
    )
    .expect("since");
    assert!(none.is_empty());
}

#[test]
fn editing_any_field_of_one_entry_is_found_and_names_it() {
    let edits = [
        (
            "at",
            "UPDATE app.audit_log SET \"at\" = \"at\" + INTERVAL 1 SECOND WHERE seq = 5",
            Fault::Edited,
        ),
        (
            "user",
            "UPDATE app.audit_log SET \"user\" = 'someone else' WHERE seq = 5",
            Fault::Edited,
        ),
        (
            "action",
            "UPDATE app.audit_log SET action = 'login' WHERE seq = 5",
            Fault::Edited,
        ),
        (
            "subject",
            "UPDATE app.audit_log SET subject = 'P99999' WHERE seq = 5",
            Fault::Edited,
        ),
        (
            "reason",
            "UPDATE app.audit_log SET reason = 'made up' WHERE seq = 5",
            Fault::Edited,
        ),
        (
            "reason removed",
            "UPDATE app.audit_log SET reason = NULL WHERE seq = 4",
            Fault::Edited,
        ),
        (
            "detail",
            "UPDATE app.audit_log SET detail = detail || '.' WHERE seq = 5",
            Fault::Edited,
        ),
        (
            "hash",
            "UPDATE app.audit_log SET hash = prev_hash WHERE seq = 5",
            Fault::Edited,
        ),
        (
            "prev_hash",
            "UPDATE app.audit_log SET prev_hash = hash WHERE seq = 5",
            Fault::BrokenLink,
        ),
        (
            "seq",
            "UPDATE app.audit_log SET seq = 50 WHERE seq = 5",
            Fault::Missing,
        ),
    ];
    for (field, sql, fault) in edits {
        let conn = log_of(10);
        conn.execute_batch(sql).expect(field);
        let problem = problem(&conn);
        let seq = if field == "reason removed" { 4 } else { 5 };
        assert_eq!(
            (problem.seq, problem.fault),
            (seq, fault),
            "editing {field}"
        );
        assert!(
            problem.message.contains(&format!("entry {seq}")),
            "editing {field}: {}",
            problem.message
        );
    }
}

#[test]
fn deleting_a_middle_entry_is_found() {
    let conn = log_of(10);
    conn.execute_batch("DELETE FROM app.audit_log WHERE seq = 5")
        .expect("delete");
    let problem = problem(&conn);
    assert_eq!((problem.seq, problem.fault), (5, Fault::Missing));
    assert!(
        problem.message.contains("entry 5 is missing"),
        "{}",
        problem.message
    );
}

#[test]
fn deleting_a_middle_entry_and_renumbering_is_found() {
    let conn = log_of(10);
    conn.execute_batch(
        "DELETE FROM app.audit_log WHERE seq = 5;
         UPDATE app.audit_log SET seq = seq - 1 WHERE seq > 5;",
    )
    .expect("delete and renumber");
    let problem = problem(&conn);
    assert_eq!(problem.seq, 5, "{problem:?}");
}

#[test]
fn deleting_the_last_entries_is_found_by_the_head() {
    let conn = log_of(10);
    conn.execute_batch("DELETE FROM app.audit_log WHERE seq >= 9")
        .expect("delete");
    let problem = problem(&conn);
    assert_eq!((problem.seq, problem.fault), (9, Fault::Truncated));
    assert!(
        problem.message.contains("entries 9 to 10 are missing"),
        "{}",
        problem.message
    );

    // An entry appended after a truncation follows the recorded head, so the gap stays.
    audit::record(&conn, &Entry::new("analyst", Action::Login, "after")).expect("append");
    assert_eq!(problem_after_append(&conn), (9, Fault::Missing));
}

fn problem_after_append(conn: &Connection) -> (i64, Fault) {
    let problem = problem(conn);
    (problem.seq, problem.fault)
}

#[test]
fn rewriting_the_head_too_is_found_only_by_an_anchor_kept_elsewhere() {
    let conn = log_of(10);
    let exported = audit::verify(&conn).expect("verify");
    let anchor = Anchor {
        seq: exported.entries,
        hash: exported.head_hash.clone().expect("head"),
        genesis: exported.genesis.clone(),
    };
    let anchor_text = exported.anchor().expect("anchor");
    assert_eq!(anchor_text.parse::<Anchor>(), Ok(anchor.clone()));
    // Someone with write access deletes the last entry and moves the head back.
    conn.execute_batch(
        "DELETE FROM app.audit_log WHERE seq = 10;
         UPDATE app.meta SET value = '9' WHERE key = 'audit_head_count';
         UPDATE app.meta SET value = (SELECT hash FROM app.audit_log WHERE seq = 9)
             WHERE key = 'audit_head_hash';",
    )
    .expect("rewrite");
    assert!(audit::verify(&conn).expect("verify").is_intact());
    let anchored = audit::verify_with_anchor(&conn, Some(&anchor)).expect("verify");
    let problem = anchored.problem.expect("the anchor sees it");
    assert_eq!((problem.seq, problem.fault), (10, Fault::Truncated));
}

#[test]
fn reordering_entries_is_found() {
    let conn = log_of(10);
    conn.execute_batch(
        "UPDATE app.audit_log SET seq = 1000 WHERE seq = 4;
         UPDATE app.audit_log SET seq = 4 WHERE seq = 5;
         UPDATE app.audit_log SET seq = 5 WHERE seq = 1000;",
    )
    .expect("swap");
    let problem = problem(&conn);
    assert_eq!(problem.seq, 4, "{problem:?}");
}

#[test]
fn a_new_database_records_its_creation_as_entry_1() {
    let conn = store::open_in_memory().expect("db");
    let verification = audit::verify(&conn).expect("verify");
    assert!(verification.is_intact(), "{:?}", verification.problem);
    assert_eq!(verification.entries, 1);
    let rows = audit::list(&conn, &Filter::default()).expect("list");
    assert_eq!(rows[0].action, Action::CreateDatabase.as_str());
    assert_eq!(verification.genesis, verification.head_hash);
}

#[test]
fn deleting_every_entry_and_the_head_is_found_and_named() {
    let conn = log_of(5);
    conn.execute_batch(
        "DELETE FROM app.audit_log;
         DELETE FROM app.meta WHERE key LIKE 'audit_%';",
    )
    .expect("empty the log");
    let problem = problem(&conn);
    assert_eq!((problem.seq, problem.fault), (1, Fault::Empty));
    assert!(
        problem.message.contains("the log is empty"),
        "{}",
        problem.message
    );
}

#[test]
fn a_log_emptied_and_begun_again_is_found_by_its_genesis() {
    let conn = log_of(5);
    conn.execute_batch(
        "DELETE FROM app.audit_log;
         DELETE FROM app.meta WHERE key IN ('audit_head_count', 'audit_head_hash');",
    )
    .expect("empty the log and its head");
    audit::record(
        &conn,
        &Entry::new("analyst", Action::Login, "a fresh start"),
    )
    .expect("append");
    let found = problem(&conn);
    assert_eq!((found.seq, found.fault), (1, Fault::Genesis), "{found:?}");

    let conn = log_of(5);
    conn.execute_batch(
        "UPDATE app.meta SET value = repeat('a', 64) WHERE key = 'audit_genesis_hash'",
    )
    .expect("tamper with the genesis");
    assert_eq!(problem_after_append(&conn), (1, Fault::Genesis));
    conn.execute_batch("DELETE FROM app.meta WHERE key = 'audit_genesis_hash'")
        .expect("delete the genesis");
    let problem = problem(&conn);
    assert_eq!(problem.fault, Fault::Genesis);
    assert!(problem.message.contains("missing"), "{}", problem.message);
}

#[test]
fn a_log_begun_again_in_a_database_with_users_is_found() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("z.duckdb");
    {
        let conn = store::open(&path).expect("db");
        let analyst = zonewise::access::NewUser {
            user: "amara".to_string(),
            display_name: "Amara".to_string(),
            role: zonewise::access::Role::Analyst,
            zones: Vec::new(),
        };
        zonewise::access::add_user(&conn, &analyst, "a long passphrase", "setup").expect("add");
    }
    {
        // Everything the log and its keys hold, and the schema version, so that
        // opening the database again records a creation entry afresh.
        let conn = Connection::open(&path).expect("raw open");
        conn.execute_batch(
            "DELETE FROM app.audit_log;
             DELETE FROM app.meta WHERE key LIKE 'audit_%' OR key = 'schema_version';",
        )
        .expect("empty");
    }
    let conn = store::open(&path).expect("reopen");
    let problem = problem(&conn);
    assert_eq!(problem.fault, Fault::Unrecorded, "{problem:?}");
    assert!(
        problem.message.contains("app.\"user\" holds 1 users"),
        "{}",
        problem.message
    );
}

#[test]
fn a_database_made_before_genesis_hashes_keeps_its_first_entry_on_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("z.duckdb");
    {
        let conn = store::open(&path).expect("db");
        fill(&conn, 4);
        conn.execute_batch("DELETE FROM app.meta WHERE key = 'audit_genesis_hash'")
            .expect("as an older version left it");
    }
    let conn = store::open(&path).expect("reopen");
    let verification = audit::verify(&conn).expect("verify");
    assert!(verification.is_intact(), "{:?}", verification.problem);
    assert_eq!(verification.entries, 4);
}

#[test]
fn an_anchor_without_a_genesis_is_still_accepted_and_a_wrong_genesis_is_found() {
    let conn = log_of(6);
    let exported = audit::verify(&conn).expect("verify");
    let hash = exported.head_hash.clone().expect("head");
    let old: Anchor = format!("6:{hash}").parse().expect("old format");
    assert_eq!(old.genesis, None);
    let checked = audit::verify_with_anchor(&conn, Some(&old)).expect("verify");
    assert!(checked.is_intact(), "{:?}", checked.problem);

    let wrong: Anchor = format!("6:{hash}:{}", "b".repeat(64))
        .parse()
        .expect("parse");
    let checked = audit::verify_with_anchor(&conn, Some(&wrong)).expect("verify");
    let problem = checked.problem.expect("the anchor's genesis differs");
    assert_eq!((problem.seq, problem.fault), (1, Fault::Genesis));
    assert!("6:abc:def:0".parse::<Anchor>().is_err());
}

#[test]
fn a_deleted_head_does_not_stop_appends_and_stays_reported() {
    let conn = log_of(5);
    conn.execute_batch("DELETE FROM app.meta WHERE key LIKE 'audit_head_%'")
        .expect("delete head");
    let seq = audit::record(&conn, &Entry::new("analyst", Action::Login, "after")).expect("append");
    assert_eq!(seq, 6, "the chain continues after its last entry");
    audit::record(&conn, &Entry::new("analyst", Action::Login, "and again")).expect("append");
    let problem = problem(&conn);
    assert_eq!(
        (problem.seq, problem.fault),
        (6, Fault::Head),
        "{problem:?}"
    );
    assert!(
        problem
            .message
            .contains("missing when entry 6 was appended"),
        "{}",
        problem.message
    );
}

#[test]
fn a_missing_head_is_found() {
    let conn = log_of(3);
    conn.execute_batch("DELETE FROM app.meta WHERE key LIKE 'audit_head_%'")
        .expect("delete head");
    assert_eq!(problem(&conn).fault, Fault::Head);
}

/// Runs the zonewise binary as the OS user "tester"; returns (success, stdout and stderr).
fn zonewise(args: &[&str]) -> (bool, String) {
    let run = common::cli::zonewise(args, &[("USER", Some("tester"))], "");
    (run.success, run.output())
}

#[test]
fn pipeline_commands_and_exports_append_entries_and_verify_fails_on_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::linked_county(dir.path(), 150, 11);
    let conn = store::open(&db).expect("open");
    let actions = |conn: &Connection| -> Vec<String> {
        audit::list(conn, &Filter::default())
            .expect("list")
            .into_iter()
            .rev()
            .map(|r| r.action)
            .collect()
    };
    assert_eq!(actions(&conn), ["create_database", "ingest", "link"]);

    // A failed ingest rolls back its entry with everything else.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "county = \"x\"\n[[source]]\nname = \"a\"\nagency = \"education\"\nsystem = \"s\"\nfile = \"missing.csv\"\n[source.columns]\nrecord_id = \"id\"\n").expect("write");
    let manifest = zonewise::ingest::Manifest::load(&bad).expect("manifest");
    assert!(zonewise::ingest::ingest(&conn, &manifest, "analyst", &mut |_| {}).is_err());
    assert_eq!(actions(&conn).len(), 3);

    let date = chrono::NaiveDate::from_ymd_opt(2025, 4, 1).expect("date");
    zonewise::risk::build(&conn, date).expect("features");
    let features = dir.path().join("features.csv");
    zonewise::risk::export::write(&conn, date, &features, "analyst").expect("export");
    let last = audit::list(&conn, &Filter::default())
        .expect("list")
        .remove(0);
    assert_eq!(last.action, "export");
    assert_eq!(last.subject, features.display().to_string());
    drop(conn);

    let db_arg = db.to_str().expect("path");
    let csv = dir.path().join("uptake");
    let (ok, out) = zonewise(&[
        "uptake",
        "--db",
        db_arg,
        "--service",
        "health_check",
        "--csv",
        csv.to_str().expect("path"),
    ]);
    assert!(ok, "{out}");
    let (ok, out) = zonewise(&[
        "audit", "list", "--db", db_arg, "--action", "export", "--user", "tester",
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("health_check uptake tables (CSV)"), "{out}");
    assert!(out.contains("1 entry"), "{out}");

    let (ok, out) = zonewise(&["audit", "verify", "--db", db_arg]);
    assert!(ok, "{out}");
    assert!(out.contains("chain intact: 5 entries"), "{out}");
    assert!(
        out.contains("head 5:"),
        "the head to keep, with its genesis: {out}"
    );

    let conn = Connection::open(&db).expect("open to tamper");
    conn.execute_batch("UPDATE app.audit_log SET \"user\" = 'nobody' WHERE seq = 2")
        .expect("tamper");
    drop(conn);
    let (ok, out) = zonewise(&["audit", "verify", "--db", db_arg]);
    assert!(!ok, "verify must fail: {out}");
    assert!(out.contains("entry 2 was changed"), "{out}");
}

#[test]
fn a_log_path_that_does_not_exist_is_named() {
    let (ok, out) = zonewise(&["audit", "verify", "--db", "/nonexistent/zw.duckdb"]);
    assert!(!ok);
    assert!(
        out.contains("/nonexistent/zw.duckdb does not exist"),
        "{out}"
    );
}

#[test]
fn an_entry_recorded_while_a_load_runs_waits_for_it_and_the_load_still_commits() {
    // Without taking turns, the load's own entry (appended inside its transaction,
    // which cannot see entries committed after it began) would collide with this one
    // and fail the whole load at its end.
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("county");
    zonewise::synth::generate(
        &zonewise::synth::SynthConfig {
            out_dir: out.clone(),
            reference_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("data-samples/ref"),
            families: 1_000,
            seed: 4,
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
    let manifest = zonewise::ingest::Manifest::load(&out.join("manifest.toml")).expect("manifest");
    let conn = store::open(&dir.path().join("county.duckdb")).expect("open");
    let worker = conn.try_clone().expect("second connection");
    let (started, loading) = std::sync::mpsc::channel();
    let load = std::thread::spawn(move || {
        let mut told = false;
        zonewise::ingest::ingest(&worker, &manifest, "analyst", &mut |_| {
            if !told {
                told = true;
                let _ = started.send(());
            }
        })
    });
    loading.recv().expect("the load began");
    // A worker waits for the load's turn, then records after it.
    let seq = audit::record(
        &conn,
        &Entry::new("analyst", Action::Export, "after the load"),
    )
    .expect("waits");
    load.join().expect("load thread").expect("the load commits");
    assert_eq!(seq, 3, "after the creation entry and the load's");
    let actions: Vec<String> = audit::list(&conn, &Filter::default())
        .expect("list")
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(actions, ["export", "ingest", "create_database"]);
    assert!(audit::verify(&conn).expect("verify").is_intact());
}
