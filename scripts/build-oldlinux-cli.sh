#!/usr/bin/env bash
# Builds the `idflow` command for older Linux systems: linked against glibc
# 2.17's symbol versions like the library (scripts/zig-cc.sh; only the final
# link differs from `cargo build -p idflow-cli`), checked by
# scripts/check-glibc.sh, and copied to build/bin/idflow. It runs in the
# Debian 11 chroot of scripts/setup-oldlinux.sh, where the host's own build
# does not (it needs the host's newer glibc). Idempotent: when nothing
# changed, Cargo links nothing and only the copy and the check run again.
# Prints the command's path on the last line of stdout.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
{ read -r venv; read -r zig; } < <(bash scripts/setup-zig.sh | tail -n 2)
export IDFLOW_ZIG="$zig" IDFLOW_MATURIN="$venv/bin/maturin"
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
cargo rustc -q -p idflow-cli --bin idflow -- -C linker="$repo/scripts/zig-cc.sh" >&2
mkdir -p build/bin
# Copy then rename, so a process running the old file never sees it change.
cp "$target/debug/idflow" "build/bin/idflow.tmp.$$"
mv -f "build/bin/idflow.tmp.$$" build/bin/idflow
bash scripts/check-glibc.sh build/bin/idflow >&2
echo "$repo/build/bin/idflow"
