#!/usr/bin/env bash
# Contract fuzzing: schemathesis (installed into .venv by ensure-python.sh)
# against the debug `api` binary and the OpenAPI document it serves, every
# phase (examples, coverage, fuzzing, stateful) and every check but those
# scripts/schemathesis.toml turns off with its reason, on a throwaway SQLite
# database. Fails on any failure: a 5xx, a response off the schema, a valid
# request refused or an invalid one accepted.
#
#   scripts/schemathesis.sh      (after `cargo build -p api`)
#
# ST_SEED (default 1) and ST_MAX_EXAMPLES (per operation and phase, default
# 50) tune the run; it is capped at ST_TIME_LIMIT seconds (default 300).
set -euo pipefail
cd "$(dirname "$0")/.."

api=${CARGO_TARGET_DIR:-target}/debug/api
[[ -x $api ]] || { echo "error: $api is missing: run 'cargo build -p api' first" >&2; exit 1; }
[[ -x .venv/bin/st ]] || scripts/ensure-python.sh

work=$(mktemp -d)
pid=
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  if [[ -n $pid ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
# Port 0: the service picks a free port and logs it.
DATABASE_URL="sqlite:$work/app.db?mode=rwc" SHARED_DIR=$work/shared DATA_DIR=data \
  API_TOKEN=$token API_ADDR=127.0.0.1:0 RUST_LOG=info NO_COLOR=1 \
  "$api" >"$work/api.log" 2>&1 &
pid=$!
base=
for _ in $(seq 600); do
  kill -0 "$pid" 2>/dev/null || { cat "$work/api.log" >&2; exit 1; }
  [[ -n $base ]] || base=$(grep -aoE 'listening on http://127\.0\.0\.1:[0-9]+' "$work/api.log" | head -n 1 | sed 's/^listening on //' || true)
  [[ -n $base ]] && curl -fsS --max-time 2 "$base/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$base/ready" >/dev/null || { echo "error: the API was not ready in 60 s" >&2; exit 1; }

echo "==> schemathesis $(.venv/bin/st --version | awk '{print $NF}') against $base/openapi.json"
status=0
# No --checks here: it would turn back on what the config turns off.
timeout --signal=INT --kill-after=15 "${ST_TIME_LIMIT:-300}" \
  .venv/bin/st --no-color --config-file scripts/schemathesis.toml run "$base/openapi.json" \
  --header "Authorization: Bearer $token" \
  --seed "${ST_SEED:-1}" --max-examples "${ST_MAX_EXAMPLES:-50}" \
  --workers 1 --generation-database none --request-timeout 10 || status=$?
if [[ $status -ne 0 ]] && grep -aq ' ERROR ' "$work/api.log"; then
  echo "==> errors the API logged:" >&2
  grep -a ' ERROR ' "$work/api.log" | tail -n 20 >&2
fi
exit "$status"
