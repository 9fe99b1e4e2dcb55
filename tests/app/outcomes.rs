//! Outcomes of the families a round table discussed (issue 15): on a generated
//! county with decisions recorded at the previous round, each zone's figures
//! (families, followed up, problems then, resolved, continuing, new, escalated,
//! by the type of the first decision) equal a count made here with SQL of its
//! own over the raw criteria, decisions and events; a zone manager sees only
//! their zone's, with the read in the audit log first; and the Round table
//! shows them, headless.

use crate::common;

use std::collections::BTreeMap;

use egui_kittest::kittest::Queryable;
use zonewise::access::{Role, Session, Visibility};
use zonewise::report::family_detail::{NewDecision, OUTCOMES, Plan, record_decision};
use zonewise::report::outcomes::{OutcomeCounts, OutcomesFigures, read_outcomes};
use zonewise::ui::round_table::{Page, RoundTableState};
use zonewise::ui::{DatabaseChoice, View, ZonewiseApp};

fn everyone() -> Visibility {
    Session::local_analyst()
        .visibility()
        .expect("analysts see people")
}

/// (previous round, current round) of the county's criteria.
fn rounds(conn: &duckdb::Connection) -> (String, String) {
    conn.query_row(
        "SELECT strftime(min(reference_date), '%Y-%m-%d'), strftime(max(reference_date), '%Y-%m-%d')
         FROM mart.family_criterion",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .expect("rounds")
}

/// Records decisions at the previous round for families that met criteria then
/// (every outcome type in turn, a plan for all but "No further action" and
/// closing), all of them for families whose child later escalated, a later
/// decision for one family and one decision at the current round. Returns the
/// families decided.
pub fn record_decisions(conn: &duckdb::Connection) -> Vec<String> {
    let (previous, current) = rounds(conn);
    let families: Vec<(String, String)> = conn
        .prepare(
            "WITH escalated AS (
                 SELECT DISTINCT family_id FROM core.event
                 WHERE event_type IN ('child_protection', 'looked_after') AND event_date >= $1::DATE)
             SELECT family_id, zone_id FROM (
                 SELECT DISTINCT c.family_id, f.zone_id FROM mart.family_criterion c
                 JOIN core.family f USING (family_id)
                 WHERE c.reference_date = $1::DATE AND f.zone_id IS NOT NULL
                   AND (c.met OR c.family_id IN (SELECT family_id FROM escalated)))
             ORDER BY family_id IN (SELECT family_id FROM escalated) DESC, hash(family_id)
             LIMIT 40",
        )
        .expect("prepare")
        .query_map([&previous], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert!(families.len() >= 20, "the county has families to decide");
    let review = |round: &str| {
        (chrono::NaiveDate::parse_from_str(round, "%Y-%m-%d").expect("day") + chrono::Days::new(30))
            .format("%Y-%m-%d")
            .to_string()
    };
    let decide = |family: &str, zone: &str, round: &str, outcome: &str| {
        let plan = (outcome != OUTCOMES[0] && outcome != OUTCOMES[4]).then(|| Plan {
            lead_agency: "School".into(),
            lead_name: "J. Patel".into(),
            actions: "Attendance plan".into(),
            review_date: review(round),
            ends: None,
        });
        let decision = NewDecision {
            family_id: family.into(),
            zone_id: Some(zone.into()),
            reference_date: round.into(),
            outcome: outcome.into(),
            note: String::new(),
            plan,
        };
        record_decision(conn, &decision, "zm").expect("recorded");
    };
    for (i, (family, zone)) in families.iter().enumerate() {
        decide(family, zone, &previous, OUTCOMES[i % 4]);
    }
    // A later decision for the first family (its history has two), and a family
    // first discussed at the current round (not yet followed up).
    decide(&families[0].0, &families[0].1, &current, OUTCOMES[4]);
    let now_only: (String, String) = conn
        .query_row(
            "SELECT c.family_id, f.zone_id FROM mart.family_criterion c
             JOIN core.family f USING (family_id)
             WHERE c.reference_date = ?::DATE AND f.zone_id IS NOT NULL
               AND c.family_id NOT IN (SELECT family_id FROM app.round_decision)
             ORDER BY c.family_id LIMIT 1",
            [&current],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("an undecided family");
    decide(&now_only.0, &now_only.1, &current, OUTCOMES[2]);
    families
        .into_iter()
        .map(|(f, _)| f)
        .chain([now_only.0])
        .collect()
}

/// A family counted by hand: zone, first decision, followed up, problems then,
/// resolved, continuing, new, escalated.
type CountedFamily = (String, String, bool, i64, i64, i64, i64, bool);

/// Each zone's counts by first decision type ("" for all), counted here: per
/// family, its first decision (earliest round, last recorded), its criteria then
/// and at the latest round, and whether a child under 18 on the day had a child
/// protection or care episode on or after that round.
fn counted_by_hand(conn: &duckdb::Connection) -> BTreeMap<(String, String), OutcomeCounts> {
    let rows: Vec<CountedFamily> = conn
        .prepare(
            "WITH first AS (
                 SELECT family_id, reference_date AS round, outcome FROM app.round_decision
                 QUALIFY row_number() OVER (PARTITION BY family_id
                                            ORDER BY reference_date, decided_at DESC) = 1),
             latest AS (SELECT max(reference_date) AS day FROM mart.family_criterion
                        WHERE rule_set = 'supporting-families'),
             pairs AS (
                 SELECT fi.family_id, coalesce(a.met, false) AS then_met,
                        coalesce(b.met, false) AS now_met
                 FROM first fi
                 JOIN mart.family_criterion a ON a.family_id = fi.family_id
                      AND a.reference_date = fi.round AND a.rule_set = 'supporting-families'
                 JOIN mart.family_criterion b ON b.family_id = fi.family_id
                      AND b.criterion = a.criterion AND b.rule_set = a.rule_set
                      AND b.reference_date = (SELECT day FROM latest)
                 WHERE fi.round < (SELECT day FROM latest))
             SELECT f.zone_id, fi.outcome,
                    EXISTS (SELECT 1 FROM pairs p WHERE p.family_id = fi.family_id),
                    (SELECT count(*) FROM pairs p WHERE p.family_id = fi.family_id AND then_met),
                    (SELECT count(*) FROM pairs p WHERE p.family_id = fi.family_id AND then_met AND NOT now_met),
                    (SELECT count(*) FROM pairs p WHERE p.family_id = fi.family_id AND then_met AND now_met),
                    (SELECT count(*) FROM pairs p WHERE p.family_id = fi.family_id AND NOT then_met AND now_met),
                    EXISTS (SELECT 1 FROM core.event e JOIN core.person p ON p.person_id = e.person_id
                            WHERE e.family_id = fi.family_id
                              AND e.event_type IN ('child_protection', 'looked_after')
                              AND e.event_date >= fi.round
                              AND p.birth_date <= e.event_date
                              AND p.birth_date > e.event_date - INTERVAL 18 YEAR)
             FROM first fi JOIN core.family f USING (family_id)",
        )
        .expect("prepare")
        .query_map([], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get(6)?,
                row.get(7)?,
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let mut counts: BTreeMap<(String, String), OutcomeCounts> = BTreeMap::new();
    for (zone, outcome, followed, then, resolved, continuing, new, escalated) in rows {
        for key in [(zone.clone(), outcome), (zone, String::new())] {
            let c = counts.entry(key).or_default();
            c.families += 1;
            if followed {
                c.followed_up += 1;
                c.problems_at_decision += then as u64;
                c.resolved += resolved as u64;
                c.continuing += continuing as u64;
                c.new += new as u64;
            }
            c.escalated += u64::from(escalated);
        }
    }
    counts
}

fn as_read(figures: &OutcomesFigures) -> BTreeMap<(String, String), OutcomeCounts> {
    let mut counts = BTreeMap::new();
    for zone in &figures.zones {
        counts.insert((zone.zone_id.clone(), String::new()), zone.total);
        for (kind, c) in &zone.by_decision {
            counts.insert((zone.zone_id.clone(), kind.clone()), *c);
        }
    }
    counts
}

#[test]
fn outcomes_equal_an_independent_count_and_keep_to_the_session_zones() {
    let _turn = common::app::one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::app::assessed_county(dir.path(), 300, 21);
    let conn = zonewise::store::open(&db).expect("open");
    let decided = record_decisions(&conn);
    let figures = read_outcomes(&conn, &everyone()).expect("outcomes");
    let expected = counted_by_hand(&conn);
    assert_eq!(as_read(&figures), expected);
    let all: OutcomeCounts = figures
        .zones
        .iter()
        .fold(OutcomeCounts::default(), |mut sum, z| {
            sum.families += z.total.families;
            sum.followed_up += z.total.followed_up;
            sum.resolved += z.total.resolved;
            sum.new += z.total.new;
            sum.escalated += z.total.escalated;
            sum
        });
    assert_eq!(all.families as usize, decided.len());
    assert_eq!(
        all.followed_up as usize,
        decided.len() - 1,
        "all but today's"
    );
    assert!(
        all.resolved > 0 && all.escalated > 0,
        "{all:?}: a test with teeth"
    );
    // The plan history holds every decision, oldest first.
    let history = figures.history(&decided[0]);
    assert_eq!(history.len(), 2);
    assert!(history[0].decision.reference_date < history[1].decision.reference_date);

    // A zone manager sees their zone only, and the read is recorded first.
    let zone = figures.zones[0].zone_id.clone();
    let manager = Session {
        user: "zm".into(),
        role: Role::ZoneManager,
        zones: vec![zone.clone()],
    };
    let seq: i64 = conn
        .query_row("SELECT max(seq) FROM app.audit_log", [], |row| row.get(0))
        .expect("seq");
    let theirs = zonewise::access::person_query(
        &conn,
        &manager,
        &zonewise::access::Purpose {
            action: zonewise::audit::Action::ListFamilies,
            subject: "outcomes".into(),
            reason: None,
        },
        read_outcomes,
    )
    .expect("read");
    assert_eq!(
        theirs.zones.iter().map(|z| &z.zone_id).collect::<Vec<_>>(),
        [&zone]
    );
    assert!(
        theirs
            .decisions
            .iter()
            .all(|d| d.zone_id.as_deref() == Some(zone.as_str()))
    );
    assert_eq!(theirs.zones[0], figures.zones[0]);
    let logged = common::audit_entries(&conn, seq, &["list_families"]);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0].0, "zm");
}

