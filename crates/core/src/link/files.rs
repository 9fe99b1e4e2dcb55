//! `zonewise link-files`: the linkage engine on any CSV files, for an analyst who
//! wants to link or deduplicate two lists without loading them as agency extracts.
//!
//! The config names each file's columns; the files are validated and staged by
//! the same code as `zonewise ingest` (so bad input gets the same file, line and
//! column messages) into a private in-memory database, then standardised, blocked,
//! compared and scored exactly as `zonewise link` does. Nothing here re-implements
//! the engine: it only translates the config into a manifest and writes pairs out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::fellegi_sunter::Model;
use super::model_file::ModelFile;
use super::{BlockingRule, LinkConfig, ScoreReport};
use crate::ingest::error::BlankedValues;
use crate::ingest::manifest::{
    AgencyKind, FieldRole, FileFormat, Manifest, SourceSpec, Unreadable, staging_column_name,
};

/// Which pairs are wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LinkType {
    /// Pairs across files and within each file (one file: deduplication).
    #[default]
    LinkAndDedupe,
    /// Only pairs whose records come from different files.
    LinkOnly,
}

/// A `link-files` configuration (TOML).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkFilesConfig {
    #[serde(default)]
    pub link_type: LinkType,
    /// Pairs with at least this match probability are written.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// A saved linkage model (`zonewise link --save-model`) to score with; without
    /// one, a model is trained on the files themselves.
    #[serde(default)]
    pub model: Option<PathBuf>,
    /// Refuse a file with an impossible or misformatted birth date, as `zonewise
    /// ingest` does. Without it such a date is compared as missing and counted in
    /// the report: someone else's file with a few typing errors should still link.
    /// (A malformed postcode is always compared as missing, as in `zonewise link`.)
    #[serde(default)]
    pub strict: bool,
    /// Blocking rules: which pairs are compared at all. Without any, the engine's
    /// own ([`super::BLOCKING_RULES`]); with some, exactly these.
    #[serde(default, rename = "blocking")]
    pub blocking: Vec<BlockingSpec>,
    #[serde(rename = "input")]
    pub inputs: Vec<InputFile>,
}

/// A `[[blocking]]` rule: records are compared when they agree on every key, each
/// one of [`super::blocking::BLOCKING_KEYS`] by name (never SQL).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingSpec {
    /// Shown with the rule's pair count (default: the keys joined with " + ").
    pub name: Option<String>,
    pub keys: Vec<String>,
}

fn default_threshold() -> f64 {
    0.9
}

/// One input file and what its columns mean. Every column but `file` and `id` is optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputFile {
    /// Short name used in the output (default: the file name without extension).
    pub name: Option<String>,
    pub file: PathBuf,
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// The column holding each record's id.
    pub id: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub birth_date: Option<String>,
    /// chrono `strftime` pattern of `birth_date`, e.g. `%d/%m/%Y` or `%Y-%m-%d`.
    #[serde(default = "default_date_format")]
    pub birth_date_format: String,
    pub sex: Option<String>,
    pub postcode: Option<String>,
    /// Address line columns, in order; joined with `town` into one address.
    #[serde(default)]
    pub address: Vec<String>,
    pub town: Option<String>,
    pub nhs_number: Option<String>,
    pub ni_number: Option<String>,
    /// Unique pupil number.
    pub upn: Option<String>,
}

fn default_delimiter() -> char {
    ','
}

fn default_date_format() -> String {
    "%d/%m/%Y".to_string()
}

/// What a `link-files` run did.
#[derive(Debug, Clone)]
pub struct LinkFilesReport {
    pub score: ScoreReport,
    /// Pairs at or above the threshold, written to the output.
    pub pairs_written: u64,
    pub output: PathBuf,
    /// Per input (by name) that had any, the dates compared as missing because
    /// they could not be read; empty with `strict = true`.
    pub blanked: Vec<(String, BlankedValues)>,
    /// Postcodes not shaped like a UK postcode, compared as missing (by input and line).
    pub unreadable_postcodes: BlankedValues,
}

