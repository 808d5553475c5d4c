#!/usr/bin/env bash
# A real 3-node MariaDB Galera cluster on loopback with HAProxy in front, for
# the tests and benchmarks that need one; the ordinary MariaDB (3306,
# /run/mysqld) is never touched. Installs what is missing with apt and skips
# every step that is already done.
#   scripts/galera.sh [up]     start what is not running, wait until all synced
#   scripts/galera.sh kill N   kill -9 node N's mariadbd
#   scripts/galera.sh start N  start node N (joins the others, bootstraps alone)
#   scripts/galera.sh status   one line per node and one for HAProxy
#   scripts/galera.sh down     stop HAProxy and the nodes (datadirs stay)
# Writer: mysql://hiring_test:hiring_test@127.0.0.1:3310 (HAProxy: node 1, then
# nodes 2 and 3 as backups). Node N: mariadbd 127.0.0.1:331N, galera 2456N,
# IST 2457N, SST 2458N, datadir /var/lib/hiring-galera/nodeN (error log
# nodeN.err beside it), socket /run/hiring-galera/nodeN.sock.
set -euo pipefail

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
die() { echo "galera.sh: $*" >&2; exit 1; }

# Parallel callers (tests) must not both start a fresh cluster. flock -o:
# the daemons started here must not inherit the lock and keep it held.
if [[ ${1:-up} =~ ^(up|start|down)$ && -z ${HIRING_GALERA_LOCKED:-} ]]; then
  exec env HIRING_GALERA_LOCKED=1 flock -o /tmp/hiring-galera.lock bash "$0" "$@"
fi

lib=/var/lib/hiring-galera cfg=/etc/hiring-galera run=/run/hiring-galera
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
nodes=(1 2 3)

