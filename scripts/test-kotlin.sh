#!/usr/bin/env bash
# Runs the Kotlin suite (JUnit 5 via Surefire) against build/ from
# scripts/build-native.sh: the generated dev.idflow code, the native library,
# and testdata/vectors.json. Prints Surefire's summary; exits non-zero on failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
lib="$repo/build/lib"
gen="$repo/build/generated/kotlin"
if [ ! -f "$lib/libidflow_ffi.so" ] || [ ! -d "$gen/dev/idflow" ]; then
  echo "test-kotlin: build/ is missing; run scripts/build-native.sh first" >&2
  exit 1
fi

bash "$repo/scripts/setup-kotlin.sh" >&2

cd "$repo/kotlin"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
mvn -B -Dstyle.color=never test \
  -Djna.library.path="$lib" \
  -Didflow.generated="$gen" \
  -Didflow.vectors="$repo/testdata/vectors.json" \
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
