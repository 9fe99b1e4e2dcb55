//! What each agency records about a family over the history, and the future
//! outcome (escalation to child protection or care) at each reference date.
//! Rates depend on the hidden circumstances and on deprivation; every number here
//! is listed in docs/synthetic-data.md.

use chrono::{Duration, NaiveDate};
use rand::Rng;
use rand_distr::{Distribution, Poisson};

use super::population::{Family, Role};
use super::sources::{BENEFITS, EDUCATION, HEALTH, HOUSING, POLICE, PUBLIC_HEALTH, SOCIAL_CARE};
use super::timeline::{EXTRACT_DATE, HISTORY_START, REFERENCE_DATES, TERM_STARTS, random_date};

/// Years of history, the exposure every yearly rate is multiplied by.
const YEARS: f64 = 4.0;

/// One row-to-be in one agency's extract.
#[derive(Debug, Clone)]
pub struct Event {
    pub source: usize,
    /// Index into `family.members`.
    pub person: usize,
    pub date: NaiveDate,
    pub event_type: &'static str,
    pub value: Option<f64>,
    pub household_ref: Option<String>,
    /// Extra columns in the order the source lists them.
    pub extra: Vec<String>,
}

/// One child's true outcome at one reference date.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub person: usize,
    pub reference_date: NaiveDate,
    pub probability: f64,
    pub escalated: bool,
}

/// Run-wide counters for references shared between rows (incidents, tenancies, claims).
#[derive(Default)]
pub struct Refs {
    incident: u64,
    tenancy: u64,
    claim: u64,
}

fn poisson<R: Rng>(rng: &mut R, lambda: f64) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    Poisson::new(lambda).map_or(0, |p| p.sample(rng) as u64)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn flag(value: bool) -> f64 {
    f64::from(u8::from(value))
}

fn event(source: usize, person: usize, date: NaiveDate, event_type: &'static str) -> Event {
    Event {
        source,
        person,
        date,
        event_type,
        value: None,
        household_ref: None,
        extra: Vec::new(),
    }
}