#[test]
fn the_round_table_shows_a_zone_outcomes_and_a_family_plan_history() {
    let _turn = common::app::one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::app::assessed_county(dir.path(), 300, 21);
    let (zone, counts, family) = {
        let conn = zonewise::store::open(&db).expect("open");
        let decided = record_decisions(&conn);
        let figures = read_outcomes(&conn, &everyone()).expect("outcomes");
        let zone = figures
            .decisions
            .iter()
            .find(|d| d.family_id == decided[0])
            .and_then(|d| d.zone_id.clone())
            .expect("zone");
        let counts = figures.zone(&zone).expect("zone").total;
        (zone, counts, decided[0].clone())
    };
    let mut app = ZonewiseApp::new(DatabaseChoice::File(db.clone()));
    app.view = View::RoundTable;
    app.screen_mut::<RoundTableState>().zone = Some(zone.clone());
    let mut harness = common::app::harness(app, 1280.0, 2400.0);
    common::app::wait_for_figures(&mut harness);
    harness.get_by_label("Outcomes").click();
    harness.run_steps(3);
    assert_eq!(
        harness.state().screen::<RoundTableState>().page,
        Page::Outcomes
    );
    // The local analyst may write the claims (a zone manager may not: the policy's test).
    harness.get_by_label("Write outcome claims…");
    harness.get_by_label(&format!(
        "Outcomes of the {} families discussed",
        counts.families
    ));
    harness.get_by_label(&family).click();
    harness.run_steps(3);
    let text = common::app::screen_text(&harness);
    assert!(text.contains("Plan history"), "{text}");
    assert!(
        text.matches("Round of ").count() >= 2,
        "both decisions of {family}: {text}"
    );
}

