-- Zonewise database layout. Applied on every open; every statement is idempotent.
-- Data flows one way: staging (as received) → core (linked) → mart (for screens).
-- `ref` holds geography and deprivation; `app` holds what the application itself records.

CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS ref;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS mart;
CREATE SCHEMA IF NOT EXISTS app;

-- Key/value facts about the database itself (schema version, which sample built it).
CREATE TABLE IF NOT EXISTS app.meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

-- One row per `zonewise ingest` run that committed.
CREATE TABLE IF NOT EXISTS app.load_run (
    load_id      INTEGER PRIMARY KEY,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP NOT NULL,
    manifest     VARCHAR NOT NULL,
    county       VARCHAR NOT NULL,
    extract_date DATE,
    sources      INTEGER NOT NULL,
    total_rows   BIGINT NOT NULL
);

-- The latest load of each source and its data-quality summary.
CREATE TABLE IF NOT EXISTS app.source (
    name           VARCHAR PRIMARY KEY,
    agency         VARCHAR NOT NULL,
    system         VARCHAR NOT NULL,
    file           VARCHAR NOT NULL,
    load_id        INTEGER NOT NULL,
    loaded_at      TIMESTAMP NOT NULL,
    total_rows     BIGINT NOT NULL,
    records        BIGINT NOT NULL,   -- distinct record_id: the system's person records
    duplicate_keys BIGINT NOT NULL,   -- rows whose row_id appears more than once
    first_event    DATE,
    last_event     DATE
);

-- Completeness of each identity field per source (filled = non-empty values).
CREATE TABLE IF NOT EXISTS app.source_field (
    source     VARCHAR NOT NULL,
    field      VARCHAR NOT NULL,
    mapped     BOOLEAN NOT NULL,      -- false when the extract has no such column at all
    filled     BIGINT NOT NULL,
    total_rows BIGINT NOT NULL,
    PRIMARY KEY (source, field)
);

-- LSOA 2011 geography with IMD 2019 and ONS mid-2020 population.
CREATE TABLE IF NOT EXISTS ref.lsoa (
    lsoa_code        VARCHAR PRIMARY KEY,
    lsoa_name        VARCHAR NOT NULL,
    la_code          VARCHAR NOT NULL,
    la_name          VARCHAR NOT NULL,
    imd_score        DOUBLE NOT NULL,
    imd_rank         INTEGER NOT NULL,
    imd_decile       INTEGER NOT NULL,
    income_score     DOUBLE,
    employment_score DOUBLE,
    population       INTEGER,
    population_0_17  INTEGER
);

