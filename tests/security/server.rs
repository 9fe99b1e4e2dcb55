//! The team's PostgreSQL server (issue 17), each test on a throwaway cluster of its
//! own (`common::pg`): every login, connecting with a plain PostgreSQL client,
//! reads exactly what its role may (docs/security.md, "The team server"); zone
//! logins see only their zones; person-level reads are audited once each; appends
//! from many clients keep one chain that `server::verify` accepts and tampering
//! breaks; publish copies the file's rows, keeps the team's decisions and is all or
//! nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use postgres::error::SqlState;
use postgres::{Client, NoTls};
use zonewise::access::Role;
use zonewise::audit::Fault;
use zonewise::server;

use crate::common::cli::zonewise;
use crate::common::pg::Cluster;

/// Every login's password (12 characters or more, none of the logins' names).
const PASSWORD: &str = "correct horse battery staple";

/// The logins of a team: one per role.
pub(crate) const ANALYST: &str = "ana";
pub(crate) const SENIOR: &str = "sam";
pub(crate) const ZONE_MANAGER: &str = "zoe";
pub(crate) const SCREEN: &str = "rita";
pub(crate) const COMMISSIONER: &str = "cal";

/// A cluster with an initialised database `council`, one login per role, and a
/// copy of an assessed county (linked, criteria, scores from the sample model,
/// uptake published).
pub(crate) struct Team {
    pub(crate) cluster: Cluster,
    _dir: tempfile::TempDir,
    pub(crate) county: PathBuf,
    /// The zone of the zone manager and the screen: the county's first with families.
    pub(crate) zone: String,
}

impl Team {
    /// Made through the command line, as an IT team would: `server init`, then
    /// `server add-user` with the password on standard input.
    pub(crate) fn new() -> Team {
        let dir = tempfile::tempdir().expect("dir");
        let county = crate::common::app::assessed_county(dir.path(), 120, 17);
        {
            let duck = zonewise::store::open(&county).expect("open");
            let service = zonewise::uptake::service::built_in()
                .expect("services")
                .remove(0);
            zonewise::uptake::publish(
                &duck,
                &service,
                &Default::default(),
                zonewise::uptake::DEFAULT_THRESHOLD,
            )
            .expect("uptake");
            let current = zonewise::risk::rounds::latest_round(&duck)
                .expect("dates")
                .expect("a round");
            let model = zonewise::risk::model::file::RiskModelFile::load(
                &Path::new(env!("CARGO_MANIFEST_DIR")).join("models/risk-sample.json"),
            )
            .expect("model");
            zonewise::risk::model::score::score(&duck, &model, current).expect("scores");
        }
        let zone: String = duckdb_scalar(
            &county,
            "SELECT min(zone_id) FROM core.family WHERE zone_id IS NOT NULL",
        );
        let cluster = Cluster::start();
        cluster.create_database("council");
        let admin = cluster.admin_url("council");
        let run = zonewise(&["server", "init", "--server", &admin], &[], "");
        assert!(run.success, "init: {}\n{}", run.output(), cluster.log());
        for (name, role, zones) in [
            (ANALYST, Role::Analyst, ""),
            (SENIOR, Role::SeniorManager, ""),
            (ZONE_MANAGER, Role::ZoneManager, zone.as_str()),
            (SCREEN, Role::RoundTable, zone.as_str()),
            (COMMISSIONER, Role::Commissioner, ""),
        ] {
            let mut args = vec![
                "server",
                "add-user",
                "--server",
                &admin,
                "--name",
                name,
                "--role",
                role.as_str(),
            ];
            if !zones.is_empty() {
                args.extend(["--zone", zones]);
            }
            let run = zonewise(&args, &[], &format!("{PASSWORD}\n"));
            assert!(run.success, "add-user {name}: {}", run.output());
        }
        Team {
            cluster,
            _dir: dir,
            county,
            zone,
        }
    }

    pub(crate) fn url(&self, login: &str) -> String {
        self.cluster.url_as(login, PASSWORD, "council")
    }

    pub(crate) fn connect(&self, login: &str) -> Client {
        Client::connect(&self.url(login), NoTls).unwrap_or_else(|e| panic!("{login}: {e}"))
    }

    pub(crate) fn admin(&self) -> Client {
        Client::connect(&self.cluster.admin_url("council"), NoTls).expect("admin")
    }

    /// Publishes the county as the analyst, through the library.
    pub(crate) fn publish(&self) -> Result<server::Published, server::ServerError> {
        let duck = zonewise::store::open(&self.county).expect("open");
        server::publish(&duck, &mut self.connect(ANALYST), |_| Ok(()))
    }

    /// (user, action, subject, reason) of the server's entries after `after`.
    pub(crate) fn entries_after(
        &self,
        after: i64,
    ) -> Vec<(String, String, String, Option<String>)> {
        self.admin()
            .query(
                "SELECT \"user\", action, subject, reason FROM app.audit_log
                 WHERE seq > $1 ORDER BY seq",
                &[&after],
            )
            .expect("log")
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3)))
            .collect()
    }

    pub(crate) fn last_seq(&self) -> i64 {
        self.admin()
            .query_one("SELECT coalesce(max(seq), 0) FROM app.audit_log", &[])
            .expect("seq")
            .get(0)
    }
}

