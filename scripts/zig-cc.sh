#!/usr/bin/env bash
# The linker rustc uses for what ships (the native library, the idflow CLI):
# `zig cc` targeting glibc 2.17, so the output only needs symbol versions that
# glibc 2.17 (manylinux2014) has. maturin's `zig cc` wrapper adapts rustc's
# linker arguments for zig. scripts/build-native.sh passes it as
# `-C linker=` to the final link only (dependencies stay shared with
# `cargo test`), with IDFLOW_ZIG and IDFLOW_MATURIN set (scripts/setup-zig.sh).
#
# zig treats --strip-debug (the release profile's strip = "debuginfo") as
# stripping the whole symbol table, where uniffi-bindgen reads the library's
# interface: that one argument is done here after the link, with strip.
set -euo pipefail
: "${IDFLOW_ZIG:?zig-cc.sh: IDFLOW_ZIG is unset (run through scripts/build-native.sh)}"
: "${IDFLOW_MATURIN:?zig-cc.sh: IDFLOW_MATURIN is unset (run through scripts/build-native.sh)}"
args=() out="" strip_debug=0 prev=""
for a in "$@"; do
  case "$a" in
    -Wl,--strip-debug) strip_debug=1 ;;
    *) args+=("$a") ;;
  esac
  [ "$prev" = -o ] && out="$a"
  prev="$a"
done
CARGO_ZIGBUILD_ZIG_PATH="$IDFLOW_ZIG" "$IDFLOW_MATURIN" zig cc -- -target x86_64-linux-gnu.2.17 "${args[@]}"
if [ "$strip_debug" = 1 ] && [ -n "$out" ]; then
  strip --strip-debug "$out"
fi
