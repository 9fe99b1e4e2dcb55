//! Features of every child at a reference date R → `mart.risk_feature`: counts
//! and means of the child's own events and of the whole family's over look-back
//! windows, changes over time, and the household and its neighbourhood. One row
//! per child under 18 on R, family features repeated on each child's row.
//!
//! Only events dated before R are read (`past` below): every window is
//! `[R − n months, R)`. Names and meanings are listed in `docs/risk.md`.

use chrono::NaiveDate;
use duckdb::Connection;

use super::{date_sql, date_text, list_sql};

/// Look-back windows in months: each windowed feature has one column per window.
pub const WINDOWS_MONTHS: [u32; 3] = [3, 6, 12];

/// Event types of a social care plan or episode (child in need, child protection, looked after).
pub const PLAN_EVENTS: [&str; 3] = ["child_in_need", "child_protection", "looked_after"];

/// Police incident types counted as incidents.
pub const POLICE_EVENTS: [&str; 3] = ["domestic_abuse", "anti_social_behaviour", "offending"];

/// Records every family has from universal services, which say nothing about an
/// agency being involved with the family: school attendance returns, health
/// visiting, Health Check invitations and checks, children's centre registration,
/// a tenancy starting or ending.
pub const UNIVERSAL_EVENTS: [&str; 7] = [
    "attendance",
    "health_visiting",
    "health_check_invited",
    "health_check_attended",
    "childrens_centre_registration",
    "tenancy_start",
    "tenancy_end",
];

/// A count of events in each look-back window; the columns are `{stem}_3m` etc.
struct WindowCount {
    stem: &'static str,
    event_types: &'static [&'static str],
}

/// Counts of the child's own events.
const CHILD_COUNTS: [WindowCount; 9] = [
    WindowCount {
        stem: "suspensions",
        event_types: &["suspension"],
    },
    WindowCount {
        stem: "permanent_exclusions",
        event_types: &["permanent_exclusion"],
    },
    WindowCount {
        stem: "social_care_contacts",
        event_types: &["contact"],
    },
    WindowCount {
        stem: "social_care_referrals",
        event_types: &["referral"],
    },
    WindowCount {
        stem: "social_care_plans",
        event_types: &PLAN_EVENTS,
    },
    WindowCount {
        stem: "police_domestic_abuse",
        event_types: &["domestic_abuse"],
    },
    WindowCount {
        stem: "police_anti_social_behaviour",
        event_types: &["anti_social_behaviour"],
    },
    WindowCount {
        stem: "police_offending",
        event_types: &["offending"],
    },
    WindowCount {
        stem: "ae_attendances",
        event_types: &["ae_attendance"],
    },
];

/// Counts of rows over everyone in the family.
const FAMILY_COUNTS: [WindowCount; 4] = [
    WindowCount {
        stem: "family_ae_attendances",
        event_types: &["ae_attendance"],
    },
    WindowCount {
        stem: "family_social_care_contacts",
        event_types: &["contact"],
    },
    WindowCount {
        stem: "family_rent_arrears",
        event_types: &["rent_arrears"],
    },
    WindowCount {
        stem: "family_homelessness_applications",
        event_types: &["homelessness_application"],
    },
];

/// Police incidents over everyone in the family, counted once per day: a police
/// extract has one row per person involved in an incident, so counting rows would
/// count a domestic-abuse call with a parent and two children present three times.
const FAMILY_INCIDENTS: [WindowCount; 3] = [
    WindowCount {
        stem: "family_police_domestic_abuse",
        event_types: &["domestic_abuse"],
    },
    WindowCount {
        stem: "family_police_anti_social_behaviour",
        event_types: &["anti_social_behaviour"],
    },
    WindowCount {
        stem: "family_police_offending",
        event_types: &["offending"],
    },
];

