//! The team server under load and under a dying publish (issue 17): twenty clients
//! of four logins reading people through the audited functions and recording
//! decisions at once leave one chain holding every entry once and every decision;
//! and `zonewise publish` killed (SIGKILL) while it streams tables to the server
//! leaves the previous release whole and readable, and a rerun publishes.

#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::Duration;

use postgres::{Client, NoTls};
use rand::{Rng, SeedableRng};
use zonewise::server;

use crate::common::cli::zonewise;
use crate::server::{
    ANALYST, SCREEN, SENIOR, Team, ZONE_MANAGER, expected_families, file_counts, path, request,
    server_counts,
};

/// Clients at once, each its own connection, and the rounds each works through.
const CLIENTS: usize = 20;
const ROUNDS: usize = 8;

/// A family of the county as the file has it: its zone and its members with how
/// many events each has.
struct Family {
    id: String,
    zone: String,
    members: Vec<(String, i64)>,
}

fn families_in_file(team: &Team) -> Vec<Family> {
    let conn = zonewise::store::open(&team.county).expect("open");
    let mut statement = conn
        .prepare(
            "SELECT f.family_id, f.zone_id, p.person_id,
                    (SELECT count(*) FROM core.event e WHERE e.person_id = p.person_id)
             FROM core.family f JOIN core.person p ON p.family_id = f.family_id
             WHERE f.zone_id IS NOT NULL
             ORDER BY f.family_id, p.birth_date NULLS LAST, p.person_id",
        )
        .expect("prepare");
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })
        .expect("families");
    let mut families: Vec<Family> = Vec::new();
    for row in rows {
        let (id, zone, person, events) = row.expect("row");
        match families.last_mut() {
            Some(family) if family.id == id => family.members.push((person, events)),
            _ => families.push(Family {
                id,
                zone,
                members: vec![(person, events)],
            }),
        }
    }
    families
}

/// What one client did: entries it caused, by action, and the openings and
/// decisions it made, each named by a reason or note unique to the client and round.
#[derive(Default)]
struct Done {
    entries: BTreeMap<(String, String), i64>,
    openings: BTreeSet<(String, String)>,
    notes: BTreeSet<String>,
}

