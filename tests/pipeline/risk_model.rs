//! Risk models on a generated, linked county: the chosen model ranks held-out
//! children better than a one-feature baseline; a saved model loads back and
//! scores the same; a malformed or foreign model file is refused with its name;
//! nothing dated on or after the held-out date changes what is trained; scoring
//! fills the score tables and replaces a date's rows; `zonewise evaluate --json`
//! holds the figures, the oracle's among them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::common;

use chrono::NaiveDate;
use duckdb::Connection;
use zonewise::risk::model::dataset::{self, FEATURES, Population};
use zonewise::risk::model::evaluation::DEFAULT_K_PER_ZONE;
use zonewise::risk::model::file::RiskModelFile;
use zonewise::risk::model::{self, TrainOptions, metrics, score};
use zonewise::store;

const TRAIN: &str = "2024-04-01";
const TEST: &str = "2025-04-01";

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

/// One linked county for the whole file (generating and linking it is the slow
/// part); each test works on its own copy of the database.
fn county() -> &'static (tempfile::TempDir, PathBuf) {
    static COUNTY: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    COUNTY.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp");
        let db = common::linked_county(dir.path(), 2000, 41);
        Connection::open(&db)
            .and_then(|c| c.execute_batch("CHECKPOINT"))
            .expect("checkpoint");
        (dir, db)
    })
}

/// A private copy of the county's database in `dir`.
fn copy_db(dir: &Path) -> PathBuf {
    let copy = dir.join("county.duckdb");
    std::fs::copy(&county().1, &copy).expect("copy db");
    copy
}

fn truth_dir() -> PathBuf {
    county().0.path().join("county/truth")
}

fn options(truth: bool) -> TrainOptions {
    TrainOptions {
        training_date: date(TRAIN),
        held_out_date: date(TEST),
        truth: truth.then(truth_dir),
        k_per_zone: DEFAULT_K_PER_ZONE,
    }
}

