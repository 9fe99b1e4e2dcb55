//! Fuzzing every parser of files Zonewise did not make: source manifests, extracts
//! (CSV, gzip CSV, Parquet) with any bytes, encodings, delimiters and date formats,
//! the services, criteria and outcome-claims files, linkage and risk model files, `link-files`
//! configs, a synthetic county's truth CSVs, reference CSVs, postcode lookups,
//! shapefiles and GeoJSON. No input may panic; every refusal is an `Err` with a
//! message, which for the files added by issue 18 must also name the file.
//!
//! Each target runs a few dozen to a few hundred cases so the suite stays well
//! under a minute; `ZONEWISE_FUZZ_CASES=100000` runs that many per target instead
//! (results of such a run: docs/reliability.md).

use std::io::Write;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;
use zonewise::ingest::extract_reader::ExtractReader;
use zonewise::ingest::{Manifest, reference};
use zonewise::link::model_file::ModelFile;
use zonewise::{geo, risk, store, uptake};

/// Cases per target: `ZONEWISE_FUZZ_CASES`, else `default`.
fn config(default: u32) -> Config {
    let cases = std::env::var("ZONEWISE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        // Shrinking a failure is worth it; writing regression files into the tree is not.
        failure_persistence: None,
        ..Config::default()
    }
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Asserts a refusal carries a message for the user.
fn has_message<T, E: std::fmt::Display>(result: &Result<T, E>) {
    if let Err(error) = result {
        assert!(
            !error.to_string().trim().is_empty(),
            "an error without a message"
        );
    }
}

/// Bytes that make parsers take unusual paths: quotes, separators, line ends,
/// encodings' marks, huge and odd numbers, impossible dates, non-ASCII text.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"'",
    b",",
    b";",
    b"\t",
    b"\n",
    b"\r\n",
    b"\r",
    b"\0",
    b"=",
    b"[",
    b"]",
    b"[[",
    b"{",
    b"}",
    b"#",
    b"\\",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xff",
    b"\xc3",
    b"\xe2\x80\xa8",
    b"-1",
    b"0",
    b"99999999999999999999999",
    b"1e309",
    b"NaN",
    b"inf",
    b"-0.0",
    b"%",
    b"%Y",
    b"%d/%m/%Y",
    b"31/02/2013",
    b"29/02/2023",
    b"0000-00-00",
    b"9999-12-31",
    b"\xc3\xa9",
    b"\xf0\x9f\x98\x80",
    b"true",
    b"null",
    b"\"\"\"",
    b"'''",
];

/// One change to a valid file.
#[derive(Debug, Clone)]
enum Edit {
    Replace(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Truncate(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Edit::Replace(at, byte)),
        (any::<Index>(), prop::sample::select(TOKENS))
            .prop_map(|(at, t)| Edit::Insert(at, t.to_vec())),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, b)| Edit::Insert(at, b)),
        (any::<Index>(), 1usize..64).prop_map(|(at, n)| Edit::Delete(at, n)),
        any::<Index>().prop_map(Edit::Truncate),
    ]
}

/// `seed` with one to five edits, each at a random place (or within its first
/// `head` bytes, where headers are, half the time).
fn mutated(seed: Vec<u8>, head: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((edit(), any::<bool>()), 1..6).prop_map(move |edits| {
        let mut bytes = seed.clone();
        for (edit, near_start) in edits {
            let span = |len: usize| if near_start { len.min(head) } else { len };
            let at = |index: &Index, len: usize| {
                if span(len) == 0 {
                    0
                } else {
                    index.index(span(len))
                }
            };
            let len = bytes.len();
            match edit {
                Edit::Replace(index, byte) if len > 0 => {
                    let i = at(&index, len);
                    bytes[i] = byte;
                }
                Edit::Replace(..) => {}
                Edit::Insert(index, inserted) => {
                    let i = at(&index, len + 1).min(len);
                    bytes.splice(i..i, inserted);
                }
                Edit::Delete(index, n) if len > 0 => {
                    let i = at(&index, len);
                    bytes.drain(i..(i + n).min(len));
                }
                Edit::Delete(..) => {}
                Edit::Truncate(index) => {
                    let i = at(&index, len + 1).min(len);
                    bytes.truncate(i);
                }
            }
        }
        bytes
    })
}

