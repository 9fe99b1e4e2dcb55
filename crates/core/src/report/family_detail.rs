//! The single view of one family, read when a case is opened: its members with
//! their scores and reasons, which agencies know the family and since when, every
//! event across agencies in date order, the criteria it meets with the events
//! behind each, and the round table's decisions. Read on demand (one family), never
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: String,
    pub note: String,
    pub decided_by: String,
    /// yyyy-mm-dd hh:mm.
    pub decided_at: String,
    /// The round (reference date, yyyy-mm-dd) it was taken at.
    pub reference_date: String,
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
        .prepare(
            "SELECT outcome, note, decided_by, strftime(decided_at, '%Y-%m-%d %H:%M'),
                    strftime(reference_date, '%Y-%m-%d')
             FROM app.round_decision WHERE family_id = ? ORDER BY decided_at DESC",
        )?
        .query_map([family_id], |row| {
            Ok(Decision {
                outcome: row.get(0)?,
                note: row.get(1)?,
                decided_by: row.get(2)?,
                decided_at: row.get(3)?,
                reference_date: row.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(FamilyDetail {
        family_id: family_id.to_string(),
        reference_date: reference_date.to_string(),
        members,
        involvement,
        timeline,
        criteria,
        decisions,
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

/// The outcomes a round table can record, in the order the form offers them.
pub const OUTCOMES: [&str; 4] = [
    "No further action",
    "Universal services",
    "Early help lead practitioner",
    "Referral to children's social care",
];

/// Why a decision was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    /// Only the outcomes the form offers are recorded, so the agenda and the
    /// figures that count decisions never meet a spelling of their own.
    #[error("'{0}' is not a round-table outcome; it must be one of: {list}", list = OUTCOMES.join(", "))]
    UnknownOutcome(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records a round table's decision about a family (every decision is kept) with
/// its audit log entry in the same transaction, so neither is kept without the
/// other, and returns it as stored, with its time. While a load holds the audit
/// log it waits for it (the app records decisions on a worker, so the frame
/// never waits).
pub fn record_decision(
    conn: &Connection,
    family_id: &str,
    zone_id: Option<&str>,
    reference_date: &str,
    outcome: &str,
    note: &str,
    decided_by: &str,
) -> Result<Decision, DecisionError> {
    if !OUTCOMES.contains(&outcome) {
        return Err(DecisionError::UnknownOutcome(outcome.to_string()));
    }
    let zone = zone_id.map_or_else(|| "no zone".to_string(), |zone| format!("zone {zone}"));
    let entry = Entry::new(decided_by, Action::Decision, family_id)
        .with_detail(format!("{outcome} ({zone}, round of {reference_date})"));
    let lock = crate::audit::lock_for_append();
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(StoreError::from)?;
    let saved = conn
        .query_row(
            "INSERT INTO app.round_decision
             VALUES (?, ?, ?::DATE, ?, ?, ?, now()::TIMESTAMP)
             RETURNING outcome, note, decided_by, strftime(decided_at, '%Y-%m-%d %H:%M'),
                       strftime(reference_date, '%Y-%m-%d')",
            duckdb::params![
                family_id,
                zone_id,
                reference_date,
                outcome,
                note,
                decided_by
            ],
            |row| {
                Ok(Decision {
                    outcome: row.get(0)?,
                    note: row.get(1)?,
                    decided_by: row.get(2)?,
                    decided_at: row.get(3)?,
                    reference_date: row.get(4)?,
                })
            },
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
