//! Record linkage: turns the staged records of every agency into one person id per
//! real person (`core.person`, `core.source_record`).
//!
//! standardise (`link.record`) → block (union of rules, counted before scoring) →
//! compare (levels per field, in SQL) → Fellegi–Sunter (u from random pairs, m by
//! EM sessions, the prior λ from deterministic rules) → score every candidate pair
//! (`link.pair`) → cluster accepted pairs into connected components with stable ids.

pub mod cluster;
pub mod evaluate;
pub mod family;
pub mod fellegi_sunter;
pub mod review;
pub mod standardise;

use std::time::Instant;

use duckdb::Connection;

use fellegi_sunter::{Model, Pattern};

/// A comparison: its name, how many levels it has, and the SQL giving the level of
/// pair `l`/`r` (−1 when either side is missing).
pub struct Comparison {
    pub name: &'static str,
    pub levels: usize,
    pub sql: &'static str,
}

/// The comparisons, highest level = strongest agreement.
pub const COMPARISONS: [Comparison; 7] = [
    Comparison {
        name: "given_name",
        levels: 4,
        sql: "CASE WHEN l.given IS NULL OR r.given IS NULL THEN -1
                   WHEN l.given_canonical = r.given_canonical THEN 3
                   WHEN jaro_winkler_similarity(l.given, r.given) >= 0.92 THEN 2
                   WHEN jaro_winkler_similarity(l.given, r.given) >= 0.80 THEN 1 ELSE 0 END",
    },
    Comparison {
        name: "family_name",
        levels: 4,
        sql: "CASE WHEN l.family IS NULL OR r.family IS NULL THEN -1
                   WHEN l.family = r.family THEN 3
                   WHEN jaro_winkler_similarity(l.family, r.family) >= 0.92
                        OR l.family_first IN (r.family_first, r.family_second)
                        OR l.family_second IN (r.family_first, r.family_second) THEN 2
                   WHEN jaro_winkler_similarity(l.family, r.family) >= 0.80 THEN 1 ELSE 0 END",
    },
    Comparison {
        name: "birth_date",
        levels: 4,
        sql: "CASE WHEN l.birth_date IS NULL OR r.birth_date IS NULL THEN -1
                   WHEN l.birth_date = r.birth_date THEN 3
                   WHEN (day(l.birth_date) = month(r.birth_date) AND month(l.birth_date) = day(r.birth_date)
                         AND year(l.birth_date) = year(r.birth_date))
                        OR abs(date_diff('day', l.birth_date, r.birth_date)) = 1 THEN 2
                   WHEN year(l.birth_date) = year(r.birth_date) THEN 1 ELSE 0 END",
    },
    Comparison {
        name: "postcode",
        levels: 3,
        sql: "CASE WHEN l.postcode IS NULL OR r.postcode IS NULL THEN -1
                   WHEN l.postcode = r.postcode THEN 2
                   WHEN l.postcode_sector = r.postcode_sector THEN 1 ELSE 0 END",
    },
    Comparison {
        name: "sex",
        levels: 2,
        sql: "CASE WHEN l.sex IS NULL OR r.sex IS NULL THEN -1 WHEN l.sex = r.sex THEN 1 ELSE 0 END",
    },
    Comparison {
        name: "nhs_number",
        levels: 2,
        sql: "CASE WHEN l.nhs IS NULL OR r.nhs IS NULL THEN -1 WHEN l.nhs = r.nhs THEN 1 ELSE 0 END",
    },
    Comparison {
        name: "ni_number",
        levels: 2,
        sql: "CASE WHEN l.ni IS NULL OR r.ni IS NULL THEN -1 WHEN l.ni = r.ni THEN 1 ELSE 0 END",
    },
];

/// A blocking rule: records are candidate pairs when all `keys` are equal (and not null).
/// Keys are SQL over one record, with `{s}` standing for the record's table alias.
pub struct BlockingRule {
    pub name: &'static str,
    pub keys: &'static [&'static str],
}