pub(crate) fn duckdb_scalar<T: duckdb::types::FromSql>(db: &Path, sql: &str) -> T {
    let conn = zonewise::store::open(db).expect("open");
    conn.query_row(sql, [], |row| row.get(0)).expect(sql)
}

/// The server's message (the client error's own text is only "db error").
fn message(error: &postgres::Error) -> String {
    error
        .as_db_error()
        .map_or_else(|| error.to_string(), |db| db.message().to_string())
}

fn is_refused(error: &postgres::Error) -> bool {
    error.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE)
}

/// What docs/security.md grants each role on the server, table by table.
fn readable_by(role: Role) -> BTreeSet<&'static str> {
    let geography = [
        "ref.lsoa",
        "ref.zone",
        "ref.lsoa_zone",
        "ref.lsoa_vertex",
        "ref.ward",
        "ref.lsoa_ward",
        "app.user_zone",
    ];
    let aggregates = [
        "mart.uptake_lsoa",
        "mart.uptake_decile",
        "mart.uptake_area",
        "mart.uptake_inequality",
        "mart.risk_model",
        "mart.criterion_rule",
    ];
    let families = [
        "core.family",
        "app.round_table_family",
        "app.round_decision",
    ];
    let log = ["app.audit_log", "app.audit_head"];
    let mut tables: BTreeSet<&'static str> = geography.into_iter().collect();
    match role {
        Role::Analyst => {
            tables.extend(aggregates);
            tables.extend(families);
            tables.extend(log);
            tables.insert("app.review_decision");
        }
        Role::SeniorManager => {
            tables.extend(aggregates);
            tables.extend(families);
            tables.extend(log);
        }
        Role::ZoneManager => {
            tables.extend(aggregates);
            tables.extend(families);
        }
        Role::RoundTable => {
            tables.extend(["app.round_table_family", "app.round_decision"]);
        }
        Role::Commissioner => tables.extend(aggregates),
    }
    tables
}

#[test]
fn each_login_reads_exactly_what_its_role_may_and_no_one_reads_people_directly() {
    let team = Team::new();
    team.publish().expect("publish");
    let relations: Vec<String> = team
        .admin()
        .query(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname IN ('ref', 'core', 'mart', 'app') AND c.relkind IN ('r', 'v')
             ORDER BY 1",
            &[],
        )
        .expect("relations")
        .iter()
        .map(|row| row.get(0))
        .collect();
    // The 19 published tables, the team's 6 and the screen's view.
    assert_eq!(relations.len(), 26, "{relations:?}");
    for (login, role) in [
        (ANALYST, Role::Analyst),
        (SENIOR, Role::SeniorManager),
        (ZONE_MANAGER, Role::ZoneManager),
        (SCREEN, Role::RoundTable),
        (COMMISSIONER, Role::Commissioner),
    ] {
        let mut client = team.connect(login);
        let mut readable = BTreeSet::new();
        for relation in &relations {
            match client.query_one(&format!("SELECT count(*) FROM {relation}"), &[]) {
                Ok(_) => {
                    readable.insert(relation.as_str());
                }
                Err(error) => assert!(is_refused(&error), "{login} {relation}: {error:?}"),
            }
        }
        assert_eq!(readable, readable_by(role), "{login} ({role:?})");
        // Person-level tables: refused to every login, analysts included.
        for table in [
            "core.person",
            "core.event",
            "mart.risk_score",
            "mart.risk_reason",
            "mart.family_criterion",
            "mart.criterion_evidence",
        ] {
            let error = client
                .query(&format!("SELECT * FROM {table}"), &[])
                .expect_err(table);
            assert!(is_refused(&error), "{login} {table}: {error:?}");
        }
        // Families are readable without their postcode.
        if readable.contains("core.family") {
            let error = client
                .query("SELECT postcode FROM core.family", &[])
                .expect_err("postcode");
            assert!(is_refused(&error), "{login}: {error:?}");
        }
        // The audited functions: every role that sees people, never a commissioner.
        let requested =
            client.query_one("SELECT app.request_read('list_families', NULL, NULL)", &[]);
        assert_eq!(requested.is_ok(), role.sees_people(), "{login}");
        if let Ok(ticket) = requested {
            let ticket: i64 = ticket.get(0);
            client
                .query("SELECT * FROM app.list_families($1)", &[&ticket])
                .unwrap_or_else(|e| panic!("{login}: {e}"));
        } else {
            let error = client
                .query("SELECT * FROM app.list_families(1)", &[])
                .expect_err("a commissioner lists families");
            assert!(is_refused(&error), "{login}: {error:?}");
        }
        // Nobody writes the log but through the functions.
        let error = client
            .execute(
                "INSERT INTO app.audit_log VALUES (999, now(), 'x', 'x', 'x', NULL, 'x', 'x', 'x')",
                &[],
            )
            .expect_err("insert into the log");
        assert!(is_refused(&error), "{login}: {error:?}");
        let error = client
            .query(
                "SELECT app.audit_append('someone else', 'login', 'x', NULL, '')",
                &[],
            )
            .expect_err("append as someone else");
        assert!(is_refused(&error), "{login}: {error:?}");
    }
    // The commissioner's direct SELECT on persons is refused by the server itself.
    let error = team
        .connect(COMMISSIONER)
        .query("SELECT given_name, family_name FROM core.person", &[])
        .expect_err("commissioner reads persons");
    assert!(is_refused(&error), "{error:?}");
    assert_eq!(message(&error), "permission denied for table person");
    // Passwords are kept as SCRAM-SHA-256 verifiers, and a wrong one is refused.
    let verifiers: i64 = team
        .admin()
        .query_one(
            "SELECT count(*) FROM pg_authid
             WHERE rolname IN ('ana', 'sam', 'zoe', 'rita', 'cal')
               AND rolpassword LIKE 'SCRAM-SHA-256$4096:%'",
            &[],
        )
        .expect("verifiers")
        .get(0);
    assert_eq!(verifiers, 5);
    let wrong = team
        .cluster
        .url_as(ANALYST, "not the password at all", "council");
    assert!(Client::connect(&wrong, NoTls).is_err());
}

