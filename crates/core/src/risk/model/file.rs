//! Risk models on disk: readable JSON under `models/` holding everything needed
//! to score (feature list, imputation and standardisation, coefficients or tree)
//! and to judge the model (how it was chosen, its held-out figures), with where
//! its training data came from. A file that cannot be read, is not JSON, or was
//! made for another feature list is refused with its name and the reason.

use std::path::Path;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::dataset::{FEATURES, Preprocessing, feature_names};
use super::evaluation::Evaluation;
use super::logistic::Logistic;
use super::trees::Tree;

/// The `format` field every risk model file carries.
pub const FORMAT: &str = "zonewise-risk-model";

/// The file layout version this Zonewise reads and writes.
pub const VERSION: u32 = 1;

/// The fitted model itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Estimator {
    Logistic(Logistic),
    Tree(Tree),
}

impl Estimator {
    /// "logistic regression (α = 10)", "decision tree (depth 5)".
    pub fn describe(&self) -> String {
        match self {
            Estimator::Logistic(model) => {
                format!(
                    "logistic regression (L2, α = {} per child)",
                    model.penalty_per_child
                )
            }
            Estimator::Tree(tree) => format!(
                "decision tree (depth {}, leaves of at least {} children)",
                tree.max_depth, tree.min_leaf_rows
            ),
        }
    }

    /// The short kind name stored in the file: `logistic` or `tree`.
    pub fn kind(&self) -> &'static str {
        match self {
            Estimator::Logistic(_) => "logistic",
            Estimator::Tree(_) => "tree",
        }
    }

    /// The score (probability of label 1) of each row of standardised inputs.
    pub fn probabilities(&self, inputs: ArrayView2<f64>) -> Vec<f64> {
        match self {
            Estimator::Logistic(model) => model.probabilities(inputs),
            Estimator::Tree(tree) => tree.probabilities(inputs),
        }
    }

    /// Each input's contribution to each row's score (see the two models).
    pub fn contributions(&self, inputs: ArrayView2<f64>) -> Array2<f64> {
        match self {
            Estimator::Logistic(model) => model.contributions(inputs),
            Estimator::Tree(tree) => tree.contributions(inputs),
        }
    }
}

/// One candidate tried while choosing, with its figures on the validation rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    pub kind: String,
    pub description: String,
    pub validation_average_precision: Option<f64>,
    pub validation_roc_auc: Option<f64>,
}

/// How the model was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// The figure candidates were compared by.
    pub metric: String,
    /// Which rows the candidates were compared on.
    pub validation: String,
    pub candidates: Vec<Candidate>,
    /// The choice in one sentence.
    pub reason: String,
}

/// The best model of each kind refitted on the whole training date, on the
/// held-out date: shown beside the chosen model, not used to choose it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindOnHeldOut {
    pub kind: String,
    pub description: String,
    pub roc_auc: Option<f64>,
    pub average_precision: Option<f64>,
    pub brier_score: Option<f64>,
}

/// A saved risk model with its provenance and held-out evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskModelFile {
    pub format: String,
    pub version: u32,
    /// Names the model in `mart.risk_score.model_id`: kind, training date and
    /// a hash of the training rows' fingerprint and the fitted parameters.
    pub model_id: String,
    pub zonewise_version: String,
    /// When it was trained (local time, `yyyy-mm-dd hh:mm:ss`).
    pub created_at: String,
    /// Reference date of the training rows, and of the held-out rows.
    pub training_date: String,
    pub held_out_date: String,
    pub training_children: u64,
    pub training_positives: u64,
    /// SHA-256 over the training rows (person, label, feature values).
    pub data_fingerprint: String,
    /// Feature columns of `mart.risk_feature`, in input order.
    pub features: Vec<String>,
    pub preprocessing: Preprocessing,
    pub estimator: Estimator,
    /// Children scoring at or above it are flagged for review.
    pub threshold: f64,
    pub selection: Selection,
    pub held_out_by_kind: Vec<KindOnHeldOut>,
    /// The chosen model's figures on the held-out date.
    pub evaluation: Evaluation,
}

pub use crate::model_file::ModelFileError;

impl RiskModelFile {
    /// Writes the file (pretty JSON), creating its folder.
    pub fn save(&self, path: &Path) -> Result<(), ModelFileError> {
        crate::model_file::save(self, path)
    }

    /// The file's text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a risk model always serialises")
    }

    /// Reads a model file and checks it fits this version's features.
    pub fn load(path: &Path) -> Result<RiskModelFile, ModelFileError> {
        crate::model_file::load(path)
    }

    /// Parses and checks a model's text; `name` says where it came from in errors.
    pub fn from_json(text: &str, name: &str) -> Result<RiskModelFile, ModelFileError> {
        crate::model_file::from_json(text, name)
    }
}

impl crate::model_file::ModelFormat for RiskModelFile {
    const KIND: &'static str = "risk model file";

    /// The model must be this format and version, name this version's features
    /// in order, and have as many parameters as inputs.
    fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("format is '{}', expected '{FORMAT}'", self.format));
        }
        if self.version != VERSION {
            return Err(format!(
                "version {} is not supported (expected {VERSION})",
                self.version
            ));
        }
        let expected = feature_names();
        if self.features != expected {
            return Err(format!(
                "it was trained on the features [{}]; this version of Zonewise uses [{}]",
                self.features.join(", "),
                expected.join(", ")
            ));
        }
        let preprocessing = &self.preprocessing;
        if preprocessing.medians.len() != FEATURES.len() {
            return Err(format!(
                "{} medians for {} features",
                preprocessing.medians.len(),
                FEATURES.len()
            ));
        }
        for input in &preprocessing.inputs {
            if input.feature >= FEATURES.len()
                || input.std.is_nan()
                || input.std <= 0.0
                || !input.mean.is_finite()
            {
                return Err(format!(
                    "input '{}' has no valid feature, mean and standard deviation",
                    input.name
                ));
            }
        }
        let inputs = preprocessing.inputs.len();
        match &self.estimator {
            Estimator::Logistic(model) if model.coefficients.len() != inputs => Err(format!(
                "{} coefficients for {inputs} inputs",
                model.coefficients.len()
            )),
            Estimator::Tree(tree) => tree.check(inputs),
            Estimator::Logistic(_) => Ok(()),
        }?;
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(format!("threshold {} is not a probability", self.threshold));
        }
        Ok(())
    }
}
