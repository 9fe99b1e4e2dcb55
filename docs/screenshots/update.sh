#!/usr/bin/env bash
# Regenerates the screenshots the README shows: each main view in a real window
# under Xvfb, saved by the app's own --screenshot mode. Needs xvfb (apt-get install xvfb).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release
for view in overview data linkage; do
    xvfb-run -a -s "-screen 0 1400x900x24" \
        "${CARGO_TARGET_DIR:-target}/release/zonewise" --view "$view" \
        --screenshot "docs/screenshots/$view.png"
done
