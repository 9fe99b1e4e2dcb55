//! `zonewise bench uptake` on a tiny county: the figures it reports agree with
//! each other, with `uptake::compute` run again on the database it leaves behind,
//! and with the mart `publish` wrote. Nothing here is timed; performance is
//! measured by the benchmark itself.

use std::path::Path;

use zonewise::bench::CountySpec;
use zonewise::bench::uptake::{self, UptakeBenchConfig};
use zonewise::store;
use zonewise::uptake::{self as measures, UptakeOptions, service};

#[test]
fn uptake_bench_figures_agree_with_compute_and_the_database() {
    let dir = tempfile::tempdir().expect("temp");
    let work_dir = dir.path().join("families-300");
    let bench = uptake::run(
        &UptakeBenchConfig {
            county: CountySpec {
                families: 300,
                seed: 11,
                reference_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/ref"),
                work_dir: work_dir.clone(),
                memory_limit: Some("1GB".to_string()),
            },
            max_pairs_per_rule: 1_000_000,
            repeats: 2,
        },
        &|_, _| {},
    )
    .expect("bench");
    assert_eq!((bench.families, bench.repeats), (300, 2));
    assert_eq!(bench.max_pairs_per_rule, 1_000_000);

    let conn = store::open(&work_dir.join("county.duckdb")).expect("the bench's database");
    let scalar = |sql: &str| store::scalar_i64(&conn, sql).expect(sql) as u64;
    assert_eq!(bench.lsoas as u64, scalar("SELECT count(*) FROM ref.lsoa"));
    assert_eq!(bench.persons, scalar("SELECT count(*) FROM core.person"));
    assert_eq!(
        bench.records as u64,
        scalar("SELECT count(*) FROM link.record")
    );
    assert!(bench.persons > 0 && bench.people > 0);

    let services = service::built_in().expect("services");
    assert_eq!(bench.services.len(), services.len());
    for (measured, service) in bench.services.iter().zip(&services) {
        assert_eq!(measured.service, service.name);
        let tables = measures::compute(&conn, service, &UptakeOptions::default()).expect("compute");
        let county = &tables.county;
        assert_eq!(Some(measured.eligible), county.eligible, "{}", service.name);
        assert_eq!(measured.invited, county.invited, "{}", service.name);
        assert_eq!(Some(measured.attended), county.attended, "{}", service.name);
        assert!(
            measured.eligible > 0 && measured.attended > 0,
            "{measured:?}"
        );
        // The reference group-by counts the same people.
        assert_eq!(measured.reference_eligible, measured.eligible);
        assert_eq!(measured.reference_invited, measured.invited);
        assert_eq!(measured.reference_attended, measured.attended);
        let with_eligible = tables
            .lsoas
            .iter()
            .filter(|r| r.eligible.is_some_and(|n| n > 0))
            .count() as u64;
        assert_eq!(measured.lsoas_with_eligible, with_eligible);
        // What publish withheld is what the mart holds.
        let withheld: i64 = conn
            .query_row(
                "SELECT count(*) FROM mart.uptake_lsoa WHERE service = ? AND attended_withheld",
                [&service.name],
                |row| row.get(0),
            )
            .expect("mart");
        assert_eq!(measured.lsoas_withheld, withheld as u64, "{}", service.name);
        assert!(
            measured.lsoas_withheld > 0,
            "a tiny county has small counts"
        );

        for seconds in [
            measured.reference_seconds,
            measured.compute_seconds,
            measured.publish_seconds,
        ] {
            assert!(seconds > 0.0 && seconds.is_finite(), "{measured:?}");
        }
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
        assert!(close(
            measured.compute_ratio,
            measured.compute_seconds / measured.reference_seconds
        ));
        assert!(close(
            measured.publish_ratio,
            measured.publish_seconds / measured.reference_seconds
        ));
    }
    assert!(bench.link_seconds > 0.0 && bench.ingest_seconds > 0.0);
    assert!(bench.peak_memory_bytes.is_some_and(|b| b > 0));
}
