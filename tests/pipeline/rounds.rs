//! Monthly rounds (issue 15): on a generated county with its round tables'
//! history imported, the pipeline assesses every monthly round back to the
//! first decision's (each date checked against SQL of its own), a middle
//! round's criteria are those the criteria module writes for that date alone,
//! a family's path round by round equals SQL written here, the Outcomes'
//! "followed up" equals an independent count, and a zone manager reads only
//! the paths of their zones' families, through `access::person_query`.

use std::collections::BTreeSet;

use zonewise::access::{Purpose, Role, Session};
use zonewise::audit::Action;
use zonewise::report::family_path::read_visible_path;
use zonewise::report::outcomes::read_outcomes;
use zonewise::risk::criteria;
use zonewise::risk::rounds::{RoundSpan, prepare_rounds};
use zonewise::synth::round_tables::ROUND_TABLES_FILE;

/// A linked county with its history imported and every round assessed.
fn county(dir: &std::path::Path) -> duckdb::Connection {
    let db = crate::common::linked_county(dir, 300, 41);
    let conn = zonewise::store::open(&db).expect("open");
    zonewise::report::round_history::import(
        &conn,
        &dir.join("county").join(ROUND_TABLES_FILE),
        "analyst",
    )
    .expect("history");
    prepare_rounds(&conn, RoundSpan::History, &mut |_, _| {}).expect("rounds");
    conn
}

