//! Uptake of a service against deprivation: per LSOA, IMD decile and quintile,
//! zone, ward, authority and the whole county, the people eligible, invited and
//! attended, coverage (attended ÷ eligible) and uptake (attended ÷ invited) with
//! Wilson 95% intervals, and the slope and relative indices of inequality across
//! deciles. Counting is DuckDB SQL over the core tables; every table a
//! commissioner sees goes through [`suppress::suppress`] first.
//!
//! `service` (what to count, from TOML: queries, or a `defined` service compiled
//! into queries; `saved`: those defined in the app) → [`compute`] (SQL: counts, rates,
//! intervals; `stats`: SII/RII) → [`suppress::suppress`] → [`mart::write`] and the
//! `zonewise uptake` command. [`publish`] does all three. See `docs/uptake.md`.

pub mod compare;
pub mod defined;
pub mod export;
pub mod mart;
mod overlap;
pub mod people;
pub mod period;
pub mod saved;
pub mod service;
mod solvable;
pub mod stats;
pub mod suppress;
pub mod trend;

use chrono::NaiveDate;
use duckdb::Connection;
use serde::{Deserialize, Serialize};

pub use overlap::Overlaps;
pub use service::Service;
pub use stats::{Inequality, Measure};
pub use suppress::{DEFAULT_THRESHOLD, Published, suppress, suppress_together};

/// How to compute uptake.
#[derive(Debug, Clone, Default)]
pub struct UptakeOptions {
    /// The day the figures are for; by default the latest load's extract date.
    pub reference_date: Option<NaiveDate>,
}

/// Which kind of area a row describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Lsoa,
    Decile,
    Quintile,
    Zone,
    Ward,
    Authority,
    County,
}

impl Level {
    /// The name stored in the tables.
    pub fn key(self) -> &'static str {
        match self {
            Level::Lsoa => "lsoa",
            Level::Decile => "decile",
            Level::Quintile => "quintile",
            Level::Zone => "zone",
            Level::Ward => "ward",
            Level::Authority => "authority",
            Level::County => "county",
        }
    }

    fn from_key(key: &str) -> Option<Level> {
        [
            Level::Lsoa,
            Level::Decile,
            Level::Quintile,
            Level::Zone,
            Level::Ward,
            Level::Authority,
            Level::County,
        ]
        .into_iter()
        .find(|level| level.key() == key)
    }
}

/// A rate with its 95% Wilson score interval, as proportions (0–1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    pub value: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Which counts of a row are withheld (and with them the rates built on them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Withheld {
    pub eligible: bool,
    pub invited: bool,
    pub attended: bool,
}

impl Withheld {
    /// True when any count of the row is withheld.
    pub fn any(self) -> bool {
        self.eligible || self.invited || self.attended
    }
}

/// One area's figures. Counts are `None` when withheld by suppression (see
/// `withheld`), and `invited` also when the service has no invitation; rates are
/// `None` when withheld or when their denominator is 0.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UptakeRow {
    pub level: Level,
    /// LSOA code, decile or quintile number, zone id, ward code, LAD code, or "all".
    pub code: String,
    pub name: String,
    /// IMD decile (1 = most deprived) of an LSOA or decile row.
    pub imd_decile: Option<u8>,
    /// IMD quintile (1 = most deprived) of an LSOA or quintile row.
    pub imd_quintile: Option<u8>,
    /// Authority of an LSOA or zone row.
    pub la_code: Option<String>,
    /// Zone of an LSOA row.
    pub zone_id: Option<String>,
    /// Best-fit ward of an LSOA row.
    pub ward_code: Option<String>,
    /// LSOAs in the area.
    pub lsoas: u64,
    pub eligible: Option<u64>,
    pub invited: Option<u64>,
    pub attended: Option<u64>,
    /// Attended ÷ eligible.
    pub coverage: Option<Rate>,
    /// Attended ÷ invited.
    pub uptake: Option<Rate>,
    pub withheld: Withheld,
}

