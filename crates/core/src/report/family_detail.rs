//! The single view of one family, read when a case is opened: its members with
//! their scores and reasons, which agencies know the family and since when, every
//! event across agencies in date order, the criteria it meets with the events
//! behind each, the round table's decisions, and its path round by round
//! (`report::family_path`). Read on demand (one family), never
//! into the snapshot, so opening a case is a deliberate act the audit log can record.

use duckdb::Connection;

use crate::audit::{Action, Entry};
use crate::risk::criteria::DEFAULT_SET;
use crate::risk::features::UNIVERSAL_EVENTS;
use crate::store::StoreError;

/// One member of the family.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Member {
    pub person_id: String,
    pub given_name: String,
    pub family_name: String,
    /// dd/mm/yyyy.
    pub birth_date: Option<String>,
    /// Whole years on the reference date.
    pub age: Option<i64>,
    pub sex: Option<String>,
    pub score: Option<f64>,
    pub flagged: bool,
    pub reasons: Vec<String>,
}

impl Member {
    pub fn full_name(&self) -> String {
        super::families::title_case(format!("{} {}", self.given_name, self.family_name).trim())
    }

    /// The given name as a person would write it.
    pub fn first_name(&self) -> String {
        super::families::title_case(&self.given_name)
    }

    pub fn is_child(&self) -> bool {
        self.age.is_some_and(|age| age < 18)
    }
}

/// An agency's involvement: its first and latest record of the family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Involvement {
    pub source: String,
    /// dd/mm/yyyy.
    pub since: String,
    pub latest: String,
    /// Records that are not universal services (school returns, health visiting…).
    pub records: i64,
}

/// One event on the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEvent {
    /// yyyy-mm-dd, so the list sorts as text.
    pub date: String,
    pub source: String,
    pub event_type: String,
    pub person_id: Option<String>,
    pub value: Option<f64>,
    /// Dated on or after the reference date: known now, but not to the flags of that date.
    pub after_reference: bool,
}

/// A criterion the family meets and the events behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct CriterionMet {
    pub name: String,
    pub title: String,
    pub rule: String,
    /// (yyyy-mm-dd, event type, person id) of each evidence event, newest first.
    pub evidence: Vec<(String, String, Option<String>)>,
}

/// A recorded round-table decision.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    pub outcome: String,
    pub note: String,
    pub decided_by: String,
    /// yyyy-mm-dd hh:mm.
    pub decided_at: String,
    /// The round (reference date, yyyy-mm-dd) it was taken at.
    pub reference_date: String,
    /// The plan agreed, when the decision made one.
    pub plan: Option<Plan>,
}

impl Decision {
    /// The family is in this decision's plan until a later decision: it comes
    /// back to the round table when the review is due or it steps down.
    pub fn in_plan(&self) -> bool {
        self.plan.is_some() && self.outcome != CLOSED
    }
}

/// What a decision agreed to do: who leads, what will be done, and when the
/// round table looks at it again (and, when agreed, when it ends).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The lead practitioner's agency ("School", "Health visiting") and name.
    pub lead_agency: String,
    pub lead_name: String,
    pub actions: String,
    /// yyyy-mm-dd: from the first round on or after it the family is due for review.
    pub review_date: String,
    /// yyyy-mm-dd: from the first round on or after it the family steps down.
    pub ends: Option<String>,
}

impl Plan {
    /// "lead: School, J. Patel; review 2026-07-01; ends 2026-12-31", for the audit
    /// log and the printed pack.
    pub fn summary(&self) -> String {
        let lead = [self.lead_agency.as_str(), self.lead_name.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        let mut parts = Vec::new();
        if !lead.is_empty() {
            parts.push(format!("lead: {lead}"));
        }
        parts.push(format!("review {}", self.review_date));
        if let Some(ends) = &self.ends {
            parts.push(format!("ends {ends}"));
        }
        parts.join("; ")
    }
}

/// A decision as the form hands it over, to be recorded by [`record_decision`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewDecision {
    pub family_id: String,
    pub zone_id: Option<String>,
    /// The round (yyyy-mm-dd) the decision is taken at.
    pub reference_date: String,
    pub outcome: String,
    pub note: String,
    pub plan: Option<Plan>,
}

/// Everything the single view shows about one family.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FamilyDetail {
    pub family_id: String,
    pub reference_date: String,
    pub members: Vec<Member>,
    pub involvement: Vec<Involvement>,
    /// Newest first.
    pub timeline: Vec<TimelineEvent>,
    pub criteria: Vec<CriterionMet>,
    /// Newest first.
    pub decisions: Vec<Decision>,
    /// Round by round, newest first (`report::family_path`).
    pub path: Vec<super::family_path::PathRound>,
}

