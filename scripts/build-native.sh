#!/usr/bin/env bash
# Builds the one native library and generates the Swift, Kotlin and Python
# bindings from it (library mode: the names come from bindings/uniffi.toml).
# Output, all under build/ (never committed):
#   build/lib/libidflow_ffi.so
#   build/generated/{swift,kotlin,python}/
# PROFILE=release builds optimised; the default (dev) shares artifacts with `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE="${PROFILE:-dev}"
dir=debug; [ "$PROFILE" = release ] && dir=release
target="${CARGO_TARGET_DIR:-target}"

cargo build --profile "$PROFILE" -p idflow-ffi -p uniffi-bindgen >&2
so="$target/$dir/libidflow_ffi.so"
rm -rf build/generated build/lib
mkdir -p build/lib build/generated
cp "$so" build/lib/
for lang in swift kotlin python; do
  "$target/$dir/uniffi-bindgen" generate "$so" --language "$lang" \
    --out-dir "build/generated/$lang" --no-format >/dev/null
done
echo "native library and bindings in build/" >&2
