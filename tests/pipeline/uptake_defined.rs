//! Services defined as data (age, sex, area, event types, look-back) rather than
//! SQL: their counts against the built-in SQL services and against a query
//! written here another way; their round trip through a services file; an
//! unknown event type refused by name and line; and saving one in the database,
//! which only an analyst may do and after which everyone's map shows it.

use crate::common;

use common::linked_county;
use common::tiny_county::{AFFLUENT_LSOA, DEPRIVED_LSOA, TinyCounty};
use zonewise::access::{Role, Session};
use zonewise::store;
use zonewise::uptake::defined::{Area, Definition, Eligible, Sex};
use zonewise::uptake::saved::{self, SavedError};
use zonewise::uptake::service::{self, Counting, Service};
use zonewise::uptake::{self, UptakeOptions, UptakeTables};

fn defined(name: &str, definition: Definition) -> Service {
    Service {
        name: name.to_string(),
        title: format!("Defined {name}"),
        description: definition.describe(),
        counting: Counting::Defined(definition),
        file: "the test".into(),
        lines: Default::default(),
    }
}

fn definition(
    ages: [u32; 2],
    invited: &[&str],
    attended: &[&str],
    years: Option<u32>,
) -> Definition {
    let events = |list: &[&str]| list.iter().map(|e| e.to_string()).collect();
    Definition {
        eligible: Eligible {
            min_age: ages[0],
            max_age: ages[1],
            sex: Sex::Any,
            area: Area::Whole,
        },
        invited_events: events(invited),
        attended_events: events(attended),
        within_years: years,
    }
}

/// A service counted by SQL, as the built-in services were counted before they
/// were defined as data.
fn sql_service(name: &str, eligible: &str, invited: Option<&str>, attended: &str) -> Service {
    Service {
        name: name.to_string(),
        title: format!("SQL {name}"),
        description: String::new(),
        counting: Counting::Sql(service::SqlQueries {
            eligible: eligible.to_string(),
            invited: invited.map(str::to_string),
            attended: attended.to_string(),
        }),
        file: "the test".into(),
        lines: Default::default(),
    }
}

fn the_built_in_health_check_as_sql() -> Service {
    let people = "SELECT p.lsoa_code, count(*) AS n FROM core.person p
        WHERE age_on(p.birth_date, getvariable('reference_date')) BETWEEN 40 AND 74";
    let with = |types: &str| {
        format!(
            "{people} AND EXISTS (SELECT 1 FROM core.event e WHERE e.person_id = p.person_id
                AND e.event_type IN ({types})
                AND e.event_date >= getvariable('reference_date') - INTERVAL 5 YEAR
                AND e.event_date < getvariable('reference_date'))
             GROUP BY p.lsoa_code"
        )
    };
    sql_service(
        "health_check_sql",
        &format!("{people} GROUP BY p.lsoa_code"),
        Some(&with("'health_check_invited', 'health_check_attended'")),
        &with("'health_check_attended'"),
    )
}

fn the_built_in_childrens_centres_as_sql() -> Service {
    let people = "SELECT p.lsoa_code, count(*) AS n FROM core.person p
        WHERE age_on(p.birth_date, getvariable('reference_date')) BETWEEN 0 AND 4";
    sql_service(
        "childrens_centre_sql",
        &format!("{people} GROUP BY p.lsoa_code"),
        None,
        &format!(
            "{people} AND EXISTS (SELECT 1 FROM core.event e WHERE e.person_id = p.person_id
                AND e.event_type = 'childrens_centre_registration'
                AND e.event_date < getvariable('reference_date'))
             GROUP BY p.lsoa_code"
        ),
    )
}

/// The tables with the service's names taken out, to compare two services' counts.
fn figures_of(mut tables: UptakeTables) -> UptakeTables {
    tables.service.clear();
    tables.title.clear();
    tables.description.clear();
    tables
        .inequality
        .iter_mut()
        .for_each(|i| i.sentence.clear());
    tables
}

fn analyst() -> Session {
    Session {
        user: "ana".to_string(),
        role: Role::Analyst,
        zones: Vec::new(),
    }
}

