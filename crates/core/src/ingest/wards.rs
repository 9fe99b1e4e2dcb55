//! Loads electoral ward boundaries and fits each LSOA to one ward (the ward that
//! holds its centroid, see [`crate::geo::best_fit`]) into `ref.ward` and
//! `ref.lsoa_ward`, so that uptake can be counted per ward. LSOAs do not nest in
//! wards, so ward figures are best-fit approximations, and the tables say so.

use std::path::Path;

use duckdb::Connection;

use super::boundaries::boundary_error;
use super::error::IngestError;
use crate::geo::best_fit::best_fit;
use crate::geo::boundaries::{AreaBoundary, WARD_FIELDS, load_boundaries};

/// Replaces `ref.ward` and `ref.lsoa_ward` from the ward shapefile `shp` and the
/// LSOA polygons just loaded. Returns the number of wards some LSOA fits.
pub fn load(conn: &Connection, shp: &Path, lsoas: &[AreaBoundary]) -> Result<usize, IngestError> {
    let wards =
        load_boundaries(shp, WARD_FIELDS.0, WARD_FIELDS.1).map_err(|e| boundary_error(e, shp))?;
    if wards.is_empty() {
        return Err(IngestError::Reference {
            file: shp.to_path_buf(),
            message: "the ward shapefile holds no wards".to_string(),
        });
    }
    let fits = best_fit(lsoas, &wards);
    let mut used = vec![false; wards.len()];
    conn.execute_batch("DELETE FROM ref.lsoa_ward; DELETE FROM ref.ward;")?;
    {
        let mut appender = conn.appender_to_db("lsoa_ward", "ref")?;
        for (lsoa, fit) in lsoas.iter().zip(&fits) {
            let Some((ward, how)) = fit else {
                continue;
            };
            used[*ward] = true;
            appender.append_row(duckdb::params![lsoa.code, wards[*ward].code, how.key()])?;
        }
    }
    let mut appender = conn.appender_to_db("ward", "ref")?;
    let mut seen = std::collections::HashSet::new();
    for (ward, _) in wards.iter().zip(&used).filter(|(_, used)| **used) {
        // A ward in several records (parts of one ward) is one ward.
        if seen.insert(ward.code.as_str()) {
            appender.append_row(duckdb::params![ward.code, ward.name])?;
        }
    }
    appender.flush()?;
    Ok(seen.len())
}
