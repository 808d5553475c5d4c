#!/usr/bin/env bash
# Latency of both reports per format on N generated employees, on SQLite and
# MariaDB (the historical load fills the tables first; not timed here).
#
#   bench/reports.sh [ROWS ...]      default: 100000 1000000
#
# Prints Markdown table rows: the best of 5 requests, in milliseconds.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

echo "| engine | rows | report | format | best of 5, ms |"
echo "|---|---|---|---|---|"
for rows in "${sizes[@]}"; do
  "$gen" "$work/data-$rows" "$rows" 2>/dev/null
  for engine in sqlite mariadb; do
    fresh_db "$engine" bench_reports
    # First start: the historical load. Second: the measured service, once
    # the database has finished the load's background work.
    for data in "$work/data-$rows" "$work/none"; do
      [[ -n ${pid:-} ]] && { stop_api; sleep 5; }
      start_api "$url" "$work/shared" "$data"
    done
    for report in hires-by-quarter departments-above-mean; do
      for format in json csv html; do
        best=999999
        for _ in 1 2 3 4 5; do
          ms=$(curl -fsS -o /dev/null -w '%{time_total}' \
            "http://127.0.0.1:$port/api/v1/reports/$report?year=2021&format=$format" |
            awk '{ printf "%.0f", $1 * 1000 }')
          ((ms < best)) && best=$ms
        done
        echo "| $engine | $rows | $report | $format | $best |"
      done
    done
    stop_api
    pid=
  done
done