impl LinkFilesConfig {
    /// Reads a config; relative paths in it are resolved against its folder.
    pub fn load(path: &Path) -> anyhow::Result<LinkFilesConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        // toml's message names the line and column and quotes the line.
        let mut config: LinkFilesConfig =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("config {}: {e}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new(""));
        for input in &mut config.inputs {
            input.file = base.join(&input.file);
        }
        config.model = config.model.map(|m| base.join(m));
        if config.inputs.is_empty() {
            anyhow::bail!("config {}: no [[input]] files", path.display());
        }
        if !(0.0..=1.0).contains(&config.threshold) {
            anyhow::bail!(
                "config {}: threshold is a match probability between 0 and 1, not {}",
                path.display(),
                config.threshold
            );
        }
        config
            .blocking_rules()
            .map_err(|message| anyhow::anyhow!("config {}: {message}", path.display()))?;
        if config.link_type == LinkType::LinkOnly && config.inputs.len() < 2 {
            anyhow::bail!(
                "config {}: link_type = \"link_only\" needs at least two [[input]] files",
                path.display()
            );
        }
        Ok(config)
    }

    /// The blocking rules to run: the config's, or the engine's when it names none.
    pub fn blocking_rules(&self) -> Result<Vec<BlockingRule>, String> {
        if self.blocking.is_empty() {
            return Ok(super::BLOCKING_RULES.to_vec());
        }
        self.blocking
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                BlockingRule::from_key_names(spec.name.as_deref(), &spec.keys)
                    .map_err(|message| format!("[[blocking]] rule {}: {message}", index + 1))
            })
            .collect()
    }

    /// The equivalent ingest manifest: one source per input file.
    fn manifest(&self) -> anyhow::Result<Manifest> {
        let mut sources = Vec::with_capacity(self.inputs.len());
        for input in &self.inputs {
            let name = match &input.name {
                Some(name) => name.clone(),
                None => source_name(&input.file),
            };
            let mut columns = BTreeMap::new();
            columns.insert(FieldRole::RecordId, input.id.clone());
            let optional = [
                (FieldRole::GivenName, &input.given_name),
                (FieldRole::FamilyName, &input.family_name),
                (FieldRole::BirthDate, &input.birth_date),
                (FieldRole::Sex, &input.sex),
                (FieldRole::Postcode, &input.postcode),
                (FieldRole::NhsNumber, &input.nhs_number),
                (FieldRole::NiNumber, &input.ni_number),
                (FieldRole::Upn, &input.upn),
            ];
            for (role, column) in optional {
                if let Some(column) = column {
                    columns.insert(role, column.clone());
                }
            }
            let mut address_parts = input.address.iter().chain(input.town.iter());
            if let Some(first) = address_parts.next() {
                columns.insert(FieldRole::Address, first.clone());
            }
            sources.push(SourceSpec {
                name,
                agency: AgencyKind::Other,
                system: input.file.display().to_string(),
                file: input.file.clone(),
                format: FileFormat::Csv,
                sheet: None,
                delimiter: input.delimiter,
                date_format: input.birth_date_format.clone(),
                columns,
                keep: address_parts.cloned().collect(),
                event_type: None,
                unreadable: if self.strict {
                    Unreadable::Refuse
                } else {
                    Unreadable::Blank
                },
            });
        }
        let manifest = Manifest {
            county: "link-files".to_string(),
            extract_date: None,
            reference: None,
            sources,
            base_dir: PathBuf::new(),
        };
        // The manifest's own checks (unique names, valid date patterns) apply too.
        let text = manifest.to_toml()?;
        Ok(Manifest::parse(
            &text,
            Path::new("link-files config"),
            PathBuf::new(),
        )?)
    }
}

/// A source name from a file name: `School list.csv` → `school_list`.
fn source_name(file: &Path) -> String {
    let stem = file
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('.').next())
        .unwrap_or("file");
    let name = staging_column_name(stem);
    if name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name
    } else {
        format!("file_{name}")
    }
}

