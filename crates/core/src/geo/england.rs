//! The whole of England's LSOAs from the ONS super-generalised GeoJSON (WGS84
//! longitude/latitude), projected to British National Grid so that they share the
//! map's coordinates with the county's shapefiles. Used to show and measure the
//! map at national scale (32,844 LSOAs).

use std::path::Path;

use geo::{LineString, MultiPolygon, Polygon};
use geojson::{GeoJson, Value};
use proj4rs::proj::Proj;

use super::boundaries::{AreaBoundary, BoundaryError};

/// WGS84 longitude/latitude.
const WGS84: &str = "+proj=longlat +ellps=WGS84 +datum=WGS84 +no_defs";
/// British National Grid (EPSG:27700) with the OSGB36 Helmert shift, which is
/// within a few metres of OSTN15: far below a pixel on a national map.
const BRITISH_NATIONAL_GRID: &str = "+proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 \
    +x_0=400000 +y_0=-100000 +ellps=airy \
    +towgs84=446.448,-125.157,542.06,0.15,0.247,0.842,-20.489 +units=m +no_defs";

/// Projects WGS84 degrees to British National Grid metres.
pub struct ToBritishNationalGrid {
    from: Proj,
    to: Proj,
}

impl ToBritishNationalGrid {
    pub fn new() -> ToBritishNationalGrid {
        ToBritishNationalGrid {
            from: Proj::from_proj_string(WGS84).expect("a valid WGS84 definition"),
            to: Proj::from_proj_string(BRITISH_NATIONAL_GRID).expect("a valid BNG definition"),
        }
    }

    /// (easting, northing) of (longitude, latitude) in degrees.
    pub fn project(&self, longitude: f64, latitude: f64) -> Option<(f64, f64)> {
        let mut point = (longitude.to_radians(), latitude.to_radians(), 0.0);
        proj4rs::transform::transform(&self.from, &self.to, &mut point).ok()?;
        Some((point.0, point.1))
    }
}

impl Default for ToBritishNationalGrid {
    fn default() -> Self {
        Self::new()
    }
}

/// Reads every feature of a GeoJSON FeatureCollection of LSOAs (`LSOA11CD`,
/// `LSOA11NM`) in WGS84 (`.geojson` or `.geojson.gz`), projected to British National Grid.
pub fn load_england_lsoas(path: &Path) -> Result<Vec<AreaBoundary>, BoundaryError> {
    let fail = |message: String| BoundaryError::Read {
        file: path.to_path_buf(),
        message,
    };
    let text = read_text(path).map_err(|e| fail(e.to_string()))?;
    let GeoJson::FeatureCollection(collection) =
        text.parse::<GeoJson>().map_err(|e| fail(e.to_string()))?
    else {
        return Err(fail("expected a FeatureCollection".to_string()));
    };
    let projection = ToBritishNationalGrid::new();
    let ring = |points: &Vec<Vec<f64>>, feature: usize| -> Result<LineString<f64>, BoundaryError> {
        points
            .iter()
            .map(|p| match p.as_slice() {
                [lon, lat, ..] => projection.project(*lon, *lat).ok_or_else(|| {
                    fail(format!("feature {feature}: cannot project ({lon}, {lat})"))
                }),
                _ => Err(fail(format!(
                    "feature {feature}: a position without two numbers"
                ))),
            })
            .collect::<Result<Vec<(f64, f64)>, _>>()
            .map(LineString::from)
    };
    let polygon =
        |rings: &Vec<Vec<Vec<f64>>>, feature: usize| -> Result<Polygon<f64>, BoundaryError> {
            let mut rings = rings.iter().map(|r| ring(r, feature));
            let exterior = rings
                .next()
                .ok_or_else(|| fail(format!("feature {feature}: a polygon without rings")))??;
            Ok(Polygon::new(exterior, rings.collect::<Result<_, _>>()?))
        };
    let mut areas = Vec::with_capacity(collection.features.len());
    for (index, feature) in collection.features.iter().enumerate() {
        let number = index + 1;
        let text = |field: &str| {
            feature
                .property(field)
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| BoundaryError::MissingField {
                    file: path.to_path_buf(),
                    record: number,
                    field: field.to_string(),
                })
        };
        let geometry = match feature.geometry.as_ref().map(|g| &g.value) {
            Some(Value::Polygon(rings)) => MultiPolygon(vec![polygon(rings, number)?]),
            Some(Value::MultiPolygon(parts)) => MultiPolygon(
                parts
                    .iter()
                    .map(|rings| polygon(rings, number))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(fail(format!("feature {number}: not a polygon"))),
        };
        areas.push(AreaBoundary {
            code: text("LSOA11CD")?,
            name: text("LSOA11NM")?,
            geometry,
        });
    }
    Ok(areas)
}

/// A text file's contents, decompressed when its name ends in `.gz`.
pub fn read_text(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    crate::compressed::reader(path, std::fs::File::open(path)?).read_to_string(&mut text)?;
    Ok(text)
}

