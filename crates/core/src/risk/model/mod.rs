//! Risk models (issue 4, part 2): trained on the children of an earlier
//! reference date, chosen and judged on data they were not fitted on, saved as
//! readable JSON with a model card, and used to score a date into
//! `mart.risk_score` and `mart.risk_reason`.
//!
//! - `dataset`: the fixed feature list, read into ndarray; imputation and standardisation
//! - `logistic`, `trees`: the two kinds of model (linfa-logistic, linfa-trees)
//! - `train`: candidates compared on validation families of the training date
//! - `metrics`, `evaluation`: held-out figures, fairness, the oracle
//! - `people`: sex, ethnicity and (synthetic counties) the true probabilities
//! - `explain`: the reasons for a score, in words
//! - `file`, `card`: the model file and its Markdown card
//! - `score`: writing a date's scores and reasons
//!
//! See `docs/risk.md` ("Models") for the choices and the figures on the sample.

pub mod card;
pub mod dataset;
pub mod evaluation;
pub mod explain;
pub mod file;
pub mod logistic;
pub mod metrics;
pub mod people;
pub mod score;
pub mod tables;
pub mod train;
pub mod trees;

use std::path::PathBuf;

use chrono::NaiveDate;
use duckdb::Connection;

use dataset::{Population, Preprocessing};
use evaluation::Evaluation;
use file::{Estimator, KindOnHeldOut, RiskModelFile};

