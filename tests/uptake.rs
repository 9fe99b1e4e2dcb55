//! Uptake statistics on a generated county, each checked against a calculation
//! made here independently: decile counts against a direct SQL group-by written
//! another way, Wilson intervals against the formula in plain Rust, the SII
//! against a weighted least-squares fit solved here, the SII's sign against how
//! the generator draws uptake, and suppression against every count `zonewise
//! uptake --json` prints and the mart holds.

use std::path::{Path, PathBuf};
use std::process::Command;

use duckdb::Connection;
use serde_json::Value;
use zonewise::ingest::{self, Manifest};
use zonewise::link::{self, LinkConfig};
use zonewise::store;
use zonewise::synth::{self, SynthConfig};
use zonewise::uptake::{self, Measure, UptakeError, UptakeOptions, UptakeRow, service};

/// Generates, ingests and links a county into a database file; returns its path.
fn linked_county(dir: &Path, families: usize) -> PathBuf {
    let out = dir.join("county");
    synth::generate(
        &SynthConfig {
            out_dir: out.clone(),
            reference_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/ref"),
            families,
            seed: 17,
            noise: 1.0,
            gzip: false,
            authorities: Vec::new(),
        },
        &|_, _| {},
    )
    .expect("synth");
    let db = dir.join("county.duckdb");
    let conn = store::open(&db).expect("db");
    let manifest = Manifest::load(&out.join("manifest.toml")).expect("manifest");
    ingest::ingest(&conn, &manifest, &mut |_| {}).expect("ingest");
    link::link(&conn, &LinkConfig::default()).expect("link");
    db
}

fn built_in(name: &str) -> uptake::Service {
    let services = service::built_in().expect("services");
    service::find(&services, name).expect("service").clone()
}

