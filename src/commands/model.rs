//! `zonewise train`, `score` and `evaluate`: risk models.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::access::Session;
use crate::format::{new_table, thousands};
use crate::pipeline::Pipeline;
use crate::risk::model::evaluation::Evaluation;
use crate::risk::model::tables::{self, TextTable};
use crate::store;

use super::progress::{show_stage, spinner, stage_bar};

/// Train risk models on one reference date, choose one on validation families,
/// evaluate it on a later date; write the model (JSON) and its card (Markdown).
#[derive(Debug, Clone, clap::Args)]
pub struct TrainCommand {
    /// Database file that `zonewise link` has run on.
    #[arg(long)]
    pub db: PathBuf,
    /// Reference date of the training rows.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    pub train_date: chrono::NaiveDate,
    /// Held-out reference date, at least 12 months later.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    pub test_date: chrono::NaiveDate,
    /// A synthetic county's truth folder: adds the oracle AUC to the figures.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Families a zone's round table can discuss (top-k figures and the threshold).
    #[arg(long = "k", value_name = "K", default_value_t = crate::risk::model::evaluation::DEFAULT_K_PER_ZONE)]
    pub k_per_zone: usize,
    /// The model file to write (e.g. models/NAME.json); the card goes beside it as NAME.md.
    #[arg(long)]
    pub out: PathBuf,
}

impl TrainCommand {
    /// `zonewise train`: chooses and fits a risk model, evaluates it on the later
    /// date, writes the model file and its card beside it, and prints the figures.
    pub fn run(&self, session: &Session) -> anyhow::Result<()> {
        let command = self;
        use crate::risk::model::{self, TrainOptions, card};
        let options = TrainOptions {
            training_date: command.train_date,
            held_out_date: command.test_date,
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
            &crate::audit::Entry::new(
                &session.user,
                crate::audit::Action::ModelRun,
                trained.model_id.as_str(),
            )
            .with_detail(format!(
                "trained on {}, held out {}; written to {}",
                options.training_date,
                options.held_out_date,
                command.out.display()
            )),
        )?;
        print_table(&tables::candidates(&trained));
        println!("{}", trained.selection.reason);
        print_table(&tables::held_out_by_kind(&trained));
        print_evaluation(&trained.evaluation);
        println!(
            "Model {} written to {}, its card to {}",
            trained.model_id,
            command.out.display(),
            card_path.display()
        );
        Ok(())
    }
}

/// Score every child at a reference date with a saved model into
/// mart.risk_score and mart.risk_reason (replacing that date's rows).
#[derive(Debug, Clone, clap::Args)]
pub struct ScoreCommand {
    /// Database file that `zonewise link` has run on.
    #[arg(long)]
    pub db: PathBuf,
    /// The model file (from `zonewise train`).
    #[arg(long)]
    pub model: PathBuf,
    /// Reference date: features use events before it.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    pub date: chrono::NaiveDate,
}

impl ScoreCommand {
    /// `zonewise score`: scores every child at a date into `mart.risk_score` and `mart.risk_reason`.
    pub fn run(&self, session: &Session) -> anyhow::Result<()> {
        let (db, model_path, reference_date) = (&self.db, &self.model, self.date);
        use crate::risk::model::file::RiskModelFile;
        let model = RiskModelFile::load(model_path)?;
        if !db.is_file() {
            anyhow::bail!("database {} does not exist", db.display());
        }
        let conn = store::open(db)?;
        let bar = stage_bar();
        let summary = Pipeline::new(&conn, &session.user, &mut |p| show_stage(&bar, p))
            .score(&model, reference_date);
        bar.finish_and_clear();
        let summary = summary?;
        crate::audit::record(
            &conn,
            &crate::audit::Entry::new(
                &session.user,
                crate::audit::Action::ModelRun,
                model.model_id.as_str(),
            )
            .with_detail(format!(
                "scored {reference_date}: {} children, {} families at or above the threshold",
                summary.children, summary.flagged_families
            )),
        )?;
        let flagged: i64 =
            crate::report::flags::flagged_per_zone(&conn, &reference_date.to_string())?
                .iter()
                .map(|(_, n)| n)
                .sum();
        println!(
            "{} children in {} families scored on {reference_date} with {}: {} children in {} families at or above the model's threshold ({:.3}). \
             Flagged for the round tables (each zone's top families within its capacity, `zonewise capacity`): {} families. \
             Scores are in mart.risk_score (families: mart.family_risk_score), reasons in mart.risk_reason.",
            thousands(summary.children as i64),
            thousands(summary.families as i64),
            model.model_id,
            thousands(summary.flagged_children as i64),
            thousands(summary.flagged_families as i64),
            model.threshold,
            thousands(flagged)
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
}

/// Held-out figures of a saved model on a reference date with complete follow-up.
#[derive(Debug, Clone, clap::Args)]
pub struct EvaluateCommand {
    /// Database file that `zonewise link` has run on.
    #[arg(long)]
    pub db: PathBuf,
    /// The model file (from `zonewise train`).
    #[arg(long)]
    pub model: PathBuf,
    /// Reference date, at least 12 months before the extracts end.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    pub date: chrono::NaiveDate,
    /// A synthetic county's truth folder: adds the oracle AUC.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Families a zone's round table can discuss.
    #[arg(long = "k", value_name = "K", default_value_t = crate::risk::model::evaluation::DEFAULT_K_PER_ZONE)]
    pub k_per_zone: usize,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

impl EvaluateCommand {
    /// `zonewise evaluate`: a saved model's held-out figures on a date, as tables or JSON.
    pub fn run(&self) -> anyhow::Result<()> {
        let (db, model_path, reference_date) = (&self.db, &self.model, self.date);
        let (truth, k_per_zone, json) = (self.truth.as_deref(), self.k_per_zone, self.json);
        use crate::risk::model::{self, file::RiskModelFile};
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
}

/// A model's table, drawn for the terminal.
fn print_table(table: &TextTable) {
    let mut drawn = new_table(&table.headers);
    for row in &table.rows {
        drawn.add_row(row.clone());
    }
    println!("{drawn}");
}

/// The held-out figures, calibration and fairness tables, as the model card has them.
fn print_evaluation(e: &Evaluation) {
    println!(
        "Held out on {}: {} children ({} labelled 1)",
        e.reference_date,
        thousands(e.children as i64),
        thousands(e.positives as i64)
    );
    print_table(&tables::held_out_figures(e));
    println!("Calibration (children in ten bins by score):");
    print_table(&tables::calibration(e));
    println!("Fairness (the same figures by group):");
    print_table(&tables::fairness(e));
}
