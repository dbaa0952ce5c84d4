#!/usr/bin/env bash
# Proves the emulator with the MSAL libraries themselves: starts
# `idflow emulator --tls --scenario emulator/scenarios/msal-tests.json` and
# runs msal-node's and MSAL for Java's tests against it (client credentials,
# device code approved through the admin API, refresh, a claims challenge,
# consent required, 429 with Retry-After, a 5xx, a wrong secret, a declined
# device code), each trusting the emulator's CA the way its stack does:
# NODE_EXTRA_CA_CERTS for Node, a PKCS12 truststore made by keytool for Java.
# (msal Python's run is python/tests/test_msal_tls_emulator.py, in the Python suite.)
#
# Usage: scripts/test-msal-libraries.sh [node] [java]   (default: both)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$repo"
libs=("$@")
[ ${#libs[@]} -gt 0 ] || libs=(node java)

idflow="${IDFLOW_CLI:-$(build_cli)}"
bash "$scripts/setup-msal-libraries.sh"

work="$(mktemp -d)"
# shellcheck disable=SC2317 # run by the trap below
cleanup() { stop_servers; rm -rf "$work"; }
trap cleanup EXIT INT TERM

start_server emulator "$work" "$idflow" emulator --tls --port 0 --ca-out "$work/ca.pem" \
  --scenario emulator/scenarios/msal-tests.json
base="$server_line"
log "TLS emulator at $base"

status=0
for lib in "${libs[@]}"; do
  case "$lib" in
    node)
      log "msal-node $(node -p "require('./emulator/msal-tests/node/node_modules/@azure/msal-node/package.json').version")"
      (cd emulator/msal-tests/node && IDFLOW_TLS_EMULATOR_URL="$base" NODE_EXTRA_CA_CERTS="$work/ca.pem" \
        node --test --test-concurrency=1 --test-reporter=spec msal-node.test.mjs) || status=1
      ;;
    java)
      keytool -importcert -noprompt -alias idflow-emulator -file "$work/ca.pem" \
        -keystore "$work/trust.p12" -storetype PKCS12 -storepass changeit >/dev/null 2>&1
      log "msal4j 1.26.1 (java $(java -version 2>&1 | head -n 1))"
      java -Djavax.net.ssl.trustStore="$work/trust.p12" -Djavax.net.ssl.trustStorePassword=changeit \
        -cp "$(cat emulator/msal-tests/java/target/classpath.txt)" \
        emulator/msal-tests/java/MsalJavaTest.java "$base" || status=1
      ;;
    *) log "unknown library $lib (node, java)"; exit 2 ;;
  esac
done
exit "$status"