/// Generates every event of a family and its children's outcomes.
pub fn family_events<R: Rng>(
    rng: &mut R,
    family: &Family,
    school_urn: &str,
    refs: &mut Refs,
) -> (Vec<Event>, Vec<Outcome>) {
    let c = &family.circumstances;
    let d = family.deprivation;
    let last_day = EXTRACT_DATE - Duration::days(1);
    let mut events = Vec::new();

    // Police: domestic abuse incidents involve the adults and the children present.
    let domestic_abuse = poisson(
        rng,
        YEARS * (0.03 + 1.1 * flag(c.domestic_abuse) + 0.1 * flag(c.substance_misuse)),
    );
    for _ in 0..domestic_abuse {
        let date = random_date(rng, HISTORY_START, last_day);
        refs.incident += 1;
        let incident = format!("INC{:08}", refs.incident);
        for (index, person) in family.members.iter().enumerate() {
            if !person.born_by(date) {
                continue;
            }
            let role = match person.role {
                Role::Parent => "victim",
                Role::Partner => "suspect",
                Role::Child if rng.random::<f64>() < 0.7 => "child_present",
                Role::Child => continue,
            };
            let mut row = event(POLICE, index, date, "domestic_abuse");
            row.extra = vec![incident.clone(), role.to_string()];
            events.push(row);
        }
    }
    let teenager = family
        .members
        .iter()
        .position(|p| p.role == Role::Child && p.age_on(EXTRACT_DATE) >= 13);
    for (incident_type, rate) in [
        (
            "anti_social_behaviour",
            0.03 + 0.15 * d + 0.25 * flag(c.substance_misuse),
        ),
        (
            "offending",
            0.02 + 0.4 * flag(c.substance_misuse) + 0.08 * flag(c.worklessness),
        ),
    ] {
        for _ in 0..poisson(rng, YEARS * rate) {
            let date = random_date(rng, HISTORY_START, last_day);
            let person = match teenager {
                Some(t) if rng.random::<f64>() < 0.4 && family.members[t].age_on(date) >= 10 => t,
                _ => 0,
            };
            refs.incident += 1;
            let mut row = event(POLICE, person, date, incident_type);
            row.extra = vec![format!("INC{:08}", refs.incident), "suspect".to_string()];
            events.push(row);
        }
    }

    // Children's social care: contacts, some becoming referrals and child-in-need plans.
    let contact_rate = 0.02
        + 0.3 * flag(c.domestic_abuse)
        + 0.25 * flag(c.substance_misuse)
        + 0.2 * flag(c.mental_health)
        + 0.08 * d;
    for (index, child) in family.members.iter().enumerate() {
        if child.role != Role::Child {
            continue;
        }
        let mut contacts: Vec<NaiveDate> = (0..poisson(rng, YEARS * contact_rate))
            .map(|_| random_date(rng, HISTORY_START.max(child.birth_date), last_day))
            .collect();
        // Police notifications of domestic abuse with the child present.
        for incident in events
            .iter()
            .filter(|e| e.source == POLICE && e.person == index && e.event_type == "domestic_abuse")
        {
            if rng.random::<f64>() < 0.5 {
                contacts
                    .push((incident.date + Duration::days(rng.random_range(1..14))).min(last_day));
            }
        }
        for date in contacts {
            events.push(event(SOCIAL_CARE, index, date, "contact"));
            if rng.random::<f64>() < 0.4 {
                let referral = (date + Duration::days(rng.random_range(1..10))).min(last_day);
                events.push(event(SOCIAL_CARE, index, referral, "referral"));
                if rng.random::<f64>() < 0.35 {
                    let plan = (referral + Duration::days(rng.random_range(20..45))).min(last_day);
                    events.push(event(SOCIAL_CARE, index, plan, "child_in_need"));
                }
            }
        }
    }

    let outcomes = outcomes(rng, family, &mut events);

    // Education: termly attendance for children of school age, suspensions and exclusions.
    let troubles = f64::from(
        u8::from(c.domestic_abuse) + u8::from(c.substance_misuse) + u8::from(c.mental_health),
    );
    for (index, child) in family.members.iter().enumerate() {
        if child.role != Role::Child {
            continue;
        }
        let pupil_effect = rng.random_range(-2.0..2.0);
        for (term, start) in TERM_STARTS.iter().enumerate() {
            let age = child.age_on(*start);
            if !(4..=15).contains(&age) {
                continue;
            }
            // Attendance falls over time in families with several difficulties.
            let drift = if troubles >= 2.0 {
                0.6 * term as f64
            } else {
                0.0
            };
            let attendance =
                (96.5 - 3.0 * d - 4.5 * troubles - 2.5 * flag(c.housing_insecurity) - drift
                    + pupil_effect
                    + rng.random_range(-2.5..2.5))
                .clamp(35.0, 100.0);
            let mut row = event(EDUCATION, index, *start, "attendance");
            row.value = Some((attendance * 10.0).round() / 10.0);
            row.extra = vec![school_urn.to_string()];
            events.push(row);
        }
        let school_years = (
            HISTORY_START.max(child.birth_date + Duration::days(8 * 365)),
            child.birth_date + Duration::days(16 * 365),
        );
        if school_years.0 < school_years.1.min(last_day) {
            for _ in 0..poisson(rng, YEARS * (0.01 + 0.1 * troubles + 0.04 * d)) {
                let mut row = event(
                    EDUCATION,
                    index,
                    random_date(rng, school_years.0, school_years.1.min(last_day)),
                    "suspension",
                );
                row.value = Some(f64::from(rng.random_range(1..=5u8)));
                row.extra = vec![school_urn.to_string()];
                events.push(row);
            }
            if rng.random::<f64>() < 0.002 + 0.012 * flag(c.substance_misuse) {
                let mut row = event(
                    EDUCATION,
                    index,
                    random_date(rng, school_years.0, school_years.1.min(last_day)),
                    "permanent_exclusion",
                );
                row.extra = vec![school_urn.to_string()];
                events.push(row);
            }
        }
    }

    // Health: health-visiting contacts for under-fives, A&E attendances for everyone.
    for (index, person) in family.members.iter().enumerate() {
        if person.role == Role::Child {
            for days in [12, 45, 365, 760] {
                let date = person.birth_date + Duration::days(days);
                if date >= HISTORY_START && date < EXTRACT_DATE && rng.random::<f64>() < 0.9 {
                    events.push(event(HEALTH, index, date, "health_visiting"));
                }
            }
        }
        let adult = flag(person.role != Role::Child);
        let rate = 0.12
            + 0.08 * d
            + 0.25 * adult * flag(c.substance_misuse)
            + 0.1 * flag(c.mental_health)
            + 0.08 * flag(c.domestic_abuse);
        for _ in 0..poisson(rng, YEARS * rate) {
            let date = random_date(rng, HISTORY_START.max(person.birth_date), last_day);
            events.push(event(HEALTH, index, date, "ae_attendance"));
        }
    }

    // Housing: social tenants' arrears, and homelessness applications by anyone.
    let social_tenant = rng.random::<f64>() < 0.15 + 0.45 * d + 0.15 * flag(c.worklessness);
    if social_tenant || c.housing_insecurity {
        refs.tenancy += 1;
        let tenancy = format!("TEN{:07}", refs.tenancy);
        if social_tenant {
            let start = random_date(
                rng,
                NaiveDate::from_ymd_opt(2012, 1, 1).unwrap_or(HISTORY_START),
                last_day,
            );
            for (index, adult) in family.members.iter().enumerate() {
                if adult.role != Role::Child {
                    let mut row = event(HOUSING, index, start, "tenancy_start");
                    row.household_ref = Some(tenancy.clone());
                    events.push(row);
                }
            }
            for _ in 0..poisson(
                rng,
                YEARS * (0.1 + 0.8 * flag(c.worklessness) + 0.6 * flag(c.housing_insecurity)),
            ) {
                let mut row = event(
                    HOUSING,
                    0,
                    random_date(rng, HISTORY_START.max(start), last_day),
                    "rent_arrears",
                );
                row.value = Some(f64::from(rng.random_range(15..250u32)) * 10.0);
                row.household_ref = Some(tenancy.clone());
                events.push(row);
            }
        }
        for _ in 0..poisson(rng, YEARS * (0.005 + 0.2 * flag(c.housing_insecurity))) {
            let mut row = event(
                HOUSING,
                0,
                random_date(rng, HISTORY_START, last_day),
                "homelessness_application",
            );
            row.household_ref = Some(tenancy.clone());
            events.push(row);
        }
    }

    // Benefits: an out-of-work claim for workless households, short claims for some others.
    let short_claim = !c.worklessness && rng.random::<f64>() < 0.08 * d;
    if c.worklessness || short_claim {
        refs.claim += 1;
        let claim = format!("UC{:08}", refs.claim);
        let start = if c.worklessness {
            random_date(
                rng,
                NaiveDate::from_ymd_opt(2018, 1, 1).unwrap_or(HISTORY_START),
                last_day,
            )
        } else {
            random_date(rng, HISTORY_START, last_day)
        };
        let end = (short_claim || rng.random::<f64>() < 0.25)
            .then(|| start + Duration::days(rng.random_range(60..500)))
            .filter(|end| *end < EXTRACT_DATE);
        for (index, adult) in family.members.iter().enumerate() {
            if adult.role == Role::Child {
                continue;
            }
            for (date, kind) in
                std::iter::once((start, "claim_start")).chain(end.map(|e| (e, "claim_end")))
            {
                let mut row = event(BENEFITS, index, date, kind);
                row.household_ref = Some(claim.clone());
                row.extra = vec!["universal_credit_no_work_requirement".to_string()];
                events.push(row);
            }
        }
    }

    // Public health: NHS Health Checks for 40–74s (uptake lower in deprived areas),
    // children's centre registration for under-fives (higher in deprived areas).
    for (index, person) in family.members.iter().enumerate() {
        if person.role != Role::Child {
            for year in 0..4 {
                let invite = random_date(
                    rng,
                    HISTORY_START + Duration::days(365 * year),
                    HISTORY_START + Duration::days(365 * year + 364),
                );
                if !(40..=74).contains(&person.age_on(invite)) || rng.random::<f64>() >= 0.2 {
                    continue;
                }
                events.push(event(PUBLIC_HEALTH, index, invite, "health_check_invited"));
                let attend = sigmoid(
                    0.35 - 1.5 * d + 0.3 * flag(!c.worklessness) - 0.3 * flag(c.mental_health),
                );
                if rng.random::<f64>() < attend {
                    let date = (invite + Duration::days(rng.random_range(7..90))).min(last_day);
                    events.push(event(PUBLIC_HEALTH, index, date, "health_check_attended"));
                }
            }
        } else {
            let fifth_birthday = person.birth_date + Duration::days(5 * 365);
            if fifth_birthday > HISTORY_START && rng.random::<f64>() < 0.45 + 0.25 * d {
                let from = HISTORY_START.max(person.birth_date);
                let date = random_date(rng, from, (from + Duration::days(200)).min(last_day));
                events.push(event(
                    PUBLIC_HEALTH,
                    index,
                    date,
                    "childrens_centre_registration",
                ));
            }
        }
    }
    (events, outcomes)
}

