#!/usr/bin/env bash
# Side-by-side benchmark: cohort vs DuckDB and scikit-learn, on this machine, in one run.
#   benches/peers/run.sh [WORK_DIR] [compare.py options, e.g. --reps 5]
# Builds cohort in release, makes a Python environment with the peers (pip), generates the
# data once into WORK_DIR (default $HOME/.cache/cohort-bench) and prints the table that
# BENCHMARKS.md shows; results.md and results.json are written to WORK_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."

work="${1:-$HOME/.cache/cohort-bench}"
[ $# -gt 0 ] && shift
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cohort-target}"
cargo build --release --locked --bin cohort
venv="${COHORT_BENCH_VENV:-$HOME/.cache/cohort-bench-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r benches/peers/requirements.txt
exec "$venv/bin/python" benches/peers/compare.py --cohort "$CARGO_TARGET_DIR/release/cohort" --work "$work" "$@"
