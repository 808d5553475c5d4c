#!/usr/bin/env bash
# Contract fuzzing: schemathesis (installed into .venv by ensure-python.sh)
# against the debug `api` binary and the OpenAPI document it serves, every
# phase (examples, coverage, fuzzing, stateful) and every check but those
# scripts/schemathesis.toml turns off with its reason. One run per seed and
# engine, each on a fresh database: a throwaway SQLite file, and a new
# MariaDB database (dropped afterwards) when the server of TEST_MYSQL_URL
# answers. Fails on any failure: a 5xx, a response off the schema, a valid
# request refused or an invalid one accepted.
#
#   scripts/schemathesis.sh      (after `cargo build -p api`)
#
# ST_SEEDS (default "1 2"), ST_ENGINES (default "sqlite mariadb") and
# ST_MAX_EXAMPLES (per operation and phase, default 100) tune the runs;
# each is capped at ST_TIME_LIMIT seconds (default 300).
set -euo pipefail
cd "$(dirname "$0")/.."

api=${CARGO_TARGET_DIR:-target}/debug/api
[[ -x $api ]] || { echo "error: $api is missing: run 'cargo build -p api' first" >&2; exit 1; }
[[ -x .venv/bin/st ]] || scripts/ensure-python.sh

# The MariaDB server the tests use: mysql://user:password@host:port.
server=${TEST_MYSQL_URL:-mysql://hiring_test:hiring_test@127.0.0.1:3306}
[[ $server =~ ^mysql://([^:]+):([^@]*)@([^:/]+):([0-9]+)/?$ ]] ||
  { echo "error: TEST_MYSQL_URL is not mysql://user:password@host:port" >&2; exit 1; }
mariadb_cli=(mariadb --protocol=TCP -u "${BASH_REMATCH[1]}" -p"${BASH_REMATCH[2]}"
  -h "${BASH_REMATCH[3]}" -P "${BASH_REMATCH[4]}")

work=$(mktemp -d)
pid=
database=
# shellcheck disable=SC2317 # run by the EXIT trap and between runs
stop_api() {
  if [[ -n $pid ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
  fi
  if [[ -n $database ]]; then
    "${mariadb_cli[@]}" -e "DROP DATABASE IF EXISTS \`$database\`" || true
    database=
  fi
}
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  stop_api
  rm -rf "$work"
}
trap cleanup EXIT

# Starts the API on `engine` with a fresh database and sets `base`.
start_api() {
  local engine=$1 run=$2 url
  case $engine in
    sqlite) url="sqlite:$work/$run.db?mode=rwc" ;;
    mariadb)
      database="schemathesis_$$_$run"
      "${mariadb_cli[@]}" -e "CREATE DATABASE \`$database\`"
      url="${server%/}/$database"
      ;;
    *) echo "error: unknown engine $engine" >&2; exit 1 ;;
  esac
  token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  log=$work/$run.log
  # Port 0: the service picks a free port and logs it.
  DATABASE_URL=$url SHARED_DIR=$work/$run-shared DATA_DIR=data \
    API_TOKEN=$token API_ADDR=127.0.0.1:0 RUST_LOG=info NO_COLOR=1 \
    "$api" >"$log" 2>&1 &
  pid=$!
  base=
  for _ in $(seq 600); do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    [[ -n $base ]] || base=$(grep -aoE 'listening on http://127\.0\.0\.1:[0-9]+' "$log" | head -n 1 | sed 's/^listening on //' || true)
    [[ -n $base ]] && curl -fsS --max-time 2 "$base/ready" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "$base/ready" >/dev/null || { echo "error: the API was not ready in 60 s" >&2; exit 1; }
}

status=0
for engine in ${ST_ENGINES:-sqlite mariadb}; do
  if [[ $engine == mariadb ]] && ! "${mariadb_cli[@]}" -e 'SELECT 1' >/dev/null 2>&1; then
    echo "error: MariaDB at $server does not answer: run scripts/ensure-mariadb.sh or set ST_ENGINES=sqlite" >&2
    exit 1
  fi
  for seed in ${ST_SEEDS:-1 2}; do
    start_api "$engine" "$engine-$seed"
    echo "==> schemathesis $(.venv/bin/st --version | awk '{print $NF}') on $engine, seed $seed, against $base/openapi.json"
    run_status=0
    # No --checks here: it would turn back on what the config turns off.
    timeout --signal=INT --kill-after=15 "${ST_TIME_LIMIT:-300}" \
      .venv/bin/st --no-color --config-file scripts/schemathesis.toml run "$base/openapi.json" \
      --header "Authorization: Bearer $token" \
      --seed "$seed" --max-examples "${ST_MAX_EXAMPLES:-100}" \
      --workers 1 --generation-database none --request-timeout 10 || run_status=$?
    if [[ $run_status -ne 0 ]]; then
      status=$run_status
      if grep -aq ' ERROR ' "$log"; then
        echo "==> errors the API logged ($engine, seed $seed):" >&2
        grep -a ' ERROR ' "$log" | tail -n 20 >&2
      fi
    fi
    stop_api
  done
done
exit "$status"
