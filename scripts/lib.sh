# shellcheck shell=bash
# What the scripts in scripts/ share; sourced, never run:
#   . "$(dirname "$0")/lib.sh"
# Sets
#   scripts   this folder (absolute)
#   repo      the repository root (absolute)
#   target    Cargo's target directory (CARGO_TARGET_DIR, default <repo>/target)
#   build     the native build's output (scripts/build-native.sh): lib/ and generated/<lang>/
#   me        the calling script's name, for messages
# and the functions below. It changes no shell option: each script sets its own.

scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$scripts")"
target="${CARGO_TARGET_DIR:-$repo/target}"
build="$repo/build"
me="$(basename "$0" .sh)"

# A message on stderr, prefixed with the script's name.
log() { echo "$me: $*" >&2; }

# require_native PATH...: succeeds when build/ holds the native library and each
# PATH under build/generated/ (e.g. python/idflow.py); says what to run otherwise.
require_native() {
  local f
  for f in "$build/lib/libidflow_ffi.so" "${@/#/$build/generated/}"; do
    [ -e "$f" ] || { log "missing ${f#"$repo/"}: run scripts/build-native.sh first"; return 1; }
  done
}

# servers_up: the test servers' addresses are in the environment (with-servers.sh sets them).
servers_up() { [ -n "${IDFLOW_EMULATOR_URL:-}" ] && [ -n "${IDFLOW_OIDC_INFO:-}" ]; }

# rerun_with_servers ARGS...: runs the calling script again, with ARGS, under
# scripts/with-servers.sh, in place of this process.
rerun_with_servers() {
  exec bash "$scripts/with-servers.sh" bash "$scripts/$(basename "$0")" "$@"
}

# build_cli: the `idflow` command (for its emulator), as `cargo test --workspace`
# builds it, and prints its path. The same selection on purpose: Cargo resolves
# dependency features per selection (the workspace's dev-dependencies add some),
# so `cargo build -p idflow-cli` would compile tokio, hyper, reqwest, the core
# and the emulator a second time; after the test command's `cargo test` step
# this is a no-op. Run alone, it also builds the workspace's test binaries.
build_cli() {
  (cd "$repo" && cargo test -q --workspace --no-run >&2)
  echo "$target/debug/idflow"
}

# start_server NAME DIR COMMAND...: starts COMMAND in the background, its
# output in DIR/NAME.{out,err} and its pid appended to $server_pids (for
# stop_servers in the caller's cleanup trap), and waits for its first line,
# which it leaves in $server_line. Each attempt waits at most 40 s (a bound,
# not a delay: a start takes under a second on an idle machine, but
# node-oidc-provider once took over 20 s with compilers beside it on two
# cores); a command still silent then is killed and started again, three
# attempts in all (node-oidc-provider has, rarely, printed its runtime warning
# and then nothing for minutes). Returns 1, with COMMAND's stderr, when no
# line comes or COMMAND exits first. Call it in the script's own shell (not in
# $(...)): the pid and the line are set in it.
server_pids=()
# shellcheck disable=SC2034 # read by the scripts that source this one
server_line=""
start_server() {
  local name="$1" dir="$2" attempt pid
  shift 2
  for attempt in 1 2 3; do
    "$@" >"$dir/$name.out" 2>"$dir/$name.err" &
    pid=$!
    server_pids+=("$pid")
    for _ in $(seq 400); do
      if [ -s "$dir/$name.out" ] && head -n 1 "$dir/$name.out" | grep -q .; then
        # shellcheck disable=SC2034 # read by the scripts that source this one
        server_line="$(head -n 1 "$dir/$name.out")"
        return 0
      fi
      if ! kill -0 "$pid" 2>/dev/null && ! head -n 1 "$dir/$name.out" | grep -q .; then
        log "$name exited before it started:"
        cat "$dir/$name.err" >&2
        return 1
      fi
      sleep 0.1
    done
    log "$name printed nothing in 40 s (attempt $attempt of 3); its stderr:"
    cat "$dir/$name.err" >&2
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  log "$name did not start"
  return 1
}

# stop_servers: stops every server start_server started.
stop_servers() {
  local p
  for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${server_pids[@]}"; do wait "$p" 2>/dev/null || true; done
}

# python_venv: the project's Python venv (created or reused by setup-python.sh); prints its path.
python_venv() { bash "$scripts/setup-python.sh" | tail -n 1; }

# install_file SRC DST: copies then renames, so a process that has DST mapped
# (a loaded .so) never sees it change under it.
install_file() {
  cp "$1" "$2.tmp.$$"
  mv -f "$2.tmp.$$" "$2"
}

# install_python_native: the generated module and the native library beside
# the hand-written facade (python/idflow/_native.py, python/idflow/libidflow_ffi.so).
install_python_native() {
  install_file "$build/generated/python/idflow.py" "$repo/python/idflow/_native.py"
  install_file "$build/lib/libidflow_ffi.so" "$repo/python/idflow/libidflow_ffi.so"
}

# copy_if_changed SRC DST: copies only when the content differs, keeping
# mtimes otherwise (so SwiftPM's and Maven's incremental builds stay warm).
copy_if_changed() {
  if ! cmp -s "$1" "$2"; then
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2"
  fi
}

# swift_root: the Debian chroot holding Swift (installed by setup-swift.sh); prints its path.
swift_root() { bash "$scripts/setup-swift.sh" | tail -n 1; }
