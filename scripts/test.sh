#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs and starts MariaDB when
# missing (apt), a three-node Galera cluster with HAProxy on loopback
# (scripts/galera.sh; galera-4, rsync and haproxy from apt), a Python venv
# with fastavro (PyPI) and Chromium (apt) for the report pages' browser test, checks the container stack statically
# (scripts/check-stack.sh), then runs every test
# of the workspace against SQLite and MariaDB, and the replica and fault
# tests against the Galera cluster (each test makes its own database and
# drops it), and last schemathesis against the API's OpenAPI
# document (scripts/schemathesis.sh), then the container stack: Docker
# installed and started when missing (scripts/ensure-docker.sh), the real
# Dockerfile and compose.yaml built and started through ./up.sh and walked
# through as a user would (scripts/stack-test.sh), and the cluster stack
# (./up.sh --cluster: Galera nodes, API replicas, load balancers) walked
# through with a database node and an API replica killed on the way
# (scripts/cluster-stack-test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-mariadb.sh
scripts/galera.sh up
scripts/ensure-python.sh
scripts/ensure-chromium.sh
scripts/ensure-docker.sh
scripts/check-stack.sh
# Snapshots are checked, never rewritten, by this command.
export INSTA_UPDATE=no
cargo test --workspace --locked "$@"
scripts/schemathesis.sh
scripts/stack-test.sh
scripts/cluster-stack-test.sh
