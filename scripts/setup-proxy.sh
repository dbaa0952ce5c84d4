#!/usr/bin/env bash
# Installs the forward proxy the suites route flows through (tinyproxy, from
# Debian's tinyproxy-bin package: the binary without a system service), when
# it is not installed yet. Idempotent; prints the binary's path on stdout.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

if ! command -v tinyproxy >/dev/null 2>&1; then
  log "installing tinyproxy (apt package tinyproxy-bin)"
  if [ "$(id -u)" -ne 0 ]; then
    log "installing tinyproxy needs root: run 'apt-get install tinyproxy-bin' first"
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tinyproxy-bin >&2 \
    || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tinyproxy-bin >&2; }
fi
command -v tinyproxy
