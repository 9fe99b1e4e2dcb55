//! Clustering: accepted pairs → connected components → one `person_id` each.
//!
//! Pairs join records strongest first, and a join that would put records born a
//! generation apart into one person is refused (`Evidence`): a father and his
//! namesake son are each linked to a record with no birth date, and plain
//! connected components would make them one person through it.
//!
//! A person id continues the previous run's person whose records it holds most
//! of (`lineage`); a person new to this run gets an id derived from its smallest
//! record key. So an unchanged input gives the same ids on every run, and neither
//! an unrelated record nor a new record of the same person renumbers anyone.

use std::collections::HashMap;

use super::comparisons::GENERATION_DAYS;

use duckdb::Connection;
use sha2::{Digest, Sha256};

/// Disjoint sets over record indices, with path halving and union by size.
pub struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl UnionFind {
    /// `n` singleton sets.
    pub fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    /// The representative of `x`'s set.
    pub fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// For every element, the smallest element of its set. When elements index a
    /// sorted list of keys, that is the set's smallest key, from which stable ids come.
    pub fn smallest_members(&mut self) -> Vec<usize> {
        let mut smallest_of_root: HashMap<usize, usize> = HashMap::new();
        (0..self.parent.len())
            .map(|i| {
                let root = self.find(i);
                *smallest_of_root.entry(root).or_insert(i)
            })
            .collect()
    }

    /// Joins the sets of `a` and `b`.
    pub fn union(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }
}

/// A short id derived from `key`: the prefix and the first 12 hex digits of its SHA-256.
pub fn stable_id(prefix: char, key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// What a component of records already says about who it is: every birth date
/// (days since 1970) and NHS number among its records.
#[derive(Debug, Default, Clone)]
pub struct Evidence {
    birth_days: Vec<i64>,
    nhs: Vec<String>,
}

impl Evidence {
    /// One record's evidence.
    pub fn of(birth_days: Option<i64>, nhs: Option<String>) -> Evidence {
        Evidence {
            birth_days: birth_days.into_iter().collect(),
            nhs: nhs.into_iter().collect(),
        }
    }

    /// Whether joining these two components would make one person of records born
    /// a generation apart. One person's records are that far apart only through a
    /// typing error, so only a shared NHS number overrides it.
    fn conflicts_with(&self, other: &Evidence) -> bool {
        let generation_apart = self.birth_days.iter().any(|a| {
            other
                .birth_days
                .iter()
                .any(|b| (a - b).abs() >= GENERATION_DAYS)
        });
        generation_apart && !self.nhs.iter().any(|n| other.nhs.contains(n))
    }

    fn absorb(&mut self, other: Evidence) {
        for day in other.birth_days {
            if !self.birth_days.contains(&day) {
                self.birth_days.push(day);
            }
        }
        for nhs in other.nhs {
            if !self.nhs.contains(&nhs) {
                self.nhs.push(nhs);
            }
        }
    }
}

/// Records joined into people: disjoint sets that keep each set's [`Evidence`].
pub struct People {
    sets: UnionFind,
    evidence: Vec<Evidence>,
    /// Accepted pairs whose join was refused.
    pub held_apart: u64,
}

impl People {
    /// One person per record, with each record's evidence.
    pub fn new(evidence: Vec<Evidence>) -> People {
        People {
            sets: UnionFind::new(evidence.len()),
            evidence,
            held_apart: 0,
        }
    }

    /// Joins the people of records `a` and `b`, unless their evidence conflicts and
    /// no reviewer said they are one person. Call strongest pair first: the first
    /// join decides which side a record with no birth date falls on.
    pub fn join(&mut self, a: usize, b: usize, reviewer_said_same: bool) -> bool {
        let (ra, rb) = (self.sets.find(a), self.sets.find(b));
        if ra == rb {
            return true;
        }
        if !reviewer_said_same && self.evidence[ra].conflicts_with(&self.evidence[rb]) {
            self.held_apart += 1;
            return false;
        }
        self.sets.union(ra, rb);
        let root = self.sets.find(ra);
        let absorbed = std::mem::take(&mut self.evidence[if root == ra { rb } else { ra }]);
        self.evidence[root].absorb(absorbed);
        true
    }

    /// For every record, the smallest record of its person.
    pub fn smallest_members(&mut self) -> Vec<usize> {
        self.sets.smallest_members()
    }
}

/// What clustering produced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clusters {
    pub persons: u64,
    /// Accepted pairs not joined because their records were born a generation apart.
    pub held_apart: u64,
}

