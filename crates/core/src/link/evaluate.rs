//! Linkage quality against the synthetic ground truth (`truth/records.csv`):
//! pairwise precision, recall and F1, and cluster-level splits and merges.
//! Only evaluation reads truth; the pipeline never does.

use std::path::Path;

use duckdb::Connection;
use serde::Serialize;

/// How well `core.source_record` matches the truth.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LinkageQuality {
    pub records: u64,
    pub true_pairs: u64,
    pub predicted_pairs: u64,
    pub correct_pairs: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Share of true persons whose records are spread over more than one person id.
    pub split_persons: f64,
    /// Share of person ids that hold records of more than one true person.
    pub merged_ids: f64,
    /// Pairwise precision, recall and F1 of "these two records belong to one family".
    pub family_precision: f64,
    pub family_recall: f64,
    pub family_f1: f64,
}

/// Pairwise precision, recall and F1 from pair counts.
fn pairwise(correct: i64, predicted: i64, actual: i64) -> (f64, f64, f64) {
    let precision = correct as f64 / predicted.max(1) as f64;
    let recall = correct as f64 / actual.max(1) as f64;
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    (precision, recall, f1)
}

/// Compares the current linkage with the truth in `truth_dir`.
pub fn evaluate(conn: &Connection, truth_dir: &Path) -> anyhow::Result<LinkageQuality> {
    if !crate::store::table_names(conn)?
        .iter()
        .any(|t| t == "core.source_record")
    {
        anyhow::bail!("linkage has not run on this database: run `zonewise link` first");
    }
    let file = ["records.csv", "records.csv.gz"]
        .iter()
        .map(|name| truth_dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: no records.csv in the truth folder",
                truth_dir.display()
            )
        })?;
    let path = file.display().to_string().replace('\'', "''");
    // DuckDB's own messages do not always name the file they could not read.
    let quality = conn.query_row(
        &format!(
            "WITH truth AS (
                 SELECT source, record_id, person_id AS true_person, family_id AS true_family
                 FROM read_csv('{path}', header = true, all_varchar = true)),
             joined AS (
                 SELECT s.person_id AS predicted, t.true_person, p.family_id AS predicted_family, t.true_family
                 FROM core.source_record s
                 JOIN core.person p USING (person_id)
                 JOIN truth t ON t.source = s.source AND t.record_id = s.source_record_id),
             pairs AS (
                 SELECT (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*)::BIGINT n FROM joined GROUP BY predicted, true_person)) AS correct,
                        (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*)::BIGINT n FROM joined GROUP BY predicted)) AS predicted,
                        (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*)::BIGINT n FROM joined GROUP BY true_person)) AS actual,
                        (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*)::BIGINT n FROM joined GROUP BY predicted_family, true_family)) AS family_correct,
                        (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*)::BIGINT n FROM joined GROUP BY predicted_family)) AS family_predicted,
                        (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*)::BIGINT n FROM joined GROUP BY true_family)) AS family_actual)
             SELECT (SELECT count(*) FROM joined)::BIGINT, actual::BIGINT, predicted::BIGINT, correct::BIGINT,
                    (SELECT avg((n > 1)::INTEGER) FROM (SELECT count(DISTINCT predicted) n FROM joined GROUP BY true_person)),
                    (SELECT avg((n > 1)::INTEGER) FROM (SELECT count(DISTINCT true_person) n FROM joined GROUP BY predicted)),
                    family_correct::BIGINT, family_predicted::BIGINT, family_actual::BIGINT
             FROM pairs"
        ),
        [],
        |row| {
            let records: i64 = row.get(0)?;
            let true_pairs: i64 = row.get(1)?;
            let predicted_pairs: i64 = row.get(2)?;
            let correct_pairs: i64 = row.get(3)?;
            let split: Option<f64> = row.get(4)?;
            let merged: Option<f64> = row.get(5)?;
            let (precision, recall, f1) = pairwise(correct_pairs, predicted_pairs, true_pairs);
            let (family_precision, family_recall, family_f1) =
                pairwise(row.get(6)?, row.get(7)?, row.get(8)?);
            Ok(LinkageQuality {
                records: records.max(0) as u64,
                true_pairs: true_pairs.max(0) as u64,
                predicted_pairs: predicted_pairs.max(0) as u64,
                correct_pairs: correct_pairs.max(0) as u64,
                precision,
                recall,
                f1,
                split_persons: split.unwrap_or(0.0),
                merged_ids: merged.unwrap_or(0.0),
                family_precision,
                family_recall,
                family_f1,
            })
        },
    )
    .map_err(|e| anyhow::anyhow!("truth file {}: {e}", file.display()))?;
    Ok(quality)
}
