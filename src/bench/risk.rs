//! `zonewise bench risk`: generates, ingests and links a synthetic county of a
//! given size, then times the risk pipeline — building features and labels for
//! both reference dates, training (candidates, refit, held-out evaluation) and
//! scoring the extract date — each against a reference run in the same process,
//! so the ratios say what the work adds over its bare minimum:
//!
//! - features: a plain SQL count of each child's events before the date;
//! - training: one linfa logistic regression fitted on the training matrix;
//! - scoring: reading the matrix and computing the scores, without reasons or writing.

use std::time::Instant;

use chrono::NaiveDate;
use duckdb::Connection;
use serde::Serialize;

use super::{CountySpec, Progress, RunsTable, SizesCommand, generate_and_link, run_each_size};
use crate::format::thousands;
use crate::link::LinkConfig;
use crate::risk::model::dataset::{self, Population, Preprocessing};
use crate::risk::model::evaluation::DEFAULT_K_PER_ZONE;
use crate::risk::model::logistic::Logistic;
use crate::risk::model::{self, TrainOptions, score};

/// The synthetic county's reference dates: train on the first, test on the second.
const TRAINING_DATE: (i32, u32, u32) = (2024, 4, 1);
const HELD_OUT_DATE: (i32, u32, u32) = (2025, 4, 1);
/// The extract date, scored as the app's sample is.
const SCORING_DATE: (i32, u32, u32) = (2026, 4, 1);

fn date((year, month, day): (i32, u32, u32)) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| anyhow::anyhow!("bad date"))
}

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct RiskBench {
    pub families: usize,
    pub seed: u64,
    pub persons: u64,
    pub link_seconds: f64,
    /// Children with complete follow-up on the training and held-out dates.
    pub training_children: u64,
    pub held_out_children: u64,
    pub scored_children: u64,
    pub features_reference_seconds: f64,
    /// `risk::build` for both dates.
    pub features_seconds: f64,
    pub training_reference_seconds: f64,
    /// `model::train`, which builds both dates' features again, then chooses,
    /// refits and evaluates.
    pub training_seconds: f64,
    pub scoring_reference_seconds: f64,
    /// `risk::build` of the scoring date is outside this: reading, scoring,
    /// reasons and the transaction writing them.
    pub scoring_seconds: f64,
    pub chosen: String,
    pub held_out_roc_auc: Option<f64>,
    pub oracle_roc_auc: Option<f64>,
    pub held_out_average_precision: Option<f64>,
    pub peak_memory_bytes: Option<u64>,
}

/// A plain count of each child's events before `reference_date`: the least any
/// feature build must do.
fn reference_features(conn: &Connection, reference_date: NaiveDate) -> anyhow::Result<()> {
    let _: i64 = conn.query_row(
        "SELECT count(*) FROM (
             SELECT p.person_id, count(e.event_date)
             FROM core.person p LEFT JOIN core.event e
               ON e.person_id = p.person_id AND e.event_date < ?::DATE
             WHERE p.birth_date > ?::DATE - INTERVAL 18 YEAR
             GROUP BY p.person_id)",
        [reference_date.to_string(), reference_date.to_string()],
        |row| row.get(0),
    )?;
    Ok(())
}

