#!/usr/bin/env bash
# Makes sure redis-server and redis-cli are installed (Debian's packages
# `redis-server` and `redis-tools`): the distributed token cache's tests
# (testing/tests/redis_cache.rs) start their own servers and a 3-node Redis
# Cluster on free loopback ports with them. Idempotent: does nothing when both
# are on PATH. Debian's package may start a system service on port 6379; the
# tests never use it.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "redis-server not found; install it (Debian/Ubuntu: apt-get install redis-server)"
    exit 1
  fi
  log "installing redis-server"
  # The package lists may be missing on a fresh machine: fetch them once, then retry.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null 2>&1; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >&2
  fi
fi
redis-server --version | sed -n 's/^Redis server v=\([^ ]*\).*/redis-server \1/p' >&2
