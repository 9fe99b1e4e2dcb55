#!/usr/bin/env bash
# Zonewise's linkage against Splink 5 on the same records (issue 3); see
# linkage_vs_splink.py. Arguments are passed on, e.g. --families 20000 or
# --json-out figures.json. Splink goes in a venv kept in ~/.cache, so reruns are quick.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${ZONEWISE_SPLINK_VENV:-$HOME/.cache/zonewise-splink-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -c 'import splink, sys; sys.exit(splink.__version__ != "5.0.0")' 2>/dev/null \
    || "$venv/bin/pip" install --quiet splink==5.0.0

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/zonewise-target}"
cargo build --release --quiet
exec "$venv/bin/python" benches/linkage_vs_splink.py --zonewise "$CARGO_TARGET_DIR/release/zonewise" "$@"
