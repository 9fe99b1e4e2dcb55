//! Record linkage: turns the staged records of every agency into one person id per
//! real person (`core.person`, `core.source_record`).
//!
//! standardise (`link.record`) → block (union of rules, counted before scoring) →
//! compare (levels per field, in SQL) → Fellegi–Sunter (u from random pairs, m by
//! EM sessions, the prior λ from deterministic rules) → score every candidate pair
//! (`link.pair`) → cluster accepted pairs, strongest first, into people with stable ids
//! (never joining records born a generation apart on scores alone: `cluster`).

pub mod blocking;
pub mod cluster;
pub mod comparisons;
pub mod core_tables;
pub mod evaluate;
pub mod family;
pub mod fellegi_sunter;
pub mod files;
pub mod lineage;
pub mod model_file;
pub mod review;
pub mod score;
pub mod standardise;
pub mod train;

use std::time::Instant;

use duckdb::Connection;

use crate::audit::{Action, Entry};
use crate::ingest::error::BlankedValues;

pub use blocking::{BLOCKING_RULES, BlockingRule};
pub use comparisons::{COMPARISONS, Comparison};
use fellegi_sunter::Model;

/// Settings of a linkage run.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// Pairs at or above this match probability are the same person.
    pub accept_probability: f64,
    /// Pairs between this and `accept_probability` go to clerical review.
    pub review_probability: f64,
    /// A blocking rule generating more pairs than this is refused.
    pub max_pairs_per_rule: u64,
    pub em_iterations: usize,
    /// A saved model to score with instead of training one on this data.
    pub model: Option<Model>,
    /// Which pairs are compared: [`BLOCKING_RULES`] unless a `link-files` config names its own.
    pub blocking: Vec<BlockingRule>,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            accept_probability: 0.95,
            review_probability: 0.5,
            max_pairs_per_rule: 50_000_000,
            em_iterations: 30,
            model: None,
            blocking: BLOCKING_RULES.to_vec(),
        }
    }
}

/// What a linkage run did.
#[derive(Debug, Clone)]
pub struct LinkReport {
    pub records: usize,
    /// (rule name, pairs it generates).
    pub pairs_per_rule: Vec<(String, u64)>,
    pub candidate_pairs: u64,
    pub accepted_pairs: u64,
    pub review_pairs: u64,
    /// Accepted pairs not joined because their records were born a generation apart.
    pub held_apart: u64,
    /// Postcodes not shaped like a UK postcode, compared as missing.
    pub unreadable_postcodes: BlankedValues,
    pub persons: u64,
    pub families: u64,
    /// What changed since the previous run; None on a database's first.
    pub changes: Option<lineage::Changes>,
    pub model: Model,
    /// (stage, seconds).
    pub timings: Vec<(String, f64)>,
    /// (weight bucket lower bound, pairs), buckets 2 wide.
    pub weight_histogram: Vec<(i64, u64)>,
}

/// Why linkage could not run.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("nothing to link: load extracts with `zonewise ingest` first")]
    NoRecords,
    #[error(
        "blocking rule '{rule}' would generate {pairs} pairs, more than the limit of {limit}; tighten it by adding a key, or raise the limit (`link --max-pairs`)"
    )]
    TooManyPairs {
        rule: String,
        pairs: u64,
        limit: u64,
    },
    #[error("linkage tables are inconsistent: {0}; run `zonewise link` again")]
    Corrupt(String),
    #[error("database error during linkage: {0}")]
    Database(#[from] duckdb::Error),
    #[error("linkage finished but could not be recorded in the audit log: {0}")]
    Audit(#[from] crate::store::StoreError),
}

/// What scoring the records of `link.record` produced.
#[derive(Debug, Clone)]
pub struct ScoreReport {
    pub records: usize,
    /// (rule name, pairs it generates).
    pub pairs_per_rule: Vec<(String, u64)>,
    pub candidate_pairs: u64,
    /// The model the pairs were scored with: trained here, or the one supplied.
    pub model: Model,
    /// True when the model was trained on this data rather than loaded.
    pub trained: bool,
    /// (stage, seconds).
    pub timings: Vec<(String, f64)>,
}

/// Stage timer: each `lap` records the time since the previous one.
struct Stopwatch {
    stage: Instant,
    timings: Vec<(String, f64)>,
}

impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch {
            stage: Instant::now(),
            timings: Vec::new(),
        }
    }

    fn lap(&mut self, name: &str) {
        self.timings
            .push((name.to_string(), self.stage.elapsed().as_secs_f64()));
        self.stage = Instant::now();
    }
}