/// Every table of one service's uptake, before or after suppression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UptakeTables {
    pub service: String,
    pub title: String,
    pub description: String,
    #[serde(serialize_with = "iso_date")]
    pub reference_date: NaiveDate,
    /// False for a service with no invitation: `invited` and `uptake` are always empty.
    pub has_invited: bool,
    pub lsoas: Vec<UptakeRow>,
    pub deciles: Vec<UptakeRow>,
    pub quintiles: Vec<UptakeRow>,
    pub zones: Vec<UptakeRow>,
    /// Electoral wards, each the LSOAs fitted to it (empty without a ward lookup).
    pub wards: Vec<UptakeRow>,
    pub authorities: Vec<UptakeRow>,
    pub county: UptakeRow,
    /// Eligible people with no LSOA (no postcode, or one not in the lookup); `None` when withheld.
    pub eligible_without_lsoa: Option<u64>,
    /// SII and RII of coverage, and of uptake when there are invitations.
    pub inequality: Vec<Inequality>,
    /// What a reader must know about the figures (how wards were fitted, or why
    /// there are none).
    pub notes: Vec<String>,
    /// Where the figures come from, for the source line of every export: the
    /// loaded county and extract date, whether its records are synthetic, and the
    /// reference data with its licence.
    pub source: String,
}

/// Writes a date as `yyyy-mm-dd` in JSON.
fn iso_date<S: serde::Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&date.format("%Y-%m-%d"))
}