fn strings(conn: &duckdb::Connection, sql: &str, params: &[&dyn duckdb::ToSql]) -> Vec<String> {
    conn.prepare(sql)
        .expect("prepare")
        .query_map(params, |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn every_monthly_round_from_the_first_decision_is_assessed_as_on_its_own() {
    let dir = tempfile::tempdir().expect("dir");
    let conn = county(dir.path());

    // The rounds: the extract date and each month before it (the same day),
    // back to the first on or before the earliest decision, worked out in SQL.
    let expected = strings(
        &conn,
        "WITH latest AS (SELECT max(extract_date) AS day FROM app.load_run),
              first AS (SELECT min(reference_date) AS day FROM app.round_decision)
         SELECT strftime((latest.day - to_months(k::INTEGER))::DATE, '%Y-%m-%d')
         FROM latest, first, range(0, 61) t(k)
         WHERE k = 0 OR (latest.day - to_months((k - 1)::INTEGER))::DATE > first.day
         ORDER BY 1",
        &[],
    );
    let assessed = strings(
        &conn,
        "SELECT DISTINCT strftime(reference_date, '%Y-%m-%d') FROM mart.family_criterion ORDER BY 1",
        &[],
    );
    assert_eq!(assessed, expected);
    assert_eq!(assessed.len(), 25, "April 2024 to April 2026: {assessed:?}");
    assert_eq!(assessed[0], "2024-04-01");
    for table in [
        "mart.risk_feature",
        "mart.risk_label",
        "mart.criterion_rule",
    ] {
        let dates = strings(
            &conn,
            &format!(
                "SELECT DISTINCT strftime(reference_date, '%Y-%m-%d') FROM {table} ORDER BY 1"
            ),
            &[],
        );
        assert_eq!(dates, expected, "{table}");
    }

    // A middle round's criteria, written with the others in one pass, are what
    // the criteria module writes for that date alone.
    let middle = &expected[expected.len() / 2];
    let read = |conn: &duckdb::Connection| {
        strings(
            conn,
            "SELECT family_id || ' ' || criterion || ' ' || met || ' ' || evidence_events
             FROM mart.family_criterion WHERE reference_date = ?::DATE ORDER BY 1",
            &[middle],
        )
    };
    let evidence = |conn: &duckdb::Connection| {
        strings(
            conn,
            "SELECT criterion || ' ' || source || ' ' || line FROM mart.criterion_evidence
             WHERE reference_date = ?::DATE ORDER BY 1",
            &[middle],
        )
    };
    let (together, together_evidence) = (read(&conn), evidence(&conn));
    assert!(together.iter().any(|row| row.contains(" true ")));
    let sets = criteria::built_in().expect("rules");
    let set = criteria::find(&sets, criteria::DEFAULT_SET).expect("set");
    let day = chrono::NaiveDate::parse_from_str(middle, "%Y-%m-%d").expect("day");
    criteria::evaluate(&conn, set, day).expect("alone");
    assert_eq!(read(&conn), together);
    assert_eq!(evidence(&conn), together_evidence);

    // Outcomes: a decision is followed up when its family was assessed at its
    // round and at the latest, which came later; counted here by family (its
    // first decision).
    let outcomes = read_outcomes(
        &conn,
        &Session::local_analyst().visibility().expect("analyst"),
    )
    .expect("outcomes");
    let followed_up: u64 = outcomes.zones.iter().map(|z| z.total.followed_up).sum();
    let families: u64 = outcomes.zones.iter().map(|z| z.total.families).sum();
    let counted = zonewise::store::scalar_i64(
        &conn,
        "WITH first AS (
             SELECT family_id, reference_date AS round FROM app.round_decision
             QUALIFY row_number() OVER (PARTITION BY family_id
                                        ORDER BY reference_date, decided_at DESC) = 1),
         latest AS (SELECT max(reference_date) AS day FROM mart.family_criterion)
         SELECT count(*) FROM first fi JOIN core.family f USING (family_id)
         WHERE f.zone_id IS NOT NULL AND fi.round < (SELECT day FROM latest)
           AND fi.family_id IN (SELECT family_id FROM mart.family_criterion
                                WHERE reference_date = fi.round)
           AND fi.family_id IN (SELECT family_id FROM mart.family_criterion
                                WHERE reference_date = (SELECT day FROM latest))",
    )
    .expect("counted");
    assert_eq!(followed_up, counted as u64);
    assert!(
        followed_up * 2 > families,
        "most families discussed are followed up: {followed_up} of {families}"
    );
}

#[test]
fn a_familys_path_is_its_rounds_in_sql_and_a_zone_manager_reads_only_their_zones() {
    let dir = tempfile::tempdir().expect("dir");
    let conn = county(dir.path());
    // A family given a plan and later closed: flagged, discussed, plan, closed.
    let (family, zone): (String, String) = conn
        .query_row(
            "SELECT d.family_id, f.zone_id FROM app.round_decision d
             JOIN core.family f USING (family_id)
             WHERE d.outcome = 'Closed (step down)'
             ORDER BY d.family_id LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("a closed family");
    let analyst = Session::local_analyst().visibility().expect("analyst");
    let path = read_visible_path(&conn, &analyst, &family)
        .expect("path")
        .expect("visible");
    assert!(
        path.windows(2).all(|w| w[0].round > w[1].round),
        "newest first"
    );

    // Each round's criteria met, score and decision, by SQL of its own.
    for step in &path {
        let met: BTreeSet<String> = strings(
            &conn,
            "SELECT criterion FROM mart.family_criterion
             WHERE family_id = ? AND reference_date = ?::DATE AND met",
            &[&family, &step.round],
        )
        .into_iter()
        .collect();
        assert_eq!(
            step.criteria.iter().cloned().collect::<BTreeSet<_>>(),
            met,
            "{}",
            step.round
        );
        let assessed = zonewise::store::scalar_i64(
            &conn,
            &format!(
                "SELECT count(*) FROM mart.family_criterion
                 WHERE family_id = '{family}' AND reference_date = DATE '{}'",
                step.round
            ),
        )
        .expect("assessed");
        assert_eq!(step.assessed, assessed > 0, "{}", step.round);
        let outcome = strings(
            &conn,
            "SELECT outcome FROM app.round_decision WHERE family_id = ? AND reference_date = ?::DATE
             ORDER BY decided_at DESC LIMIT 1",
            &[&family, &step.round],
        );
        assert_eq!(
            step.decision.as_ref().map(|d| d.outcome.clone()),
            outcome.first().cloned(),
            "{}",
            step.round
        );
        // In a plan from an earlier round: the latest earlier decision made one.
        let earlier = strings(
            &conn,
            "SELECT outcome || '|' || coalesce(review_date::VARCHAR, '') FROM app.round_decision
             WHERE family_id = ? AND reference_date < ?::DATE ORDER BY decided_at DESC LIMIT 1",
            &[&family, &step.round],
        );
        let (in_plan, review) = match earlier.first().map(|e| e.split_once('|').expect("|")) {
            Some((outcome, review)) if outcome != "Closed (step down)" && !review.is_empty() => {
                (true, review.to_string())
            }
            _ => (false, String::new()),
        };
        assert_eq!(step.in_plan, in_plan, "{}", step.round);
        assert_eq!(
            step.review_due,
            in_plan && review <= step.round,
            "{}",
            step.round
        );
        // A family in a plan is not ranked, so never flagged (report::flags).
        if step.in_plan {
            assert!(!step.flagged && step.rank.is_none(), "{}", step.round);
        }
        if step.flagged {
            assert!(step.rank.expect("ranked") <= step.capacity.expect("capacity"));
        }
    }
    let standings: Vec<&str> = path.iter().rev().map(|s| s.standing()).collect();
    for stage in ["plan agreed", "closed (stepped down)"] {
        assert!(standings.contains(&stage), "{stage}: {standings:?}");
    }

    // Flagged at a round is the zone's ranking that report::flags makes.
    let flagged = zonewise::report::flags::flagged_per_zone(&conn, &path[0].round).expect("flags");
    assert!(flagged.iter().any(|(z, n)| *z == zone && *n > 0));

    // A zone manager of another zone does not read it; of its zone, does, and
    // the read is recorded first.
    let other: String = conn
        .query_row(
            "SELECT min(zone_id) FROM ref.zone WHERE zone_id <> ?",
            [&zone],
            |row| row.get(0),
        )
        .expect("another zone");
    let manager = |zone: &str| Session {
        user: "zed".into(),
        role: Role::ZoneManager,
        zones: vec![zone.to_string()],
    };
    let purpose = Purpose {
        action: Action::ListFamilies,
        subject: format!("rounds of family {family}"),
        reason: None,
    };
    let read = |session: &Session| {
        zonewise::access::person_query(&conn, session, &purpose, |conn, visibility| {
            read_visible_path(conn, visibility, &family)
        })
        .expect("read")
    };
    assert_eq!(read(&manager(&other)), None);
    assert_eq!(read(&manager(&zone)).as_deref(), Some(path.as_slice()));
    let entries = crate::common::audit_entries(&conn, 0, &["list_families"]);
    assert!(
        entries
            .iter()
            .filter(|(user, _, subject, _)| user == "zed" && subject.contains(&family))
            .count()
            == 2
    );
}
