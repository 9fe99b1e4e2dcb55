//! Place vocabularies: the towns of each authority with their approximate
//! British National Grid positions (so an LSOA's address names the town it is
//! nearest to), postcode areas, and street names.

/// A town with its approximate position in British National Grid metres.
pub struct Town {
    pub name: &'static str,
    pub easting: f64,
    pub northing: f64,
}

const fn town(name: &'static str, easting: f64, northing: f64) -> Town {
    Town {
        name,
        easting,
        northing,
    }
}

const BCP_TOWNS: &[Town] = &[
    town("Bournemouth", 408_500.0, 91_300.0),
    town("Boscombe", 411_600.0, 91_700.0),
    town("Southbourne", 414_000.0, 91_300.0),
    town("Westbourne", 406_900.0, 91_100.0),
    town("Kinson", 407_000.0, 96_000.0),
    town("Poole", 401_300.0, 90_900.0),
    town("Parkstone", 404_000.0, 91_500.0),
    town("Hamworthy", 399_500.0, 90_700.0),
    town("Broadstone", 400_600.0, 95_700.0),
    town("Christchurch", 415_700.0, 92_800.0),
    town("Highcliffe", 420_300.0, 93_500.0),
];

const DORSET_TOWNS: &[Town] = &[
    town("Dorchester", 369_000.0, 90_700.0),
    town("Weymouth", 367_800.0, 79_500.0),
    town("Portland", 368_800.0, 72_900.0),
    town("Bridport", 346_500.0, 92_900.0),
    town("Lyme Regis", 334_200.0, 92_200.0),
    town("Beaminster", 347_900.0, 101_300.0),
    town("Sherborne", 363_600.0, 116_400.0),
    town("Gillingham", 380_700.0, 126_400.0),
    town("Shaftesbury", 386_300.0, 122_900.0),
    town("Sturminster Newton", 378_700.0, 114_100.0),
    town("Blandford Forum", 388_600.0, 106_600.0),
    town("Wimborne Minster", 401_200.0, 100_100.0),
    town("Ferndown", 407_300.0, 100_400.0),
    town("Verwood", 408_500.0, 109_000.0),
    town("West Moors", 408_000.0, 103_000.0),
    town("Corfe Mullen", 398_000.0, 97_500.0),
    town("Upton", 398_000.0, 93_200.0),
    town("Wareham", 392_400.0, 87_500.0),
    town("Wool", 384_600.0, 86_600.0),
    town("Swanage", 403_100.0, 78_900.0),
];

const NORTHUMBERLAND_TOWNS: &[Town] = &[
    town("Ashington", 426_800.0, 587_900.0),
    town("Newbiggin-by-the-Sea", 431_200.0, 587_800.0),
    town("Blyth", 431_300.0, 581_600.0),
    town("Bedlington", 426_000.0, 581_700.0),
    town("Cramlington", 426_800.0, 577_000.0),
    town("Seaton Delaval", 430_400.0, 575_500.0),
    town("Morpeth", 419_900.0, 586_000.0),
    town("Ponteland", 416_400.0, 573_000.0),
    town("Hexham", 393_500.0, 564_000.0),
    town("Corbridge", 399_200.0, 564_400.0),
    town("Prudhoe", 409_400.0, 562_500.0),
    town("Stocksfield", 405_000.0, 561_500.0),
    town("Haydon Bridge", 384_200.0, 564_400.0),
    town("Haltwhistle", 370_800.0, 564_100.0),
    town("Bellingham", 383_900.0, 583_400.0),
    town("Rothbury", 405_600.0, 601_700.0),
    town("Amble", 426_500.0, 604_000.0),
    town("Alnwick", 418_700.0, 613_300.0),
    town("Seahouses", 421_900.0, 632_000.0),
    town("Wooler", 399_000.0, 628_100.0),
    town("Berwick-upon-Tweed", 399_700.0, 652_900.0),
];

/// The towns of an authority (LAD 2019 code); an unknown authority gets none.
pub fn towns(lad_code: &str) -> &'static [Town] {
    match lad_code {
        "E06000058" => BCP_TOWNS,
        "E06000059" => DORSET_TOWNS,
        "E06000057" => NORTHUMBERLAND_TOWNS,
        _ => &[],
    }
}