/// Links the files of `config` and writes the pairs at or above its threshold to
/// `output` as CSV: both records' file and id, match weight and probability,
/// strongest first.
pub fn link_files(
    config: &LinkFilesConfig,
    output: &Path,
    progress: &mut dyn FnMut(&crate::ingest::IngestProgress),
) -> anyhow::Result<LinkFilesReport> {
    let model: Option<Model> = match &config.model {
        Some(path) => Some(ModelFile::load(path)?.model),
        None => None,
    };
    let (conn, blanked) = stage(config, progress)?;
    let link_config = LinkConfig {
        model,
        blocking: config.blocking_rules().map_err(anyhow::Error::msg)?,
        ..LinkConfig::default()
    };
    let score = super::score_records(&conn, &link_config, config.link_type == LinkType::LinkOnly)?;
    let pairs_written = write_pairs(&conn, config.threshold, output)?;
    Ok(LinkFilesReport {
        score,
        pairs_written,
        output: output.to_path_buf(),
        blanked,
        unreadable_postcodes: super::standardise::unreadable_postcodes(&conn)?,
    })
}

/// Each blocking rule's pair count on the config's files, counted from the sizes
/// of its blocks before any pair is built or scored: what an analyst looks at
/// before choosing rules (a rule over the engine's limit is shown, not refused).
pub fn count_blocking_pairs(
    config: &LinkFilesConfig,
    progress: &mut dyn FnMut(&crate::ingest::IngestProgress),
) -> anyhow::Result<Vec<(String, u64)>> {
    let (conn, _) = stage(config, progress)?;
    let rules = config.blocking_rules().map_err(anyhow::Error::msg)?;
    Ok(super::blocking::count_pairs(&conn, &rules, u64::MAX)?)
}

/// The config's files validated, staged and standardised into `link.record` of a
/// private in-memory database (whose load entry is never kept), with the values
/// each file had that could not be read.
fn stage(
    config: &LinkFilesConfig,
    progress: &mut dyn FnMut(&crate::ingest::IngestProgress),
) -> anyhow::Result<(duckdb::Connection, Vec<(String, BlankedValues)>)> {
    let manifest = config.manifest()?;
    let conn = crate::store::open_in_memory()?;
    let ingested = crate::ingest::ingest(&conn, &manifest, &crate::audit::os_user(), progress)?;
    for (input, source) in config.inputs.iter().zip(&manifest.sources) {
        join_address_lines(&conn, &source.name, input)?;
    }
    super::standardise::build_records(&conn)?;
    Ok((conn, ingested.blanked))
}

/// Folds the extra address lines and the town (kept as text columns) into `address`.
fn join_address_lines(
    conn: &duckdb::Connection,
    source: &str,
    input: &InputFile,
) -> Result<(), duckdb::Error> {
    let extra: Vec<String> = input
        .address
        .iter()
        .chain(input.town.iter())
        .skip(1)
        .map(|header| format!("\"{}\"", staging_column_name(header)))
        .collect();
    if extra.is_empty() {
        return Ok(());
    }
    conn.execute_batch(&format!(
        "UPDATE staging.\"{source}\" SET address = concat_ws(' ', address, {});",
        extra.join(", ")
    ))
}

fn write_pairs(conn: &duckdb::Connection, threshold: f64, output: &Path) -> anyhow::Result<u64> {
    let mut writer = csv::Writer::from_path(output)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", output.display()))?;
    writer.write_record([
        "file_l",
        "id_l",
        "file_r",
        "id_r",
        "match_weight",
        "match_probability",
    ])?;
    let mut statement = conn.prepare(
        "SELECT l.source, l.record_id, r.source, r.record_id, p.match_weight, p.match_probability
         FROM link.pair p
         JOIN link.record l ON l.record_key = p.l_key
         JOIN link.record r ON r.record_key = p.r_key
         WHERE p.match_probability >= ?
         ORDER BY p.match_weight DESC, p.l_key, p.r_key",
    )?;
    let mut rows = statement.query([threshold])?;
    let mut written = 0u64;
    while let Some(row) = rows.next()? {
        let weight: f64 = row.get(4)?;
        let probability: f64 = row.get(5)?;
        writer.write_record([
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
            format!("{weight:.4}"),
            format!("{probability:.6}"),
        ])?;
        written += 1;
    }
    writer.flush()?;
    Ok(written)
}
