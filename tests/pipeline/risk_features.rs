//! Features and labels on a hand-made county, against values worked out by hand:
//! every feature column of two children, the household, the windows' edges (an
//! event on the first day of a window is in it, one on the reference date is not),
//! and that events on or after the reference date change no feature.

use std::collections::BTreeMap;

use crate::common;

use chrono::NaiveDate;
use common::tiny_county::{AFFLUENT_LSOA, DEPRIVED_LSOA, TinyCounty};
use duckdb::Connection;
use zonewise::risk::{self, features};

/// The reference date of every test here: windows start 2025-01-01 (3 months),
/// 2024-10-01 (6) and 2024-04-01 (12).
fn reference() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 4, 1).expect("date")
}

/// Family F1 in the deprived LSOA: mother M1, partner P1, A18 (18 on the reference
/// date: an adult), C0 (17: a child), C1 (12), C2 (4) and C3 (born after the
/// reference date). Family F2 in the affluent LSOA: parent M2 and D1 (9), no events
/// before the reference date.
fn hand_county() -> TinyCounty {
    let mut county = TinyCounty::new();
    county.family("F1", Some(DEPRIVED_LSOA));
    county.family("F2", Some(AFFLUENT_LSOA));
    for (person, family, birth) in [
        ("M1", "F1", "1990-05-10"),
        ("P1", "F1", "1988-01-01"),
        ("A18", "F1", "2007-04-01"),
        ("C0", "F1", "2007-04-02"),
        ("C1", "F1", "2012-06-15"),
        ("C2", "F1", "2021-04-01"),
        ("C3", "F1", "2025-05-01"),
        ("M2", "F2", "1985-03-03"),
        ("D1", "F2", "2015-09-09"),
    ] {
        county.person(person, family, birth);
    }
    for (person, source, event_type, date, value) in [
        // C1's attendance: 99 before the 12-month window, then 92, 88, 80.
        ("C1", "education", "attendance", "2024-03-28", Some(99.0)),
        ("C1", "education", "attendance", "2024-07-23", Some(92.0)),
        ("C1", "education", "attendance", "2024-12-20", Some(88.0)),
        ("C1", "education", "attendance", "2025-03-28", Some(80.0)),
        ("C1", "education", "suspension", "2025-02-10", Some(3.0)),
        ("C1", "education", "suspension", "2024-11-05", Some(2.0)),
        ("C1", "education", "suspension", "2024-05-01", Some(1.0)),
        ("C1", "social_care", "contact", "2025-03-31", None),
        // On the reference date itself: not a feature.
        ("C1", "social_care", "referral", "2025-04-01", None),
        ("C1", "social_care", "child_in_need", "2024-06-01", None),
        ("C1", "social_care", "child_protection", "2023-01-01", None),
        ("C1", "police", "offending", "2025-01-15", None),
        ("C1", "health", "ae_attendance", "2024-09-30", None),
        // After the outcome period (R + 12 months exactly): label 0.
        ("C1", "social_care", "looked_after", "2026-04-01", None),
        ("C2", "health", "ae_attendance", "2025-02-01", None),
        ("C2", "health", "ae_attendance", "2024-12-01", None),
        ("C2", "health", "health_visiting", "2025-02-15", None),
        // One domestic-abuse incident with three people, and an earlier one.
        ("C2", "police", "domestic_abuse", "2025-03-01", None),
        ("M1", "police", "domestic_abuse", "2025-03-01", None),
        ("P1", "police", "domestic_abuse", "2025-03-01", None),
        ("M1", "police", "domestic_abuse", "2024-08-01", None),
        // On the reference date: C2's label is 1, and no feature sees it.
        ("C2", "social_care", "child_protection", "2025-04-01", None),
        ("P1", "police", "anti_social_behaviour", "2024-05-20", None),
        ("P1", "police", "anti_social_behaviour", "2024-11-11", None),
        ("M1", "health", "ae_attendance", "2025-03-15", None),
        (
            "M1",
            "public_health",
            "health_check_attended",
            "2025-03-01",
            None,
        ),
        ("M1", "housing", "rent_arrears", "2024-12-15", Some(300.0)),
        ("M1", "housing", "rent_arrears", "2024-06-10", Some(800.0)),
        // On the first day of the 12-month window: counted.
        (
            "M1",
            "housing",
            "homelessness_application",
            "2024-04-01",
            None,
        ),
        ("P1", "benefits", "claim_start", "2019-05-01", None),
        ("M1", "benefits", "claim_start", "2020-01-01", None),
        ("M1", "benefits", "claim_end", "2021-01-01", None),
        ("A18", "benefits", "claim_start", "2024-05-05", None),
        // D1's only event is in the outcome period: label 1.
        ("D1", "social_care", "looked_after", "2026-03-31", None),
    ] {
        county.event(person, source, event_type, date, value);
    }
    county
}

