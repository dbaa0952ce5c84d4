#!/usr/bin/env bash
# Makes sure cargo-fuzz and a toolchain that takes libFuzzer's sanitizer flags
# are available for fuzz/. Idempotent: does nothing when both are there.
# Prints, as its last line, the toolchain scripts/fuzz.sh should use:
#   nightly            a nightly toolchain is installed (or could be installed)
#   stable-bootstrap   only stable: its -Z flags are unlocked with RUSTC_BOOTSTRAP=1
#                      (the toolchain servers may be out of reach; crates.io is enough)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
if ! command -v cargo >/dev/null 2>&1; then
  log "cargo not found; install Rust with rustup first"
  exit 1
fi
toolchain=stable-bootstrap
if command -v rustup >/dev/null 2>&1; then
  if rustup toolchain list | grep -q '^nightly'; then
    toolchain=nightly
  elif rustup toolchain install nightly --profile minimal >&2 2>/dev/null; then
    toolchain=nightly
  else
    log "no nightly toolchain to be had; using stable with RUSTC_BOOTSTRAP=1"
  fi
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz from crates.io"
  cargo install cargo-fuzz --locked >&2
fi
cargo fuzz --version >&2
echo "$toolchain"
