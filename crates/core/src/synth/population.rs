//! Families and people: who lives where, and the hidden circumstances that drive
//! every agency's events. Coefficients are documented in docs/synthetic-data.md.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate};
use rand::Rng;
use rand_distr::{Distribution, Normal, Poisson, StandardNormal};

use super::geography::Geography;
use super::names::{self, NamePool};
use super::noise::{chance, rates};
use super::timeline::{EXTRACT_DATE, HISTORY_START, LAST_DAY, date, random_date, years_after, ymd};

/// The five hidden circumstances, in the order of [`PREVALENCE`] and of truth/families.csv.
pub const CIRCUMSTANCES: [&str; 5] = [
    "worklessness",
    "domestic_abuse",
    "mental_health",
    "substance_misuse",
    "housing_insecurity",
];

/// Hidden circumstances of a family. Never written to an extract, only to truth.
#[derive(Debug, Clone, Copy, Default)]
pub struct Circumstances {
    /// No adult in work.
    pub worklessness: bool,
    /// Domestic abuse between the adults.
    pub domestic_abuse: bool,
    /// A parent's mental ill health.
    pub mental_health: bool,
    /// A parent's drug or alcohol misuse.
    pub substance_misuse: bool,
    /// At risk of losing the home: arrears, eviction, overcrowding.
    pub housing_insecurity: bool,
}

impl Circumstances {
    /// The five flags in [`CIRCUMSTANCES`] order.
    pub fn flags(&self) -> [bool; 5] {
        [
            self.worklessness,
            self.domestic_abuse,
            self.mental_health,
            self.substance_misuse,
            self.housing_insecurity,
        ]
    }
}

/// Logistic prevalence `sigmoid(base + deprivation_slope · d + VULNERABILITY_WEIGHT · u)`
/// of each circumstance (name, base, slope), with d = (10 − IMD decile) / 9 and u ~ N(0, 1)
/// the family's shared vulnerability.
pub const PREVALENCE: [(&str, f64, f64); 5] = [
    ("worklessness", -2.4, 2.2),
    ("domestic_abuse", -3.1, 1.2),
    ("mental_health", -2.5, 0.9),
    ("substance_misuse", -3.5, 1.3),
    ("housing_insecurity", -3.1, 1.7),
];

/// Weight of the shared vulnerability in every circumstance, which makes them co-occur.
pub const VULNERABILITY_WEIGHT: f64 = 0.9;

/// A person's place in the household.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The main carer (the mother, or a lone father).
    Parent,
    /// The second adult of a couple.
    Partner,
    /// A child of the household.
    Child,
}

impl Role {
    /// The word written to truth/people.csv.
    pub fn label(self) -> &'static str {
        match self {
            Role::Parent => "parent",
            Role::Partner => "partner",
            Role::Child => "child",
        }
    }
}

/// A real (synthetic) person, as truth knows them.
#[derive(Debug, Clone)]
pub struct Person {
    /// Truth id, `P` and eight digits.
    pub id: String,
    /// Place in the household.
    pub role: Role,
    /// Formal given name.
    pub given: &'static str,
    /// Short forms some systems record instead.
    pub nicknames: &'static [&'static str],
    /// Family name at the extract date (the one truth records).
    pub family_name: String,
    /// A family name used before a change of name, and the day the change happened.
    pub former_name: Option<(String, NaiveDate)>,
    /// True date of birth.
    pub birth_date: NaiveDate,
    /// Sex (female or male; every system records one of the two).
    pub female: bool,
    /// DfE/CSC ethnicity code (WBRI, WOTH, MWBC, APKN, ABAN, BAFR, OOTH).
    pub ethnicity: &'static str,
    /// Valid 10-digit NHS number (everyone has one).
    pub nhs_number: String,
    /// Unique pupil number; empty for adults.
    pub upn: String,
    /// National Insurance number; empty for children.
    pub ni_number: String,
}

impl Person {
    /// Age in whole years on `date`.
    pub fn age_on(&self, date: NaiveDate) -> i32 {
        let mut age = date.year() - self.birth_date.year();
        if (date.month(), date.day()) < (self.birth_date.month(), self.birth_date.day()) {
            age -= 1;
        }
        age
    }

    /// True when the person was born on or before `date`.
    pub fn born_by(&self, date: NaiveDate) -> bool {
        self.birth_date <= date
    }

    /// The family name the person went by on `date`.
    pub fn family_name_on(&self, date: NaiveDate) -> &str {
        match &self.former_name {
            Some((former, changed)) if date < *changed => former,
            _ => &self.family_name,
        }
    }
}

