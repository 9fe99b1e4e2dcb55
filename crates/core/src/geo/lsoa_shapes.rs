//! Reads the LSOA boundaries that ingest stored in `ref.lsoa_vertex` back into
//! polygons, with each LSOA's name and IMD decile (overall and by domain), for
//! the map.

use duckdb::Connection;
use geo::{LineString, MultiPolygon, Polygon};

/// One LSOA's outline and the figures the map always shows.
#[derive(Debug, Clone, PartialEq)]
pub struct LsoaShape {
    pub code: String,
    pub name: String,
    /// IMD 2019 decile, 1 = the most deprived 10% of England.
    pub imd_decile: u8,
    /// Each IMD domain's decile, in the order of
    /// [`super::imd_domain::ImdDomain::ALL`]; `None` in a
    /// database loaded before the domains were kept.
    pub domain_deciles: [Option<u8>; 7],
    /// Local authority (LAD 2019) code and name.
    pub la_code: String,
    pub la_name: String,
    /// Family partnership zone, where the LSOA is in one.
    pub zone_id: Option<String>,
    pub zone_name: Option<String>,
    /// Best-fit electoral ward, where the database has the ward lookup.
    pub ward_code: Option<String>,
    /// British National Grid metres.
    pub geometry: MultiPolygon<f64>,
}

/// Every LSOA with a boundary in `ref.lsoa_vertex`, ordered by code. Empty when
/// the database was loaded without boundaries.
pub fn read_lsoa_shapes(conn: &Connection) -> Result<Vec<LsoaShape>, duckdb::Error> {
    let mut statement = conn.prepare(
        "SELECT v.lsoa_code, v.part, v.ring, v.x, v.y, l.lsoa_name, l.imd_decile, l.la_code,
                z.zone_id, l.la_name, zn.name, w.ward_code, l.income_decile,
                l.employment_decile, l.education_decile, l.health_decile, l.crime_decile,
                l.housing_services_decile, l.living_env_decile
         FROM ref.lsoa_vertex v
         JOIN ref.lsoa l USING (lsoa_code)
         LEFT JOIN ref.lsoa_zone z USING (lsoa_code)
         LEFT JOIN ref.lsoa_ward w USING (lsoa_code)
         LEFT JOIN ref.zone zn ON zn.zone_id = z.zone_id
         ORDER BY v.lsoa_code, v.part, v.ring, v.seq",
    )?;
    let mut rows = statement.query([])?;
    let mut shapes: Vec<LsoaShape> = Vec::new();
    // The polygon being assembled: its rings so far, and the ring being read.
    let mut rings: Vec<LineString<f64>> = Vec::new();
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut at: Option<(String, i32, i32)> = None;
    while let Some(row) = rows.next()? {
        let code: String = row.get(0)?;
        let part: i32 = row.get(1)?;
        let ring: i32 = row.get(2)?;
        let here = (code.clone(), part, ring);
        if at.as_ref() != Some(&here) {
            if let Some((previous, previous_part, _)) = at.take() {
                rings.push(LineString::from(std::mem::take(&mut points)));
                if previous != code || previous_part != part {
                    finish_polygon(&mut shapes, &mut rings);
                }
            }
            if shapes.last().is_none_or(|s| s.code != code) {
                let mut domain_deciles = [None; 7];
                for (at, decile) in domain_deciles.iter_mut().enumerate() {
                    *decile = row
                        .get::<_, Option<i32>>(12 + at)?
                        .map(|d| d.clamp(1, 10) as u8);
                }
                shapes.push(LsoaShape {
                    code: code.clone(),
                    name: row.get(5)?,
                    imd_decile: row.get::<_, i32>(6)?.clamp(1, 10) as u8,
                    domain_deciles,
                    la_code: row.get(7)?,
                    zone_id: row.get(8)?,
                    la_name: row.get(9)?,
                    zone_name: row.get(10)?,
                    ward_code: row.get(11)?,
                    geometry: MultiPolygon(Vec::new()),
                });
            }
            at = Some(here);
        }
        points.push((row.get(3)?, row.get(4)?));
    }
    if at.is_some() {
        rings.push(LineString::from(points));
        finish_polygon(&mut shapes, &mut rings);
    }
    Ok(shapes)
}

/// Adds the rings read so far (exterior first) as one polygon of the last shape.
fn finish_polygon(shapes: &mut [LsoaShape], rings: &mut Vec<LineString<f64>>) {
    let mut drained = rings.drain(..);
    if let (Some(shape), Some(exterior)) = (shapes.last_mut(), drained.next()) {
        shape
            .geometry
            .0
            .push(Polygon::new(exterior, drained.collect()));
    }
}
