#!/usr/bin/env bash
# Makes an older Linux to run idflow's packages on, idempotently: a Debian 11
# (bullseye: glibc 2.31, Python 3.9, OpenJDK 17) chroot made with debootstrap,
# with a Python 3.9 venv holding the Python suite's tools (pytest 9 needs
# Python 3.10, so 3.9 gets pytest 8.4, the last release for it). The chroot
# shares the host's network, so it reaches servers on the host's 127.0.0.1.
# Fast when everything is there. Prints the chroot's path on the last line of
# stdout; inside it, the venv is /opt/idflow-py39.
set -euo pipefail
ROOT="${IDFLOW_OLDLINUX_ROOT:-/var/lib/idflow/oldlinux-bullseye}"
MIRROR="${IDFLOW_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
VENV=/opt/idflow-py39
pins=(pytest==8.4.2 msal==1.39.0 msal-extensions==1.3.1)

log() { echo "setup-oldlinux: $*" >&2; }

mount_proc() { mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"; }
# Name resolution (localhost too) and the host's certificate authorities (pip
# reaches PyPI through whatever the host trusts).
host_files() {
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  cp /etc/hosts "$ROOT/etc/hosts"
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    mkdir -p "$ROOT/etc/ssl/certs"
    cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
  fi
}
in_root() { chroot "$ROOT" env -i HOME=/root LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin "$@"; }

if [ -f "$ROOT/.idflow-ready" ] && [ -x "$ROOT/usr/bin/python3" ] && [ -x "$ROOT/usr/bin/java" ]; then
  log "Debian 11 already in $ROOT"
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
    log "debootstrap bullseye into $ROOT"
    debootstrap --variant=minbase bullseye "$ROOT" "$MIRROR" >&2
    touch "$ROOT/.idflow-base"
  fi
  host_files
  mount_proc
  log "installing python3, python3-venv and openjdk-17-jre-headless in the chroot"
  in_root bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends python3 python3-venv python3-pip openjdk-17-jre-headless ca-certificates \
    && apt-get clean' >&2
  host_files
  touch "$ROOT/.idflow-ready"
fi
host_files
mount_proc
# The distributed-cache tests start their own redis-server. Installed with
# service starts refused (policy-rc.d), so no daemon runs in the chroot.
if [ ! -x "$ROOT/usr/bin/redis-server" ]; then
  log "installing redis-server in the chroot"
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
  chmod +x "$ROOT/usr/sbin/policy-rc.d"
  in_root bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends redis-server && apt-get clean' >&2
fi

have_pins() {
  in_root "$VENV/bin/python" - "${pins[@]}" <<'PY'
import sys
from importlib import metadata
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        if metadata.version(name) != want:
            sys.exit(1)
    except metadata.PackageNotFoundError:
        sys.exit(1)
PY
}
if [ ! -x "$ROOT$VENV/bin/python" ] || ! have_pins 2>/dev/null; then
  log "creating $VENV in the chroot with ${pins[*]}"
  in_root python3 -m venv "$VENV" >&2
  in_root "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}" >&2
  have_pins || { log "pins not satisfied after pip install"; exit 1; }
fi
log "$(in_root ldd --version | head -n 1); $(in_root python3 --version); $(in_root java -version 2>&1 | head -n 1)"
echo "$ROOT"