/// Why uptake could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum UptakeError {
    #[error(transparent)]
    Service(#[from] service::ServiceError),
    #[error("no linked people: run `zonewise ingest` and `zonewise link` first")]
    NotLinked,
    #[error(
        "no reference date: the database records no extract date, so give one (--date YYYY-MM-DD)"
    )]
    NoReferenceDate,
    #[error("service '{service}': the {query} query failed: {message} (in {})", file.display())]
    Query {
        service: String,
        query: &'static str,
        file: std::path::PathBuf,
        message: String,
    },
    #[error("service '{service}': the {query} query returns LSOA {code}, which is not in ref.lsoa")]
    UnknownLsoa {
        service: String,
        query: &'static str,
        code: String,
    },
    #[error(
        "service '{service}': in LSOA {code}, {numerator} ({count}) exceeds {denominator} ({of}); a numerator must count people within its denominator"
    )]
    NotNested {
        service: String,
        code: String,
        numerator: &'static str,
        count: i64,
        denominator: &'static str,
        of: i64,
    },
    #[error(
        "service '{service}' ({place}) is counted by SQL that returns counts per LSOA \
         (lsoa_code, n), so Zonewise cannot tell which people it shares with the other services, \
         and its published counts less theirs could give away a count they withhold. For \
         published figures, make each query return one row per person with a person_id column \
         (of core.person; Zonewise places people by their LSOA, see docs/uptake.md, \"Services\"), \
         or define the service as data; --suppress 0 gives its counts unpublished, for analysts"
    )]
    CountsOnly { service: String, place: String },
    #[error(
        "service '{service}' ({place}): its {query} query returns counts (lsoa_code, n) while \
         another lists people (person_id); all its queries must list people, or all count"
    )]
    MixedShapes {
        service: String,
        place: String,
        query: &'static str,
    },
    #[error(
        "service '{service}': the {query} query lists person_id {person}, who is not in core.person"
    )]
    UnknownPerson {
        service: String,
        query: &'static str,
        person: String,
    },
    #[error("no period ends to show: the data hold no event on or before a quarter end")]
    NoPeriods,
    #[error("cannot write {path}: {source}")]
    Export {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the export could not be recorded in the audit log, so nothing was saved: {0}")]
    NotRecorded(crate::store::StoreError),
    #[error("the services saved in the database cannot be read: {0}")]
    Saved(Box<saved::SavedError>),
    #[error("database error while computing uptake: {0}")]
    Database(#[from] duckdb::Error),
}

/// Why there are no ward figures, shown with every table.
pub const NO_WARDS_NOTE: &str = "No ward figures: the manifest names no ward boundaries ([reference] wards = …), so there is no LSOA → ward lookup.";

/// How ward figures were made, shown with every table that has them.
pub const WARDS_NOTE: &str = "Ward figures are best fit: LSOAs do not nest in electoral wards, so each LSOA is counted whole in the ward holding its centroid (2013 wards); a ward's figures approximate its residents'.";

/// Computes every table of `service` on the linked core tables, without suppression.
/// Only for the analyst and for checking; commissioners get [`publish`]'s output.
pub fn compute(
    conn: &Connection,
    service: &Service,
    options: &UptakeOptions,
) -> Result<UptakeTables, UptakeError> {
    let linked: i64 = conn.query_row(
        "SELECT count(*) FROM information_schema.tables
         WHERE table_schema = 'core' AND table_name = 'event'",
        [],
        |row| row.get(0),
    )?;
    if linked == 0 {
        return Err(UptakeError::NotLinked);
    }
    let reference_date = prepare_queries(conn, options)?;
    let eligible_without_lsoa = count_people(conn, service)?;
    build_groups(conn, service)?;
    let mut rows = read_rows(conn)?;
    let take = |rows: &mut Vec<UptakeRow>, level: Level| -> Vec<UptakeRow> {
        let (taken, rest) = std::mem::take(rows)
            .into_iter()
            .partition(|r| r.level == level);
        *rows = rest;
        taken
    };
    let lsoas = take(&mut rows, Level::Lsoa);
    let deciles = take(&mut rows, Level::Decile);
    let quintiles = take(&mut rows, Level::Quintile);
    let zones = take(&mut rows, Level::Zone);
    let wards = take(&mut rows, Level::Ward);
    let authorities = take(&mut rows, Level::Authority);
    let county = take(&mut rows, Level::County)
        .pop()
        .ok_or_else(|| UptakeError::Query {
            service: service.name.clone(),
            query: "county",
            file: service.file.clone(),
            message: "no LSOAs in ref.lsoa: load the reference data with `zonewise ingest`"
                .to_string(),
        })?;
    let mut inequality = vec![stats::inequality(
        &service.title,
        Measure::Coverage,
        &deciles,
    )];
    if service.has_invited() {
        inequality.push(stats::inequality(&service.title, Measure::Uptake, &deciles));
    }
    conn.execute_batch("DROP TABLE IF EXISTS uptake_counts; DROP TABLE IF EXISTS uptake_groups;")?;
    Ok(UptakeTables {
        service: service.name.clone(),
        title: service.title.clone(),
        description: service.description.trim().to_string(),
        reference_date,
        has_invited: service.has_invited(),
        lsoas,
        deciles,
        quintiles,
        notes: vec![
            if wards.is_empty() {
                NO_WARDS_NOTE
            } else {
                WARDS_NOTE
            }
            .to_string(),
        ],
        zones,
        wards,
        authorities,
        county,
        eligible_without_lsoa: Some(eligible_without_lsoa),
        inequality,
        source: data_source(conn)?,
    })
}

/// Where the reference data come from and under which licence.
pub const REFERENCE_SOURCE: &str = "IMD 2019 (MHCLG) and LSOA 2011 geography and population \
    (ONS), Open Government Licence v3.0";

/// The source line of the latest load: its county (named "Synthetic county: …" by
/// `zonewise synth`, which is how a synthetic load is known) and extract date.
fn data_source(conn: &Connection) -> Result<String, UptakeError> {
    let load = conn.query_row(
        "SELECT county, coalesce(strftime(extract_date, '%Y-%m-%d'), 'not recorded')
         FROM app.load_run ORDER BY load_id DESC LIMIT 1",
        [],
        |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
    );
    let (county, extract_date) = match load {
        Ok(load) => load,
        Err(duckdb::Error::QueryReturnedNoRows) => {
            ("no load recorded".to_string(), "not recorded".to_string())
        }
        Err(error) => return Err(error.into()),
    };
    let synthetic = if county.to_lowercase().contains("synthetic") {
        " The records are synthetic, generated by `zonewise synth`: no real person is counted."
    } else {
        ""
    };
    Ok(format!(
        "Zonewise linked agency extracts: {county}, extract date {extract_date}.{synthetic} \
         Reference data: {REFERENCE_SOURCE}."
    ))
}

/// Makes what service queries may use on this connection, the `wilson_*` and
/// `age_on` macros and the `reference_date` variable (the options' date, else the
/// latest load's extract date), and returns that date. [`compute`] calls it; a
/// benchmark running a service's queries by themselves calls it first.
pub fn prepare_queries(
    conn: &Connection,
    options: &UptakeOptions,
) -> Result<NaiveDate, UptakeError> {
    let reference_date = match options.reference_date {
        Some(date) => date,
        None => period::latest_extract_date(conn)?.ok_or(UptakeError::NoReferenceDate)?,
    };
    stats::create_macros(conn)?;
    conn.execute(
        "SET VARIABLE reference_date = ?::DATE",
        [reference_date.format("%Y-%m-%d").to_string()],
    )?;
    Ok(reference_date)
}

/// Computes, suppresses counts of 1 to `threshold` (and what would reveal them),
/// writes the result to the `mart.uptake_*` tables and returns it: what every
/// commissioner-facing view and export shows.
pub fn publish(
    conn: &Connection,
    service: &Service,
    options: &UptakeOptions,
    threshold: u64,
) -> Result<Published, UptakeError> {
    let published = published(conn, service, options, threshold)?;
    mart::write(conn, &published)?;
    Ok(published)
}

/// What [`publish`] shows, without writing the mart. The trend
/// ([`trend::trend`]) takes each period end's figures from here, so that earlier
/// periods do not replace the mart's latest ones.
///
/// Suppressed together with every other service a user of the database may see
/// ([`commissioned`]) that may share its people, by [`published_all`], as the
/// map suppresses them all: so that no service's counts less another's reveal
/// a count that either withholds ([`suppress_together`]); whichever of them is
/// asked for, the same services give the same withheld cells.
pub fn published(
    conn: &Connection,
    service: &Service,
    options: &UptakeOptions,
    threshold: u64,
) -> Result<Published, UptakeError> {
    let services = commissioned(conn, service)?;
    let all: Vec<&Service> = services.iter().collect();
    let group = sharing_with(&all, &service.name);
    let at = group
        .iter()
        .position(|s| s.name == service.name)
        .expect("the group holds the service");
    published_all(conn, &group, options, threshold)?.swap_remove(at)
}

/// The services of `services` that may share people with the one named `name`
/// (it among them), in their order: only they can change what it withholds.
fn sharing_with<'a>(services: &[&'a Service], name: &str) -> Vec<&'a Service> {
    overlap::may_share(services)
        .into_iter()
        .find(|group| group.iter().any(|&i| services[i].name == name))
        .map(|group| group.into_iter().map(|i| services[i]).collect())
        .unwrap_or_default()
}

