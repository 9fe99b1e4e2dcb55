//! Which services share people, and which small groups of people one service's
//! counts less another's would reveal.
//!
//! Services can share people: an analyst may define Health Checks for ages 40–59
//! and 60–74 beside the built-in 40–74, or one for women beside one for
//! everybody. Each service's tables withholding their own small counts is then
//! not enough: the 40–74 count of an LSOA less its 40–59 count is the LSOA's
//! 60–74 count, which the 60–74 service may withhold; and two services that
//! differ by a few people (ages 40–74 and 40–75) give away how many of the
//! 75-year-olds were seen.
//!
//! So suppression reads, per LSOA, how many people fall in each combination of
//! services (an *atom*: "in health_check and health_check_40_59", "in
//! health_check only"), for each of the three counts. Services linked by an atom
//! are suppressed as one group, withholding the same areas
//! (`suppress::suppress_together`), and an area where some sum and difference of
//! their counts is a group of 1 to the threshold people is withheld for all of
//! them ([`Overlaps::small_differences`]). Services defined as data list their
//! people, and so do services counted by an analyst's SQL whose queries return
//! `person_id` (`super::people`); an SQL service returning only counts per LSOA
//! lists nobody, and is refused here rather than suppressed on its own.

use std::collections::BTreeMap;

use duckdb::Connection;

use super::people::{self, Listing};
use super::{Service, UptakeError, UptakeOptions, service::Counting};

/// The three counts, in the order of [`Overlaps`]' atoms.
const COUNTS: [&str; 3] = ["eligible", "invited", "attended"];

/// At most this many services are added and subtracted together when looking for
/// a small group of people ([`Overlaps::small_differences`]): every sum and
/// difference of up to four of a group's services is tried.
pub const MOST_SERVICES_COMBINED: usize = 4;

/// The services that may share people, by their definitions alone
/// ([`super::defined::Definition::may_share_people`], linked through one
/// another): each group lists indices into `services`, and every service is in
/// exactly one. A service counted by SQL may count anyone, so it may share
/// people with every other: what it shares is known only once its people are
/// read ([`Overlaps::read`]).
pub fn may_share(services: &[&Service]) -> Vec<Vec<usize>> {
    fn definition(service: &Service) -> Option<&super::defined::Definition> {
        match &service.counting {
            Counting::Defined(definition) => Some(definition),
            Counting::Sql(_) => None,
        }
    }
    let links: Vec<(usize, usize)> = (0..services.len())
        .flat_map(|a| (a + 1..services.len()).map(move |b| (a, b)))
        .filter(
            |&(a, b)| match (definition(services[a]), definition(services[b])) {
                (Some(x), Some(y)) => x.may_share_people(y),
                _ => true,
            },
        )
        .collect();
    components(services.len(), links)
}

/// The connected parts of `n` items joined by `links`, each ascending, in the
/// order of their first item.
fn components(n: usize, links: impl IntoIterator<Item = (usize, usize)>) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (a, b) in links {
        let (a, b) = (root(&mut parent, a), root(&mut parent, b));
        parent[a.max(b)] = a.min(b);
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for item in 0..n {
        let r = root(&mut parent, item);
        groups.entry(r).or_default().push(item);
    }
    groups.into_values().collect()
}

/// People counted by exactly this set of services (indices into the services
/// read, ascending) in one LSOA.
#[derive(Debug, Clone, PartialEq)]
struct Atom {
    lsoa: String,
    services: Vec<usize>,
    people: u64,
}

/// The atoms of each count (eligible, invited, attended).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overlaps {
    atoms: [Vec<Atom>; 3],
}

impl Overlaps {
    /// Services sharing no people (a single service, or ones counted by SQL).
    pub fn none() -> Overlaps {
        Overlaps::default()
    }

