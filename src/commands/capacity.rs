//! `zonewise capacity`: how many families each zone's round table discusses a
//! round, which decides what is flagged (`report::flags`).

use std::path::PathBuf;

use crate::access::Session;
use crate::format::new_table;
use crate::report::flags;
use crate::store;

/// List each zone's round-table capacity, or set one zone's.
#[derive(Debug, Clone, clap::Args)]
pub struct CapacityCommand {
    /// Database file.
    #[arg(long)]
    pub db: PathBuf,
    /// The zone to set (its id, as the list shows it).
    #[arg(long, requires = "set")]
    pub zone: Option<String>,
    /// Families the zone's round table discusses at one round (at least 1).
    #[arg(long, requires = "zone", value_parser = clap::value_parser!(u32).range(1..))]
    pub set: Option<u32>,
}

impl CapacityCommand {
    /// Sets the zone's capacity when asked (audited, naming the session's user),
    /// then prints every zone's capacity and how many families it flags at the
    /// latest round.
    pub fn run(&self, session: &Session) -> anyhow::Result<()> {
        if !self.db.is_file() {
            anyhow::bail!("database {} does not exist", self.db.display());
        }
        let conn = store::open(&self.db)?;
        if let (Some(zone), Some(capacity)) = (&self.zone, self.set) {
            let set = flags::set_capacity(&conn, session, zone, capacity)?;
            println!(
                "{} ({}) now discusses {} families a round.",
                set.name, set.zone_id, set.capacity
            );
        }
        let round: Option<String> = conn.query_row(
            "SELECT strftime(max(reference_date), '%Y-%m-%d') FROM mart.family_criterion",
            [],
            |row| row.get(0),
        )?;
        let flagged = match &round {
            Some(round) => flags::flagged_per_zone(&conn, round)?,
            None => Vec::new(),
        };
        let mut table = new_table(&["Zone", "Name", "Capacity", "Set by", "Flagged"]);
        for zone in flags::capacities(&conn)? {
            let set_by = zone
                .set
                .as_ref()
                .map_or("default".to_string(), |(who, when)| {
                    format!("{who}, {when}")
                });
            let count = flagged
                .iter()
                .find(|(id, _)| *id == zone.zone_id)
                .map_or(0, |(_, n)| *n);
            table.add_row(vec![
                zone.zone_id,
                zone.name,
                zone.capacity.to_string(),
                set_by,
                count.to_string(),
            ]);
        }
        match round {
            Some(round) => {
                println!("Round tables, with the families flagged at the round of {round}:")
            }
            None => println!("Round tables (no round assessed yet: run `zonewise criteria`):"),
        }
        println!("{table}");
        Ok(())
    }
}