/// Any bytes, any text, or `seed` mutated.
fn file_from(seed: Vec<u8>, head: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        "\\PC{0,300}".prop_map(String::into_bytes),
        mutated(seed, head),
    ]
}

fn text_from(seed: &str) -> impl Strategy<Value = String> {
    file_from(seed.as_bytes().to_vec(), 200).prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

const MANIFEST: &str = include_str!("../../data-samples/county/manifest.toml");

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn manifests_never_panic(text in text_from(MANIFEST)) {
        let result = Manifest::parse(&text, Path::new("manifest.toml"), PathBuf::from("."));
        has_message(&result);
    }

    #[test]
    fn service_files_never_panic(text in text_from(include_str!("../../assets/services.toml"))) {
        has_message(&uptake::service::parse(&text, Path::new("services.toml")));
    }

    #[test]
    fn criteria_files_never_panic(text in text_from(include_str!("../../assets/criteria.toml"))) {
        has_message(&risk::criteria::parse(&text, Path::new("criteria.toml")));
    }

    #[test]
    fn claims_files_never_panic(text in text_from(include_str!("../../assets/claims.toml"))) {
        has_message(&zonewise::report::claims::parse(&text, Path::new("claims.toml")));
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn model_files_never_panic(bytes in file_from(read("models/linkage-sample.json"), 200)) {
        let dir = scratch();
        let path = dir.path().join("model.json");
        std::fs::write(&path, &bytes).expect("write");
        has_message(&ModelFile::load(&path));
    }
}

/// The manifest of one extract, `extract.<extension>`, with the fuzzed delimiter
/// and date format written into it as TOML strings.
fn extract_manifest(
    dir: &Path,
    extension: &str,
    format: &str,
    delimiter: &str,
    date_format: &str,
) -> Option<Manifest> {
    let text = format!(
        r#"county = "Fuzz"
[[source]]
name = "fuzz"
agency = "education"
system = "Fuzz"
file = "extract.{extension}"
format = "{format}"
delimiter = {delimiter}
date_format = {date_format}
keep = ["school"]
[source.columns]
record_id = "id"
given_name = "forename"
birth_date = "dob"
postcode = "postcode"
nhs_number = "nhs"
event_type = "event"
event_date = "when"
event_value = "value"
"#,
        delimiter = toml_string(delimiter),
        date_format = toml_string(date_format),
    );
    let result = Manifest::parse(&text, &dir.join("manifest.toml"), dir.to_path_buf());
    has_message(&result);
    result.ok()
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// Reads every row of the manifest's one extract, as ingest does, up to a bound.
fn read_extract(manifest: &Manifest) {
    let spec = &manifest.sources[0];
    let opened = ExtractReader::open(spec, &manifest.resolve(&spec.file));
    has_message(&opened);
    let Ok(mut reader) = opened else { return };
    for _ in 0..5_000 {
        match reader.next_row() {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(error) => {
                assert!(!error.to_string().trim().is_empty());
                break;
            }
        }
    }
}

const HEADER: [&str; 9] = [
    "id", "forename", "dob", "postcode", "nhs", "event", "when", "value", "school",
];

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[A-Za-z' -]{1,12}",
        "[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        "-?[0-9]{1,25}(\\.[0-9]{0,5})?",
        "\\PC{0,12}",
        prop::sample::select(TOKENS).prop_map(|t| String::from_utf8_lossy(t).into_owned()),
    ]
}

/// A CSV with a header of extract columns (in any order, some missing, some extra)
/// and rows of odd cells, fields quoted or not.
fn structured_csv() -> impl Strategy<Value = Vec<u8>> {
    (
        Just(HEADER.to_vec()).prop_shuffle(),
        0usize..3,
        prop::collection::vec(prop::collection::vec((cell(), any::<bool>()), 0..11), 0..20),
        prop::sample::select(vec![",", ";", "\t", "|"]),
    )
        .prop_map(|(mut header, dropped, rows, delimiter)| {
            header.truncate(HEADER.len() - dropped);
            let mut out = header.join(delimiter);
            out.push('\n');
            for row in rows {
                let cells: Vec<String> = row
                    .into_iter()
                    .map(|(cell, quoted)| {
                        if quoted {
                            format!("\"{}\"", cell.replace('"', "\"\""))
                        } else {
                            cell
                        }
                    })
                    .collect();
                out.push_str(&cells.join(delimiter));
                out.push('\n');
            }
            out.into_bytes()
        })
}

fn delimiter() -> impl Strategy<Value = String> {
    prop_oneof![Just(",".to_string()), Just(";".to_string()), "\\PC{0,2}"]
}

fn date_format() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "%d/%m/%Y", "%Y-%m-%d", "%d-%b-%Y", "%Y%m%d", "%d/%m/%y"
        ])
        .prop_map(str::to_string),
        "(%[a-zA-Z%:.+#-]|[/ .-]){0,5}",
        "\\PC{0,6}",
    ]
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

