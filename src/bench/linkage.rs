//! `zonewise bench linkage`: generates a synthetic county of a given size, ingests
//! it, links it and scores the result against the county's truth, reporting records,
//! candidate pairs, seconds per stage, peak memory and precision/recall/F1 (issue 3).
//!
//! With `export_records` it also writes the standardised records (`link.record`)
//! with each record's true person id to a CSV, so that another linker
//! (`benches/linkage_vs_splink.py` runs Splink) can link exactly the same records
//! and be scored by the same measure.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use duckdb::Connection;
use serde::Serialize;

use super::{
    CountySpec, LinkedCounty, Progress, RunsTable, SizesCommand, generate_and_link, run_each_size,
};
use crate::format::thousands;
use crate::link::evaluate::LinkageQuality;
use crate::link::{self, LinkConfig};

/// The link stage that a linker given already-standardised records does not run.
pub const STANDARDISE_STAGE: &str = "standardise";

/// One benchmark run at one size.
#[derive(Debug, Clone)]
pub struct LinkageBenchConfig {
    pub county: CountySpec,
    /// Also write `records.csv` (standardised records and true person ids) in the
    /// county's work folder.
    pub export_records: bool,
}

/// Pairs one blocking rule generates.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RulePairs {
    pub rule: String,
    pub pairs: u64,
}

/// Wall time of one stage.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StageSeconds {
    pub stage: String,
    pub seconds: f64,
}

/// The exported standardised records.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ExportedRecords {
    pub path: PathBuf,
    pub rows: u64,
    pub seconds: f64,
}

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LinkageBench {
    pub families: usize,
    pub seed: u64,
    pub memory_limit: Option<String>,
    pub people: usize,
    /// Rows over all extracts (a record appears once per event).
    pub extract_rows: usize,
    /// Standardised records (`link.record`): what linkage links.
    pub records: usize,
    pub pairs_per_rule: Vec<RulePairs>,
    /// The union of the rules' pairs: what is compared and scored.
    pub candidate_pairs: u64,
    pub accepted_pairs: u64,
    pub persons: u64,
    pub synth_seconds: f64,
    pub ingest_seconds: f64,
    /// The stages of `link::link`, in order.
    pub link_stages: Vec<StageSeconds>,
    /// Wall time of `link::link`, stages and bookkeeping.
    pub link_seconds: f64,
    /// `link_seconds` less standardisation: the work a linker handed standardised
    /// records does.
    pub link_seconds_without_standardise: f64,
    /// Process high-water mark after this run (includes generating and ingesting,
    /// and every earlier run in the same process).
    pub peak_memory_bytes: Option<u64>,
    pub quality: LinkageQuality,
    pub exported_records: Option<ExportedRecords>,
}

/// Generates, ingests, links and evaluates one county. `progress(stage, fraction)`
/// says what is running; the fraction is None where a stage cannot tell.
pub fn run(config: &LinkageBenchConfig, progress: Progress<'_>) -> anyhow::Result<LinkageBench> {
    let LinkedCounty {
        conn,
        county_dir,
        summary,
        ingest_seconds,
        report,
        link_seconds,
    } = generate_and_link(&config.county, &LinkConfig::default(), progress)?;
    let standardise_seconds = report
        .timings
        .iter()
        .filter(|(stage, _)| stage == STANDARDISE_STAGE)
        .map(|(_, seconds)| seconds)
        .sum::<f64>();

    progress("evaluating against the truth", None);
    let truth = county_dir.join("truth");
    let quality = link::evaluate::evaluate(&conn, &truth)?;
    let peak_memory_bytes = super::peak_memory_bytes();

    let exported_records = if config.export_records {
        progress("exporting the standardised records", None);
        let path = config.county.work_dir.join("records.csv");
        let started = Instant::now();
        let rows = export_records(&conn, &truth.join("records.csv"), &path)?;
        Some(ExportedRecords {
            path,
            rows,
            seconds: started.elapsed().as_secs_f64(),
        })
    } else {
        None
    };

    Ok(LinkageBench {
        families: config.county.families,
        seed: config.county.seed,
        memory_limit: config.county.memory_limit.clone(),
        people: summary.people,
        extract_rows: summary.records_per_source.iter().map(|(_, n)| n).sum(),
        records: report.records,
        pairs_per_rule: report
            .pairs_per_rule
            .into_iter()
            .map(|(rule, pairs)| RulePairs { rule, pairs })
            .collect(),
        candidate_pairs: report.candidate_pairs,
        accepted_pairs: report.accepted_pairs,
        persons: report.persons,
        synth_seconds: summary.seconds,
        ingest_seconds,
        link_stages: report
            .timings
            .into_iter()
            .map(|(stage, seconds)| StageSeconds { stage, seconds })
            .collect(),
        link_seconds,
        link_seconds_without_standardise: link_seconds - standardise_seconds,
        peak_memory_bytes,
        quality,
        exported_records,
    })
}