install_missing() {
  # Packages, not binaries: mariadbd is in mariadb-server-core, but the SST
  # scripts (and their needs: ss, lsof, socat) come with mariadb-server.
  local p pkgs=()
  for p in mariadb-server galera-4 rsync haproxy; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == *" installed" ]] || pkgs+=("$p")
  done
  ((${#pkgs[@]})) || return 0
  echo "==> installing ${pkgs[*]} (apt)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
}

# Writes stdin to file $1 unless it already holds exactly that; fails
# (status 1) when there was nothing to write.
put() {
  local new; new=$(cat)
  [[ -f $1 && $(cat "$1") == "$new" ]] && return 1
  printf '%s\n' "$new" | as_root tee "$1" >/dev/null
}

write_config() {
  local n provider
  as_root mkdir -p "$cfg" "$lib" "$run"
  as_root chown mysql:mysql "$lib" "$run"
  provider=$(dpkg -L galera-4 | grep -m1 '/libgalera_smm\.so$')
  # [mysqld], not [mariadbd]: the SST scripts read this file too. The charset
  # is Debian's, whose server config this file replaces. pc.recovery=false:
  # otherwise a node killed with -9 restores its old view when started and
  # joins only after a 7.5 s install timeout (full restarts use the template).
  for n in "${nodes[@]}"; do
    put "$cfg/node$n.cnf" <<EOF || true
[mysqld]
datadir=$lib/node$n
socket=$run/node$n.sock
pid-file=$run/node$n.pid
log-error=$lib/node$n.err
port=331$n
bind-address=127.0.0.1
skip-name-resolve
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
innodb_buffer_pool_size=128M
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider=$provider
wsrep_cluster_name=hiring-galera
wsrep_cluster_address=gcomm://127.0.0.1:24561,127.0.0.1:24562,127.0.0.1:24563
wsrep_node_name=node$n
wsrep_node_address=127.0.0.1:2456$n
wsrep_node_incoming_address=127.0.0.1:331$n
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:2456$n;ist.recv_addr=127.0.0.1:2457$n;gcache.size=64M;pc.recovery=false"
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:2458$n
EOF
  done
  # HAProxy routes as in the cluster stack (haproxy/db.cfg: one writer at a
  # time, the backups' sessions cut on failback), on loopback: the same
  # file without Docker's DNS and the health page, node N at 127.0.0.1:331N.
  local routing
  routing=$(sed -e '/^ *#/d' -e '/^resolvers docker$/,/^ *hold valid/d' \
    -e '/^frontend health$/,/^ *monitor fail/d' \
    -e 's/^\( *bind \):3306$/\1127.0.0.1:3310/' \
    -e 's/ resolvers docker .*$//' \
    -e 's/^\( *server \)galera\([123]\) galera[123]:3306 /\1node\2 127.0.0.1:331\2 /' \
    "$root/haproxy/db.cfg")
  if ! grep -q 'bind 127.0.0.1:3310$' <<<"$routing" || grep -Eq 'galera[0-9]|resolvers|127\.0\.0\.11' <<<"$routing"; then
    die "haproxy/db.cfg no longer has the shape this script rewrites for loopback"
  fi
  if put "$cfg/haproxy.cfg" <<<"$routing"; then
    # A running HAProxy read the former file: start it again on this one.
    local pid; pid=$(haproxy_pid)
    if [[ -n $pid ]]; then as_root kill "$pid"; wait_gone "$pid" haproxy; start_haproxy; fi
  fi
}
start_haproxy() {
  echo "==> starting haproxy on 127.0.0.1:3310"
  as_root /usr/sbin/haproxy -D -p "$run/haproxy.pid" -f "$cfg/haproxy.cfg"
}

# Processes are found by their command line, not by pid files alone: those
# stay behind after kill -9. Zombies have an empty cmdline and do not count.
cmdline_has() { tr '\0' '\n' 2>/dev/null <"/proc/$1/cmdline" | grep -qxF -- "$2"; }
node_pid() {
  local pid
  for pid in $(pgrep -x mariadbd || true); do
    cmdline_has "$pid" "--defaults-file=$cfg/node$1.cnf" && { echo "$pid"; return; }
  done
  return 0
}
haproxy_pid() {
  local pid; pid=$(head -n1 "$run/haproxy.pid" 2>/dev/null || true)
  [[ -z $pid ]] || ! cmdline_has "$pid" "$cfg/haproxy.cfg" || echo "$pid"
}
running_nodes() { local n; for n in "${nodes[@]}"; do [[ -z $(node_pid "$n") ]] || echo "$n"; done; }
wait_gone() {  # $1 = pid, $2 = what
  local i
  for ((i = 0; i < 300; i++)); do
    [[ -n $(tr -d '\0' 2>/dev/null <"/proc/$1/cmdline") ]] || return 0
    sleep 0.1
  done
  die "$2 (pid $1) did not exit"
}

node_sql() { local n=$1; shift; as_root mariadb --no-defaults -uroot -S "$run/node$n.sock" -N -B "$@"; }
writer_sql() { MYSQL_PWD=hiring_test mariadb --no-defaults -h127.0.0.1 -P3310 -uhiring_test -N -B "$@"; }
node_state() {  # "<state comment> <cluster size> <cluster status> <last committed>", or nothing
  node_sql "$1" -e "SHOW GLOBAL STATUS LIKE 'wsrep_%'" 2>/dev/null | awk -F'\t' '
    $1 == "wsrep_local_state_comment" { s = $2 } $1 == "wsrep_cluster_size" { n = $2 }
    $1 == "wsrep_cluster_status" { p = $2 } $1 == "wsrep_last_committed" { c = $2 }
    END { if (s != "") print s, n, p, c }' || true
}

# A node without a datadir gets a copy of the template, or an empty one that
# its state transfer fills (the template is made only while no node runs).
ensure_datadir() {
  as_root test -d "$lib/node$1/mysql" && return 0
  as_root install -d -o mysql -g mysql -m 700 "$lib/node$1"
  ! as_root test -d "$lib/template/mysql" || as_root cp -a "$lib/template/." "$lib/node$1/"
}
start_node() {  # $1 = node, then extra mariadbd options
  local n=$1; shift
  as_root rm -f "$run/node$n.pid"
  # As user mysql: started as root, the rsync SST daemon drops to nobody and
  # cannot write the joiner's datadir.
  as_root start-stop-daemon --start --background --chuid mysql --pidfile "$run/node$n.pid" \
    --exec /usr/sbin/mariadbd -- --defaults-file="$cfg/node$n.cnf" "$@"
}
wait_node() {  # $1 = node, $2 = cluster size to reach; 120 s at most
  local n=$1 want=$2 state='' size='' _ i why
  for ((i = 0; i < 240; i++)); do
    read -r state size _ <<<"$(node_state "$n")"
    [[ $state == Synced && $size == "$want" ]] && return 0
    ((i < 2)) || [[ -n $(node_pid "$n") ]] || break
    sleep 0.5
  done
  why="not Synced in a cluster of $want after 120 s (state ${state:-none}, size ${size:-none})"
  [[ -n $(node_pid "$n") ]] || why="mariadbd exited"
  echo "galera.sh: node $n: $why; last lines of $lib/node$n.err:" >&2
  as_root tail -n 25 "$lib/node$n.err" >&2 || true
  exit 1
}

# Nodes left without quorum (two of three killed) refuse joiners: make the
# most advanced running node a primary component again.
ensure_primary() {
  local n state size status seq best='' best_seq=-2
  for n in $(running_nodes); do
    read -r state size status seq <<<"$(node_state "$n")"
    [[ $status == Primary ]] && return 0
    if [[ -n $seq ]] && ((seq > best_seq)); then best=$n best_seq=$seq; fi
  done
  [[ -n $best ]] || return 0
  echo "==> no primary component: bootstrapping it again on node $best"
  node_sql "$best" -e "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'"
}

# Run once, in node 1's place, as a one-node cluster: the users are made and
# the server is stopped cleanly, so every copy holds the same Galera state
# and a fresh cluster's joiners need no state transfer, only a short IST.
make_template() {
  ! as_root test -d "$lib/template/mysql" || return 0
  echo "==> initialising the template datadir (mariadb-install-db, users)"
  local out pid new=$lib/template.new
  as_root rm -rf "$new"
  out=$(as_root mariadb-install-db --no-defaults --user=mysql --datadir="$new" \
    --skip-test-db --skip-name-resolve 2>&1) || { echo "$out" >&2; die "mariadb-install-db failed"; }
  start_node 1 --wsrep-new-cluster --datadir="$new"
  wait_node 1 1
  node_sql 1 <<'SQL'
CREATE USER IF NOT EXISTS 'hiring_test'@'127.0.0.1' IDENTIFIED BY 'hiring_test';
CREATE USER IF NOT EXISTS 'hiring_test'@'localhost' IDENTIFIED BY 'hiring_test';
GRANT ALL PRIVILEGES ON *.* TO 'hiring_test'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'hiring_test'@'localhost' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'haproxy_check'@'127.0.0.1';
SHUTDOWN;
SQL
  pid=$(node_pid 1)
  [[ -z $pid ]] || wait_gone "$pid" "template server"
  as_root rm -f "$new/galera.cache"
  as_root mv "$new" "$lib/template"
}

# HAProxy sends writes to the lowest-numbered running node; its checks need a
# second to see a node come back, so wait until the route is the final one.
wait_writer() {
  local running want port='' i
  running=$(running_nodes)
  want=331${running%%$'\n'*}
  for ((i = 0; i < 120; i++)); do
    port=$(writer_sql -e 'SELECT @@port' 2>/dev/null || true)
    [[ $port == "$want" ]] && return 0
    sleep 0.25
  done
  die "HAProxy on 127.0.0.1:3310 routes to ${port:-nothing}, not to $want"
}

healthy() {
  local n state size _
  for n in "${nodes[@]}"; do
    read -r state size _ <<<"$(node_state "$n")"
    [[ $state == Synced && $size == 3 ]] || return 1
  done
  [[ -n $(haproxy_pid) && $(writer_sql -e 'SELECT @@port' 2>/dev/null) == 3311 ]]
}

cmd_up() {
  install_missing
  write_config
  if healthy; then echo "==> Galera is already up: writer 127.0.0.1:3310, nodes 3311 3312 3313"; return; fi
  local n running count
  running=$(running_nodes)
  if [[ -z $running ]]; then
    # down is kill -9, so nothing is worth recovering: a fresh copy of the
    # template is faster and always starts.
    make_template
    echo "==> starting a fresh cluster: node 1 bootstraps"
    for n in "${nodes[@]}"; do as_root rm -rf "$lib/node$n"; ensure_datadir "$n"; done
    start_node 1 --wsrep-new-cluster
    wait_node 1 1
    running=1
  else
    ensure_primary
  fi
  [[ -n $(haproxy_pid) ]] || start_haproxy
  count=$(wc -l <<<"$running")
  for n in "${nodes[@]}"; do
    grep -qx "$n" <<<"$running" && continue
    # One at a time: two joiners at once spent seconds merging their views.
    echo "==> starting node $n (joiner)"
    ensure_datadir "$n"
    start_node "$n"
    count=$((count + 1))
    wait_node "$n" "$count"
  done
  for n in "${nodes[@]}"; do wait_node "$n" 3; done
  wait_writer
  echo "==> Galera is up: writer mysql://hiring_test:***@127.0.0.1:3310, nodes 3311 3312 3313"
}

cmd_kill() {
  local pid; pid=$(node_pid "$1")
  [[ -n $pid ]] || { echo "==> node $1 is not running"; return 0; }
  echo "==> kill -9 node $1 (pid $pid)"
  as_root kill -9 "$pid"
  wait_gone "$pid" "node $1"
}

cmd_start() {
  local n=$1 others size
  install_missing
  write_config
  others=$(running_nodes | grep -vx "$n" || true)
  if [[ -n $(node_pid "$n") ]]; then
    echo "==> node $n is already running"
  elif [[ -z $others ]]; then
    # Alone, it becomes the cluster; after kill -9 its grastate says unsafe.
    echo "==> starting node $n: no other node runs, it bootstraps"
    make_template
    ensure_datadir "$n"
    ! as_root test -f "$lib/node$n/grastate.dat" ||
      as_root sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' "$lib/node$n/grastate.dat"
    start_node "$n" --wsrep-new-cluster
  else
    ensure_primary
    echo "==> starting node $n (joiner)"
    ensure_datadir "$n"
    start_node "$n"
  fi
  size=$(($(grep -c . <<<"$others" || true) + 1))
  wait_node "$n" "$size"
  [[ -z $(haproxy_pid) ]] || wait_writer
  echo "==> node $n is Synced, cluster size $size"
}

cmd_status() {
  local n pid state size status _
  for n in "${nodes[@]}"; do
    pid=$(node_pid "$n")
    if [[ -z $pid ]]; then echo "node$n 127.0.0.1:331$n: not running"; continue; fi
    read -r state size status _ <<<"$(node_state "$n")"
    echo "node$n 127.0.0.1:331$n: running (pid $pid), ${state:-no answer}, ${status:-?}, cluster size ${size:-?}"
  done
  pid=$(haproxy_pid)
  if [[ -z $pid ]]; then echo "haproxy 127.0.0.1:3310: not running"; return 0; fi
  echo "haproxy 127.0.0.1:3310: running (pid $pid), writer port $(writer_sql -e 'SELECT @@port' 2>/dev/null || echo none)"
}

cmd_down() {
  local n pid; pid=$(haproxy_pid)
  [[ -z $pid ]] || { echo "==> stopping haproxy"; as_root kill "$pid"; wait_gone "$pid" haproxy; }
  for n in "${nodes[@]}"; do cmd_kill "$n"; done
  echo "==> Galera is down (datadirs kept in $lib)"
}

node_arg() { [[ ${1:-} =~ ^[123]$ ]] || die "usage: $0 $2 1|2|3"; }
case ${1:-up} in
  up) cmd_up ;;
  kill) node_arg "${2:-}" kill; cmd_kill "$2" ;;
  start) node_arg "${2:-}" start; cmd_start "$2" ;;
  status) cmd_status ;;
  down) cmd_down ;;
  *) die "usage: $0 [up|kill N|start N|status|down]" ;;
esac
