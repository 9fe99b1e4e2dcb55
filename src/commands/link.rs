//! `zonewise link`, `link-files` and `evaluate-linkage`.

use std::path::PathBuf;

use crate::access::Session;
use crate::format::{new_table, thousands};
use crate::ingest::IngestProgress;
use crate::ingest::error::BlankedValues;
use crate::link::fellegi_sunter::Model;
use crate::link::files::{self, LinkFilesConfig};
use crate::link::model_file::ModelFile;
use crate::pipeline::{Pipeline, Progress};
use crate::risk::rounds::RoundSpan;
use crate::store;

use super::progress::{show_stage, stage_bar};

/// Link the ingested records into one person id per real person (core.person).
#[derive(Debug, Clone, clap::Args)]
pub struct LinkCommand {
    /// Database file made by `zonewise ingest`.
    #[arg(long)]
    pub db: PathBuf,
    /// Match probability at or above which two records are the same person.
    #[arg(long, default_value_t = 0.95)]
    pub accept: f64,
    /// Score with this saved model (from `--save-model`) instead of training one.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Write the trained Fellegi–Sunter parameters to this JSON file (e.g. under models/).
    #[arg(long)]
    pub save_model: Option<PathBuf>,
    /// Refuse to run when one blocking rule would generate more candidate pairs than this.
    #[arg(long, default_value_t = crate::link::LinkConfig::default().max_pairs_per_rule)]
    pub max_pairs: u64,
}

impl LinkCommand {
    /// `zonewise link`: links the ingested records and prints counts, timings and weights.
    /// With `model`, scores with a saved model instead of training one.
    pub fn run(&self, session: &Session) -> anyhow::Result<()> {
        let (db, accept, max_pairs) = (&self.db, self.accept, self.max_pairs);
        let (model, save_model) = (self.model.as_deref(), self.save_model.as_deref());
        if !db.is_file() {
            anyhow::bail!("database {} does not exist", db.display());
        }
        let model = model
            .map(ModelFile::load)
            .transpose()?
            .map(|file| file.model);
        let conn = store::open(db)?;
        let config = crate::link::LinkConfig {
            accept_probability: accept,
            model,
            max_pairs_per_rule: max_pairs,
            ..Default::default()
        };
        let bar = stage_bar();
        let mut show = |p: &Progress| show_stage(&bar, p);
        let mut pipeline = Pipeline::new(&conn, &session.user, &mut show);
        let report = pipeline.link(&config);
        bar.finish_and_clear();
        let report = report?;
        print_pairs_per_rule(&report.pairs_per_rule);
        println!(
            "{} records → {} candidate pairs → {} accepted ({} held apart: born a generation apart), {} for review → {} people in {} families",
            thousands(report.records as i64),
            thousands(report.candidate_pairs as i64),
            thousands(report.accepted_pairs as i64),
            thousands(report.held_apart as i64),
            thousands(report.review_pairs as i64),
            thousands(report.persons as i64),
            thousands(report.families as i64)
        );
        print_unreadable_postcodes(&report.unreadable_postcodes);
        if let Some(changes) = &report.changes {
            print_changes(changes);
        }
        let mut timings = new_table(&["Stage", "Seconds"]);
        for (stage, seconds) in &report.timings {
            timings.add_row(vec![stage.clone(), format!("{seconds:.2}")]);
        }
        println!("{timings}");
        print_model(&report.model);
        print_weight_histogram(&report.weight_histogram);
        // The same bar again for the next stage (it was cleared to print the tables).
        bar.reset();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        let rounds = pipeline.criteria(RoundSpan::History);
        bar.finish_and_clear();
        if let Some(rounds) = rounds? {
            println!(
                "Families assessed against the {} criteria at {} monthly rounds, {} to {} (the Families, Round table and Results views)",
                crate::risk::criteria::DEFAULT_SET,
                rounds.dates.len(),
                rounds.dates[0],
                rounds.current()
            );
        }
        if let Some(path) = save_model {
            ModelFile::new(
                report.model.clone(),
                report.records as u64,
                report.candidate_pairs,
            )
            .save(path)?;
            println!("Model saved to {}", path.display());
        }
        Ok(())
    }
}

/// Link or deduplicate any CSV files named in a TOML config; writes the scored pairs.
#[derive(Debug, Clone, clap::Args)]
pub struct LinkFilesCommand {
    /// The config: input files, their id and identity columns, threshold (see README).
    #[arg(long)]
    pub config: PathBuf,
    /// CSV file for the pairs at or above the threshold.
    #[arg(long, required_unless_present = "count_pairs")]
    pub output: Option<PathBuf>,
    /// Only count each blocking rule's candidate pairs, before anything is scored,
    /// to choose rules that bring true pairs together without too many others.
    #[arg(long)]
    pub count_pairs: bool,
}

