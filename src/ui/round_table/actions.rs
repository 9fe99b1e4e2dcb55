//! What the Round table's actions do, each on the job queue: opening a case (its
//! audit entry, before any name shows), recording a decision, saving the masked
//! meeting pack; and selecting a family asked for from elsewhere.

use std::path::PathBuf;

use super::{RoundTableAction, RoundTableState};
use crate::access::{Capability, Purpose};
use crate::audit::{self, Action, Entry};
use crate::report::agenda::agenda;
use crate::report::family_detail::NewDecision;
use crate::ui::desk::{Desk, Message};
use crate::ui::families_view::wanted_family;
use crate::ui::figures::Part;
use crate::ui::views::View;

pub(super) const DECIDING: &str = "Recording the decision";
pub(super) const SETTING_CAPACITY: &str = "Setting the zone's capacity";
const OPENING_CASE: &str = "Opening the case";
const SAVING_PACK: &str = "Saving the meeting pack";
const WRITING_CLAIMS: &str = "Writing the outcome claims";
const READING_PATH: &str = "Reading the family's rounds";

/// True when the signed-in role may write outcome claims.
pub(super) fn may_claim(desk: &Desk<'_>) -> bool {
    desk.session()
        .is_some_and(|session| session.role.may(Capability::ClaimOutcomes))
}

/// True when the signed-in role may set a zone's capacity (analysts; the core
/// refuses anyone else whatever asks it).
pub(super) fn may_set_capacity(desk: &Desk<'_>) -> bool {
    desk.session()
        .is_some_and(|session| session.role.may(Capability::RunPipeline))
}

impl RoundTableState {
    /// Carries out what the view asked for; refused for a role that may not
    /// hold a round table.
    pub fn act(&mut self, action: RoundTableAction, desk: &mut Desk<'_>) {
        if action != RoundTableAction::None && !desk.may(View::RoundTable) {
            self.message = Some(desk.refusal(View::RoundTable));
            return;
        }
        match action {
            RoundTableAction::None => {}
            RoundTableAction::OpenCase { family_id, reason } => {
                // Recorded before any name is shown: no entry, no unmasking.
                let entry = Entry::new(desk.actor(), Action::OpenFamily, family_id.as_str())
                    .with_reason(reason)
                    .with_detail("unmasked on the round table");
                desk.start_on(
                    OPENING_CASE,
                    move |_, conn| Ok(audit::record(conn, &entry)?),
                    move |view: &mut RoundTableState, result, _| match result {
                        Ok(_) => {
                            view.opened.insert(family_id);
                            view.open_reason.clear();
                        }
                        Err(error) => {
                            view.message = Some(format!("The case was not opened: {error}"))
                        }
                    },
                );
            }
            // The projected screen may not open Families: its family is never read
            // unmasked for it (the button is not offered either).
            RoundTableAction::ShowFamily(_) if !desk.may(View::Families) => {
                self.message = Some(desk.refusal(View::Families));
            }
            RoundTableAction::ShowFamily(family_id) => {
                desk.go(View::Families, Some(Message::OpenFamily(family_id)));
            }
            RoundTableAction::RecordDecision(decision) => self.record_decision(desk, decision),
            RoundTableAction::ExportPack { zone_id } => self.export_pack(desk, zone_id),
            RoundTableAction::WriteClaims if !may_claim(desk) => {
                self.message =
                    Some("Only analysts and senior managers write outcome claims.".into());
            }
            RoundTableAction::WriteClaims => self.write_claims(desk),
            RoundTableAction::SetCapacity { zone_id, capacity } => {
                self.set_capacity(desk, zone_id, capacity)
            }
        }
    }

