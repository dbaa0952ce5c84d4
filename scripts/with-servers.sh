#!/usr/bin/env bash
# Runs a command with the project's test servers up on 127.0.0.1, and
# stops them afterwards (also when the command fails or is interrupted):
#   - the identity-platform emulator (`idflow emulator --port 0`)
#   - node-oidc-provider (testing/oidc-provider, plain http, device interval 1 s)
#   - tinyproxy, a forward proxy that logs what it forwards (start-proxy.sh)
# The command sees:
#   IDFLOW_EMULATOR_URL   the emulator's base URL (authorities are $URL/<tenant>)
#   IDFLOW_OIDC_INFO      the provider's start-up JSON (issuer, client ids and secrets, api)
#   IDFLOW_OIDC_ISSUER    the provider's issuer URL
#   IDFLOW_CLI            the `idflow` command (suites start their own TLS emulator with it)
#   IDFLOW_PROXY_INFO     a forward proxy's JSON (url, log), from start-proxy.sh
# Usage: scripts/with-servers.sh COMMAND [ARGS...]
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$repo"

idflow="$(build_cli)"
bash "$scripts/setup-node.sh" >/dev/null

work="$(mktemp -d)"
# shellcheck disable=SC2317 # run by the trap below
cleanup() { stop_servers; rm -rf "$work"; }
trap cleanup EXIT INT TERM

start_server emulator "$work" "$idflow" emulator --port 0
IDFLOW_EMULATOR_URL="$server_line"
start_server oidc "$work" node "$repo/testing/oidc-provider/server.mjs" --port 0 --issuer-path /tenant --device-interval 1
IDFLOW_OIDC_INFO="$server_line"
IDFLOW_OIDC_ISSUER="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["issuer"])' "$IDFLOW_OIDC_INFO")"
IDFLOW_CLI="$idflow"
start_server proxy "$work" bash "$scripts/start-proxy.sh" "$work/proxy"
IDFLOW_PROXY_INFO="$server_line"
export IDFLOW_EMULATOR_URL IDFLOW_OIDC_INFO IDFLOW_OIDC_ISSUER IDFLOW_CLI IDFLOW_PROXY_INFO
log "emulator at $IDFLOW_EMULATOR_URL, OpenID provider at $IDFLOW_OIDC_ISSUER"

set +e
"$@"
status=$?
set -e
exit "$status"