/// Every feature column of `mart.risk_feature`, in table order (keys excluded),
/// so documentation and exports can be checked against the table.
pub fn feature_columns() -> Vec<String> {
    let windowed = |stem: &str| WINDOWS_MONTHS.map(|w| format!("{stem}_{w}m"));
    let mut columns = vec!["age_years".to_string(), "under_five".to_string()];
    columns.extend(windowed("attendance"));
    columns.push("attendance_change_12m".to_string());
    for count in &CHILD_COUNTS {
        columns.extend(windowed(count.stem));
    }
    columns.extend(["suspension_days_12m", "social_care_plans_ever"].map(String::from));
    columns.extend(
        [
            "household_size",
            "children_in_family",
            "age_youngest_child",
            "imd_decile",
            "family_out_of_work_benefit",
        ]
        .map(String::from),
    );
    for count in FAMILY_COUNTS.iter().chain(&FAMILY_INCIDENTS) {
        columns.extend(windowed(count.stem));
    }
    columns.push("family_police_incidents_change_12m".to_string());
    columns.push("family_rent_arrears_amount_12m".to_string());
    columns.extend(windowed("family_agencies"));
    columns
}

/// Replaces the rows of `reference_date` in `mart.risk_feature`. Needs the
/// `age_on` macro (`uptake::stats::create_macros`).
pub fn write(conn: &Connection, reference_date: NaiveDate) -> Result<(), duckdb::Error> {
    conn.execute(
        "DELETE FROM mart.risk_feature WHERE reference_date = ?::DATE",
        [date_text(reference_date)],
    )?;
    conn.execute_batch(&insert_sql(reference_date))
}

/// First day of the `months` window before R, as SQL.
fn window_start(reference: &str, months: u32) -> String {
    format!("({reference} - INTERVAL {months} MONTH)::DATE")
}

/// `count(*)` of the listed event types in each window, one column per window.
fn window_counts(count: &WindowCount, reference: &str) -> Vec<String> {
    WINDOWS_MONTHS
        .iter()
        .map(|&w| {
            format!(
                "count(*) FILTER (WHERE e.event_type IN {types} AND e.event_date >= {start}) AS {stem}_{w}m",
                types = list_sql(count.event_types),
                start = window_start(reference, w),
                stem = count.stem,
            )
        })
        .collect()
}

/// Distinct event days of the listed types in each window (incidents, see [`FAMILY_INCIDENTS`]).
fn window_incidents(count: &WindowCount, reference: &str) -> Vec<String> {
    WINDOWS_MONTHS
        .iter()
        .map(|&w| {
            format!(
                "count(DISTINCT CASE WHEN e.event_type IN {types} AND e.event_date >= {start}
                                     THEN e.event_date END) AS {stem}_{w}m",
                types = list_sql(count.event_types),
                start = window_start(reference, w),
                stem = count.stem,
            )
        })
        .collect()
}

