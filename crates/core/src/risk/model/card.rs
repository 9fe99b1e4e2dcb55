//! The model card: a Markdown page written beside each model file, for the
//! people who decide whether and how its flags are used. Everything on it
//! comes from the model file, so the two always agree.

use super::file::RiskModelFile;
use super::tables;

/// The card's Markdown.
pub fn markdown(model: &RiskModelFile, file_name: &str) -> String {
    let e = &model.evaluation;
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!("# Model card: {file_name}"));
    line(String::new());
    line(format!(
        "`{}` — {}, trained by Zonewise {} on {}. Generated from the model file; do not edit by hand.",
        model.model_id,
        model.estimator.describe(),
        model.zonewise_version,
        model.created_at
    ));
    line(String::new());
    line("## Intended use".to_string());
    line(String::new());
    line(
        "The model ranks children under 18 by the chance that a child protection plan or care \
         episode starts in the next 12 months, so that early-help zone round tables can choose \
         which families to discuss. **Flags are for human review, never decisions**: a score is \
         a ranking aid built from agency records, not an assessment of a family, and each flag \
         comes with the records that raised it most. It is not for use about an individual \
         without a practitioner's judgement, nor for any purpose other than offering help."
            .to_string(),
    );
    line(String::new());
    line("## Data".to_string());
    line(String::new());
    line(format!(
        "- Training: the {} children under 18 on {} with 12 months' follow-up ({} labelled 1, \
         {:.1}%); data fingerprint `{}`.",
        model.training_children,
        model.training_date,
        model.training_positives,
        100.0 * model.training_positives as f64 / model.training_children.max(1) as f64,
        &model.data_fingerprint[..16.min(model.data_fingerprint.len())]
    ));
    line(format!(
        "- Held out: the {} children on {} ({} labelled 1), never used to fit or choose.",
        e.children, e.reference_date, e.positives
    ));
    line(format!(
        "- Features ({}): {}. Missing values are filled with the training median and flagged \
         by a missing indicator; every input is standardised with the training mean and \
         standard deviation.",
        model.features.len(),
        model.features.join(", ")
    ));
    line(
        "- Label: a `child_protection` or `looked_after` episode starting in the 12 months from \
         the reference date, from the council's own social care extract."
            .to_string(),
    );
    line(String::new());
    line("## How it was chosen".to_string());
    line(String::new());
    line(format!(
        "Compared by {}, on {}.",
        model.selection.metric, model.selection.validation
    ));
    line(String::new());
    line(tables::candidates(model).markdown().trim_end().to_string());
    line(String::new());
    line(model.selection.reason.clone());
    line(String::new());
    line(format!("## Held-out figures on {}", e.reference_date));
    line(String::new());
    line(
        tables::held_out_figures(e)
            .markdown()
            .trim_end()
            .to_string(),
    );
    line(String::new());
    line("Both kinds refitted on the whole training date, on the held-out date (for comparison; the choice was made on validation):".to_string());
    line(String::new());
    line(
        tables::held_out_by_kind(model)
            .markdown()
            .trim_end()
            .to_string(),
    );
    line(String::new());
    line("### Calibration (children in ten bins by score)".to_string());
    line(String::new());
    line(tables::calibration(e).markdown().trim_end().to_string());
    line(String::new());
    line("### Fairness (the same figures by group)".to_string());
    line(String::new());
    line(tables::fairness(e).markdown());
    line("## Caveats".to_string());
    line(String::new());
    for caveat in CAVEATS {
        line(format!("- {caveat}"));
    }
    out
}

/// Limits every card states.
const CAVEATS: [&str; 6] = [
    "Trained and tested on a **synthetic** county: the figures say the pipeline works, not how \
     well it would predict for real families. Retrain and re-evaluate on a council's own data \
     before any use.",
    "The oracle is the generator's own probability for each child, which uses circumstances no \
     extract records (domestic abuse, substance misuse and mental health behind the events, \
     a hidden vulnerability); it is the ceiling a model of these records could approach, not a target.",
    "Leakage limits (docs/risk.md): linkage uses every record in the extracts, including later \
     ones, and a family's LSOA (hence IMD decile and zone) is its most common postcode over all \
     records, not its address on the reference date.",
    "The substance_use criterion never fires on the synthetic county (it has no drug and alcohol \
     service extract); no feature counts substance misuse either.",
    "Ethnicity comes from the extracts that record it (education, social care), by the most \
     common value over a person's records; sex from the linked person. A child with no education \
     or social care record has no ethnicity, and as the label is itself a social care record, \
     no such child is labelled 1: the 'not recorded' group is an artefact of where ethnicity is \
     kept. Groups with few children have unstable figures.",
    "Scores rank; a group's lower precision or recall means its children are flagged less \
     accurately, which reviewers should keep in mind.",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_sample_card_is_the_committed_models() {
        let folder = crate::bundled::repository_dir().join("models");
        let model = RiskModelFile::load(&folder.join("risk-sample.json")).expect("sample model");
        let card = std::fs::read_to_string(folder.join("risk-sample.md")).expect("sample card");
        assert_eq!(markdown(&model, "risk-sample.json"), card);
        for needle in [
            "human review",
            "synthetic",
            "oracle",
            "substance_use",
            "### Fairness",
        ] {
            assert!(card.contains(needle), "the card says {needle}");
        }
    }
}
