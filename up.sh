#!/usr/bin/env bash
# Builds and starts the stack and waits until it is healthy.
#
#   ./up.sh           build and start (data and backups are kept)
#   ./up.sh --clean   first remove the containers and volumes of an earlier run
set -euo pipefail
cd "$(dirname "$0")"

if [[ ${1:-} == "--clean" ]]; then
  docker compose down --volumes --remove-orphans
elif [[ -n ${1:-} ]]; then
  echo "usage: $0 [--clean]" >&2
  exit 2
fi

# Secrets are files, made once, readable by you only, never committed.
mkdir -p compose-secrets
umask 077
random() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
if [[ ! -s compose-secrets/db_password ]]; then
  random >compose-secrets/db_password
fi
if [[ ! -s compose-secrets/api_token ]]; then
  random >compose-secrets/api_token
fi
printf 'mysql://hiring:%s@db:3306/hiring' "$(cat compose-secrets/db_password)" >compose-secrets/database_url

docker compose build
docker compose up --detach --wait db api

cat <<TXT
The stack is up.
  Swagger UI:   http://127.0.0.1:8000/docs
  The client:   docker compose run --rm client req1
                docker compose run --rm client tables
  Load a CSV:   docker compose cp employees.csv api:/shared/incoming/employees.csv
                docker compose run --rm client add-records employees
  Outputs:      docker compose cp api:/shared/reports ./reports   (also backups/, logs/)
  API token:    compose-secrets/api_token
TXT
