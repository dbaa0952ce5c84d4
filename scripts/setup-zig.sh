#!/usr/bin/env bash
# Adds the packaging tools to the project's Python venv (scripts/setup-python.sh):
#   ziglang     zig, the linker that links against glibc 2.17's symbol versions
#               (scripts/zig-cc.sh), so the library runs on manylinux2014 systems
#   auditwheel  reports a wheel's platform tag from what its library needs
# Idempotent and fast when both are installed (one interpreter call).
# Prints the venv path, then the zig executable's path, on the last two lines of stdout.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="$(bash "$repo/scripts/setup-python.sh" | tail -n 1)"
pins=(ziglang==0.15.2 auditwheel==6.8.2)

have_pins() {
  "$venv/bin/python" - "${pins[@]}" <<'PY'
import sys
from importlib import metadata
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        if metadata.version(name) != want:
            sys.exit(1)
    except metadata.PackageNotFoundError:
        sys.exit(1)
PY
}
if ! have_pins; then
  echo "installing ${pins[*]} into $venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}" >&2
  have_pins || { echo "setup-zig: pins not satisfied after pip install" >&2; exit 1; }
fi
zig="$("$venv/bin/python" -c 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')"
[ -x "$zig" ] || { echo "setup-zig: no zig executable at $zig" >&2; exit 1; }
echo "$venv"
echo "$zig"
