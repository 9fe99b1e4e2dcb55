//! The `zonewise` binary: parses the command line, then opens the window or runs
//! one headless pipeline stage. Everything else lives in the library.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use zonewise::synth::SynthConfig;
use zonewise::ui::{DatabaseChoice, View, ZonewiseApp};
use zonewise::uptake::Level;
use zonewise::{bench, commands, sample};

/// Zonewise: linked agency data, early-help flags and uptake maps for councils.
///
/// With no command, opens the app on the bundled sample county.
#[derive(Parser)]
#[command(name = "zonewise", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Open this database (made by `zonewise ingest`) instead of the sample county.
    #[arg(long, global = false)]
    db: Option<PathBuf>,

    /// Sign in as this user to run a command on a database that has users (the
    /// password is asked for, or read from ZONEWISE_PASSWORD); for the window, who
    /// signs in at once with ZONEWISE_PASSWORD, or the name the sign-in form starts with.
    #[arg(long = "as", global = true, env = "ZONEWISE_USER", value_name = "USER")]
    sign_in_as: Option<String>,

    /// Save a PNG screenshot of the window to this file once the data is shown, then exit.
    #[arg(long)]
    screenshot: Option<PathBuf>,

    /// The view to open: overview, data, linkage, families, round-table, map, models, audit.
    #[arg(long, default_value = "overview", value_parser = parse_view)]
    view: ViewArg,

    /// Open the Linkage view's review queue.
    #[arg(long, conflicts_with = "find")]
    review: bool,

    /// Open the Linkage view on the first person whose name, id or NHS number contains this.
    #[arg(long)]
    find: Option<String>,

    /// Open a family: its id, or `top` for the highest-ranked. With `--view round-table`
    /// the family is picked on its zone's agenda (masked); otherwise Families opens it.
    #[arg(long, conflicts_with_all = ["find", "review"])]
    family: Option<String>,

    /// Open the Map view on all of England's LSOAs.
    #[arg(long, conflicts_with_all = ["find", "review"])]
    england: bool,

    /// Open the Map view with rates mapped by lsoa, ward, zone or authority, in the
    /// diverging palette when followed by `--diverging`.
    #[arg(long, value_parser = parse_map_level, conflicts_with_all = ["find", "review", "england"])]
    map_by: Option<Level>,

    /// With `--map-by`: colour rates red below the county's rate and blue above, in
    /// classes of equal width either side of it.
    #[arg(long, requires = "map_by")]
    diverging: bool,
}

impl Command {
    /// The council database this command opens, for signing in before it runs;
    /// `None` for commands that open none.
    fn database(&self) -> Option<PathBuf> {
        match self {
            Command::Synth { .. } | Command::LinkFiles { .. } | Command::Bench { .. } => None,
            Command::Quality { db } => Some(db.clone().unwrap_or_else(sample::sample_db_path)),
            Command::Ingest { db, .. }
            | Command::Link { db, .. }
            | Command::EvaluateLinkage { db, .. }
            | Command::Uptake { db, .. }
            | Command::ExportFeatures { db, .. }
            | Command::Criteria { db, .. }
            | Command::Train { db, .. }
            | Command::Score { db, .. }
            | Command::Evaluate { db, .. }
            | Command::User {
                user:
                    UserCommand::Add { db, .. }
                    | UserCommand::List { db }
                    | UserCommand::Change { db, .. }
                    | UserCommand::Password { db, .. }
                    | UserCommand::Disable { db, .. }
                    | UserCommand::Enable { db, .. },
            }
            | Command::Audit {
                audit: AuditCommand::Verify { db, .. } | AuditCommand::List { db, .. },
            } => Some(db.clone()),
        }
    }
}

/// A day on the command line: yyyy-mm-dd.
fn parse_day(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("'{text}' is not a day: expected yyyy-mm-dd"))
}

fn parse_map_level(name: &str) -> Result<Level, String> {
    zonewise::ui::map_view::MAP_LEVELS
        .into_iter()
        .find(|level| level.key().eq_ignore_ascii_case(name))
        .ok_or_else(|| format!("unknown level '{name}': lsoa, ward, zone or authority"))
}

