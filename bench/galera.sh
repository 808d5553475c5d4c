#!/usr/bin/env bash
# Ingest of N employee rows through the REST API on one MariaDB server and on
# the three-node Galera cluster of scripts/galera.sh (loopback, one machine),
# side by side with MariaDB's own `LOAD DATA LOCAL INFILE` into each:
# - one server: this API, 4 connections;
# - single writer: one API through HAProxy (every write on one node);
# - three writers: an API on each node, each sending a third of the rows.
# Then what a causal read costs (wsrep_sync_wait = 1, which the service sets
# on a cluster): 5000 primary-key reads on one session, without and with it.
#
#   bench/galera.sh [ROWS]      default: 300000
#
# Prints one Markdown table row per measurement.
set -euo pipefail
rows=${1:-300000}
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh" "$rows"
scripts/galera.sh up >/dev/null
# On the way out: no API left running, and on a failure, its log.
pids=()
cleanup() {
  local status=$?
  for running in "${pids[@]}"; do kill "$running" 2>/dev/null || true; done
  [[ $status == 0 ]] || tail -20 "$work/api.log" >&2
  rm -rf "$work"
}
trap cleanup EXIT
prepare_rows "$rows"
n=$(wc -l <"$clean")
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
# The mariadb client on the cluster's port $1 (3310: HAProxy; 3311-3313: a node).
node_sql() { local port=$1; shift; mariadb -uhiring_test -phiring_test -h127.0.0.1 -P"$port" "$@"; }
cluster_url=mysql://hiring_test:hiring_test@127.0.0.1
# A fresh database $1 on the cluster, holding the API's schema and the
# references; sets url (through HAProxy).
cluster_schema() {
  node_sql 3310 -e "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1 CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
  url=$cluster_url:3310/$1
  start_api "$url" "$work/shared-schema" "$refs"
  stop_api
}
# Checks that database $1 on server port $2 holds every row.
check_stored() {
  local stored
  stored=$(node_sql "$2" -N -B "$1" -e "SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*) FROM employees")
  [[ $stored == "$n" ]] || { echo "$3 stored $stored rows, not $n" >&2; exit 1; }
}
row() { awk -v name="$1" -v where="$2" -v s="$3" -v n="$n" -v extra="$4" \
  'BEGIN { printf "| %s | %s | %d | %.2f | %.0f | %s |\n", name, where, n, s, n / s, extra }'; }

echo "Rows: $n clean employee rows of $rows generated."
echo
echo "| contender | database | rows | seconds | rows/s | transactions run again |"
echo "|---|---|---|---|---|---|"

# One server.
schema_only mariadb bench_galera "$refs"
row 'LOAD DATA LOCAL INFILE' 'one server' "$(load_data bench_galera "$clean")" -
fresh_db mariadb bench_galera
start_api "$url" "$work/shared" "$refs"
read -r _ secs _ < <("$driver" send "http://127.0.0.1:$port" bench "$clean" 4 csv)
stop_api
check_stored bench_galera 3306 'the API on one server'
row 'this API, 4 connections' 'one server' "$secs" -

# The cluster, through HAProxy: LOAD DATA, then one API.
cluster_schema bench_galera
t0=$(now)
node_sql 3310 bench_galera --local-infile=1 -e "LOAD DATA LOCAL INFILE '$clean' INTO TABLE employees
  FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\n'"
row 'LOAD DATA LOCAL INFILE' 'cluster, through HAProxy' "$(since "$t0")" -
check_stored bench_galera 3311 'LOAD DATA into the cluster'
cluster_schema bench_galera
start_api "$url" "$work/shared" "$refs"
read -r _ secs _ < <("$driver" send "http://127.0.0.1:$port" bench "$clean" 4 csv)
retried=$(curl -fsS "http://127.0.0.1:$port/metrics" | awk '/^hiring_db_transaction_retries_total/ { s += $2 } END { print s + 0 }')
stop_api
check_stored bench_galera 3312 'the API, single writer'
row 'this API, 4 connections' 'cluster, single writer (HAProxy)' "$secs" "$retried"

# Three writers: an API on each node, each sending a third of the rows over
# 4 connections, all at once.
cluster_schema bench_galera
split -n l/3 -d "$clean" "$work/third."
base=$port
for node in 1 2 3; do
  port=$((base + node))
  start_api "$cluster_url:331$node/bench_galera" "$work/shared" "$refs"
  pids+=("$pid")
done
t0=$(now)
drivers=()
for node in 1 2 3; do
  "$driver" send "http://127.0.0.1:$((base + node))" bench "$work/third.0$((node - 1))" 4 csv >"$work/sent.$node" &
  drivers+=($!)
done
for job in "${drivers[@]}"; do wait "$job" || { echo "a driver failed" >&2; exit 1; }; done
secs=$(since "$t0")
retried=0
for node in 1 2 3; do
  got=$(curl -fsS "http://127.0.0.1:$((base + node))/metrics" | awk '/^hiring_db_transaction_retries_total/ { s += $2 } END { print s + 0 }')
  retried=$((retried + got))
done
for i in 0 1 2; do pid=${pids[$i]} stop_api; done
port=$base
check_stored bench_galera 3313 'the API, three writers'
row 'this API, 4 connections to each of 3 replicas' 'cluster, three writers' "$secs" "$retried"

# What a causal read costs: 5000 primary-key reads on one session of node 2.
echo
echo "| reads on one session (node 2, idle cluster) | seconds for 5000 | ms per read |"
echo "|---|---|---|"
for wait in 0 1; do
  {
    echo "SET SESSION wsrep_sync_wait = $wait;"
    for id in $(seq 1 5000); do echo "SELECT employee_name FROM employees WHERE employee_id = $id;"; done
  } >"$work/reads.sql"
  t0=$(now)
  node_sql 3312 bench_galera <"$work/reads.sql" >/dev/null
  secs=$(since "$t0")
  awk -v w="$wait" -v s="$secs" 'BEGIN { printf "| wsrep_sync_wait = %s | %.2f | %.3f |\n", w, s, s / 5 }'
done
