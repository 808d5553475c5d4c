#!/usr/bin/env bash
# Ingest of N employee rows through the REST API (1000-row batches over 1, 4
# and 16 connections) on SQLite and MariaDB, side by side in one run with
# what a user would pick instead on the same clean rows: MariaDB's
# `LOAD DATA LOCAL INFILE`, 1000-row multi-row INSERTs sent straight to the
# server by the `mariadb` client, Python's sqlite3 inserting them in
# 1000-row transactions (bench/sqlite_inserts.py), and the seed design's approach (FastAPI +
# pandas + SQLAlchemy, bench/peer/, installed into bench/peer/.venv here).
#
#   bench/ingest.sh [ROWS]      default: 1000000
#
# Every contender starts from a fresh database holding the 12 departments and
# 40 jobs. Prints one Markdown table row per measurement: rows/s, the p50 and
# p99 latency of a batch, and the server's peak RSS (VmHWM).
set -euo pipefail
rows=${1:-1000000}
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh" "$rows"

peer=bench/peer
if ! "$peer/.venv/bin/python" -c 'import fastapi, uvicorn, pandas, sqlalchemy, pymysql' 2>/dev/null; then
  python3 -m venv "$peer/.venv"
  "$peer/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$peer/requirements.txt"
fi

prepare_rows "$rows"
n=$(wc -l <"$clean")

now() { date +%s.%N; }
row() { # contender, engine, connections, rows seconds rows/s p50 p99, peak
  echo "| $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 | $9 |"
}

echo "Rows: $n clean employee rows of $rows generated."
echo
echo "| contender | engine | connections | rows | seconds | rows/s | p50 ms | p99 ms | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|---|"

# MariaDB's own tools, on the schema the API makes (the API creates it and
# loads the references, then stops).
for tool in load_data inserts; do
  schema_only mariadb bench_ingest "$refs"
  if [[ $tool == load_data ]]; then
    secs=$(load_data bench_ingest "$clean")
    name='LOAD DATA LOCAL INFILE'
  else
    t0=$(now)
    sql bench_ingest <"$work/clean/inserts.sql"
    secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
    name='multi-row INSERT (1000 rows), mariadb client'
  fi
  stored=$(sql -N -B bench_ingest -e "SELECT COUNT(*) FROM employees")
  [[ $stored == "$n" ]] || { echo "$name stored $stored rows, not $n" >&2; exit 1; }
  awk -v n="$n" -v s="$secs" -v name="$name" \
    'BEGIN { printf "| %s | mariadb | 1 | %d | %.2f | %.0f | - | - | - |\n", name, n, s, n / s }'
done

# SQLite's own baseline: Python's sqlite3 inserting the same rows in
# 1000-row transactions, on the schema and with the pragmas the API uses.
schema_only sqlite bench_ingest "$refs"
read -r stored secs < <(sqlite3_inserts "$work/bench_ingest.db" "$clean")
[[ $stored == "$n" ]] || { echo "python sqlite3 stored $stored rows, not $n" >&2; exit 1; }
awk -v n="$n" -v s="$secs" \
  'BEGIN { printf "| python sqlite3, executemany, 1000-row transactions | sqlite | 1 | %d | %.2f | %.0f | - | - | - |\n", n, s, n / s }'

# This service.
for engine in mariadb sqlite; do
  for run in csv:1 csv:4 csv:16 json:4; do
    format=${run%:*} connections=${run#*:}
    fresh_db "$engine" bench_ingest
    rm -rf "$work/shared"
    start_api "$url" "$work/shared" "$refs"
    read -r sent secs rate p50 p99 < <("$driver" send "http://127.0.0.1:$port" bench "$clean" "$connections" "$format")
    stop_api
    row "this API ($format)" "$engine" "$connections" "$sent" "$secs" "$rate" "$p50" "$p99" "$peak"
  done
done

# The seed design's peer, one uvicorn worker as it ships, inserting with
# pandas' to_sql(method="multi") as such designs do, and with executemany
# (its faster option here) for fairness.
peer_port=$((port + 1))
for run in multi:1 multi:4 multi:16 executemany:4; do
  method=${run%:*} connections=${run#*:}
  fresh_db mariadb bench_ingest
  PEER_TO_SQL_METHOD=$method \
  PEER_DATABASE_URL="mysql+pymysql://hiring_test:hiring_test@127.0.0.1:3306/bench_ingest" \
    "$peer/.venv/bin/uvicorn" app:app --app-dir "$peer" --host 127.0.0.1 --port "$peer_port" \
    --workers 1 --log-level warning >>"$work/peer.log" 2>&1 &
  peer_pid=$!
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$peer_port/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  for table in departments jobs; do
    "$peer/.venv/bin/python" - "$refs/$table.csv" "$table" <<'EOF' |
import csv, json, sys
key = {"departments": "department", "jobs": "job"}[sys.argv[2]]
rows = [{f"{key}_id": int(r[0]), f"{key}_name": r[1]} for r in csv.reader(open(sys.argv[1]))]
print(json.dumps(rows))
EOF
      curl -fsS -H 'content-type: application/json' --data-binary @- \
        "http://127.0.0.1:$peer_port/api/v1/tables/$table/rows" >/dev/null
  done
  read -r sent secs rate p50 p99 < <("$driver" send "http://127.0.0.1:$peer_port" none "$clean" "$connections" json)
  peer_peak=$(peak_rss "$peer_pid")
  kill -INT "$peer_pid"
  wait "$peer_pid" || true
  row "seed design: FastAPI + pandas + SQLAlchemy (json, to_sql $method)" mariadb "$connections" "$sent" "$secs" "$rate" "$p50" "$p99" "$peer_peak"
done
sql -e "DROP DATABASE IF EXISTS bench_ingest"