/// The Wilson score interval, written out again (z = 1.959964).
fn wilson(x: u64, n: u64) -> (f64, f64) {
    let (x, n, z) = (x as f64, n as f64, 1.959_964_f64);
    let p = x / n;
    let centre = p + z * z / (2.0 * n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    let scale = 1.0 + z * z / n;
    ((centre - half) / scale, (centre + half) / scale)
}

/// The SII by weighted least squares as PHE's `phe_sii` sets it up: regress
/// √a·y on √a and b·√a without intercept (a = share, b = cumulative rank
/// mid-point), solving the 2×2 normal equations by Cramer's rule.
fn sii_by_least_squares(rows: &[(u64, u64)]) -> (f64, f64) {
    let total: u64 = rows.iter().map(|(_, n)| n).sum();
    let mut before = 0.0;
    let (mut s11, mut s12, mut s22, mut t1, mut t2, mut mean) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for &(x, n) in rows {
        let a = n as f64 / total as f64;
        let b = before + a / 2.0;
        before += a;
        let y = x as f64 / n as f64;
        let (u, v, w) = (a.sqrt(), b * a.sqrt(), y * a.sqrt());
        s11 += u * u;
        s12 += u * v;
        s22 += v * v;
        t1 += u * w;
        t2 += v * w;
        mean += a * y;
    }
    let determinant = s11 * s22 - s12 * s12;
    let slope = (s11 * t2 - s12 * t1) / determinant;
    (slope, mean)
}

/// (attended, denominator) of each decile that has a denominator, decile order.
fn decile_counts(rows: &[UptakeRow], measure: Measure) -> Vec<(u64, u64)> {
    rows.iter()
        .filter_map(|r| {
            let denominator = match measure {
                Measure::Coverage => r.eligible?,
                Measure::Uptake => r.invited?,
            };
            (denominator > 0).then_some((r.attended?, denominator))
        })
        .collect()
}

#[test]
fn decile_figures_equal_a_direct_group_by_and_inequality_follows_the_generator() {
    let dir = tempfile::tempdir().expect("temp");
    let conn = store::open(&linked_county(dir.path(), 1500)).expect("open");
    let health_check = uptake::compute(&conn, &built_in("health_check"), &UptakeOptions::default())
        .expect("health check uptake");
    assert_eq!(health_check.reference_date.to_string(), "2026-04-01");
    assert_eq!(health_check.deciles.len(), 10);

    // The same counts by a direct group-by, with age 40–74 written as a birth-date
    // window and the five-year look-back as a date range.
    let direct: Vec<(i32, i64, i64, i64)> = conn
        .prepare(
            "WITH eligible AS (
                 SELECT p.person_id, l.imd_decile FROM core.person p JOIN ref.lsoa l USING (lsoa_code)
                 WHERE p.birth_date > DATE '1951-04-01' AND p.birth_date <= DATE '1986-04-01'),
             events AS (
                 SELECT person_id, bool_or(event_type = 'health_check_attended') AS attended
                 FROM core.event
                 WHERE event_type LIKE 'health_check_%'
                   AND event_date BETWEEN DATE '2021-04-01' AND DATE '2026-03-31'
                 GROUP BY person_id)
             SELECT imd_decile, count(*), count(e.person_id), count(*) FILTER (WHERE e.attended)
             FROM eligible LEFT JOIN events e USING (person_id)
             GROUP BY imd_decile ORDER BY imd_decile",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(direct.len(), 10);
    for (row, (decile, eligible, invited, attended)) in health_check.deciles.iter().zip(&direct) {
        assert_eq!(row.imd_decile, Some(*decile as u8));
        assert_eq!(
            (row.eligible, row.invited, row.attended),
            (
                Some(*eligible as u64),
                Some(*invited as u64),
                Some(*attended as u64)
            ),
            "decile {decile}"
        );
        let coverage = row.coverage.expect("coverage");
        assert!((coverage.value - *attended as f64 / *eligible as f64).abs() < 1e-12);
        let (lower, upper) = wilson(*attended as u64, *eligible as u64);
        assert!(
            (coverage.lower - lower).abs() < 1e-6,
            "decile {decile} lower"
        );
        assert!(
            (coverage.upper - upper).abs() < 1e-6,
            "decile {decile} upper"
        );
        let uptake = row.uptake.expect("uptake");
        let (lower, upper) = wilson(*attended as u64, *invited as u64);
        assert!((uptake.lower - lower).abs() < 1e-6 && (uptake.upper - upper).abs() < 1e-6);
    }
    // Every level adds up to the county.
    let total = |rows: &[UptakeRow]| rows.iter().map(|r| r.attended.unwrap_or(0)).sum::<u64>();
    for level in [
        &health_check.lsoas,
        &health_check.deciles,
        &health_check.quintiles,
        &health_check.zones,
        &health_check.authorities,
    ] {
        assert_eq!(Some(total(level)), health_check.county.attended);
    }

    // The generator makes Health Check uptake fall with deprivation and children's
    // centre registration rise with it; ranks run from most deprived (0) to least
    // (1), so the SII is positive for the first and negative for the second.
    let centres = uptake::compute(
        &conn,
        &built_in("childrens_centre"),
        &UptakeOptions::default(),
    )
    .expect("children's centre uptake");
    assert!(!centres.has_invited && centres.inequality.len() == 1);
    for (tables, measure, positive) in [
        (&health_check, Measure::Coverage, true),
        (&health_check, Measure::Uptake, true),
        (&centres, Measure::Coverage, false),
    ] {
        let inequality = tables
            .inequality
            .iter()
            .find(|i| i.measure == measure)
            .expect("measure");
        let (slope, mean) = sii_by_least_squares(&decile_counts(&tables.deciles, measure));
        let sii = inequality.sii.expect("sii");
        assert!((sii - slope).abs() < 1e-9, "{measure:?}: {sii} vs {slope}");
        assert!((inequality.mean_rate.expect("mean") - mean).abs() < 1e-12);
        assert!((inequality.rii.expect("rii") - slope / mean).abs() < 1e-9);
        let (lower, upper) = (
            inequality.sii_lower.expect("lower"),
            inequality.sii_upper.expect("upper"),
        );
        assert!(lower < sii && sii < upper, "{lower} < {sii} < {upper}");
        if positive {
            assert!(lower > 0.0, "{}", inequality.sentence);
            assert!(
                inequality
                    .sentence
                    .contains("lower than in the least deprived")
            );
        } else {
            assert!(upper < 0.0, "{}", inequality.sentence);
            assert!(
                inequality
                    .sentence
                    .contains("higher than in the least deprived")
            );
        }
    }
}

/// Every count under `key` anywhere in the JSON, with the path to it.
fn counts(value: &Value, path: &str, found: &mut Vec<(String, u64)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{path}.{key}");
                if matches!(
                    key.as_str(),
                    "eligible" | "invited" | "attended" | "eligible_without_lsoa"
                ) && let Some(n) = child.as_u64()
                {
                    found.push((here.clone(), n));
                }
                counts(child, &here, found);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                counts(item, &format!("{path}[{i}]"), found);
            }
        }
        _ => {}
    }
}

