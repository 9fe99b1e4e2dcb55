//! The commissioner's services, finished: a service counted by an analyst's
//! SQL lists its people and is suppressed with the services it may share them
//! with, or, listing nobody, is refused for published figures by file and line;
//! saved services are changed and deleted by analysts only, each in the audit
//! log; and the form's preview says what saving a service withholds of the
//! others, as saving it then does.

use std::collections::BTreeMap;

use crate::common;

use super::uptake_defined::{
    all_rows, analyst, counts, defined, definition, figures_of, leaks, tiny,
};
use common::linked_county;
use zonewise::access::{Role, Session};
use zonewise::store;
use zonewise::uptake::saved::{self, SavedError};
use zonewise::uptake::service::{self, Counting, Service};
use zonewise::uptake::{self, Level, UptakeError, UptakeOptions, UptakeTables};

/// Health Checks for `ages`, defined as data like the built-in.
fn checks(name: &str, ages: [u32; 2]) -> Service {
    defined(
        name,
        definition(
            ages,
            &["health_check_invited", "health_check_attended"],
            &["health_check_attended"],
            Some(5),
        ),
    )
}

/// The same Health Checks counted by an analyst's SQL, each query one row per
/// person (`person_id`) when `people`, else counts per LSOA (`lsoa_code`, `n`).
fn sql_checks(name: &str, ages: [u32; 2], people: bool) -> Service {
    let who = format!(
        "FROM core.person p
         WHERE age_on(p.birth_date, getvariable('reference_date')) BETWEEN {} AND {}",
        ages[0], ages[1]
    );
    let with = |types: &str| {
        format!(
            " AND EXISTS (SELECT 1 FROM core.event e WHERE e.person_id = p.person_id
                AND e.event_type IN ({types})
                AND e.event_date >= getvariable('reference_date') - INTERVAL 5 YEAR
                AND e.event_date < getvariable('reference_date'))"
        )
    };
    let query = |condition: String| {
        if people {
            format!("SELECT p.person_id {who}{condition}")
        } else {
            format!("SELECT p.lsoa_code, count(*) AS n {who}{condition} GROUP BY p.lsoa_code")
        }
    };
    Service {
        name: name.to_string(),
        title: format!("SQL {name}"),
        description: String::new(),
        counting: Counting::Sql(service::SqlQueries {
            eligible: query(String::new()),
            invited: Some(query(with(
                "'health_check_invited', 'health_check_attended'",
            ))),
            attended: query(with("'health_check_attended'")),
        }),
        file: "the test".into(),
        lines: Default::default(),
    }
}