#[test]
fn twenty_clients_reading_and_deciding_at_once_keep_one_chain_with_every_entry_once() {
    let team = Team::new();
    team.publish().expect("publish");
    let families = families_in_file(&team);
    let in_zone: Vec<&Family> = families.iter().filter(|f| f.zone == team.zone).collect();
    let every: Vec<&Family> = families.iter().collect();
    assert!(!in_zone.is_empty() && in_zone.len() < every.len());
    // Every family the file has, with or without members, as the list shows them.
    let listed_zone = expected_families(&team.county, Some(&team.zone), false).len();
    let listed_every = expected_families(&team.county, None, false).len();
    let logins = [
        (ANALYST, &every, listed_every),
        (SENIOR, &every, listed_every),
        (ZONE_MANAGER, &in_zone, listed_zone),
        (SCREEN, &in_zone, listed_zone),
    ];
    let before = team.last_seq();
    let done: Vec<Done> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let (login, visible, listed) = logins[client % logins.len()];
                let url = team.url(login);
                scope.spawn(move || {
                    let mut db = Client::connect(&url, NoTls).expect("connect");
                    let mut done = Done::default();
                    let mut entry = |action: &str| {
                        *done
                            .entries
                            .entry((login.to_string(), action.to_string()))
                            .or_insert(0) += 1;
                    };
                    for round in 0..ROUNDS {
                        let family = visible[(client * 7 + round) % visible.len()];
                        let reason = format!("client {client} round {round}");
                        let ticket = request(&mut db, "open_family", Some(&family.id), &reason);
                        entry("open_family");
                        let members = db
                            .query(
                                "SELECT person_id FROM app.open_family($1, $2)",
                                &[&ticket, &family.id],
                            )
                            .expect("open family");
                        assert_eq!(members.len(), family.members.len(), "{}", family.id);
                        done.openings.insert((family.id.clone(), reason.clone()));
                        let (person, events) = &family.members[round % family.members.len()];
                        let ticket = request(&mut db, "open_person", Some(person), &reason);
                        entry("open_person");
                        let rows = db
                            .query("SELECT * FROM app.open_person($1, $2)", &[&ticket, person])
                            .expect("open person");
                        assert_eq!(rows.len() as i64, *events, "{person}");
                        done.openings.insert((person.clone(), reason.clone()));
                        db.execute(
                            "INSERT INTO app.round_decision
                                 (family_id, zone_id, reference_date, outcome, note)
                             VALUES ($1, $2, DATE '2026-01-01', 'Monitor', $3)",
                            &[&family.id, &family.zone, &reason],
                        )
                        .expect("decision");
                        entry("decision");
                        done.notes.insert(reason.clone());
                        if round % 4 == 0 {
                            let ticket = request(&mut db, "list_families", None, "");
                            entry("list_families");
                            let rows = db
                                .query("SELECT * FROM app.list_families($1)", &[&ticket])
                                .expect("list");
                            assert_eq!(rows.len(), listed);
                        }
                        if login == ANALYST {
                            db.execute(
                                "SELECT app.audit_record('export', $1, $2)",
                                &[&format!("client {client}"), &reason],
                            )
                            .expect("append");
                            entry("export");
                        }
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("client"))
            .collect()
    });

    let mut expected: BTreeMap<(String, String), i64> = BTreeMap::new();
    let (mut openings, mut notes) = (BTreeSet::new(), BTreeSet::new());
    for done in done {
        for (key, n) in done.entries {
            *expected.entry(key).or_insert(0) += n;
        }
        openings.extend(done.openings);
        notes.extend(done.notes);
    }
    let total: i64 = expected.values().sum();
    assert_eq!(openings.len(), 2 * CLIENTS * ROUNDS);
    assert_eq!(notes.len(), CLIENTS * ROUNDS);

    let verification = server::verify(&mut team.connect(SENIOR), None).expect("verify");
    assert!(verification.is_intact(), "{}", verification.summary());
    assert_eq!(verification.entries, before + total);
    let mut admin = team.admin();
    let found: BTreeMap<(String, String), i64> = admin
        .query(
            "SELECT \"user\", action, count(*) FROM app.audit_log WHERE seq > $1
             GROUP BY 1, 2",
            &[&before],
        )
        .expect("entries")
        .iter()
        .map(|row| ((row.get(0), row.get(1)), row.get(2)))
        .collect();
    assert_eq!(found, expected);
    // Every opening logged once, with its reason.
    let logged: Vec<(String, String)> = admin
        .query(
            "SELECT subject, reason FROM app.audit_log
             WHERE seq > $1 AND action IN ('open_family', 'open_person')",
            &[&before],
        )
        .expect("openings")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(logged.len(), openings.len());
    assert_eq!(logged.into_iter().collect::<BTreeSet<_>>(), openings);
    // No decision lost.
    let decided: Vec<String> = admin
        .query("SELECT note FROM app.round_decision", &[])
        .expect("decisions")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(decided.len(), notes.len());
    assert_eq!(decided.into_iter().collect::<BTreeSet<_>>(), notes);
}

/// Each published table's rows and a hash of their contents, read by the
/// cluster's superuser (who bypasses row-level security).
fn release(admin: &mut Client) -> BTreeMap<String, (i64, String)> {
    server::PUBLISHED_TABLES
        .iter()
        .map(|table| {
            let row = admin
                .query_one(
                    &format!(
                        "SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')
                         FROM {table} t"
                    ),
                    &[],
                )
                .expect(table);
            (table.to_string(), (row.get(0), row.get(1)))
        })
        .collect()
}

/// Kills of the publish, each once a COPY into its table (or a later one) is under way.
const KILL_DURING: [&str; 8] = [
    "ref.lsoa_vertex",
    "core.person",
    "core.event",
    "mart.criterion_evidence",
    "mart.risk_score",
    "core.event",
    "mart.risk_reason",
    "mart.uptake_lsoa",
];

/// The published table a `COPY … FROM STDIN` statement writes (core.family's rows
/// go through the temporary table `publishing`).
fn copied_table(query: &str) -> Option<usize> {
    let target = query.strip_prefix("COPY ")?.split_whitespace().next()?;
    let target = if target == "publishing" {
        "core.family"
    } else {
        target
    };
    server::PUBLISHED_TABLES.iter().position(|t| *t == target)
}

/// Waits until the server has ended every connection of the analyst's login: a
/// killed client's backend ends when it next reads from the closed socket, and
/// until then still shows its COPY, which the next kill must not take for its own.
fn analysts_gone(admin: &mut Client) {
    for _ in 0..2000 {
        let open: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = $1",
                &[&ANALYST],
            )
            .expect("activity")
            .get(0);
        if open == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("the analyst's connections did not end within ten seconds");
}

