//! Who the children are, for the fairness table and the oracle: sex from
//! `core.person`, ethnicity from the extracts that record it (linkage keeps no
//! ethnicity in `core.person`, so the most common value over a person's source
//! records in `staging.*` is used), and for a synthetic county the truth's
//! probability of each linked person. Only evaluation reads these.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use duckdb::Connection;

use super::ModelError;
use super::evaluation::PersonGroups;
use crate::risk::{date_text, text_sql};

/// Sex (`core.person.sex`) and ethnicity (the mode over the person's staging
/// records in sources with an `ethnicity` column) of every linked person.
pub fn read_groups(conn: &Connection) -> Result<PersonGroups, ModelError> {
    let mut statement = conn.prepare(
        "SELECT table_name FROM information_schema.columns
         WHERE table_schema = 'staging' AND column_name = 'ethnicity' ORDER BY table_name",
    )?;
    let sources: Vec<String> = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let ethnicity_sql = if sources.is_empty() {
        "SELECT NULL::VARCHAR AS person_id, NULL::VARCHAR AS ethnicity WHERE false".to_string()
    } else {
        let parts: Vec<String> = sources
            .iter()
            .map(|source| {
                format!(
                    "SELECT sr.person_id, nullif(trim(s.ethnicity::VARCHAR), '') AS ethnicity
                     FROM staging.\"{table}\" s
                     JOIN core.source_record sr
                       ON sr.source = {name} AND sr.source_record_id = s.record_id::VARCHAR",
                    table = source.replace('"', "\"\""),
                    name = text_sql(source),
                )
            })
            .collect();
        format!(
            "SELECT person_id, mode(ethnicity) AS ethnicity FROM ({}) WHERE ethnicity IS NOT NULL GROUP BY person_id",
            parts.join(" UNION ALL ")
        )
    };
    let mut statement = conn.prepare(&format!(
        "SELECT p.person_id, p.sex, e.ethnicity
         FROM core.person p LEFT JOIN ({ethnicity_sql}) e USING (person_id)"
    ))?;
    let groups = statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, (row.get(1)?, row.get(2)?)))
        })?
        .collect::<Result<_, _>>()?;
    Ok(groups)
}

/// The truth's probability at `reference_date` of each linked person, from a
/// synthetic county's `truth/` folder: a linked person is the true person most
/// of its source records belong to (`records.csv`), and has that person's
/// `probability` in `outcomes.csv` (either may be gzipped).
pub fn read_truth(
    conn: &Connection,
    truth_dir: &Path,
    reference_date: NaiveDate,
) -> Result<HashMap<String, f64>, ModelError> {
    let find = |stem: &str| {
        [format!("{stem}.csv"), format!("{stem}.csv.gz")]
            .iter()
            .map(|name| truth_dir.join(name))
            .find(|path| path.is_file())
            .ok_or_else(|| ModelError::Truth {
                path: truth_dir.display().to_string(),
                message: format!("no {stem}.csv or {stem}.csv.gz in the truth folder"),
            })
    };
    let (records_file, outcomes_file) = (find("records")?, find("outcomes")?);
    // DuckDB's own messages do not always name the file they could not read.
    let failed = |e: duckdb::Error| ModelError::Truth {
        path: truth_dir.display().to_string(),
        message: format!(
            "reading {} and {}: {e}",
            records_file.display(),
            outcomes_file.display()
        ),
    };
    let records = text_sql(&records_file.display().to_string());
    let outcomes = text_sql(&outcomes_file.display().to_string());
    let sql = format!(
        "WITH truth AS (
             SELECT source, record_id, person_id AS true_person
             FROM read_csv({records}, header = true, all_varchar = true)),
         votes AS (
             SELECT s.person_id, t.true_person, count(*) AS records
             FROM core.source_record s
             JOIN truth t ON t.source = s.source AND t.record_id = s.source_record_id
             GROUP BY ALL),
         chosen AS (
             SELECT person_id, arg_max(true_person, records) AS true_person
             FROM votes GROUP BY person_id),
         outcome AS (
             SELECT person_id AS true_person, probability::DOUBLE AS probability
             FROM read_csv({outcomes}, header = true, all_varchar = true)
             WHERE reference_date = {date})
         SELECT c.person_id, o.probability FROM chosen c JOIN outcome o USING (true_person)",
        date = text_sql(&date_text(reference_date)),
    );
    let mut statement = conn.prepare(&sql).map_err(failed)?;
    let probabilities = statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, f64>(1)?))
        })
        .map_err(failed)?
        .collect::<Result<_, _>>()
        .map_err(failed)?;
    Ok(probabilities)
}