    /// Sets the zone's capacity on a worker (refused there for a role that may
    /// not, and recorded); once set, everything that counts flags is read again.
    fn set_capacity(&mut self, desk: &mut Desk<'_>, zone_id: String, capacity: u32) {
        let Some(session) = desk.session().cloned() else {
            return;
        };
        if desk.is_running(SETTING_CAPACITY) {
            return;
        }
        self.message = None;
        desk.start_on(
            SETTING_CAPACITY,
            move |sink, conn| {
                sink.report(None, format!("{capacity} families a round for {zone_id}"));
                Ok(crate::report::flags::set_capacity(
                    conn, &session, &zone_id, capacity,
                )?)
            },
            |view: &mut RoundTableState, result, desk| match result {
                Ok(set) => {
                    view.message = Some(format!(
                        "{} now discusses {} families a round.",
                        set.name, set.capacity
                    ));
                    for part in [
                        Part::Families,
                        Part::Outcomes,
                        Part::Results,
                        Part::Models,
                        Part::Audit,
                    ] {
                        desk.figures.mark_stale(part);
                    }
                    // Its place against the capacity changes: read again.
                    view.path = None;
                }
                Err(error) => view.message = Some(format!("The capacity was not changed: {error}")),
            },
        );
    }

    /// Reads the picked family's path round by round on a worker, through
    /// `access::person_query` (recorded first; the session's zones only),
    /// unless it is read or being read. A failed read is kept with its family,
    /// so it is not tried again every frame.
    pub(super) fn read_path(&mut self, desk: &mut Desk<'_>) {
        let Some(family_id) = self.selected.clone() else {
            return;
        };
        let read = self.path.as_ref().is_some_and(|(id, _)| *id == family_id);
        let Some(session) = desk.session().cloned() else {
            return;
        };
        if read || desk.is_running(READING_PATH) {
            return;
        }
        let purpose = Purpose::listing(format!("rounds of family {family_id} (Round table)"));
        desk.start_on(
            READING_PATH,
            move |_, conn| {
                let path =
                    crate::access::person_query(conn, &session, &purpose, |conn, visibility| {
                        crate::report::family_path::read_visible_path(conn, visibility, &family_id)
                    })
                    .map_err(|error| crate::format::describe_error(&error.into()))
                    .and_then(|path| {
                        path.ok_or_else(|| "the family is not in your zones".to_string())
                    });
                Ok((family_id, path))
            },
            |view: &mut RoundTableState, result, _| match result {
                Ok(path) => view.path = Some(path),
                Err(error) => view.message = Some(error),
            },
        );
    }

    /// Writes the outcome claims (`report::claims`, the built-in rules) of the
    /// families the session may see to a file chosen in a save dialog, on a
    /// worker: the read and the file are recorded in the audit log, the file
    /// before it appears.
    fn write_claims(&mut self, desk: &mut Desk<'_>) {
        let Some(session) = desk.session().cloned() else {
            return;
        };
        if desk.is_running(WRITING_CLAIMS) {
            return;
        }
        self.message = None;
        desk.start_on(
            WRITING_CLAIMS,
            move |sink, conn| {
                sink.report(None, "Choosing where to save…");
                let Some(path) = rfd::FileDialog::new()
                    .set_title("Save the outcome claims")
                    .set_file_name("outcome-claims.csv")
                    .add_filter("CSV", &["csv"])
                    .save_file()
                else {
                    return Ok(None);
                };
                sink.report(None, "Assessing the families in a plan…");
                let rules = crate::report::claims::built_in()?;
                let summary =
                    crate::report::claims::write_claims(conn, &session, &rules, "built in", &path)?;
                Ok(Some((path, summary)))
            },
            |view: &mut RoundTableState, result, _| {
                view.message = match result {
                    Ok(Some((path, summary))) => Some(format!(
                        "{} of {} families in a plan claimed at {}: saved to {}",
                        summary.claimed,
                        summary.in_plan,
                        summary.claim_date,
                        path.display()
                    )),
                    Ok(None) => None,
                    Err(error) => Some(format!("The claims were not written: {error}")),
                }
            },
        );
    }

