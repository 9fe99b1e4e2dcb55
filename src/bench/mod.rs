//! Benchmarks behind `zonewise bench …`. Each runs a pipeline stage at a stated
//! scale and reports what a reader needs to judge it (sizes, seconds per stage,
//! peak memory, quality), as a table or as JSON for a script that sets the figures
//! against a reference tool run on the same data. Performance is measured here,
//! never asserted in timed tests.

pub mod app_frames;
pub mod linkage;
pub mod map;
pub mod risk;
pub mod uptake;

use std::path::PathBuf;

use anyhow::Context as _;
use comfy_table::Table;
use duckdb::Connection;
use indicatif::{ProgressBar, ProgressStyle};

use crate::format::{new_table, thousands};
use crate::ingest::Manifest;
use crate::link::{LinkConfig, LinkReport};
use crate::pipeline::{self, Pipeline, Plan};
use crate::store;
use crate::synth::{self, SynthConfig, SynthSummary};

/// Identity noise of the benchmark counties: the generator's realistic level.
const NOISE: f64 = 1.0;

/// The synthetic county one benchmark run works on.
#[derive(Debug, Clone)]
pub struct CountySpec {
    /// Families in the synthetic county.
    pub families: usize,
    /// Seed of the synthetic county.
    pub seed: u64,
    /// Reference data for the generator (`data-samples/ref`).
    pub reference_dir: PathBuf,
    /// Folder for the county and its database; created if missing, and whatever an
    /// earlier run left there is replaced.
    pub work_dir: PathBuf,
    /// DuckDB's memory limit (`8GB`), so that a run shares the machine and can be
    /// held to the same limit as a reference run; DuckDB's default (80% of RAM) if None.
    pub memory_limit: Option<String>,
}

/// What every `zonewise bench` over synthetic counties is told on the command
/// line: the synthetic counties a benchmark runs on, and how it reports.
#[derive(Debug, Clone, clap::Args)]
pub struct SizesCommand {
    /// County sizes in families (repeat the option or give a comma list).
    #[arg(long, value_delimiter = ',', default_values_t = [20_000])]
    pub families: Vec<usize>,
    /// Seed of the synthetic counties.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder to work in (default: a temporary folder, removed afterwards unless
    /// records are exported).
    #[arg(long = "work", value_name = "WORK")]
    pub work_dir: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// DuckDB memory limit, e.g. 8GB (default: DuckDB's, 80% of RAM).
    #[arg(long)]
    pub memory_limit: Option<String>,
    /// Reference data folder (IMD, population, boundaries).
    #[arg(long = "reference", value_name = "REFERENCE", default_value_os_t = crate::bundled::reference_dir())]
    pub reference_dir: PathBuf,
}

/// `zonewise bench …`: each benchmark's settings are its command line.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum BenchCommand {
    /// Prepare and draw the Map view for the sample county and all of England with
    /// every LSOA on screen; print load, tessellation and frame times.
    Map(map::MapCommand),
    /// Drive the whole app headless on a synthetic county and print the worst
    /// frame drawn while each piece of its database or hashing work runs, against
    /// the frame that work made when it ran on the UI thread.
    App(app_frames::AppFramesCommand),
    /// Generate, ingest, link and evaluate synthetic counties; print records, candidate
    /// pairs, seconds per stage, peak memory and precision/recall/F1.
    Linkage(linkage::LinkageCommand),
    /// Generate, ingest and link synthetic counties, then time building features,
    /// training and scoring risk models against plain reference runs.
    Risk(SizesCommand),
    /// Generate, ingest and link synthetic counties, then time the uptake tables of
    /// each built-in service against a plain SQL group-by of the same counts.
    Uptake(uptake::UptakeCommand),
}

impl BenchCommand {
    /// Runs the benchmark and prints its figures.
    pub fn run(&self) -> anyhow::Result<()> {
        match self {
            BenchCommand::Map(command) => map::command(command),
            BenchCommand::App(command) => app_frames::command(command),
            BenchCommand::Linkage(command) => linkage::command(command),
            BenchCommand::Risk(sizes) => risk::command(sizes),
            BenchCommand::Uptake(command) => uptake::command(command),
        }
    }
}

/// A county generated, ingested and linked, with what each step took.
pub struct LinkedCounty {
    pub conn: Connection,
    /// The generated extracts, manifest and truth.
    pub county_dir: PathBuf,
    pub summary: SynthSummary,
    pub ingest_seconds: f64,
    pub report: LinkReport,
    /// Wall time of `link::link`, stages and bookkeeping.
    pub link_seconds: f64,
}

