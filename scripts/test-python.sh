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
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

servers_up || rerun_with_servers "$@"
require_native python/idflow.py || exit 1
venv="$(python_venv)"
install_python_native

cd "$repo/python"
"$venv/bin/python" -m mypy --strict --config-file pyproject.toml idflow/*.pyi
"$venv/bin/python" -m mypy.stubtest --concise --mypy-config-file pyproject.toml \
  --allowlist stubtest-allowlist.txt idflow
set +e
"$venv/bin/python" -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  log "pytest collected no tests: failing"
  exit 1
fi
exit "$rc"
