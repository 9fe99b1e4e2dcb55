//! The synthetic county: deterministic, valid against its own manifest, honest
//! about its truth, and shaped by deprivation as documented.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use duckdb::Connection;
use zonewise::ingest::{self, Manifest};
use zonewise::store;
use zonewise::synth::{self, SynthConfig};

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/ref")
}

fn config(out: &Path, families: usize, seed: u64, noise: f64, gzip: bool) -> SynthConfig {
    SynthConfig {
        out_dir: out.to_path_buf(),
        reference_dir: reference_dir(),
        families,
        seed,
        noise,
        gzip,
        authorities: Vec::new(),
    }
}

/// Every file under `dir`, relative path → bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|n| n != "README.md") {
                let relative = path.strip_prefix(dir).expect("relative").to_path_buf();
                found.insert(relative, std::fs::read(&path).expect("read"));
            }
        }
    }
    found
}

/// Generates a county, ingests it, and exposes the truth files as DuckDB views.
fn ingested(out: &Path, families: usize, noise: f64) -> Connection {
    synth::generate(&config(out, families, 99, noise, false), &|_, _| {}).expect("synth");
    let conn = store::open_in_memory().expect("db");
    let manifest = Manifest::load(&out.join("manifest.toml")).expect("manifest loads");
    ingest::ingest(&conn, &manifest, &mut |_| {}).expect("every extract passes validation");
    for table in ["records", "people", "families", "outcomes"] {
        conn.execute_batch(&format!(
            "CREATE VIEW truth_{table} AS SELECT * FROM read_csv('{}', header = true, all_varchar = true)",
            out.join("truth").join(format!("{table}.csv")).display()
        ))
        .expect("truth view");
    }
    let union = manifest
        .sources
        .iter()
        .map(|s| format!("SELECT '{0}' AS source, * FROM staging.{0}", s.name))
        .collect::<Vec<_>>()
        .join(" UNION ALL BY NAME ");
    conn.execute_batch(&format!("CREATE VIEW staged AS {union}"))
        .expect("staged view");
    conn
}

fn count(conn: &Connection, sql: &str) -> i64 {
    store::scalar_i64(conn, sql).expect(sql)
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let dir = tempfile::tempdir().expect("temp");
    for (name, seed) in [("a", 5), ("b", 5), ("c", 6)] {
        synth::generate(
            &config(&dir.path().join(name), 300, seed, 1.0, true),
            &|_, _| {},
        )
        .expect("synth");
    }
    let a = files(&dir.path().join("a"));
    let b = files(&dir.path().join("b"));
    let c = files(&dir.path().join("c"));
    assert!(
        a.len() >= 13,
        "7 extracts, 4 truth files, zones, manifest: {:?}",
        a.keys()
    );
    assert_eq!(a, b, "same seed, same bytes");
    let extract = PathBuf::from("extracts/education.csv.gz");
    assert_ne!(a[&extract], c[&extract], "another seed, another county");
}

