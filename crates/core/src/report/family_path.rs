//! A family's path round by round: at each monthly round (`risk::rounds`) from
//! the first at which it was assessed or discussed, whether it was flagged
//! (`report::flags`, with its place in the zone's ranking and the zone's
//! capacity), the headline problems it met, its score, the decision recorded,
//! and where it stood in a plan (review due or done, plan ended, closed). So a
//! round table sees a family go flagged → discussed → plan → reviewed → closed,
//! and its problems with it.
//!
//! Read with the family's single view (`family_detail::read_visible_family`)
//! or alone for the Round table's family panel ([`read_visible_path`]), both
//! within the session's zones; the rows carry criteria, scores and decisions,
//! never a name.

use duckdb::Connection;

use super::families::split;
use super::family_detail::{CLOSED, DECISION_COLUMNS, Decision, decision_from_row};
use super::flags::flags_sql;
use crate::access::Visibility;
use crate::risk::criteria::DEFAULT_SET;
use crate::store::StoreError;

/// One round of a family's path.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PathRound {
    /// yyyy-mm-dd.
    pub round: String,
    /// The criteria were applied to the family at the round (it had a child).
    pub assessed: bool,
    /// Names of the criteria met at the round, in name order.
    pub criteria: Vec<String>,
    /// The highest child's score at the round, when the round was scored.
    pub score: Option<f64>,
    /// Its place among the zone's ranked families (`report::flags`), and the
    /// zone's capacity; `None` when it was not ranked (no score and no
    /// criterion met, no zone, or in a plan).
    pub rank: Option<u32>,
    pub capacity: Option<u32>,
    /// Among the zone's top families within its capacity.
    pub flagged: bool,
    /// In a plan agreed at an earlier round (so not ranked), and whether its
    /// review date or its end had come by this round.
    pub in_plan: bool,
    pub review_due: bool,
    pub plan_ended: bool,
    /// The decision recorded at this round (the last, which replaces any
    /// earlier one at the same round).
    pub decision: Option<Decision>,
}

impl PathRound {
    /// A plan's review came due by this round and the meeting recorded a decision.
    pub fn reviewed(&self) -> bool {
        self.review_due && self.decision.is_some()
    }

    /// The round's decision closed the round table's involvement (step down).
    pub fn closed(&self) -> bool {
        self.decision.as_ref().is_some_and(|d| d.outcome == CLOSED)
    }

    /// Where the family stood at the round, in a few words: what a meeting
    /// would say of it.
    pub fn standing(&self) -> &'static str {
        match &self.decision {
            Some(_) if self.closed() => "closed (stepped down)",
            Some(_) if self.reviewed() => "reviewed",
            Some(d) if d.in_plan() => "plan agreed",
            Some(_) => "discussed",
            None if self.plan_ended => "plan ended: to step down",
            None if self.review_due => "review due",
            None if self.in_plan => "in a plan",
            None if self.flagged => "flagged",
            None if self.assessed => "not flagged",
            None => "not assessed",
        }
    }
}

/// `family_id`'s path, newest round first, when the family lies in the
/// session's zones (pass `visibility` on from `access::person_query`);
/// `None` otherwise.
pub fn read_visible_path(
    conn: &Connection,
    visibility: &Visibility,
    family_id: &str,
) -> Result<Option<Vec<PathRound>>, StoreError> {
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
    Ok(Some(read_path(conn, family_id)?))
}

