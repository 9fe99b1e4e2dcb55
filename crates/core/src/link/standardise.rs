//! Standardisation: one row per source record (`link.record`) with its identity
//! fields cleaned so that systems' habits (capitals, spaces, hyphens, nicknames,
//! 1/2 for sex) no longer look like differences.

use duckdb::Connection;

use crate::ingest::error::BlankedValues;

/// Common English given-name variants → the form they are compared as.
pub const NICKNAMES: &[(&str, &str)] = &[
    ("BETH", "ELIZABETH"),
    ("LIZ", "ELIZABETH"),
    ("LIZZIE", "ELIZABETH"),
    ("BETTY", "ELIZABETH"),
    ("ELIZA", "ELIZABETH"),
    ("BILL", "WILLIAM"),
    ("BILLY", "WILLIAM"),
    ("WILL", "WILLIAM"),
    ("LIAM", "WILLIAM"),
    ("BOB", "ROBERT"),
    ("BOBBY", "ROBERT"),
    ("ROB", "ROBERT"),
    ("ROBBIE", "ROBERT"),
    ("TOM", "THOMAS"),
    ("TOMMY", "THOMAS"),
    ("JIM", "JAMES"),
    ("JAMIE", "JAMES"),
    ("JIMMY", "JAMES"),
    ("DAN", "DANIEL"),
    ("DANNY", "DANIEL"),
    ("MATT", "MATTHEW"),
    ("CHRIS", "CHRISTOPHER"),
    ("MIKE", "MICHAEL"),
    ("MIKEY", "MICHAEL"),
    ("MICK", "MICHAEL"),
    ("ALEX", "ALEXANDER"),
    ("ALFIE", "ALFRED"),
    ("BEN", "BENJAMIN"),
    ("SAM", "SAMUEL"),
    ("JOE", "JOSEPH"),
    ("ED", "EDWARD"),
    ("EDDIE", "EDWARD"),
    ("TED", "EDWARD"),
    ("JOSH", "JOSHUA"),
    ("OLLIE", "OLIVER"),
    ("MO", "MOHAMMED"),
    ("MOHAMMAD", "MOHAMMED"),
    ("MUHAMMAD", "MOHAMMED"),
    ("STEVE", "STEPHEN"),
    ("STEVEN", "STEPHEN"),
    ("TONY", "ANTHONY"),
    ("ANT", "ANTHONY"),
    ("NATE", "NATHAN"),
    ("LIV", "OLIVIA"),
    ("MILLIE", "AMELIA"),
    ("EM", "EMILY"),
    ("SOPH", "SOPHIE"),
    ("SOPHIA", "SOPHIE"),
    ("LOTTIE", "CHARLOTTE"),
    ("JESS", "JESSICA"),
    ("BECKY", "REBECCA"),
    ("BECCA", "REBECCA"),
    ("SAMMY", "SAMANTHA"),
    ("KATE", "KATHERINE"),
    ("KATIE", "KATHERINE"),
    ("KATHRYN", "KATHERINE"),
    ("CATHERINE", "KATHERINE"),
    ("JEN", "JENNIFER"),
    ("JENNY", "JENNIFER"),
    ("VICKY", "VICTORIA"),
    ("VICKI", "VICTORIA"),
    ("TORI", "VICTORIA"),
    ("MEG", "MEGAN"),
    ("ABBIE", "ABIGAIL"),
    ("ABI", "ABIGAIL"),
    ("ABBY", "ABIGAIL"),
    ("DANI", "DANIELLE"),
    ("NAT", "NATALIE"),
    ("STEPH", "STEPHANIE"),
    ("SHELL", "MICHELLE"),
    ("NICKY", "NICOLA"),
];

/// The form postcodes are compared and looked up in: upper case with everything but
/// letters and digits removed, so "bh1 1aa", "BH11AA" and " BH1 1AA" are one key.
/// `ref.postcode` is keyed the same way, so a person's postcode finds its LSOA.
pub fn postcode_key_sql(column: &str) -> String {
    format!("nullif(regexp_replace(upper({column}), '[^A-Z0-9]', '', 'g'), '')")
}

/// A UK postcode's key (see [`postcode_key_sql`]): outward code A9, A99, AA9,
/// AA99, A9A or AA9A, then inward code 9AA. A key of any other shape is a typing
/// error; linkage compares it as missing rather than as evidence against a match.
const POSTCODE_KEY_PATTERN: &str = "[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}";

/// The postcodes the last [`build_records`] compared as missing: how many, and
/// the first few by source and line.
pub fn unreadable_postcodes(conn: &Connection) -> Result<BlankedValues, duckdb::Error> {
    let count: i64 =
        conn.query_row("SELECT count(*) FROM link.unreadable_postcode", [], |row| {
            row.get(0)
        })?;
    let examples = conn
        .prepare("SELECT source, line, value FROM link.unreadable_postcode ORDER BY source, line LIMIT 5")?
        .query_map([], |row| {
            Ok(format!(
                "{}, line {}: '{}' is not a UK postcode",
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?
            ))
        })?
        .collect::<Result<_, _>>()?;
    Ok(BlankedValues {
        count: count.max(0) as u64,
        examples,
    })
}

