//! Families and people: who lives where, and the hidden circumstances that drive
//! every agency's events. Coefficients are documented in docs/synthetic-data.md.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use super::geography::Geography;
use super::names;
use super::timeline::{EXTRACT_DATE, HISTORY_START, random_date};

/// Hidden circumstances of a family. Never written to an extract, only to truth.
#[derive(Debug, Clone, Copy, Default)]
pub struct Circumstances {
    pub worklessness: bool,
    pub domestic_abuse: bool,
    pub mental_health: bool,
    pub substance_misuse: bool,
    pub housing_insecurity: bool,
}

/// Logistic prevalence `sigmoid(base + deprivation_slope · d + 0.9 · u)` of each circumstance,
/// with d = (10 − IMD decile) / 9 (1 in the most deprived decile) and u the family's vulnerability.
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
    Parent,
    Partner,
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
    pub id: String,
    pub role: Role,
    pub given: &'static str,
    pub nicknames: &'static [&'static str],
    pub family_name: String,
    pub birth_date: NaiveDate,
    pub female: bool,
    /// DfE/CSC ethnicity code (WBRI, WOTH, MWBC, APKN, BAFR, OOTH).
    pub ethnicity: &'static str,
    pub nhs_number: String,
    /// Unique pupil number (children) or National Insurance number (adults).
    pub upn: String,
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
}

/// An address with its LSOA.
#[derive(Debug, Clone)]
pub struct Address {
    pub line: String,
    pub town: &'static str,
    pub postcode: String,
    pub lsoa: usize,
}

/// A household with children.
#[derive(Debug, Clone)]
pub struct Family {
    pub id: String,
    pub circumstances: Circumstances,
    pub vulnerability: f64,
    /// 1 in the most deprived IMD decile, 0 in the least (of the current address).
    pub deprivation: f64,
    pub members: Vec<Person>,
    /// Address at the start of the history; `moved` holds the date and new address if they moved.
    pub first_address: Address,
    pub moved: Option<(NaiveDate, Address)>,
}

impl Family {
    /// Where the family lived on `date`.
    pub fn address_on(&self, date: NaiveDate) -> &Address {
        match &self.moved {
            Some((when, address)) if date >= *when => address,
            _ => &self.first_address,
        }
    }

