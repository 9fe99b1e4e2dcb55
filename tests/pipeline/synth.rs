//! The synthetic county: deterministic, valid against its own manifest, honest
//! about its truth, shaped by deprivation as documented, and zoned contiguously.
//! These tests read the files with the csv crate alone, independently of ingest.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use crate::common;
use chrono::{Duration, NaiveDate};
use geo::{BoundingRect, Centroid, Contains, Point};

use common::Table;
use zonewise::geo::boundaries::{self, AUTHORITY_FIELDS};
use zonewise::ingest::manifest::{FieldRole, Manifest, SourceSpec};
use zonewise::synth::{self, SynthConfig, SynthError};

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
        months: 1,
        round_tables: Default::default(),
    }
}

fn generate(out: &Path, families: usize, seed: u64, noise: f64, gzip: bool) {
    synth::generate(&config(out, families, seed, noise, gzip), &|_, _| {}).expect("synth");
}

/// Every file under `dir` except READMEs, relative path → bytes.
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

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(bytes), &mut plain)
        .expect("gunzip");
    plain
}

/// One extract, read through its manifest entry.
struct Extract {
    spec: SourceSpec,
    table: Table,
}

impl Extract {
    fn all(manifest: &Manifest) -> Vec<Extract> {
        manifest
            .sources
            .iter()
            .map(|spec| Extract {
                table: Table::read(&manifest.resolve(&spec.file), spec.delimiter),
                spec: spec.clone(),
            })
            .collect()
    }

    fn column(&self, role: FieldRole) -> Option<usize> {
        self.spec
            .columns
            .get(&role)
            .map(|header| self.table.column(header))
    }

    fn date(&self, value: &str) -> NaiveDate {
        NaiveDate::parse_from_str(value, &self.spec.date_format).unwrap_or_else(|e| {
            panic!(
                "{}: '{value}' is not {}: {e}",
                self.spec.name, self.spec.date_format
            )
        })
    }
}

fn load_manifest(out: &Path) -> Manifest {
    Manifest::load(&out.join("manifest.toml")).expect("the written manifest loads")
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let dir = tempfile::tempdir().expect("temp");
    for (name, seed) in [("a", 5), ("b", 5), ("c", 6)] {
        generate(&dir.path().join(name), 300, seed, 1.0, true);
    }
    let a = files(&dir.path().join("a"));
    let b = files(&dir.path().join("b"));
    let c = files(&dir.path().join("c"));
    assert_eq!(
        a.len(),
        17,
        "7 extracts, 6 truth files, zones, postcodes, round tables, manifest: {:?}",
        a.keys()
    );
    assert!(a == b, "same seed, same bytes");
    for path in a
        .keys()
        .filter(|p| p.extension().is_some_and(|e| e == "gz"))
    {
        // gzip header: magic, method, flags, then a zero modification time.
        assert_eq!(&a[path][..4], &[0x1f, 0x8b, 8, 0], "{}", path.display());
        assert_eq!(&a[path][4..8], &[0, 0, 0, 0], "{}: mtime", path.display());
        // truth/early_help.csv holds the run's settings, not draws.
        if (path.starts_with("extracts") || path.starts_with("truth"))
            && !path.ends_with("early_help.csv.gz")
        {
            assert_ne!(a[path], c[path], "another seed changes {}", path.display());
        }
    }
    assert_eq!(
        a[Path::new("zones.csv")],
        c[Path::new("zones.csv")],
        "zones are geography, not chance"
    );
    assert_eq!(
        a[Path::new("postcodes.csv")],
        c[Path::new("postcodes.csv")],
        "postcodes are geography, not chance"
    );
}

