//! The Supporting Families headline problems (and the six Troubled Families
//! problems of 2015) as explicit rules over `core.event`, with the event rows
//! behind every criterion a family meets → `mart.family_criterion`,
//! `mart.criterion_evidence`, `mart.criterion_rule`.
//!
//! Rules are data, not code: the built-in ones are `assets/criteria.toml`, and an
//! analyst's file in the same format replaces them (`zonewise criteria --rules`).
//! A criterion is met when any of its tests is; a test looks at events of some
//! types, of some people (children, under-fives, adults, anyone), in a look-back
//! window before the reference date, and asks for a count, a mean or total value,
//! or an episode still open. Like features, rules see only events dated before R.
//!
//! Rule text (set and criterion names, event types) comes from a file an analyst
//! may write, so it is bound as parameters or as rows of the temp table
//! `criteria_test_type`, never pasted into the SQL, which runs one statement at a time.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use duckdb::Connection;
use serde::Deserialize;
use toml::Spanned;

use super::{RiskError, date_text};

/// The built-in rules, compiled in so the binary needs no assets folder.
pub const BUILT_IN_TOML: &str = include_str!("../../../../assets/criteria.toml");

/// The rule set used when none is named.
pub const DEFAULT_SET: &str = "supporting-families";

/// Whose events a test looks at, by age on the reference date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    /// Under 18.
    Child,
    /// Under 5.
    UnderFive,
    /// 18 or over.
    Adult,
    /// Everyone in the family, including people with no birth date.
    Anyone,
}

impl Who {
    /// SQL condition on `age_years`.
    fn condition(self) -> &'static str {
        match self {
            Who::Child => "age_years < 18",
            Who::UnderFive => "age_years < 5",
            Who::Adult => "age_years >= 18",
            Who::Anyone => "TRUE",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Who::Child => "a child",
            Who::UnderFive => "a child under five",
            Who::Adult => "an adult",
            Who::Anyone => "anyone",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Who::Child => "children",
            Who::UnderFive => "children under five",
            Who::Adult => "adults",
            Who::Anyone => "everyone",
        }
    }
}

/// Whether a test's threshold applies to one person's events or the family's together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Per {
    #[default]
    Person,
    Family,
}

/// What a test asks of the events it looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// At least this many events.
    AtLeast(u32),
    /// The mean of their values is below this (events with a value only).
    MeanValueBelow(f64),
    /// The total of their values is at least this (events with a value only).
    SumValueAtLeast(f64),
    /// The latest of them or of these ending events is not an ending: an episode
    /// (a benefit claim, say) still open on the reference date.
    OpenUnlessEndedBy(Vec<String>),
}

/// One test of a criterion.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    pub event_types: Vec<String>,
    pub who: Who,
    pub per: Per,
    pub window_months: u32,
    pub measure: Measure,
}

/// A headline problem: met when any of its tests is.
#[derive(Debug, Clone, PartialEq)]
pub struct Criterion {
    /// Short name stored in the tables (`education`).
    pub name: String,
    /// Name a person reads ("Getting a good education").
    pub title: String,
    pub tests: Vec<Test>,
}

/// A programme's criteria, and how many a family must meet to be eligible.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    /// `supporting-families`, `troubled-families-2015`.
    pub name: String,
    pub title: String,
    /// Criteria a family must meet to be eligible for the programme.
    pub eligible_at: u32,
    pub criteria: Vec<Criterion>,
}

/// Why a criteria file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CriteriaError {
    #[error("cannot read criteria file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The TOML could not be read into rules; toml's message names line and column.
    #[error("criteria file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// The TOML was read but a rule is unusable.
    #[error("criteria file {path}, line {line}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("no rule set '{name}'; the sets are: {known}")]
    UnknownSet { name: String, known: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(rename = "set", default)]
    sets: Vec<Spanned<RawSet>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSet {
    name: String,
    title: String,
    eligible_at: u32,
    #[serde(rename = "criterion", default)]
    criteria: Vec<Spanned<RawCriterion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    name: String,
    title: String,
    #[serde(rename = "test", default)]
    tests: Vec<Spanned<RawTest>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    event_types: Vec<String>,
    who: Who,
    #[serde(default)]
    per: Per,
    window_months: u32,
    at_least: Option<u32>,
    mean_value_below: Option<f64>,
    sum_value_at_least: Option<f64>,
    open_unless_ended_by: Option<Vec<String>>,
}