/// The staging columns standardisation reads from every source.
const STAGING_COLUMNS: &str = "record_id, given_name, family_name, birth_date, sex, postcode, \
    nhs_number, upn, ni_number, parent_nhs_number, address, household_ref, event_date";

/// Builds `link.nickname` and `link.record` from every staging table listed in
/// `app.source`. Returns the number of records.
pub fn build_records(conn: &Connection) -> Result<usize, duckdb::Error> {
    let sources: Vec<String> = conn
        .prepare("SELECT name FROM app.source ORDER BY name")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    if sources.is_empty() {
        return Ok(0);
    }
    let union = sources
        .iter()
        .map(|s| format!("SELECT '{s}' AS source, {STAGING_COLUMNS} FROM staging.\"{s}\""))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    build_nicknames(conn)?;
    // The postcodes compared as missing, by source and line, for the run's report.
    let lines = sources
        .iter()
        .map(|s| format!("SELECT '{s}' AS source, _line, postcode FROM staging.\"{s}\""))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE link.unreadable_postcode AS
         SELECT source, _line AS line, postcode AS value FROM ({lines})
         WHERE {key} IS NOT NULL AND NOT regexp_full_match({key}, '{POSTCODE_KEY_PATTERN}')
         ORDER BY source, line;",
        key = postcode_key_sql("postcode"),
    ))?;
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE link.record AS
         WITH cleaned AS (
             SELECT source, record_id,
                    nullif(regexp_replace(upper(given_name), '[^A-Z]', '', 'g'), '') AS given,
                    nullif(regexp_replace(upper(family_name), '[^A-Z-]', '', 'g'), '') AS family_raw,
                    birth_date,
                    CASE WHEN upper(trim(sex)) IN ('M', 'MALE', '1') THEN 'M'
                         WHEN upper(trim(sex)) IN ('F', 'FEMALE', '2') THEN 'F' END AS sex,
                    CASE WHEN regexp_full_match({postcode_key}, '{POSTCODE_KEY_PATTERN}')
                         THEN {postcode_key} END AS postcode,
                    CASE WHEN length(regexp_replace(nhs_number, '[^0-9]', '', 'g')) = 10
                         THEN regexp_replace(nhs_number, '[^0-9]', '', 'g') END AS nhs,
                    nullif(upper(regexp_replace(ni_number, '[^A-Za-z0-9]', '', 'g')), '') AS ni,
                    nullif(upper(trim(upn)), '') AS upn,
                    CASE WHEN length(regexp_replace(parent_nhs_number, '[^0-9]', '', 'g')) = 10
                         THEN regexp_replace(parent_nhs_number, '[^0-9]', '', 'g') END AS parent_nhs,
                    nullif(regexp_replace(upper(address), '[^A-Z0-9]', '', 'g'), '') AS address,
                    nullif(trim(address), '') AS address_text,
                    nullif(trim(household_ref), '') AS household_ref,
                    event_date
             FROM ({union})
         ), per_record AS (
             SELECT source || ':' || record_id AS record_key, source, record_id,
                    mode(given) AS given, mode(family_raw) AS family_raw,
                    mode(birth_date) AS birth_date, mode(sex) AS sex,
                    arg_max(postcode, coalesce(event_date, DATE '1900-01-01'))
                        FILTER (WHERE postcode IS NOT NULL) AS postcode,
                    max(nhs) AS nhs, max(ni) AS ni, max(upn) AS upn, max(parent_nhs) AS parent_nhs,
                    arg_max(address, coalesce(event_date, DATE '1900-01-01'))
                        FILTER (WHERE address IS NOT NULL) AS address,
                    -- The same address as the system wrote it, for people to read.
                    arg_max(address_text, coalesce(event_date, DATE '1900-01-01'))
                        FILTER (WHERE address_text IS NOT NULL) AS address_text,
                    max(household_ref) AS household_ref
             FROM cleaned GROUP BY source, record_id
         ), standard AS (
             SELECT r.*,
                    coalesce(n.canonical, r.given) AS given_canonical,
                    replace(r.family_raw, '-', '') AS family,
                    nullif(split_part(r.family_raw, '-', 1), '') AS family_first,
                    nullif(split_part(r.family_raw, '-', 2), '') AS family_second,
                    CASE WHEN length(r.postcode) > 4 THEN left(r.postcode, length(r.postcode) - 2) END
                        AS postcode_sector,
                    year(r.birth_date) AS birth_year
             FROM per_record r LEFT JOIN link.nickname n ON n.alias = r.given
         )
         SELECT *,
                {}, {}, {}
         FROM standard
         ORDER BY record_key;",
        term_frequency("given_canonical", "tf_given"),
        term_frequency("family", "tf_family"),
        term_frequency("postcode", "tf_postcode"),
        postcode_key = postcode_key_sql("postcode"),
    ))?;
    // When each record put its person at each address: the first and last event
    // dated there. Families are grouped by these spans (`family`), so that the
    // household that moved out and the one that moved in are not one family.
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE link.address_seen AS
         SELECT source || ':' || record_id AS record_key,
                {address_key} AS address_key,
                min(event_date) AS first_seen, max(event_date) AS last_seen
         FROM ({union})
         WHERE {address_key} IS NOT NULL
         GROUP BY ALL ORDER BY ALL;",
        address_key = address_key_sql("address", "postcode"),
    ))?;
    let count: i64 = conn.query_row("SELECT count(*) FROM link.record", [], |r| r.get(0))?;
    Ok(count as usize)
}