/// The figures of one progress test for `family` over the `months` before
/// `claim`, counted here: (events, values, mean, total) of the family's events
/// of the test's types by people of its ages on the claim date.
fn test_figures_by_hand(
    conn: &duckdb::Connection,
    family: &str,
    claim: &str,
    test: &zonewise::report::claims::ProgressTest,
) -> (i64, i64, Option<f64>, Option<f64>) {
    use zonewise::risk::criteria::Who;
    let ages = match test.who {
        Who::Child => "p.birth_date <= $2::DATE AND p.birth_date > $2::DATE - INTERVAL 18 YEAR",
        Who::UnderFive => "p.birth_date <= $2::DATE AND p.birth_date > $2::DATE - INTERVAL 5 YEAR",
        Who::Adult => "p.birth_date <= $2::DATE - INTERVAL 18 YEAR",
        Who::Anyone => "TRUE",
    };
    conn.query_row(
        &format!(
            "SELECT count(*), count(e.value), avg(e.value), sum(e.value)
             FROM core.event e LEFT JOIN core.person p ON p.person_id = e.person_id
             WHERE e.family_id = $1 AND list_contains($3::VARCHAR[], e.event_type)
               AND e.event_date < $2::DATE
               AND e.event_date >= $2::DATE - to_months($4::INTEGER)
               AND {ages}"
        ),
        duckdb::params![
            family,
            claim,
            format!("['{}']", test.event_types.join("','")),
            test.months
        ],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
    )
    .expect("figures")
}

