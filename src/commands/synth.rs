//! `zonewise synth`.

use crate::format::{new_table, thousands};
use crate::synth::{self, SynthConfig};

use super::progress::progress_bar;

/// `zonewise synth`: writes a synthetic county and prints what it made.
pub fn synth_command(config: &SynthConfig) -> anyhow::Result<()> {
    let bar = progress_bar(config.families as u64, "families");
    let summary = synth::generate(config, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    let mut table = new_table(&["Source", "Rows"]);
    for (source, rows) in &summary.records_per_source {
        table.add_row(vec![source.clone(), thousands(*rows as i64)]);
    }
    println!("{table}");
    println!(
        "{} families, {} people in {} LSOAs and {} zones, written to {} in {:.1} s",
        thousands(summary.families as i64),
        thousands(summary.people as i64),
        summary.lsoas,
        summary.zones,
        config.out_dir.display(),
        summary.seconds
    );
    Ok(())
}
