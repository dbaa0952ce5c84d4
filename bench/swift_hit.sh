#!/usr/bin/env bash
# The per-call cost of a silent cache hit through the Swift binding vs the same call in Rust,
# both release builds, the same cache (N users, default 10,000), medians, one run:
#   1. builds the release native library and bindings (unless SKIP_BUILD=1),
#   2. runs the Rust side (bench/silent_hit.rs), which also writes the cache file,
#   3. builds swift/Bench (release) in the Swift chroot, as scripts/test-swift.sh does, and runs it,
#   4. prints each figure and the ratios Swift / Rust.
# Usage: bash bench/swift_hit.sh [USERS]
# Environment: IDFLOW_SWIFT_BENCH_WORK, the work dir inside the chroot (default /opt/idflow-swift-bench).
set -euo pipefail
# shellcheck source=../scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"
cd "$repo"
users="${1:-10000}"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  PROFILE=release bash scripts/build-native.sh
fi
require_native swift/IdFlow.swift swift/IdFlowFFI.h swift/IdFlowFFI.modulemap || exit 2

cache_file="$(mktemp /tmp/idflow-hit-cache.XXXXXX)"
out="$(mktemp)"
trap 'rm -f "$cache_file" "$out"' EXIT
cargo run -q --release -p idflow-testing --example silent_hit_bench -- "$users" "$cache_file" | tee "$out"

gen="$build/generated/swift"
copy_if_changed "$gen/IdFlow.swift" swift/Sources/IdFlow/IdFlow.swift
copy_if_changed "$gen/IdFlowFFI.h" swift/Sources/IdFlowFFI/IdFlowFFI.h
copy_if_changed "$gen/IdFlowFFI.modulemap" swift/Sources/IdFlowFFI/module.modulemap

ROOT="$(swift_root)"
[ -d "$ROOT" ] || { log "setup-swift.sh gave no chroot ('$ROOT')"; exit 2; }
work="${IDFLOW_SWIFT_BENCH_WORK:-/opt/idflow-swift-bench}"
host_work="$ROOT$work"
mkdir -p "$host_work/swift" "$host_work/lib"
exec 9>"$host_work/.lock"
flock 9
(cd swift && find Package.swift Sources Bench/Package.swift Bench/Sources -type f) |
  while IFS= read -r f; do copy_if_changed "swift/$f" "$host_work/swift/$f"; done
copy_if_changed "$build/lib/libidflow_ffi.so" "$host_work/lib/libidflow_ffi.so"

# The cache file is under the host's /tmp: the same path inside.
mkdir -p "$ROOT/tmp"
mountpoint -q "$ROOT/tmp" && umount "$ROOT/tmp"
mount --bind /tmp "$ROOT/tmp"
trap 'rm -f "$cache_file" "$out"; umount "$ROOT/tmp"' EXIT
# shellcheck disable=SC2016 # $1.. are expanded by the shell inside the chroot
chroot "$ROOT" env -i HOME=/root LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin bash -c '
  set -e
  cd "$1/swift/Bench"
  swift build -c release -Xlinker -L"$1/lib" -Xlinker -rpath -Xlinker "$1/lib" >&2
  .build/release/HitBench "$2" "$3"' _ "$work" "$cache_file" "$users" | tee -a "$out"

awk '{ v[$1] = $2 }
  END {
    printf "ratio swift acquireTokenSilent / rust acquire_token_silent: %.2f\n", v["swift_acquire_token_silent"] / v["rust_acquire_token_silent"]
    printf "ratio swift acquireTokenSilent from the main actor / rust acquire_token_silent: %.2f\n", v["swift_acquire_token_silent_main_actor"] / v["rust_acquire_token_silent"]
    printf "ratio swift acquireTokenSilent(lookup:) / rust cached_token: %.2f\n", v["swift_acquire_token_silent_lookup"] / v["rust_cached_token"]
    printf "ratio swift CachedTokenLookup.cachedToken() / rust cached_token: %.2f\n", v["swift_cached_token_lookup"] / v["rust_cached_token"]
  }' "$out"
