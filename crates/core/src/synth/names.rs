//! Name vocabularies for the synthetic county. Names are drawn from a pool that
//! follows the family's ethnicity, and surnames are listed most common first and
//! drawn with Zipf-like weights, so that some surnames are shared by many
//! unrelated families (as Smith is) and others are rare.

use std::sync::OnceLock;

use rand::Rng;

/// A given name and the shorter forms systems record instead of it.
pub type GivenName = (&'static str, &'static [&'static str]);

/// Where a family's names come from, chosen from its ethnicity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamePool {
    British,
    SouthAsian,
    African,
    EasternEuropean,
}

impl NamePool {
    /// The pool for a DfE ethnicity code; mixed and other groups mostly carry British names.
    pub fn for_ethnicity(code: &str) -> NamePool {
        match code {
            "APKN" | "ABAN" | "AIND" => NamePool::SouthAsian,
            "BAFR" => NamePool::African,
            "WOTH" => NamePool::EasternEuropean,
            _ => NamePool::British,
        }
    }

    fn lists(
        self,
    ) -> (
        &'static [GivenName],
        &'static [GivenName],
        &'static [&'static str],
    ) {
        match self {
            NamePool::British => (BRITISH_FEMALE, BRITISH_MALE, BRITISH_SURNAMES),
            NamePool::SouthAsian => (SOUTH_ASIAN_FEMALE, SOUTH_ASIAN_MALE, SOUTH_ASIAN_SURNAMES),
            NamePool::African => (AFRICAN_FEMALE, AFRICAN_MALE, AFRICAN_SURNAMES),
            NamePool::EasternEuropean => (
                EASTERN_EUROPEAN_FEMALE,
                EASTERN_EUROPEAN_MALE,
                EASTERN_EUROPEAN_SURNAMES,
            ),
        }
    }
}

/// Female given names with the nicknames systems record instead.
const BRITISH_FEMALE: &[GivenName] = &[
    ("Olivia", &["Liv", "Livvy"]),
    ("Amelia", &["Millie", "Amy"]),
    ("Isla", &[]),
    ("Ava", &[]),
    ("Emily", &["Em", "Emmy"]),
    ("Sophie", &["Soph"]),
    ("Grace", &["Gracie"]),
    ("Charlotte", &["Lottie", "Charlie"]),
    ("Jessica", &["Jess", "Jessie"]),
    ("Elizabeth", &["Beth", "Liz", "Lizzie", "Eliza"]),
    ("Rebecca", &["Becky", "Becca"]),
    ("Samantha", &["Sam", "Sammy"]),
    ("Katherine", &["Kate", "Katie", "Kath"]),
    ("Jennifer", &["Jen", "Jenny"]),
    ("Victoria", &["Vicky", "Tori"]),
    ("Hannah", &[]),
    ("Lucy", &[]),
    ("Chloe", &[]),
    ("Megan", &["Meg"]),
    ("Abigail", &["Abbie", "Abi"]),
    ("Poppy", &[]),
    ("Freya", &[]),
    ("Evie", &[]),
    ("Ruby", &[]),
    ("Daisy", &[]),
    ("Florence", &["Flo", "Florrie"]),
    ("Matilda", &["Tilly", "Tilda"]),
    ("Eleanor", &["Ellie", "Nell"]),
    ("Isabella", &["Bella", "Izzy"]),
    ("Leah", &[]),
    ("Danielle", &["Dani"]),
    ("Natalie", &["Nat"]),
    ("Stephanie", &["Steph"]),
    ("Michelle", &["Shell"]),
    ("Kirsty", &[]),
    ("Gemma", &[]),
    ("Claire", &[]),
    ("Nicola", &["Nicky", "Nikki"]),
    ("Sarah", &[]),
    ("Laura", &[]),
    ("Amy", &[]),
    ("Lauren", &[]),
    ("Kayleigh", &[]),
    ("Louise", &["Lou"]),
    ("Joanne", &["Jo"]),
    ("Deborah", &["Debbie", "Deb"]),
    ("Margaret", &["Maggie", "Peggy"]),
    ("Susan", &["Sue", "Susie"]),
];

