#!/usr/bin/env bash
# Builds and starts the stack and waits until it is healthy.
#
#   ./up.sh [--clean] [--cluster]
#     --clean     first remove the containers and volumes of an earlier run
#     --cluster   the cluster stack (compose.cluster.yaml on top of
#                 compose.yaml): three Galera nodes behind HAProxy, several
#                 API replicas behind a load balancer. The choice is kept in
#                 .env (COMPOSE_FILE), so every later `docker compose`
#                 command addresses the same stack; ./up.sh without it goes
#                 back to the single stack.
#
# COMPOSE_PROJECT_NAME, API_PORT (default 8000) and, for the cluster,
# API_REPLICAS (default 3) are honoured, so a second copy of the stack can
# run beside the first.
set -euo pipefail
cd "$(dirname "$0")"
started=$(date +%s)

clean=no cluster=no
for arg in "$@"; do
  case $arg in
    --clean) clean=yes ;;
    --cluster) cluster=yes ;;
    *) echo "usage: $0 [--clean] [--cluster]" >&2; exit 2 ;;
  esac
done

# .env keeps every line but COMPOSE_FILE, which names this run's stack.
single=compose.yaml both=compose.yaml:compose.cluster.yaml
{ grep -v '^COMPOSE_FILE=' .env 2>/dev/null || true; [[ $cluster == no ]] || echo "COMPOSE_FILE=$both"; } >.env.new
mv -f .env.new .env
[[ -s .env ]] || rm -f .env
export COMPOSE_FILE=$single
[[ $cluster == no ]] || COMPOSE_FILE=$both

if [[ $clean == yes ]]; then
  # Both files: whichever stack ran before, its containers and volumes go.
  COMPOSE_FILE=$both docker compose --profile cli down --volumes --remove-orphans
fi

# Secrets are files, made once and never committed. Compose bind-mounts
# each file into the containers with its host owner and mode, and the
# containers run as non-root users, so the files are readable (0644); the
# folder is yours alone (0700), so no other user of this host can reach them.
# Modes are set on every run, so secrets made by an older up.sh (0600) are
# mended too.
mkdir -p compose-secrets
chmod 0700 compose-secrets
random() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
# Through a temp file and a rename: a run cut short never leaves half a secret.
write_secret() {
  printf '%s' "$2" >"compose-secrets/.$1.tmp"
  mv -f "compose-secrets/.$1.tmp" "compose-secrets/$1"
}
[[ -s compose-secrets/db_password ]] || write_secret db_password "$(random)"
[[ -s compose-secrets/api_token ]] || write_secret api_token "$(random)"
write_secret database_url "mysql://hiring:$(cat compose-secrets/db_password)@db:3306/hiring"
chmod 0644 compose-secrets/*

# One at a time: the api and client images share one builder stage, which
# then compiles once and is reused from the cache.
if [[ $cluster == yes ]]; then
  docker compose build galera1 galera2 galera3 db lb
else
  docker compose build db
fi
docker compose build api
docker compose --profile cli build client
# A new named volume is filled from the first image mounting it; replicas
# created at once would all copy into it and collide (Docker: "file exists"),
# so the client, whose /shared is the API's, fills it first.
docker compose run --rm --no-deps --entrypoint true client
docker compose up --detach --wait --remove-orphans

cat <<TXT
The stack is up ($(($(date +%s) - started)) s).
  Swagger UI:   http://127.0.0.1:${API_PORT:-8000}/docs
  The client:   docker compose run --rm client req1
                docker compose run --rm client tables
  Load a CSV:   docker compose cp employees.csv api:/shared/incoming/employees.csv
                docker compose run --rm client add-records employees
  Outputs:      docker compose cp api:/shared/reports ./reports   (also backups/)
  API token:    compose-secrets/api_token
TXT
