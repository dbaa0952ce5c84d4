#!/usr/bin/env bash
# Builds the wheel that carries the `idflow` command (cli/pyproject.toml,
# maturin's `bindings = "bin"`), installs it into a fresh virtual environment
# outside the source tree (pip, no index: the wheel stands alone), and checks
# that the installed `idflow emulator --port 0` starts and answers OpenID
# discovery, over plain HTTP and with --tls (trusting the CA it writes).
#
# IDFLOW_CLI_WHEEL_PROFILE picks the Cargo profile (default dev, which reuses
# the test build; release for a wheel to publish). The wheel is tagged
# linux_x86_64 (for the machine that built it); a wheel for other Linux
# systems is built as scripts/build-wheel.sh does (zig, manylinux2014).
# Usage: scripts/test-cli-wheel.sh   Exits non-zero on any failure.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
profile="${IDFLOW_CLI_WHEEL_PROFILE:-dev}"
venv="$(python_venv)"

work="$(mktemp -d)"
pid=""
# shellcheck disable=SC2317 # run by the trap below
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

log "building the idflow-cli wheel (profile $profile)"
"$venv/bin/maturin" build --quiet --manifest-path "$repo/cli/Cargo.toml" --profile "$profile" \
  --compatibility linux --out "$work/dist" >&2
wheels=("$work"/dist/idflow_cli-*.whl)
[ -f "${wheels[0]}" ] || { log "no wheel built"; exit 1; }
log "built $(basename "${wheels[0]}") ($(du -h "${wheels[0]}" | cut -f1))"

"${PYTHON:-python3}" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "${wheels[0]}"
idflow="$work/venv/bin/idflow"
[ -x "$idflow" ] || { log "the wheel installed no idflow command"; exit 1; }

# Starts the installed emulator with "$@", waits for its first line (the base
# URL), checks discovery answers, and stops it.
check() {
  : >"$work/out"
  (cd "$work" && exec "$idflow" emulator --port 0 "$@" >"$work/out" 2>"$work/err") &
  pid=$!
  local base=""
  for _ in $(seq 600); do
    base="$(head -n 1 "$work/out" 2>/dev/null || true)"
    [ -n "$base" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$base" ] || { log "idflow emulator $* did not start:"; cat "$work/err" >&2; return 1; }
  local curl_args=(-sSf)
  [ -f "$work/ca.pem" ] && curl_args+=(--cacert "$work/ca.pem")
  local issuer
  issuer="$(curl "${curl_args[@]}" "$base/organizations/v2.0/.well-known/openid-configuration" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["issuer"])')"
  case "$issuer" in
    "$base"/*) log "ok: installed 'idflow emulator $*' at $base answers discovery (issuer $issuer)" ;;
    *) log "unexpected issuer $issuer from $base"; return 1 ;;
  esac
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}
check
check --tls --ca-out "$work/ca.pem"
