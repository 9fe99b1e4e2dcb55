//! The roles of `app.user`, and what each may see.

/// A user's role (stored by its snake_case name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Maintains the system: loads extracts, reviews linkage, trains models, reads the audit log.
    Analyst,
    /// Follows the whole authority down to one child.
    SeniorManager,
    /// Runs a zone's round table: that zone's families, named.
    ZoneManager,
    /// Public health commissioning: suppressed aggregates only, never people.
    Commissioner,
    /// The projected round-table screen: the zone's families with masked identities.
    RoundTable,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Analyst,
        Role::SeniorManager,
        Role::ZoneManager,
        Role::Commissioner,
        Role::RoundTable,
    ];

    /// The name stored in `app.user.role` and typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::SeniorManager => "senior_manager",
            Role::ZoneManager => "zone_manager",
            Role::Commissioner => "commissioner",
            Role::RoundTable => "round_table",
        }
    }

    /// The role named `name` (`-` read as `_`).
    pub fn parse(name: &str) -> Option<Role> {
        let wanted = name.trim().to_ascii_lowercase().replace('-', "_");
        Role::ALL.into_iter().find(|r| r.as_str() == wanted)
    }

    /// May see person-level records at all (masked or not).
    pub fn sees_people(self) -> bool {
        !matches!(self, Role::Commissioner)
    }

    /// Sees only the families of the user's own zones.
    pub fn limited_to_zones(self) -> bool {
        matches!(self, Role::ZoneManager | Role::RoundTable)
    }

    /// Sees identities masked (a screen others can see).
    pub fn sees_masked_identities(self) -> bool {
        matches!(self, Role::RoundTable)
    }
}

/// `--role` on the command line: the stored names, with `-` for `_` accepted.
impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &Role::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let value = clap::builder::PossibleValue::new(self.as_str());
        Some(match self {
            Role::SeniorManager => value.alias("senior-manager"),
            Role::ZoneManager => value.alias("zone-manager"),
            Role::RoundTable => value.alias("round-table"),
            Role::Analyst | Role::Commissioner => value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn every_role_parses_from_its_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Zone-Manager"), Some(Role::ZoneManager));
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn the_command_line_takes_every_role_by_its_name_or_with_dashes() {
        use clap::ValueEnum as _;
        for role in Role::ALL {
            assert_eq!(Role::from_str(role.as_str(), false), Ok(role));
        }
        assert_eq!(Role::from_str("Zone-Manager", true), Ok(Role::ZoneManager));
        assert!(Role::from_str("admin", true).is_err());
    }
}
