# Sourced by the stack tests (scripts/stack-test.sh, scripts/cluster-stack-test.sh):
# a throwaway copy of the project (the files git tracks or would track,
# uncommitted edits included) under its own compose project name
# ($STACK_PROJECT, else the caller's default) and a free host port, so a stack
# you run yourself is never touched; everything the test made (containers,
# networks, volumes, the copy) removed at exit, also on failure, with the
# stack's last log lines first when it failed; Docker, the venv and the base
# images (stand-ins where they cannot be pulled); and the helpers both use.
# The caller sets `stack_default_project` first and has `set -euo pipefail`.
# shellcheck shell=bash
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
started=$(date +%s)
step() { echo "==> stack: $* ($(($(date +%s) - started))s)"; }
fail() { echo "stack test FAILED: $*" >&2; exit 1; }

docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0
# The project's own compose files (up.sh picks them), whatever this shell has set.
unset COMPOSE_FILE COMPOSE_PROFILES
export COMPOSE_PROJECT_NAME=${STACK_PROJECT:-$stack_default_project}
API_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export API_PORT
# shellcheck disable=SC2034 # used by the callers
python=$repo/.venv/bin/python

work=$(mktemp -d "${TMPDIR:-/tmp}/hiring-stack.XXXXXX")
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  local status=$?
  if ((status != 0)) && [[ -f $work/compose.yaml ]]; then
    echo "---- last log lines of the stack ----" >&2
    (cd "$work" && docker compose --profile cli logs --no-color --tail 60) >&2 || true
  fi
  if [[ -f $work/compose.yaml ]]; then
    (cd "$work" && docker compose --profile cli down --volumes --remove-orphans --timeout 20) >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "copying the project to $work (compose project $COMPOSE_PROJECT_NAME, port $API_PORT)"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' file; do if [[ -e $file ]]; then printf '%s\0' "$file"; fi; done |
  tar -c --null -T - | tar -x -C "$work"
cd "$work"
out=$work/out
mkdir -p "$out"

compose() { docker compose "$@"; }
client() { compose run --rm --no-deps -T client "$@"; }
# Row counts as "table=count" lines, from the table `client tables` prints.
counts() {
  client tables | grep -oE '(departments|jobs|employees)[^0-9]+[0-9]+' |
    sed -E 's/^([a-z]+)[^0-9]+([0-9]+)$/\1=\2/' | sort
}
count_of() { awk -F= -v t="$1" '$1 == t { print $2 }' <<<"$2"; }
expect_line() {
  local text=$1 pattern=$2 what=$3
  grep -Eq -- "$pattern" <<<"$text" || { printf '%s\n' "$text" >&2; fail "$what: expected a line matching /$pattern/"; }
}

step "Docker, the venv, base images"
"$repo/scripts/ensure-docker.sh"
"$repo/scripts/ensure-python.sh" >/dev/null
"$repo/scripts/stand-in-images.sh"

# A CSV of `count` new hires from id `first` on (CRLF, as the challenge's
# files), then six bad rows, one per reject code; the last has no newline.
hires_csv() {
  local first=$1 count=$2 i
  for ((i = 0; i < count; i++)); do
    printf '%d,Stack Hire %d,2021-%02d-%02dT09:30:00Z,%d,%d\r\n' \
      $((first + i)) "$i" $((i % 12 + 1)) $((i % 28 + 1)) $((i % 12 + 1)) $((i % 40 + 1))
  done
  local next=$((first + count))
  printf '%d,,2021-03-01T00:00:00Z,1,1\r\n' "$next"                      # missing_field
  printf '%d,Bad Date,2021-13-01T00:00:00Z,1,1\r\n' $((next + 1))        # invalid_datetime
  printf '%d,No Such Dept,2021-03-01T00:00:00Z,999,1\r\n' $((next + 2))  # unknown_department
  printf '%d,Same Id,2021-03-01T00:00:00Z,1,1\r\n' "$first"             # duplicate_id
  printf '0,Zero Id,2021-03-01T00:00:00Z,1,1\r\n'                       # out_of_range
  printf '%d,Short Row,2021-03-01T00:00:00Z,1' $((next + 3))             # wrong_field_count
}