#[test]
fn committed_sample_is_what_the_generator_makes() {
    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("county");
    // The parameters documented in data-samples/county/README.md.
    synth::generate(&config(&out, 3000, 2026, 1.0, true), &|_, _| {}).expect("synth");
    let committed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/county");
    let mut fresh = files(&out);
    let mut committed = files(&committed_dir);
    let fresh_manifest = fresh.remove(Path::new("manifest.toml")).expect("manifest");
    let committed_manifest = committed
        .remove(Path::new("manifest.toml"))
        .expect("manifest");
    assert_eq!(
        fresh.keys().collect::<Vec<_>>(),
        committed.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &fresh {
        assert!(
            &committed[path] == bytes,
            "{} differs: regenerate the sample",
            path.display()
        );
    }
    // Manifests differ only in where the reference folder is, relative to each.
    let parse = |bytes: &[u8], base: &Path| {
        let mut manifest = Manifest::parse(
            std::str::from_utf8(bytes).expect("utf-8"),
            Path::new("manifest.toml"),
            base.to_path_buf(),
        )
        .expect("parses");
        manifest.reference = None;
        manifest.base_dir = PathBuf::new();
        manifest
    };
    assert_eq!(
        parse(&fresh_manifest, &out),
        parse(&committed_manifest, &committed_dir)
    );
}

#[test]
fn truth_covers_every_record_and_only_real_people() {
    let dir = tempfile::tempdir().expect("temp");
    let conn = ingested(dir.path(), 1500, 1.0);
    let untracked = count(
        &conn,
        "SELECT count(*) FROM (SELECT DISTINCT source, record_id FROM staged) s
         ANTI JOIN truth_records t USING (source, record_id)",
    );
    assert_eq!(untracked, 0, "every staged record id has a true person");
    let orphans = count(
        &conn,
        "SELECT count(*) FROM truth_records r ANTI JOIN truth_people p USING (person_id)",
    );
    assert_eq!(orphans, 0);
    let duplicates = count(
        &conn,
        "SELECT count(*) FROM (SELECT source, person_id FROM truth_records
         GROUP BY ALL HAVING count(*) > 1)",
    );
    assert!(duplicates > 0, "some people have two records in one system");
}

#[test]
fn zero_noise_extracts_match_truth_and_noise_adds_differences() {
    let dir = tempfile::tempdir().expect("temp");
    let mismatches = |conn: &Connection| {
        count(
            conn,
            "SELECT count(*) FROM staged s
             JOIN truth_records r USING (source, record_id)
             JOIN truth_people p USING (person_id)
             WHERE upper(trim(s.given_name)) <> upper(p.given_name)
                OR upper(trim(s.family_name)) <> upper(p.family_name)
                OR s.birth_date IS DISTINCT FROM p.birth_date::DATE",
        )
    };
    let clean = ingested(&dir.path().join("clean"), 600, 0.0);
    assert_eq!(mismatches(&clean), 0, "noise 0 gives true identities");
    let noisy = ingested(&dir.path().join("noisy"), 600, 1.0);
    let rows = count(&noisy, "SELECT count(*) FROM staged");
    let differing = mismatches(&noisy);
    assert!(
        differing > rows / 100,
        "noise 1 changes identities: {differing} of {rows}"
    );
    let noisier = ingested(&dir.path().join("noisier"), 600, 2.0);
    assert!(
        mismatches(&noisier) > differing,
        "noise 2 is noisier than 1"
    );
}

#[test]
fn circumstances_and_uptake_follow_deprivation() {
    let dir = tempfile::tempdir().expect("temp");
    let conn = ingested(dir.path(), 4000, 1.0);
    let prevalence = |circumstance: &str, deciles: &str| -> f64 {
        conn.query_row(
            &format!(
                "SELECT avg({circumstance}::INTEGER) FROM truth_families WHERE imd_decile::INTEGER IN ({deciles})"
            ),
            [],
            |row| row.get(0),
        )
        .expect("prevalence")
    };
    for circumstance in [
        "worklessness",
        "domestic_abuse",
        "substance_misuse",
        "housing_insecurity",
    ] {
        let deprived = prevalence(circumstance, "1, 2");
        let affluent = prevalence(circumstance, "9, 10");
        assert!(
            deprived > affluent,
            "{circumstance}: {deprived} vs {affluent}"
        );
    }
    // NHS Health Check uptake (attended / invited) is lower in the most deprived areas.
    let uptake = |deciles: &str| -> f64 {
        conn.query_row(
            &format!(
                "SELECT count(*) FILTER (event_type = 'health_check_attended')::DOUBLE
                      / count(*) FILTER (event_type = 'health_check_invited')
                 FROM staged s JOIN truth_records r USING (source, record_id)
                 JOIN truth_families f USING (family_id)
                 WHERE s.source = 'public_health' AND f.imd_decile::INTEGER IN ({deciles})"
            ),
            [],
            |row| row.get(0),
        )
        .expect("uptake")
    };
    assert!(uptake("1, 2, 3") < uptake("8, 9, 10"));
}

