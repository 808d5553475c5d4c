#!/usr/bin/env bash
# Healthy while the proxy has a server to send traffic to: both configs answer
# /healthz on 127.0.0.1:8404 with 200 then, 503 otherwise.
set -euo pipefail
exec 3<>/dev/tcp/127.0.0.1/8404
printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3
read -r _ status _ <&3
[[ $status == 200 ]]
