//! Figures that screens and commands show, read from the `app`, `ref`, `core`
//! and `mart` schemas (never from staging, so every screen sees committed data).

pub mod overview;
