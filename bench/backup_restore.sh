#!/usr/bin/env bash
# Backup and restore of the employees table through the API, on SQLite and on
# MariaDB, side by side with MariaDB's own tools on the same rows
# (mysqldump --single-transaction, LOAD DATA LOCAL INFILE).
#
#   bench/backup_restore.sh [ROWS ...]      default: 100000 1000000
#
# Prints one Markdown table row per measurement: rows/s and the API's peak
# RSS (VmHWM of a process started just for that operation).
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

post() { curl -fsS -X POST -H 'Authorization: Bearer bench' "http://127.0.0.1:$port$1"; }

echo "| engine | rows | operation | seconds | rows/s | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
for rows in "${sizes[@]}"; do
  data=$work/data-$rows
  "$gen" "$data" "$rows" 2>/dev/null
  for engine in sqlite mariadb; do
    shared=$work/shared-$engine-$rows
    empty=$work/empty
    mkdir -p "$shared" "$empty"
    db=bench_$rows
    fresh_db "$engine" "$db"
    start_api "$url" "$shared" "$data"   # the historical load
    stop_api

    start_api "$url" "$shared" "$empty"
    t0=$(now); backup=$(post /api/v1/tables/employees/backups); t1=$(now)
    stop_api
    n=$(echo "$backup" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"])')
    echo "| $engine | $n | API backup (Avro, ${BACKUP_CODEC:-deflate}) | $(secs "$t0" "$t1") | $(rate "$n" "$t0" "$t1") | $peak |"

    start_api "$url" "$shared" "$empty"
    t0=$(now); post /api/v1/tables/employees/restore >/dev/null; t1=$(now)
    stop_api
    echo "| $engine | $n | API restore (validate, stage, swap) | $(secs "$t0" "$t1") | $(rate "$n" "$t0" "$t1") | $peak |"

    if [[ $engine == mariadb ]]; then
      t0=$(now)
      mysqldump -uhiring_test -phiring_test -h127.0.0.1 --single-transaction "$db" employees >"$work/dump.sql"
      t1=$(now)
      echo "| mariadb | $n | mysqldump --single-transaction | $(secs "$t0" "$t1") | $(rate "$n" "$t0" "$t1") | - |"
      sql -N -B -e "SELECT employee_id, employee_name, hiring_date, department_id, job_id FROM $db.employees" >"$work/rows.tsv"
      sql -e "DROP TABLE IF EXISTS $db.load_copy; CREATE TABLE $db.load_copy LIKE $db.employees"
      t0=$(now)
      sql --local-infile=1 -e "LOAD DATA LOCAL INFILE '$work/rows.tsv' INTO TABLE $db.load_copy"
      t1=$(now)
      echo "| mariadb | $n | LOAD DATA LOCAL INFILE | $(secs "$t0" "$t1") | $(rate "$n" "$t0" "$t1") | - |"
      sql -e "DROP DATABASE $db"
    fi
    rm -rf "$shared"
  done
done