/// For each count, how many rows of `parts` and `total` withhold it: never exactly one.
fn check_sum_protected(total: &Value, parts: &[&Value], what: &str) {
    for count in ["eligible", "invited", "attended"] {
        let withheld = std::iter::once(total)
            .chain(parts.iter().copied())
            .filter(|row| row["withheld"][count] == Value::Bool(true))
            .count();
        assert_ne!(withheld, 1, "{what}: one {count} withheld alone");
    }
}

#[test]
fn suppression_lets_no_small_count_out_of_any_output() {
    let dir = tempfile::tempdir().expect("temp");
    let db = linked_county(dir.path(), 1200);
    for (service, threshold) in [
        ("health_check", 4),
        ("childrens_centre", 4),
        ("health_check", 10),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_zonewise"))
            .args(["uptake", "--db"])
            .arg(&db)
            .args(["--service", service, "--json", "--suppress"])
            .arg(threshold.to_string())
            .output()
            .expect("run zonewise uptake");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let mut found = Vec::new();
        counts(&json, "", &mut found);
        assert!(found.len() > 300, "{} counts shown", found.len());
        for (path, n) in &found {
            assert!(
                *n == 0 || *n > threshold,
                "{service}: {path} = {n} gets through suppression at {threshold}"
            );
        }
        let lsoas = json["lsoas"].as_array().expect("lsoas");
        let withheld = lsoas
            .iter()
            .filter(|r| r["withheld"]["attended"] == Value::Bool(true))
            .count();
        assert!(withheld > 10, "{service}: only {withheld} LSOAs withheld");
        for row in lsoas {
            if row["attended"].is_null() {
                assert!(
                    row["coverage"].is_null() && row["uptake"].is_null(),
                    "{row}"
                );
            }
        }
        // Secondary suppression: no total leaves exactly one of its parts to subtraction.
        for decile in json["deciles"].as_array().expect("deciles") {
            let parts: Vec<&Value> = lsoas
                .iter()
                .filter(|l| l["imd_decile"] == decile["imd_decile"])
                .collect();
            check_sum_protected(decile, &parts, "decile");
        }
        for zone in json["zones"].as_array().expect("zones") {
            let parts: Vec<&Value> = lsoas
                .iter()
                .filter(|l| l["zone_id"] == zone["code"])
                .collect();
            check_sum_protected(zone, &parts, "zone");
        }
        for authority in json["authorities"].as_array().expect("authorities") {
            let parts: Vec<&Value> = lsoas
                .iter()
                .filter(|l| l["la_code"] == authority["code"])
                .collect();
            check_sum_protected(authority, &parts, "authority");
        }
        let deciles: Vec<&Value> = json["deciles"]
            .as_array()
            .expect("deciles")
            .iter()
            .collect();
        check_sum_protected(&json["county"], &deciles, "county by decile");
        assert_eq!(json["suppression_threshold"], threshold);
        assert!(
            json["suppression_note"]
                .as_str()
                .is_some_and(|n| n.contains("withheld"))
        );

        // The mart the map reads holds the same suppressed figures.
        let conn = store::open(&db).expect("open");
        for table in ["uptake_lsoa", "uptake_decile", "uptake_area"] {
            let small: i64 = conn
                .query_row(
                    &format!(
                        "SELECT count(*) FROM mart.{table} WHERE service = ? AND (
                             eligible BETWEEN 1 AND {threshold} OR invited BETWEEN 1 AND {threshold}
                             OR attended BETWEEN 1 AND {threshold})"
                    ),
                    [service],
                    |row| row.get(0),
                )
                .expect("count");
            assert_eq!(small, 0, "{service}: mart.{table}");
        }
        let mart_lsoas: i64 = conn
            .query_row(
                "SELECT count(*) FROM mart.uptake_lsoa WHERE service = ? AND attended_withheld",
                [service],
                |row| row.get(0),
            )
            .expect("count");
        assert_eq!(mart_lsoas as usize, withheld);
    }
}