    /// Records a round table's decision (a plan when it makes one) on a
    /// worker: it waits there while a load holds the audit log, never on the
    /// frame. Once stored, its family's row shows it (one family changed, so
    /// nothing else is read again) and the form starts again empty.
    fn record_decision(&mut self, desk: &mut Desk<'_>, decision: NewDecision) {
        if desk.is_running(DECIDING) {
            return;
        }
        let decided_by = desk.actor();
        self.message = None;
        desk.start_on(
            DECIDING,
            move |sink, conn| {
                sink.report(
                    None,
                    format!("{} for {}", decision.outcome, decision.family_id),
                );
                let family_id = decision.family_id.clone();
                let decision =
                    crate::report::family_detail::record_decision(conn, &decision, &decided_by)?;
                Ok((family_id, decision))
            },
            |view: &mut RoundTableState, result, desk| match result {
                Ok((family_id, decision)) => {
                    view.message = Some(format!("Recorded for {family_id}: {}.", decision.outcome));
                    if let Some(row) = desk.figures.families.as_mut().and_then(|families| {
                        families
                            .families
                            .iter_mut()
                            .find(|f| f.family_id == family_id)
                    }) {
                        row.decision = Some(decision);
                    }
                    desk.figures.mark_stale(Part::Outcomes);
                    desk.figures.mark_stale(Part::Results);
                    // Its path gains the decision: read again.
                    view.path = None;
                    view.decision_recorded();
                }
                Err(error) => {
                    view.message = Some(format!("The decision could not be saved: {error}"))
                }
            },
        );
    }

    /// Saves the zone's masked meeting pack through a save dialog, on a worker:
    /// recorded in the audit log before the file appears.
    fn export_pack(&mut self, desk: &mut Desk<'_>, zone_id: String) {
        let (Some(families), Some(overview)) = (&desk.figures.families, &desk.figures.overview)
        else {
            return;
        };
        let generated = chrono::Local::now().format("%d/%m/%Y %H:%M").to_string();
        let html = crate::report::meeting_pack::meeting_pack_html(
            families,
            &zone_id,
            &overview.county,
            &generated,
        );
        let file_name = format!(
            "round-table-{}-{}.html",
            zone_id,
            families.current.as_deref().unwrap_or("pack")
        );
        self.message = None;
        let actor = desk.actor();
        desk.start_on(
            SAVING_PACK,
            move |sink, conn| {
                sink.report(None, "Choosing where to save…");
                let Some(path) = rfd::FileDialog::new()
                    .set_title("Save the meeting pack")
                    .set_file_name(&file_name)
                    .add_filter("Web page (prints to paper or PDF)", &["html"])
                    .save_file()
                else {
                    return Ok(None::<PathBuf>);
                };
                sink.report(None, "Saving the meeting pack…");
                crate::report::meeting_pack::save_pack(conn, &path, &html, &zone_id, &actor)?;
                Ok(Some(path))
            },
            |view: &mut RoundTableState, result, _| {
                view.message = match result {
                    Ok(path) => {
                        path.map(|path| format!("Meeting pack saved to {}", path.display()))
                    }
                    Err(error) => Some(format!("The meeting pack was not saved: {error}")),
                }
            },
        );
    }

    /// Shows the zone of the family `wanted` names (`zonewise --family`) with
    /// that family selected when it is on the agenda, else the agenda's first.
    pub(super) fn select_wanted(&mut self, desk: &mut Desk<'_>, wanted: &str) {
        let Some(families) = &desk.figures.families else {
            return;
        };
        let Some(row) = wanted_family(families, wanted) else {
            self.message = Some(format!("No family {wanted} on the current round."));
            return;
        };
        let zone = row.zone_id.clone();
        let selected = zone.as_deref().and_then(|zone| {
            let agenda = agenda(families, zone);
            let sections = agenda.sections();
            let listed = |family_id: &str| {
                sections
                    .iter()
                    .any(|(_, _, list)| list.iter().any(|f| f.family_id == family_id))
            };
            if listed(&row.family_id) {
                Some(row.family_id.clone())
            } else {
                sections
                    .iter()
                    .find_map(|(_, _, list)| list.first().map(|f| f.family_id.clone()))
            }
        });
        self.zone = zone;
        self.selected = selected;
    }
}
