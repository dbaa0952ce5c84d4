#!/usr/bin/env bash
# Makes sure ShellCheck is installed (Debian's package `shellcheck`): the test
# command checks every script in scripts/ and .ci/run with it. Idempotent: does
# nothing when it is already on PATH.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

if ! command -v shellcheck >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "shellcheck not found; install it (Debian/Ubuntu: apt-get install shellcheck)"
    exit 1
  fi
  log "installing shellcheck"
  # The package lists may be missing on a fresh machine: fetch them once, then retry.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >&2
  fi
fi
shellcheck --version | sed -n 's/^version: /shellcheck /p' >&2
