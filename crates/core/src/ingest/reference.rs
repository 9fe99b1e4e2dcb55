//! Loads the reference geography named in a manifest: IMD 2019 (with its domains'
//! deciles) and population by LSOA into `ref.lsoa`, and the family partnership zones into `ref.zone` and
//! `ref.lsoa_zone`. These are published tables, read with DuckDB's CSV reader.
//! The postcode lookup (`ref.postcode`) is checked row by row in `postcodes`, and
//! the LSOA boundaries (`ref.lsoa_vertex`) are read in `boundaries`, and the
//! LSOA → ward best fit (`ref.ward`, `ref.lsoa_ward`) is made in `wards`.

use std::path::Path;

use duckdb::Connection;

use super::error::IngestError;
use super::manifest::{Manifest, ReferenceFiles};
use crate::geo::imd_domain::ImdDomain;

/// Replaces the reference tables with the files the manifest names.
pub fn load(
    conn: &Connection,
    manifest: &Manifest,
    files: &ReferenceFiles,
) -> Result<(), IngestError> {
    let imd = manifest.resolve(&files.imd);
    let population = manifest.resolve(&files.population);
    let zones = manifest.resolve(&files.zones);
    let postcodes = files.postcodes.as_ref().map(|p| manifest.resolve(p));
    let boundaries = files.boundaries.as_ref().map(|p| manifest.resolve(p));
    let wards = files.wards.as_ref().map(|p| manifest.resolve(p));
    for path in [&imd, &population, &zones]
        .into_iter()
        .chain(postcodes.as_ref())
        .chain(boundaries.as_ref())
        .chain(wards.as_ref())
    {
        if !path.is_file() {
            return Err(IngestError::Reference {
                file: path.clone(),
                message: "the reference file does not exist".to_string(),
            });
        }
    }
    // The domains' columns are named as in the IMD file (constants, not text read).
    let domains: Vec<&str> = ImdDomain::ALL.iter().map(|d| d.column()).collect();
    run(
        conn,
        &imd,
        &format!(
            "DELETE FROM ref.postcode; DELETE FROM ref.lsoa_zone; DELETE FROM ref.zone;
             DELETE FROM ref.lsoa;
             INSERT INTO ref.lsoa (lsoa_code, lsoa_name, la_code, la_name, imd_score, imd_rank,
                                   imd_decile, income_score, employment_score, population,
                                   population_0_17, {columns})
             SELECT i.lsoa11cd, i.lsoa11nm, i.lad19cd, i.lad19nm, i.imd_score, i.imd_rank,
                    i.imd_decile, i.income_score, i.employment_score, p.pop_total, p.pop_0_17,
                    {values}
             FROM read_csv({imd}, header = true, all_varchar = false) AS i
             LEFT JOIN read_csv({population}, header = true) AS p USING (lsoa11cd);",
            columns = domains.join(", "),
            values = domains
                .iter()
                .map(|c| format!("i.{c}"))
                .collect::<Vec<_>>()
                .join(", "),
            imd = sql_path(&imd),
            population = sql_path(&population),
        ),
    )?;
    run(
        conn,
        &zones,
        &format!(
            "INSERT INTO ref.zone
             SELECT zone_id, any_value(zone_name), any_value(lad19cd)
             FROM read_csv({zones}, header = true, all_varchar = true) GROUP BY zone_id;
             INSERT INTO ref.lsoa_zone
             SELECT lsoa11cd, zone_id FROM read_csv({zones}, header = true, all_varchar = true);",
            zones = sql_path(&zones),
        ),
    )?;
    let unknown: Option<String> = conn.query_row(
        "SELECT min(z.lsoa_code) FROM ref.lsoa_zone z ANTI JOIN ref.lsoa l USING (lsoa_code)",
        [],
        |row| row.get(0),
    )?;
    if let Some(code) = unknown {
        return Err(IngestError::Reference {
            file: zones,
            message: format!("LSOA {code} is not in the IMD table {}", imd.display()),
        });
    }
    if let Some(postcodes) = &postcodes {
        super::postcodes::load(conn, postcodes, &imd)?;
    }
    conn.execute_batch("DELETE FROM ref.lsoa_ward; DELETE FROM ref.ward;")?;
    match (&boundaries, &wards) {
        (Some(shp), wards) => {
            let lsoas = super::boundaries::load(conn, shp)?;
            if let Some(wards) = wards {
                super::wards::load(conn, wards, &lsoas)?;
            }
        }
        (None, Some(wards)) => {
            return Err(IngestError::Reference {
                file: wards.clone(),
                message: "ward boundaries need the LSOA boundaries too (`boundaries = …` in \
                          [reference]): LSOAs are fitted to wards by their shapes"
                    .to_string(),
            });
        }
        (None, None) => conn.execute_batch("DELETE FROM ref.lsoa_vertex;")?,
    }
    Ok(())
}

/// Runs reference SQL, naming the file in any error (DuckDB's message says which column or line).
fn run(conn: &Connection, file: &Path, sql: &str) -> Result<(), IngestError> {
    conn.execute_batch(sql)
        .map_err(|error| IngestError::Reference {
            file: file.to_path_buf(),
            message: error.to_string(),
        })
}

/// A file path as a SQL string literal.
fn sql_path(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "''"))
}
