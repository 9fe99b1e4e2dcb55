//! L2-regularised logistic regression (linfa-logistic) on the standardised
//! inputs. The fitted intercept and coefficients are all the model is, so they
//! are stored in the model file and scoring is a dot product that needs no solver.

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::ModelError;

/// A fitted logistic regression: logit p = intercept + Σ coefficient · input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logistic {
    /// The L2 penalty per training child; α is this times the children fitted on,
    /// so the same strength holds whatever the county's size.
    pub penalty_per_child: f64,
    /// Strength of the L2 penalty (α/2 · Σ coefficient², added to the summed log loss).
    pub alpha: f64,
    pub intercept: f64,
    /// One per input, in the preprocessing's input order.
    pub coefficients: Vec<f64>,
}

impl Logistic {
    /// Fits on standardised inputs and 0/1 labels with α = `penalty_per_child` × rows.
    pub fn fit(
        inputs: ArrayView2<f64>,
        labels: &[bool],
        penalty_per_child: f64,
    ) -> Result<Logistic, ModelError> {
        let alpha = penalty_per_child * labels.len() as f64;
        let targets: Array1<usize> = labels.iter().map(|&l| usize::from(l)).collect();
        let dataset = Dataset::new(inputs.to_owned(), targets);
        let fitted = LogisticRegression::default()
            .alpha(alpha)
            .max_iterations(300)
            .fit(&dataset)
            .map_err(|e| ModelError::Fit(format!("logistic regression: {e}")))?;
        // linfa models the probability of its "positive" class, which is the more
        // common label (here 0); turn it round so the score is the chance of a 1.
        let sign = if fitted.labels().pos.class == 1 {
            1.0
        } else {
            -1.0
        };
        Ok(Logistic {
            penalty_per_child,
            alpha,
            intercept: sign * fitted.intercept(),
            coefficients: fitted.params().iter().map(|c| sign * c).collect(),
        })
    }

    /// The probability of label 1 for each row.
    pub fn probabilities(&self, inputs: ArrayView2<f64>) -> Vec<f64> {
        let coefficients = Array1::from(self.coefficients.clone());
        inputs
            .dot(&coefficients)
            .iter()
            .map(|logit| 1.0 / (1.0 + (-(logit + self.intercept)).exp()))
            .collect()
    }

    /// Each input's part of each row's logit: coefficient × standardised input,
    /// i.e. × the row's deviation from the training mean in standard deviations.
    pub fn contributions(&self, inputs: ArrayView2<f64>) -> Array2<f64> {
        let coefficients = Array1::from(self.coefficients.clone());
        &inputs * &coefficients
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_score_rises_with_an_input_that_goes_with_the_label() {
        // Label 1 mostly at high x; the rarer label is 1, as in the real data.
        let x: Vec<f64> = (0..40).map(|i| i as f64 / 10.0 - 2.0).collect();
        let labels: Vec<bool> = x
            .iter()
            .enumerate()
            .map(|(i, &v)| v > 1.2 || i == 3)
            .collect();
        let inputs = Array2::from_shape_vec((40, 1), x).expect("shape");
        let model = Logistic::fit(inputs.view(), &labels, 0.01).expect("fit");
        assert!(model.coefficients[0] > 0.0, "{model:?}");
        let scores = model.probabilities(array![[-2.0], [2.0]].view());
        assert!(scores[0] < 0.2 && scores[1] > 0.8, "{scores:?}");
        let parts = model.contributions(array![[2.0]].view());
        assert!((parts[[0, 0]] - 2.0 * model.coefficients[0]).abs() < 1e-12);
    }
}