#[test]
fn every_escalation_appears_in_social_care() {
    let dir = tempfile::tempdir().expect("temp");
    let conn = ingested(dir.path(), 3000, 1.0);
    let escalations = count(
        &conn,
        "SELECT count(*) FROM truth_outcomes WHERE outcome = '1'",
    );
    assert!(
        escalations > 10,
        "enough escalations to learn from: {escalations}"
    );
    let unrecorded = count(
        &conn,
        "SELECT count(*) FROM truth_outcomes o WHERE o.outcome = '1' AND NOT EXISTS (
            SELECT 1 FROM staged s JOIN truth_records r USING (source, record_id)
            WHERE r.person_id = o.person_id AND s.source = 'social_care'
              AND s.event_type IN ('child_protection', 'looked_after')
              AND s.event_date >= o.reference_date::DATE
              AND s.event_date < o.reference_date::DATE + INTERVAL 365 DAY)",
    );
    assert_eq!(
        unrecorded, 0,
        "each true escalation is in the extract within 12 months"
    );
    // The recorded probabilities are calibrated to the drawn outcomes.
    let (mean_probability, rate): (f64, f64) = conn
        .query_row(
            "SELECT avg(probability::DOUBLE), avg(outcome::INTEGER) FROM truth_outcomes",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("calibration");
    assert!(
        (mean_probability - rate).abs() < 0.02,
        "{mean_probability} vs {rate}"
    );
}

#[test]
fn zones_are_contiguous_and_sized_per_authority() {
    let geography =
        synth::geography::load_geography(&reference_dir(), &[]).expect("geography loads");
    assert_eq!(geography.lsoas.len(), 649);
    let mut per_authority: BTreeMap<&str, usize> = BTreeMap::new();
    for zone in &geography.zones {
        *per_authority.entry(&zone.lad_code).or_default() += 1;
    }
    assert_eq!(per_authority.len(), 3);
    for (authority, zones) in &per_authority {
        assert!((8..=20).contains(zones), "{authority}: {zones} zones");
    }
    // Within each zone, every LSOA connected to the mainland of its authority is connected
    // to the rest of its zone: islands are the only exception.
    let component_of = components(&geography.neighbours, |a, b| {
        geography.lsoas[a].lad_code == geography.lsoas[b].lad_code
    });
    let zone_component = components(&geography.neighbours, |a, b| {
        geography.zone_of[a] == geography.zone_of[b]
    });
    for zone in 0..geography.zones.len() {
        let members: Vec<usize> = (0..geography.lsoas.len())
            .filter(|&i| geography.zone_of[i] == zone)
            .collect();
        assert!(!members.is_empty(), "zone {zone} has LSOAs");
        let mut pieces_per_landmass: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
        for &m in &members {
            pieces_per_landmass
                .entry(component_of[m])
                .or_default()
                .insert(zone_component[m]);
        }
        for pieces in pieces_per_landmass.values() {
            assert_eq!(
                pieces.len(),
                1,
                "zone {} is split",
                geography.zones[zone].id
            );
        }
    }
}

/// Connected components of the adjacency graph, keeping only edges `keep` accepts.
fn components(neighbours: &[Vec<usize>], keep: impl Fn(usize, usize) -> bool) -> Vec<usize> {
    let mut component = vec![usize::MAX; neighbours.len()];
    let mut next = 0;
    for start in 0..neighbours.len() {
        if component[start] != usize::MAX {
            continue;
        }
        component[start] = next;
        let mut queue = VecDeque::from([start]);
        while let Some(current) = queue.pop_front() {
            for &other in &neighbours[current] {
                if component[other] == usize::MAX && keep(current, other) {
                    component[other] = next;
                    queue.push_back(other);
                }
            }
        }
        next += 1;
    }
    component
}
