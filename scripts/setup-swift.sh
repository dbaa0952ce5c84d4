#!/usr/bin/env bash
# Installs Swift (Debian 13's swiftlang) in a Debian 13 chroot, idempotently.
# The host stays on Debian 12: installing swiftlang there would upgrade libc6.
# Prints the chroot's path on the last line of stdout.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
ROOT="${IDFLOW_SWIFT_ROOT:-/var/lib/idflow/swift-trixie}"
MIRROR="${IDFLOW_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# /usr/bin/swift is a link into /usr/libexec inside the chroot: test it from there.
if [ -f "$ROOT/.idflow-ready" ] && chroot "$ROOT" test -x /usr/bin/swift 2>/dev/null; then
  log "Swift already installed in $ROOT"
else
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
  fi
  if [ ! -f "$ROOT/.idflow-base" ]; then
    if mountpoint -q "$ROOT/proc" 2>/dev/null; then umount "$ROOT/proc"; fi
    rm -rf "$ROOT"
    mkdir -p "$ROOT"
    log "debootstrap trixie into $ROOT"
    debootstrap --variant=minbase trixie "$ROOT" "$MIRROR" >&2
    touch "$ROOT/.idflow-base"
  fi
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
  log "installing swiftlang in the chroot"
  chroot "$ROOT" bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq swiftlang && apt-get clean' >&2
  touch "$ROOT/.idflow-ready"
fi
mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
chroot "$ROOT" swift --version >&2
echo "$ROOT"
