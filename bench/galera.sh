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
# Prints one Markdown table row per measurement, with the CPU seconds the
# database spent meanwhile (the server, or the three nodes together) and
# the API's (all its replicas), each also per row stored. On the cluster,
# "seconds" runs until every node holds every row: a commit returns once
# the other nodes certified it, and they apply it after.
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
# The MariaDB server's process, and each node's.
one_server=$(server_pid)
node_pids=()
for node in 1 2 3; do
  node_pids+=("$(pgrep -f -- "--defaults-file=/etc/hiring-galera/node$node.cnf" | head -n 1)")
done
# The CPU seconds processes $@ have used so far, together.
cpu_of() { local total=0 one; for one in "$@"; do one=$(cpu "$one"); total=$(awk -v a="$total" -v b="$one" 'BEGIN { print a + b }'); done; echo "$total"; }
# Counting CPU: db_start PIDS... (the database's processes) and api_start
# PIDS... (the APIs') start a count; api_stop (before the APIs stop) and
# db_stop (once every node applied the writes) set api_cpu and db_cpu (and
# db_split, each process's: "node 1/node 2/node 3").
db_start() {
  db_pids=("$@") db_each=()
  local one
  for one in "$@"; do db_each+=("$(cpu "$one")"); done
  db0=$(cpu_of "$@") api_cpu=0
}
db_stop() {
  db_cpu=$(awk -v a="$db0" -v b="$(cpu_of "${db_pids[@]}")" 'BEGIN { printf "%.2f", b - a }')
  local i per=()
  for i in "${!db_pids[@]}"; do per+=("$(awk -v a="${db_each[$i]}" -v b="$(cpu "${db_pids[$i]}")" 'BEGIN { printf "%.2f", b - a }')"); done
  db_split=$(IFS=/; echo "${per[*]}")
}
api_start() { api_pids=("$@"); api0=$(cpu_of "$@"); }
api_stop() { api_cpu=$(awk -v a="$api0" -v b="$(cpu_of "${api_pids[@]}")" 'BEGIN { printf "%.2f", b - a }'); }
row() { awk -v name="$1" -v where="$2" -v s="$3" -v n="$n" -v extra="$4" -v d="$db_cpu" -v a="$api_cpu" -v each="$db_split" \
  'BEGIN { printf "| %s | %s | %d | %.2f | %.0f | %s | %.2f | %s | %.2f | %.2f | %.2f |\n", name, where, n, s, n / s, extra, d, each, a, d * 1e6 / n, a * 1e6 / n }'
}

echo "Rows: $n clean employee rows of $rows generated."
echo
echo "| contender | database | rows | seconds | rows/s | transactions run again | database CPU s | of which each node | API CPU s | database µs/row | API µs/row |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"

# One server.
schema_only mariadb bench_galera "$refs"
db_start "$one_server"
secs=$(load_data bench_galera "$clean")
db_stop
row 'LOAD DATA LOCAL INFILE' 'one server' "$secs" -
fresh_db mariadb bench_galera
start_api "$url" "$work/shared" "$refs"
db_start "$one_server"
api_start "$pid"
read -r _ secs _ < <("$driver" send "http://127.0.0.1:$port" bench "$clean" 4 csv)
api_stop
db_stop
stop_api
check_stored bench_galera 3306 'the API on one server'
row 'this API, 4 connections' 'one server' "$secs" -

# The cluster, through HAProxy: LOAD DATA, then one API.
# Every node has applied all the rows (the CPU they spent doing so counts).
all_applied() { for node in 1 2 3; do check_stored bench_galera "331$node" "$1"; done; }
cluster_schema bench_galera
db_start "${node_pids[@]}"
t0=$(now)
node_sql 3310 bench_galera --local-infile=1 -e "LOAD DATA LOCAL INFILE '$clean' INTO TABLE employees
  FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\n'"
all_applied 'LOAD DATA into the cluster'
secs=$(since "$t0")
db_stop
row 'LOAD DATA LOCAL INFILE' 'cluster, through HAProxy' "$secs" -
cluster_schema bench_galera
start_api "$url" "$work/shared" "$refs"
db_start "${node_pids[@]}"
api_start "$pid"
t0=$(now)
"$driver" send "http://127.0.0.1:$port" bench "$clean" 4 csv >/dev/null
retried=$(curl -fsS "http://127.0.0.1:$port/metrics" | awk '/^hiring_db_transaction_retries_total/ { s += $2 } END { print s + 0 }')
api_stop
all_applied 'the API, single writer'
secs=$(since "$t0")
db_stop
stop_api
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
db_start "${node_pids[@]}"
api_start "${pids[@]}"
t0=$(now)
drivers=()
for node in 1 2 3; do
  "$driver" send "http://127.0.0.1:$((base + node))" bench "$work/third.0$((node - 1))" 4 csv >"$work/sent.$node" &
  drivers+=($!)
done
for job in "${drivers[@]}"; do wait "$job" || { echo "a driver failed" >&2; exit 1; }; done
retried=0
for node in 1 2 3; do
  got=$(curl -fsS "http://127.0.0.1:$((base + node))/metrics" | awk '/^hiring_db_transaction_retries_total/ { s += $2 } END { print s + 0 }')
  retried=$((retried + got))
done
api_stop
all_applied 'the API, three writers'
secs=$(since "$t0")
db_stop
for i in 0 1 2; do pid=${pids[$i]} stop_api; done
port=$base
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
