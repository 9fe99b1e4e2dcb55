//! What the Map view shows: every LSOA's boundary and IMD decile, and the uptake
//! tables of each built-in service and each defined in the app, always suppressed (the map is the
//! commissioner's screen, so it only ever holds [`Published`] figures).

use std::collections::HashMap;

use duckdb::Connection;

use crate::geo::lsoa_shapes::{LsoaShape, read_lsoa_shapes};
use crate::store::StoreError;
use crate::uptake::{self, Level, Published, Service, UptakeOptions, UptakeRow};

/// One service's published uptake.
#[derive(Clone)]
pub struct ServiceFigures {
    pub name: String,
    pub title: String,
    pub published: Published,
    /// How it is counted: for the analyst editing a saved service, the
    /// definition the form opens with.
    pub service: Service,
    /// For each of the figures' shapes, its row in each of `published`'s area
    /// tables: found once here, not searched for on every frame.
    rows_by_shape: ShapeRows,
}

/// Per shape, the index of its LSOA's row and of its ward's, zone's and
/// authority's rows in the published tables.
#[derive(Clone, Default)]
struct ShapeRows {
    lsoa: Vec<Option<usize>>,
    ward: Vec<Option<usize>>,
    zone: Vec<Option<usize>>,
    authority: Vec<Option<usize>>,
}

impl ServiceFigures {
    /// The row of shape `shape`'s area at `level` (its LSOA, ward, zone or
    /// authority), when the published tables have one.
    pub fn shape_row(&self, level: Level, shape: usize) -> Option<&UptakeRow> {
        let tables = self.published.tables();
        let (rows, table) = match level {
            Level::Lsoa => (&self.rows_by_shape.lsoa, &tables.lsoas),
            Level::Ward => (&self.rows_by_shape.ward, &tables.wards),
            Level::Zone => (&self.rows_by_shape.zone, &tables.zones),
            Level::Authority => (&self.rows_by_shape.authority, &tables.authorities),
            _ => return None,
        };
        rows.get(shape).copied().flatten().map(|k| &table[k])
    }
}

/// For each shape, the index of the row in `rows` whose code is the shape's `key`.
fn index_rows(
    shapes: &[LsoaShape],
    rows: &[UptakeRow],
    key: impl Fn(&LsoaShape) -> Option<&str>,
) -> Vec<Option<usize>> {
    let row_of: HashMap<&str, usize> = rows
        .iter()
        .enumerate()
        .map(|(k, row)| (row.code.as_str(), k))
        .collect();
    shapes
        .iter()
        .map(|shape| key(shape).and_then(|code| row_of.get(code).copied()))
        .collect()
}

/// The Map view's data.
#[derive(Clone, Default)]
pub struct MapFigures {
    pub shapes: Vec<LsoaShape>,
    pub services: Vec<ServiceFigures>,
    /// Why there are no service figures (no linkage yet, say), for the screen to say.
    pub uptake_error: Option<String>,
}

impl std::fmt::Debug for MapFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapFigures")
            .field("shapes", &self.shapes.len())
            .field("services", &self.services.len())
            .field("uptake_error", &self.uptake_error)
            .finish()
    }
}

/// Reads the boundaries and computes the uptake of each service (the built-ins,
/// then those saved in the app) at the extract date, suppressed together with
/// the default threshold by [`uptake::published_all`], as [`uptake::published`]
/// suppresses each. A saved service that can no longer be counted (its event
/// type gone after a reload) is left out and said why; a built-in that cannot
/// be counted stops the map's uptake, said why.
pub fn read_map_figures(conn: &Connection) -> Result<MapFigures, StoreError> {
    let shapes = read_lsoa_shapes(conn)?;
    let mut figures = MapFigures {
        shapes,
        ..MapFigures::default()
    };
    let services = match uptake::saved::available(conn) {
        Ok(services) => services,
        Err(error) => {
            figures.uptake_error = Some(error.to_string());
            return Ok(figures);
        }
    };
    let all: Vec<&Service> = services.iter().collect();
    let published = match uptake::published_all(
        conn,
        &all,
        &UptakeOptions::default(),
        uptake::DEFAULT_THRESHOLD,
    ) {
        Ok(published) => published,
        Err(error) => {
            figures.uptake_error = Some(error.to_string());
            return Ok(figures);
        }
    };
    for (service, published) in services.into_iter().zip(published) {
        let published = match published {
            Ok(published) => published,
            Err(error) => {
                figures.uptake_error = Some(error.to_string());
                if service.is_built_in() {
                    figures.services.clear();
                    return Ok(figures);
                }
                continue;
            }
        };
        let shown = published.tables();
        let shapes = &figures.shapes;
        let rows_by_shape = ShapeRows {
            lsoa: index_rows(shapes, &shown.lsoas, |s| Some(s.code.as_str())),
            ward: index_rows(shapes, &shown.wards, |s| s.ward_code.as_deref()),
            zone: index_rows(shapes, &shown.zones, |s| s.zone_id.as_deref()),
            authority: index_rows(shapes, &shown.authorities, |s| Some(s.la_code.as_str())),
        };
        figures.services.push(ServiceFigures {
            name: service.name.clone(),
            title: service.title.clone(),
            published,
            rows_by_shape,
            service,
        });
    }
    Ok(figures)
}
