#!/usr/bin/env bash
# Proves the shipped artifacts run on an older Linux than the one they are
# built on: in the Debian 11 chroot of scripts/setup-oldlinux.sh (glibc 2.31,
# Python 3.9, OpenJDK 17), with the libraries and binaries built here:
#   - the idflow CLI, linked against glibc 2.17 like the library
#     (scripts/zig-cc.sh, checked by scripts/check-glibc.sh), serves the
#     emulator from inside the chroot;
#   - the wheel (build/wheels, from scripts/build-native.sh) installs with the
#     chroot's Python 3.9 and pip into a fresh venv, imports, and the Python
#     example signs in against that emulator (client credentials and device code);
#   - the jar (scripts/build-jar.sh), through the Kotlin example, does the same
#     with the chroot's Java.
# Prints one line per check and a summary; exits non-zero on any failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
log() { echo "test-oldlinux: $*" >&2; }

wheels=(build/wheels/idflow-*.whl)
if [ ! -f "${wheels[0]}" ] || [ ! -f build/lib/libidflow_ffi.so ]; then
  bash scripts/build-native.sh
  wheels=(build/wheels/idflow-*.whl)
fi
wheel="${wheels[0]}"
root="$(bash scripts/setup-oldlinux.sh | tail -n 1)"

# The CLI with the same glibc floor as the library (already built by
# scripts/test-python-oldest.sh in the test command: then this is a no-op).
bash scripts/build-oldlinux-cli.sh >/dev/null

# The Kotlin example and its dependencies (the idflow jar among them), built as
# scripts/test-examples.sh builds them, unless they are already newer than the library.
example_jar=examples/kotlin/target/idflow-example-1.0.jar
if [ ! -f "$example_jar" ] || [ "$example_jar" -ot build/lib/libidflow_ffi.so ]; then
  bash scripts/build-jar.sh >/dev/null
  (cd examples/kotlin && mvn -o -q -B -Dstyle.color=never package >/dev/null) || {
    log "the Kotlin example did not build"; exit 1; }
fi

# Everything the chroot runs, under one work directory inside it.
work=/opt/idflow-oldlinux
host="$root$work"
rm -rf "$host"
mkdir -p "$host/bin" "$host/kotlin"
cp build/bin/idflow "$host/bin/"
cp "$wheel" "$host/"
cp examples/python/signin.py "$host/"
cp "$example_jar" "$host/kotlin/"
cp -r examples/kotlin/target/lib "$host/kotlin/lib"
in_root() { chroot "$root" env -i HOME=/root LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin "$@"; }

out="$(mktemp -d)"
emulator_pid=""
cleanup() {
  if [ -n "$emulator_pid" ]; then kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; fi
  rm -rf "$out"
}
trap cleanup EXIT INT TERM

# exec: the background job becomes chroot itself (which execs env, then
# idflow, keeping the pid), so the cleanup's kill reaches the emulator; a
# function call would leave it running under a subshell that the kill ends.
(exec chroot "$root" env -i HOME=/root LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin \
  "$work/bin/idflow" emulator --port 0) >"$out/emulator.out" 2>"$out/emulator.err" &
emulator_pid=$!
base=""
for _ in $(seq 600); do
  base="$(head -n 1 "$out/emulator.out" 2>/dev/null || true)"
  [ -n "$base" ] && break
  kill -0 "$emulator_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$base" ] || { log "the emulator did not start in the chroot:"; cat "$out/emulator.err" >&2; exit 1; }

passed=0 failed=0
check() { # NAME REGEX -- COMMAND...: runs COMMAND, expects REGEX on a line of its stdout and exit 0
  local name="$1" want="$2"; shift 3
  if "$@" >"$out/out" 2>"$out/err" </dev/null && grep -Eq "$want" "$out/out"; then
    passed=$((passed + 1)); printf '  %-52s ok   %s\n' "$name" "$(grep -E "$want" "$out/out" | head -n 1)"
  else
    failed=$((failed + 1)); printf '  %-52s FAILED\n' "$name"
    sed 's/^/      stdout: /' "$out/out"; tail -n 8 "$out/err" | sed 's/^/      stderr: /'
  fi
}
admin() { curl -sSf -X "$1" "$base/_admin/$2" -H 'content-type: application/json' ${3:+-d "$3"} >/dev/null; }
fresh_emulator() {
  admin POST reset
  admin PATCH settings '{"device_code_interval_secs": 1, "device_code_auto_approve_after_polls": 1}'
}
tenant="$base/emulator.idflow.test"
public_id=5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e01
confidential_id=5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10
secret=emulator-secret-do-not-use-in-production
as_app=(IDFLOW_AUTHORITY="$tenant" IDFLOW_CLIENT_ID="$confidential_id" IDFLOW_CLIENT_SECRET="$secret")
as_user=(IDFLOW_AUTHORITY="$tenant" IDFLOW_CLIENT_ID="$public_id")

echo "test-oldlinux: $(in_root ldd --version | head -n 1), emulator from the chroot at $base"
check "the CLI runs in the chroot" '^idflow ' -- in_root "$work/bin/idflow" --version

# The wheel: a fresh venv of the chroot's Python, no index.
in_root python3 -m venv "$work/venv" >&2
check "pip install $(basename "$wheel") (Python $(in_root python3 -c 'import platform; print(platform.python_version())'))" \
  '^Successfully installed' -- in_root "$work/venv/bin/pip" install --no-index --disable-pip-version-check "$work/$(basename "$wheel")"
check "import idflow" '^idflow from .*/site-packages/idflow$' -- \
  in_root "$work/venv/bin/python" -c 'import os, idflow; print("idflow from", os.path.dirname(idflow.__file__))'
fresh_emulator
check "python: client credentials" '^signed in: token from identity_provider' -- \
  in_root "${as_app[@]}" "$work/venv/bin/python" "$work/signin.py" client-credentials
fresh_emulator
check "python: device code" '^signed in: token from identity_provider' -- \
  in_root "${as_user[@]}" "$work/venv/bin/python" "$work/signin.py" device-code

# The jar, through the Kotlin example, with the chroot's Java.
java_version="$(in_root java -version 2>&1 | head -n 1)"
fresh_emulator
check "kotlin: client credentials ($java_version)" '^signed in: token from identity_provider' -- \
  in_root "${as_app[@]}" java -jar "$work/kotlin/$(basename "$example_jar")" client-credentials
fresh_emulator
check "kotlin: device code" '^signed in: token from identity_provider' -- \
  in_root "${as_user[@]}" java -jar "$work/kotlin/$(basename "$example_jar")" device-code

echo "Old Linux: $passed passed, $failed failed"
[ "$failed" = 0 ]
