//! Lineage across linkage runs: a council links every month, and a family's id
//! carries its round table's decisions, so a run that replaces people and
//! families must keep the ids of those that continue, say what changed, and take
//! each decision to the household it was about.
//!
//! - **Ids continue.** Before clustering, the previous run's people (by their
//!   records) and families (by their people) are kept aside ([`snapshot`]). A new
//!   person (family) takes the id of the previous one it continues: each previous
//!   id goes to the one new group holding most of its records (people), matched
//!   greedily from the largest overlap down ([`continuing_ids`]). Only a group that
//!   continues none gets a fresh id from its smallest record key (person id), so
//!   a new record that sorts first no longer renames anyone.
//! - **Changes are recorded.** Each pair of a previous and a new family sharing
//!   people (compared by their records) is a row of `app.family_change`: `kept`
//!   (one to one), `merged` (several previous into one), `split` (one into
//!   several), `regrouped` (people moved between households both ways); `new` and
//!   `gone` rows have one side only. People that are new, merged or split are in
//!   `app.person_change`. Both are written in the run's transaction.
//! - **Decisions follow the children.** A round table decides about children, so a
//!   previous family's decisions go to the successor holding most of its children
//!   (most of its people when it had none). When successors tie, the decisions
//!   are kept on every tied successor and the rows are marked `needs_review`, for
//!   the round table to settle rather than a guess. A family that merged keeps
//!   every predecessor's decisions (the latest is the current one). Each move is
//!   audited; nothing is dropped (a family whose people all left the extracts
//!   keeps its decisions under its old id, marked `needs_review`).
//!
//! Review verdicts are on pairs of records (`app.review_decision`), whose keys are
//! the agencies' record ids, so they hold across runs without moving.

use std::collections::{BTreeMap, HashMap, HashSet};

use duckdb::Connection;

use super::LinkError;
use super::cluster::stable_id;
use crate::audit::{Action, AppendLock, Entry};

/// What changed since the previous run, for the run's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Changes {
    /// The run number these changes are recorded under.
    pub run_id: i64,
    /// People none of whose records was linked before.
    pub new_persons: u64,
    /// People made from the records of two or more previous people.
    pub merged_persons: u64,
    /// Previous people whose records went to two or more people.
    pub split_persons: u64,
    pub families_kept: u64,
    /// Families of people none of whom was in a previous family.
    pub new_families: u64,
    /// Families made from two or more previous families.
    pub merged_families: u64,
    /// Previous families whose people went to two or more families.
    pub split_families: u64,
    /// Previous families none of whose people is in a family now.
    pub gone_families: u64,
    /// Families that continue one to one but are now placed in another zone.
    pub moved_zone: u64,
    /// Round-table decisions moved to (or copied onto) a successor family.
    pub decisions_moved: u64,
    /// Families whose decisions a round table should check: successors tied, or gone.
    pub needs_review: u64,
}

impl Changes {
    /// The changes as the run's audit entry ends them ("; since the previous run: …").
    pub fn sentence(&self) -> String {
        format!(
            "; since the previous run: {} new people, {} people merged, {} split; \
             {} families kept, {} new, {} merged, {} split, {} gone, {} moved zone; \
             {} decisions moved, {} families for the round table to check",
            self.new_persons,
            self.merged_persons,
            self.split_persons,
            self.families_kept,
            self.new_families,
            self.merged_families,
            self.split_families,
            self.gone_families,
            self.moved_zone,
            self.decisions_moved,
            self.needs_review
        )
    }
}

