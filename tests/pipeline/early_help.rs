//! Did it work? (issue 15): the generator plants an early-help effect it knows
//! and simulates the round tables that decide who gets help; the history is
//! imported as the team's decisions, and the comparison at the cut-off
//! (`report::effect`) must recover the planted effect within its interval, and
//! find none when none was planted. The decisions imported are the zones' top
//! families by the need measure, counted here with SQL of its own.

use std::path::Path;

use crate::common::{self, Table};
use zonewise::access::{Session, Visibility};
use zonewise::report::{effect, round_history};
use zonewise::synth::round_tables::{ROUND_TABLES_FILE, RoundTableConfig};
use zonewise::synth::{self, SynthConfig};

fn everyone() -> Visibility {
    Session::local_analyst()
        .visibility()
        .expect("analysts see people")
}

/// Families in each test county: enough for the planted effect's interval to
/// exclude 1 (see docs/risk.md, "Did it work?").
const FAMILIES: usize = 3000;

/// Generates a county with `round_tables`, ingests and links it, imports its
/// round tables' history and returns the database and the county's folder.
fn county(dir: &Path, seed: u64, round_tables: RoundTableConfig) -> duckdb::Connection {
    let out = dir.join("county");
    synth::generate(
        &SynthConfig {
            out_dir: out.clone(),
            reference_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/ref"),
            families: FAMILIES,
            seed,
            noise: 1.0,
            gzip: false,
            authorities: Vec::new(),
            months: 1,
            round_tables,
        },
        &|_, _| {},
    )
    .expect("synth");
    let conn = zonewise::store::open(&dir.join("county.duckdb")).expect("db");
    let manifest = zonewise::ingest::Manifest::load(&out.join("manifest.toml")).expect("manifest");
    zonewise::ingest::ingest(&conn, &manifest, "analyst", &mut |_| {}).expect("ingest");
    zonewise::link::link(&conn, &zonewise::link::LinkConfig::default(), "analyst").expect("link");
    round_history::import(&conn, &out.join(ROUND_TABLES_FILE), "analyst").expect("import");
    conn
}

fn planted(dir: &Path) -> (f64, i64, usize) {
    let truth = Table::truth(&dir.join("county"), "early_help");
    let row = &truth.rows[0];
    (
        row[truth.column("help_effect")].parse().expect("effect"),
        row[truth.column("help_delay_days")].parse().expect("delay"),
        row[truth.column("round_capacity")]
            .parse()
            .expect("capacity"),
    )
}

#[test]
fn the_estimate_recovers_a_planted_effect() {
    let dir = tempfile::tempdir().expect("temp");
    let started = std::time::Instant::now();
    let conn = county(
        dir.path(),
        41,
        RoundTableConfig {
            effect: 0.4,
            ..RoundTableConfig::default()
        },
    );
    let (truth, delay, _) = planted(dir.path());
    assert_eq!(truth, 0.4);
    assert!(
        delay <= effect::FOLLOW_UP_DAYS,
        "follow-up starts after help does"
    );
    let estimate = effect::read_effect(&conn, &everyone()).expect("effect");
    eprintln!("{estimate:?} in {:.0?}", started.elapsed());
    let ratio = estimate.ratio.expect("an estimate");
    assert!(
        ratio.low <= truth && truth <= ratio.high,
        "planted {truth}, estimated {ratio:?}"
    );
    assert!(ratio.high < 1.0, "the effect is found: {ratio:?}");
}

#[test]
fn the_estimate_finds_no_effect_when_none_was_planted() {
    let dir = tempfile::tempdir().expect("temp");
    let conn = county(
        dir.path(),
        42,
        RoundTableConfig {
            effect: 1.0,
            ..RoundTableConfig::default()
        },
    );
    let estimate = effect::read_effect(&conn, &everyone()).expect("effect");
    eprintln!("{estimate:?}");
    let ratio = estimate.ratio.expect("an estimate");
    assert!(ratio.low <= 1.0 && 1.0 <= ratio.high, "{ratio:?}");
    assert!(
        estimate.helped.families >= effect::MIN_FAMILIES
            && estimate.compared.families >= effect::MIN_FAMILIES
    );
    // The same strata summed independently: families on each side.
    let strata = effect::read_strata(&conn, &everyone()).expect("strata");
    assert_eq!(
        strata.iter().map(|s| s.helped.families).sum::<u64>(),
        estimate.helped.families
    );
    decisions_are_each_zones_neediest(&conn, &dir.path().join("county"), planted(dir.path()).2);
    bad_histories_are_refused(&conn, &dir.path().join("county"));
}