#[test]
fn extracts_match_their_manifest_and_truth_covers_every_record() {
    let dir = tempfile::tempdir().expect("temp");
    generate(dir.path(), 1200, 11, 2.0, false);
    let manifest = load_manifest(dir.path());
    assert_eq!(manifest.sources.len(), 7, "one extract per agency kind");
    assert_eq!(manifest.extract_date.as_deref(), Some("2026-04-01"));
    let reference = manifest.reference.as_ref().expect("reference files");
    assert_eq!(
        reference.postcodes.as_deref(),
        Some(Path::new("postcodes.csv"))
    );
    for file in reference.files() {
        assert!(manifest.resolve(file).is_file(), "{}", file.display());
    }
    let delimiters: BTreeSet<char> = manifest.sources.iter().map(|s| s.delimiter).collect();
    assert!(delimiters.contains(&'|'), "one system uses a | delimiter");
    let formats: BTreeSet<&str> = manifest
        .sources
        .iter()
        .map(|s| s.date_format.as_str())
        .collect();
    assert!(formats.contains("%Y-%m-%d") && formats.contains("%d/%m/%Y"));

    let last_day = NaiveDate::from_ymd_opt(2026, 3, 31).expect("date");
    let mut staged_records = BTreeSet::new();
    for extract in Extract::all(&manifest) {
        let spec = &extract.spec;
        // The header is exactly the mapped columns and the kept ones, each once.
        let mut expected: Vec<&str> = spec.columns.values().map(String::as_str).collect();
        expected.extend(spec.keep.iter().map(String::as_str));
        expected.sort_unstable();
        let mut header: Vec<&str> = extract.table.header.iter().map(String::as_str).collect();
        header.sort_unstable();
        assert_eq!(header, expected, "{}: header and manifest agree", spec.name);
        assert!(spec.file.starts_with("extracts"), "{}", spec.file.display());
        assert!(!extract.table.rows.is_empty(), "{} has rows", spec.name);

        let record_id = extract.column(FieldRole::RecordId).expect("record_id");
        let event_date = extract.column(FieldRole::EventDate).expect("event_date");
        let birth_date = extract.column(FieldRole::BirthDate);
        let value = extract.column(FieldRole::EventValue);
        for row in &extract.table.rows {
            assert_eq!(row.len(), extract.table.header.len());
            assert!(!row[record_id].is_empty(), "{}: empty record id", spec.name);
            staged_records.insert((spec.name.clone(), row[record_id].clone()));
            let on = extract.date(&row[event_date]);
            assert!(
                on <= last_day,
                "{}: event after the extract: {on}",
                spec.name
            );
            if let Some(column) = birth_date
                && !row[column].is_empty()
            {
                let born = extract.date(&row[column]);
                assert!(born.to_string().as_str() > "1950", "{}: {born}", spec.name);
            }
            if let Some(column) = value
                && !row[column].is_empty()
            {
                row[column]
                    .parse::<f64>()
                    .unwrap_or_else(|_| panic!("{}: value '{}'", spec.name, row[column]));
            }
        }
    }

    let records = Table::truth(dir.path(), "records");
    assert_eq!(
        records.header,
        ["source", "record_id", "person_id", "family_id"]
    );
    let truth_records: BTreeSet<(String, String)> = records
        .rows
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(
        truth_records.len(),
        records.rows.len(),
        "one truth row per id"
    );
    let untracked: Vec<_> = staged_records.difference(&truth_records).take(5).collect();
    assert!(untracked.is_empty(), "records without truth: {untracked:?}");
    let unused: Vec<_> = truth_records.difference(&staged_records).take(5).collect();
    assert!(
        unused.is_empty(),
        "truth for records no extract has: {unused:?}"
    );

    let people = Table::truth(dir.path(), "people").by("person_id");
    let families = Table::truth(dir.path(), "families").by("family_id");
    assert_eq!(families.len(), 1200);
    let mut per_person_and_source: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for row in &records.rows {
        let person = people
            .get(&row[2])
            .expect("record's person is in people.csv");
        assert_eq!(person[1], row[3], "record's family is the person's family");
        assert!(families.contains_key(&row[3]));
        *per_person_and_source.entry((&row[0], &row[2])).or_default() += 1;
    }
    assert!(
        per_person_and_source.values().any(|&n| n > 1),
        "some people have a second record in one system"
    );
}

