//! Linkage models on disk: a readable JSON file under `models/` with the trained
//! parameters and what they were trained on, so that a council can reuse a model
//! that a person has checked instead of retraining on every load.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::comparisons::COMPARISONS;
use super::fellegi_sunter::Model;

/// The `format` field every linkage model file carries.
pub const FORMAT: &str = "zonewise-linkage-model";

/// A saved model with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub format: String,
    pub version: u32,
    /// When it was trained (local time, `yyyy-mm-dd hh:mm:ss`).
    pub trained_at: String,
    /// Records and candidate pairs it was trained on. λ is a prior per pair of
    /// records, so it suits data of about this size; scoring much larger data
    /// with it overstates the chance that a random pair matches.
    pub records: u64,
    pub candidate_pairs: u64,
    pub model: Model,
}

pub use crate::model_file::ModelFileError;

impl ModelFile {
    pub fn new(model: Model, records: u64, candidate_pairs: u64) -> ModelFile {
        ModelFile {
            format: FORMAT.to_string(),
            version: 1,
            trained_at: chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
            records,
            candidate_pairs,
            model,
        }
    }

    /// Writes the file (pretty JSON), creating its folder.
    pub fn save(&self, path: &Path) -> Result<(), ModelFileError> {
        crate::model_file::save(self, path)
    }

    /// Reads a model file and checks it fits this version's comparisons.
    pub fn load(path: &Path) -> Result<ModelFile, ModelFileError> {
        crate::model_file::load(path)
    }
}

impl crate::model_file::ModelFormat for ModelFile {
    const KIND: &'static str = "model file";

    /// The model must name this version's comparisons, in order, with their
    /// levels, and hold probabilities.
    fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("format is '{}', expected '{FORMAT}'", self.format));
        }
        if self.version != 1 {
            return Err(format!(
                "version {} is not supported (expected 1)",
                self.version
            ));
        }
        let lambda = self.model.lambda;
        if !(lambda > 0.0 && lambda < 1.0) {
            return Err(format!("lambda must be between 0 and 1, not {lambda}"));
        }
        let names: Vec<&str> = self
            .model
            .comparisons
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        let expected: Vec<&str> = COMPARISONS.iter().map(|c| c.name).collect();
        if names != expected {
            return Err(format!(
                "comparisons are [{}]; this version of Zonewise compares [{}]",
                names.join(", "),
                expected.join(", ")
            ));
        }
        for (params, comparison) in self.model.comparisons.iter().zip(&COMPARISONS) {
            for (label, values) in [("m", &params.m), ("u", &params.u)] {
                if values.len() != comparison.levels() {
                    return Err(format!(
                        "comparison '{}' has {} {label} values; it has {} levels",
                        params.name,
                        values.len(),
                        comparison.levels()
                    ));
                }
                if values.iter().any(|p| !(0.0..=1.0).contains(p)) {
                    return Err(format!(
                        "comparison '{}': {label} values must be probabilities between 0 and 1",
                        params.name
                    ));
                }
                let sum: f64 = values.iter().sum();
                if (sum - 1.0).abs() > 1e-3 {
                    return Err(format!(
                        "comparison '{}': {label} values add up to {sum:.4}, not 1",
                        params.name
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::fellegi_sunter::ComparisonParams;

    fn model() -> Model {
        Model {
            lambda: 1e-4,
            comparisons: COMPARISONS
                .iter()
                .map(|c| {
                    let n = c.levels();
                    ComparisonParams {
                        name: c.name.to_string(),
                        m: vec![1.0 / n as f64; n],
                        u: vec![1.0 / n as f64; n],
                    }
                })
                .collect(),
        }
    }

    fn load_text(text: &str) -> Result<ModelFile, ModelFileError> {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("model.json");
        std::fs::write(&path, text).expect("write");
        ModelFile::load(&path)
    }

    #[test]
    fn a_saved_model_loads_back_unchanged() {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("model.json");
        let saved = ModelFile::new(model(), 100, 50);
        saved.save(&path).expect("save");
        assert_eq!(ModelFile::load(&path).expect("load"), saved);
    }

    #[test]
    fn a_model_that_does_not_fit_is_refused_with_the_reason() {
        let mut file = ModelFile::new(model(), 100, 50);
        file.model.comparisons.swap(0, 1);
        let message = load_text(&serde_json::to_string(&file).expect("json"))
            .expect_err("order")
            .to_string();
        assert!(
            message.contains("comparisons are [family_name, given_name"),
            "{message}"
        );

        let mut file = ModelFile::new(model(), 100, 50);
        file.model.comparisons[2].m = vec![0.5, 0.5];
        let message = load_text(&serde_json::to_string(&file).expect("json"))
            .expect_err("levels")
            .to_string();
        assert!(
            message.contains("'birth_date' has 2 m values; it has 5 levels"),
            "{message}"
        );

        let mut file = ModelFile::new(model(), 100, 50);
        file.model.comparisons[3].u = vec![0.5, 0.5, 0.5];
        let message = load_text(&serde_json::to_string(&file).expect("json"))
            .expect_err("sum")
            .to_string();
        assert!(message.contains("add up to 1.5000"), "{message}");

        let message = load_text("{\n  \"format\": \"zonewise-linkage-model\",\n  oops\n}")
            .expect_err("syntax")
            .to_string();
        assert!(message.contains("line 3, column"), "{message}");
    }

    #[test]
    fn the_committed_sample_model_loads() {
        let path = crate::bundled::repository_dir().join("models/linkage-sample.json");
        let file = ModelFile::load(&path).expect("models/linkage-sample.json");
        assert!(file.records > 10_000);
    }
}