/// Keeps the previous run's people, records and families aside (temp tables
/// `previous_record`, `previous_person`, `previous_family`), empty when there
/// was none. Returns whether there was a previous run.
pub fn snapshot(conn: &Connection) -> Result<bool, duckdb::Error> {
    let linked: bool = conn.query_row(
        "SELECT count(*) = 3 FROM duckdb_tables() WHERE schema_name = 'core'
         AND table_name IN ('source_record', 'person', 'family')",
        [],
        |row| row.get(0),
    )?;
    if linked {
        conn.execute_batch(
            "CREATE OR REPLACE TEMP TABLE previous_record AS
             SELECT source || ':' || source_record_id AS record_key, person_id
             FROM core.source_record;
             CREATE OR REPLACE TEMP TABLE previous_person AS
             SELECT person_id, family_id FROM core.person;
             CREATE OR REPLACE TEMP TABLE previous_family AS
             SELECT family_id, zone_id FROM core.family;",
        )?;
    } else {
        conn.execute_batch(
            "CREATE OR REPLACE TEMP TABLE previous_record (record_key VARCHAR, person_id VARCHAR);
             CREATE OR REPLACE TEMP TABLE previous_person (person_id VARCHAR, family_id VARCHAR);
             CREATE OR REPLACE TEMP TABLE previous_family (family_id VARCHAR, zone_id VARCHAR);",
        )?;
    }
    let any: bool = conn.query_row("SELECT count(*) > 0 FROM previous_person", [], |row| {
        row.get(0)
    })?;
    Ok(any)
}

/// Drops the snapshot once the run is recorded.
pub fn drop_snapshot(conn: &Connection) -> Result<(), duckdb::Error> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS previous_record; DROP TABLE IF EXISTS previous_person;
         DROP TABLE IF EXISTS previous_family;",
    )
}

/// Ids for the groups of a new run that keep the previous run's where a group
/// continues one. `group_of[i]` is the group of element `i` (any representative),
/// `keys` the elements' keys in ascending order, `previous[i]` the id element `i`
/// had. Each previous id goes to at most one group: pairs of (group, previous id)
/// are taken greedily by how many elements they share, most first (ties: the group
/// whose first key sorts first, then the id that does). A group left without one
/// gets `stable_id(prefix, key)` of its first key whose id no previous element or
/// other group has, so an id never passes to an unrelated group. With no previous
/// ids this is `stable_id` of each group's smallest key, as before lineage.
pub fn continuing_ids(
    prefix: char,
    group_of: &[usize],
    keys: &[String],
    previous: &[Option<String>],
) -> Vec<String> {
    // Groups by their first element (keys ascend, so by smallest key).
    let mut first_of: HashMap<usize, usize> = HashMap::new();
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (element, &group) in group_of.iter().enumerate() {
        let first = *first_of.entry(group).or_insert(element);
        members.entry(first).or_default().push(element);
    }
    let mut overlap: HashMap<(usize, &str), usize> = HashMap::new();
    for (element, id) in previous.iter().enumerate() {
        if let Some(id) = id {
            *overlap
                .entry((first_of[&group_of[element]], id.as_str()))
                .or_default() += 1;
        }
    }
    let mut pairs: Vec<((usize, &str), usize)> = overlap.into_iter().collect();
    pairs.sort_by(|((ga, ia), na), ((gb, ib), nb)| nb.cmp(na).then(ga.cmp(gb)).then(ia.cmp(ib)));
    let mut id_of_group: HashMap<usize, String> = HashMap::new();
    let mut taken: HashSet<String> = previous.iter().flatten().cloned().collect();
    let mut given: HashSet<&str> = HashSet::new();
    for ((group, id), _) in pairs {
        if !id_of_group.contains_key(&group) && given.insert(id) {
            id_of_group.insert(group, id.to_string());
        }
    }
    for (&first, elements) in &members {
        if id_of_group.contains_key(&first) {
            continue;
        }
        let fresh = elements
            .iter()
            .map(|&e| stable_id(prefix, &keys[e]))
            .find(|id| !taken.contains(id))
            .unwrap_or_else(|| {
                (1..)
                    .map(|n| stable_id(prefix, &format!("{}#{n}", keys[first])))
                    .find(|id| !taken.contains(id))
                    .unwrap_or_default()
            });
        taken.insert(fresh.clone());
        id_of_group.insert(first, fresh);
    }
    group_of
        .iter()
        .map(|group| id_of_group[&first_of[group]].clone())
        .collect()
}

