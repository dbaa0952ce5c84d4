#!/usr/bin/env bash
# Runs the Swift package's XCTest suite against build/ (run scripts/build-native.sh first).
#
# Swift lives only in a Debian 13 chroot (scripts/setup-swift.sh). This script:
#   1. copies the generated Swift, header and module map into swift/ (git-ignored there),
#   2. syncs the package, libidflow_ffi.so and testdata into a work dir inside the chroot,
#      copying only files whose content changed so SwiftPM's .build stays warm,
#   3. runs `swift test` there and prints XCTest's summary line; exits non-zero on any failure.
#
# Environment:
#   IDFLOW_SWIFT_WORK   work dir, as seen inside the chroot (default /opt/idflow-swift)
#   IDFLOW_SWIFT_CLEAN  set to 1 to delete .build first (a cold build)
#   IDFLOW_SWIFT_ROOT   the chroot (read by setup-swift.sh)
#   IDFLOW_EMULATOR_URL, IDFLOW_OIDC_INFO, IDFLOW_OIDC_ISSUER, IDFLOW_PROXY_INFO
#                       the test servers (FlowTests). When IDFLOW_EMULATOR_URL is unset, the
#                       script re-runs itself under scripts/with-servers.sh, which starts them
#                       on 127.0.0.1 (the chroot shares the host's network) and sets all three.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$repo"

if [ -z "${IDFLOW_EMULATOR_URL:-}" ]; then
  rerun_with_servers "$@"
fi
require_native swift/IdFlow.swift swift/IdFlowFFI.h swift/IdFlowFFI.modulemap || exit 2
gen="$build/generated/swift"
so="$build/lib/libidflow_ffi.so"

# 1. Generated files into the in-tree package.
copy_if_changed "$gen/IdFlow.swift" swift/Sources/IdFlow/IdFlow.swift
copy_if_changed "$gen/IdFlowFFI.h" swift/Sources/IdFlowFFI/IdFlowFFI.h
copy_if_changed "$gen/IdFlowFFI.modulemap" swift/Sources/IdFlowFFI/module.modulemap

# 2. Sync into the chroot.
ROOT="$(swift_root)"
[ -d "$ROOT" ] || { log "setup-swift.sh gave no chroot ('$ROOT')"; exit 2; }
work="${IDFLOW_SWIFT_WORK:-/opt/idflow-swift}"
host_work="$ROOT$work"
mkdir -p "$host_work/pkg" "$host_work/lib" "$host_work/testdata"

# One run at a time per work dir.
exec 9>"$host_work/.lock"
flock 9

if [ "${IDFLOW_SWIFT_CLEAN:-0}" = 1 ]; then
  log "removing $work/pkg/.build (cold build)"
  rm -rf "$host_work/pkg/.build"
fi

wanted="$(mktemp)"
trap 'rm -f "$wanted"' EXIT
(cd swift && find Package.swift Sources Tests -type f | sort) >"$wanted"
while IFS= read -r f; do
  copy_if_changed "swift/$f" "$host_work/pkg/$f"
done <"$wanted"
# Drop files that no longer exist in the package (renamed sources or tests).
(cd "$host_work/pkg" && find Sources Tests -type f | sort) |
  comm -13 "$wanted" - | while IFS= read -r stale; do
    log "removing stale $stale"
    rm -f "$host_work/pkg/$stale"
  done
copy_if_changed "$so" "$host_work/lib/libidflow_ffi.so"
copy_if_changed testdata/vectors.json "$host_work/testdata/vectors.json"
copy_if_changed testdata/corpus.json "$host_work/testdata/corpus.json"
copy_if_changed testdata/www_authenticate.json "$host_work/testdata/www_authenticate.json"

# 3. Test. The host's /tmp at the same path inside: the emulator's Azure Arc
# key files live there (the managed identity tests read them).
mkdir -p "$ROOT/tmp"
mountpoint -q "$ROOT/tmp" && umount "$ROOT/tmp"
mount --bind /tmp "$ROOT/tmp"
trap 'rm -f "$wanted"; umount "$ROOT/tmp"' EXIT
log "swift test in $ROOT$work/pkg"
out="$host_work/last-run.log"
set +e
# A clean environment: host paths (HOME, TMPDIR, ...) may not exist inside the chroot.
# shellcheck disable=SC2016 # $1 is expanded by the shell inside the chroot
chroot "$ROOT" env -i HOME=/root LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  ${RUST_BACKTRACE:+RUST_BACKTRACE="$RUST_BACKTRACE"} \
  IDFLOW_VECTORS="$work/testdata/vectors.json" \
  IDFLOW_EMULATOR_URL="${IDFLOW_EMULATOR_URL:-}" \
  IDFLOW_OIDC_INFO="${IDFLOW_OIDC_INFO:-}" \
  IDFLOW_OIDC_ISSUER="${IDFLOW_OIDC_ISSUER:-}" \
  IDFLOW_PROXY_INFO="${IDFLOW_PROXY_INFO:-}" bash -c '
  cd "$1/pkg" && swift test \
    -Xlinker -L"$1/lib" -Xlinker -rpath -Xlinker "$1/lib"' _ "$work" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e

summary="$(grep -E '^[[:space:]]*Executed [0-9]+ tests?, with [0-9]+ failures?' "$out" | tail -n 1 || true)"
echo
if [ -z "$summary" ]; then
  log "no XCTest summary (build failed?); exit status $status"
  exit $(( status == 0 ? 1 : status ))
fi
grep -E '^IdFlow (vectors|corpus): ' "$out" | tail -n 2 || true
echo "Swift: ${summary#"${summary%%[![:space:]]*}"}"
if [ "$status" -ne 0 ] || ! grep -qE 'with 0 failures' <<<"$summary"; then
  log "FAILED (exit status $status)"
  exit $(( status == 0 ? 1 : status ))
fi