    /// Lists the people of each service that may share people with another
    /// ([`may_share`]) at the options' reference date and counts them per LSOA
    /// and combination of services. Each query runs prepared with its bound
    /// values. Refuses a service counted by SQL that lists nobody
    /// ([`UptakeError::CountsOnly`]): what it shares cannot be known, so
    /// neither can what its counts less another's would give away.
    pub fn read(
        conn: &Connection,
        services: &[&Service],
        options: &UptakeOptions,
    ) -> Result<Overlaps, UptakeError> {
        super::prepare_queries(conn, options)?;
        conn.execute_batch(
            "CREATE OR REPLACE TEMP TABLE uptake_member
                 (service INTEGER, count VARCHAR, person_id VARCHAR, lsoa_code VARCHAR)",
        )?;
        let sharing: Vec<usize> = may_share(services)
            .into_iter()
            .filter(|group| group.len() > 1)
            .flatten()
            .collect();
        for index in sharing {
            let service = services[index];
            let Listing::People(queries) = people::listing(conn, service)? else {
                return Err(UptakeError::CountsOnly {
                    service: service.name.clone(),
                    place: service.place(service.lines.service),
                });
            };
            for (count, query) in queries {
                let Some(query) = query else { continue };
                let mut params = vec![
                    duckdb::types::Value::Int(index as i32),
                    duckdb::types::Value::Text(count.to_string()),
                ];
                params.extend(query.params.iter().cloned());
                // The query on lines of its own, as `count_people` runs it.
                conn.execute(
                    &format!(
                        "INSERT INTO uptake_member
                         SELECT ?, ?, person_id::VARCHAR, lsoa_code::VARCHAR FROM (\n{}\n)",
                        query.sql
                    ),
                    duckdb::params_from_iter(params),
                )
                .map_err(|e| UptakeError::Query {
                    service: service.name.clone(),
                    query: count,
                    file: service.file.clone(),
                    message: e.to_string(),
                })?;
            }
        }
        let mut overlaps = Overlaps::none();
        let mut statement = conn.prepare(
            "SELECT count, lsoa_code, services, count(*)::BIGINT
             FROM (SELECT count, person_id, any_value(lsoa_code) AS lsoa_code,
                          array_to_string(list_sort(list(service)), ',') AS services
                   FROM uptake_member WHERE lsoa_code IS NOT NULL
                   GROUP BY count, person_id)
             GROUP BY ALL ORDER BY ALL",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
            ))
        });
        for row in rows? {
            let (count, lsoa, services, people) = row?;
            let Some(at) = COUNTS.iter().position(|c| *c == count) else {
                continue;
            };
            overlaps.atoms[at].push(Atom {
                lsoa,
                services: services.split(',').filter_map(|s| s.parse().ok()).collect(),
                people: people.max(0) as u64,
            });
        }
        drop(statement);
        conn.execute_batch("DROP TABLE uptake_member")?;
        Ok(overlaps)
    }

    /// The groups of `services` services that share people in count `count`
    /// (0 eligible, 1 invited, 2 attended): services linked, directly or through
    /// others, by an atom of two or more. Every service is in exactly one group.
    pub fn groups(&self, count: usize, services: usize) -> Vec<Vec<usize>> {
        let links = self.atoms[count]
            .iter()
            .flat_map(|atom| atom.services.windows(2))
            .filter(|pair| pair[1] < services)
            .map(|pair| (pair[0], pair[1]));
        components(services, links)
    }

    /// For each area (given by its LSOAs), whether some sum and difference of up
    /// to [`MOST_SERVICES_COMBINED`] of `group`'s counts there (other than one
    /// service's own count) comes to 1 to `threshold` people who form a group: a
    /// combination in which every atom of the area counts once or not at all, such
    /// as the 60–74s that 40–74 less 40–59 counts. Such an area must be withheld
    /// for every service of the group.
    pub fn small_differences(
        &self,
        count: usize,
        group: &[usize],
        areas: &[Vec<&str>],
        threshold: u64,
    ) -> Vec<bool> {
        if group.len() < 2 || threshold == 0 {
            return vec![false; areas.len()];
        }
        // Each LSOA's atoms: people per combination of the group's services, as a
        // bit set over positions in `group`.
        let mut by_lsoa: BTreeMap<&str, BTreeMap<u64, u64>> = BTreeMap::new();
        for atom in &self.atoms[count] {
            let key = atom
                .services
                .iter()
                .filter_map(|s| group.iter().position(|g| g == s))
                .filter(|&at| at < 64)
                .fold(0u64, |bits, at| bits | (1 << at));
            if key != 0 {
                *by_lsoa
                    .entry(atom.lsoa.as_str())
                    .or_default()
                    .entry(key)
                    .or_default() += atom.people;
            }
        }
        let combinations = combinations(group.len().min(64));
        areas
            .iter()
            .map(|lsoas| {
                let mut people: BTreeMap<u64, u64> = BTreeMap::new();
                for lsoa in lsoas {
                    for (&key, &n) in by_lsoa.get(lsoa).into_iter().flatten() {
                        *people.entry(key).or_default() += n;
                    }
                }
                combinations.iter().any(|signs| {
                    let mut total = 0;
                    for (&key, &n) in &people {
                        let weight: i64 = signs
                            .iter()
                            .filter(|(at, _)| key & (1 << at) != 0)
                            .map(|(_, sign)| sign)
                            .sum();
                        match weight {
                            0 => {}
                            1 => total += n,
                            _ => return false,
                        }
                    }
                    (1..=threshold).contains(&total)
                })
            })
            .collect()
    }
}