/// (family, names) of every family in `zone` (all families when `None`), the
/// names as the server should show them: in full, or as initials.
pub(crate) fn expected_families(
    db: &Path,
    zone: Option<&str>,
    initials: bool,
) -> BTreeMap<String, Option<String>> {
    let conn = zonewise::store::open(db).expect("open");
    let mut families: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut statement = conn
        .prepare(
            "SELECT f.family_id, p.given_name, p.family_name FROM core.family f
             LEFT JOIN core.person p ON p.family_id = f.family_id
             WHERE ?::VARCHAR IS NULL OR f.zone_id = ?
             ORDER BY f.family_id, p.birth_date NULLS LAST, p.person_id NULLS LAST",
        )
        .expect("prepare");
    let rows = statement
        .query_map([zone, zone], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<String>>(2)?,
            ))
        })
        .expect("rows");
    for row in rows {
        let (family, given, surname) = row.expect("row");
        let shown = |name: Option<String>| {
            name.map(|n| {
                if initials {
                    format!(
                        "{}.",
                        n.chars().next().map(String::from).unwrap_or_default()
                    )
                } else {
                    n
                }
            })
        };
        let parts: Vec<String> = [shown(given), shown(surname)]
            .into_iter()
            .flatten()
            .collect();
        let entry = families.entry(family).or_insert(None);
        if !parts.is_empty() {
            let name = parts.join(" ");
            *entry = Some(match entry.take() {
                Some(names) => format!("{names}, {name}"),
                None => name,
            });
        }
    }
    families
}

/// Step one of a person-level read: the entry, committed, and its ticket.
pub(crate) fn request(client: &mut Client, kind: &str, subject: Option<&str>, reason: &str) -> i64 {
    client
        .query_one(
            "SELECT app.request_read($1, $2, $3)",
            &[&kind, &subject, &reason],
        )
        .unwrap_or_else(|e| panic!("request {kind} {subject:?}: {e:?}"))
        .get(0)
}

