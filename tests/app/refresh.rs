//! "Since the last refresh" in the Linkage view: after March's and April's
//! extracts of one county are each loaded and linked, the view shows what April
//! changed, with the counts the change table holds (counted here in SQL).

use std::path::Path;

use egui_kittest::kittest::Queryable;
use zonewise::format::thousands;
use zonewise::ingest::{self, Manifest};
use zonewise::link::{self, LinkConfig};
use zonewise::synth::{self, SynthConfig};
use zonewise::ui::{DatabaseChoice, View, ZonewiseApp};

use crate::common;

#[test]
fn the_linkage_view_shows_what_the_latest_refresh_changed() {
    let _turn = common::app::one_at_a_time();
    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("county");
    synth::generate(
        &SynthConfig {
            out_dir: out.clone(),
            reference_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/ref"),
            families: 250,
            seed: 3,
            noise: 1.0,
            gzip: false,
            authorities: Vec::new(),
            months: 2,
            round_tables: zonewise::synth::round_tables::RoundTableConfig::no_effect(),
        },
        &|_, _| {},
    )
    .expect("synth");
    let db = dir.path().join("county.duckdb");
    {
        let conn = zonewise::store::open(&db).expect("db");
        for manifest in [
            out.join("months/2026-03-01/manifest.toml"),
            out.join("manifest.toml"),
        ] {
            let manifest = Manifest::load(&manifest).expect("manifest");
            ingest::ingest(&conn, &manifest, "analyst", &mut |_| {}).expect("ingest");
            link::link(&conn, &LinkConfig::default(), "analyst").expect("link");
        }
    }
    let (new_people, merged, split) = {
        let conn = duckdb::Connection::open(&db).expect("open");
        let count = |sql: &str| zonewise::store::scalar_i64(&conn, sql).expect("count");
        (
            count("SELECT count(*) FROM app.person_change WHERE run_id = 2 AND kind = 'new'"),
            count(
                "SELECT count(DISTINCT new_family_id) FROM app.family_change
                 WHERE run_id = 2 AND kind = 'merged'",
            ),
            count(
                "SELECT count(DISTINCT old_family_id) FROM app.family_change
                 WHERE run_id = 2 AND kind IN ('split', 'regrouped')",
            ),
        )
    };
    assert!(new_people > 0 && merged > 0, "April changed something");

    let app = ZonewiseApp::new(DatabaseChoice::File(db.clone()));
    let mut harness = common::app::harness(app, 1280.0, 900.0);
    common::app::wait_for_figures(&mut harness);
    harness.get_by_label("Linkage").click();
    harness.run_steps(2);
    common::app::wait_for_figures(&mut harness);
    assert_eq!(harness.state().view, View::Linkage);
    harness.get_by_label("Since the last refresh");
    for (value, label) in [
        (new_people, "new people"),
        (merged, "families merged"),
        (split, "families split"),
    ] {
        harness.get_by_label(label);
        assert!(
            harness.query_all_by_label(&thousands(value)).count() >= 1,
            "{label}: {value}"
        );
    }
    let refresh = harness
        .state()
        .figures()
        .linkage
        .as_ref()
        .and_then(|l| l.refresh.clone())
        .expect("the view read the refresh");
    assert_eq!(refresh.changes.new_persons as i64, new_people);
    assert_eq!(refresh.changes.merged_families as i64, merged);
    assert_eq!(refresh.changes.split_families as i64, split);
    common::app::assert_frames_drew_only();
}
