//! Every kind of bad input gets a message naming the file, line and column, and
//! leaves the database exactly as it was — including a failure in the second
//! source after the first had already been staged in the same run.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use duckdb::Connection;
use zonewise::ingest::{self, IngestError, Manifest};
use zonewise::store;

const PUPILS: &str = "\
pupil_id,upn,forename,surname,dob,gender,postcode,attendance,term_start
P1,A123,Amelia,Smith,03/02/2015,F,BH1 1AA,96.5,01/09/2023
P1,A123,Amelia,Smith,03/02/2015,F,BH1 1AA,91.0,01/01/2024
P2,,Oliver,Jones,12/11/2013,M,BH2 2BB,88.0,01/09/2023
";

const POLICE: &str = "\
person_ref|incident_ref|first_name|last_name|date_of_birth|incident_type|incident_date
N1|I1|Sarah|Smith|1988-07-14|domestic_abuse|2023-10-02
N2|I1|Amelia|Smith|2015-02-03|domestic_abuse|2023-10-02
";

/// A cut of the ONS postcode directory: columns it has but ingest ignores, too.
const POSTCODES: &str = "\
pcd,pcds,laua,lsoa11
BH1  1AA,BH1 1AA,E06000058,E01015272
BH2  2BB,BH2 2BB,E06000058,E01015273
";

fn manifest_text(pupils_file: &str, police_file: &str, police_agency: &str) -> String {
    format!(
        r#"
county = "Test county"
extract_date = "2024-04-01"

[reference]
imd = "{ref_dir}/imd2019_lsoa11.csv"
population = "{ref_dir}/population_mid2020_lsoa11.csv"
zones = "zones.csv"
postcodes = "postcodes.csv"
boundaries = "{ref_dir}/lsoa2011_bgc_bcp_dorset_northumberland.shp"
wards = "{ref_dir}/wards2013_bgc_bcp_dorset_northumberland.shp"

[[source]]
name = "pupils"
agency = "education"
system = "Pupil database"
file = "{pupils_file}"
keep = ["term_start"]
event_type = "attendance"
[source.columns]
record_id = "pupil_id"
upn = "upn"
given_name = "forename"
family_name = "surname"
birth_date = "dob"
sex = "gender"
postcode = "postcode"
event_value = "attendance"
event_date = "term_start"

[[source]]
name = "police"
agency = "{police_agency}"
system = "Police records"
file = "{police_file}"
delimiter = "|"
date_format = "%Y-%m-%d"
[source.columns]
record_id = "person_ref"
row_id = "incident_ref"
given_name = "first_name"
family_name = "last_name"
birth_date = "date_of_birth"
event_type = "incident_type"
event_date = "incident_date"
"#,
        ref_dir = reference_dir().display()
    )
}

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/ref")
}

/// A folder with a good manifest and extracts, and a database that already holds them.
struct Fixture {
    dir: tempfile::TempDir,
    conn: Connection,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join("pupils.csv"), PUPILS).expect("write pupils");
        fs::write(dir.path().join("police.csv"), POLICE).expect("write police");
        fs::write(
            dir.path().join("zones.csv"),
            "lsoa11cd,zone_id,zone_name,lad19cd\nE01015272,BCP-01,Central,E06000058\n",
        )
        .expect("write zones");
        fs::write(dir.path().join("postcodes.csv"), POSTCODES).expect("write postcodes");
        let manifest = write_manifest(
            dir.path(),
            &manifest_text("pupils.csv", "police.csv", "police"),
        );
        let conn = store::open(&dir.path().join("test.duckdb")).expect("open db");
        ingest::ingest(&conn, &manifest, "analyst", &mut |_| {}).expect("good input loads");
        Fixture { dir, conn }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Every table with its row count and the full contents of app.source.
    fn state(&self) -> BTreeMap<String, String> {
        let mut state = BTreeMap::new();
        for table in store::table_names(&self.conn).expect("tables") {
            let count = store::scalar_i64(&self.conn, &format!("SELECT count(*) FROM {table}"))
                .expect("count");
            state.insert(table, count.to_string());
        }
        let sources: String = self
            .conn
            .query_row(
                "SELECT coalesce(string_agg(name || ':' || total_rows || ':' || load_id, ';' ORDER BY name), '') FROM app.source",
                [],
                |row| row.get(0),
            )
            .expect("sources");
        state.insert("app.source contents".to_string(), sources);
        state
    }

    /// Runs a failing ingest and checks the database did not change; returns the message.
    fn expect_failure(&self, manifest_text: &str) -> (IngestError, String) {
        let before = self.state();
        let result = Manifest::parse(
            manifest_text,
            &self.path("manifest.toml"),
            self.dir.path().to_path_buf(),
        )
        .map_err(IngestError::from)
        .and_then(|manifest| ingest::ingest(&self.conn, &manifest, "analyst", &mut |_| {}));
        let error = result.expect_err("bad input must be rejected");
        assert_eq!(before, self.state(), "the database changed after: {error}");
        let message = error.to_string();
        (error, message)
    }
}

