//! Training the Fellegi–Sunter model on the data being linked: u from random
//! pairs, m by EM sessions over the candidate pairs, λ from a deterministic rule.

use duckdb::Connection;

use super::blocking::{self, BlockingRule};
use super::comparisons::{self, COMPARISONS};
use super::fellegi_sunter::{self, ComparisonParams, Model, Pattern};

/// Records sampled on each side of the random pairs that estimate u: about
/// 1,500 × 1,500 pairs, plenty for level frequencies and cheap at any scale.
const U_SAMPLE_RECORDS: usize = 1500;

/// An EM training session: all pairs of records that agree on its blocking keys.
struct Session {
    rule: BlockingRule,
    /// Comparisons the keys decide, left out of the session's estimate.
    fixed: &'static [&'static str],
    /// Comparisons the session's pairs estimate with a bias, used only when no
    /// other session estimates them.
    biased: &'static [&'static str],
}

/// EM training sessions, as Splink runs them: all pairs of records that agree on
/// a session's blocking keys, drawn from `link.record` itself and not from the
/// candidate pairs (whose other blocking rules would bias the estimate: pairs
/// blocked on "same name and birth year" make a shared birth year look like
/// evidence of a match). The comparisons a session blocks on are left out of its
/// estimate, and so are those its keys decide (a given name all but fixes sex, so
/// same-name strangers agree on sex far more often than u says); each session
/// estimates m for the others, and a comparison's m is the average over the
/// sessions that estimate it (sessions without pairs estimate nothing).
///
/// "Same given and family name" also brings together a father and his namesake
/// son at one address, whom every comparison but the birth date calls one person:
/// EM there learns "a generation apart" as a trait of matches. The birth date's m
/// comes from the session on NHS numbers instead, whose pairs are one person, and
/// from the names session only where no records carry an NHS number.
const SESSIONS: [Session; 3] = [
    Session {
        rule: BlockingRule::fixed("EM session: same birth date", &["{s}.birth_date"]),
        fixed: &["birth_date"],
        biased: &[],
    },
    Session {
        rule: BlockingRule::fixed(
            "EM session: same given and family name",
            &["{s}.given_canonical", "{s}.family"],
        ),
        fixed: &["given_name", "family_name", "sex"],
        biased: &["birth_date"],
    },
    Session {
        rule: BlockingRule::fixed("EM session: same NHS number", &["{s}.nhs"]),
        fixed: &["nhs_number"],
        biased: &[],
    },
];

/// At most about this many pairs per EM session: beyond it the session's left-hand
/// records are sampled, which keeps its agreement patterns unbiased.
const MAX_SESSION_PAIRS: u64 = 3_000_000;

/// A high-precision deterministic rule, as blocking rules whose union it is: the
/// same NHS number, or the same names, birth date and postcode. Its pair count sets
/// the prior.
const DETERMINISTIC: [BlockingRule; 2] = [
    BlockingRule::fixed("prior: same NHS number", &["{s}.nhs"]),
    BlockingRule::fixed(
        "prior: same names, birth date and postcode",
        &[
            "{s}.given_canonical",
            "{s}.family",
            "{s}.birth_date",
            "{s}.postcode",
        ],
    ),
];

/// Share of true matches the deterministic rule is assumed to find, to scale the prior.
const DETERMINISTIC_RECALL: f64 = 0.7;

