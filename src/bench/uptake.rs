//! `zonewise bench uptake`: generates, ingests and links a synthetic county of a
//! given size, then times `uptake::compute` and `uptake::publish` for each
//! built-in service against a reference run in the same process, a plain SQL
//! group-by of the service's own eligible, invited and attended counts per LSOA
//! (issue 5). The ratio says what the rates, intervals, groupings, SII simulation,
//! suppression and mart write cost over counting alone, which a bare time cannot.

use std::time::Instant;

use duckdb::Connection;
use serde::Serialize;

use super::{CountySpec, Progress, RunsTable, SizesCommand, generate_and_link, run_each_size};
use crate::format::thousands;
use crate::link::LinkConfig;
use crate::uptake::{self, DEFAULT_THRESHOLD, Service, UptakeError, UptakeOptions, service};

/// Pair limit per blocking rule for the benchmark's linkage: at 500,000 families
/// two rules make 60–70 million pairs, over `LinkConfig`'s default of 50 million.
pub const MAX_PAIRS_PER_RULE: u64 = 200_000_000;

/// One benchmark run at one size.
#[derive(Debug, Clone)]
pub struct UptakeBenchConfig {
    pub county: CountySpec,
    /// Linkage refuses a blocking rule making more pairs than this.
    pub max_pairs_per_rule: u64,
    /// Each timed step runs this many times and the fastest counts, so that a
    /// neighbour's burst of work on the shared machine does not decide the figure.
    pub repeats: usize,
}

/// One service's figures and times.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceBench {
    pub service: String,
    pub title: String,
    /// County totals from `uptake::compute`.
    pub eligible: u64,
    pub invited: Option<u64>,
    pub attended: u64,
    /// The same totals from the reference group-by, summed over its LSOA rows.
    pub reference_eligible: u64,
    pub reference_invited: Option<u64>,
    pub reference_attended: u64,
    /// LSOAs with anyone eligible.
    pub lsoas_with_eligible: u64,
    /// LSOAs whose attended count `publish` withholds at the default threshold.
    pub lsoas_withheld: u64,
    /// Fastest of the repeats, in seconds.
    pub reference_seconds: f64,
    pub compute_seconds: f64,
    pub publish_seconds: f64,
    /// `compute_seconds` ÷ `reference_seconds`.
    pub compute_ratio: f64,
    /// `publish_seconds` ÷ `reference_seconds`.
    pub publish_ratio: f64,
}

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct UptakeBench {
    pub families: usize,
    pub seed: u64,
    pub max_pairs_per_rule: u64,
    pub repeats: usize,
    pub people: usize,
    /// Standardised records linked (`link.record`).
    pub records: usize,
    /// Linked persons (`core.person`).
    pub persons: u64,
    /// LSOAs in the county's reference data: rows of the LSOA table.
    pub lsoas: usize,
    pub synth_seconds: f64,
    pub ingest_seconds: f64,
    pub link_seconds: f64,
    /// Process high-water mark after this run (includes every earlier run in the process).
    pub peak_memory_bytes: Option<u64>,
    pub services: Vec<ServiceBench>,
}

/// Generates, ingests and links one county, then times each built-in service.
pub fn run(config: &UptakeBenchConfig, progress: Progress<'_>) -> anyhow::Result<UptakeBench> {
    let county = generate_and_link(
        &config.county,
        &LinkConfig {
            max_pairs_per_rule: config.max_pairs_per_rule,
            ..LinkConfig::default()
        },
        progress,
    )?;
    let services = service::built_in()?;
    let repeats = config.repeats.max(1);
    let mut lsoas = 0;
    let mut measured = Vec::with_capacity(services.len());
    for (k, service) in services.iter().enumerate() {
        progress(
            &format!("timing {} uptake", service.title),
            Some(k as f32 / services.len() as f32),
        );
        let (bench, lsoa_rows) = time_service(&county.conn, service, repeats)?;
        lsoas = lsoa_rows;
        measured.push(bench);
    }
    Ok(UptakeBench {
        families: config.county.families,
        seed: config.county.seed,
        max_pairs_per_rule: config.max_pairs_per_rule,
        repeats,
        people: county.summary.people,
        records: county.report.records,
        persons: county.report.persons,
        lsoas,
        synth_seconds: county.summary.seconds,
        ingest_seconds: county.ingest_seconds,
        link_seconds: county.link_seconds,
        peak_memory_bytes: super::peak_memory_bytes(),
        services: measured,
    })
}

