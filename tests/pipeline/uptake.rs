//! Uptake statistics on a generated county, each checked against a calculation
//! made here independently: decile counts against a direct SQL group-by written
//! another way, Wilson intervals against the formula in plain Rust, the SII
//! against a weighted least-squares fit solved here, the SII's sign against how
//! the generator draws uptake, and suppression against every count `zonewise
//! uptake --json` prints and the mart holds.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;

use common::{Table, linked_county};
use duckdb::Connection;
use serde_json::Value;
use zonewise::store;
use zonewise::uptake::{self, Measure, UptakeError, UptakeOptions, UptakeRow, service};

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
    let conn = store::open(&linked_county(dir.path(), 1500, 17)).expect("open");
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
        &health_check.wards,
        &health_check.authorities,
    ] {
        assert_eq!(Some(total(level)), health_check.county.attended);
    }

    // Ward figures equal a direct group-by over the best-fit lookup, every LSOA in
    // exactly one ward, and the tables say how wards were fitted.
    assert!(health_check.notes.iter().any(|n| n == uptake::WARDS_NOTE));
    assert!(health_check.lsoas.iter().all(|l| l.ward_code.is_some()));
    // The computed LSOA counts as a table, joined to the lookup independently.
    let values: Vec<String> = health_check
        .lsoas
        .iter()
        .map(|l| format!("('{}', {})", l.code, l.attended.expect("unsuppressed")))
        .collect();
    conn.execute_batch(&format!(
        "CREATE TEMP TABLE lsoa_attended (lsoa_code VARCHAR, attended BIGINT);
         INSERT INTO lsoa_attended VALUES {};",
        values.join(", ")
    ))
    .expect("LSOA counts");
    let by_ward: std::collections::BTreeMap<String, (String, i64, i64)> = conn
        .prepare(
            "SELECT lw.ward_code, any_value(w.ward_name), count(*), sum(a.attended)
             FROM ref.lsoa_ward lw JOIN ref.ward w USING (ward_code)
             JOIN lsoa_attended a USING (lsoa_code) GROUP BY lw.ward_code",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert!(by_ward.len() > 100, "{} wards", by_ward.len());
    assert_eq!(health_check.wards.len(), by_ward.len());
    for ward in &health_check.wards {
        let (name, lsoas, attended) = &by_ward[&ward.code];
        assert_eq!(
            (
                &ward.name,
                ward.lsoas as i64,
                ward.attended.map(|a| a as i64)
            ),
            (name, *lsoas, Some(*attended)),
            "ward {}",
            ward.code
        );
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

    // Published, the figures follow from the published decile counts, rounded
    // (SII to 0.1 points, RII to 2 decimals), or are withheld with a reason.
    let mut published_figures = 0;
    for (tables, measure) in [
        (&health_check, Measure::Coverage),
        (&health_check, Measure::Uptake),
        (&centres, Measure::Coverage),
    ] {
        let published = uptake::suppress(tables, uptake::DEFAULT_THRESHOLD);
        let shown = published.tables();
        let inequality = shown
            .inequality
            .iter()
            .find(|i| i.measure == measure)
            .expect("measure");
        let shown_deciles = decile_counts(&shown.deciles, measure);
        let Some(sii) = inequality.sii else {
            assert!(
                inequality.sentence.contains("withheld"),
                "{}",
                inequality.sentence
            );
            continue;
        };
        let (slope, mean) = sii_by_least_squares(&shown_deciles);
        assert!((sii - slope).abs() <= 0.0005 + 1e-12, "{sii} vs {slope}");
        assert!(
            ((sii * 1000.0).round() - sii * 1000.0).abs() < 1e-9,
            "{sii}"
        );
        let rii = inequality.rii.expect("rii");
        assert!(((rii * 100.0).round() - rii * 100.0).abs() < 1e-9, "{rii}");
        assert!(
            (rii - slope / mean).abs() < 0.01,
            "{rii} vs {}",
            slope / mean
        );
        assert!(
            inequality
                .sentence
                .contains(&format!("{:+.1} points", sii * 100.0)),
            "{}",
            inequality.sentence
        );
        published_figures += 1;
    }
    assert!(published_figures > 0, "no published SII to check");
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
    let db = linked_county(dir.path(), 1200, 17);
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
        for ward in json["wards"].as_array().expect("wards") {
            let parts: Vec<&Value> = lsoas
                .iter()
                .filter(|l| l["ward_code"] == ward["code"])
                .collect();
            check_sum_protected(ward, &parts, "ward");
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
    let conn: Connection = store::open(&linked_county(dir.path(), 600, 17)).expect("open");
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

/// An exported CSV file read back with the csv crate: its `#` lines, then its table.
struct ExportedFile {
    comments: Vec<String>,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn read_exported(path: &Path) -> ExportedFile {
    let (comments, table) = Table::read_commented(path);
    ExportedFile {
        comments,
        header: table.header,
        rows: table.rows,
    }
}

/// Publishes `service` at `threshold`, exports it, and checks every file read
/// back: header lines present, no count from 1 to the threshold in any count
/// column, blanks exactly where suppression withheld, and every figure shown
/// equal to `uptake::compute`'s. Returns the counts checked.
fn check_export(conn: &Connection, service: &str, threshold: u64, dir: &Path) -> usize {
    let service = built_in(service);
    let options = UptakeOptions::default();
    let computed = uptake::compute(conn, &service, &options).expect("compute");
    let published = uptake::publish(conn, &service, &options, threshold).expect("publish");
    let produced = chrono::NaiveDate::from_ymd_opt(2027, 1, 15).expect("date");
    let paths = uptake::export::write_csv(&published, dir, produced, "analyst", |entry| {
        zonewise::audit::record(conn, entry)
    })
    .expect("export");
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    let stem = format!("{}-2026-04-01", service.name);
    assert_eq!(
        names,
        ["lsoa", "imd", "area", "inequality"].map(|kind| format!("{stem}-{kind}.csv"))
    );
    // (level, code) → the computed row and the published one.
    let shown = published.tables();
    let mut rows = std::collections::BTreeMap::new();
    let levels = |t: &uptake::UptakeTables| -> Vec<UptakeRow> {
        [
            &t.lsoas,
            &t.deciles,
            &t.quintiles,
            &t.zones,
            &t.wards,
            &t.authorities,
        ]
        .into_iter()
        .flatten()
        .chain(std::iter::once(&t.county))
        .cloned()
        .collect()
    };
    for (full, safe) in levels(&computed).into_iter().zip(levels(shown)) {
        assert_eq!((full.level, &full.code), (safe.level, &safe.code));
        rows.insert(
            (full.level.key().to_string(), full.code.clone()),
            (full, safe),
        );
    }
    let mut counts_checked = 0;
    for path in &paths {
        let file = read_exported(path);
        let what = path.display().to_string();
        let starts = |prefix: &str| {
            file.comments
                .iter()
                .find(|c| c.starts_with(prefix))
                .unwrap_or_else(|| panic!("{what}: no '{prefix}' line in {:?}", file.comments))
                .clone()
        };
        assert!(
            file.comments[0].starts_with(&service.title),
            "{what}: title"
        );
        assert_eq!(starts("Reference date:"), "Reference date: 2026-04-01");
        assert_eq!(starts("Produced:"), "Produced: 2027-01-15");
        let source = starts("Source:");
        assert!(
            source.contains("IMD 2019") && source.contains("Open Government Licence"),
            "{source}"
        );
        assert!(source.contains("synthetic"), "a synthetic county says so");
        assert_eq!(
            starts("Suppression:"),
            format!("Suppression: {}", published.note())
        );
        let column = |name: &str| file.header.iter().position(|h| h == name);
        if what.ends_with("-inequality.csv") {
            assert_eq!(file.rows.len(), shown.inequality.len());
            for (row, measure) in file.rows.iter().zip(&shown.inequality) {
                assert_eq!(row[0], measure.measure.label());
                let cell = &row[column("sii_points").expect("sii")];
                // From the published decile counts alone, or not at all.
                let withheld = shown.deciles.iter().any(|d| {
                    d.withheld.attended
                        || match measure.measure {
                            Measure::Coverage => d.withheld.eligible,
                            Measure::Uptake => d.withheld.invited,
                        }
                });
                if withheld {
                    assert!(cell.is_empty() && measure.sii.is_none(), "{what}: {cell}");
                } else {
                    let sii: f64 = cell.parse().expect("sii");
                    let (slope, _) =
                        sii_by_least_squares(&decile_counts(&shown.deciles, measure.measure));
                    assert!(
                        (sii - slope * 100.0).abs() <= 0.05 + 1e-9,
                        "{sii} vs {slope}"
                    );
                }
                assert_eq!(
                    row[column("statement").expect("statement")],
                    measure.sentence
                );
            }
            continue;
        }
        if what.ends_with("-area.csv") {
            let line = starts("Eligible people with no LSOA");
            let value = line.rsplit(": ").next().expect("value");
            if value != "withheld" {
                let n: u64 = value.parse().expect("a count");
                assert!(n == 0 || n > threshold, "{what}: {line}");
                assert_eq!(Some(n), computed.eligible_without_lsoa);
            }
        }
        let key_columns = if what.ends_with("-lsoa.csv") {
            (None, column("lsoa_code").expect("lsoa_code"))
        } else if what.ends_with("-imd.csv") {
            (column("level"), column("imd_group").expect("group"))
        } else {
            (column("level"), column("code").expect("code"))
        };
        let note = column("value_note").expect("value_note");
        assert!(file.rows.len() > 1, "{what}");
        for cells in &file.rows {
            let level = key_columns
                .0
                .map_or("lsoa".to_string(), |c| cells[c].clone());
            let key = (level, cells[key_columns.1].clone());
            let (full, safe) = rows.get(&key).unwrap_or_else(|| panic!("{what}: {key:?}"));
            for (name, computed_count, published_count) in [
                ("eligible", full.eligible, safe.eligible),
                ("invited", full.invited, safe.invited),
                ("attended", full.attended, safe.attended),
            ] {
                let Some(at) = column(name) else {
                    assert!(!computed.has_invited && name == "invited", "{what}: {name}");
                    continue;
                };
                let cell = &cells[at];
                if cell.is_empty() {
                    assert_eq!(published_count, None, "{what} {key:?} {name}: blank");
                    assert!(
                        cells[note].contains(name),
                        "{what} {key:?}: {}",
                        cells[note]
                    );
                    continue;
                }
                let n: u64 = cell.parse().unwrap_or_else(|_| panic!("{what}: {cell}"));
                assert!(
                    n == 0 || n > threshold,
                    "{what} {key:?}: {name} = {n} gets through suppression at {threshold}"
                );
                assert_eq!(Some(n), computed_count, "{what} {key:?} {name}");
                counts_checked += 1;
            }
            for (name, computed_rate, published_rate) in [
                ("coverage", full.coverage, safe.coverage),
                ("uptake", full.uptake, safe.uptake),
            ] {
                let Some(at) = column(&format!("{name}_percent")) else {
                    continue;
                };
                let bounds = [&cells[at], &cells[at + 1], &cells[at + 2]];
                match published_rate {
                    None => assert!(bounds.iter().all(|c| c.is_empty()), "{what} {key:?}"),
                    Some(_) => {
                        let rate = computed_rate.expect("a shown rate is computed");
                        for (cell, value) in
                            bounds.into_iter().zip([rate.value, rate.lower, rate.upper])
                        {
                            let percent: f64 = cell.parse().expect("percent");
                            assert!(
                                (percent - value * 100.0).abs() <= 0.05 + 1e-9,
                                "{what} {key:?}: rates to 0.1%"
                            );
                        }
                    }
                }
            }
        }
    }
    counts_checked
}

#[test]
fn csv_export_of_a_generated_county_shows_no_small_count_and_computes_figures() {
    let dir = tempfile::tempdir().expect("temp");
    let conn = store::open(&linked_county(dir.path(), 900, 17)).expect("open");
    for (service, threshold) in [
        ("health_check", 4),
        ("childrens_centre", 4),
        ("health_check", 10),
        ("childrens_centre", 10),
    ] {
        let out = dir.path().join(format!("csv-{service}-{threshold}"));
        let checked = check_export(&conn, service, threshold, &out);
        assert!(checked > 300, "{service}: {checked} counts checked");
    }
}

#[test]
fn csv_export_of_the_sample_county_through_the_command_line() {
    let dir = tempfile::tempdir().expect("temp");
    let db = dir.path().join("sample.duckdb");
    let conn = zonewise::sample::open_sample(&zonewise::bundled::sample_dir(), &db, &mut |_| {})
        .expect("sample county");
    for threshold in [4, 10] {
        for service in ["health_check", "childrens_centre"] {
            let out = dir.path().join(format!("csv-{service}-{threshold}"));
            let checked = check_export(&conn, service, threshold, &out);
            assert!(checked > 300, "{service}: {checked} counts checked");
        }
    }
    drop(conn);
    // The command writes the same four files and prints their paths.
    let out = dir.path().join("from-the-command");
    let output = Command::new(env!("CARGO_BIN_EXE_zonewise"))
        .args(["uptake", "--db"])
        .arg(&db)
        .args(["--service", "childrens_centre", "--suppress", "10", "--csv"])
        .arg(&out)
        .output()
        .expect("run zonewise uptake --csv");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Vec<PathBuf> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(PathBuf::from)
        .collect();
    assert_eq!(printed.len(), 4, "{printed:?}");
    for path in &printed {
        assert!(
            path.starts_with(&out) && path.is_file(),
            "{}",
            path.display()
        );
        let file = read_exported(path);
        assert!(
            file.comments
                .iter()
                .any(|c| c.starts_with("Suppression: Counts from 1 to 10")),
            "{}",
            path.display()
        );
        for (at, name) in file.header.iter().enumerate() {
            if matches!(name.as_str(), "eligible" | "attended") {
                for row in &file.rows {
                    let n: Option<u64> = row[at].parse().ok();
                    assert!(n.is_none_or(|n| n == 0 || n > 10), "{name} {n:?}");
                }
            }
        }
    }
}

/// What a service query must not change: the users, the audit log (every entry's
/// hash, and the head) and the published tables, one line each.
fn untouchable(conn: &Connection) -> Vec<String> {
    [
        "SELECT 'user ' || user_name || ' ' || role || ' ' || password_hash FROM app.\"user\"",
        "SELECT 'audit ' || seq || ' ' || action || ' ' || hash FROM app.audit_log",
        "SELECT 'meta ' || key || ' ' || value FROM app.meta WHERE key LIKE 'audit%'",
        "SELECT 'mart ' || count(*) FROM mart.uptake_lsoa",
    ]
    .into_iter()
    .flat_map(|sql| {
        conn.prepare(&format!("SELECT * FROM ({sql}) t (line) ORDER BY 1"))
            .expect(sql)
            .query_map([], |row| row.get::<_, String>(0))
            .expect(sql)
            .collect::<Result<Vec<_>, _>>()
            .expect(sql)
    })
    .collect()
}

/// A service file holding one service named `name` whose `query` is `text` (the
/// other queries count one person in every LSOA).
fn crafted_service(dir: &Path, name: &str, query: &str, text: &str) -> PathBuf {
    let plain = "SELECT lsoa_code, 1 AS n FROM ref.lsoa";
    let [eligible, invited, attended] =
        ["eligible", "invited", "attended"].map(|q| if q == query { text } else { plain });
    let quoted = |text: &str| format!("'''{text}'''");
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(
        &file,
        format!(
            "[[service]]\nname = \"{name}\"\ntitle = \"Crafted\"\neligible = {}\ninvited = {}\nattended = {}\n",
            quoted(eligible),
            quoted(invited),
            quoted(attended)
        ),
    )
    .expect("write");
    file
}

/// Service files that try to do more than count per LSOA: a second statement
/// deleting the users (after which the database would open to anyone as the
/// local analyst), one rewinding the audit log, one copying people's names to a
/// file, and a `COPY … TO` as the query itself. duckdb-rs's `prepare` runs every
/// statement but the last of a text, so each query is checked to be one
/// statement: refused when loaded (naming the service, the query and the file),
/// refused again where it runs (a `Service` changed in code), through the
/// command as an analyst too, and the database is left exactly as it was.
#[test]
fn a_service_query_runs_as_one_statement_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp");
    let db = linked_county(dir.path(), 150, 23);
    let conn = store::open(&db).expect("open");
    let ana = zonewise::access::NewUser {
        user: "ana".to_string(),
        display_name: "Ana".to_string(),
        role: zonewise::access::Role::Analyst,
        zones: Vec::new(),
    };
    zonewise::access::add_user(&conn, &ana, "correct horse battery", "test").expect("user");
    let copied = dir.path().join("people.csv");
    let escape = "SELECT lsoa_code, 1 AS n FROM ref.lsoa) GROUP BY ALL";
    let resume = "SELECT * FROM (SELECT NULL AS lsoa_code, 0 AS n";
    let attacks = [
        (
            "drop_users",
            "eligible",
            format!("{escape}; DELETE FROM app.\"user\"; {resume}"),
        ),
        (
            "rewind_audit",
            "attended",
            format!(
                "{escape}; DELETE FROM app.audit_log; DELETE FROM app.meta WHERE key LIKE 'audit%'; {resume}"
            ),
        ),
        (
            "copy_people",
            "invited",
            format!(
                "{escape}; COPY (SELECT given_name, family_name FROM core.person) TO '{}'; {resume}",
                copied.display()
            ),
        ),
    ];
    let before = untouchable(&conn);
    assert!(
        before
            .iter()
            .any(|line| line.starts_with("user ana analyst $argon2id$"))
    );
    let options = UptakeOptions::default();
    let plain = service::load(&crafted_service(dir.path(), "plain", "none", ""))
        .expect("a plain service")
        .remove(0);
    for (name, query, text) in &attacks {
        let file = crafted_service(dir.path(), name, query, text);
        let error = service::load(&file).expect_err("refused").to_string();
        for part in [
            format!("service '{name}'"),
            format!("the {query} query"),
            file.display().to_string(),
        ] {
            assert!(error.contains(&part), "{part} in {error}");
        }
        // A service changed after loading is refused where it runs, too.
        let mut changed = plain.clone();
        let service::Counting::Sql(queries) = &mut changed.counting else {
            panic!("a service counted by SQL");
        };
        match *query {
            "eligible" => queries.eligible = text.clone(),
            "invited" => queries.invited = Some(text.clone()),
            _ => queries.attended = text.clone(),
        }
        let error = uptake::publish(&conn, &changed, &options, 4)
            .expect_err("refused")
            .to_string();
        assert!(
            error.contains(&format!("the {query} query has a ';'")),
            "{error}"
        );
        assert_eq!(untouchable(&conn), before, "{name} changed the database");
        assert!(!copied.exists(), "{name} copied people out");
    }
    // A COPY as the query itself cannot be a subquery: it fails to parse.
    let copy_alone = service::load(&crafted_service(
        dir.path(),
        "copy_alone",
        "eligible",
        &format!(
            "COPY (SELECT given_name, family_name FROM core.person) TO '{}'",
            copied.display()
        ),
    ))
    .expect("one statement");
    let error = uptake::publish(&conn, &copy_alone[0], &options, 4).expect_err("not a query");
    assert!(
        matches!(
            error,
            UptakeError::Query {
                query: "eligible",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(untouchable(&conn), before);
    assert!(!copied.exists(), "COPY wrote a file");
    drop(conn);

    // Through the command, signed in as an analyst (who may give --services):
    // refused before anything runs; only the sign-ins are added to the log.
    let db_arg = db.display().to_string();
    for (name, query, text) in &attacks {
        let file = crafted_service(dir.path(), name, query, text);
        let file_arg = file.display().to_string();
        let run = common::cli::zonewise(
            &[
                "uptake",
                "--db",
                &db_arg,
                "--as",
                "ana",
                "--services",
                &file_arg,
                "--service",
                name,
            ],
            &[("ZONEWISE_PASSWORD", Some("correct horse battery"))],
            "",
        );
        assert!(!run.success, "{name} ran");
        for part in [
            format!("service '{name}'"),
            format!("the {query} query"),
            file_arg,
        ] {
            assert!(run.stderr.contains(&part), "{part} in {}", run.stderr);
        }
    }
    assert!(!copied.exists());
    let conn = store::open(&db).expect("open");
    let after = untouchable(&conn);
    let unchanged = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter(|line| line.starts_with("user ") || line.starts_with("mart "))
            .cloned()
            .collect()
    };
    assert_eq!(unchanged(&after), unchanged(&before));
    let entries = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter(|line| line.starts_with("audit "))
            .cloned()
            .collect()
    };
    let (old, new) = (entries(&before), entries(&after));
    assert_eq!(new.len(), old.len() + attacks.len(), "{new:?}");
    assert!(
        new.iter()
            .all(|line| old.contains(line) || line.contains(" login "))
    );
    assert!(
        zonewise::audit::verify(&conn)
            .expect("verify")
            .problem
            .is_none()
    );
}

/// The CSV files of an export appear only once it is recorded: if the audit log
/// refuses the entry, the folder is left with no file at all.
#[test]
fn an_export_the_audit_log_refuses_leaves_no_file() {
    let dir = tempfile::tempdir().expect("temp");
    let conn = store::open(&linked_county(dir.path(), 150, 29)).expect("open");
    let published = uptake::publish(
        &conn,
        &built_in("health_check"),
        &UptakeOptions::default(),
        uptake::DEFAULT_THRESHOLD,
    )
    .expect("publish");
    let out = dir.path().join("refused");
    let produced = chrono::NaiveDate::from_ymd_opt(2027, 1, 15).expect("date");
    let mut seen = Vec::new();
    let error = uptake::export::write_csv(&published, &out, produced, "analyst", |entry| {
        // The files are written (staged) by the time the entry is asked for.
        seen = std::fs::read_dir(&out)
            .expect("folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(entry.subject, out.display().to_string());
        Err(zonewise::store::StoreError::OnTheFrame("a refused entry"))
    })
    .expect_err("not recorded");
    assert!(matches!(error, UptakeError::NotRecorded(_)), "{error}");
    assert_eq!(seen.len(), 4, "staged: {seen:?}");
    assert!(
        seen.iter().all(|name| !name.ends_with(".csv")),
        "a file had its name before it was recorded: {seen:?}"
    );
    let left: Vec<_> = std::fs::read_dir(&out).expect("folder").collect();
    assert!(left.is_empty(), "{left:?}");
}
