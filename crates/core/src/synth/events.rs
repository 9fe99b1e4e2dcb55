//! What each agency records about a family over the history, and the future
//! outcome (escalation to child protection or care) at each reference date.
//! Rates depend on the hidden circumstances and on deprivation; every number here
//! is listed in docs/synthetic-data.md.

use chrono::{Duration, NaiveDate};
use rand::Rng;
use rand_distr::{Distribution, Poisson};

use super::geography::Geography;
use super::population::{Family, Person, Role, sigmoid};
use super::sources::{BENEFITS, EDUCATION, HEALTH, HOUSING, POLICE, PUBLIC_HEALTH, SOCIAL_CARE};
use super::timeline::{
    HISTORY_START, LAST_DAY, REFERENCE_DATES, TERM_ENDS, date, random_date, years_after,
};

/// Years of history, the exposure every yearly rate is multiplied by.
const YEARS: f64 = 4.0;

/// One row-to-be in one agency's extract.
#[derive(Debug, Clone)]
pub struct Event {
    /// Index into `sources::SOURCES`.
    pub source: usize,
    /// Index into `family.members`.
    pub person: usize,
    /// Day of the event.
    pub date: NaiveDate,
    /// Event type as the extract writes it.
    pub event_type: &'static str,
    /// Number attached to the event (attendance %, suspension days, arrears £).
    pub value: Option<f64>,
    /// Tenancy or claim reference shared by the household's rows.
    pub household_ref: Option<String>,
    /// Extra columns in the order the source lists them.
    pub extra: Vec<String>,
}

/// One child's true outcome at one reference date.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Index into `family.members`.
    pub person: usize,
    /// The reference date the outcome looks 12 months ahead from.
    pub reference_date: NaiveDate,
    /// True probability of escalation from the documented logistic model.
    pub probability: f64,
    /// The drawn outcome.
    pub escalated: bool,
}

/// Run-wide counters for references shared between rows (incidents, tenancies, claims).
#[derive(Default, Clone)]
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
    geography: &Geography,
    refs: &mut Refs,
) -> (Vec<Event>, Vec<Outcome>) {
    let mut events = Vec::new();
    police_events(rng, family, refs, &mut events);
    social_care_events(rng, family, &mut events);
    let outcomes = outcomes(rng, family, &mut events);
    education_events(rng, family, geography, &mut events);
    health_events(rng, family, &mut events);
    housing_events(rng, family, refs, &mut events);
    benefit_events(rng, family, refs, &mut events);
    public_health_events(rng, family, &mut events);
    (events, outcomes)
}

/// A teenager of the family (10 or over on `date`), if there is one.
fn teenager_on(family: &Family, date: NaiveDate) -> Option<usize> {
    family
        .children()
        .filter(|(_, child)| child.age_on(date) >= 10 && child.age_on(date) < 18)
        .map(|(index, _)| index)
        .next()
}

/// Police: domestic abuse incidents involve the adults and the children present;
/// anti-social behaviour and offending name one suspect.
fn police_events<R: Rng>(rng: &mut R, family: &Family, refs: &mut Refs, events: &mut Vec<Event>) {
    let c = &family.circumstances;
    let d = family.deprivation;
    let domestic_abuse = poisson(
        rng,
        YEARS * (0.03 + 1.1 * flag(c.domestic_abuse) + 0.1 * flag(c.substance_misuse)),
    );
    for _ in 0..domestic_abuse {
        let date = random_date(rng, HISTORY_START, LAST_DAY);
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
    let partner = family.members.iter().position(|p| p.role == Role::Partner);
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
            let date = random_date(rng, HISTORY_START, LAST_DAY);
            let draw = rng.random::<f64>();
            let person = match (teenager_on(family, date), partner) {
                (Some(teen), _) if draw < 0.4 => teen,
                (_, Some(partner)) if draw < 0.75 => partner,
                _ => 0,
            };
            refs.incident += 1;
            let mut row = event(POLICE, person, date, incident_type);
            row.extra = vec![format!("INC{:08}", refs.incident), "suspect".to_string()];
            events.push(row);
        }
    }
}