impl LinkFilesCommand {
    /// `zonewise link-files`: links or deduplicates CSV files named in a TOML config
    /// and writes the scored pairs above its threshold.
    pub fn run(&self) -> anyhow::Result<()> {
        let config = LinkFilesConfig::load(&self.config)?;
        let bar = stage_bar();
        let Some(output) = self.output.as_deref().filter(|_| !self.count_pairs) else {
            let counts = files::count_blocking_pairs(&config, &mut |p: &IngestProgress| {
                bar.set_message(format!("reading {}", p.stage));
                bar.set_position((p.fraction * 1000.0) as u64);
            });
            bar.finish_and_clear();
            print_pairs_per_rule(&counts?);
            return Ok(());
        };
        let report = files::link_files(&config, output, &mut |p: &IngestProgress| {
            bar.set_message(format!("reading {}", p.stage));
            bar.set_position((p.fraction * 1000.0) as u64);
        });
        bar.finish_and_clear();
        let report = report?;
        let score = &report.score;
        println!(
            "{} records → {} candidate pairs → {} pairs with match probability ≥ {} written to {}",
            thousands(score.records as i64),
            thousands(score.candidate_pairs as i64),
            thousands(report.pairs_written as i64),
            config.threshold,
            report.output.display()
        );
        println!(
            "{}",
            if score.trained {
                "Model trained on these files (use `model = ...` in the config to score with a saved one)"
            } else {
                "Scored with the saved model named in the config"
            }
        );
        print_pairs_per_rule(&score.pairs_per_rule);
        super::ingest::print_blanked(
            &report.blanked,
            "compared as missing (`strict = true` refuses them instead)",
        );
        print_unreadable_postcodes(&report.unreadable_postcodes);
        let mut timings = new_table(&["Stage", "Seconds"]);
        for (stage, seconds) in &score.timings {
            timings.add_row(vec![stage.clone(), format!("{seconds:.2}")]);
        }
        println!("{timings}");
        Ok(())
    }
}

/// What changed since the previous run: the people and families that continue
/// keep their ids; merges, splits and moves are listed in `app.family_change`.
fn print_changes(changes: &crate::link::lineage::Changes) {
    println!("Since the last refresh (linkage run {}):", changes.run_id);
    let mut table = new_table(&["Change", "Count"]);
    for (change, count) in [
        ("new people", changes.new_persons),
        (
            "people merged (two or more records' people now one)",
            changes.merged_persons,
        ),
        ("people split", changes.split_persons),
        ("families kept (same id)", changes.families_kept),
        ("new families", changes.new_families),
        ("families merged", changes.merged_families),
        ("families split", changes.split_families),
        ("families gone", changes.gone_families),
        ("families moved zone", changes.moved_zone),
        (
            "round-table decisions moved with their family",
            changes.decisions_moved,
        ),
        (
            "families for the round table to check",
            changes.needs_review,
        ),
    ] {
        table.add_row(vec![change.to_string(), thousands(count as i64)]);
    }
    println!("{table}");
}

/// How many postcodes linkage compared as missing, and the first few by source and line.
fn print_unreadable_postcodes(postcodes: &BlankedValues) {
    if postcodes.count > 0 {
        super::ingest::print_blanked(
            &[("postcode".to_string(), postcodes.clone())],
            "compared as missing (not shaped like a UK postcode)",
        );
    }
}

/// Each blocking rule and the candidate pairs it makes on its own (rules overlap,
/// so the pairs compared are at most their sum).
fn print_pairs_per_rule(counts: &[(String, u64)]) {
    let mut table = new_table(&["Blocking rule", "Pairs"]);
    for (rule, pairs) in counts {
        table.add_row(vec![rule.clone(), thousands(*pairs as i64)]);
    }
    println!("{table}");
}

/// Compare the linkage in a database with a synthetic county's ground truth.
#[derive(Debug, Clone, clap::Args)]
pub struct EvaluateLinkageCommand {
    /// Database file that `zonewise link` has run on.
    #[arg(long)]
    pub db: PathBuf,
    /// The county's truth folder (from `zonewise synth`).
    #[arg(long)]
    pub truth: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl EvaluateLinkageCommand {
    /// `zonewise evaluate-linkage`: pairwise and cluster-level quality against the truth.
    pub fn run(&self) -> anyhow::Result<()> {
        let (db, truth, json) = (&self.db, &self.truth, self.json);
        if !db.is_file() {
            anyhow::bail!("database {} does not exist", db.display());
        }
        let conn = store::open(db)?;
        let quality = crate::link::evaluate::evaluate(&conn, truth)?;
        if json {
            println!("{}", serde_json::to_string_pretty(&quality)?);
            return Ok(());
        }
        let mut table = new_table(&["Measure", "Value"]);
        for (measure, value) in [
            ("records", thousands(quality.records as i64)),
            ("true pairs", thousands(quality.true_pairs as i64)),
            ("predicted pairs", thousands(quality.predicted_pairs as i64)),
            ("correct pairs", thousands(quality.correct_pairs as i64)),
            ("precision", format!("{:.4}", quality.precision)),
            ("recall", format!("{:.4}", quality.recall)),
            ("F1", format!("{:.4}", quality.f1)),
            (
                "true persons split over several ids",
                format!("{:.2}%", quality.split_persons * 100.0),
            ),
            (
                "ids merging different people",
                format!("{:.2}%", quality.merged_ids * 100.0),
            ),
            (
                "family precision",
                format!("{:.4}", quality.family_precision),
            ),
            ("family recall", format!("{:.4}", quality.family_recall)),
            ("family F1", format!("{:.4}", quality.family_f1)),
        ] {
            table.add_row(vec![measure.to_string(), value]);
        }
        println!("{table}");
        Ok(())
    }
}

fn print_model(model: &Model) {
    let mut table = new_table(&["Comparison", "m by level", "u by level"]);
    for comparison in &model.comparisons {
        let show = |values: &[f64]| {
            values
                .iter()
                .map(|v| format!("{v:.3}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        table.add_row(vec![
            comparison.name.clone(),
            show(&comparison.m),
            show(&comparison.u),
        ]);
    }
    println!("{table}");
    println!(
        "Prior probability that two random records are the same person (λ): {:.3e}",
        model.lambda
    );
}

fn print_weight_histogram(histogram: &[(i64, u64)]) {
    let widest = histogram.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    println!("Match weights of candidate pairs:");
    for (bucket, pairs) in histogram {
        let bar = "█".repeat(((*pairs as f64 / widest as f64) * 50.0).ceil() as usize);
        println!(
            "  {bucket:>4} to {:>4} {bar} {}",
            bucket + 2,
            thousands(*pairs as i64)
        );
    }
}
