#!/usr/bin/env bash
# The historical load at start: N generated employees (plus 12 departments,
# 40 jobs), from process start until the API answers, on SQLite and MariaDB.
#
#   bench/historical_load.sh [ROWS ...]      default: 100000 1000000
#
# Prints Markdown table rows: rows/s and the API's peak RSS (VmHWM).
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

echo "| engine | rows in file | seconds to ready | rows/s | peak RSS MiB |"
echo "|---|---|---|---|---|"
for rows in "${sizes[@]}"; do
  "$gen" "$work/data-$rows" "$rows" 2>/dev/null
  for engine in sqlite mariadb; do
    fresh_db "$engine" bench_load
    t0=$(date +%s.%N)
    start_api "$url" "$work/shared-$engine-$rows" "$work/data-$rows"
    t1=$(date +%s.%N)
    stop_api
    awk -v n="$rows" -v a="$t0" -v b="$t1" -v e="$engine" -v p="$peak" \
      'BEGIN { printf "| %s | %d | %.2f | %.0f | %s |\n", e, n, b - a, n / (b - a), p }'
  done
done
