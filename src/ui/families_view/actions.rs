//! What the Families view's actions do: opening a family or a child's page
//! reads the family's single view (one family's rows) on a worker, through
//! `access::person_query`, which records the opening first.

use super::{FamiliesAction, FamiliesState, Scope, read_family};
use crate::access::Purpose;
use crate::audit::Action;
use crate::report::families::{FamiliesFigures, FamilyRow};
use crate::report::family_detail::FamilyDetail;
use crate::ui::desk::Desk;
use crate::ui::views::View;

const READING: &str = "Opening a family";

/// The family `wanted` names on the current round: `top` is the highest-ranked
/// (`zonewise --family top`).
pub fn wanted_family<'a>(families: &'a FamiliesFigures, wanted: &str) -> Option<&'a FamilyRow> {
    if wanted == "top" {
        families.families.first()
    } else {
        families.family(wanted)
    }
}

impl FamiliesState {
    /// Carries out what the view asked for; refused for a role that may not
    /// open Families.
    pub fn act(&mut self, action: FamiliesAction, desk: &mut Desk<'_>) {
        if action != FamiliesAction::None && !desk.may(View::Families) {
            self.error = Some(desk.refusal(View::Families));
            return;
        }
        match action {
            FamiliesAction::None => {}
            FamiliesAction::OpenFamily(family_id) => {
                let purpose = Purpose {
                    action: Action::OpenFamily,
                    subject: family_id.clone(),
                    reason: None,
                };
                self.start_reading(desk, purpose, family_id, None);
            }
            FamiliesAction::OpenChild(person_id) => {
                let Some(family_id) = self.detail.as_ref().map(|d| d.family_id.clone()) else {
                    return;
                };
                let purpose = Purpose {
                    action: Action::OpenPerson,
                    subject: person_id.clone(),
                    reason: None,
                };
                // Read again, so the child's page shows the records as they are now.
                self.start_reading(desk, purpose, family_id, Some(person_id));
            }
        }
    }

    /// Opens the family `wanted` names (from the command line or the Round
    /// table), or says it is not on the current round.
    pub(super) fn open_wanted(&mut self, desk: &mut Desk<'_>, wanted: &str) {
        let Some(families) = &desk.figures.families else {
            return;
        };
        match wanted_family(families, wanted) {
            Some(row) => {
                let family_id = row.family_id.clone();
                self.act(FamiliesAction::OpenFamily(family_id), desk);
            }
            None => self.error = Some(format!("No family {wanted} on the current round.")),
        }
    }

    /// Reads `family_id`'s single view on the current round for `purpose` on a
    /// worker (recorded first by `access::person_query`); `child`: for that
    /// child's page. Nothing is read before the families and a session are there.
    fn start_reading(
        &mut self,
        desk: &mut Desk<'_>,
        purpose: Purpose,
        family_id: String,
        child: Option<String>,
    ) {
        let (Some(families), Some(session)) = (&desk.figures.families, desk.session()) else {
            return;
        };
        let Some(date) = families.current.clone() else {
            return;
        };
        let session = session.clone();
        desk.start_on(
            READING,
            move |_, conn| {
                let detail = read_family(conn, &session, &purpose, &family_id, &date);
                Ok((family_id, detail.map_err(|error| error.to_string())))
            },
            move |view: &mut FamiliesState, result, desk| match result {
                Ok((family_id, detail)) => view.family_read(desk, family_id, child, detail),
                Err(error) => view.error = Some(format!("The family could not be read: {error}")),
            },
        );
    }

    /// A family was read: shown (on its child's page when asked), or why not.
    fn family_read(
        &mut self,
        desk: &Desk<'_>,
        family_id: String,
        child: Option<String>,
        detail: Result<Option<FamilyDetail>, String>,
    ) {
        match (child, detail) {
            (None, Ok(None)) => {
                self.error = Some(format!("{family_id} is outside the zones you may see."))
            }
            (None, Ok(Some(detail))) => {
                let row = desk
                    .figures
                    .families
                    .as_ref()
                    .and_then(|families| families.family(&family_id));
                self.scope = match row {
                    Some(row) => Scope::of_family(row),
                    None => Scope {
                        family: Some(family_id),
                        ..Scope::default()
                    },
                };
                self.detail = Some(detail);
                self.error = None;
            }
            (None, Err(error)) => self.error = Some(format!("Cannot read {family_id}: {error}")),
            (Some(person_id), Ok(Some(detail))) if detail.member(&person_id).is_some() => {
                self.scope.child = Some(person_id);
                self.detail = Some(detail);
                self.error = None;
            }
            (Some(person_id), Ok(_)) => {
                self.error = Some(format!(
                    "{person_id} is not in a family of the zones you may see."
                ))
            }
            (Some(person_id), Err(error)) => {
                self.error = Some(format!("Cannot read {person_id}: {error}"))
            }
        }
    }
}
