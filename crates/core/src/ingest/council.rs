//! The reference geography of a new council's database, chosen by authority
//! rather than typed: the local authorities of the England-wide IMD 2019 table
//! that ships (`data-samples/ref`), and the cut of IMD, population, LSOA
//! boundaries and zones for the authorities chosen, written beside the
//! database so its manifest names ordinary files and the same load can be
//! repeated from the command line.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::error::IngestError;
use super::manifest::ReferenceFiles;

/// IMD 2019 for every English LSOA 2011 (its columns name each LSOA's authority).
pub const ENGLAND_IMD: &str = "imd2019_lsoa11_england.csv.gz";
/// ONS mid-2020 population for every English LSOA 2011.
pub const ENGLAND_POPULATION: &str = "population_mid2020_lsoa11_england.csv.gz";
/// Every English LSOA 2011's boundary (super generalised, WGS84).
pub const ENGLAND_BOUNDARIES: &str = "lsoa2011_bsc_england.geojson.gz";

/// A local authority (district, unitary or London borough, 2019 codes).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Authority {
    /// ONS code, `E06000059`.
    pub code: String,
    /// Its name, `Dorset`.
    pub name: String,
    /// How many LSOAs it has.
    pub lsoas: usize,
}

/// Every authority in the England-wide IMD table of `reference_dir`, by name.
pub fn authorities(reference_dir: &Path) -> Result<Vec<Authority>, IngestError> {
    let path = reference_dir.join(ENGLAND_IMD);
    let mut found: BTreeMap<String, Authority> = BTreeMap::new();
    for_each_row(&path, &["lad19cd", "lad19nm"], |fields, _| {
        found
            .entry(fields[0].to_string())
            .or_insert_with(|| Authority {
                code: fields[0].to_string(),
                name: fields[1].to_string(),
                lsoas: 0,
            })
            .lsoas += 1;
        Ok(())
    })?;
    let mut list: Vec<Authority> = found.into_values().collect();
    list.sort_by(|a, b| a.name.cmp(&b.name).then(a.code.cmp(&b.code)));
    Ok(list)
}

/// Writes the reference files for the authorities `codes` into `out_dir`: their
/// rows of the England IMD and population tables (headers kept), their LSOAs'
/// boundaries, and one zone per authority (named after it; a council with its
/// own family partnership zones replaces `zones.csv`). Returns the files as a
/// manifest in `manifest_dir` names them.
pub fn write_reference(
    reference_dir: &Path,
    codes: &[String],
    out_dir: &Path,
    manifest_dir: &Path,
) -> Result<ReferenceFiles, IngestError> {
    let wanted: BTreeSet<&str> = codes.iter().map(String::as_str).collect();
    if wanted.is_empty() {
        return Err(IngestError::Reference {
            file: reference_dir.join(ENGLAND_IMD),
            message: "choose at least one local authority".to_string(),
        });
    }
    let write_error = |file: &Path| {
        let file = file.to_path_buf();
        move |source: std::io::Error| IngestError::Open { file, source }
    };
    std::fs::create_dir_all(out_dir).map_err(write_error(out_dir))?;

    // IMD: the chosen authorities' rows, and which LSOA is in which.
    let imd_out = out_dir.join("imd2019_lsoa11.csv");
    let zones_out = out_dir.join("zones.csv");
    let mut lsoas: BTreeSet<String> = BTreeSet::new();
    let mut found: BTreeSet<String> = BTreeSet::new();
    {
        let mut imd = csv::Writer::from_path(&imd_out).map_err(|e| csv_write(&imd_out, e))?;
        let mut zones = csv::Writer::from_path(&zones_out).map_err(|e| csv_write(&zones_out, e))?;
        zones
            .write_record(["lsoa11cd", "zone_id", "zone_name", "lad19cd"])
            .map_err(|e| csv_write(&zones_out, e))?;
        let mut header_written = false;
        for_each_row(
            &reference_dir.join(ENGLAND_IMD),
            &["lsoa11cd", "lad19cd", "lad19nm"],
            |fields, record| {
                if !header_written {
                    imd.write_record(record.0)
                        .map_err(|e| csv_write(&imd_out, e))?;
                    header_written = true;
                }
                if wanted.contains(fields[1]) {
                    imd.write_record(record.1)
                        .map_err(|e| csv_write(&imd_out, e))?;
                    zones
                        .write_record([fields[0], fields[1], fields[2], fields[1]])
                        .map_err(|e| csv_write(&zones_out, e))?;
                    lsoas.insert(fields[0].to_string());
                    found.insert(fields[1].to_string());
                }
                Ok(())
            },
        )?;
        imd.flush().map_err(write_error(&imd_out))?;
        zones.flush().map_err(write_error(&zones_out))?;
    }
    let unknown: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|code| !found.contains(*code))
        .collect();
    if !unknown.is_empty() {
        return Err(IngestError::Reference {
            file: reference_dir.join(ENGLAND_IMD),
            message: format!("no LSOAs of authority {}", unknown.join(", ")),
        });
    }

    // Population: the same LSOAs' rows.
    let population_out = out_dir.join("population_mid2020_lsoa11.csv");
    {
        let mut population =
            csv::Writer::from_path(&population_out).map_err(|e| csv_write(&population_out, e))?;
        let mut header_written = false;
        for_each_row(
            &reference_dir.join(ENGLAND_POPULATION),
            &["lsoa11cd"],
            |fields, record| {
                if !header_written {
                    population
                        .write_record(record.0)
                        .map_err(|e| csv_write(&population_out, e))?;
                    header_written = true;
                }
                if lsoas.contains(fields[0]) {
                    population
                        .write_record(record.1)
                        .map_err(|e| csv_write(&population_out, e))?;
                }
                Ok(())
            },
        )?;
        population.flush().map_err(write_error(&population_out))?;
    }

    // Boundaries: the same LSOAs' features, unchanged.
    let boundaries_in = reference_dir.join(ENGLAND_BOUNDARIES);
    let boundaries_out = out_dir.join("lsoa2011_boundaries.geojson");
    let text = {
        let file = std::fs::File::open(&boundaries_in).map_err(write_error(&boundaries_in))?;
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut crate::compressed::reader(&boundaries_in, file),
            &mut text,
        )
        .map_err(write_error(&boundaries_in))?;
        text
    };
    let bad_boundaries = |message: String| IngestError::Reference {
        file: boundaries_in.clone(),
        message,
    };
    let geojson::GeoJson::FeatureCollection(mut collection) = text
        .parse::<geojson::GeoJson>()
        .map_err(|e| bad_boundaries(e.to_string()))?
    else {
        return Err(bad_boundaries("expected a FeatureCollection".to_string()));
    };
    collection.features.retain(|feature| {
        feature
            .property("LSOA11CD")
            .and_then(|code| code.as_str())
            .is_some_and(|code| lsoas.contains(code))
    });
    let mut out = std::fs::File::create(&boundaries_out).map_err(write_error(&boundaries_out))?;
    out.write_all(collection.to_string().as_bytes())
        .map_err(write_error(&boundaries_out))?;

    let relative = |path: &Path| -> PathBuf {
        path.strip_prefix(manifest_dir)
            .map_or_else(|_| path.to_path_buf(), Path::to_path_buf)
    };
    Ok(ReferenceFiles {
        imd: relative(&imd_out),
        population: relative(&population_out),
        zones: relative(&zones_out),
        postcodes: None,
        boundaries: Some(relative(&boundaries_out)),
        wards: None,
    })
}

