//! Families as the Families and Round table views read them: every family with a
//! child at the current round's reference date, with the Supporting Families
//! criteria it meets, its model score (when `zonewise score` has run), the agencies
//! involved, the reasons in words, the round table's latest decision and whether
//! it is flagged (`report::flags`); the same at the previous round for "newly
//! flagged" and "score rose", and the round before that for "stepping down". One
//! query reads them all; the views filter and aggregate in memory (a county has
//! thousands of families, not millions).

use duckdb::Connection;

use super::family_detail::{DECISION_COLUMNS, Decision, decision_from_row};
use super::flags::flags_sql;
use crate::access::Visibility;
use crate::risk::criteria::DEFAULT_SET;
use crate::risk::features::UNIVERSAL_EVENTS;
use crate::store::StoreError;

/// Separator of values packed into one text column by `string_agg`.
const SEP: char = '\u{1f}';

/// One criterion of the rule set, as the chips name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionInfo {
    pub name: String,
    pub title: String,
    /// The rule in words, as it was applied on the reference date.
    pub rule: String,
}

/// A zone's id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneInfo {
    pub zone_id: String,
    pub name: String,
    /// Families its round table discusses at one round (`report::flags`).
    pub capacity: u32,
}

/// One family at the current round.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FamilyRow {
    pub family_id: String,
    pub zone_id: Option<String>,
    pub lsoa_code: Option<String>,
    pub imd_decile: Option<i32>,
    pub members: i64,
    /// Children under 18 on the reference date.
    pub children: i64,
    /// The family's most common surname, for unmasked lists ("Smith").
    pub surname: String,
    /// Members' initials, eldest first ("J.S., A.S."): what a masked screen shows.
    pub initials: String,
    /// Indexes into [`FamiliesFigures::criteria`] of the criteria met now.
    pub criteria_met: Vec<usize>,
    /// How many criteria the family met at the previous round (`None` when it had
    /// no child then), and at the round before that.
    pub previous_criteria_met: Option<usize>,
    pub earlier_criteria_met: Option<usize>,
    /// Highest child's model score now, at the previous round and the one before.
    pub score: Option<f64>,
    pub previous_score: Option<f64>,
    pub earlier_score: Option<f64>,
    /// A child scores at or above the model's own threshold (the Models view's
    /// figures); not what puts a family on an agenda, which `flagged` says.
    pub model_flagged: bool,
    /// Flagged now, and at the previous round: among its zone's top families
    /// within the zone's capacity (the one definition, `report::flags`).
    pub flagged: bool,
    pub previously_flagged: bool,
    /// Agencies (source names) with a non-universal record of the family in the 12 months before the date.
    pub agencies: Vec<String>,
    /// Why the highest-scoring child's score is high, in words.
    pub reasons: Vec<String>,
    /// The round table's latest decision about the family.
    pub decision: Option<Decision>,
}

/// Every family of the current round and what the views need to describe them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FamiliesFigures {
    /// The current round's reference date (yyyy-mm-dd); `None` before criteria have run.
    pub current: Option<String>,
    pub previous: Option<String>,
    /// The round before the previous one, for "stepping down".
    pub earlier: Option<String>,
    /// The rule set's title and the number of criteria that make a family eligible.
    pub rule_set_title: String,
    pub eligible_at: usize,
    pub criteria: Vec<CriterionInfo>,
    pub zones: Vec<ZoneInfo>,
    /// Source name → agency label ("police" → "Police"), for every source loaded.
    pub agencies: Vec<(String, String)>,
    /// The model whose scores are shown, when scores exist for the date.
    pub model_id: Option<String>,
    /// Highest score first; families without a score by criteria met.
    pub families: Vec<FamilyRow>,
}

impl FamilyRow {
    /// Meets enough criteria to be eligible for the programme.
    pub fn eligible(&self, eligible_at: usize) -> bool {
        eligible_at > 0 && self.criteria_met.len() >= eligible_at
    }

    /// "Smith family", or the initials when the surname is masked.
    pub fn display_name(&self) -> String {
        if self.surname.is_empty() {
            self.initials.clone()
        } else {
            format!("{} family", self.surname)
        }
    }

    /// Flagged now but not at the previous round.
    pub fn newly_flagged(&self) -> bool {
        self.flagged && !self.previously_flagged
    }

    /// Change in score since the previous round, when both rounds were scored.
    pub fn score_change(&self) -> Option<f64> {
        Some(self.score? - self.previous_score?)
    }

