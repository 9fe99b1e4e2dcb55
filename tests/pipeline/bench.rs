//! `zonewise bench linkage` on a tiny county: the figures it reports agree with
//! each other and with the database and CSV it leaves behind. Nothing here is
//! timed; performance is measured by the benchmark itself.

use std::path::Path;

use crate::common;

use common::Table;
use zonewise::bench::CountySpec;
use zonewise::bench::linkage::{self, LinkageBenchConfig, STANDARDISE_STAGE};
use zonewise::link::BLOCKING_RULES;
use zonewise::store;

/// Pairs of each blocking rule and of their union, counted from `link.record` by
/// joining on the rules' keys: an independent count of what linkage reports.
fn rule_and_union_pairs(conn: &duckdb::Connection) -> (Vec<u64>, u64) {
    let pairs_sql: Vec<String> = BLOCKING_RULES
        .iter()
        .map(|rule| {
            let on = rule
                .keys
                .iter()
                .map(|k| format!("{} = {}", k.replace("{s}", "l"), k.replace("{s}", "r")))
                .collect::<Vec<_>>()
                .join(" AND ");
            format!(
                "SELECT l.record_key AS a, r.record_key AS b FROM link.record l
                 JOIN link.record r ON {on} AND l.record_key < r.record_key"
            )
        })
        .collect();
    let count = |sql: &str| store::scalar_i64(conn, sql).expect("count") as u64;
    let per_rule = pairs_sql
        .iter()
        .map(|sql| count(&format!("SELECT count(*) FROM ({sql})")))
        .collect();
    let union = count(&format!(
        "SELECT count(*) FROM (SELECT DISTINCT a, b FROM ({}))",
        pairs_sql.join(" UNION ALL ")
    ));
    (per_rule, union)
}

#[test]
fn linkage_bench_figures_are_internally_consistent() {
    let dir = tempfile::tempdir().expect("temp");
    let work_dir = dir.path().join("families-300");
    let bench = linkage::run(
        &LinkageBenchConfig {
            county: CountySpec {
                families: 300,
                seed: 7,
                reference_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/ref"),
                work_dir: work_dir.clone(),
                memory_limit: Some("1GB".to_string()),
            },
            export_records: true,
        },
        &|_, _| {},
    )
    .expect("bench");

    let quality = &bench.quality;
    for share in [quality.precision, quality.recall, quality.f1] {
        assert!((0.0..=1.0).contains(&share), "{quality:?}");
    }
    let harmonic_mean =
        2.0 * quality.precision * quality.recall / (quality.precision + quality.recall);
    assert!((quality.f1 - harmonic_mean).abs() < 1e-12, "{quality:?}");
    assert_eq!(
        quality.records, bench.records as u64,
        "every record is scored"
    );
    assert!(bench.persons > 0 && bench.persons < bench.records as u64);

    for stage in &bench.link_stages {
        assert!(stage.seconds >= 0.0, "{stage:?}");
    }
    let stage_sum: f64 = bench.link_stages.iter().map(|s| s.seconds).sum();
    assert!(
        stage_sum <= bench.link_seconds,
        "stages fit in the wall time"
    );
    let standardise = bench
        .link_stages
        .iter()
        .find(|s| s.stage == STANDARDISE_STAGE)
        .expect("a standardise stage")
        .seconds;
    assert!(
        (bench.link_seconds_without_standardise - (bench.link_seconds - standardise)).abs() < 1e-9
    );
    assert!(bench.synth_seconds >= 0.0 && bench.ingest_seconds >= 0.0);
    assert!(bench.peak_memory_bytes.is_some_and(|b| b > 0));

    let conn = store::open(&work_dir.join("county.duckdb")).expect("the bench's database");
    let (per_rule, union) = rule_and_union_pairs(&conn);
    let reported: Vec<u64> = bench.pairs_per_rule.iter().map(|r| r.pairs).collect();
    assert_eq!(reported, per_rule, "pairs per rule");
    assert_eq!(
        bench.candidate_pairs, union,
        "candidate pairs are the union"
    );
    let scored = store::scalar_i64(&conn, "SELECT count(*) FROM link.pair").expect("pairs");
    assert_eq!(scored as u64, union, "every candidate pair is scored");

    let exported = bench.exported_records.as_ref().expect("exported");
    let records = store::scalar_i64(&conn, "SELECT count(*) FROM link.record").expect("records");
    assert_eq!(exported.rows, records as u64);
    assert_eq!(bench.records as i64, records);
    let csv = Table::read(&exported.path, ',');
    assert_eq!(csv.rows.len() as i64, records, "one CSV row per record");
    let truth = csv.column("true_person_id");
    assert!(csv.rows.iter().all(|row| !row[truth].is_empty()));
    for column in ["record_key", "given", "family", "birth_date", "postcode"] {
        csv.column(column);
    }
}

#[test]
fn map_bench_measures_both_layers_whole() {
    let reference = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/ref");
    let results = zonewise::bench::map::run(&reference, 3).expect("map bench");
    let layers: Vec<(&str, usize)> = results
        .iter()
        .map(|r| (r.layer.as_str(), r.lsoas))
        .collect();
    assert_eq!(layers, [("sample county", 649), ("England", 32_844)]);
    for r in &results {
        // The whole layer on screen is drawn at a coarse level: fewer vertices than published.
        assert!(
            0 < r.vertices_drawn && r.vertices_drawn < r.vertices,
            "{r:?}"
        );
        assert!(
            r.frame_ms_p95 >= r.frame_ms_mean * 0.5 && r.frame_ms_mean > 0.0,
            "{r:?}"
        );
        assert!(
            r.moving_frame_ms_p95 >= r.moving_frame_ms_mean * 0.5 && r.moving_frame_ms_mean > 0.0,
            "{r:?}"
        );
        assert!(r.zoomed_frame_ms_mean > 0.0, "{r:?}");
        assert!(
            r.reference_frame_ms > 0.0 && r.tessellate_seconds > 0.0,
            "{r:?}"
        );
    }
}

/// Every piece of the app's database work is measured: asked for in a frame,
/// its job run to the end, and the old path's call timed.
#[test]
fn app_frames_bench_measures_every_piece_of_work() {
    let reference = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/ref");
    let rows = zonewise::bench::app_frames::run(&reference, 300).expect("app frames bench");
    let work: Vec<&str> = rows.iter().map(|r| r.work.as_str()).collect();
    assert_eq!(work.len(), 8, "{work:?}");
    for row in &rows {
        assert!(row.frames >= 3 && row.runs >= 1, "{row:?}");
        assert!(row.worst_frame_max_ms >= row.worst_frame_ms, "{row:?}");
        assert!(row.old_call_ms > 0.0 && row.worst_frame_ms > 0.0, "{row:?}");
        assert!(row.seconds > 0.0, "{row:?}");
    }
}
