#!/usr/bin/env bash
# Latency of both reports per format on N generated employees, on SQLite and
# MariaDB (the historical load fills the tables first; not timed here), and
# of the pages that show every table's row count (the landing page `/` and
# `GET /api/v1/tables`), beside what counting the three tables takes the
# engine itself (`SELECT COUNT(*)` of each, as those pages did before the
# counts were kept).
#
#   bench/reports.sh [ROWS ...]      default: 100000 1000000
#   ENGINES=mariadb bench/reports.sh ...   one engine (default "sqlite mariadb")
#   BENCH_READY_SECS=1800 ...               a longer wait for the first start
#
# Prints Markdown table rows: the best of 5 requests, in milliseconds, and
# the API's peak RSS while it loaded the rows and while it served them.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

echo "| engine | rows | report | format | best of 5, ms |"
echo "|---|---|---|---|---|"
for rows in "${sizes[@]}"; do
  "$gen" "$work/data-$rows" "$rows" 2>/dev/null
  for engine in ${ENGINES:-sqlite mariadb}; do
    fresh_db "$engine" bench_reports
    # First start: the historical load. Second: the measured service, once
    # the database has finished the load's background work.
    for data in "$work/data-$rows" "$work/none"; do
      if [[ -n ${pid:-} ]]; then
        stop_api
        echo "| $engine | $rows | peak RSS of the historical load, MiB | - | $peak |"
        sleep 5
      fi
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
    best_of_5() { # $1 = path
      local best=999999 ms
      for _ in 1 2 3 4 5; do
        ms=$(curl -fsS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port$1" |
          awk '{ printf "%.0f", $1 * 1000 }')
        ((ms < best)) && best=$ms
      done
      echo "$best"
    }
    echo "| $engine | $rows | landing page / | html | $(best_of_5 /) |"
    echo "| $engine | $rows | /api/v1/tables | json | $(best_of_5 /api/v1/tables) |"
    # Timed inside one session, so that no client's start is counted.
    best=999999
    for _ in 1 2 3 4 5; do
      if [[ $engine == sqlite ]]; then
        ms=$(python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
t = time.perf_counter()
for table in ("departments", "jobs", "employees"):
    c.execute(f"SELECT COUNT(*) FROM {table}").fetchall()
print(round((time.perf_counter() - t) * 1000))' "$work/bench_reports.db")
      else
        ms=$(sql -N bench_reports -e "SET @t = NOW(6);
          SELECT COUNT(*) INTO @n FROM departments; SELECT COUNT(*) INTO @n FROM jobs;
          SELECT COUNT(*) INTO @n FROM employees;
          SELECT ROUND(TIMESTAMPDIFF(MICROSECOND, @t, NOW(6)) / 1000)")
      fi
      ((ms < best)) && best=$ms
    done
    echo "| $engine | $rows | COUNT(*) of the 3 tables, by the engine | - | $best |"
    stop_api
    echo "| $engine | $rows | peak RSS serving the above, MiB | - | $peak |"
    pid=
  done
done
