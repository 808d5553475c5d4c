# Sourced by the bench scripts: builds the release binaries, makes sure
# MariaDB is up, and sets what every benchmark uses.
# shellcheck shell=bash
# The scripts that source this use these variables:
# shellcheck disable=SC2034
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hiring-target}"
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(100000 1000000)

cargo build --quiet --release -p api --bin api --example generate_data
scripts/ensure-mariadb.sh >/dev/null
api=$CARGO_TARGET_DIR/release/api
gen=$CARGO_TARGET_DIR/release/examples/generate_data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mysql_url=mysql://hiring_test:hiring_test@127.0.0.1:3306
sql() { mariadb -uhiring_test -phiring_test -h127.0.0.1 "$@"; }
# The API's peak RSS in MiB.
peak_rss() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
