//! Loads LSOA boundaries (an ESRI shapefile in British National Grid, or a
//! GeoJSON file in WGS84 longitude/latitude as ONS publishes it and a new
//! council's database cuts it from England's) into `ref.lsoa_vertex`, one row per vertex, so that the map reads its geometry from
//! the same database as its figures and a database file stands alone.
//!
//! Every LSOA in the file must be in the IMD table: a boundary without
//! deprivation figures could not be coloured or counted, and usually means the
//! wrong vintage (LSOA 2021 codes against IMD 2019's 2011 codes).

use std::path::Path;

use duckdb::Connection;

use super::error::IngestError;
use crate::geo::boundaries::{AreaBoundary, BoundaryError, load_lsoa_boundaries};

/// Replaces `ref.lsoa_vertex` with the polygons of `shp`, and returns them (wards
/// are fitted to them next).
pub fn load(conn: &Connection, shp: &Path) -> Result<Vec<AreaBoundary>, IngestError> {
    let fail = |message: String| IngestError::Reference {
        file: shp.to_path_buf(),
        message,
    };
    let name = shp.to_string_lossy().to_ascii_lowercase();
    let areas = if name.ends_with(".geojson") || name.ends_with(".geojson.gz") {
        crate::geo::england::load_england_lsoas(shp)
    } else {
        load_lsoa_boundaries(shp)
    }
    .map_err(|error| boundary_error(error, shp))?;
    let known: std::collections::HashSet<String> = conn
        .prepare("SELECT lsoa_code FROM ref.lsoa")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for (index, area) in areas.iter().enumerate() {
        if !known.contains(&area.code) {
            return Err(fail(format!(
                "record {}: LSOA {} ({}) is not in the IMD table; the boundaries and the IMD must be the same LSOA vintage",
                index + 1,
                area.code,
                area.name
            )));
        }
    }
    conn.execute_batch("DELETE FROM ref.lsoa_vertex;")?;
    let mut appender = conn.appender_to_db("lsoa_vertex", "ref")?;
    for area in &areas {
        for (part, polygon) in area.geometry.0.iter().enumerate() {
            let rings = std::iter::once(polygon.exterior()).chain(polygon.interiors());
            for (ring, line) in rings.enumerate() {
                for (seq, point) in line.0.iter().enumerate() {
                    appender.append_row(duckdb::params![
                        area.code,
                        part as i32,
                        ring as i32,
                        seq as i32,
                        point.x,
                        point.y
                    ])?;
                }
            }
        }
    }
    appender.flush()?;
    Ok(areas)
}

/// A boundary loader's error as an ingest error naming the file at fault (the
/// `.shx`, `.dbf` or `.prj` beside `shp`, or `shp` itself).
pub fn boundary_error(error: BoundaryError, shp: &Path) -> IngestError {
    match error {
        BoundaryError::MissingPart { file } | BoundaryError::WrongProjection { file } => {
            IngestError::Reference {
                message: error_text(&file, shp),
                file,
            }
        }
        other => IngestError::Reference {
            file: shp.to_path_buf(),
            message: other.to_string(),
        },
    }
}

/// The boundary error's message for `file`, which is one part of the shapefile `shp`.
fn error_text(file: &Path, shp: &Path) -> String {
    if file.extension().is_some_and(|e| e == "prj") {
        "the projection is not British National Grid (EPSG:27700); reproject the boundaries first"
            .to_string()
    } else {
        format!(
            "missing; the shapefile {} needs its .shp, .shx and .dbf files side by side",
            shp.display()
        )
    }
}
