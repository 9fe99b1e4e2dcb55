-- The shared team server's layout (`zonewise server init`), in one transaction.
-- What the views read is published from the analyst's DuckDB file (`zonewise
-- publish`) into ref, core and mart; what the team writes (decisions, review
-- verdicts, the audit chain) lives in app and is never touched by a publish.
-- The server enforces the roles: no login reads a person-level table directly;
-- person-level reads go through the SECURITY DEFINER functions at the end, which
-- read only after their audit entry has committed. docs/server.md and docs/security.md.

CREATE SCHEMA ref;
CREATE SCHEMA core;
CREATE SCHEMA mart;
CREATE SCHEMA app;

-- Published: reference geography (public data).
CREATE TABLE ref.lsoa (
    lsoa_code text PRIMARY KEY, lsoa_name text NOT NULL, la_code text NOT NULL,
    la_name text NOT NULL, imd_score double precision NOT NULL, imd_rank integer NOT NULL,
    imd_decile integer NOT NULL, income_score double precision,
    employment_score double precision, population integer, population_0_17 integer);
CREATE TABLE ref.zone (zone_id text PRIMARY KEY, name text NOT NULL, la_code text NOT NULL);
CREATE TABLE ref.lsoa_zone (lsoa_code text PRIMARY KEY, zone_id text NOT NULL);
CREATE TABLE ref.lsoa_vertex (
    lsoa_code text NOT NULL, part integer NOT NULL, ring integer NOT NULL,
    seq integer NOT NULL, x double precision NOT NULL, y double precision NOT NULL);
CREATE TABLE ref.ward (ward_code text PRIMARY KEY, ward_name text NOT NULL);
CREATE TABLE ref.lsoa_ward (lsoa_code text PRIMARY KEY, ward_code text NOT NULL, fit text NOT NULL);

-- Published: people, families and events (person-level).
CREATE TABLE core.person (
    person_id text PRIMARY KEY, family_id text, given_name text, family_name text,
    birth_date date, sex text, postcode text, lsoa_code text, nhs_number text,
    source_records bigint);
CREATE TABLE core.family (
    family_id text PRIMARY KEY, members bigint, children bigint, postcode text,
    lsoa_code text, zone_id text);
CREATE TABLE core.event (
    person_id text, family_id text, source text NOT NULL, record_id text, row_id text,
    line bigint NOT NULL, event_type text, event_date date, value double precision,
    PRIMARY KEY (source, line));

-- Published: criteria, scores and reasons (person-level) and what explains them.
CREATE TABLE mart.family_criterion (
    reference_date date NOT NULL, rule_set text NOT NULL, criterion text NOT NULL,
    family_id text NOT NULL, met boolean NOT NULL, evidence_events bigint NOT NULL,
    PRIMARY KEY (reference_date, rule_set, criterion, family_id));
CREATE TABLE mart.criterion_evidence (
    reference_date date NOT NULL, rule_set text NOT NULL, criterion text NOT NULL,
    family_id text NOT NULL, person_id text, source text NOT NULL, line bigint NOT NULL,
    event_type text, event_date date, value double precision,
    PRIMARY KEY (reference_date, rule_set, criterion, source, line));
CREATE TABLE mart.criterion_rule (
    reference_date date NOT NULL, rule_set text NOT NULL, criterion text NOT NULL,
    title text NOT NULL, rule text NOT NULL,
    PRIMARY KEY (reference_date, rule_set, criterion));
CREATE TABLE mart.risk_score (
    reference_date date NOT NULL, person_id text NOT NULL, family_id text NOT NULL,
    model_id text NOT NULL, score double precision NOT NULL, flagged boolean NOT NULL,
    PRIMARY KEY (reference_date, person_id));
CREATE TABLE mart.risk_reason (
    reference_date date NOT NULL, person_id text NOT NULL, rank integer NOT NULL,
    feature text NOT NULL, contribution double precision NOT NULL, sentence text NOT NULL,
    PRIMARY KEY (reference_date, person_id, rank));
CREATE TABLE mart.risk_model (
    model_id text PRIMARY KEY, kind text NOT NULL, training_date date NOT NULL,
    held_out_date date NOT NULL, created_at text NOT NULL, model_json text NOT NULL);

-- Published: uptake after small-number suppression (aggregates only).
CREATE TABLE mart.uptake_lsoa (
    service text NOT NULL, reference_date date NOT NULL, lsoa_code text NOT NULL,
    lsoa_name text NOT NULL, la_code text, zone_id text, ward_code text,
    imd_decile integer, imd_quintile integer, eligible bigint, invited bigint,
    attended bigint, coverage double precision, coverage_lower double precision,
    coverage_upper double precision, uptake double precision,
    uptake_lower double precision, uptake_upper double precision,
    eligible_withheld boolean NOT NULL, invited_withheld boolean NOT NULL,
    attended_withheld boolean NOT NULL, suppression_threshold integer NOT NULL,
    PRIMARY KEY (service, lsoa_code));
CREATE TABLE mart.uptake_decile (
    service text NOT NULL, reference_date date NOT NULL, level text NOT NULL,
    imd_group integer NOT NULL, name text NOT NULL, lsoas bigint NOT NULL,
    eligible bigint, invited bigint, attended bigint, coverage double precision,
    coverage_lower double precision, coverage_upper double precision,
    uptake double precision, uptake_lower double precision, uptake_upper double precision,
    eligible_withheld boolean NOT NULL, invited_withheld boolean NOT NULL,
    attended_withheld boolean NOT NULL, suppression_threshold integer NOT NULL,
    PRIMARY KEY (service, level, imd_group));
CREATE TABLE mart.uptake_area (
    service text NOT NULL, reference_date date NOT NULL, level text NOT NULL,
    area_code text NOT NULL, area_name text NOT NULL, la_code text, lsoas bigint NOT NULL,
    eligible bigint, invited bigint, attended bigint, coverage double precision,
    coverage_lower double precision, coverage_upper double precision,
    uptake double precision, uptake_lower double precision, uptake_upper double precision,
    eligible_withheld boolean NOT NULL, invited_withheld boolean NOT NULL,
    attended_withheld boolean NOT NULL, suppression_threshold integer NOT NULL,
    PRIMARY KEY (service, level, area_code));
CREATE TABLE mart.uptake_inequality (
    service text NOT NULL, reference_date date NOT NULL, measure text NOT NULL,
    deciles integer NOT NULL, mean_rate double precision, sii double precision,
    sii_lower double precision, sii_upper double precision, rii double precision,
    rii_lower double precision, rii_upper double precision, sentence text NOT NULL,
    PRIMARY KEY (service, measure));

-- Written by the team on the server, never by a publish.
-- Which zones each login sees (zone managers and the round-table screen).
CREATE TABLE app.user_zone (
    user_name text NOT NULL, zone_id text NOT NULL, PRIMARY KEY (user_name, zone_id));
-- Round tables' decisions, by stable family id (no foreign key: a family a later
-- release no longer has keeps its decisions).
CREATE TABLE app.round_decision (
    family_id text NOT NULL, zone_id text, reference_date date NOT NULL,
    outcome text NOT NULL, note text NOT NULL, decided_by text NOT NULL,
    decided_at timestamp NOT NULL, lead_agency text, lead_name text, actions text,
    review_date date, plan_ends date);
-- Linkage review verdicts.
CREATE TABLE app.review_decision (
    l_key text NOT NULL, r_key text NOT NULL, same boolean NOT NULL,
    decided_by text NOT NULL, decided_at timestamp NOT NULL, PRIMARY KEY (l_key, r_key));
-- The audit chain, as in the DuckDB file (docs/security.md), and its head.
CREATE TABLE app.audit_log (
    seq bigint PRIMARY KEY, "at" timestamp NOT NULL, "user" text NOT NULL,
    action text NOT NULL, subject text NOT NULL, reason text, detail text NOT NULL,
    prev_hash text NOT NULL, hash text NOT NULL);
CREATE TABLE app.audit_head (
    one boolean PRIMARY KEY DEFAULT true CHECK (one), entries bigint NOT NULL,
    hash text NOT NULL, genesis text NOT NULL);

-- Appends one entry to the chain, serialised across every client by a
-- transaction-scoped advisory lock: each append reads the head only once it holds
-- the lock, so it chains to the entry committed just before it. The hash is the
-- Rust verifier's: SHA-256 of the compact JSON array
-- ["zonewise-audit-v1", seq, at, user, action, subject, reason, detail, prev_hash].
-- Not executable by logins (the user is a parameter): the functions below call it
-- with session_user.
CREATE FUNCTION app.audit_append(p_user text, p_action text, p_subject text,
                                 p_reason text, p_detail text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_entries bigint;
    v_prev text;
    v_seq bigint;
    v_at timestamp;
    v_at_text text;
    v_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock(72350017);
    SELECT entries, hash INTO v_entries, v_prev FROM app.audit_head;
    IF NOT FOUND THEN
        v_entries := 0;
        v_prev := repeat('0', 64);
    END IF;
    v_seq := v_entries + 1;
    v_at := date_trunc('microseconds', clock_timestamp() AT TIME ZONE 'UTC');
    v_at_text := to_char(v_at, 'YYYY-MM-DD HH24:MI:SS.US');
    v_hash := encode(sha256(convert_to(
        '[' || to_json('zonewise-audit-v1'::text)::text
        || ',' || v_seq::text
        || ',' || to_json(v_at_text)::text
        || ',' || to_json(p_user)::text
        || ',' || to_json(p_action)::text
        || ',' || to_json(p_subject)::text
        || ',' || coalesce(to_json(p_reason)::text, 'null')
        || ',' || to_json(p_detail)::text
        || ',' || to_json(v_prev)::text || ']', 'UTF8')), 'hex');
    INSERT INTO app.audit_log VALUES
        (v_seq, v_at, p_user, p_action, p_subject, p_reason, p_detail, v_prev, v_hash);
    INSERT INTO app.audit_head (entries, hash, genesis) VALUES (v_seq, v_hash, v_hash)
        ON CONFLICT (one) DO UPDATE SET entries = excluded.entries, hash = excluded.hash;
    -- Also in the server's log, which a rolled-back transaction cannot take back.
    RAISE LOG 'zonewise audit: % % % %', p_user, p_action, p_subject, coalesce(p_reason, '');
    RETURN v_seq;
END $$;

-- An entry by the signed-in login (session_user): `zonewise publish` records its
-- release in its own transaction with this.
CREATE FUNCTION app.audit_record(p_action text, p_subject text, p_detail text)
RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT app.audit_append(session_user::text, p_action, p_subject, NULL, p_detail)
$$;

-- The Zonewise role of the login (session_user, whatever role it has SET).
CREATE FUNCTION app.login_role() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
        WHEN pg_has_role(session_user, 'zonewise_analyst', 'MEMBER') THEN 'analyst'
        WHEN pg_has_role(session_user, 'zonewise_senior_manager', 'MEMBER') THEN 'senior_manager'
        WHEN pg_has_role(session_user, 'zonewise_zone_manager', 'MEMBER') THEN 'zone_manager'
        WHEN pg_has_role(session_user, 'zonewise_round_table', 'MEMBER') THEN 'round_table'
        WHEN pg_has_role(session_user, 'zonewise_commissioner', 'MEMBER') THEN 'commissioner'
    END
$$;

-- True when the login may see families of `p_zone`: every zone for analysts and
-- senior managers, their own (app.user_zone) for zone managers and the screen.
CREATE FUNCTION app.login_sees_zone(p_zone text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT app.login_role() IN ('analyst', 'senior_manager')
        OR (app.login_role() IN ('zone_manager', 'round_table')
            AND EXISTS (SELECT 1 FROM app.user_zone z
                        WHERE z.user_name = session_user AND z.zone_id = p_zone))
$$;

-- A person's name as the login may see it: in full, or initials on the projected screen.
CREATE FUNCTION app.shown_name(p_given text, p_family text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN app.login_role() = 'round_table'
        THEN concat_ws(' ', left(p_given, 1) || '.', left(p_family, 1) || '.')
        ELSE concat_ws(' ', p_given, p_family) END
$$;

-- Refuses a login that may not see people (commissioners, logins without a role).
CREATE FUNCTION app.require_people() RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF app.login_role() IS NULL OR app.login_role() = 'commissioner' THEN
        RAISE EXCEPTION 'permission denied: % may not read person-level records', session_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;

-- Reading people takes two transactions, so that no client can read a person
-- without a committed audit entry, whatever it rolls back. First
-- app.request_read(kind, subject, reason) checks the login may read the subject,
-- appends the entry and returns its sequence number as a ticket; the client
-- commits. Then app.list_families(ticket), app.open_family(ticket, family) or
-- app.open_person(ticket, person) return rows only for a ticket whose request
-- committed before: entry and ticket are written together, so one not yet
-- committed by another transaction is invisible, and one of the reader's own
-- transaction is recognised by the top-level transaction id kept with it (a row's
-- xmin would not do: written under a SAVEPOINT or in a plpgsql EXCEPTION block it
-- holds the subtransaction's id, not pg_current_xact_id()'s). A ticket serves its
-- login and subject for five minutes, however many reads it covers.
CREATE TABLE app.read_ticket (
    ticket bigint PRIMARY KEY, login text NOT NULL, kind text NOT NULL,
    subject text NOT NULL, requested_at timestamp NOT NULL,
    requested_in xid8 NOT NULL);

-- The subject of the family list's entries: there is one list, the login's zones'.
CREATE FUNCTION app.family_list_subject() RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'families of the current round'::text
$$;

-- Refuses unless the login may read `p_kind` of `p_subject` now: a role that sees
-- people, and a family or person in the login's zones.
CREATE FUNCTION app.check_read(p_kind text, p_subject text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM app.require_people();
    IF p_kind = 'open_family' THEN
        IF NOT EXISTS (SELECT 1 FROM core.family f
                       WHERE f.family_id = p_subject AND app.login_sees_zone(f.zone_id)) THEN
            RAISE EXCEPTION 'permission denied: family % is not in %''s zones', p_subject, session_user
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF p_kind = 'open_person' THEN
        IF NOT EXISTS (SELECT 1 FROM core.person p JOIN core.family f ON f.family_id = p.family_id
                       WHERE p.person_id = p_subject AND app.login_sees_zone(f.zone_id)) THEN
            RAISE EXCEPTION 'permission denied: person % is not in %''s zones', p_subject, session_user
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF p_kind IS DISTINCT FROM 'list_families' THEN
        RAISE EXCEPTION 'unknown read %: ask for list_families, open_family or open_person', p_kind
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END $$;

-- Step one: checks the login may read the subject (a refusal leaves no entry),
-- appends the entry with its reason and returns the ticket. The family list's
-- subject is fixed (give NULL). Expired tickets are removed here.
CREATE FUNCTION app.request_read(p_kind text, p_subject text, p_reason text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_subject text := CASE WHEN p_kind = 'list_families' THEN app.family_list_subject()
                           ELSE p_subject END;
    v_seq bigint;
BEGIN
    PERFORM app.check_read(p_kind, v_subject);
    v_seq := app.audit_append(session_user::text, p_kind, v_subject, nullif(p_reason, ''), '');
    DELETE FROM app.read_ticket
        WHERE requested_at < clock_timestamp() AT TIME ZONE 'UTC' - interval '5 minutes';
    INSERT INTO app.read_ticket VALUES (v_seq, session_user, p_kind, v_subject,
        clock_timestamp() AT TIME ZONE 'UTC', pg_current_xact_id());
    RETURN v_seq;
END $$;

-- Step two's check: refuses unless ticket `p_ticket` is the login's, for this read
-- of this subject, requested in a transaction that committed before this one and
-- less than five minutes ago; and unless the login may still read the subject
-- (zones change).
CREATE FUNCTION app.redeem_ticket(p_ticket bigint, p_kind text, p_subject text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v app.read_ticket;
BEGIN
    SELECT * INTO v FROM app.read_ticket t
        WHERE t.ticket = p_ticket
          AND EXISTS (SELECT 1 FROM app.audit_log a
                      WHERE a.seq = t.ticket AND a."user" = t.login
                        AND a.action = t.kind AND a.subject = t.subject);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ticket % is not a committed request: call app.request_read and commit before reading', p_ticket
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF v.requested_in = pg_current_xact_id_if_assigned() THEN
        RAISE EXCEPTION 'ticket % was requested in this transaction: commit the request before reading', p_ticket
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF v.login <> session_user THEN
        RAISE EXCEPTION 'ticket % is not %''s', p_ticket, session_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF v.kind <> p_kind OR v.subject IS DISTINCT FROM p_subject THEN
        RAISE EXCEPTION 'ticket % is for % of %, not % of %', p_ticket, v.kind, v.subject,
            p_kind, p_subject USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF v.requested_at < clock_timestamp() AT TIME ZONE 'UTC' - interval '5 minutes' THEN
        RAISE EXCEPTION 'ticket % has expired (requested at %, tickets last five minutes)',
            p_ticket, v.requested_at USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM app.check_read(p_kind, p_subject);
END $$;

-- The family list of the login's zones, names masked on the projected screen.
CREATE FUNCTION app.list_families(p_ticket bigint)
RETURNS TABLE (family_id text, zone_id text, lsoa_code text, members bigint, names text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM app.redeem_ticket(p_ticket, 'list_families', app.family_list_subject());
    RETURN QUERY
        SELECT f.family_id, f.zone_id, f.lsoa_code, f.members,
               string_agg(app.shown_name(p.given_name, p.family_name), ', '
                          ORDER BY p.birth_date, p.person_id)
        FROM core.family f LEFT JOIN core.person p ON p.family_id = f.family_id
        WHERE app.login_sees_zone(f.zone_id)
        GROUP BY f.family_id, f.zone_id, f.lsoa_code, f.members
        ORDER BY f.family_id;
END $$;

-- A family's members.
CREATE FUNCTION app.open_family(p_ticket bigint, p_family_id text)
RETURNS TABLE (person_id text, name text, birth_date date, sex text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM app.redeem_ticket(p_ticket, 'open_family', p_family_id);
    RETURN QUERY
        SELECT p.person_id, app.shown_name(p.given_name, p.family_name), p.birth_date, p.sex
        FROM core.person p WHERE p.family_id = p_family_id
        ORDER BY p.birth_date, p.person_id;
END $$;

-- A person's events (a child's page).
CREATE FUNCTION app.open_person(p_ticket bigint, p_person_id text)
RETURNS TABLE (source text, event_type text, event_date date, value double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM app.redeem_ticket(p_ticket, 'open_person', p_person_id);
    RETURN QUERY
        SELECT e.source, e.event_type, e.event_date, e.value
        FROM core.event e WHERE e.person_id = p_person_id
        ORDER BY e.event_date, e.source, e.line;
END $$;

-- A decision is recorded by whoever inserts it, now, with its audit entry in the
-- same transaction.
CREATE FUNCTION app.record_decision() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW.decided_by := session_user;
    NEW.decided_at := clock_timestamp() AT TIME ZONE 'UTC';
    PERFORM app.audit_append(session_user::text, 'decision', NEW.family_id, NULL,
                             concat('outcome ', NEW.outcome, ', zone ', NEW.zone_id,
                                    ', round ', NEW.reference_date));
    RETURN NEW;
END $$;
CREATE TRIGGER round_decision_recorded BEFORE INSERT ON app.round_decision
    FOR EACH ROW EXECUTE FUNCTION app.record_decision();

-- The projected round-table screen's families: no names, no postcode, only the
-- login's zones. A view with its owner's rights, so the screen needs no grant on
-- core.family itself.
CREATE VIEW app.round_table_family AS
    SELECT family_id, zone_id, lsoa_code, members, children FROM core.family
    WHERE app.login_sees_zone(zone_id);

-- Row-level security, keyed by the login (current_user).
ALTER TABLE app.user_zone ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_zones ON app.user_zone FOR SELECT USING (user_name = current_user);

ALTER TABLE core.family ENABLE ROW LEVEL SECURITY;
CREATE POLICY publish ON core.family TO zonewise_analyst USING (true) WITH CHECK (true);
CREATE POLICY every_zone ON core.family FOR SELECT TO zonewise_senior_manager USING (true);
CREATE POLICY own_zones ON core.family FOR SELECT TO zonewise_zone_manager
    USING (zone_id IN (SELECT z.zone_id FROM app.user_zone z WHERE z.user_name = current_user));

ALTER TABLE app.round_decision ENABLE ROW LEVEL SECURITY;
CREATE POLICY every_zone ON app.round_decision TO zonewise_analyst, zonewise_senior_manager
    USING (true) WITH CHECK (true);
CREATE POLICY own_zones ON app.round_decision TO zonewise_zone_manager, zonewise_round_table
    USING (zone_id IN (SELECT z.zone_id FROM app.user_zone z WHERE z.user_name = current_user))
    WITH CHECK (zone_id IN (SELECT z.zone_id FROM app.user_zone z WHERE z.user_name = current_user));

-- Grants. Nothing to PUBLIC; each Zonewise role gets what docs/security.md says.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA app FROM PUBLIC;
GRANT USAGE ON SCHEMA ref, core, mart, app TO zonewise_analyst, zonewise_senior_manager,
    zonewise_zone_manager, zonewise_commissioner, zonewise_round_table;
GRANT SELECT ON ALL TABLES IN SCHEMA ref TO zonewise_analyst, zonewise_senior_manager,
    zonewise_zone_manager, zonewise_commissioner, zonewise_round_table;
GRANT SELECT ON mart.uptake_lsoa, mart.uptake_decile, mart.uptake_area,
    mart.uptake_inequality, mart.risk_model, mart.criterion_rule
    TO zonewise_analyst, zonewise_senior_manager, zonewise_zone_manager, zonewise_commissioner;
GRANT SELECT (family_id, zone_id, lsoa_code, members, children) ON core.family
    TO zonewise_analyst, zonewise_senior_manager, zonewise_zone_manager;
GRANT SELECT ON app.round_table_family TO zonewise_analyst, zonewise_senior_manager,
    zonewise_zone_manager, zonewise_round_table;
GRANT SELECT ON app.user_zone TO zonewise_analyst, zonewise_senior_manager,
    zonewise_zone_manager, zonewise_commissioner, zonewise_round_table;
GRANT SELECT, INSERT ON app.round_decision TO zonewise_analyst, zonewise_senior_manager,
    zonewise_zone_manager, zonewise_round_table;
GRANT SELECT, INSERT ON app.review_decision TO zonewise_analyst;
GRANT SELECT ON app.audit_log, app.audit_head TO zonewise_analyst, zonewise_senior_manager;
-- Publishing: analysts replace the published tables (and cannot read the
-- person-level ones directly: DELETE without a condition and COPY need no SELECT).
GRANT DELETE, INSERT ON ALL TABLES IN SCHEMA ref, core, mart TO zonewise_analyst;
GRANT EXECUTE ON FUNCTION app.request_read(text, text, text), app.list_families(bigint),
    app.open_family(bigint, text), app.open_person(bigint, text)
    TO zonewise_analyst, zonewise_senior_manager, zonewise_zone_manager, zonewise_round_table;
-- The round-table view's zone condition runs with the reader's rights.
GRANT EXECUTE ON FUNCTION app.login_sees_zone(text) TO zonewise_analyst,
    zonewise_senior_manager, zonewise_zone_manager, zonewise_round_table;
GRANT EXECUTE ON FUNCTION app.audit_record(text, text, text) TO zonewise_analyst;