/// Identity fields of every extract row compared with the true person, after undoing
/// each system's own conventions (capitals, sex codes); returns (rows, rows differing).
fn identity_differences(out: &Path) -> (usize, usize) {
    let manifest = load_manifest(out);
    let records = Table::truth(out, "records");
    let person_of: BTreeMap<(String, String), String> = records
        .rows
        .iter()
        .map(|r| ((r[0].clone(), r[1].clone()), r[2].clone()))
        .collect();
    let people = Table::truth(out, "people");
    let truth = people.by("person_id");
    let field = |name: &str| people.column(name);
    let (given, family, birth, sex) = (
        field("given_name"),
        field("family_name"),
        field("birth_date"),
        field("sex"),
    );
    let mut rows = 0;
    let mut differing = 0;
    for extract in Extract::all(&manifest) {
        let record_id = extract.column(FieldRole::RecordId).expect("record_id");
        for row in &extract.table.rows {
            rows += 1;
            let key = (extract.spec.name.clone(), row[record_id].clone());
            let person = &truth[&person_of[&key]];
            let mut same = true;
            let mut compare = |role: FieldRole, expected: &str| {
                if let Some(column) = extract.column(role) {
                    same &= row[column] == expected;
                }
            };
            let upper = |i: usize| person[i].to_uppercase();
            if extract.spec.name == "police" {
                compare(FieldRole::GivenName, &upper(given));
                compare(FieldRole::FamilyName, &upper(family));
            } else {
                compare(FieldRole::GivenName, &person[given]);
                compare(FieldRole::FamilyName, &person[family]);
            }
            compare(FieldRole::NhsNumber, &person[people.column("nhs_number")]);
            compare(FieldRole::Upn, &person[people.column("upn")]);
            compare(FieldRole::NiNumber, &person[people.column("ni_number")]);
            compare(FieldRole::Ethnicity, &person[people.column("ethnicity")]);
            if let Some(column) = extract.column(FieldRole::BirthDate) {
                let recorded = (!row[column].is_empty()).then(|| extract.date(&row[column]));
                same &= recorded.map(|d| d.format("%Y-%m-%d").to_string())
                    == Some(person[birth].clone());
            }
            if let Some(column) = extract.column(FieldRole::Sex) {
                let female = matches!(row[column].as_str(), "F" | "Female" | "2");
                let male = matches!(row[column].as_str(), "M" | "Male" | "1");
                same &= (female && person[sex] == "F") || (male && person[sex] == "M");
            }
            if !same {
                differing += 1;
            }
        }
    }
    (rows, differing)
}

#[test]
fn zero_noise_extracts_match_truth_and_noise_adds_differences() {
    let dir = tempfile::tempdir().expect("temp");
    let mut differing = Vec::new();
    for (name, noise) in [("clean", 0.0), ("noisy", 1.0), ("noisier", 2.0)] {
        let out = dir.path().join(name);
        generate(&out, 500, 3, noise, false);
        let (rows, different) = identity_differences(&out);
        assert!(rows > 5_000, "{rows} rows");
        differing.push((different, rows));
    }
    assert_eq!(differing[0].0, 0, "noise 0 gives the true identities");
    assert!(
        differing[1].0 * 100 > differing[1].1,
        "noise 1 changes identities in over 1% of rows: {:?}",
        differing[1]
    );
    assert!(
        differing[2].0 > differing[1].0,
        "noise 2 is noisier than 1: {differing:?}"
    );
}

