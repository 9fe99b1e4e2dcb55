//! `zonewise uptake`.

use std::path::PathBuf;

use crate::access::{Session, UptakeRequest};
use crate::audit;
use crate::format::{new_table, thousands};
use crate::store;

use super::progress::spinner;

/// Uptake of a service per LSOA and IMD decile, with Wilson intervals, the slope
/// and relative indices of inequality, and small numbers suppressed.
#[derive(Debug, Clone, clap::Args)]
pub struct UptakeCommand {
    /// Database file that `zonewise link` has run on.
    #[arg(long)]
    pub db: PathBuf,
    /// Service name: health_check, childrens_centre, one an analyst saved in the
    /// app, or one in --services.
    #[arg(long)]
    pub service: String,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Withhold counts from 1 to N (and what would reveal them); 0 shows everything.
    /// Only analysts may choose N: other roles get the published threshold.
    #[arg(long = "suppress", value_name = "SUPPRESS", default_value_t = crate::uptake::DEFAULT_THRESHOLD)]
    pub threshold: u64,
    /// A TOML file of services in the format of assets/services.toml (default: the
    /// built-in ones); analysts only.
    #[arg(long)]
    pub services: Option<PathBuf>,
    /// The day the figures are for (default: the extract date); other roles than
    /// analysts may give only the extract date or a quarter end before it.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    pub date: Option<chrono::NaiveDate>,
    /// Write the tables as CSV files in this folder (created if missing) and
    /// print their paths, instead of printing the tables.
    #[arg(long, conflicts_with = "json")]
    pub csv: Option<PathBuf>,
    /// The trend instead: the figures per IMD decile and quintile and the county,
    /// the SII, RII and the gap between the most and least deprived fifths at each
    /// quarter end over the data's span, with the board sentence.
    #[arg(long, conflicts_with = "date")]
    pub trend: bool,
}

impl UptakeCommand {
    /// `zonewise uptake`: checks what `session` asks for against its role (before
    /// anything runs), computes, suppresses and stores one service's uptake, records
    /// the run in the audit log, then prints the LSOA, decile and area tables and the
    /// inequality measures (or JSON), or places CSV files and prints their paths.
    pub fn run(&self, session: &Session) -> anyhow::Result<()> {
        let command = self;
        use crate::uptake::{self, UptakeOptions, service};
        if !command.db.is_file() {
            anyhow::bail!("database {} does not exist", command.db.display());
        }
        let conn = store::open(&command.db)?;
        session.check_uptake(
            &conn,
            &UptakeRequest {
                services: command.services.as_deref(),
                threshold: command.threshold,
                date: command.date,
            },
        )?;
        let services = match &command.services {
            Some(path) => service::load(path)?,
            None => crate::uptake::saved::available(&conn)?,
        };
        let chosen = service::find(&services, &command.service)?;
        if command.trend {
            return command.run_trend(session, &conn, chosen);
        }
        let spinner = spinner(format!("computing {} uptake", chosen.title));
        let published = uptake::publish(
            &conn,
            chosen,
            &UptakeOptions {
                reference_date: command.date,
            },
            command.threshold,
        );
        spinner.finish_and_clear();
        let published = published?;
        if let Some(dir) = &command.csv {
            // The produced date is the user's calendar day, read here at the edge.
            let produced = chrono::Local::now().date_naive();
            let paths =
                uptake::export::write_csv(&published, dir, produced, &session.user, |entry| {
                    audit::record(&conn, entry)
                })?;
            for path in paths {
                println!("{}", path.display());
            }
            return Ok(());
        }
        // Recorded before anything is printed, as files are before they are placed.
        let format = if command.json { "JSON" } else { "table" };
        audit::record(
            &conn,
            &uptake::export::audit_entry(&session.user, &published, "standard output", format),
        )?;
        if command.json {
            println!("{}", serde_json::to_string_pretty(&published)?);
            return Ok(());
        }
        let tables = published.tables();
        println!(
            "{} on {} — {}",
            tables.title, tables.reference_date, tables.description
        );
        let with_invited = tables.has_invited;
        let rows_table = |first: &str, rows: &[&uptake::UptakeRow]| {
            let mut headers = vec![first, "Name", "LSOAs", "Eligible"];
            if with_invited {
                headers.push("Invited");
            }
            headers.extend(["Attended", "Coverage (95% CI)"]);
            if with_invited {
                headers.push("Uptake (95% CI)");
            }
            let mut table = new_table(&headers);
            for row in rows {
                let mut cells = vec![
                    row.code.clone(),
                    row.name.clone(),
                    row.lsoas.to_string(),
                    shown_count(row.eligible),
                ];
                if with_invited {
                    cells.push(shown_count(row.invited));
                }
                cells.extend([shown_count(row.attended), shown_rate(row.coverage)]);
                if with_invited {
                    cells.push(shown_rate(row.uptake));
                }
                table.add_row(cells);
            }
            table
        };
        let lsoas: Vec<_> = tables.lsoas.iter().collect();
        println!("{}", rows_table("LSOA", &lsoas));
        let deciles: Vec<_> = tables.deciles.iter().chain(&tables.quintiles).collect();
        println!("{}", rows_table("IMD group", &deciles));
        let areas: Vec<_> = tables
            .zones
            .iter()
            .chain(&tables.wards)
            .chain(&tables.authorities)
            .chain(std::iter::once(&tables.county))
            .collect();
        println!("{}", rows_table("Area", &areas));
        let mut inequality = new_table(&["Measure", "SII (points, 95% CI)", "RII (95% CI)"]);
        for measure in &tables.inequality {
            let interval = |value: Option<f64>,
                            lower: Option<f64>,
                            upper: Option<f64>,
                            scale: f64,
                            places: usize| match (value, lower, upper) {
                (Some(v), Some(l), Some(u)) => format!(
                    "{:+.places$} ({:+.places$} to {:+.places$})",
                    v * scale,
                    l * scale,
                    u * scale
                ),
                (Some(v), _, _) => format!("{:+.places$}", v * scale),
                _ => "–".to_string(),
            };
            // As published: the SII to 0.1 points, the RII to 2 decimals.
            inequality.add_row(vec![
                measure.measure.label().to_string(),
                interval(measure.sii, measure.sii_lower, measure.sii_upper, 100.0, 1),
                interval(measure.rii, measure.rii_lower, measure.rii_upper, 1.0, 2),
            ]);
        }
        println!("{inequality}");
        for measure in &tables.inequality {
            println!("{}", measure.sentence);
        }
        println!(
            "Eligible people with no LSOA: {}",
            shown_count(tables.eligible_without_lsoa)
        );
        for note in tables
            .notes
            .iter()
            .map(String::as_str)
            .chain([published.note()])
        {
            println!("{note}");
        }
        Ok(())
    }
}

