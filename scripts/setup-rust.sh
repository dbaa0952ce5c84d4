#!/usr/bin/env bash
# Makes sure the Rust toolchain has rustfmt and clippy (rustup is on the machine image).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
if ! command -v cargo >/dev/null 2>&1; then
  log "cargo not found; install Rust with rustup first"
  exit 1
fi
if command -v rustup >/dev/null 2>&1; then
  for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c" >&2
  done
fi
cargo --version >&2
