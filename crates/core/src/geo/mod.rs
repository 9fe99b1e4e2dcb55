//! Geography: LSOA boundaries in British National Grid (EPSG:27700, metres).

pub mod arcs;
pub mod best_fit;
pub mod boundaries;
pub mod england;
pub mod imd_domain;
pub mod lsoa_shapes;