fn zonewise(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zonewise"))
        .args(args)
        .output()
        .expect("run zonewise")
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn the_chosen_model_beats_one_feature_and_approaches_the_oracle() {
    let dir = tempfile::tempdir().expect("temp");
    let conn = store::open(&copy_db(dir.path())).expect("open");
    let trained = model::train(&conn, &options(true), &mut |_| {}).expect("train");
    let e = &trained.evaluation;
    assert_eq!(e.reference_date, TEST);
    assert!(
        e.children > 1000 && e.positives > 30,
        "{} / {}",
        e.positives,
        e.children
    );

    // Baseline: rank the held-out children by social care contacts in 12 months alone.
    let held_out = dataset::read(&conn, date(TEST), Population::FollowedUp).expect("rows");
    let contacts = FEATURES
        .iter()
        .position(|f| f.column == "social_care_contacts_12m")
        .expect("feature");
    let baseline_scores: Vec<f64> = held_out.raw.column(contacts).to_vec();
    let baseline = metrics::roc_auc(&baseline_scores, &held_out.labels).expect("auc");
    let ours = e.roc_auc.expect("auc");
    assert!(
        ours > baseline + 0.03,
        "model {ours:.3} vs baseline {baseline:.3}"
    );

    // The oracle is computed on most held-out children and is the better ranker.
    let oracle = e.oracle.expect("oracle");
    assert!(
        oracle.children as f64 > 0.85 * e.children as f64,
        "{oracle:?}"
    );
    let best = oracle.oracle_roc_auc.expect("oracle auc");
    assert!(best > 0.7 && best < 1.0, "{best}");
    assert!(oracle.model_roc_auc.expect("auc") < best + 0.05);

    // The held-out figures are all there and consistent.
    assert_eq!(e.calibration.len(), 10);
    assert_eq!(
        e.calibration.iter().map(|b| b.count).sum::<u64>(),
        e.children
    );
    assert!(e.brier_score.expect("brier") < e.base_rate);
    assert_eq!(e.top_k.k_per_zone, DEFAULT_K_PER_ZONE as u64);
    assert!(e.top_k.families.flagged <= e.top_k.k_per_zone * e.top_k.zones);
    for dimension in ["imd_decile", "sex", "ethnicity"] {
        let children: u64 = e
            .fairness
            .iter()
            .filter(|g| g.dimension == dimension)
            .map(|g| g.children)
            .sum();
        assert_eq!(children, e.children, "{dimension}");
    }
    assert!(
        e.fairness
            .iter()
            .any(|g| g.dimension == "sex" && g.group == "F")
    );
    assert_eq!(
        trained.selection.candidates.len(),
        zonewise::risk::model::train::CANDIDATES
    );
    assert_eq!(trained.held_out_by_kind.len(), 2);
}

#[test]
fn a_saved_model_loads_back_and_scores_the_same() {
    let dir = tempfile::tempdir().expect("temp");
    let conn = store::open(&copy_db(dir.path())).expect("open");
    let trained = model::train(&conn, &options(false), &mut |_| {}).expect("train");
    let path = dir.path().join("models/risk.json");
    trained.save(&path).expect("save");
    let loaded = RiskModelFile::load(&path).expect("load");
    // Compared whole, not printed: the model is long.
    assert!(
        loaded == trained,
        "the model changed on its way through the file"
    );
    let rows = dataset::read(&conn, date(TEST), Population::Everyone).expect("rows");
    let before = score::score_rows(&trained, &rows);
    let after = score::score_rows(&loaded, &rows);
    assert_eq!(before.scores, after.scores);
    assert_eq!(before.reasons, after.reasons);
    assert!(before.scores.iter().all(|s| (0.0..=1.0).contains(s)));
}

#[test]
fn malformed_or_foreign_model_files_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("temp");
    let db = copy_db(dir.path());
    let conn = store::open(&db).expect("open");
    let trained = model::train(&conn, &options(false), &mut |_| {}).expect("train");
    drop(conn);
    let good = trained.to_json();
    let cases = [
        ("truncated.json", good[..good.len() / 2].to_string(), "line"),
        ("empty.json", String::new(), "line 1"),
        (
            "features.json",
            good.replacen("\"age_years\"", "\"age_in_days\"", 1),
            "trained on the features [age_in_days",
        ),
        (
            "format.json",
            good.replacen("zonewise-risk-model", "zonewise-linkage-model", 1),
            "format is 'zonewise-linkage-model'",
        ),
        (
            "coefficients.json",
            good.replacen("\"coefficients\": [", "\"coefficients\": [0.5,", 1),
            "coefficients for",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let message = RiskModelFile::load(&path).expect_err(name).to_string();
        assert!(message.contains(name), "{name}: {message}");
        assert!(message.contains(expected), "{name}: {message}");
        let output = zonewise(&[
            "score",
            "--db",
            db.to_str().expect("path"),
            "--model",
            path.to_str().expect("path"),
            "--date",
            TEST,
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains(name),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let missing = RiskModelFile::load(&dir.path().join("none.json")).expect_err("missing");
    assert!(missing.to_string().contains("none.json"), "{missing}");
}

#[test]
fn nothing_from_the_held_out_date_on_reaches_training() {
    let dir = tempfile::tempdir().expect("temp");
    let conn = store::open(&copy_db(dir.path())).expect("open");
    let before = model::train(&conn, &options(false), &mut |_| {}).expect("train");
    // Plant, for every child, an event of every type on each day from the
    // held-out date on: escalations, police callouts, contacts and all.
    conn.execute_batch(&format!(
        "INSERT INTO core.event BY NAME
         SELECT p.person_id, p.family_id, t.source, -row_number() OVER () AS line,
                t.event_type, (DATE '{TEST}' + INTERVAL (d) DAY)::DATE AS event_date, 1.0 AS value
         FROM core.person p
         CROSS JOIN (SELECT DISTINCT source, event_type FROM core.event) t
         CROSS JOIN range(0, 40, 13) r(d)
         WHERE p.birth_date > DATE '{TEST}' - INTERVAL 18 YEAR"
    ))
    .expect("plant");
    let after = model::train(&conn, &options(false), &mut |_| {}).expect("train");
    assert_eq!(after.data_fingerprint, before.data_fingerprint);
    assert_eq!(after.preprocessing, before.preprocessing);
    assert_eq!(after.estimator, before.estimator);
    assert_eq!(after.threshold, before.threshold);
    assert_eq!(after.selection, before.selection);
    // The held-out figures do see them: every child now escalates.
    assert_eq!(after.evaluation.positives, after.evaluation.children);
}

#[test]
fn scoring_writes_scores_and_reasons_and_replaces_the_date() {
    let dir = tempfile::tempdir().expect("temp");
    let db = copy_db(dir.path());
    let conn = store::open(&db).expect("open");
    let trained = model::train(&conn, &options(false), &mut |_| {}).expect("train");
    let path = dir.path().join("risk.json");
    trained.save(&path).expect("save");
    drop(conn);
    for _ in 0..2 {
        let output = zonewise(&[
            "score",
            "--db",
            db.to_str().expect("path"),
            "--model",
            path.to_str().expect("path"),
            "--date",
            "2026-01-01",
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let conn = store::open(&db).expect("open");
    assert_eq!(
        count(
            &conn,
            &format!(
                "SELECT count(*) FROM app.audit_log WHERE action = 'model_run' AND subject = '{}'",
                trained.model_id
            )
        ),
        2,
        "each scoring run is in the audit log"
    );
    let children = count(
        &conn,
        "SELECT count(*) FROM mart.risk_feature WHERE reference_date = DATE '2026-01-01'",
    );
    assert!(children > 1000);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM mart.risk_score"),
        children,
        "one score per child, the second run replacing the first"
    );
    assert_eq!(
        count(
            &conn,
            &format!(
                "SELECT count(*) FROM mart.risk_score
                 WHERE model_id <> '{}' OR score NOT BETWEEN 0 AND 1
                    OR flagged <> (score >= {})",
                trained.model_id, trained.threshold
            )
        ),
        0
    );
    // Up to three reasons per child, ranked 1.., each a sentence about a feature
    // that raised the score.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM (SELECT person_id, count(*) n, max(rank) top FROM mart.risk_reason
                                   GROUP BY person_id) WHERE n > 3 OR top <> n"
        ),
        0
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM mart.risk_reason WHERE contribution <= 0 OR sentence = ''"
        ),
        0
    );
    assert!(
        count(
            &conn,
            "SELECT count(DISTINCT person_id) FROM mart.risk_reason r
             JOIN mart.risk_score s USING (reference_date, person_id) WHERE s.flagged"
        ) > 0
    );
    // A family's score is its highest child's.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM mart.family_risk_score f
             JOIN (SELECT family_id, max(score) m FROM mart.risk_score GROUP BY family_id) s
               USING (family_id) WHERE f.score <> s.m"
        ),
        0
    );
    let stored: String = conn
        .query_row("SELECT model_json FROM mart.risk_model", [], |r| r.get(0))
        .expect("model row");
    assert!(
        RiskModelFile::from_json(&stored, "mart.risk_model").expect("stored model") == trained,
        "mart.risk_model holds the model file"
    );
}

