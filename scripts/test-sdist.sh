#!/usr/bin/env bash
# Checks the source distribution, the path for platforms without a wheel
# (macOS, Windows, other architectures, musl): `maturin sdist` makes
# build/sdist/idflow-<version>.tar.gz, and `pip install idflow-*.tar.gz` in a
# fresh venv builds it from source with the Rust toolchain (maturin comes from
# PyPI through pip's build isolation) and installs it; the installed package
# then imports and answers a call through the native core.
#
# Building from source needs nothing but Rust and a C compiler: the archive
# carries the bindgen crate (uniffi-bindgen, a build dependency of idflow-ffi for
# that reason), which maturin runs with `cargo run --bin uniffi-bindgen` to
# generate the Python module. The check runs with a PATH that has no other
# uniffi-bindgen on it, so it proves exactly that.
#
# The from-source compile shares the workspace's target folder with
# scripts/build-native.sh and `cargo test`: pip unpacks the archive into a new
# temporary folder each time, and path crates are keyed by their path, so the
# three crates of the archive (idflow, idflow-ffi, uniffi-bindgen) compile again
# under their own names, but every crates.io dependency is the one the native
# build already compiled (the same dev profile, features and flags: maturin
# builds the same package the same way there), so nothing else compiles twice.
# The archive's own crates are removed afterwards (they can never be reused);
# the library the native build left in the target folder is linked there again
# by its next build. CARGO_PROFILE_DEV_DEBUG=0 applies to those three crates
# only (the workspace's profile already builds dependencies without debug
# info). Exits non-zero on any failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
venv="$(bash scripts/setup-python.sh | tail -n 1)"
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

rm -rf build/sdist
mkdir -p build/sdist
(cd python && "$venv/bin/maturin" sdist --out "$repo/build/sdist") >/dev/null 2>&1 || {
  (cd python && "$venv/bin/maturin" sdist --out "$repo/build/sdist"); exit 1; }
sdist="$(ls build/sdist/idflow-*.tar.gz)"
echo "test-sdist: $(basename "$sdist") ($(du -h "$sdist" | cut -f1), $(tar tzf "$sdist" | wc -l) files)"

work="$(mktemp -d)"
cleanup() {
  # The archive's crates, compiled from a folder that no longer exists:
  # their outputs, fingerprints and build-script folders carry the name of
  # one of the three crates and are newer than the marker made before the
  # build. The workspace's own outputs of the same crates are older.
  find "$target/debug/deps" "$target/debug/.fingerprint" "$target/debug/build" \
    -maxdepth 1 \( -name '*idflow*' -o -name '*uniffi_bindgen*' -o -name 'uniffi-bindgen-*' \) \
    -newer "$work/marker" -prune -exec rm -rf {} + 2>/dev/null || true
  rm -rf "$work"
}
touch "$work/marker"
trap cleanup EXIT
"${PYTHON:-python3}" -m venv "$work/venv"
# PATH without any directory that holds a uniffi-bindgen of its own.
clean_path=""
IFS=: read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  [ -n "$d" ] && [ ! -e "$d/uniffi-bindgen" ] && clean_path="${clean_path:+$clean_path:}$d"
done
start=$SECONDS
if ! PATH="$clean_path" CARGO_TARGET_DIR="$target" CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=0 MATURIN_PEP517_ARGS="--profile dev" \
    "$work/venv/bin/python" -m pip install --disable-pip-version-check "$sdist" >"$work/pip.log" 2>&1; then
  tail -40 "$work/pip.log" >&2
  echo "test-sdist: pip install $(basename "$sdist") failed" >&2
  exit 1
fi
echo "test-sdist: pip install $(basename "$sdist") built and installed it in $((SECONDS - start)) s"

cd "$work"
"$work/venv/bin/python" - <<'PY'
import os
import idflow
where = os.path.dirname(idflow.__file__)
assert "site-packages" in where, where
d = idflow.explain("AADSTS50079")
assert d["kind"] == "interaction_required" and d["action"] == "acquire_interactively", d
print(f"test-sdist: the package built from source imports from {where} and answers through the core")
PY
