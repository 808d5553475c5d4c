#!/usr/bin/env bash
# Healthy once this node is Synced with the primary component: a node that
# joins, donates or is cut off is not.
set -euo pipefail
status=$(mariadb -uroot -N -B -e "SHOW GLOBAL STATUS WHERE Variable_name IN
  ('wsrep_local_state_comment', 'wsrep_cluster_status', 'wsrep_ready')" | sort | awk '{ printf "%s ", $2 }')
[[ $status == "Primary Synced ON " ]] || { echo "not ready: $status"; exit 1; }
