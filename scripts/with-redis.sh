#!/usr/bin/env bash
# Runs a command with a redis-server and a 3-node Redis Cluster up on
# 127.0.0.1 (free ports, data in a temporary directory), and stops them
# afterwards (also when the command fails or is interrupted). The command sees:
#   IDFLOW_REDIS_URL            redis://127.0.0.1:PORT/ of the single server
#   IDFLOW_REDIS_CLUSTER_URLS   the cluster's three node URLs, space-separated
# The Rust tests start their own servers (idflow_testing::redis); this is for
# the language suites, the CLI and the benchmark.
# Usage: scripts/with-redis.sh COMMAND [ARGS...]
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

bash "$scripts/setup-redis.sh" 2>/dev/null

work="$(mktemp -d)"
pids=()
# shellcheck disable=SC2317 # run by the trap below
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# A free port; with "cluster", one whose cluster bus port (10,000 higher)
# exists (≤ 55535, or redis-server refuses to start) and is free too.
free_port() {
  python3 - "${1:-}" <<'PY'
import socket, sys
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if sys.argv[1] != "cluster":
        break
    if p <= 55535:
        try:
            b = socket.socket(); b.bind(("127.0.0.1", p + 10000)); b.close()
            break
        except OSError:
            pass
print(p)
PY
}

# Starts a redis-server on a free port with its data in $work/<name>; leaves
# the port in $port. Extra arguments go to redis-server.
port=""
start_redis() {
  local name="$1"; shift
  case "$name" in node*) port="$(free_port cluster)" ;; *) port="$(free_port)" ;; esac
  mkdir -p "$work/$name"
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir "$work/$name" "$@" >"$work/$name.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1200); do
    if [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ]; then return 0; fi
    sleep 0.05
  done
  log "redis-server $name did not start:"
  cat "$work/$name.log" >&2
  return 1
}

start_redis single
IDFLOW_REDIS_URL="redis://127.0.0.1:$port/"
nodes=()
for n in 1 2 3; do
  start_redis "node$n" --cluster-enabled yes --cluster-node-timeout 2000 \
    --cluster-config-file "$work/node$n/nodes.conf"
  nodes+=("127.0.0.1:$port")
done
redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
for _ in $(seq 1200); do
  if redis-cli -p "${nodes[0]##*:}" CLUSTER INFO | grep -q cluster_state:ok; then break; fi
  sleep 0.05
done
IDFLOW_REDIS_CLUSTER_URLS="$(printf 'redis://%s/ ' "${nodes[@]}")"
IDFLOW_REDIS_CLUSTER_URLS="${IDFLOW_REDIS_CLUSTER_URLS% }"
export IDFLOW_REDIS_URL IDFLOW_REDIS_CLUSTER_URLS
log "redis at $IDFLOW_REDIS_URL, cluster at $IDFLOW_REDIS_CLUSTER_URLS"

set +e
"$@"
status=$?
set -e
exit "$status"
