#!/usr/bin/env bash
# Starts tinyproxy (installed by setup-proxy.sh) on a free 127.0.0.1 port,
# accepting loopback clients only, logging every request it forwards to
# DIR/proxy.log. Prints one JSON line once it accepts connections,
#   {"url": "http://127.0.0.1:PORT", "log": "DIR/proxy.log"}
# then stays in the foreground until terminated (and stops the proxy then).
# The suites count the log's "Request (file descriptor N): METHOD URL" lines.
# Usage: scripts/start-proxy.sh DIR
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
dir="$1"
mkdir -p "$dir"
tinyproxy="$(bash "$scripts/setup-proxy.sh")"

child=""
# shellcheck disable=SC2317 # run by the trap below
stop() { [ -n "$child" ] && kill "$child" 2>/dev/null; wait 2>/dev/null; exit 0; }
trap stop TERM INT EXIT

for _ in 1 2 3 4 5; do
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  : >"$dir/proxy.log"
  cat >"$dir/proxy.conf" <<CONF
Port $port
Listen 127.0.0.1
Timeout 30
LogFile "$dir/proxy.log"
LogLevel Info
MaxClients 64
Allow 127.0.0.1
DisableViaHeader Yes
CONF
  "$tinyproxy" -d -c "$dir/proxy.conf" >/dev/null 2>&1 &
  child=$!
  for _ in $(seq 100); do
    if grep -q "Accepting connections" "$dir/proxy.log" 2>/dev/null; then
      echo "{\"url\": \"http://127.0.0.1:$port\", \"log\": \"$dir/proxy.log\"}"
      wait "$child" || true
      exit 0
    fi
    kill -0 "$child" 2>/dev/null || break
    sleep 0.05
  done
  kill "$child" 2>/dev/null || true
  wait "$child" 2>/dev/null || true
  child=""
done
log "tinyproxy did not start:"
cat "$dir/proxy.log" >&2
exit 1
