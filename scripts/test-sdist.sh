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
# The from-source compile is the one build here that cannot share the native
# build's artifacts (pip unpacks the archive into a new temporary folder each
# time, and path crates are keyed by their path): it uses its own target folder,
# <cargo target dir>/sdist, so it never overwrites the library of
# scripts/build-native.sh, and keeps the compiled dependencies there between
# runs (only the two idflow crates compile again; the dev profile, through
# MATURIN_PEP517_ARGS, without debug info, keeps that short). Exits non-zero
# on any failure.
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
sdist_target="$target/sdist"
cleanup() {
  rm -rf "$work"
  # The idflow crates built from the temporary folder can never be reused.
  find "$sdist_target" -maxdepth 3 -name '*idflow*' -prune -exec rm -rf {} + 2>/dev/null || true
}
trap cleanup EXIT
"${PYTHON:-python3}" -m venv "$work/venv"
# PATH without any directory that holds a uniffi-bindgen of its own.
clean_path=""
IFS=: read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  [ -n "$d" ] && [ ! -e "$d/uniffi-bindgen" ] && clean_path="${clean_path:+$clean_path:}$d"
done
start=$SECONDS
if ! PATH="$clean_path" CARGO_TARGET_DIR="$sdist_target" CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=0 MATURIN_PEP517_ARGS="--profile dev" \
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
