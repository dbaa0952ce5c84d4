#!/usr/bin/env bash
# Measures the emulator (a benchmark, not a test; figures depend on the
# machine and its load):
#   - start-up: from starting `idflow emulator` to its first answered request
#     (OpenID discovery), plain and --tls, the median of 5 starts;
#   - throughput: client-credentials token requests per second (each signs an
#     RS256 access token) from 16 kept-alive connections for 10 s, plain and
#     --tls, with the emulator on its 2 worker threads.
# IDFLOW_CLI picks the binary (default: the debug build of the test command;
# a release build, `cargo build --release -p idflow-cli`, is what a wheel ships).
# Usage: bench/emulator.sh [SECONDS] [CONCURRENCY]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=../scripts/lib.sh
. "$repo/scripts/lib.sh"
seconds="${1:-10}"
concurrency="${2:-16}"
idflow="${IDFLOW_CLI:-$(build_cli)}"

echo "emulator benchmark: $idflow, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$idflow" <<'PY'
import statistics, subprocess, sys, tempfile, time, os, ssl, urllib.request
idflow = sys.argv[1]
for args in ([], ["--tls"]):
    times = []
    for _ in range(5):
        with tempfile.TemporaryDirectory() as d:
            ca = os.path.join(d, "ca.pem")
            extra = ["--ca-out", ca] if args else []
            t0 = time.perf_counter()
            p = subprocess.Popen([idflow, "emulator", "--port", "0", *args, *extra],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            try:
                base = p.stdout.readline().strip()
                ctx = ssl.create_default_context(cafile=ca) if args else None
                with urllib.request.urlopen(f"{base}/common/v2.0/.well-known/openid-configuration",
                                            context=ctx, timeout=10) as r:
                    assert r.status == 200
                times.append(time.perf_counter() - t0)
            finally:
                p.terminate(); p.wait()
    label = "tls  " if args else "plain"
    print(f"start-up to first answer ({label}): median {statistics.median(times)*1000:.0f} ms "
          f"(min {min(times)*1000:.0f}, max {max(times)*1000:.0f}, n={len(times)})")
PY

work="$(mktemp -d)"
pid=""
# shellcheck disable=SC2317 # run by the trap below
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
for mode in plain tls; do
  args=(--port 0)
  [ "$mode" = tls ] && args+=(--tls --ca-out "$work/ca.pem")
  : >"$work/out"
  "$idflow" emulator "${args[@]}" >"$work/out" 2>/dev/null &
  pid=$!
  base=""
  for _ in $(seq 200); do
    base="$(head -n 1 "$work/out" 2>/dev/null || true)"
    [ -n "$base" ] && break
    sleep 0.05
  done
  [ -n "$base" ] || { echo "the emulator did not start" >&2; exit 1; }
  if [ "$mode" = tls ]; then
    result="$(NODE_EXTRA_CA_CERTS="$work/ca.pem" node "$repo/bench/emulator_load.mjs" "$base" "$seconds" "$concurrency")"
  else
    result="$(node "$repo/bench/emulator_load.mjs" "$base" "$seconds" "$concurrency")"
  fi
  echo "client credentials ($mode, $concurrency connections, ${seconds}s): $result"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done