/// `family_id`'s path, newest round first: only through [`read_visible_path`]
/// or the single view, which check the session's zones first.
pub(crate) fn read_path(conn: &Connection, family_id: &str) -> Result<Vec<PathRound>, StoreError> {
    crate::store::refuse_on_frame("report::family_path::read_path")?;
    // Every round the database holds: assessed, or when this family was decided.
    let rounds: Vec<String> = conn
        .prepare(
            "SELECT strftime(round, '%Y-%m-%d') FROM (
                 SELECT DISTINCT reference_date AS round FROM mart.family_criterion WHERE rule_set = ?
                 UNION SELECT reference_date FROM app.round_decision WHERE family_id = ?)
             ORDER BY round",
        )?
        .query_map([DEFAULT_SET, family_id], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    if rounds.is_empty() {
        return Ok(Vec::new());
    }
    // Parameters: $1 the family, $2 the rule set, $3… the rounds.
    let flags = (0..rounds.len())
        .map(|i| {
            let date = format!("${}::DATE", i + 3);
            format!(
                "SELECT {date} AS round, rank, capacity, flagged FROM ({}) WHERE family_id = $1",
                flags_sql(&date)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let round_list = (0..rounds.len())
        .map(|i| format!("(${}::DATE)", i + 3))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH rounds(round) AS (VALUES {round_list}),
         met AS (
             SELECT reference_date AS round,
                    coalesce(string_agg(criterion, chr(31) ORDER BY criterion) FILTER (WHERE met), '') AS met
             FROM mart.family_criterion WHERE family_id = $1 AND rule_set = $2 GROUP BY ALL),
         scores AS (
             SELECT reference_date AS round, max(score) AS score
             FROM mart.risk_score WHERE family_id = $1 GROUP BY ALL),
         flags AS ({flags}),
         decisions AS (
             SELECT reference_date, decided_at, outcome, review_date, plan_ends
             FROM app.round_decision WHERE family_id = $1),
         -- The plan standing from an earlier round: `report::flags`' own test.
         standing AS (
             SELECT r.round,
                    arg_max(d.outcome <> '{CLOSED}' AND d.review_date IS NOT NULL, d.decided_at) AS in_plan,
                    arg_max(d.review_date, d.decided_at) AS review_date,
                    arg_max(d.plan_ends, d.decided_at) AS plan_ends
             FROM rounds r JOIN decisions d ON d.reference_date < r.round
             GROUP BY r.round),
         decided AS (
             SELECT {DECISION_COLUMNS}, reference_date AS round FROM app.round_decision
             WHERE family_id = $1
             QUALIFY row_number() OVER (PARTITION BY reference_date ORDER BY decided_at DESC) = 1)
         SELECT strftime(r.round, '%Y-%m-%d'), m.round IS NOT NULL, coalesce(m.met, ''), s.score,
                f.rank, f.capacity, coalesce(f.flagged, false),
                coalesce(st.in_plan, false),
                coalesce(st.in_plan AND st.review_date <= r.round, false),
                coalesce(st.in_plan AND st.plan_ends <= r.round, false),
                d.* EXCLUDE (round)
         FROM rounds r
         LEFT JOIN met m USING (round)
         LEFT JOIN scores s USING (round)
         LEFT JOIN flags f USING (round)
         LEFT JOIN standing st USING (round)
         LEFT JOIN decided d USING (round)
         ORDER BY r.round DESC"
    );
    let mut params: Vec<&dyn duckdb::ToSql> = vec![&family_id, &DEFAULT_SET];
    params.extend(rounds.iter().map(|r| r as &dyn duckdb::ToSql));
    let mut path: Vec<PathRound> = conn
        .prepare(&sql)?
        .query_map(params.as_slice(), |row| {
            let met: String = row.get(2)?;
            let outcome: Option<String> = row.get(10)?;
            Ok(PathRound {
                round: row.get(0)?,
                assessed: row.get(1)?,
                criteria: split(&met).map(str::to_string).collect(),
                score: row.get(3)?,
                rank: row.get(4)?,
                capacity: row.get(5)?,
                flagged: row.get(6)?,
                in_plan: row.get(7)?,
                review_due: row.get(8)?,
                plan_ended: row.get(9)?,
                decision: match outcome {
                    Some(_) => Some(decision_from_row(row, 10)?),
                    None => None,
                },
            })
        })?
        .collect::<Result<_, _>>()?;
    // From the first round the family was assessed or discussed: before that
    // it had no child (or no records), and every round would say so.
    while path
        .last()
        .is_some_and(|first| !first.assessed && first.decision.is_none())
    {
        path.pop();
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::family_detail::{LEAD_PRACTITIONER, Plan};

    fn decided(outcome: &str, plan: bool) -> Option<Decision> {
        Some(Decision {
            outcome: outcome.into(),
            plan: plan.then(|| Plan {
                review_date: "2026-03-01".into(),
                ..Plan::default()
            }),
            ..Decision::default()
        })
    }

    #[test]
    fn each_round_says_where_the_family_stood() {
        let assessed = PathRound {
            assessed: true,
            ..PathRound::default()
        };
        assert_eq!(assessed.standing(), "not flagged");
        let flagged = PathRound {
            flagged: true,
            ..assessed.clone()
        };
        assert_eq!(flagged.standing(), "flagged");
        let planned = PathRound {
            decision: decided(LEAD_PRACTITIONER, true),
            ..flagged.clone()
        };
        assert_eq!(planned.standing(), "plan agreed");
        let due = PathRound {
            in_plan: true,
            review_due: true,
            ..assessed.clone()
        };
        assert_eq!(due.standing(), "review due");
        let reviewed = PathRound {
            decision: decided(LEAD_PRACTITIONER, true),
            ..due.clone()
        };
        assert!(reviewed.reviewed());
        assert_eq!(reviewed.standing(), "reviewed");
        let closed = PathRound {
            decision: decided(CLOSED, false),
            ..due.clone()
        };
        assert!(closed.closed() && closed.reviewed());
        assert_eq!(closed.standing(), "closed (stepped down)");
        let ended = PathRound {
            plan_ended: true,
            ..due
        };
        assert_eq!(ended.standing(), "plan ended: to step down");
        assert_eq!(PathRound::default().standing(), "not assessed");
    }
}
