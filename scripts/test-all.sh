#!/usr/bin/env bash
# The one test command: installs what is missing, builds the native library
# once, and runs every suite (Rust, Swift, Kotlin, Python) and the example
# programs in each language, printing each runner's summary line. Every suite runs even when an earlier one fails; the
# exit status is non-zero if any step failed.
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$repo" || exit 1

declare -a names=() results=() times=()
failed=0
step() {
  local name="$1"; shift
  local start=$SECONDS
  echo
  echo "==> $name"
  if "$@"; then results+=("ok"); else results+=("FAILED"); failed=1; fi
  names+=("$name"); times+=("$((SECONDS - start))s")
}

step "setup: rust"            bash scripts/setup-rust.sh
step "setup: node"            bash scripts/setup-node.sh
step "setup: shellcheck"      bash scripts/setup-shellcheck.sh
step "setup: redis"           bash scripts/setup-redis.sh
step "shellcheck"             shellcheck scripts/*.sh .ci/run
step "rustfmt"                cargo fmt --all --check
step "module layers"          bash scripts/check-layers.sh
step "supply chain"           bash scripts/deny.sh
step "clippy"                 cargo clippy --workspace --all-targets --locked -- -D warnings
step "build native library"   bash scripts/build-native.sh
if [ ! -f build/lib/libidflow_ffi.so ]; then
  echo "the native library did not build; the language suites cannot run" >&2
  exit 1
fi
step "rust tests"             cargo test --workspace --locked
step "swift tests"            bash scripts/test-swift.sh
step "kotlin tests"           bash scripts/test-kotlin.sh
step "python tests"           bash scripts/test-python.sh
step "examples"               bash scripts/test-examples.sh
step "MSAL libraries"         bash scripts/test-msal-libraries.sh
step "python wheel"           bash scripts/test-wheel.sh
step "idflow command wheel"   bash scripts/test-cli-wheel.sh
step "python tests (3.9)"     bash scripts/test-python-oldest.sh
step "old linux (Debian 11)"  bash scripts/test-oldlinux.sh
step "python sdist"           bash scripts/test-sdist.sh
# Separate from the suites: each libFuzzer target for a bounded time
# (cargo-fuzz is installed by the script; IDFLOW_FUZZ_SECS changes the time
# per target).
step "fuzz (bounded)"         bash scripts/fuzz.sh "${IDFLOW_FUZZ_SECS:-20}"

echo
echo "==> summary"
for i in "${!names[@]}"; do
  printf '  %-24s %-7s %s\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"
done
echo "  total: ${SECONDS}s"
exit "$failed"