#[test]
fn a_defined_service_counts_what_an_independent_query_counts() {
    let dir = tempfile::tempdir().expect("temp");
    let conn = store::open(&linked_county(dir.path(), 600, 41)).expect("open");
    let options = UptakeOptions::default();
    let built_ins = service::built_in().expect("built-ins");

    // The built-in services, defined as data, count exactly what SQL written
    // here counts (the queries they had before they were data).
    for (name, by_sql) in [
        ("health_check", the_built_in_health_check_as_sql()),
        ("childrens_centre", the_built_in_childrens_centres_as_sql()),
    ] {
        let built_in = service::find(&built_ins, name).expect("built-in");
        assert!(matches!(built_in.counting, Counting::Defined(_)), "{name}");
        let by_sql = uptake::compute(&conn, &by_sql, &options).expect("SQL service");
        let by_definition = uptake::compute(&conn, built_in, &options).expect("defined");
        assert!(by_sql.county.attended.expect("attended") > 20, "{name}");
        assert_eq!(figures_of(by_definition), figures_of(by_sql), "{name}");
    }

    // Women aged 40–74 in one authority, invited or checked in the three years
    // before 1 April 2026, checked in them: against a query written here with
    // ages as a birth-date window and the look-back as a date range.
    let authority: String = conn
        .query_row(
            "SELECT l.la_code FROM core.person p JOIN ref.lsoa l USING (lsoa_code)
             GROUP BY ALL ORDER BY count(*) DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .expect("an authority");
    let mut women = definition(
        [40, 74],
        &["health_check_invited", "health_check_attended"],
        &["health_check_attended"],
        Some(3),
    );
    women.eligible.sex = Sex::Female;
    women.eligible.area = Area::Authorities(vec![authority.clone()]);
    let tables = uptake::compute(&conn, &defined("women", women), &options).expect("women");
    assert_eq!(tables.reference_date.to_string(), "2026-04-01");
    let direct: Vec<(String, i64, i64, i64)> = conn
        .prepare(
            "WITH eligible AS (
                 SELECT p.person_id, p.lsoa_code FROM core.person p JOIN ref.lsoa l USING (lsoa_code)
                 WHERE p.sex = 'F' AND l.la_code = ?
                   AND p.birth_date > DATE '1951-04-01' AND p.birth_date <= DATE '1986-04-01'),
             invited AS (
                 SELECT DISTINCT person_id FROM eligible JOIN core.event USING (person_id)
                 WHERE event_type IN ('health_check_invited', 'health_check_attended')
                   AND event_date BETWEEN DATE '2023-04-01' AND DATE '2026-03-31'),
             attended AS (
                 SELECT DISTINCT person_id FROM invited JOIN core.event USING (person_id)
                 WHERE event_type = 'health_check_attended'
                   AND event_date BETWEEN DATE '2023-04-01' AND DATE '2026-03-31')
             SELECT lsoa_code, count(*), count(i.person_id), count(a.person_id)
             FROM eligible LEFT JOIN invited i USING (person_id) LEFT JOIN attended a USING (person_id)
             GROUP BY lsoa_code ORDER BY lsoa_code",
        )
        .expect("prepare")
        .query_map([&authority], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let mut counted: Vec<(String, i64, i64, i64)> = tables
        .lsoas
        .iter()
        .filter(|l| l.eligible > Some(0))
        .map(|l| {
            let n = |count: Option<u64>| count.expect("unsuppressed") as i64;
            (l.code.clone(), n(l.eligible), n(l.invited), n(l.attended))
        })
        .collect();
    counted.sort();
    assert_eq!(counted, direct);
    let total =
        |pick: fn(&(String, i64, i64, i64)) -> i64| direct.iter().map(pick).sum::<i64>() as u64;
    assert!(total(|r| r.3) > 0, "someone attended");
    assert_eq!(tables.county.eligible, Some(total(|r| r.1)));
    assert_eq!(tables.county.invited, Some(total(|r| r.2)));
    assert_eq!(tables.county.attended, Some(total(|r| r.3)));
    assert_eq!(
        tables.eligible_without_lsoa,
        Some(0),
        "an area needs an LSOA"
    );
}

#[test]
fn a_defined_service_round_trips_through_a_services_file() {
    let dir = tempfile::tempdir().expect("temp");
    let mut definition = definition(
        [16, 64],
        &["contact"],
        &["referral", "child_in_need"],
        Some(2),
    );
    definition.eligible.sex = Sex::Male;
    definition.eligible.area = Area::Zones(vec!["BCP-01".to_string(), "DOR-02".to_string()]);
    let mut men = defined("men_referred", definition);
    men.description = "Men \"referred\",\nover two lines".to_string();

    // Into a new file, and read back as `zonewise uptake --services` reads it.
    let file = dir.path().join("mine.toml");
    service::write_into_file(&file, &men).expect("written");
    let read = service::load(&file).expect("loads");
    assert_eq!(read.len(), 1);
    assert_eq!(
        (
            &read[0].name,
            &read[0].title,
            &read[0].description,
            &read[0].counting
        ),
        (&men.name, &men.title, &men.description, &men.counting)
    );

    // Into a copy of the built-ins: they and their comments stay, and saving the
    // service again replaces it rather than adding a second.
    let file = dir.path().join("services.toml");
    std::fs::write(&file, service::BUILT_IN_TOML).expect("copy");
    service::write_into_file(&file, &men).expect("merged");
    let mut changed = men.clone();
    changed.title = "Men referred, changed".to_string();
    service::write_into_file(&file, &changed).expect("replaced");
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(
        text.starts_with("# Services whose reach Zonewise measures"),
        "comments kept"
    );
    let read = service::load(&file).expect("loads");
    let names: Vec<&str> = read.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["health_check", "childrens_centre", "men_referred"]);
    assert_eq!(read[2].title, "Men referred, changed");
    assert_eq!(read[2].counting, men.counting);
    let built_ins = service::built_in().expect("built-ins");
    assert_eq!(
        read[..2].iter().map(|s| &s.counting).collect::<Vec<_>>(),
        built_ins.iter().map(|s| &s.counting).collect::<Vec<_>>()
    );

    // A file that is not a services file is never overwritten.
    let other = dir.path().join("criteria.toml");
    std::fs::write(&other, "[[set]]\nname = \"x\"\n").expect("write");
    let error = service::write_into_file(&other, &men)
        .expect_err("refused")
        .to_string();
    assert!(error.contains("criteria.toml"), "{error}");
    assert_eq!(
        std::fs::read_to_string(&other).expect("read"),
        "[[set]]\nname = \"x\"\n"
    );
}