/// An analyst's SQL Health Checks for ages 48–74 and 40–75, listing their
/// people, beside the built-in 40–74 and a saved 40–47. Suppressed alone, as an
/// SQL service was, 40–74 less 40–47 less 48–74 and 40–75 less 40–74 give small
/// counts away; published, none can be worked out from the published tables of
/// the built-in, the saved service and the SQL one (checked by the test's own
/// attack, not suppression's code). Counted, an SQL service listing people
/// gives what the same service defined as data gives. One returning counts per
/// LSOA is refused for publication, naming its file and line, and counted
/// unpublished at 0.
#[test]
fn an_sql_service_listing_people_cannot_be_subtracted_to_reveal_a_small_count() {
    let dir = tempfile::tempdir().expect("temp");
    let conn = store::open(&linked_county(dir.path(), 600, 43)).expect("open");
    let options = UptakeOptions::default();
    let threshold = uptake::DEFAULT_THRESHOLD;
    let all_ages = service::find(&service::built_in().expect("built-ins"), "health_check")
        .expect("built-in")
        .clone();

    // Listing people, SQL counts what the definition counts.
    let as_sql = uptake::compute(&conn, &sql_checks("sql", [40, 74], true), &options)
        .expect("SQL listing people");
    let as_data = uptake::compute(&conn, &all_ages, &options).expect("built-in");
    assert_eq!(figures_of(as_sql), figures_of(as_data));

    let younger = checks("checks_40_47", [40, 47]);
    saved::save(&conn, &analyst(), &younger).expect("saved");
    let older = sql_checks("sql_48_74", [48, 74], true);
    let wider = sql_checks("sql_40_75", [40, 75], true);
    let alone = |service: &Service| {
        let computed = uptake::compute(&conn, service, &options).expect("computed");
        uptake::suppress(&computed, threshold).tables().clone()
    };
    let published = |service: &Service| -> UptakeTables {
        uptake::published(&conn, service, &options, threshold)
            .expect("published")
            .tables()
            .clone()
    };
    // As before: the built-in and the saved service as everyone gets them, the
    // SQL ones suppressed by themselves.
    let [w, a] = [&all_ages, &younger].map(published);
    let [b, x] = [&older, &wider].map(alone);
    let before = leaks(&w, [&a, &b], &[(&w, &a), (&w, &b), (&x, &w)], threshold);
    assert!(
        !before.is_empty(),
        "suppressed alone, the SQL services give small counts away: {before:?}"
    );

    // Now: each SQL service published (the command's, the export's figures)
    // beside the built-in's and the saved service's as everyone gets them.
    let [b, x] = [&older, &wider].map(published);
    let found = leaks(
        &w,
        [&a, &b],
        &[(&w, &a), (&w, &b), (&x, &w), (&x, &a)],
        threshold,
    );
    assert_eq!(found, Vec::<String>::new());
    for tables in [&b, &x] {
        for row in all_rows(tables) {
            for (count, n) in counts(&row) {
                let small = matches!(n, Some(n) if (1..=threshold).contains(&n));
                assert!(!small, "{} {count}: {n:?}", row.code);
            }
        }
    }
    // And what they publish is still worth reading.
    assert!(x.county.eligible.is_some() && b.county.attended.is_some());

    // Counts per LSOA only: refused for publication by file and line, before
    // anything is written; counted unpublished at 0 for the analyst.
    let file = dir.path().join("mine.toml");
    let counting = sql_checks("sql_counts", [40, 75], false);
    let Counting::Sql(queries) = &counting.counting else {
        unreachable!("SQL")
    };
    std::fs::write(
        &file,
        format!(
            "# An analyst's services\n\n[[service]]\nname = \"sql_counts\"\ntitle = \"Counts\"\n\
             eligible = '''{}'''\ninvited = '''{}'''\nattended = '''{}'''\n",
            queries.eligible,
            queries.invited.as_deref().expect("invited"),
            queries.attended
        ),
    )
    .expect("write");
    let counting = service::load(&file).expect("loads").remove(0);
    let marts = |conn: &duckdb::Connection| {
        store::scalar_i64(conn, "SELECT count(*) FROM mart.uptake_lsoa").expect("mart")
    };
    let mart_before = marts(&conn);
    let error = uptake::publish(&conn, &counting, &options, threshold).expect_err("refused");
    assert!(matches!(error, UptakeError::CountsOnly { .. }), "{error}");
    let message = error.to_string();
    for part in [
        format!("service 'sql_counts' ({}, line 3)", file.display()),
        "person_id".to_string(),
        "--suppress 0".to_string(),
    ] {
        assert!(message.contains(&part), "{part} in {message}");
    }
    assert_eq!(marts(&conn), mart_before, "nothing written");
    let unpublished = uptake::published(&conn, &counting, &options, 0).expect("at 0");
    let direct = uptake::compute(&conn, &wider, &options).expect("counted");
    assert_eq!(
        unpublished.tables().county.eligible,
        direct.county.eligible,
        "the same people counted"
    );

    // A person the query lists who is not in core.person is refused by name.
    let mut stranger = sql_checks("stranger", [40, 74], true);
    if let Counting::Sql(queries) = &mut stranger.counting {
        queries.eligible = format!("{} UNION ALL SELECT 'nobody'", queries.eligible);
    }
    let error = uptake::compute(&conn, &stranger, &options)
        .expect_err("unknown person")
        .to_string();
    assert!(
        error.contains("eligible query lists person_id nobody"),
        "{error}"
    );
}

