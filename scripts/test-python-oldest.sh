#!/usr/bin/env bash
# Runs the Python suite on the oldest Python the package declares
# (requires-python >= 3.9): Debian 11's Python 3.9 in the chroot of
# scripts/setup-oldlinux.sh, against the native library in build/ (glibc 2.17
# floor, so it loads there too), laid out as scripts/test-python.sh lays it
# out. The source tree is bind-mounted read-only at the same path inside the
# chroot; the tests that start the Node.js OpenID provider get the host's
# `node` (it needs glibc 2.28), and the tests that start their own TLS
# emulator the `idflow` command built for the chroot
# (scripts/build-oldlinux-cli.sh, as IDFLOW_CLI). The servers run on the host (the chroot shares
# its network): without IDFLOW_EMULATOR_URL the script re-runs itself under
# scripts/with-servers.sh. Extra arguments go to pytest. Exits non-zero on any
# failure, and also when pytest ran no test.
set -euo pipefail
scripts="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$scripts")"
if [ -z "${IDFLOW_EMULATOR_URL:-}" ] || [ -z "${IDFLOW_OIDC_INFO:-}" ]; then
  exec bash "$scripts/with-servers.sh" bash "$scripts/test-python-oldest.sh" "$@"
fi
gen="$repo/build/generated/python/idflow.py"
so="$repo/build/lib/libidflow_ffi.so"
pkg="$repo/python/idflow"
for f in "$gen" "$so"; do
  [ -f "$f" ] || { echo "test-python-oldest: $f is missing; run scripts/build-native.sh first" >&2; exit 1; }
done
root="$(bash "$scripts/setup-oldlinux.sh" | tail -n 1)"
# The TLS emulator tests start their own `idflow emulator`: the build that runs
# in the chroot (the host's needs a newer glibc), at the same path inside it.
idflow="$(bash "$scripts/build-oldlinux-cli.sh" | tail -n 1)"

# Copy then rename, so a process that has the old file mapped never sees it change.
install_file() {
  cp "$1" "$2.tmp.$$"
  mv -f "$2.tmp.$$" "$2"
}
install_file "$gen" "$pkg/_native.py"
install_file "$so" "$pkg/$(basename "$so")"
node="$(command -v node)"
cmp -s "$node" "$root/usr/local/bin/node" || install_file "$node" "$root/usr/local/bin/node"

# The host's /tmp at the same path: the servers' files live there (the
# proxy's log the proxy tests count, the emulator's Azure Arc key files).
# Mounted first: a checkout under /tmp is then mounted on top of it, not
# hidden by it.
mnt="$root$repo"
tmp="$root/tmp"
mountpoint -q "$mnt" && umount "$mnt"
mountpoint -q "$tmp" && umount "$tmp"
mount --bind /tmp "$tmp"
mkdir -p "$mnt"
mount --bind "$repo" "$mnt"
trap 'umount "$mnt"; umount "$tmp"' EXIT
mount -o remount,bind,ro "$mnt"

set +e
# shellcheck disable=SC2016 # $1 and $@ expand in the chroot's shell
chroot "$root" env -i HOME=/root LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin PYTHONDONTWRITEBYTECODE=1 \
  IDFLOW_EMULATOR_URL="$IDFLOW_EMULATOR_URL" IDFLOW_OIDC_INFO="$IDFLOW_OIDC_INFO" \
  IDFLOW_OIDC_ISSUER="${IDFLOW_OIDC_ISSUER:-}" IDFLOW_PROXY_INFO="${IDFLOW_PROXY_INFO:-}" IDFLOW_CLI="$idflow" \
  bash -c 'cd "$1/python" && shift && exec /opt/idflow-py39/bin/python -m pytest "$@"' _ "$repo" "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "test-python-oldest: pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