/// A tiny county: two adults in the deprived LSOA (one invited and checked),
/// one in the affluent LSOA.
fn tiny() -> TinyCounty {
    let mut county = TinyCounty::new();
    county.family("F1", Some(DEPRIVED_LSOA));
    county.family("F2", Some(AFFLUENT_LSOA));
    county.person("P1", "F1", "1970-05-01");
    county.person("P2", "F1", "1972-01-01");
    county.person("P3", "F2", "1960-01-01");
    county
        .conn
        .execute_batch(
            "UPDATE core.person p SET lsoa_code = f.lsoa_code FROM core.family f
             WHERE p.family_id = f.family_id;
             INSERT INTO app.load_run VALUES (1, now()::TIMESTAMP, now()::TIMESTAMP, 'tiny.toml',
                 'Tiny', DATE '2026-04-01', 1, 3);",
        )
        .expect("lsoas");
    county.event("P1", "gp", "health_check_invited", "2025-01-10", None);
    county.event("P1", "gp", "health_check_attended", "2025-02-10", None);
    county
}

#[test]
fn an_unknown_event_type_or_area_is_refused_by_name_with_its_line() {
    let county = tiny();
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("mine.toml");
    std::fs::write(
        &file,
        "[[service]]\nname = \"checks\"\ntitle = \"Checks\"\n\
         invited_events = [\"health_check_invited\"]\n\
         attended_events = [\n    \"health_check_attended\",\n    \"health_check_atended\",\n]\n\
         within_years = 5\n\n[service.eligible]\nage = [40, 74]\nzones = [\"Z9\"]\n",
    )
    .expect("write");
    let services = service::load(&file).expect("the file is well formed");
    let error = uptake::compute(&county.conn, &services[0], &UptakeOptions::default())
        .expect_err("refused")
        .to_string();
    for part in [
        "'health_check_atended'".to_string(),
        format!("{}, line 7", file.display()),
        "health_check_attended, health_check_invited".to_string(),
    ] {
        assert!(error.contains(&part), "{part} in {error}");
    }
    // With the typo mended, the zone the database lacks is named.
    let mended = std::fs::read_to_string(&file)
        .expect("read")
        .replace("    \"health_check_atended\",\n", "");
    std::fs::write(&file, mended).expect("write");
    let services = service::load(&file).expect("loads");
    let error = uptake::compute(&county.conn, &services[0], &UptakeOptions::default())
        .expect_err("refused")
        .to_string();
    assert!(
        error.contains("no zone 'Z9'") && error.contains("line 10") && error.contains("Z1"),
        "{error}"
    );
    // And with the zone mended, the one person invited and checked is counted.
    let mended = std::fs::read_to_string(&file)
        .expect("read")
        .replace("Z9", "Z1");
    std::fs::write(&file, mended).expect("write");
    let services = service::load(&file).expect("loads");
    let tables =
        uptake::compute(&county.conn, &services[0], &UptakeOptions::default()).expect("counts");
    assert_eq!(
        (
            tables.county.eligible,
            tables.county.invited,
            tables.county.attended
        ),
        (Some(2), Some(1), Some(1))
    );

    // Mistakes in the definition itself are named with the file and line.
    for (change, expected) in [
        ("age = [40, 74]", "age = [74, 40]", "line 1"),
        ("within_years = 5", "within_years = 0", "line 1"),
        (
            "zones = [\"Z1\"]",
            "zones = [\"Z1\"]\nsex = \"women\"",
            "\"women\"",
        ),
    ]
    .map(|(from, to, expected)| ((from, to), expected))
    {
        let text = std::fs::read_to_string(&file)
            .expect("read")
            .replace(change.0, change.1);
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, text).expect("write");
        let error = service::load(&bad).expect_err("refused").to_string();
        assert!(
            error.contains("bad.toml") && error.contains(expected),
            "{expected} in {error}"
        );
    }
}

