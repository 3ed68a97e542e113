#!/usr/bin/env bash
# Installs everything the tests and benchmarks need on a fresh Debian machine:
# Chromium (the /docs browser test), openssl (self-signed certificates in the TLS tests),
# wrk and h2load (benchmarks), redis-server (the Redis backbone tests start their own), npm packages.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v openssl >/dev/null || need+=(openssl)
command -v wrk >/dev/null || need+=(wrk)
command -v h2load >/dev/null || need+=(nghttp2-client)
command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi
# Not `npm ci`: the lock cannot list msgpackr-extract's macOS/Windows builds (the registry
# this runs against does not serve them), and `npm ci` refuses a lock missing optional
# packages. `npm install` still installs exactly the locked versions.
npm install --no-fund --no-audit
