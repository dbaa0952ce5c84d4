#!/usr/bin/env bash
# Installs the test OpenID provider (node-oidc-provider, pinned in
# testing/oidc-provider/package-lock.json). Node and npm come with the machine
# image; this checks them and runs `npm ci` only when node_modules is missing
# or was installed from a different lock file, so a second run takes no time.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$repo/testing/oidc-provider"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    log "$tool not found; Node.js 20 or later is required"
    exit 1
  fi
done
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  log "Node.js $(node --version) is too old; oidc-provider 9 needs 20 or later"
  exit 1
fi

# The stamp records which lock file node_modules was installed from.
stamp=node_modules/.idflow-lock-sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
  && [ -f node_modules/oidc-provider/package.json ]; then
  log "oidc-provider $(node -p 'require("./node_modules/oidc-provider/package.json").version') already installed (node $(node --version))"
  exit 0
fi

log "npm ci in testing/oidc-provider (node $(node --version), npm $(npm --version))"
npm ci --no-audit --no-fund >&2
echo "$want" > "$stamp"
log "installed oidc-provider $(node -p 'require("./node_modules/oidc-provider/package.json").version')"
