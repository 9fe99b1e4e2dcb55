//! The uptake trend and disclosure across periods and levels, on a generated
//! county: every period end's figures against a group-by written here in SQL,
//! the board sentence's test of change against the same counts by hand, the
//! command's JSON and CSV, and an attacker who solves every published sum at once
//! for the withheld counts and finds none.

use std::collections::HashMap;

use crate::common;

use common::{Table, linked_county};
use duckdb::Connection;
use zonewise::store;
use zonewise::uptake::trend::{self, Trend};
use zonewise::uptake::{
    self, DEFAULT_THRESHOLD, Level, Measure, UptakeOptions, UptakeRow, UptakeTables, period,
    service,
};

fn built_in(name: &str) -> uptake::Service {
    let services = service::built_in().expect("services");
    service::find(&services, name).expect("service").clone()
}

/// (eligible, invited, attended) per IMD decile of NHS Health Checks on `day`,
/// written without the service's macros: 40–74 as a birth-date window, the
/// five-year look-back as a date range.
fn health_checks_by_decile(conn: &Connection, day: &str) -> HashMap<u8, (u64, u64, u64)> {
    conn.prepare(
        "WITH eligible AS (
             SELECT p.person_id, l.imd_decile FROM core.person p JOIN ref.lsoa l USING (lsoa_code)
             WHERE p.birth_date > ?::DATE - INTERVAL 75 YEAR
               AND p.birth_date <= ?::DATE - INTERVAL 40 YEAR),
         events AS (
             SELECT person_id, bool_or(event_type = 'health_check_attended') AS attended
             FROM core.event
             WHERE event_type IN ('health_check_invited', 'health_check_attended')
               AND event_date >= ?::DATE - INTERVAL 5 YEAR AND event_date < ?::DATE
             GROUP BY person_id)
         SELECT imd_decile, count(*), count(e.person_id), count(*) FILTER (WHERE e.attended)
         FROM eligible LEFT JOIN events e USING (person_id)
         GROUP BY imd_decile",
    )
    .expect("prepare")
    .query_map([day, day, day, day], |r| {
        Ok((
            r.get::<_, i32>(0)? as u8,
            (
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
                r.get::<_, i64>(3)? as u64,
            ),
        ))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

/// A row's shown counts equal `expected`, and a count not shown is flagged withheld.
fn check_row(row: &UptakeRow, expected: (u64, u64, u64), what: &str) {
    let shown = [
        (row.eligible, row.withheld.eligible, expected.0, "eligible"),
        (row.invited, row.withheld.invited, expected.1, "invited"),
        (row.attended, row.withheld.attended, expected.2, "attended"),
    ];
    for (count, withheld, direct, name) in shown {
        match count {
            Some(n) => assert_eq!(n, direct, "{what} {name}"),
            None => assert!(withheld, "{what} {name}: blank but not withheld"),
        }
        if (1..=DEFAULT_THRESHOLD).contains(&direct) {
            assert!(
                count.is_none(),
                "{what} {name}: {direct} is small but shown"
            );
        }
    }
}

#[test]
fn trend_figures_equal_an_independent_group_by_at_each_period_end() {
    let dir = tempfile::tempdir().expect("temp");
    let db = linked_county(dir.path(), 900, 23);
    let conn = store::open(&db).expect("open");
    let service = built_in("health_check");
    let trend = trend::trend(&conn, &service, DEFAULT_THRESHOLD, |_, _| {}).expect("trend");
    let extract = period::latest_extract_date(&conn)
        .expect("read")
        .expect("extract date");

    // Published period ends only, oldest first, the latest the extract date, a
    // quarter or more apart, from the first event on.
    let dates: Vec<_> = trend.periods.iter().map(|p| p.date).collect();
    assert!(dates.len() >= 8, "{dates:?}");
    assert!(dates.len() <= trend::MAX_PERIODS);
    assert_eq!(dates.last(), Some(&extract));
    for pair in dates.windows(2) {
        assert!((pair[1] - pair[0]).num_days() >= 90, "{pair:?}");
    }
    for &date in &dates {
        assert!(period::is_published(date, extract), "{date}");
    }
    let first_event: String = conn
        .query_row(
            "SELECT strftime(min(event_date), '%Y-%m-%d') FROM core.event",
            [],
            |r| r.get(0),
        )
        .expect("first event");
    assert!(dates[0].to_string() >= first_event);

    let mut county_counts = Vec::new();
    for period in &trend.periods {
        let day = period.date.format("%Y-%m-%d").to_string();
        let direct = health_checks_by_decile(&conn, &day);
        for row in &period.deciles {
            let decile = row.imd_decile.expect("decile");
            let expected = direct.get(&decile).copied().unwrap_or_default();
            check_row(row, expected, &format!("{day} decile {decile}"));
        }
        let quintile_counts = |q: u8| -> (u64, u64, u64) {
            direct
                .iter()
                .filter(|(d, _)| d.div_ceil(2) == q)
                .fold((0, 0, 0), |a, (_, c)| (a.0 + c.0, a.1 + c.1, a.2 + c.2))
        };
        for row in &period.quintiles {
            let q = row.imd_quintile.expect("quintile");
            check_row(row, quintile_counts(q), &format!("{day} quintile {q}"));
        }
        let total = direct
            .values()
            .fold((0, 0, 0), |a, c| (a.0 + c.0, a.1 + c.1, a.2 + c.2));
        check_row(&period.county, total, &format!("{day} county"));
        county_counts.push(total);

        // The gap between the fifths, by hand from the group-by.
        for gap in &period.gaps {
            let rate = |q: u8| {
                let (eligible, invited, attended) = quintile_counts(q);
                let n = match gap.measure {
                    Measure::Coverage => eligible,
                    Measure::Uptake => invited,
                };
                (attended as f64 / n as f64, n as f64)
            };
            let ((p1, n1), (p5, n5)) = (rate(1), rate(5));
            match gap.gap {
                Some(value) => {
                    assert!((value - (p5 - p1)).abs() < 1e-12, "{day}");
                    let se = (p1 * (1.0 - p1) / n1 + p5 * (1.0 - p5) / n5).sqrt();
                    assert!((gap.standard_error.expect("se") - se).abs() < 1e-12);
                }
                None => {
                    let blank = |q: u8| {
                        let row = &period.quintiles[usize::from(q) - 1];
                        row.withheld.attended
                            || match gap.measure {
                                Measure::Coverage => row.withheld.eligible,
                                Measure::Uptake => row.withheld.invited,
                            }
                    };
                    assert!(
                        blank(1) || blank(5),
                        "{day}: gap missing with both fifths shown"
                    );
                }
            }
        }

        // Each period end is exactly what is published for that day.
        let published = uptake::published(
            &conn,
            &service,
            &UptakeOptions {
                reference_date: Some(period.date),
            },
            DEFAULT_THRESHOLD,
        )
        .expect("published");
        let tables = published.tables();
        assert_eq!(period.deciles, tables.deciles, "{day}");
        assert_eq!(period.quintiles, tables.quintiles, "{day}");
        assert_eq!(period.county, tables.county, "{day}");
        assert_eq!(period.inequality, tables.inequality, "{day}");
    }
    // The generator draws checks over the history, so coverage grows with it.
    assert!(county_counts[0].2 < county_counts.last().expect("last").2);

    // The board sentence's test of change, by hand from the group-by's counts.
    for sentence in &trend.sentences {
        let Some(change) = &sentence.change else {
            assert!(
                sentence.sentence.contains("no change"),
                "{}",
                sentence.sentence
            );
            continue;
        };
        let gap_on = |date: chrono::NaiveDate| {
            let direct = health_checks_by_decile(&conn, &date.format("%Y-%m-%d").to_string());
            let rate = |q: u8| {
                let (eligible, invited, attended) = direct
                    .iter()
                    .filter(|(d, _)| d.div_ceil(2) == q)
                    .fold((0, 0, 0), |a, (_, c)| (a.0 + c.0, a.1 + c.1, a.2 + c.2));
                let n = match sentence.measure {
                    Measure::Coverage => eligible,
                    Measure::Uptake => invited,
                } as f64;
                (attended as f64 / n, n)
            };
            let ((p1, n1), (p5, n5)) = (rate(1), rate(5));
            (p5 - p1, p1 * (1.0 - p1) / n1 + p5 * (1.0 - p5) / n5)
        };
        let (g1, v1) = gap_on(change.from);
        let (g2, v2) = gap_on(change.to);
        let z = (g2 - g1) / (v1 + v2).sqrt();
        assert!((change.difference - (g2 - g1)).abs() < 1e-12);
        assert!((change.difference / change.standard_error - z).abs() < 1e-9);
        assert_eq!(change.larger_than_chance, z.abs() > 1.959_964);
        assert_eq!(change.to, extract, "compared with the latest figures");
        let from = trend
            .periods
            .iter()
            .find(|p| p.date == change.from)
            .expect("from");
        if from.year_end {
            assert!(
                sentence
                    .sentence
                    .contains(&format!("since {}", trend::financial_year(change.from))),
                "{}",
                sentence.sentence
            );
        }
        let verdict = if z.abs() > 1.959_964 {
            "is larger than chance."
        } else {
            "is not larger than chance."
        };
        assert!(
            sentence.sentence.ends_with(verdict),
            "{}",
            sentence.sentence
        );
        assert!(
            sentence
                .sentence
                .contains(&format!("{:+.1} points", (g2 - g1) * 100.0)),
            "{}",
            sentence.sentence
        );
    }

    // The command prints the same trend as JSON and writes it as CSV, each run in
    // the audit log.
    drop(conn);
    let run = common::cli::zonewise(
        &[
            "uptake",
            "--db",
            &db.display().to_string(),
            "--service",
            "health_check",
            "--trend",
            "--json",
        ],
        &[],
        "",
    );
    assert!(run.success, "{}", run.output());
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        json["periods"].as_array().expect("periods").len(),
        trend.periods.len()
    );
    assert_eq!(json["suppression_threshold"], DEFAULT_THRESHOLD);
    assert_eq!(
        json["sentences"][0]["sentence"].as_str(),
        Some(trend.sentences[0].sentence.as_str())
    );
    let out = dir.path().join("trend-csv");
    let run = common::cli::zonewise(
        &[
            "uptake",
            "--db",
            &db.display().to_string(),
            "--service",
            "health_check",
            "--trend",
            "--csv",
            &out.display().to_string(),
        ],
        &[],
        "",
    );
    assert!(run.success, "{}", run.output());
    let (comments, imd) = Table::read_commented(&out.join("health_check-trend-imd.csv"));
    assert!(comments.iter().any(|c| c == &trend.sentences[1].sentence));
    assert!(
        comments
            .iter()
            .any(|c| c.starts_with("Suppression: Counts from 1 to 4"))
    );
    assert_eq!(imd.rows.len(), trend.periods.len() * 16);
    let column = |name: &str| imd.header.iter().position(|h| h == name).expect(name);
    let date_column = column("date");
    for name in ["eligible", "invited", "attended"] {
        let at = column(name);
        for (row, (period, shown)) in imd.rows.iter().zip(trend.periods.iter().flat_map(|p| {
            p.deciles
                .iter()
                .chain(&p.quintiles)
                .chain(std::iter::once(&p.county))
                .map(move |r| (p, r))
        })) {
            assert_eq!(row[date_column], period.date.to_string());
            let expected = match name {
                "eligible" => shown.eligible,
                "invited" => shown.invited,
                _ => shown.attended,
            };
            assert_eq!(row[at], expected.map_or(String::new(), |n| n.to_string()));
        }
    }
    let (_, inequality) = Table::read_commented(&out.join("health_check-trend-inequality.csv"));
    assert_eq!(inequality.rows.len(), trend.periods.len() * 2);
    let trend_exports: i64 = store::open(&db)
        .expect("open")
        .query_row(
            "SELECT count(*) FROM app.audit_log
             WHERE action = 'export' AND detail LIKE 'health_check uptake trend%'",
            [],
            |r| r.get(0),
        )
        .expect("audit");
    assert_eq!(trend_exports, 2, "the JSON and the CSV export");
}

/// Which counts an attacker who knows every published sum at once can work out
/// exactly: the published rows of one day as a linear system whose unknowns are
/// the withheld counts of one kind. Every area row (decile, quintile, zone, ward,
/// authority, county) is the sum of its LSOAs' rows; a quintile is its deciles'
/// and the county every level's, which follow from those. Unknown j is
/// determined exactly when the unit vector e_j is in the row space of the
/// system, found by reducing it to row echelon form.
fn recoverable(tables: &UptakeTables, count: CountOf) -> Vec<String> {
    let lsoas = &tables.lsoas;
    let areas: Vec<(&UptakeRow, Vec<&UptakeRow>)> = tables
        .deciles
        .iter()
        .chain(&tables.quintiles)
        .chain(&tables.zones)
        .chain(&tables.wards)
        .chain(&tables.authorities)
        .chain(std::iter::once(&tables.county))
        .map(|area| {
            let members = lsoas
                .iter()
                .filter(|l| match area.level {
                    Level::Decile => l.imd_decile == area.imd_decile,
                    Level::Quintile => l.imd_decile.map(|d| d.div_ceil(2)) == area.imd_quintile,
                    Level::Zone => l.zone_id.as_deref() == Some(area.code.as_str()),
                    Level::Ward => l.ward_code.as_deref() == Some(area.code.as_str()),
                    Level::Authority => l.la_code.as_deref() == Some(area.code.as_str()),
                    _ => true,
                })
                .collect();
            (area, members)
        })
        .collect();
    let mut unknowns: HashMap<(Level, String), usize> = HashMap::new();
    let mut names = Vec::new();
    for row in lsoas.iter().chain(areas.iter().map(|(a, _)| *a)) {
        if count(row).is_none() {
            unknowns.insert((row.level, row.code.clone()), names.len());
            names.push(format!("{} {}", row.level.key(), row.code));
        }
    }
    let column = |row: &UptakeRow| unknowns.get(&(row.level, row.code.clone())).copied();
    let mut matrix: Vec<Vec<f64>> = Vec::new();
    for (area, members) in &areas {
        let mut equation = vec![0.0; names.len()];
        if let Some(j) = column(area) {
            equation[j] += 1.0;
        }
        for member in members {
            if let Some(j) = column(member) {
                equation[j] -= 1.0;
            }
        }
        if equation.iter().any(|&c| c != 0.0) {
            matrix.push(equation);
        }
    }
    // Gauss–Jordan elimination with partial pivoting.
    let mut pivots = Vec::new();
    let mut row_at = 0;
    for col in 0..names.len() {
        let Some(best) = (row_at..matrix.len())
            .max_by(|&a, &b| matrix[a][col].abs().total_cmp(&matrix[b][col].abs()))
        else {
            break;
        };
        if matrix[best][col].abs() < 1e-9 {
            continue;
        }
        matrix.swap(row_at, best);
        let lead = matrix[row_at][col];
        for c in &mut matrix[row_at] {
            *c /= lead;
        }
        let pivot_row = matrix[row_at].clone();
        for (r, row) in matrix.iter_mut().enumerate() {
            if r != row_at && row[col].abs() > 1e-12 {
                let factor = row[col];
                for (c, p) in row.iter_mut().zip(&pivot_row) {
                    *c -= factor * p;
                }
            }
        }
        pivots.push((row_at, col));
        row_at += 1;
    }
    pivots
        .into_iter()
        .filter(|&(r, col)| {
            matrix[r]
                .iter()
                .enumerate()
                .all(|(c, v)| c == col || v.abs() < 1e-9)
        })
        .map(|(_, col)| names[col].clone())
        .collect()
}

/// One kind of count of a row, `None` where withheld.
type CountOf = fn(&UptakeRow) -> Option<u64>;

const COUNTS: [(&str, CountOf); 3] = [
    ("eligible", |r| r.eligible),
    ("invited", |r| r.invited),
    ("attended", |r| r.attended),
];

/// Differencing levels: no published day's tables (LSOAs, deciles, quintiles,
/// zones, wards, authorities, county) let a withheld count be solved from all
/// their sums together; showing one withheld LSOA count again would (so the
/// attack is not toothless). Differencing periods: a trend's period ends are each that
/// day's published figures and nothing more, and no two published days are
/// closer than a quarter, so one day's flows cannot be read off.
#[test]
fn no_withheld_count_is_recovered_by_differencing_levels_or_periods() {
    let dir = tempfile::tempdir().expect("temp");
    let conn = store::open(&linked_county(dir.path(), 700, 31)).expect("open");
    let extract = period::latest_extract_date(&conn)
        .expect("read")
        .expect("extract");
    let published_days = period::latest_published(extract, 3);
    for pair in published_days.windows(2) {
        assert!((pair[0] - pair[1]).num_days() >= 90, "{pair:?}");
    }
    assert!(!period::is_published(
        extract - chrono::Days::new(1),
        extract
    ));
    let mut shown_again_leaks = 0;
    for name in ["health_check", "childrens_centre"] {
        let service = built_in(name);
        let trend: Trend =
            trend::trend(&conn, &service, DEFAULT_THRESHOLD, |_, _| {}).expect("trend");
        for (at, &day) in published_days.iter().enumerate() {
            let options = UptakeOptions {
                reference_date: Some(day),
            };
            let tables = uptake::compute(&conn, &service, &options).expect("compute");
            let published = uptake::suppress(&tables, DEFAULT_THRESHOLD);
            let shown = published.tables();
            // The trend shows this day's published deciles, quintiles and county
            // and nothing else: it adds no sum to the system below.
            if let Some(period) = trend.periods.iter().find(|p| p.date == day) {
                assert_eq!(period.deciles, shown.deciles);
                assert_eq!(period.quintiles, shown.quintiles);
                assert_eq!(period.county, shown.county);
            }
            for (count_name, count) in COUNTS {
                let withheld = shown.lsoas.iter().filter(|r| count(r).is_none()).count();
                let leaked = recoverable(shown, count);
                assert!(
                    leaked.is_empty(),
                    "{name} {day} {count_name}: {leaked:?} recoverable from the published sums"
                );
                // Showing one withheld LSOA count again (as an audit that missed
                // a sum would) gives its complement away: the attack has teeth.
                if at == 0 && withheld > 0 && shown_again_leaks < 2 {
                    let hidden: Vec<usize> = (0..shown.lsoas.len())
                        .filter(|&i| count(&shown.lsoas[i]).is_none())
                        .take(40)
                        .collect();
                    for i in hidden {
                        let mut weaker = shown.clone();
                        let (row, truth) = (&mut weaker.lsoas[i], &tables.lsoas[i]);
                        match count_name {
                            "eligible" => row.eligible = truth.eligible,
                            "invited" => row.invited = truth.invited,
                            _ => row.attended = truth.attended,
                        }
                        if !recoverable(&weaker, count).is_empty() {
                            shown_again_leaks += 1;
                            break;
                        }
                    }
                }
            }
        }
    }
    assert!(
        shown_again_leaks > 0,
        "the attack never recovers anything even when a withheld total is shown"
    );
}
