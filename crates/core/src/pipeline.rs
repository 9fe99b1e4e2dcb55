//! The one way through the data: ingest → link → criteria → scores. The command
//! line runs it a stage per command, the sample build and the benchmarks run it
//! through, and the app's Import runs its first stage; each stage reports its
//! progress the same way, so what a stage does is written once.

use std::time::Instant;

use chrono::NaiveDate;
use duckdb::Connection;

use crate::ingest::{self, IngestReport, Manifest};
use crate::link::{self, LinkConfig, LinkReport};
use crate::risk::model::file::RiskModelFile;
use crate::risk::model::score::{self, ScoreSummary};
use crate::risk::rounds::RoundSpan;

/// A stage of the pipeline, in the order they run.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// Loading a manifest's extracts: the source being read and the rows so far.
    Ingest { source: String, rows: u64 },
    /// Linking records into people and families.
    Link,
    /// Features, labels and headline-problem criteria at the monthly rounds.
    Criteria,
    /// Scoring every child at a date with a saved model.
    Scores { date: NaiveDate },
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stage::Ingest { source, rows } => {
                write!(
                    f,
                    "{source} ({} rows)",
                    crate::format::thousands(*rows as i64)
                )
            }
            Stage::Link => f.write_str("linking records"),
            Stage::Criteria => f.write_str("finding families to offer help"),
            Stage::Scores { date } => write!(f, "scoring families on {date}"),
        }
    }
}

/// How far a run has got, for a progress bar or a status line.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The stage running now; its `Display` is what a person reads.
    pub stage: Stage,
    /// Share of the stage done, 0–1; stages that cannot tell report 0 as they start.
    pub fraction: f32,
}

/// Why a stage failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    #[error(transparent)]
    Link(#[from] link::LinkError),
    #[error(transparent)]
    Risk(#[from] crate::risk::RiskError),
    #[error(transparent)]
    Model(#[from] crate::risk::model::ModelError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{file}: {source}")]
    File {
        file: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{0} already exists; choose another name for the new database")]
    Exists(std::path::PathBuf),
}

/// The monthly rounds a run assessed (`risk::rounds`), oldest first; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rounds {
    pub dates: Vec<NaiveDate>,
}

impl Rounds {
    /// The latest round: the extract date.
    pub fn current(&self) -> NaiveDate {
        self.dates[self.dates.len() - 1]
    }

    /// The round before the latest, when there is one.
    pub fn previous(&self) -> Option<NaiveDate> {
        self.dates.len().checked_sub(2).map(|i| self.dates[i])
    }
}

/// A run over one database. Remembers the dates whose features it has built, so
/// scoring a round date the criteria stage prepared does not build them again.
pub struct Pipeline<'a> {
    conn: &'a Connection,
    actor: &'a str,
    progress: &'a mut dyn FnMut(&Progress),
    built: Vec<NaiveDate>,
}

/// What a whole run did, with the seconds of each stage it ran.
#[derive(Debug)]
pub struct PipelineReport {
    pub ingest: IngestReport,
    pub ingest_seconds: f64,
    pub link: LinkReport,
    pub link_seconds: f64,
    /// None when it stopped before criteria, or the database holds no events.
    pub rounds: Option<Rounds>,
    /// One per round scored, oldest first.
    pub scores: Vec<ScoreSummary>,
}

/// How far a whole run goes and with what.
pub struct Plan<'p> {
    pub manifest: &'p Manifest,
    pub link: &'p LinkConfig,
    /// Stop after linking (the benchmarks time their own later stages).
    pub criteria: bool,
    /// Score every round with this model (needs `criteria`).
    pub model: Option<&'p RiskModelFile>,
}

