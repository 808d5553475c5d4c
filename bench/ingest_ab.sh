#!/usr/bin/env bash
# REST ingest of the same clean rows by two builds of the server, A and B,
# in turn (A B A B ...) at 1, 4 and 16 connections: the before/after check
# of a change to the ingest path, or the side-by-side with an engine's own
# way to insert the rows.
#
#   bench/ingest_ab.sh API_A API_B [ROWS] [ROUNDS]    defaults: 200000 rows, 3 rounds
#   CONNECTIONS="4" bench/ingest_ab.sh ...            other connection counts (default "1 4 16")
#   ENGINE=sqlite bench/ingest_ab.sh ...              on SQLite (default mariadb)
#   ENGINE=sqlite bench/ingest_ab.sh API sqlite3 ...  B is Python's sqlite3 inserting
#                                                     the rows in 1000-row transactions
#                                                     (bench/sqlite_inserts.py)
#
# API_A and API_B are paths to two `api` binaries (release builds of the two
# commits). Each run starts from a fresh database holding the 12 departments
# and 40 jobs. Prints, per connection count, the median rows/s of each and
# the median of the pairwise ratios A/B.
set -euo pipefail
api_a=$(realpath "$1")
api_b=$2
[[ $api_b == sqlite3 ]] || api_b=$(realpath "$api_b")
engine=${ENGINE:-mariadb}
rows=${3:-200000}
rounds=${4:-3}
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh" "$rows"
prepare_rows "$rows"

# One run of binary $1 (or of the sqlite3 baseline) at $2 connections;
# prints its rows/s, its CPU seconds per million rows and the MariaDB
# server's (0 on SQLite).
# shellcheck disable=SC2034 # start_api (bench/common.sh) runs $api
one_run() {
  api=$1
  if [[ $1 == sqlite3 ]]; then
    api=$api_a # makes the schema and loads the references, then stops
    schema_only "$engine" bench_ab "$refs"
    local times user sys
    times=$({ TIMEFORMAT='%U %S'; time sqlite3_inserts "$work/bench_ab.db" "$clean" >"$work/py.out"; } 2>&1)
    read -r user sys <<<"$times"
    read -r stored secs <"$work/py.out"
    awk -v n="$stored" -v s="$secs" -v u="$user" -v y="$sys" \
      'BEGIN { printf "%.0f %.2f 0\n", n / s, (u + y) * 1e6 / n }'
    return
  fi
  fresh_db "$engine" bench_ab
  rm -rf "$work/shared"
  start_api "$url" "$work/shared" "$refs"
  local c0 c1 s0=0 s1=0 stored rate
  c0=$(cpu "$pid")
  [[ $engine == sqlite ]] || s0=$(cpu "$mariadbd")
  read -r stored _ rate _ _ < <("$driver" send "http://127.0.0.1:$port" bench "$clean" "$2" csv)
  [[ $engine == sqlite ]] || s1=$(cpu "$mariadbd")
  c1=$(cpu "$pid")
  stop_api
  awk -v r="$rate" -v a="$c0" -v b="$c1" -v n="$stored" -v s0="$s0" -v s1="$s1" \
    'BEGIN { printf "%.0f %.2f %.2f\n", r, (b - a) * 1e6 / n, (s1 - s0) * 1e6 / n }'
}
mariadbd=$(server_pid)
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "Rows: $(wc -l <"$clean") clean employee rows; $rounds rounds of A then B."
echo
echo "| connections | A rows/s (median) | B rows/s (median) | A/B (median of pairs) | A CPU s per M rows | B CPU s per M rows | server CPU s per M rows, A | server CPU s per M rows, B |"
echo "|---|---|---|---|---|---|---|---|"
for connections in ${CONNECTIONS:-1 4 16}; do
  a_rates=() b_rates=() ratios=() a_cpus=() b_cpus=() a_servers=() b_servers=()
  for _ in $(seq 1 "$rounds"); do
    # $( ) and not < <( ): the next run starts only once this one's API stopped.
    read -r a a_cpu a_server <<<"$(one_run "$api_a" "$connections")"
    read -r b b_cpu b_server <<<"$(one_run "$api_b" "$connections")"
    a_rates+=("$a") b_rates+=("$b") a_cpus+=("$a_cpu") b_cpus+=("$b_cpu")
    a_servers+=("$a_server") b_servers+=("$b_server")
    ratios+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / b }')")
  done
  echo "| $connections | $(printf '%s\n' "${a_rates[@]}" | median) | $(printf '%s\n' "${b_rates[@]}" | median) | $(printf '%s\n' "${ratios[@]}" | median) | $(printf '%s\n' "${a_cpus[@]}" | median) | $(printf '%s\n' "${b_cpus[@]}" | median) | $(printf '%s\n' "${a_servers[@]}" | median) | $(printf '%s\n' "${b_servers[@]}" | median) |"
done
