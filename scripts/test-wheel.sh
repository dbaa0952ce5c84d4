#!/usr/bin/env bash
# Checks the wheel given as $1, or the one scripts/build-native.sh left in
# build/wheels (built from the same library as build/lib; the script runs
# first when there is none):
#   - its platform tag is manylinux_2_17 (manylinux2014) and `auditwheel show`
#     agrees, and the library inside needs no glibc newer than 2.17
#     (scripts/check-glibc.sh);
#   - installed into a fresh virtual environment outside the source tree (pip,
#     no index: the wheel must be self-contained), the package imports as
#     `idflow` from site-packages, carries its native library, type stubs and
#     py.typed, documents its public classes, and answers real calls through
#     the native core.
# Exits non-zero on any failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
wheel="${1:-}"
if [ -z "$wheel" ]; then
  wheels=("$repo"/build/wheels/idflow-*.whl)
  [ -f "${wheels[0]}" ] || bash "$repo/scripts/build-native.sh"
  wheels=("$repo"/build/wheels/idflow-*.whl)
  wheel="${wheels[0]}"
fi
[ -f "$wheel" ] || { echo "test-wheel: no wheel at $wheel" >&2; exit 1; }

venv="$(bash "$repo/scripts/setup-zig.sh" | tail -n 2 | head -n 1)"
case "$(basename "$wheel")" in
  *manylinux_2_17_x86_64*) ;;
  *) echo "test-wheel: $(basename "$wheel") is not tagged manylinux_2_17_x86_64" >&2; exit 1 ;;
esac
report="$("$venv/bin/auditwheel" show "$wheel")"
tag="$(tr -s ' \n' ' ' <<<"$report" | sed -n 's/.*constrains the platform tag to "\([^"]*\)".*/\1/p')"
echo "test-wheel: auditwheel show: platform tag $tag"
[ "$tag" = manylinux_2_17_x86_64 ] || { echo "$report" >&2; echo "test-wheel: auditwheel reports the tag $tag" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && python3 -m zipfile -e "$wheel" unpacked)
bash "$repo/scripts/check-glibc.sh" "$work"/unpacked/idflow/_native/*.so
rm -rf "$work/unpacked"
"${PYTHON:-python3}" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$wheel"

# Run from an empty directory so the source tree's python/idflow cannot be imported by accident.
cd "$work"
"$work/venv/bin/python" - <<'PY'
import ast
import importlib.resources as resources
import os
import pydoc
import sys

import idflow

checks = 0
def check(cond, what):
    global checks
    if not cond:
        sys.exit(f"test-wheel: FAILED: {what}")
    checks += 1

where = os.path.dirname(idflow.__file__)
check("site-packages" in where, f"idflow imported from the installed wheel (got {where})")
files = {f.name for f in resources.files("idflow").iterdir()}
for name in ("py.typed", "__init__.pyi", "application.pyi", "token_cache.pyi", "_native"):
    check(name in files, f"{name} is installed")
check(any(f.name.endswith(".so") for f in resources.files("idflow._native").iterdir()),
      "the native library is inside idflow._native")

# Every public name of the facade, and every public method of its classes, is declared in the stubs.
def declared_in(stub):
    tree = ast.parse(resources.files("idflow").joinpath(stub).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name)
    return names

stubs = {
    idflow: declared_in("__init__.pyi"),
    idflow.application: declared_in("application.pyi"),
    idflow.token_cache: declared_in("token_cache.pyi"),
}
for module, declared in stubs.items():
    missing = [n for n in module.__all__ if n not in declared]
    check(not missing, f"the stub of {module.__name__} declares {missing}")
for module, classes in (
    (idflow.application, (idflow.ClientApplication, idflow.PublicClientApplication,
                          idflow.ConfidentialClientApplication)),
    (idflow.token_cache, (idflow.TokenCache, idflow.SerializableTokenCache)),
):
    for cls in classes:
        public = [m for m in vars(cls) if not m.startswith("_")]
        missing = [m for m in public if m not in stubs[module]]
        check(not missing, f"the stub of {module.__name__} declares {cls.__name__}.{missing}")

# help() reads well: the class and its flows are documented.
text = pydoc.render_doc(idflow.PublicClientApplication, renderer=pydoc.plaintext)
for needle in ("initiate_device_flow", "acquire_token_by_device_flow", "acquire_token_interactive"):
    check(needle in text, f"help(PublicClientApplication) shows {needle}")
for name in ("PublicClientApplication", "ConfidentialClientApplication"):
    cls = getattr(idflow, name)
    check(cls.__doc__ and len(cls.__doc__) > 40, f"{name} has a docstring")
    for m, f in vars(cls).items():
        if not m.startswith("_") and callable(f):
            check(f.__doc__, f"{name}.{m} has a docstring")

# Real calls through the native core.
d = idflow.explain("AADSTS50079")
check(d["kind"] == "interaction_required" and d["action"] == "acquire_interactively",
      f"explain(AADSTS50079): {d['kind']}, {d['action']}")
d = idflow.classify_response(429, {"Retry-After": "30"},
                             b'{"error": "temporarily_unavailable"}', "token")
check(d["outcome"] == "error" and d["retry_after"] == 30 and d["action"] == "retry_after",
      f"a 429 with Retry-After: 30: {d['outcome']}, {d['retry_after']}, {d['action']}")
try:
    idflow.raise_for_info(idflow.transport_failure("timeout"))
    check(False, "a timeout raises TimeoutError")
except TimeoutError as e:
    check(e.result["error_kind"] == "network", "TimeoutError carries the error dict")
try:
    idflow.PublicClientApplication("client", authority="not a url")
    check(False, "a bad authority is a ValueError")
except ValueError:
    checks += 1
print(f"test-wheel: {checks} checks passed (idflow from {where})")
PY
