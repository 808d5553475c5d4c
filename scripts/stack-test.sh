#!/usr/bin/env bash
# The container stack, built and started for real and walked through as a
# user would (part of scripts/test.sh, so .ci/run runs it; it installs what
# it needs with scripts/ensure-docker.sh and scripts/ensure-python.sh):
#
#   scripts/stack-test.sh
#
# 1. A throwaway copy of the project (the files git tracks or would track,
#    uncommitted edits included) under its own compose project name
#    (hiring-stacktest) and a free host port, so a stack you run yourself is
#    never touched; base images that cannot be pulled get stand-ins
#    (scripts/stand-in-images.sh).
# 2. `./up.sh --clean` exactly as a user runs it, until healthy.
# 3. The journey: `docker compose cp` a CSV with bad rows in, add-records
#    --dry-run (nothing stored), add-records, the landing page from the host,
#    req1, req2, backup all, restore, tables; reports and backups copied out
#    and checked whole (JSON parses, pages end, checksums and Avro row
#    counts match).
# 4. Isolation and exposure, proved: the client cannot reach the DB but
#    reaches the API; the API reaches the DB; the DB has no route beyond
#    back-net; only the API is published, on 127.0.0.1. The same client
#    checks run once more with the client put on back-net too, and must fail.
# 5. Persistence: `docker compose down` (volumes kept), `./up.sh` again:
#    counts unchanged and the historical load not run again.
# Everything it made (containers, networks, volumes, the copy) is removed at
# the end, also on failure; images stay as the build cache.
set -euo pipefail
# The whole script is one block, read before it runs: an edit to this file
# during a run cannot change the run.
{
stack_default_project=hiring-stacktest
# shellcheck source=scripts/stack-lib.sh
source "$(dirname "$0")/stack-lib.sh"

step "./up.sh --clean"
up_started=$(date +%s)
./up.sh --clean
echo "stack healthy $(($(date +%s) - up_started)) s after ./up.sh --clean"
for image in api client; do
  docker image inspect --format "$image image: {{.Size}} bytes" "$COMPOSE_PROJECT_NAME-$image"
done

# ---------------------------------------------------------------- journey
step "journey: docker compose cp a CSV with bad rows, add-records"
before=$(counts)
echo "$before"
hires_csv 700001 1500 >"$out/new_hires.csv"
compose cp "$out/new_hires.csv" api:/shared/incoming/employees.csv
checked=$(client add-records employees --dry-run)
echo "$checked"
# Each batch is checked against what is stored: the id the second batch
# repeats from the first is caught by the real run only.
expect_line "$checked" '^employees: dry run, nothing stored: 1506 rows read, 1501 would be inserted, 0 already stored, 5 rejected$' "add-records --dry-run"
[[ $(counts) == "$before" ]] || fail "a dry run changed the counts"
added=$(client add-records employees)
echo "$added"
expect_line "$added" '^employees: 1506 rows read, 1500 inserted, 0 already stored, 6 rejected$' "add-records"
compose cp api:/shared/incoming/employees.csv.rejects.jsonl "$out/rejects.jsonl"
codes=$("$python" -c 'import json, sys; print(" ".join(sorted(json.loads(l)["code"] for l in open(sys.argv[1]))))' "$out/rejects.jsonl")
[[ $codes == "duplicate_id invalid_datetime missing_field out_of_range unknown_department wrong_field_count" ]] ||
  fail "rejected rows: got codes '$codes'"
after=$(counts)
[[ $(count_of employees "$after") -eq $(($(count_of employees "$before") + 1500)) ]] ||
  fail "employees went from $(count_of employees "$before") to $(count_of employees "$after"), not +1500"

step "journey: the landing page, from the host"
page=$("$python" -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' "http://127.0.0.1:$API_PORT/")
expect_line "$page" "<td>employees</td><td class=\"n\">$(count_of employees "$after")</td>" "the landing page's count of employees"
expect_line "$page" '<code>wrong_field_count</code>' "the landing page's latest rejects"

step "journey: req1, req2"
req1=$(client req1 --year 2021)
head -n 5 <<<"$req1"
expect_line "$req1" 'department .*job .*Q1 .*Q2 .*Q3 .*Q4' "req1 header"
[[ $(grep -c 'Stack Hire' <<<"$req1" || true) -eq 0 ]] || fail "req1 shows employee names"
[[ $(wc -l <<<"$req1") -gt 10 ]] || fail "req1 has too few lines"
req2=$(client req2 --year 2021)
echo "$req2"
expect_line "$req2" 'id .*department .*hired' "req2 header"
expect_line "$req2" '^[^a-z]*[0-9]+ .*[A-Za-z].* [0-9]+' "req2 rows"

step "journey: backup all, restore employees --yes, tables"
backups=$(client backup all)
echo "$backups"
for table in departments jobs employees; do
  expect_line "$backups" "$table .*$table-.*\\.avro" "backup all ($table)"
done
restored=$(client restore employees --yes)
echo "$restored"
employees=$(count_of employees "$after")
expect_line "$restored" "^restored employees from employees-.*\\.avro: $employees rows \\(it had $employees\\)$" "restore"
expect_line "$restored" "to undo: client restore employees --backup employees-.*\\.avro$" "restore names its undo"
tables=$(counts)
echo "$tables"
[[ $tables == "$after" ]] || fail "counts changed by backup and restore: $after -> $tables"

step "journey: reports and backups copied out whole"
compose cp api:/shared/reports "$out/reports"
compose cp api:/shared/backups "$out/backups"
"$python" - "$out" "$employees" <<'PY'
import csv, hashlib, json, pathlib, sys
import fastavro

out, employees = pathlib.Path(sys.argv[1]), int(sys.argv[2])
for report in ("hires-by-quarter-2021", "departments-above-mean-2021"):
    data = json.loads((out / "reports" / f"{report}.json").read_text())
    with open(out / "reports" / f"{report}.csv", newline="", encoding="utf-8") as f:
        lines = list(csv.reader(f))
    assert data["rows"], f"{report}: no rows"
    assert len(lines) == len(data["rows"]) + 1, f"{report}: CSV has {len(lines)} lines for {len(data['rows'])} rows"
    html = (out / "reports" / f"{report}.html").read_text()
    assert html.rstrip().endswith("</html>") and "Plotly.newPlot" in html, f"{report}.html is cut short"
    print(f"{report}: {len(data['rows'])} rows in JSON and CSV, {len(html)} bytes of HTML")
avros = sorted((out / "backups").glob("*.avro"))
assert {p.name.split("-")[0] for p in avros} == {"departments", "jobs", "employees"}, avros
for avro in avros:
    sidecar = json.loads(avro.with_name(avro.name + ".json").read_text())
    digest = hashlib.sha256(avro.read_bytes()).hexdigest()
    assert digest == sidecar["sha256"], f"{avro.name}: sha256 {digest} != {sidecar['sha256']}"
    with open(avro, "rb") as f:
        rows = sum(1 for _ in fastavro.reader(f))
    assert rows == sidecar["rows"], f"{avro.name}: {rows} records, sidecar says {sidecar['rows']}"
    if avro.name.startswith("employees-"):
        assert rows == employees, f"{avro.name}: {rows} records, the table had {employees}"
    print(f"{avro.name}: {rows} records, sha256 matches")
PY

# -------------------------------------------------------------- isolation
container() { compose ps --all --quiet "$1"; }
ip_on() { docker inspect --format "{{with index .NetworkSettings.Networks \"${COMPOSE_PROJECT_NAME}_$2\"}}{{.IPAddress}}{{end}}" "$(container "$1")"; }
# A shell command that opens a TCP connection to HOST PORT within 3 s.
tcp_probe() { echo "timeout 3 bash -c 'exec 3<>/dev/tcp/$1/$2' 2>/dev/null"; }
can_connect() { # SERVICE HOST PORT [compose args...]: a TCP connection from inside SERVICE's container
  local service=$1 probe
  probe=$(tcp_probe "$2" "$3")
  shift 3
  if [[ $service == client ]]; then
    docker compose "$@" run --rm --no-deps -T --entrypoint bash client -c "$probe"
  else
    docker compose "$@" exec -T "$service" bash -c "$probe"
  fi
}
db_ip=$(ip_on db back-net)
api_front_ip=$(ip_on api front-net)
[[ -n $db_ip && -n $api_front_ip ]] || fail "cannot read the containers' addresses (db $db_ip, api $api_front_ip)"

# The client's side of isolation; compose args pick the compose files.
client_isolated() {
  if can_connect client db 3306 "$@"; then echo "the client reached db:3306"; return 1; fi
  if can_connect client "$db_ip" 3306 "$@"; then echo "the client reached the DB at $db_ip:3306"; return 1; fi
  if ! docker compose "$@" run --rm --no-deps -T client health >/dev/null; then echo "the client cannot reach api:8000"; return 1; fi
}

step "isolation: client reaches the API, never the DB"
why=$(client_isolated) || fail "$why"
echo "client: api:8000 answers; db:3306 and $db_ip:3306 unreachable"

step "isolation: the API reaches the DB"
can_connect api db 3306 || fail "the API cannot reach db:3306"
echo "api: db:3306 accepts connections"

step "isolation: the DB has no route beyond back-net"
back_gateway=$(docker network inspect --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}' "${COMPOSE_PROJECT_NAME}_back-net")
[[ $(docker network inspect --format '{{.Internal}}' "${COMPOSE_PROJECT_NAME}_back-net") == true ]] || fail "back-net is not internal"
routes=$(compose exec -T db cat /proc/net/route)
echo "$routes"
# /proc/net/route: Iface Destination Gateway ... in little-endian hex.
hex_ip() { printf '%d.%d.%d.%d' "0x${1:6:2}" "0x${1:4:2}" "0x${1:2:2}" "0x${1:0:2}"; }
while read -r iface destination gateway _; do
  [[ $iface == Iface ]] && continue
  [[ $iface == eth0 ]] || fail "the DB has a route through $iface (only back-net's eth0 expected)"
  if [[ $destination == 00000000 ]]; then
    # Docker 20.10 routes an internal network's default to its own gateway and
    # drops everything beyond it; Docker 25+ adds no default route at all.
    [[ $(hex_ip "$gateway") == "$back_gateway" ]] || fail "the DB's default route goes to $(hex_ip "$gateway"), not back-net's gateway $back_gateway"
  fi
done <<<"$routes"
if can_connect db "$api_front_ip" 8000; then fail "the DB reached the API's front-net address $api_front_ip:8000"; fi
echo "db: routes on back-net only (gateway $back_gateway); $api_front_ip:8000 on front-net unreachable"

step "exposure: only the API is published, on 127.0.0.1"
# SERVICE's published ports, as "port>host-ip:host-port " each.
published() {
  docker inspect --format '{{range $port, $bindings := .NetworkSettings.Ports}}{{range $bindings}}{{$port}}>{{.HostIp}}:{{.HostPort}} {{end}}{{end}}' "$(container "$1")"
}
api_ports=$(published api)
db_ports=$(published db)
echo "api publishes: $api_ports; db publishes: ${db_ports:-nothing}"
[[ -z $db_ports ]] || fail "the DB publishes $db_ports"
[[ $api_ports == "8000/tcp>127.0.0.1:$API_PORT " ]] || fail "the API publishes '$api_ports', not 8000 on 127.0.0.1 only"
# And in fact: the port answers on loopback, not on this host's address on
# front-net (its gateway), which any container could reach.
front_gateway=$(docker network inspect --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}' "${COMPOSE_PROJECT_NAME}_front-net")
host_connects() { bash -c "$(tcp_probe "$1" "$2")"; }
host_connects 127.0.0.1 "$API_PORT" || fail "the API does not answer on 127.0.0.1:$API_PORT"
if host_connects "$front_gateway" "$API_PORT"; then fail "the API answers on $front_gateway:$API_PORT, not only on loopback"; fi
echo "127.0.0.1:$API_PORT answers; $front_gateway:$API_PORT (this host on front-net) does not"

step "secrets: readable in the containers, not by other users of this host"
[[ $(stat -c %a compose-secrets) == 700 ]] || fail "compose-secrets/ is $(stat -c %a compose-secrets), not 700"
for secret in compose-secrets/*; do
  [[ $(stat -c %a "$secret") == 644 ]] || fail "$secret is $(stat -c %a "$secret"), not 644"
done
api_uid=$(compose exec -T api bash -c 'cat /run/secrets/api_token /run/secrets/database_url >/dev/null && id -u') ||
  fail "the API cannot read its secrets"
client_uid=$(compose run --rm --no-deps -T --entrypoint bash client -c 'cat /run/secrets/api_token >/dev/null && id -u') ||
  fail "the client cannot read the token"
[[ $api_uid != 0 && $client_uid != 0 ]] || fail "the API (uid $api_uid) or the client (uid $client_uid) runs as root"
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
  if setpriv --reuid=65534 --regid=65534 --clear-groups cat compose-secrets/api_token >/dev/null 2>&1; then
    fail "another user of this host (nobody) can read compose-secrets/api_token"
  fi
  echo "nobody on this host cannot read compose-secrets/; uids $api_uid (api) and $client_uid (client) can"
fi

step "isolation check can fail: the client put on back-net too"
cat >"$out/client-on-back-net.yaml" <<'YAML'
services:
  client:
    networks: [front-net, back-net]
YAML
if why=$(client_isolated -f compose.yaml -f "$out/client-on-back-net.yaml"); then
  fail "the isolation check passed with the client on back-net"
fi
echo "as it should, the check refuses that stack: $why"

# ------------------------------------------------------------ persistence
step "persistence: docker compose down (volumes kept), ./up.sh again"
compose down --timeout 20
./up.sh
again=$(counts)
[[ $again == "$tables" ]] || fail "counts changed across down/up: $tables -> $again"
skipped=$(compose logs --no-color api | grep -c 'already loaded; skipping' || true)
[[ $skipped -eq 3 ]] || fail "the historical load ran again (expected 3 files skipped, got $skipped)"
echo "counts unchanged; the 3 historical files were not loaded again"

step "passed"
exit 0
}
