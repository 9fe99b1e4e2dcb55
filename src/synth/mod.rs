//! The synthetic county generator: families in real LSOAs, seven agency extracts
//! with realistic identity noise, zones, and the ground truth kept apart in `truth/`.
//! The process is documented in `docs/synthetic-data.md`.

mod events;
pub mod geography;
mod names;
pub mod noise;
mod population;
mod sources;
mod timeline;
mod writer;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::ingest::manifest::{Manifest, ReferenceFiles};
use geography::Geography;
use population::{IdentityNumbers, LsoaSampler};

pub use events::{OUTCOME_COEFFICIENTS, OUTCOME_INTERCEPT};
pub use population::PREVALENCE;
pub use timeline::{EXTRACT_DATE, HISTORY_START, REFERENCE_DATES};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    /// Folder to write (created if missing).
    pub out_dir: PathBuf,
    /// Folder with the IMD, population and boundary files (`data-samples/ref`).
    pub reference_dir: PathBuf,
    /// Families with children.
    pub families: usize,
    pub seed: u64,
    /// Identity-noise multiplier: 0 clean, 1 realistic, 2 twice as noisy.
    pub noise: f64,
    /// Write extracts and truth as `.csv.gz`.
    pub gzip: bool,
    /// LAD 2019 codes of the authorities to use; empty for all in the reference data.
    pub authorities: Vec<String>,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct SynthSummary {
    pub families: usize,
    pub people: usize,
    /// Rows written per extract, in source order.
    pub records_per_source: Vec<(String, usize)>,
    pub zones: usize,
    pub lsoas: usize,
    pub seconds: f64,
}

/// Why a county could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{file}: {message}")]
    Reference { file: PathBuf, message: String },
    #[error(transparent)]
    Boundaries(#[from] crate::geo::boundaries::BoundaryError),
    #[error("cannot write {file}: {source}")]
    Write {
        file: PathBuf,
        source: std::io::Error,
    },
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

/// Families between progress reports.
const PROGRESS_EVERY: usize = 2_000;

/// Generates a synthetic county into `config.out_dir`. The same config gives the same bytes.
pub fn generate(
    config: &SynthConfig,
    progress: &dyn Fn(u64, u64),
) -> Result<SynthSummary, SynthError> {
    let started = Instant::now();
    let geography = geography::load_geography(&config.reference_dir, &config.authorities)?;
    for folder in ["extracts", "truth"] {
        let path = config.out_dir.join(folder);
        std::fs::create_dir_all(&path).map_err(|e| SynthError::write(&path, e))?;
    }
    write_zones(&config.out_dir.join("zones.csv"), &geography)?;

    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut outputs =
        writer::Outputs::create(&config.out_dir, config.gzip, config.noise, &mut rng)?;
    let mut numbers = IdentityNumbers::new(&mut rng);
    let sampler = LsoaSampler::new(&geography);
    let mut refs = events::Refs::default();
    let mut people = 0;
    let total = config.families as u64;
    for index in 0..config.families {
        // Each family has its own stream, so a change in one family's draws does not
        // shift every family after it.
        let mut family_rng = ChaCha8Rng::seed_from_u64(rng.random());
        let family =
            population::draw_family(&mut family_rng, index, &geography, &sampler, &mut numbers);
        let current = family.current_address().lsoa;
        let lsoa = &geography.lsoas[current];
        let zone = &geography.zones[geography.zone_of[current]];
        let school_urn = format!("1{:05}", (lsoa.index_in_lad * 37 + 11) % 100_000);
        let (family_events, outcomes) =
            events::family_events(&mut family_rng, &family, &school_urn, &mut refs);
        outputs.write_family(
            &mut family_rng,
            &family,
            (lsoa, zone),
            &family_events,
            &outcomes,
        )?;
        people += family.members.len();
        if index % PROGRESS_EVERY == 0 {
            progress(index as u64, total);
        }
    }
    let rows = outputs.rows;
    outputs.finish()?;
    write_manifest(config, &geography)?;
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

fn write_manifest(config: &SynthConfig, geography: &Geography) -> Result<(), SynthError> {
    // Reference paths relative to the manifest, so a county folder can be moved with its ref.
    let relative = |file: &str| -> PathBuf {
        let target = config.reference_dir.join(file);
        let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        pathdiff::diff_paths(absolute(&target), absolute(&config.out_dir)).unwrap_or(target)
    };
    let manifest = Manifest {
        county: format!("Synthetic county: {}", authority_names(geography)),
        extract_date: Some(EXTRACT_DATE.format("%Y-%m-%d").to_string()),
        reference: Some(ReferenceFiles {
            imd: relative("imd2019_lsoa11.csv"),
            population: relative("population_mid2020_lsoa11.csv"),
            zones: PathBuf::from("zones.csv"),
        }),
        sources: sources::SOURCES
            .iter()
            .map(|s| s.manifest_entry(config.gzip))
            .collect(),
        base_dir: config.out_dir.clone(),
    };
    let text = manifest
        .to_toml()
        .map_err(|e| SynthError::Manifest(e.to_string()))?;
    let path = config.out_dir.join("manifest.toml");
    let header =
        "# Source manifest written by `zonewise synth`: every extract here is synthetic.\n";
    std::fs::write(&path, format!("{header}{text}")).map_err(|e| SynthError::write(&path, e))
}
