#!/usr/bin/env bash
# Regenerates the screenshots the README shows: each main view in a real window
# under Xvfb, saved by the app's own --screenshot mode. Needs xvfb (apt-get install xvfb).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release
shoot() {
    local name="$1"
    shift
    xvfb-run -a -s "-screen 0 1400x900x24" \
        cargo run --release --quiet -- "$@" --screenshot "docs/screenshots/$name.png"
}
for view in overview data linkage families map models; do
    shoot "$view" --view "$view"
done
shoot linkage-review --review
shoot linkage-person --find "noah holmes"
shoot family --family top
shoot round-table --view round-table --family top
shoot map-england --england
shoot map-wards --map-by ward --diverging
# After --find above, whose search and opened person are in the log.
shoot audit --view audit
# The sign-in form, on a copy of the sample county with one user.
signin_dir="$(mktemp -d)"
cp "${XDG_DATA_HOME:-$HOME/.local/share}/zonewise/sample-county.duckdb" "$signin_dir/county.duckdb"
echo "a long screenshot password" |
    cargo run --release --quiet -- user add --db "$signin_dir/county.duckdb" --name analyst --role analyst
shoot sign-in --db "$signin_dir/county.duckdb" --as analyst
rm -rf "$signin_dir"