/// The built-in rule sets.
pub fn built_in() -> Result<Vec<RuleSet>, CriteriaError> {
    parse(BUILT_IN_TOML, Path::new("assets/criteria.toml"))
}

/// The rule sets in a TOML file in the format of `assets/criteria.toml`.
pub fn load(path: &Path) -> Result<Vec<RuleSet>, CriteriaError> {
    let text = std::fs::read_to_string(path).map_err(|source| CriteriaError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Parses and checks criteria TOML; `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<Vec<RuleSet>, CriteriaError> {
    let file: RawFile = toml::from_str(text).map_err(|e| CriteriaError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let invalid = |span: std::ops::Range<usize>, message: String| CriteriaError::Invalid {
        path: path.to_path_buf(),
        line: text[..span.start.min(text.len())].matches('\n').count() + 1,
        message,
    };
    if file.sets.is_empty() {
        return Err(invalid(0..0, "no [[set]] of criteria".to_string()));
    }
    let mut set_names = BTreeSet::new();
    let mut sets = Vec::new();
    for raw_set in file.sets {
        let span = raw_set.span();
        let raw_set = raw_set.into_inner();
        if !is_name(&raw_set.name, '-') {
            return Err(invalid(
                span,
                format!(
                    "set name '{}' must be lower-case letters, digits and '-'",
                    raw_set.name
                ),
            ));
        }
        if !set_names.insert(raw_set.name.clone()) {
            return Err(invalid(
                span,
                format!("two sets are named '{}'", raw_set.name),
            ));
        }
        if raw_set.criteria.is_empty() {
            return Err(invalid(
                span,
                format!("set '{}' has no [[set.criterion]]", raw_set.name),
            ));
        }
        if raw_set.eligible_at == 0 || raw_set.eligible_at as usize > raw_set.criteria.len() {
            return Err(invalid(
                span,
                format!(
                    "set '{}': eligible_at must be from 1 to its {} criteria",
                    raw_set.name,
                    raw_set.criteria.len()
                ),
            ));
        }
        let mut criterion_names = BTreeSet::new();
        let mut criteria = Vec::new();
        for raw_criterion in raw_set.criteria {
            let span = raw_criterion.span();
            let raw_criterion = raw_criterion.into_inner();
            if !is_name(&raw_criterion.name, '_') {
                return Err(invalid(
                    span,
                    format!(
                        "criterion name '{}' must be lower-case letters, digits and '_'",
                        raw_criterion.name
                    ),
                ));
            }
            if !criterion_names.insert(raw_criterion.name.clone()) {
                return Err(invalid(
                    span,
                    format!(
                        "set '{}' has two criteria named '{}'",
                        raw_set.name, raw_criterion.name
                    ),
                ));
            }
            if raw_criterion.tests.is_empty() {
                return Err(invalid(
                    span,
                    format!(
                        "criterion '{}' has no [[set.criterion.test]]",
                        raw_criterion.name
                    ),
                ));
            }
            let mut tests = Vec::new();
            for raw_test in raw_criterion.tests {
                let span = raw_test.span();
                tests.push(test_from_raw(raw_test.into_inner()).map_err(|message| {
                    invalid(
                        span,
                        format!("criterion '{}': {message}", raw_criterion.name),
                    )
                })?);
            }
            criteria.push(Criterion {
                name: raw_criterion.name,
                title: raw_criterion.title,
                tests,
            });
        }
        sets.push(RuleSet {
            name: raw_set.name,
            title: raw_set.title,
            eligible_at: raw_set.eligible_at,
            criteria,
        });
    }
    Ok(sets)
}

/// Lower-case letters and digits joined by `separator`, starting with a letter.
fn is_name(name: &str, separator: char) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == separator)
}

/// Checks one test: events listed, a sensible window, exactly one measure.
fn test_from_raw(raw: RawTest) -> Result<Test, String> {
    if raw.event_types.is_empty() || raw.event_types.iter().any(|t| t.trim().is_empty()) {
        return Err("event_types must list at least one event type, none empty".to_string());
    }
    if !(1..=240).contains(&raw.window_months) {
        return Err(format!(
            "window_months must be from 1 to 240, not {}",
            raw.window_months
        ));
    }
    let mut measures = Vec::new();
    if let Some(n) = raw.at_least {
        if n == 0 {
            return Err("at_least must be 1 or more".to_string());
        }
        measures.push(Measure::AtLeast(n));
    }
    for (field, value) in [
        ("mean_value_below", raw.mean_value_below),
        ("sum_value_at_least", raw.sum_value_at_least),
    ] {
        if value.is_some_and(|x| !x.is_finite()) {
            return Err(format!("{field} must be a finite number"));
        }
    }
    if let Some(x) = raw.mean_value_below {
        measures.push(Measure::MeanValueBelow(x));
    }
    if let Some(x) = raw.sum_value_at_least {
        measures.push(Measure::SumValueAtLeast(x));
    }
    if let Some(ends) = raw.open_unless_ended_by {
        if ends.is_empty() {
            return Err("open_unless_ended_by must list the ending event types".to_string());
        }
        measures.push(Measure::OpenUnlessEndedBy(ends));
    }
    if measures.len() != 1 {
        return Err(
            "a test needs exactly one of at_least, mean_value_below, sum_value_at_least, open_unless_ended_by"
                .to_string(),
        );
    }
    Ok(Test {
        event_types: raw.event_types,
        who: raw.who,
        per: raw.per,
        window_months: raw.window_months,
        measure: measures.remove(0),
    })
}

/// The set called `name` among `sets`.
pub fn find<'a>(sets: &'a [RuleSet], name: &str) -> Result<&'a RuleSet, CriteriaError> {
    sets.iter()
        .find(|s| s.name == name)
        .ok_or_else(|| CriteriaError::UnknownSet {
            name: name.to_string(),
            known: sets
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The columns of an evidence row, as `criteria_event` holds them.
const EVIDENCE_COLUMNS: &str =
    "reference_date, family_id, person_id, source, line, event_type, event_date, value";

impl Test {
    /// The test in words, for `mart.criterion_rule` and the summary.
    pub fn describe(&self) -> String {
        let events = self.event_types.join(" or ");
        let whose = match self.per {
            Per::Person => self.who.describe().to_string(),
            Per::Family => format!("the family ({} counted together)", self.who.plural()),
        };
        let window = format!(
            "in the {} months before the reference date",
            self.window_months
        );
        match &self.measure {
            Measure::AtLeast(n) => format!("{whose} has at least {n} {events} {window}"),
            Measure::MeanValueBelow(x) => {
                format!("{whose} has a mean {events} value below {x} {window}")
            }
            Measure::SumValueAtLeast(x) => {
                format!("{whose} has {events} values totalling at least {x} {window}")
            }
            Measure::OpenUnlessEndedBy(ends) => format!(
                "{whose} has a {events} {window} not followed by {}",
                ends.join(" or ")
            ),
        }
    }

    /// SQL selecting the evidence rows of this test from the temp table
    /// `criteria_event`: every event that made a person (or family) meet it at
    /// its row's reference date, for every round at once. The test's event
    /// types are rows of `criteria_test_type` under `test_no`, so the SQL holds
    /// only identifiers and validated numbers.
    fn evidence_sql(&self, test_no: usize) -> String {
        let key = match self.per {
            Per::Person => "person_id",
            Per::Family => "family_id",
        };
        let who = self.who.condition();
        let start = format!(
            "(reference_date - INTERVAL {} MONTH)::DATE",
            self.window_months
        );
        let columns = EVIDENCE_COLUMNS;
        let types = format!("SELECT event_type FROM criteria_test_type WHERE test_no = {test_no}");
        let scope = format!("event_type IN ({types}) AND event_date >= {start} AND {who}");
        let (having, with_value) = match &self.measure {
            Measure::OpenUnlessEndedBy(_) => {
                return format!(
                    "SELECT {columns} FROM (
                         SELECT *, row_number() OVER (
                             PARTITION BY reference_date, {key}
                             ORDER BY event_date DESC, ending DESC, line DESC) AS recency
                         FROM (SELECT *, event_type IN ({types} AND ending) AS ending
                               FROM criteria_event WHERE {scope}))
                     WHERE recency = 1 AND NOT ending"
                );
            }
            Measure::AtLeast(n) => (format!("count(*) >= {n}"), ""),
            Measure::MeanValueBelow(x) => (format!("avg(value) < {x:?}"), " AND value IS NOT NULL"),
            Measure::SumValueAtLeast(x) => {
                (format!("sum(value) >= {x:?}"), " AND value IS NOT NULL")
            }
        };
        format!(
            "SELECT {columns} FROM criteria_event
             SEMI JOIN (SELECT reference_date, {key} FROM criteria_event
                        WHERE {scope}{with_value}
                        GROUP BY reference_date, {key} HAVING {having}) met
                  USING (reference_date, {key})
             WHERE {scope}{with_value}"
        )
    }

    /// The test's event types, each with whether it ends an episode: the rows it
    /// puts in `criteria_test_type`.
    fn typed_events(&self) -> impl Iterator<Item = (&str, bool)> {
        let ends: &[String] = match &self.measure {
            Measure::OpenUnlessEndedBy(ends) => ends,
            _ => &[],
        };
        self.event_types
            .iter()
            .map(|t| (t.as_str(), false))
            .chain(ends.iter().map(|t| (t.as_str(), true)))
    }
}

/// How many families met one criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionCount {
    pub name: String,
    pub title: String,
    pub families_met: u64,
    pub evidence_events: u64,
}

/// What [`evaluate`] wrote for one set and reference date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriteriaSummary {
    pub set: String,
    pub title: String,
    /// Families with a child under 18 on the reference date: those the rules are applied to.
    pub families: u64,
    pub criteria: Vec<CriterionCount>,
    /// Families meeting at least `eligible_at` criteria.
    pub eligible_families: u64,
    pub eligible_at: u32,
}

/// Applies `set` at `reference_date`: replaces that set's and date's rows in
/// `mart.family_criterion` (one per family with a child and criterion),
/// `mart.criterion_evidence` (the events behind each criterion met) and
/// `mart.criterion_rule` (each rule in words), in one transaction.
pub fn evaluate(
    conn: &Connection,
    set: &RuleSet,
    reference_date: NaiveDate,
) -> Result<CriteriaSummary, RiskError> {
    evaluate_rounds(conn, set, &[reference_date])?;
    summarise(conn, set, reference_date)
}

/// Applies `set` at every date of `rounds` as [`evaluate`] does at one, in one
/// transaction and one statement per criterion over all the dates (the monthly
/// rounds, `risk::rounds`), rather than a pass over the events per date.
pub fn evaluate_rounds(
    conn: &Connection,
    set: &RuleSet,
    rounds: &[NaiveDate],
) -> Result<(), RiskError> {
    super::require_linked(conn)?;
    crate::uptake::stats::create_macros(conn)?;
    super::in_transaction(conn, || write_tables(conn, set, rounds))?;
    Ok(())
}

fn write_tables(
    conn: &Connection,
    set: &RuleSet,
    rounds: &[NaiveDate],
) -> Result<(), duckdb::Error> {
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE criteria_round (reference_date DATE PRIMARY KEY)",
        [],
    )?;
    let mut insert = conn.prepare("INSERT OR IGNORE INTO criteria_round VALUES (?::DATE)")?;
    for date in rounds {
        insert.execute([date_text(*date)])?;
    }
    for table in ["family_criterion", "criterion_evidence", "criterion_rule"] {
        conn.execute(
            &format!(
                "DELETE FROM mart.{table}
                 WHERE reference_date IN (SELECT reference_date FROM criteria_round) AND rule_set = ?"
            ),
            [&set.name],
        )?;
    }
    // Families with a child on each date, and their events before it within the
    // longest window any test looks back, with each person's age on the date.
    let longest = set
        .criteria
        .iter()
        .flat_map(|c| &c.tests)
        .map(|t| t.window_months)
        .max()
        .unwrap_or(0);
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE criteria_family AS
         SELECT DISTINCT r.reference_date, p.family_id
         FROM criteria_round r JOIN core.person p
           ON p.birth_date <= r.reference_date AND age_on(p.birth_date, r.reference_date) < 18
         WHERE p.family_id IS NOT NULL",
        [],
    )?;
    conn.execute(
        &format!(
            "CREATE OR REPLACE TEMP TABLE criteria_event AS
             SELECT f.reference_date, e.family_id, e.person_id, e.source, e.line, e.event_type,
                    e.event_date, e.value, age_on(p.birth_date, f.reference_date) AS age_years
             FROM criteria_family f
             JOIN core.event e ON e.family_id = f.family_id
                  AND e.event_date < f.reference_date
                  AND e.event_date >= (f.reference_date - INTERVAL {longest} MONTH)::DATE
             JOIN core.person p ON p.person_id = e.person_id"
        ),
        [],
    )?;
    write_test_types(conn, set)?;
    conn.execute(
        &format!(
            "CREATE OR REPLACE TEMP TABLE criteria_evidence AS
             SELECT ''::VARCHAR AS criterion, {EVIDENCE_COLUMNS} FROM criteria_event LIMIT 0"
        ),
        [],
    )?;
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE criteria_name (criterion VARCHAR, title VARCHAR, rule VARCHAR)",
        [],
    )?;
    let mut name = conn.prepare("INSERT INTO criteria_name VALUES (?, ?, ?)")?;
    let mut test_no = 0;
    for criterion in &set.criteria {
        let evidence = criterion
            .tests
            .iter()
            .map(|t| {
                test_no += 1;
                t.evidence_sql(test_no)
            })
            .collect::<Vec<_>>()
            .join(" UNION ");
        conn.execute(
            &format!(
                "INSERT INTO criteria_evidence BY NAME
                 SELECT ?::VARCHAR AS criterion, * FROM ({evidence})"
            ),
            [&criterion.name],
        )?;
        let rule = criterion
            .tests
            .iter()
            .map(Test::describe)
            .collect::<Vec<_>>()
            .join("; or ");
        name.execute([&criterion.name, &criterion.title, &rule])?;
    }
    // Each table in one statement over every criterion and round.
    conn.execute(
        "INSERT INTO mart.criterion_evidence BY NAME
         SELECT ?::VARCHAR AS rule_set, * FROM criteria_evidence",
        [&set.name],
    )?;
    conn.execute(
        "INSERT INTO mart.family_criterion BY NAME
         SELECT f.reference_date, ?::VARCHAR AS rule_set, c.criterion, f.family_id,
                count(ev.line) > 0 AS met, count(ev.line) AS evidence_events
         FROM criteria_family f CROSS JOIN criteria_name c
         LEFT JOIN criteria_evidence ev
                ON ev.family_id = f.family_id AND ev.reference_date = f.reference_date
               AND ev.criterion = c.criterion
         GROUP BY f.reference_date, c.criterion, f.family_id",
        [&set.name],
    )?;
    // In the set's order within each round: the views list criteria by rowid.
    conn.execute(
        "INSERT INTO mart.criterion_rule
         SELECT r.reference_date, ?, c.criterion, c.title, c.rule
         FROM criteria_round r CROSS JOIN (SELECT *, rowid AS n FROM criteria_name) c
         ORDER BY r.reference_date, c.n",
        [&set.name],
    )?;
    for table in [
        "criteria_name",
        "criteria_evidence",
        "criteria_test_type",
        "criteria_event",
        "criteria_family",
        "criteria_round",
    ] {
        conn.execute(&format!("DROP TABLE {table}"), [])?;
    }
    Ok(())
}

/// Fills the temp table `criteria_test_type` with every test's event types, bound
/// one row at a time, numbering the tests from 1 in the order [`write_tables`]
/// visits them.
fn write_test_types(conn: &Connection, set: &RuleSet) -> Result<(), duckdb::Error> {
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE criteria_test_type
             (test_no INTEGER, event_type VARCHAR, ending BOOLEAN)",
        [],
    )?;
    let mut insert = conn.prepare("INSERT INTO criteria_test_type VALUES (?, ?, ?)")?;
    let tests = set.criteria.iter().flat_map(|c| &c.tests);
    for (test_no, test) in (1_i64..).zip(tests) {
        for (event_type, ending) in test.typed_events() {
            insert.execute(duckdb::params![test_no, event_type, ending])?;
        }
    }
    Ok(())
}

fn summarise(
    conn: &Connection,
    set: &RuleSet,
    reference_date: NaiveDate,
) -> Result<CriteriaSummary, RiskError> {
    let date = date_text(reference_date);
    let mut criteria = Vec::new();
    for criterion in &set.criteria {
        let (families_met, evidence_events): (i64, i64) = conn.query_row(
            "SELECT count(*) FILTER (WHERE met), coalesce(sum(evidence_events), 0)
             FROM mart.family_criterion
             WHERE reference_date = ?::DATE AND rule_set = ? AND criterion = ?",
            [&date, &set.name, &criterion.name],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        criteria.push(CriterionCount {
            name: criterion.name.clone(),
            title: criterion.title.clone(),
            families_met: families_met.max(0) as u64,
            evidence_events: evidence_events.max(0) as u64,
        });
    }
    let (families, eligible): (i64, i64) = conn.query_row(
        "SELECT count(*), count(*) FILTER (WHERE met >= ?) FROM (
             SELECT family_id, count(*) FILTER (WHERE met) AS met FROM mart.family_criterion
             WHERE reference_date = ?::DATE AND rule_set = ? GROUP BY family_id)",
        duckdb::params![set.eligible_at, date, set.name],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok(CriteriaSummary {
        set: set.name.clone(),
        title: set.title.clone(),
        families: families.max(0) as u64,
        criteria,
        eligible_families: eligible.max(0) as u64,
        eligible_at: set.eligible_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_rules_hold_both_programmes() {
        let sets = built_in().expect("built-in criteria parse");
        let supporting = find(&sets, "supporting-families").expect("supporting families");
        assert_eq!(supporting.criteria.len(), 10);
        let troubled = find(&sets, "troubled-families-2015").expect("troubled families");
        assert_eq!(troubled.criteria.len(), 6);
        let education = &supporting.criteria[0].tests;
        assert_eq!(
            education[0].describe(),
            "a child has a mean attendance value below 90 in the 12 months before the reference date"
        );
        let financial = &supporting.criteria[9].tests;
        assert_eq!(
            financial[0].describe(),
            "an adult has a claim_start in the 120 months before the reference date not followed by claim_end"
        );
        assert_eq!(
            financial[1].describe(),
            "the family (everyone counted together) has at least 2 rent_arrears in the 12 months before the reference date"
        );
        let error = find(&sets, "nope").expect_err("unknown").to_string();
        assert!(
            error.contains("supporting-families, troubled-families-2015"),
            "{error}"
        );
    }
}
