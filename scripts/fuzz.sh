#!/usr/bin/env bash
# Runs each libFuzzer target in fuzz/ for a bounded time and prints, per
# target, the executions and crashes. Usage:
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]    (default 20 s, every target)
#
# Needs cargo-fuzz and nightly, or stable with RUSTC_BOOTSTRAP=1 (scripts/setup-fuzz.sh
# installs cargo-fuzz and picks the toolchain). The
# corpus grows in fuzz/corpus/<target>/ (not committed), seeded from
# fuzz/seeds/<target>/; a crashing input lands in fuzz/artifacts/<target>/
# and makes the script exit non-zero after every target has run (reproduce
# it with `cargo +nightly fuzz run -O <target> <file>` in fuzz/).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
secs="${1:-20}"
shift || true
case "$secs" in ''|*[!0-9]*) echo "fuzz.sh: SECONDS_PER_TARGET must be a number, not '$secs'" >&2; exit 2 ;; esac

toolchain="$(bash "$repo/scripts/setup-fuzz.sh" | tail -n 1)"
fuzz() {
  if [ "$toolchain" = nightly ]; then
    cargo +nightly fuzz "$@"
  else
    RUSTC_BOOTSTRAP=1 cargo +stable fuzz "$@"
  fi
}
cd "$repo/fuzz"
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(fuzz list)
fi
fuzz build -O >&2

failed=0
printf '%-16s %12s %10s %8s %s\n' target executions exec/s crashes result
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  seeds=()
  [ -d "seeds/$t" ] && seeds=("seeds/$t")
  log="$(mktemp)"
  before=$(find "artifacts/$t" -type f | wc -l)
  status=0
  fuzz run -O "$t" "corpus/$t" "${seeds[@]}" -- \
    -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    >"$log" 2>&1 || status=$?
  after=$(find "artifacts/$t" -type f | wc -l)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  crashes=$((after - before))
  result=ok
  if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    result="FAILED (exit $status)"
    failed=1
    grep -E 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -20 >&2 || true
  fi
  printf '%-16s %12s %10s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "$crashes" "$result"
  rm -f "$log"
done
exit "$failed"
