//! `zonewise export-features` and `zonewise criteria`: the risk data at a date.

use std::path::PathBuf;

use crate::access::Session;
use crate::format::{new_table, thousands};
use crate::store;

use super::progress::spinner;

/// Build every child's features and label at a reference date and write them,
/// with the label, to a CSV or Parquet file (by extension).
#[derive(Debug, Clone, clap::Args)]
pub struct ExportFeaturesCommand {
    /// Database file that `zonewise link` has run on.
    #[arg(long)]
    pub db: PathBuf,
    /// Reference date: features use events before it, the label the 12 months from it.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    pub date: chrono::NaiveDate,
    /// Output file: .csv or .parquet.
    #[arg(long)]
    pub out: PathBuf,
}

impl ExportFeaturesCommand {
    /// `zonewise export-features`: builds every child's features and label at a
    /// reference date (`mart.risk_feature`, `mart.risk_label`) and writes them to a
    /// CSV or Parquet file, by its extension.
    pub fn run(&self, session: &Session) -> anyhow::Result<()> {
        let (db, reference_date, out) = (&self.db, self.date, &self.out);
        use crate::risk::{self, export};
        export::Format::from_path(out)?;
        if !db.is_file() {
            anyhow::bail!("database {} does not exist", db.display());
        }
        let conn = store::open(db)?;
        let progress = spinner(format!("building features on {reference_date}"));
        let written = risk::build(&conn, reference_date).and_then(|built| {
            progress.set_message(format!("writing {}", out.display()));
            export::write(&conn, reference_date, out, &session.user).map(|written| (built, written))
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
}

/// Apply the Supporting Families (or Troubled Families 2015) headline problems at a
/// reference date; print how many families meet each criterion.
#[derive(Debug, Clone, clap::Args)]
pub struct CriteriaCommand {
    /// Database file that `zonewise link` has run on.
    #[arg(long)]
    pub db: PathBuf,
    /// Reference date: the rules read events before it.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    pub date: chrono::NaiveDate,
    /// A TOML file of rules in the format of assets/criteria.toml (default: the built-in rules).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// The rule set: supporting-families or troubled-families-2015 (or one in --rules).
    #[arg(long, default_value = crate::risk::criteria::DEFAULT_SET)]
    pub set: String,
}

impl CriteriaCommand {
    /// `zonewise criteria`: applies a rule set of headline problems at a reference
    /// date, writes `mart.family_criterion`, `mart.criterion_evidence` and
    /// `mart.criterion_rule`, and prints how many families meet each criterion.
    pub fn run(&self) -> anyhow::Result<()> {
        let (db, reference_date, rules, set) =
            (&self.db, self.date, self.rules.as_deref(), &self.set);
        use crate::risk::criteria;
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
}
