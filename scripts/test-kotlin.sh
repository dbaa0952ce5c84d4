#!/usr/bin/env bash
# Runs the Kotlin suite (JUnit 5 via Surefire) against build/ from
# scripts/build-native.sh: the generated dev.idflow.ffi code, the native library,
# and testdata/vectors.json. Prints Surefire's summary; exits non-zero on failure.
# The flow tests need the emulator and node-oidc-provider: without
# IDFLOW_EMULATOR_URL the script re-runs itself under scripts/with-servers.sh,
# which starts both and exports IDFLOW_EMULATOR_URL, IDFLOW_OIDC_INFO and
# IDFLOW_OIDC_ISSUER. They reach the tests both as environment variables and
# as system properties (idflow.emulator.url, idflow.oidc.info, idflow.oidc.issuer).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
if [ -z "${IDFLOW_EMULATOR_URL:-}" ]; then
  rerun_with_servers "$@"
fi
require_native kotlin/dev/idflow/ffi || exit 1
lib="$build/lib"
gen="$build/generated/kotlin"

bash "$scripts/setup-kotlin.sh" >&2

cd "$repo/kotlin"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
# clean: Kotlin's incremental compile keeps test classes built against an
# older generated API (a changed constructor then fails at run time).
mvn -B -Dstyle.color=never clean test \
  -Djna.library.path="$lib" \
  -Didflow.generated="$gen" \
  -Didflow.vectors="$repo/testdata/vectors.json" \
  -Didflow.emulator.url="$IDFLOW_EMULATOR_URL" \
  -Didflow.oidc.info="${IDFLOW_OIDC_INFO:-}" \
  -Didflow.oidc.issuer="${IDFLOW_OIDC_ISSUER:-}" \
  >"$log" 2>&1 || status=$?

if [ "$status" -ne 0 ]; then
  # Show what failed: compiler errors and test failures, not Maven's download noise.
  grep -E '^\[(ERROR|WARNING)\]|FAIL|Tests run:|expected|AssertionFailed' "$log" | head -200 >&2 || true
fi
# Surefire's overall summary (per-class lines carry "Time elapsed").
summary="$(grep -E '^\[(INFO|ERROR|WARNING)\] Tests run: [0-9]+, Failures: [0-9]+' "$log" | grep -v 'Time elapsed' | tail -1 | sed -E 's/^\[[A-Z]+\] //')"
if [ -n "$summary" ]; then
  echo "$summary"
else
  tail -40 "$log" >&2
fi
exit "$status"
