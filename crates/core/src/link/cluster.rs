//! Clustering: accepted pairs → connected components → one `person_id` each.
//!
//! A person id is derived from the smallest record key in its component, so an
//! unchanged input gives the same ids on every run, and adding an unrelated
//! record does not renumber anyone.

use std::collections::HashMap;

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

/// The stable id of a person whose smallest record key is `key`.
pub fn person_id_for(key: &str) -> String {
    stable_id('P', key)
}

/// A short id derived from `key`: the prefix and the first 12 hex digits of its SHA-256.
pub fn stable_id(prefix: char, key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// Clusters pairs at or above `accept_probability` (and as reviewers decided) and
/// replaces `core.source_record` and `core.person`. Returns the number of persons.
pub fn cluster(conn: &Connection, accept_probability: f64) -> Result<u64, duckdb::Error> {
    let keys: Vec<String> = conn
        .prepare("SELECT record_key FROM link.record ORDER BY record_key")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let index: HashMap<&str, usize> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let mut sets = UnionFind::new(keys.len());
    let mut accepted = conn.prepare(&super::review::linking_pairs_sql(accept_probability))?;
    let mut rows = accepted.query([])?;
    while let Some(row) = rows.next()? {
        let l: String = row.get(0)?;
        let r: String = row.get(1)?;
        if let (Some(&a), Some(&b)) = (index.get(l.as_str()), index.get(r.as_str())) {
            sets.union(a, b);
        }
    }
    let smallest = sets.smallest_members();
    conn.execute_batch(
        "CREATE OR REPLACE TABLE link.assignment (record_key VARCHAR, person_id VARCHAR);",
    )?;
    {
        let mut appender = conn.appender_to_db("assignment", "link")?;
        for (key, &first) in keys.iter().zip(&smallest) {
            let person = person_id_for(&keys[first]);
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
    Ok(persons.max(0) as u64)
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

    #[test]
    fn person_ids_are_stable_and_distinct() {
        assert_eq!(
            person_id_for("education:PUP1"),
            person_id_for("education:PUP1")
        );
        assert_ne!(
            person_id_for("education:PUP1"),
            person_id_for("education:PUP2")
        );
        assert_eq!(person_id_for("x").len(), 13);
    }
}