/// Trains a model on the `records` records of `link.record`: u from random pairs,
/// m from EM sessions, λ from the deterministic rule (counting only pairs across
/// sources when only those will be scored).
pub fn train(
    conn: &Connection,
    records: usize,
    iterations: usize,
    across_sources_only: bool,
) -> Result<Model, duckdb::Error> {
    let u = estimate_u(conn, records)?;
    let sure: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM ({})",
            blocking::candidate_pairs_sql(&DETERMINISTIC, across_sources_only, "1 AS pair")
        ),
        [],
        |row| row.get(0),
    )?;
    let all_pairs = (records as f64) * (records as f64 - 1.0) / 2.0;
    let lambda = (sure as f64 / DETERMINISTIC_RECALL / all_pairs.max(1.0)).clamp(1e-12, 0.5);
    let names = comparisons::names();
    let level_counts = comparisons::level_counts();
    let mut m_sum: Vec<Vec<f64>> = level_counts.iter().map(|&n| vec![0.0; n]).collect();
    let mut sessions_per_comparison = vec![0usize; COMPARISONS.len()];
    // The biased sessions' estimates, per comparison, for where no other session has one.
    let mut fallback_sum: Vec<Vec<f64>> = level_counts.iter().map(|&n| vec![0.0; n]).collect();
    let mut fallback_sessions = vec![0usize; COMPARISONS.len()];
    let index_of = |list: &[&str]| -> Vec<usize> {
        list.iter()
            .filter_map(|f| names.iter().position(|n| n == f))
            .collect()
    };
    for session in &SESSIONS {
        let rule = &session.rule;
        let session_pairs = rule.count_pairs(conn)?;
        if session_pairs == 0 {
            continue;
        }
        let modulus = session_pairs.div_ceil(MAX_SESSION_PAIRS).max(1);
        // EM starts from the share of matches the prior expects among the session's
        // pairs: in a large county same-name pairs are mostly strangers, and a start
        // at one half lets EM settle on some other split of them (same sex, say).
        let initial_lambda =
            (lambda * all_pairs / (session_pairs as f64).max(1.0)).clamp(1e-4, 0.5);
        let mut session_patterns = patterns(
            conn,
            &format!(
                "SELECT {} FROM link.record l JOIN link.record r
                 ON {} AND l.record_key < r.record_key
                 WHERE hash(l.record_key || 'em') % {modulus} = 0",
                comparisons::select_list(),
                rule.join_condition()
            ),
        )?;
        let fixed_index = index_of(session.fixed);
        let biased_index = index_of(session.biased);
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
        let estimated = fellegi_sunter::estimate(
            &session_patterns,
            &names,
            u.clone(),
            initial_m,
            initial_lambda,
            iterations,
        );
        for (k, comparison) in estimated.comparisons.iter().enumerate() {
            if fixed_index.contains(&k) {
                continue;
            }
            let (sum, count) = if biased_index.contains(&k) {
                (&mut fallback_sum[k], &mut fallback_sessions[k])
            } else {
                (&mut m_sum[k], &mut sessions_per_comparison[k])
            };
            for (level, m) in comparison.m.iter().enumerate() {
                sum[level] += m;
            }
            *count += 1;
        }
    }
    for (k, &levels) in level_counts.iter().enumerate() {
        if sessions_per_comparison[k] == 0 {
            m_sum[k] = std::mem::take(&mut fallback_sum[k]);
            sessions_per_comparison[k] = fallback_sessions[k];
        }
        if sessions_per_comparison[k] == 0 {
            // No pairs to learn from: m stays at EM's starting guess.
            m_sum[k] = vec![0.1 / (levels - 1) as f64; levels];
            m_sum[k][levels - 1] = 0.9;
            sessions_per_comparison[k] = 1;
        }
    }
    let comparisons = names
        .iter()
        .zip(u)
        .enumerate()
        .map(|(k, (name, u))| ComparisonParams {
            name: name.to_string(),
            m: m_sum[k]
                .iter()
                .map(|m| m / sessions_per_comparison[k].max(1) as f64)
                .collect(),
            u,
        })
        .collect();
    Ok(Model {
        lambda,
        comparisons,
    })
}

/// u per comparison: level frequencies among pairs of two deterministic samples of records.
fn estimate_u(conn: &Connection, records: usize) -> Result<Vec<Vec<f64>>, duckdb::Error> {
    let modulus = (records / U_SAMPLE_RECORDS).max(1);
    let random_patterns = patterns(
        conn,
        &format!(
            "SELECT {} FROM
             (SELECT * FROM link.record WHERE hash(record_key || 'u1') % {modulus} = 0) l,
             (SELECT * FROM link.record WHERE hash(record_key || 'u2') % {modulus} = 0) r
             WHERE l.record_key <> r.record_key",
            comparisons::select_list()
        ),
    )?;
    Ok(fellegi_sunter::level_frequencies(
        &random_patterns,
        &comparisons::level_counts(),
    ))
}

/// Agreement patterns and their counts from a query returning one level column per comparison.
fn patterns(conn: &Connection, levels_query: &str) -> Result<Vec<Pattern>, duckdb::Error> {
    let columns = comparisons::names().join(", ");
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
