#!/usr/bin/env bash
# Runs the three example programs (examples/python, examples/kotlin,
# examples/swift) against the emulator and checks what they print: a sign-in
# by client credentials and by device code (approved by the emulator), and
# each failure the examples handle, armed through the emulator's admin API
# (interaction required with claims, 429 with Retry-After, a retryable 5xx,
# a wrong secret, no server, a bad authority, a sign-in given up). Then the
# Flask web app (examples/python/webapp) as two worker processes sharing only
# a session store, and the Kotlin one (examples/kotlin, WebApp.kt, on the
# JDK's HTTP server) likewise: the sign-in starts on one worker and completes
# on the other, a replayed or foreign redirect is refused.
#
# Each example is built the way an app would use idflow: Python imports the
# package (python/idflow with the native module from build/), Kotlin depends
# on the dev.idflow:idflow jar (scripts/build-jar.sh installs it; the example
# then builds offline), Swift depends on the package in swift/ (built in the
# Swift chroot, as scripts/test-swift.sh does). Needs build/ from
# scripts/build-native.sh. Without IDFLOW_EMULATOR_URL the script re-runs
# itself under scripts/with-servers.sh.
#
# Usage: scripts/test-examples.sh [python] [kotlin] [swift] [webapp] [webapp_kotlin]
#   (default: all)
# Prints one line per check and a summary line; exits non-zero on any failure.
# Codes in the output differ by language as each platform reports them (Swift:
# the NSError code where there is no OAuth error); the checks allow for that.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
if [ -z "${IDFLOW_EMULATOR_URL:-}" ]; then
  rerun_with_servers "$@"