/// Computes each of `services` and suppresses them together
/// ([`suppress_together`], with the people they share read by
/// [`Overlaps::read`]): what the map shows of every service and [`published`]
/// of one. One entry per service, in order; a service that cannot be counted (a
/// saved one whose event type a reload removed) has its error there and is left
/// out of the others' suppression, since it is shown nowhere and so reveals
/// nothing. Fails when the people cannot be read, or one service's SQL lists
/// nobody while suppressing (`UptakeError::CountsOnly`).
pub fn published_all(
    conn: &Connection,
    services: &[&Service],
    options: &UptakeOptions,
    threshold: u64,
) -> Result<Vec<Result<Published, UptakeError>>, UptakeError> {
    let counted: Vec<Result<UptakeTables, UptakeError>> = services
        .iter()
        .map(|service| compute(conn, service, options))
        .collect();
    let shown: Vec<(&Service, &UptakeTables)> = services
        .iter()
        .zip(&counted)
        .filter_map(|(service, tables)| Some((*service, tables.as_ref().ok()?)))
        .collect();
    let mut published = suppress_counted(conn, &shown, options, threshold)?.into_iter();
    Ok(counted
        .into_iter()
        .map(|tables| tables.map(|_| published.next().expect("one published per service counted")))
        .collect())
}