const SAMPLE_CSV: &str = "id,forename,dob,postcode,nhs,event,when,value,school\n\
    P1,Amara,01/02/2015,BH1 1AA,9434765919,attendance,03/09/2024,0.95,S1\n\
    P2,\"O'Brien, Ben\",29/02/2016,,,exclusion,10/10/2024,,S2\n";

proptest! {
    #![proptest_config(config(192))]

    #[test]
    fn csv_extracts_never_panic(
        bytes in prop_oneof![file_from(SAMPLE_CSV.as_bytes().to_vec(), 120), structured_csv()],
        delimiter in delimiter(),
        date_format in date_format(),
        compressed in any::<bool>(),
        truncate_compressed in any::<Option<Index>>(),
    ) {
        let dir = scratch();
        let extension = if compressed { "csv.gz" } else { "csv" };
        let Some(manifest) = extract_manifest(dir.path(), extension, "csv", &delimiter, &date_format) else {
            return Ok(());
        };
        let mut contents = if compressed { gzip(&bytes) } else { bytes };
        if let (true, Some(at)) = (compressed, truncate_compressed) {
            contents.truncate(at.index(contents.len() + 1));
        }
        std::fs::write(dir.path().join(format!("extract.{extension}")), &contents).expect("write");
        read_extract(&manifest);
    }

    #[test]
    fn parquet_extracts_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..600),
        magic in any::<bool>(),
        date_format in date_format(),
    ) {
        let dir = scratch();
        let Some(manifest) = extract_manifest(dir.path(), "parquet", "parquet", ",", &date_format) else {
            return Ok(());
        };
        // With the magic at both ends, the reader gets as far as the footer.
        let contents = if magic { [b"PAR1".as_slice(), &body, b"PAR1"].concat() } else { body };
        std::fs::write(dir.path().join("extract.parquet"), &contents).expect("write");
        read_extract(&manifest);
    }
}

/// The first lines of a real reference table, as a seed.
fn head_of(path: &str, lines: usize) -> Vec<u8> {
    let text = String::from_utf8(read(path)).expect("utf-8");
    text.lines()
        .take(lines)
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn reference_tables_never_panic(
        which in 0usize..3,
        bytes in file_from(head_of("data-samples/ref/imd2019_lsoa11.csv", 6), 300),
        population in file_from(head_of("data-samples/ref/population_mid2020_lsoa11.csv", 6), 200),
        zones in file_from(b"lsoa11cd,zone_id,zone_name,lad19cd\nE01015234,Z1,North,E06000058\n".to_vec(), 60),
    ) {
        let dir = scratch();
        let valid = [
            head_of("data-samples/ref/imd2019_lsoa11.csv", 6),
            head_of("data-samples/ref/population_mid2020_lsoa11.csv", 6),
            b"lsoa11cd,zone_id,zone_name,lad19cd\n".to_vec(),
        ];
        let fuzzed = [bytes, population, zones];
        for (index, name) in ["imd.csv", "population.csv", "zones.csv"].into_iter().enumerate() {
            let contents = if index == which { &fuzzed[index] } else { &valid[index] };
            std::fs::write(dir.path().join(name), contents).expect("write");
        }
        let manifest = Manifest::parse(
            "county = \"Fuzz\"\n[reference]\nimd = \"imd.csv\"\npopulation = \"population.csv\"\nzones = \"zones.csv\"\n\
             [[source]]\nname = \"s\"\nagency = \"education\"\nsystem = \"s\"\nfile = \"s.csv\"\n\
             [source.columns]\nrecord_id = \"id\"\n",
            &dir.path().join("manifest.toml"),
            dir.path().to_path_buf(),
        ).expect("manifest");
        let conn = store::open_in_memory().expect("db");
        let files = manifest.reference.as_ref().expect("reference");
        has_message(&reference::load(&conn, &manifest, files));
    }

    #[test]
    fn postcode_lookups_never_panic(
        bytes in prop_oneof![
            file_from(b"pcds,lsoa11,laua\nBH1 1AA,E01015234,E06000058\nBH1 1AB,E01015234,E06000058\n".to_vec(), 60),
            prop::collection::vec(("[A-Z0-9 ]{0,9}", "E0[0-9]{7}|\\PC{0,9}"), 0..12).prop_map(|rows| {
                let mut text = "pcds,lsoa11\n".to_string();
                for (postcode, lsoa) in rows {
                    text.push_str(&format!("{postcode},{lsoa}\n"));
                }
                text.into_bytes()
            }),
        ],
    ) {
        let dir = scratch();
        let file = dir.path().join("postcodes.csv");
        std::fs::write(&file, &bytes).expect("write");
        let conn = store::open_in_memory().expect("db");
        conn.execute_batch(
            "INSERT INTO ref.lsoa (lsoa_code, lsoa_name, la_code, la_name, imd_score, imd_rank, imd_decile)
             VALUES ('E01015234', 'Bournemouth 001A', 'E06000058', 'BCP', 20.0, 10000, 4)",
        ).expect("lsoa");
        has_message(&zonewise::ingest::postcodes::load(&conn, &file, Path::new("imd.csv")));
    }
}

