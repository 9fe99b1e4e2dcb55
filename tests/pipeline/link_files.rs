//! `zonewise link-files` on a small hand-made school roll and GP list: the engine
//! finds exactly the pairs a person would, and bad input is reported by file,
//! line and column.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use zonewise::link::files::{LinkFilesConfig, link_files};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/link-files")
        .join(name)
}

/// A written pair: (file, id, file, id).
type Pair = (String, String, String, String);

/// Every pair in an output CSV, and the probabilities in file order.
fn read_pairs(path: &Path) -> (BTreeSet<Pair>, Vec<f64>) {
    let mut reader = csv::Reader::from_path(path).expect("output");
    let headers = reader.headers().expect("headers").clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "file_l",
            "id_l",
            "file_r",
            "id_r",
            "match_weight",
            "match_probability"
        ]
    );
    let mut pairs = BTreeSet::new();
    let mut probabilities = Vec::new();
    for row in reader.records() {
        let row = row.expect("row");
        pairs.insert((
            row[0].to_string(),
            row[1].to_string(),
            row[2].to_string(),
            row[3].to_string(),
        ));
        probabilities.push(row[5].parse().expect("probability"));
    }
    (pairs, probabilities)
}

#[test]
fn a_school_roll_and_a_gp_list_link_exactly_as_a_person_would() {
    let dir = tempfile::tempdir().expect("temp");
    let output = dir.path().join("pairs.csv");
    let config = LinkFilesConfig::load(&fixture("link.toml")).expect("config");
    let report = link_files(&config, &output, &mut |_| {}).expect("link-files");
    assert_eq!(report.score.records, 13);
    assert!(!report.score.trained, "the config names a saved model");

    let (pairs, probabilities) = read_pairs(&output);
    let expected: BTreeSet<_> = [
        // Same details, different capitals and date formats.
        ("gp", "G1", "school", "S1"),
        // Liam is a nickname of William.
        ("gp", "G2", "school", "S2"),
        // A misspelt surname and the day and month swapped.
        ("gp", "G3", "school", "S3"),
        // Moved house: a different postcode, all else the same.
        ("gp", "G5", "school", "S5"),
    ]
    .into_iter()
    .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
    .collect();
    // Not linked: two Jack Smiths born three years apart in different towns;
    // Harry and Isla Pemberton, siblings; and Harry and his twin sister Harriet,
    // whom blocking does pair (same birth date and surname) but the score rejects.
    assert_eq!(pairs, expected);
    assert!(
        report.score.candidate_pairs > expected.len() as u64,
        "the threshold, not blocking alone, must decide: {} candidate pairs",
        report.score.candidate_pairs
    );
    assert!(probabilities.iter().all(|p| *p >= config.threshold));
    assert!(
        probabilities.windows(2).all(|w| w[0] >= w[1]),
        "strongest first: {probabilities:?}"
    );
}

#[test]
fn with_no_model_the_files_train_their_own_and_still_link() {
    let dir = tempfile::tempdir().expect("temp");
    let text = std::fs::read_to_string(fixture("link.toml"))
        .expect("config")
        .replace("model = \"../../../models/linkage-sample.json\"\n", "");
    std::fs::write(dir.path().join("link.toml"), text).expect("write");
    for file in ["school.csv", "gp.csv"] {
        std::fs::copy(fixture(file), dir.path().join(file)).expect("copy");
    }
    let config = LinkFilesConfig::load(&dir.path().join("link.toml")).expect("config");
    let output = dir.path().join("pairs.csv");
    let report = link_files(&config, &output, &mut |_| {}).expect("link-files");
    assert!(report.score.trained);
    let (pairs, _) = read_pairs(&output);
    // Six records a side are too few to train on well; the clear-cut pair must still be found.
    assert!(pairs.contains(&(
        "gp".to_string(),
        "G1".to_string(),
        "school".to_string(),
        "S1".to_string()
    )));
}

