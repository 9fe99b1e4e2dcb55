//! The headline-problem rules on a hand-made county: for every criterion a family
//! with the evidence meets it, a family just short of the threshold (one event too
//! few, a value a little off, an event just outside the window or on the reference
//! date, the wrong person) does not, and the evidence listed is exactly the events
//! that made it pass. Also: a bad criteria file is named with its line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common;

use chrono::NaiveDate;
use common::tiny_county::{DEPRIVED_LSOA, TinyCounty};
use zonewise::risk::criteria::{self, CriteriaError};

type Key = (String, i64);

fn reference() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 4, 1).expect("date")
}

/// The county and, per criterion, the families that should meet it and the
/// evidence each should show.
struct Planted {
    county: TinyCounty,
    expected: BTreeMap<&'static str, BTreeMap<String, BTreeSet<Key>>>,
}

impl Planted {
    /// A family with an adult (born 1985) and a child of ten; returns (adult, child).
    fn household(&mut self, family: &str) -> (String, String) {
        self.county.family(family, Some(DEPRIVED_LSOA));
        let (adult, child) = (format!("{family}-adult"), format!("{family}-child"));
        self.county.person(&adult, family, "1985-01-01");
        self.county.person(&child, family, "2014-06-01");
        (adult, child)
    }

    fn event(
        &mut self,
        person: &str,
        source: &str,
        kind: &str,
        date: &str,
        value: Option<f64>,
    ) -> Key {
        self.county.event(person, source, kind, date, value)
    }

    fn expect(&mut self, criterion: &'static str, family: &str, evidence: &[Key]) {
        self.expected
            .entry(criterion)
            .or_default()
            .entry(family.to_string())
            .or_default()
            .extend(evidence.iter().cloned());
    }
}