#[test]
fn train_and_evaluate_commands_write_the_card_and_json() {
    let dir = tempfile::tempdir().expect("temp");
    let db = copy_db(dir.path());
    let db_arg = db.to_str().expect("path");
    let out = dir.path().join("models/risk.json");
    let truth = truth_dir();
    let truth_arg = truth.to_str().expect("path");
    let output = zonewise(&[
        "train",
        "--db",
        db_arg,
        "--train-date",
        TRAIN,
        "--test-date",
        TEST,
        "--truth",
        truth_arg,
        "--out",
        out.to_str().expect("path"),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("ROC AUC of the truth's own probabilities (oracle)"),
        "{stdout}"
    );
    {
        let conn = store::open(&db).expect("open");
        let trained_runs = count(
            &conn,
            "SELECT count(*) FROM app.audit_log WHERE action = 'model_run' AND detail LIKE 'trained on%'",
        );
        assert_eq!(trained_runs, 1, "the training run is in the audit log");
    }
    let card = std::fs::read_to_string(dir.path().join("models/risk.md")).expect("card");
    for needle in [
        "## Intended use",
        "human review",
        "synthetic",
        "substance_use",
        "oracle",
        "### Fairness",
    ] {
        assert!(card.contains(needle), "card lacks {needle}");
    }

    let output = zonewise(&[
        "evaluate",
        "--db",
        db_arg,
        "--model",
        out.to_str().expect("path"),
        "--date",
        TEST,
        "--truth",
        truth_arg,
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let saved = RiskModelFile::load(&out).expect("model");
    for field in ["roc_auc", "average_precision", "brier_score", "threshold"] {
        assert!(json[field].is_number(), "{field}: {json}");
    }
    assert_eq!(json["roc_auc"].as_f64(), saved.evaluation.roc_auc);
    assert!(json["oracle"]["oracle_roc_auc"].is_number());
    assert_eq!(json["calibration"].as_array().map(Vec::len), Some(10));
    assert!(json["top_k"]["families"]["precision"].is_number());
    assert!(
        json["precision_at_k"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );
    assert!(
        json["fairness"]
            .as_array()
            .is_some_and(|g| g.iter().any(|g| g["dimension"] == "ethnicity"))
    );

    // A date without 12 months of follow-up cannot be evaluated.
    let output = zonewise(&[
        "evaluate",
        "--db",
        db_arg,
        "--model",
        out.to_str().expect("path"),
        "--date",
        "2025-10-01",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("not complete"),
        "{stderr}"
    );
}