/// Who acted, on what, with what detail, and when, for each `define_service`
/// entry after `seq`.
fn service_entries(conn: &duckdb::Connection, seq: i64) -> Vec<(String, String, String)> {
    conn.prepare(
        "SELECT \"user\", subject, detail FROM app.audit_log
         WHERE action = 'define_service' AND seq > ? AND \"at\" IS NOT NULL ORDER BY seq",
    )
    .expect("prepare")
    .query_map([seq], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

#[test]
fn saved_services_are_changed_and_deleted_by_analysts_only_each_in_the_audit_log() {
    let county = tiny();
    let conn = &county.conn;
    let last = || store::scalar_i64(conn, "SELECT max(seq) FROM app.audit_log").expect("seq");
    let mine = checks("checks_mine", [40, 74]);
    saved::save(conn, &analyst(), &mine).expect("saved");
    // Saved again under its name it is refused: changes are made by `change`.
    assert!(matches!(
        saved::save(conn, &analyst(), &mine),
        Err(SavedError::AlreadySaved(_))
    ));
    let start = last();

    // Changed: read back as changed, for everyone, with who and what in the log.
    let mut changed = checks("checks_mine", [50, 60]);
    changed.title = "Checks at 50–60".to_string();
    saved::change(conn, &analyst(), &changed).expect("changed");
    let read = saved::read(conn).expect("read");
    assert_eq!(read.len(), 1);
    assert_eq!(
        (&read[0].title, &read[0].counting),
        (&changed.title, &changed.counting)
    );
    let entries = service_entries(conn, start);
    assert_eq!(entries.len(), 1);
    let (user, subject, detail) = &entries[0];
    assert_eq!((user.as_str(), subject.as_str()), ("ana", "checks_mine"));
    assert!(
        detail.contains("changed from")
            && detail.contains("aged 40–74")
            && detail.contains("aged 50–60"),
        "{detail}"
    );
    // What `zonewise uptake --service checks_mine` finds is the changed one.
    let available = saved::available(conn).expect("available");
    let found = service::find(&available, "checks_mine").expect("found");
    assert_eq!(found.counting, changed.counting);

    // Any other role is refused, each refusal recorded, nothing changed.
    let start = last();
    for role in [Role::Commissioner, Role::SeniorManager, Role::ZoneManager] {
        let session = Session {
            user: "someone".to_string(),
            role,
            zones: Vec::new(),
        };
        let error = saved::change(conn, &session, &mine).expect_err("refused");
        assert!(
            error.to_string().contains("may not change services"),
            "{error}"
        );
        let error = saved::delete(conn, &session, "checks_mine").expect_err("refused");
        assert!(
            error.to_string().contains("may not delete services"),
            "{error}"
        );
    }
    let refusals = service_entries(conn, start);
    assert_eq!(refusals.len(), 6);
    assert!(
        refusals
            .iter()
            .all(|(user, subject, detail)| user == "someone"
                && subject == "checks_mine"
                && detail.starts_with("refused: a "))
    );
    assert_eq!(
        saved::read(conn).expect("read")[0].counting,
        changed.counting
    );

    // Built-ins are neither changed nor deleted; a name not saved is said so.
    let start = last();
    let built_in = service::built_in().expect("built-ins").remove(0);
    assert!(matches!(
        saved::change(conn, &analyst(), &built_in),
        Err(SavedError::BuiltIn(_))
    ));
    assert!(matches!(
        saved::delete(conn, &analyst(), &built_in.name),
        Err(SavedError::BuiltIn(_))
    ));
    assert!(matches!(
        saved::change(conn, &analyst(), &checks("checks_other", [40, 74])),
        Err(SavedError::NotSaved(_))
    ));
    assert!(matches!(
        saved::delete(conn, &analyst(), "checks_other"),
        Err(SavedError::NotSaved(_))
    ));
    assert_eq!(service_entries(conn, start), Vec::new());

    // Deleted: gone for everyone, the definition it had kept in the log.
    saved::delete(conn, &analyst(), "checks_mine").expect("deleted");
    assert!(saved::read(conn).expect("read").is_empty());
    let entries = service_entries(conn, start);
    assert_eq!(entries.len(), 1);
    assert!(
        entries[0].2.starts_with("deleted Checks at 50–60: ") && entries[0].0 == "ana",
        "{entries:?}"
    );
    let available = saved::available(conn).expect("available");
    assert!(service::find(&available, "checks_mine").is_err());
    let figures = zonewise::report::map::read_map_figures(conn).expect("map");
    assert!(figures.services.iter().all(|s| s.name != "checks_mine"));
}

/// Areas of each level with a count withheld in `after` and none in `before`.
fn withheld_more(before: &UptakeTables, after: &UptakeTables) -> BTreeMap<Level, usize> {
    let mut more = BTreeMap::new();
    for (b, a) in all_rows(before).iter().zip(all_rows(after)) {
        let hidden = |row: &zonewise::uptake::UptakeRow| {
            counts(row).iter().any(|(_, n)| n.is_none())
                && (row.withheld.eligible || row.withheld.invited || row.withheld.attended)
        };
        if hidden(&a) && !hidden(b) {
            *more.entry(a.level).or_default() += 1;
        }
    }
    more
}

/// The preview of 41–74 beside the built-in 40–74 says how many more of the
/// built-in's areas saving it withholds (the 40-year-olds of a decile are few):
/// the areas that the built-in's published tables do withhold once it is saved
/// and did not before. Then the same for a change to it (to 42–74), against the
/// change made.
#[test]
fn the_preview_says_what_saving_a_service_withholds_of_the_others() {
    let dir = tempfile::tempdir().expect("temp");
    let conn = store::open(&linked_county(dir.path(), 600, 43)).expect("open");
    let options = UptakeOptions::default();
    let threshold = uptake::DEFAULT_THRESHOLD;
    let services = service::built_in().expect("built-ins");
    let all_ages = service::find(&services, "health_check").expect("built-in");
    let centres = service::find(&services, "childrens_centre").expect("built-in");
    let published = |service: &Service| {
        uptake::published(&conn, service, &options, threshold)
            .expect("published")
            .tables()
            .clone()
    };
    let as_sentence = |title: &str, more: &BTreeMap<Level, usize>| saved::Cost {
        title: title.to_string(),
        withheld: more.iter().map(|(level, n)| (*level, *n)).collect(),
    };

    let wider = checks("checks_41_74", [41, 74]);
    let preview = saved::preview(&conn, &analyst(), &wider).expect("preview");
    let before = [all_ages, centres].map(published);
    saved::save(&conn, &analyst(), &wider).expect("saved");
    let after = [all_ages, centres].map(published);
    let more = withheld_more(&before[0], &after[0]);
    assert!(
        more.values().sum::<usize>() > 5,
        "the 40-year-olds cost the built-in: {more:?}"
    );
    assert_eq!(
        withheld_more(&before[1], &after[1]),
        BTreeMap::new(),
        "children under five share nobody with it"
    );
    assert_eq!(preview.costs, vec![as_sentence(&all_ages.title, &more)]);
    let sentence = preview.costs[0].sentence();
    assert!(
        sentence.starts_with("Saving this withholds ")
            && more.iter().all(|(level, n)| match level {
                Level::County => sentence.contains("the county total"),
                _ => sentence.contains(&format!("{n} more ")),
            })
            && sentence.ends_with("of NHS Health Check"),
        "{sentence}"
    );

    // Edited to 42–74: the preview replaces the saved version, as the change does.
    let older = checks("checks_41_74", [42, 74]);
    let preview = saved::preview(&conn, &analyst(), &older).expect("preview");
    let before = published(all_ages);
    saved::change(&conn, &analyst(), &older).expect("changed");
    let after = published(all_ages);
    let more = withheld_more(&before, &after);
    let expected: Vec<saved::Cost> = if more.is_empty() {
        Vec::new()
    } else {
        vec![as_sentence(&all_ages.title, &more)]
    };
    assert_eq!(preview.costs, expected);
    // Previewed as saved, a service costs nothing more.
    let again = saved::preview(&conn, &analyst(), &older).expect("preview");
    assert_eq!(again.costs, Vec::new());
}
