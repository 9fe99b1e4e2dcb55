//! Supporting Families outcome claims: which families in a plan made significant
//! and sustained progress against every headline problem they had when their
//! first plan was agreed, by rules an analyst may edit (`assets/claims.toml`
//! built in, another file in its format with `--rules`), written as a
//! claim-ready CSV with each rule's evidence.
//!
//! Rules are data: event types, ages and periods are bound as rows of temp
//! tables, never pasted into SQL, and each statement runs on its own. The
//! families are read through `access::person_query` (the read recorded first,
//! the session's zones only); the CSV is case-level, so it is recorded in the
//! audit log before it appears under its name (`audit::StagedFile`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use duckdb::Connection;
use serde::Deserialize;
use toml::Spanned;

use super::family_detail::CLOSED;
use crate::access::{Purpose, Session, Visibility};
use crate::audit::{Action, Entry, PlaceError, StagedFile};
use crate::risk::criteria::{self, Who};
use crate::store::StoreError;

/// The built-in rules, compiled in so the binary needs no assets folder.
pub const BUILT_IN_TOML: &str = include_str!("../../../../assets/claims.toml");

/// What one test of a rule asks of the events in its period.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    AtMost(u32),
    AtLeast(u32),
    /// The mean of the events' values is at least this (and some event has one).
    MeanValueAtLeast(f64),
    /// The events' values add up to less than this.
    SumValueBelow(f64),
}

/// One test of a progress rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressTest {
    pub event_types: Vec<String>,
    pub who: Who,
    /// The sustained period: months before the claim date.
    pub months: u32,
    pub measure: Measure,
}

/// Significant and sustained progress against one headline problem: met when
/// all its tests are.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressRule {
    /// The criterion (headline problem) it answers, by name.
    pub criterion: String,
    pub title: String,
    pub tests: Vec<ProgressTest>,
}

/// A file of progress rules.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRules {
    /// The criteria set whose headline problems the rules answer.
    pub rule_set: String,
    pub rules: Vec<ProgressRule>,
}

