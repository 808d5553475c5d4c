#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test of the report pages, when
# it is missing.
set -euo pipefail
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
if ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing chromium (apt)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "==> $(chromium --version 2>/dev/null || echo 'chromium present')"
