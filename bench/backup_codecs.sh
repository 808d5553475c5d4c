#!/usr/bin/env bash
# Backup and restore of the employees table through the API with each
# BACKUP_CODEC, on SQLite and on MariaDB: seconds, rows/s and file size.
#
#   bench/backup_codecs.sh [ROWS]                     default: 1000000
#   CODECS="deflate zstandard" bench/backup_codecs.sh  a subset
set -euo pipefail
rows=${1:-1000000}
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh" "$rows"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
post() { curl -fsS -X POST -H 'Authorization: Bearer bench' -H 'content-type: application/json' "http://127.0.0.1:$port$1" ${2:+-d "$2"}; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }

data=$work/data
"$gen" "$data" "$rows" 2>/dev/null
echo "| engine | codec | backup s | backup rows/s | restore s | restore rows/s | file MiB |"
echo "|---|---|---|---|---|---|---|"
for engine in sqlite mariadb; do
  shared=$work/shared-$engine
  empty=$work/empty
  mkdir -p "$shared" "$empty"
  fresh_db "$engine" bench_codecs
  start_api "$url" "$shared" "$data"   # the historical load
  stop_api
  for codec in ${CODECS:-null deflate snappy zstandard}; do
    export BACKUP_CODEC=$codec
    start_api "$url" "$shared" "$empty"
    t0=$(now); backup=$(post /api/v1/tables/employees/backups); t1=$(now)
    name=$(field name <<<"$backup")
    n=$(field rows <<<"$backup")
    mib=$(awk -v b="$(field bytes <<<"$backup")" 'BEGIN { printf "%.1f", b / 1048576 }')
    t2=$(now); post /api/v1/tables/employees/restore "{\"backup\": \"$name\"}" >/dev/null; t3=$(now)
    stop_api
    echo "| $engine | $codec | $(secs "$t0" "$t1") | $(rate "$n" "$t0" "$t1") | $(secs "$t2" "$t3") | $(rate "$n" "$t2" "$t3") | $mib |"
  done
  [[ $engine == mariadb ]] && sql -e "DROP DATABASE bench_codecs"
  rm -rf "$shared"
done