fi
cd "$repo"
langs=("$@")
[ ${#langs[@]} -gt 0 ] || langs=(python kotlin swift webapp webapp_kotlin)
base="$IDFLOW_EMULATOR_URL"
tenant="$base/emulator.idflow.test"
public_id=5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e01
confidential_id=5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10
secret=emulator-secret-do-not-use-in-production

require_native python/idflow.py || exit 2

admin() { # METHOD PATH [JSON]
  curl -sSf -X "$1" "$base/_admin/$2" -H 'content-type: application/json' ${3:+-d "$3"} >/dev/null
}
fresh_emulator() {
  admin POST reset
  admin PATCH settings '{"device_code_interval_secs": 1, "device_code_auto_approve_after_polls": 1}'
}

# --- building each example ----------------------------------------------------
out_dir="$(mktemp -d)"
web_pids=()
cleanup() {
  local pid
  for pid in "${web_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$out_dir"
}
trap cleanup EXIT

prepare_python() {
  venv="$(python_venv)"
  # The layout scripts/test-python.sh uses: the generated module and the library beside the facade.
  install_python_native
  # shellcheck disable=SC2317 # called as "run_$lang"
  run_python() { PYTHONPATH="$repo/python" "$venv/bin/python" examples/python/signin.py "$@"; }
}

prepare_kotlin() {
  bash scripts/build-jar.sh >/dev/null
  (cd examples/kotlin && mvn -o -q -B -Dstyle.color=never package >"$out_dir/mvn.log" 2>&1) || {
    cat "$out_dir/mvn.log" >&2; return 1; }
  # shellcheck disable=SC2317 # called as "run_$lang"
  run_kotlin() { java -jar examples/kotlin/target/idflow-example-1.0.jar "$@"; }
}

prepare_swift() {
  local gen="$build/generated/swift"
  local root work host
  root="$(swift_root)"
  work="${IDFLOW_SWIFT_WORK:-/opt/idflow-swift}-examples"
  host="$root$work"
  mkdir -p "$host/repo/swift/Sources/IdFlowFFI" "$host/repo/examples" "$host/lib"
  # The package as scripts/test-swift.sh lays it out, and the example beside it.
  # Copy only what changed, so SwiftPM's .build stays warm.
  put_tree() { # SRC_DIR DST_DIR FILES...
    local src="$1" dst="$2" f; shift 2
    (cd "$src" && find "$@" -type f -not -path '*/.build/*') | while IFS= read -r f; do
      copy_if_changed "$src/$f" "$dst/$f"
    done
  }
  put_tree swift "$host/repo/swift" Package.swift Sources
  copy_if_changed "$gen/IdFlow.swift" "$host/repo/swift/Sources/IdFlow/IdFlow.swift"
  copy_if_changed "$gen/IdFlowFFI.h" "$host/repo/swift/Sources/IdFlowFFI/IdFlowFFI.h"
  copy_if_changed "$gen/IdFlowFFI.modulemap" "$host/repo/swift/Sources/IdFlowFFI/module.modulemap"
  put_tree examples/swift/SignIn "$host/repo/examples/swift/SignIn" Package.swift Sources
  copy_if_changed build/lib/libidflow_ffi.so "$host/lib/libidflow_ffi.so"
  log "swift build of examples/swift in the chroot"
  # shellcheck disable=SC2016 # $1 is expanded by the shell inside the chroot
  chroot "$root" env -i HOME=/root LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin bash -c '
    cd "$1/repo/examples/swift/SignIn" && swift build -c debug \
      -Xlinker -L"$1/lib" -Xlinker -rpath -Xlinker "$1/lib"' _ "$work" >"$out_dir/swift.log" 2>&1 || {
    tail -40 "$out_dir/swift.log" >&2; return 1; }
  swift_root="$root" swift_work="$work"
  # shellcheck disable=SC2317 # called as "run_$lang"
  run_swift() {
    chroot "$swift_root" env -i HOME=/root LANG=C.UTF-8 PATH=/usr/bin:/bin \
      IDFLOW_AUTHORITY="$IDFLOW_AUTHORITY" IDFLOW_CLIENT_ID="$IDFLOW_CLIENT_ID" \
      ${IDFLOW_CLIENT_SECRET+IDFLOW_CLIENT_SECRET="$IDFLOW_CLIENT_SECRET"} \
      ${IDFLOW_SIGNIN_TIMEOUT+IDFLOW_SIGNIN_TIMEOUT="$IDFLOW_SIGNIN_TIMEOUT"} \
      "$swift_work/repo/examples/swift/SignIn/.build/debug/SignIn" "$@"
  }
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Two workers of a web app (Python: Flask; Kotlin: the JDK's HTTP server),
# sharing only a session directory; the redirect URI names worker B, so the
# sign-in starts on A and ends on B. start_web_workers COMMAND...: each worker
# runs COMMAND PORT.
start_web_workers() {
  web_sessions="$out_dir/sessions-$1"
  mkdir -p "$web_sessions"
  web_a="$(free_port)" web_b="$(free_port)"
  local port i
  for port in "$web_a" "$web_b"; do
    IDFLOW_AUTHORITY="$tenant" IDFLOW_CLIENT_ID="$confidential_id" IDFLOW_CLIENT_SECRET="$secret" \
      IDFLOW_REDIRECT_URI="http://127.0.0.1:$web_b/callback" IDFLOW_SESSION_DIR="$web_sessions" \
      PYTHONPATH="$repo/python:$repo/examples/python/webapp" \
      "${@:2}" "$port" >"$out_dir/web-$port.log" 2>&1 &
    web_pids+=("$!")
  done
  for port in "$web_a" "$web_b"; do
    for i in $(seq 150); do
      curl -s -o /dev/null "http://127.0.0.1:$port/" && break
      [ "$i" = 150 ] && { tail -n 20 "$out_dir/web-$port.log" >&2; return 1; }
      sleep 0.2
    done
  done
}

prepare_webapp() {
  venv="$(python_venv)"
  install_python_native
  web_label=webapp
  start_web_workers py "$venv/bin/python" -m flask --app app run --host 127.0.0.1 --port
}

prepare_webapp_kotlin() {
  prepare_kotlin || return 1
  web_label=webkt
  start_web_workers kt java -cp examples/kotlin/target/idflow-example-1.0.jar example.WebAppKt
}

# web_check NAME OK DETAIL: records one web app check (OK is 1 or 0).
web_check() {
  if [ "$2" = 1 ]; then
    passed=$((passed + 1))
    printf '  %-7s %-44s ok   %s\n' "$web_label" "$1" "$3"
  else
    failed=$((failed + 1))
    printf '  %-7s %-44s FAILED (%s)\n' "$web_label" "$1" "$3"
  fi
}

run_webapp_checks() {
  fresh_emulator
  local jar="$out_dir/cookies" other="$out_dir/other-cookies" loc cb status body ok
  # Worker A starts the sign-in; the flow dict goes into the shared session.
  loc="$(curl -s -c "$jar" -b "$jar" -o /dev/null -w '%{redirect_url}' "http://127.0.0.1:$web_a/login")"
  ok=0; [[ $loc == "$tenant/oauth2/v2.0/authorize?"* ]] && ok=1
  web_check "worker A sends the user to sign in" "$ok" "${loc%%\?*}"
  # The emulator signs the user in and redirects to worker B.
  cb="$(curl -s -o /dev/null -w '%{redirect_url}' "$loc")"
  ok=0; [[ $cb == "http://127.0.0.1:$web_b/callback?"* ]] && ok=1
  web_check "the redirect goes to worker B" "$ok" "${cb%%\?*}"
  # Worker B completes the flow it finds in the session store.
  status="$(curl -s -c "$jar" -b "$jar" -o "$out_dir/body" -w '%{http_code} %{redirect_url}' "$cb")"
  ok=0; [ "$status" = "302 http://127.0.0.1:$web_b/" ] && ok=1
  web_check "worker B redeems the code" "$ok" "HTTP $status"
  body="$(curl -s -b "$jar" "http://127.0.0.1:$web_a/")"
  ok=0; [[ $body == "signed in as ada@emulator.idflow.test "* ]] && ok=1
  web_check "worker A sees the signed-in user" "$ok" "$body"
  # The same redirect again: the flow was used, the request is refused.
  status="$(curl -s -c "$jar" -b "$jar" -o "$out_dir/body" -w '%{http_code}' "$cb")"
  body="$(cat "$out_dir/body")"
  ok=0; [ "$status" = 400 ] && [[ $body == "sign-in refused: "* ]] && ok=1
  web_check "a replayed redirect is refused" "$ok" "HTTP $status $body"
  # Another browser's redirect (a foreign state) is refused too.
  curl -s -c "$other" -b "$other" -o /dev/null "http://127.0.0.1:$web_a/login"
  status="$(curl -s -b "$other" -o "$out_dir/body" -w '%{http_code}' \
    "${cb/state=/state=forged}")"
  body="$(cat "$out_dir/body")"
  ok=0; [ "$status" = 400 ] && [[ $body =~ ^sign-in\ refused:\ state.mismatch ]] && ok=1
  web_check "a foreign state is refused" "$ok" "HTTP $status $body"
}

# --- the checks -----------------------------------------------------------------
passed=0 failed=0
# check LANG NAME EXPECTED_EXIT REGEX... -- MODE : runs the example, expects each
# regex on a line of its stdout (in order) and the exit status.
check() {
  local lang="$1" name="$2" want_status="$3"; shift 3
  local patterns=()
  while [ "$1" != -- ]; do patterns+=("$1"); shift; done
  shift
  local status=0
  "run_$lang" "$@" >"$out_dir/out" 2>"$out_dir/err" </dev/null || status=$?
  # Each pattern must match a line after the line the previous one matched.
  local ok=1 i=0
  local -a lines
  mapfile -t lines <"$out_dir/out"
  for p in "${patterns[@]}"; do
    while [ "$i" -lt "${#lines[@]}" ] && ! [[ ${lines[$i]} =~ $p ]]; do i=$((i + 1)); done
    if [ "$i" -ge "${#lines[@]}" ]; then ok=0; break; fi
    i=$((i + 1))
  done
  [ "$status" = "$want_status" ] || ok=0
  if [ "$ok" = 1 ]; then
    passed=$((passed + 1))
    printf '  %-7s %-44s ok   %s\n' "$lang" "$name" "$(head -n 1 "$out_dir/out")"
  else
    failed=$((failed + 1))
    printf '  %-7s %-44s FAILED (exit %s, wanted %s; expected %s)\n' "$lang" "$name" "$status" "$want_status" "${patterns[*]}"
    sed 's/^/      stdout: /' "$out_dir/out"
    tail -n 5 "$out_dir/err" | sed 's/^/      stderr: /'
  fi
}

run_checks() {
  local lang="$1"
  export IDFLOW_AUTHORITY="$tenant" IDFLOW_CLIENT_ID="$confidential_id" IDFLOW_CLIENT_SECRET="$secret"
  unset IDFLOW_SIGNIN_TIMEOUT IDFLOW_SCOPE

  fresh_emulator
  check "$lang" "client credentials" 0 '^signed in: token from identity_provider, expires in [0-9]+ s$' -- client-credentials

  fresh_emulator
  admin POST presets/throttled_429
  check "$lang" "429 with Retry-After" 1 '^service error temporarily_unavailable: retry after 30 s$' -- client-credentials

  fresh_emulator
  admin POST presets/server_error_500 '{"count": 2}'
  check "$lang" "500 twice (after the one retry)" 1 '^service error [^:]+: retry later$' -- client-credentials

  fresh_emulator
  IDFLOW_CLIENT_SECRET=not-the-secret check "$lang" "wrong secret" 1 '^service error invalid_client: fix the configuration: ' -- client-credentials

  IDFLOW_AUTHORITY="http://127.0.0.1:9/emulator.idflow.test" \
    check "$lang" "no server listening" 1 '^network error [^:]+: check the connection, retry later$' -- client-credentials

  IDFLOW_AUTHORITY="not a url" check "$lang" "malformed authority" 1 '^client error.*: fix the call: ' -- client-credentials

  export IDFLOW_CLIENT_ID="$public_id"
  unset IDFLOW_CLIENT_SECRET
  fresh_emulator
  check "$lang" "device code" 0 '^signed in: token from identity_provider' -- device-code

  fresh_emulator
  admin POST presets/mfa_required_50079
  check "$lang" "MFA: interactive again with the claims" 0 \
    '^interaction required \([A-Za-z_]+, [^)]+\): signing in interactively with the claims$' \
    '^signed in: token from identity_provider' -- device-code

  fresh_emulator
  admin PATCH settings '{"device_code_auto_approve_after_polls": null}'
  IDFLOW_SIGNIN_TIMEOUT=1 check "$lang" "sign-in given up" 1 '^cancelled \([^)]+\): stopping quietly$' -- device-code
}

for lang in "${langs[@]}"; do
  case "$lang" in
    python|kotlin|swift|webapp|webapp_kotlin) ;;
    *) log "unknown example $lang (python, kotlin, swift, webapp, webapp_kotlin)"; exit 2 ;;
  esac
  if ! "prepare_$lang"; then
    log "$lang: the example did not build"
    failed=$((failed + 1))
    continue
  fi
  case "$lang" in
    webapp*) run_webapp_checks ;;
    *) run_checks "$lang" ;;
  esac
done
echo "Examples: $passed checks passed, $failed failed (${langs[*]})"
[ "$failed" = 0 ]