/// Children's social care: contacts (some from police notifications), some becoming
/// referrals and child-in-need plans.
fn social_care_events<R: Rng>(rng: &mut R, family: &Family, events: &mut Vec<Event>) {
    let c = &family.circumstances;
    let contact_rate = 0.02
        + 0.3 * flag(c.domestic_abuse)
        + 0.25 * flag(c.substance_misuse)
        + 0.2 * flag(c.mental_health)
        + 0.08 * family.deprivation;
    for (index, child) in family.children() {
        if child.birth_date > LAST_DAY {
            continue;
        }
        let mut contacts: Vec<NaiveDate> = (0..poisson(rng, YEARS * contact_rate))
            .map(|_| random_date(rng, HISTORY_START.max(child.birth_date), LAST_DAY))
            .collect();
        let notified: Vec<NaiveDate> = events
            .iter()
            .filter(|e| e.source == POLICE && e.person == index && e.event_type == "domestic_abuse")
            .map(|e| e.date)
            .collect();
        for incident in notified {
            if rng.random::<f64>() < 0.5 {
                contacts.push((incident + Duration::days(rng.random_range(1..14))).min(LAST_DAY));
            }
        }
        for date in contacts {
            events.push(event(SOCIAL_CARE, index, date, "contact"));
            if rng.random::<f64>() < 0.4 {
                let referral = (date + Duration::days(rng.random_range(1..10))).min(LAST_DAY);
                events.push(event(SOCIAL_CARE, index, referral, "referral"));
                if rng.random::<f64>() < 0.35 {
                    let plan = (referral + Duration::days(rng.random_range(20..45))).min(LAST_DAY);
                    events.push(event(SOCIAL_CARE, index, plan, "child_in_need"));
                }
            }
        }
    }
}