/// The three authorities' boundaries: a small real shapefile to mutate.
const LAD: &str = "data-samples/ref/lad2019_bcp_dorset_northumberland_dissolved";

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn shapefiles_never_panic(
        shp in file_from(read(&format!("{LAD}.shp")), 200),
        shx in file_from(read(&format!("{LAD}.shx")), 124),
        dbf in file_from(read(&format!("{LAD}.dbf")), 297),
        prj in file_from(read(&format!("{LAD}.prj")), 417),
        which in 0usize..4,
    ) {
        let dir = scratch();
        // One part fuzzed at a time, the others valid, so each part's parser is reached.
        let fuzzed = [shp, shx, dbf, prj];
        for (index, extension) in ["shp", "shx", "dbf", "prj"].into_iter().enumerate() {
            let contents = if index == which { fuzzed[index].clone() } else { read(&format!("{LAD}.{extension}")) };
            std::fs::write(dir.path().join(format!("areas.{extension}")), contents).expect("write");
        }
        has_message(&geo::boundaries::load_boundaries(&dir.path().join("areas.shp"), "LAD19CD", "LAD19NM"));
    }
}

const GEOJSON: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"LSOA11CD":"E01000001","LSOA11NM":"City of London 001A"},
 "geometry":{"type":"Polygon","coordinates":[[[-0.097,51.52],[-0.095,51.52],[-0.095,51.521],[-0.097,51.52]]]}},
{"type":"Feature","properties":{"LSOA11CD":"E01000002","LSOA11NM":"City of London 001B"},
 "geometry":{"type":"MultiPolygon","coordinates":[[[[-0.09,51.52],[-0.089,51.52],[-0.089,51.521],[-0.09,51.52]]]]}}]}"#;

fn coordinate() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<f64>().prop_map(|v| format!("{v:?}")),
        (-10.0f64..3.0).prop_map(|v| v.to_string()),
        prop::sample::select(vec![
            "1e309",
            "-1e309",
            "null",
            "\"x\"",
            "[]",
            "90.0000001",
            "-180"
        ])
        .prop_map(str::to_string),
    ]
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn geojson_never_panics(
        text in prop_oneof![
            text_from(GEOJSON).prop_map(String::into_bytes),
            prop::collection::vec((coordinate(), coordinate()), 0..6).prop_map(|points| {
                let ring = points.iter().map(|(x, y)| format!("[{x},{y}]")).collect::<Vec<_>>().join(",");
                GEOJSON.replace("[-0.097,51.52],[-0.095,51.52],[-0.095,51.521],[-0.097,51.52]", &ring).into_bytes()
            }),
        ],
        compressed in any::<bool>(),
    ) {
        let dir = scratch();
        let (name, contents) = if compressed { ("lsoa.geojson.gz", gzip(&text)) } else { ("lsoa.geojson", text) };
        let path = dir.path().join(name);
        std::fs::write(&path, &contents).expect("write");
        has_message(&geo::england::load_england_lsoas(&path));
    }
}