/// A home: a house (or flat) number on one of an LSOA's synthetic streets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Address {
    /// Index into `Geography::lsoas`.
    pub lsoa: usize,
    /// Index into that LSOA's streets.
    pub street: usize,
    /// House number.
    pub number: u16,
    /// Flat number, for about one home in seven.
    pub flat: Option<u8>,
}

/// A household with children.
#[derive(Debug, Clone)]
pub struct Family {
    /// Truth id, `F` and seven digits.
    pub id: String,
    /// The hidden circumstances (truth only).
    pub circumstances: Circumstances,
    /// The shared vulnerability u ~ N(0, 1) behind the circumstances and the outcome.
    pub vulnerability: f64,
    /// 1 in the most deprived IMD decile, 0 in the least, at the first address.
    pub deprivation: f64,
    /// Parent first, then any partner, then the children from the eldest.
    pub members: Vec<Person>,
    /// Homes in order, each with the day the family moved in (the first from before the history).
    pub addresses: Vec<(NaiveDate, Address)>,
}

impl Family {
    /// Where the family lived on `date`.
    pub fn address_on(&self, date: NaiveDate) -> Address {
        let later = self.addresses.partition_point(|(from, _)| *from <= date);
        self.addresses[later.saturating_sub(1)].1
    }

    /// The address at the extract date.
    pub fn current_address(&self) -> Address {
        self.address_on(EXTRACT_DATE)
    }

    /// Index into `members` of each child.
    pub fn children(&self) -> impl Iterator<Item = (usize, &Person)> {
        self.members
            .iter()
            .enumerate()
            .filter(|(_, p)| p.role == Role::Child)
    }
}

/// Draws LSOAs in proportion to their 0–17 population.
pub struct LsoaSampler {
    cumulative: Vec<f64>,
}

impl LsoaSampler {
    /// Builds the sampler over `geography.lsoas`.
    pub fn new(geography: &Geography) -> LsoaSampler {
        let mut total = 0.0;
        let cumulative = geography
            .lsoas
            .iter()
            .map(|l| {
                total += f64::from(l.population_0_17.max(1));
                total
            })
            .collect();
        LsoaSampler { cumulative }
    }

    /// An LSOA index, drawn by child population.
    pub fn draw<R: Rng>(&self, rng: &mut R) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let target = rng.random::<f64>() * total;
        self.cumulative
            .partition_point(|&c| c < target)
            .min(self.cumulative.len().saturating_sub(1))
    }
}

/// The logistic function.
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Deprivation on a 0–1 scale from an IMD decile (1 → 1.0, 10 → 0.0).
pub fn deprivation_of(decile: u8) -> f64 {
    (10.0 - f64::from(decile)) / 9.0
}

/// A bijection of `0..modulus` (multiplier coprime to the modulus), so identifiers are
/// unique without revealing the order they were issued in.
fn scatter(index: u64, multiplier: u64, offset: u64, modulus: u64) -> u64 {
    (index % modulus * multiplier + offset) % modulus
}

/// Numbers that identify people; one counter makes them unique within a run.
#[derive(Clone)]
pub struct IdentityNumbers {
    next_person: u64,
    offset: u64,
}

/// Letters of the UPN check character (DfE: I, O and S are never used).
const UPN_CHECK_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPQRTUVWXYZ";

/// Valid National Insurance prefixes (no D, F, I, Q, U, V; not BG, GB, NK, KN, TN, NT, ZZ).
const NI_PREFIXES: [&str; 8] = ["JK", "AB", "PC", "NE", "SH", "WL", "YT", "ZR"];

impl IdentityNumbers {
    /// Counters starting from a seed-derived offset.
    pub fn new<R: Rng>(rng: &mut R) -> IdentityNumbers {
        IdentityNumbers {
            next_person: 0,
            offset: rng.random_range(0..1_000_000),
        }
    }

