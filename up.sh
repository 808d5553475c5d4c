#!/usr/bin/env bash
# Builds and starts the stack. `./up.sh --clean` first removes the
# containers and volumes of an earlier run.
set -euo pipefail
cd "$(dirname "$0")"

if [[ ${1:-} == "--clean" ]]; then
  docker compose down --volumes --remove-orphans
fi

# Secrets live in a git-ignored file, made once.
secrets=compose-secrets/env
if [[ ! -f $secrets ]]; then
  mkdir -p compose-secrets
  umask 077
  {
    echo "DB_PASSWORD=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    echo "API_TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  } >"$secrets"
fi
set -a
# shellcheck source=/dev/null
source "$secrets"
set +a

docker compose build
docker compose up -d db api
echo "Waiting for the API..."
for _ in $(seq 1 120); do
  if docker compose exec -T api true 2>/dev/null && curl -fsS http://127.0.0.1:8000/ready >/dev/null 2>&1; then
    echo "Up. Swagger UI: http://127.0.0.1:8000/docs"
    echo "Client:        docker compose run --rm client tables"
    exit 0
  fi
  sleep 2
done
echo "The API did not become ready; see: docker compose logs api" >&2
exit 1