/// Coefficients of the outcome model: logit p = intercept + Σ coefficient · feature.
pub const OUTCOME_INTERCEPT: f64 = -4.6;
pub const OUTCOME_COEFFICIENTS: [(&str, f64); 10] = [
    ("domestic_abuse", 1.1),
    ("substance_misuse", 0.9),
    ("mental_health", 0.6),
    ("housing_insecurity", 0.3),
    ("worklessness", 0.3),
    ("deprivation", 0.5),
    ("police_domestic_abuse_12m (max 4)", 0.3),
    ("social_care_contacts_12m (max 3)", 0.35),
    ("under_five", 0.3),
    ("vulnerability", 0.4),
];

/// Draws each child's outcome at each reference date from the events before it, and
/// writes the child-protection or looked-after start of every escalation into `events`.
fn outcomes<R: Rng>(rng: &mut R, family: &Family, events: &mut Vec<Event>) -> Vec<Outcome> {
    let c = &family.circumstances;
    let mut outcomes = Vec::new();
    for reference in REFERENCE_DATES {
        let year_before = reference - Duration::days(365);
        for (index, child) in family.members.iter().enumerate() {
            if child.role != Role::Child
                || !child.born_by(reference)
                || child.age_on(reference) >= 17
            {
                continue;
            }
            let in_window =
                |e: &&Event| e.person == index && e.date >= year_before && e.date < reference;
            let police = events
                .iter()
                .filter(in_window)
                .filter(|e| e.source == POLICE && e.event_type == "domestic_abuse")
                .count()
                .min(4);
            let contacts = events
                .iter()
                .filter(in_window)
                .filter(|e| e.source == SOCIAL_CARE && e.event_type == "contact")
                .count()
                .min(3);
            let features = [
                flag(c.domestic_abuse),
                flag(c.substance_misuse),
                flag(c.mental_health),
                flag(c.housing_insecurity),
                flag(c.worklessness),
                family.deprivation,
                police as f64,
                contacts as f64,
                flag(child.age_on(reference) < 5),
                family.vulnerability,
            ];
            let logit = OUTCOME_INTERCEPT
                + OUTCOME_COEFFICIENTS
                    .iter()
                    .zip(features)
                    .map(|((_, b), x)| b * x)
                    .sum::<f64>();
            let probability = sigmoid(logit);
            let escalated = rng.random::<f64>() < probability;
            if escalated {
                let date = reference + Duration::days(rng.random_range(0..365));
                let kind = if rng.random::<f64>() < 0.75 {
                    "child_protection"
                } else {
                    "looked_after"
                };
                events.push(event(
                    SOCIAL_CARE,
                    index,
                    date.min(EXTRACT_DATE - Duration::days(1)),
                    kind,
                ));
            }
            outcomes.push(Outcome {
                person: index,
                reference_date: reference,
                probability,
                escalated,
            });
        }
    }
    outcomes
}