fn write_manifest(dir: &Path, text: &str) -> Manifest {
    let path = dir.join("manifest.toml");
    fs::write(&path, text).expect("write manifest");
    Manifest::load(&path).expect("manifest loads")
}

#[test]
fn good_input_loads_typed_rows_and_quality() {
    let fixture = Fixture::new();
    let pupils =
        store::scalar_i64(&fixture.conn, "SELECT count(*) FROM staging.pupils").expect("count");
    assert_eq!(pupils, 3);
    let (birth, attendance, line): (String, f64, i64) = fixture
        .conn
        .query_row(
            "SELECT birth_date::VARCHAR, event_value, _line FROM staging.pupils WHERE record_id = 'P2'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .expect("P2 row");
    assert_eq!(birth, "2013-11-12", "dd/mm/yyyy read as UK dates");
    assert_eq!(attendance, 88.0);
    assert_eq!(line, 4, "line numbers count the header");
    let police_birth: String = fixture
        .conn
        .query_row(
            "SELECT birth_date::VARCHAR FROM staging.police WHERE record_id = 'N1'",
            [],
            |row| row.get(0),
        )
        .expect("N1 row");
    assert_eq!(
        police_birth, "1988-07-14",
        "ISO dates with their own format"
    );
    let quality = ingest::read_quality(&fixture.conn).expect("quality");
    let pupils = quality
        .iter()
        .find(|q| q.name == "pupils")
        .expect("pupils summary");
    assert_eq!((pupils.total_rows, pupils.records), (3, 2));
    let upn = pupils
        .completeness
        .iter()
        .find(|(f, _)| f == "upn")
        .expect("upn completeness");
    assert!((upn.1 - 2.0 / 3.0).abs() < 1e-9, "{upn:?}");
    let police = quality
        .iter()
        .find(|q| q.name == "police")
        .expect("police summary");
    assert_eq!(police.duplicate_keys, 2, "both rows share incident I1");
    assert_eq!(police.first_event.as_deref(), Some("02/10/2023"));
    let lsoas = store::scalar_i64(&fixture.conn, "SELECT count(*) FROM ref.lsoa").expect("lsoa");
    assert_eq!(lsoas, 649);
}

#[test]
fn reloading_replaces_a_source_rather_than_appending() {
    let fixture = Fixture::new();
    let manifest = Manifest::load(&fixture.path("manifest.toml")).expect("manifest");
    ingest::ingest(&fixture.conn, &manifest, "analyst", &mut |_| {}).expect("second load");
    let pupils =
        store::scalar_i64(&fixture.conn, "SELECT count(*) FROM staging.pupils").expect("count");
    assert_eq!(pupils, 3);
    let runs = store::scalar_i64(&fixture.conn, "SELECT count(*) FROM app.load_run").expect("runs");
    assert_eq!(runs, 2);
}

#[test]
fn malformed_row_names_line_and_field_counts() {
    let fixture = Fixture::new();
    fs::write(
        fixture.path("bad.csv"),
        PUPILS.replace("P2,,Oliver", "P2,,Oliver,Extra"),
    )
    .expect("write");
    let (_, message) = fixture.expect_failure(&manifest_text("bad.csv", "police.csv", "police"));
    assert!(message.contains("bad.csv, line 4"), "{message}");
    assert!(
        message.contains("found 10 fields but the header has 9"),
        "{message}"
    );
}

#[test]
fn wrong_delimiter_is_named() {
    let fixture = Fixture::new();
    fs::write(fixture.path("semicolons.csv"), PUPILS.replace(',', ";")).expect("write");
    let (_, message) =
        fixture.expect_failure(&manifest_text("semicolons.csv", "police.csv", "police"));
    assert!(message.contains("semicolons.csv, line 1"), "{message}");
    assert!(message.contains("';' as its delimiter"), "{message}");
}

#[test]
fn missing_required_column_is_named() {
    let fixture = Fixture::new();
    fs::write(
        fixture.path("nodob.csv"),
        PUPILS.replace(",dob,", ",birthday,"),
    )
    .expect("write");
    let (error, message) =
        fixture.expect_failure(&manifest_text("nodob.csv", "police.csv", "police"));
    assert!(
        matches!(error, IngestError::MissingColumn { .. }),
        "{error:?}"
    );
    assert!(
        message.contains("nodob.csv, line 1: missing required column 'dob'"),
        "{message}"
    );
    assert!(
        message.contains("birthday"),
        "lists the header it found: {message}"
    );
}

#[test]
fn impossible_date_names_line_column_and_format() {
    let fixture = Fixture::new();
    fs::write(
        fixture.path("baddate.csv"),
        PUPILS.replace("12/11/2013", "31/02/2013"),
    )
    .expect("write");
    let (_, message) =
        fixture.expect_failure(&manifest_text("baddate.csv", "police.csv", "police"));
    assert!(
        message.contains("baddate.csv, line 4, column 'dob'"),
        "{message}"
    );
    assert!(message.contains("dd/mm/yyyy"), "{message}");
    assert!(message.contains("31/02/2013"), "{message}");
    assert!(message.contains("not a real date"), "{message}");
    assert!(!message.contains("swapped"), "{message}");
}

#[test]
fn an_analyst_who_chooses_blank_gets_unreadable_values_as_missing_and_counted() {
    let fixture = Fixture::new();
    fs::write(
        fixture.path("baddate.csv"),
        PUPILS
            .replace("12/11/2013", "31/02/2013")
            .replace("BH2 2BB", "BH2 2B"),
    )
    .expect("write");
    let text = manifest_text("baddate.csv", "police.csv", "police").replacen(
        "event_type = \"attendance\"\n",
        "event_type = \"attendance\"\nunreadable = \"blank\"\n",
        1,
    );
    let manifest = write_manifest(fixture.dir.path(), &text);
    let report = ingest::ingest(&fixture.conn, &manifest, "analyst", &mut |_| {}).expect("loads");
    assert_eq!(report.blanked.len(), 1, "{:?}", report.blanked);
    let (source, blanked) = &report.blanked[0];
    assert_eq!(source, "pupils");
    assert_eq!(
        blanked.count, 1,
        "dates only: postcodes are linkage's to judge"
    );
    assert!(
        blanked.examples[0].contains("baddate.csv, line 4, column 'dob'")
            && blanked.examples[0].contains("31/02/2013"),
        "{:?}",
        blanked.examples
    );
    let (birth, postcode, others): (Option<String>, Option<String>, i64) = fixture
        .conn
        .query_row(
            "SELECT any_value(birth_date::VARCHAR) FILTER (WHERE record_id = 'P2'),
                    any_value(postcode) FILTER (WHERE record_id = 'P2'),
                    count(*) FILTER (WHERE record_id = 'P1' AND birth_date IS NOT NULL
                                     AND postcode = 'BH1 1AA')
             FROM staging.pupils",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .expect("pupils");
    assert_eq!(birth, None, "loaded as missing");
    assert_eq!(postcode.as_deref(), Some("BH2 2B"), "loaded as written");
    assert_eq!(others, 2, "readable values are untouched");
    let detail: String = fixture
        .conn
        .query_row(
            "SELECT detail FROM app.audit_log WHERE action = 'ingest' ORDER BY seq DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .expect("audit");
    assert!(
        detail.contains("1 unreadable value loaded as missing"),
        "{detail}"
    );
}

#[test]
fn us_style_date_in_uk_extract_is_rejected() {
    let fixture = Fixture::new();
    fs::write(
        fixture.path("us.csv"),
        PUPILS.replace("12/11/2013", "11/28/2013"),
    )
    .expect("write");
    let (_, message) = fixture.expect_failure(&manifest_text("us.csv", "police.csv", "police"));
    assert!(message.contains("line 4, column 'dob'"), "{message}");
    assert!(
        message.contains("not a real date (day and month look swapped"),
        "{message}"
    );
}

#[test]
fn non_utf8_file_names_line_and_column() {
    let fixture = Fixture::new();
    let mut bytes = PUPILS.replace("Jones", "Jos\u{e9}").into_bytes();
    // Re-encode é as Latin-1 (one byte 0xE9), as a Windows export would.
    let position = bytes
        .windows(2)
        .position(|w| w == [0xC3, 0xA9])
        .expect("é present");
    bytes.splice(position..position + 2, [0xE9]);
    fs::write(fixture.path("latin1.csv"), bytes).expect("write");
    let (_, message) = fixture.expect_failure(&manifest_text("latin1.csv", "police.csv", "police"));
    assert!(
        message.contains("latin1.csv, line 4, column 'surname'"),
        "{message}"
    );
    assert!(message.contains("UTF-8"), "{message}");
}

#[test]
fn utf16_file_is_recognised() {
    let fixture = Fixture::new();
    let mut bytes = vec![0xFF, 0xFE];
    for unit in PUPILS.encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    fs::write(fixture.path("utf16.csv"), bytes).expect("write");
    let (_, message) = fixture.expect_failure(&manifest_text("utf16.csv", "police.csv", "police"));
    assert!(
        message.contains("utf16.csv: the file is UTF-16"),
        "{message}"
    );
}

#[test]
fn empty_file_is_rejected() {
    let fixture = Fixture::new();
    fs::write(fixture.path("empty.csv"), "").expect("write");
    let (_, message) = fixture.expect_failure(&manifest_text("empty.csv", "police.csv", "police"));
    assert!(
        message.contains("empty.csv: the file is empty"),
        "{message}"
    );
}

#[test]
fn unknown_agency_in_manifest_names_the_line() {
    let fixture = Fixture::new();
    let text = manifest_text("pupils.csv", "police.csv", "probation");
    let line = 1 + text
        .lines()
        .position(|l| l.contains("\"probation\""))
        .expect("agency line");
    let (_, message) = fixture.expect_failure(&text);
    assert!(message.contains("manifest.toml"), "{message}");
    assert!(message.contains("unknown variant `probation`"), "{message}");
    assert!(message.contains(&format!("line {line}")), "{message}");
}

#[test]
fn missing_file_is_named() {
    let fixture = Fixture::new();
    let (_, message) =
        fixture.expect_failure(&manifest_text("nowhere.csv", "police.csv", "police"));
    assert!(
        message.contains("nowhere.csv: cannot read the file"),
        "{message}"
    );
}

#[test]
fn failure_in_second_source_rolls_back_the_first() {
    let fixture = Fixture::new();
    // The first source changes (one row fewer) and is valid; the second is broken.
    fs::write(
        fixture.path("fewer.csv"),
        PUPILS.lines().take(3).collect::<Vec<_>>().join("\n"),
    )
    .expect("write");
    fs::write(
        fixture.path("badpolice.csv"),
        POLICE.replace("2023-10-02\n", "2023-13-02\n"),
    )
    .expect("write");
    let (_, message) =
        fixture.expect_failure(&manifest_text("fewer.csv", "badpolice.csv", "police"));
    assert!(
        message.contains("badpolice.csv, line 2, column 'incident_date'"),
        "{message}"
    );
    assert!(message.contains("yyyy-mm-dd"), "{message}");
}

#[test]
fn gzip_extracts_load_like_plain_ones() {
    use std::io::Write as _;
    let fixture = Fixture::new();
    let file = fs::File::create(fixture.path("pupils.csv.gz")).expect("create");
    let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    encoder.write_all(PUPILS.as_bytes()).expect("compress");
    encoder.finish().expect("finish");
    let manifest = write_manifest(
        fixture.dir.path(),
        &manifest_text("pupils.csv.gz", "police.csv", "police"),
    );
    ingest::ingest(&fixture.conn, &manifest, "analyst", &mut |_| {}).expect("gzip loads");
    let pupils =
        store::scalar_i64(&fixture.conn, "SELECT count(*) FROM staging.pupils").expect("count");
    assert_eq!(pupils, 3);
}

#[test]
fn postcode_lookup_loads_in_the_key_linkage_uses() {
    let fixture = Fixture::new();
    let rows: Vec<(String, String, String)> = fixture
        .conn
        .prepare("SELECT postcode, postcode_text, lsoa_code FROM ref.postcode ORDER BY 1")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        rows,
        [
            ("BH11AA".into(), "BH1 1AA".into(), "E01015272".into()),
            ("BH22BB".into(), "BH2 2BB".into(), "E01015273".into()),
        ]
    );
}

/// Replaces the fixture's postcode file with `text` under another name and ingests.
fn postcode_failure(fixture: &Fixture, text: &str) -> String {
    fs::write(fixture.path("bad_postcodes.csv"), text).expect("write");
    let manifest = manifest_text("pupils.csv", "police.csv", "police")
        .replace("postcodes.csv", "bad_postcodes.csv");
    fixture.expect_failure(&manifest).1
}

#[test]
fn bad_postcode_names_line_and_column_and_changes_nothing() {
    let fixture = Fixture::new();
    let message = postcode_failure(
        &fixture,
        &format!(
            "{POSTCODES}BH3 3CC,BH3 3CC,E06000058,E01015272\nX,BH99 ZZ9,E06000058,E01015272\n"
        ),
    );
    assert!(
        message.contains("bad_postcodes.csv, line 5, column 'pcds'"),
        "{message}"
    );
    assert!(
        message.contains("'BH99 ZZ9' is not a UK postcode"),
        "{message}"
    );
}

#[test]
fn unknown_lsoa_in_postcode_lookup_is_named() {
    let fixture = Fixture::new();
    let message = postcode_failure(
        &fixture,
        &format!("{POSTCODES}BH3 3CC,BH3 3CC,E06000058,E01999999\n"),
    );
    assert!(
        message.contains("bad_postcodes.csv, line 4, column 'lsoa11'"),
        "{message}"
    );
    assert!(
        message.contains("LSOA E01999999 is not in the IMD table"),
        "{message}"
    );
}

#[test]
fn postcode_in_two_lsoas_and_missing_column_are_named() {
    let fixture = Fixture::new();
    let message = postcode_failure(
        &fixture,
        &format!("{POSTCODES}bh11aa,bh11aa,E06000058,E01015273\n"),
    );
    assert!(
        message.contains("bad_postcodes.csv, line 4, column 'pcds'"),
        "{message}"
    );
    assert!(message.contains("also on line 2"), "{message}");
    let message = postcode_failure(&fixture, "postcode,lsoa11\nBH1 1AA,E01015272\n");
    assert!(
        message.contains("bad_postcodes.csv, line 1: missing required column 'pcds'"),
        "{message}"
    );
}

/// The fixture's manifest with the boundaries at `shp` instead of the sample's.
fn manifest_with_boundaries(shp: &Path) -> String {
    manifest_text("pupils.csv", "police.csv", "police").replace(
        &format!(
            "{}/lsoa2011_bgc_bcp_dorset_northumberland.shp",
            reference_dir().display()
        ),
        &shp.display().to_string(),
    )
}

/// Copies the sample's LSOA shapefile parts with `extensions` into `dir` as `lsoa.*`.
fn copy_shapefile(dir: &Path, extensions: &[&str]) -> PathBuf {
    for extension in extensions {
        fs::copy(
            reference_dir().join(format!(
                "lsoa2011_bgc_bcp_dorset_northumberland.{extension}"
            )),
            dir.join(format!("lsoa.{extension}")),
        )
        .expect("copy");
    }
    dir.join("lsoa.shp")
}

#[test]
fn boundaries_load_and_each_lsoa_lies_in_its_authority() {
    let fixture = Fixture::new();
    let shapes = zonewise::geo::lsoa_shapes::read_lsoa_shapes(&fixture.conn).expect("shapes");
    assert_eq!(shapes.len(), 649);
    let authorities = zonewise::geo::boundaries::load_boundaries(
        &reference_dir().join("lad2019_bcp_dorset_northumberland_dissolved.shp"),
        "LAD19CD",
        "LAD19NM",
    )
    .expect("authorities");
    use geo::{Contains, InteriorPoint};
    for shape in &shapes {
        let inside = shape.geometry.interior_point().expect("a point inside");
        let authority = authorities
            .iter()
            .find(|a| a.code == shape.la_code)
            .unwrap_or_else(|| panic!("{} names authority {}", shape.code, shape.la_code));
        assert!(
            authority.geometry.contains(&inside),
            "{} ({}) is not inside {}",
            shape.code,
            shape.name,
            authority.name
        );
        // Not inside any other authority either.
        assert!(
            authorities
                .iter()
                .filter(|a| a.code != shape.la_code)
                .all(|a| !a.geometry.contains(&inside)),
            "{}",
            shape.code
        );
    }
}

#[test]
fn a_shapefile_without_its_dbf_or_in_another_projection_is_named_and_changes_nothing() {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir().expect("temp");
    let shp = copy_shapefile(dir.path(), &["shp", "shx", "prj"]);
    let (_, message) = fixture.expect_failure(&manifest_with_boundaries(&shp));
    assert!(message.contains("lsoa.dbf: missing"), "{message}");

    let shp = copy_shapefile(dir.path(), &["dbf"]);
    fs::write(dir.path().join("lsoa.prj"), "GEOGCS[\"WGS 84\"]").expect("prj");
    let (_, message) = fixture.expect_failure(&manifest_with_boundaries(&shp));
    assert!(message.contains("lsoa.prj"), "{message}");
    assert!(message.contains("not British National Grid"), "{message}");
}

#[test]
fn a_boundary_lsoa_missing_from_the_imd_table_is_named() {
    let fixture = Fixture::new();
    // The IMD table without its last LSOA (one the fixture's zones and postcodes do not use).
    let imd = fs::read_to_string(reference_dir().join("imd2019_lsoa11.csv")).expect("imd");
    let mut lines: Vec<&str> = imd.lines().collect();
    let dropped = lines
        .pop()
        .expect("a row")
        .split(',')
        .next()
        .expect("code")
        .to_string();
    fs::write(fixture.path("imd.csv"), lines.join("\n") + "\n").expect("write");
    let manifest = manifest_text("pupils.csv", "police.csv", "police").replace(
        &format!("{}/imd2019_lsoa11.csv", reference_dir().display()),
        &fixture.path("imd.csv").display().to_string(),
    );
    let (_, message) = fixture.expect_failure(&manifest);
    assert!(
        message.contains("lsoa2011_bgc_bcp_dorset_northumberland.shp: record "),
        "{message}"
    );
    assert!(
        message.contains(&format!("LSOA {dropped} ("))
            && message.contains("is not in the IMD table"),
        "{message}"
    );
}

/// The fixture's manifest with the wards at `shp` instead of the sample's.
fn manifest_with_wards(shp: &Path) -> String {
    manifest_text("pupils.csv", "police.csv", "police").replace(
        &format!(
            "{}/wards2013_bgc_bcp_dorset_northumberland.shp",
            reference_dir().display()
        ),
        &shp.display().to_string(),
    )
}

#[test]
fn every_lsoa_is_fitted_to_the_ward_holding_its_centroid() {
    use geo::{Centroid, Contains, InteriorPoint};
    let fixture = Fixture::new();
    let shapes = zonewise::geo::lsoa_shapes::read_lsoa_shapes(&fixture.conn).expect("shapes");
    let wards = zonewise::geo::boundaries::load_boundaries(
        &reference_dir().join("wards2013_bgc_bcp_dorset_northumberland.shp"),
        "WD13CD",
        "WD13NM",
    )
    .expect("wards");
    let mut statement = fixture
        .conn
        .prepare("SELECT lsoa_code, ward_code, fit FROM ref.lsoa_ward")
        .expect("query");
    let fits: BTreeMap<String, (String, String)> = statement
        .query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("fits");
    assert_eq!(fits.len(), shapes.len(), "one ward per LSOA");
    let mut nearest = 0;
    for shape in &shapes {
        let (ward_code, fit) = &fits[&shape.code];
        assert_eq!(shape.ward_code.as_ref(), Some(ward_code));
        assert!(wards.iter().any(|w| &w.code == ward_code), "{ward_code}");
        let in_ward = |point: &geo::Point<f64>| {
            wards
                .iter()
                .filter(|w| w.code == *ward_code)
                .any(|w| w.geometry.contains(point))
        };
        let centroid = shape.geometry.centroid().expect("centroid");
        let in_any_ward = wards.iter().any(|w| w.geometry.contains(&centroid));
        match fit.as_str() {
            "centroid" => assert!(in_ward(&centroid), "{}", shape.code),
            "interior_point" => {
                let inside = shape.geometry.interior_point().expect("a point inside");
                assert!(in_ward(&inside), "{}", shape.code);
                assert!(
                    !(shape.geometry.contains(&centroid) && in_any_ward),
                    "{} had a usable centroid",
                    shape.code
                );
            }
            "nearest" => {
                assert!(!in_any_ward, "{}", shape.code);
                nearest += 1;
            }
            other => panic!("unknown fit {other}"),
        }
    }
    // The generalised coastlines differ a little: only a few LSOAs are placed by distance.
    assert!(
        nearest * 50 < shapes.len(),
        "{nearest} LSOAs placed by distance"
    );
    let named: i64 = store::scalar_i64(
        &fixture.conn,
        "SELECT count(*) FROM ref.lsoa_ward lw JOIN ref.ward w USING (ward_code)",
    )
    .expect("count");
    assert_eq!(named as usize, shapes.len(), "every fitted ward is named");
}

#[test]
fn a_ward_shapefile_without_its_dbf_or_without_lsoa_boundaries_is_named_and_changes_nothing() {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir().expect("temp");
    for extension in ["shp", "shx"] {
        fs::copy(
            reference_dir().join(format!(
                "wards2013_bgc_bcp_dorset_northumberland.{extension}"
            )),
            dir.path().join(format!("wards.{extension}")),
        )
        .expect("copy");
    }
    let (_, message) = fixture.expect_failure(&manifest_with_wards(&dir.path().join("wards.shp")));
    assert!(message.contains("wards.dbf: missing"), "{message}");

    let without_lsoas = manifest_text("pupils.csv", "police.csv", "police").replace(
        &format!(
            "boundaries = \"{}/lsoa2011_bgc_bcp_dorset_northumberland.shp\"\n",
            reference_dir().display()
        ),
        "",
    );
    let (_, message) = fixture.expect_failure(&without_lsoas);
    assert!(
        message.contains("wards2013_bgc_bcp_dorset_northumberland.shp")
            && message.contains("need the LSOA boundaries"),
        "{message}"
    );
}
