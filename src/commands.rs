//! The headless commands behind `zonewise synth|ingest|link|uptake|criteria|…`: each runs one
//! pipeline stage, shows an indicatif progress bar and prints a table.

use std::path::Path;

use crate::format::{new_table, thousands};
use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use crate::access::{Session, UptakeRequest};
use crate::audit;
use crate::ingest::{self, IngestProgress, Manifest, SourceQuality};
use crate::pipeline::{Pipeline, Progress, RoundDates};
use crate::link::fellegi_sunter::Model;
use crate::link::files::{self, LinkFilesConfig};
use crate::link::model_file::ModelFile;
use crate::report::overview::read_overview;
use crate::store;
use crate::synth::{self, SynthConfig};

/// `zonewise synth`: writes a synthetic county and prints what it made.
pub fn synth_command(config: &SynthConfig) -> anyhow::Result<()> {
    let bar = progress_bar(config.families as u64, "families");
    let summary = synth::generate(config, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    let mut table = new_table(&["Source", "Rows"]);
    for (source, rows) in &summary.records_per_source {
        table.add_row(vec![source.clone(), thousands(*rows as i64)]);
    }
    println!("{table}");
    println!(
        "{} families, {} people in {} LSOAs and {} zones, written to {} in {:.1} s",
        thousands(summary.families as i64),
        thousands(summary.people as i64),
        summary.lsoas,
        summary.zones,
        config.out_dir.display(),
        summary.seconds
    );
    Ok(())
}

/// `zonewise ingest`: validates and loads a manifest's extracts, then prints the quality summary.
pub fn ingest_command(db: &Path, manifest_path: &Path) -> anyhow::Result<()> {
    let manifest = Manifest::load(manifest_path)?;
    let conn = store::open(db)?;
    let bar = stage_bar();
    let report = Pipeline::new(&conn, &mut |p| show_stage(&bar, p)).ingest(&manifest);
    bar.finish_and_clear();
    let report = report?;
    println!(
        "Loaded {} rows from {} sources into {} (load {}) in {:.1} s",
        thousands(report.sources.iter().map(|(_, rows)| *rows as i64).sum()),
        report.sources.len(),
        db.display(),
        report.load_id,
        report.seconds
    );
    print_quality(&ingest::read_quality(&conn)?);
    Ok(())
}

/// `zonewise link`: links the ingested records and prints counts, timings and weights.
/// With `model`, scores with a saved model instead of training one.
pub fn link_command(
    db: &Path,
    accept: f64,
    model: Option<&Path>,
    save_model: Option<&Path>,
    max_pairs: u64,
) -> anyhow::Result<()> {
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
    let mut pipeline = Pipeline::new(&conn, &mut show);
    let report = pipeline.link(&config);
    bar.finish_and_clear();
    let report = report?;
    let mut rules = new_table(&["Blocking rule", "Pairs"]);
    for (rule, pairs) in &report.pairs_per_rule {
        rules.add_row(vec![rule.clone(), thousands(*pairs as i64)]);
    }
    println!("{rules}");
    println!(
        "{} records → {} candidate pairs → {} accepted, {} for review → {} people in {} families",
        thousands(report.records as i64),
        thousands(report.candidate_pairs as i64),
        thousands(report.accepted_pairs as i64),
        thousands(report.review_pairs as i64),
        thousands(report.persons as i64),
        thousands(report.families as i64)
    );
    let mut timings = new_table(&["Stage", "Seconds"]);
    for (stage, seconds) in &report.timings {
        timings.add_row(vec![stage.clone(), format!("{seconds:.2}")]);
    }
    println!("{timings}");
    print_model(&report.model);
    print_weight_histogram(&report.weight_histogram);
    let rounds = pipeline.criteria();
    bar.finish_and_clear();
    if let Some(RoundDates { current, previous }) = rounds? {
        println!(
            "Families assessed against the {} criteria on {current} and {previous} (the Families and Round table views)",
            crate::risk::criteria::DEFAULT_SET
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

/// `zonewise link-files`: links or deduplicates CSV files named in a TOML config
/// and writes the scored pairs above its threshold.
pub fn link_files_command(config: &Path, output: &Path) -> anyhow::Result<()> {
    let config = LinkFilesConfig::load(config)?;
    let bar = progress_bar(1000, "");
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:<24} [{bar:40}] {percent:>3}% {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
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
    let mut timings = new_table(&["Stage", "Seconds"]);
    for (stage, seconds) in &score.timings {
        timings.add_row(vec![stage.clone(), format!("{seconds:.2}")]);
    }
    println!("{timings}");
    Ok(())
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

/// What `zonewise uptake` was asked for.
pub struct UptakeCommand {
    pub db: std::path::PathBuf,
    pub service: String,
    pub json: bool,
    /// Counts from 1 to this are withheld.
    pub threshold: u64,
    /// A service file instead of the built-in services.
    pub services: Option<std::path::PathBuf>,
    /// The day of the figures; the extract date when absent.
    pub date: Option<chrono::NaiveDate>,
    /// Write the tables as CSV files in this folder instead of printing them.
    pub csv: Option<std::path::PathBuf>,
}

/// `zonewise uptake`: checks what `session` asks for against its role (before
/// anything runs), computes, suppresses and stores one service's uptake, records
/// the run in the audit log, then prints the LSOA, decile and area tables and the
/// inequality measures (or JSON), or places CSV files and prints their paths.
pub fn uptake_command(session: &Session, command: &UptakeCommand) -> anyhow::Result<()> {
    use crate::uptake::{self, UptakeOptions, service};
    if !command.db.is_file() {
        anyhow::bail!("database {} does not exist", command.db.display());
    }
    let conn = store::open(&command.db)?;
    session.check_uptake(
        &conn,
        &UptakeRequest {
            services: command.services.as_deref(),
            threshold: command.threshold,
            date: command.date,
        },
    )?;
    let services = match &command.services {
        Some(path) => service::load(path)?,
        None => service::built_in()?,
    };
    let chosen = service::find(&services, &command.service)?;
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(format!("computing {} uptake", chosen.title));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let published = uptake::publish(
        &conn,
        chosen,
        &UptakeOptions {
            reference_date: command.date,
        },
        command.threshold,
    );
    spinner.finish_and_clear();
    let published = published?;
    if let Some(dir) = &command.csv {
        // The produced date is the user's calendar day, read here at the edge.
        let produced = chrono::Local::now().date_naive();
        let paths = uptake::export::write_csv(&published, dir, produced, |entry| {
            audit::record(&conn, entry)
        })?;
        for path in paths {
            println!("{}", path.display());
        }
        return Ok(());
    }
    // Recorded before anything is printed, as files are before they are placed.
    let format = if command.json { "JSON" } else { "table" };
    audit::record(
        &conn,
        &uptake::export::audit_entry(&published, "standard output", format),
    )?;
    if command.json {
        println!("{}", serde_json::to_string_pretty(&published)?);
        return Ok(());
    }
    let tables = published.tables();
    println!(
        "{} on {} — {}",
        tables.title, tables.reference_date, tables.description
    );
    let with_invited = tables.has_invited;
    let rows_table = |first: &str, rows: &[&uptake::UptakeRow]| {
        let mut headers = vec![first, "Name", "LSOAs", "Eligible"];
        if with_invited {
            headers.push("Invited");
        }
        headers.extend(["Attended", "Coverage (95% CI)"]);
        if with_invited {
            headers.push("Uptake (95% CI)");
        }
        let mut table = new_table(&headers);
        for row in rows {
            let mut cells = vec![
                row.code.clone(),
                row.name.clone(),
                row.lsoas.to_string(),
                shown_count(row.eligible),
            ];
            if with_invited {
                cells.push(shown_count(row.invited));
            }
            cells.extend([shown_count(row.attended), shown_rate(row.coverage)]);
            if with_invited {
                cells.push(shown_rate(row.uptake));
            }
            table.add_row(cells);
        }
        table
    };
    let lsoas: Vec<_> = tables.lsoas.iter().collect();
    println!("{}", rows_table("LSOA", &lsoas));
    let deciles: Vec<_> = tables.deciles.iter().chain(&tables.quintiles).collect();
    println!("{}", rows_table("IMD group", &deciles));
    let areas: Vec<_> = tables
        .zones
        .iter()
        .chain(&tables.wards)
        .chain(&tables.authorities)
        .chain(std::iter::once(&tables.county))
        .collect();
    println!("{}", rows_table("Area", &areas));
    let mut inequality = new_table(&["Measure", "SII (points, 95% CI)", "RII (95% CI)"]);
    for measure in &tables.inequality {
        let interval = |value: Option<f64>,
                        lower: Option<f64>,
                        upper: Option<f64>,
                        scale: f64,
                        places: usize| match (value, lower, upper) {
            (Some(v), Some(l), Some(u)) => format!(
                "{:+.places$} ({:+.places$} to {:+.places$})",
                v * scale,
                l * scale,
                u * scale
            ),
            (Some(v), _, _) => format!("{:+.places$}", v * scale),
            _ => "–".to_string(),
        };
        // As published: the SII to 0.1 points, the RII to 2 decimals.
        inequality.add_row(vec![
            measure.measure.label().to_string(),
            interval(measure.sii, measure.sii_lower, measure.sii_upper, 100.0, 1),
            interval(measure.rii, measure.rii_lower, measure.rii_upper, 1.0, 2),
        ]);
    }
    println!("{inequality}");
    for measure in &tables.inequality {
        println!("{}", measure.sentence);
    }
    println!(
        "Eligible people with no LSOA: {}",
        shown_count(tables.eligible_without_lsoa)
    );
    for note in tables
        .notes
        .iter()
        .map(String::as_str)
        .chain([published.note()])
    {
        println!("{note}");
    }
    Ok(())
}

/// A count, or blank when withheld.
fn shown_count(count: Option<u64>) -> String {
    count.map_or(String::new(), |n| thousands(n as i64))
}

/// "47.3% (44.1–50.6)", or blank when withheld or undefined.
fn shown_rate(rate: Option<crate::uptake::Rate>) -> String {
    rate.map_or(String::new(), |r| {
        format!(
            "{:.1}% ({:.1}–{:.1})",
            r.value * 100.0,
            r.lower * 100.0,
            r.upper * 100.0
        )
    })
}

/// A `--date` argument: yyyy-mm-dd.
fn parse_date(text: &str) -> anyhow::Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .with_context(|| format!("--date {text}: expected yyyy-mm-dd"))
}

/// A spinner for a stage whose length is not known in advance.
fn spinner(message: String) -> ProgressBar {
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(message);
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}

/// `zonewise export-features`: builds every child's features and label at a
/// reference date (`mart.risk_feature`, `mart.risk_label`) and writes them to a
/// CSV or Parquet file, by its extension.
pub fn export_features_command(db: &Path, date: &str, out: &Path) -> anyhow::Result<()> {
    use crate::risk::{self, export};
    let reference_date = parse_date(date)?;
    export::Format::from_path(out)?;
    if !db.is_file() {
        anyhow::bail!("database {} does not exist", db.display());
    }
    let conn = store::open(db)?;
    let progress = spinner(format!("building features on {reference_date}"));
    let written = risk::build(&conn, reference_date).and_then(|built| {
        progress.set_message(format!("writing {}", out.display()));
        export::write(&conn, reference_date, out).map(|written| (built, written))
    });
    progress.finish_and_clear();
    let (built, written) = written?;
    let mut table = new_table(&["Measure", "Value"]);
    let share = |n: u64| {
        if built.children == 0 {
            String::new()
        } else {
            format!(" ({:.1}%)", 100.0 * n as f64 / built.children as f64)
        }
    };
    for (measure, value) in [
        ("reference date", reference_date.to_string()),
        ("children (rows)", thousands(built.children as i64)),
        ("families", thousands(built.families as i64)),
        (
            "label 1: child protection or care within 12 months",
            format!(
                "{}{}",
                thousands(built.positive_labels as i64),
                share(built.positive_labels)
            ),
        ),
        (
            "12-month follow-up complete",
            if built.follow_up_complete {
                "yes"
            } else {
                "no: some outcomes may be missing"
            }
            .to_string(),
        ),
        ("columns", written.columns.to_string()),
    ] {
        table.add_row(vec![measure.to_string(), value]);
    }
    println!("{table}");
    println!(
        "{} rows written to {} ({})",
        thousands(written.rows as i64),
        out.display(),
        written.format.name()
    );
    Ok(())
}

/// `zonewise criteria`: applies a rule set of headline problems at a reference
/// date, writes `mart.family_criterion`, `mart.criterion_evidence` and
/// `mart.criterion_rule`, and prints how many families meet each criterion.
pub fn criteria_command(
    db: &Path,
    date: &str,
    rules: Option<&Path>,
    set: &str,
) -> anyhow::Result<()> {
    use crate::risk::criteria;
    let reference_date = parse_date(date)?;
    let sets = match rules {
        Some(path) => criteria::load(path)?,
        None => criteria::built_in()?,
    };
    let chosen = criteria::find(&sets, set)?;
    if !db.is_file() {
        anyhow::bail!("database {} does not exist", db.display());
    }
    let conn = store::open(db)?;
    let progress = spinner(format!("applying {} on {reference_date}", chosen.name));
    let summary = criteria::evaluate(&conn, chosen, reference_date);
    progress.finish_and_clear();
    let summary = summary?;
    println!("{} on {reference_date}", summary.title);
    let mut table = new_table(&[
        "Criterion",
        "Title",
        "Families meeting",
        "Share",
        "Evidence events",
    ]);
    for criterion in &summary.criteria {
        let share = if summary.families == 0 {
            String::new()
        } else {
            format!(
                "{:.1}%",
                100.0 * criterion.families_met as f64 / summary.families as f64
            )
        };
        table.add_row(vec![
            criterion.name.clone(),
            criterion.title.clone(),
            thousands(criterion.families_met as i64),
            share,
            thousands(criterion.evidence_events as i64),
        ]);
    }
    println!("{table}");
    println!(
        "{} families with a child under 18; {} meet at least {} criteria. \
         Each family's criteria are in mart.family_criterion, the events behind them in \
         mart.criterion_evidence.",
        thousands(summary.families as i64),
        thousands(summary.eligible_families as i64),
        summary.eligible_at
    );
    Ok(())
}

/// What `zonewise train` was asked for.
pub struct TrainCommand {
    pub db: std::path::PathBuf,
    /// yyyy-mm-dd
    pub train_date: String,
    /// yyyy-mm-dd
    pub test_date: String,
    pub truth: Option<std::path::PathBuf>,
    pub k_per_zone: usize,
    pub out: std::path::PathBuf,
}

/// `zonewise train`: chooses and fits a risk model, evaluates it on the later
/// date, writes the model file and its card beside it, and prints the figures.
pub fn train_command(command: &TrainCommand) -> anyhow::Result<()> {
    use crate::risk::model::{self, TrainOptions, card};
    let options = TrainOptions {
        training_date: parse_date(&command.train_date)?,
        held_out_date: parse_date(&command.test_date)?,
        truth: command.truth.clone(),
        k_per_zone: command.k_per_zone,
    };
    if !command.db.is_file() {
        anyhow::bail!("database {} does not exist", command.db.display());
    }
    let conn = store::open(&command.db)?;
    let progress = spinner("training".to_string());
    let trained = model::train(&conn, &options, &mut |step| {
        progress.set_message(step.to_string())
    });
    progress.finish_and_clear();
    let trained = trained?;
    trained.save(&command.out)?;
    let card_path = command.out.with_extension("md");
    let file_name = command
        .out
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    std::fs::write(&card_path, card::markdown(&trained, &file_name))
        .with_context(|| format!("cannot write the model card {}", card_path.display()))?;
    crate::audit::record(
        &conn,
        &crate::audit::Entry::new(crate::audit::Action::ModelRun, trained.model_id.as_str())
            .with_detail(format!(
                "trained on {}, held out {}; written to {}",
                options.training_date,
                options.held_out_date,
                command.out.display()
            )),
    )?;
    let mut candidates = new_table(&[
        "Candidate",
        "Validation average precision",
        "Validation ROC AUC",
    ]);
    for c in &trained.selection.candidates {
        candidates.add_row(vec![
            c.description.clone(),
            figure(c.validation_average_precision),
            figure(c.validation_roc_auc),
        ]);
    }
    println!("{candidates}");
    println!("{}", trained.selection.reason);
    let mut kinds = new_table(&[
        "Refitted on the training date",
        "Held-out ROC AUC",
        "Average precision",
        "Brier",
    ]);
    for k in &trained.held_out_by_kind {
        kinds.add_row(vec![
            k.description.clone(),
            figure(k.roc_auc),
            figure(k.average_precision),
            figure(k.brier_score),
        ]);
    }
    println!("{kinds}");
    print_evaluation(&trained.evaluation);
    println!(
        "Model {} written to {}, its card to {}",
        trained.model_id,
        command.out.display(),
        card_path.display()
    );
    Ok(())
}

/// `zonewise score`: scores every child at a date into `mart.risk_score` and `mart.risk_reason`.
pub fn score_command(db: &Path, model_path: &Path, date: &str) -> anyhow::Result<()> {
    use crate::risk::model::file::RiskModelFile;
    let reference_date = parse_date(date)?;
    let model = RiskModelFile::load(model_path)?;
    if !db.is_file() {
        anyhow::bail!("database {} does not exist", db.display());
    }
    let conn = store::open(db)?;
    let bar = stage_bar();
    let summary = Pipeline::new(&conn, &mut |p| show_stage(&bar, p))
        .score(&model, reference_date);
    bar.finish_and_clear();
    let summary = summary?;
    crate::audit::record(
        &conn,
        &crate::audit::Entry::new(crate::audit::Action::ModelRun, model.model_id.as_str())
            .with_detail(format!(
                "scored {reference_date}: {} children, {} families flagged",
                summary.children, summary.flagged_families
            )),
    )?;
    println!(
        "{} children in {} families scored on {reference_date} with {}: {} children in {} families flagged for review (score ≥ {:.3}). \
         Scores are in mart.risk_score (families: mart.family_risk_score), reasons in mart.risk_reason.",
        thousands(summary.children as i64),
        thousands(summary.families as i64),
        model.model_id,
        thousands(summary.flagged_children as i64),
        thousands(summary.flagged_families as i64),
        model.threshold
    );
    let mut statement = conn.prepare(
        "SELECT s.family_id, s.person_id, s.score,
                string_agg(r.sentence, '; ' ORDER BY r.rank)
         FROM (SELECT * FROM mart.risk_score WHERE reference_date = ?::DATE
               ORDER BY score DESC, person_id LIMIT 5) s
         LEFT JOIN mart.risk_reason r USING (reference_date, person_id)
         GROUP BY ALL ORDER BY s.score DESC, s.person_id",
    )?;
    let mut top = new_table(&["Family", "Child", "Score", "What raised it most"]);
    for row in statement.query_map([reference_date.to_string()], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, f64>(2)?,
            row.get::<_, Option<String>>(3)?,
        ))
    })? {
        let (family, person, score, reasons) = row?;
        top.add_row(vec![
            family,
            person,
            format!("{:.1}%", score * 100.0),
            reasons.unwrap_or_default(),
        ]);
    }
    println!("The five highest scores, for review:\n{top}");
    Ok(())
}

/// `zonewise evaluate`: a saved model's held-out figures on a date, as tables or JSON.
pub fn evaluate_command(
    db: &Path,
    model_path: &Path,
    date: &str,
    truth: Option<&Path>,
    k_per_zone: usize,
    json: bool,
) -> anyhow::Result<()> {
    use crate::risk::model::{self, file::RiskModelFile};
    let reference_date = parse_date(date)?;
    let model = RiskModelFile::load(model_path)?;
    if !db.is_file() {
        anyhow::bail!("database {} does not exist", db.display());
    }
    let conn = store::open(db)?;
    let progress = spinner(format!("evaluating {} on {reference_date}", model.model_id));
    let evaluation = model::evaluate(&conn, &model, reference_date, k_per_zone, truth);
    progress.finish_and_clear();
    let evaluation = evaluation?;
    if json {
        println!("{}", serde_json::to_string_pretty(&evaluation)?);
    } else {
        println!(
            "{} ({}) on {reference_date}",
            model.model_id,
            model.estimator.describe()
        );
        print_evaluation(&evaluation);
    }
    Ok(())
}

/// A figure to three decimals, or "–".
fn figure(value: Option<f64>) -> String {
    value.map_or("–".to_string(), |v| format!("{v:.3}"))
}

/// A share as a percentage, or "–".
fn percent(value: Option<f64>) -> String {
    value.map_or("–".to_string(), |v| format!("{:.1}%", v * 100.0))
}

/// The held-out figures, calibration and fairness tables.
fn print_evaluation(e: &crate::risk::model::evaluation::Evaluation) {
    let mut table = new_table(&["Held-out figure", "Value"]);
    let oracle = e.oracle.as_ref();
    for (name, value) in [
        ("reference date", e.reference_date.clone()),
        (
            "children (labelled 1)",
            format!(
                "{} ({})",
                thousands(e.children as i64),
                thousands(e.positives as i64)
            ),
        ),
        ("ROC AUC", figure(e.roc_auc)),
        (
            "oracle ROC AUC (truth's probability), same children",
            oracle.map_or("– (give --truth)".to_string(), |o| {
                format!(
                    "{} (ours {} on {} children)",
                    figure(o.oracle_roc_auc),
                    figure(o.model_roc_auc),
                    o.children
                )
            }),
        ),
        ("average precision (PR AUC)", figure(e.average_precision)),
        (
            "oracle average precision",
            oracle.map_or("–".to_string(), |o| figure(o.oracle_average_precision)),
        ),
        ("share labelled 1", percent(Some(e.base_rate))),
        ("Brier score", figure(e.brier_score)),
        ("threshold", format!("{:.3}", e.threshold)),
        (
            "children flagged: precision, recall",
            format!(
                "{}: {}, {}",
                e.at_threshold.flagged,
                percent(e.at_threshold.precision),
                percent(e.at_threshold.recall)
            ),
        ),
        (
            "top families per zone: precision, recall",
            format!(
                "k = {} × {} zones ({} families): {}, {}",
                e.top_k.k_per_zone,
                e.top_k.zones,
                e.top_k.families.flagged,
                percent(e.top_k.families.precision),
                percent(e.top_k.families.recall)
            ),
        ),
    ] {
        table.add_row(vec![name.to_string(), value]);
    }
    println!("{table}");
    let mut calibration = new_table(&["Score bin", "Children", "Mean score", "Observed rate"]);
    for (index, bin) in e.calibration.iter().enumerate() {
        calibration.add_row(vec![
            (index + 1).to_string(),
            thousands(bin.count as i64),
            format!("{:.1}%", bin.mean_score * 100.0),
            format!("{:.1}%", bin.observed_rate * 100.0),
        ]);
    }
    println!("{calibration}");
    let mut fairness = new_table(&[
        "By",
        "Group",
        "Children",
        "Labelled 1",
        "ROC AUC",
        "Flagged",
        "Precision",
        "Recall",
    ]);
    for g in &e.fairness {
        fairness.add_row(vec![
            g.dimension.clone(),
            g.group.clone(),
            thousands(g.children as i64),
            format!("{:.1}%", g.observed_rate * 100.0),
            figure(g.roc_auc),
            thousands(g.at_threshold.flagged as i64),
            percent(g.at_threshold.precision),
            percent(g.at_threshold.recall),
        ]);
    }
    println!("{fairness}");
}

/// `zonewise evaluate-linkage`: pairwise and cluster-level quality against the truth.
pub fn evaluate_linkage_command(db: &Path, truth: &Path, json: bool) -> anyhow::Result<()> {
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

/// `zonewise quality`: prints what a database holds and each source's quality summary.
pub fn quality_command(db: &Path) -> anyhow::Result<()> {
    if !db.is_file() {
        anyhow::bail!("database {} does not exist", db.display());
    }
    let conn = store::open(db)?;
    let figures = read_overview(&conn).context("reading the overview")?;
    println!(
        "{}: sources {}, person records {}, rows {}; authorities {}, zones {}, LSOAs {}",
        figures.county,
        figures.sources,
        thousands(figures.person_records),
        thousands(figures.rows),
        figures.authorities,
        figures.zones,
        figures.lsoas
    );
    print_quality(&ingest::read_quality(&conn)?);
    Ok(())
}

fn print_quality(sources: &[SourceQuality]) {
    let mut table = new_table(&[
        "Source",
        "Agency",
        "Rows",
        "Person records",
        "Duplicate keys",
        "Events from",
        "to",
        "Completeness of identity fields",
    ]);
    for source in sources {
        let completeness = source
            .completeness
            .iter()
            .map(|(field, share)| format!("{field} {:.0}%", share * 100.0))
            .collect::<Vec<_>>()
            .join(", ");
        table.add_row(vec![
            source.name.clone(),
            source.agency.clone(),
            thousands(source.total_rows),
            thousands(source.records),
            thousands(source.duplicate_keys),
            source.first_event.clone().unwrap_or_default(),
            source.last_event.clone().unwrap_or_default(),
            completeness,
        ]);
    }
    println!("{table}");
}

/// A bar for the pipeline's stages: what runs now, and how far where it can tell.
fn stage_bar() -> ProgressBar {
    let bar = progress_bar(1000, "");
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:<24} [{bar:40}] {percent:>3}% {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Shows a pipeline stage's progress on `bar`.
fn show_stage(bar: &ProgressBar, progress: &Progress) {
    bar.set_message(progress.stage.to_string());
    bar.set_position((progress.fraction * 1000.0) as u64);
}

fn progress_bar(length: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(length);
    let template = format!("[{{bar:40}}] {{pos}}/{{len}} {unit} {{elapsed}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}
