//! The command line: [`Cli`] opens the window or runs one [`Command`]. Each
//! command's clap `Args` struct is its own configuration, defined beside its body
//! in a module named after it, so its `--help` comes from the types and nothing
//! re-packs it. Which commands open a council database, and what a user must be
//! granted to run each, comes from the command type ([`CommandName::needs`]).

pub mod audit;
pub mod capacity;
pub mod claims;
pub mod features;
pub mod ingest;
pub mod link;
pub mod model;
pub mod progress;
pub mod quality;
pub mod server;
pub mod synth;
pub mod uptake;
pub mod user;
pub mod window;

use std::path::PathBuf;

use crate::access::{Capability, Session};
use crate::bench::BenchCommand;

/// Zonewise: linked agency data, early-help flags and uptake maps for councils.
///
/// With no command, opens the app on the bundled sample county.
#[derive(Debug, clap::Parser)]
#[command(name = "zonewise", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Sign in as this user to run a command on a database that has users (the
    /// password is asked for, or read from ZONEWISE_PASSWORD); for the window, who
    /// signs in at once with ZONEWISE_PASSWORD, or the name the sign-in form starts with.
    #[arg(long = "as", global = true, env = "ZONEWISE_USER", value_name = "USER")]
    pub sign_in_as: Option<String>,

    #[command(flatten)]
    pub window: window::WindowArgs,
}

impl Cli {
    /// Runs the command, or opens the window when there is none.
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Some(command) => command.run(self.sign_in_as.as_deref()),
            None => self.window.open(self.sign_in_as),
        }
    }
}

/// One headless command.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Generate a synthetic county: agency extracts, a manifest, zones and ground truth.
    Synth(crate::synth::SynthConfig),
    /// Validate the extracts a source manifest lists and load them, all or nothing.
    Ingest(ingest::IngestCommand),
    /// Link the ingested records into one person id per real person (core.person).
    Link(link::LinkCommand),
    /// Link or deduplicate any CSV files named in a TOML config; writes the scored pairs.
    LinkFiles(link::LinkFilesCommand),
    /// Compare the linkage in a database with a synthetic county's ground truth.
    EvaluateLinkage(link::EvaluateLinkageCommand),
    /// Uptake of a service per LSOA and IMD decile, with Wilson intervals, the slope
    /// and relative indices of inequality, and small numbers suppressed.
    Uptake(uptake::UptakeCommand),
    /// Build every child's features and label at a reference date and write them,
    /// with the label, to a CSV or Parquet file (by extension).
    ExportFeatures(features::ExportFeaturesCommand),
    /// Apply the Supporting Families (or Troubled Families 2015) headline problems at a
    /// reference date; print how many families meet each criterion.
    Criteria(features::CriteriaCommand),
    /// Train risk models on one reference date, choose one on validation families,
    /// evaluate it on a later date; write the model (JSON) and its card (Markdown).
    Train(model::TrainCommand),
    /// Score every child at a reference date with a saved model into
    /// mart.risk_score and mart.risk_reason (replacing that date's rows).
    Score(model::ScoreCommand),
    /// Held-out figures of a saved model on a reference date with complete follow-up.
    Evaluate(model::EvaluateCommand),
    /// Print what a database holds and each source's data-quality summary.
    Quality(quality::QualityCommand),
    /// List each zone's round-table capacity (families discussed a round, which
    /// decides what is flagged), or set one zone's.
    Capacity(capacity::CapacityCommand),
    /// Supporting Families outcome claims: the families in a plan that made
    /// significant and sustained progress, as a CSV with each rule's evidence.
    Claims(claims::ClaimsCommand),
    /// Users and their roles.
    User {
        #[command(subcommand)]
        user: user::UserCommand,
    },
    /// The audit log: verify its hash chain, or list its entries.
    Audit {
        #[command(subcommand)]
        audit: audit::AuditCommand,
    },
    /// The team's shared PostgreSQL server: initialise it, add and manage logins, verify its audit log.
    Server {
        #[command(subcommand)]
        server: server::ServerCommand,
    },
    /// Copy what the views read from a database file to the team's server, as one release.
    Publish(server::PublishCommand),
    /// Benchmarks: figures at a stated scale, for comparison with reference tools.
    Bench {
        #[command(subcommand)]
        bench: BenchCommand,
    },
}

