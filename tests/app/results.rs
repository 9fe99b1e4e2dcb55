//! The senior manager's results (issue 15): on a generated county with
//! decisions recorded at two rounds, each round's and zone's figures equal counts
//! made here with SQL of their own over the decisions, criteria and families,
//! "flagged" is the agenda's (`report::flags`) and the Families view's at both
//! rounds, outcomes by first decision add up to the Round table's; a zone
//! manager sees only their zones and a commissioner nothing, each read in the
//! audit log first; and the Results view shows the figures and drills from a
//! figure to its families and on to a family, headless.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use egui_kittest::kittest::Queryable;
use zonewise::access::{AccessError, Purpose, Role, Session, Visibility};
use zonewise::audit::Action;
use zonewise::report::family_detail::CLOSED;
use zonewise::report::outcomes::{OutcomeCounts, read_outcomes};
use zonewise::report::results::{Figure, ResultsFigures, read_results};
use zonewise::ui::families_view::FamiliesState;
use zonewise::ui::results_view::ResultsState;
use zonewise::ui::{DatabaseChoice, View, ZonewiseApp};

fn everyone() -> Visibility {
    Session::local_analyst()
        .visibility()
        .expect("analysts see people")
}

fn strings(conn: &duckdb::Connection, sql: &str, params: &[&dyn duckdb::ToSql]) -> Vec<String> {
    conn.prepare(sql)
        .expect("prepare")
        .query_map(params, |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// Families (ids) at `round` in `zone` ("" for every zone) counted by `sql`,
/// which selects `family_id, zone_id` with `$1` the round.
fn counted(conn: &duckdb::Connection, sql: &str, round: &str, zone: &str) -> BTreeSet<String> {
    strings(
        conn,
        &format!("SELECT family_id FROM ({sql}) WHERE $2 = '' OR zone_id = $2"),
        &[&round, &zone],
    )
    .into_iter()
    .collect()
}

/// Each round's decision that counts: the last recorded for a family at it.
const AT_ROUND: &str = "SELECT d.family_id, f.zone_id, d.outcome, d.review_date, d.plan_ends
     FROM app.round_decision d JOIN core.family f USING (family_id)
     WHERE d.reference_date = $1::DATE
     QUALIFY row_number() OVER (PARTITION BY d.family_id ORDER BY d.decided_at DESC) = 1";

/// Each family's standing decision at a round: its last recorded at or before it.
const STANDING: &str = "SELECT d.family_id, f.zone_id, d.outcome, d.review_date, d.plan_ends
     FROM app.round_decision d JOIN core.family f USING (family_id)
     WHERE d.reference_date <= $1::DATE
     QUALIFY row_number() OVER (PARTITION BY d.family_id ORDER BY d.decided_at DESC) = 1";

fn ids(families: Vec<&zonewise::report::results::FamilyAtRound>) -> BTreeSet<String> {
    families.into_iter().map(|f| f.family_id.clone()).collect()
}

/// Records a decision with a plan whose review date has passed by the current
/// round (overdue there) and one whose plan ended before it (not open).
fn record_overdue_and_ended(conn: &duckdb::Connection, previous: &str) {
    use zonewise::report::family_detail::{NewDecision, OUTCOMES, Plan, record_decision};
    let spare: Vec<(String, String)> = conn
        .prepare(
            "SELECT c.family_id, f.zone_id FROM mart.family_criterion c
             JOIN core.family f USING (family_id)
             WHERE c.reference_date = ?::DATE AND f.zone_id IS NOT NULL
               AND c.family_id NOT IN (SELECT family_id FROM app.round_decision)
             GROUP BY ALL ORDER BY 1 DESC LIMIT 2",
        )
        .expect("prepare")
        .query_map([previous], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let next_day = (chrono::NaiveDate::parse_from_str(previous, "%Y-%m-%d").expect("day")
        + chrono::Days::new(1))
    .format("%Y-%m-%d")
    .to_string();
    for (i, (family, zone)) in spare.iter().enumerate() {
        let decision = NewDecision {
            family_id: family.clone(),
            zone_id: Some(zone.clone()),
            reference_date: previous.into(),
            outcome: OUTCOMES[2].into(),
            note: String::new(),
            plan: Some(Plan {
                lead_agency: "Health visiting".into(),
                lead_name: "A. Okafor".into(),
                actions: "Home visits".into(),
                review_date: next_day.clone(),
                ends: (i == 1).then(|| next_day.clone()),
            }),
        };
        record_decision(conn, &decision, "zm").expect("recorded");
    }
}

#[test]
fn results_equal_independent_counts_and_keep_to_the_session() {
    let _turn = common::app::one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::app::assessed_county(dir.path(), 300, 21);
    let conn = zonewise::store::open(&db).expect("open");
    crate::outcomes::record_decisions(&conn);
    let rounds = strings(
        &conn,
        "SELECT DISTINCT strftime(reference_date, '%Y-%m-%d') FROM mart.family_criterion ORDER BY 1",
        &[],
    );
    assert_eq!(rounds.len(), 2, "the county is assessed at two rounds");
    record_overdue_and_ended(&conn, &rounds[0]);
    let mut figures = read_results(&conn, &everyone()).expect("results");
    assert_eq!(figures.rounds, rounds);
    let zones = strings(
        &conn,
        "SELECT zone_id FROM ref.zone ORDER BY name, zone_id",
        &[],
    );
    assert_eq!(
        figures.zones.iter().map(|(id, _)| id).collect::<Vec<_>>(),
        zones.iter().collect::<Vec<_>>()
    );

    // "Flagged" is the Families view's at both rounds (and so the agenda's).
    let families = zonewise::report::families::read_families(&conn, &everyone()).expect("families");
    let flagged_now: BTreeSet<String> = families
        .families
        .iter()
        .filter(|f| f.flagged)
        .map(|f| f.family_id.clone())
        .collect();
    let flagged_before: BTreeSet<String> = families
        .families
        .iter()
        .filter(|f| f.previously_flagged)
        .map(|f| f.family_id.clone())
        .collect();
    assert!(!flagged_now.is_empty());
    assert_eq!(
        ids(figures.behind(&rounds[1], None, &Figure::Flagged)),
        flagged_now
    );
    // Families without a child now are not in the current round's list: compare
    // those that are.
    let before_in_now: BTreeSet<String> = ids(figures.behind(&rounds[0], None, &Figure::Flagged))
        .into_iter()
        .filter(|id| families.family(id).is_some())
        .collect();
    assert_eq!(before_in_now, flagged_before);

    let mut checked = 0;
    for (r, round) in rounds.iter().enumerate() {
        let per_zone = zonewise::report::flags::flagged_per_zone(&conn, round).expect("flags");
        for zone in std::iter::once("").chain(zones.iter().map(String::as_str)) {
            let scope = (!zone.is_empty()).then_some(zone);
            let summary = figures.summary(round, scope);
            let assessed = counted(
                &conn,
                "SELECT DISTINCT c.family_id, f.zone_id FROM mart.family_criterion c
                 JOIN core.family f USING (family_id) WHERE c.reference_date = $1::DATE",
                round,
                zone,
            );
            assert_eq!(summary.assessed, assessed.len(), "{round} {zone}");
            assert_eq!(
                summary.flagged as i64,
                per_zone
                    .iter()
                    .filter(|(z, _)| zone.is_empty() || z == zone)
                    .map(|(_, n)| n)
                    .sum::<i64>(),
                "{round} {zone}: flagged as report::flags counts"
            );
            let discussed = counted(&conn, AT_ROUND, round, zone);
            assert_eq!(summary.discussed, discussed.len());
            let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
            for outcome in strings(
                &conn,
                &format!("SELECT outcome FROM ({AT_ROUND}) WHERE $2 = '' OR zone_id = $2"),
                &[round, &zone],
            ) {
                *by_type.entry(outcome).or_default() += 1;
            }
            assert_eq!(
                summary
                    .decided
                    .iter()
                    .cloned()
                    .collect::<BTreeMap<String, usize>>(),
                by_type
            );
            let plans_agreed = counted(
                &conn,
                &format!(
                    "SELECT family_id, zone_id FROM ({AT_ROUND})
                     WHERE review_date IS NOT NULL AND outcome <> '{CLOSED}'"
                ),
                round,
                zone,
            );
            assert_eq!(summary.plans_agreed, plans_agreed.len());
            let open = format!(
                "SELECT family_id, zone_id, review_date FROM ({STANDING})
                 WHERE review_date IS NOT NULL AND outcome <> '{CLOSED}'
                   AND (plan_ends IS NULL OR plan_ends > $1::DATE)"
            );
            assert_eq!(summary.plans_open, counted(&conn, &open, round, zone).len());
            let overdue = counted(
                &conn,
                &format!("SELECT * FROM ({open}) WHERE review_date <= $1::DATE"),
                round,
                zone,
            );
            assert_eq!(summary.overdue, overdue.len(), "{round} {zone}");
            assert_eq!(ids(figures.behind(round, scope, &Figure::Overdue)), overdue);

            // Days from the first flag: families first decided at this round that
            // were flagged at it or (at the current round) at the previous one.
            let first_here: Vec<(String, String)> = conn
                .prepare(
                    "SELECT d.family_id, strftime(min(d.decided_at)::DATE, '%Y-%m-%d')
                     FROM app.round_decision d JOIN core.family f USING (family_id)
                     WHERE d.reference_date = $1::DATE AND ($2 = '' OR f.zone_id = $2)
                       AND d.family_id NOT IN (SELECT family_id FROM app.round_decision
                                               WHERE reference_date < $1::DATE)
                     GROUP BY ALL",
                )
                .expect("prepare")
                .query_map([round.as_str(), zone], |row| Ok((row.get(0)?, row.get(1)?)))
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows");
            let flag_at = |i: usize| ids(figures.behind(&rounds[i], None, &Figure::Flagged));
            let mut days: Vec<i64> = first_here
                .iter()
                .filter_map(|(family, decided)| {
                    let first = (0..=r).find(|&i| flag_at(i).contains(family))?;
                    let day =
                        |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("day");
                    Some((day(decided) - day(&rounds[first])).num_days())
                })
                .collect();
            days.sort_unstable();
            assert_eq!(summary.timed, days.len());
            let median = match days.len() {
                0 => None,
                n if n % 2 == 1 => Some(days[n / 2] as f64),
                n => Some((days[n / 2 - 1] + days[n / 2]) as f64 / 2.0),
            };
            assert_eq!(summary.median_days, median);

            // By IMD decile: families assessed and plans agreed, counted here.
            let decile_sql = |families: &str| {
                format!(
                    "SELECT l.imd_decile, count(DISTINCT x.family_id) FROM ({families}) x
                     JOIN core.family f USING (family_id)
                     JOIN ref.lsoa l ON l.lsoa_code = f.lsoa_code
                     WHERE $2 = '' OR f.zone_id = $2 GROUP BY 1 ORDER BY 1"
                )
            };
            let by_decile = |families: &str| -> BTreeMap<u8, u64> {
                conn.prepare(&decile_sql(families))
                    .expect("prepare")
                    .query_map([round.as_str(), zone], |row| {
                        Ok((row.get::<_, i32>(0)? as u8, row.get::<_, i64>(1)? as u64))
                    })
                    .expect("query")
                    .collect::<Result<_, _>>()
                    .expect("rows")
            };
            let equity = figures
                .equity_at(&conn, round, scope)
                .expect("equity")
                .clone();
            let read_assessed: BTreeMap<u8, u64> = equity
                .deciles
                .iter()
                .filter(|d| d.assessed > 0)
                .map(|d| (d.decile, d.assessed))
                .collect();
            assert_eq!(
                read_assessed,
                by_decile(
                    "SELECT DISTINCT family_id FROM mart.family_criterion
                     WHERE reference_date = $1::DATE"
                )
            );
            let read_plans: BTreeMap<u8, u64> = equity
                .deciles
                .iter()
                .filter(|d| d.plans_agreed > 0)
                .map(|d| (d.decile, d.plans_agreed))
                .collect();
            assert_eq!(
                read_plans,
                by_decile(&format!(
                    "SELECT family_id FROM ({AT_ROUND})
                     WHERE review_date IS NOT NULL AND outcome <> '{CLOSED}'
                       AND family_id IN (SELECT family_id FROM mart.family_criterion
                                         WHERE reference_date = $1::DATE)"
                ))
            );
            assert_eq!(
                equity
                    .deciles
                    .iter()
                    .map(|d| d.flagged as usize)
                    .sum::<usize>(),
                figures
                    .behind(round, scope, &Figure::Flagged)
                    .iter()
                    .filter(|f| f.imd_decile.is_some())
                    .count()
            );
            checked += summary.discussed + summary.overdue;
        }
    }
    assert!(checked > 0, "a test with teeth");
    assert!(
        figures.summary(&rounds[1], None).overdue > 0,
        "an overdue plan"
    );
    assert!(
        figures.summary(&rounds[0], None).timed > 0,
        "families timed"
    );
    assert!(
        figures
            .equity_at(&conn, &rounds[1], None)
            .expect("equity")
            .flagged
            .sii
            .is_some(),
        "the authority's flags have an SII"
    );

    // Outcomes by first decision, over the rounds, are the Round table's.
    let outcomes = read_outcomes(&conn, &everyone()).expect("outcomes");
    for zone in &outcomes.zones {
        let mut summed: BTreeMap<String, OutcomeCounts> = BTreeMap::new();
        for round in &rounds {
            for (kind, counts) in figures.summary(round, Some(&zone.zone_id)).outcomes {
                let sum = summed.entry(kind).or_default();
                sum.families += counts.families;
                sum.followed_up += counts.followed_up;
                sum.problems_at_decision += counts.problems_at_decision;
                sum.resolved += counts.resolved;
                sum.continuing += counts.continuing;
                sum.new += counts.new;
                sum.escalated += counts.escalated;
            }
        }
        assert_eq!(
            summed,
            zone.by_decision.iter().cloned().collect::<BTreeMap<_, _>>(),
            "{}",
            zone.zone_id
        );
    }

    // A zone manager sees their zone only, the read recorded first.
    let zone = zones[0].clone();
    let manager = Session {
        user: "zm".into(),
        role: Role::ZoneManager,
        zones: vec![zone.clone()],
    };
    let purpose = Purpose {
        action: Action::ListFamilies,
        subject: "results".into(),
        reason: None,
    };
    let seq: i64 = conn
        .query_row("SELECT max(seq) FROM app.audit_log", [], |row| row.get(0))
        .expect("seq");
    let theirs: ResultsFigures =
        zonewise::access::person_query(&conn, &manager, &purpose, read_results).expect("read");
    assert_eq!(theirs.zones, vec![figures.zones[0].clone()]);
    assert!(
        theirs
            .families
            .iter()
            .all(|f| f.zone_id.as_deref() == Some(zone.as_str()))
    );
    assert_eq!(
        theirs.summary(&rounds[1], None),
        figures.summary(&rounds[1], Some(&zone)),
        "their whole is their zone"
    );
    let logged = common::audit_entries(&conn, seq, &["list_families"]);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0].0, "zm");

    // A commissioner gets nothing, and the refusal is recorded.
    let commissioner = Session {
        user: "ph".into(),
        role: Role::Commissioner,
        zones: Vec::new(),
    };
    let refused = zonewise::access::person_query(&conn, &commissioner, &purpose, read_results);
    assert!(
        matches!(refused, Err(AccessError::Denied { .. })),
        "{refused:?}"
    );
    let logged = common::audit_entries(&conn, seq, &["list_families"]);
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert_eq!(logged[1].0, "ph");
    assert!(!Role::Commissioner.may(View::Results.capability()));
    assert!(Role::SeniorManager.may(View::Results.capability()));
}

#[test]
fn the_results_view_shows_the_rounds_and_drills_to_a_family() {
    let _turn = common::app::one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::app::assessed_county(dir.path(), 300, 21);
    let (round, discussed, family) = {
        let conn = zonewise::store::open(&db).expect("open");
        crate::outcomes::record_decisions(&conn);
        let figures = read_results(&conn, &everyone()).expect("results");
        let families =
            zonewise::report::families::read_families(&conn, &everyone()).expect("families");
        let round = figures.rounds[0].clone();
        let discussed = figures.summary(&round, None).discussed;
        // A family discussed then that has a child now, so Families lists it.
        let family = figures
            .behind(&round, None, &Figure::Discussed)
            .into_iter()
            .map(|f| f.family_id.clone())
            .find(|id| families.family(id).is_some())
            .expect("a discussed family on the current round");
        (round, discussed, family)
    };
    assert!(discussed > 0);
    let mut app = ZonewiseApp::new(DatabaseChoice::File(db.clone()));
    app.view = View::Results;
    app.screen_mut::<ResultsState>().round = Some(round.clone());
    let mut harness = common::app::harness(app, 1400.0, 3000.0);
    common::app::wait_for_figures(&mut harness);
    let text = common::app::screen_text(&harness);
    assert!(
        text.contains(&format!("The round of {round}: every zone")),
        "{text}"
    );
    assert!(
        text.contains("By zone") && text.contains("Equity by IMD decile"),
        "{text}"
    );
    assert!(text.contains("slope index of inequality"), "{text}");

    // A figure lists the families behind it…
    harness
        .get_by_label(&format!("Discussed: {discussed}"))
        .click();
    harness.run_steps(3);
    harness.get_by_label(&format!("The {discussed} families discussed"));
    // …and a family opens in Families (its single view read on a job).
    common::app::click_link(&harness, &family);
    harness.run_steps(3);
    common::app::wait_for_figures(&mut harness);
    assert_eq!(harness.state().view, View::Families);
    let opened = harness
        .state()
        .screen::<FamiliesState>()
        .detail
        .as_ref()
        .map(|detail| detail.family_id.clone());
    assert_eq!(opened.as_deref(), Some(family.as_str()));
    common::app::assert_frames_drew_only();
}