    /// The next person's truth id and their identifiers (NHS, UPN when a child, NI when an adult).
    fn issue(
        &mut self,
        child: bool,
        la_code: u16,
        birth: NaiveDate,
    ) -> (String, String, String, String) {
        self.next_person += 1;
        let n = self.next_person;
        let id = format!("P{n:08}");
        let nhs = nhs_number(scatter(n, 7_919_113, self.offset, 50_000_000));
        let upn = if child {
            // LA code, a synthetic 4-digit establishment and serial, and the year the
            // child was of reception age.
            let serial = scatter(n, 3_137, self.offset, 10_000_000);
            upn_with_check(&format!(
                "{la_code:03}{:04}{:02}{:03}",
                serial / 1000,
                (birth.year() + 5) % 100,
                serial % 1000
            ))
        } else {
            String::new()
        };
        let ni = if child {
            String::new()
        } else {
            let number = scatter(n, 4_999_999, self.offset, 8_000_000);
            let prefix = NI_PREFIXES[(number / 1_000_000) as usize];
            let suffix = ["A", "B", "C", "D"][(n % 4) as usize];
            format!("{prefix}{:06}{suffix}", number % 1_000_000)
        };
        (id, nhs, upn, ni)
    }
}

/// A valid NHS number (400 000 000–499 999 999 plus the modulus 11 check digit) for each
/// distinct `index` below 50 million. Of two neighbouring bodies at most one has the
/// invalid check value 10, so taking body 2i or 2i + 1 keeps them distinct.
fn nhs_number(index: u64) -> String {
    let check = |body: u64| {
        let sum: u64 = format!("{body:09}")
            .bytes()
            .enumerate()
            .map(|(i, b)| u64::from(b - b'0') * (10 - i as u64))
            .sum();
        (11 - sum % 11) % 11
    };
    let mut body = 400_000_000 + 2 * index;
    if check(body) == 10 {
        body += 1;
    }
    format!("{body:09}{}", check(body))
}

/// A 12-digit UPN body with its DfE check letter in front.
fn upn_with_check(digits: &str) -> String {
    let sum: u32 = digits
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * (i as u32 + 2))
        .sum();
    let letter = UPN_CHECK_LETTERS[(sum % 23) as usize] as char;
    format!("{letter}{digits}")
}

/// DfE local authority number of an authority (for UPNs).
fn la_number(lad_code: &str) -> u16 {
    match lad_code {
        "E06000057" => 929,
        "E06000058" => 839,
        "E06000059" => 838,
        _ => 999,
    }
}

/// Ethnicity codes and their shares among the county's families.
pub const ETHNICITIES: [(&str, f64); 7] = [
    ("WBRI", 0.88),
    ("WOTH", 0.04),
    ("MWBC", 0.03),
    ("APKN", 0.015),
    ("ABAN", 0.005),
    ("BAFR", 0.015),
    ("OOTH", 0.015),
];

fn draw_ethnicity<R: Rng>(rng: &mut R) -> &'static str {
    let mut target = rng.random::<f64>();
    for (code, share) in ETHNICITIES {
        if target < share {
            return code;
        }
        target -= share;
    }
    "WBRI"
}

/// Shares of families with 1, 2, 3 and 4 children.
pub const CHILDREN_SHARES: [f64; 4] = [0.36, 0.38, 0.18, 0.08];
/// A mother's age range at her children's births.
const MOTHER_AGE_AT_BIRTH: (i32, i32) = (18, 44);
/// Every family has a child under 16 when the history starts, or born during it.
const EARLIEST_CHILD_BIRTH: NaiveDate = ymd(2006, 4, 2);
/// Siblings are at least this many days apart (no twins in the synthetic county).
const SIBLING_GAP_DAYS: i64 = 330;
/// Share of sons given their father's (or stepfather's) given name. Otherwise no two
/// members of a family share a given name: parents do not name two children alike,
/// and a synthetic county where they did would reward linkage for merging siblings.
const NAMESAKE_SON: f64 = 0.02;

