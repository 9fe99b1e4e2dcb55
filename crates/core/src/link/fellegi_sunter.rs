//! The Fellegi–Sunter model: for each comparison, the probability of each
//! agreement level among true matches (m) and among non-matches (u); a pair's
//! match weight is log2 of the prior odds plus Σ log2(m/u) over its levels.
//!
//! u comes from random pairs (almost all non-matches); m and the prior λ are
//! estimated by expectation maximisation over the blocked candidate pairs, which
//! only ever sees counts of agreement patterns, so it is cheap at any scale.

use serde::{Deserialize, Serialize};

/// Level value meaning "one side is missing": the comparison adds no evidence.
pub const MISSING: i8 = -1;

/// Parameters of one comparison (one per field compared).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonParams {
    pub name: String,
    /// P(level | match), indexed by level.
    pub m: Vec<f64>,
    /// P(level | non-match), indexed by level.
    pub u: Vec<f64>,
}

/// A trained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Prior probability that a candidate pair is a match.
    pub lambda: f64,
    pub comparisons: Vec<ComparisonParams>,
}

/// One agreement pattern (a level per comparison) and how many pairs show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub levels: Vec<i8>,
    pub count: f64,
}

/// Probabilities are kept away from 0 and 1 so that weights stay finite.
const FLOOR: f64 = 1e-6;

impl Model {
    /// Match weight (log2 odds) of a pattern.
    pub fn weight(&self, levels: &[i8]) -> f64 {
        let prior = (self.lambda / (1.0 - self.lambda)).log2();
        prior
            + self
                .comparisons
                .iter()
                .zip(levels)
                .filter(|(_, level)| **level != MISSING)
                .map(|(c, &level)| {
                    let level = level as usize;
                    (c.m[level].max(FLOOR) / c.u[level].max(FLOOR)).log2()
                })
                .sum::<f64>()
    }

    /// Posterior probability of a match from its weight.
    pub fn probability(weight: f64) -> f64 {
        let odds = weight.exp2();
        odds / (1.0 + odds)
    }
}

/// Level frequencies among `patterns`, per comparison: the u estimate when the
/// patterns come from random pairs.
pub fn level_frequencies(patterns: &[Pattern], levels_per_comparison: &[usize]) -> Vec<Vec<f64>> {
    levels_per_comparison
        .iter()
        .enumerate()
        .map(|(k, &levels)| {
            let mut counts = vec![0.0; levels];
            for pattern in patterns {
                let level = pattern.levels[k];
                if level != MISSING {
                    counts[level as usize] += pattern.count;
                }
            }
            normalise(counts)
        })
        .collect()
}

fn normalise(counts: Vec<f64>) -> Vec<f64> {
    let total: f64 = counts.iter().sum();
    // A smoothing count keeps every level possible.
    let smoothed: Vec<f64> = counts.iter().map(|c| c + 0.5).collect();
    let total = total + 0.5 * counts.len() as f64;
    smoothed.into_iter().map(|c| c / total).collect()
}

/// Estimates m and λ by EM with u fixed; `initial_m` starts the iteration.
pub fn estimate(
    patterns: &[Pattern],
    names: &[&str],
    u: Vec<Vec<f64>>,
    initial_m: Vec<Vec<f64>>,
    initial_lambda: f64,
    iterations: usize,
) -> Model {
    let mut model = Model {
        lambda: initial_lambda,
        comparisons: names
            .iter()
            .zip(u)
            .zip(initial_m)
            .map(|((name, u), m)| ComparisonParams {
                name: name.to_string(),
                m,
                u,
            })
            .collect(),
    };
    for _ in 0..iterations {
        // E step: posterior match probability of each pattern.
        let posteriors: Vec<f64> = patterns
            .iter()
            .map(|p| Model::probability(model.weight(&p.levels)))
            .collect();
        // M step: λ and m from the expected matches.
        let total: f64 = patterns.iter().map(|p| p.count).sum();
        let matches: f64 = patterns
            .iter()
            .zip(&posteriors)
            .map(|(p, q)| p.count * q)
            .sum();
        model.lambda = (matches / total.max(1.0)).clamp(FLOOR, 1.0 - FLOOR);
        for (k, comparison) in model.comparisons.iter_mut().enumerate() {
            let mut counts = vec![0.0; comparison.m.len()];
            for (pattern, q) in patterns.iter().zip(&posteriors) {
                let level = pattern.levels[k];
                if level != MISSING {
                    counts[level as usize] += pattern.count * q;
                }
            }
            comparison.m = normalise(counts);
        }
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeMap;

    /// Draws pairs from known m, u and λ, and checks EM gets them back.
    #[test]
    fn em_recovers_known_parameters() {
        let true_m = [vec![0.05, 0.15, 0.8], vec![0.1, 0.9], vec![0.02, 0.08, 0.9]];
        let true_u = [
            vec![0.9, 0.08, 0.02],
            vec![0.5, 0.5],
            vec![0.95, 0.04, 0.01],
        ];
        let true_lambda = 0.2;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
        let draw = |rng: &mut rand_chacha::ChaCha8Rng, probabilities: &[f64]| {
            let mut target = rng.random::<f64>();
            for (level, p) in probabilities.iter().enumerate() {
                if target < *p {
                    return level as i8;
                }
                target -= p;
            }
            (probabilities.len() - 1) as i8
        };
        let mut counts: BTreeMap<Vec<i8>, f64> = BTreeMap::new();
        for _ in 0..200_000 {
            let is_match = rng.random::<f64>() < true_lambda;
            let levels: Vec<i8> = (0..3)
                .map(|k| draw(&mut rng, if is_match { &true_m[k] } else { &true_u[k] }))
                .collect();
            *counts.entry(levels).or_default() += 1.0;
        }
        let patterns: Vec<Pattern> = counts
            .into_iter()
            .map(|(levels, count)| Pattern { levels, count })
            .collect();
        let initial_m = vec![vec![0.1, 0.2, 0.7], vec![0.3, 0.7], vec![0.1, 0.2, 0.7]];
        let model = estimate(
            &patterns,
            &["a", "b", "c"],
            true_u.to_vec(),
            initial_m,
            0.5,
            200,
        );
        assert!(
            (model.lambda - true_lambda).abs() < 0.01,
            "λ {}",
            model.lambda
        );
        for (k, comparison) in model.comparisons.iter().enumerate() {
            for (level, m) in comparison.m.iter().enumerate() {
                assert!(
                    (m - true_m[k][level]).abs() < 0.02,
                    "m[{k}][{level}] = {m}, expected {}",
                    true_m[k][level]
                );
            }
        }
    }

    #[test]
    fn missing_levels_add_no_evidence() {
        let model = Model {
            lambda: 0.5,
            comparisons: vec![ComparisonParams {
                name: "x".into(),
                m: vec![0.1, 0.9],
                u: vec![0.9, 0.1],
            }],
        };
        assert_eq!(model.weight(&[MISSING]), 0.0);
        assert!(model.weight(&[1]) > 3.0);
        assert!(model.weight(&[0]) < -3.0);
    }
}