/// Writes `link.record` with each record's true person id (`true_person_id`) to a CSV
/// at `path`, ordered by record key; returns the rows written.
///
/// CSV because this DuckDB build has no Parquet extension; dates are ISO, missing
/// values empty. The truth column is for scoring only: a linker must not read it.
pub fn export_records(conn: &Connection, truth_file: &Path, path: &Path) -> anyhow::Result<u64> {
    let quote = |p: &Path| p.display().to_string().replace('\'', "''");
    let rows = conn
        .execute(
            &format!(
                "COPY (SELECT r.*, t.person_id AS true_person_id
                       FROM link.record r
                       LEFT JOIN read_csv('{}', header = true, all_varchar = true) t
                         ON t.source = r.source AND t.record_id = r.record_id
                       ORDER BY r.record_key)
                 TO '{}' (HEADER)",
                quote(truth_file),
                quote(path)
            ),
            [],
        )
        .with_context(|| format!("exporting the standardised records to {}", path.display()))?;
    Ok(rows as u64)
}

/// Command-line settings of `zonewise bench linkage`.
#[derive(Debug, Clone, clap::Args)]
pub struct LinkageCommand {
    #[command(flatten)]
    pub sizes: SizesCommand,
    /// Write each size's standardised records and true person ids to records.csv
    /// in its work folder, for linking by another tool (the folder is kept).
    #[arg(long)]
    pub export_records: bool,
}

/// `zonewise bench linkage`: runs each size in turn with a progress bar on stderr,
/// then prints a table (or JSON) with one column per size.
pub fn command(settings: &LinkageCommand) -> anyhow::Result<()> {
    let runs = run_each_size(
        "linkage",
        &settings.sizes,
        settings.export_records,
        &|county, progress| {
            let config = LinkageBenchConfig {
                county: county.clone(),
                export_records: settings.export_records,
            };
            run(&config, progress)
        },
    )?;
    if settings.sizes.json {
        println!("{}", serde_json::to_string_pretty(&runs)?);
    } else {
        print_table(&runs);
    }
    Ok(())
}

/// One column per size, one row per measure.
fn print_table(runs: &[LinkageBench]) {
    let mut table = RunsTable::new(runs, &|r| {
        format!("{} families", thousands(r.families as i64))
    });
    let mut row = |measure: &str, value: &dyn Fn(&LinkageBench) -> String| {
        table.row(measure, value);
    };
    let count = |n: u64| thousands(n as i64);
    let seconds = |s: f64| format!("{s:.2}");
    row("people", &|r| count(r.people as u64));
    row("extract rows", &|r| count(r.extract_rows as u64));
    row("records (link.record)", &|r| count(r.records as u64));
    for (k, rule) in link::BLOCKING_RULES.iter().enumerate() {
        row(&format!("pairs: {}", rule.name), &|r| {
            r.pairs_per_rule
                .get(k)
                .map_or(String::new(), |p| count(p.pairs))
        });
    }
    row("candidate pairs (union)", &|r| count(r.candidate_pairs));
    row("synth s (not linkage)", &|r| seconds(r.synth_seconds));
    row("ingest s", &|r| seconds(r.ingest_seconds));
    let stages: Vec<String> = runs
        .first()
        .map(|r| r.link_stages.iter().map(|s| s.stage.clone()).collect())
        .unwrap_or_default();
    for (k, stage) in stages.iter().enumerate() {
        row(&format!("link: {stage} s"), &|r| {
            r.link_stages
                .get(k)
                .map_or(String::new(), |s| seconds(s.seconds))
        });
    }
    row("link total s", &|r| seconds(r.link_seconds));
    row("link without standardise s", &|r| {
        seconds(r.link_seconds_without_standardise)
    });
    let peak_label = if runs.len() > 1 {
        "peak memory GB (process so far)"
    } else {
        "peak memory GB"
    };
    row(peak_label, &|r| {
        r.peak_memory_bytes
            .map_or("unknown".to_string(), |b| format!("{:.2}", b as f64 / 1e9))
    });
    row("precision", &|r| format!("{:.4}", r.quality.precision));
    row("recall", &|r| format!("{:.4}", r.quality.recall));
    row("F1", &|r| format!("{:.4}", r.quality.f1));
    row("true persons split", &|r| {
        format!("{:.2}%", r.quality.split_persons * 100.0)
    });
    row("ids merging people", &|r| {
        format!("{:.2}%", r.quality.merged_ids * 100.0)
    });
    if runs.iter().any(|r| r.exported_records.is_some()) {
        row("exported records", &|r| {
            r.exported_records
                .as_ref()
                .map_or(String::new(), |e| e.path.display().to_string())
        });
    }
    println!("{}", table.table());
    if runs.len() > 1 {
        println!(
            "Peak memory is the process's high-water mark, so each size's figure includes the sizes before it; run one size per process to measure each alone."
        );
    }
}