/// Generates, links and times one county.
pub fn run(county: &CountySpec, progress: Progress<'_>) -> anyhow::Result<RiskBench> {
    let linked = generate_and_link(
        county,
        &LinkConfig {
            max_pairs_per_rule: super::uptake::MAX_PAIRS_PER_RULE,
            ..LinkConfig::default()
        },
        progress,
    )?;
    let conn = &linked.conn;
    let (training_date, held_out_date, scoring_date) = (
        date(TRAINING_DATE)?,
        date(HELD_OUT_DATE)?,
        date(SCORING_DATE)?,
    );

    progress("timing features", None);
    let started = Instant::now();
    for day in [training_date, held_out_date] {
        reference_features(conn, day)?;
    }
    let features_reference_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for day in [training_date, held_out_date] {
        crate::risk::build(conn, day)?;
    }
    let features_seconds = started.elapsed().as_secs_f64();

    progress("timing training", None);
    let training = dataset::read(conn, training_date, Population::FollowedUp)?;
    let started = Instant::now();
    let preprocessing = Preprocessing::fit(training.raw.view());
    let inputs = preprocessing.transform(training.raw.view());
    Logistic::fit(inputs.view(), &training.labels, 0.01)?;
    let training_reference_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let trained = model::train(
        conn,
        &TrainOptions {
            training_date,
            held_out_date,
            truth: Some(linked.county_dir.join("truth")),
            k_per_zone: DEFAULT_K_PER_ZONE,
        },
        &mut |step| progress(step, None),
    )?;
    let training_seconds = started.elapsed().as_secs_f64();

    progress("timing scoring", None);
    crate::risk::build(conn, scoring_date)?;
    let started = Instant::now();
    let rows = dataset::read(conn, scoring_date, Population::Everyone)?;
    let inputs = trained.preprocessing.transform(rows.raw.view());
    std::hint::black_box(trained.estimator.probabilities(inputs.view()));
    let scoring_reference_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let summary = score::score(conn, &trained, scoring_date)?;
    let scoring_seconds = started.elapsed().as_secs_f64();

    let e = &trained.evaluation;
    Ok(RiskBench {
        families: county.families,
        seed: county.seed,
        persons: linked.report.persons,
        link_seconds: linked.link_seconds,
        training_children: trained.training_children,
        held_out_children: e.children,
        scored_children: summary.children,
        features_reference_seconds,
        features_seconds,
        training_reference_seconds,
        training_seconds,
        scoring_reference_seconds,
        scoring_seconds,
        chosen: trained.estimator.describe(),
        held_out_roc_auc: e.roc_auc,
        oracle_roc_auc: e.oracle.and_then(|o| o.oracle_roc_auc),
        held_out_average_precision: e.average_precision,
        peak_memory_bytes: super::peak_memory_bytes(),
    })
}

/// `zonewise bench risk`: each size in turn, then a table (or JSON) with one column per size.
pub fn command(sizes: &SizesCommand) -> anyhow::Result<()> {
    let runs = run_each_size("risk", sizes, false, &run)?;
    if sizes.json {
        println!("{}", serde_json::to_string_pretty(&runs)?);
        return Ok(());
    }
    let mut table = RunsTable::new(&runs, &|r: &RiskBench| {
        format!("{} families", thousands(r.families as i64))
    });
    let count = |n: u64| thousands(n as i64);
    let seconds = |s: f64| format!("{s:.2}");
    let figure = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
    table.row("persons (core.person)", &|r| count(r.persons));
    table.row("link s", &|r| seconds(r.link_seconds));
    table.row("training children (followed up)", &|r| {
        count(r.training_children)
    });
    table.row("held-out children", &|r| count(r.held_out_children));
    table.row("children scored", &|r| count(r.scored_children));
    table.row("features: reference s (2 dates)", &|r| {
        seconds(r.features_reference_seconds)
    });
    table.row("features: risk::build s (2 dates)", &|r| {
        seconds(r.features_seconds)
    });
    table.row("features ÷ reference", &|r| {
        format!("{:.1}", r.features_seconds / r.features_reference_seconds)
    });
    table.row("training: reference s (one fit)", &|r| {
        seconds(r.training_reference_seconds)
    });
    table.row("training: model::train s", &|r| seconds(r.training_seconds));
    table.row("training ÷ reference", &|r| {
        format!("{:.1}", r.training_seconds / r.training_reference_seconds)
    });
    table.row("scoring: reference s (scores only)", &|r| {
        seconds(r.scoring_reference_seconds)
    });
    table.row("scoring: score::score s", &|r| seconds(r.scoring_seconds));
    table.row("scoring ÷ reference", &|r| {
        format!("{:.1}", r.scoring_seconds / r.scoring_reference_seconds)
    });
    table.row("chosen model", &|r| r.chosen.clone());
    table.row("held-out ROC AUC", &|r| figure(r.held_out_roc_auc));
    table.row("oracle ROC AUC", &|r| figure(r.oracle_roc_auc));
    table.row("held-out average precision", &|r| {
        figure(r.held_out_average_precision)
    });
    table.row("peak memory GB (process so far)", &|r| {
        r.peak_memory_bytes
            .map_or("unknown".to_string(), |b| format!("{:.2}", b as f64 / 1e9))
    });
    println!("{}", table.table());
    println!(
        "References, in the same process: features — a plain count of each child's events \
         before the date; training — one logistic regression fitted on the training matrix \
         (model::train also rebuilds both dates' features, fits {} candidates, refits two and \
         evaluates); scoring — reading the matrix and computing scores, without reasons or the \
         write.",
        crate::risk::model::train::CANDIDATES
    );
    Ok(())
}
