//! The views in the left navigation, and the one table that registers each: its
//! label, who may open it, the parts of the data it shows and how its state is
//! made. Everything else about a view is in its own module (a [`Screen`]).

use super::desk::Screen;
use super::figures::Part;
use super::{
    audit_view, data_view, families_view, linkage_view, map_view, models_view, overview,
    results_view, round_table, users_view,
};
use crate::access::Capability;

/// The screens in the left navigation, in order; `--view` takes their names.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum View {
    Overview,
    Data,
    Linkage,
    Families,
    #[value(alias = "round_table")]
    RoundTable,
    Results,
    Map,
    Models,
    Audit,
    Users,
}

/// What the shell needs to know of a view: its registration.
pub struct ViewSpec {
    /// The navigation label.
    pub label: &'static str,
    /// What a role must be granted to open the view (`access::Role::may`): the
    /// same policy the command line and `zonewise uptake` ask.
    pub capability: Capability,
    /// The parts of the data the view shows, read when it is shown and stale.
    pub parts: &'static [Part],
    /// The view's state as it starts (and again after a sign-out).
    pub make: fn() -> Box<dyn Screen>,
}

impl View {
    /// Every view, in navigation order.
    pub const ALL: [View; 10] = [
        View::Overview,
        View::Data,
        View::Linkage,
        View::Families,
        View::RoundTable,
        View::Results,
        View::Map,
        View::Models,
        View::Audit,
        View::Users,
    ];

    /// The view's registration. Families' county and the title and status bars
    /// come from [`Part::Overview`], which the shell always reads.
    pub fn spec(self) -> ViewSpec {
        fn make<S: Screen + Default>() -> Box<dyn Screen> {
            Box::new(S::default())
        }
        let spec = |label, capability, parts, make| ViewSpec {
            label,
            capability,
            parts,
            make,
        };
        use Capability::*;
        match self {
            View::Overview => spec(
                "Overview",
                ReadAggregates,
                &[Part::Overview],
                make::<overview::OverviewView>,
            ),
            View::Data => spec(
                "Data",
                RunPipeline,
                &[Part::Quality],
                make::<data_view::DataState>,
            ),
            View::Linkage => spec(
                "Linkage",
                RunPipeline,
                &[Part::Linkage],
                make::<linkage_view::LinkageState>,
            ),
            View::Families => spec(
                "Families",
                ReadFamilies,
                &[Part::Families],
                make::<families_view::FamiliesState>,
            ),
            View::RoundTable => spec(
                "Round table",
                HoldRoundTable,
                &[Part::Families, Part::Outcomes],
                make::<round_table::RoundTableState>,
            ),
            // Families too: a figure's families open there.
            View::Results => spec(
                "Results",
                ReadFamilies,
                &[Part::Results, Part::Families],
                make::<results_view::ResultsState>,
            ),
            View::Map => spec(
                "Map",
                ReadAggregates,
                &[Part::Map],
                make::<map_view::MapState>,
            ),
            View::Models => spec(
                "Models",
                ReadAggregates,
                &[Part::Models],
                make::<models_view::ModelsView>,
            ),
            View::Audit => spec(
                "Audit",
                ReadAuditLog,
                &[Part::Audit],
                make::<audit_view::AuditState>,
            ),
            View::Users => spec(
                "Users",
                ManageUsers,
                &[Part::Users],
                make::<users_view::UsersState>,
            ),
        }
    }

    /// The navigation label.
    pub fn label(self) -> &'static str {
        self.spec().label
    }

    /// What a role must be granted to open this view.
    pub fn capability(self) -> Capability {
        self.spec().capability
    }

    /// The parts of the data the view shows.
    pub fn parts(self) -> &'static [Part] {
        self.spec().parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commissioners_and_the_projected_screen_see_no_person_level_view() {
        use crate::access::Role;
        let opens = |role: Role, view: View| role.may(view.capability());
        for view in [
            View::Linkage,
            View::Families,
            View::RoundTable,
            View::Results,
            View::Audit,
            View::Users,
        ] {
            assert!(!opens(Role::Commissioner, view), "{view:?}");
        }
        for view in View::ALL {
            assert_eq!(opens(Role::RoundTable, view), view == View::RoundTable);
            assert!(opens(Role::Analyst, view));
        }
        assert!(opens(Role::ZoneManager, View::RoundTable));
        assert!(!opens(Role::ZoneManager, View::Linkage));
        assert!(!opens(Role::ZoneManager, View::Audit));
        assert!(opens(Role::SeniorManager, View::Audit));
        assert!(opens(Role::SeniorManager, View::Results));
        assert!(opens(Role::ZoneManager, View::Results), "their zones only");
        assert!(
            !opens(Role::SeniorManager, View::Users),
            "analysts manage users"
        );
    }

    #[test]
    fn view_names_parse_from_the_command_line() {
        use clap::ValueEnum as _;
        let parse = |name: &str| View::from_str(name, true).ok();
        assert_eq!(parse("round-table"), Some(View::RoundTable));
        assert_eq!(parse("round_table"), Some(View::RoundTable));
        assert_eq!(parse("Overview"), Some(View::Overview));
        assert_eq!(parse("users"), Some(View::Users));
        assert_eq!(parse("nonsense"), None);
    }
}
