//! The synthetic county generator: families in real LSOAs, seven agency extracts
//! with realistic identity noise, zones, and the ground truth kept apart in `truth/`.
//! The process and every coefficient are documented in `docs/synthetic-data.md`.
//!
//! Layout of the generator:
//! `geography` (LSOAs, streets, zones) → `population` (families, people, moves,
//! hidden circumstances) → `events` (what each agency records, and the outcomes)
//! → `writer` (each system's noisy view of a person, rows, truth) → `sink` (files).

mod events;
pub mod geography;
pub mod months;
mod names;
pub mod noise;
mod places;
mod population;
pub mod round_tables;
mod sink;
mod sources;
mod timeline;
mod writer;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::ingest::manifest::{Manifest, ReferenceFiles};
use geography::Geography;
use population::{Homes, IdentityNumbers, LsoaSampler};

pub use events::{OUTCOME_COEFFICIENTS, OUTCOME_INTERCEPT};
pub use population::{CIRCUMSTANCES, PREVALENCE, VULNERABILITY_WEIGHT};
pub use timeline::{EXTRACT_DATE, HISTORY_START, REFERENCE_DATES};

/// What to generate; also `zonewise synth`'s command line.
#[derive(Debug, Clone, clap::Args)]
pub struct SynthConfig {
    /// Output folder (created if missing).
    #[arg(long = "out", value_name = "OUT")]
    pub out_dir: PathBuf,
    /// Families with children to generate.
    #[arg(long, default_value_t = 20_000)]
    pub families: usize,
    /// Random seed; the same seed gives byte-identical output.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Identity noise: 0 = clean, 1 = realistic, 2 = twice as noisy.
    #[arg(long, default_value_t = 1.0)]
    pub noise: f64,
    /// Compress extracts and truth as .csv.gz.
    #[arg(long)]
    pub gzip: bool,
    /// Reference data folder (IMD, population, boundaries).
    #[arg(long = "reference", value_name = "REFERENCE", default_value_os_t = crate::bundled::reference_dir())]
    pub reference_dir: PathBuf,
    /// LAD 2019 codes of the authorities to use (default: all in the reference data).
    #[arg(long, value_delimiter = ',')]
    pub authorities: Vec<String>,
    /// Months of extracts to write: the last in OUT, each earlier one in
    /// OUT/months/<extract date>/, with changes of household planted between the
    /// last two (`synth::months`).
    #[arg(long, default_value_t = 1)]
    pub months: usize,
    /// The round tables of the history and the early-help effect planted in it.
    #[command(flatten)]
    pub round_tables: round_tables::RoundTableConfig,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct SynthSummary {
    /// Families generated.
    pub families: usize,
    /// People in those families (adults and children).
    pub people: usize,
    /// Rows written per extract, in manifest order.
    pub records_per_source: Vec<(String, usize)>,
    /// Family partnership zones in `zones.csv`.
    pub zones: usize,
    /// LSOAs the families were placed in.
    pub lsoas: usize,
    /// Wall-clock time of the run.
    pub seconds: f64,
}

/// Why a county could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A setting of `SynthConfig` cannot be used.
    #[error("synthetic county settings: {0}")]
    Config(String),
    /// A reference file is missing, unreadable or inconsistent.
    #[error("{file}: {message}")]
    Reference {
        /// The reference file.
        file: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A boundary shapefile could not be used.
    #[error(transparent)]
    Boundaries(#[from] crate::geo::boundaries::BoundaryError),
    /// An output file could not be written.
    #[error("cannot write {file}: {source}")]
    Write {
        /// The file being written.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The manifest could not be serialised.
    #[error("cannot write the manifest: {0}")]
    Manifest(String),
}

impl SynthError {
    fn reference(file: &Path, error: impl std::fmt::Display) -> SynthError {
        SynthError::Reference {
            file: file.to_path_buf(),
            message: error.to_string(),
        }
    }

    fn write(file: &Path, source: std::io::Error) -> SynthError {
        SynthError::Write {
            file: file.to_path_buf(),
            source,
        }
    }
}

/// The most months `--months` writes: a year of monthly refreshes.
const MAX_MONTHS: usize = 12;

/// Progress is reported about this many times per run.
const PROGRESS_REPORTS: usize = 200;

/// Mixed into the seed for the stream that breaks ties at the round tables' cut-off.
const ROUND_TABLE_SALT: u64 = 0x726f_756e_645f_7462;
/// Mixed into a family's seed for the stream of its help draws.
const HELP_SALT: u64 = 0x6865_6c70_5f64_7261;

/// Generates a synthetic county into `config.out_dir`; the same config gives the same
/// bytes. `progress(done, total)` is called at most a few hundred times.
pub fn generate(
    config: &SynthConfig,
    progress: &dyn Fn(u64, u64),
) -> Result<SynthSummary, SynthError> {
    let started = Instant::now();
    if !config.noise.is_finite() || config.noise < 0.0 {
        return Err(SynthError::Config(format!(
            "noise must be 0 or more (0 clean, 1 realistic), not {}",
            config.noise
        )));
    }
    let geography = geography::load_geography(&config.reference_dir, &config.authorities)?;
    prepare_folders(&config.out_dir, config.gzip, config.months)?;
    write_zones(&config.out_dir.join("zones.csv"), &geography)?;
    write_postcodes(&config.out_dir.join(POSTCODES_FILE), &geography)?;

    if let Some(problem) = config.round_tables.problem() {
        return Err(SynthError::Config(problem));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    if config.months == 0 || config.months > MAX_MONTHS {
        return Err(SynthError::Config(format!(
            "months must be 1 to {MAX_MONTHS}, not {}",
            config.months
        )));
    }
    let mut outputs = writer::Outputs::create(
        &config.out_dir,
        config.gzip,
        config.noise,
        config.months,
        &mut rng,
    )?;
    let numbers = IdentityNumbers::new(&mut rng);
    let sampler = LsoaSampler::new(&geography);
    let homes = Homes::new(geography.lsoas.len());
    let rounds = round_tables::rounds();
    // Two passes over the same families (the same draws from the same state):
    // the first ranks them at each round, which needs every family's need, and
    // the second applies the help and writes them. Progress counts families,
    // each pass half of one.
    let total = config.families as u64;
    let step = (2 * config.families / PROGRESS_REPORTS).max(1);
    let mut done = 0;
    let report = |done: &mut usize| {
        *done += 1;
        if done.is_multiple_of(step) && (*done / 2) < config.families {
            progress((*done / 2) as u64, total);
        }
    };
    progress(0, total);
    let mut ranked = Vec::with_capacity(config.families);
    {
        let (mut rng, mut numbers, mut homes) = (rng.clone(), numbers.clone(), homes.clone());
        let mut refs = events::Refs::default();
        for index in 0..config.families {
            let mut family_rng = ChaCha8Rng::seed_from_u64(rng.random());
            let family = population::draw_family(
                &mut family_rng,
                index,
                &geography,
                &sampler,
                &mut numbers,
                &mut homes,
                config.noise,
            );
            let (family_events, _) =
                events::family_events(&mut family_rng, &family, &geography, &mut refs);
            ranked.push(round_tables::Ranked {
                zone: geography.zone_of[family.current_address().lsoa],
                need: round_tables::need(&family_events, &rounds),
            });
            report(&mut done);
        }
    }
    let discussions = round_tables::choose(
        &ranked,
        rounds.len(),
        config.round_tables.capacity,
        &mut ChaCha8Rng::seed_from_u64(config.seed ^ ROUND_TABLE_SALT),
    );
    drop(ranked);
    let (mut numbers, mut homes) = (numbers, homes);
    let mut refs = events::Refs::default();
    let mut people = 0;
    let mut history = round_tables::History::default();
    for (index, discussion) in discussions.iter().enumerate() {
        // Each family has its own stream, so a change in one family's draws does not
        // shift every family after it; help draws from a stream of its own, so an
        // effect of 1 leaves every other draw as it was.
        let family_seed: u64 = rng.random();
        let mut family_rng = ChaCha8Rng::seed_from_u64(family_seed);
        let family = population::draw_family(
            &mut family_rng,
            index,
            &geography,
            &sampler,
            &mut numbers,
            &mut homes,
            config.noise,
        );
        let (mut family_events, mut outcomes) =
            events::family_events(&mut family_rng, &family, &geography, &mut refs);
        let child = discussion.and_then(|d| {
            round_tables::neediest_child(&family_events, rounds[d.round]).map(|(child, _)| child)
        });
        if let Some(discussion) = discussion {
            let removed = round_tables::apply_help(
                &mut family_events,
                rounds[discussion.round],
                &config.round_tables,
                &mut ChaCha8Rng::seed_from_u64(family_seed ^ HELP_SALT),
            );
            for (child, day) in removed {
                for outcome in outcomes.iter_mut().filter(|o| {
                    o.person == child
                        && o.reference_date <= day
                        && day < o.reference_date + chrono::Duration::days(365)
                }) {
                    outcome.escalated = false;
                }
            }
        }
        let records = outputs.write_family(
            &mut family_rng,
            &family,
            &geography,
            family_events,
            &outcomes,
        )?;
        if let (Some(discussion), Some(child)) = (discussion, child) {
            history.add(&family, &geography, &rounds, *discussion, child, &records);
        }
        people += family.members.len();
        report(&mut done);
    }
    let rows = outputs.rows;
    outputs.finish()?;
    history.write(&config.out_dir, config.gzip, &config.round_tables)?;
    for extract_date in months::extract_dates(config.months) {
        let dir = if extract_date == EXTRACT_DATE {
            config.out_dir.clone()
        } else {
            months::month_dir(&config.out_dir, extract_date)
        };
        write_manifest(config, &geography, &dir, extract_date)?;
    }
    progress(total, total);
    Ok(SynthSummary {
        families: config.families,
        people,
        records_per_source: sources::SOURCES
            .iter()
            .zip(rows)
            .map(|(s, n)| (s.name.to_string(), n))
            .collect(),
        zones: geography.zones.len(),
        lsoas: geography.lsoas.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Creates `extracts/` and `truth/`, and removes the generator's own files of the other
/// format (`.csv` when writing `.csv.gz` and the reverse), so a folder never holds two
/// versions of one extract; and, so no month of an earlier run is left beside this
/// one's, its earlier months (`months/`) and, with one month, its planted changes.
fn prepare_folders(out_dir: &Path, gzip: bool, months: usize) -> Result<(), SynthError> {
    let earlier = out_dir.join("months");
    match std::fs::remove_dir_all(&earlier) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(SynthError::write(&earlier, e)),
    }
    if months == 1 {
        let ext = if gzip { "csv.gz" } else { "csv" };
        let changes = out_dir.join("truth").join(format!("changes.{ext}"));
        match std::fs::remove_file(&changes) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(SynthError::write(&changes, e)),
        }
    }
    for folder in ["extracts", "truth"] {
        let path = out_dir.join(folder);
        std::fs::create_dir_all(&path).map_err(|e| SynthError::write(&path, e))?;
    }
    let other = if gzip { "csv" } else { "csv.gz" };
    let names = sources::SOURCES.iter().map(|s| ("extracts", s.name)).chain(
        ["records", "people", "families", "outcomes", "changes"]
            .into_iter()
            .chain(round_tables::TRUTH_FILES)
            .map(|n| ("truth", n)),
    );
    for (folder, name) in names {
        let path = out_dir.join(folder).join(format!("{name}.{other}"));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(SynthError::write(&path, e)),
        }
    }
    Ok(())
}

/// "A · B · C": the authorities the county covers, in code order.
fn authority_names(geography: &Geography) -> String {
    let mut names: Vec<&str> = Vec::new();
    for lsoa in &geography.lsoas {
        if !names.contains(&lsoa.lad_name.as_str()) {
            names.push(&lsoa.lad_name);
        }
    }
    names.join(" · ")
}

fn write_zones(path: &Path, geography: &Geography) -> Result<(), SynthError> {
    let mut writer = csv::Writer::from_path(path).map_err(|e| SynthError::write(path, e.into()))?;
    let mut write = |fields: &[&str]| {
        writer
            .write_record(fields)
            .map_err(|e| SynthError::write(path, e.into()))
    };
    write(&["lsoa11cd", "zone_id", "zone_name", "lad19cd"])?;
    for (lsoa, &zone) in geography.lsoas.iter().zip(&geography.zone_of) {
        let zone = &geography.zones[zone];
        write(&[&lsoa.code, &zone.id, &zone.name, &lsoa.lad_code])?;
    }
    writer.flush().map_err(|e| SynthError::write(path, e))
}

/// The synthetic postcode directory written beside the extracts.
pub const POSTCODES_FILE: &str = "postcodes.csv";

/// Every synthetic street's postcode with its LSOA, in the columns of the ONS
/// postcode directory (NSPL) that ingest reads (`pcds`, `lsoa11`) and its
/// authority (`laua`), so the county is loaded as a council loads the real one.
/// The postcodes are made up; only their areas (BH, DT, NE, TD) are real.
fn write_postcodes(path: &Path, geography: &Geography) -> Result<(), SynthError> {
    let mut writer = csv::Writer::from_path(path).map_err(|e| SynthError::write(path, e.into()))?;
    let mut write = |fields: &[&str]| {
        writer
            .write_record(fields)
            .map_err(|e| SynthError::write(path, e.into()))
    };
    write(&["pcds", "laua", "lsoa11"])?;
    for lsoa in &geography.lsoas {
        for street in &lsoa.streets {
            write(&[&street.postcode, &lsoa.lad_code, &lsoa.code])?;
        }
    }
    writer.flush().map_err(|e| SynthError::write(path, e))
}

/// `target` relative to `base` when both can be resolved, else `target` as given.
fn relative_path(target: &Path, base: &Path) -> PathBuf {
    let absolute = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|dir| dir.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        })
    };
    pathdiff::diff_paths(absolute(target), absolute(base)).unwrap_or_else(|| target.to_path_buf())
}

/// The manifest of the month whose extracts are in `dir`, taken on `extract_date`.
fn write_manifest(
    config: &SynthConfig,
    geography: &Geography,
    dir: &Path,
    extract_date: chrono::NaiveDate,
) -> Result<(), SynthError> {
    // Reference paths relative to the manifest, so a county folder moves with its ref.
    let reference = |file: &str| relative_path(&config.reference_dir.join(file), dir);
    let county_file = |file: &str| relative_path(&config.out_dir.join(file), dir);
    let manifest = Manifest {
        county: format!("Synthetic county: {}", authority_names(geography)),
        extract_date: Some(extract_date.format("%Y-%m-%d").to_string()),
        reference: Some(ReferenceFiles {
            imd: reference(geography::IMD_FILE),
            population: reference(geography::POPULATION_FILE),
            zones: county_file("zones.csv"),
            postcodes: Some(county_file(POSTCODES_FILE)),
            boundaries: Some(reference(geography::LSOA_SHAPES)),
            wards: Some(reference(geography::WARD_SHAPES)),
        }),
        sources: sources::SOURCES
            .iter()
            .map(|s| s.manifest_entry(config.gzip))
            .collect(),
        base_dir: dir.to_path_buf(),
    };
    let text = manifest
        .to_toml()
        .map_err(|e| SynthError::Manifest(e.to_string()))?;
    let path = dir.join("manifest.toml");
    let header = "# Source manifest written by `zonewise synth`: every extract, zone and postcode here is synthetic.\n";
    std::fs::write(&path, format!("{header}{text}")).map_err(|e| SynthError::write(&path, e))
}