/// Suppresses services already counted together, in order; see [`published_all`].
fn suppress_counted(
    conn: &Connection,
    counted: &[(&Service, &UptakeTables)],
    options: &UptakeOptions,
    threshold: u64,
) -> Result<Vec<Published>, UptakeError> {
    let services: Vec<&Service> = counted.iter().map(|(service, _)| *service).collect();
    let tables: Vec<&UptakeTables> = counted.iter().map(|(_, tables)| *tables).collect();
    // Nothing is withheld at 0, so nothing need be known of their people.
    let overlaps = if threshold == 0 {
        Overlaps::none()
    } else {
        Overlaps::read(conn, &services, options)?
    };
    Ok(suppress_together(&tables, &overlaps, threshold))
}

/// Every service a user of the database may see (the built-ins, then those
/// saved in the app), with `service` in place of the one of its name, or after
/// them: the services suppressed together.
pub fn commissioned(conn: &Connection, service: &Service) -> Result<Vec<Service>, UptakeError> {
    let mut services =
        saved::available(conn).map_err(|error| UptakeError::Saved(Box::new(error)))?;
    match services.iter_mut().find(|s| s.name == service.name) {
        Some(same) => *same = service.clone(),
        None => services.push(service.clone()),
    }
    Ok(services)
}

/// Runs the service's queries into `uptake_counts` (one row per LSOA of `ref.lsoa`,
/// zero where nobody is counted), checking what each returns. Returns the eligible
/// people with no LSOA. Each query runs inside ONE prepared statement with its
/// bound values, after [`Service::queries`] has made sure it cannot be several
/// (and that a defined service names only what the database holds): service
/// text never reaches `execute_batch`.
fn count_people(conn: &Connection, service: &Service) -> Result<u64, UptakeError> {
    for (name, query) in people::counting(conn, service)? {
        let Some(query) = query else {
            conn.execute(
                &format!(
                    "CREATE OR REPLACE TEMP TABLE uptake_{name} (lsoa_code VARCHAR, n BIGINT)"
                ),
                [],
            )?;
            continue;
        };
        // The query on lines of its own, so that a trailing `--` comment cannot
        // swallow the closing parenthesis.
        conn.execute(
            &format!(
                "CREATE OR REPLACE TEMP TABLE uptake_{name} AS
                 SELECT lsoa_code::VARCHAR AS lsoa_code, sum(n)::BIGINT AS n
                 FROM (\n{sql}\n) GROUP BY ALL",
                sql = query.sql
            ),
            duckdb::params_from_iter(&query.params),
        )
        .map_err(|e| UptakeError::Query {
            service: service.name.clone(),
            query: name,
            file: service.file.clone(),
            message: e.to_string(),
        })?;
        let unknown: Option<String> = conn.query_row(
            &format!(
                "SELECT min(q.lsoa_code) FROM uptake_{name} q
                 WHERE q.lsoa_code IS NOT NULL
                   AND q.lsoa_code NOT IN (SELECT lsoa_code FROM ref.lsoa)"
            ),
            [],
            |row| row.get(0),
        )?;
        if let Some(code) = unknown {
            return Err(UptakeError::UnknownLsoa {
                service: service.name.clone(),
                query: name,
                code,
            });
        }
    }
    let invited = if service.has_invited() {
        "coalesce(i.n, 0)"
    } else {
        "NULL::BIGINT"
    };
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE uptake_counts AS
         SELECT l.lsoa_code, coalesce(e.n, 0) AS eligible, {invited} AS invited,
                coalesce(a.n, 0) AS attended
         FROM ref.lsoa l
         LEFT JOIN uptake_eligible e USING (lsoa_code)
         LEFT JOIN uptake_invited i USING (lsoa_code)
         LEFT JOIN uptake_attended a USING (lsoa_code);"
    ))?;
    let checks = [
        ("attended", "invited"),
        ("invited", "eligible"),
        ("attended", "eligible"),
    ];
    for (numerator, denominator) in checks {
        let broken = conn.query_row(
            &format!(
                "SELECT lsoa_code, {numerator}, {denominator} FROM uptake_counts
                 WHERE {numerator} > {denominator} ORDER BY lsoa_code LIMIT 1"
            ),
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        );
        match broken {
            Ok((code, count, of)) => {
                return Err(UptakeError::NotNested {
                    service: service.name.clone(),
                    code,
                    numerator,
                    count,
                    denominator,
                    of,
                });
            }
            Err(duckdb::Error::QueryReturnedNoRows) => {}
            Err(error) => return Err(error.into()),
        }
    }
    let without: Option<i64> = conn.query_row(
        "SELECT sum(n) FROM uptake_eligible WHERE lsoa_code IS NULL",
        [],
        |row| row.get(0),
    )?;
    conn.execute_batch(
        "DROP TABLE uptake_eligible; DROP TABLE uptake_invited; DROP TABLE uptake_attended;",
    )?;
    Ok(without.unwrap_or(0).max(0) as u64)
}