/// The name of the town nearest `centroid`, or `fallback` for an authority without a list.
pub fn nearest_town(lad_code: &str, centroid: (f64, f64), fallback: &'static str) -> &'static str {
    towns(lad_code)
        .iter()
        .min_by(|a, b| {
            let da = (a.easting - centroid.0).powi(2) + (a.northing - centroid.1).powi(2);
            let db = (b.easting - centroid.0).powi(2) + (b.northing - centroid.1).powi(2);
            da.total_cmp(&db)
        })
        .map_or(fallback, |t| t.name)
}

/// The real postcode area covering a point of an authority, approximately: BH for BCP
/// and east Dorset, DT for the rest of Dorset, TD around Berwick, NE for the rest of
/// Northumberland. Unknown authorities get the (unused) area ZZ.
pub fn postcode_area(lad_code: &str, centroid: (f64, f64)) -> &'static str {
    match lad_code {
        "E06000058" => "BH",
        "E06000059" if centroid.0 >= 390_000.0 => "BH",
        "E06000059" => "DT",
        "E06000057" if centroid.1 >= 635_000.0 => "TD",
        "E06000057" => "NE",
        _ => "ZZ",
    }
}

/// Short prefix of zone ids for an authority (`BCP-03`).
pub fn authority_short_name(lad_code: &str) -> &str {
    match lad_code {
        "E06000058" => "BCP",
        "E06000059" => "DOR",
        "E06000057" => "NBD",
        other => other,
    }
}

/// Street name stems; combined with a kind they give plausible English addresses.
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
    "Jubilee",
    "Hawthorn",
    "Willow",
    "Chestnut",
    "Rowan",
    "Cedar",
    "Sycamore",
    "Poplar",
    "Lime",
    "Holly",
    "Ivy",
    "Fern",
    "Heather",
    "Bracken",
    "Foxglove",
    "Primrose",
    "Bluebell",
    "Kingfisher",
    "Heron",
    "Curlew",
    "Lapwing",
    "Swallow",
    "Wren",
    "Falcon",
    "Osprey",
    "Nelson",
    "Wellington",
    "Marlborough",
    "Cromwell",
    "Raleigh",
    "Drake",
    "Hardy",
    "Barnes",
    "Collingwood",
    "Percy",
    "Grey",
    "Stephenson",
    "Armstrong",
    "Cuthbert",
    "Aidan",
    "Wessex",
    "Mercia",
    "Tyne",
    "Wansbeck",
    "Coquet",
    "Stour",
    "Frome",
    "Piddle",
    "Avon",
    "Purbeck",
    "Cheviot",
    "Tweed",
];

/// Street kinds, and the abbreviations systems sometimes store instead.
pub const STREET_KINDS: &[(&str, &str)] = &[
    ("Road", "Rd"),
    ("Street", "St"),
    ("Avenue", "Ave"),
    ("Close", "Cl"),
    ("Lane", "Ln"),
    ("Drive", "Dr"),
    ("Way", "Way"),
    ("Crescent", "Cres"),
    ("Gardens", "Gdns"),
    ("Terrace", "Terr"),
    ("Place", "Pl"),
    ("Court", "Ct"),
];

/// Letters used in the inward part of a postcode (C, I, K, M, O and V never are).
pub const UNIT_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn towns_are_in_their_authority_and_nearest_is_itself() {
        for lad in ["E06000057", "E06000058", "E06000059"] {
            for town in towns(lad) {
                let position = (town.easting, town.northing);
                assert_eq!(nearest_town(lad, position, "?"), town.name);
                let northern = lad == "E06000057";
                assert_eq!(town.northing > 500_000.0, northern, "{}", town.name);
            }
        }
    }

    #[test]
    fn postcode_areas_follow_the_map() {
        assert_eq!(postcode_area("E06000057", (399_700.0, 652_900.0)), "TD");
        assert_eq!(postcode_area("E06000057", (426_800.0, 587_900.0)), "NE");
        assert_eq!(postcode_area("E06000059", (369_000.0, 90_700.0)), "DT");
        assert_eq!(postcode_area("E06000059", (401_200.0, 100_100.0)), "BH");
        assert_eq!(postcode_area("E06000058", (408_500.0, 91_300.0)), "BH");
    }
}
