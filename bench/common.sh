# Sourced by the bench scripts: builds the release binaries, makes sure
# MariaDB is up, and sets what every benchmark uses.
# shellcheck shell=bash
# The scripts that source this use these variables:
# shellcheck disable=SC2034
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hiring-target}"
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(100000 1000000)

cargo build --quiet --release -p api --bin api --example generate_data
scripts/ensure-mariadb.sh >/dev/null
# BENCH_API: another build of the server to measure (a path).
api=${BENCH_API:-$CARGO_TARGET_DIR/release/api}
gen=$CARGO_TARGET_DIR/release/examples/generate_data
work=$(mktemp -d)
port=${BENCH_PORT:-18431}
# An API still running when the script stops (a failure, ^C) is stopped too:
# left behind, it would hold the port and answer the next run's requests.
trap 'if [[ -n ${pid:-} ]]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
mysql_url=mysql://hiring_test:hiring_test@127.0.0.1:3306
sql() { mariadb -uhiring_test -phiring_test -h127.0.0.1 "$@"; }
# Makes database $2 empty on engine $1 (sqlite or mariadb); sets url.
fresh_db() {
  if [[ $1 == sqlite ]]; then
    rm -f "$work/$2.db" "$work/$2.db-wal" "$work/$2.db-shm"
    url="sqlite://$work/$2.db?mode=rwc"
  else
    sql -e "DROP DATABASE IF EXISTS $2; CREATE DATABASE $2 CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    url=$mysql_url/$2
  fi
}
# The ordinary MariaDB server's process (3306), not a Galera node's of
# scripts/galera.sh, which runs the same binary.
server_pid() {
  local candidate
  for candidate in $(pgrep -x mariadbd || true); do
    grep -q hiring-galera "/proc/$candidate/cmdline" || { echo "$candidate"; return; }
  done
}
ticks=$(getconf CLK_TCK)
# CPU seconds (user + system) the running process $1 has used so far.
cpu() { awk -v t="$ticks" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat"; }
# The API's peak RSS in MiB.
peak_rss() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
# Starts the API on 127.0.0.1:$port and returns once it is ready; sets pid.
start_api() { # $1 = database url, $2 = shared dir, $3 = data dir
  if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then
    echo "something answers on 127.0.0.1:$port already (an API left running?); set BENCH_PORT" >&2
    exit 1
  fi
  DATABASE_URL=$1 SHARED_DIR=$2 DATA_DIR=$3 API_TOKEN=bench API_ADDR=127.0.0.1:$port \
    RUST_LOG=warn "$api" >>"$work/api.log" 2>&1 &
  pid=$!
  # Ten minutes by default: a first start loads the historical files, and
  # 10 M rows into MariaDB with its default buffer pool take several.
  for _ in $(seq 1 $((${BENCH_READY_SECS:-600} * 10))); do
    curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$work/api.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "the API did not start" >&2
  exit 1
}
# Stops the API gracefully; sets peak (its peak RSS in MiB).
stop_api() {
  peak=$(peak_rss "$pid")
  kill -INT "$pid"
  wait "$pid" || true
}
# Makes database $2 on engine $1 hold the API's schema and the references in
# directory $3, nothing else: the API starts, loads them, and stops. Sets url
# (and peak, of that start).
schema_only() {
  fresh_db "$1" "$2"
  start_api "$url" "$work/shared-schema" "$3"
  stop_api
}
# SQLite's own baseline: Python's sqlite3 storing the clean rows $2 into the
# file $1 in 1000-row transactions with the API's pragmas
# (bench/sqlite_inserts.py). Prints "rows seconds".
sqlite3_inserts() { python3 bench/sqlite_inserts.py "$1" "$2"; }
# MariaDB's own bulk load of the clean rows $2 into database $1's employees;
# prints its seconds.
load_data() {
  local t0 t1
  t0=$(date +%s.%N)
  sql --local-infile=1 "$1" -e "LOAD DATA LOCAL INFILE '$2' INTO TABLE employees
    FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\n'"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}
# Builds the load driver, generates $1 employees in $work/data, and keeps
# their rows that fit the dictionary (dates in UTC) in $clean and the
# references alone in $refs. Sets driver, clean and refs.
prepare_rows() {
  cargo build --quiet --release -p api --example ingest_load
  driver=$CARGO_TARGET_DIR/release/examples/ingest_load
  "$gen" "$work/data" "$1" 2>/dev/null
  "$driver" prepare "$work/data" "$work/clean" 2>/dev/null
  clean=$work/clean/clean.csv
  refs=$work/refs
  mkdir -p "$refs"
  cp "$work/data/departments.csv" "$work/data/jobs.csv" "$refs/"
}
