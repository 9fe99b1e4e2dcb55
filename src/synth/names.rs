//! Name and address vocabularies for the synthetic county. Surnames are listed
//! most common first and drawn with Zipf-like weights, so that some surnames are
//! shared by many unrelated families (as Smith is) and others are rare.

use rand::Rng;

/// Female given names with the nicknames systems record instead.
pub const FEMALE: &[(&str, &[&str])] = &[
    ("Elizabeth", &["Beth", "Liz", "Lizzie"]),
    ("Olivia", &["Liv"]),
    ("Amelia", &["Millie"]),
    ("Isla", &[]),
    ("Ava", &[]),
    ("Emily", &["Em"]),
    ("Sophie", &["Soph"]),
    ("Grace", &[]),
    ("Charlotte", &["Lottie", "Charlie"]),
    ("Jessica", &["Jess"]),
    ("Rebecca", &["Becky", "Becca"]),
    ("Samantha", &["Sam"]),
    ("Katherine", &["Kate", "Katie"]),
    ("Jennifer", &["Jen", "Jenny"]),
    ("Victoria", &["Vicky", "Tori"]),
    ("Hannah", &[]),
    ("Lucy", &[]),
    ("Chloe", &[]),
    ("Megan", &["Meg"]),
    ("Abigail", &["Abbie", "Abi"]),
    ("Poppy", &[]),
    ("Freya", &[]),
    ("Zara", &[]),
    ("Aisha", &[]),
    ("Fatima", &[]),
    ("Amira", &[]),
    ("Maya", &[]),
    ("Leah", &[]),
    ("Danielle", &["Dani"]),
    ("Natalie", &["Nat"]),
    ("Stephanie", &["Steph"]),
    ("Michelle", &["Shell"]),
    ("Kirsty", &[]),
    ("Gemma", &[]),
    ("Claire", &[]),
    ("Nicola", &["Nicky"]),
];

/// Male given names with the nicknames systems record instead.
pub const MALE: &[(&str, &[&str])] = &[
    ("William", &["Will", "Bill", "Billy"]),
    ("Oliver", &["Ollie"]),
    ("Jack", &[]),
    ("Harry", &[]),
    ("George", &[]),
    ("Thomas", &["Tom", "Tommy"]),
    ("James", &["Jim", "Jamie"]),
    ("Joshua", &["Josh"]),
    ("Daniel", &["Dan", "Danny"]),
    ("Matthew", &["Matt"]),
    ("Christopher", &["Chris"]),
    ("Michael", &["Mike", "Mikey"]),
    ("Robert", &["Rob", "Bob", "Bobby"]),
    ("Alexander", &["Alex", "Alfie"]),
    ("Benjamin", &["Ben"]),
    ("Samuel", &["Sam"]),
    ("Joseph", &["Joe"]),
    ("Edward", &["Ed", "Eddie", "Ted"]),
    ("Charlie", &[]),
    ("Noah", &[]),
    ("Leo", &[]),
    ("Oscar", &[]),
    ("Mohammed", &["Mo"]),
    ("Ibrahim", &[]),
    ("Yusuf", &[]),
    ("Kyle", &[]),
    ("Liam", &[]),
    ("Connor", &[]),
    ("Callum", &[]),
    ("Ryan", &[]),
    ("Craig", &[]),
    ("Lee", &[]),
    ("Darren", &[]),
    ("Stephen", &["Steve"]),
    ("Anthony", &["Tony", "Ant"]),
    ("Nathan", &["Nate"]),
];

/// Surnames, most common first.
pub const SURNAMES: &[&str] = &[
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
    "Patel",
    "Khan",
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
    "Ahmed",
    "Hussain",
    "Begum",
    "Ali",
    "Nowak",
    "Kowalski",
    "Okafor",
    "Mensah",
    "Silva",
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
];

/// Street name stems and kinds; combined they give plausible English addresses.
pub const STREETS: &[&str] = &[
    "Church",
    "Station",
    "Victoria",
    "Mill",
    "Park",
    "Queens",
    "Kings",
    "Manor",
    "Meadow",
    "Chapel",
    "School",
    "North",
    "South",
    "West",
    "High",
    "Orchard",
    "Springfield",
    "Grange",
    "Windsor",
    "Albert",
    "Alexandra",
    "Elm",
    "Oak",
    "Ash",
    "Beech",
    "Harbour",
    "Quay",
    "Castle",
    "Abbey",
    "Priory",
    "Market",
    "Bridge",
    "Farm",
    "Heath",
    "Common",
    "Moor",
    "Coronation",
];

/// Street kinds.
pub const STREET_KINDS: &[&str] = &[
    "Road", "Street", "Avenue", "Close", "Lane", "Drive", "Way", "Crescent", "Gardens",
];

/// Towns of each authority (LAD 2019 code), for addresses.
pub fn towns(lad_code: &str) -> &'static [&'static str] {
    match lad_code {
        "E06000058" => &[
            "Bournemouth",
            "Poole",
            "Christchurch",
            "Broadstone",
            "Ferndown",
        ],
        "E06000059" => &[
            "Dorchester",
            "Weymouth",
            "Bridport",
            "Blandford Forum",
            "Sherborne",
            "Wimborne Minster",
            "Gillingham",
            "Swanage",
            "Shaftesbury",
            "Wareham",
        ],
        "E06000057" => &[
            "Ashington",
            "Blyth",
            "Cramlington",
            "Morpeth",
            "Hexham",
            "Alnwick",
            "Berwick-upon-Tweed",
            "Bedlington",
            "Prudhoe",
            "Amble",
        ],
        _ => &["Newtown"],
    }
}

/// Postcode area letters of each authority (real areas; the districts and units are synthetic).
pub fn postcode_area(lad_code: &str) -> &'static str {
    match lad_code {
        "E06000058" => "BH",
        "E06000059" => "DT",
        "E06000057" => "NE",
        _ => "ZZ",
    }
}

/// Draws a surname with weight ∝ 1/(rank+3), so the common ones dominate without swamping.
pub fn draw_surname<R: Rng>(rng: &mut R) -> &'static str {
    // Cumulative weights are cheap to recompute relative to the rest of a family's work,
    // but keeping them in a static avoids doing it half a million times.
    static CUMULATIVE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    let cumulative = CUMULATIVE.get_or_init(|| {
        let mut total = 0.0;
        SURNAMES
            .iter()
            .enumerate()
            .map(|(rank, _)| {
                total += 1.0 / (rank as f64 + 3.0);
                total
            })
            .collect()
    });
    let target = rng.random::<f64>() * cumulative.last().copied().unwrap_or(1.0);
    let index = cumulative.partition_point(|&c| c < target);
    SURNAMES[index.min(SURNAMES.len() - 1)]
}

/// Draws a given name (and its nickname list) for a sex ("F" or "M").
pub fn draw_given<R: Rng>(rng: &mut R, female: bool) -> (&'static str, &'static [&'static str]) {
    let list = if female { FEMALE } else { MALE };
    list[rng.random_range(0..list.len())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn common_surnames_are_drawn_more_often() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let draws: Vec<&str> = (0..20_000).map(|_| draw_surname(&mut rng)).collect();
        let smith = draws.iter().filter(|s| **s == "Smith").count();
        let rare = draws.iter().filter(|s| **s == "Jeans").count();
        assert!(smith > 5 * rare.max(1), "Smith {smith}, Jeans {rare}");
    }

    #[test]
    fn nicknames_differ_from_their_name() {
        for (name, nicknames) in FEMALE.iter().chain(MALE) {
            for nickname in *nicknames {
                assert_ne!(name, nickname);
            }
        }
    }
}