/// The default rules; their union gives the candidate pairs.
pub const BLOCKING_RULES: [BlockingRule; 4] = [
    BlockingRule {
        name: "birth date + family initial",
        keys: &["{s}.birth_date", "left({s}.family, 1)"],
    },
    BlockingRule {
        name: "given name + family name + birth year",
        keys: &["{s}.given_canonical", "{s}.family", "{s}.birth_year"],
    },
    BlockingRule {
        name: "NHS number",
        keys: &["{s}.nhs"],
    },
    BlockingRule {
        name: "postcode + given initial",
        keys: &["{s}.postcode", "left({s}.given, 1)"],
    },
];

/// Settings of a linkage run.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// Pairs at or above this match probability are the same person.
    pub accept_probability: f64,
    /// Pairs between this and `accept_probability` go to clerical review.
    pub review_probability: f64,
    /// A blocking rule generating more pairs than this is refused.
    pub max_pairs_per_rule: u64,
    pub em_iterations: usize,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            accept_probability: 0.95,
            review_probability: 0.5,
            max_pairs_per_rule: 50_000_000,
            em_iterations: 30,
        }
    }
}

/// What a linkage run did.
#[derive(Debug, Clone)]
pub struct LinkReport {
    pub records: usize,
    /// (rule name, pairs it generates).
    pub pairs_per_rule: Vec<(String, u64)>,
    pub candidate_pairs: u64,
    pub accepted_pairs: u64,
    pub review_pairs: u64,
    pub persons: u64,
    pub families: u64,
    pub model: Model,
    /// (stage, seconds).
    pub timings: Vec<(String, f64)>,
    /// (weight bucket lower bound, pairs), buckets 2 wide.
    pub weight_histogram: Vec<(i64, u64)>,
}

/// Why linkage could not run.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("nothing to link: load extracts with `zonewise ingest` first")]
    NoRecords,
    #[error(
        "blocking rule '{rule}' would generate {pairs} pairs, more than the limit of {limit}; tighten it by adding a key"
    )]
    TooManyPairs {
        rule: String,
        pairs: u64,
        limit: u64,
    },
    #[error("database error during linkage: {0}")]
    Database(#[from] duckdb::Error),
}