/// IMD 2019 decile, authority code and name of every LSOA in an IMD table laid out as
/// `imd2019_lsoa11_england.csv` (`.csv` or `.csv.gz`).
pub fn read_imd_deciles(
    path: &Path,
) -> Result<std::collections::HashMap<String, (u8, String, String)>, BoundaryError> {
    let fail = |message: String| BoundaryError::Read {
        file: path.to_path_buf(),
        message,
    };
    let text = read_text(path).map_err(|e| fail(e.to_string()))?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| fail(e.to_string()))?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| fail(format!("line 1: missing required column '{name}'")))
    };
    let (code, decile, la_code, la_name) = (
        column("lsoa11cd")?,
        column("imd_decile")?,
        column("lad19cd")?,
        column("lad19nm")?,
    );
    let mut deciles = std::collections::HashMap::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| fail(e.to_string()))?;
        let value: u8 = record[decile].trim().parse().map_err(|_| {
            fail(format!(
                "line {}, column 'imd_decile': '{}' is not a decile",
                index + 2,
                &record[decile]
            ))
        })?;
        deciles.insert(
            record[code].to_string(),
            (
                value,
                record[la_code].to_string(),
                record[la_name].to_string(),
            ),
        );
    }
    Ok(deciles)
}

/// England's LSOAs as map shapes: boundaries from `geojson`, deciles and
/// authorities from `imd`. No zones: those are a county's own.
pub fn england_shapes(
    geojson: &Path,
    imd: &Path,
) -> Result<Vec<super::lsoa_shapes::LsoaShape>, BoundaryError> {
    shapes_with_deciles(load_england_lsoas(geojson)?, geojson, imd)
}

/// Map shapes of `areas` (read from `file`) with their deciles and authorities
/// from the IMD table `imd`; an area missing from it is named.
pub fn shapes_with_deciles(
    areas: Vec<AreaBoundary>,
    file: &Path,
    imd: &Path,
) -> Result<Vec<super::lsoa_shapes::LsoaShape>, BoundaryError> {
    let deciles = read_imd_deciles(imd)?;
    areas
        .into_iter()
        .enumerate()
        .map(|(index, area)| {
            let Some((decile, la_code, la_name)) = deciles.get(&area.code) else {
                return Err(BoundaryError::Read {
                    file: file.to_path_buf(),
                    message: format!(
                        "record {}: LSOA {} is not in the IMD table {}",
                        index + 1,
                        area.code,
                        imd.display()
                    ),
                });
            };
            Ok(super::lsoa_shapes::LsoaShape {
                code: area.code,
                name: area.name,
                imd_decile: *decile,
                // England's shapes choose authorities; only a county's map sets
                // uptake beside a domain.
                domain_deciles: [None; 7],
                la_code: la_code.clone(),
                la_name: la_name.clone(),
                zone_id: None,
                zone_name: None,
                ward_code: None,
                geometry: area.geometry,
            })
        })
        .collect()
}

/// The bundled copies of England's boundaries and IMD, in a reference folder.
pub const ENGLAND_BOUNDARIES: &str = "lsoa2011_bsc_england.geojson.gz";
pub const ENGLAND_IMD: &str = "imd2019_lsoa11_england.csv.gz";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_places_land_on_their_grid_references() {
        let projection = ToBritishNationalGrid::new();
        // The OS's worked example (A guide to coordinate systems in Great Britain,
        // Annex C): 52°39'27.2531"N 1°43'4.5177"E on OSGB36 is 651409.903 E,
        // 313177.270 N. Read as WGS84 the point moves by the datum shift (about
        // 100 m here); a wrong projection would be kilometres out.
        let (e, n) = projection
            .project(
                1.0 + 43.0 / 60.0 + 4.5177 / 3600.0,
                52.0 + 39.0 / 60.0 + 27.2531 / 3600.0,
            )
            .expect("projects");
        assert!(
            (e - 651_409.9).abs() < 150.0 && (n - 313_177.3).abs() < 150.0,
            "{e} {n}"
        );
        // Greenwich observatory, about 538,900 E 177,200 N.
        let (e, n) = projection.project(-0.0015, 51.4778).expect("projects");
        assert!(
            (e - 538_900.0).abs() < 200.0 && (n - 177_200.0).abs() < 200.0,
            "{e} {n}"
        );
    }

    #[test]
    fn projected_england_boundaries_fall_on_the_county_shapefile() {
        // The county's shapefile was projected to British National Grid with pyproj;
        // the England GeoJSON is WGS84, projected here. Their generalisations differ
        // (super-generalised against generalised), so compare centres.
        use geo::Centroid;
        let reference = crate::bundled::repository_dir().join("data-samples/ref");
        let county = crate::geo::boundaries::load_lsoa_boundaries(
            &reference.join("lsoa2011_bgc_bcp_dorset_northumberland.shp"),
        )
        .expect("county");
        let england: std::collections::HashMap<String, geo::MultiPolygon<f64>> =
            load_england_lsoas(&reference.join(ENGLAND_BOUNDARIES))
                .expect("england")
                .into_iter()
                .map(|a| (a.code, a.geometry))
                .collect();
        assert_eq!(england.len(), 32_844);
        let mut distances: Vec<f64> = county
            .iter()
            .map(|area| {
                let a = area.geometry.centroid().expect("centre");
                let b = england[&area.code].centroid().expect("centre");
                ((a.x() - b.x()).powi(2) + (a.y() - b.y()).powi(2)).sqrt()
            })
            .collect();
        distances.sort_by(f64::total_cmp);
        let median = distances[distances.len() / 2];
        // Measured: median 32 m, from the two generalisations; a wrong datum or
        // projection would put them hundreds of metres to kilometres apart.
        assert!(median < 60.0, "median centre distance {median} m");
        assert!(
            distances[distances.len() - 1] < 1000.0,
            "{:?}",
            distances.last()
        );
    }
}
