#!/usr/bin/env bash
# The cluster stack (`./up.sh --cluster`: compose.cluster.yaml on top of
# compose.yaml), built and started for real and walked through as a user
# scaling out would, with a database node and an API replica killed
# mid-journey (part of scripts/test.sh):
#
#   scripts/cluster-stack-test.sh
#
# 1. A throwaway copy under its own compose project name
#    (hiring-clustertest) and a free port (scripts/stack-lib.sh).
# 2. `./up.sh --clean --cluster` until healthy: three Galera nodes Synced in
#    one cluster, three API replicas, the load balancer; the choice kept in
#    .env, so plain `docker compose` commands address this stack.
# 3. `docker compose cp` a CSV of 40,006 rows (6 bad) in, and add-records
#    through the load balancer; while it runs, kill -9 the writer node
#    (galera1) and one API replica. add-records must end with every row
#    counted once, the killed containers come back (`docker compose up`),
#    and every node must hold the same rows, every reject once, no employee
#    without its department or job.
# 4. backup all, restore employees, req1 through the load balancer.
# 5. `docker compose down` and `./up.sh --cluster` again: the cluster is
#    founded again from the node that stopped last, nothing lost, the
#    historical load not run again.
set -euo pipefail
# Read whole before it runs, like scripts/stack-test.sh.
{
stack_default_project=hiring-clustertest
# shellcheck source=scripts/stack-lib.sh
source "$(dirname "$0")/stack-lib.sh"

# One number from node N (1-3): the query runs as root on the node's socket.
node_sql() { compose exec -T "galera$1" mariadb -N -B hiring -e "$2"; }

step "./up.sh --clean --cluster"
up_started=$(date +%s)
./up.sh --clean --cluster
echo "stack healthy $(($(date +%s) - up_started)) s after ./up.sh --clean --cluster"
grep -qx 'COMPOSE_FILE=compose.yaml:compose.cluster.yaml' .env || fail ".env does not name the cluster stack"
replicas=$(compose ps --quiet api | wc -l)
[[ $replicas -eq 3 ]] || fail "$replicas API replicas run, not 3"
for n in 1 2 3; do
  size=$(compose exec -T "galera$n" mariadb -N -B -e "SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'" | cut -f2)
  [[ $size == 3 ]] || fail "galera$n sees a cluster of ${size:-nothing}, not 3"
done
page=$("$python" -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' "http://127.0.0.1:$API_PORT/")
expect_line "$page" 'Galera cluster of 3' "the landing page, through the load balancer"
echo "3 Galera nodes Synced in one cluster, 3 API replicas behind the load balancer"

step "journey: add-records of 40,006 rows, killing galera1 and an API replica on the way"
before=$(counts)
echo "$before"
rows=40000
hires_csv 800001 "$rows" >"$out/cluster_hires.csv"
compose cp "$out/cluster_hires.csv" api:/shared/incoming/employees.csv
employees_before=$(count_of employees "$before")
client add-records employees >"$out/added.txt" 2>"$out/added.err" &
adding=$!
# Kill once a tenth of the rows is in, read on a node that stays up.
for ((i = 0; i < 600; i++)); do
  stored=$(node_sql 2 "SELECT COUNT(*) FROM employees" 2>/dev/null || echo 0)
  ((stored < employees_before + rows / 10)) || break
  kill -0 "$adding" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$adding" 2>/dev/null || fail "add-records ended before the kills ($stored rows stored): raise rows"
# As the README shows it (SIGKILL), and one replica beside it.
compose kill galera1 2>/dev/null
docker kill "$COMPOSE_PROJECT_NAME-api-2" >/dev/null
echo "killed galera1 (the writer) and $COMPOSE_PROJECT_NAME-api-2 with $((stored - employees_before)) of $rows rows stored"
status=0
wait "$adding" || status=$?
cat "$out/added.txt"
echo "add-records said on stderr: $(grep -c retrying "$out/added.err" || true) retries"
grep retrying "$out/added.err" | sort | uniq -c | sort -rn | head -n 5 || true
((status == 0)) || { cat "$out/added.err" >&2; fail "add-records failed (exit $status)"; }
expect_line "$(cat "$out/added.txt")" "^employees: $((rows + 6)) rows read, $rows inserted, 0 already stored, 6 rejected$" "add-records"

step "the killed containers back (docker compose up --wait); every node agrees"
compose up --detach --wait
rejects_api=$(node_sql 2 "SELECT COUNT(*) FROM rejects WHERE source = 'api'")
[[ $rejects_api -eq 6 ]] || fail "$rejects_api rejects from requests recorded, not 6"
expected=$(node_sql 2 "SELECT COUNT(*), SUM(employee_id), (SELECT COUNT(*) FROM rejects) FROM employees")
[[ $(cut -f1 <<<"$expected") -eq $((employees_before + rows)) ]] ||
  fail "employees went from $employees_before to $(cut -f1 <<<"$expected"), not +$rows"
for n in 1 2 3; do
  got=$(node_sql "$n" "SELECT COUNT(*), SUM(employee_id), (SELECT COUNT(*) FROM rejects) FROM employees")
  [[ $got == "$expected" ]] || fail "galera$n holds (rows, sum of ids, rejects) $got, galera2 $expected"
  orphans=$(node_sql "$n" "SELECT COUNT(*) FROM employees e WHERE NOT EXISTS
    (SELECT 1 FROM departments d WHERE d.department_id = e.department_id) OR NOT EXISTS
    (SELECT 1 FROM jobs j WHERE j.job_id = e.job_id)")
  [[ $orphans -eq 0 ]] || fail "galera$n: $orphans employees without their department or job"
done
echo "galera1-3 each hold $(cut -f1 <<<"$expected") employees (same ids) and $(cut -f3 <<<"$expected") rejects; no orphan"

step "journey: backup all, restore employees --yes, req1, through the load balancer"
after=$(counts)
backups=$(client backup all)
echo "$backups"
expect_line "$backups" "employees .*employees-.*\\.avro" "backup all"
restored=$(client restore employees --yes)
echo "$restored"
employees=$(count_of employees "$after")
expect_line "$restored" "^restored employees from employees-.*\\.avro: $employees rows \\(it had $employees\\)$" "restore"
req1=$(client req1 --year 2021)
expect_line "$req1" 'department .*job .*Q1 .*Q2 .*Q3 .*Q4' "req1 header"
[[ $(counts) == "$after" ]] || fail "counts changed by backup and restore"

step "persistence: docker compose down, ./up.sh --cluster again"
compose down --timeout 60
./up.sh --cluster
again=$(counts)
[[ $again == "$after" ]] || fail "counts changed across down/up: $after -> $again"
founder=$(compose logs --no-color galera1)
grep -q 'founding the cluster again' <<<"$founder" ||
  fail "galera1 did not found the cluster again from its clean stop"
skipped=$(compose logs --no-color api | grep -c 'already loaded; skipping' || true)
[[ $skipped -eq 9 ]] || fail "the historical load ran again (expected 3 files skipped by 3 replicas, got $skipped)"
echo "counts unchanged; galera1 founded the cluster again; no file loaded again"

step "passed"
exit 0
}
