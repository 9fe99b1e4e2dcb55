#!/usr/bin/env bash
# Regenerates the screenshots the README shows: each main view in a real window
# under Xvfb, saved by the app's own --screenshot mode. Needs xvfb (apt-get install xvfb).
# Arguments go to `cargo build`: `--no-default-features`, with DUCKDB_LIB_DIR and
# LD_LIBRARY_PATH set as .ci/prebuilt-duckdb says, shoots with the prebuilt DuckDB.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release "$@"
zonewise="${CARGO_TARGET_DIR:-target}/release/zonewise"
# Audit entries name the operating-system user; a display without one shows "unknown".
export LOGNAME="${LOGNAME:-${USER:-analyst}}"
shoot() {
    local name="$1"
    shift
    xvfb-run -a -s "-screen 0 1400x900x24" \
        "$zonewise" "$@" --screenshot "docs/screenshots/$name.png"
}
for view in overview data linkage families results map models; do
    shoot "$view" --view "$view"
done
shoot linkage-review --review
shoot linkage-person --find "noah holmes"
shoot family --family top
shoot round-table --view round-table --family top
shoot outcomes --view round-table --family top --outcomes
shoot map-england --england
shoot map-wards --map-by ward --diverging
shoot map-need --map-by zone --need
shoot map-need-health --map-by zone --need --need-domain health
shoot define-service --define-service
# "New database…" on its column-role step, with one of the sample's extracts.
shoot new-database --new-database data-samples/county/extracts/social_care.csv.gz
# After --find above, whose search and opened person are in the log.
shoot audit --view audit
# The sign-in form and the Users view, on a copy of the sample county with users.
users_dir="$(mktemp -d)"
users_db="$users_dir/county.duckdb"
cp "${XDG_DATA_HOME:-$HOME/.local/share}/zonewise/sample-county.duckdb" "$users_db"
add_user() {
    echo "a long screenshot password" |
        ZONEWISE_USER=ana ZONEWISE_PASSWORD="a long screenshot password" \
        "$zonewise" user add --db "$users_db" "$@"
}
add_user --name ana --role analyst --display-name "Ana Patel"
add_user --name cal --role commissioner --display-name "Cal Reyes (public health)"
add_user --name s.okafor --role senior_manager --display-name "Sam Okafor"
add_user --name zoe.hart --role zone_manager --zone BCP-10,BCP-08 --display-name "Zoe Hart"
add_user --name bcp-screen --role round_table --zone BCP-10 --display-name "Boscombe West screen"
ZONEWISE_USER=ana ZONEWISE_PASSWORD="a long screenshot password" \
    "$zonewise" user disable --db "$users_db" --name bcp-screen
shoot sign-in --db "$users_db" --as ana
ZONEWISE_PASSWORD="a long screenshot password" shoot users --db "$users_db" --as ana --view users
rm -rf "$users_dir"
