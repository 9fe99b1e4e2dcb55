//! Families: linked people grouped into households by what the extracts share —
//! a household reference (tenancy, benefit claim), the same address, or a
//! parent–child link (a child's record naming a parent's NHS number).
//!
//! Precision comes first: putting an unrelated person into a family would show
//! them at that family's round table. Adding "same postcode and family name"
//! raised family recall to 0.98 on a 20,000-family county but cut precision to
//! 0.87, so it is not used (figures in docs/benchmarks.md). Family ids, like person ids, come from
//! the smallest member id, so they are stable across runs.

use std::collections::HashMap;

use duckdb::Connection;

use super::cluster::{UnionFind, stable_id};

/// The evidence that puts two people in one household, as SQL keys over `link.record` `r`.
pub const HOUSEHOLD_KEYS: [(&str, &str); 2] = [
    (
        "household reference",
        "'ref:' || r.source || ':' || r.household_ref",
    ),
    (
        "same address",
        "'address:' || r.address || ':' || r.postcode",
    ),
];

/// Pairs of persons that a child's record links to a parent: the child's person and
/// the person holding the parent NHS number the record gives. Unlike an address,
/// this holds when the child lives elsewhere or carries another surname.
const PARENT_CHILD_SQL: &str = "
    SELECT DISTINCT child.person_id, parent.person_id
    FROM link.record r
    JOIN link.assignment child USING (record_key)
    JOIN link.record m ON m.nhs = r.parent_nhs
    JOIN link.assignment parent ON parent.record_key = m.record_key
    WHERE r.parent_nhs IS NOT NULL AND child.person_id <> parent.person_id
    ORDER BY ALL";

/// Groups `core.person` into families: fills `core.person.family_id` and replaces
/// `core.family`. Returns the number of families.
pub fn group_families(conn: &Connection) -> Result<u64, duckdb::Error> {
    let keys = HOUSEHOLD_KEYS
        .iter()
        .map(|(_, key)| {
            format!(
                "SELECT a.person_id, {key} AS household_key FROM link.record r
                 JOIN link.assignment a USING (record_key) WHERE household_key IS NOT NULL"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ");
    let persons: Vec<String> = conn
        .prepare("SELECT person_id FROM core.person ORDER BY person_id")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let index: HashMap<&str, usize> = persons
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i))
        .collect();
    let mut sets = UnionFind::new(persons.len());
    let mut statement = conn.prepare(&format!(
        "SELECT household_key, person_id FROM ({keys}) ORDER BY household_key, person_id"
    ))?;
    let mut rows = statement.query([])?;
    let mut current: Option<(String, usize)> = None;
    while let Some(row) = rows.next()? {
        let key: String = row.get(0)?;
        let person: String = row.get(1)?;
        let Some(&member) = index.get(person.as_str()) else {
            continue;
        };
        match &current {
            Some((previous, first)) if *previous == key => sets.union(*first, member),
            _ => current = Some((key, member)),
        }
    }
    drop(rows);
    let mut statement = conn.prepare(PARENT_CHILD_SQL)?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let child: String = row.get(0)?;
        let parent: String = row.get(1)?;
        if let (Some(&a), Some(&b)) = (index.get(child.as_str()), index.get(parent.as_str())) {
            sets.union(a, b);
        }
    }
    let smallest = sets.smallest_members();
    conn.execute_batch(
        "CREATE OR REPLACE TEMP TABLE family_assignment (person_id VARCHAR, family_id VARCHAR);",
    )?;
    {
        let mut appender = conn.appender("family_assignment")?;
        for (person, &first) in persons.iter().zip(&smallest) {
            let family = stable_id('F', &persons[first]);
            appender.append_row([person.as_str(), family.as_str()])?;
        }
    }
    conn.execute_batch(
        "UPDATE core.person p SET family_id = f.family_id
         FROM family_assignment f WHERE f.person_id = p.person_id;
         CREATE OR REPLACE TABLE core.family AS
         SELECT family_id, count(*) AS members,
                -- Under 18 on the extract date by birthday (date_diff('year') would
                -- count calendar-year boundaries and call a 17-year-old 18).
                count(*) FILTER (WHERE birth_date > coalesce(
                    (SELECT max(extract_date) FROM app.load_run),
                    (SELECT max(last_event) FROM app.source)) - INTERVAL 18 YEAR) AS children,
                mode(postcode) AS postcode,
                NULL::VARCHAR AS lsoa_code, NULL::VARCHAR AS zone_id
         FROM core.person GROUP BY family_id;
         DROP TABLE family_assignment;",
    )?;
    let families: i64 = conn.query_row("SELECT count(*) FROM core.family", [], |row| row.get(0))?;
    Ok(families.max(0) as u64)
}
