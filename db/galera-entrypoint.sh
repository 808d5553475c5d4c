#!/usr/bin/env bash
# Starts one node of the cluster stack's Galera cluster (compose.cluster.yaml).
#   GALERA_MEMBERS    every node's host name, comma separated (this one too)
#   GALERA_BOOTSTRAP  "yes" on the one node that founds a new cluster
#   /run/secrets/db_password  the password of user hiring (database hiring)
# How the node starts:
#   - another member answers: it joins (a state transfer catches it up);
#   - none answers, its datadir is new and it is the founder: it makes the
#     database and users (no network, no replication), then founds the
#     cluster; the others' new datadirs are filled by a full transfer;
#   - none answers and it was the last to stop cleanly (grastate.dat says
#     safe_to_bootstrap: 1): it founds the cluster again from its data;
#   - otherwise it waits for a member, and after 5 minutes exits saying
#     what to do: founding from a node that is not the most advanced one
#     would throw away committed transactions.
set -euo pipefail
data=/var/lib/mysql
me=$(hostname)  # the service name: compose sets it (hostname:)
IFS=, read -r -a members <<<"${GALERA_MEMBERS:?GALERA_MEMBERS is not set}"
say() { echo "galera-entrypoint ($me): $*" >&2; }
as_mysql() { setpriv --reuid=mysql --regid=mysql --init-groups "$@"; }

install -d -o mysql -g mysql -m 0750 "$data"
# This node's part of the configuration, where every tool reads it (the
# state transfer scripts and mariadb-install-db too).
cat >/etc/mysql/mariadb.conf.d/99-node.cnf <<CNF
[mysqld]
wsrep_cluster_address = gcomm://${GALERA_MEMBERS}
wsrep_node_name = $me
CNF
install -d -o mysql -g mysql /run/mysqld

peer_answers() {
  local peer
  for peer in "${members[@]}"; do
    [[ $peer == "$me" ]] && continue
    timeout 2 bash -c "exec 3<>/dev/tcp/$peer/4567" 2>/dev/null && return 0
  done
  return 1
}

# The database and its users, made by a server without network or
# replication; the password is read from the secret and never shown.
initialise() {
  local password socket=/run/mysqld/init.sock i
  say "new datadir: mariadb-install-db, then the database and users"
  as_mysql mariadb-install-db --datadir="$data" --skip-test-db >/dev/null
  as_mysql mariadbd --wsrep-on=OFF --wsrep-provider=none --skip-networking --socket="$socket" &
  for ((i = 0; i < 60; i++)); do
    mariadb-admin -uroot -S "$socket" ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  password=$(sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/\\\\'/g" /run/secrets/db_password)
  mariadb -uroot -S "$socket" <<SQL
CREATE DATABASE IF NOT EXISTS hiring;
CREATE USER IF NOT EXISTS 'hiring'@'%' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON hiring.* TO 'hiring'@'%';
-- HAProxy's health check logs in as this user: no password, no privilege.
CREATE USER IF NOT EXISTS 'haproxy_check'@'%';
SQL
  mariadb-admin -uroot -S "$socket" shutdown
  wait
}

safe_to_bootstrap() { grep -qx 'safe_to_bootstrap: 1' "$data/grastate.dat" 2>/dev/null; }

args=()
if peer_answers; then
  say "joining the cluster"
elif [[ ! -d $data/mysql && ${GALERA_BOOTSTRAP:-} == yes ]]; then
  initialise
  say "founding a new cluster"
  args+=(--wsrep-new-cluster)
elif safe_to_bootstrap; then
  say "no member answers and this node stopped last, cleanly: founding the cluster again"
  args+=(--wsrep-new-cluster)
else
  say "waiting for another member to answer"
  for ((i = 0; i < 150; i++)); do
    peer_answers && break
    sleep 2
  done
  peer_answers || {
    say "no member answered in 5 minutes, and this node is not known to be the most advanced."
    say "Start the node that stopped last, or see 'Recovering a cluster' in README.md."
    exit 1
  }
  say "joining the cluster"
fi
exec setpriv --reuid=mysql --regid=mysql --init-groups mariadbd "${args[@]}" "$@"