/// The engine on whatever `link.record` holds: count each blocking rule's pairs
/// (refusing an over-broad rule), train unless `config.model` is given, then
/// block, compare and score into `link.pair` in one pass.
/// Both `link` (agency extracts) and `link-files` (any CSV files) run through here.
pub fn score_records(
    conn: &Connection,
    config: &LinkConfig,
    across_sources_only: bool,
) -> Result<ScoreReport, LinkError> {
    let mut watch = Stopwatch::start();
    let records: i64 = conn.query_row("SELECT count(*) FROM link.record", [], |r| r.get(0))?;
    let records = records.max(0) as usize;
    if records == 0 {
        return Err(LinkError::NoRecords);
    }
    let pairs_per_rule = blocking::count_pairs(conn, &config.blocking, config.max_pairs_per_rule)?;
    watch.lap("count pairs per rule");
    let (model, trained) = match &config.model {
        Some(model) => (model.clone(), false),
        None => {
            let model = train::train(conn, records, config.em_iterations, across_sources_only)?;
            watch.lap("train (EM)");
            (model, true)
        }
    };
    score::build_scored_pairs(conn, &config.blocking, across_sources_only, &model, records)?;
    watch.lap("block, compare and score");
    let candidate_pairs: i64 =
        conn.query_row("SELECT count(*) FROM link.pair", [], |r| r.get(0))?;
    Ok(ScoreReport {
        records,
        pairs_per_rule,
        candidate_pairs: candidate_pairs.max(0) as u64,
        model,
        trained,
        timings: watch.timings,
    })
}

/// Runs the whole linkage and replaces `core.person`, `core.source_record` and
/// `core.family`; `actor` is who ran it, for the audit log.
pub fn link(conn: &Connection, config: &LinkConfig, actor: &str) -> Result<LinkReport, LinkError> {
    let mut watch = Stopwatch::start();
    if standardise::build_records(conn)? == 0 {
        return Err(LinkError::NoRecords);
    }
    let unreadable_postcodes = standardise::unreadable_postcodes(conn)?;
    watch.lap("standardise");
    let scored = score_records(conn, config, false)?;
    watch.timings.extend(scored.timings.iter().cloned());
    watch.stage = Instant::now();
    let ScoreReport {
        records,
        pairs_per_rule,
        candidate_pairs,
        model,
        ..
    } = scored;

    let outcome = finish_run(
        conn,
        config,
        actor,
        records,
        candidate_pairs,
        &model,
        &mut watch,
    )?;
    Ok(LinkReport {
        records,
        pairs_per_rule,
        candidate_pairs,
        accepted_pairs: outcome.accepted_pairs,
        review_pairs: outcome.review_pairs,
        held_apart: outcome.held_apart,
        unreadable_postcodes,
        persons: outcome.persons,
        families: outcome.families,
        changes: outcome.changes,
        model,
        timings: watch.timings,
        weight_histogram: outcome.weight_histogram,
    })
}

/// What clustering the scored pairs at given thresholds produced.
struct RunOutcome {
    accepted_pairs: u64,
    review_pairs: u64,
    held_apart: u64,
    persons: u64,
    families: u64,
    changes: Option<lineage::Changes>,
    weight_histogram: Vec<(i64, u64)>,
}