/// Draws one family: where it lives, its circumstances, its members and its moves.
pub fn draw_family<R: Rng>(
    rng: &mut R,
    index: usize,
    geography: &Geography,
    sampler: &LsoaSampler,
    numbers: &mut IdentityNumbers,
    homes: &mut Homes,
    noise: f64,
) -> Family {
    let home = sampler.draw(rng);
    let deprivation = deprivation_of(geography.lsoas[home].imd_decile);
    let vulnerability: f64 = StandardNormal.sample(rng);
    let mut flags = [false; 5];
    for (flag, (_, base, slope)) in flags.iter_mut().zip(PREVALENCE) {
        let p = sigmoid(base + slope * deprivation + VULNERABILITY_WEIGHT * vulnerability);
        *flag = rng.random::<f64>() < p;
    }
    let circumstances = Circumstances {
        worklessness: flags[0],
        domestic_abuse: flags[1],
        mental_health: flags[2],
        substance_misuse: flags[3],
        housing_insecurity: flags[4],
    };
    let la = la_number(&geography.lsoas[home].lad_code);

    let ethnicity = draw_ethnicity(rng);
    let pool = NamePool::for_ethnicity(ethnicity);
    let family_name = names::draw_surname(rng, pool).to_string();
    let lone_parent = rng.random::<f64>() < 0.22 + 0.18 * deprivation;
    let lone_father = lone_parent && rng.random::<f64>() < 0.10;

    // The mother's age bounds when her children can be born; redraw until there is room.
    let (mother_birth, first_possible, last_possible) = loop {
        let mother_birth = random_date(rng, date(1966, 4, 1), date(2006, 3, 31));
        let first = years_after(mother_birth, MOTHER_AGE_AT_BIRTH.0).max(EARLIEST_CHILD_BIRTH);
        let last = years_after(mother_birth, MOTHER_AGE_AT_BIRTH.1).min(LAST_DAY);
        if (last - first).num_days() > 2 * 365 {
            break (mother_birth, first, last);
        }
    };
    let mut members = Vec::with_capacity(6);
    let mut person = |role: Role,
                      given: names::GivenName,
                      family_name: String,
                      birth_date: NaiveDate,
                      female: bool,
                      ethnicity: &'static str| {
        let (id, nhs_number, upn, ni_number) = numbers.issue(role == Role::Child, la, birth_date);
        Person {
            id,
            role,
            given: given.0,
            nicknames: given.1,
            family_name,
            former_name: None,
            birth_date,
            female,
            ethnicity,
            nhs_number,
            upn,
            ni_number,
        }
    };
    if lone_father {
        let birth = mother_birth - Duration::days(rng.random_range(-700..2500));
        let given = names::draw_given(rng, pool, false);
        members.push(person(
            Role::Parent,
            given,
            family_name.clone(),
            birth,
            false,
            ethnicity,
        ));
    } else {
        let given = names::draw_given(rng, pool, true);
        members.push(person(
            Role::Parent,
            given,
            family_name.clone(),
            mother_birth,
            true,
            ethnicity,
        ));
    }
    if !lone_parent {
        // Partners are on average two years older than the mother.
        let offset = Normal::new(730.0, 1200.0).map_or(730.0, |n| n.sample(rng));
        let offset = Duration::days((offset as i64).clamp(-3650, 5475));
        let birth = (mother_birth - offset).min(date(2004, 3, 31));
        let given = names::draw_given(rng, pool, false);
        let partner_ethnicity = if rng.random::<f64>() < 0.9 {
            ethnicity
        } else {
            draw_ethnicity(rng)
        };
        members.push(person(
            Role::Partner,
            given,
            family_name.clone(),
            birth,
            false,
            partner_ethnicity,
        ));
    }
    // Children of a lone parent often carry their other parent's surname.
    let children_surname = if lone_parent && rng.random::<f64>() < 0.35 {
        names::draw_surname(rng, pool).to_string()
    } else {
        family_name.clone()
    };
    let children_ethnicity = match members.get(1) {
        Some(partner) if partner.ethnicity != ethnicity => "MWBC",
        _ => ethnicity,
    };
    let wanted = {
        let mut target = rng.random::<f64>();
        CHILDREN_SHARES
            .iter()
            .position(|share| {
                let hit = target < *share;
                target -= share;
                hit
            })
            .unwrap_or(3)
            + 1
    };
    let mut births: Vec<NaiveDate> = (0..wanted)
        .map(|_| random_date(rng, first_possible, last_possible))
        .collect();
    births.sort_unstable();
    for i in 1..births.len() {
        let earliest = births[i - 1] + Duration::days(SIBLING_GAP_DAYS);
        if births[i] < earliest {
            births[i] = earliest;
        }
    }
    births.retain(|b| *b <= last_possible);
    for birth in births {
        let female = rng.random::<bool>();
        let father = members.iter().find(|m| m.role != Role::Child && !m.female);
        let given = match father {
            Some(father) if !female && rng.random::<f64>() < NAMESAKE_SON => {
                (father.given, father.nicknames)
            }
            _ => {
                let mut given = names::draw_given(rng, pool, female);
                // Small name pools make clashes likely; a few redraws almost always avoid one.
                for _ in 0..20 {
                    if members.iter().all(|m| m.given != given.0) {
                        break;
                    }
                    given = names::draw_given(rng, pool, female);
                }
                given
            }
        };
        members.push(person(
            Role::Child,
            given,
            children_surname.clone(),
            birth,
            female,
            children_ethnicity,
        ));
    }
    // A change of name during the history: a mother who marries her partner, or goes
    // back to her own name after separating. Identity noise, so scaled by `noise`.
    if chance(rng, rates::NAME_CHANGE, noise) {
        let changed = random_date(rng, HISTORY_START, LAST_DAY);
        let other = names::draw_surname(rng, pool).to_string();
        if other != members[0].family_name {
            let current = std::mem::replace(&mut members[0].family_name, other);
            members[0].former_name = Some((current, changed));
        }
    }

    let addresses = draw_moves(rng, home, &circumstances, geography, sampler, homes);
    Family {
        id: format!("F{:07}", index + 1),
        circumstances,
        vulnerability,
        deprivation,
        members,
        addresses,
    }
}

