//! Loads polygon boundaries (LSOAs, wards) from ESRI shapefiles in British National
//! Grid. The zone builder uses them for contiguity; the map view will draw them.

use std::path::{Path, PathBuf};

use geo::MultiPolygon;
use shapefile::dbase::FieldValue;

/// One area's boundary with its code and name from the attribute table.
#[derive(Debug, Clone)]
pub struct AreaBoundary {
    pub code: String,
    pub name: String,
    pub geometry: MultiPolygon<f64>,
}

/// Why a boundary file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BoundaryError {
    #[error("{file}: missing; a shapefile needs its .shp, .shx and .dbf files side by side")]
    MissingPart { file: PathBuf },
    #[error(
        "{file}: the projection is not British National Grid (EPSG:27700); reproject the boundaries first"
    )]
    WrongProjection { file: PathBuf },
    #[error("{file}: {message}")]
    Read { file: PathBuf, message: String },
    #[error("{file}, record {record}: field '{field}' is missing or not text")]
    MissingField {
        file: PathBuf,
        record: usize,
        field: String,
    },
}

/// Reads every polygon of `shp` with the text fields `code_field` and `name_field`.
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
    if let Ok(projection) = std::fs::read_to_string(&prj)
        && !is_british_national_grid(&projection)
    {
        return Err(BoundaryError::WrongProjection { file: prj });
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
        let (polygon, record) = item.map_err(|e| read_error(e.to_string()))?;
        let text = |field: &str| match record.get(field) {
            Some(FieldValue::Character(Some(value))) => Ok(value.trim().to_string()),
            _ => Err(BoundaryError::MissingField {
                file: shp.to_path_buf(),
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
    use geo::{BoundingRect, Centroid};

    fn lsoa_file() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data-samples/ref/lsoa2011_bgc_bcp_dorset_northumberland.shp")
    }

    #[test]
    fn loads_every_lsoa_in_national_grid_metres() {
        let areas = load_boundaries(&lsoa_file(), "LSOA11CD", "LSOA11NM").expect("loads");
        assert_eq!(areas.len(), 649);
        for area in &areas {
            let centre = area.geometry.centroid().expect("centroid");
            // Northumberland lies north of northing 540 km; Dorset and BCP south of 150 km.
            let northern = centre.y() > 540_000.0;
            let southern = centre.y() < 150_000.0;
            assert!(northern || southern, "{} at {:?}", area.code, centre);
            assert!(area.geometry.bounding_rect().is_some());
        }
    }

    /// Copies the named parts of the LSOA shapefile into `dir` as `lsoa.*`.
    fn copy_parts(dir: &Path, extensions: &[&str]) {
        for extension in extensions {
            std::fs::copy(
                lsoa_file().with_extension(extension),
                dir.join(format!("lsoa.{extension}")),
            )
            .expect("copy");
        }
    }

    #[test]
    fn missing_dbf_is_named() {
        let dir = tempfile::tempdir().expect("temp");
        copy_parts(dir.path(), &["shp", "shx", "prj"]);
        let error = load_boundaries(&dir.path().join("lsoa.shp"), "LSOA11CD", "LSOA11NM")
            .expect_err("no dbf");
        assert!(error.to_string().contains("lsoa.dbf: missing"), "{error}");
    }

    #[test]
    fn other_projection_is_refused() {
        let dir = tempfile::tempdir().expect("temp");
        copy_parts(dir.path(), &["shp", "shx", "dbf"]);
        std::fs::write(dir.path().join("lsoa.prj"), "GEOGCS[\"WGS 84\"]").expect("prj");
        let error = load_boundaries(&dir.path().join("lsoa.shp"), "LSOA11CD", "LSOA11NM")
            .expect_err("wgs84");
        assert!(
            error.to_string().contains("British National Grid"),
            "{error}"
        );
    }
}
