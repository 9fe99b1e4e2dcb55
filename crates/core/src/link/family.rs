//! Families: linked people grouped into households by what the extracts share —
//! a household reference (tenancy, benefit claim), a home lived in at the same
//! time, or a parent–child link (a child's record naming a parent's NHS number).
//!
//! Precision comes first: putting an unrelated person into a family would show
//! them at that family's round table. Adding "same postcode and family name"
//! raised family recall to 0.98 on a 20,000-family county but cut precision to
//! 0.87, so it is not used (figures in docs/benchmarks.md). Family ids, like person ids, continue
//! the previous run's family whose people they hold most of, and otherwise come
//! from the smallest member id, so they are stable across runs (`lineage`).
//!
//! A home is not a family: one household moves out and another moves in. So an
//! address joins only people whose time there can have been the same time (see
//! [`Stay`]); the household that left and the one that came are kept apart.

use std::collections::HashMap;

use duckdb::Connection;

use super::cluster::UnionFind;
use super::lineage::continuing_ids;

/// The evidence that puts two people in one household, as SQL keys over `link.record` `r`.
pub const HOUSEHOLD_KEYS: [(&str, &str); 1] = [(
    "household reference",
    "'ref:' || r.source || ':' || r.household_ref",
)];

/// A day, as days since 1970-01-01 (how the SQL below hands dates over).
pub type Day = i64;

/// One person's time at one home, from the dates of the records that put them there.
///
/// `first..=last` is when records saw them there; `arrived_after` is the last day a
/// record saw them at another home before that, and `left_by` the first day one saw
/// them at another home after it (None: never). They lived there at most from
/// `arrived_after` to `left_by`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stay {
    pub first: Option<Day>,
    pub last: Option<Day>,
    pub arrived_after: Option<Day>,
    pub left_by: Option<Day>,
}

/// People who can have lived at one home together: `first..=last` spans when
/// records saw any of them there, `arrived_after..left_by` is when all of them can
/// have been there.
#[derive(Debug, Clone, Copy)]
struct Household {
    first: Option<Day>,
    last: Option<Day>,
    arrived_after: Option<Day>,
    left_by: Option<Day>,
}

/// True when some day seen (`first..=last`) falls in the window `after..by`
/// (open where a bound is unknown).
fn seen_within(first: Option<Day>, last: Option<Day>, after: Option<Day>, by: Option<Day>) -> bool {
    let after_ok = match (after, last) {
        (Some(after), Some(last)) => after < last,
        _ => true,
    };
    let by_ok = match (first, by) {
        (Some(first), Some(by)) => first < by,
        _ => true,
    };
    after_ok && by_ok
}

impl Household {
    fn of(stay: &Stay) -> Household {
        Household {
            first: stay.first,
            last: stay.last,
            arrived_after: stay.arrived_after,
            left_by: stay.left_by,
        }
    }

    /// The household with `stay` added, if the stay was seen while the household
    /// can have been there and the household while the stay can have been. Only
    /// overlap is asked, not that one span holds the other: a system that never
    /// updated an address keeps seeing someone at a home they left with their family.
    fn with(&self, stay: &Stay) -> Option<Household> {
        let fits = seen_within(stay.first, stay.last, self.arrived_after, self.left_by)
            && seen_within(self.first, self.last, stay.arrived_after, stay.left_by);
        let earliest = |a: Option<Day>, b: Option<Day>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let latest = |a: Option<Day>, b: Option<Day>| a.max(b);
        fits.then(|| Household {
            first: earliest(self.first, stay.first),
            last: latest(self.last, stay.last),
            arrived_after: latest(self.arrived_after, stay.arrived_after),
            left_by: earliest(self.left_by, stay.left_by),
        })
    }
}

/// Splits the people seen at one home into households: each stay, in order of
/// when it was first seen, joins the household that fits it and arrived last
/// (the most recent one, when an earlier household's dates leave it open), or
/// starts a new one. Returns the household index of each stay.
pub fn households_at_one_home(stays: &[Stay]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..stays.len()).collect();
    // Stays without dates last: they join whichever household is there.
    order.sort_by_key(|&i| (stays[i].first.is_none(), stays[i].first));
    let mut households: Vec<Household> = Vec::new();
    let mut assigned = vec![0; stays.len()];
    for i in order {
        let fitting = households
            .iter()
            .enumerate()
            .filter_map(|(h, household)| household.with(&stays[i]).map(|joined| (h, joined)))
            .max_by_key(|(h, _)| (households[*h].first, *h));
        assigned[i] = match fitting {
            Some((h, joined)) => {
                households[h] = joined;
                h
            }
            None => {
                households.push(Household::of(&stays[i]));
                households.len() - 1
            }
        };
    }
    assigned
}

