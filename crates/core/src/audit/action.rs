//! The kinds of action the audit log records, stored by their snake_case names.

/// What a user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Login,
    /// Listed people matching a search (the subject is what was searched for).
    SearchPersons,
    /// Read the list of families with their names (the Families and Round table views).
    ListFamilies,
    OpenPerson,
    OpenFamily,
    /// Wrote figures or records out of the database: a file, or tables printed as JSON.
    Export,
    ModelRun,
    Ingest,
    Link,
    /// A reviewer's verdict on a pair of records (same person or not).
    LinkReview,
    /// What a round table agreed for a family.
    Decision,
    /// A zone's round-table capacity set (`zonewise capacity`).
    ZoneCapacity,
    /// A service defined in the app saved for every user of the database.
    DefineService,
    /// A user added, changed, disabled or enabled, or their password reset (`zonewise user`).
    ManageUsers,
    /// The database was created (its first entry, so that an emptied log is seen).
    CreateDatabase,
}

impl Action {
    /// Every action, in the order filters list them.
    pub const ALL: [Action; 15] = [
        Action::Login,
        Action::SearchPersons,
        Action::ListFamilies,
        Action::OpenPerson,
        Action::OpenFamily,
        Action::Export,
        Action::ModelRun,
        Action::Ingest,
        Action::Link,
        Action::LinkReview,
        Action::Decision,
        Action::ZoneCapacity,
        Action::DefineService,
        Action::ManageUsers,
        Action::CreateDatabase,
    ];

    /// The name stored in `app.audit_log.action` and typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::SearchPersons => "search_persons",
            Action::ListFamilies => "list_families",
            Action::OpenPerson => "open_person",
            Action::OpenFamily => "open_family",
            Action::Export => "export",
            Action::ModelRun => "model_run",
            Action::Ingest => "ingest",
            Action::Link => "link",
            Action::LinkReview => "link_review",
            Action::Decision => "decision",
            Action::ZoneCapacity => "zone_capacity",
            Action::DefineService => "define_service",
            Action::ManageUsers => "manage_users",
            Action::CreateDatabase => "create_database",
        }
    }

    /// The action named `name` (as [`Action::as_str`] writes it; `-` is read as `_`).
    pub fn parse(name: &str) -> Option<Action> {
        let wanted = name.trim().to_ascii_lowercase().replace('-', "_");
        Action::ALL.into_iter().find(|a| a.as_str() == wanted)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `--action` on the command line: the names stored in the log, from
/// [`Action::ALL`], with `-` for `_` accepted (as [`Action::parse`] does).
impl clap::ValueEnum for Action {
    fn value_variants<'a>() -> &'a [Self] {
        &Action::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let name = self.as_str();
        let value = clap::builder::PossibleValue::new(name);
        Some(if name.contains('_') {
            value.alias(name.replace('_', "-"))
        } else {
            value
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn every_action_parses_from_its_name() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
        assert_eq!(Action::parse("open-person"), Some(Action::OpenPerson));
        assert_eq!(Action::parse("delete"), None);
    }
}
