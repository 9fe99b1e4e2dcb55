//! Figures for the Linkage view: the latest run, how match weights spread, and
//! how far each agency's people are known to each other agency.

use duckdb::Connection;

use crate::store::{self, StoreError};

/// The latest linkage run, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRunSummary {
    pub finished_at: String,
    pub records: i64,
    pub candidate_pairs: i64,
    pub accepted_pairs: i64,
    pub review_pairs: i64,
    pub persons: i64,
    pub accept_probability: f64,
    pub review_probability: f64,
}

/// Candidate pairs whose match weight falls in `[weight, weight + 0.25)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightBucket {
    pub weight: f64,
    pub pairs: i64,
    /// Sum of the pairs' match probabilities: the matches the model expects among them.
    pub expected_matches: f64,
}

/// Width of a [`WeightBucket`].
pub const BUCKET_WIDTH: f64 = 0.25;

/// The model's own estimate of what accepting every pair at or above `weight` gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThresholdEstimate {
    pub accepted_pairs: i64,
    /// Expected share of accepted pairs that are true matches.
    pub precision: f64,
    /// Expected share of the true matches among candidate pairs that are accepted.
    pub recall: f64,
}

/// Precision and recall at a weight threshold, as the model expects them: a pair of
/// probability p is a true match p of the time. Only as good as the model's
/// calibration, and blind to matches that blocking never paired.
pub fn estimate_at(buckets: &[WeightBucket], weight: f64) -> ThresholdEstimate {
    let total: f64 = buckets.iter().map(|b| b.expected_matches).sum();
    let (pairs, expected) = buckets
        .iter()
        .filter(|b| b.weight + BUCKET_WIDTH / 2.0 >= weight)
        .fold((0i64, 0.0), |(n, e), b| {
            (n + b.pairs, e + b.expected_matches)
        });
    ThresholdEstimate {
        accepted_pairs: pairs,
        precision: if pairs > 0 {
            expected / pairs as f64
        } else {
            1.0
        },
        recall: if total > 0.0 { expected / total } else { 0.0 },
    }
}

/// What the Linkage view shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkageFigures {
    pub run: Option<LinkRunSummary>,
    /// Candidate pairs by match weight, in buckets a quarter wide.
    pub weight_buckets: Vec<WeightBucket>,
    /// Sources in display order.
    pub sources: Vec<String>,
    /// overlap[a][b]: share of source a's people who also have a record in source b.
    pub overlap: Vec<Vec<f64>>,
}

/// Reads the Linkage figures; empty when linkage has not run.
pub fn read_linkage(conn: &Connection) -> Result<LinkageFigures, StoreError> {
    let tables = store::table_names(conn)?;
    let run = conn
        .query_row(
            "SELECT strftime(finished_at, '%d/%m/%Y %H:%M'), records, candidate_pairs, accepted_pairs,
                    review_pairs, persons, accept_probability, review_probability
             FROM app.link_run ORDER BY run_id DESC LIMIT 1",
            [],
            |row| {
                Ok(LinkRunSummary {
                    finished_at: row.get(0)?,
                    records: row.get(1)?,
                    candidate_pairs: row.get(2)?,
                    accepted_pairs: row.get(3)?,
                    review_pairs: row.get(4)?,
                    persons: row.get(5)?,
                    accept_probability: row.get(6)?,
                    review_probability: row.get(7)?,
                })
            },
        )
        .map(Some)
        .or_else(|error| match error {
            duckdb::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })?;
    let has = |table: &str| tables.iter().any(|t| t == table);
    if run.is_none() || !has("link.pair") || !has("core.source_record") {
        return Ok(LinkageFigures::default());
    }
    let weight_buckets = conn
        .prepare(&format!(
            "SELECT floor(match_weight / {BUCKET_WIDTH}) * {BUCKET_WIDTH} AS bucket,
                    count(*)::BIGINT, sum(match_probability)
             FROM link.pair GROUP BY bucket ORDER BY bucket"
        ))?
        .query_map([], |row| {
            Ok(WeightBucket {
                weight: row.get(0)?,
                pairs: row.get(1)?,
                expected_matches: row.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let sources: Vec<String> = conn
        .prepare("SELECT DISTINCT source FROM core.source_record ORDER BY source")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut overlap = vec![vec![0.0; sources.len()]; sources.len()];
    let mut statement = conn.prepare(
        "WITH people AS (SELECT DISTINCT source, person_id FROM core.source_record)
         SELECT a.source, b.source,
                count(DISTINCT b.person_id)::DOUBLE
                  / (SELECT count(*) FROM people p WHERE p.source = a.source)
         FROM people a JOIN people b ON a.person_id = b.person_id
         GROUP BY a.source, b.source",
    )?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, f64>(2)?,
        ))
    })?;
    for row in rows {
        let (a, b, share) = row?;
        if let (Some(i), Some(j)) = (
            sources.iter().position(|s| *s == a),
            sources.iter().position(|s| *s == b),
        ) {
            overlap[i][j] = share;
        }
    }
    Ok(LinkageFigures {
        run,
        weight_buckets,
        sources,
        overlap,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_estimates_follow_the_probabilities() {
        let buckets = [
            WeightBucket {
                weight: -5.0,
                pairs: 100,
                expected_matches: 3.0,
            },
            WeightBucket {
                weight: 0.0,
                pairs: 10,
                expected_matches: 5.0,
            },
            WeightBucket {
                weight: 10.0,
                pairs: 50,
                expected_matches: 49.5,
            },
        ];
        let high = estimate_at(&buckets, 5.0);
        assert_eq!(high.accepted_pairs, 50);
        assert!((high.precision - 0.99).abs() < 1e-12);
        assert!((high.recall - 49.5 / 57.5).abs() < 1e-12);
        let low = estimate_at(&buckets, -10.0);
        assert_eq!(low.accepted_pairs, 160);
        assert!((low.recall - 1.0).abs() < 1e-12);
        assert!((low.precision - 57.5 / 160.0).abs() < 1e-12);
        let none = estimate_at(&buckets, 20.0);
        assert_eq!(none.accepted_pairs, 0);
        assert_eq!(none.recall, 0.0);
    }
}
