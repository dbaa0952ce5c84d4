#!/usr/bin/env bash
# Builds the one native library once, and from that one build everything that
# ships it. Output, all under build/ (never committed):
#   build/lib/libidflow_ffi.so          for the Kotlin jar, the Swift package on
#                                       Linux and the Python suite
#   build/generated/{swift,kotlin,python}/   the bindings (library mode: the
#                                       names come from bindings/uniffi.toml)
#   build/wheels/idflow-*.whl           the Python wheel holding that library
#
# maturin runs the single cargo build of idflow-ffi (and of uniffi-bindgen,
# which generates the wheel's module and the bindings here), so the wheel and
# build/lib hold the same file and nothing is compiled twice. The library is
# linked by zig against glibc 2.17 (scripts/zig-cc.sh, passed to the final
# link only, so the compiled dependencies stay shared with `cargo test`) and
# scripts/check-glibc.sh fails the build if it needs a newer glibc: the wheel is
# tagged manylinux2014 (manylinux_2_17) and the same library goes into the jar.
#
# PROFILE=release builds optimised; the default (dev) shares compiled
# dependencies with `cargo test`. Environment: IDFLOW_VENV (see setup-python.sh).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
PROFILE="${PROFILE:-dev}"
dir=debug; [ "$PROFILE" = release ] && dir=release
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

{ read -r venv; read -r zig; } < <(bash scripts/setup-zig.sh | tail -n 2)
export IDFLOW_ZIG="$zig" IDFLOW_MATURIN="$venv/bin/maturin"

rm -rf build/generated build/lib build/wheels
mkdir -p build/lib build/generated build/wheels
(cd python && "$venv/bin/maturin" build --profile "$PROFILE" --compatibility manylinux2014 \
  --out "$repo/build/wheels" -- -C linker="$repo/scripts/zig-cc.sh") >&2
so="$target/$dir/libidflow_ffi.so"
# The bindgen maturin has just built and run to write the wheel's module (a
# dev build, whatever PROFILE is) writes the other bindings too. Built here
# when it is missing or older than its sources: it rewrites the generated
# Swift's reader (uniffi-bindgen/src/swift_reader.rs), and a binary left from
# an older checkout would not. (Building it anew every time cost a fresh clone
# a minute: `-p uniffi-bindgen` alone compiles its dependencies again, with
# other features.)
bindgen="$target/debug/uniffi-bindgen"
if [ ! -x "$bindgen" ] || [ -n "$(find uniffi-bindgen Cargo.lock -newer "$bindgen" -print -quit)" ]; then
  cargo build -q -p uniffi-bindgen >&2
fi
bash scripts/check-glibc.sh "$so" >&2

cp "$so" build/lib/
for lang in swift kotlin python; do
  "$bindgen" generate build/lib/libidflow_ffi.so --language "$lang" \
    --out-dir "build/generated/$lang" --no-format >/dev/null
done
echo "native library, bindings and wheel in build/ ($(basename build/wheels/idflow-*.whl))" >&2
