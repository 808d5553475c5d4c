#!/usr/bin/env bash
# Makes sure a MariaDB server is installed, running, and has the test user
# the MariaDB tests connect as (mysql://hiring_test:hiring_test@127.0.0.1:3306).
# Installs it with apt when missing; skips every step that is already done.
set -euo pipefail

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

if ! command -v mariadbd >/dev/null 2>&1 && [[ ! -x /usr/sbin/mariadbd ]]; then
  echo "==> installing mariadb-server (apt)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
fi

socket=/run/mysqld/mysqld.sock
if ! as_root mariadb -uroot -e 'SELECT 1' >/dev/null 2>&1; then
  echo "==> starting mariadbd"
  as_root mkdir -p /run/mysqld
  as_root chown mysql:mysql /run/mysqld
  # --pidfile: the Galera test nodes (scripts/galera.sh) run the same
  # binary, and must not pass for this server.
  as_root start-stop-daemon --start --oknodo --background \
    --pidfile /run/mysqld/mysqld.pid --exec /usr/sbin/mariadbd -- --user=mysql
  for _ in $(seq 1 60); do
    [[ -S $socket ]] && as_root mariadb -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 1
  done
  as_root mariadb -uroot -e 'SELECT 1' >/dev/null || { echo "mariadbd did not start" >&2; exit 1; }
fi

# The tests create and drop a database per test, so the user needs those
# rights; and one test makes a user with a password of its own (GRANT OPTION).
as_root mariadb -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'hiring_test'@'127.0.0.1' IDENTIFIED BY 'hiring_test';
CREATE USER IF NOT EXISTS 'hiring_test'@'localhost' IDENTIFIED BY 'hiring_test';
GRANT ALL PRIVILEGES ON *.* TO 'hiring_test'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'hiring_test'@'localhost' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
echo "==> MariaDB is up: mysql://hiring_test:***@127.0.0.1:3306"
