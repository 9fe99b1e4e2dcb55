//! Where the data that ships with Zonewise lives: the sample county and the
//! England-wide reference data beside it. Low in the tree because the synthetic
//! county's generator, the benchmarks and the app all default to it.

use std::path::{Path, PathBuf};

/// The repository's folder, which holds `data-samples/` and `models/` (this
/// crate's manifest is two folders below it).
pub fn repository_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The folder with the sample county's manifest: `$ZONEWISE_SAMPLE`, else `data-samples/county`.
pub fn sample_dir() -> PathBuf {
    std::env::var_os("ZONEWISE_SAMPLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repository_dir().join("data-samples/county"))
}

/// The reference data beside the sample county (`data-samples/ref`): IMD,
/// population, boundaries, and England's boundaries and IMD for the map.
pub fn reference_dir() -> PathBuf {
    let sample = sample_dir();
    sample
        .parent()
        .map_or_else(|| sample.join("../ref"), |parent| parent.join("ref"))
}