#[test]
fn outcome_claims_carry_each_rule_evidence_and_only_families_meeting_every_rule() {
    use zonewise::report::claims::{self, Measure};
    let _turn = common::app::one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::app::assessed_county(dir.path(), 300, 21);
    let conn = zonewise::store::open(&db).expect("open");
    let (_, current) = rounds(&conn);
    // A round nine months before the latest, so six months of progress can
    // follow plans agreed at it.
    let early = (chrono::NaiveDate::parse_from_str(&current, "%Y-%m-%d").expect("day")
        - chrono::Months::new(9))
    .format("%Y-%m-%d")
    .to_string();
    let sets = zonewise::risk::criteria::built_in().expect("criteria");
    let set = zonewise::risk::criteria::find(&sets, "supporting-families").expect("set");
    zonewise::risk::criteria::evaluate(
        &conn,
        set,
        chrono::NaiveDate::parse_from_str(&early, "%Y-%m-%d").expect("day"),
    )
    .expect("criteria at the early round");
    let families: Vec<(String, String)> = conn
        .prepare(
            "SELECT DISTINCT c.family_id, f.zone_id FROM mart.family_criterion c
             JOIN core.family f USING (family_id)
             WHERE c.reference_date = ?::DATE AND c.met AND f.zone_id IS NOT NULL
             ORDER BY 1 LIMIT 60",
        )
        .expect("prepare")
        .query_map([&early], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for (i, (family, zone)) in families.iter().enumerate() {
        // Every tenth family gets no plan ("No further action"): never claimed.
        let planned = i % 10 != 9;
        let decision = NewDecision {
            family_id: family.clone(),
            zone_id: Some(zone.clone()),
            reference_date: early.clone(),
            outcome: if planned { OUTCOMES[2] } else { OUTCOMES[0] }.into(),
            note: String::new(),
            plan: planned.then(|| Plan {
                lead_agency: "School".into(),
                lead_name: "J. Patel".into(),
                actions: "Attendance plan".into(),
                review_date: current.clone(),
                ends: None,
            }),
        };
        record_decision(&conn, &decision, "zm").expect("recorded");
    }
    let rules = claims::built_in().expect("rules");
    let seq: i64 = conn
        .query_row("SELECT max(seq) FROM app.audit_log", [], |row| row.get(0))
        .expect("seq");
    let out = dir.path().join("claims.csv");
    let summary = claims::write_claims(&conn, &Session::local_analyst(), &rules, "built in", &out)
        .expect("claims written");
    assert_eq!(summary.claim_date, current);
    assert_eq!(summary.in_plan, families.len() - families.len() / 10);

    // Which families meet every rule for the problems they had, worked out here.
    let mut expected = BTreeMap::new();
    for (i, (family, _)) in families.iter().enumerate() {
        if i % 10 == 9 {
            continue;
        }
        let problems: Vec<String> = conn
            .prepare(
                "SELECT criterion FROM mart.family_criterion
                 WHERE family_id = ? AND reference_date = ?::DATE AND met
                   AND rule_set = 'supporting-families'",
            )
            .expect("prepare")
            .query_map([family, &early], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        let mut all_met = true;
        let mut evidence = BTreeMap::new();
        for rule in &rules.rules {
            if !problems.contains(&rule.criterion) {
                continue;
            }
            let mut fragments = Vec::new();
            for test in &rule.tests {
                let (events, valued, mean, sum) =
                    test_figures_by_hand(&conn, family, &current, test);
                let (passes, fragment) = match test.measure {
                    Measure::AtMost(n) => (events <= i64::from(n), format!("{events} events")),
                    Measure::AtLeast(n) => (events >= i64::from(n), format!("{events} events")),
                    Measure::MeanValueAtLeast(x) => (
                        mean.is_some_and(|m| m >= x),
                        mean.map_or("no values".into(), |m| {
                            format!("mean {m:.1} of {valued} values")
                        }),
                    ),
                    Measure::SumValueBelow(x) => (
                        sum.unwrap_or(0.0) < x,
                        format!("total {:.2}", sum.unwrap_or(0.0)),
                    ),
                };
                all_met &= passes;
                fragments.push(fragment);
            }
            evidence.insert(rule.criterion.clone(), fragments);
        }
        if all_met && !problems.is_empty() {
            expected.insert(family.clone(), evidence);
        }
    }
    let claimed = expected.len();
    assert!(
        claimed > 0 && claimed < summary.in_plan,
        "{claimed} of {}: a test with teeth",
        summary.in_plan
    );
    assert_eq!(summary.claimed, claimed);

    let table = common::Table::read(&out, ',');
    let rows = table.by("family_id");
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "claimed: exactly the families meeting every rule"
    );
    for (family, evidence) in &expected {
        let row = &rows[family];
        assert_eq!(row[table.column("plan_round")], early);
        assert_eq!(row[table.column("claim_date")], current);
        for rule in &rules.rules {
            let status = &row[table.column(&rule.criterion)];
            let text = &row[table.column(&format!("{}_evidence", rule.criterion))];
            match evidence.get(&rule.criterion) {
                Some(fragments) => {
                    assert_eq!(status, "met", "{family} {}", rule.criterion);
                    for fragment in fragments {
                        assert!(text.contains(fragment.as_str()), "{fragment} in {text}");
                    }
                }
                None => assert_eq!(status, "not a problem at start"),
            }
        }
    }
    // The read and the file are in the audit log, the file under its path.
    let logged = common::audit_entries(&conn, seq, &["list_families", "export"]);
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert_eq!(logged[0].1, "list_families");
    assert_eq!(
        (logged[1].1.as_str(), logged[1].2.as_str()),
        ("export", out.display().to_string().as_str())
    );
    drop(conn);

    // The command: a bad rules file is named with its line, and nothing written;
    // a zone manager may not run it.
    let bad = dir.path().join("bad-claims.toml");
    std::fs::write(
        &bad,
        claims::BUILT_IN_TOML.replacen("months = 6\nat_most = 0", "months = 60\nat_most = 0", 1),
    )
    .expect("write");
    let bad_line = claims::BUILT_IN_TOML
        .split("months = 6\nat_most = 0")
        .next()
        .expect("before")
        .rfind("[[progress.test]]")
        .map(|at| claims::BUILT_IN_TOML[..at].matches('\n').count() + 1)
        .expect("the test's line");
    let again = dir.path().join("again.csv");
    let db_arg = db.display().to_string();
    let run = common::cli::zonewise(
        &[
            "claims",
            "--db",
            &db_arg,
            "--out",
            &again.display().to_string(),
            "--rules",
            &bad.display().to_string(),
        ],
        &[("ZONEWISE_USER", None)],
        "",
    );
    assert!(!run.success);
    assert!(
        run.output().contains(&format!(
            "claims file {}, line {bad_line}: rule 'education': months must be from 1 to 36",
            bad.display()
        )),
        "{}",
        run.output()
    );
    assert!(!again.exists());
    let run = common::cli::zonewise(
        &[
            "claims",
            "--db",
            &db_arg,
            "--out",
            &again.display().to_string(),
        ],
        &[("ZONEWISE_USER", None)],
        "",
    );
    assert!(run.success, "{}", run.output());
    assert!(
        run.stdout
            .contains(&format!("{claimed} of {} families", summary.in_plan))
    );
    assert_eq!(
        std::fs::read(&again).expect("read"),
        std::fs::read(&out).expect("read")
    );
}