    /// Score and criteria fell at each of the last two rounds: at each, no more
    /// criteria met and no higher score than at the round before, and one of them
    /// lower. Needs three rounds with the family's criteria.
    pub fn fell_two_rounds(&self) -> bool {
        let fell = |before: (Option<usize>, Option<f64>), after: (Option<usize>, Option<f64>)| {
            let (Some(met_before), Some(met_after)) = (before.0, after.0) else {
                return false;
            };
            let score_fell = match (before.1, after.1) {
                (Some(b), Some(a)) if a > b => return false,
                (Some(b), Some(a)) => a < b,
                _ => false,
            };
            met_after <= met_before && (met_after < met_before || score_fell)
        };
        let now = (Some(self.criteria_met.len()), self.score);
        let previous = (self.previous_criteria_met, self.previous_score);
        let earlier = (self.earlier_criteria_met, self.earlier_score);
        fell(earlier, previous) && fell(previous, now)
    }
}

impl FamiliesFigures {
    /// The label of an agency's source name ("police" → "Police").
    pub fn agency_label<'a>(&'a self, source: &'a str) -> &'a str {
        self.agencies
            .iter()
            .find(|(name, _)| name == source)
            .map_or(source, |(_, label)| label.as_str())
    }

    /// A zone's name, or its id when unknown.
    pub fn zone_name<'a>(&'a self, zone_id: &'a str) -> &'a str {
        self.zones
            .iter()
            .find(|z| z.zone_id == zone_id)
            .map_or(zone_id, |z| z.name.as_str())
    }

    pub fn family(&self, family_id: &str) -> Option<&FamilyRow> {
        self.families.iter().find(|f| f.family_id == family_id)
    }
}