fn csv_write(file: &Path, error: csv::Error) -> IngestError {
    IngestError::Reference {
        file: file.to_path_buf(),
        message: format!("cannot write: {error}"),
    }
}

/// Calls `each` with the named `columns` of every row of the CSV (or `.csv.gz`)
/// at `path`, and the header and the row themselves.
fn for_each_row(
    path: &Path,
    columns: &[&str],
    mut each: impl FnMut(&[&str], (&csv::StringRecord, &csv::StringRecord)) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let fail = |message: String| IngestError::Reference {
        file: path.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|source| IngestError::Open {
        file: path.to_path_buf(),
        source,
    })?;
    let mut reader = csv::Reader::from_reader(crate::compressed::reader(path, file));
    let header = reader.headers().map_err(|e| fail(e.to_string()))?.clone();
    let positions: Vec<usize> = columns
        .iter()
        .map(|wanted| {
            header
                .iter()
                .position(|h| h == *wanted)
                .ok_or_else(|| fail(format!("has no column '{wanted}'")))
        })
        .collect::<Result<_, _>>()?;
    let mut record = csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .map_err(|e| fail(e.to_string()))?
    {
        let fields: Vec<&str> = positions
            .iter()
            .map(|i| record.get(*i).unwrap_or_default())
            .collect();
        each(&fields, (&header, &record))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities_and_their_cut() {
        let reference = crate::bundled::reference_dir();
        let list = authorities(&reference).expect("authorities");
        // England's 317 local authorities of 2019, with all 32,844 LSOAs.
        assert_eq!(list.len(), 317);
        assert_eq!(list.iter().map(|a| a.lsoas).sum::<usize>(), 32_844);
        let dorset = list.iter().find(|a| a.name == "Dorset").expect("Dorset");
        assert_eq!(dorset.code, "E06000059");
        assert_eq!(dorset.lsoas, 219);

        let dir = tempfile::tempdir().expect("temp");
        let files = write_reference(
            &reference,
            &["E06000059".to_string()],
            &dir.path().join("ref"),
            dir.path(),
        )
        .expect("cut");
        assert_eq!(files.imd, Path::new("ref/imd2019_lsoa11.csv"));
        let lines = |name: &str| {
            std::fs::read_to_string(dir.path().join("ref").join(name))
                .expect("read")
                .lines()
                .count()
        };
        // The header and one row per LSOA.
        assert_eq!(lines("imd2019_lsoa11.csv"), 220);
        assert_eq!(lines("population_mid2020_lsoa11.csv"), 220);
        assert_eq!(lines("zones.csv"), 220);
        let shapes = crate::geo::england::load_england_lsoas(
            &dir.path().join("ref/lsoa2011_boundaries.geojson"),
        )
        .expect("boundaries");
        assert_eq!(shapes.len(), 219);

        let error = write_reference(
            &reference,
            &["E99999999".to_string()],
            dir.path(),
            dir.path(),
        )
        .expect_err("an unknown authority");
        assert!(error.to_string().contains("E99999999"), "{error}");
    }
}
