//! Figures that screens and commands show, read from the `app`, `ref`, `core`
//! and `mart` schemas and the linkage's scored pairs (never from staging, so every
//! screen sees committed, processed data).

pub mod agenda;
pub mod audit;
pub mod claims;
pub mod effect;
pub mod families;
pub mod family_detail;
pub mod family_path;
pub mod flags;
pub mod linkage;
pub mod map;
pub mod meeting_pack;
pub mod models;
pub mod outcomes;
pub mod overview;
pub mod records;
pub mod refresh;
pub mod results;
pub mod round_history;