/// `zonewise link-files --config CONFIG ARGS…`, which must succeed; its output.
fn link_files_cli(config: &Path, args: &[&str]) -> String {
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_zonewise"))
        .args(["link-files", "--config", path_text(config)])
        .args(args)
        .output()
        .expect("run zonewise");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8_lossy(&run.stdout).into_owned()
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// The fixtures in a temporary folder, the school roll edited by `edit` and the
/// config by `config` (the saved model's path made absolute).
fn edited_fixtures(
    dir: &Path,
    edit: &dyn Fn(String) -> String,
    config: &dyn Fn(String) -> String,
) -> LinkFilesConfig {
    std::fs::copy(fixture("gp.csv"), dir.join("gp.csv")).expect("copy");
    let school = std::fs::read_to_string(fixture("school.csv")).expect("school");
    std::fs::write(dir.join("school.csv"), edit(school)).expect("write");
    let text = std::fs::read_to_string(fixture("link.toml"))
        .expect("config")
        .replace(
            "../../../models",
            &format!("{}/models", env!("CARGO_MANIFEST_DIR")),
        );
    std::fs::write(dir.join("link.toml"), config(text)).expect("write");
    LinkFilesConfig::load(&dir.join("link.toml")).expect("config")
}

#[test]
fn with_strict_a_bad_date_names_file_line_and_column_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp");
    let config = edited_fixtures(
        dir.path(),
        &|school| school.replace("21/09/2012", "2012-09-21"),
        &|config| format!("strict = true\n{config}"),
    );
    let output = dir.path().join("pairs.csv");
    let message = link_files(&config, &output, &mut |_| {})
        .expect_err("bad date")
        .to_string();
    assert!(message.contains("school.csv"), "{message}");
    assert!(message.contains("line 5"), "{message}");
    assert!(message.contains("dob"), "{message}");
    assert!(!output.exists(), "no output after a failure");
}

#[test]
fn without_strict_unreadable_dates_and_postcodes_are_compared_as_missing_and_named() {
    let dir = tempfile::tempdir().expect("temp");
    // Jack Smith's 31 February (line 5) and Olivia's postcode cut short (line 2).
    let config = edited_fixtures(
        dir.path(),
        &|school| {
            school
                .replace("21/09/2012", "31/02/2012")
                .replace("NE61 1AB", "NE61 1A")
        },
        &|config| config,
    );
    assert!(!config.strict, "lenient unless the config says otherwise");
    let output = dir.path().join("pairs.csv");
    let report = link_files(&config, &output, &mut |_| {}).expect("link-files");
    assert_eq!(report.score.records, 13, "no record is dropped");
    assert_eq!(report.blanked.len(), 1, "{:?}", report.blanked);
    let (input, blanked) = &report.blanked[0];
    assert_eq!(input, "school");
    assert_eq!(blanked.count, 1);
    assert!(
        blanked.examples[0].contains("school.csv, line 5, column 'dob'")
            && blanked.examples[0].contains("31/02/2012")
            && blanked.examples[0].contains("not a real date"),
        "{:?}",
        blanked.examples
    );
    assert_eq!(report.unreadable_postcodes.count, 1);
    assert_eq!(
        report.unreadable_postcodes.examples,
        ["school, line 2: 'NE61 1A' is not a UK postcode"]
    );
    // Olivia still links on name, birth date and sex; the blanked postcode
    // neither refuses the file nor counts against her.
    let (pairs, _) = read_pairs(&output);
    assert!(pairs.contains(&(
        "gp".to_string(),
        "G1".to_string(),
        "school".to_string(),
        "S1".to_string()
    )));

    // The command line says the same, examples and all.
    let output = dir.path().join("cli.csv");
    let stdout = link_files_cli(
        &dir.path().join("link.toml"),
        &["--output", path_text(&output)],
    );
    assert!(
        stdout.contains("school: 1 unreadable value compared as missing")
            && stdout.contains("line 5, column 'dob'")
            && stdout.contains("school, line 2: 'NE61 1A' is not a UK postcode"),
        "{stdout}"
    );
}

/// A fixture record as (file, postcode key, birth year, sex).
type Record = (String, String, String, String);

/// The fixtures' records, read by hand from the CSVs rather than through the engine.
fn fixture_records() -> Vec<Record> {
    let mut records = Vec::new();
    for (file, delimiter, postcode, birth, sex) in
        [("school", b',', 5, 3, 4), ("gp", b';', 9, 3, 4)]
    {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .from_path(fixture(&format!("{file}.csv")))
            .expect("fixture");
        for row in reader.records() {
            let row = row.expect("row");
            let key: String = row[postcode]
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_uppercase();
            let year = row[birth]
                .split(['/', '-'])
                .find(|part| part.len() == 4)
                .expect("year")
                .to_string();
            records.push((file.to_string(), key, year, row[sex][..1].to_string()));
        }
    }
    records
}

