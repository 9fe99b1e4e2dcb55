//! The command line with no command: which database the window opens, and on
//! which view, family, person or map layer.

use std::path::PathBuf;

use crate::geo::imd_domain::ImdDomain;
use crate::ui::map_view::{Classes, MAP_LEVELS, MapState, NeedSource, Palette, ServiceForm};
use crate::ui::round_table::{Page, RoundTableState};
use crate::ui::{DatabaseChoice, LinkageState, LinkageTab, View, ZonewiseApp};
use crate::uptake::Level;

/// How the window opens.
#[derive(Debug, Clone, clap::Args)]
pub struct WindowArgs {
    /// Open this database (made by `zonewise ingest`) instead of the sample county.
    #[arg(long)]
    pub db: Option<PathBuf>,

    /// Save a PNG screenshot of the window to this file once the data is shown, then exit.
    #[arg(long)]
    pub screenshot: Option<PathBuf>,

    /// The view to open (by default the one open when the window last closed).
    #[arg(long, ignore_case = true)]
    pub view: Option<View>,

    /// Open the Linkage view's review queue.
    #[arg(long, conflicts_with = "find")]
    pub review: bool,

    /// Open the Linkage view on the first person whose name, id or NHS number contains this.
    #[arg(long)]
    pub find: Option<String>,

    /// Open a family: its id, or `top` for the highest-ranked. With `--view round-table`
    /// the family is picked on its zone's agenda (masked); otherwise Families opens it.
    #[arg(long, conflicts_with_all = ["find", "review"])]
    pub family: Option<String>,

    /// Open the Round table's Outcomes page (of the zone `--family` picks, else the first).
    #[arg(long, conflicts_with_all = ["find", "review"])]
    pub outcomes: bool,

    /// Open the Map view on all of England's LSOAs.
    #[arg(long, conflicts_with_all = ["find", "review"])]
    pub england: bool,

    /// Open the Map view with rates mapped by this level, in the diverging palette
    /// when followed by `--diverging`.
    #[arg(long, ignore_case = true, conflicts_with_all = ["find", "review", "england"])]
    pub map_by: Option<MapLevel>,

    /// With `--map-by`: colour rates red below the county's rate and blue above, in
    /// classes of equal width either side of it.
    #[arg(long, requires = "map_by")]
    pub diverging: bool,

    /// With `--map-by`: colour by need beside the rate, people eligible against
    /// uptake in a 3×3 bivariate palette.
    #[arg(long, requires = "map_by", conflicts_with = "diverging")]
    pub need: bool,

    /// With `--need`: need as this IMD 2019 domain rather than people eligible
    /// (income, employment, education, health, crime, housing_services or
    /// living_env).
    #[arg(long, requires = "need", value_parser = domain_of)]
    pub need_domain: Option<ImdDomain>,

    /// Open the Map view with "Define a service…" filled in with an example
    /// (NHS Health Checks for women) and its counts (analysts only).
    #[arg(long, conflicts_with_all = ["find", "review", "family", "england", "map_by"])]
    pub define_service: bool,

    /// Open "New database…" on its extracts step with these extract files
    /// added, their column roles guessed.
    #[arg(long, num_args = 1.., conflicts_with_all = ["find", "review", "family", "england", "map_by"])]
    pub new_database: Vec<PathBuf>,
}

/// `--map-by` on the command line: the levels the Map view can colour by
/// ([`MAP_LEVELS`]), by their table names. Deciles, quintiles and the county
/// are not areas of the map, so they are not offered. (A wrapper, because
/// `Level` belongs to the core crate, which knows nothing of the map.)
#[derive(Debug, Clone, Copy)]
pub struct MapLevel(pub Level);

/// [`MAP_LEVELS`], wrapped for clap.
const MAP_LEVEL_VALUES: [MapLevel; MAP_LEVELS.len()] = [
    MapLevel(MAP_LEVELS[0]),
    MapLevel(MAP_LEVELS[1]),
    MapLevel(MAP_LEVELS[2]),
    MapLevel(MAP_LEVELS[3]),
];

impl clap::ValueEnum for MapLevel {
    fn value_variants<'a>() -> &'a [Self] {
        &MAP_LEVEL_VALUES
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.0.key()))
    }
}

impl WindowArgs {
    /// Opens the window; `sign_in_as` signs in at once with the password in the
    /// environment, else starts the sign-in form with that name.
    pub fn open(self, sign_in_as: Option<String>) -> anyhow::Result<()> {
        let database = match self.db {
            Some(path) => DatabaseChoice::File(path),
            None => DatabaseChoice::sample(),
        };
        let chooses_what_to_show = self.view.is_some()
            || self.review
            || self.find.is_some()
            || self.family.is_some()
            || self.outcomes
            || self.england
            || self.map_by.is_some()
            || !self.new_database.is_empty()
            || self.define_service
            || self.screenshot.is_some();
        let mut app = ZonewiseApp::new(database);
        if let Some(view) = self.view {
            app.view = view;
        }
        if !chooses_what_to_show {
            app = app.with_last_view_restored();
        }
        // On a database with users: signed in at once with the password from
        // the environment, else the sign-in form starts with this name.
        if let Some(user) = sign_in_as {
            match std::env::var(crate::access::cli::PASSWORD_VARIABLE) {
                Ok(password) => app = app.with_sign_in(user, password),
                Err(_) => app.login.user = user,
            }
        }
        if self.review {
            app.view = View::Linkage;
            app.screen_mut::<LinkageState>().tab = LinkageTab::Review;
        }
        if let Some(text) = self.find {
            app = app.with_person_search(text);
        }
        if let Some(family) = self.family {
            app = app.with_family(family);
        }
        if self.outcomes {
            app.view = View::RoundTable;
            app.screen_mut::<RoundTableState>().page = Page::Outcomes;
        }
        if self.england {
            app.view = View::Map;
            app.screen_mut::<MapState>().show_england();
        }
        if let Some(MapLevel(level)) = self.map_by {
            app.view = View::Map;
            let map = app.screen_mut::<MapState>();
            map.map_level = level;
            map.area_level = level;
            map.level_chosen = true;
            if self.diverging {
                map.palette = Palette::Diverging;
                map.classes = Classes::EqualInterval;
            }
            map.need_view = self.need;
            if let Some(domain) = self.need_domain {
                map.need_source = NeedSource::Domain(domain);
            }
        }
        if self.define_service {
            app.view = View::Map;
            app.screen_mut::<MapState>().service_form = ServiceForm::example();
        }
        if !self.new_database.is_empty() {
            app = app.with_new_database(self.new_database);
        }
        if let Some(path) = self.screenshot {
            let view = app.view;
            app = app.with_screenshot(view, path);
        }
        crate::ui::run_window(app)
    }
}

/// `--need-domain`: a domain by its column's name less `_decile`.
fn domain_of(text: &str) -> Result<ImdDomain, String> {
    let key = |domain: &ImdDomain| domain.column().trim_end_matches("_decile");
    ImdDomain::ALL
        .iter()
        .find(|domain| key(domain).eq_ignore_ascii_case(text))
        .copied()
        .ok_or_else(|| {
            let keys: Vec<&str> = ImdDomain::ALL.iter().map(key).collect();
            format!("not an IMD domain; the domains are {}", keys.join(", "))
        })
}