/// Yearly rate of moving home, and the extra rate with housing insecurity; the number
/// of moves in the four years is Poisson with four times the rate, at most three.
pub const MOVE_RATE: (f64, f64) = (0.06, 0.20);

/// Share of moves during the history into a home another family of the county
/// left earlier in it (when the LSOA has one free): homes are re-let and resold,
/// so one address sees successive households, each with its own dates there.
pub const REOCCUPIED_SHARE: f64 = 0.25;

/// Days a vacated home stands empty at least before the next household moves in.
pub const VOID_DAYS: i64 = 14;

/// Who lives where and when: one household per home at a time, as in a real
/// county, and the homes families have left, for later families to move into.
#[derive(Clone)]
pub struct Homes {
    /// Each home's occupancies, from the day a family moved in to the day it left.
    occupied: HashMap<Address, Vec<(NaiveDate, NaiveDate)>>,
    /// Per LSOA, homes vacated during the history and the day they were left.
    vacated: Vec<Vec<(Address, NaiveDate)>>,
}

impl Homes {
    /// No one housed yet in any of `lsoas` LSOAs.
    pub fn new(lsoas: usize) -> Homes {
        Homes {
            occupied: HashMap::new(),
            vacated: vec![Vec::new(); lsoas],
        }
    }

    /// True when no household lives at `address` on any day of `from..to`.
    fn is_free(&self, address: &Address, from: NaiveDate, to: NaiveDate) -> bool {
        self.occupied
            .get(address)
            .is_none_or(|stays| stays.iter().all(|(a, b)| *b <= from || to <= *a))
    }

    /// Houses a family at `address` from `from` until `to` (`NaiveDate::MAX`: still there).
    fn occupy(&mut self, address: Address, from: NaiveDate, to: NaiveDate) {
        self.occupied.entry(address).or_default().push((from, to));
        if to != NaiveDate::MAX {
            self.vacated[address.lsoa].push((address, to));
        }
    }