/// Generates a county into `work_dir/county`, ingests it into a fresh
/// `work_dir/county.duckdb` and links it with `link_config`: the set-up every
/// benchmark over linked data shares. `progress(stage, fraction)` says what is
/// running; the fraction is None where a stage cannot tell.
pub fn generate_and_link(
    spec: &CountySpec,
    link_config: &LinkConfig,
    progress: Progress<'_>,
) -> anyhow::Result<LinkedCounty> {
    let county_dir = spec.work_dir.join("county");
    let database = spec.work_dir.join("county.duckdb");

    progress("generating the county", Some(0.0));
    let summary = synth::generate(
        &SynthConfig {
            out_dir: county_dir.clone(),
            reference_dir: spec.reference_dir.clone(),
            families: spec.families,
            seed: spec.seed,
            noise: NOISE,
            gzip: false,
            authorities: Vec::new(),
            months: 1,
            round_tables: Default::default(),
        },
        &|done, total| progress("generating the county", Some(done as f32 / total as f32)),
    )?;

    // A fresh database, so every run measures the same work.
    for file in [database.clone(), database.with_extension("duckdb.wal")] {
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("removing {}", file.display()));
            }
            _ => {}
        }
    }
    let conn = store::open(&database)?;
    if let Some(limit) = &spec.memory_limit {
        set_memory_limit(&conn, limit)?;
    }
    let manifest = Manifest::load(&county_dir.join("manifest.toml"))?;
    let mut report_stage = |p: &pipeline::Progress| match p.stage {
        pipeline::Stage::Ingest { .. } => progress("ingesting", Some(p.fraction)),
        _ => progress("linking", None),
    };
    let run = Pipeline::new(&conn, &crate::audit::os_user(), &mut report_stage).run(&Plan {
        manifest: &manifest,
        link: link_config,
        criteria: false,
        model: None,
    })?;
    Ok(LinkedCounty {
        conn,
        county_dir,
        summary,
        ingest_seconds: run.ingest_seconds,
        report: run.link,
        link_seconds: run.link_seconds,
    })
}

/// Sets DuckDB's memory limit; `limit` is a size such as `8GB` or `512MB`.
fn set_memory_limit(conn: &Connection, limit: &str) -> anyhow::Result<()> {
    if limit.is_empty() || !limit.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
        anyhow::bail!("memory limit '{limit}' is not a size such as 8GB");
    }
    conn.execute_batch(&format!("SET memory_limit = '{limit}'"))
        .with_context(|| format!("setting the memory limit to {limit}"))
}

/// Reports a benchmark's stage and, where it can tell, the fraction done.
pub type Progress<'a> = &'a dyn Fn(&str, Option<f32>);

/// Runs `run(county, progress)` for each size in turn under one progress bar on
/// stderr, each county in its own subfolder of the work folder (a temporary folder
/// when none is given, removed afterwards unless `keep`).
pub fn run_each_size<T>(
    name: &str,
    sizes: &SizesCommand,
    keep: bool,
    run: &dyn Fn(&CountySpec, Progress<'_>) -> anyhow::Result<T>,
) -> anyhow::Result<Vec<T>> {
    let (work_root, temporary) = match &sizes.work_dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let dir = tempfile::Builder::new()
                .prefix(&format!("zonewise-bench-{name}-"))
                .tempdir()
                .context("creating a temporary work folder")?;
            (dir.path().to_path_buf(), Some(dir))
        }
    };
    let bar = ProgressBar::new(1000);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {prefix} {msg:<36} [{bar:30}] {elapsed}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let mut runs = Vec::with_capacity(sizes.families.len());
    for &families in &sizes.families {
        bar.set_prefix(format!("{} families:", thousands(families as i64)));
        let county = CountySpec {
            families,
            seed: sizes.seed,
            reference_dir: sizes.reference_dir.clone(),
            work_dir: work_root.join(format!("families-{families}")),
            memory_limit: sizes.memory_limit.clone(),
        };
        let result = run(&county, &|stage, fraction| {
            bar.set_message(stage.to_string());
            bar.set_position(fraction.map_or(0, |f| (f * 1000.0) as u64));
        });
        match result {
            Ok(result) => runs.push(result),
            Err(error) => {
                bar.finish_and_clear();
                return Err(error.context(format!("benchmark at {families} families")));
            }
        }
    }
    bar.finish_and_clear();
    if keep && let Some(dir) = temporary {
        // What was kept is for another tool to read after this command ends.
        let kept = dir.keep();
        eprintln!("work folder kept in {}", kept.display());
    }
    Ok(runs)
}

/// A table with one column per benchmark run and one row per measure.
pub struct RunsTable<'a, T> {
    runs: &'a [T],
    table: Table,
}

impl<'a, T> RunsTable<'a, T> {
    /// Headed "Measure" and each run's `heading`.
    pub fn new(runs: &'a [T], heading: &dyn Fn(&T) -> String) -> Self {
        let mut headers = vec!["Measure".to_string()];
        headers.extend(runs.iter().map(heading));
        let table = new_table(&headers.iter().map(String::as_str).collect::<Vec<_>>());
        RunsTable { runs, table }
    }

    /// A row: `measure`, then `value` of each run.
    pub fn row(&mut self, measure: &str, value: &dyn Fn(&T) -> String) {
        let mut cells = vec![measure.to_string()];
        cells.extend(self.runs.iter().map(value));
        self.table.add_row(cells);
    }

    /// The finished table.
    pub fn table(&self) -> &Table {
        &self.table
    }
}

/// The process's peak resident memory so far, in bytes (`getrusage` `ru_maxrss`).
///
/// It is a high-water mark for the whole process: figures for several runs in one
/// process each include every run before them. None where the OS does not say.
pub fn peak_memory_bytes() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage fills the whole struct it is given and reports failure in
        // its return value, which is checked before the struct is read.
        let usage = unsafe {
            if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
                return None;
            }
            usage.assume_init()
        };
        // Linux reports kilobytes; macOS reports bytes.
        let unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
        Some(u64::try_from(usage.ru_maxrss).ok()? * unit)
    }
    #[cfg(not(unix))]
    None
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn peak_memory_is_at_least_what_is_held() {
        let held = vec![1u8; 64 << 20];
        let peak = super::peak_memory_bytes().expect("getrusage");
        assert!(peak >= held.len() as u64, "peak {peak}");
        assert_eq!(held.iter().map(|&b| b as u64).sum::<u64>(), 64 << 20);
    }
}