/// The name of each command, as typed (clap names both alike), and the one
/// table of what each needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CommandName {
    Synth,
    Ingest,
    Link,
    LinkFiles,
    EvaluateLinkage,
    Uptake,
    ExportFeatures,
    Criteria,
    Train,
    Score,
    Evaluate,
    Quality,
    Capacity,
    Claims,
    User,
    Audit,
    Server,
    Publish,
    Bench,
}

impl CommandName {
    /// The name typed after `zonewise`.
    pub fn as_str(self) -> &'static str {
        match self {
            CommandName::Synth => "synth",
            CommandName::Ingest => "ingest",
            CommandName::Link => "link",
            CommandName::LinkFiles => "link-files",
            CommandName::EvaluateLinkage => "evaluate-linkage",
            CommandName::Uptake => "uptake",
            CommandName::ExportFeatures => "export-features",
            CommandName::Criteria => "criteria",
            CommandName::Train => "train",
            CommandName::Score => "score",
            CommandName::Evaluate => "evaluate",
            CommandName::Quality => "quality",
            CommandName::Capacity => "capacity",
            CommandName::Claims => "claims",
            CommandName::User => "user",
            CommandName::Audit => "audit",
            CommandName::Server => "server",
            CommandName::Publish => "publish",
            CommandName::Bench => "bench",
        }
    }

    /// What a user must be granted to run it (see [`crate::access::Role::may`]);
    /// `None` for the commands that open no council database: they generate
    /// synthetic data, link files the user already holds, or time the pipeline on
    /// synthetic counties, and `server`, whose commands open no database file: the
    /// server decides what the login they connect as may do. A database without users runs every command as the
    /// local analyst; the commissioner reaches only aggregates with small numbers
    /// suppressed, and the round-table account, a projected screen, runs none.
    pub fn needs(self) -> Option<Capability> {
        match self {
            CommandName::Synth
            | CommandName::LinkFiles
            | CommandName::Bench
            | CommandName::Server => None,
            CommandName::Uptake => Some(Capability::ReadAggregates),
            CommandName::Ingest
            | CommandName::Link
            | CommandName::EvaluateLinkage
            | CommandName::ExportFeatures
            | CommandName::Criteria
            | CommandName::Train
            | CommandName::Score
            | CommandName::Evaluate
            | CommandName::Quality
            | CommandName::Capacity
            | CommandName::Publish => Some(Capability::RunPipeline),
            CommandName::Claims => Some(Capability::ClaimOutcomes),
            CommandName::User => Some(Capability::ManageUsers),
            CommandName::Audit => Some(Capability::ReadAuditLog),
        }
    }
}

impl Command {
    /// Which command this is.
    pub fn name(&self) -> CommandName {
        match self {
            Command::Synth(_) => CommandName::Synth,
            Command::Ingest(_) => CommandName::Ingest,
            Command::Link(_) => CommandName::Link,
            Command::LinkFiles(_) => CommandName::LinkFiles,
            Command::EvaluateLinkage(_) => CommandName::EvaluateLinkage,
            Command::Uptake(_) => CommandName::Uptake,
            Command::ExportFeatures(_) => CommandName::ExportFeatures,
            Command::Criteria(_) => CommandName::Criteria,
            Command::Train(_) => CommandName::Train,
            Command::Score(_) => CommandName::Score,
            Command::Evaluate(_) => CommandName::Evaluate,
            Command::Quality(_) => CommandName::Quality,
            Command::Capacity(_) => CommandName::Capacity,
            Command::Claims(_) => CommandName::Claims,
            Command::User { .. } => CommandName::User,
            Command::Audit { .. } => CommandName::Audit,
            Command::Server { .. } => CommandName::Server,
            Command::Publish(_) => CommandName::Publish,
            Command::Bench { .. } => CommandName::Bench,
        }
    }

    /// The council database this command opens, for signing in before it runs;
    /// `None` for commands that open none.
    pub fn database(&self) -> Option<PathBuf> {
        match self {
            Command::Synth(_)
            | Command::LinkFiles(_)
            | Command::Bench { .. }
            | Command::Server { .. } => None,
            Command::Ingest(command) => Some(command.db.clone()),
            Command::Link(command) => Some(command.db.clone()),
            Command::EvaluateLinkage(command) => Some(command.db.clone()),
            Command::Uptake(command) => Some(command.db.clone()),
            Command::ExportFeatures(command) => Some(command.db.clone()),
            Command::Criteria(command) => Some(command.db.clone()),
            Command::Train(command) => Some(command.db.clone()),
            Command::Score(command) => Some(command.db.clone()),
            Command::Evaluate(command) => Some(command.db.clone()),
            Command::Quality(command) => Some(command.database()),
            Command::Capacity(command) => Some(command.db.clone()),
            Command::Claims(command) => Some(command.db.clone()),
            Command::User { user } => Some(user.database().to_path_buf()),
            Command::Audit { audit } => Some(audit.database().to_path_buf()),
            Command::Publish(command) => Some(command.db.clone()),
        }
    }