/// Male given names with the nicknames systems record instead.
const BRITISH_MALE: &[GivenName] = &[
    ("William", &["Will", "Bill", "Billy", "Liam"]),
    ("Oliver", &["Ollie"]),
    ("Jack", &[]),
    ("Harry", &[]),
    ("George", &[]),
    ("Thomas", &["Tom", "Tommy"]),
    ("James", &["Jim", "Jamie", "Jimmy"]),
    ("Joshua", &["Josh"]),
    ("Daniel", &["Dan", "Danny"]),
    ("Matthew", &["Matt"]),
    ("Christopher", &["Chris"]),
    ("Michael", &["Mike", "Mikey", "Mick"]),
    ("Robert", &["Rob", "Bob", "Bobby", "Robbie"]),
    ("Alexander", &["Alex", "Xander"]),
    ("Alfred", &["Alfie", "Alf"]),
    ("Benjamin", &["Ben", "Benji"]),
    ("Samuel", &["Sam", "Sammy"]),
    ("Joseph", &["Joe", "Joey"]),
    ("Edward", &["Ed", "Eddie", "Ted"]),
    ("Frederick", &["Freddie", "Fred"]),
    ("Charlie", &[]),
    ("Noah", &[]),
    ("Leo", &[]),
    ("Oscar", &[]),
    ("Arthur", &["Art"]),
    ("Theo", &[]),
    ("Archie", &[]),
    ("Kyle", &[]),
    ("Liam", &[]),
    ("Connor", &[]),
    ("Callum", &[]),
    ("Ryan", &[]),
    ("Craig", &[]),
    ("Lee", &[]),
    ("Darren", &[]),
    ("Stephen", &["Steve", "Stevie"]),
    ("Anthony", &["Tony", "Ant"]),
    ("Nathan", &["Nate"]),
    ("Andrew", &["Andy", "Drew"]),
    ("Richard", &["Rich", "Richie", "Dick"]),
    ("David", &["Dave", "Davey"]),
    ("Paul", &[]),
    ("Mark", &[]),
    ("Jason", &[]),
    ("Dean", &[]),
    ("Gary", &[]),
    ("Kevin", &["Kev"]),
    ("Peter", &["Pete"]),
];

/// Surnames common in England, most common first; the North East and Dorset add their own.
const BRITISH_SURNAMES: &[&str] = &[
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Lewis",
    "Harrison",
    "Young",
    "Scott",
    "Turner",
    "Hughes",
    "Edwards",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harris",
    "Bell",
    "Allen",
    "Mitchell",
    "Anderson",
    "Parker",
    "Watson",
    "Carter",
    "Phillips",
    "Shaw",
    "Lloyd",
    "Marshall",
    "Simpson",
    "Chapman",
    "Ellis",
    "Webb",
    "Richardson",
    "Holmes",
    "Mills",
    "Hunt",
    "Rogers",
    "Kelly",
    "Palmer",
    "Mason",
    "Griffiths",
    "Matthews",
    "Fox",
    "Knight",
    "Gibson",
    "Lawrence",
    "Butler",
    "Barnes",
    "Stevens",
    "Dixon",
    "Murray",
    "Graham",
    "Armstrong",
    "Charlton",
    "Robson",
    "Milburn",
    "Dodd",
    "Elliott",
    "Forster",
    "Hedley",
    "Nixon",
    "Purvis",
    "Ridley",
    "Snowball",
    "Tweddle",
    "Pennington",
    "Ashworth",
    "Bascombe",
    "Chiswell",
    "Dunford",
    "Fairweather",
    "Gulliver",
    "Hardiman",
    "Isherwood",
    "Kettleborough",
    "Lockyer",
    "Mapstone",
    "Northover",
    "Ozanne",
    "Penhaligon",
    "Quartermain",
    "Rendell",
    "Stickland",
    "Trenchard",
    "Upshall",
    "Vowles",
    "Whitmarsh",
    "Yeatman",
    "Murphy",
    "O'Brien",
    "McDonald",
    "Campbell",
    "Stewart",
    "Fraser",
    "Thorne",
    "Blackmore",
    "Coombes",
    "Dibben",
    "Frampton",
    "Gillingham",
    "Harnett",
    "Jeans",
    "Hetherington",
    "Lowery",
    "Bainbridge",
    "Fenwick",
    "Straughan",
    "Gowland",
    "Heslop",
    "Lumsden",
    "Rutherford",
    "Scorer",
];