/// Why a model could not be trained, evaluated or used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(
        "the outcomes of {0} are not complete: the extracts end before 12 months after it, so it cannot train or test a model"
    )]
    FollowUpIncomplete(NaiveDate),
    #[error("no children on {0}: is the date inside the extracts?")]
    NoChildren(NaiveDate),
    #[error("too few children labelled 1 on the training date to train and validate a model")]
    TooFewPositives,
    #[error(
        "the training date {train} must be before the held-out date {test}, and at least 12 months before it so their outcome periods do not overlap"
    )]
    Dates { train: NaiveDate, test: NaiveDate },
    #[error("cannot fit the {0}")]
    Fit(String),
    #[error("truth folder {path}: {message}")]
    Truth { path: String, message: String },
    #[error("feature matrix: {0}")]
    Shape(String),
    #[error(transparent)]
    File(#[from] file::ModelFileError),
    #[error(transparent)]
    Risk(#[from] crate::risk::RiskError),
    #[error("database error while modelling risk: {0}")]
    Database(#[from] duckdb::Error),
    #[error("reading features: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// What `zonewise train` is asked for.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub training_date: NaiveDate,
    pub held_out_date: NaiveDate,
    /// A synthetic county's truth folder, for the oracle figures.
    pub truth: Option<PathBuf>,
    /// Families a zone's round table can discuss (the top-k figures and the threshold).
    pub k_per_zone: usize,
}

/// Builds the features and labels of both dates, chooses and fits a model on
/// the training date, and evaluates it on the held-out date. `progress` hears
/// each step's name.
pub fn train(
    conn: &Connection,
    options: &TrainOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<RiskModelFile, ModelError> {
    let (train_date, test_date) = (options.training_date, options.held_out_date);
    if train_date + chrono::Months::new(crate::risk::label::OUTCOME_MONTHS) > test_date {
        return Err(ModelError::Dates {
            train: train_date,
            test: test_date,
        });
    }
    for date in [train_date, test_date] {
        progress(&format!("building features and labels on {date}"));
        if !crate::risk::build(conn, date)?.follow_up_complete {
            return Err(ModelError::FollowUpIncomplete(date));
        }
    }
    let training = dataset::read(conn, train_date, Population::FollowedUp)?;
    let held_out = dataset::read(conn, test_date, Population::FollowedUp)?;
    for rows in [&training, &held_out] {
        if rows.is_empty() {
            return Err(ModelError::NoChildren(rows.reference_date));
        }
    }
    let preprocessing = Preprocessing::fit(training.raw.view());
    let inputs = preprocessing.transform(training.raw.view());
    progress("comparing candidates on validation families");
    let choice = train::choose(&inputs, &training.labels, &training.family_ids)?;
    progress("refitting on the whole training date");
    let (logistic, tree) = train::refit(&inputs, &training.labels, &choice)?;
    let (chosen, other) = if choice.tree_chosen {
        (tree, logistic)
    } else {
        (logistic, tree)
    };
    let threshold = evaluation::threshold_for_capacity(
        &training,
        &chosen.probabilities(inputs.view()),
        options.k_per_zone,
    );
    progress(&format!("evaluating on {test_date}"));
    let held_out_inputs = preprocessing.transform(held_out.raw.view());
    let held_out_by_kind = [&chosen, &other]
        .into_iter()
        .map(|estimator| {
            let scores = estimator.probabilities(held_out_inputs.view());
            KindOnHeldOut {
                kind: estimator.kind().to_string(),
                description: estimator.describe(),
                roc_auc: metrics::roc_auc(&scores, &held_out.labels),
                average_precision: metrics::average_precision(&scores, &held_out.labels),
                brier_score: metrics::brier_score(&scores, &held_out.labels),
            }
        })
        .collect();
    let evaluation = evaluate_rows(
        conn,
        (&preprocessing, &chosen, threshold),
        &held_out,
        options.k_per_zone,
        options.truth.as_deref(),
    )?;
    let fingerprint = training.fingerprint();
    Ok(RiskModelFile {
        format: file::FORMAT.to_string(),
        version: file::VERSION,
        model_id: model_id(&chosen, train_date, &fingerprint),
        zonewise_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        training_date: train_date.to_string(),
        held_out_date: test_date.to_string(),
        training_children: training.len() as u64,
        training_positives: training.labels.iter().filter(|&&l| l).count() as u64,
        data_fingerprint: fingerprint,
        features: dataset::feature_names(),
        preprocessing,
        estimator: chosen,
        threshold,
        selection: choice.selection,
        held_out_by_kind,
        evaluation,
    })
}

/// `kind-training date-hash`: the hash covers the training rows' fingerprint and
/// the fitted parameters, so a model trained differently on the same rows gets
/// another id.
fn model_id(estimator: &Estimator, training_date: NaiveDate, fingerprint: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(fingerprint.as_bytes());
    hasher.update(serde_json::to_vec(estimator).unwrap_or_default());
    let hash: String = hasher.finalize()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{}-{training_date}-{hash}", estimator.kind())
}

/// Held-out figures of a saved model on `reference_date` (features and labels
/// are rebuilt first; the date needs complete follow-up).
pub fn evaluate(
    conn: &Connection,
    model: &RiskModelFile,
    reference_date: NaiveDate,
    k_per_zone: usize,
    truth: Option<&std::path::Path>,
) -> Result<Evaluation, ModelError> {
    if !crate::risk::build(conn, reference_date)?.follow_up_complete {
        return Err(ModelError::FollowUpIncomplete(reference_date));
    }
    let rows = dataset::read(conn, reference_date, Population::FollowedUp)?;
    if rows.is_empty() {
        return Err(ModelError::NoChildren(reference_date));
    }
    evaluate_rows(
        conn,
        (&model.preprocessing, &model.estimator, model.threshold),
        &rows,
        k_per_zone,
        truth,
    )
}

/// The figures of a model, given as its preprocessing, estimator and threshold.
fn evaluate_rows(
    conn: &Connection,
    (preprocessing, estimator, threshold): (&Preprocessing, &Estimator, f64),
    rows: &dataset::Rows,
    k_per_zone: usize,
    truth: Option<&std::path::Path>,
) -> Result<Evaluation, ModelError> {
    let inputs = preprocessing.transform(rows.raw.view());
    let scores = estimator.probabilities(inputs.view());
    let groups = people::read_groups(conn)?;
    let truth = truth
        .map(|dir| people::read_truth(conn, dir, rows.reference_date))
        .transpose()?;
    Ok(evaluation::evaluate(
        rows,
        &scores,
        threshold,
        k_per_zone,
        &groups,
        truth.as_ref(),
    ))
}