#[test]
fn a_config_chooses_its_blocking_rules_and_counts_their_pairs_before_scoring() {
    let dir = tempfile::tempdir().expect("temp");
    let config = edited_fixtures(dir.path(), &|school| school, &|config| {
        config.replacen(
                "[[input]]",
                "[[blocking]]\nkeys = [\"postcode\"]\n\n\
                 [[blocking]]\nname = \"same birth year and sex\"\nkeys = [\"birth_year\", \"sex\"]\n\n\
                 [[input]]",
                1,
            )
    });
    let records = fixture_records();
    let all_pairs: Vec<_> = records
        .iter()
        .enumerate()
        .flat_map(|(i, l)| records[i + 1..].iter().map(move |r| (l, r)))
        .collect();
    let same_postcode = |l: &Record, r: &Record| l.1 == r.1;
    let same_year_and_sex = |l: &Record, r: &Record| l.2 == r.2 && l.3 == r.3;
    let expected_counts = vec![
        (
            "postcode".to_string(),
            all_pairs
                .iter()
                .filter(|(l, r)| same_postcode(l, r))
                .count() as u64,
        ),
        (
            "same birth year and sex".to_string(),
            all_pairs
                .iter()
                .filter(|(l, r)| same_year_and_sex(l, r))
                .count() as u64,
        ),
    ];
    assert!(
        expected_counts.iter().all(|(_, n)| *n > 0),
        "{expected_counts:?}"
    );
    let counts = zonewise::link::files::count_blocking_pairs(&config, &mut |_| {}).expect("count");
    assert_eq!(counts, expected_counts);

    // Scored, the candidates are exactly the cross-file pairs either rule makes.
    let output = dir.path().join("pairs.csv");
    let report = link_files(&config, &output, &mut |_| {}).expect("link-files");
    assert_eq!(report.score.pairs_per_rule, expected_counts);
    let across = all_pairs
        .iter()
        .filter(|(l, r)| l.0 != r.0 && (same_postcode(l, r) || same_year_and_sex(l, r)))
        .count() as u64;
    assert_eq!(report.score.candidate_pairs, across);

    // The command line shows the counts and stops before anything is scored.
    let stdout = link_files_cli(&dir.path().join("link.toml"), &["--count-pairs"]);
    for (rule, pairs) in &expected_counts {
        assert!(
            stdout
                .lines()
                .any(|line| line.contains(rule.as_str()) && line.contains(&format!(" {pairs} "))),
            "{rule}: {pairs} in {stdout}"
        );
    }
}

#[test]
fn a_blocking_rule_may_only_name_the_engines_keys() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("bad.toml");
    for (rule, expected) in [
        (
            "keys = [\"dob\"]",
            "unknown blocking key 'dob'; the keys are given_name",
        ),
        (
            "keys = [\"postcode\", \"postcode\"]",
            "'postcode' is named twice",
        ),
        ("keys = []", "at least one key"),
        ("keys = [\"l.nhs = r.nhs OR true\"]", "unknown blocking key"),
    ] {
        std::fs::write(
            &path,
            format!("[[blocking]]\n{rule}\n[[input]]\nfile = \"a.csv\"\nid = \"id\"\n"),
        )
        .expect("write");
        let message = LinkFilesConfig::load(&path).expect_err(rule).to_string();
        assert!(
            message.contains("bad.toml")
                && message.contains("[[blocking]] rule 1")
                && message.contains(expected),
            "{rule}: {message}"
        );
    }
}

#[test]
fn config_mistakes_are_named() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "threshold = 0.9\n[[input]]\nfile = \"a.csv\"\nid = \"id\"\nsurname = \"x\"\n",
    )
    .expect("write");
    let message = LinkFilesConfig::load(&path)
        .expect_err("unknown key")
        .to_string();
    assert!(
        message.contains("surname") && message.contains("line 5"),
        "{message}"
    );

    std::fs::write(
        &path,
        "link_type = \"link_only\"\n[[input]]\nfile = \"a.csv\"\nid = \"id\"\n",
    )
    .expect("write");
    let message = LinkFilesConfig::load(&path)
        .expect_err("one file")
        .to_string();
    assert!(message.contains("at least two"), "{message}");
}