/// Education: termly attendance for children aged 4–15, suspensions and exclusions.
fn education_events<R: Rng>(
    rng: &mut R,
    family: &Family,
    geography: &Geography,
    events: &mut Vec<Event>,
) {
    let c = &family.circumstances;
    let d = family.deprivation;
    let troubles = f64::from(
        u8::from(c.domestic_abuse) + u8::from(c.substance_misuse) + u8::from(c.mental_health),
    );
    let school = |child: &Person, on: NaiveDate| {
        let lsoa = &geography.lsoas[family.address_on(on).lsoa];
        if child.age_on(on) <= 10 {
            lsoa.primary_school.clone()
        } else {
            lsoa.secondary_school.clone()
        }
    };
    for (index, child) in family.children() {
        let pupil_effect = rng.random_range(-2.0..2.0);
        for (term, end) in TERM_ENDS.iter().enumerate() {
            if !(4..=15).contains(&child.age_on(*end)) {
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
            let mut row = event(EDUCATION, index, *end, "attendance");
            row.value = Some((attendance * 10.0).round() / 10.0);
            row.extra = vec![school(child, *end)];
            events.push(row);
        }
        let from = HISTORY_START.max(years_after(child.birth_date, 8));
        let to = LAST_DAY.min(years_after(child.birth_date, 16));
        if from >= to {
            continue;
        }
        for _ in 0..poisson(rng, YEARS * (0.01 + 0.1 * troubles + 0.04 * d)) {
            let on = random_date(rng, from, to);
            let mut row = event(EDUCATION, index, on, "suspension");
            row.value = Some(f64::from(rng.random_range(1..=5u8)));
            row.extra = vec![school(child, on)];
            events.push(row);
        }
        if rng.random::<f64>() < 0.002 + 0.012 * flag(c.substance_misuse) {
            let on = random_date(rng, from, to);
            let mut row = event(EDUCATION, index, on, "permanent_exclusion");
            row.extra = vec![school(child, on)];
            events.push(row);
        }
    }
}

/// Health: health-visiting contacts for under-fives, A&E attendances for everyone.
fn health_events<R: Rng>(rng: &mut R, family: &Family, events: &mut Vec<Event>) {
    let c = &family.circumstances;
    for (index, person) in family.members.iter().enumerate() {
        if person.role == Role::Child {
            // New birth visit, 6–8 week check, 1-year and 2–2½-year reviews.
            for days in [12, 45, 365, 790] {
                let on = person.birth_date + Duration::days(days);
                if on >= HISTORY_START && on <= LAST_DAY && rng.random::<f64>() < 0.9 {
                    events.push(event(HEALTH, index, on, "health_visiting"));
                }
            }
        }
        let adult = flag(person.role != Role::Child);
        let rate = 0.12
            + 0.08 * family.deprivation
            + 0.25 * adult * flag(c.substance_misuse)
            + 0.1 * flag(c.mental_health)
            + 0.08 * flag(c.domestic_abuse);
        if person.birth_date > LAST_DAY {
            continue;
        }
        for _ in 0..poisson(rng, YEARS * rate) {
            let on = random_date(rng, HISTORY_START.max(person.birth_date), LAST_DAY);
            events.push(event(HEALTH, index, on, "ae_attendance"));
        }
    }
}

/// Housing: social tenants' tenancies (one per home: a move is a new tenancy, and
/// the housing system holds the day each began and ended, as real ones do) with
/// their arrears, and homelessness applications by anyone.
fn housing_events<R: Rng>(rng: &mut R, family: &Family, refs: &mut Refs, events: &mut Vec<Event>) {
    let c = &family.circumstances;
    let social_tenant =
        rng.random::<f64>() < 0.15 + 0.45 * family.deprivation + 0.15 * flag(c.worklessness);
    // (reference, first day, day after the last) of each tenancy.
    let mut tenancies: Vec<(String, NaiveDate, NaiveDate)> = Vec::new();
    if social_tenant {
        for (index, (moved_in, _)) in family.addresses.iter().enumerate() {
            refs.tenancy += 1;
            // The first home's tenancy began before the history (2012 on).
            let start = if index == 0 {
                random_date(rng, date(2012, 1, 1), HISTORY_START - Duration::days(1))
            } else {
                *moved_in
            };
            let end = family
                .addresses
                .get(index + 1)
                .map_or(LAST_DAY + Duration::days(1), |(moved_out, _)| *moved_out);
            tenancies.push((format!("TEN{:07}", refs.tenancy), start, end));
        }
    }
    let tenancy_on = |on: NaiveDate| {
        tenancies
            .iter()
            .find(|(_, start, end)| *start <= on && on < *end)
            .map(|(reference, _, _)| reference.clone())
    };
    for (tenancy, start, end) in &tenancies {
        for (index, adult) in family.members.iter().enumerate() {
            if adult.role == Role::Child {
                continue;
            }
            let mut row = event(HOUSING, index, *start, "tenancy_start");
            row.household_ref = Some(tenancy.clone());
            events.push(row);
            if *end <= LAST_DAY {
                // The last day in the home, so the row carries that home's address.
                let mut row = event(HOUSING, index, *end - Duration::days(1), "tenancy_end");
                row.household_ref = Some(tenancy.clone());
                events.push(row);
            }
        }
    }
    if let Some((_, first_start, _)) = tenancies.first() {
        let arrears = poisson(
            rng,
            YEARS * (0.1 + 0.8 * flag(c.worklessness) + 0.6 * flag(c.housing_insecurity)),
        );
        for _ in 0..arrears {
            let on = random_date(rng, HISTORY_START.max(*first_start), LAST_DAY);
            let mut row = event(HOUSING, 0, on, "rent_arrears");
            row.value = Some(f64::from(rng.random_range(15..250u32)) * 10.0);
            row.household_ref = tenancy_on(on);
            events.push(row);
        }
    }
    let applications = poisson(rng, YEARS * (0.005 + 0.2 * flag(c.housing_insecurity)));
    for _ in 0..applications {
        let on = random_date(rng, HISTORY_START, LAST_DAY);
        let mut row = event(HOUSING, 0, on, "homelessness_application");
        // Applicants who are not council tenants have no tenancy reference.
        row.household_ref = tenancy_on(on);
        events.push(row);
    }
}

/// Benefits: an out-of-work claim for workless households, short claims for some others.
fn benefit_events<R: Rng>(rng: &mut R, family: &Family, refs: &mut Refs, events: &mut Vec<Event>) {
    let c = &family.circumstances;
    let short_claim = !c.worklessness && rng.random::<f64>() < 0.08 * family.deprivation;
    if !(c.worklessness || short_claim) {
        return;
    }
    refs.claim += 1;
    let claim = format!("UC{:08}", refs.claim);
    let start = if c.worklessness {
        random_date(rng, date(2018, 1, 1), LAST_DAY)
    } else {
        random_date(rng, HISTORY_START, LAST_DAY)
    };
    let end = (short_claim || rng.random::<f64>() < 0.25)
        .then(|| start + Duration::days(rng.random_range(60..500)))
        .filter(|end| *end <= LAST_DAY);
    for (index, adult) in family.members.iter().enumerate() {
        if adult.role == Role::Child {
            continue;
        }
        for (on, kind) in
            std::iter::once((start, "claim_start")).chain(end.map(|e| (e, "claim_end")))
        {
            let mut row = event(BENEFITS, index, on, kind);
            row.household_ref = Some(claim.clone());
            row.extra = vec!["universal_credit_no_work_requirement".to_string()];
            events.push(row);
        }
    }
}

/// Public health: NHS Health Checks for 40–74s (uptake lower in deprived areas),
/// children's centre registration for under-fives (higher in deprived areas).
fn public_health_events<R: Rng>(rng: &mut R, family: &Family, events: &mut Vec<Event>) {
    let c = &family.circumstances;
    let d = family.deprivation;
    for (index, person) in family.members.iter().enumerate() {
        if person.role != Role::Child {
            let from = HISTORY_START.max(years_after(person.birth_date, 40));
            let to = LAST_DAY.min(years_after(person.birth_date, 75) - Duration::days(1));
            let eligible_days = (to - from).num_days();
            // Invitations come every five years, so the chance of one in the history is
            // the share of five years the person was eligible for.
            if eligible_days <= 0 || rng.random::<f64>() >= eligible_days as f64 / 1826.0 {
                continue;
            }
            let invite = random_date(rng, from, to);
            events.push(event(PUBLIC_HEALTH, index, invite, "health_check_invited"));
            let attend =
                sigmoid(0.35 - 1.5 * d + 0.3 * flag(!c.worklessness) - 0.3 * flag(c.mental_health));
            if rng.random::<f64>() < attend {
                let on = (invite + Duration::days(rng.random_range(7..90))).min(LAST_DAY);
                events.push(event(PUBLIC_HEALTH, index, on, "health_check_attended"));
            }
        } else {
            let from = HISTORY_START.max(person.birth_date + Duration::days(7));
            let to = LAST_DAY.min(years_after(person.birth_date, 5));
            if from < to && rng.random::<f64>() < 0.45 + 0.25 * d {
                let on = random_date(rng, from, to.min(from + Duration::days(200)));
                events.push(event(
                    PUBLIC_HEALTH,
                    index,
                    on,
                    "childrens_centre_registration",
                ));
            }
        }
    }
}

/// Intercept of the outcome model: logit p = intercept + Σ coefficient · feature.
pub const OUTCOME_INTERCEPT: f64 = -4.6;
/// Coefficients of the outcome model, in the order `outcomes` computes the features.
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
        for (index, child) in family.children() {
            if !child.born_by(reference) || child.age_on(reference) >= 17 {
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
                // Within the 12 months after the reference date: day 0 to day 364.
                let on = (reference + Duration::days(rng.random_range(0..365))).min(LAST_DAY);
                let kind = if rng.random::<f64>() < 0.75 {
                    "child_protection"
                } else {
                    "looked_after"
                };
                events.push(event(SOCIAL_CARE, index, on, kind));
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
