#!/usr/bin/env bash
# Entrypoint of the MySQL stand-in (MariaDB). Like the official image's: on
# an empty data folder it initialises the server with no network, creates
# MYSQL_DATABASE and MYSQL_USER (password from MYSQL_PASSWORD or
# MYSQL_PASSWORD_FILE) with all rights on that database, sets the root
# password (MYSQL_ROOT_PASSWORD[_FILE], or a random one printed once with
# MYSQL_RANDOM_ROOT_PASSWORD), then runs the server as PID 1.
set -euo pipefail

if [[ ${1:-} == -* ]]; then set -- mysqld "$@"; fi
if [[ ${1:-} != mysqld && ${1:-} != mariadbd ]]; then exec "$@"; fi
shift

# VAR or VAR_FILE, never both.
file_env() {
  local var=$1 file_var="${1}_FILE"
  if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
    echo "error: both $var and $file_var are set" >&2
    exit 1
  fi
  if [[ -n ${!file_var:-} ]]; then
    printf -v "$var" '%s' "$(<"${!file_var}")"
  fi
}
sql_string() { local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\\\'}"; }
# shellcheck disable=SC2016 # the backquotes are SQL's, not the shell's
sql_name() { printf '`%s`' "${1//\`/\`\`}"; }

datadir=/var/lib/mysql
mkdir -p /run/mysqld
chown mysql:mysql "$datadir" /run/mysqld

if [[ ! -d $datadir/mysql ]]; then
  file_env MYSQL_ROOT_PASSWORD
  file_env MYSQL_PASSWORD
  if [[ -z ${MYSQL_ROOT_PASSWORD:-} && ${MYSQL_RANDOM_ROOT_PASSWORD:-} != yes && ${MYSQL_ALLOW_EMPTY_PASSWORD:-} != yes ]]; then
    echo "error: set MYSQL_ROOT_PASSWORD, MYSQL_RANDOM_ROOT_PASSWORD=yes or MYSQL_ALLOW_EMPTY_PASSWORD=yes" >&2
    exit 1
  fi
  if [[ ${MYSQL_RANDOM_ROOT_PASSWORD:-} == yes ]]; then
    MYSQL_ROOT_PASSWORD=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    echo "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
  fi
  echo "stand-in entrypoint: initialising the database (no network until done)"
  mariadb-install-db --user=mysql --datadir="$datadir" --auth-root-authentication-method=normal \
    --skip-test-db >/dev/null
  socket=/run/mysqld/init.sock
  mariadbd --user=mysql --datadir="$datadir" --skip-networking --socket="$socket" "$@" &
  pid=$!
  for _ in $(seq 1 60); do
    mariadb --protocol=socket --socket="$socket" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 1
  done
  {
    echo "DROP USER IF EXISTS ''@'localhost', ''@'$(hostname)', 'root'@'$(hostname)';"
    if [[ -n ${MYSQL_DATABASE:-} ]]; then
      echo "CREATE DATABASE IF NOT EXISTS $(sql_name "$MYSQL_DATABASE");"
    fi
    if [[ -n ${MYSQL_USER:-} && -n ${MYSQL_PASSWORD:-} ]]; then
      echo "CREATE USER $(sql_string "$MYSQL_USER")@'%' IDENTIFIED BY $(sql_string "$MYSQL_PASSWORD");"
      if [[ -n ${MYSQL_DATABASE:-} ]]; then
        echo "GRANT ALL ON $(sql_name "$MYSQL_DATABASE").* TO $(sql_string "$MYSQL_USER")@'%';"
      fi
    fi
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(sql_string "${MYSQL_ROOT_PASSWORD:-}");"
    echo "FLUSH PRIVILEGES;"
  } | mariadb --protocol=socket --socket="$socket" -uroot
  kill "$pid"
  wait "$pid" || true
  echo "stand-in entrypoint: initialised; starting the server"
fi

exec mariadbd --user=mysql --datadir="$datadir" "$@"