/// How LSOAs are grouped into areas: level, the grouping (`None` for the whole
/// county), the row's code and name, and its decile, quintile and authority
/// columns, as SQL over `lsoa_rows`.
struct Grouping {
    level: &'static str,
    group_by: Option<&'static str>,
    code: &'static str,
    name: &'static str,
    extra: &'static str,
}

const GROUPINGS: [Grouping; 6] = [
    Grouping {
        level: "decile",
        group_by: Some("imd_decile"),
        code: "imd_decile::VARCHAR",
        name: "'Decile ' || imd_decile || CASE imd_decile WHEN 1 THEN ' (most deprived)' WHEN 10 THEN ' (least deprived)' ELSE '' END",
        extra: "imd_decile, NULL::INTEGER, NULL::VARCHAR",
    },
    Grouping {
        level: "quintile",
        group_by: Some("imd_quintile"),
        code: "imd_quintile::VARCHAR",
        name: "'Quintile ' || imd_quintile || CASE imd_quintile WHEN 1 THEN ' (most deprived)' WHEN 5 THEN ' (least deprived)' ELSE '' END",
        extra: "NULL::INTEGER, imd_quintile, NULL::VARCHAR",
    },
    Grouping {
        level: "zone",
        group_by: Some("zone_id"),
        code: "zone_id",
        name: "any_value(zone_name)",
        extra: "NULL::INTEGER, NULL::INTEGER, any_value(zone_la_code)",
    },
    Grouping {
        level: "ward",
        group_by: Some("ward_code"),
        code: "ward_code",
        name: "any_value(ward_name)",
        extra: "NULL::INTEGER, NULL::INTEGER, any_value(la_code)",
    },
    Grouping {
        level: "authority",
        group_by: Some("la_code"),
        code: "la_code",
        name: "any_value(la_name)",
        extra: "NULL::INTEGER, NULL::INTEGER, NULL::VARCHAR",
    },
    Grouping {
        level: "county",
        group_by: None,
        code: "'all'",
        name: "'All LSOAs'",
        extra: "NULL::INTEGER, NULL::INTEGER, NULL::VARCHAR",
    },
];