/// Each (previous family, new family) pair sharing people, compared by their
/// records: the people (new ids) and children in both. `previous_record` →
/// `previous_person` gives a record's previous family; `link.assignment` →
/// `core.person` its new one.
const FAMILY_EDGES_SQL: &str = "
    SELECT op.family_id AS old_family_id, np.family_id AS new_family_id,
           count(DISTINCT np.person_id) AS members,
           count(DISTINCT np.person_id) FILTER (WHERE np.birth_date > coalesce(
               (SELECT max(extract_date) FROM app.load_run),
               (SELECT max(last_event) FROM app.source)) - INTERVAL 18 YEAR) AS children
    FROM previous_record pr
    JOIN previous_person op ON op.person_id = pr.person_id
    JOIN link.assignment a ON a.record_key = pr.record_key
    JOIN core.person np ON np.person_id = a.person_id
    GROUP BY ALL";

/// Records what changed since the previous run under `run_id`, moves the
/// round-table decisions of families that changed (each move with its audit
/// entry, as `actor`), and returns the summary. Runs inside the linkage run's
/// transaction, after `core.person` and `core.family` are rebuilt.
pub fn record(
    conn: &Connection,
    lock: &AppendLock,
    run_id: i64,
    actor: &str,
) -> Result<Changes, LinkError> {
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE family_edge AS
         WITH edges AS ({FAMILY_EDGES_SQL}),
         successors AS (SELECT old_family_id, count(*) AS n FROM edges GROUP BY ALL),
         predecessors AS (SELECT new_family_id, count(*) AS n FROM edges GROUP BY ALL)
         SELECT e.*, CASE WHEN s.n = 1 AND p.n = 1 THEN 'kept'
                          WHEN s.n > 1 AND p.n > 1 THEN 'regrouped'
                          WHEN s.n > 1 THEN 'split' ELSE 'merged' END AS kind
         FROM edges e JOIN successors s USING (old_family_id)
         JOIN predecessors p USING (new_family_id);"
    ))?;
    move_decisions(conn, lock, run_id, actor)?;
    conn.execute(
        "INSERT INTO app.family_change
         SELECT ?1, e.old_family_id, e.new_family_id, e.kind, e.members, e.children,
                o.zone_id, n.zone_id, coalesce(m.decisions, 0), coalesce(m.needs_review, false)
         FROM family_edge e
         LEFT JOIN previous_family o ON o.family_id = e.old_family_id
         LEFT JOIN core.family n ON n.family_id = e.new_family_id
         LEFT JOIN decision_target m
             ON m.old_family_id = e.old_family_id AND m.new_family_id = e.new_family_id
         UNION ALL
         SELECT ?1, NULL, n.family_id, 'new', n.members, n.children, NULL, n.zone_id, 0, false
         FROM core.family n ANTI JOIN family_edge e ON e.new_family_id = n.family_id
         UNION ALL
         SELECT ?1, o.family_id, NULL, 'gone', 0, 0, o.zone_id, NULL, 0,
                o.family_id IN (SELECT family_id FROM app.round_decision)
         FROM previous_family o ANTI JOIN family_edge e ON e.old_family_id = o.family_id",
        [run_id],
    )?;
    conn.execute(
        "INSERT INTO app.person_change
         WITH edges AS (
             SELECT pr.person_id AS old_person_id, a.person_id AS new_person_id,
                    count(*) AS records
             FROM previous_record pr JOIN link.assignment a USING (record_key) GROUP BY ALL),
         successors AS (SELECT old_person_id, count(*) AS n FROM edges GROUP BY ALL),
         predecessors AS (SELECT new_person_id, count(*) AS n FROM edges GROUP BY ALL)
         SELECT ?, e.old_person_id, e.new_person_id,
                CASE WHEN s.n > 1 AND p.n > 1 THEN 'regrouped'
                     WHEN s.n > 1 THEN 'split' ELSE 'merged' END, e.records
         FROM edges e JOIN successors s USING (old_person_id)
         JOIN predecessors p USING (new_person_id)
         WHERE s.n > 1 OR p.n > 1",
        [run_id],
    )?;
    conn.execute(
        "INSERT INTO app.person_change
         SELECT ?, NULL, p.person_id, 'new', p.source_records FROM core.person p
         ANTI JOIN (SELECT a.person_id FROM link.assignment a
                    JOIN previous_record r USING (record_key)) seen USING (person_id)",
        [run_id],
    )?;
    conn.execute_batch("DROP TABLE family_edge; DROP TABLE decision_target;")?;
    Ok(summarise(conn, run_id)?)
}