    /// Signs `sign_in_as` in to the command's database (refusing a role not
    /// granted what the command needs), then runs it as that session: every
    /// entry the command records names the session's user. Commands that open no
    /// database run as the local analyst.
    pub fn run(self, sign_in_as: Option<&str>) -> anyhow::Result<()> {
        let name = self.name();
        let session = match (self.database(), name.needs()) {
            (Some(db), Some(needs)) => {
                crate::access::cli::sign_in(&db, sign_in_as, name.as_str(), needs)?
            }
            _ => Session::local_analyst(),
        };
        match self {
            Command::Synth(config) => synth::synth_command(&config),
            Command::Ingest(command) => command.run(&session),
            Command::Link(command) => command.run(&session),
            Command::LinkFiles(command) => command.run(),
            Command::EvaluateLinkage(command) => command.run(),
            Command::Uptake(command) => command.run(&session),
            Command::ExportFeatures(command) => command.run(&session),
            Command::Criteria(command) => command.run(),
            Command::Train(command) => command.run(&session),
            Command::Score(command) => command.run(&session),
            Command::Evaluate(command) => command.run(),
            Command::Quality(command) => command.run(),
            Command::Capacity(command) => command.run(&session),
            Command::Claims(command) => command.run(&session),
            Command::User { user } => user.run(&session),
            Command::Audit { audit } => audit.run(),
            Command::Server { server } => server.run(),
            Command::Publish(command) => command.run(&session),
            Command::Bench { bench } => bench.run(),
        }
    }
}

/// A day on the command line, yyyy-mm-dd; clap names the argument in the error.
pub fn parse_day(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("'{text}' is not a day: expected yyyy-mm-dd"))
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser, ValueEnum};

    use super::{Cli, CommandName};
    use crate::access::{Capability, Role};

    #[test]
    fn every_command_is_named_as_clap_names_it() {
        let typed: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|command| command.get_name().to_string())
            .collect();
        let named: Vec<String> = CommandName::value_variants()
            .iter()
            .map(|name| name.as_str().to_string())
            .collect();
        assert_eq!(typed, named);
        for name in CommandName::value_variants() {
            let value = name.to_possible_value().expect("named");
            assert_eq!(value.get_name(), name.as_str());
        }
    }

    #[test]
    fn the_projected_screen_runs_nothing_and_a_commissioner_only_uptake() {
        let may = |role: Role, name: CommandName| name.needs().is_some_and(|c| role.may(c));
        for &name in CommandName::value_variants() {
            if name.needs().is_none() {
                continue;
            }
            assert!(!may(Role::RoundTable, name), "{name:?}");
            assert_eq!(may(Role::Commissioner, name), name == CommandName::Uptake);
            assert!(may(Role::Analyst, name), "{name:?}");
        }
        assert!(may(Role::SeniorManager, CommandName::Audit));
        assert!(!may(Role::ZoneManager, CommandName::Audit));
        assert_eq!(CommandName::User.needs(), Some(Capability::ManageUsers));
    }

    #[test]
    fn a_bad_date_names_the_argument_and_the_form() {
        let error = Cli::try_parse_from([
            "zonewise",
            "score",
            "--db",
            "x",
            "--model",
            "m",
            "--date",
            "2026-13-01",
        ])
        .expect_err("not a day")
        .to_string();
        assert!(error.contains("--date <YYYY-MM-DD>"), "{error}");
        assert!(error.contains("expected yyyy-mm-dd"), "{error}");
    }

    #[test]
    fn view_help_lists_every_view_from_its_type() {
        let help = Cli::command().render_long_help().to_string();
        let views: Vec<String> = crate::ui::View::value_variants()
            .iter()
            .filter_map(|view| view.to_possible_value())
            .map(|value| value.get_name().to_string())
            .collect();
        assert_eq!(views.len(), crate::ui::View::ALL.len());
        assert!(views.iter().any(|name| name == "users"), "{views:?}");
        let listed = format!("[possible values: {}]", views.join(", "));
        assert!(help.contains(&listed), "{listed} in {help}");
    }
}
