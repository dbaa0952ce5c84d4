#!/usr/bin/env bash
# The module structure stays as ARCHITECTURE.md draws it: no import cycle
# between the modules of the core or of the emulator, and no module using one
# of a higher layer (each crate's module-layers.txt). The core's check leaves
# out test code, which may drive a lower layer through a higher one.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$repo"
python3 scripts/module-deps.py --self-test
python3 scripts/module-deps.py --skip-tests --fail-on-cycles --fail-on-layers core/src
python3 scripts/module-deps.py --fail-on-cycles --fail-on-layers emulator/src