fn listed_families(client: &mut Client) -> BTreeMap<String, Option<String>> {
    let ticket = request(client, "list_families", None, "");
    client
        .query(
            "SELECT family_id, names FROM app.list_families($1)",
            &[&ticket],
        )
        .expect("list")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

#[test]
fn zone_logins_see_only_their_zones_and_the_screen_only_initials() {
    let team = Team::new();
    team.publish().expect("publish");
    let zone_families = expected_families(&team.county, Some(&team.zone), false);
    let every_family = expected_families(&team.county, None, false);
    assert!(!zone_families.is_empty() && zone_families.len() < every_family.len());

    let mut zoe = team.connect(ZONE_MANAGER);
    let direct: BTreeSet<String> = zoe
        .query("SELECT family_id FROM core.family", &[])
        .expect("families")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(direct, zone_families.keys().cloned().collect());
    assert_eq!(listed_families(&mut zoe), zone_families);

    let mut rita = team.connect(SCREEN);
    let screen: BTreeSet<String> = rita
        .query("SELECT family_id FROM app.round_table_family", &[])
        .expect("screen")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(screen, direct);
    assert_eq!(
        listed_families(&mut rita),
        expected_families(&team.county, Some(&team.zone), true)
    );
    assert_eq!(listed_families(&mut team.connect(SENIOR)), every_family);

    // Another zone's family is refused, and the refusal leaves no entry.
    let elsewhere = every_family
        .keys()
        .find(|family| !zone_families.contains_key(*family))
        .expect("a family elsewhere");
    let before = team.last_seq();
    let error = zoe
        .query(
            "SELECT app.request_read('open_family', $1, 'curious')",
            &[elsewhere],
        )
        .expect_err("another zone's family");
    assert!(is_refused(&error), "{error:?}");
    assert_eq!(team.last_seq(), before);
    // A decision for another zone is refused by row-level security.
    let other_zone = format!("{}-other", team.zone);
    let error = zoe
        .execute(
            "INSERT INTO app.round_decision (family_id, zone_id, reference_date, outcome, note)
             VALUES ($1, $2, DATE '2026-01-01', 'Monitor', '')",
            &[elsewhere, &other_zone],
        )
        .expect_err("decision elsewhere");
    assert!(message(&error).contains("row-level security"), "{error:?}");
}

#[test]
fn each_request_to_read_people_writes_exactly_one_entry_by_the_login() {
    let team = Team::new();
    team.publish().expect("publish");
    let family = expected_families(&team.county, Some(&team.zone), false)
        .into_keys()
        .next()
        .expect("a family");
    let members: i64 = {
        let conn = zonewise::store::open(&team.county).expect("open");
        conn.query_row(
            "SELECT count(*) FROM core.person WHERE family_id = ?",
            [&family],
            |row| row.get(0),
        )
        .expect("members")
    };
    let mut zoe = team.connect(ZONE_MANAGER);
    let before = team.last_seq();
    let ticket = request(
        &mut zoe,
        "open_family",
        Some(&family),
        "round table of 3 December",
    );
    let rows = zoe
        .query(
            "SELECT person_id FROM app.open_family($1, $2)",
            &[&ticket, &family],
        )
        .expect("open family");
    assert_eq!(rows.len() as i64, members);
    let person: String = rows[0].get(0);
    let events: i64 = {
        let conn = zonewise::store::open(&team.county).expect("open");
        conn.query_row(
            "SELECT count(*) FROM core.event WHERE person_id = ?",
            [&person],
            |row| row.get(0),
        )
        .expect("events")
    };
    let ticket = request(&mut zoe, "open_person", Some(&person), "");
    let opened = zoe
        .query("SELECT * FROM app.open_person($1, $2)", &[&ticket, &person])
        .expect("open person");
    assert_eq!(opened.len() as i64, events);
    listed_families(&mut zoe);
    assert_eq!(
        team.entries_after(before),
        [
            (
                ZONE_MANAGER.to_string(),
                "open_family".to_string(),
                family.clone(),
                Some("round table of 3 December".to_string())
            ),
            (
                ZONE_MANAGER.to_string(),
                "open_person".to_string(),
                person,
                None
            ),
            (
                ZONE_MANAGER.to_string(),
                "list_families".to_string(),
                "families of the current round".to_string(),
                None
            ),
        ]
    );
    let verification = server::verify(&mut team.connect(SENIOR), None).expect("verify");
    assert!(verification.is_intact(), "{}", verification.summary());
}

#[test]
fn people_are_read_only_after_their_entry_has_committed_whatever_the_client_rolls_back() {
    let team = Team::new();
    team.publish().expect("publish");
    let families = expected_families(&team.county, Some(&team.zone), false);
    let family = families.keys().next().expect("a family").clone();
    let conn = zonewise::store::open(&team.county).expect("open");
    // Two people of the zone with events, and how many each has in the file.
    let mut statement = conn
        .prepare(
            "SELECT p.person_id, count(*) FROM core.person p
             JOIN core.family f ON f.family_id = p.family_id
             JOIN core.event e ON e.person_id = p.person_id
             WHERE f.zone_id = ? GROUP BY p.person_id ORDER BY p.person_id LIMIT 2",
        )
        .expect("prepare");
    let people: Vec<(String, i64)> = statement
        .query_map([&team.zone], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("people")
        .map(|row| row.expect("row"))
        .collect();
    drop(statement);
    drop(conn);
    let [(person, events), (other_person, _)] = &people[..] else {
        panic!("two people with events in {}: {people:?}", team.zone)
    };
    let open_person = |client: &mut Client, ticket: i64, person: &str| {
        client.query("SELECT * FROM app.open_person($1, $2)", &[&ticket, &person])
    };
    let refused = |result: Result<Vec<postgres::Row>, postgres::Error>, says: &str| {
        let error = result.expect_err(says);
        assert!(is_refused(&error), "{says}: {error:?}");
        assert!(
            message(&error).contains(says),
            "{says}: {}",
            message(&error)
        );
    };
    let mut zoe = team.connect(ZONE_MANAGER);
    let before = team.last_seq();

    // Request and read in one transaction: refused, and the rollback takes the
    // entry and the ticket with it.
    let mut tx = zoe.transaction().expect("begin");
    let ticket: i64 = tx
        .query_one(
            "SELECT app.request_read('open_person', $1, 'in one go')",
            &[person],
        )
        .expect("request")
        .get(0);
    refused(
        tx.query("SELECT * FROM app.open_person($1, $2)", &[&ticket, person]),
        "requested in this transaction",
    );
    tx.rollback().expect("rollback");
    assert_eq!(team.last_seq(), before);
    refused(
        open_person(&mut zoe, ticket, person),
        "is not a committed request",
    );
    // Nor under a savepoint, whose rows carry the subtransaction's id.
    let mut tx = zoe.transaction().expect("begin");
    let mut savepoint = tx.savepoint("request").expect("savepoint");
    let ticket: i64 = savepoint
        .query_one(
            "SELECT app.request_read('open_person', $1, 'in a savepoint')",
            &[person],
        )
        .expect("request")
        .get(0);
    savepoint.commit().expect("release");
    refused(
        tx.query("SELECT * FROM app.open_person($1, $2)", &[&ticket, person]),
        "requested in this transaction",
    );
    tx.rollback().expect("rollback");
    assert_eq!(team.last_seq(), before);

    // A request not yet committed by another connection is not a ticket either;
    // committed, it is.
    let mut other = team.connect(ZONE_MANAGER);
    let mut pending = other.transaction().expect("begin");
    let ticket: i64 = pending
        .query_one(
            "SELECT app.request_read('open_person', $1, 'case review')",
            &[person],
        )
        .expect("request")
        .get(0);
    refused(
        open_person(&mut zoe, ticket, person),
        "is not a committed request",
    );
    pending.commit().expect("commit");
    assert_eq!(
        open_person(&mut zoe, ticket, person)
            .expect("read after the commit")
            .len() as i64,
        *events
    );
    // Read, then rolled back: the rows were returned and the entry stays.
    let mut tx = zoe.transaction().expect("begin");
    let rows = tx
        .query("SELECT * FROM app.open_person($1, $2)", &[&ticket, person])
        .expect("read in a transaction");
    assert_eq!(rows.len() as i64, *events);
    tx.rollback().expect("rollback");
    assert_eq!(
        team.entries_after(before),
        [(
            ZONE_MANAGER.to_string(),
            "open_person".to_string(),
            person.clone(),
            Some("case review".to_string())
        )]
    );

    // The ticket serves its login, its read and its subject only.
    let mut sam = team.connect(SENIOR);
    refused(open_person(&mut sam, ticket, person), "is not sam's");
    refused(
        open_person(&mut zoe, ticket, other_person),
        &format!("is for open_person of {person}, not open_person of {other_person}"),
    );
    refused(
        zoe.query("SELECT * FROM app.open_family($1, $2)", &[&ticket, &family]),
        "is for open_person",
    );
    // Nobody writes a ticket but the request.
    let error = zoe
        .execute(
            "INSERT INTO app.read_ticket VALUES (1, 'zoe', 'open_person', $1, now(), '1')",
            &[person],
        )
        .expect_err("a forged ticket");
    assert!(is_refused(&error), "{error:?}");
    // Five minutes on, it has expired.
    team.admin()
        .execute(
            "UPDATE app.read_ticket SET requested_at = requested_at - interval '6 minutes'
             WHERE ticket = $1",
            &[&ticket],
        )
        .expect("age the ticket");
    refused(open_person(&mut zoe, ticket, person), "has expired");
    // A ticket does not outlive the login's zones.
    let ticket = request(&mut zoe, "open_person", Some(person), "");
    team.admin()
        .execute(
            "DELETE FROM app.user_zone WHERE user_name = $1",
            &[&ZONE_MANAGER],
        )
        .expect("take the zone away");
    refused(
        open_person(&mut zoe, ticket, person),
        "is not in zoe's zones",
    );

    assert_eq!(team.entries_after(before).len(), 2);
    let run = zonewise(
        &["server", "verify", "--server", &team.url(SENIOR)],
        &[],
        "",
    );
    assert!(run.success, "{}", run.output());
}

/// (subject, detail) of the `manage_users` entries after `after`, all by the
/// cluster's administrator.
fn managed_after(team: &Team, after: i64) -> Vec<(String, String)> {
    team.admin()
        .query(
            "SELECT subject, detail, \"user\" FROM app.audit_log
             WHERE seq > $1 AND action = 'manage_users' ORDER BY seq",
            &[&after],
        )
        .expect("log")
        .iter()
        .map(|row| {
            assert_eq!(row.get::<_, String>(2), crate::common::pg::ADMIN);
            (row.get(0), row.get(1))
        })
        .collect()
}

#[test]
fn logins_are_changed_disabled_and_enabled_from_the_command_line_each_in_the_chain() {
    let team = Team::new();
    team.publish().expect("publish");
    let admin = team.cluster.admin_url("council");
    let server = |args: &[&str], stdin: &str| {
        let mut all = vec!["server", args[0], "--server", &admin];
        all.extend(&args[1..]);
        zonewise(&all, &[], stdin)
    };
    let before = team.last_seq();
    let direct_families = |client: &mut Client| -> BTreeSet<String> {
        client
            .query("SELECT family_id FROM core.family", &[])
            .expect("families")
            .iter()
            .map(|row| row.get(0))
            .collect()
    };
    let other_zone: String = duckdb_scalar(
        &team.county,
        &format!(
            "SELECT max(zone_id) FROM core.family WHERE zone_id IS NOT NULL AND zone_id <> '{}'",
            team.zone
        ),
    );
    let theirs = expected_families(&team.county, Some(&other_zone), false);
    assert!(!theirs.is_empty());

    // New zones: row-level security and the functions show the new zone's
    // families at the login's next query, on a connection opened before.
    let mut zoe = team.connect(ZONE_MANAGER);
    let run = server(
        &["change-user", "--name", ZONE_MANAGER, "--zone", &other_zone],
        "",
    );
    assert!(run.success, "{}", run.output());
    assert_eq!(direct_families(&mut zoe), theirs.keys().cloned().collect());
    assert_eq!(listed_families(&mut zoe), theirs);
    // The same again changes nothing and is refused; zones are checked against the role.
    let run = server(
        &["change-user", "--name", ZONE_MANAGER, "--zone", &other_zone],
        "",
    );
    assert!(
        !run.success && run.stderr.contains("nothing to change"),
        "{}",
        run.output()
    );
    let run = server(&["change-user", "--name", ZONE_MANAGER, "--zone", ""], "");
    assert!(
        !run.success && run.stderr.contains("give --zone"),
        "{}",
        run.output()
    );
    let run = server(
        &[
            "change-user",
            "--name",
            ZONE_MANAGER,
            "--role",
            "senior_manager",
        ],
        "",
    );
    assert!(
        !run.success && run.stderr.contains("every zone or none"),
        "{}",
        run.output()
    );
    // A new role: every family.
    let run = server(
        &[
            "change-user",
            "--name",
            ZONE_MANAGER,
            "--role",
            "senior_manager",
            "--zone",
            "",
        ],
        "",
    );
    assert!(run.success, "{}", run.output());
    let every = expected_families(&team.county, None, false);
    assert_eq!(direct_families(&mut zoe), every.keys().cloned().collect());
    assert!(
        server::verify(&mut zoe, None)
            .expect("reads the log")
            .is_intact()
    );
    drop(zoe);

    // A new password: the old one no longer connects, the new one does; a weak one
    // is refused and changes nothing.
    const NEW_PASSWORD: &str = "a new and longer pass phrase";
    let run = server(&["set-password", "--name", SCREEN], "short\n");
    assert!(!run.success, "{}", run.output());
    let run = server(
        &["set-password", "--name", SCREEN],
        &format!("{NEW_PASSWORD}\n"),
    );
    assert!(run.success, "{}", run.output());
    assert!(Client::connect(&team.url(SCREEN), NoTls).is_err());
    let screen_url = team.cluster.url_as(SCREEN, NEW_PASSWORD, "council");
    Client::connect(&screen_url, NoTls).expect("the new password");

    // Disabled: cannot connect, and an open connection is ended.
    let mut open = team.connect(COMMISSIONER);
    let run = server(&["disable-user", "--name", COMMISSIONER], "");
    assert!(run.success, "{}", run.output());
    assert!(
        run.stdout.contains("Ended its 1 open connection"),
        "{}",
        run.output()
    );
    assert!(
        open.query("SELECT 1", &[]).is_err(),
        "an open connection survived"
    );
    let error = Client::connect(&team.url(COMMISSIONER), NoTls)
        .err()
        .expect("a disabled login connected");
    assert!(
        message(&error).contains("not permitted to log in"),
        "{error:?}"
    );
    let run = server(&["disable-user", "--name", COMMISSIONER], "");
    assert!(
        !run.success && run.stderr.contains("already disabled"),
        "{}",
        run.output()
    );
    let run = server(&["enable-user", "--name", COMMISSIONER], "");
    assert!(run.success, "{}", run.output());
    team.connect(COMMISSIONER);

    // Names are checked as add-user checks them; the server's own roles and
    // unknown names are refused.
    for (name, says) in [
        ("Zoe; DROP TABLE core.person", "not a login name"),
        ("zonewise_analyst", "kept for the server's own roles"),
        (crate::common::pg::ADMIN, "is not a Zonewise login"),
        ("nobody_here", "has no login named"),
    ] {
        for command in ["disable-user", "enable-user", "change-user"] {
            let run = server(&[command, "--name", name], "");
            assert!(
                !run.success && run.stderr.contains(says),
                "{command} {name}: {}",
                run.output()
            );
        }
    }

    assert_eq!(
        managed_after(&team, before),
        [
            (
                ZONE_MANAGER.to_string(),
                format!("zones {} -> {other_zone}", team.zone)
            ),
            (
                ZONE_MANAGER.to_string(),
                format!("role zone_manager -> senior_manager; zones {other_zone} -> none")
            ),
            (SCREEN.to_string(), "password reset".to_string()),
            (COMMISSIONER.to_string(), "disabled".to_string()),
            (COMMISSIONER.to_string(), "enabled".to_string()),
        ]
    );
    assert!(
        server::verify(&mut team.admin(), None)
            .expect("verify")
            .is_intact()
    );
}

#[test]
fn an_owner_that_is_not_a_superuser_sets_up_and_manages_logins_as_documented() {
    // docs/server.md's set-up: a CREATEROLE owner, not a superuser, owns the database.
    let cluster = Cluster::start();
    let owner_password = "the owners own long password";
    let mut admin = Client::connect(&cluster.admin_url("postgres"), NoTls).expect("admin");
    admin
        .batch_execute(&format!(
            "CREATE ROLE zonewise_owner LOGIN CREATEROLE PASSWORD '{owner_password}'"
        ))
        .expect("owner");
    admin
        .batch_execute("CREATE DATABASE council OWNER zonewise_owner")
        .expect("database");
    let owner = cluster.url_as("zonewise_owner", owner_password, "council");
    let server = |args: &[&str], stdin: &str| {
        let mut all = vec!["server", args[0], "--server", &owner];
        all.extend(&args[1..]);
        zonewise(&all, &[], stdin)
    };
    let run = server(&["init"], "");
    assert!(run.success, "{}", run.output());
    let run = server(
        &[
            "add-user",
            "--name",
            ZONE_MANAGER,
            "--role",
            "zone_manager",
            "--zone",
            "Z1",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(run.success, "{}", run.output());
    let zoe_url = cluster.url_as(ZONE_MANAGER, PASSWORD, "council");
    let run = server(
        &["change-user", "--name", ZONE_MANAGER, "--zone", "Z2,Z3"],
        "",
    );
    assert!(run.success, "{}", run.output());
    let mut zoe = Client::connect(&zoe_url, NoTls).expect("zoe");
    let zones: Vec<String> = zoe
        .query("SELECT zone_id FROM app.user_zone ORDER BY 1", &[])
        .expect("her zones")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(zones, ["Z2", "Z3"]);
    // PostgreSQL lets only a superuser or a member of pg_signal_backend end
    // another role's connections: the open one stays, and the command says so.
    let run = server(&["disable-user", "--name", ZONE_MANAGER], "");
    assert!(run.success, "{}", run.output());
    assert!(
        run.stdout.contains("Its 1 open connection(s) stay open"),
        "{}",
        run.output()
    );
    zoe.query("SELECT 1", &[])
        .expect("the open connection stays");
    assert!(
        Client::connect(&zoe_url, NoTls).is_err(),
        "a disabled login connected"
    );
    let run = server(&["enable-user", "--name", ZONE_MANAGER], "");
    assert!(run.success, "{}", run.output());
    let run = server(
        &["set-password", "--name", ZONE_MANAGER],
        "another long pass phrase\n",
    );
    assert!(run.success, "{}", run.output());
    Client::connect(
        &cluster.url_as(ZONE_MANAGER, "another long pass phrase", "council"),
        NoTls,
    )
    .expect("the new password");
    // The owner's own role is not a Zonewise login to change.
    let run = server(&["disable-user", "--name", "zonewise_owner"], "");
    assert!(!run.success && run.stderr.contains("kept for the server's own roles"));
    let details: Vec<String> = Client::connect(&owner, NoTls)
        .expect("owner")
        .query(
            "SELECT \"user\" || ': ' || action || ' ' || subject || ' ' || detail
             FROM app.audit_log ORDER BY seq",
            &[],
        )
        .expect("log")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        details,
        [
            "zonewise_owner: create_database database created by zonewise server init",
            "zonewise_owner: manage_users zoe added as zone_manager, zones Z1",
            "zonewise_owner: manage_users zoe zones Z1 -> Z2, Z3",
            "zonewise_owner: manage_users zoe disabled",
            "zonewise_owner: manage_users zoe enabled",
            "zonewise_owner: manage_users zoe password reset",
        ]
    );
    let run = server(&["verify"], "");
    assert!(run.success, "{}", run.output());
}

#[test]
fn appends_from_many_clients_at_once_keep_one_chain_and_an_edit_is_found() {
    let team = Team::new();
    // Text that JSON must escape, hashed alike by the server's plpgsql and by Rust.
    team.connect(ANALYST)
        .execute(
            "SELECT app.audit_record('model_run', 'escapes', $1)",
            &[&"quote \" backslash \\ tab\t newline\n é ✓ \u{1}"],
        )
        .expect("append");
    let before = team.last_seq();
    let (threads, each) = (8, 25);
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let url = team.url(ANALYST);
            scope.spawn(move || {
                let mut client = Client::connect(&url, NoTls).expect("connect");
                for i in 0..each {
                    client
                        .execute(
                            "SELECT app.audit_record('export', $1, $2)",
                            &[&format!("thread {thread}"), &format!("entry {i}")],
                        )
                        .expect("append");
                }
            });
        }
    });
    let verification = server::verify(&mut team.connect(ANALYST), None).expect("verify");
    assert!(verification.is_intact(), "{}", verification.summary());
    assert_eq!(verification.entries, before + threads * each);
    let per_thread: Vec<i64> = team
        .admin()
        .query(
            "SELECT count(*) FROM app.audit_log WHERE action = 'export' GROUP BY subject ORDER BY subject",
            &[],
        )
        .expect("per thread")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(per_thread, vec![each; threads as usize]);
    // The server's head, exported, checks out as an anchor.
    let anchor: zonewise::audit::Anchor = verification
        .anchor()
        .expect("head")
        .parse()
        .expect("anchor");
    assert!(
        server::verify(&mut team.connect(ANALYST), Some(&anchor))
            .expect("verify")
            .is_intact()
    );

    // An administrator edits one entry: verify names it.
    let tampered = before + 57;
    let original: String = team
        .admin()
        .query_one(
            "SELECT detail FROM app.audit_log WHERE seq = $1",
            &[&tampered],
        )
        .expect("entry")
        .get(0);
    team.admin()
        .execute(
            "UPDATE app.audit_log SET detail = 'nothing happened' WHERE seq = $1",
            &[&tampered],
        )
        .expect("tamper");
    let verification = server::verify(&mut team.connect(SENIOR), None).expect("verify");
    let problem = verification.problem.expect("found");
    assert_eq!((problem.seq, problem.fault), (tampered, Fault::Edited));
    // Put back, then the last entries deleted: found by the head.
    let mut admin = team.admin();
    admin
        .execute(
            "UPDATE app.audit_log SET detail = $1 WHERE seq = $2",
            &[&original, &tampered],
        )
        .expect("put back");
    admin
        .execute(
            "DELETE FROM app.audit_log WHERE seq > $1",
            &[&(before + 100)],
        )
        .expect("cut");
    let restored = server::verify(&mut team.connect(SENIOR), None).expect("verify");
    let problem = restored.problem.expect("cut found");
    assert_eq!(problem.fault, Fault::Truncated, "{}", problem.message);
    assert_eq!(problem.seq, before + 101);
    // The command line says the same and fails.
    let run = zonewise(
        &["server", "verify", "--server", &team.url(SENIOR)],
        &[],
        "",
    );
    assert!(!run.success);
    assert!(run.stderr.contains("are missing"), "{}", run.stderr);
}

