#!/usr/bin/env bash
# The historical load at start: N generated employees (plus 12 departments,
# 40 jobs), from process start until the API answers, on SQLite and MariaDB,
# side by side in one run with the engine's own way to store the same file's
# clean rows: `LOAD DATA LOCAL INFILE` on MariaDB, Python's sqlite3 in
# 1000-row transactions with the API's pragmas on SQLite
# (bench/sqlite_inserts.py).
#
#   bench/historical_load.sh [ROWS ...]      default: 100000 1000000
#   ENGINES=sqlite bench/historical_load.sh  one engine (default "sqlite mariadb")
#
# Prints Markdown table rows: the load's rows/s (rows in the file, about 1%
# of them invalid and recorded as rejects), the API's peak RSS (VmHWM), the
# baseline's seconds for the file's clean rows, and the ratio of the two
# times (baseline / load: above 1 means the load is faster).
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
cargo build --quiet --release -p api --example ingest_load
driver=$CARGO_TARGET_DIR/release/examples/ingest_load

now() { date +%s.%N; }
# The baseline of engine $1 storing the clean rows $2 into a fresh database
# holding the references (from the directory $3); prints its seconds.
baseline() {
  schema_only "$1" bench_base "$3"
  if [[ $1 == sqlite ]]; then
    read -r _ secs < <(sqlite3_inserts "$work/bench_base.db" "$2")
    echo "$secs"
  else
    load_data bench_base "$2"
  fi
}

echo "| engine | rows in file | seconds to ready | rows/s | peak RSS MiB | baseline | baseline s (clean rows) | baseline s / load s |"
echo "|---|---|---|---|---|---|---|---|"
for rows in "${sizes[@]}"; do
  "$gen" "$work/data-$rows" "$rows" 2>/dev/null
  "$driver" prepare "$work/data-$rows" "$work/clean-$rows" 2>/dev/null
  refs=$work/refs-$rows
  mkdir -p "$refs"
  cp "$work/data-$rows/departments.csv" "$work/data-$rows/jobs.csv" "$refs/"
  for engine in ${ENGINES:-sqlite mariadb}; do
    fresh_db "$engine" bench_load
    t0=$(now)
    start_api "$url" "$work/shared-$engine-$rows" "$work/data-$rows"
    t1=$(now)
    stop_api
    base=$(baseline "$engine" "$work/clean-$rows/clean.csv" "$refs")
    name=$([[ $engine == sqlite ]] && echo "python sqlite3" || echo "LOAD DATA")
    awk -v n="$rows" -v a="$t0" -v b="$t1" -v e="$engine" -v p="$peak" -v base="$base" -v name="$name" \
      'BEGIN { printf "| %s | %d | %.2f | %.0f | %s | %s | %.2f | %.2f |\n", e, n, b - a, n / (b - a), p, name, base, base / (b - a) }'
  done
done