/// Every signed combination of two to [`MOST_SERVICES_COMBINED`] of `n`
/// services: (position, +1 or -1) pairs, at least one positive.
fn combinations(n: usize) -> Vec<Vec<(usize, i64)>> {
    fn extend(
        n: usize,
        from: usize,
        chosen: &mut Vec<(usize, i64)>,
        out: &mut Vec<Vec<(usize, i64)>>,
    ) {
        if chosen.len() >= 2 && chosen.iter().any(|(_, sign)| *sign > 0) {
            out.push(chosen.clone());
        }
        if chosen.len() == MOST_SERVICES_COMBINED {
            return;
        }
        for at in from..n {
            for sign in [1, -1] {
                chosen.push((at, sign));
                extend(n, at + 1, chosen, out);
                chosen.pop();
            }
        }
    }
    let mut out = Vec::new();
    extend(n, 0, &mut Vec::new(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uptake::defined::{Area, Definition, Eligible, Sex};

    fn atom(lsoa: &str, services: &[usize], people: u64) -> Atom {
        Atom {
            lsoa: lsoa.into(),
            services: services.to_vec(),
            people,
        }
    }

    /// Services 0 (40–74), 1 (40–59), 2 (60–74) and 3, which shares nobody.
    fn nested() -> Overlaps {
        Overlaps {
            atoms: [
                vec![
                    atom("A", &[0, 1], 30),
                    atom("A", &[0, 2], 3),
                    atom("A", &[3], 2),
                    atom("B", &[0, 1], 25),
                    atom("B", &[0, 2], 20),
                ],
                Vec::new(),
                Vec::new(),
            ],
        }
    }

    #[test]
    fn services_sharing_people_form_one_group_and_the_rest_stand_alone() {
        assert_eq!(nested().groups(0, 4), vec![vec![0, 1, 2], vec![3]]);
        assert_eq!(
            nested().groups(1, 4),
            vec![vec![0], vec![1], vec![2], vec![3]]
        );
    }

    #[test]
    fn a_small_difference_is_found_in_the_area_that_has_one() {
        let overlaps = nested();
        let areas = vec![vec!["A"], vec!["B"], vec!["A", "B"]];
        // 40–74 less 40–59 in A is 3 people; in B 20; in A and B together 23.
        assert_eq!(
            overlaps.small_differences(0, &[0, 1], &areas, 4),
            vec![true, false, false]
        );
        // The same group holds with 60–74 counted: its own 3 is a primary cell,
        // but 40–74 less 40–59 is still found.
        assert_eq!(
            overlaps.small_differences(0, &[0, 1, 2], &areas, 4),
            vec![true, false, false]
        );
        // At a threshold under 3 nothing is small.
        assert_eq!(
            overlaps.small_differences(0, &[0, 1, 2], &areas, 2),
            vec![false, false, false]
        );
    }

    #[test]
    fn a_combination_counting_someone_twice_or_negatively_is_not_a_group() {
        // 0 and 1 share 30 people and each has 2 of its own: 0 - 1 adds one
        // service's own and takes away the other's, 0 + 1 counts the shared people
        // twice; neither is a group of people, so nothing is small.
        let overlaps = Overlaps {
            atoms: [
                vec![
                    atom("A", &[0, 1], 30),
                    atom("A", &[0], 2),
                    atom("A", &[1], 2),
                ],
                Vec::new(),
                Vec::new(),
            ],
        };
        assert_eq!(
            overlaps.small_differences(0, &[0, 1], &[vec!["A"]], 4),
            vec![false]
        );
    }

    fn service(ages: [u32; 2], sex: Sex, area: Area) -> Service {
        let definition = Definition {
            eligible: Eligible {
                min_age: ages[0],
                max_age: ages[1],
                sex,
                area,
            },
            invited_events: Vec::new(),
            attended_events: vec!["seen".into()],
            within_years: None,
        };
        Service {
            name: format!("{ages:?}"),
            title: String::new(),
            description: String::new(),
            counting: Counting::Defined(definition),
            file: "the test".into(),
            lines: Default::default(),
        }
    }

    #[test]
    fn services_whose_ages_sexes_or_areas_never_meet_are_apart() {
        let zones = |z: &[&str]| Area::Zones(z.iter().map(|s| s.to_string()).collect());
        let services = [
            service([40, 74], Sex::Any, Area::Whole),
            service([0, 4], Sex::Any, Area::Whole),
            // Meets 40–74 only through its ages 70–74.
            service([70, 90], Sex::Female, zones(&["Z1"])),
            // Men: never meets the women, but meets 40–74 at 70–74.
            service([70, 95], Sex::Male, Area::Whole),
            // Women in another zone: never meets the first women.
            service([75, 79], Sex::Female, zones(&["Z2"])),
            service([4, 10], Sex::Female, Area::Whole),
        ];
        let refs: Vec<&Service> = services.iter().collect();
        // 0–4 and 4–10 meet at age 4; 70–90 women and 70–95 men are linked
        // through 40–74; 75–79 women in Z2 meet neither the men, nor the women of
        // Z1, nor 40–74's ages, so stand alone.
        assert_eq!(may_share(&refs), vec![vec![0, 2, 3], vec![1, 5], vec![4]]);
    }

    #[test]
    fn combinations_are_every_signed_choice_of_two_to_four() {
        let two = combinations(2);
        // (+,+), (+,-), (-,+); (-,-) has no positive term.
        assert_eq!(two.len(), 3);
        // Choosing k of n with 2^k signs less the all-negative one.
        let five = combinations(5);
        let expected: usize = (2..=4)
            .map(|k| {
                let choose = (0..k).fold(1, |c, i| c * (5 - i) / (i + 1));
                choose * ((1 << k) - 1)
            })
            .sum();
        assert_eq!(five.len(), expected);
    }
}
