//! Helpers shared by the integration tests: reading extracts and truth files
//! with the csv crate alone, independently of the code under test, a
//! hand-made county (`tiny_county`), and driving the app headless (`app`).
// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

pub mod app;
pub mod cli;
pub mod pg;
pub mod tiny_county;
pub mod workbook;

/// A CSV (or .csv.gz) file as header and rows of strings.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads a CSV or .csv.gz file.
    pub fn read(path: &Path, delimiter: char) -> Table {
        let mut bytes = Vec::new();
        let mut file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        if path.extension().is_some_and(|e| e == "gz") {
            flate2::read::MultiGzDecoder::new(file)
                .read_to_end(&mut bytes)
                .expect("gunzip");
        } else {
            file.read_to_end(&mut bytes).expect("read");
        }
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter as u8)
            .from_reader(bytes.as_slice());
        Table::from_reader(&mut reader)
    }

    /// Reads a CSV file that begins with `#` comment lines; returns those lines
    /// (without the `# `) and the table after them.
    pub fn read_commented(path: &Path) -> (Vec<String>, Table) {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let comments = text
            .lines()
            .take_while(|line| line.starts_with('#'))
            .map(|line| line.trim_start_matches("# ").to_string())
            .collect();
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        (comments, Table::from_reader(&mut reader))
    }

    fn from_reader<R: Read>(reader: &mut csv::Reader<R>) -> Table {
        let header = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        let rows = reader
            .records()
            .map(|r| r.expect("record").iter().map(str::to_string).collect())
            .collect();
        Table { header, rows }
    }

    /// Reads `truth/<name>.csv` or `.csv.gz` under `out`.
    pub fn truth(out: &Path, name: &str) -> Table {
        let plain = out.join("truth").join(format!("{name}.csv"));
        if plain.is_file() {
            Table::read(&plain, ',')
        } else {
            Table::read(&out.join("truth").join(format!("{name}.csv.gz")), ',')
        }
    }

    /// Index of a column by header name.
    pub fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }

    /// Rows keyed by the value of `key`.
    pub fn by(&self, key: &str) -> BTreeMap<String, Vec<String>> {
        let index = self.column(key);
        self.rows
            .iter()
            .map(|row| (row[index].clone(), row.clone()))
            .collect()
    }
}

/// Generates a synthetic county of `families` from `seed` (realistic noise, the
/// bundled reference data) into `dir/name`, and returns its manifest's path.
pub fn synth_county(dir: &Path, name: &str, families: usize, seed: u64) -> std::path::PathBuf {
    use zonewise::synth::{self, SynthConfig};
    let out = dir.join(name);
    synth::generate(
        &SynthConfig {
            out_dir: out.clone(),
            reference_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/ref"),
            families,
            seed,
            noise: 1.0,
            gzip: false,
            authorities: Vec::new(),
            months: 1,
            // No early-help effect: the county is the one this test was written on.
            round_tables: zonewise::synth::round_tables::RoundTableConfig::no_effect(),
        },
        &|_, _| {},
    )
    .expect("synth");
    out.join("manifest.toml")
}

/// Generates a synthetic county of `families` from `seed` into `dir/county`,
/// ingests and links it into `dir/county.duckdb`, and returns that path.
pub fn linked_county(dir: &Path, families: usize, seed: u64) -> std::path::PathBuf {
    use zonewise::ingest::{self, Manifest};
    use zonewise::link::{self, LinkConfig};
    let manifest = synth_county(dir, "county", families, seed);
    let db = dir.join("county.duckdb");
    let conn = zonewise::store::open(&db).expect("db");
    let manifest = Manifest::load(&manifest).expect("manifest");
    ingest::ingest(&conn, &manifest, "analyst", &mut |_| {}).expect("ingest");
    link::link(&conn, &LinkConfig::default(), "analyst").expect("link");
    db
}

/// Every table with its row count: equal before and after a failed load when
/// the database was left exactly as it was.
pub fn table_counts(conn: &duckdb::Connection) -> Vec<(String, i64)> {
    zonewise::store::table_names(conn)
        .expect("tables")
        .into_iter()
        .map(|t| {
            let n = zonewise::store::scalar_i64(conn, &format!("SELECT count(*) FROM {t}"))
                .expect("count");
            (t, n)
        })
        .collect()
}

/// (user, action, subject, reason) of the audit entries after `after_seq` whose
/// action is one of `actions`, oldest first: read with SQL of its own rather than
/// through `audit::list`, so a test of what was recorded does not trust the code
/// under test to read it back.
pub fn audit_entries(
    conn: &duckdb::Connection,
    after_seq: i64,
    actions: &[&str],
) -> Vec<(String, String, String, Option<String>)> {
    let entries: Vec<(String, String, String, Option<String>)> = conn
        .prepare(
            "SELECT \"user\", action, subject, reason FROM app.audit_log WHERE seq > ? ORDER BY seq",
        )
        .expect("prepare")
        .query_map([after_seq], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    entries
        .into_iter()
        .filter(|(_, action, _, _)| actions.contains(&action.as_str()))
        .collect()
}
