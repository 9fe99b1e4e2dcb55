//! What the Linkage view's actions do, each on the job queue: a reviewer's
//! verdict, re-clustering at new thresholds, a person search and opening a
//! person's records; and what their results change in the view.

use super::{LinkageAction, LinkageState, open_person, search};
use crate::link::ReclusterReport;
use crate::report::records::PersonHit;
use crate::ui::desk::Desk;
use crate::ui::views::View;

const RECLUSTERING: &str = "Re-clustering people";
const SAVING_VERDICT: &str = "Saving the review verdict";
const SEARCHING: &str = "Searching people";
const OPENING_PERSON: &str = "Opening a person's records";

impl LinkageState {
    /// Carries out what the view asked for, each on a worker; refused for a
    /// role that may not open Linkage.
    pub fn act(&mut self, action: LinkageAction, desk: &mut Desk<'_>) {
        if action != LinkageAction::None && !desk.may(View::Linkage) {
            self.error = Some(desk.refusal(View::Linkage));
            return;
        }
        match action {
            LinkageAction::None => {}
            LinkageAction::Apply { accept, review } => {
                self.message = None;
                let actor = desk.actor();
                desk.start_on(
                    RECLUSTERING,
                    move |sink, conn| {
                        sink.report(None, "Linking people and families at the new thresholds…");
                        Ok(crate::link::recluster(conn, &actor, accept, review)?)
                    },
                    |view: &mut LinkageState, result, desk| match result {
                        Ok(report) => {
                            view.reclustered(&report);
                            desk.figures.mark_all_stale();
                        }
                        Err(error) => view.message = Some(format!("Re-clustering failed: {error}")),
                    },
                );
            }
            LinkageAction::Decide { index, same } => self.save_verdict(desk, index, same),
            LinkageAction::Search => self.start_search(desk, false),
            LinkageAction::OpenPerson(person_id) => self.start_opening_person(desk, person_id),
        }
    }

    /// People were linked again at new thresholds: says what changed (every part
    /// is stale, as after an import).
    fn reclustered(&mut self, report: &ReclusterReport) {
        use crate::format::thousands;
        let moved = report.changes.as_ref().map_or(0, |c| c.decisions_moved);
        self.message = Some(format!(
            "Re-clustered: {} matched pairs, {} for review, {} people in {} families{}",
            thousands(report.accepted_pairs as i64),
            thousands(report.review_pairs as i64),
            thousands(report.persons as i64),
            thousands(report.families as i64),
            match moved {
                0 => String::new(),
                n => format!(
                    "; {} round-table decisions moved with their families",
                    thousands(n as i64)
                ),
            }
        ));
        self.trial = None;
        self.decided = 0;
        self.selected = 0;
    }

    /// Saves a reviewer's verdict on the queue's pair at `index` on a worker (it
    /// waits there while a load holds the audit log); the pair leaves the queue
    /// once saved. One at a time: the view offers no verdict while it is busy.
    fn save_verdict(&mut self, desk: &mut Desk<'_>, index: usize, same: bool) {
        if desk.is_running(SAVING_VERDICT) {
            return;
        }
        let Some(item) = desk
            .figures
            .linkage
            .as_ref()
            .and_then(|linkage| linkage.review_queue.get(index))
        else {
            return;
        };
        let (l_key, r_key) = (item.pair.l_key.clone(), item.pair.r_key.clone());
        let decided_by = desk.actor();
        self.message = None;
        desk.start_on(
            SAVING_VERDICT,
            move |_, conn| {
                crate::link::review::record_decision(conn, &l_key, &r_key, same, &decided_by)?;
                Ok((l_key, r_key))
            },
            |view: &mut LinkageState, result, desk| match result {
                Ok((l_key, r_key)) => {
                    if let Some(linkage) = &mut desk.figures.linkage {
                        linkage.review_queue.retain(|item| {
                            (&item.pair.l_key, &item.pair.r_key) != (&l_key, &r_key)
                        });
                    }
                    view.decided += 1;
                }
                Err(error) => {
                    view.message = Some(format!("The decision could not be saved: {error}"))
                }
            },
        );
    }

    /// Searches people on a worker (a scan of every person), through the one door:
    /// recorded before any name is on screen, and limited to the zones and masking
    /// the session is given. With `open_first` (`--find`) the first person found is
    /// opened next.
    pub(super) fn start_search(&mut self, desk: &mut Desk<'_>, open_first: bool) {
        let Some(session) = desk.session().cloned() else {
            return;
        };
        let text = self.search.clone();
        desk.start_on(
            SEARCHING,
            move |_, conn| Ok((search(conn, &session, &text)?, text)),
            move |view: &mut LinkageState, result, desk| match result {
                Ok((hits, text)) => view.found(desk, &text, hits, open_first),
                Err(error) => view.error = Some(format!("Search failed: {error}")),
            },
        );
    }

    fn found(&mut self, desk: &mut Desk<'_>, text: &str, hits: Vec<PersonHit>, open_first: bool) {
        self.error = hits
            .is_empty()
            .then(|| format!("Nobody matches '{}'.", text.trim()));
        let first = hits.first().map(|hit| hit.person_id.clone());
        self.hits = hits;
        if let (true, Some(person_id)) = (open_first, first) {
            self.start_opening_person(desk, person_id);
        }
    }

    /// Reads one person's records on a worker, through the one door (recorded
    /// before they are shown).
    fn start_opening_person(&mut self, desk: &mut Desk<'_>, person_id: String) {
        let Some(session) = desk.session().cloned() else {
            return;
        };
        desk.start_on(
            OPENING_PERSON,
            move |_, conn| Ok((open_person(conn, &session, &person_id)?, person_id)),
            |view: &mut LinkageState, result, _| match result {
                Ok((Some(person), _)) => {
                    view.error = None;
                    view.person = Some(person);
                }
                Ok((None, person_id)) => {
                    view.error = Some(format!("{person_id} is outside the zones you may see."))
                }
                Err(error) => {
                    view.error = Some(format!("The person's records could not be read: {error}"))
                }
            },
        );
    }
}