impl FamilyDetail {
    pub fn member(&self, person_id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.person_id == person_id)
    }
}

/// Reads one family at `reference_date` for a session that may see `visibility`
/// (pass it on from `access::person_query`): `None` when the family lies outside
/// the session's zones; on a masked screen (the projected round table) members'
/// names are initials and their dates of birth are not read out. This is the only
/// way to read a family's single view, so no caller can show more than the
/// session may see.
pub fn read_visible_family(
    conn: &Connection,
    visibility: &crate::access::Visibility,
    family_id: &str,
    reference_date: &str,
) -> Result<Option<FamilyDetail>, StoreError> {
    let visible: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM core.family f WHERE f.family_id = ? AND {}",
            visibility.zone_condition(conn, "f.zone_id")?
        ),
        [family_id],
        |row| row.get(0),
    )?;
    if visible == 0 {
        return Ok(None);
    }
    let mut detail = read_family_detail(conn, family_id, reference_date)?;
    if visibility.masked() {
        for member in &mut detail.members {
            member.given_name =
                visibility.name(Some(&member.given_name), Some(&member.family_name));
            member.family_name = String::new();
            member.birth_date = None;
        }
    }
    Ok(Some(detail))
}

/// Reads one family at `reference_date` (yyyy-mm-dd), unmasked: only through
/// [`read_visible_family`].
fn read_family_detail(
    conn: &Connection,
    family_id: &str,
    reference_date: &str,
) -> Result<FamilyDetail, StoreError> {
    crate::uptake::stats::create_macros(conn)?;
    let members = conn
        .prepare(
            "SELECT p.person_id, coalesce(p.given_name, ''), coalesce(p.family_name, ''),
                    strftime(p.birth_date, '%d/%m/%Y'),
                    CASE WHEN p.birth_date <= $2::DATE THEN age_on(p.birth_date, $2::DATE) END,
                    p.sex, s.score, coalesce(s.flagged, false),
                    (SELECT string_agg(sentence, chr(31) ORDER BY rank) FROM mart.risk_reason r
                     WHERE r.person_id = p.person_id AND r.reference_date = $2::DATE)
             FROM core.person p
             LEFT JOIN mart.risk_score s ON s.person_id = p.person_id AND s.reference_date = $2::DATE
             WHERE p.family_id = $1
             ORDER BY p.birth_date NULLS LAST, p.person_id",
        )?
        .query_map([family_id, reference_date], |row| {
            let reasons: Option<String> = row.get(8)?;
            Ok(Member {
                person_id: row.get(0)?,
                given_name: row.get(1)?,
                family_name: row.get(2)?,
                birth_date: row.get(3)?,
                age: row.get(4)?,
                sex: row.get(5)?,
                score: row.get(6)?,
                flagged: row.get(7)?,
                reasons: super::families::split(&reasons.unwrap_or_default())
                    .map(str::to_string)
                    .collect(),
            })
        })?
        .collect::<Result<_, _>>()?;
    let universal = crate::risk::list_sql(&UNIVERSAL_EVENTS);
    let involvement = conn
        .prepare(&format!(
            "SELECT source, strftime(min(event_date), '%d/%m/%Y'), strftime(max(event_date), '%d/%m/%Y'),
                    count(*) FILTER (WHERE event_type NOT IN {universal})
             FROM core.event WHERE family_id = ? AND event_date IS NOT NULL
             GROUP BY source ORDER BY min(event_date), source"
        ))?
        .query_map([family_id], |row| {
            Ok(Involvement {
                source: row.get(0)?,
                since: row.get(1)?,
                latest: row.get(2)?,
                records: row.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let timeline = conn
        .prepare(
            "SELECT strftime(event_date, '%Y-%m-%d'), source, event_type, person_id, value,
                    event_date >= $2::DATE
             FROM core.event WHERE family_id = $1 AND event_date IS NOT NULL
             ORDER BY event_date DESC, source, line",
        )?
        .query_map([family_id, reference_date], |row| {
            Ok(TimelineEvent {
                date: row.get(0)?,
                source: row.get(1)?,
                event_type: row.get(2)?,
                person_id: row.get(3)?,
                value: row.get(4)?,
                after_reference: row.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let criteria = read_criteria_met(conn, family_id, reference_date)?;
    let decisions = conn
        .prepare(&format!(
            "SELECT {DECISION_COLUMNS} FROM app.round_decision WHERE family_id = ?
             ORDER BY decided_at DESC"
        ))?
        .query_map([family_id], |row| decision_from_row(row, 0))?
        .collect::<Result<_, _>>()?;
    Ok(FamilyDetail {
        family_id: family_id.to_string(),
        reference_date: reference_date.to_string(),
        members,
        involvement,
        timeline,
        criteria,
        decisions,
        path: super::family_path::read_path(conn, family_id)?,
    })
}

fn read_criteria_met(
    conn: &Connection,
    family_id: &str,
    reference_date: &str,
) -> Result<Vec<CriterionMet>, StoreError> {
    let mut criteria: Vec<CriterionMet> = conn
        .prepare(
            "SELECT c.criterion, r.title, r.rule FROM mart.family_criterion c
             JOIN mart.criterion_rule r USING (reference_date, rule_set, criterion)
             WHERE c.family_id = ? AND c.reference_date = ?::DATE AND c.rule_set = ? AND c.met
             ORDER BY r.rowid",
        )?
        .query_map([family_id, reference_date, DEFAULT_SET], |row| {
            Ok(CriterionMet {
                name: row.get(0)?,
                title: row.get(1)?,
                rule: row.get(2)?,
                evidence: Vec::new(),
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut statement = conn.prepare(
        "SELECT criterion, strftime(event_date, '%Y-%m-%d'), coalesce(event_type, ''), person_id
         FROM mart.criterion_evidence
         WHERE family_id = ? AND reference_date = ?::DATE AND rule_set = ?
         ORDER BY event_date DESC, source, line",
    )?;
    let rows = statement.query_map([family_id, reference_date, DEFAULT_SET], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, Option<String>>(1)?.unwrap_or_default(),
            row.get::<_, String>(2)?,
            row.get::<_, Option<String>>(3)?,
        ))
    })?;
    for row in rows {
        let (criterion, date, event_type, person) = row?;
        if let Some(met) = criteria.iter_mut().find(|c| c.name == criterion) {
            met.evidence.push((date, event_type, person));
        }
    }
    Ok(criteria)
}

/// The columns of `app.round_decision` that [`decision_from_row`] reads, in order.
pub(crate) const DECISION_COLUMNS: &str = "outcome, note, decided_by,
    strftime(decided_at, '%Y-%m-%d %H:%M'), strftime(reference_date, '%Y-%m-%d'),
    lead_agency, lead_name, actions, strftime(review_date, '%Y-%m-%d'),
    strftime(plan_ends, '%Y-%m-%d')";

/// A decision from [`DECISION_COLUMNS`] starting at column `at` of `row`.
pub(crate) fn decision_from_row(row: &duckdb::Row<'_>, at: usize) -> duckdb::Result<Decision> {
    let review_date: Option<String> = row.get(at + 8)?;
    let plan = match review_date {
        Some(review_date) => Some(Plan {
            lead_agency: row.get::<_, Option<String>>(at + 5)?.unwrap_or_default(),
            lead_name: row.get::<_, Option<String>>(at + 6)?.unwrap_or_default(),
            actions: row.get::<_, Option<String>>(at + 7)?.unwrap_or_default(),
            review_date,
            ends: row.get(at + 9)?,
        }),
        None => None,
    };
    Ok(Decision {
        outcome: row.get(at)?,
        note: row.get(at + 1)?,
        decided_by: row.get(at + 2)?,
        decided_at: row.get(at + 3)?,
        reference_date: row.get(at + 4)?,
        plan,
    })
}

/// The outcome that ends the round table's involvement: the family steps down
/// (its plan has ended, or things have improved), and is flagged again only at a
/// later round.
pub const CLOSED: &str = "Closed (step down)";

/// The outcome whose decision must name a lead practitioner and a review date.
pub const LEAD_PRACTITIONER: &str = "Early help lead practitioner";

/// The outcomes a round table can record, in the order the form offers them.
pub const OUTCOMES: [&str; 5] = [
    "No further action",
    "Universal services",
    LEAD_PRACTITIONER,
    "Referral to children's social care",
    CLOSED,
];

/// Why a decision was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    /// Only the outcomes the form offers are recorded, so the agenda and the
    /// figures that count decisions never meet a spelling of their own.
    #[error("'{0}' is not a round-table outcome; it must be one of: {list}", list = OUTCOMES.join(", "))]
    UnknownOutcome(String),
    /// A plan that cannot be followed up: it says what is missing or wrong.
    #[error("the plan cannot be recorded: {0}")]
    Plan(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl NewDecision {
    /// What stops the decision being recorded, in words (the form shows it and
    /// keeps its button off); `None` when it can be recorded.
    pub fn problem(&self) -> Option<String> {
        if !OUTCOMES.contains(&self.outcome.as_str()) {
            return Some(DecisionError::UnknownOutcome(self.outcome.clone()).to_string());
        }
        check_plan(self).err().map(|error| error.to_string())
    }
}

/// Checks a decision's plan: "Early help lead practitioner" needs one with the
/// lead named; closing takes none; the review (and end) fall after the round.
fn check_plan(decision: &NewDecision) -> Result<(), DecisionError> {
    let fail = |why: &str| Err(DecisionError::Plan(why.to_string()));
    let day = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    let Some(plan) = &decision.plan else {
        if decision.outcome == LEAD_PRACTITIONER {
            return fail("an early help lead practitioner needs the lead's name and a review date");
        }
        return Ok(());
    };
    if decision.outcome == CLOSED {
        return fail("closing ends the plan, so it takes no lead, actions or review date");
    }
    if decision.outcome == LEAD_PRACTITIONER && plan.lead_name.trim().is_empty() {
        return fail("name the lead practitioner");
    }
    let round = day(&decision.reference_date);
    let Some(review) = day(&plan.review_date) else {
        return fail(&format!(
            "review date '{}' is not a day (yyyy-mm-dd)",
            plan.review_date
        ));
    };
    if round.is_some_and(|round| review <= round) {
        return fail("the review date must come after the round's date");
    }
    if let Some(ends) = &plan.ends {
        match day(ends) {
            None => return fail(&format!("end date '{ends}' is not a day (yyyy-mm-dd)")),
            Some(end) if round.is_some_and(|round| end <= round) => {
                return fail("the plan's end must come after the round's date");
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Records a round table's decision about a family (every decision is kept) with
/// its audit log entry in the same transaction, so neither is kept without the
/// other, and returns it as stored, with its time. While a load holds the audit
/// log it waits for it (the app records decisions on a worker, so the frame
/// never waits).
pub fn record_decision(
    conn: &Connection,
    decision: &NewDecision,
    decided_by: &str,
) -> Result<Decision, DecisionError> {
    let NewDecision {
        family_id,
        zone_id,
        reference_date,
        outcome,
        note,
        plan,
    } = decision;
    if !OUTCOMES.contains(&outcome.as_str()) {
        return Err(DecisionError::UnknownOutcome(outcome.clone()));
    }
    check_plan(decision)?;
    let zone = zone_id
        .as_deref()
        .map_or_else(|| "no zone".to_string(), |zone| format!("zone {zone}"));
    let plan_detail = plan
        .as_ref()
        .map_or(String::new(), |plan| format!("; {}", plan.summary()));
    let entry = Entry::new(decided_by, Action::Decision, family_id.as_str()).with_detail(format!(
        "{outcome} ({zone}, round of {reference_date}){plan_detail}"
    ));
    let lock = crate::audit::lock_for_append();
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(StoreError::from)?;
    let saved = conn
        .query_row(
            &format!(
                "INSERT INTO app.round_decision
                     (family_id, zone_id, reference_date, outcome, note, decided_by, decided_at,
                      lead_agency, lead_name, actions, review_date, plan_ends)
                 VALUES (?, ?, ?::DATE, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?::DATE, ?::DATE)
                 RETURNING {DECISION_COLUMNS}"
            ),
            duckdb::params![
                family_id,
                zone_id,
                reference_date,
                outcome,
                note,
                decided_by,
                plan.as_ref().map(|p| p.lead_agency.trim()),
                plan.as_ref().map(|p| p.lead_name.trim()),
                plan.as_ref().map(|p| p.actions.trim()),
                plan.as_ref().map(|p| p.review_date.as_str()),
                plan.as_ref().and_then(|p| p.ends.as_deref()),
            ],
            |row| decision_from_row(row, 0),
        )
        .map_err(StoreError::from)
        .and_then(|decision| crate::audit::append(conn, &lock, &entry).map(|_| decision));
    match saved {
        Ok(decision) => {
            conn.execute_batch("COMMIT").map_err(StoreError::from)?;
            Ok(decision)
        }
        Err(error) => {
            if let Err(rollback) = conn.execute_batch("ROLLBACK") {
                tracing::error!(
                    "rollback after a failed round-table decision also failed: {rollback}"
                );
            }
            Err(error.into())
        }
    }
}