/// The statement that fills `mart.risk_feature` for one reference date.
fn insert_sql(reference_date: NaiveDate) -> String {
    let r = date_sql(reference_date);
    let start = |months| window_start(&r, months);
    let mut child = Vec::new();
    // Values are summed as decimals: DuckDB adds doubles in whatever order its
    // threads meet them, so a double sum can differ in the last bit from run to
    // run, and the training rows (and their fingerprint) would not be repeatable.
    for w in WINDOWS_MONTHS {
        child.push(format!(
            "avg(e.value::DECIMAL(18, 4)) FILTER (WHERE e.event_type = 'attendance' AND e.event_date >= {}) AS attendance_{w}m",
            start(w)
        ));
    }
    // Falling attendance is negative: the last six months' mean minus the six months before.
    child.push(format!(
        "avg(e.value::DECIMAL(18, 4)) FILTER (WHERE e.event_type = 'attendance' AND e.event_date >= {six})
         - avg(e.value::DECIMAL(18, 4)) FILTER (WHERE e.event_type = 'attendance' AND e.event_date >= {twelve}
                                  AND e.event_date < {six}) AS attendance_change_12m",
        six = start(6),
        twelve = start(12)
    ));
    for count in &CHILD_COUNTS {
        child.extend(window_counts(count, &r));
    }
    child.push(format!(
        "coalesce(sum(e.value::DECIMAL(18, 4)) FILTER (WHERE e.event_type = 'suspension' AND e.event_date >= {}), 0)
         AS suspension_days_12m",
        start(12)
    ));
    child.push(format!(
        "count(*) FILTER (WHERE e.event_type IN {}) AS social_care_plans_ever",
        list_sql(&PLAN_EVENTS)
    ));

    let mut family = Vec::new();
    for count in &FAMILY_COUNTS {
        family.extend(window_counts(count, &r));
    }
    for count in &FAMILY_INCIDENTS {
        family.extend(window_incidents(count, &r));
    }
    let police = list_sql(&POLICE_EVENTS);
    family.push(format!(
        "count(DISTINCT CASE WHEN e.event_type IN {police} AND e.event_date >= {six}
                             THEN e.event_type || ':' || e.event_date::VARCHAR END)
         - count(DISTINCT CASE WHEN e.event_type IN {police} AND e.event_date >= {twelve}
                                 AND e.event_date < {six}
                               THEN e.event_type || ':' || e.event_date::VARCHAR END)
         AS family_police_incidents_change_12m",
        six = start(6),
        twelve = start(12)
    ));
    family.push(format!(
        "coalesce(sum(e.value::DECIMAL(18, 4)) FILTER (WHERE e.event_type = 'rent_arrears' AND e.event_date >= {}), 0)
         AS family_rent_arrears_amount_12m",
        start(12)
    ));
    let universal = list_sql(&UNIVERSAL_EVENTS);
    for w in WINDOWS_MONTHS {
        family.push(format!(
            "count(DISTINCT CASE WHEN e.event_type NOT IN {universal} AND e.event_date >= {}
                                 THEN e.source END) AS family_agencies_{w}m",
            start(w)
        ));
    }

    format!(
        "INSERT INTO mart.risk_feature BY NAME
         WITH children AS (
             SELECT person_id, family_id, age_on(birth_date, {r}) AS age_years
             FROM core.person
             WHERE family_id IS NOT NULL AND birth_date <= {r} AND age_on(birth_date, {r}) < 18),
         -- Members on R: everyone born by then (a member with no birth date counts).
         members AS (
             SELECT family_id, age_on(birth_date, {r}) AS age_years
             FROM core.person
             WHERE family_id IN (SELECT family_id FROM children)
               AND (birth_date IS NULL OR birth_date <= {r})),
         -- The temporal split: nothing dated R or later.
         past AS (
             SELECT person_id, family_id, source, event_type, event_date, value
             FROM core.event WHERE event_date < {r}),
         child_part AS (
             SELECT c.person_id, {child}
             FROM children c LEFT JOIN past e ON e.person_id = c.person_id
             GROUP BY c.person_id),
         family_part AS (
             SELECT f.family_id, {family}
             FROM (SELECT DISTINCT family_id FROM children) f
             LEFT JOIN past e ON e.family_id = f.family_id
             GROUP BY f.family_id),
         household AS (
             SELECT family_id, count(*) AS household_size,
                    count(*) FILTER (WHERE age_years < 18) AS children_in_family,
                    min(age_years) FILTER (WHERE age_years < 18) AS age_youngest_child
             FROM members GROUP BY family_id),
         -- An out-of-work claim is open on R when a claimant's latest claim event
         -- before R starts one (an end on the same day as a start closes it).
         latest_claim AS (
             SELECT family_id, event_type,
                    row_number() OVER (PARTITION BY person_id
                                       ORDER BY event_date DESC, event_type = 'claim_end' DESC) AS recency
             FROM past WHERE event_type IN ('claim_start', 'claim_end')),
         open_claim AS (
             SELECT DISTINCT family_id FROM latest_claim
             WHERE recency = 1 AND event_type = 'claim_start')
         SELECT {r} AS reference_date, c.person_id, c.family_id, fam.lsoa_code, fam.zone_id,
                c.age_years, (c.age_years < 5)::INTEGER AS under_five,
                cp.* EXCLUDE (person_id), fp.* EXCLUDE (family_id),
                h.household_size, h.children_in_family, h.age_youngest_child, l.imd_decile,
                (oc.family_id IS NOT NULL)::INTEGER AS family_out_of_work_benefit
         FROM children c
         JOIN child_part cp ON cp.person_id = c.person_id
         JOIN family_part fp ON fp.family_id = c.family_id
         JOIN household h ON h.family_id = c.family_id
         LEFT JOIN core.family fam ON fam.family_id = c.family_id
         LEFT JOIN ref.lsoa l ON l.lsoa_code = fam.lsoa_code
         LEFT JOIN open_claim oc ON oc.family_id = c.family_id
         ORDER BY c.family_id, c.person_id",
        child = child.join(",\n                    "),
        family = family.join(",\n                    "),
    )
}