#[test]
fn circumstances_uptake_and_outcomes_follow_the_documented_process() {
    let dir = tempfile::tempdir().expect("temp");
    generate(dir.path(), 4000, 17, 1.0, false);
    let families = Table::truth(dir.path(), "families");
    let decile = families.column("imd_decile");
    let prevalence = |circumstance: &str, deciles: &[&str]| {
        let column = families.column(circumstance);
        let chosen: Vec<_> = families
            .rows
            .iter()
            .filter(|r| deciles.contains(&r[decile].as_str()))
            .collect();
        assert!(
            chosen.len() > 200,
            "{} families in {deciles:?}",
            chosen.len()
        );
        chosen.iter().filter(|r| r[column] == "1").count() as f64 / chosen.len() as f64
    };
    for circumstance in synth::CIRCUMSTANCES {
        let deprived = prevalence(circumstance, &["1", "2"]);
        let affluent = prevalence(circumstance, &["9", "10"]);
        assert!(
            deprived > affluent,
            "{circumstance}: {deprived:.3} in deciles 1–2 vs {affluent:.3} in 9–10"
        );
    }

    // NHS Health Check uptake (attended / invited) is lower in the most deprived areas.
    let manifest = load_manifest(dir.path());
    let extracts = Extract::all(&manifest);
    let records = Table::truth(dir.path(), "records");
    let family_of: BTreeMap<(String, String), (String, String)> = records
        .rows
        .iter()
        .map(|r| ((r[0].clone(), r[1].clone()), (r[2].clone(), r[3].clone())))
        .collect();
    let decile_of = families.by("family_id");
    let public_health = extracts
        .iter()
        .find(|e| e.spec.name == "public_health")
        .expect("public health");
    let (id, kind) = (
        public_health.column(FieldRole::RecordId).expect("id"),
        public_health.column(FieldRole::EventType).expect("type"),
    );
    let mut counts: BTreeMap<(bool, &str), usize> = BTreeMap::new();
    for row in &public_health.table.rows {
        let (_, family) = &family_of[&("public_health".to_string(), row[id].clone())];
        let d: u8 = decile_of[family][decile].parse().expect("decile");
        if d <= 3 || d >= 8 {
            *counts.entry((d <= 3, row[kind].as_str())).or_default() += 1;
        }
    }
    let uptake = |deprived: bool| {
        counts[&(deprived, "health_check_attended")] as f64
            / counts[&(deprived, "health_check_invited")] as f64
    };
    assert!(
        uptake(true) < uptake(false),
        "uptake {:.2} in deciles 1–3 vs {:.2} in 8–10",
        uptake(true),
        uptake(false)
    );

    // Every true escalation is in the social care extract within 12 months, and every
    // child protection or looked-after episode there is a true escalation.
    let social_care = extracts
        .iter()
        .find(|e| e.spec.name == "social_care")
        .expect("social care");
    let (id, kind, on) = (
        social_care.column(FieldRole::RecordId).expect("id"),
        social_care.column(FieldRole::EventType).expect("type"),
        social_care.column(FieldRole::EventDate).expect("date"),
    );
    // Keyed by person and day: a row exported twice is still one episode.
    let mut escalations: BTreeMap<String, BTreeSet<NaiveDate>> = BTreeMap::new();
    for row in &social_care.table.rows {
        if matches!(row[kind].as_str(), "child_protection" | "looked_after") {
            let (person, _) = &family_of[&("social_care".to_string(), row[id].clone())];
            escalations
                .entry(person.clone())
                .or_default()
                .insert(social_care.date(&row[on]));
        }
    }
    let outcomes = Table::truth(dir.path(), "outcomes");
    assert_eq!(
        outcomes.header,
        [
            "person_id",
            "family_id",
            "reference_date",
            "outcome",
            "probability"
        ]
    );
    let (mut positives, mut probability_sum, mut explained) = (0usize, 0.0, 0usize);
    for row in &outcomes.rows {
        let reference = NaiveDate::parse_from_str(&row[2], "%Y-%m-%d").expect("ISO date");
        let probability: f64 = row[4].parse().expect("probability");
        assert!((0.0..=1.0).contains(&probability));
        probability_sum += probability;
        let recorded = escalations.get(&row[0]).is_some_and(|dates| {
            dates
                .iter()
                .any(|d| *d >= reference && *d < reference + Duration::days(365))
        });
        if row[3] == "1" {
            positives += 1;
            assert!(
                recorded,
                "escalation of {} after {reference} is recorded",
                row[0]
            );
        }
    }
    for (person, dates) in &escalations {
        for date in dates {
            explained += 1;
            let matched = outcomes.rows.iter().any(|row| {
                let reference = NaiveDate::parse_from_str(&row[2], "%Y-%m-%d").expect("date");
                row[0] == *person
                    && row[3] == "1"
                    && *date >= reference
                    && *date < reference + Duration::days(365)
            });
            assert!(matched, "{person}'s episode on {date} is a true escalation");
        }
    }
    assert!(
        positives > 50,
        "enough escalations to learn from: {positives}"
    );
    assert_eq!(explained, positives, "one episode per escalation");
    let rate = positives as f64 / outcomes.rows.len() as f64;
    let mean_probability = probability_sum / outcomes.rows.len() as f64;
    assert!(
        (rate - mean_probability).abs() < 0.01,
        "probabilities are calibrated: {mean_probability:.4} vs {rate:.4}"
    );
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

#[test]
fn zones_are_contiguous_and_sized_per_authority() {
    let geography =
        synth::geography::load_geography(&reference_dir(), &[]).expect("geography loads");
    assert_eq!(geography.lsoas.len(), 649);
    assert_eq!(geography.zone_of.len(), 649, "every LSOA has a zone");
    let mut per_authority: BTreeMap<&str, usize> = BTreeMap::new();
    for zone in &geography.zones {
        *per_authority.entry(&zone.lad_code).or_default() += 1;
    }
    assert_eq!(per_authority.len(), 3);
    for (authority, zones) in &per_authority {
        assert!((8..=20).contains(zones), "{authority}: {zones} zones");
    }
    let ids: BTreeSet<&str> = geography.zones.iter().map(|z| z.id.as_str()).collect();
    let names: BTreeSet<&str> = geography.zones.iter().map(|z| z.name.as_str()).collect();
    assert_eq!(ids.len(), geography.zones.len(), "zone ids are unique");
    assert_eq!(names.len(), geography.zones.len(), "zone names are unique");
    assert!(ids.contains("BCP-03") && ids.contains("DOR-01") && ids.contains("NBD-08"));
    for (lsoa, &zone) in geography.lsoas.iter().zip(&geography.zone_of) {
        assert_eq!(
            lsoa.lad_code, geography.zones[zone].lad_code,
            "{}",
            lsoa.code
        );
    }
    // Within each zone, the LSOAs on one landmass of the authority are connected to each
    // other; only islands (LSOAs sharing no boundary with the mainland) may lie apart.
    let landmass = components(&geography.neighbours, |a, b| {
        geography.lsoas[a].lad_code == geography.lsoas[b].lad_code
    });
    let zone_piece = components(&geography.neighbours, |a, b| {
        geography.zone_of[a] == geography.zone_of[b]
    });
    for (zone_index, zone) in geography.zones.iter().enumerate() {
        let members: Vec<usize> = (0..geography.lsoas.len())
            .filter(|&i| geography.zone_of[i] == zone_index)
            .collect();
        assert!(
            members.len() >= 3,
            "{} has {} LSOAs",
            zone.id,
            members.len()
        );
        assert!(members.contains(&zone.seed), "{} holds its seed", zone.id);
        let mut pieces_per_landmass: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
        for &m in &members {
            pieces_per_landmass
                .entry(landmass[m])
                .or_default()
                .insert(zone_piece[m]);
        }
        for pieces in pieces_per_landmass.values() {
            assert_eq!(pieces.len(), 1, "zone {} is split", zone.id);
        }
    }

    // zones.csv says the same, one row per LSOA.
    let dir = tempfile::tempdir().expect("temp");
    generate(dir.path(), 10, 1, 1.0, false);
    let zones = Table::read(&dir.path().join("zones.csv"), ',');
    assert_eq!(
        zones.header,
        ["lsoa11cd", "zone_id", "zone_name", "lad19cd"]
    );
    assert_eq!(zones.rows.len(), 649);
    assert_eq!(zones.by("lsoa11cd").len(), 649, "every LSOA exactly once");
    for (row, (lsoa, &zone)) in zones
        .rows
        .iter()
        .zip(geography.lsoas.iter().zip(&geography.zone_of))
    {
        assert_eq!(row[0], lsoa.code);
        assert_eq!(row[1], geography.zones[zone].id);
        assert_eq!(row[2], geography.zones[zone].name);
    }
}

#[test]
fn committed_sample_is_what_the_generator_makes() {
    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("county");
    // The parameters documented in data-samples/county/README.md.
    let progress_calls = std::cell::Cell::new(0);
    synth::generate(&config(&out, 3000, 2026, 1.0, true), &|_, _| {
        progress_calls.set(progress_calls.get() + 1)
    })
    .expect("synth");
    assert!(
        progress_calls.get() <= 300,
        "{} progress calls",
        progress_calls.get()
    );
    let committed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/county");
    let mut fresh = files(&out);
    let mut committed = files(&committed_dir);
    let fresh_manifest = fresh.remove(Path::new("manifest.toml")).expect("manifest");
    let committed_manifest = committed
        .remove(Path::new("manifest.toml"))
        .expect("committed manifest");
    assert_eq!(
        fresh.keys().collect::<Vec<_>>(),
        committed.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &fresh {
        // A gzip file's bytes depend on the deflate implementation the build
        // links (flate2's backend is chosen by every crate that uses it), so
        // the sample is what the generator makes when its contents are.
        let (fresh, committed) = if path.extension().is_some_and(|e| e == "gz") {
            (gunzip(bytes), gunzip(&committed[path]))
        } else {
            (bytes.clone(), committed[path].clone())
        };
        assert!(
            committed == fresh,
            "{} differs: regenerate the sample (see its README)",
            path.display()
        );
    }
    // The manifests differ only in where the reference folder is, relative to each.
    let committed = Manifest::load(&committed_dir.join("manifest.toml")).expect("loads");
    let reference = committed.reference.as_ref().expect("reference");
    assert_eq!(reference.imd, Path::new("../ref/imd2019_lsoa11.csv"));
    assert_eq!(
        reference.population,
        Path::new("../ref/population_mid2020_lsoa11.csv")
    );
    assert_eq!(reference.zones, Path::new("zones.csv"));
    assert_eq!(
        reference.postcodes.as_deref(),
        Some(Path::new("postcodes.csv"))
    );
    let parse = |bytes: &[u8]| {
        let mut manifest = Manifest::parse(
            std::str::from_utf8(bytes).expect("utf-8"),
            Path::new("manifest.toml"),
            PathBuf::new(),
        )
        .expect("parses");
        manifest.reference = None;
        manifest
    };
    assert_eq!(parse(&fresh_manifest), parse(&committed_manifest));
    let size: usize = files(&committed_dir).values().map(Vec::len).sum();
    assert!(size < 4_000_000, "the sample stays small: {size} bytes");
}

#[test]
fn progress_is_reported_in_order_and_ends_at_the_total() {
    let dir = tempfile::tempdir().expect("temp");
    let calls = std::cell::RefCell::new(Vec::new());
    let summary = synth::generate(&config(dir.path(), 1000, 2, 1.0, false), &|done, total| {
        calls.borrow_mut().push((done, total))
    })
    .expect("synth");
    let calls = calls.into_inner();
    assert!(calls.len() <= 300, "{} calls", calls.len());
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));
    assert_eq!(calls.last(), Some(&(1000, 1000)));
    assert_eq!(summary.families, 1000);
    assert!(summary.people > 2500, "{} people", summary.people);
    assert_eq!(summary.lsoas, 649);
    assert_eq!(summary.records_per_source.len(), 7);
    let manifest = load_manifest(dir.path());
    for (extract, (name, rows)) in Extract::all(&manifest)
        .iter()
        .zip(&summary.records_per_source)
    {
        assert_eq!(&extract.spec.name, name);
        assert_eq!(
            extract.table.rows.len(),
            *rows,
            "{name}: summary counts rows"
        );
    }
}

