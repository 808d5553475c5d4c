#!/usr/bin/env bash
# Makes the Python virtualenv the interoperability tests use (.venv, git-ignored):
# fastavro with its zstd and snappy codecs. Skips what is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import fastavro, backports.zstd, cramjam, yaml' 2>/dev/null; then
  echo "==> installing fastavro into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check fastavro backports.zstd cramjam pyyaml
fi
echo "==> Python ready: $(.venv/bin/python -c 'import fastavro; print("fastavro", fastavro.__version__)')"
