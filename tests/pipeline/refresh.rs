//! The monthly refresh: a county's March extracts loaded and linked, decisions
//! and a review verdict recorded, then April's extracts loaded and linked. People
//! and families that did not change keep their ids; the decision on a family that
//! April merges with another is on the merged family, the one on a family April
//! splits is on the household holding most of its children; the change table
//! equals a comparison of membership made here from the two runs' tables; the
//! verdict still holds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common::{self, Table};
use zonewise::ingest::{self, Manifest};
use zonewise::link::{self, LinkConfig};
use zonewise::report::family_detail::{NewDecision, OUTCOMES, record_decision};
use zonewise::synth::{self, SynthConfig};

/// Every record's person and family after a run: record key → (person, family).
fn linked(conn: &duckdb::Connection) -> BTreeMap<String, (String, String)> {
    conn.prepare(
        "SELECT s.source || ':' || s.source_record_id, s.person_id, p.family_id
         FROM core.source_record s JOIN core.person p USING (person_id)",
    )
    .expect("prepare")
    .query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

/// Groups of record keys by a value: person or family id → its records.
fn members(
    linked: &BTreeMap<String, (String, String)>,
    of: impl Fn(&(String, String)) -> &String,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (record, ids) in linked {
        groups
            .entry(of(ids).clone())
            .or_default()
            .insert(record.clone());
    }
    groups
}

/// How many of the groups of `before` continue one to one in `after` (every
/// record of the group is in one group after, which holds no record of another
/// group before), and how many of those kept their id.
fn continuing(
    before: &BTreeMap<String, BTreeSet<String>>,
    after_of: &BTreeMap<String, String>,
    before_of: &BTreeMap<String, String>,
) -> (usize, usize) {
    let mut after_groups: BTreeMap<&String, BTreeSet<&String>> = BTreeMap::new();
    for (record, group) in after_of {
        if let Some(old) = before_of.get(record) {
            after_groups.entry(group).or_default().insert(old);
        }
    }
    let (mut unchanged, mut kept) = (0, 0);
    for (id, records) in before {
        let now: BTreeSet<&String> = records.iter().filter_map(|r| after_of.get(r)).collect();
        if now.len() != 1 {
            continue;
        }
        let new_id = *now.iter().next().expect("one");
        if after_groups[new_id].len() == 1 {
            unchanged += 1;
            kept += usize::from(new_id == id);
        }
    }
    (unchanged, kept)
}

/// The linked family holding most of a true family's records.
fn family_of(
    truth_family: &str,
    truth: &BTreeMap<String, String>,
    linked: &BTreeMap<String, (String, String)>,
) -> String {
    let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
    for (record, family) in truth {
        if family == truth_family
            && let Some((_, linked_family)) = linked.get(record)
        {
            *counts.entry(linked_family).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(id, n)| (*n, std::cmp::Reverse(*id)))
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no records of {truth_family}"))
}

/// Where the rule puts a decision on March family `old`: the April families holding
/// its people (by their records) with the most of its children, then people; `old`
/// itself when none does.
fn expected_targets(
    conn: &duckdb::Connection,
    old: &str,
    before: &BTreeMap<String, (String, String)>,
    after: &BTreeMap<String, (String, String)>,
) -> BTreeSet<String> {
    let mut successors: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (record, (_, was)) in before {
        if was == old
            && let Some((person, now)) = after.get(record)
        {
            successors
                .entry(now.clone())
                .or_default()
                .insert(person.clone());
        }
    }
    let children = |people: &BTreeSet<String>| -> usize {
        people
            .iter()
            .filter(|p| {
                conn.query_row(
                    "SELECT birth_date > DATE '2026-04-01' - INTERVAL 18 YEAR FROM core.person WHERE person_id = ?",
                    [p.as_str()],
                    |row| row.get::<_, Option<bool>>(0),
                )
                .expect("person")
                .unwrap_or(false)
            })
            .count()
    };
    let Some(best) = successors.values().map(|p| (children(p), p.len())).max() else {
        return BTreeSet::from([old.to_string()]);
    };
    successors
        .iter()
        .filter(|(_, p)| (children(p), p.len()) == best)
        .map(|(id, _)| id.clone())
        .collect()
}

fn decide(conn: &duckdb::Connection, family_id: &str, note: &str) {
    record_decision(
        conn,
        &NewDecision {
            family_id: family_id.to_string(),
            zone_id: None,
            reference_date: "2026-03-01".to_string(),
            outcome: OUTCOMES[0].to_string(),
            note: note.to_string(),
            plan: None,
        },
        "chair",
    )
    .expect("decision");
}

fn decided_families(conn: &duckdb::Connection, note: &str) -> BTreeSet<String> {
    conn.prepare("SELECT family_id FROM app.round_decision WHERE note = ?")
        .expect("prepare")
        .query_map([note], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn load_and_link(conn: &duckdb::Connection, manifest: &Path) -> link::LinkReport {
    let manifest = Manifest::load(manifest).expect("manifest");
    ingest::ingest(conn, &manifest, "analyst", &mut |_| {}).expect("ingest");
    link::link(conn, &LinkConfig::default(), "analyst").expect("link")
}

#[test]
fn a_second_month_keeps_unchanged_ids_and_moves_decisions_with_their_families() {
    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("county");
    synth::generate(
        &SynthConfig {
            out_dir: out.clone(),
            reference_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/ref"),
            families: 400,
            seed: 14,
            noise: 1.0,
            gzip: false,
            authorities: Vec::new(),
            months: 2,
            round_tables: zonewise::synth::round_tables::RoundTableConfig::no_effect(),
        },
        &|_, _| {},
    )
    .expect("synth");
    let planted = Table::truth(&out, "changes");
    let (kind, family, with) = (
        planted.column("kind"),
        planted.column("family_id"),
        planted.column("with_family_id"),
    );
    let records = Table::truth(&out, "records");
    let truth: BTreeMap<String, String> = records
        .rows
        .iter()
        .map(|row| {
            (
                format!(
                    "{}:{}",
                    row[records.column("source")],
                    row[records.column("record_id")]
                ),
                row[records.column("family_id")].clone(),
            )
        })
        .collect();

    let conn = zonewise::store::open(&dir.path().join("county.duckdb")).expect("db");
    let march = load_and_link(&conn, &out.join("months/2026-03-01/manifest.toml"));
    assert!(
        march.changes.is_none(),
        "a first run has nothing to compare"
    );
    let before = linked(&conn);

    // A merge April makes of two families March kept apart, and a split of one
    // March joined by a keying error, each with a decision.
    let merges: Vec<(String, String, Vec<String>)> = planted
        .rows
        .iter()
        .filter(|row| row[kind] == "merged")
        .map(|row| {
            (
                family_of(&row[family], &truth, &before),
                family_of(&row[with], &truth, &before),
                row.clone(),
            )
        })
        .filter(|(a, b, _)| a != b)
        .collect();
    assert!(!merges.is_empty(), "a planted merge of two March families");
    let split = planted
        .rows
        .iter()
        .filter(|row| row[kind] == "split")
        .map(|row| {
            (
                family_of(&row[family], &truth, &before),
                family_of(&row[with], &truth, &before),
                row.clone(),
            )
        })
        .find(|(a, b, _)| a == b)
        .expect("a planted split of one March family");
    for (index, (a, b, _)) in merges.iter().enumerate() {
        decide(&conn, a, &format!("merge {index}"));
        decide(&conn, b, &format!("merge {index} other"));
    }
    decide(&conn, &split.0, "split test");
    let (l_key, r_key): (String, String) = conn
        .query_row(
            &format!(
                "SELECT l_key, r_key FROM ({}) ORDER BY match_probability DESC, l_key LIMIT 1",
                link::review::pending_sql(0.5, 0.95)
            ),
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("a pair waiting for review");
    link::review::record_decision(&conn, &l_key, &r_key, true, "reviewer").expect("verdict");
    let decisions_before =
        zonewise::store::scalar_i64(&conn, "SELECT count(*) FROM app.round_decision")
            .expect("count");
    let audit_before =
        zonewise::store::scalar_i64(&conn, "SELECT max(seq) FROM app.audit_log").expect("seq");

    let april = load_and_link(&conn, &out.join("manifest.toml"));
    let changes = april.changes.clone().expect("April is compared with March");
    let after = linked(&conn);

    // Unchanged people and families keep their ids, and nearly all are unchanged.
    let person_before: BTreeMap<String, String> = before
        .iter()
        .map(|(r, (p, _))| (r.clone(), p.clone()))
        .collect();
    let person_after: BTreeMap<String, String> = after
        .iter()
        .map(|(r, (p, _))| (r.clone(), p.clone()))
        .collect();
    let (unchanged, kept) = continuing(
        &members(&before, |ids| &ids.0),
        &person_after,
        &person_before,
    );
    let persons_before = members(&before, |ids| &ids.0).len();
    assert_eq!(kept, unchanged, "every unchanged person keeps their id");
    assert!(
        unchanged * 100 >= persons_before * 95,
        "{unchanged} of {persons_before} people unchanged"
    );
    let family_before: BTreeMap<String, String> = before
        .iter()
        .map(|(r, (_, f))| (r.clone(), f.clone()))
        .collect();
    let family_after: BTreeMap<String, String> = after
        .iter()
        .map(|(r, (_, f))| (r.clone(), f.clone()))
        .collect();
    let families_before = members(&before, |ids| &ids.1);
    let (unchanged, kept) = continuing(&families_before, &family_after, &family_before);
    assert_eq!(kept, unchanged, "every unchanged family keeps its id");
    assert!(
        unchanged * 100 >= families_before.len() * 90,
        "{unchanged} of {} families unchanged",
        families_before.len()
    );
    assert_eq!(changes.families_kept as usize, unchanged);

    // Each decision is where the rule puts it, worked out here from the two runs:
    // on the April household holding most of its March family's children (then
    // people), on each when they tie. Where April joined both families of a planted
    // merge, both decisions are on the merged family.
    let mut merged_families = Vec::new();
    for (index, (a, b, _)) in merges.iter().enumerate() {
        let (mine, theirs) = (
            decided_families(&conn, &format!("merge {index}")),
            decided_families(&conn, &format!("merge {index} other")),
        );
        assert_eq!(
            mine,
            expected_targets(&conn, a, &before, &after),
            "merge {index}"
        );
        assert_eq!(
            theirs,
            expected_targets(&conn, b, &before, &after),
            "merge {index} other"
        );
        if mine == theirs && mine.len() == 1 {
            merged_families.extend(mine);
        }
    }
    let merged = merged_families
        .first()
        .expect("a merge April linked, both decisions on it")
        .clone();

    // The split: the decision is on the April household holding most of the March
    // family's children (then people); on each when they tie.
    let old = &split.0;
    assert_ne!(
        family_of(&split.2[family], &truth, &after),
        family_of(&split.2[with], &truth, &after),
        "April split them"
    );
    assert_eq!(
        decided_families(&conn, "split test"),
        expected_targets(&conn, old, &before, &after)
    );
    // Nothing is dropped: every decision is still there, with a copy on each
    // further tied successor.
    let decisions_after =
        zonewise::store::scalar_i64(&conn, "SELECT count(*) FROM app.round_decision")
            .expect("count");
    let copies = conn
        .query_row(
            "SELECT count(*) - count(DISTINCT old_family_id) FROM app.family_change
             WHERE run_id = ? AND decisions_moved > 0 AND needs_review",
            [changes.run_id],
            |row| row.get::<_, i64>(0),
        )
        .expect("copies");
    assert_eq!(decisions_after, decisions_before + copies);

    // Each move is in the audit log, with the family it came from.
    let moves = common::audit_entries(&conn, audit_before, &["decision"]);
    assert!(
        moves
            .iter()
            .any(|(user, _, subject, _)| user == "analyst" && *subject == merged),
        "{moves:?}"
    );

    // The change table equals the comparison of the two runs' memberships here.
    let mut edges: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for (record, (_, was)) in &before {
        if let Some((person, now)) = after.get(record) {
            edges
                .entry((was.clone(), now.clone()))
                .or_default()
                .insert(person.clone());
        }
    }
    let successors_of = |old: &String| edges.keys().filter(|(o, _)| o == old).count();
    let predecessors_of = |new: &String| edges.keys().filter(|(_, n)| n == new).count();
    let mut expected: BTreeSet<(Option<String>, Option<String>, String, i64)> = edges
        .iter()
        .map(|((old, new), people)| {
            let kind = match (successors_of(old), predecessors_of(new)) {
                (1, 1) => "kept",
                (1, _) => "merged",
                (_, 1) => "split",
                _ => "regrouped",
            };
            (
                Some(old.clone()),
                Some(new.clone()),
                kind.to_string(),
                people.len() as i64,
            )
        })
        .collect();
    let new_families: Vec<(String, i64)> = conn
        .prepare("SELECT family_id, members FROM core.family")
        .expect("prepare")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for (id, size) in new_families {
        if !edges.keys().any(|(_, n)| *n == id) {
            expected.insert((None, Some(id), "new".to_string(), size));
        }
    }
    for id in families_before.keys() {
        if !edges.keys().any(|(o, _)| o == id) {
            expected.insert((Some(id.clone()), None, "gone".to_string(), 0));
        }
    }
    let recorded: BTreeSet<(Option<String>, Option<String>, String, i64)> = conn
        .prepare(
            "SELECT old_family_id, new_family_id, kind, members FROM app.family_change
             WHERE run_id = ?",
        )
        .expect("prepare")
        .query_map([changes.run_id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(recorded, expected);
    assert!(
        changes.merged_families >= 1 && changes.split_families >= 1,
        "{changes:?}"
    );
    assert!(
        changes.new_persons >= 1,
        "April's births and first contacts: {changes:?}"
    );

    // The reviewer's verdict is kept and still joins its two records.
    let verdicts = zonewise::store::scalar_i64(&conn, "SELECT count(*) FROM app.review_decision")
        .expect("count");
    assert_eq!(verdicts, 1);
    assert_eq!(
        after[&l_key].0, after[&r_key].0,
        "the pair is still one person"
    );

    // Linking April again changes nothing: every family is kept under its id.
    let again = link::link(&conn, &LinkConfig::default(), "analyst").expect("again");
    let again_changes = again.changes.expect("compared");
    assert_eq!(again_changes.families_kept, again.families);
    assert_eq!(again_changes.decisions_moved, 0);
    assert_eq!(linked(&conn), after);
}