#[test]
fn one_authority_can_be_chosen_and_bad_settings_are_refused() {
    let dir = tempfile::tempdir().expect("temp");
    let mut bcp = config(dir.path(), 200, 4, 1.0, false);
    bcp.authorities = vec!["E06000058".to_string()];
    let summary = synth::generate(&bcp, &|_, _| {}).expect("synth");
    assert_eq!(summary.lsoas, 233);
    let zones = Table::read(&dir.path().join("zones.csv"), ',');
    assert!(zones.rows.iter().all(|r| r[3] == "E06000058"));
    let bcp_lsoas: BTreeSet<String> = zones.rows.iter().map(|r| r[0].clone()).collect();
    let families = Table::truth(dir.path(), "families");
    assert!(families.rows.iter().all(|r| bcp_lsoas.contains(&r[1])));
    let manifest = load_manifest(dir.path());
    assert!(manifest.county.contains("Bournemouth"));
    assert!(!manifest.county.contains("Dorset"), "{}", manifest.county);

    let mut unknown = config(dir.path(), 10, 4, 1.0, false);
    unknown.authorities = vec!["E09000001".to_string()];
    let error = synth::generate(&unknown, &|_, _| {}).expect_err("unknown authority");
    assert!(error.to_string().contains("E09000001"), "{error}");

    let negative = config(dir.path(), 10, 4, -1.0, false);
    let error = synth::generate(&negative, &|_, _| {}).expect_err("negative noise");
    assert!(matches!(error, SynthError::Config(_)), "{error}");
}

