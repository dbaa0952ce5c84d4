#!/usr/bin/env bash
# Builds idflow's Python wheel for distribution (release profile by default)
# into build/wheels/ and prints the wheel's path on the last line of stdout.
#
# The wheel is made by scripts/build-native.sh, from the same single build as
# the library in build/lib (so after this, build/ holds the release library
# and bindings too). It holds the hand-written facade (python/idflow/*.py), its
# type stubs (*.pyi, py.typed) and an `idflow._native` package: uniffi's
# generated module plus libidflow_ffi.so, linked against glibc 2.17 and tagged
# manylinux2014 (manylinux_2_17_x86_64): it installs on Linux x86_64 with
# glibc 2.17 or newer (RHEL/CentOS 7+, Debian 9+, Ubuntu 18.04+, Amazon Linux 2).
#
# Install it anywhere with `pip install build/wheels/idflow-*.whl`.
# Environment: PROFILE (default release), IDFLOW_VENV (see setup-python.sh).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
PROFILE="${PROFILE:-release}" bash "$repo/scripts/build-native.sh"
wheel="$(ls "$repo"/build/wheels/idflow-*.whl)"
echo "build-wheel: $(basename "$wheel") ($(du -h "$wheel" | cut -f1))" >&2
echo "$wheel"