const SOUTH_ASIAN_FEMALE: &[GivenName] = &[
    ("Fatima", &[]),
    ("Aisha", &[]),
    ("Maryam", &[]),
    ("Zainab", &[]),
    ("Amira", &[]),
    ("Hafsa", &[]),
    ("Noor", &[]),
    ("Sana", &[]),
    ("Priya", &[]),
    ("Anjali", &[]),
    ("Nadia", &[]),
    ("Samina", &[]),
];

const SOUTH_ASIAN_MALE: &[GivenName] = &[
    ("Mohammed", &["Mo"]),
    ("Muhammad", &["Mo"]),
    ("Ibrahim", &[]),
    ("Yusuf", &[]),
    ("Ali", &[]),
    ("Hamza", &[]),
    ("Zain", &[]),
    ("Imran", &[]),
    ("Arjun", &[]),
    ("Rahul", &[]),
    ("Bilal", &[]),
    ("Tariq", &[]),
];

const SOUTH_ASIAN_SURNAMES: &[&str] = &[
    "Khan", "Ahmed", "Hussain", "Ali", "Begum", "Patel", "Akhtar", "Iqbal", "Mahmood", "Rashid",
    "Shah", "Singh", "Sharma", "Chaudhry", "Malik", "Rahman",
];

const AFRICAN_FEMALE: &[GivenName] = &[
    ("Adaeze", &["Ada"]),
    ("Chiamaka", &["Chi"]),
    ("Abena", &[]),
    ("Ama", &[]),
    ("Folake", &[]),
    ("Grace", &["Gracie"]),
    ("Blessing", &[]),
    ("Precious", &[]),
    ("Amara", &[]),
    ("Zara", &[]),
];

const AFRICAN_MALE: &[GivenName] = &[
    ("Chinedu", &["Chi"]),
    ("Oluwaseun", &["Seun"]),
    ("Kwame", &[]),
    ("Kofi", &[]),
    ("Emmanuel", &["Manny"]),
    ("Samuel", &["Sam"]),
    ("David", &["Dave"]),
    ("Tunde", &[]),
    ("Kwabena", &[]),
    ("Daniel", &["Dan"]),
];

const AFRICAN_SURNAMES: &[&str] = &[
    "Okafor", "Mensah", "Adeyemi", "Okonkwo", "Boateng", "Owusu", "Asante", "Nwosu", "Adebayo",
    "Oluwole", "Osei", "Eze",
];

const EASTERN_EUROPEAN_FEMALE: &[GivenName] = &[
    ("Katarzyna", &["Kasia"]),
    ("Agnieszka", &["Aga"]),
    ("Magdalena", &["Magda"]),
    ("Aleksandra", &["Ola"]),
    ("Anna", &["Ania"]),
    ("Zuzanna", &["Zuza"]),
    ("Ioana", &[]),
    ("Elena", &[]),
    ("Laura", &[]),
    ("Julia", &[]),
];

const EASTERN_EUROPEAN_MALE: &[GivenName] = &[
    ("Jakub", &["Kuba"]),
    ("Piotr", &[]),
    ("Tomasz", &["Tomek"]),
    ("Krzysztof", &["Krzys"]),
    ("Aleksander", &["Olek"]),
    ("Andrei", &[]),
    ("Mihai", &[]),
    ("Lukas", &[]),
    ("Marek", &[]),
    ("Pawel", &[]),
];

const EASTERN_EUROPEAN_SURNAMES: &[&str] = &[
    "Nowak",
    "Kowalski",
    "Wisniewski",
    "Wojcik",
    "Kaminski",
    "Lewandowski",
    "Zielinski",
    "Popescu",
    "Ionescu",
    "Kazlauskas",
    "Petrov",
    "Horvath",
];