/// Each person's stays at each home, ordered by home: the first and last day their
/// records saw them there, and the nearest days records saw them at another home
/// before and after. Where a person's homes interleave (a system that never updated
/// an address), the bounds are only as tight as the first and last days allow.
const STAYS_SQL: &str = "
    WITH seen AS (
        SELECT a.person_id, s.address_key, min(s.first_seen) AS first_seen,
               max(s.last_seen) AS last_seen
        FROM link.address_seen s JOIN link.assignment a USING (record_key)
        GROUP BY ALL)
    SELECT x.address_key, x.person_id,
           x.first_seen - DATE '1970-01-01', x.last_seen - DATE '1970-01-01',
           max(CASE WHEN y.last_seen < x.first_seen THEN y.last_seen
                    WHEN y.first_seen < x.first_seen THEN y.first_seen END) - DATE '1970-01-01',
           min(CASE WHEN y.first_seen > x.last_seen THEN y.first_seen
                    WHEN y.last_seen > x.last_seen THEN y.last_seen END) - DATE '1970-01-01'
    FROM seen x
    LEFT JOIN seen y ON y.person_id = x.person_id AND y.address_key <> x.address_key
    GROUP BY ALL
    ORDER BY x.address_key, x.person_id";

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
/// `core.family`, continuing the previous run's family ids (`lineage::snapshot`
/// first). Returns the number of families.
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
    let (persons, previous): (Vec<String>, Vec<Option<String>>) = conn
        .prepare(
            "SELECT p.person_id, o.family_id FROM core.person p
             LEFT JOIN previous_person o USING (person_id) ORDER BY p.person_id",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .unzip();
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
    join_households_at_each_home(conn, &index, &mut sets)?;
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
    let families = continuing_ids('F', &smallest, &persons, &previous);
    conn.execute_batch(
        "CREATE OR REPLACE TEMP TABLE family_assignment (person_id VARCHAR, family_id VARCHAR);",
    )?;
    {
        let mut appender = conn.appender("family_assignment")?;
        for (person, family) in persons.iter().zip(&families) {
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

/// Joins the people of each household found at each home (see [`households_at_one_home`]).
fn join_households_at_each_home(
    conn: &Connection,
    index: &HashMap<&str, usize>,
    sets: &mut UnionFind,
) -> Result<(), duckdb::Error> {
    let mut statement = conn.prepare(STAYS_SQL)?;
    let mut rows = statement.query([])?;
    let mut home: Option<String> = None;
    let mut members: Vec<usize> = Vec::new();
    let mut stays: Vec<Stay> = Vec::new();
    let mut flush = |members: &mut Vec<usize>, stays: &mut Vec<Stay>| {
        let households = households_at_one_home(stays);
        let mut first_of: HashMap<usize, usize> = HashMap::new();
        for (&member, household) in members.iter().zip(households) {
            let first = *first_of.entry(household).or_insert(member);
            sets.union(first, member);
        }
        members.clear();
        stays.clear();
    };
    while let Some(row) = rows.next()? {
        let key: String = row.get(0)?;
        let person: String = row.get(1)?;
        if home.as_deref() != Some(key.as_str()) {
            flush(&mut members, &mut stays);
            home = Some(key);
        }
        let Some(&member) = index.get(person.as_str()) else {
            continue;
        };
        members.push(member);
        stays.push(Stay {
            first: row.get(2)?,
            last: row.get(3)?,
            arrived_after: row.get(4)?,
            left_by: row.get(5)?,
        });
    }
    flush(&mut members, &mut stays);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Option<Day> {
        let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date");
        Some(
            date.signed_duration_since(chrono::NaiveDate::default())
                .num_days(),
        )
    }

    fn stay(first: &str, last: &str, arrived_after: &str, left_by: &str) -> Stay {
        let optional = |text: &str| if text.is_empty() { None } else { day(text) };
        Stay {
            first: optional(first),
            last: optional(last),
            arrived_after: optional(arrived_after),
            left_by: optional(left_by),
        }
    }

    #[test]
    fn the_household_that_left_and_the_one_that_came_are_two() {
        let stays = [
            // The first family: a mother seen there once, then at her new home; her son
            // seen there each term until he was seen at the new home.
            stay("2022-05-01", "2022-05-01", "", "2023-09-01"),
            stay("2022-07-22", "2023-07-21", "", "2023-12-20"),
            // The next family: a daughter seen at her old home, then there; her
            // father seen there once, with nothing to say when he came.
            stay("2024-03-28", "2026-03-27", "2023-12-20", ""),
            stay("2025-01-10", "2025-01-10", "", ""),
            // A lodger with no dates joins whoever is there last.
            stay("", "", "", ""),
        ];
        assert_eq!(households_at_one_home(&stays), vec![0, 0, 1, 1, 1]);
    }

    #[test]
    fn a_stale_address_keeps_a_mother_with_her_family_not_the_next() {
        let stays = [
            // A system kept the mother at the old home after the family moved.
            stay("2022-01-01", "2026-01-01", "", ""),
            stay("2022-07-22", "2023-07-21", "", "2023-12-20"),
            stay("2024-03-28", "2026-03-27", "2023-12-20", ""),
            stay("2025-01-10", "2025-01-10", "", ""),
        ];
        assert_eq!(households_at_one_home(&stays), vec![0, 0, 1, 1]);
    }

    #[test]
    fn people_seen_at_one_home_at_one_time_are_one_household() {
        let stays = [
            stay("2022-01-01", "2026-01-01", "", ""),
            stay("2023-01-01", "2023-02-01", "", ""),
            stay("2024-01-01", "2025-02-01", "2021-01-01", "2025-06-01"),
        ];
        assert_eq!(households_at_one_home(&stays), vec![0, 0, 0]);
        // One who left before another was last seen there is not one household
        // with them, even with a third person whose dates fit both.
        let stays = [
            stay("2022-01-01", "2022-06-01", "", "2022-09-01"),
            stay("2023-01-01", "2024-01-01", "", ""),
            stay("2022-03-01", "2022-03-01", "", ""),
        ];
        assert_eq!(households_at_one_home(&stays), vec![0, 1, 0]);
    }
}