#[test]
fn only_an_analyst_saves_a_service_and_every_map_then_shows_it() {
    let county = tiny();
    let conn = &county.conn;
    let checks = defined(
        "checks_in_zone",
        Definition {
            eligible: Eligible {
                min_age: 40,
                max_age: 74,
                sex: Sex::Any,
                area: Area::Zones(vec!["Z1".to_string()]),
            },
            invited_events: vec!["health_check_invited".to_string()],
            attended_events: vec!["health_check_attended".to_string()],
            within_years: Some(5),
        },
    );
    let entries = |action: &str| common::audit_entries(conn, 0, &[action]).len();

    // Refused for every role but the analyst, where it is written, and recorded.
    for role in [
        Role::Commissioner,
        Role::SeniorManager,
        Role::ZoneManager,
        Role::RoundTable,
    ] {
        let session = Session {
            user: "someone".to_string(),
            role,
            zones: Vec::new(),
        };
        let error = saved::save(conn, &session, &checks).expect_err("refused");
        assert!(
            matches!(error, SavedError::Refused { .. }),
            "{role:?}: {error}"
        );
    }
    assert_eq!(
        store::scalar_i64(conn, "SELECT count(*) FROM app.service").expect("n"),
        0
    );
    assert_eq!(entries("define_service"), 4, "each refusal is in the log");

    // Nor does an analyst save SQL, a built-in's name, or an event type the database lacks.
    let sql = the_built_in_health_check_as_sql();
    assert!(matches!(
        saved::save(conn, &analyst(), &sql),
        Err(SavedError::NotData(_))
    ));
    let mut clash = checks.clone();
    clash.name = "health_check".to_string();
    assert!(matches!(
        saved::save(conn, &analyst(), &clash),
        Err(SavedError::BuiltIn(_))
    ));
    let mut typo = checks.clone();
    if let Counting::Defined(definition) = &mut typo.counting {
        definition.attended_events = vec!["checked".to_string()];
    }
    let error = saved::save(conn, &analyst(), &typo)
        .expect_err("unknown event")
        .to_string();
    assert!(
        error.contains("'checked'") && error.contains("app.service"),
        "{error}"
    );
    assert_eq!(
        store::scalar_i64(conn, "SELECT count(*) FROM app.service").expect("n"),
        0
    );
    assert_eq!(entries("define_service"), 4);

    // The analyst's save is kept with its entry, and read back as saved.
    saved::save(conn, &analyst(), &checks).expect("saved");
    assert_eq!(entries("define_service"), 5);
    let available = saved::available(conn).expect("services");
    let names: Vec<&str> = available.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["health_check", "childrens_centre", "checks_in_zone"]
    );
    assert_eq!(available[2].counting, checks.counting);
    assert_eq!(available[2].title, checks.title);

    // A row written round the app holding SQL is refused, not run.
    conn.execute(
        "INSERT INTO app.service VALUES ('sneaky', ?, 'x', now()::TIMESTAMP)",
        [service::BUILT_IN_TOML],
    )
    .expect("insert");
    assert!(matches!(saved::read(conn), Err(SavedError::NotData(_))));
    conn.execute("DELETE FROM app.service WHERE name = 'sneaky'", [])
        .expect("delete");

    // The map reads it for everyone, suppressed like the built-ins: two people
    // eligible in zone Z1, one invited and checked, all withheld at 4.
    let figures = zonewise::report::map::read_map_figures(conn).expect("map");
    let mapped = figures
        .services
        .iter()
        .find(|s| s.name == "checks_in_zone")
        .expect("on the map");
    let county_row = &mapped.published.tables().county;
    assert_eq!(county_row.eligible, None, "withheld: {county_row:?}");
    // Suppressed together with the built-ins, as every other output is.
    let expected = uptake::published(
        conn,
        &available[2],
        &UptakeOptions::default(),
        uptake::DEFAULT_THRESHOLD,
    );
    assert_eq!(mapped.published, expected.expect("published"));
}
