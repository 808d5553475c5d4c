#!/usr/bin/env bash
# The service's CSV record reader (api/src/ingest/records.rs: csv-core,
# at most `keep` fields stored, the rest read past) against the csv crate's
# ByteRecord reader (`has_headers(false).flexible(true)`, one reused
# record), on three files:
#   - 1,000,000 ordinary employee rows (`1,Name 1,2021-01-01T00:00:00Z,1,1`);
#   - one record of commas of 8 MiB, the API's default MAX_BODY_BYTES;
#   - one record of commas of 64 MiB, as a historical file could hold.
# Each reader reads each file RUNS times, the two in turn. The reader is
# bench/csv-reader/, a crate of its own that compiles records.rs as it is
# (`#[path]`), with keep = 6 as for employees.
#
#   bench/csv_reader.sh            default: 3 runs
#   RUNS=5 bench/csv_reader.sh
#
# Prints Markdown table rows: records, fields read and fields stored by each
# reader, the median and range of the wall-clock seconds, and the peak RSS
# (the process's VmHWM) of the largest run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${RUNS:-3}
# Its own target directory: this crate is not in the workspace.
export CARGO_TARGET_DIR=$HOME/.cache/csv-reader-target
cargo build --quiet --release --locked --manifest-path bench/csv-reader/Cargo.toml
bin=$CARGO_TARGET_DIR/release/csv-reader-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One record of $1 bytes: commas, then a newline.
commas() { { head -c "$(($1 - 1))" /dev/zero | tr '\0' ,; echo; } >"$2"; }
seq 1 1000000 | awk '{ printf "%d,Name %d,2021-01-01T00:00:00Z,1,1\n", $1, $1 }' >"$work/employees.csv"
commas $((8 << 20)) "$work/commas-8MiB.csv"
commas $((64 << 20)) "$work/commas-64MiB.csv"

now() { date +%s%N; }
echo "| file | MiB | reader | records | fields read | fields stored | seconds (median of $runs) | seconds (range) | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|---|"
for file in employees commas-8MiB commas-64MiB; do
  path=$work/$file.csv
  mib=$(awk -v b="$(stat -c %s "$path")" 'BEGIN { printf "%.1f", b / 1048576 }')
  declare -A secs=() peak=() out=()
  for _ in $(seq 1 "$runs"); do
    for reader in records csv; do
      t0=$(now)
      line=$("$bin" "$reader" "$path")
      t1=$(now)
      secs[$reader]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }') "
      kib=${line##*peak_kib=}
      ((kib > ${peak[$reader]:-0})) && peak[$reader]=$kib
      out[$reader]=$line
    done
  done
  for reader in records csv; do
    name=$([[ $reader == records ]] && echo "ours (records.rs, keep 6)" || echo "csv ByteRecord")
    line=${out[$reader]}
    n=${line#* records=}; n=${n%% *}
    f=${line#* fields=}; f=${f%% *}
    w=${line#* width=}; w=${w%% *}
    # shellcheck disable=SC2086 # the run times, one word each
    stats=$(printf '%s\n' ${secs[$reader]} | sort -n | awk '{ t[NR] = $1 } END {
      printf "%.2f | %.2f–%.2f", t[int((NR + 1) / 2)], t[1], t[NR] }')
    awk -v k="${peak[$reader]}" -v file="$file" -v mib="$mib" -v name="$name" -v n="$n" -v w="$w" -v f="$f" \
      -v s="$stats" 'BEGIN { printf "| %s | %s | %s | %d | %d | %d | %s | %.0f |\n", file, mib, name, n, w, f, s, k / 1024 }'
  done
  unset secs peak out
done