/// Why claims were not written.
#[derive(Debug, thiserror::Error)]
pub enum ClaimsError {
    #[error("cannot read claims file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The TOML could not be read into rules; toml's message names line and column.
    #[error("claims file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// The TOML was read but a rule is unusable.
    #[error("claims file {path}, line {line}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("no round has been assessed yet: run `zonewise criteria` first")]
    NoRound,
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
    #[error(transparent)]
    Access(#[from] crate::access::AccessError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<duckdb::Error> for ClaimsError {
    fn from(error: duckdb::Error) -> ClaimsError {
        ClaimsError::Store(error.into())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    rule_set: Spanned<String>,
    #[serde(default)]
    progress: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    criterion: String,
    title: String,
    #[serde(rename = "test", default)]
    tests: Vec<Spanned<RawTest>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    event_types: Vec<String>,
    who: Who,
    months: u32,
    at_most: Option<u32>,
    at_least: Option<u32>,
    mean_value_at_least: Option<f64>,
    sum_value_below: Option<f64>,
}

/// The built-in rules.
pub fn built_in() -> Result<ClaimRules, ClaimsError> {
    parse(BUILT_IN_TOML, Path::new("assets/claims.toml"))
}

/// The rules in a TOML file in the format of `assets/claims.toml`.
pub fn load(path: &Path) -> Result<ClaimRules, ClaimsError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClaimsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Parses and checks claims TOML against the built-in criteria (every rule
/// answers a criterion of the named set, at most one rule each); `path` names
/// the file in messages.
pub fn parse(text: &str, path: &Path) -> Result<ClaimRules, ClaimsError> {
    let file: RawFile = toml::from_str(text).map_err(|e| ClaimsError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let invalid = |span: std::ops::Range<usize>, message: String| ClaimsError::Invalid {
        path: path.to_path_buf(),
        line: text[..span.start.min(text.len())].matches('\n').count() + 1,
        message,
    };
    let sets = criteria::built_in().map_err(|e| invalid(0..0, e.to_string()))?;
    let set_span = file.rule_set.span();
    let set_name = file.rule_set.into_inner();
    let set = criteria::find(&sets, &set_name).map_err(|e| invalid(set_span, e.to_string()))?;
    if file.progress.is_empty() {
        return Err(invalid(0..0, "no [[progress]] rule".to_string()));
    }
    let mut seen = BTreeSet::new();
    let mut rules = Vec::new();
    for raw in file.progress {
        let span = raw.span();
        let raw = raw.into_inner();
        if !set.criteria.iter().any(|c| c.name == raw.criterion) {
            return Err(invalid(
                span,
                format!(
                    "'{}' is not a headline problem of '{}'; they are: {}",
                    raw.criterion,
                    set.name,
                    set.criteria
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if !seen.insert(raw.criterion.clone()) {
            return Err(invalid(
                span,
                format!("two rules answer '{}'", raw.criterion),
            ));
        }
        if raw.tests.is_empty() {
            return Err(invalid(
                span,
                format!("rule '{}' has no [[progress.test]]", raw.criterion),
            ));
        }
        let mut tests = Vec::new();
        for test in raw.tests {
            let span = test.span();
            tests.push(test_from_raw(test.into_inner()).map_err(|message| {
                invalid(span, format!("rule '{}': {message}", raw.criterion))
            })?);
        }
        rules.push(ProgressRule {
            criterion: raw.criterion,
            title: raw.title,
            tests,
        });
    }
    Ok(ClaimRules {
        rule_set: set_name,
        rules,
    })
}

fn test_from_raw(raw: RawTest) -> Result<ProgressTest, String> {
    if raw.event_types.is_empty() || raw.event_types.iter().any(|t| t.trim().is_empty()) {
        return Err("event_types must list at least one event type, none empty".to_string());
    }
    if !(1..=36).contains(&raw.months) {
        return Err(format!("months must be from 1 to 36, not {}", raw.months));
    }
    let mut measures = Vec::new();
    measures.extend(raw.at_most.map(Measure::AtMost));
    if let Some(n) = raw.at_least {
        if n == 0 {
            return Err("at_least must be 1 or more".to_string());
        }
        measures.push(Measure::AtLeast(n));
    }
    for (field, value) in [
        ("mean_value_at_least", raw.mean_value_at_least),
        ("sum_value_below", raw.sum_value_below),
    ] {
        if value.is_some_and(|x| !x.is_finite()) {
            return Err(format!("{field} must be a finite number"));
        }
    }
    measures.extend(raw.mean_value_at_least.map(Measure::MeanValueAtLeast));
    measures.extend(raw.sum_value_below.map(Measure::SumValueBelow));
    if measures.len() != 1 {
        return Err(
            "a test needs exactly one of at_most, at_least, mean_value_at_least, sum_value_below"
                .to_string(),
        );
    }
    Ok(ProgressTest {
        event_types: raw.event_types,
        who: raw.who,
        months: raw.months,
        measure: measures.remove(0),
    })
}

/// What a test found for one family over its period.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TestFigures {
    pub events: i64,
    /// Events with a value, their mean and total.
    pub valued: i64,
    pub mean: Option<f64>,
    pub sum: Option<f64>,
}

impl ProgressTest {
    /// Whether `figures` pass the test.
    pub fn passes(&self, figures: &TestFigures) -> bool {
        match self.measure {
            Measure::AtMost(n) => figures.events <= i64::from(n),
            Measure::AtLeast(n) => figures.events >= i64::from(n),
            Measure::MeanValueAtLeast(x) => figures.mean.is_some_and(|mean| mean >= x),
            Measure::SumValueBelow(x) => figures.sum.unwrap_or(0.0) < x,
        }
    }

    /// "attendance: mean 93.5 of 2 values (at least 90): met", for the CSV.
    fn evidence(&self, figures: &TestFigures) -> String {
        let events = self.event_types.join(" or ");
        let (found, wanted) = match self.measure {
            Measure::AtMost(n) => (format!("{} events", figures.events), format!("at most {n}")),
            Measure::AtLeast(n) => (
                format!("{} events", figures.events),
                format!("at least {n}"),
            ),
            Measure::MeanValueAtLeast(x) => (
                figures.mean.map_or("no values".to_string(), |mean| {
                    format!("mean {mean:.1} of {} values", figures.valued)
                }),
                format!("at least {x}"),
            ),
            Measure::SumValueBelow(x) => (
                format!("total {:.2}", figures.sum.unwrap_or(0.0)),
                format!("below {x}"),
            ),
        };
        let verdict = if self.passes(figures) {
            "met"
        } else {
            "not met"
        };
        format!("{events}: {found} ({wanted}): {verdict}")
    }
}

/// Where one rule stands for a family.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleStanding {
    /// Not a headline problem when the plan began.
    NotAProblem,
    /// The sustained period would begin before the plan did: not yet.
    TooEarly { period_starts: String },
    /// The tests' evidence, and whether all passed.
    Assessed { met: bool, evidence: String },
}

/// One family in a plan and its claim.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyClaim {
    pub family_id: String,
    pub zone_id: Option<String>,
    /// The round of the family's first plan (yyyy-mm-dd), its outcome and lead.
    pub plan_round: String,
    pub plan_outcome: String,
    pub lead: String,
    pub problems_at_start: Vec<String>,
    /// Problems at the start that no rule answers (the family cannot be claimed).
    pub unanswered: Vec<String>,
    /// Each rule of the file, in its order.
    pub rules: Vec<RuleStanding>,
}

impl FamilyClaim {
    /// Claimed: problems at the start, each answered by a rule it met.
    pub fn claimed(&self) -> bool {
        !self.problems_at_start.is_empty()
            && self.unanswered.is_empty()
            && self.rules.iter().all(|standing| match standing {
                RuleStanding::NotAProblem => true,
                RuleStanding::TooEarly { .. } => false,
                RuleStanding::Assessed { met, .. } => *met,
            })
    }
}

/// Every family in a plan that the session may see, assessed against `rules`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Claims {
    /// The claim date: the latest round (yyyy-mm-dd).
    pub claim_date: String,
    pub families: Vec<FamilyClaim>,
}

/// Assesses every family in a plan in `visibility`'s zones (pass it on from
/// `access::person_query`) against `rules` at the latest round; `None` before
/// any round has been assessed.
pub fn assess(
    conn: &Connection,
    visibility: &Visibility,
    rules: &ClaimRules,
) -> Result<Option<Claims>, StoreError> {
    crate::store::refuse_on_frame("report::claims::assess")?;
    crate::uptake::stats::create_macros(conn)?;
    let claim_date: Option<String> = conn.query_row(
        "SELECT strftime(max(reference_date), '%Y-%m-%d') FROM mart.family_criterion
         WHERE rule_set = ?",
        [&rules.rule_set],
        |row| row.get(0),
    )?;
    let Some(claim_date) = claim_date else {
        return Ok(None);
    };
    // Each family's first plan: a decision with a review date, not a close.
    let zone_condition = visibility.zone_condition(conn, "f.zone_id")?;
    let plans: Vec<(String, Option<String>, String, String, String, String)> = conn
        .prepare(&format!(
            "SELECT d.family_id, f.zone_id, strftime(d.reference_date, '%Y-%m-%d'), d.outcome,
                    concat_ws(', ', nullif(d.lead_agency, ''), nullif(d.lead_name, '')),
                    coalesce((SELECT string_agg(c.criterion, chr(31) ORDER BY c.criterion)
                              FROM mart.family_criterion c
                              WHERE c.family_id = d.family_id AND c.reference_date = d.reference_date
                                AND c.rule_set = ? AND c.met), '')
             FROM app.round_decision d JOIN core.family f USING (family_id)
             WHERE d.review_date IS NOT NULL AND d.outcome <> ? AND {zone_condition}
             QUALIFY row_number() OVER (PARTITION BY d.family_id
                                        ORDER BY d.reference_date, d.decided_at DESC) = 1
             ORDER BY f.zone_id, d.family_id"
        ))?
        .query_map([rules.rule_set.as_str(), CLOSED], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let ids: Vec<&str> = plans.iter().map(|plan| plan.0.as_str()).collect();
    let figures = test_figures(conn, rules, &claim_date, &ids)?;
    let claim_day = day(&claim_date);
    let families = plans
        .into_iter()
        .map(
            |(family_id, zone_id, plan_round, plan_outcome, lead, met)| {
                let problems: Vec<String> =
                    super::families::split(&met).map(str::to_string).collect();
                let unanswered = problems
                    .iter()
                    .filter(|p| !rules.rules.iter().any(|r| &r.criterion == *p))
                    .cloned()
                    .collect();
                let mut test_no = 0;
                let standings = rules
                    .rules
                    .iter()
                    .map(|rule| {
                        let first = test_no;
                        test_no += rule.tests.len();
                        if !problems.contains(&rule.criterion) {
                            return RuleStanding::NotAProblem;
                        }
                        let longest = rule.tests.iter().map(|t| t.months).max().unwrap_or(0);
                        let starts = claim_day
                            .and_then(|d| d.checked_sub_months(chrono::Months::new(longest)))
                            .map_or(String::new(), |d| d.format("%Y-%m-%d").to_string());
                        if starts < plan_round {
                            return RuleStanding::TooEarly {
                                period_starts: starts,
                            };
                        }
                        let mut met = true;
                        let mut evidence = Vec::new();
                        for (offset, test) in rule.tests.iter().enumerate() {
                            let found = figures
                                .get(&(family_id.clone(), (first + offset + 1) as i64))
                                .cloned()
                                .unwrap_or_default();
                            met &= test.passes(&found);
                            evidence.push(format!(
                                "{}; {} months from {}",
                                test.evidence(&found),
                                test.months,
                                claim_day
                                    .and_then(
                                        |d| d.checked_sub_months(chrono::Months::new(test.months))
                                    )
                                    .map_or(String::new(), |d| d.format("%Y-%m-%d").to_string())
                            ));
                        }
                        RuleStanding::Assessed {
                            met,
                            evidence: evidence.join(" | "),
                        }
                    })
                    .collect();
                FamilyClaim {
                    family_id,
                    zone_id,
                    plan_round,
                    plan_outcome,
                    lead,
                    problems_at_start: problems,
                    unanswered,
                    rules: standings,
                }
            },
        )
        .collect();
    Ok(Some(Claims {
        claim_date,
        families,
    }))
}

fn day(text: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// Each (family, test number from 1) with what its events showed over the
/// test's period before `claim_date`. The tests are rows of temp tables, bound
/// one at a time; the statement holds no text from the file.
fn test_figures(
    conn: &Connection,
    rules: &ClaimRules,
    claim_date: &str,
    families: &[&str],
) -> Result<BTreeMap<(String, i64), TestFigures>, duckdb::Error> {
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE claims_test (test_no INTEGER, who VARCHAR, months INTEGER)",
        [],
    )?;
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE claims_test_type (test_no INTEGER, event_type VARCHAR)",
        [],
    )?;
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE claims_family (family_id VARCHAR)",
        [],
    )?;
    {
        let mut test = conn.prepare("INSERT INTO claims_test VALUES (?, ?, ?)")?;
        let mut types = conn.prepare("INSERT INTO claims_test_type VALUES (?, ?)")?;
        let tests = rules.rules.iter().flat_map(|r| &r.tests);
        for (test_no, t) in (1_i64..).zip(tests) {
            let who = match t.who {
                Who::Child => "child",
                Who::UnderFive => "under_five",
                Who::Adult => "adult",
                Who::Anyone => "anyone",
            };
            test.execute(duckdb::params![test_no, who, t.months])?;
            for event_type in &t.event_types {
                types.execute(duckdb::params![test_no, event_type])?;
            }
        }
        let mut family = conn.prepare("INSERT INTO claims_family VALUES (?)")?;
        for family_id in families {
            family.execute([family_id])?;
        }
    }
    let figures = conn
        .prepare(
            "WITH events AS (
                 SELECT e.family_id, e.event_type, e.event_date, e.value,
                        CASE WHEN p.birth_date <= $1::DATE THEN age_on(p.birth_date, $1::DATE) END AS age
                 FROM core.event e LEFT JOIN core.person p ON p.person_id = e.person_id
                 WHERE e.event_date < $1::DATE
                   AND e.family_id IN (SELECT family_id FROM claims_family))
             SELECT cf.family_id, t.test_no, count(e.event_date), count(e.value),
                    avg(e.value), sum(e.value)
             FROM claims_family cf
             CROSS JOIN claims_test t
             JOIN claims_test_type tt ON tt.test_no = t.test_no
             LEFT JOIN events e
                    ON e.family_id = cf.family_id AND e.event_type = tt.event_type
                   AND e.event_date >= ($1::DATE - to_months(t.months))::DATE
                   AND CASE t.who WHEN 'child' THEN e.age < 18
                                  WHEN 'under_five' THEN e.age < 5
                                  WHEN 'adult' THEN e.age >= 18
                                  ELSE TRUE END
             GROUP BY cf.family_id, t.test_no",
        )?
        .query_map([claim_date], |row| {
            Ok((
                (row.get::<_, String>(0)?, row.get::<_, i64>(1)?),
                TestFigures {
                    events: row.get(2)?,
                    valued: row.get(3)?,
                    mean: row.get(4)?,
                    sum: row.get(5)?,
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    for table in ["claims_test", "claims_test_type", "claims_family"] {
        conn.execute(&format!("DROP TABLE {table}"), [])?;
    }
    Ok(figures)
}

/// What [`write_claims`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsSummary {
    pub claim_date: String,
    /// Families in a plan assessed, and of them claimed (the CSV's rows).
    pub in_plan: usize,
    pub claimed: usize,
}

/// Assesses the families `session` may see against `rules` (the read recorded
/// first, through `access::person_query`) and writes the claimed families to
/// `path` as CSV, one row each, with each rule's standing and evidence; the file
/// is recorded in the audit log (an `export` naming `session`'s user) before it
/// appears under its name, and never appears if it cannot be recorded.
pub fn write_claims(
    conn: &Connection,
    session: &Session,
    rules: &ClaimRules,
    rules_file: &str,
    path: &Path,
) -> Result<ClaimsSummary, ClaimsError> {
    let purpose = Purpose::listing("families in a plan, for outcome claims");
    let claims = crate::access::person_query(conn, session, &purpose, |conn, visibility| {
        assess(conn, visibility, rules)
    })?
    .ok_or(ClaimsError::NoRound)?;
    let failed = |message: String| ClaimsError::Write {
        path: path.display().to_string(),
        message,
    };
    let mut staged = StagedFile::beside(path, "claims").map_err(|e| failed(e.to_string()))?;
    let claimed: Vec<&FamilyClaim> = claims.families.iter().filter(|f| f.claimed()).collect();
    {
        let mut csv = csv::Writer::from_writer(staged.file());
        let mut header = vec![
            "family_id".to_string(),
            "zone_id".to_string(),
            "plan_round".to_string(),
            "plan_decision".to_string(),
            "lead_practitioner".to_string(),
            "claim_date".to_string(),
            "problems_at_start".to_string(),
        ];
        for rule in &rules.rules {
            header.push(rule.criterion.clone());
            header.push(format!("{}_evidence", rule.criterion));
        }
        csv.write_record(&header)
            .map_err(|e| failed(e.to_string()))?;
        for family in &claimed {
            let mut row = vec![
                family.family_id.clone(),
                family.zone_id.clone().unwrap_or_default(),
                family.plan_round.clone(),
                family.plan_outcome.clone(),
                family.lead.clone(),
                claims.claim_date.clone(),
                family.problems_at_start.join("; "),
            ];
            for standing in &family.rules {
                let (status, evidence) = match standing {
                    RuleStanding::NotAProblem => ("not a problem at start", String::new()),
                    RuleStanding::TooEarly { period_starts } => (
                        "not yet sustained",
                        format!("the period would start {period_starts}, before the plan"),
                    ),
                    RuleStanding::Assessed { met, evidence } => {
                        (if *met { "met" } else { "not met" }, evidence.clone())
                    }
                };
                row.push(status.to_string());
                row.push(evidence);
            }
            csv.write_record(&row).map_err(|e| failed(e.to_string()))?;
        }
        csv.flush().map_err(|e| failed(e.to_string()))?;
    }
    let entry = Entry::new(session.user.as_str(), Action::Export, path.display().to_string())
        .with_detail(format!(
            "Supporting Families outcome claims at {}: {} of {} families in a plan claimed (rules {rules_file})",
            claims.claim_date,
            claimed.len(),
            claims.families.len()
        ));
    staged.place(conn, &entry).map_err(|error| match error {
        PlaceError::NotRecorded(error) => ClaimsError::Store(error),
        PlaceError::Io(error) => failed(error.to_string()),
    })?;
    Ok(ClaimsSummary {
        claim_date: claims.claim_date,
        in_plan: claims.families.len(),
        claimed: claimed.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_rules_answer_every_supporting_families_problem() {
        let rules = built_in().expect("built-in claims parse");
        assert_eq!(rules.rules.len(), 10);
        assert_eq!(rules.rules[0].criterion, "education");
        assert_eq!(
            rules.rules[0].tests[0].measure,
            Measure::MeanValueAtLeast(90.0)
        );
    }

    #[test]
    fn bad_rules_name_the_file_and_line() {
        let path = Path::new("mine.toml");
        let unknown = "rule_set = \"supporting-families\"\n\n[[progress]]\ncriterion = \"happiness\"\ntitle = \"x\"\n[[progress.test]]\nevent_types = [\"a\"]\nwho = \"anyone\"\nmonths = 6\nat_most = 0\n";
        let error = parse(unknown, path)
            .expect_err("unknown criterion")
            .to_string();
        assert!(
            error.starts_with("claims file mine.toml, line 3:"),
            "{error}"
        );
        assert!(
            error.contains("'happiness' is not a headline problem"),
            "{error}"
        );
        let two = unknown
            .replace("happiness", "crime")
            .replace("at_most = 0", "at_most = 0\nat_least = 1");
        let error = parse(&two, path).expect_err("two measures").to_string();
        assert!(
            error.contains("line 6") && error.contains("exactly one"),
            "{error}"
        );
        let broken = "rule_set = \"supporting-families\"\n[[progress]]\ncriterion = 3\n";
        let error = parse(broken, path).expect_err("wrong type").to_string();
        assert!(
            error.contains("mine.toml") && error.contains("line 3"),
            "{error}"
        );
    }
}