/// One family meeting each test of the Supporting Families rules, with its twin just short.
fn planted() -> Planted {
    let mut p = Planted {
        county: TinyCounty::new(),
        expected: BTreeMap::new(),
    };
    // Education: mean attendance below 90.
    let (_, child) = p.household("absent");
    let evidence = ["2024-07-23", "2024-12-20", "2025-03-28"]
        .iter()
        .zip([85.0, 90.0, 89.0])
        .map(|(date, value)| p.event(&child, "education", "attendance", date, Some(value)))
        .collect::<Vec<_>>();
    p.expect("education", "absent", &evidence);
    let (_, child) = p.household("absent-no");
    for (date, value) in [
        ("2024-07-23", 90.0),
        ("2024-12-20", 90.0),
        ("2025-03-28", 90.0),
    ] {
        p.event(&child, "education", "attendance", date, Some(value));
    }
    // Before the window: would pull the mean below 90.
    p.event(&child, "education", "attendance", "2024-03-28", Some(50.0));

    // Education: three suspensions in a year; the twin's third is a day early.
    let (_, child) = p.household("suspended");
    let evidence = ["2024-04-01", "2024-09-10", "2025-03-31"]
        .map(|date| p.event(&child, "education", "suspension", date, Some(1.0)));
    p.expect("education", "suspended", &evidence);
    let (_, child) = p.household("suspended-no");
    for date in ["2024-03-31", "2024-09-10", "2025-03-31"] {
        p.event(&child, "education", "suspension", date, Some(1.0));
    }

    // Education: a permanent exclusion; the twin's is on the reference date.
    let (_, child) = p.household("excluded");
    let evidence = p.event(
        &child,
        "education",
        "permanent_exclusion",
        "2025-01-05",
        None,
    );
    p.expect("education", "excluded", &[evidence]);
    let (_, child) = p.household("excluded-no");
    p.event(
        &child,
        "education",
        "permanent_exclusion",
        "2025-04-01",
        None,
    );

    // Early years: an under-five with two A&E attendances; the twin's two are
    // split between an under-five and a five-year-old.
    p.household("toddler");
    p.county.person("toddler-baby", "toddler", "2022-01-01");
    let evidence = ["2024-05-01", "2025-02-01"]
        .map(|date| p.event("toddler-baby", "health", "ae_attendance", date, None));
    p.expect("early_years", "toddler", &evidence);
    p.household("toddler-no");
    p.county
        .person("toddler-no-baby", "toddler-no", "2022-01-01");
    p.county
        .person("toddler-no-five", "toddler-no", "2020-03-31");
    p.event(
        "toddler-no-baby",
        "health",
        "ae_attendance",
        "2024-05-01",
        None,
    );
    p.event(
        "toddler-no-five",
        "health",
        "ae_attendance",
        "2025-02-01",
        None,
    );

    // Health: one person with three A&E attendances; the twin's three are two people's.
    let (adult, _) = p.household("unwell");
    let evidence = ["2024-05-01", "2024-10-01", "2025-03-01"]
        .map(|date| p.event(&adult, "health", "ae_attendance", date, None));
    p.expect("health", "unwell", &evidence);
    let (adult, child) = p.household("unwell-no");
    p.event(&adult, "health", "ae_attendance", "2024-05-01", None);
    p.event(&adult, "health", "ae_attendance", "2024-10-01", None);
    p.event(&child, "health", "ae_attendance", "2025-03-01", None);

    // Substance use: treatment recorded; the twin's is 13 months before.
    let (adult, _) = p.household("treated");
    let evidence = p.event(
        &adult,
        "drug_alcohol",
        "substance_misuse_treatment",
        "2024-12-01",
        None,
    );
    p.expect("substance_use", "treated", &[evidence]);
    let (adult, _) = p.household("treated-no");
    p.event(
        &adult,
        "drug_alcohol",
        "substance_misuse_treatment",
        "2024-03-01",
        None,
    );

    // Family relationships: two contacts about one child; the twin's are about two children.
    let (_, child) = p.household("contacts");
    let evidence = ["2024-06-01", "2025-01-01"]
        .map(|date| p.event(&child, "social_care", "contact", date, None));
    p.expect("family_relationships", "contacts", &evidence);
    let (_, child) = p.household("contacts-no");
    p.county
        .person("contacts-no-sibling", "contacts-no", "2016-01-01");
    p.event(&child, "social_care", "contact", "2024-06-01", None);
    p.event(
        "contacts-no-sibling",
        "social_care",
        "contact",
        "2025-01-01",
        None,
    );

    // Safe from abuse: a child's referral; the twin's referral is about the adult.
    let (_, child) = p.household("referred");
    let evidence = p.event(&child, "social_care", "referral", "2024-08-08", None);
    p.expect("safe_from_abuse", "referred", &[evidence]);
    let (adult, _) = p.household("referred-no");
    p.event(&adult, "social_care", "referral", "2024-08-08", None);

    // Crime: an offence; the twin's is on the reference date.
    let (adult, _) = p.household("offending");
    let evidence = p.event(&adult, "police", "offending", "2024-04-02", None);
    p.expect("crime", "offending", &[evidence]);
    let (adult, _) = p.household("offending-no");
    p.event(&adult, "police", "offending", "2025-04-01", None);

    // Domestic abuse: an incident with two people; the twin's is a day before the window.
    let (adult, child) = p.household("abuse");
    let evidence =
        [&adult, &child].map(|who| p.event(who, "police", "domestic_abuse", "2024-04-01", None));
    p.expect("domestic_abuse", "abuse", &evidence);
    let (adult, _) = p.household("abuse-no");
    p.event(&adult, "police", "domestic_abuse", "2024-03-31", None);

    // Secure housing: a homelessness application, or arrears totalling £1,000.
    let (adult, _) = p.household("homeless");
    let evidence = p.event(
        &adult,
        "housing",
        "homelessness_application",
        "2025-02-02",
        None,
    );
    p.expect("secure_housing", "homeless", &[evidence]);
    let (adult, _) = p.household("arrears");
    let evidence = p.event(
        &adult,
        "housing",
        "rent_arrears",
        "2024-10-10",
        Some(1000.0),
    );
    p.expect("secure_housing", "arrears", &[evidence]);
    let (adult, _) = p.household("arrears-no");
    p.event(&adult, "housing", "rent_arrears", "2024-10-10", Some(999.5));

    // Financial stability: an open out-of-work claim (the end is on the reference
    // date, so still open); the twin's claim has ended.
    let (adult, _) = p.household("claiming");
    let evidence = p.event(&adult, "benefits", "claim_start", "2019-06-01", None);
    p.event(&adult, "benefits", "claim_end", "2025-04-01", None);
    p.expect("financial_stability", "claiming", &[evidence]);
    let (adult, _) = p.household("claiming-no");
    p.event(&adult, "benefits", "claim_start", "2019-06-01", None);
    p.event(&adult, "benefits", "claim_end", "2020-06-01", None);

    // Financial stability: two arrears in the family together, one each of two adults;
    // the twin's second is outside the window.
    let (adult, _) = p.household("debts");
    p.county.person("debts-partner", "debts", "1983-01-01");
    let evidence = [
        p.event(&adult, "housing", "rent_arrears", "2024-05-05", Some(100.0)),
        p.event(
            "debts-partner",
            "housing",
            "rent_arrears",
            "2025-03-03",
            Some(100.0),
        ),
    ];
    p.expect("financial_stability", "debts", &evidence);
    let (adult, _) = p.household("debts-no");
    p.event(&adult, "housing", "rent_arrears", "2024-03-03", Some(100.0));
    p.event(&adult, "housing", "rent_arrears", "2025-03-03", Some(100.0));

    // A family with no child on the reference date is not assessed at all.
    p.county.family("grown-up", Some(DEPRIVED_LSOA));
    p.county.person("grown-up-adult", "grown-up", "1960-01-01");
    p.event("grown-up-adult", "police", "offending", "2024-12-12", None);
    p
}