/// Draws a surname of `pool` with weight ∝ 1/(rank + 3), so the common ones dominate
/// without swamping.
pub fn draw_surname<R: Rng>(rng: &mut R, pool: NamePool) -> &'static str {
    static CUMULATIVE: OnceLock<[Vec<f64>; 4]> = OnceLock::new();
    let tables = CUMULATIVE.get_or_init(|| {
        [
            NamePool::British,
            NamePool::SouthAsian,
            NamePool::African,
            NamePool::EasternEuropean,
        ]
        .map(|pool| {
            let mut total = 0.0;
            pool.lists()
                .2
                .iter()
                .enumerate()
                .map(|(rank, _)| {
                    total += 1.0 / (rank as f64 + 3.0);
                    total
                })
                .collect()
        })
    });
    let surnames = pool.lists().2;
    let cumulative = &tables[pool as usize];
    let target = rng.random::<f64>() * cumulative.last().copied().unwrap_or(1.0);
    let index = cumulative.partition_point(|&c| c < target);
    surnames[index.min(surnames.len() - 1)]
}

/// Draws a given name (and its nickname list) of `pool`.
pub fn draw_given<R: Rng>(rng: &mut R, pool: NamePool, female: bool) -> GivenName {
    let (women, men, _) = pool.lists();
    let list = if female { women } else { men };
    list[rng.random_range(0..list.len())]
}

/// Every formal given name that `nickname` is a short form of (Sam → Samantha, Samuel).
#[cfg(test)]
pub fn formal_names(nickname: &str) -> Vec<&'static str> {
    let mut found: Vec<&'static str> = all_given_names()
        .filter(|(_, nicknames)| nicknames.iter().any(|n| n.eq_ignore_ascii_case(nickname)))
        .map(|(name, _)| name)
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

/// The nicknames of a formal given name, empty when it has none.
#[cfg(test)]
pub fn nicknames_of(name: &str) -> &'static [&'static str] {
    all_given_names()
        .find(|(formal, _)| formal.eq_ignore_ascii_case(name))
        .map_or(&[], |(_, nicknames)| nicknames)
}

#[cfg(test)]
fn all_given_names() -> impl Iterator<Item = GivenName> {
    [
        BRITISH_FEMALE,
        BRITISH_MALE,
        SOUTH_ASIAN_FEMALE,
        SOUTH_ASIAN_MALE,
        AFRICAN_FEMALE,
        AFRICAN_MALE,
        EASTERN_EUROPEAN_FEMALE,
        EASTERN_EUROPEAN_MALE,
    ]
    .into_iter()
    .flatten()
    .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn common_surnames_are_drawn_more_often() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let draws: Vec<&str> = (0..20_000)
            .map(|_| draw_surname(&mut rng, NamePool::British))
            .collect();
        let smith = draws.iter().filter(|s| **s == "Smith").count();
        let rare = draws.iter().filter(|s| **s == "Scorer").count();
        assert!(smith > 5 * rare.max(1), "Smith {smith}, Scorer {rare}");
    }

    #[test]
    fn nickname_map_round_trips() {
        for (name, nicknames) in all_given_names() {
            assert_eq!(
                nicknames_of(name).is_empty(),
                nicknames.is_empty(),
                "{name}"
            );
            for nickname in nicknames {
                assert_ne!(&name, nickname);
                assert!(
                    formal_names(nickname).contains(&name),
                    "{nickname} leads back to {name}"
                );
                assert!(nicknames_of(name).contains(nickname));
            }
        }
        assert_eq!(formal_names("Beth"), vec!["Elizabeth"]);
        assert_eq!(formal_names("bill"), vec!["William"]);
        assert_eq!(formal_names("Sam"), vec!["Samantha", "Samuel"]);
        assert!(formal_names("Elizabeth").is_empty());
    }

    #[test]
    fn every_pool_draws_from_its_own_lists() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        for pool in [
            NamePool::British,
            NamePool::SouthAsian,
            NamePool::African,
            NamePool::EasternEuropean,
        ] {
            let (women, men, surnames) = pool.lists();
            for _ in 0..200 {
                assert!(surnames.contains(&draw_surname(&mut rng, pool)));
                assert!(women.contains(&draw_given(&mut rng, pool, true)));
                assert!(men.contains(&draw_given(&mut rng, pool, false)));
            }
        }
    }
}
