//! Loads polygon boundaries (LSOAs, wards, authorities) from ESRI shapefiles in
//! British National Grid. The zone builder uses them for contiguity and zone
//! names; the map view will draw them.

use std::path::{Path, PathBuf};

use geo::MultiPolygon;
use shapefile::dbase::FieldValue;

/// One area's boundary with its code and name from the attribute table.
#[derive(Debug, Clone)]
pub struct AreaBoundary {
    /// ONS code, e.g. `E01015272` for an LSOA or `E05002113` for a ward.
    pub code: String,
    /// ONS name, e.g. `Bournemouth 016A` or `Boscombe East`.
    pub name: String,
    /// The outline in British National Grid metres (easting, northing).
    pub geometry: MultiPolygon<f64>,
}

/// An LSOA 2011 boundary (`LSOA11CD`, `LSOA11NM`).
pub type LsoaBoundary = AreaBoundary;

/// Attribute fields of the ONS LSOA 2011 boundary files.
pub const LSOA_FIELDS: (&str, &str) = ("LSOA11CD", "LSOA11NM");
/// Attribute fields of the ONS 2013 electoral ward boundary files.
pub const WARD_FIELDS: (&str, &str) = ("WD13CD", "WD13NM");
/// Attribute fields of the LAD 2019 (local authority district) boundary files.
pub const AUTHORITY_FIELDS: (&str, &str) = ("LAD19CD", "LAD19NM");

/// Why a boundary file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BoundaryError {
    /// One of the three files a shapefile needs is not there.
    #[error("{file}: missing; a shapefile needs its .shp, .shx and .dbf files side by side")]
    MissingPart {
        /// The missing file.
        file: PathBuf,
    },
    /// The `.prj` names another coordinate system, so distances and the map would be wrong.
    #[error(
        "{file}: the projection is not British National Grid (EPSG:27700); reproject the boundaries first"
    )]
    WrongProjection {
        /// The `.prj` file.
        file: PathBuf,
    },
    /// The file exists but could not be read or parsed.
    #[error("{file}: {message}")]
    Read {
        /// The file that failed.
        file: PathBuf,
        /// What the reader said.
        message: String,
    },
    /// A record lacks the code or name field the caller asked for.
    #[error("{file}, record {record}: field '{field}' is missing or not text")]
    MissingField {
        /// The `.dbf` attribute table.
        file: PathBuf,
        /// Record number, from 1.
        record: usize,
        /// The field that was asked for.
        field: String,
    },
}

/// Reads every LSOA 2011 polygon of `shp` (fields `LSOA11CD`, `LSOA11NM`).
pub fn load_lsoa_boundaries(shp: &Path) -> Result<Vec<LsoaBoundary>, BoundaryError> {
    load_boundaries(shp, LSOA_FIELDS.0, LSOA_FIELDS.1)
}

/// Reads every polygon of `shp` with the text fields `code_field` and `name_field`.
///
/// The `.prj` is optional (many exports omit it), but when present it must name
/// British National Grid.
pub fn load_boundaries(
    shp: &Path,
    code_field: &str,
    name_field: &str,
) -> Result<Vec<AreaBoundary>, BoundaryError> {
    for extension in ["shp", "shx", "dbf"] {
        let part = shp.with_extension(extension);
        if !part.is_file() {
            return Err(BoundaryError::MissingPart { file: part });
        }
    }
    let prj = shp.with_extension("prj");
    match std::fs::read_to_string(&prj) {
        Ok(projection) if !is_british_national_grid(&projection) => {
            return Err(BoundaryError::WrongProjection { file: prj });
        }
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(BoundaryError::Read {
                file: prj,
                message: error.to_string(),
            });
        }
    }
    let read_error = |message: String| BoundaryError::Read {
        file: shp.to_path_buf(),
        message,
    };
    let mut reader = shapefile::Reader::from_path(shp).map_err(|e| read_error(e.to_string()))?;
    let mut areas = Vec::new();
    for (index, item) in reader
        .iter_shapes_and_records_as::<shapefile::Polygon, shapefile::dbase::Record>()
        .enumerate()
    {
        let (polygon, record) =
            item.map_err(|e| read_error(format!("record {}: {e}", index + 1)))?;
        let text = |field: &str| match record.get(field) {
            Some(FieldValue::Character(Some(value))) => Ok(value.trim().to_string()),
            _ => Err(BoundaryError::MissingField {
                file: shp.with_extension("dbf"),
                record: index + 1,
                field: field.to_string(),
            }),
        };
        let geometry = MultiPolygon::<f64>::try_from(polygon)
            .map_err(|e| read_error(format!("record {}: {e}", index + 1)))?;
        areas.push(AreaBoundary {
            code: text(code_field)?,
            name: text(name_field)?,
            geometry,
        });
    }
    Ok(areas)
}

/// True for a WKT projection naming British National Grid / OSGB 1936 transverse Mercator.
fn is_british_national_grid(wkt: &str) -> bool {
    let wkt = wkt.to_ascii_lowercase();
    wkt.contains("british_national_grid")
        || wkt.contains("british national grid")
        || wkt.contains("27700")
        || (wkt.contains("osgb") && wkt.contains("transverse_mercator"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lsoa_file() -> PathBuf {
        crate::bundled::repository_dir()
            .join("data-samples/ref/lsoa2011_bgc_bcp_dorset_northumberland.shp")
    }

    fn copy_parts(dir: &Path, extensions: &[&str]) -> PathBuf {
        for extension in extensions {
            std::fs::copy(
                lsoa_file().with_extension(extension),
                dir.join(format!("lsoa.{extension}")),
            )
            .expect("copy");
        }
        dir.join("lsoa.shp")
    }

    #[test]
    fn other_projection_is_refused_and_named() {
        let dir = tempfile::tempdir().expect("temp");
        let shp = copy_parts(dir.path(), &["shp", "shx", "dbf"]);
        std::fs::write(dir.path().join("lsoa.prj"), "GEOGCS[\"WGS 84\"]").expect("prj");
        let error = load_lsoa_boundaries(&shp).expect_err("wgs84");
        let message = error.to_string();
        assert!(message.contains("British National Grid"), "{message}");
        assert!(message.contains("lsoa.prj"), "{message}");
    }

    #[test]
    fn missing_prj_is_accepted() {
        let dir = tempfile::tempdir().expect("temp");
        let shp = copy_parts(dir.path(), &["shp", "shx", "dbf"]);
        assert_eq!(load_lsoa_boundaries(&shp).expect("loads").len(), 649);
    }

    #[test]
    fn missing_shx_is_named() {
        let dir = tempfile::tempdir().expect("temp");
        let shp = copy_parts(dir.path(), &["shp", "dbf", "prj"]);
        let error = load_lsoa_boundaries(&shp).expect_err("no shx");
        assert!(error.to_string().contains("lsoa.shx: missing"), "{error}");
    }

    #[test]
    fn wrong_field_names_the_field_and_record() {
        let error = load_boundaries(&lsoa_file(), "WD13CD", "WD13NM").expect_err("no ward field");
        let message = error.to_string();
        assert!(message.contains("'WD13CD'"), "{message}");
        assert!(message.contains("record 1"), "{message}");
    }
}