/// The key of a home: the address and postcode with everything but letters and
/// digits removed, so "12 Heron Close" and "12 HERON CLOSE" at one postcode are one
/// home (NULL when either is missing).
fn address_key_sql(address: &str, postcode: &str) -> String {
    format!(
        "nullif(regexp_replace(upper({address}), '[^A-Z0-9]', '', 'g'), '') || ':' || {}",
        postcode_key_sql(postcode)
    )
}

/// SQL for the share of records holding the same value of `column` as this one
/// (NULL where the value is missing): the chance that a random record agrees on it.
fn term_frequency(column: &str, alias: &str) -> String {
    format!(
        "CASE WHEN {column} IS NOT NULL THEN
             (count(*) OVER (PARTITION BY {column}))::DOUBLE / count({column}) OVER ()
         END AS {alias}"
    )
}

fn build_nicknames(conn: &Connection) -> Result<(), duckdb::Error> {
    conn.execute_batch(
        "CREATE SCHEMA IF NOT EXISTS link;
         CREATE OR REPLACE TABLE link.nickname (alias VARCHAR PRIMARY KEY, canonical VARCHAR);",
    )?;
    let mut appender = conn.appender_to_db("nickname", "link")?;
    for (alias, canonical) in NICKNAMES {
        appender.append_row([alias, canonical])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (record id, canonical given name, family name, sex, postcode sector)
    type Standardised = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );

    fn standardised(rows: &str) -> Vec<Standardised> {
        let conn = crate::store::open_in_memory().expect("db");
        conn.execute_batch(&format!(
            "CREATE TABLE staging.t (record_id VARCHAR, given_name VARCHAR, family_name VARCHAR,
                 birth_date DATE, sex VARCHAR, postcode VARCHAR, nhs_number VARCHAR, upn VARCHAR,
                 ni_number VARCHAR, event_date DATE);
             ALTER TABLE staging.t ADD COLUMN address VARCHAR;
             ALTER TABLE staging.t ADD COLUMN household_ref VARCHAR;
             ALTER TABLE staging.t ADD COLUMN parent_nhs_number VARCHAR;
             ALTER TABLE staging.t ADD COLUMN _line BIGINT;
             INSERT INTO staging.t BY NAME SELECT * FROM (VALUES {rows}) v(record_id, given_name,
                 family_name, birth_date, sex, postcode, nhs_number, upn, ni_number, event_date);
             INSERT INTO app.source VALUES ('t', 'education', 's', 'f', 1, now(), 1, 1, 0, NULL, NULL);"
        ))
        .expect("fixture");
        build_records(&conn).expect("standardise");
        conn.prepare("SELECT record_id, given_canonical, family, sex, postcode_sector FROM link.record ORDER BY 1")
            .expect("query")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("collect")
    }

    #[test]
    fn habits_of_different_systems_standardise_alike() {
        let rows = standardised(
            "('a', '  beth ', 'SMITH-JONES', NULL, 'Female', 'bh1 1aa', NULL, NULL, NULL, NULL),
             ('b', 'ELIZABETH', 'smith jones', NULL, '2', 'BH11AA', NULL, NULL, NULL, NULL),
             ('c', 'O''Brien', 'O''Brien', NULL, 'M', '', NULL, NULL, NULL, NULL),
             ('d', 'Ann', 'Lee', NULL, 'F', 'BH1 1A', NULL, NULL, NULL, NULL)",
        );
        assert_eq!(
            rows[0].1.as_deref(),
            Some("ELIZABETH"),
            "nickname → canonical"
        );
        assert_eq!(rows[0].2, rows[1].2, "hyphens and spaces do not matter");
        assert_eq!(rows[0].3.as_deref(), Some("F"));
        assert_eq!(rows[1].3.as_deref(), Some("F"), "NHS code 2 is female");
        assert_eq!(rows[0].4.as_deref(), Some("BH11"), "postcode sector");
        assert_eq!(rows[2].1.as_deref(), Some("OBRIEN"));
        assert_eq!(rows[2].4, None, "empty postcode is missing");
        assert_eq!(rows[3].4, None, "a postcode cut short is missing");
    }
}