/// Asserts a refusal names the file (`name`, part of its path) it is about.
fn names_file<T, E: std::fmt::Display>(result: &Result<T, E>, name: &str) {
    if let Err(error) = result {
        let message = error.to_string();
        assert!(
            message.contains(name),
            "the error does not name {name}: {message}"
        );
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn risk_model_files_never_panic(bytes in file_from(read("models/risk-sample.json"), 400)) {
        let dir = scratch();
        let path = dir.path().join("risk-model.json");
        std::fs::write(&path, &bytes).expect("write");
        let loaded = risk::model::file::RiskModelFile::load(&path);
        has_message(&loaded);
        names_file(&loaded, "risk-model.json");
        // A file that loads must also score without panicking.
        if let Ok(model) = loaded {
            let inputs = ndarray::Array2::<f64>::zeros((2, model.preprocessing.inputs.len()));
            let scores = model.estimator.probabilities(inputs.view());
            prop_assert_eq!(scores.len(), 2);
        }
    }
}

const LINK_FILES_CONFIG: &str = include_str!("../fixtures/link-files/link.toml");

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn link_files_configs_never_panic(text in text_from(LINK_FILES_CONFIG)) {
        let dir = scratch();
        let path = dir.path().join("link-config.toml");
        std::fs::write(&path, &text).expect("write");
        let loaded = zonewise::link::files::LinkFilesConfig::load(&path);
        has_message(&loaded);
        names_file(&loaded, "link-config.toml");
    }
}

const TRUTH_RECORDS: &str = "source,record_id,person_id,family_id\n\
    school,S1,T1,F1\nschool,S2,T2,F1\ngp,G1,T1,F1\ngp,G2,T3,F2\n";
const TRUTH_OUTCOMES: &str = "person_id,family_id,reference_date,outcome,probability\n\
    T1,F1,2025-04-01,0,0.12\nT2,F1,2025-04-01,1,0.8\nT3,F2,2024-04-01,0,0.05\n";

thread_local! {
    /// Made once: the truth is only read, and a database per case would take a
    /// tenth of a second each.
    static LINKED: duckdb::Connection = linked_for_truth();
}

/// A database holding just the linkage tables the truth is compared with.
fn linked_for_truth() -> duckdb::Connection {
    let conn = store::open_in_memory().expect("db");
    conn.execute_batch(
        "CREATE TABLE core.source_record (source VARCHAR, source_record_id VARCHAR, person_id VARCHAR);
         CREATE TABLE core.person (person_id VARCHAR, family_id VARCHAR);
         INSERT INTO core.source_record VALUES ('school', 'S1', 'P1'), ('school', 'S2', 'P2'),
                                               ('gp', 'G1', 'P1'), ('gp', 'G2', 'P2');
         INSERT INTO core.person VALUES ('P1', 'FA'), ('P2', 'FA');",
    )
    .expect("linkage tables");
    conn
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn truth_files_never_panic(
        records in file_from(TRUTH_RECORDS.as_bytes().to_vec(), 40),
        outcomes in file_from(TRUTH_OUTCOMES.as_bytes().to_vec(), 60),
        fuzz_records in any::<bool>(),
        compressed in any::<bool>(),
    ) {
        let dir = scratch();
        let (records, outcomes) = if fuzz_records {
            (records, TRUTH_OUTCOMES.as_bytes().to_vec())
        } else {
            (TRUTH_RECORDS.as_bytes().to_vec(), outcomes)
        };
        let (extension, records, outcomes) = if compressed {
            ("csv.gz", gzip(&records), gzip(&outcomes))
        } else {
            ("csv", records, outcomes)
        };
        std::fs::write(dir.path().join(format!("records.{extension}")), &records).expect("write");
        std::fs::write(dir.path().join(format!("outcomes.{extension}")), &outcomes).expect("write");
        let (quality, oracle) = LINKED.with(|conn| {
            let date = chrono::NaiveDate::from_ymd_opt(2025, 4, 1).expect("date");
            (
                zonewise::link::evaluate::evaluate(conn, dir.path()),
                risk::model::people::read_truth(conn, dir.path(), date),
            )
        });
        has_message(&quality);
        names_file(&quality, "records.csv");
        has_message(&oracle);
        names_file(&oracle, if fuzz_records { "records.csv" } else { "outcomes.csv" });
    }
}
