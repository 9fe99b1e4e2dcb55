//! The printed pack for a zone's round table: the same agenda as the Round table
//! view, masked as on the projected screen (family code and initials, never a
//! name), with each family's criteria, score, reasons and agencies, the plan of a
//! family due for review or stepping down, and a box to write the decision in. HTML with print styles, so any browser prints it
//! cleanly to paper or PDF.

use std::path::Path;

use duckdb::Connection;

use super::agenda::agenda;
use super::families::{FamiliesFigures, FamilyRow, short_name};
use crate::audit::{Action, Entry, PlaceError, StagedFile};

const STYLE: &str = "
body { font-family: 'Segoe UI', Arial, sans-serif; font-size: 11pt; color: #222; margin: 2em; }
h1 { font-size: 18pt; margin-bottom: 0; }
h2 { font-size: 14pt; border-bottom: 2px solid #2b6cb0; padding-bottom: 2pt; margin-top: 1.5em; }
.sub { color: #555; margin-top: 2pt; }
.notice { border: 1px solid #c53030; color: #742a2a; padding: 6pt; margin: 1em 0; }
.family { border: 1px solid #bbb; border-radius: 4pt; padding: 6pt 8pt; margin: 8pt 0; page-break-inside: avoid; break-inside: avoid; }
.head { font-weight: bold; }
.code { font-family: monospace; }
.chip { display: inline-block; background: #e8eef7; border-radius: 8pt; padding: 0 5pt; margin: 1pt; font-size: 9pt; }
.decision { border: 1px dashed #888; min-height: 3em; margin-top: 4pt; padding: 3pt; color: #888; font-size: 9pt; }
.empty { color: #666; font-style: italic; }
.plan { background: #f3f7ec; padding: 1pt 3pt; }
@media print { body { margin: 0; } @page { size: A4; margin: 15mm; } }
";

/// The pack for `zone_id` as an HTML document. `generated` is the time printed on it.
pub fn meeting_pack_html(
    figures: &FamiliesFigures,
    zone_id: &str,
    county: &str,
    generated: &str,
) -> String {
    let zone = figures.zone_name(zone_id);
    let date = figures.current.as_deref().unwrap_or("–");
    let agenda = agenda(figures, zone_id);
    let mut html = String::new();
    html.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">\
         <title>Round table: {zone}</title><style>{STYLE}</style></head><body>\n",
        zone = escape(zone)
    ));
    html.push_str(&format!(
        "<h1>Round table: {}</h1>\n<p class=\"sub\">{} · records as they stood on {} · {} families on the agenda \
         ({} flagged: the zone's top families within its capacity of {}) · printed {}</p>\n",
        escape(zone),
        escape(county),
        escape(date),
        agenda.len(),
        agenda.flagged(),
        agenda.capacity,
        escape(generated)
    ));
    html.push_str(
        "<p class=\"notice\">OFFICIAL–SENSITIVE. Identities are masked: families appear by code and \
         initials. Flags are for discussion by the round table, not decisions; a score is an estimate \
         from past records and is often wrong. Destroy after the meeting.</p>\n",
    );
    for (title, meaning, families) in agenda.sections() {
        html.push_str(&format!(
            "<h2>{} ({})</h2>\n<p class=\"sub\">{}</p>\n",
            escape(title),
            families.len(),
            escape(meaning)
        ));
        if families.is_empty() {
            html.push_str("<p class=\"empty\">None this round.</p>\n");
        }
        for family in families {
            html.push_str(&family_html(figures, family));
        }
    }
    html.push_str("</body></html>\n");
    html
}

/// Why a meeting pack was not saved.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("the pack was not saved, as it could not be recorded in the audit log: {0}")]
    Audit(#[from] crate::store::StoreError),
}

/// Saves `html`, zone `zone_id`'s pack, at `path` so that it never appears without
/// its audit entry: written to a hidden file beside `path`, recorded, then renamed
/// into place. If the entry cannot be written (a load holds the log, the disk is
/// full) the staged file is removed and nothing is saved. The entry names `actor`.
pub fn save_pack(
    conn: &Connection,
    path: &Path,
    html: &str,
    zone_id: &str,
    actor: &str,
) -> Result<(), PackError> {
    let failed = |source: std::io::Error| PackError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut staged = StagedFile::beside(path, "pack").map_err(failed)?;
    std::io::Write::write_all(staged.file(), html.as_bytes()).map_err(failed)?;
    let entry = Entry::new(actor, Action::Export, path.display().to_string())
        .with_detail(format!("masked round-table meeting pack, zone {zone_id}"));
    match staged.place(conn, &entry) {
        Ok(_) => Ok(()),
        Err(PlaceError::NotRecorded(error)) => Err(PackError::Audit(error)),
        Err(PlaceError::Io(error)) => Err(failed(error)),
    }
}

fn family_html(figures: &FamiliesFigures, family: &FamilyRow) -> String {
    let mut html = String::from("<div class=\"family\">");
    let score = match (family.score, family.score_change()) {
        (Some(score), Some(change)) => format!(
            " · score {:.0}% ({:+.0} points)",
            score * 100.0,
            change * 100.0
        ),
        (Some(score), None) => format!(" · score {:.0}%", score * 100.0),
        _ => String::new(),
    };
    html.push_str(&format!(
        "<div class=\"head\"><span class=\"code\">{}</span> · {} · {} children{}{}</div>",
        escape(&family.family_id),
        escape(&family.initials),
        family.children,
        family
            .imd_decile
            .map_or(String::new(), |d| format!(" · IMD decile {d}")),
        score
    ));
    let chips: Vec<String> = family
        .criteria_met
        .iter()
        .filter_map(|&c| figures.criteria.get(c))
        .map(|c| {
            format!(
                "<span class=\"chip\">{}</span>",
                escape(&short_name(&c.name))
            )
        })
        .collect();
    if !chips.is_empty() {
        html.push_str(&format!("<div>Criteria met: {}</div>", chips.join(" ")));
    }
    if !family.agencies.is_empty() {
        let agencies: Vec<String> = family
            .agencies
            .iter()
            .map(|a| escape(figures.agency_label(a)))
            .collect();
        html.push_str(&format!(
            "<div>Known in the last 12 months to: {}</div>",
            agencies.join(", ")
        ));
    }
    if !family.reasons.is_empty() {
        let reasons: Vec<String> = family.reasons.iter().map(|r| escape(r)).collect();
        html.push_str(&format!("<div>Why: {}</div>", reasons.join("; ")));
    }
    if let Some(decision) = &family.decision {
        html.push_str(&format!(
            "<div>Last decision: {} (round of {}, recorded {})</div>",
            escape(&decision.outcome),
            escape(&decision.reference_date),
            escape(&decision.decided_at)
        ));
        if let Some(plan) = &decision.plan {
            html.push_str(&format!(
                "<div class=\"plan\">Plan: {}</div>",
                escape(&plan.summary())
            ));
            if !plan.actions.is_empty() {
                html.push_str(&format!(
                    "<div class=\"plan\">Actions: {}</div>",
                    escape(&plan.actions)
                ));
            }
        }
    }
    html.push_str(
        "<div class=\"decision\">Decision: no further action / universal services / \
         early help lead practitioner / referral / close (step down)<br>\
         Lead practitioner (agency, name): ______________ · Actions: ______________ · \
         Review date: ________</div></div>\n",
    );
    html
}

/// Escapes text for HTML element content and quoted attribute values (`&`, `<`,
/// `>`, `"` and `'`).
fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::families::{CriterionInfo, ZoneInfo};

    #[test]
    fn the_pack_is_masked_and_escaped() {
        let figures = FamiliesFigures {
            current: Some("2026-04-01".into()),
            eligible_at: 1,
            criteria: vec![CriterionInfo {
                name: "domestic_abuse".into(),
                title: "Safe from domestic abuse".into(),
                rule: String::new(),
            }],
            zones: vec![ZoneInfo {
                zone_id: "Z".into(),
                name: "North & <East>".into(),
                capacity: 20,
            }],
            families: vec![FamilyRow {
                family_id: "Fabc".into(),
                zone_id: Some("Z".into()),
                surname: "SMITHERS".into(),
                initials: "J.S., A.S.".into(),
                criteria_met: vec![0],
                previous_criteria_met: Some(0),
                children: 1,
                flagged: true,
                ..FamilyRow::default()
            }],
            ..FamiliesFigures::default()
        };
        let html = meeting_pack_html(&figures, "Z", "County", "2026-04-02 09:00");
        assert!(html.contains("North &amp; &lt;East&gt;"));
        assert!(html.contains("Fabc"));
        assert!(html.contains("J.S., A.S."));
        assert!(html.contains("Domestic abuse"));
        assert!(html.contains("Newly flagged (1)"));
        assert!(
            !html.to_lowercase().contains("smithers"),
            "no name in the pack"
        );
    }
}