/// The changes linkage run `run_id` recorded, counted from `app.family_change`
/// and `app.person_change` (all zero for a run that had no previous one).
pub fn summarise(conn: &Connection, run_id: i64) -> Result<Changes, duckdb::Error> {
    let count = |sql: &str| -> Result<u64, duckdb::Error> {
        conn.query_row(sql, [run_id], |row| row.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
    };
    let families = |kind: &str| {
        count(&format!(
            "SELECT count(*) FROM app.family_change WHERE run_id = ? AND kind = '{kind}'"
        ))
    };
    Ok(Changes {
        run_id,
        new_persons: count(
            "SELECT count(*) FROM app.person_change WHERE run_id = ? AND kind = 'new'",
        )?,
        merged_persons: count(
            "SELECT count(DISTINCT new_person_id) FROM app.person_change
             WHERE run_id = ? AND kind = 'merged'",
        )?,
        split_persons: count(
            "SELECT count(DISTINCT old_person_id) FROM app.person_change
             WHERE run_id = ? AND kind IN ('split', 'regrouped')",
        )?,
        families_kept: families("kept")?,
        new_families: families("new")?,
        merged_families: count(
            "SELECT count(DISTINCT new_family_id) FROM app.family_change
             WHERE run_id = ? AND kind = 'merged'",
        )?,
        split_families: count(
            "SELECT count(DISTINCT old_family_id) FROM app.family_change
             WHERE run_id = ? AND kind IN ('split', 'regrouped')",
        )?,
        gone_families: families("gone")?,
        moved_zone: count(
            "SELECT count(*) FROM app.family_change WHERE run_id = ? AND kind = 'kept'
             AND zone_before IS DISTINCT FROM zone_after",
        )?,
        decisions_moved: count(
            "SELECT coalesce(sum(decisions_moved), 0)::BIGINT FROM app.family_change
             WHERE run_id = ?",
        )?,
        needs_review: count(
            "SELECT count(DISTINCT coalesce(old_family_id, new_family_id)) FROM app.family_change
             WHERE run_id = ? AND needs_review",
        )?,
    })
}

/// Moves the decisions of every previous family that did not continue one to one
/// under its own id to its successor(s) by the rule above, and leaves
/// `decision_target` (old family, new family, decisions, needs_review) for the
/// change rows. The decisions are rewritten in one statement from a copy, so a
/// decision moves once even when its new family's id was another's before.
fn move_decisions(
    conn: &Connection,
    lock: &AppendLock,
    run_id: i64,
    actor: &str,
) -> Result<(), LinkError> {
    conn.execute_batch(
        "CREATE OR REPLACE TEMP TABLE decision_target AS
         WITH decided AS (
             SELECT family_id AS old_family_id, count(*) AS decisions
             FROM app.round_decision GROUP BY ALL),
         ranked AS (
             SELECT e.old_family_id, e.new_family_id, d.decisions,
                    rank() OVER (PARTITION BY e.old_family_id
                                 ORDER BY e.children DESC, e.members DESC) AS place
             FROM family_edge e JOIN decided d USING (old_family_id)),
         chosen AS (SELECT * FROM ranked WHERE place = 1)
         SELECT old_family_id, new_family_id,
                CASE WHEN old_family_id = new_family_id THEN 0 ELSE decisions END AS decisions,
                count(*) OVER (PARTITION BY old_family_id) > 1 AS needs_review
         FROM chosen
         WHERE old_family_id IN (SELECT old_family_id FROM chosen
                                 WHERE old_family_id <> new_family_id);",
    )?;
    let moves: Vec<(String, String, i64, bool)> = conn
        .prepare(
            "SELECT old_family_id, new_family_id, decisions, needs_review FROM decision_target
             WHERE decisions > 0 ORDER BY old_family_id, new_family_id",
        )?
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    if moves.is_empty() {
        return Ok(());
    }
    conn.execute_batch(
        "CREATE OR REPLACE TEMP TABLE decisions_before AS SELECT * FROM app.round_decision;
         DELETE FROM app.round_decision;
         INSERT INTO app.round_decision BY NAME
         SELECT coalesce(t.new_family_id, d.family_id) AS family_id, d.* EXCLUDE (family_id)
         FROM decisions_before d
         LEFT JOIN decision_target t ON t.old_family_id = d.family_id;
         DROP TABLE decisions_before;",
    )?;
    for (old, new, decisions, needs_review) in moves {
        let detail = format!(
            "{decisions} round-table decision{} moved from family {old} by linkage run {run_id}{}",
            if decisions == 1 { "" } else { "s" },
            if needs_review {
                ": its people went to several households with as many children each, \
                 so every one of them holds the decisions; the round table should check"
            } else {
                ", to the household holding most of its children"
            }
        );
        crate::audit::append(
            conn,
            lock,
            &Entry::new(actor, Action::Decision, new).with_detail(detail),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("k{i:02}")).collect()
    }

    fn ids(previous: &[&str]) -> Vec<Option<String>> {
        previous
            .iter()
            .map(|p| (!p.is_empty()).then(|| p.to_string()))
            .collect()
    }

    #[test]
    fn without_a_previous_run_ids_come_from_the_smallest_key() {
        let got = continuing_ids('P', &[0, 0, 2, 2, 4], &keys(5), &ids(&["", "", "", "", ""]));
        assert_eq!(
            got,
            vec![
                stable_id('P', "k00"),
                stable_id('P', "k00"),
                stable_id('P', "k02"),
                stable_id('P', "k02"),
                stable_id('P', "k04"),
            ]
        );
    }

    #[test]
    fn a_group_that_gains_a_smaller_key_keeps_its_id() {
        // k00 is new and sorts first; the group still continues "A".
        let got = continuing_ids('P', &[0, 0, 0], &keys(3), &ids(&["", "A", "A"]));
        assert_eq!(got, vec!["A", "A", "A"]);
    }

    #[test]
    fn a_split_leaves_the_id_with_the_larger_part_and_a_merge_with_the_larger_predecessor() {
        // Previous A = {0, 1, 2}, B = {3, 4}. Now {0, 1}, {2}, {3, 4} merged with nothing.
        let got = continuing_ids(
            'F',
            &[0, 0, 2, 3, 3],
            &keys(5),
            &ids(&["A", "A", "A", "B", "B"]),
        );
        assert_eq!(&got[0], "A");
        assert_eq!(&got[3], "B");
        assert_ne!(got[2], "A");
        assert_eq!(got[2], stable_id('F', "k02"));
        // Previous A = {0, 1}, B = {2, 3, 4}: merged into one group, which keeps B.
        let got = continuing_ids(
            'F',
            &[0, 0, 0, 0, 0],
            &keys(5),
            &ids(&["A", "A", "B", "B", "B"]),
        );
        assert!(got.iter().all(|id| id == "B"));
    }

    #[test]
    fn a_fresh_id_never_repeats_a_previous_one() {
        // The part split off holds k00, whose stable id was the previous id.
        let previous_id = stable_id('P', "k00");
        let got = continuing_ids(
            'P',
            &[0, 1, 1],
            &keys(3),
            &ids(&[&previous_id, &previous_id, &previous_id]),
        );
        assert_eq!(got[1], previous_id, "the larger part keeps it");
        assert_ne!(got[0], previous_id);
        assert_eq!(got[0], stable_id('P', "k00#1"));
    }
}
