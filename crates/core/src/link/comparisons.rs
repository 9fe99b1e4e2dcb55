//! The comparisons: which fields of two records are compared, at which levels of
//! agreement, and which levels carry a term-frequency adjustment.
//!
//! Levels are computed in SQL over a pair of `link.record` rows aliased `l` and
//! `r`; the highest level is the strongest agreement and −1 means a side is
//! missing (no evidence either way).

/// A comparison: its name, its levels, and the SQL giving the level of pair `l`/`r`.
pub struct Comparison {
    pub name: &'static str,
    /// What each level means, indexed by level, for people reading an explanation.
    pub labels: &'static [&'static str],
    pub sql: &'static str,
    /// The `link.record` column holding the term frequency of the compared value,
    /// when an exact match on a common value ("SMITH") should count for less than
    /// one on a rare value. Applies to the top level only.
    pub term_frequency: Option<&'static str>,
}

impl Comparison {
    pub fn levels(&self) -> usize {
        self.labels.len()
    }

    /// The column of `link.pair` carrying this comparison's term frequency.
    pub fn tf_column(&self) -> Option<String> {
        self.term_frequency.map(|_| format!("tf_{}", self.name))
    }
}

/// The smallest term frequency used: a value seen once in a small extract is not
/// proof of identity, so a rare name's weight is capped at log2(m / TF_FLOOR).
pub const TF_FLOOR: f64 = 1e-4;

/// Birth dates at least this many days (15 years) apart are "a generation apart":
/// the birth date comparison's lowest level, and what clustering never joins into
/// one person without an NHS number or a reviewer saying so (`cluster`).
pub const GENERATION_DAYS: i64 = 5479;

/// The comparisons, in the order of `link.pair`'s level columns and of the model.
pub const COMPARISONS: [Comparison; 7] = [
    Comparison {
        name: "given_name",
        labels: &[
            "different",
            "similar (Jaro–Winkler ≥ 0.80)",
            "close (Jaro–Winkler ≥ 0.92)",
            "same (or nickname)",
        ],
        sql: "CASE WHEN l.given IS NULL OR r.given IS NULL THEN -1
                   WHEN l.given_canonical = r.given_canonical THEN 3
                   WHEN jaro_winkler_similarity(l.given, r.given) >= 0.92 THEN 2
                   WHEN jaro_winkler_similarity(l.given, r.given) >= 0.80 THEN 1 ELSE 0 END",
        term_frequency: Some("tf_given"),
    },
    Comparison {
        name: "family_name",
        labels: &[
            "different",
            "similar (Jaro–Winkler ≥ 0.80)",
            "close, or one part of a double-barrelled name",
            "same",
        ],
        sql: "CASE WHEN l.family IS NULL OR r.family IS NULL THEN -1
                   WHEN l.family = r.family THEN 3
                   WHEN jaro_winkler_similarity(l.family, r.family) >= 0.92
                        OR l.family_first IN (r.family_first, r.family_second)
                        OR l.family_second IN (r.family_first, r.family_second) THEN 2
                   WHEN jaro_winkler_similarity(l.family, r.family) >= 0.80 THEN 1 ELSE 0 END",
        term_frequency: Some("tf_family"),
    },
    Comparison {
        name: "birth_date",
        // Two people a generation apart (15 years or more, `GENERATION_DAYS`) who
        // share a surname, a postcode and a similar given name are a parent and
        // child, not one person: the lowest
        // level lets EM learn how rarely one person's records are that far apart
        // (a year typed wrong) against how often strangers are, instead of lumping
        // a mother and daughter in with strangers born some years apart.
        labels: &[
            "15 years or more apart (a generation)",
            "more than a year and under 15 years apart",
            "within a year",
            "day and month swapped, or one day apart",
            "same",
        ],
        sql: "CASE WHEN l.birth_date IS NULL OR r.birth_date IS NULL THEN -1
                   WHEN l.birth_date = r.birth_date THEN 4
                   WHEN (day(l.birth_date) = month(r.birth_date) AND month(l.birth_date) = day(r.birth_date)
                         AND year(l.birth_date) = year(r.birth_date))
                        OR abs(date_diff('day', l.birth_date, r.birth_date)) = 1 THEN 3
                   WHEN abs(date_diff('day', l.birth_date, r.birth_date)) <= 365 THEN 2
                   WHEN abs(date_diff('day', l.birth_date, r.birth_date)) >= 5479 THEN 0
                   ELSE 1 END",
        term_frequency: None,
    },
    Comparison {
        name: "postcode",
        labels: &["different", "same sector", "same"],
        sql: "CASE WHEN l.postcode IS NULL OR r.postcode IS NULL THEN -1
                   WHEN l.postcode = r.postcode THEN 2
                   WHEN l.postcode_sector = r.postcode_sector THEN 1 ELSE 0 END",
        term_frequency: Some("tf_postcode"),
    },
    Comparison {
        name: "sex",
        labels: &["different", "same"],
        sql: "CASE WHEN l.sex IS NULL OR r.sex IS NULL THEN -1 WHEN l.sex = r.sex THEN 1 ELSE 0 END",
        term_frequency: None,
    },
    Comparison {
        name: "nhs_number",
        labels: &["different", "same"],
        sql: "CASE WHEN l.nhs IS NULL OR r.nhs IS NULL THEN -1 WHEN l.nhs = r.nhs THEN 1 ELSE 0 END",
        term_frequency: None,
    },
    Comparison {
        name: "ni_number",
        labels: &["different", "same"],
        sql: "CASE WHEN l.ni IS NULL OR r.ni IS NULL THEN -1 WHEN l.ni = r.ni THEN 1 ELSE 0 END",
        term_frequency: None,
    },
];

/// The comparisons' names, in model order.
pub fn names() -> Vec<&'static str> {
    COMPARISONS.iter().map(|c| c.name).collect()
}

/// Levels per comparison, in model order.
pub fn level_counts() -> Vec<usize> {
    COMPARISONS.iter().map(Comparison::levels).collect()
}

/// The SELECT list computing every comparison's level (and the term frequencies
/// the scoring needs) for a pair `l`/`r`.
pub fn select_list() -> String {
    COMPARISONS
        .iter()
        .map(|c| {
            let level = format!("({})::TINYINT AS {}", c.sql, c.name);
            match (c.term_frequency, c.tf_column()) {
                (Some(tf), Some(column)) => format!("{level}, l.{tf} AS {column}"),
                _ => level,
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