/// Every feature of one child as text (NULL as None), by column name.
fn features_of(conn: &Connection, person: &str) -> BTreeMap<String, Option<String>> {
    features::feature_columns()
        .into_iter()
        .map(|column| {
            let value: Option<String> = conn
                .query_row(
                    &format!(
                        "SELECT {column}::VARCHAR FROM mart.risk_feature
                         WHERE person_id = ? AND reference_date = DATE '2025-04-01'"
                    ),
                    [person],
                    |row| row.get(0),
                )
                .unwrap_or_else(|e| panic!("{column} of {person}: {e}"));
            (column, value)
        })
        .collect()
}

/// Expected features: every column 0 unless listed; `None` for a NULL.
fn expected(values: &[(&str, Option<f64>)]) -> BTreeMap<String, Option<f64>> {
    let mut all: BTreeMap<String, Option<f64>> = features::feature_columns()
        .into_iter()
        .map(|c| (c, Some(0.0)))
        .collect();
    for (column, value) in values {
        assert!(all.contains_key(*column), "no feature column {column}");
        all.insert(column.to_string(), *value);
    }
    all
}

fn assert_features(conn: &Connection, person: &str, want: &BTreeMap<String, Option<f64>>) {
    let got = features_of(conn, person);
    for (column, value) in want {
        let actual = got[column].as_ref().map(|text| {
            text.parse::<f64>()
                .unwrap_or_else(|e| panic!("{column}: {text}: {e}"))
        });
        match (value, actual) {
            (Some(w), Some(a)) => assert!(
                (w - a).abs() < 1e-9,
                "{person} {column}: expected {w}, got {a}"
            ),
            (w, a) => assert_eq!(*w, a, "{person} {column}"),
        }
    }
}

/// The family features F1's children share.
const F1_FAMILY: [(&str, Option<f64>); 28] = [
    ("household_size", Some(6.0)),
    ("children_in_family", Some(3.0)),
    ("age_youngest_child", Some(4.0)),
    ("imd_decile", Some(2.0)),
    ("family_out_of_work_benefit", Some(1.0)),
    ("family_ae_attendances_3m", Some(2.0)),
    ("family_ae_attendances_6m", Some(3.0)),
    ("family_ae_attendances_12m", Some(4.0)),
    ("family_social_care_contacts_3m", Some(1.0)),
    ("family_social_care_contacts_6m", Some(1.0)),
    ("family_social_care_contacts_12m", Some(1.0)),
    ("family_rent_arrears_6m", Some(1.0)),
    ("family_rent_arrears_12m", Some(2.0)),
    ("family_homelessness_applications_12m", Some(1.0)),
    ("family_police_domestic_abuse_3m", Some(1.0)),
    ("family_police_domestic_abuse_6m", Some(1.0)),
    ("family_police_domestic_abuse_12m", Some(2.0)),
    ("family_police_anti_social_behaviour_6m", Some(1.0)),
    ("family_police_anti_social_behaviour_12m", Some(2.0)),
    ("family_police_offending_3m", Some(1.0)),
    ("family_police_offending_6m", Some(1.0)),
    ("family_police_offending_12m", Some(1.0)),
    // Last six months: DA 1 Mar, offending 15 Jan, ASB 11 Nov (3); six before: 2.
    ("family_police_incidents_change_12m", Some(1.0)),
    ("family_rent_arrears_amount_12m", Some(1100.0)),
    // Education, social care, police, health; then housing; then benefits.
    ("family_agencies_3m", Some(4.0)),
    ("family_agencies_6m", Some(5.0)),
    ("family_agencies_12m", Some(6.0)),
    ("family_rent_arrears_3m", Some(0.0)),
];