/// `uptake_groups`: the LSOA rows and every grouping of them, counts only.
fn build_groups(conn: &Connection, service: &Service) -> Result<(), UptakeError> {
    let groups = GROUPINGS
        .iter()
        .map(|g| {
            let group_by = g.group_by.map_or(String::new(), |column| {
                format!("WHERE {column} IS NOT NULL GROUP BY {column}")
            });
            format!(
                "SELECT '{level}' AS level, {code} AS code, {name} AS name, {extra},
                        NULL::VARCHAR, NULL::VARCHAR, count(*) AS lsoas, sum(eligible)::BIGINT,
                        sum(invited)::BIGINT,
                        sum(attended)::BIGINT
                 FROM lsoa_rows {group_by}",
                level = g.level,
                code = g.code,
                name = g.name,
                extra = g.extra,
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE uptake_groups AS
         WITH lsoa_rows AS (
             SELECT l.lsoa_code, l.lsoa_name, l.la_code, l.la_name, lz.zone_id,
                    z.name AS zone_name, z.la_code AS zone_la_code, lw.ward_code, w.ward_name,
                    l.imd_decile, (l.imd_decile + 1) // 2 AS imd_quintile, c.eligible, c.invited,
                    c.attended
             FROM ref.lsoa l
             JOIN uptake_counts c USING (lsoa_code)
             LEFT JOIN ref.lsoa_zone lz USING (lsoa_code)
             LEFT JOIN ref.zone z USING (zone_id)
             LEFT JOIN ref.lsoa_ward lw USING (lsoa_code)
             LEFT JOIN ref.ward w USING (ward_code))
         SELECT 'lsoa' AS level, lsoa_code AS code, lsoa_name AS name, imd_decile, imd_quintile,
                la_code, zone_id, ward_code, 1::BIGINT AS lsoas, eligible, invited, attended
         FROM lsoa_rows
         UNION ALL {groups};"
    ))
    .map_err(|e| UptakeError::Query {
        service: service.name.clone(),
        query: "grouping",
        file: service.file.clone(),
        message: e.to_string(),
    })
}

/// Reads `uptake_groups` with rates and Wilson intervals computed in SQL.
fn read_rows(conn: &Connection) -> Result<Vec<UptakeRow>, UptakeError> {
    let sql =
        "SELECT level, code, name, imd_decile, imd_quintile, la_code, zone_id, ward_code, lsoas,
                      eligible, invited, attended,
                      attended / nullif(eligible, 0), wilson_lower(attended, eligible),
                      wilson_upper(attended, eligible),
                      attended / nullif(invited, 0), wilson_lower(attended, invited),
                      wilson_upper(attended, invited)
               FROM uptake_groups
               ORDER BY level, imd_decile, imd_quintile, code";
    let mut statement = conn.prepare(sql)?;
    let rows = statement
        .query_map([], |row| {
            let rate = |at: usize| -> duckdb::Result<Option<Rate>> {
                let value: Option<f64> = row.get(at)?;
                let lower: Option<f64> = row.get(at + 1)?;
                let upper: Option<f64> = row.get(at + 2)?;
                Ok(match (value, lower, upper) {
                    (Some(value), Some(lower), Some(upper)) => Some(Rate {
                        value,
                        lower,
                        upper,
                    }),
                    _ => None,
                })
            };
            let count = |at: usize| -> duckdb::Result<Option<u64>> {
                Ok(row.get::<_, Option<i64>>(at)?.map(|n| n.max(0) as u64))
            };
            let small = |at: usize| -> duckdb::Result<Option<u8>> {
                Ok(row
                    .get::<_, Option<i32>>(at)?
                    .map(|n| n.clamp(0, 255) as u8))
            };
            let level: String = row.get(0)?;
            Ok(UptakeRow {
                level: Level::from_key(&level).unwrap_or(Level::County),
                code: row.get(1)?,
                name: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
                imd_decile: small(3)?,
                imd_quintile: small(4)?,
                la_code: row.get(5)?,
                zone_id: row.get(6)?,
                ward_code: row.get(7)?,
                lsoas: count(8)?.unwrap_or(0),
                eligible: count(9)?,
                invited: count(10)?,
                attended: count(11)?,
                coverage: rate(12)?,
                uptake: rate(15)?,
                withheld: Withheld::default(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
