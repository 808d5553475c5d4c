#!/usr/bin/env bash
# Where the two cores go while rows are stored on MariaDB: the CPU seconds
# of the MariaDB server, of the API and of the load driver (or the `mariadb`
# client), against the wall-clock seconds, for LOAD DATA, the client's
# 1000-row INSERTs, REST ingest at 1 and 4 connections and the historical
# load, on the same clean rows.
#
#   bench/cpu_share.sh [ROWS]      default: 1000000
#
# Prints two Markdown tables. The first gives the CPU: "busy cores" is the
# three processes' CPU seconds over the wall-clock seconds (2.0 means both
# cores were working for the whole run); "server µs/row" and "API µs/row"
# are each process's CPU per row stored, and the "/ LOAD DATA's" columns
# divide them by the server's CPU per row for LOAD DATA. The second gives
# what the server counted meanwhile (SHOW GLOBAL STATUS, after less before)
# per 1000 rows: statements, commits, rows written by its handlers, bytes of
# redo log, buffer pool page requests, row lock waits.
set -euo pipefail
rows=${1:-1000000}
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh" "$rows"
prepare_rows "$rows"
n=$(wc -l <"$clean")
mkdir -p "$work/full"
cp "$refs"/*.csv "$work/full/"
cp "$clean" "$work/full/employees.csv"

mariadbd=$(server_pid)
# The server's status counters now, one "name value" a line, in $work/$1.
server_status() { sql -N -B -e "SHOW GLOBAL STATUS" | sort >"$work/$1"; }
# Runs a command; sets wall (its seconds), own (its CPU seconds, children
# included) and server (the MariaDB server's CPU seconds meanwhile), and
# keeps the server's counters before and after.
measure() {
  local s0 times user sys
  server_status status-before
  s0=$(cpu "$mariadbd")
  times=$({ TIMEFORMAT='%R %U %S'; time "$@" >/dev/null; } 2>&1)
  read -r wall user sys <<<"$times"
  own=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  server=$(awk -v a="$s0" -v b="$(cpu "$mariadbd")" 'BEGIN { printf "%.2f", b - a }')
  server_status status-after
}
# The counters of the second table, and their headings.
counters=(Questions Com_commit Handler_write Innodb_os_log_written Innodb_buffer_pool_read_requests Innodb_row_lock_waits)
headings='statements | commits | handler writes | redo bytes | page requests | row lock waits'
load_data_us=
row() { # contender, connections, API CPU s, client CPU s
  local us
  us=$(awk -v s="$server" -v n="$n" 'BEGIN { printf "%.3f", s * 1e6 / n }')
  load_data_us=${load_data_us:-$us}
  awk -v name="$1" -v c="$2" -v w="$wall" -v s="$server" -v a="$3" -v d="$4" -v n="$n" -v l="$load_data_us" 'BEGIN {
    printf "| %s | %s | %.2f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", name, c, w, n / w, s, a, d, (s + a + d) / w,
      s * 1e6 / n, a * 1e6 / n, s * 1e6 / n / l, a * 1e6 / n / l }' >>"$work/cpu.md"
  join "$work/status-before" "$work/status-after" | awk -v name="$1" -v c="$2" -v n="$n" -v want="${counters[*]}" '
    BEGIN { split(want, names, " "); for (i in names) pick[names[i]] = i }
    $1 in pick { v[pick[$1]] = ($3 - $2) * 1000 / n }
    END { printf "| %s | %s |", name, c; for (i = 1; i <= length(names); i++) printf " %.1f |", v[i]; print "" }' >>"$work/status.md"
}


schema_only mariadb bench_cpu "$refs"
measure load_data bench_cpu "$clean"
row 'LOAD DATA LOCAL INFILE' 1 0 "$own"

schema_only mariadb bench_cpu "$refs"
measure sql bench_cpu <"$work/clean/inserts.sql"
row 'multi-row INSERT (1000 rows), mariadb client' 1 0 "$own"

for connections in 1 4; do
  fresh_db mariadb bench_cpu
  rm -rf "$work/shared"
  start_api "$url" "$work/shared" "$refs"
  a0=$(cpu "$pid")
  measure "$driver" send "http://127.0.0.1:$port" bench "$clean" "$connections" csv
  api_cpu=$(awk -v a="$a0" -v b="$(cpu "$pid")" 'BEGIN { printf "%.2f", b - a }')
  stop_api
  row "this API, REST (csv)" "$connections" "$api_cpu" "$own"
done

# The historical load of the same rows, from start until ready: the API's
# CPU is its whole start, migrations included.
fresh_db mariadb bench_cpu
load() { start_api "$url" "$work/shared-load" "$work/full"; }
server_status status-before
s0=$(cpu "$mariadbd")
t0=$(date +%s.%N)
load
wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
server=$(awk -v a="$s0" -v b="$(cpu "$mariadbd")" 'BEGIN { printf "%.2f", b - a }')
server_status status-after
api_cpu=$(cpu "$pid")
stop_api
row "this API, historical load" 1 "$api_cpu" 0

echo "Rows: $n clean employee rows of $rows generated."
echo
echo "| contender | connections | seconds | rows/s | server CPU s | API CPU s | client CPU s | busy cores | server µs/row | API µs/row | server / LOAD DATA's | API / LOAD DATA's server |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
cat "$work/cpu.md"
echo
echo "Server counters per 1000 rows:"
echo
echo "| contender | connections | $headings |"
echo "|---|---|---|---|---|---|---|---|"
cat "$work/status.md"