#[test]
fn an_analysts_service_file_is_measured_and_bad_definitions_are_named() {
    let dir = tempfile::tempdir().expect("temp");
    let conn: Connection = store::open(&linked_county(dir.path(), 600)).expect("open");
    let file = dir.path().join("services.toml");
    std::fs::write(
        &file,
        r#"
[[service]]
name = "health_visiting"
title = "Two-year health review"
eligible = """
SELECT lsoa_code, count(*) AS n FROM core.person
WHERE age_on(birth_date, getvariable('reference_date')) BETWEEN 3 AND 4
GROUP BY lsoa_code"""
attended = """
SELECT p.lsoa_code, count(*) AS n FROM core.person p
WHERE age_on(p.birth_date, getvariable('reference_date')) BETWEEN 3 AND 4
  AND EXISTS (SELECT 1 FROM core.event e WHERE e.person_id = p.person_id
              AND e.event_type = 'health_visiting'
              AND e.event_date >= p.birth_date + INTERVAL 2 YEAR)
GROUP BY p.lsoa_code"""

[[service]]
name = "upside_down"
title = "Attended counted outside eligible"
eligible = "SELECT lsoa_code, 1 AS n FROM ref.lsoa"
attended = "SELECT lsoa_code, 2 AS n FROM ref.lsoa"

[[service]]
name = "broken"
title = "A typo"
eligible = "SELECT lsoa_code, count(*) AS n FROM core.persn GROUP BY lsoa_code"
attended = "SELECT lsoa_code, 0 AS n FROM ref.lsoa"
"#,
    )
    .expect("write");
    let services = service::load(&file).expect("services");
    let options = UptakeOptions::default();
    let reviews = uptake::compute(&conn, &services[0], &options).expect("analyst's service");
    let (attended, eligible) = (
        reviews.county.attended.expect("attended"),
        reviews.county.eligible.expect("eligible"),
    );
    // Health visitors see 90% of children at 2 years 2 months (docs/synthetic-data.md).
    assert!(eligible > 50, "{eligible} children aged 3–4");
    let share = attended as f64 / eligible as f64;
    assert!((0.75..0.97).contains(&share), "{share:.3} reviewed");
    let error = uptake::compute(&conn, &services[1], &options).expect_err("not nested");
    assert!(matches!(error, UptakeError::NotNested { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("attended (2) exceeds eligible (1)"),
        "{error}"
    );
    let error = uptake::compute(&conn, &services[2], &options)
        .expect_err("typo")
        .to_string();
    assert!(
        error.contains("service 'broken': the eligible query failed") && error.contains("persn"),
        "{error}"
    );
}