#[test]
fn features_equal_hand_computed_values() {
    let county = hand_county();
    let built = risk::build(&county.conn, reference()).expect("features");
    assert_eq!(built.children, 4, "C0, C1, C2 and D1");
    assert_eq!(built.families, 2);

    let mut c1 = vec![
        ("age_years", Some(12.0)),
        ("attendance_3m", Some(80.0)),
        ("attendance_6m", Some(84.0)),
        ("attendance_12m", Some(260.0 / 3.0)),
        // Last six months' mean (88, 80) minus the six months before (92).
        ("attendance_change_12m", Some(-8.0)),
        ("suspensions_3m", Some(1.0)),
        ("suspensions_6m", Some(2.0)),
        ("suspensions_12m", Some(3.0)),
        ("suspension_days_12m", Some(6.0)),
        ("social_care_contacts_3m", Some(1.0)),
        ("social_care_contacts_6m", Some(1.0)),
        ("social_care_contacts_12m", Some(1.0)),
        ("social_care_plans_12m", Some(1.0)),
        ("social_care_plans_ever", Some(2.0)),
        ("police_offending_3m", Some(1.0)),
        ("police_offending_6m", Some(1.0)),
        ("police_offending_12m", Some(1.0)),
        ("ae_attendances_12m", Some(1.0)),
    ];
    c1.extend(F1_FAMILY);
    assert_features(&county.conn, "C1", &expected(&c1));

    let mut c2 = vec![
        ("age_years", Some(4.0)),
        ("under_five", Some(1.0)),
        ("attendance_3m", None),
        ("attendance_6m", None),
        ("attendance_12m", None),
        ("attendance_change_12m", None),
        ("police_domestic_abuse_3m", Some(1.0)),
        ("police_domestic_abuse_6m", Some(1.0)),
        ("police_domestic_abuse_12m", Some(1.0)),
        ("ae_attendances_3m", Some(1.0)),
        ("ae_attendances_6m", Some(2.0)),
        ("ae_attendances_12m", Some(2.0)),
    ];
    c2.extend(F1_FAMILY);
    assert_features(&county.conn, "C2", &expected(&c2));

    let mut c0 = vec![
        ("age_years", Some(17.0)),
        ("attendance_3m", None),
        ("attendance_6m", None),
        ("attendance_12m", None),
        ("attendance_change_12m", None),
    ];
    c0.extend(F1_FAMILY);
    assert_features(&county.conn, "C0", &expected(&c0));

    let d1 = expected(&[
        ("age_years", Some(9.0)),
        ("attendance_3m", None),
        ("attendance_6m", None),
        ("attendance_12m", None),
        ("attendance_change_12m", None),
        ("household_size", Some(2.0)),
        ("children_in_family", Some(1.0)),
        ("age_youngest_child", Some(9.0)),
        ("imd_decile", Some(9.0)),
    ]);
    assert_features(&county.conn, "D1", &d1);

    let keys: Vec<(String, String, Option<String>, Option<String>)> = county
        .conn
        .prepare("SELECT person_id, family_id, lsoa_code, zone_id FROM mart.risk_feature ORDER BY person_id")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let deprived = Some(DEPRIVED_LSOA.to_string());
    let zone = Some("Z1".to_string());
    assert_eq!(
        keys,
        vec![
            ("C0".into(), "F1".into(), deprived.clone(), zone.clone()),
            ("C1".into(), "F1".into(), deprived.clone(), zone.clone()),
            ("C2".into(), "F1".into(), deprived, zone),
            (
                "D1".into(),
                "F2".into(),
                Some(AFFLUENT_LSOA.to_string()),
                None
            ),
        ],
        "one row per child under 18 on the reference date, none for A18 or the unborn C3"
    );
}

