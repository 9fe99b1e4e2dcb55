//! Choosing and fitting: candidates of both kinds (logistic regression at six
//! penalties, trees at three depths) are fitted on three quarters of the
//! training date's families and compared by average precision on the other
//! quarter; the best of each kind is then refitted on the whole training date.
//! The held-out date is never used to choose.
//!
//! Why not a temporal validation split: the only earlier reference date with
//! outcomes is the training date itself (a synthetic county's outcomes are drawn
//! at two dates), so validation splits the training date by family instead. A
//! family's children stay on one side, so siblings do not leak between them.

use ndarray::{Array2, Axis};

use super::ModelError;
use super::file::{Candidate, Estimator, Selection};
use super::logistic::Logistic;
use super::metrics;
use super::trees::Tree;

/// L2 penalties tried for logistic regression, per training child: the log loss
/// is summed over children, so the same strength needs an α that grows with the
/// county (α = this × children fitted on).
const PENALTIES_PER_CHILD: [f64; 6] = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3];

/// Depths tried for the tree.
const DEPTHS: [usize; 3] = [3, 5, 7];

/// How many candidates are compared.
pub const CANDIDATES: usize = PENALTIES_PER_CHILD.len() + DEPTHS.len();

/// Smallest leaf: 1% of the training children's weight, at least 20.
fn min_leaf_rows(children: usize) -> usize {
    (children / 100).max(20)
}

/// What the comparison found, and the best settings of each kind.
pub struct Choice {
    pub selection: Selection,
    /// The best logistic regression's α per training child.
    pub best_penalty_per_child: f64,
    pub best_depth: usize,
    /// True when the tree beat logistic regression on validation.
    pub tree_chosen: bool,
}

/// True for the families (about a quarter) held back for validation: a fixed
/// hash of the family id, so the split is the same on every run.
fn in_validation(family_id: &str) -> bool {
    // FNV-1a: small, stable across platforms and Rust versions.
    let hash = family_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash % 4 == 0
}

/// Fits every candidate on the fitting families and compares them on the rest.
pub fn choose(
    inputs: &Array2<f64>,
    labels: &[bool],
    family_ids: &[String],
) -> Result<Choice, ModelError> {
    let (validation, fitting): (Vec<usize>, Vec<usize>) =
        (0..labels.len()).partition(|&i| in_validation(&family_ids[i]));
    let pick = |rows: &[usize]| -> (Array2<f64>, Vec<bool>) {
        (
            inputs.select(Axis(0), rows),
            rows.iter().map(|&i| labels[i]).collect(),
        )
    };
    let (fit_inputs, fit_labels) = pick(&fitting);
    let (check_inputs, check_labels) = pick(&validation);
    if !fit_labels.iter().any(|&l| l) || !check_labels.iter().any(|&l| l) {
        return Err(ModelError::TooFewPositives);
    }
    let mut candidates = Vec::new();
    let mut tried = Vec::new();
    for penalty in PENALTIES_PER_CHILD {
        tried.push(Estimator::Logistic(Logistic::fit(
            fit_inputs.view(),
            &fit_labels,
            penalty,
        )?));
    }
    for depth in DEPTHS {
        tried.push(Estimator::Tree(Tree::fit(
            fit_inputs.view(),
            &fit_labels,
            depth,
            min_leaf_rows(fit_labels.len()),
        )?));
    }
    for estimator in &tried {
        let scores = estimator.probabilities(check_inputs.view());
        candidates.push(Candidate {
            kind: estimator.kind().to_string(),
            description: estimator.describe(),
            validation_average_precision: metrics::average_precision(&scores, &check_labels),
            validation_roc_auc: metrics::roc_auc(&scores, &check_labels),
        });
    }
    let score_of = |c: &Candidate| c.validation_average_precision.unwrap_or(0.0);
    let best_of = |kind: &str| {
        candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == kind)
            .max_by(|a, b| score_of(a.1).total_cmp(&score_of(b.1)))
            .map(|(index, _)| index)
            .unwrap_or(0)
    };
    let (best_logistic, best_tree) = (best_of("logistic"), best_of("tree"));
    // Ties go to logistic regression: its reasons are simpler to explain.
    let tree_chosen = score_of(&candidates[best_tree]) > score_of(&candidates[best_logistic]);
    let (winner, loser) = if tree_chosen {
        (&candidates[best_tree], &candidates[best_logistic])
    } else {
        (&candidates[best_logistic], &candidates[best_tree])
    };
    let reason = format!(
        "The {} had the highest average precision on the validation families ({:.3}, against {:.3} for the best {}).",
        winner.description,
        score_of(winner),
        score_of(loser),
        loser.description
    );
    Ok(Choice {
        selection: Selection {
            metric: "average precision (area under the precision–recall curve), because positives are rare \
                     and round tables look only at the top of the list"
                .to_string(),
            validation: format!(
                "the training date's families split by a fixed hash of the family id: {} children of \
                 three quarters of the families fit each candidate, {} children of the other quarter \
                 compare them",
                fit_labels.len(),
                check_labels.len()
            ),
            candidates,
            reason,
        },
        best_penalty_per_child: PENALTIES_PER_CHILD[best_logistic],
        best_depth: DEPTHS[best_tree - PENALTIES_PER_CHILD.len()],
        tree_chosen,
    })
}

/// The best logistic regression and tree refitted on every training row.
pub fn refit(
    inputs: &Array2<f64>,
    labels: &[bool],
    choice: &Choice,
) -> Result<(Estimator, Estimator), ModelError> {
    let logistic = Estimator::Logistic(Logistic::fit(
        inputs.view(),
        labels,
        choice.best_penalty_per_child,
    )?);
    let tree = Estimator::Tree(Tree::fit(
        inputs.view(),
        labels,
        choice.best_depth,
        min_leaf_rows(labels.len()),
    )?);
    Ok((logistic, tree))
}
