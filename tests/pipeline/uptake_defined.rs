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
use zonewise::uptake::{self, UptakeOptions, UptakeRow, UptakeTables};

pub(crate) fn defined(name: &str, definition: Definition) -> Service {
    Service {
        name: name.to_string(),
        title: format!("Defined {name}"),
        description: definition.describe(),
        counting: Counting::Defined(definition),
        file: "the test".into(),
        lines: Default::default(),
    }
}

pub(crate) fn definition(
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
pub(crate) fn figures_of(mut tables: UptakeTables) -> UptakeTables {
    tables.service.clear();
    tables.title.clear();
    tables.description.clear();
    tables
        .inequality
        .iter_mut()
        .for_each(|i| i.sentence.clear());
    tables
}

pub(crate) fn analyst() -> Session {
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
pub(crate) fn tiny() -> TinyCounty {
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

/// Every row of a service's tables in one list, in the order suppression sees them.
pub(crate) fn all_rows(tables: &UptakeTables) -> Vec<UptakeRow> {
    let mut rows = tables.lsoas.clone();
    for section in [
        &tables.deciles,
        &tables.quintiles,
        &tables.zones,
        &tables.wards,
        &tables.authorities,
    ] {
        rows.extend(section.iter().cloned());
    }
    rows.push(tables.county.clone());
    rows
}

/// A row's three counts, named.
pub(crate) fn counts(row: &UptakeRow) -> [(&'static str, Option<u64>); 3] {
    [
        ("eligible", row.eligible),
        ("invited", row.invited),
        ("attended", row.attended),
    ]
}

/// What a reader could work out from published tables, checked without the
/// suppression's own code, in each area and count: a count of `whole`'s
/// partition (`whole`, `parts`) withheld while the other two are shown (one
/// less or plus the other gives it), and two shown counts of a `nested` pair (the
/// second's people within the first's) that differ by 1 to `threshold`.
pub(crate) fn leaks(
    whole: &UptakeTables,
    parts: [&UptakeTables; 2],
    nested: &[(&UptakeTables, &UptakeTables)],
    threshold: u64,
) -> Vec<String> {
    let mut found = Vec::new();
    let rows = [whole, parts[0], parts[1]].map(all_rows);
    for i in 0..rows[0].len() {
        for k in 0..3 {
            let shown = rows.iter().filter(|r| counts(&r[i])[k].1.is_some()).count();
            if shown == 2 {
                let (count, _) = counts(&rows[0][i])[k];
                found.push(format!("{} {count}: one part withheld", rows[0][i].code));
            }
        }
    }
    for (big, small) in nested {
        for (b, s) in all_rows(big).iter().zip(all_rows(small)) {
            assert_eq!(
                (b.level, &b.code),
                (s.level, &s.code),
                "same areas in order"
            );
            for ((count, b), (_, s)) in counts(b).into_iter().zip(counts(&s)) {
                if let (Some(b), Some(s)) = (b, s)
                    && (1..=threshold).contains(&b.saturating_sub(s))
                {
                    found.push(format!("{count}: {b} − {s}"));
                }
            }
        }
    }
    found
}

/// Health Checks for ages 40–47 and 48–74 saved beside the built-in 40–74 (the
/// two add up to the third), then one for 40–75 (a few people more than the
/// built-in). Suppressed one at a time, each table withholds its own small
/// counts, yet where the 40–74 and 40–47 counts of an area are both shown, their
/// difference is the 48–74 count that service withholds; and 40–75 less 40–74
/// is the area's 75-year-olds, often 1 to 4. Suppressed together, as every
/// output now is, neither can be done.
#[test]
fn services_that_add_up_to_another_cannot_be_subtracted_to_reveal_a_small_count() {
    let dir = tempfile::tempdir().expect("temp");
    let conn = store::open(&linked_county(dir.path(), 600, 43)).expect("open");
    let options = UptakeOptions::default();
    let threshold = uptake::DEFAULT_THRESHOLD;
    let checks = |name: &str, ages: [u32; 2]| {
        let checks = definition(
            ages,
            &["health_check_invited", "health_check_attended"],
            &["health_check_attended"],
            Some(5),
        );
        defined(name, checks)
    };
    let younger = checks("checks_40_47", [40, 47]);
    let older = checks("checks_48_74", [48, 74]);
    let wider = checks("checks_40_75", [40, 75]);
    let all_ages = service::find(&service::built_in().expect("built-ins"), "health_check")
        .expect("built-in")
        .clone();
    let alone = |service: &Service| {
        let computed = uptake::compute(&conn, service, &options).expect("computed");
        uptake::suppress(&computed, threshold).tables().clone()
    };
    // Each asked for on its own, as the map, the command and the trend ask.
    let together = |service: &Service| {
        uptake::published(&conn, service, &options, threshold)
            .expect("published")
            .tables()
            .clone()
    };

    // One at a time, as before: the leaks are there to find.
    let [w, a, b, x] = [&all_ages, &younger, &older, &wider].map(alone);
    let before = leaks(&w, [&a, &b], &[(&w, &a), (&w, &b), (&x, &w)], threshold);
    assert!(
        before.len() > 10,
        "suppressed alone, the services give small counts away: {before:?}"
    );

    // The two parts saved: none leaks against another, and the map of 40–74 is
    // still worth reading (its eligible counts are all 10 or more a decile, as are
    // each part's; the checks of a part are 1 to 4 in some deciles).
    for service in [&younger, &older] {
        saved::save(&conn, &analyst(), service).expect("saved");
    }
    let [w, a, b] = [&all_ages, &younger, &older].map(together);
    assert_eq!(
        leaks(&w, [&a, &b], &[(&w, &a), (&w, &b)], threshold),
        Vec::<String>::new()
    );
    assert!(w.county.eligible.is_some() && w.county.attended.is_some());
    let deciles = w.deciles.iter().filter(|d| d.eligible.is_some()).count();
    assert!(deciles >= 8, "{deciles} of 10 deciles shown");

    // 40–75 saved too: still nothing, though in this small county the
    // 75-year-olds are few in most deciles, so 40–74 loses what 40–75 would give away.
    saved::save(&conn, &analyst(), &wider).expect("saved");
    let jointly = [&all_ages, &younger, &older, &wider].map(together);
    let [w, a, b, x] = &jointly;
    let nested = [(w, a), (w, b), (x, w), (x, a), (x, b)];
    assert_eq!(leaks(w, [a, b], &nested, threshold), Vec::<String>::new());
    for joint in &jointly {
        for row in all_rows(joint) {
            for (count, n) in counts(&row) {
                let small = matches!(n, Some(n) if (1..=threshold).contains(&n));
                assert!(!small, "{} {count}: {n:?}", row.code);
            }
        }
    }

    // The map suppresses the same services together and shows the same figures.
    let figures = zonewise::report::map::read_map_figures(&conn).expect("map");
    for (service, expected) in [&all_ages, &younger, &older, &wider].iter().zip(&jointly) {
        let mapped = figures
            .services
            .iter()
            .find(|s| s.name == service.name)
            .expect("on the map");
        assert_eq!(mapped.published.tables(), expected, "{}", service.name);
    }
}