/// Times the reference, `compute` and `publish` for one service, fastest of
/// `repeats` each; also returns the LSOA rows `compute` gives.
fn time_service(
    conn: &Connection,
    service: &Service,
    repeats: usize,
) -> anyhow::Result<(ServiceBench, usize)> {
    let options = UptakeOptions::default();
    let fastest = |best: &mut f64, started: Instant| {
        *best = best.min(started.elapsed().as_secs_f64());
    };
    let (mut reference_seconds, mut compute_seconds, mut publish_seconds) =
        (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    let mut outputs = None;
    for _ in 0..repeats {
        let started = Instant::now();
        let reference = reference_counts(conn, service, &options)?;
        fastest(&mut reference_seconds, started);
        let started = Instant::now();
        let tables = uptake::compute(conn, service, &options)?;
        fastest(&mut compute_seconds, started);
        let started = Instant::now();
        let published = uptake::publish(conn, service, &options, DEFAULT_THRESHOLD)?;
        fastest(&mut publish_seconds, started);
        outputs = Some((reference, tables, published));
    }
    let (reference, tables, published) =
        outputs.ok_or_else(|| anyhow::anyhow!("no timed repeat ran"))?;
    let county = &tables.county;
    let sum = |pick: fn(&LsoaCounts) -> u64| reference.iter().map(pick).sum::<u64>();
    let bench = ServiceBench {
        service: service.name.clone(),
        title: service.title.clone(),
        eligible: county.eligible.unwrap_or(0),
        invited: county.invited,
        attended: county.attended.unwrap_or(0),
        reference_eligible: sum(|r| r.eligible),
        reference_invited: service.has_invited().then(|| sum(|r| r.invited)),
        reference_attended: sum(|r| r.attended),
        lsoas_with_eligible: reference.iter().filter(|r| r.eligible > 0).count() as u64,
        lsoas_withheld: published
            .tables()
            .lsoas
            .iter()
            .filter(|r| r.withheld.attended)
            .count() as u64,
        reference_seconds,
        compute_seconds,
        publish_seconds,
        compute_ratio: compute_seconds / reference_seconds,
        publish_ratio: publish_seconds / reference_seconds,
    };
    Ok((bench, tables.lsoas.len()))
}

/// One LSOA's counts from the reference query.
struct LsoaCounts {
    eligible: u64,
    invited: u64,
    attended: u64,
}

/// The reference: the service's three queries grouped per LSOA and joined to the
/// LSOA table in one plain SQL statement, rows fetched, no rates, intervals,
/// groupings or checks. A service with no invitation counts 0 invited.
fn reference_counts(
    conn: &Connection,
    service: &Service,
    options: &UptakeOptions,
) -> Result<Vec<LsoaCounts>, UptakeError> {
    uptake::prepare_queries(conn, options)?;
    let [(_, eligible), (_, invited), (_, attended)] = service.queries(conn)?;
    let none = uptake::defined::Query {
        sql: "SELECT NULL::VARCHAR AS lsoa_code, 0 AS n WHERE false".to_string(),
        params: Vec::new(),
    };
    let (eligible, invited, attended) = (
        eligible.unwrap_or_else(|| none.clone()),
        invited.unwrap_or_else(|| none.clone()),
        attended.unwrap_or(none),
    );
    let sql = format!(
        "SELECT coalesce(e.n, 0), coalesce(i.n, 0), coalesce(a.n, 0)
         FROM ref.lsoa l
         LEFT JOIN (SELECT lsoa_code, sum(n)::BIGINT AS n FROM ({eligible}) GROUP BY ALL) e
           USING (lsoa_code)
         LEFT JOIN (SELECT lsoa_code, sum(n)::BIGINT AS n FROM ({invited}) GROUP BY ALL) i
           USING (lsoa_code)
         LEFT JOIN (SELECT lsoa_code, sum(n)::BIGINT AS n FROM ({attended}) GROUP BY ALL) a
           USING (lsoa_code)",
        eligible = eligible.sql,
        invited = invited.sql,
        attended = attended.sql,
    );
    // The placeholders in the order the three queries appear.
    let params: Vec<_> = [eligible.params, invited.params, attended.params].concat();
    let count = |n: i64| n.max(0) as u64;
    let rows = conn
        .prepare(&sql)?
        .query_map(duckdb::params_from_iter(&params), |row| {
            Ok(LsoaCounts {
                eligible: count(row.get(0)?),
                invited: count(row.get(1)?),
                attended: count(row.get(2)?),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Command-line settings of `zonewise bench uptake`.
#[derive(Debug, Clone, clap::Args)]
pub struct UptakeCommand {
    #[command(flatten)]
    pub sizes: SizesCommand,
    /// Linkage refuses a blocking rule making more candidate pairs than this.
    #[arg(long = "max-pairs", value_name = "MAX_PAIRS", default_value_t = MAX_PAIRS_PER_RULE)]
    pub max_pairs_per_rule: u64,
    /// Runs of each timed step; the fastest counts.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
}

/// `zonewise bench uptake`: runs each size in turn with a progress bar on stderr,
/// then prints a table (or JSON) with one column per size.
pub fn command(settings: &UptakeCommand) -> anyhow::Result<()> {
    let runs = run_each_size("uptake", &settings.sizes, false, &|county, progress| {
        let config = UptakeBenchConfig {
            county: county.clone(),
            max_pairs_per_rule: settings.max_pairs_per_rule,
            repeats: settings.repeats,
        };
        run(&config, progress)
    })?;
    if settings.sizes.json {
        println!("{}", serde_json::to_string_pretty(&runs)?);
    } else {
        print_table(&runs);
    }
    Ok(())
}

/// One column per size, one row per measure; each service's rows follow the county's.
fn print_table(runs: &[UptakeBench]) {
    let mut table = RunsTable::new(runs, &|r| {
        format!("{} families", thousands(r.families as i64))
    });
    let count = |n: u64| thousands(n as i64);
    let seconds = |s: f64| format!("{s:.3}");
    table.row("people generated", &|r| count(r.people as u64));
    table.row("records linked", &|r| count(r.records as u64));
    table.row("persons (core.person)", &|r| count(r.persons));
    table.row("LSOAs", &|r| count(r.lsoas as u64));
    table.row("link pair limit per rule", &|r| count(r.max_pairs_per_rule));
    table.row("synth s", &|r| seconds(r.synth_seconds));
    table.row("ingest s", &|r| seconds(r.ingest_seconds));
    table.row("link s", &|r| seconds(r.link_seconds));
    let services: Vec<(String, String)> = runs
        .first()
        .map(|r| {
            r.services
                .iter()
                .map(|s| (s.service.clone(), s.title.clone()))
                .collect()
        })
        .unwrap_or_default();
    for (name, title) in &services {
        let of = |r: &UptakeBench| r.services.iter().find(|s| &s.service == name).cloned();
        let mut row = |measure: &str, value: &dyn Fn(&ServiceBench) -> String| {
            table.row(&format!("{title}: {measure}"), &|r| {
                of(r).map_or(String::new(), |s| value(&s))
            });
        };
        row("eligible", &|s| count(s.eligible));
        if of(&runs[0]).is_some_and(|s| s.invited.is_some()) {
            row("invited", &|s| s.invited.map_or(String::new(), count));
        }
        row("attended", &|s| count(s.attended));
        row("LSOAs with anyone eligible", &|s| {
            count(s.lsoas_with_eligible)
        });
        row(
            &format!("LSOAs with attended withheld (threshold {DEFAULT_THRESHOLD})"),
            &|s| count(s.lsoas_withheld),
        );
        row("reference group-by s", &|s| seconds(s.reference_seconds));
        row("compute s", &|s| seconds(s.compute_seconds));
        row("publish s", &|s| seconds(s.publish_seconds));
        row("compute ÷ reference", &|s| {
            format!("{:.2}", s.compute_ratio)
        });
        row("publish ÷ reference", &|s| {
            format!("{:.2}", s.publish_ratio)
        });
    }
    let peak_label = if runs.len() > 1 {
        "peak memory GB (process so far)"
    } else {
        "peak memory GB"
    };
    table.row(peak_label, &|r| {
        r.peak_memory_bytes
            .map_or("unknown".to_string(), |b| format!("{:.2}", b as f64 / 1e9))
    });
    println!("{}", table.table());
    let repeats = runs.first().map_or(1, |r| r.repeats);
    println!(
        "Times are the fastest of {repeats} runs each. Reference: the service's own eligible, \
         invited and attended queries grouped per LSOA in one plain SQL statement. Compute adds \
         rates, Wilson intervals, decile/quintile/zone/authority groupings and the SII/RII \
         simulation ({} draws per measure); publish adds suppression and the mart write. \
         Linkage ran with a limit of {} pairs per blocking rule (the default is {}).",
        thousands(uptake::stats::SIMULATIONS as i64),
        thousands(
            runs.first()
                .map_or(MAX_PAIRS_PER_RULE, |r| r.max_pairs_per_rule) as i64
        ),
        thousands(LinkConfig::default().max_pairs_per_rule as i64),
    );
}
