#!/usr/bin/env bash
# Creates (or reuses) the Python venv for the idflow Python layer: pytest for
# the suite, mypy for its check of the type stubs, maturin for the wheel,
# msal (PyPI) as the peer the suite compares against, and Flask for the web
# app example (examples/python/webapp). Idempotent and fast when
# everything is already there: the installed versions are checked in one
# interpreter call before pip runs.
#
# IDFLOW_VENV overrides the venv location (default: <repo>/.venv).
# The venv path is the last line on stdout; everything else goes to stderr.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
venv="${IDFLOW_VENV:-$repo/.venv}"
python="${PYTHON:-python3}"

# Exact pins: the suite's peer checks were measured against these.
pins=(pytest==9.2.0 maturin==1.16.0 msal==1.39.0 mypy==2.4.1 msal-extensions==1.3.1 flask==3.1.3)

if [ ! -x "$venv/bin/python" ]; then
  log "creating venv $venv"
  "$python" -m venv "$venv" >&2
fi

have_pins() {
  "$venv/bin/python" - "${pins[@]}" <<'EOF'
import sys
from importlib import metadata
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        if metadata.version(name) != want:
            sys.exit(1)
    except metadata.PackageNotFoundError:
        sys.exit(1)
EOF
}

if ! have_pins; then
  log "installing ${pins[*]} into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}" >&2
  have_pins || { log "pins not satisfied after pip install"; exit 1; }
fi

echo "$venv"