-- Family partnership zones (early-help localities) and the LSOAs in each.
CREATE TABLE IF NOT EXISTS ref.zone (
    zone_id VARCHAR PRIMARY KEY,
    name    VARCHAR NOT NULL,
    la_code VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS ref.lsoa_zone (
    lsoa_code VARCHAR PRIMARY KEY,
    zone_id   VARCHAR NOT NULL
);

-- Postcode → LSOA lookup from the ONS postcode directory (NSPL/ONSPD), keyed by the
-- postcode as linkage standardises it (upper case, letters and digits only).
CREATE TABLE IF NOT EXISTS ref.postcode (
    postcode      VARCHAR PRIMARY KEY,  -- lookup key: 'BH11AA'
    postcode_text VARCHAR NOT NULL,     -- as published: 'BH1 1AA'
    lsoa_code     VARCHAR NOT NULL
);

-- LSOA boundaries for the map, one row per vertex in British National Grid metres:
-- polygon `part` of the LSOA, `ring` 0 the exterior and 1.. its holes, `seq` in order.
CREATE TABLE IF NOT EXISTS ref.lsoa_vertex (
    lsoa_code VARCHAR NOT NULL,
    part      INTEGER NOT NULL,
    ring      INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    x         DOUBLE NOT NULL,
    y         DOUBLE NOT NULL
);

-- Electoral wards some LSOA is fitted to, and the LSOA → ward best fit: each LSOA
-- in the ward holding its centroid (`fit` 'centroid'), else a point inside it
-- ('interior_point'), else the nearest ward ('nearest'). LSOAs do not nest in wards.
CREATE TABLE IF NOT EXISTS ref.ward (
    ward_code VARCHAR PRIMARY KEY,
    ward_name VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS ref.lsoa_ward (
    lsoa_code VARCHAR PRIMARY KEY,
    ward_code VARCHAR NOT NULL,
    fit       VARCHAR NOT NULL
);

-- The audit log (`audit`): who did what, to what, when (UTC) and why, as a hash chain.
-- hash = SHA-256 of the entry's fields and prev_hash (the previous entry's hash, zeros
-- for the first); the head (entries, last hash) is kept in app.meta. Append only.
CREATE TABLE IF NOT EXISTS app.audit_log (
    seq       BIGINT PRIMARY KEY,
    "at"      TIMESTAMP NOT NULL,
    "user"    VARCHAR NOT NULL,
    action    VARCHAR NOT NULL,
    subject   VARCHAR NOT NULL,
    reason    VARCHAR,
    detail    VARCHAR NOT NULL,
    prev_hash VARCHAR NOT NULL,
    hash      VARCHAR NOT NULL
);

-- Users (`zonewise user add`, `access`): the role decides what they see; passwords
-- are kept only as argon2id hashes (PHC strings). Zone managers and the round-table
-- screen see only the families of their zones in app.user_zone.
CREATE TABLE IF NOT EXISTS app."user" (
    user_name     VARCHAR PRIMARY KEY,
    display_name  VARCHAR NOT NULL,
    role          VARCHAR NOT NULL,   -- analyst, senior_manager, zone_manager, commissioner, round_table
    password_hash VARCHAR NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    active        BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS app.user_zone (
    user_name VARCHAR NOT NULL,
    zone_id   VARCHAR NOT NULL,
    PRIMARY KEY (user_name, zone_id)
);

-- One row per `zonewise link` run: what it found and the model it trained.
CREATE TABLE IF NOT EXISTS app.link_run (
    run_id             INTEGER PRIMARY KEY,
    finished_at        TIMESTAMP NOT NULL,
    records            BIGINT NOT NULL,
    candidate_pairs    BIGINT NOT NULL,
    accepted_pairs     BIGINT NOT NULL,
    review_pairs       BIGINT NOT NULL,
    persons            BIGINT NOT NULL,
    accept_probability DOUBLE NOT NULL,
    review_probability DOUBLE NOT NULL,
    model_json         VARCHAR NOT NULL
);

-- Clerical review: a reviewer's verdict on a pair of records (keys in sorted order).
-- Linkage applies these on every run: 'same' links the pair whatever its score,
-- 'different' stops it linking directly.
CREATE TABLE IF NOT EXISTS app.review_decision (
    l_key      VARCHAR NOT NULL,
    r_key      VARCHAR NOT NULL,
    same       BOOLEAN NOT NULL,
    decided_by VARCHAR NOT NULL,
    decided_at TIMESTAMP NOT NULL,
    PRIMARY KEY (l_key, r_key)
);

-- Uptake of a service against deprivation (`zonewise uptake`), after small-number
-- suppression: a withheld count is NULL with its *_withheld flag set, and so are
-- the rates built on it. One set of rows per service, replaced on each run.
CREATE TABLE IF NOT EXISTS mart.uptake_lsoa (
    service               VARCHAR NOT NULL,
    reference_date        DATE NOT NULL,
    lsoa_code             VARCHAR NOT NULL,
    lsoa_name             VARCHAR NOT NULL,
    la_code               VARCHAR,
    zone_id               VARCHAR,
    ward_code             VARCHAR,  -- best-fit ward (ref.lsoa_ward)
    imd_decile            INTEGER,
    imd_quintile          INTEGER,
    eligible              BIGINT,
    invited               BIGINT,
    attended              BIGINT,
    coverage              DOUBLE,   -- attended ÷ eligible, 0–1
    coverage_lower        DOUBLE,   -- Wilson 95%
    coverage_upper        DOUBLE,
    uptake                DOUBLE,   -- attended ÷ invited, 0–1
    uptake_lower          DOUBLE,
    uptake_upper          DOUBLE,
    eligible_withheld     BOOLEAN NOT NULL,
    invited_withheld      BOOLEAN NOT NULL,
    attended_withheld     BOOLEAN NOT NULL,
    suppression_threshold INTEGER NOT NULL,
    PRIMARY KEY (service, lsoa_code)
);

-- The same per IMD decile and quintile (level 'decile' or 'quintile', imd_group 1 = most deprived).
CREATE TABLE IF NOT EXISTS mart.uptake_decile (
    service               VARCHAR NOT NULL,
    reference_date        DATE NOT NULL,
    level                 VARCHAR NOT NULL,
    imd_group             INTEGER NOT NULL,
    name                  VARCHAR NOT NULL,
    lsoas                 BIGINT NOT NULL,
    eligible              BIGINT,
    invited               BIGINT,
    attended              BIGINT,
    coverage              DOUBLE,
    coverage_lower        DOUBLE,
    coverage_upper        DOUBLE,
    uptake                DOUBLE,
    uptake_lower          DOUBLE,
    uptake_upper          DOUBLE,
    eligible_withheld     BOOLEAN NOT NULL,
    invited_withheld      BOOLEAN NOT NULL,
    attended_withheld     BOOLEAN NOT NULL,
    suppression_threshold INTEGER NOT NULL,
    PRIMARY KEY (service, level, imd_group)
);

-- The same per zone, ward, authority and the whole county (level 'zone', 'ward',
-- 'authority', 'county').
CREATE TABLE IF NOT EXISTS mart.uptake_area (
    service               VARCHAR NOT NULL,
    reference_date        DATE NOT NULL,
    level                 VARCHAR NOT NULL,
    area_code             VARCHAR NOT NULL,
    area_name             VARCHAR NOT NULL,
    la_code               VARCHAR,
    lsoas                 BIGINT NOT NULL,
    eligible              BIGINT,
    invited               BIGINT,
    attended              BIGINT,
    coverage              DOUBLE,
    coverage_lower        DOUBLE,
    coverage_upper        DOUBLE,
    uptake                DOUBLE,
    uptake_lower          DOUBLE,
    uptake_upper          DOUBLE,
    eligible_withheld     BOOLEAN NOT NULL,
    invited_withheld      BOOLEAN NOT NULL,
    attended_withheld     BOOLEAN NOT NULL,
    suppression_threshold INTEGER NOT NULL,
    PRIMARY KEY (service, level, area_code)
);

-- Slope and relative index of inequality across IMD deciles (measure 'coverage' or 'uptake').
CREATE TABLE IF NOT EXISTS mart.uptake_inequality (
    service        VARCHAR NOT NULL,
    reference_date DATE NOT NULL,
    measure        VARCHAR NOT NULL,
    deciles        INTEGER NOT NULL,
    mean_rate      DOUBLE,   -- population-weighted mean, 0–1
    sii            DOUBLE,   -- least minus most deprived, as a proportion
    sii_lower      DOUBLE,
    sii_upper      DOUBLE,
    rii            DOUBLE,   -- SII ÷ mean_rate
    rii_lower      DOUBLE,
    rii_upper      DOUBLE,
    sentence       VARCHAR NOT NULL,
    PRIMARY KEY (service, measure)
);

-- Early-help features (`zonewise export-features`, `risk::features`): one row per
-- child under 18 on the reference date, with the family's features repeated on
-- each child's row. Only events dated before the reference date are counted;
-- `_3m`/`_6m`/`_12m` are look-back windows in months. Every column: docs/risk.md.
CREATE TABLE IF NOT EXISTS mart.risk_feature (
    reference_date DATE NOT NULL,
    person_id VARCHAR NOT NULL,
    family_id VARCHAR NOT NULL,
    lsoa_code VARCHAR,
    zone_id VARCHAR,
    age_years INTEGER NOT NULL,
    under_five INTEGER NOT NULL,
    attendance_3m DOUBLE,
    attendance_6m DOUBLE,
    attendance_12m DOUBLE,
    attendance_change_12m DOUBLE,
    suspensions_3m BIGINT NOT NULL,
    suspensions_6m BIGINT NOT NULL,
    suspensions_12m BIGINT NOT NULL,
    permanent_exclusions_3m BIGINT NOT NULL,
    permanent_exclusions_6m BIGINT NOT NULL,
    permanent_exclusions_12m BIGINT NOT NULL,
    social_care_contacts_3m BIGINT NOT NULL,
    social_care_contacts_6m BIGINT NOT NULL,
    social_care_contacts_12m BIGINT NOT NULL,
    social_care_referrals_3m BIGINT NOT NULL,
    social_care_referrals_6m BIGINT NOT NULL,
    social_care_referrals_12m BIGINT NOT NULL,
    social_care_plans_3m BIGINT NOT NULL,
    social_care_plans_6m BIGINT NOT NULL,
    social_care_plans_12m BIGINT NOT NULL,
    police_domestic_abuse_3m BIGINT NOT NULL,
    police_domestic_abuse_6m BIGINT NOT NULL,
    police_domestic_abuse_12m BIGINT NOT NULL,
    police_anti_social_behaviour_3m BIGINT NOT NULL,
    police_anti_social_behaviour_6m BIGINT NOT NULL,
    police_anti_social_behaviour_12m BIGINT NOT NULL,
    police_offending_3m BIGINT NOT NULL,
    police_offending_6m BIGINT NOT NULL,
    police_offending_12m BIGINT NOT NULL,
    ae_attendances_3m BIGINT NOT NULL,
    ae_attendances_6m BIGINT NOT NULL,
    ae_attendances_12m BIGINT NOT NULL,
    suspension_days_12m DOUBLE NOT NULL,
    social_care_plans_ever BIGINT NOT NULL,
    household_size BIGINT NOT NULL,
    children_in_family BIGINT NOT NULL,
    age_youngest_child INTEGER,
    imd_decile INTEGER,
    family_out_of_work_benefit INTEGER NOT NULL,
    family_ae_attendances_3m BIGINT NOT NULL,
    family_ae_attendances_6m BIGINT NOT NULL,
    family_ae_attendances_12m BIGINT NOT NULL,
    family_social_care_contacts_3m BIGINT NOT NULL,
    family_social_care_contacts_6m BIGINT NOT NULL,
    family_social_care_contacts_12m BIGINT NOT NULL,
    family_rent_arrears_3m BIGINT NOT NULL,
    family_rent_arrears_6m BIGINT NOT NULL,
    family_rent_arrears_12m BIGINT NOT NULL,
    family_homelessness_applications_3m BIGINT NOT NULL,
    family_homelessness_applications_6m BIGINT NOT NULL,
    family_homelessness_applications_12m BIGINT NOT NULL,
    family_police_domestic_abuse_3m BIGINT NOT NULL,
    family_police_domestic_abuse_6m BIGINT NOT NULL,
    family_police_domestic_abuse_12m BIGINT NOT NULL,
    family_police_anti_social_behaviour_3m BIGINT NOT NULL,
    family_police_anti_social_behaviour_6m BIGINT NOT NULL,
    family_police_anti_social_behaviour_12m BIGINT NOT NULL,
    family_police_offending_3m BIGINT NOT NULL,
    family_police_offending_6m BIGINT NOT NULL,
    family_police_offending_12m BIGINT NOT NULL,
    family_police_incidents_change_12m BIGINT NOT NULL,
    family_rent_arrears_amount_12m DOUBLE NOT NULL,
    family_agencies_3m BIGINT NOT NULL,
    family_agencies_6m BIGINT NOT NULL,
    family_agencies_12m BIGINT NOT NULL,
    PRIMARY KEY (reference_date, person_id)
);

-- The label of each row of mart.risk_feature: 1 when a child protection or
-- looked-after episode starts in the 12 months from the reference date (read from
-- core.event, never from a synthetic truth). follow_up_complete is false when the
-- extracts end before those 12 months do.
CREATE TABLE IF NOT EXISTS mart.risk_label (
    reference_date     DATE NOT NULL,
    person_id          VARCHAR NOT NULL,
    family_id          VARCHAR NOT NULL,
    label              INTEGER NOT NULL,   -- 0 or 1
    outcome_date       DATE,               -- first such episode in the period
    outcome_type       VARCHAR,
    follow_up_complete BOOLEAN NOT NULL,
    PRIMARY KEY (reference_date, person_id)
);

-- Headline problems (`zonewise criteria`, rules in assets/criteria.toml): for each
-- family with a child on the reference date, each criterion of the rule set and
-- whether the family meets it, with how many events are its evidence.
CREATE TABLE IF NOT EXISTS mart.family_criterion (
    reference_date  DATE NOT NULL,
    rule_set        VARCHAR NOT NULL,
    criterion       VARCHAR NOT NULL,
    family_id       VARCHAR NOT NULL,
    met             BOOLEAN NOT NULL,
    evidence_events BIGINT NOT NULL,
    PRIMARY KEY (reference_date, rule_set, criterion, family_id)
);

-- The core.event rows (by source and line, as core.event keys them) behind each
-- criterion a family meets.
CREATE TABLE IF NOT EXISTS mart.criterion_evidence (
    reference_date DATE NOT NULL,
    rule_set       VARCHAR NOT NULL,
    criterion      VARCHAR NOT NULL,
    family_id      VARCHAR NOT NULL,
    person_id      VARCHAR,
    source         VARCHAR NOT NULL,
    line           BIGINT NOT NULL,
    event_type     VARCHAR,
    event_date     DATE,
    value          DOUBLE,
    PRIMARY KEY (reference_date, rule_set, criterion, source, line)
);

-- Each criterion of a rule set in words, as it was applied on that date.
CREATE TABLE IF NOT EXISTS mart.criterion_rule (
    reference_date DATE NOT NULL,
    rule_set       VARCHAR NOT NULL,
    criterion      VARCHAR NOT NULL,
    title          VARCHAR NOT NULL,
    rule           VARCHAR NOT NULL,
    PRIMARY KEY (reference_date, rule_set, criterion)
);

-- Risk scores (`zonewise score`, src/risk/model/score.rs): every child under 18
-- on the reference date, the model's score (the probability of a child
-- protection plan or care episode starting in the next 12 months) and whether it
-- reaches the model's threshold. Flags are for human review. A date's rows are
-- replaced together.
CREATE TABLE IF NOT EXISTS mart.risk_score (
    reference_date DATE NOT NULL,
    person_id      VARCHAR NOT NULL,
    family_id      VARCHAR NOT NULL,
    model_id       VARCHAR NOT NULL,   -- mart.risk_model.model_id
    score          DOUBLE NOT NULL,
    flagged        BOOLEAN NOT NULL,
    PRIMARY KEY (reference_date, person_id)
);

-- The (at most) three features that raised each child's score most, in words.
-- contribution is in the model's units: logit for logistic regression,
-- probability for a tree.
CREATE TABLE IF NOT EXISTS mart.risk_reason (
    reference_date DATE NOT NULL,
    person_id      VARCHAR NOT NULL,
    rank           INTEGER NOT NULL,   -- 1 = raised the score most
    feature        VARCHAR NOT NULL,   -- a column of mart.risk_feature
    contribution   DOUBLE NOT NULL,
    sentence       VARCHAR NOT NULL,
    PRIMARY KEY (reference_date, person_id, rank)
);

-- The model files that produced mart.risk_score, as JSON (with their held-out
-- evaluation), so the Models view shows what made the scores on screen.
CREATE TABLE IF NOT EXISTS mart.risk_model (
    model_id      VARCHAR PRIMARY KEY,
    kind          VARCHAR NOT NULL,    -- logistic or tree
    training_date DATE NOT NULL,
    held_out_date DATE NOT NULL,
    created_at    VARCHAR NOT NULL,
    model_json    VARCHAR NOT NULL
);

-- A family's score is the highest of its children's; it is flagged when any child is.
CREATE OR REPLACE VIEW mart.family_risk_score AS
SELECT reference_date, family_id, any_value(model_id) AS model_id, max(score) AS score,
       bool_or(flagged) AS flagged, count(*) AS children
FROM mart.risk_score
GROUP BY reference_date, family_id;

-- What a zone's round table decided about a family, with who recorded it and when.
-- Every decision is kept: the latest one per family is the current one. A
-- decision with a review date is a plan (report::family_detail::Plan): its lead
-- practitioner, the actions agreed, when the round table reviews it and, when
-- agreed, when it ends; the outcome 'Closed (step down)' ends the round table's
-- involvement.
CREATE TABLE IF NOT EXISTS app.round_decision (
    family_id      VARCHAR NOT NULL,
    zone_id        VARCHAR,
    reference_date DATE NOT NULL,
    outcome        VARCHAR NOT NULL,
    note           VARCHAR NOT NULL,
    decided_by     VARCHAR NOT NULL,
    decided_at     TIMESTAMP NOT NULL,
    lead_agency    VARCHAR,
    lead_name      VARCHAR,
    actions        VARCHAR,
    review_date    DATE,
    plan_ends      DATE
);
-- Databases made before decisions became plans gain the plan's columns (empty
-- for their decisions), so they keep working without a rebuild.
-- The IMD 2019 domains' deciles (geo::imd_domain), added after the first
-- release: a database made before them has them empty until its reference
-- data is loaded again.
ALTER TABLE ref.lsoa ADD COLUMN IF NOT EXISTS income_decile INTEGER;
ALTER TABLE ref.lsoa ADD COLUMN IF NOT EXISTS employment_decile INTEGER;
ALTER TABLE ref.lsoa ADD COLUMN IF NOT EXISTS education_decile INTEGER;
ALTER TABLE ref.lsoa ADD COLUMN IF NOT EXISTS health_decile INTEGER;
ALTER TABLE ref.lsoa ADD COLUMN IF NOT EXISTS crime_decile INTEGER;
ALTER TABLE ref.lsoa ADD COLUMN IF NOT EXISTS housing_services_decile INTEGER;
ALTER TABLE ref.lsoa ADD COLUMN IF NOT EXISTS living_env_decile INTEGER;
ALTER TABLE app.round_decision ADD COLUMN IF NOT EXISTS lead_agency VARCHAR;
ALTER TABLE app.round_decision ADD COLUMN IF NOT EXISTS lead_name VARCHAR;
ALTER TABLE app.round_decision ADD COLUMN IF NOT EXISTS actions VARCHAR;
ALTER TABLE app.round_decision ADD COLUMN IF NOT EXISTS review_date DATE;
ALTER TABLE app.round_decision ADD COLUMN IF NOT EXISTS plan_ends DATE;

