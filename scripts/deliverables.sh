#!/usr/bin/env bash
# Regenerates deliverables/: req1 and req2 for 2021 as CSV and HTML, computed
# by the service from the project's own data/ (a throwaway SQLite database).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hiring-target}"
cargo build --quiet -p api --bin api
work=$(mktemp -d)
port=18433
DATABASE_URL="sqlite://$work/app.db?mode=rwc" SHARED_DIR=$work/shared DATA_DIR=data \
  API_TOKEN=unused API_ADDR=127.0.0.1:$port RUST_LOG=warn "$CARGO_TARGET_DIR/debug/api" &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
until curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do
  kill -0 $pid 2>/dev/null || exit 1
  sleep 0.2
done
base=http://127.0.0.1:$port/api/v1/reports
for format in csv html; do
  curl -fsS "$base/hires-by-quarter?year=2021&format=$format" -o "deliverables/req1.$format"
  curl -fsS "$base/departments-above-mean?year=2021&format=$format" -o "deliverables/req2.$format"
done
ls -l deliverables/