impl UptakeCommand {
    /// `zonewise uptake --trend`: the service's published figures at each period
    /// end (each suppressed as published that day), recorded in the audit log
    /// before anything is shown, as a table, JSON or two CSV files.
    fn run_trend(
        &self,
        session: &Session,
        conn: &duckdb::Connection,
        service: &crate::uptake::Service,
    ) -> anyhow::Result<()> {
        use crate::uptake::{export, trend};
        let spinner = spinner(format!("computing the {} trend", service.title));
        let computed = trend::trend(conn, service, self.threshold, |done, of| {
            spinner.set_message(format!(
                "computing the {} trend: period end {done} of {of}",
                service.title
            ))
        });
        spinner.finish_and_clear();
        let trend = computed?;
        if let Some(dir) = &self.csv {
            let produced = chrono::Local::now().date_naive();
            let paths = export::write_trend_csv(&trend, dir, produced, &session.user, |entry| {
                audit::record(conn, entry)
            })?;
            for path in paths {
                println!("{}", path.display());
            }
            return Ok(());
        }
        let format = if self.json { "JSON" } else { "table" };
        audit::record(
            conn,
            &export::trend_audit_entry(&session.user, &trend, "standard output", format),
        )?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&trend)?);
            return Ok(());
        }
        println!("{}: trend at each quarter end", trend.title);
        let points = |v: Option<f64>| v.map_or(String::new(), |v| format!("{:+.1}", v * 100.0));
        let percent = |v: Option<f64>| v.map_or(String::new(), |v| format!("{:.1}%", v * 100.0));
        for (at, sentence) in trend.sentences.iter().enumerate() {
            let measure = sentence.measure.label();
            let mut table = new_table(&[
                "Period end",
                "Quarter",
                &format!("County {measure}"),
                "Most deprived fifth",
                "Least deprived fifth",
                "Gap (points)",
                "SII (points, 95% CI)",
                "RII",
            ]);
            for period in &trend.periods {
                let gap = period.gaps.get(at);
                let inequality = period.inequality.get(at);
                let rate = match sentence.measure {
                    crate::uptake::Measure::Coverage => period.county.coverage,
                    crate::uptake::Measure::Uptake => period.county.uptake,
                };
                let sii = inequality.map_or(String::new(), |i| match (i.sii_lower, i.sii_upper) {
                    (Some(l), Some(u)) => {
                        format!(
                            "{} ({} to {})",
                            points(i.sii),
                            points(Some(l)),
                            points(Some(u))
                        )
                    }
                    _ => points(i.sii),
                });
                table.add_row(vec![
                    period.date.to_string(),
                    period.label.clone(),
                    shown_rate(rate),
                    percent(gap.and_then(|g| g.most_deprived)),
                    percent(gap.and_then(|g| g.least_deprived)),
                    points(gap.and_then(|g| g.gap)),
                    sii,
                    inequality
                        .and_then(|i| i.rii)
                        .map_or(String::new(), |r| format!("{r:.2}")),
                ]);
            }
            println!("{table}");
            println!("{}", sentence.sentence);
        }
        for note in trend.notes.iter().map(String::as_str).chain([trend.note()]) {
            println!("{note}");
        }
        Ok(())
    }
}

/// A count, or blank when withheld.
fn shown_count(count: Option<u64>) -> String {
    count.map_or(String::new(), |n| thousands(n as i64))
}

/// "47.3% (44.1–50.6)", or blank when withheld or undefined.
fn shown_rate(rate: Option<crate::uptake::Rate>) -> String {
    rate.map_or(String::new(), |r| {
        format!(
            "{:.1}% ({:.1}–{:.1})",
            r.value * 100.0,
            r.lower * 100.0,
            r.upper * 100.0
        )
    })
}