impl<'a> Pipeline<'a> {
    /// A run on `conn` by `actor` (who the audit log names for its loads and
    /// linkage runs) that reports to `progress`.
    pub fn new(
        conn: &'a Connection,
        actor: &'a str,
        progress: &'a mut dyn FnMut(&Progress),
    ) -> Pipeline<'a> {
        Pipeline {
            conn,
            actor,
            progress,
            built: Vec::new(),
        }
    }

    /// Ingest → link → criteria → scores, as far as `plan` says.
    pub fn run(&mut self, plan: &Plan<'_>) -> Result<PipelineReport, PipelineError> {
        let started = Instant::now();
        let ingest = self.ingest(plan.manifest)?;
        let ingest_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let link = self.link(plan.link)?;
        let link_seconds = started.elapsed().as_secs_f64();
        let rounds = if plan.criteria {
            self.criteria(RoundSpan::History)?
        } else {
            None
        };
        let scores = match (&rounds, plan.model) {
            (Some(rounds), Some(model)) => self.score_rounds(model, rounds)?,
            _ => Vec::new(),
        };
        Ok(PipelineReport {
            ingest,
            ingest_seconds,
            link,
            link_seconds,
            rounds,
            scores,
        })
    }

    /// Validates and loads the manifest's extracts, all or nothing.
    pub fn ingest(&mut self, manifest: &Manifest) -> Result<IngestReport, PipelineError> {
        let progress = &mut *self.progress;
        Ok(ingest::ingest(self.conn, manifest, self.actor, &mut |p| {
            progress(&Progress {
                stage: Stage::Ingest {
                    source: p.stage.clone(),
                    rows: p.rows,
                },
                fraction: p.fraction,
            })
        })?)
    }

    /// Links the ingested records into `core.person` and `core.family`.
    pub fn link(&mut self, config: &LinkConfig) -> Result<LinkReport, PipelineError> {
        self.report(Stage::Link);
        Ok(link::link(self.conn, config, self.actor)?)
    }

    /// Features, labels and the Supporting Families criteria at each monthly
    /// round `span` asks for (`risk::rounds`: back to the earliest round-table
    /// decision, or a year); None when the database holds no events.
    pub fn criteria(&mut self, span: RoundSpan) -> Result<Option<Rounds>, PipelineError> {
        self.report(Stage::Criteria);
        let started = Instant::now();
        let progress = &mut *self.progress;
        let rounds = crate::risk::rounds::prepare_rounds(self.conn, span, &mut |done, of| {
            progress(&Progress {
                stage: Stage::Criteria,
                fraction: done as f32 / of as f32,
            })
        })?;
        if let Some(dates) = &rounds {
            tracing::info!(
                rounds = dates.len(),
                seconds = started.elapsed().as_secs_f64(),
                "assessed the monthly rounds"
            );
        }
        Ok(rounds.map(|dates| {
            self.built.extend(&dates);
            Rounds { dates }
        }))
    }

    /// Scores every round of `rounds` with `model`, oldest first.
    pub fn score_rounds(
        &mut self,
        model: &RiskModelFile,
        rounds: &Rounds,
    ) -> Result<Vec<ScoreSummary>, PipelineError> {
        let started = Instant::now();
        let scores = rounds
            .dates
            .iter()
            .map(|&date| self.score(model, date))
            .collect();
        tracing::info!(
            rounds = rounds.dates.len(),
            seconds = started.elapsed().as_secs_f64(),
            "scored the monthly rounds"
        );
        scores
    }

    /// Scores every child at `date` with `model` (building the date's features
    /// first unless this run already did), replacing that date's scores.
    pub fn score(
        &mut self,
        model: &RiskModelFile,
        date: NaiveDate,
    ) -> Result<ScoreSummary, PipelineError> {
        self.report(Stage::Scores { date });
        if !self.built.contains(&date) {
            crate::risk::build(self.conn, date)?;
            self.built.push(date);
        }
        Ok(score::score(self.conn, model, date)?)
    }

    fn report(&mut self, stage: Stage) {
        (self.progress)(&Progress {
            stage,
            fraction: 0.0,
        });
    }
}

/// Builds a new database at `db_path` from `manifest`, the whole way (ingest →
/// link → criteria → scores with `model`), as `actor`. The work goes to
/// `<name>.building.duckdb` beside it, renamed into place only when every stage
/// has finished: a failed or interrupted build leaves no file at `db_path`
/// (the partial one is removed), so nothing that looks complete is half made.
/// An existing database is never replaced.
pub fn build_new_database(
    manifest: &Manifest,
    db_path: &std::path::Path,
    actor: &str,
    model: Option<&RiskModelFile>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<PipelineReport, PipelineError> {
    if db_path.exists() {
        return Err(PipelineError::Exists(db_path.to_path_buf()));
    }
    let building = db_path.with_extension("building.duckdb");
    let file_error = |file: &std::path::Path| {
        let file = file.to_path_buf();
        move |source| PipelineError::File { file, source }
    };
    crate::store::remove_database_files(&building).map_err(file_error(&building))?;
    let built = (|| {
        let conn = crate::store::open(&building)?;
        let report = Pipeline::new(&conn, actor, progress).run(&Plan {
            manifest,
            link: &LinkConfig::default(),
            criteria: true,
            model,
        })?;
        conn.execute_batch("CHECKPOINT")
            .map_err(crate::store::StoreError::from)?;
        Ok::<_, PipelineError>(report)
    })();
    match built {
        Ok(report) => {
            std::fs::rename(&building, db_path).map_err(file_error(db_path))?;
            Ok(report)
        }
        Err(error) => {
            if let Err(removing) = crate::store::remove_database_files(&building) {
                tracing::error!(
                    "cannot remove the unfinished {}: {removing}",
                    building.display()
                );
            }
            Err(error)
        }
    }
}
