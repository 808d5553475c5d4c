#!/usr/bin/env bash
# Static checks of the container stack: compose.yaml's topology (PyYAML, in
# the venv of ensure-python.sh), shellcheck of every script (installed with
# apt when missing), and `docker compose config` when Docker Compose is here.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

.venv/bin/python scripts/check_compose.py compose.yaml

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "==> installing shellcheck (apt)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1 ||
    { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }
fi
shellcheck -x up.sh scripts/*.sh bench/*.sh .ci/run
echo "==> shellcheck: clean"

if docker compose version >/dev/null 2>&1; then
  mkdir -p compose-secrets
  for secret in db_password database_url api_token; do
    [[ -e compose-secrets/$secret ]] || : >"compose-secrets/$secret"
  done
  docker compose config --quiet
  echo "==> docker compose config: valid"
else
  echo "==> docker compose is not installed here: skipping 'docker compose config'"
fi