/// Row counts of every published table on the server.
pub(crate) fn server_counts(client: &mut Client) -> BTreeMap<String, i64> {
    server::PUBLISHED_TABLES
        .iter()
        .map(|table| {
            let count: i64 = client
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .expect(table)
                .get(0);
            (table.to_string(), count)
        })
        .collect()
}

/// The same, counted in the file.
pub(crate) fn file_counts(db: &Path) -> BTreeMap<String, i64> {
    let conn = zonewise::store::open(db).expect("open");
    server::PUBLISHED_TABLES
        .iter()
        .map(|table| {
            let count: i64 = conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                    row.get(0)
                })
                .expect(table);
            (table.to_string(), count)
        })
        .collect()
}

#[test]
fn publish_copies_the_files_rows_and_a_second_keeps_the_teams_decisions() {
    let team = Team::new();
    let expected = file_counts(&team.county);
    for table in [
        "core.person",
        "core.event",
        "mart.risk_score",
        "mart.uptake_lsoa",
    ] {
        assert!(expected[table] > 0, "{table} is empty in the county");
    }
    // Through the command line: the file records the release as an export.
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
    let mut admin = team.admin();
    assert_eq!(server_counts(&mut admin), expected);
    // Values survive the copy: NULLs stay NULL, figures keep their value.
    let conn = zonewise::store::open(&team.county).expect("open");
    let in_file: (i64, f64, f64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM core.person WHERE nhs_number IS NULL),
                    (SELECT sum(score) FROM mart.risk_score),
                    (SELECT sum(x) FROM ref.lsoa_vertex)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .expect("file");
    let exports: i64 = conn
        .query_row(
            "SELECT count(*) FROM app.audit_log WHERE action = 'export' AND subject LIKE 'server %'
               AND detail LIKE 'published % rows in 19 tables'",
            [],
            |row| row.get(0),
        )
        .expect("exports");
    assert_eq!(exports, 1);
    drop(conn);
    let on_server = admin
        .query_one(
            "SELECT (SELECT count(*) FROM core.person WHERE nhs_number IS NULL),
                    (SELECT sum(score) FROM mart.risk_score),
                    (SELECT sum(x) FROM ref.lsoa_vertex)",
            &[],
        )
        .expect("server");
    assert_eq!(on_server.get::<_, i64>(0), in_file.0);
    assert!((on_server.get::<_, f64>(1) - in_file.1).abs() < 1e-6);
    assert!((on_server.get::<_, f64>(2) - in_file.2).abs() < 1e-3);

    // The zone manager records a decision: kept by whoever the login is, with its entry.
    let family = expected_families(&team.county, Some(&team.zone), false)
        .into_keys()
        .next()
        .expect("family");
    let before = team.last_seq();
    team.connect(ZONE_MANAGER)
        .execute(
            "INSERT INTO app.round_decision (family_id, zone_id, reference_date, outcome, note,
                                             decided_by, decided_at)
             VALUES ($1, $2, DATE '2026-01-01', 'Offer early help', 'agreed', 'someone else',
                     TIMESTAMP '2000-01-01')",
            &[&family, &team.zone],
        )
        .expect("decision");
    let entries = team.entries_after(before);
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (
            entries[0].0.as_str(),
            entries[0].1.as_str(),
            entries[0].2.as_str()
        ),
        (ZONE_MANAGER, "decision", family.as_str())
    );

    let second = team.publish().expect("second publish");
    assert_eq!(
        second
            .tables
            .iter()
            .map(|(t, n)| (t.clone(), *n as i64))
            .collect::<BTreeMap<_, _>>(),
        expected
    );
    assert_eq!(server_counts(&mut admin), expected);
    let kept = admin
        .query(
            "SELECT family_id, outcome, decided_by FROM app.round_decision",
            &[],
        )
        .expect("decisions");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].get::<_, String>(0), family);
    assert_eq!(kept[0].get::<_, String>(2), ZONE_MANAGER);
    let publishes: i64 = admin
        .query_one(
            "SELECT count(*) FROM app.audit_log WHERE action = 'publish' AND \"user\" = 'ana'",
            &[],
        )
        .expect("publishes")
        .get(0);
    assert_eq!(publishes, 2);
    assert!(
        server::verify(&mut admin, None)
            .expect("verify")
            .is_intact()
    );
}

#[test]
fn a_publish_that_fails_midway_leaves_the_previous_release_whole() {
    let team = Team::new();
    team.publish().expect("first publish");
    let mut admin = team.admin();
    let first = server_counts(&mut admin);
    let log_before = team.last_seq();
    // A row the server refuses (persons need an id), copied after geography and
    // families: the release fails part-way through.
    {
        let conn = zonewise::store::open(&team.county).expect("open");
        conn.execute_batch(
            "INSERT INTO core.person (person_id, given_name) VALUES (NULL, 'Nobody');
             DELETE FROM ref.lsoa_vertex WHERE lsoa_code = (SELECT min(lsoa_code) FROM ref.lsoa_vertex);",
        )
        .expect("bad row");
    }
    let error = team.publish().expect_err("refused");
    assert!(error.to_string().contains("core.person"), "{error:?}");
    assert_eq!(server_counts(&mut admin), first);
    assert_eq!(team.last_seq(), log_before, "no publish entry");
}

pub(crate) fn path(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}
