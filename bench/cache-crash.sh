#!/usr/bin/env bash
# Crash safety of the file-backed token cache: a writer process saves and
# persists tokens one by one and is killed with SIGKILL at a random moment,
# KILLS times over, while a reader process loads the same file in a loop.
# After every kill the file must load and hold every token the writer
# reported as committed (it prints an id only after persist returned).
#
#   bench/cache-crash.sh [KILLS=1000] [MAX_RUN_MS=60]
#
# Prints one summary line; exits 1 at the first lost entry or failed load.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
kills="${1:-1000}"
max_ms="${2:-60}"
cd "$repo"
cargo build --quiet --release -p idflow --example cache_crash
work="$(mktemp -d)"
reader_pid=
trap 'kill "$reader_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
# A private copy: a rebuild during the run must not swap the binary.
cp "$repo/target/release/examples/cache_crash" "$work/"
bin="$work/cache_crash"
cache="$work/cache.json"
: > "$work/committed"

# The reader runs for the whole test; it fails on the first unloadable file.
"$bin" reader "$cache" 100000 > "$work/reader.out" 2> "$work/reader.err" &
reader_pid=$!

start=$(date +%s)
for ((k = 1; k <= kills; k++)); do
  "$bin" writer "$cache" $((k * 1000000)) > "$work/run.out" 2> "$work/run.err" &
  pid=$!
  # A random moment: 1..max_ms ms after start (often mid-write at these rates).
  sleep "$(awk -v r="$RANDOM" -v m="$max_ms" 'BEGIN { printf "%.3f", (1 + r % m) / 1000 }')"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sed -n 's/^committed //p' "$work/run.out" >> "$work/committed"
  if ! kill -0 "$reader_pid" 2>/dev/null; then
    echo "FAIL after $k kills: the reader could not load the file: $(cat "$work/reader.err")"
    exit 1
  fi
  if ! "$bin" verify "$cache" "$work/committed" > "$work/verify.out" 2> "$work/verify.err"; then
    echo "FAIL after $k kills: $(cat "$work/verify.err")"
    exit 1
  fi
done
kill "$reader_pid" 2>/dev/null || true
wait "$reader_pid" 2>/dev/null || true
committed=$(wc -l < "$work/committed")
leftover=$(find "$work" -name 'cache.json.tmp' | wc -l)
echo "cache-crash: $kills kills, $committed committed entries all present after every kill," \
  "reader never saw an unloadable file; $(cat "$work/verify.out"); $(( $(date +%s) - start )) s" \
  "(stale temp files: $leftover)"