/// The generator's round tables discussed, at each round and zone, exactly its
/// top `capacity` families by need among those not yet discussed: need counted
/// here from the social care extract and the truth's record owners with SQL of
/// its own (no linkage, no app code; a row exported twice counted once), and every discussion's recorded need
/// equal to it. The decisions imported keep each zone within its capacity.
fn decisions_are_each_zones_neediest(conn: &duckdb::Connection, county: &Path, capacity: usize) {
    let file = |name: &str| county.join(name).display().to_string();
    let truth = duckdb::Connection::open_in_memory().expect("memory");
    truth
        .execute_batch(&format!(
            "CREATE TABLE contact AS
                 SELECT r.family_id, r.person_id, s.episode_id,
                        strptime(s.start_date, '%d/%m/%Y')::DATE AS day
                 FROM read_csv('{social_care}', all_varchar = true) s
                 JOIN read_csv('{records}', all_varchar = true) r
                   ON r.source = 'social_care' AND r.record_id = s.child_id
                 WHERE s.episode_type = 'contact';
             CREATE TABLE family AS SELECT family_id, zone_id FROM read_csv('{families}', all_varchar = true);
             CREATE TABLE discussed AS
                 SELECT round::DATE AS round, family_id, need::INTEGER AS need
                 FROM read_csv('{discussions}', all_varchar = true);
             CREATE TABLE need AS
                 SELECT round, family_id, zone_id, max(n) AS need FROM (
                     SELECT r.round, c.family_id, c.person_id, count(DISTINCT c.episode_id) AS n
                     FROM (SELECT unnest(range(DATE '2024-04-01', DATE '2026-04-01', INTERVAL 1 MONTH))::DATE AS round) r
                     JOIN contact c ON c.day >= r.round - 365 AND c.day < r.round
                     GROUP BY ALL)
                 JOIN family USING (family_id) GROUP BY ALL;
             CREATE TABLE waiting AS
                 SELECT n.* FROM need n LEFT JOIN discussed d USING (family_id)
                 WHERE d.round IS NULL OR d.round > n.round;",
            social_care = file("extracts/social_care.csv"),
            records = file("truth/records.csv"),
            families = file("truth/families.csv"),
            discussions = file("truth/discussions.csv"),
        ))
        .expect("truth tables");
    let count = |sql: &str| -> i64 { truth.query_row(sql, [], |row| row.get(0)).expect(sql) };
    assert!(count("SELECT count(*) FROM discussed") > 500);
    assert_eq!(
        count(
            "SELECT count(*) FROM discussed d LEFT JOIN need n USING (round, family_id) WHERE n.need IS DISTINCT FROM d.need"
        ),
        0,
        "each discussion's need is the count made here"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM discussed d JOIN need n USING (round, family_id)
             JOIN waiting w ON w.round = d.round AND w.zone_id = n.zone_id
             WHERE w.need > d.need"
        ),
        0,
        "a waiting family had more need than one discussed"
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM (
                 SELECT n.round, n.zone_id, count(*) AS discussed,
                        (SELECT count(*) FROM waiting w WHERE w.round = n.round AND w.zone_id = n.zone_id) AS waiting
                 FROM discussed d JOIN need n USING (round, family_id) GROUP BY ALL)
             WHERE discussed <> {capacity} AND waiting > 0"
        )),
        0,
        "a zone with families waiting discussed fewer than its capacity"
    );
    let over_capacity: i64 = conn
        .query_row(
            "SELECT count(*) FROM (
                 SELECT reference_date, zone_id FROM app.round_decision
                 WHERE outcome = 'Early help lead practitioner'
                 GROUP BY ALL HAVING count(*) > ?)",
            [capacity as i64],
            |row| row.get(0),
        )
        .expect("capacity");
    assert_eq!(over_capacity, 0);
}

/// A bad row names its file, line and column and keeps nothing; the same
/// history twice is refused.
fn bad_histories_are_refused(conn: &duckdb::Connection, county: &Path) {
    let count = || -> i64 {
        zonewise::store::scalar_i64(conn, "SELECT count(*) FROM app.round_decision").expect("count")
    };
    let before = count();
    let good = std::fs::read_to_string(county.join(ROUND_TABLES_FILE)).expect("history");
    let mut lines: Vec<String> = good.lines().take(4).map(str::to_string).collect();
    lines[2] = lines[2].replace("Early help lead practitioner", "Coffee");
    let bad = county.join("bad.csv");
    std::fs::write(&bad, lines.join("\n")).expect("write");
    let error = round_history::import(conn, &bad, "analyst").expect_err("bad outcome");
    let message = error.to_string();
    assert!(
        message.contains("bad.csv, line 3, column outcome"),
        "{message}"
    );
    let mut lines: Vec<String> = good.lines().take(4).map(str::to_string).collect();
    let fields: Vec<&str> = lines[3].split(',').collect();
    lines[3] = lines[3].replace(fields[3], "NOSUCHRECORD");
    std::fs::write(&bad, lines.join("\n")).expect("write");
    let message = round_history::import(conn, &bad, "analyst")
        .expect_err("unknown record")
        .to_string();
    assert!(message.contains("line 4, column record_id"), "{message}");
    let message = round_history::import(conn, &county.join(ROUND_TABLES_FILE), "analyst")
        .expect_err("twice")
        .to_string();
    assert!(message.contains("already imported"), "{message}");
    assert_eq!(count(), before, "nothing kept");
    let imports = common::audit_entries(conn, 0, &["decision"]);
    assert_eq!(imports.len(), 1, "{imports:?}");
    assert!(imports[0].2.starts_with("import: round_tables.csv"));
}