    /// A home of `lsoa` left by another family at least [`VOID_DAYS`] before `from`
    /// and free until `to`, taken off the list of vacated homes.
    fn take_vacated<R: Rng>(
        &mut self,
        rng: &mut R,
        lsoa: usize,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Option<Address> {
        let fitting: Vec<usize> = self.vacated[lsoa]
            .iter()
            .enumerate()
            .filter(|(_, (address, left))| {
                *left + Duration::days(VOID_DAYS) <= from && self.is_free(address, from, to)
            })
            .map(|(index, _)| index)
            .collect();
        if fitting.is_empty() {
            return None;
        }
        let chosen = fitting[rng.random_range(0..fitting.len())];
        Some(self.vacated[lsoa].swap_remove(chosen).0)
    }
}

/// The family's homes over the history: a first address, then moves at random
/// days, each into a home no other household holds while the family lives there.
fn draw_moves<R: Rng>(
    rng: &mut R,
    home: usize,
    circumstances: &Circumstances,
    geography: &Geography,
    sampler: &LsoaSampler,
    homes: &mut Homes,
) -> Vec<(NaiveDate, Address)> {
    let rate = MOVE_RATE.0 + MOVE_RATE.1 * f64::from(u8::from(circumstances.housing_insecurity));
    let count = Poisson::new(rate * 4.0)
        .map_or(0.0, |p| p.sample(rng))
        .min(3.0) as usize;
    let mut moves: Vec<NaiveDate> = (0..count)
        .map(|_| random_date(rng, HISTORY_START, LAST_DAY - Duration::days(30)))
        .collect();
    moves.sort_unstable();
    moves.dedup();
    let mut lsoas = vec![home];
    for _ in &moves {
        // Half of moves stay in the neighbourhood; most others stay in the authority.
        let mut lsoa = lsoas[lsoas.len() - 1];
        if rng.random::<f64>() >= 0.5 {
            let lad = &geography.lsoas[home].lad_code;
            let mut candidate = sampler.draw(rng);
            for _ in 0..10 {
                if &geography.lsoas[candidate].lad_code == lad {
                    break;
                }
                candidate = sampler.draw(rng);
            }
            lsoa = candidate;
        }
        lsoas.push(lsoa);
    }
    let mut addresses: Vec<(NaiveDate, Address)> = Vec::with_capacity(lsoas.len());
    for (index, &lsoa) in lsoas.iter().enumerate() {
        let from = if index == 0 {
            NaiveDate::MIN
        } else {
            moves[index - 1]
        };
        let to = moves.get(index).copied().unwrap_or(NaiveDate::MAX);
        let previous = addresses.last().map(|(_, address)| *address);
        let reoccupied = (index > 0 && rng.random::<f64>() < REOCCUPIED_SHARE)
            .then(|| homes.take_vacated(rng, lsoa, from, to))
            .flatten()
            .filter(|address| Some(*address) != previous);
        let address = reoccupied
            .unwrap_or_else(|| free_address(rng, lsoa, geography, homes, from, to, previous));
        homes.occupy(address, from, to);
        addresses.push((from, address));
    }
    addresses
}

/// A home in `lsoa` that is free over `from..to` and is not `previous`. A crowded
/// LSOA's streets get longer (higher house numbers) rather than two households
/// sharing one home.
fn free_address<R: Rng>(
    rng: &mut R,
    lsoa: usize,
    geography: &Geography,
    homes: &Homes,
    from: NaiveDate,
    to: NaiveDate,
    previous: Option<Address>,
) -> Address {
    let mut attempt: u16 = 0;
    loop {
        let address = draw_address(rng, lsoa, geography, 160 + 40 * (attempt / 20));
        if Some(address) != previous && homes.is_free(&address, from, to) {
            return address;
        }
        attempt = attempt.saturating_add(1);
    }
}

/// A home in `lsoa`: one of its streets, a house number below `numbers`, sometimes a flat.
fn draw_address<R: Rng>(rng: &mut R, lsoa: usize, geography: &Geography, numbers: u16) -> Address {
    let streets = geography.lsoas[lsoa].streets.len().max(1);
    Address {
        lsoa,
        street: rng.random_range(0..streets),
        number: rng.random_range(1..numbers),
        flat: (rng.random::<f64>() < 0.15).then(|| rng.random_range(1..12)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn age_counts_whole_years() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut numbers = IdentityNumbers::new(&mut rng);
        let (id, nhs_number, upn, ni_number) = numbers.issue(true, 929, date(2015, 6, 30));
        let person = Person {
            id,
            role: Role::Child,
            given: "Ava",
            nicknames: &[],
            family_name: "Smith".into(),
            former_name: Some(("Jones".into(), date(2023, 1, 1))),
            birth_date: date(2015, 6, 30),
            female: true,
            ethnicity: "WBRI",
            nhs_number,
            upn,
            ni_number,
        };
        assert_eq!(person.age_on(date(2024, 6, 29)), 8);
        assert_eq!(person.age_on(date(2024, 6, 30)), 9);
        assert_eq!(person.family_name_on(date(2022, 12, 31)), "Jones");
        assert_eq!(person.family_name_on(date(2023, 1, 1)), "Smith");
    }

    #[test]
    fn identifiers_are_valid_and_unique() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut numbers = IdentityNumbers::new(&mut rng);
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..20_000 {
            let (id, nhs, upn, ni) = numbers.issue(i % 2 == 0, 838, date(2012, 5, 1));
            let digits: Vec<u32> = nhs.bytes().map(|b| u32::from(b - b'0')).collect();
            let sum: u32 = digits[..9]
                .iter()
                .enumerate()
                .map(|(i, d)| d * (10 - i as u32))
                .sum();
            assert_eq!((11 - sum % 11) % 11, digits[9], "{nhs}");
            assert!(nhs.starts_with('4'), "{nhs}");
            if i % 2 == 0 {
                assert_eq!(upn.len(), 13, "{upn}");
                assert_eq!(upn_with_check(&upn[1..]), upn);
                assert!(ni.is_empty());
            } else {
                assert_eq!(ni.len(), 9, "{ni}");
                assert!(upn.is_empty());
            }
            for value in [id, nhs, upn, ni] {
                assert!(
                    value.is_empty() || seen.insert(value.clone()),
                    "{value} twice"
                );
            }
        }
    }
}