#[test]
fn a_publish_killed_while_copying_leaves_the_previous_release_and_a_rerun_publishes() {
    let team = Team::new();
    let dir = tempfile::tempdir().expect("dir");
    let old_file = dir.path().join("old.duckdb");
    std::fs::copy(&team.county, &old_file).expect("copy");
    team.publish().expect("first release");
    let mut admin = team.admin();
    let old = release(&mut admin);
    let old_list = expected_families(&old_file, None, false);
    // The next release: four times the events (a longer COPY) and fewer people.
    {
        let conn = zonewise::store::open(&team.county).expect("open");
        conn.execute_batch(
            "INSERT INTO core.event SELECT * REPLACE (line + 10000000 AS line) FROM core.event;
             INSERT INTO core.event SELECT * REPLACE (line + 20000000 AS line) FROM core.event;
             DELETE FROM core.person WHERE person_id IN
                 (SELECT person_id FROM core.person ORDER BY person_id LIMIT 5);",
        )
        .expect("the next release");
    }
    let new_counts = file_counts(&team.county);
    let publishes = |admin: &mut Client| -> i64 {
        admin
            .query_one(
                "SELECT count(*) FROM app.audit_log WHERE action = 'publish'",
                &[],
            )
            .expect("publishes")
            .get(0)
    };
    let mut expected_publishes = publishes(&mut admin);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let (mut killed_in, mut finished) = (Vec::new(), 0);
    for target in KILL_DURING {
        let target_index = copied_table(&format!("COPY {target} ")).expect("a published table");
        let mut child = Command::new(env!("CARGO_BIN_EXE_zonewise"))
            .args(["publish", "--db", path(&team.county), "--server"])
            .arg(team.url(ANALYST))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start zonewise publish");
        // Watch the publishing connection until it copies the table (or a later one).
        let copying = loop {
            if child.try_wait().expect("child").is_some() {
                break None;
            }
            let copying = admin
                .query(
                    "SELECT query FROM pg_stat_activity
                     WHERE usename = $1 AND state = 'active' AND query LIKE 'COPY %'",
                    &[&ANALYST],
                )
                .expect("activity")
                .iter()
                .map(|row| row.get::<_, String>(0))
                .find(|query| copied_table(query).is_some_and(|i| i >= target_index));
            if copying.is_some() {
                break copying;
            }
        };
        if copying.is_some() {
            std::thread::sleep(Duration::from_micros(rng.random_range(0..3000)));
            child.kill().expect("SIGKILL");
        }
        let status = child.wait().expect("reaped");
        analysts_gone(&mut admin);
        if status.success() {
            // It finished before the kill: the whole new release, then the old one
            // published again for the next kill.
            finished += 1;
            let counts: BTreeMap<String, i64> = release(&mut admin)
                .into_iter()
                .map(|(table, (rows, _))| (table, rows))
                .collect();
            assert_eq!(counts, new_counts, "a finished publish is the new release");
            let old_duck = zonewise::store::open(&old_file).expect("open");
            server::publish(&old_duck, &mut team.connect(ANALYST), |_| Ok(()))
                .expect("the old release again");
            analysts_gone(&mut admin);
            expected_publishes += 2;
        } else {
            let copying = copying.expect("killed while running");
            let table = server::PUBLISHED_TABLES[copied_table(&copying).expect("table")];
            killed_in.push(table);
        }
        // The previous release, whole, and readable through the audited functions.
        assert_eq!(
            release(&mut admin),
            old,
            "after a kill aimed at {target}, the server holds a mix"
        );
        let mut sam = team.connect(SENIOR);
        let ticket = request(&mut sam, "list_families", None, "");
        let listed: BTreeMap<String, Option<String>> = sam
            .query(
                "SELECT family_id, names FROM app.list_families($1)",
                &[&ticket],
            )
            .expect("list")
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        assert_eq!(listed, old_list);
        assert_eq!(
            publishes(&mut admin),
            expected_publishes,
            "no publish entry"
        );
    }
    eprintln!("killed while copying {killed_in:?}; {finished} finished before the kill");
    assert!(
        killed_in.len() >= KILL_DURING.len() / 2,
        "most kills land during the copy: {killed_in:?}"
    );
    assert!(
        killed_in.iter().collect::<BTreeSet<_>>().len() >= 3,
        "kills land in several tables: {killed_in:?}"
    );

    // A rerun publishes the new release whole.
    let run = zonewise(
        &[
            "publish",
            "--db",
            path(&team.county),
            "--server",
            &team.url(ANALYST),
        ],
        &[],
        "",
    );
    assert!(run.success, "{}", run.output());
    assert_eq!(server_counts(&mut admin), new_counts);
    assert_ne!(release(&mut admin), old);
    assert_eq!(publishes(&mut admin), expected_publishes + 1);
    assert!(
        server::verify(&mut admin, None)
            .expect("verify")
            .is_intact()
    );
}