/// Runs the whole linkage and replaces `core.person` and `core.source_record`.
pub fn link(conn: &Connection, config: &LinkConfig) -> Result<LinkReport, LinkError> {
    let mut timings = Vec::new();
    let mut stage = Instant::now();
    let mut lap = |name: &str, stage: &mut Instant| {
        timings.push((name.to_string(), stage.elapsed().as_secs_f64()));
        *stage = Instant::now();
    };
    let records = standardise::build_records(conn)?;
    if records == 0 {
        return Err(LinkError::NoRecords);
    }
    lap("standardise", &mut stage);

    let mut pairs_per_rule = Vec::new();
    for rule in &BLOCKING_RULES {
        let keys = rule
            .keys
            .iter()
            .map(|k| on_side(k, "x"))
            .collect::<Vec<_>>()
            .join(", ");
        let not_null = rule
            .keys
            .iter()
            .map(|k| format!("{} IS NOT NULL", on_side(k, "x")))
            .collect::<Vec<_>>()
            .join(" AND ");
        let pairs: i64 = conn.query_row(
            &format!(
                "SELECT coalesce(sum(n * (n - 1) // 2), 0)::BIGINT FROM
                 (SELECT count(*)::BIGINT AS n FROM link.record x WHERE {not_null} GROUP BY {keys})"
            ),
            [],
            |row| row.get(0),
        )?;
        let pairs = pairs.max(0) as u64;
        if pairs > config.max_pairs_per_rule {
            return Err(LinkError::TooManyPairs {
                rule: rule.name.to_string(),
                pairs,
                limit: config.max_pairs_per_rule,
            });
        }
        pairs_per_rule.push((rule.name.to_string(), pairs));
    }
    let union = BLOCKING_RULES
        .iter()
        .map(|rule| {
            let on = rule
                .keys
                .iter()
                .map(|k| format!("{} = {}", on_side(k, "l"), on_side(k, "r")))
                .collect::<Vec<_>>()
                .join(" AND ");
            format!(
                "SELECT l.record_key AS l_key, r.record_key AS r_key FROM link.record l
                 JOIN link.record r ON {on} AND l.record_key < r.record_key"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ");
    let levels = COMPARISONS
        .iter()
        .map(|c| format!("({})::TINYINT AS {}", c.sql, c.name))
        .collect::<Vec<_>>()
        .join(", ");
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE link.pair AS
         SELECT c.l_key, c.r_key, {levels}
         FROM ({union}) c
         JOIN link.record l ON l.record_key = c.l_key
         JOIN link.record r ON r.record_key = c.r_key;"
    ))?;
    lap("block and compare", &mut stage);

    // u from random pairs: two deterministic samples of records, crossed.
    let modulus = (records / 1500).max(1);
    let random_patterns = patterns(
        conn,
        &format!(
            "SELECT {levels} FROM
             (SELECT * FROM link.record WHERE hash(record_key || 'u1') % {modulus} = 0) l,
             (SELECT * FROM link.record WHERE hash(record_key || 'u2') % {modulus} = 0) r
             WHERE l.record_key <> r.record_key"
        ),
    )?;
    let level_counts: Vec<usize> = COMPARISONS.iter().map(|c| c.levels).collect();
    let u = fellegi_sunter::level_frequencies(&random_patterns, &level_counts);
    let names: Vec<&str> = COMPARISONS.iter().map(|c| c.name).collect();
    let model = train(conn, &names, u, records, config)?;
    lap("train (EM)", &mut stage);

    conn.execute_batch(&format!(
        "ALTER TABLE link.pair ADD COLUMN match_weight DOUBLE;
         UPDATE link.pair SET match_weight = {};
         ALTER TABLE link.pair ADD COLUMN match_probability DOUBLE;
         UPDATE link.pair SET match_probability = 1 / (1 + pow(2, -match_weight));",
        weight_sql(&model)
    ))?;
    lap("score", &mut stage);

    let persons = cluster::cluster(conn, config.accept_probability)?;
    lap("cluster", &mut stage);
    let families = family::group_families(conn)?;
    lap("families", &mut stage);

    let count = |sql: &str| -> Result<u64, duckdb::Error> {
        conn.query_row(sql, [], |row| row.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
    };
    let candidate_pairs = count("SELECT count(*) FROM link.pair")?;
    let accepted_pairs = count(&format!(
        "SELECT count(*) FROM link.pair WHERE match_probability >= {}",
        config.accept_probability
    ))?;
    let review_pairs = count(&format!(
        "SELECT count(*) FROM ({})",
        review::pending_sql(config.review_probability, config.accept_probability)
    ))?;
    let weight_histogram = conn
        .prepare(
            "SELECT (floor(match_weight / 2) * 2)::BIGINT AS bucket, count(*)::BIGINT
             FROM link.pair GROUP BY bucket ORDER BY bucket",
        )?
        .query_map([], |row| {
            Ok((row.get(0)?, row.get::<_, i64>(1)?.max(0) as u64))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    conn.execute(
        "INSERT INTO app.link_run
         SELECT coalesce(max(run_id), 0) + 1, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ? FROM app.link_run",
        duckdb::params![
            records as i64,
            candidate_pairs as i64,
            accepted_pairs as i64,
            review_pairs as i64,
            persons as i64,
            config.accept_probability,
            config.review_probability,
            serde_json::to_string(&model).unwrap_or_default(),
        ],
    )?;
    Ok(LinkReport {
        records,
        pairs_per_rule,
        candidate_pairs,
        accepted_pairs,
        review_pairs,
        persons,
        families,
        model,
        timings,
        weight_histogram,
    })
}

/// A blocking key for one side of a pair (`{s}.family` → `l.family`).
fn on_side(key: &str, side: &str) -> String {
    key.replace("{s}", side)
}

/// EM training sessions: candidate pairs that agree exactly on `fixed`, with those
/// comparisons left out of the estimate (they are biased by the selection). Each
/// session estimates m for the other comparisons, as Splink does.
const SESSIONS: [(&str, &[&str]); 2] = [
    ("birth_date = 3", &["birth_date"]),
    (
        "given_name = 3 AND family_name = 3",
        &["given_name", "family_name"],
    ),
];

/// A high-precision deterministic rule; its pair count sets the prior.
const DETERMINISTIC: &str =
    "nhs_number = 1 OR (given_name = 3 AND family_name = 3 AND birth_date = 3 AND postcode = 2)";

/// Share of true matches the deterministic rule is assumed to find, to scale the prior.
const DETERMINISTIC_RECALL: f64 = 0.7;

/// Trains m per comparison by EM sessions and sets λ as the prior over all record pairs.
fn train(
    conn: &Connection,
    names: &[&str],
    u: Vec<Vec<f64>>,
    records: usize,
    config: &LinkConfig,
) -> Result<Model, duckdb::Error> {
    let level_counts: Vec<usize> = COMPARISONS.iter().map(|c| c.levels).collect();
    let mut m_sum: Vec<Vec<f64>> = level_counts.iter().map(|&n| vec![0.0; n]).collect();
    let mut sessions_per_comparison = vec![0usize; COMPARISONS.len()];
    for (filter, fixed) in SESSIONS {
        let mut session_patterns = patterns(
            conn,
            &format!("SELECT * EXCLUDE (l_key, r_key) FROM link.pair WHERE {filter}"),
        )?;
        let fixed_index: Vec<usize> = fixed
            .iter()
            .filter_map(|f| names.iter().position(|n| n == f))
            .collect();
        for pattern in &mut session_patterns {
            for &k in &fixed_index {
                pattern.levels[k] = fellegi_sunter::MISSING;
            }
        }
        let initial_m = level_counts
            .iter()
            .map(|&n| {
                let mut m = vec![0.1 / (n - 1) as f64; n];
                m[n - 1] = 0.9;
                m
            })
            .collect();
        let session = fellegi_sunter::estimate(
            &session_patterns,
            names,
            u.clone(),
            initial_m,
            0.5,
            config.em_iterations,
        );
        for (k, comparison) in session.comparisons.iter().enumerate() {
            if fixed_index.contains(&k) {
                continue;
            }
            for (level, m) in comparison.m.iter().enumerate() {
                m_sum[k][level] += m;
            }
            sessions_per_comparison[k] += 1;
        }
    }
    let comparisons = names
        .iter()
        .zip(u)
        .enumerate()
        .map(|(k, (name, u))| fellegi_sunter::ComparisonParams {
            name: name.to_string(),
            m: m_sum[k]
                .iter()
                .map(|m| m / sessions_per_comparison[k].max(1) as f64)
                .collect(),
            u,
        })
        .collect();
    let sure: i64 = conn.query_row(
        &format!("SELECT count(*) FROM link.pair WHERE {DETERMINISTIC}"),
        [],
        |row| row.get(0),
    )?;
    let all_pairs = (records as f64) * (records as f64 - 1.0) / 2.0;
    let lambda = (sure as f64 / DETERMINISTIC_RECALL / all_pairs.max(1.0)).clamp(1e-12, 0.5);
    Ok(Model {
        lambda,
        comparisons,
    })
}

/// The SQL expression of a pair's match weight under `model`.
fn weight_sql(model: &Model) -> String {
    let prior = (model.lambda / (1.0 - model.lambda)).log2();
    let terms = COMPARISONS
        .iter()
        .zip(&model.comparisons)
        .map(|(comparison, params)| {
            let cases = (0..comparison.levels)
                .map(|level| {
                    format!(
                        "WHEN {level} THEN {:.8}",
                        (params.m[level].max(1e-6) / params.u[level].max(1e-6)).log2()
                    )
                })
                .collect::<Vec<_>>()
                .join(" ");
            format!("CASE {} {cases} ELSE 0 END", comparison.name)
        })
        .collect::<Vec<_>>()
        .join(" + ");
    format!("{prior:.8} + {terms}")
}

/// Agreement patterns and their counts from a query returning one level column per comparison.
fn patterns(conn: &Connection, levels_query: &str) -> Result<Vec<Pattern>, duckdb::Error> {
    let columns = COMPARISONS
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ");
    let mut statement = conn.prepare(&format!(
        "SELECT {columns}, count(*)::DOUBLE FROM ({levels_query}) GROUP BY ALL ORDER BY ALL"
    ))?;
    let n = COMPARISONS.len();
    let rows = statement.query_map([], |row| {
        let levels = (0..n)
            .map(|i| row.get::<_, i8>(i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pattern {
            levels,
            count: row.get(n)?,
        })
    })?;
    rows.collect()
}
