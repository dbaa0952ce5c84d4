#!/usr/bin/env bash
# Runs each libFuzzer target in fuzz/ for a bounded time, as many at once as
# there are cores, and prints, per target, the executions and crashes. Usage:
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
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
secs="${1:-20}"
shift || true
case "$secs" in ''|*[!0-9]*) log "SECONDS_PER_TARGET must be a number, not '$secs'"; exit 2 ;; esac
# Targets run side by side, one per core (IDFLOW_FUZZ_JOBS overrides): each
# still gets a whole core for its SECONDS_PER_TARGET, so it makes as many
# executions as it would alone, and the run takes a fraction of the time.
jobs="${IDFLOW_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}"
case "$jobs" in ''|*[!0-9]*|0) log "IDFLOW_FUZZ_JOBS must be a positive number, not '$jobs'"; exit 2 ;; esac

# cargo-fuzz compiles every crate of an optimised build as one codegen unit
# (so that nothing stops inlining across the sanitizer's instrumentation),
# which leaves one of two cores idle while the largest crates (idflow itself,
# rustls, redis, reqwest) compile one after the other at the end of the build.
# 16 units, as cargo-fuzz suggests for faster builds, suit the short runs of
# the test command; IDFLOW_FUZZ_CGU=1 gives the fastest executions for long
# runs.
cgu="${IDFLOW_FUZZ_CGU:-16}"
case "$cgu" in ''|*[!0-9]*|0) log "IDFLOW_FUZZ_CGU must be a positive number, not '$cgu'"; exit 2 ;; esac
# Optimisation level of that build (cargo's profile.release.opt-level, read
# by both `fuzz build` and `fuzz run`, so the run finds the build current).
# Level 1 builds a third faster than cargo's 3 (269 s against 408 s from
# scratch on two cores: every dependency is built with the sanitizer) and runs
# at 63-96 % of its executions per second: right for the short runs of the
# test command. IDFLOW_FUZZ_OPT=3 (with IDFLOW_FUZZ_CGU=1) for long runs.
opt="${IDFLOW_FUZZ_OPT:-1}"
case "$opt" in 0|1|2|3|s|z) ;; *) log "IDFLOW_FUZZ_OPT must be 0-3, s or z, not '$opt'"; exit 2 ;; esac
export CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt"

toolchain="$(bash "$scripts/setup-fuzz.sh" | tail -n 1)"
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
fuzz build -O --codegen-units "$cgu" >&2

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# run_target T: fuzzes T for $secs seconds (built above: `fuzz run` only
# checks that the binary is current) and writes its table row to $work/T.row;
# the row says FAILED on a non-zero exit or a new crashing input.
run_target() {
  local t="$1" log="$work/$1.log" status=0 before after execs rate crashes result
  local seeds=()
  mkdir -p "corpus/$t" "artifacts/$t"
  [ -d "seeds/$t" ] && seeds=("seeds/$t")
  before=$(find "artifacts/$t" -type f | wc -l)
  fuzz run -O --codegen-units "$cgu" "$t" "corpus/$t" "${seeds[@]}" -- \
    -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    >"$log" 2>&1 || status=$?
  after=$(find "artifacts/$t" -type f | wc -l)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  crashes=$((after - before))
  result=ok
  if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    result="FAILED (exit $status)"
    grep -E 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -20 >&2 || true
  fi
  printf '%-16s %12s %10s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "$crashes" "$result" >"$work/$t.row"
}

running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_target "$t" &
  running=$((running + 1))
done
wait

failed=0
printf '%-16s %12s %10s %8s %s\n' target executions exec/s crashes result
for t in "${targets[@]}"; do
  if [ -f "$work/$t.row" ]; then
    cat "$work/$t.row"
    grep -q ' ok$' "$work/$t.row" || failed=1
  else
    printf '%-16s %12s %10s %8s %s\n' "$t" '?' '?' '?' "FAILED (no result)"
    failed=1
  fi
done
exit "$failed"