#[test]
fn boundaries_load_in_national_grid_inside_their_authorities() {
    let lsoa_file = reference_dir().join("lsoa2011_bgc_bcp_dorset_northumberland.shp");
    let lsoas = boundaries::load_lsoa_boundaries(&lsoa_file).expect("loads");
    assert_eq!(lsoas.len(), 649);
    let authorities = boundaries::load_boundaries(
        &reference_dir().join("lad2019_bcp_dorset_northumberland_dissolved.shp"),
        AUTHORITY_FIELDS.0,
        AUTHORITY_FIELDS.1,
    )
    .expect("authorities load");
    assert_eq!(authorities.len(), 3);
    let imd = Table::read(&reference_dir().join("imd2019_lsoa11.csv"), ',');
    let authority_of: BTreeMap<String, String> = imd
        .rows
        .iter()
        .map(|r| (r[0].clone(), r[2].clone()))
        .collect();
    for lsoa in &lsoas {
        let centre = lsoa.geometry.centroid().expect("centroid");
        let authority = authorities
            .iter()
            .find(|a| a.code == authority_of[&lsoa.code])
            .expect("authority of the LSOA");
        let bounds = authority.geometry.bounding_rect().expect("bounds");
        let inside = centre.x() >= bounds.min().x
            && centre.x() <= bounds.max().x
            && centre.y() >= bounds.min().y
            && centre.y() <= bounds.max().y;
        assert!(
            inside,
            "{} at {:?} outside {}",
            lsoa.code, centre, authority.name
        );
        assert!(lsoa.code.starts_with("E01") && !lsoa.name.is_empty());
    }
    // A known place: Bournemouth town centre lies in a BCP LSOA.
    let bournemouth = Point::new(408_500.0, 91_300.0);
    let holder = lsoas
        .iter()
        .find(|l| l.geometry.contains(&bournemouth))
        .expect("an LSOA holds the point");
    assert_eq!(authority_of[&holder.code], "E06000058");

    let dir = tempfile::tempdir().expect("temp");
    for extension in ["shp", "shx", "prj"] {
        std::fs::copy(
            lsoa_file.with_extension(extension),
            dir.path().join(format!("lsoa.{extension}")),
        )
        .expect("copy");
    }
    let error = boundaries::load_lsoa_boundaries(&dir.path().join("lsoa.shp")).expect_err("no dbf");
    let message = error.to_string();
    assert!(message.contains("lsoa.dbf"), "{message}");
    assert!(message.contains("missing"), "{message}");
}
