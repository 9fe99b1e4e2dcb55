//! What the Map view shows: every LSOA's boundary and IMD decile, and each
//! built-in service's uptake tables, always suppressed (the map is the
//! commissioner's screen, so it only ever holds [`Published`] figures).

use duckdb::Connection;

use crate::geo::lsoa_shapes::{LsoaShape, read_lsoa_shapes};
use crate::store::StoreError;
use crate::uptake::{self, Published, UptakeOptions, suppress};

/// One service's published uptake.
#[derive(Clone)]
pub struct ServiceFigures {
    pub name: String,
    pub title: String,
    pub published: Published,
    /// For each of the figures' shapes, its row in `published`'s LSOA table: found
    /// once here, not searched for on every frame.
    pub rows_by_shape: Vec<Option<usize>>,
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

/// Reads the boundaries and computes and suppresses each built-in service's uptake
/// at the extract date, with the default suppression threshold.
pub fn read_map_figures(conn: &Connection) -> Result<MapFigures, StoreError> {
    let shapes = read_lsoa_shapes(conn)?;
    let mut figures = MapFigures {
        shapes,
        ..MapFigures::default()
    };
    let services = match uptake::service::built_in() {
        Ok(services) => services,
        Err(error) => {
            figures.uptake_error = Some(error.to_string());
            return Ok(figures);
        }
    };
    for service in &services {
        match uptake::compute(conn, service, &UptakeOptions::default()) {
            Ok(tables) => {
                let published = suppress::suppress(&tables, suppress::DEFAULT_THRESHOLD);
                let row_of: std::collections::HashMap<&str, usize> = published
                    .tables()
                    .lsoas
                    .iter()
                    .enumerate()
                    .map(|(k, row)| (row.code.as_str(), k))
                    .collect();
                let rows_by_shape = figures
                    .shapes
                    .iter()
                    .map(|shape| row_of.get(shape.code.as_str()).copied())
                    .collect();
                figures.services.push(ServiceFigures {
                    name: service.name.clone(),
                    title: service.title.clone(),
                    published,
                    rows_by_shape,
                });
            }
            Err(error) => {
                figures.uptake_error = Some(error.to_string());
                break;
            }
        }
    }
    Ok(figures)
}
