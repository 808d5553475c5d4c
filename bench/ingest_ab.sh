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
# prints its rows/s.
# shellcheck disable=SC2034 # start_api (bench/common.sh) runs $api
one_run() {
  api=$1
  if [[ $1 == sqlite3 ]]; then
    api=$api_a # makes the schema and loads the references, then stops
    schema_only "$engine" bench_ab "$refs"
    read -r stored secs < <(sqlite3_inserts "$work/bench_ab.db" "$clean")
    awk -v n="$stored" -v s="$secs" 'BEGIN { printf "%.0f\n", n / s }'
    return
  fi
  fresh_db "$engine" bench_ab
  rm -rf "$work/shared"
  start_api "$url" "$work/shared" "$refs"
  read -r _ _ rate _ _ < <("$driver" send "http://127.0.0.1:$port" bench "$clean" "$2" csv)
  stop_api
  echo "$rate"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "Rows: $(wc -l <"$clean") clean employee rows; $rounds rounds of A then B."
echo
echo "| connections | A rows/s (median) | B rows/s (median) | A/B (median of pairs) |"
echo "|---|---|---|---|"
for connections in ${CONNECTIONS:-1 4 16}; do
  a_rates=() b_rates=() ratios=()
  for _ in $(seq 1 "$rounds"); do
    a=$(one_run "$api_a" "$connections")
    b=$(one_run "$api_b" "$connections")
    a_rates+=("$a") b_rates+=("$b")
    ratios+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / b }')")
  done
  echo "| $connections | $(printf '%s\n' "${a_rates[@]}" | median) | $(printf '%s\n' "${b_rates[@]}" | median) | $(printf '%s\n' "${ratios[@]}" | median) |"
done
