#!/usr/bin/env bash
# Makes sure a Docker engine and the Compose v2 plugin are here and running,
# for the stack test (scripts/stack-test.sh). Skips every step already done:
# - the engine: Debian's docker.io (and iptables) with apt when dockerd is
#   missing, then dockerd started in the background when it does not answer;
# - Compose v2: not packaged in Debian bookworm, so when `docker compose` is
#   missing, trixie's docker-compose package (a static plugin binary that
#   needs only libc) is downloaded with a temporary source list and its
#   plugin put in /usr/local/lib/docker/cli-plugins.
# Builds use the classic builder (DOCKER_BUILDKIT=0, set by the stack test):
# there is no buildx here.
set -euo pipefail

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

if ! command -v dockerd >/dev/null 2>&1 && [[ ! -x /usr/sbin/dockerd ]]; then
  echo "==> installing docker.io (apt)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io iptables >/dev/null
fi

if ! as_root docker info >/dev/null 2>&1; then
  echo "==> starting dockerd"
  log=/var/log/dockerd.log
  as_root start-stop-daemon --start --oknodo --background --output "$log" --exec /usr/sbin/dockerd
  for _ in $(seq 1 60); do
    as_root docker info >/dev/null 2>&1 && break
    sleep 1
  done
  as_root docker info >/dev/null 2>&1 || { echo "dockerd did not start; see $log" >&2; exit 1; }
fi

if ! docker compose version >/dev/null 2>&1; then
  echo "==> installing the Compose v2 plugin (Debian trixie's docker-compose package)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cat >"$work/trixie.sources" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  apt_trixie=(apt-get -qq -o "Dir::Etc::SourceList=$work/trixie.sources" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
  as_root "${apt_trixie[@]}" update
  (cd "$work" && as_root "${apt_trixie[@]}" download docker-compose)
  dpkg-deb -x "$work"/docker-compose_*.deb "$work/root"
  as_root install -D -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" \
    /usr/local/lib/docker/cli-plugins/docker-compose
  docker compose version >/dev/null
fi
echo "==> Docker is up: $(docker version --format 'engine {{.Server.Version}}'), $(docker compose version --short | sed 's/^/compose /')"