-- How many families a zone's round table can discuss at one round, set by an
-- analyst (`zonewise capacity`); a zone without a row has the default
-- (report::flags::DEFAULT_CAPACITY). It decides which families are flagged.
CREATE TABLE IF NOT EXISTS app.zone_capacity (
    zone_id  VARCHAR PRIMARY KEY,
    capacity INTEGER NOT NULL CHECK (capacity > 0),
    set_by   VARCHAR NOT NULL,
    set_at   TIMESTAMP NOT NULL
);

-- Services an analyst defined in the app (`uptake::saved`): each one's definition
-- as data (the `[[service]]` TOML of a services file, never SQL), shown on the
-- map for every user of the database. Saved with its audit entry.
CREATE TABLE IF NOT EXISTS app.service (
    name       VARCHAR PRIMARY KEY,
    definition VARCHAR NOT NULL,
    saved_by   VARCHAR NOT NULL,
    saved_at   TIMESTAMP NOT NULL
);

-- What each linkage run changed since the one before (link::lineage): one row per
-- previous and new family sharing people (compared by their records), kind
-- 'kept' (one to one), 'merged', 'split' or 'regrouped', and 'new' / 'gone' rows
-- with one side only; `members` and `children` are the people in both. Decisions
-- moved with the family are counted on the row they moved along; `needs_review`
-- marks decisions copied onto tied successors, or left on a family that is gone.
CREATE TABLE IF NOT EXISTS app.family_change (
    run_id          INTEGER NOT NULL,
    old_family_id   VARCHAR,
    new_family_id   VARCHAR,
    kind            VARCHAR NOT NULL,
    members         BIGINT NOT NULL,
    children        BIGINT NOT NULL,
    zone_before     VARCHAR,
    zone_after      VARCHAR,
    decisions_moved BIGINT NOT NULL,
    needs_review    BOOLEAN NOT NULL
);

-- People a linkage run merged or split since the one before (each previous and
-- new person sharing records, where either side has more than one), and the
-- people new to it ('new', no previous id; `records` their records).
CREATE TABLE IF NOT EXISTS app.person_change (
    run_id        INTEGER NOT NULL,
    old_person_id VARCHAR,
    new_person_id VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,
    records       BIGINT NOT NULL
);
