//! Writes published (suppressed) uptake to the `mart.uptake_*` tables that the
//! map and other screens read, replacing the service's previous rows.

use duckdb::{Appender, Connection, ToSql, params};

use super::{Published, Rate, UptakeRow};

/// Replaces the service's rows in `mart.uptake_lsoa`, `uptake_decile`,
/// `uptake_area` and `uptake_inequality`, in one transaction.
pub fn write(conn: &Connection, published: &Published) -> Result<(), duckdb::Error> {
    conn.execute_batch("BEGIN TRANSACTION")?;
    match write_tables(conn, published) {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(error) => {
            if let Err(rollback) = conn.execute_batch("ROLLBACK") {
                tracing::error!("rollback after a failed uptake write also failed: {rollback}");
            }
            Err(error)
        }
    }
}

fn write_tables(conn: &Connection, published: &Published) -> Result<(), duckdb::Error> {
    let tables = published.tables();
    for table in [
        "uptake_lsoa",
        "uptake_decile",
        "uptake_area",
        "uptake_inequality",
    ] {
        conn.execute(
            &format!("DELETE FROM mart.{table} WHERE service = ?"),
            [&tables.service],
        )?;
    }
    let date = tables.reference_date.format("%Y-%m-%d").to_string();
    let threshold = published.threshold() as i64;
    let service = tables.service.as_str();
    {
        let mut appender = conn.appender_to_db("uptake_lsoa", "mart")?;
        for row in &tables.lsoas {
            let (decile, quintile) = (
                row.imd_decile.map(i32::from),
                row.imd_quintile.map(i32::from),
            );
            let key: [&dyn ToSql; 9] = [
                &service,
                &date,
                &row.code,
                &row.name,
                &row.la_code,
                &row.zone_id,
                &row.ward_code,
                &decile,
                &quintile,
            ];
            append_with_figures(&mut appender, &key, row, threshold)?;
        }
    }
    {
        let mut appender = conn.appender_to_db("uptake_decile", "mart")?;
        for row in tables.deciles.iter().chain(&tables.quintiles) {
            let group = row.imd_decile.or(row.imd_quintile).map(i32::from);
            let lsoas = row.lsoas as i64;
            let key: [&dyn ToSql; 6] =
                [&service, &date, &row.level.key(), &group, &row.name, &lsoas];
            append_with_figures(&mut appender, &key, row, threshold)?;
        }
    }
    {
        let mut appender = conn.appender_to_db("uptake_area", "mart")?;
        for row in tables
            .zones
            .iter()
            .chain(&tables.wards)
            .chain(&tables.authorities)
            .chain(std::iter::once(&tables.county))
        {
            let lsoas = row.lsoas as i64;
            let key: [&dyn ToSql; 7] = [
                &service,
                &date,
                &row.level.key(),
                &row.code,
                &row.name,
                &row.la_code,
                &lsoas,
            ];
            append_with_figures(&mut appender, &key, row, threshold)?;
        }
    }
    let mut appender = conn.appender_to_db("uptake_inequality", "mart")?;
    for measure in &tables.inequality {
        appender.append_row(params![
            service,
            date,
            measure.measure.label(),
            measure.deciles as i64,
            measure.mean_rate,
            measure.sii,
            measure.sii_lower,
            measure.sii_upper,
            measure.rii,
            measure.rii_lower,
            measure.rii_upper,
            measure.sentence,
        ])?;
    }
    Ok(())
}

/// Appends one row of an LSOA, decile or area table: the columns that say which
/// row it is (`key`, which differ by table), then the counts, rates, withheld flags
/// and threshold that all three tables end with, in the same order.
fn append_with_figures(
    appender: &mut Appender<'_>,
    key: &[&dyn ToSql],
    row: &UptakeRow,
    threshold: i64,
) -> Result<(), duckdb::Error> {
    let (coverage, uptake) = (rate(row.coverage), rate(row.uptake));
    let counts = [count(row.eligible), count(row.invited), count(row.attended)];
    let withheld = row.withheld;
    let figures: [&dyn ToSql; 13] = [
        &counts[0],
        &counts[1],
        &counts[2],
        &coverage[0],
        &coverage[1],
        &coverage[2],
        &uptake[0],
        &uptake[1],
        &uptake[2],
        &withheld.eligible,
        &withheld.invited,
        &withheld.attended,
        &threshold,
    ];
    let values: Vec<&dyn ToSql> = key.iter().copied().chain(figures).collect();
    appender.append_row(values.as_slice())
}

fn count(value: Option<u64>) -> Option<i64> {
    value.map(|n| n as i64)
}

/// Value, lower and upper limit, or three NULLs.
fn rate(rate: Option<Rate>) -> [Option<f64>; 3] {
    match rate {
        Some(r) => [Some(r.value), Some(r.lower), Some(r.upper)],
        None => [None; 3],
    }
}
