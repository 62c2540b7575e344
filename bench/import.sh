#!/usr/bin/env bash
# Import throughput, side by side in one run on one generated file:
# dialguard parse only, parse + 24 h metrics, durable SQLite import, and
# DuckDB computing the same per-number 24 h metrics on the same file.
#
# Usage: bench/import.sh [ROWS]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
mkdir -p bench-data
file=bench-data/Master-$rows.csv

if [ ! -s "$file" ]; then
  echo "generating $file ($rows rows)…" >&2
  cargo run --quiet --release -p dialguard-formats --example gen_asterisk -- "$rows" 200 42 > "$file"
fi

if [ ! -x bench-data/venv/bin/python ]; then
  python3 -m venv bench-data/venv
  bench-data/venv/bin/pip install --quiet duckdb
fi

cargo build --quiet --release -p dialguard --bins --example import_bench
echo "== $(nproc) cores, $(date -u +%FT%TZ)"
target/release/examples/import_bench "$file"
bench-data/venv/bin/python bench/duckdb_metrics.py "$file"
