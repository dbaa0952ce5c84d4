#!/usr/bin/env bash
# Makes sure cargo-fuzz and a nightly toolchain are available for fuzz/
# (libFuzzer needs nightly's sanitizer flags). Idempotent: does nothing when
# both are already there.
set -euo pipefail
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup-fuzz: cargo not found; install Rust with rustup first" >&2
  exit 1
fi
if command -v rustup >/dev/null 2>&1; then
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal >&2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "setup-fuzz: installing cargo-fuzz from crates.io" >&2
  cargo install cargo-fuzz --locked >&2
fi
cargo +nightly fuzz --version >&2