/// Clusters pairs at or above `accept_probability` (and as reviewers decided),
/// strongest first and never joining records born a generation apart on scores
/// alone, and replaces `core.source_record` and `core.person`. Person ids continue
/// the previous run's (`lineage::snapshot` first, then `lineage::continuing_ids`).
pub fn cluster(conn: &Connection, accept_probability: f64) -> Result<Clusters, duckdb::Error> {
    let mut keys: Vec<String> = Vec::new();
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut previous: Vec<Option<String>> = Vec::new();
    {
        let mut records = conn.prepare(
            "SELECT r.record_key, r.birth_date - DATE '1970-01-01', r.nhs, p.person_id
             FROM link.record r LEFT JOIN previous_record p USING (record_key)
             ORDER BY r.record_key",
        )?;
        let mut rows = records.query([])?;
        while let Some(row) = rows.next()? {
            keys.push(row.get(0)?);
            evidence.push(Evidence::of(row.get(1)?, row.get(2)?));
            previous.push(row.get(3)?);
        }
    }
    let index: HashMap<&str, usize> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let mut people = People::new(evidence);
    let mut accepted = conn.prepare(&super::review::linking_pairs_sql(accept_probability))?;
    let mut rows = accepted.query([])?;
    while let Some(row) = rows.next()? {
        let l: String = row.get(0)?;
        let r: String = row.get(1)?;
        let reviewer_said_same: bool = row.get(2)?;
        if let (Some(&a), Some(&b)) = (index.get(l.as_str()), index.get(r.as_str())) {
            people.join(a, b, reviewer_said_same);
        }
    }
    let held_apart = people.held_apart;
    let smallest = people.smallest_members();
    let ids = super::lineage::continuing_ids('P', &smallest, &keys, &previous);
    conn.execute_batch(
        "CREATE OR REPLACE TABLE link.assignment (record_key VARCHAR, person_id VARCHAR);",
    )?;
    {
        let mut appender = conn.appender_to_db("assignment", "link")?;
        for (key, person) in keys.iter().zip(&ids) {
            appender.append_row([key.as_str(), person.as_str()])?;
        }
    }
    conn.execute("SET VARIABLE accept = ?", [accept_probability])?;
    conn.execute_batch(
        "CREATE OR REPLACE TABLE core.source_record AS
         SELECT r.source, r.record_id AS source_record_id, a.person_id,
                best.match_weight,
                CASE WHEN best.match_weight IS NULL THEN 'unmatched' ELSE 'linked' END AS match_status
         FROM link.record r
         JOIN link.assignment a USING (record_key)
         LEFT JOIN (
             SELECT key, max(match_weight) AS match_weight FROM (
                 SELECT l_key AS key, match_weight, match_probability FROM link.pair
                 UNION ALL SELECT r_key, match_weight, match_probability FROM link.pair)
             WHERE match_probability >= getvariable('accept') GROUP BY key
         ) best ON best.key = r.record_key;
         CREATE OR REPLACE TABLE core.person AS
         SELECT a.person_id, NULL::VARCHAR AS family_id,
                mode(r.given) AS given_name, mode(r.family) AS family_name,
                mode(r.birth_date) AS birth_date, mode(r.sex) AS sex,
                mode(r.postcode) AS postcode, NULL::VARCHAR AS lsoa_code,
                max(r.nhs) AS nhs_number,
                count(*) AS source_records
         FROM link.record r JOIN link.assignment a USING (record_key)
         GROUP BY a.person_id;",
    )?;
    let persons: i64 = conn.query_row("SELECT count(*) FROM core.person", [], |row| row.get(0))?;
    Ok(Clusters {
        persons: persons.max(0) as u64,
        held_apart,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever order pairs arrive in, the partition is the same, and it is transitive.
        #[test]
        fn components_are_transitive_and_order_free(edges in proptest::collection::vec((0usize..30, 0usize..30), 0..60)) {
            let mut forward = UnionFind::new(30);
            let mut backward = UnionFind::new(30);
            for &(a, b) in &edges { forward.union(a, b); }
            for &(a, b) in edges.iter().rev() { backward.union(b, a); }
            for &(a, b) in &edges {
                prop_assert_eq!(forward.find(a), forward.find(b));
            }
            for (x, first) in forward.smallest_members().into_iter().enumerate() {
                prop_assert!(first <= x);
                prop_assert_eq!(forward.find(first), forward.find(x));
            }
            for x in 0..30 {
                for y in 0..30 {
                    prop_assert_eq!(forward.find(x) == forward.find(y), backward.find(x) == backward.find(y));
                }
            }
        }
    }

    const YEAR: i64 = 365;

    /// A father (born 1984), his namesake son (2012), and a record of one of them
    /// with no birth date that scores high against both: the stronger pair decides
    /// whose it is, and the weaker one is held apart.
    #[test]
    fn a_record_without_a_birth_date_joins_one_generation_only() {
        let mut people = People::new(vec![
            Evidence::of(Some(14 * YEAR), None),
            Evidence::of(None, None),
            Evidence::of(Some(42 * YEAR), None),
        ]);
        assert!(people.join(1, 2, false), "the stronger pair joins");
        assert!(!people.join(0, 1, false), "the weaker pair is held apart");
        assert_eq!(people.held_apart, 1);
        assert_eq!(people.smallest_members(), vec![0, 1, 1]);
    }

    /// Birth dates a generation apart in one person's records are a typing error
    /// only where an NHS number says so, or a reviewer did; a few years apart is
    /// left to the scores.
    #[test]
    fn a_shared_nhs_number_or_a_reviewer_overrides_the_generation_gap() {
        let nhs = || Some("9434765919".to_string());
        let mut people = People::new(vec![
            Evidence::of(Some(15 * YEAR), nhs()),
            Evidence::of(Some(42 * YEAR), nhs()),
            Evidence::of(Some(70 * YEAR), None),
            Evidence::of(Some(72 * YEAR), None),
            Evidence::of(Some(20 * YEAR), None),
        ]);
        assert!(people.join(0, 1, false), "one NHS number");
        assert!(people.join(2, 3, false), "two years apart");
        assert!(!people.join(4, 2, false), "fifty years apart");
        assert!(people.join(4, 2, true), "a reviewer said so");
        assert_eq!(people.held_apart, 1);
    }

    /// The comparison's lowest birth-date level and the clustering rule are one
    /// definition of "a generation apart".
    #[test]
    fn the_generation_level_uses_the_same_gap() {
        let birth = &super::super::comparisons::COMPARISONS[2];
        assert_eq!(birth.name, "birth_date");
        assert!(birth.sql.contains(&format!(">= {GENERATION_DAYS} THEN 0")));
    }

    #[test]
    fn person_ids_are_stable_and_distinct() {
        assert_eq!(
            stable_id('P', "education:PUP1"),
            stable_id('P', "education:PUP1")
        );
        assert_ne!(
            stable_id('P', "education:PUP1"),
            stable_id('P', "education:PUP2")
        );
        assert_eq!(stable_id('P', "x").len(), 13);
    }
}
