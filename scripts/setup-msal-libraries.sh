#!/usr/bin/env bash
# Installs the MSAL libraries the emulator is proven with, idempotently:
#   - msal-node (npm @azure/msal-node, pinned in emulator/msal-tests/node/package-lock.json):
#     `npm ci` only when node_modules is missing or came from another lock file;
#   - MSAL for Java (com.microsoft.azure:msal4j 1.26.1 from Maven Central, pinned in
#     emulator/msal-tests/java/pom.xml): Maven resolves it into ~/.m2 and writes
#     its class path to emulator/msal-tests/java/target/classpath.txt.
# (msal Python comes with the project venv: scripts/setup-python.sh.)
# Node 20+, Java 17+ and Maven come from the machine (scripts/setup-kotlin.sh installs them).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

node_dir="$repo/emulator/msal-tests/node"
stamp="$node_dir/node_modules/.idflow-lock-sha256"
want="$(sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  log "msal-node $(node -p "require('$node_dir/node_modules/@azure/msal-node/package.json').version") already installed"
else
  log "npm ci in emulator/msal-tests/node"
  (cd "$node_dir" && npm ci --no-audit --no-fund >&2)
  echo "$want" > "$stamp"
fi

java_dir="$repo/emulator/msal-tests/java"
cp_file="$java_dir/target/classpath.txt"
if [ ! -s "$cp_file" ] || [ "$java_dir/pom.xml" -nt "$cp_file" ]; then
  log "resolving msal4j with Maven"
  mkdir -p "$java_dir/target"
  (cd "$java_dir" && mvn -q -B dependency:build-classpath -Dmdep.outputFile="$cp_file" >&2)
fi
log "msal4j class path in ${cp_file#"$repo/"}"