/// Families meeting each criterion, and each one's evidence keys, from the mart.
fn met(county: &TinyCounty, set: &str) -> BTreeMap<String, BTreeMap<String, BTreeSet<Key>>> {
    let mut result: BTreeMap<String, BTreeMap<String, BTreeSet<Key>>> = BTreeMap::new();
    let mut statement = county
        .conn
        .prepare(
            "SELECT criterion, family_id, evidence_events FROM mart.family_criterion
             WHERE rule_set = ? AND met",
        )
        .expect("prepare");
    let rows: Vec<(String, String, i64)> = statement
        .query_map([set], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for (criterion, family, count) in rows {
        let evidence: BTreeSet<Key> = county
            .conn
            .prepare(
                "SELECT source, line FROM mart.criterion_evidence
                 WHERE rule_set = ? AND criterion = ? AND family_id = ?",
            )
            .expect("prepare")
            .query_map(duckdb::params![set, criterion, family], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(evidence.len() as i64, count, "{criterion} {family}");
        result
            .entry(criterion)
            .or_default()
            .insert(family, evidence);
    }
    result
}

#[test]
fn each_supporting_families_criterion_fires_exactly_on_its_evidence() {
    let planted = planted();
    let sets = criteria::built_in().expect("rules");
    let set = criteria::find(&sets, "supporting-families").expect("set");
    let summary = criteria::evaluate(&planted.county.conn, set, reference()).expect("criteria");
    assert!(
        summary
            .criteria
            .iter()
            .all(|c| planted.expected.contains_key(c.name.as_str())),
        "every criterion has a planted family"
    );
    let got = met(&planted.county, "supporting-families");
    for criterion in &set.criteria {
        let want = &planted.expected[criterion.name.as_str()];
        let empty = BTreeMap::new();
        assert_eq!(
            got.get(&criterion.name).unwrap_or(&empty),
            want,
            "criterion {}",
            criterion.name
        );
    }
    // One row per family with a child and criterion; the adults-only family is not assessed.
    let families: i64 = planted
        .county
        .conn
        .query_row(
            "SELECT count(DISTINCT family_id) FROM mart.family_criterion WHERE rule_set = 'supporting-families'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(families as u64, summary.families);
    let planted_families: i64 = planted
        .county
        .conn
        .query_row("SELECT count(*) - 1 FROM core.family", [], |r| r.get(0))
        .expect("count");
    assert_eq!(families, planted_families);
    let rows: i64 = planted
        .county
        .conn
        .query_row("SELECT count(*) FROM mart.family_criterion", [], |r| {
            r.get(0)
        })
        .expect("count");
    assert_eq!(rows, families * 10);
    for criterion in &summary.criteria {
        assert_eq!(
            criterion.families_met as usize,
            planted.expected[criterion.name.as_str()].len(),
            "{}",
            criterion.name
        );
    }
    // Each rule is stored in words with its threshold.
    let rule: String = planted
        .county
        .conn
        .query_row(
            "SELECT rule FROM mart.criterion_rule WHERE criterion = 'secure_housing'",
            [],
            |r| r.get(0),
        )
        .expect("rule");
    assert!(rule.contains("totalling at least 1000"), "{rule}");
}

#[test]
fn troubled_families_2015_rules_use_the_same_evidence() {
    let planted = planted();
    let sets = criteria::built_in().expect("rules");
    let set = criteria::find(&sets, "troubled-families-2015").expect("set");
    criteria::evaluate(&planted.county.conn, set, reference()).expect("criteria");
    let got = met(&planted.county, "troubled-families-2015");
    let e = &planted.expected;
    let union = |a: &str, b: &str| {
        let mut all = e[a].clone();
        all.extend(e[b].clone());
        all
    };
    for (criterion, want) in [
        ("crime_asb", e["crime"].clone()),
        ("school_attendance", e["education"].clone()),
        ("children_need_help", e["safe_from_abuse"].clone()),
        ("worklessness", e["financial_stability"].clone()),
        ("domestic_abuse", e["domestic_abuse"].clone()),
        ("health", union("health", "substance_use")),
    ] {
        assert_eq!(
            got.get(criterion).cloned().unwrap_or_default(),
            want,
            "{criterion}"
        );
    }
    // Applying one set leaves the other's rows alone.
    criteria::evaluate(
        &planted.county.conn,
        criteria::find(&sets, "supporting-families").expect("set"),
        reference(),
    )
    .expect("criteria");
    assert_eq!(met(&planted.county, "troubled-families-2015"), got);
}

#[test]
fn an_analysts_thresholds_change_who_meets_a_criterion() {
    let planted = planted();
    let text =
        criteria::BUILT_IN_TOML.replace("mean_value_below = 90.0", "mean_value_below = 90.5");
    let sets = criteria::parse(&text, Path::new("mine.toml")).expect("edited rules");
    let set = criteria::find(&sets, "supporting-families").expect("set");
    criteria::evaluate(&planted.county.conn, set, reference()).expect("criteria");
    let education: BTreeSet<String> = met(&planted.county, "supporting-families")["education"]
        .keys()
        .cloned()
        .collect();
    assert!(education.contains("absent-no"), "{education:?}");
}

fn parse_error(text: &str) -> String {
    match criteria::parse(text, Path::new("my-criteria.toml")) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(error) => error.to_string(),
    }
}

const GOOD: &str = r#"
[[set]]
name = "mine"
title = "Mine"
eligible_at = 1

[[set.criterion]]
name = "crime"
title = "Crime"

[[set.criterion.test]]
event_types = ["offending"]
who = "anyone"
window_months = 12
at_least = 1
"#;

#[test]
fn bad_criteria_files_are_named_with_their_line() {
    assert!(criteria::parse(GOOD, Path::new("ok.toml")).is_ok());

    // An unknown key: toml names the file's line and the key.
    let error = parse_error(&GOOD.replace("at_least = 1", "at_least = 1\nthreshold = 2"));
    assert!(
        error.contains("my-criteria.toml")
            && error.contains("line 16")
            && error.contains("threshold"),
        "{error}"
    );
    // A wrong type.
    let error = parse_error(&GOOD.replace("window_months = 12", "window_months = \"twelve\""));
    assert!(
        error.contains("my-criteria.toml")
            && error.contains("line 14")
            && error.contains("window_months"),
        "{error}"
    );
    // An unknown person group.
    let error = parse_error(&GOOD.replace("\"anyone\"", "\"teenager\""));
    assert!(
        error.contains("line 13") && error.contains("teenager"),
        "{error}"
    );
    // Two measures in one test: the test's line.
    let error =
        parse_error(&GOOD.replace("at_least = 1", "at_least = 1\nsum_value_at_least = 5.0"));
    assert!(
        error.contains("my-criteria.toml, line 11") && error.contains("exactly one of"),
        "{error}"
    );
    // No measure at all.
    let error = parse_error(&GOOD.replace("at_least = 1", ""));
    assert!(
        error.contains("line 11") && error.contains("exactly one of"),
        "{error}"
    );
    // More criteria needed than the set has.
    let error = parse_error(&GOOD.replace("eligible_at = 1", "eligible_at = 2"));
    assert!(
        error.contains("line 2") && error.contains("eligible_at"),
        "{error}"
    );
    // Not TOML at all.
    let error = parse_error("[[set]\nname = ");
    assert!(
        error.contains("my-criteria.toml") && error.contains("line 1"),
        "{error}"
    );
    // A missing file is named.
    match criteria::load(Path::new("/nonexistent/criteria.toml")) {
        Err(CriteriaError::Read { path, .. }) => assert!(path.ends_with("criteria.toml")),
        other => panic!("expected a read error, got {other:?}"),
    }
}

/// Event types that look like SQL, quote and all, or hold a NUL (which no SQL text
/// can carry, so pasting them failed): the rules are data, so they match only
/// events of exactly that type, and nothing else in the database changes.
#[test]
fn rule_text_that_looks_like_sql_only_matches_events_of_that_type() {
    const ODD: &str = r#"o'neil; DELETE FROM app."user"; DROP TABLE core.event; --"#;
    const ODD_END: &str = "x') OR TRUE; DELETE FROM core.event; --";
    let mut county = TinyCounty::new();
    county
        .conn
        .execute(
            "INSERT INTO app.\"user\" VALUES ('ann', 'Ann', 'analyst', 'hash', now(), TRUE)",
            [],
        )
        .expect("user");
    county.family("odd", Some(DEPRIVED_LSOA));
    county.person("odd-adult", "odd", "1985-01-01");
    county.person("odd-child", "odd", "2014-06-01");
    let literal = county.event("odd-child", "police", ODD, "2025-01-05", None);
    county.event("odd-adult", "benefits", "o'neil", "2025-01-06", None);
    county.family("plain", Some(DEPRIVED_LSOA));
    county.person("plain-child", "plain", "2014-06-01");
    county.event("plain-child", "police", "offending", "2025-01-05", None);
    county.event("plain-child", "police", "nul\u{0}type", "2025-01-07", None);
    let events_before: i64 = county
        .conn
        .query_row("SELECT count(*) FROM core.event", [], |r| r.get(0))
        .expect("events");

    // Two more tests of the criterion: an episode of an odd type with an odd
    // ending, and a type holding a NUL.
    let more = format!(
        r#"
[[set.criterion.test]]
event_types = ["o'neil"]
who = "anyone"
window_months = 12
open_unless_ended_by = [{ODD_END:?}]

[[set.criterion.test]]
event_types = ["nul\u0000type"]
who = "child"
window_months = 12
at_least = 1
"#
    );
    let text = GOOD.replace(r#"["offending"]"#, &format!("[{ODD:?}]")) + &more;
    let sets = criteria::parse(&text, Path::new("odd.toml")).expect("odd rules parse");
    let set = criteria::find(&sets, "mine").expect("set");
    assert_eq!(set.criteria[0].tests[0].event_types, [ODD]);
    let summary = criteria::evaluate(&county.conn, set, reference()).expect("criteria");
    assert_eq!(summary.families, 2);

    let mut evidence = county
        .conn
        .prepare(
            "SELECT family_id, event_type FROM mart.criterion_evidence
             WHERE rule_set = 'mine' ORDER BY event_type",
        )
        .expect("prepare");
    let rows: Vec<(String, String)> = evidence
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        rows,
        [
            ("plain".to_string(), "nul\u{0}type".to_string()),
            ("odd".to_string(), "o'neil".to_string()),
            ("odd".to_string(), ODD.to_string()),
        ]
    );
    assert_eq!(met(&county, "mine")["crime"].len(), 2);
    assert!(met(&county, "mine")["crime"]["odd"].contains(&literal));

    let events_after: i64 = county
        .conn
        .query_row("SELECT count(*) FROM core.event", [], |r| r.get(0))
        .expect("core.event still there");
    assert_eq!(events_after, events_before);
    let users: i64 = county
        .conn
        .query_row("SELECT count(*) FROM app.\"user\"", [], |r| r.get(0))
        .expect("app.user still there");
    assert_eq!(users, 1);
}
