#!/usr/bin/env bash
# Builds idflow's Python wheel with maturin (release profile) into build/wheels/
# and prints the wheel's path on the last line of stdout.
#
# The wheel holds the hand-written facade (python/idflow/*.py), its type stubs
# (*.pyi, py.typed) and an `idflow._native` package: uniffi's generated module
# plus libidflow_ffi.so. maturin generates that module by running the
# workspace's uniffi-bindgen binary (a small separate crate, so its dev build
# is quick and shared with scripts/build-native.sh); the library itself is the
# release build that `cargo build --release -p idflow-ffi` also makes.
#
# Install it anywhere with `pip install build/wheels/idflow-*.whl`.
# Environment: IDFLOW_VENV (the venv holding maturin; default <repo>/.venv).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="$(bash "$repo/scripts/setup-python.sh" | tail -n 1)"
out="$repo/build/wheels"
mkdir -p "$out"
rm -f "$out"/idflow-*.whl

cd "$repo/python"
"$venv/bin/maturin" build --release --out "$out" >&2
wheel="$(ls "$out"/idflow-*.whl)"
echo "build-wheel: $(basename "$wheel") ($(du -h "$wheel" | cut -f1))" >&2
echo "$wheel"