    /// The address at the extract date.
    pub fn current_address(&self) -> &Address {
        self.address_on(EXTRACT_DATE)
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
            .min(self.cumulative.len() - 1)
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Deprivation on a 0–1 scale from an IMD decile (1 → 1.0, 10 → 0.0).
pub fn deprivation_of(decile: u8) -> f64 {
    (10.0 - f64::from(decile)) / 9.0
}

/// Numbers that identify people; the counters make them unique within a run.
pub struct IdentityNumbers {
    next_person: u64,
    next_nhs: u64,
    next_upn: u64,
    next_ni: u64,
}

impl IdentityNumbers {
    /// Counters starting from seed-derived offsets.
    pub fn new<R: Rng>(rng: &mut R) -> IdentityNumbers {
        IdentityNumbers {
            next_person: 1,
            next_nhs: rng.random_range(400_000_000..480_000_000),
            next_upn: rng.random_range(100_000_000_000..200_000_000_000),
            next_ni: rng.random_range(100_000..200_000),
        }
    }

    fn person_id(&mut self) -> String {
        let id = format!("P{:08}", self.next_person);
        self.next_person += 1;
        id
    }

    /// A valid 10-digit NHS number (modulus 11 check digit).
    fn nhs_number(&mut self) -> String {
        loop {
            let body = self.next_nhs;
            self.next_nhs += 1;
            let digits: Vec<u64> = format!("{body:09}")
                .bytes()
                .map(|b| u64::from(b - b'0'))
                .collect();
            let sum: u64 = digits
                .iter()
                .enumerate()
                .map(|(i, d)| d * (10 - i as u64))
                .sum();
            let check = (11 - sum % 11) % 11;
            if check != 10 {
                return format!("{body:09}{check}");
            }
        }
    }

    fn upn(&mut self) -> String {
        let body = self.next_upn;
        self.next_upn += 1;
        let letter = (b'A' + (body % 23) as u8) as char;
        format!("{letter}{body:012}")
    }

    fn ni_number(&mut self) -> String {
        const PREFIXES: &[&str] = &["JK", "AB", "PC", "NE", "SH", "WL", "YT", "ZR"];
        let body = self.next_ni;
        self.next_ni += 1;
        let prefix = PREFIXES[(body % PREFIXES.len() as u64) as usize];
        let suffix = ["A", "B", "C", "D"][(body % 4) as usize];
        format!("{prefix}{:06}{suffix}", body % 1_000_000)
    }
}

/// Ethnicity codes and their shares in the synthetic county.
const ETHNICITIES: &[(&str, f64)] = &[
    ("WBRI", 0.86),
    ("WOTH", 0.05),
    ("MWBC", 0.03),
    ("APKN", 0.03),
    ("BAFR", 0.02),
    ("OOTH", 0.01),
];

fn draw_ethnicity<R: Rng>(rng: &mut R) -> &'static str {
    let mut target = rng.random::<f64>();
    for (code, share) in ETHNICITIES {
        if target < *share {
            return code;
        }
        target -= share;
    }
    "WBRI"
}

/// Draws one family: where it lives, its circumstances, its members and any move.
pub fn draw_family<R: Rng>(
    rng: &mut R,
    index: usize,
    geography: &Geography,
    sampler: &LsoaSampler,
    numbers: &mut IdentityNumbers,
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

    let family_name = names::draw_surname(rng).to_string();
    let ethnicity = draw_ethnicity(rng);
    let lone_parent = rng.random::<f64>() < 0.22 + 0.18 * deprivation;
    let mother_birth = random_date(rng, date(1974, 4, 1), date(2003, 3, 31));
    let mut members = Vec::with_capacity(5);
    let (mother_given, mother_nicks) = names::draw_given(rng, true);
    members.push(Person {
        id: numbers.person_id(),
        role: Role::Parent,
        given: mother_given,
        nicknames: mother_nicks,
        family_name: family_name.clone(),
        birth_date: mother_birth,
        female: true,
        ethnicity,
        nhs_number: numbers.nhs_number(),
        upn: String::new(),
        ni_number: numbers.ni_number(),
    });
    // Children of a lone parent often carry their other parent's surname.
    let children_surname = if lone_parent && rng.random::<f64>() < 0.35 {
        names::draw_surname(rng).to_string()
    } else {
        family_name.clone()
    };
    if !lone_parent {
        let (given, nicks) = names::draw_given(rng, false);
        let offset = rng.random_range(-1500..3000);
        members.push(Person {
            id: numbers.person_id(),
            role: Role::Partner,
            given,
            nicknames: nicks,
            family_name: family_name.clone(),
            birth_date: mother_birth - chrono::Duration::days(offset),
            female: false,
            ethnicity,
            nhs_number: numbers.nhs_number(),
            upn: String::new(),
            ni_number: numbers.ni_number(),
        });
    }
    let children = match rng.random::<f64>() {
        x if x < 0.36 => 1,
        x if x < 0.74 => 2,
        x if x < 0.92 => 3,
        _ => 4,
    };
    // Children born between the mother's 18th birthday (or April 2008) and the extract date.
    let earliest = (mother_birth + chrono::Duration::days(18 * 365)).max(date(2008, 4, 2));
    for _ in 0..children {
        let female = rng.random::<bool>();
        let (given, nicks) = names::draw_given(rng, female);
        let birth = if earliest < EXTRACT_DATE {
            random_date(rng, earliest, EXTRACT_DATE - chrono::Duration::days(1))
        } else {
            random_date(rng, date(2018, 1, 1), date(2026, 1, 1))
        };
        members.push(Person {
            id: numbers.person_id(),
            role: Role::Child,
            given,
            nicknames: nicks,
            family_name: children_surname.clone(),
            birth_date: birth,
            female,
            ethnicity: if ethnicity != "WBRI" && rng.random::<f64>() < 0.3 {
                "MWBC"
            } else {
                ethnicity
            },
            nhs_number: numbers.nhs_number(),
            upn: numbers.upn(),
            ni_number: String::new(),
        });
    }

    let first_address = draw_address(rng, home, geography);
    let move_chance = 0.12 + 0.35 * f64::from(u8::from(circumstances.housing_insecurity));
    let moved = (rng.random::<f64>() < move_chance).then(|| {
        let when = random_date(
            rng,
            HISTORY_START,
            EXTRACT_DATE - chrono::Duration::days(30),
        );
        let lsoa = if rng.random::<f64>() < 0.5 {
            home
        } else {
            // Most moves stay within the authority.
            let lad = &geography.lsoas[home].lad_code;
            let mut candidate = sampler.draw(rng);
            for _ in 0..10 {
                if &geography.lsoas[candidate].lad_code == lad {
                    break;
                }
                candidate = sampler.draw(rng);
            }
            candidate
        };
        (when, draw_address(rng, lsoa, geography))
    });
    let current_lsoa = moved.as_ref().map_or(home, |(_, a)| a.lsoa);
    Family {
        id: format!("F{:07}", index + 1),
        circumstances,
        vulnerability,
        deprivation: deprivation_of(geography.lsoas[current_lsoa].imd_decile),
        members,
        first_address,
        moved,
    }
}

/// A synthetic address in `lsoa`: real postcode area, synthetic district, sector and unit.
fn draw_address<R: Rng>(rng: &mut R, lsoa: usize, geography: &Geography) -> Address {
    let area = &geography.lsoas[lsoa];
    let towns = names::towns(&area.lad_code);
    let town = towns[area.index_in_lad % towns.len()];
    let street = format!(
        "{} {}",
        names::STREETS[(area.index_in_lad * 7 + rng.random_range(0..4)) % names::STREETS.len()],
        names::STREET_KINDS[rng.random_range(0..names::STREET_KINDS.len())]
    );
    const UNIT_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
    let unit = rng.random_range(0..12usize);
    let postcode = format!(
        "{}{} {}{}{}",
        names::postcode_area(&area.lad_code),
        1 + (area.index_in_lad / 9) % 40,
        area.index_in_lad % 9 + 1,
        UNIT_LETTERS[(area.index_in_lad + unit) % UNIT_LETTERS.len()] as char,
        UNIT_LETTERS[(area.index_in_lad * 3 + unit * 5) % UNIT_LETTERS.len()] as char,
    );
    let flat = rng.random::<f64>() < 0.15;
    let number = rng.random_range(1..180);
    let line = if flat {
        format!("Flat {}, {number} {street}", rng.random_range(1..12))
    } else {
        format!("{number} {street}")
    };
    Address {
        line,
        town,
        postcode,
        lsoa,
    }
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(HISTORY_START)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_counts_whole_years() {
        let person = Person {
            id: String::new(),
            role: Role::Child,
            given: "Ava",
            nicknames: &[],
            family_name: "Smith".into(),
            birth_date: date(2015, 6, 30),
            female: true,
            ethnicity: "WBRI",
            nhs_number: String::new(),
            upn: String::new(),
            ni_number: String::new(),
        };
        assert_eq!(person.age_on(date(2024, 6, 29)), 8);
        assert_eq!(person.age_on(date(2024, 6, 30)), 9);
    }

    #[test]
    fn nhs_numbers_pass_the_modulus_11_check() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut numbers = IdentityNumbers::new(&mut rng);
        for _ in 0..200 {
            let nhs = numbers.nhs_number();
            let digits: Vec<u32> = nhs.bytes().map(|b| u32::from(b - b'0')).collect();
            let sum: u32 = digits[..9]
                .iter()
                .enumerate()
                .map(|(i, d)| d * (10 - i as u32))
                .sum();
            assert_eq!((11 - sum % 11) % 11, digits[9], "{nhs}");
        }
    }
}
