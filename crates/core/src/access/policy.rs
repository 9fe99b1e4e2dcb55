//! The access policy: what each role may do, as capabilities granted to roles in
//! one table ([`Role::may`]). Views, commands and the choices of `zonewise uptake`
//! all ask it, so a role's rights are read and changed in one place rather than in
//! lists of view and command names kept apart.

use super::Role;

/// Something a role may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Published, suppressed aggregates: the Overview, the Map, the Models view and
    /// `zonewise uptake` at the published threshold and dates.
    ReadAggregates,
    /// Named families in the role's zones: the Families view, from the authority
    /// down to one child.
    ReadFamilies,
    /// A zone's round table: its agenda (masked on the projected screen), cases
    /// opened with a reason, decisions recorded.
    HoldRoundTable,
    /// The audit log: the Audit view, `zonewise audit verify|list`.
    ReadAuditLog,
    /// Loading, linking and modelling: the Data and Linkage views (linkage review
    /// and person search across every zone), `ingest`, `link`, `criteria`,
    /// `train`, `score`, `export-features` and the like.
    RunPipeline,
    /// Adding, changing, disabling and enabling users: the Users view, `zonewise user`.
    ManageUsers,
    /// What decides how much an aggregate discloses: service definitions (SQL
    /// over every person's records, or defined in the app and saved for
    /// everyone's map: `uptake::saved`), the suppression threshold (two thresholds'
    /// figures together reveal what each withholds) and the day of the figures
    /// (two nearby days differ by a few people per LSOA).
    ChooseDisclosure,
    /// Supporting Families outcome claims: a case-level file of the families in a
    /// plan across the authority (`zonewise claims`, the Round table's button).
    ClaimOutcomes,
}

impl Capability {
    /// Every capability.
    pub const ALL: [Capability; 8] = [
        Capability::ReadAggregates,
        Capability::ReadFamilies,
        Capability::HoldRoundTable,
        Capability::ReadAuditLog,
        Capability::RunPipeline,
        Capability::ManageUsers,
        Capability::ChooseDisclosure,
        Capability::ClaimOutcomes,
    ];
}

impl Role {
    /// True when this role is granted `capability`: the one table of the policy.
    pub fn may(self, capability: Capability) -> bool {
        use Capability::*;
        match self {
            Role::Analyst => true,
            Role::SeniorManager => matches!(
                capability,
                ReadAggregates | ReadFamilies | HoldRoundTable | ReadAuditLog | ClaimOutcomes
            ),
            Role::ZoneManager => {
                matches!(capability, ReadAggregates | ReadFamilies | HoldRoundTable)
            }
            Role::Commissioner => capability == ReadAggregates,
            Role::RoundTable => capability == HoldRoundTable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Capability, Role};

    #[test]
    fn only_analysts_run_the_pipeline_manage_users_and_choose_what_is_disclosed() {
        for capability in [
            Capability::RunPipeline,
            Capability::ManageUsers,
            Capability::ChooseDisclosure,
        ] {
            let granted: Vec<Role> = Role::ALL
                .into_iter()
                .filter(|role| role.may(capability))
                .collect();
            assert_eq!(granted, [Role::Analyst], "{capability:?}");
        }
    }

    #[test]
    fn commissioners_read_aggregates_only_and_the_screen_holds_its_round_table_only() {
        for capability in Capability::ALL {
            assert_eq!(
                Role::Commissioner.may(capability),
                capability == Capability::ReadAggregates
            );
            assert_eq!(
                Role::RoundTable.may(capability),
                capability == Capability::HoldRoundTable
            );
        }
        assert!(Role::SeniorManager.may(Capability::ReadAuditLog));
        assert!(!Role::ZoneManager.may(Capability::ReadAuditLog));
        let claim: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| role.may(Capability::ClaimOutcomes))
            .collect();
        assert_eq!(claim, [Role::Analyst, Role::SeniorManager]);
    }

    #[test]
    fn whoever_sees_people_is_granted_families_or_a_round_table() {
        for role in Role::ALL {
            assert_eq!(
                role.sees_people(),
                role.may(Capability::ReadFamilies) || role.may(Capability::HoldRoundTable),
                "{role:?}"
            );
        }
    }
}