/// Clusters the scored pairs of `link.pair` at the thresholds of `config` (with the
/// reviewers' decisions), groups families, records the run in `app.link_run` and
/// what changed since the previous one (`lineage`), all in one transaction with
/// its audit entries: people, families and the decisions that follow them are
/// replaced together or not at all.
fn finish_run(
    conn: &Connection,
    config: &LinkConfig,
    actor: &str,
    records: usize,
    candidate_pairs: u64,
    model: &Model,
    watch: &mut Stopwatch,
) -> Result<RunOutcome, LinkError> {
    // Held until the commit: the run's audit entries are appended inside it.
    let lock = crate::audit::lock_for_append();
    conn.execute_batch("BEGIN TRANSACTION")?;
    match replace_people(
        conn,
        &lock,
        config,
        actor,
        records,
        candidate_pairs,
        model,
        watch,
    ) {
        Ok(outcome) => {
            conn.execute_batch("COMMIT")?;
            Ok(outcome)
        }
        Err(error) => {
            if let Err(rollback) = conn.execute_batch("ROLLBACK") {
                tracing::error!("rollback after a failed linkage run also failed: {rollback}");
            }
            Err(error)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn replace_people(
    conn: &Connection,
    lock: &crate::audit::AppendLock,
    config: &LinkConfig,
    actor: &str,
    records: usize,
    candidate_pairs: u64,
    model: &Model,
    watch: &mut Stopwatch,
) -> Result<RunOutcome, LinkError> {
    let had_previous = lineage::snapshot(conn)?;
    let cluster::Clusters {
        persons,
        held_apart,
    } = cluster::cluster(conn, config.accept_probability)?;
    watch.lap("cluster");
    let families = family::group_families(conn)?;
    watch.lap("families");
    let placed = core_tables::build(conn)?;
    tracing::info!(?placed, "core tables");
    watch.lap("core tables");

    let count = |sql: &str| -> Result<u64, duckdb::Error> {
        conn.query_row(sql, [], |row| row.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
    };
    let accepted_pairs = count(&format!(
        "SELECT count(*) FROM link.pair WHERE match_probability >= {}",
        config.accept_probability
    ))?;
    let review_pairs = count(&format!(
        "SELECT count(*) FROM ({})",
        review::pending_sql(config.review_probability, config.accept_probability)
    ))?;
    let weight_histogram = conn
        .prepare(
            "SELECT (floor(match_weight / 2) * 2)::BIGINT AS bucket, count(*)::BIGINT
             FROM link.pair GROUP BY bucket ORDER BY bucket",
        )?
        .query_map([], |row| {
            Ok((row.get(0)?, row.get::<_, i64>(1)?.max(0) as u64))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    conn.execute(
        "INSERT INTO app.link_run
         SELECT coalesce(max(run_id), 0) + 1, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ? FROM app.link_run",
        duckdb::params![
            records as i64,
            candidate_pairs as i64,
            accepted_pairs as i64,
            review_pairs as i64,
            persons as i64,
            config.accept_probability,
            config.review_probability,
            serde_json::to_string(model).unwrap_or_default(),
        ],
    )?;
    let run_id: i64 =
        conn.query_row("SELECT max(run_id) FROM app.link_run", [], |row| row.get(0))?;
    let changes = if had_previous {
        Some(lineage::record(conn, lock, run_id, actor)?)
    } else {
        None
    };
    lineage::drop_snapshot(conn)?;
    watch.lap("changes since the last run");
    crate::audit::append(
        conn,
        lock,
        &Entry::new(actor, Action::Link, format!("linkage run {run_id}")).with_detail(format!(
            "{records} records, {accepted_pairs} pairs accepted at match probability {} \
             ({held_apart} held apart: born a generation apart), \
             {persons} people in {families} families{}",
            config.accept_probability,
            changes
                .as_ref()
                .map_or(String::new(), lineage::Changes::sentence)
        )),
    )?;
    Ok(RunOutcome {
        accepted_pairs,
        review_pairs,
        held_apart,
        persons,
        families,
        changes,
        weight_histogram,
    })
}

/// What re-clustering at new thresholds produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ReclusterReport {
    pub persons: u64,
    pub families: u64,
    pub accepted_pairs: u64,
    pub review_pairs: u64,
    /// What changed since the run before (None when there was none).
    pub changes: Option<lineage::Changes>,
}

/// Re-clusters the already scored pairs of the latest run at new thresholds and
/// with every review decision so far, without re-scoring: what the Linkage view's
/// Apply button does. Records a new run with the latest run's model.
pub fn recluster(
    conn: &Connection,
    actor: &str,
    accept_probability: f64,
    review_probability: f64,
) -> Result<ReclusterReport, LinkError> {
    let latest = conn.query_row(
        "SELECT records, candidate_pairs, model_json FROM app.link_run ORDER BY run_id DESC LIMIT 1",
        [],
        |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, String>(2)?)),
    );
    let (records, candidate_pairs, model_json) = match latest {
        Ok(latest) => latest,
        Err(duckdb::Error::QueryReturnedNoRows) => return Err(LinkError::NoRecords),
        Err(error) => return Err(error.into()),
    };
    let model: Model = serde_json::from_str(&model_json)
        .map_err(|e| LinkError::Corrupt(format!("the latest run's model: {e}")))?;
    // Databases linked before households respected time have no record of when
    // people were seen at each address, which grouping families now needs.
    let has_address_seen: bool = conn.query_row(
        "SELECT count(*) > 0 FROM duckdb_tables()
         WHERE schema_name = 'link' AND table_name = 'address_seen'",
        [],
        |row| row.get(0),
    )?;
    if !has_address_seen {
        return Err(LinkError::Corrupt(
            "this database was linked by an older version, which did not record when \
             people were seen at each address"
                .to_string(),
        ));
    }
    let config = LinkConfig {
        accept_probability,
        review_probability,
        ..LinkConfig::default()
    };
    let mut watch = Stopwatch::start();
    let outcome = finish_run(
        conn,
        &config,
        actor,
        records.max(0) as usize,
        candidate_pairs.max(0) as u64,
        &model,
        &mut watch,
    )?;
    Ok(ReclusterReport {
        persons: outcome.persons,
        families: outcome.families,
        accepted_pairs: outcome.accepted_pairs,
        review_pairs: outcome.review_pairs,
        changes: outcome.changes,
    })
}
