//! What the window remembers between sessions, in eframe's storage (a file in
//! the user's application-data folder: `~/.local/share/zonewise` on Linux,
//! `%APPDATA%\zonewise` on Windows): the council databases opened recently,
//! the last view, and the map's choices. Never anything read from a database:
//! no figure, name or record, and no user name or password.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::map_view::{Classes, ColourBy, MapState, NeedSource, Palette};
use super::views::View;
use crate::uptake::Level;

/// How many recent databases are offered.
pub const RECENT_LIMIT: usize = 8;

/// The key the settings are stored under.
const KEY: &str = "zonewise-settings";

/// What the window remembers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Council database files opened, most recent first (never the sample,
    /// which is always offered).
    pub recent: Vec<PathBuf>,
    /// The view on screen when the window closed.
    pub view: Option<View>,
    pub map: Option<MapChoices>,
}

/// The Map view's choices of what to show and how.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MapChoices {
    pub colour_by: ColourBy,
    pub classes: Classes,
    pub palette: Palette,
    pub map_level: Level,
    pub area_level: Level,
    /// The need view ([`MapState::need_view`]); absent from older settings.
    #[serde(default)]
    pub need_view: bool,
    /// Its need ([`MapState::need_source`]); absent from older settings.
    #[serde(default)]
    pub need_source: NeedSource,
}

impl MapChoices {
    /// The choices `map` shows now.
    pub fn of(map: &MapState) -> MapChoices {
        MapChoices {
            colour_by: map.colour_by,
            classes: map.classes,
            palette: map.palette,
            map_level: map.map_level,
            area_level: map.area_level,
            need_view: map.need_view,
            need_source: map.need_source,
        }
    }

    /// Shows these choices on `map`. Custom breaks are not kept, so custom
    /// classes fall back to quantiles.
    pub fn apply(self, map: &mut MapState) {
        map.colour_by = self.colour_by;
        map.classes = match self.classes {
            Classes::Custom => Classes::Quantile,
            classes => classes,
        };
        map.palette = self.palette;
        map.map_level = self.map_level;
        map.area_level = self.area_level;
        map.need_view = self.need_view;
        map.need_source = self.need_source;
        map.level_chosen = true;
    }
}

impl Settings {
    /// The settings kept in `storage`; the defaults when there are none or
    /// they cannot be read (an older or damaged file is not an error).
    pub fn load(storage: Option<&dyn eframe::Storage>) -> Settings {
        storage
            .and_then(|storage| eframe::get_value(storage, KEY))
            .unwrap_or_default()
    }

    /// Keeps the settings in `storage` (eframe writes them out).
    pub fn save(&self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, KEY, self);
    }

    /// Puts `path` first among the recent databases, once, keeping the newest
    /// [`RECENT_LIMIT`].
    pub fn remember_database(&mut self, path: &Path) {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        self.recent.retain(|known| known != &path);
        self.recent.insert(0, path);
        self.recent.truncate(RECENT_LIMIT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// eframe's storage, in memory.
    #[derive(Default)]
    struct Memory(HashMap<String, String>);

    impl eframe::Storage for Memory {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_string(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }

    #[test]
    fn recent_databases_are_newest_first_once_each_and_at_most_eight() {
        let mut settings = Settings::default();
        for n in 0..10 {
            settings.remember_database(Path::new(&format!("/data/county-{n}.duckdb")));
        }
        settings.remember_database(Path::new("/data/county-5.duckdb"));
        let names: Vec<String> = settings
            .recent
            .iter()
            .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [5, 9, 8, 7, 6, 4, 3, 2].map(|n| format!("county-{n}.duckdb"))
        );
    }

    #[test]
    fn settings_survive_the_storage_and_a_damaged_file_gives_the_defaults() {
        let mut storage = Memory::default();
        assert_eq!(Settings::load(Some(&storage)), Settings::default());
        let settings = Settings {
            recent: vec![PathBuf::from("/data/county.duckdb")],
            view: Some(View::RoundTable),
            map: Some(MapChoices {
                colour_by: ColourBy::Uptake,
                classes: Classes::EqualInterval,
                palette: Palette::Diverging,
                map_level: Level::Zone,
                area_level: Level::Ward,
                need_view: true,
                need_source: NeedSource::Domain(crate::geo::imd_domain::ImdDomain::Health),
            }),
        };
        settings.save(&mut storage);
        assert_eq!(Settings::load(Some(&storage)), settings);
        // Settings kept before the need view existed still load, without it.
        let kept = eframe::Storage::get_string(&storage, KEY).expect("kept");
        let older = kept.replace(",need_view:true", "");
        let older = older.replace(",need_source:Domain(Health)", "");
        assert_ne!(older, kept, "{kept}");
        eframe::Storage::set_string(&mut storage, KEY, older);
        let loaded = Settings::load(Some(&storage)).map.expect("map choices");
        assert_eq!(
            (loaded.map_level, loaded.need_view, loaded.need_source),
            (Level::Zone, false, NeedSource::Eligible)
        );
        eframe::Storage::set_string(&mut storage, KEY, "not settings".to_string());
        assert_eq!(Settings::load(Some(&storage)), Settings::default());
    }

    #[test]
    fn custom_classes_are_not_restored_without_their_breaks() {
        let mut map = MapState::default();
        map.classes = Classes::Custom;
        map.map_level = Level::Zone;
        let choices = MapChoices::of(&map);
        let mut restored = MapState::default();
        choices.apply(&mut restored);
        assert_eq!(restored.classes, Classes::Quantile);
        assert_eq!(restored.map_level, Level::Zone);
    }
}