#[test]
fn labels_are_escalations_in_the_twelve_months_from_the_reference_date() {
    let county = hand_county();
    risk::build(&county.conn, reference()).expect("features");
    let labels: Vec<(String, i32, Option<String>, bool)> = county
        .conn
        .prepare(
            "SELECT person_id, label, outcome_date::VARCHAR, follow_up_complete
             FROM mart.risk_label ORDER BY person_id",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        labels,
        vec![
            ("C0".into(), 0, None, true),
            // Looked after on 2026-04-01, one day past the period; a referral is not an outcome.
            ("C1".into(), 0, None, true),
            ("C2".into(), 1, Some("2025-04-01".into()), true),
            ("D1".into(), 1, Some("2026-03-31".into()), true),
        ]
    );
    // A reference date whose 12 months run past the data: follow-up incomplete.
    let late = NaiveDate::from_ymd_opt(2025, 10, 1).expect("date");
    let built = risk::build(&county.conn, late).expect("late features");
    assert!(!built.follow_up_complete);
    // Building one date leaves the other's rows alone.
    let earlier: i64 = county
        .conn
        .query_row(
            "SELECT count(*) FROM mart.risk_label WHERE reference_date = DATE '2025-04-01'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(earlier, 4);
}

/// Every row of a table as text, in a stable order.
fn snapshot(conn: &Connection, table: &str, order: &str) -> Vec<String> {
    conn.prepare(&format!(
        "SELECT t::VARCHAR FROM {table} t WHERE reference_date = DATE '2025-04-01' ORDER BY {order}"
    ))
    .expect("prepare")
    .query_map([], |r| r.get(0))
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

#[test]
fn events_on_or_after_the_reference_date_change_no_feature_or_criterion() {
    let mut county = hand_county();
    let set = zonewise::risk::criteria::built_in().expect("rules");
    let rules = zonewise::risk::criteria::find(&set, "supporting-families").expect("set");
    risk::build(&county.conn, reference()).expect("features");
    zonewise::risk::criteria::evaluate(&county.conn, rules, reference()).expect("criteria");
    let features_before = snapshot(&county.conn, "mart.risk_feature", "person_id");
    let criteria_before = snapshot(
        &county.conn,
        "mart.family_criterion",
        "criterion, family_id",
    );
    let evidence_before = snapshot(
        &county.conn,
        "mart.criterion_evidence",
        "criterion, source, line",
    );
    assert_eq!(features_before.len(), 4);

    // Every kind of event, for every person, on the reference date and after it;
    // a claim end that would close P1's claim; attendance that would pull means down.
    for person in ["M1", "P1", "A18", "C0", "C1", "C2", "M2", "D1"] {
        for date in ["2025-04-01", "2025-04-02", "2025-06-30", "2026-01-01"] {
            for (source, event_type, value) in [
                ("education", "attendance", Some(10.0)),
                ("education", "suspension", Some(5.0)),
                ("education", "permanent_exclusion", None),
                ("social_care", "contact", None),
                ("social_care", "referral", None),
                ("social_care", "child_in_need", None),
                ("police", "domestic_abuse", None),
                ("police", "anti_social_behaviour", None),
                ("police", "offending", None),
                ("health", "ae_attendance", None),
                ("housing", "rent_arrears", Some(5000.0)),
                ("housing", "homelessness_application", None),
                ("benefits", "claim_end", None),
                ("benefits", "claim_start", None),
                ("drug_alcohol", "substance_misuse_treatment", None),
            ] {
                county.event(person, source, event_type, date, value);
            }
        }
    }
    risk::build(&county.conn, reference()).expect("features again");
    zonewise::risk::criteria::evaluate(&county.conn, rules, reference()).expect("criteria again");
    assert_eq!(
        snapshot(&county.conn, "mart.risk_feature", "person_id"),
        features_before
    );
    assert_eq!(
        snapshot(
            &county.conn,
            "mart.family_criterion",
            "criterion, family_id"
        ),
        criteria_before
    );
    assert_eq!(
        snapshot(
            &county.conn,
            "mart.criterion_evidence",
            "criterion, source, line"
        ),
        evidence_before
    );

    // The same event a day earlier does change them: the check above can fail.
    county.event("C1", "social_care", "contact", "2025-03-31", None);
    risk::build(&county.conn, reference()).expect("features once more");
    assert_ne!(
        snapshot(&county.conn, "mart.risk_feature", "person_id"),
        features_before
    );
}

#[test]
fn a_failed_build_leaves_the_previous_rows() {
    let county = hand_county();
    risk::build(&county.conn, reference()).expect("features");
    let features = snapshot(&county.conn, "mart.risk_feature", "person_id");
    let labels = snapshot(&county.conn, "mart.risk_label", "person_id");
    // A new child, and the label's source of the extract date gone: the features
    // are rewritten, then the label fails, so neither table may change.
    county.person("C4", "F1", "2019-01-01");
    county
        .conn
        .execute_batch("DROP TABLE app.load_run")
        .expect("drop");
    assert!(risk::build(&county.conn, reference()).is_err());
    assert_eq!(
        snapshot(&county.conn, "mart.risk_feature", "person_id"),
        features
    );
    assert_eq!(
        snapshot(&county.conn, "mart.risk_label", "person_id"),
        labels
    );
}

#[test]
fn features_need_a_linked_database() {
    let conn = zonewise::store::open_in_memory().expect("db");
    let error = risk::build(&conn, reference()).expect_err("nothing linked");
    assert!(error.to_string().contains("zonewise link"), "{error}");
}

#[test]
fn every_feature_is_documented() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/risk.md"))
        .expect("docs/risk.md");
    for column in features::feature_columns() {
        // Windowed columns are documented by their stem, `suspensions_{3,6,12}m`.
        let stem = column
            .strip_suffix("_3m")
            .or_else(|| column.strip_suffix("_6m"))
            .or_else(|| column.strip_suffix("_12m"))
            .map(|stem| format!("`{stem}_{{3,6,12}}m`"))
            .filter(|s| docs.contains(s.as_str()))
            .unwrap_or_else(|| format!("`{column}`"));
        assert!(
            docs.contains(&stem),
            "docs/risk.md does not explain {column}"
        );
    }
}
