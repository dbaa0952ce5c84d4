#!/usr/bin/env bash
# Runs the Python suite (pytest) against the native library in build/.
# Expects scripts/build-native.sh to have run (the top-level test command runs
# it once first). Sets up the venv (scripts/setup-python.sh), copies the
# generated module and the .so next to the hand-written facade
# (python/idflow/_native.py, python/idflow/libidflow_ffi.so), checks the type
# stubs (idflow/*.pyi) with `mypy --strict` (a name declared twice, an
# incomplete type) and against the runtime with mypy's stubtest (allowed
# differences in python/stubtest-allowlist.txt), and runs pytest.
# Extra arguments go to pytest. Exits non-zero on any failure, and also when
# pytest ran no test (its exit code 5).
#
# The application tests need the emulator and the OpenID provider: when
# IDFLOW_EMULATOR_URL is unset, the script re-runs itself under
# scripts/with-servers.sh (which starts both and exports their addresses).
set -euo pipefail
scripts="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$scripts")"

if [ -z "${IDFLOW_EMULATOR_URL:-}" ] || [ -z "${IDFLOW_OIDC_INFO:-}" ]; then
  exec bash "$scripts/with-servers.sh" bash "$scripts/test-python.sh" "$@"
fi
gen="$repo/build/generated/python/idflow.py"
so="$repo/build/lib/libidflow_ffi.so"
pkg="$repo/python/idflow"

for f in "$gen" "$so"; do
  [ -f "$f" ] || { echo "test-python: $f is missing; run scripts/build-native.sh first" >&2; exit 1; }
done

venv="$(bash "$scripts/setup-python.sh" | tail -n 1)"

# Copy then rename, so a process that has the old .so mapped never sees it change.
install_file() {
  cp "$1" "$2.tmp.$$"
  mv -f "$2.tmp.$$" "$2"
}
install_file "$gen" "$pkg/_native.py"
install_file "$so" "$pkg/$(basename "$so")"

cd "$repo/python"
"$venv/bin/python" -m mypy --strict --config-file pyproject.toml idflow/*.pyi
"$venv/bin/python" -m mypy.stubtest --concise --mypy-config-file pyproject.toml \
  --allowlist stubtest-allowlist.txt idflow
set +e
"$venv/bin/python" -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "test-python: pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