#[derive(Clone, Copy)]
struct ViewArg(View);

fn parse_view(name: &str) -> Result<ViewArg, String> {
    View::from_name(name)
        .map(ViewArg)
        .ok_or_else(|| format!("unknown view '{name}'"))
}

#[derive(Subcommand)]
enum Command {
    /// Generate a synthetic county: agency extracts, a manifest, zones and ground truth.
    Synth {
        /// Output folder (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Families with children to generate.
        #[arg(long, default_value_t = 20_000)]
        families: usize,
        /// Random seed; the same seed gives byte-identical output.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Identity noise: 0 = clean, 1 = realistic, 2 = twice as noisy.
        #[arg(long, default_value_t = 1.0)]
        noise: f64,
        /// Compress extracts and truth as .csv.gz.
        #[arg(long)]
        gzip: bool,
        /// Reference data folder (IMD, population, boundaries).
        #[arg(long, default_value_os_t = sample::reference_dir())]
        reference: PathBuf,
        /// LAD 2019 codes of the authorities to use (default: all in the reference data).
        #[arg(long, value_delimiter = ',')]
        authorities: Vec<String>,
    },
    /// Validate the extracts a source manifest lists and load them, all or nothing.
    Ingest {
        /// Database file (created if missing).
        #[arg(long)]
        db: PathBuf,
        /// Source manifest (TOML).
        #[arg(long)]
        manifest: PathBuf,
    },
    /// Link the ingested records into one person id per real person (core.person).
    Link {
        /// Database file made by `zonewise ingest`.
        #[arg(long)]
        db: PathBuf,
        /// Match probability at or above which two records are the same person.
        #[arg(long, default_value_t = 0.95)]
        accept: f64,
        /// Score with this saved model (from `--save-model`) instead of training one.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Write the trained Fellegi–Sunter parameters to this JSON file (e.g. under models/).
        #[arg(long)]
        save_model: Option<PathBuf>,
        /// Refuse to run when one blocking rule would generate more candidate pairs than this.
        #[arg(long, default_value_t = zonewise::link::LinkConfig::default().max_pairs_per_rule)]
        max_pairs: u64,
    },
    /// Link or deduplicate any CSV files named in a TOML config; writes the scored pairs.
    LinkFiles {
        /// The config: input files, their id and identity columns, threshold (see README).
        #[arg(long)]
        config: PathBuf,
        /// CSV file for the pairs at or above the threshold.
        #[arg(long)]
        output: PathBuf,
    },
    /// Compare the linkage in a database with a synthetic county's ground truth.
    EvaluateLinkage {
        /// Database file that `zonewise link` has run on.
        #[arg(long)]
        db: PathBuf,
        /// The county's truth folder (from `zonewise synth`).
        #[arg(long)]
        truth: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Uptake of a service per LSOA and IMD decile, with Wilson intervals, the slope
    /// and relative indices of inequality, and small numbers suppressed.
    Uptake {
        /// Database file that `zonewise link` has run on.
        #[arg(long)]
        db: PathBuf,
        /// Service name: health_check, childrens_centre, or one in --services.
        #[arg(long)]
        service: String,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
        /// Withhold counts from 1 to N (and what would reveal them); 0 shows everything.
        /// Only analysts may choose N: other roles get the published threshold.
        #[arg(long, default_value_t = zonewise::uptake::DEFAULT_THRESHOLD)]
        suppress: u64,
        /// A TOML file of services in the format of assets/services.toml (default: the
        /// built-in ones); analysts only.
        #[arg(long)]
        services: Option<PathBuf>,
        /// The day the figures are for, yyyy-mm-dd (default: the extract date); other
        /// roles than analysts may give only the extract date or a quarter end before it.
        #[arg(long, value_parser = parse_day)]
        date: Option<chrono::NaiveDate>,
        /// Write the tables as CSV files in this folder (created if missing) and
        /// print their paths, instead of printing the tables.
        #[arg(long, conflicts_with = "json")]
        csv: Option<PathBuf>,
    },
    /// Build every child's features and label at a reference date and write them,
    /// with the label, to a CSV or Parquet file (by extension).
    ExportFeatures {
        /// Database file that `zonewise link` has run on.
        #[arg(long)]
        db: PathBuf,
        /// Reference date, yyyy-mm-dd: features use events before it, the label the 12 months from it.
        #[arg(long)]
        date: String,
        /// Output file: .csv or .parquet.
        #[arg(long)]
        out: PathBuf,
    },
    /// Apply the Supporting Families (or Troubled Families 2015) headline problems at a
    /// reference date; print how many families meet each criterion.
    Criteria {
        /// Database file that `zonewise link` has run on.
        #[arg(long)]
        db: PathBuf,
        /// Reference date, yyyy-mm-dd: the rules read events before it.
        #[arg(long)]
        date: String,
        /// A TOML file of rules in the format of assets/criteria.toml (default: the built-in rules).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// The rule set: supporting-families or troubled-families-2015 (or one in --rules).
        #[arg(long, default_value = zonewise::risk::criteria::DEFAULT_SET)]
        set: String,
    },
    /// Train risk models on one reference date, choose one on validation families,
    /// evaluate it on a later date; write the model (JSON) and its card (Markdown).
    Train {
        /// Database file that `zonewise link` has run on.
        #[arg(long)]
        db: PathBuf,
        /// Reference date of the training rows, yyyy-mm-dd.
        #[arg(long)]
        train_date: String,
        /// Held-out reference date, at least 12 months later, yyyy-mm-dd.
        #[arg(long)]
        test_date: String,
        /// A synthetic county's truth folder: adds the oracle AUC to the figures.
        #[arg(long)]
        truth: Option<PathBuf>,
        /// Families a zone's round table can discuss (top-k figures and the threshold).
        #[arg(long, default_value_t = zonewise::risk::model::evaluation::DEFAULT_K_PER_ZONE)]
        k: usize,
        /// The model file to write (e.g. models/NAME.json); the card goes beside it as NAME.md.
        #[arg(long)]
        out: PathBuf,
    },
    /// Score every child at a reference date with a saved model into
    /// mart.risk_score and mart.risk_reason (replacing that date's rows).
    Score {
        /// Database file that `zonewise link` has run on.
        #[arg(long)]
        db: PathBuf,
        /// The model file (from `zonewise train`).
        #[arg(long)]
        model: PathBuf,
        /// Reference date, yyyy-mm-dd: features use events before it.
        #[arg(long)]
        date: String,
    },
    /// Held-out figures of a saved model on a reference date with complete follow-up.
    Evaluate {
        /// Database file that `zonewise link` has run on.
        #[arg(long)]
        db: PathBuf,
        /// The model file (from `zonewise train`).
        #[arg(long)]
        model: PathBuf,
        /// Reference date, yyyy-mm-dd, at least 12 months before the extracts end.
        #[arg(long)]
        date: String,
        /// A synthetic county's truth folder: adds the oracle AUC.
        #[arg(long)]
        truth: Option<PathBuf>,
        /// Families a zone's round table can discuss.
        #[arg(long, default_value_t = zonewise::risk::model::evaluation::DEFAULT_K_PER_ZONE)]
        k: usize,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Print what a database holds and each source's data-quality summary.
    Quality {
        /// Database file (default: the sample county's).
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Users and their roles.
    User {
        #[command(subcommand)]
        user: UserCommand,
    },
    /// The audit log: verify its hash chain, or list its entries.
    Audit {
        #[command(subcommand)]
        audit: AuditCommand,
    },
    /// Benchmarks: figures at a stated scale, for comparison with reference tools.
    Bench {
        #[command(subcommand)]
        bench: BenchCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; asks for the password (or reads one line from standard input).
    Add {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
        /// Login name: letters, digits, '.', '_' or '-'.
        #[arg(long)]
        name: String,
        /// analyst, senior_manager, zone_manager, commissioner or round_table.
        #[arg(long, value_parser = parse_role)]
        role: zonewise::access::Role,
        /// A zone the user works in (repeat or give a comma list); zone managers and
        /// the round-table screen need one at least.
        #[arg(long, value_delimiter = ',')]
        zone: Vec<String>,
        /// The name shown in the app (default: the login name).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List users: role, zones, and whether each is active, disabled or locked out.
    List {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
    },
    /// Change a user's role, zones and/or display name.
    Change {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
        /// The user's login name.
        #[arg(long)]
        name: String,
        /// The new role: analyst, senior_manager, zone_manager, commissioner or round_table.
        #[arg(long, value_parser = parse_role)]
        role: Option<zonewise::access::Role>,
        /// The user's zones, replacing the ones they have (a comma list; '' for none).
        #[arg(long, value_delimiter = ',')]
        zone: Option<Vec<String>>,
        /// The new name shown in the app.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Set a new password for a user (asked twice, or one line from standard input);
    /// also clears a lockout.
    Password {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
        /// The user's login name.
        #[arg(long)]
        name: String,
    },
    /// Stop a user signing in; they stay in the database, as the audit log names them.
    Disable {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
        /// The user's login name.
        #[arg(long)]
        name: String,
    },
    /// Let a disabled user sign in again, or unlock one locked out by failed sign-ins.
    Enable {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
        /// The user's login name.
        #[arg(long)]
        name: String,
    },
}

fn parse_role(name: &str) -> Result<zonewise::access::Role, String> {
    zonewise::access::Role::parse(name).ok_or_else(|| format!("unknown role '{name}'"))
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every entry's hash and link and the recorded head; exits non-zero naming
    /// the first bad entry.
    Verify {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
        /// A head printed by an earlier verify (SEQ:HASH:GENESIS, or an older SEQ:HASH),
        /// kept outside the database: the log must still hold that entry with that
        /// hash, and begin with the entry whose hash is GENESIS.
        #[arg(long)]
        anchor: Option<zonewise::audit::Anchor>,
    },
    /// List entries, newest first.
    List {
        /// Database file.
        #[arg(long)]
        db: PathBuf,
        /// Only this user's entries.
        #[arg(long)]
        user: Option<String>,
        /// Only this action: login, search_persons, list_families, open_person,
        /// open_family, export, model_run, ingest, link, link_review, decision, manage_users.
        #[arg(long, value_parser = parse_action)]
        action: Option<zonewise::audit::Action>,
        /// Only entries on or after this UTC day, yyyy-mm-dd.
        #[arg(long)]
        since: Option<chrono::NaiveDate>,
    },
}

fn parse_action(name: &str) -> Result<zonewise::audit::Action, String> {
    zonewise::audit::Action::parse(name).ok_or_else(|| format!("unknown action '{name}'"))
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Prepare and draw the Map view for the sample county and all of England with
    /// every LSOA on screen; print load, tessellation and frame times.
    Map {
        /// Frames to draw per layer.
        #[arg(long, default_value_t = 100)]
        frames: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Reference data folder (county shapefile and IMD, England GeoJSON and IMD).
        #[arg(long, default_value_os_t = sample::reference_dir())]
        reference: PathBuf,
    },
    /// Generate, ingest, link and evaluate synthetic counties; print records, candidate
    /// pairs, seconds per stage, peak memory and precision/recall/F1.
    Linkage {
        #[command(flatten)]
        counties: CountyArgs,
        /// Write each size's standardised records and true person ids to records.csv
        /// in its work folder, for linking by another tool (the folder is kept).
        #[arg(long)]
        export_records: bool,
    },
    /// Generate, ingest and link synthetic counties, then time building features,
    /// training and scoring risk models against plain reference runs.
    Risk {
        #[command(flatten)]
        counties: CountyArgs,
    },
    /// Generate, ingest and link synthetic counties, then time the uptake tables of
    /// each built-in service against a plain SQL group-by of the same counts.
    Uptake {
        #[command(flatten)]
        counties: CountyArgs,
        /// Linkage refuses a blocking rule making more candidate pairs than this.
        #[arg(long, default_value_t = bench::uptake::MAX_PAIRS_PER_RULE)]
        max_pairs: u64,
        /// Runs of each timed step; the fastest counts.
        #[arg(long, default_value_t = 3)]
        repeats: usize,
    },
}

/// The synthetic counties a benchmark runs on, and how it reports.
#[derive(clap::Args)]
struct CountyArgs {
    /// County sizes in families (repeat the option or give a comma list).
    #[arg(long, value_delimiter = ',', default_values_t = [20_000])]
    families: Vec<usize>,
    /// Seed of the synthetic counties.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Folder to work in (default: a temporary folder, removed afterwards unless
    /// records are exported).
    #[arg(long)]
    work: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// DuckDB memory limit, e.g. 8GB (default: DuckDB's, 80% of RAM).
    #[arg(long)]
    memory_limit: Option<String>,
    /// Reference data folder (IMD, population, boundaries).
    #[arg(long, default_value_os_t = sample::reference_dir())]
    reference: PathBuf,
}

impl CountyArgs {
    fn sizes_command(self) -> bench::SizesCommand {
        bench::SizesCommand {
            families: self.families,
            seed: self.seed,
            reference_dir: self.reference,
            work_dir: self.work,
            memory_limit: self.memory_limit,
            json: self.json,
        }
    }
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", zonewise::format::describe_error(&error));
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    if cli.command.is_some() {
        exit_quietly_on_closed_pipe();
    }
    // The role check goes by the command's name as clap parsed it, the same name
    // `access::cli::DATABASE_COMMANDS` lists.
    let session = match (
        cli.command.as_ref().and_then(Command::database),
        matches.subcommand_name(),
    ) {
        (Some(db), Some(name)) => Some(zonewise::access::cli::sign_in(
            &db,
            cli.sign_in_as.as_deref(),
            name,
        )?),
        _ => None,
    };
    match cli.command {
        Some(Command::Synth {
            out,
            families,
            seed,
            noise,
            gzip,
            reference,
            authorities,
        }) => commands::synth_command(&SynthConfig {
            out_dir: out,
            reference_dir: reference,
            families,
            seed,
            noise,
            gzip,
            authorities,
        }),
        Some(Command::Ingest { db, manifest }) => commands::ingest_command(&db, &manifest),
        Some(Command::Link {
            db,
            accept,
            model,
            save_model,
            max_pairs,
        }) => commands::link_command(
            &db,
            accept,
            model.as_deref(),
            save_model.as_deref(),
            max_pairs,
        ),
        Some(Command::LinkFiles { config, output }) => {
            commands::link_files_command(&config, &output)
        }
        Some(Command::EvaluateLinkage { db, truth, json }) => {
            commands::evaluate_linkage_command(&db, &truth, json)
        }
        Some(Command::Uptake {
            db,
            service,
            json,
            suppress,
            services,
            date,
            csv,
        }) => {
            let session = session.context("uptake opens a database, so it signs in first")?;
            commands::uptake_command(
                &session,
                &commands::UptakeCommand {
                    db,
                    service,
                    json,
                    threshold: suppress,
                    services,
                    date,
                    csv,
                },
            )
        }
        Some(Command::ExportFeatures { db, date, out }) => {
            commands::export_features_command(&db, &date, &out)
        }
        Some(Command::Criteria {
            db,
            date,
            rules,
            set,
        }) => commands::criteria_command(&db, &date, rules.as_deref(), &set),
        Some(Command::Train {
            db,
            train_date,
            test_date,
            truth,
            k,
            out,
        }) => commands::train_command(&commands::TrainCommand {
            db,
            train_date,
            test_date,
            truth,
            k_per_zone: k,
            out,
        }),
        Some(Command::Score { db, model, date }) => commands::score_command(&db, &model, &date),
        Some(Command::Evaluate {
            db,
            model,
            date,
            truth,
            k,
            json,
        }) => commands::evaluate_command(&db, &model, &date, truth.as_deref(), k, json),
        Some(Command::Quality { db }) => {
            commands::quality_command(&db.unwrap_or_else(sample::sample_db_path))
        }
        Some(Command::User {
            user:
                UserCommand::Add {
                    db,
                    name,
                    role,
                    zone,
                    display_name,
                },
        }) => zonewise::access::cli::add_command(
            &db,
            &zonewise::access::NewUser {
                display_name: display_name.unwrap_or_else(|| name.clone()),
                user: name,
                role,
                zones: zone,
            },
        ),
        Some(Command::User {
            user: UserCommand::List { db },
        }) => zonewise::access::cli::list_command(&db),
        Some(Command::User {
            user:
                UserCommand::Change {
                    db,
                    name,
                    role,
                    zone,
                    display_name,
                },
        }) => zonewise::access::cli::change_command(
            &db,
            &name,
            &zonewise::access::UserChange {
                role,
                zones: zone,
                display_name,
            },
        ),
        Some(Command::User {
            user: UserCommand::Password { db, name },
        }) => zonewise::access::cli::password_command(&db, &name),
        Some(Command::User {
            user: UserCommand::Disable { db, name },
        }) => zonewise::access::cli::disable_command(&db, &name),
        Some(Command::User {
            user: UserCommand::Enable { db, name },
        }) => zonewise::access::cli::enable_command(&db, &name),
        Some(Command::Audit {
            audit: AuditCommand::Verify { db, anchor },
        }) => zonewise::audit::cli::verify_command(&db, anchor.as_ref()),
        Some(Command::Audit {
            audit:
                AuditCommand::List {
                    db,
                    user,
                    action,
                    since,
                },
        }) => zonewise::audit::cli::list_command(
            &db,
            &zonewise::audit::Filter {
                user,
                action,
                since,
                ..Default::default()
            },
        ),
        Some(Command::Bench {
            bench:
                BenchCommand::Map {
                    frames,
                    json,
                    reference,
                },
        }) => bench::map::command(&reference, frames, json),
        Some(Command::Bench {
            bench:
                BenchCommand::Linkage {
                    counties,
                    export_records,
                },
        }) => bench::linkage::command(&bench::linkage::LinkageCommand {
            sizes: counties.sizes_command(),
            export_records,
        }),
        Some(Command::Bench {
            bench: BenchCommand::Risk { counties },
        }) => bench::risk::command(&counties.sizes_command()),
        Some(Command::Bench {
            bench:
                BenchCommand::Uptake {
                    counties,
                    max_pairs,
                    repeats,
                },
        }) => bench::uptake::command(&bench::uptake::UptakeCommand {
            sizes: counties.sizes_command(),
            max_pairs_per_rule: max_pairs,
            repeats,
        }),
        None => {
            let database = match cli.db {
                Some(path) => DatabaseChoice::File(path),
                None => DatabaseChoice::Sample {
                    sample_dir: sample::sample_dir(),
                    db_path: sample::sample_db_path(),
                },
            };
            let mut app = ZonewiseApp::new(database);
            app.view = cli.view.0;
            // On a database with users: signed in at once with the password from
            // the environment, else the sign-in form starts with this name.
            if let Some(user) = cli.sign_in_as {
                match std::env::var(zonewise::access::cli::PASSWORD_VARIABLE) {
                    Ok(password) => app = app.with_sign_in(user, password),
                    Err(_) => app.login.user = user,
                }
            }
            if cli.review {
                app.view = View::Linkage;
                app.linkage.tab = zonewise::ui::LinkageTab::Review;
            }
            if let Some(text) = cli.find {
                app = app.with_person_search(text);
            }
            if let Some(family) = cli.family {
                app = app.with_family(family);
            }
            if cli.england {
                app.view = View::Map;
                app.map.show_england();
            }
            if let Some(level) = cli.map_by {
                app.view = View::Map;
                app.map.map_level = level;
                app.map.area_level = level;
                if cli.diverging {
                    app.map.palette = zonewise::ui::map_view::Palette::Diverging;
                    app.map.classes = zonewise::ui::map_view::Classes::EqualInterval;
                }
            }
            if let Some(path) = cli.screenshot {
                let view = app.view;
                app = app.with_screenshot(view, path);
            }
            zonewise::ui::run_window(app)
        }
    }
}

/// Lets a headless command stop quietly when its reader goes away (`zonewise quality | head`),
/// as command-line tools do, instead of panicking on the broken pipe. Not done for the
/// window, whose display connections handle their own sockets.
fn exit_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