/// Reads every family of the latest round that `visibility` allows (pass it on
/// from `access::person_query`): only the session's zones, and no surnames when
/// identities are masked. Empty figures (no `current`) when the criteria have not
/// been applied yet.
pub fn read_families(
    conn: &Connection,
    visibility: &Visibility,
) -> Result<FamiliesFigures, StoreError> {
    let dates: Vec<String> = conn
        .prepare(
            "SELECT DISTINCT strftime(reference_date, '%Y-%m-%d') FROM mart.family_criterion
             WHERE rule_set = ? ORDER BY 1 DESC LIMIT 3",
        )?
        .query_map([DEFAULT_SET], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let Some(current) = dates.first().cloned() else {
        return Ok(FamiliesFigures::default());
    };
    // With one round only there is no previous one: every flagged family is new.
    let previous = dates.get(1).cloned();
    let earlier = dates.get(2).cloned();
    let criteria = read_criteria(conn, &current)?;
    let (rule_set_title, eligible_at) = rule_set();
    let zones = conn
        .prepare(&format!(
            "SELECT z.zone_id, z.name, coalesce(c.capacity, {}) FROM ref.zone z
             LEFT JOIN app.zone_capacity c USING (zone_id) WHERE {} ORDER BY z.name",
            super::flags::DEFAULT_CAPACITY,
            visibility.zone_condition(conn, "z.zone_id")?
        ))?
        .query_map([], |row| {
            Ok(ZoneInfo {
                zone_id: row.get(0)?,
                name: row.get(1)?,
                capacity: row.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let agencies = conn
        .prepare("SELECT name, agency FROM app.source ORDER BY name")?
        .query_map([], |row| {
            let name: String = row.get(0)?;
            let agency: String = row.get(1)?;
            Ok((
                name,
                crate::ingest::manifest::AgencyKind::label_of(&agency).to_string(),
            ))
        })?
        .collect::<Result<_, _>>()?;
    let model_id: Option<String> = conn.query_row(
        "SELECT any_value(model_id) FROM mart.risk_score WHERE reference_date = ?::DATE",
        [&current],
        |row| row.get(0),
    )?;
    let mut families = read_family_rows(
        conn,
        [
            Some(current.as_str()),
            previous.as_deref(),
            earlier.as_deref(),
        ],
        &criteria,
        &visibility.zone_condition(conn, "f.zone_id")?,
    )?;
    if visibility.masked() {
        for family in &mut families {
            family.surname.clear();
        }
    }
    Ok(FamiliesFigures {
        current: Some(current),
        previous,
        earlier,
        rule_set_title,
        eligible_at,
        criteria,
        zones,
        agencies,
        model_id,
        families,
    })
}

/// The title of the rule set the rounds are assessed with, and how many of its
/// criteria make a family eligible. The set is compiled in (and a unit test parses
/// it), so the fallback only names the set and flags no one by criteria.
fn rule_set() -> (String, usize) {
    crate::risk::criteria::built_in()
        .ok()
        .and_then(|sets| {
            crate::risk::criteria::find(&sets, DEFAULT_SET)
                .ok()
                .map(|s| (s.title.clone(), s.eligible_at as usize))
        })
        .unwrap_or_else(|| (DEFAULT_SET.to_string(), 0))
}

fn read_criteria(conn: &Connection, current: &str) -> Result<Vec<CriterionInfo>, StoreError> {
    Ok(conn
        .prepare(
            "SELECT criterion, title, rule FROM mart.criterion_rule
             WHERE reference_date = ?::DATE AND rule_set = ? ORDER BY rowid",
        )?
        .query_map([current, DEFAULT_SET], |row| {
            Ok(CriterionInfo {
                name: row.get(0)?,
                title: row.get(1)?,
                rule: row.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// Families of the `rounds` (current, previous, earlier).
fn read_family_rows(
    conn: &Connection,
    rounds: [Option<&str>; 3],
    criteria: &[CriterionInfo],
    zone_condition: &str,
) -> Result<Vec<FamilyRow>, StoreError> {
    let universal = crate::risk::list_sql(&UNIVERSAL_EVENTS);
    let sql = format!(
        "WITH now_c AS (
             SELECT family_id, string_agg(criterion, chr(31) ORDER BY criterion) FILTER (WHERE met) AS met
             FROM mart.family_criterion WHERE reference_date = $1::DATE AND rule_set = $3
             GROUP BY family_id),
         before_c AS (
             SELECT family_id, count(*) FILTER (WHERE met) AS met
             FROM mart.family_criterion WHERE reference_date = $2::DATE AND rule_set = $3
             GROUP BY family_id),
         now_s AS (
             SELECT family_id, max(score) AS score, bool_or(flagged) AS flagged,
                    arg_max(person_id, score) AS top_child
             FROM mart.risk_score WHERE reference_date = $1::DATE GROUP BY family_id),
         before_s AS (
             SELECT family_id, max(score) AS score
             FROM mart.risk_score WHERE reference_date = $2::DATE AND $2 <> $1 GROUP BY family_id),
         earlier_c AS (
             SELECT family_id, count(*) FILTER (WHERE met) AS met
             FROM mart.family_criterion WHERE reference_date = $4::DATE AND rule_set = $3
             GROUP BY family_id),
         earlier_s AS (
             SELECT family_id, max(score) AS score
             FROM mart.risk_score WHERE reference_date = $4::DATE GROUP BY family_id),
         flags_now AS ({flags_now}),
         flags_before AS ({flags_before}),
         reasons AS (
             SELECT s.family_id, string_agg(r.sentence, chr(31) ORDER BY r.rank) AS sentences
             FROM now_s s JOIN mart.risk_reason r
               ON r.person_id = s.top_child AND r.reference_date = $1::DATE
             GROUP BY s.family_id),
         people AS (
             SELECT family_id, mode(family_name) AS surname,
                    string_agg(upper(coalesce(left(given_name, 1), '?')) || '.'
                               || upper(coalesce(left(family_name, 1), '?')) || '.', ', '
                               ORDER BY birth_date NULLS LAST, person_id) AS initials
             FROM core.person GROUP BY family_id),
         kids AS (
             SELECT family_id, count(*) AS children FROM core.person
             WHERE birth_date <= $1::DATE AND age_on(birth_date, $1::DATE) < 18 GROUP BY family_id),
         involved AS (
             SELECT family_id, string_agg(DISTINCT source, chr(31) ORDER BY source) AS sources
             FROM core.event
             WHERE event_date < $1::DATE AND event_date >= ($1::DATE - INTERVAL 12 MONTH)::DATE
               AND event_type NOT IN {universal}
             GROUP BY family_id),
         decided AS (
             SELECT family_id, {DECISION_COLUMNS} FROM app.round_decision
             QUALIFY row_number() OVER (PARTITION BY family_id ORDER BY decided_at DESC) = 1)
         SELECT c.family_id, f.zone_id, f.lsoa_code, l.imd_decile, f.members,
                coalesce(k.children, 0), coalesce(p.surname, ''), coalesce(p.initials, ''),
                coalesce(c.met, ''), b.met, s.score, bs.score,
                coalesce(s.flagged, false), coalesce(f_now.flagged, false), coalesce(f_before.flagged, false),
                coalesce(i.sources, ''), coalesce(r.sentences, ''), ec.met, es.score,
                d.* EXCLUDE (family_id)
         FROM now_c c
         JOIN core.family f USING (family_id)
         LEFT JOIN ref.lsoa l ON l.lsoa_code = f.lsoa_code
         LEFT JOIN before_c b USING (family_id)
         LEFT JOIN now_s s USING (family_id)
         LEFT JOIN before_s bs USING (family_id)
         LEFT JOIN earlier_c ec USING (family_id)
         LEFT JOIN earlier_s es USING (family_id)
         LEFT JOIN flags_now f_now USING (family_id)
         LEFT JOIN flags_before f_before USING (family_id)
         LEFT JOIN reasons r USING (family_id)
         LEFT JOIN people p USING (family_id)
         LEFT JOIN kids k USING (family_id)
         LEFT JOIN involved i USING (family_id)
         LEFT JOIN decided d USING (family_id)
         WHERE {zone_condition}",
        flags_now = flags_sql("$1::DATE"),
        flags_before = flags_sql("$2::DATE"),
    );
    crate::uptake::stats::create_macros(conn)?;
    let mut statement = conn.prepare(&sql)?;
    let [current, previous, earlier] = rounds;
    let rows = statement.query_map(
        duckdb::params![current, previous, DEFAULT_SET, earlier],
        |row| {
            let met: String = row.get(8)?;
            let previous_met: Option<i64> = row.get(9)?;
            let agencies: String = row.get(15)?;
            let reasons: String = row.get(16)?;
            let earlier_met: Option<i64> = row.get(17)?;
            let outcome: Option<String> = row.get(19)?;
            Ok(FamilyRow {
                family_id: row.get(0)?,
                zone_id: row.get(1)?,
                lsoa_code: row.get(2)?,
                imd_decile: row.get(3)?,
                members: row.get(4)?,
                children: row.get(5)?,
                surname: title_case(&row.get::<_, String>(6)?),
                initials: row.get(7)?,
                criteria_met: split(&met)
                    .filter_map(|name| criteria.iter().position(|c| c.name == name))
                    .collect(),
                previous_criteria_met: previous_met.map(|n| n.max(0) as usize),
                earlier_criteria_met: earlier_met.map(|n| n.max(0) as usize),
                score: row.get(10)?,
                previous_score: row.get(11)?,
                earlier_score: row.get(18)?,
                model_flagged: row.get(12)?,
                flagged: row.get(13)?,
                previously_flagged: row.get(14)?,
                agencies: split(&agencies).map(str::to_string).collect(),
                reasons: split(&reasons).map(str::to_string).collect(),
                decision: match outcome {
                    Some(_) => Some(decision_from_row(row, 19)?),
                    None => None,
                },
            })
        },
    )?;
    let mut families: Vec<FamilyRow> = rows.collect::<Result<_, _>>()?;
    sort_by_priority(&mut families);
    Ok(families)
}

/// Highest score first; unscored families after scored ones, by criteria met;
/// the family id breaks ties so the order never changes between reads.
pub fn sort_by_priority(families: &mut [FamilyRow]) {
    families.sort_by(|a, b| {
        let score = |f: &FamilyRow| f.score.unwrap_or(f64::NEG_INFINITY);
        score(b)
            .total_cmp(&score(a))
            .then(b.criteria_met.len().cmp(&a.criteria_met.len()))
            .then(a.family_id.cmp(&b.family_id))
    });
}

/// The values `string_agg(…, chr(31))` packed into one text.
pub(crate) fn split(packed: &str) -> impl Iterator<Item = &str> {
    packed.split(SEP).filter(|s| !s.is_empty())
}

/// "safe_from_abuse" → "Safe from abuse": a criterion's short name for a chip.
pub fn short_name(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "O'BRIEN-SMITH" → "O'Brien-Smith": names as records hold them (often upper
/// case) written as a person would.
pub fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut start = true;
    for c in name.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = !c.is_alphabetic();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_criteria_read_as_words() {
        assert_eq!(title_case("O'BRIEN-SMITH"), "O'Brien-Smith");
        assert_eq!(title_case("lockyer"), "Lockyer");
        assert_eq!(short_name("safe_from_abuse"), "Safe from abuse");
        assert_eq!(short_name(""), "");
    }
}
