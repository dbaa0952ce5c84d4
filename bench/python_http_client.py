"""Per-call cost of an msal-style ``http_client`` (a ``requests.Session``)
against idflow's built-in transport (reqwest), same flow, same emulator.

The flow is ``acquire_token_by_refresh_token``: one POST to the token
endpoint per call, never answered from the cache, after one warm-up call that
reads the discovery document. Each variant runs the same number of calls;
the median of several rounds is reported per call, and the ratio
foreign / built-in. Not a test: the numbers depend on the machine.

Run with the emulator up (scripts/with-servers.sh starts it) and the native
library installed in python/idflow (scripts/test-python.sh does it):

    scripts/with-servers.sh .venv/bin/python bench/python_http_client.py [CALLS] [ROUNDS]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "python"), str(HERE.parent / "python" / "tests")]

import requests  # noqa: E402

import idflow  # noqa: E402
import servers  # noqa: E402

GRAPH = ["https://graph.microsoft.com/User.Read"]


def _refresh_token() -> str:
    app = servers.public_app(authority=servers.emulator_authority("organizations"))
    result = app.acquire_token_by_username_password(
        servers.EMULATOR_USER, servers.EMULATOR_PASSWORD, GRAPH)
    return result["refresh_token"]


def _round(app, calls: int) -> float:
    rt = _refresh_token()
    assert "access_token" in app.acquire_token_by_refresh_token(rt, GRAPH)  # warm-up
    started = time.perf_counter()
    for _ in range(calls):
        result = app.acquire_token_by_refresh_token(rt, GRAPH)
        assert "access_token" in result, result
        rt = result.get("refresh_token", rt)
    return (time.perf_counter() - started) / calls


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    if not os.environ.get("IDFLOW_EMULATOR_URL"):
        sys.exit("IDFLOW_EMULATOR_URL is unset: run under scripts/with-servers.sh")
    authority = servers.emulator_authority("organizations")
    session = requests.Session()
    session.trust_env = False
    variants = {
        "idflow, built-in transport": idflow.PublicClientApplication(
            servers.EMULATOR_PUBLIC, authority=authority),
        "idflow, http_client=requests.Session()": idflow.PublicClientApplication(
            servers.EMULATOR_PUBLIC, authority=authority, http_client=session),
    }
    times = {name: [] for name in variants}
    for _ in range(rounds):
        for name, app in variants.items():
            times[name].append(_round(app, calls))
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, t in medians.items():
        print(f"{name:45s} {t * 1e6:9.0f} us/call")
    builtin, foreign = medians.values()
    print(f"ratio foreign / built-in: {foreign / builtin:.2f}"
          f"  (overhead {(foreign - builtin) * 1e6:.0f} us/call;"
          f" requests {requests.__version__}, {calls} calls x {rounds} rounds)")


if __name__ == "__main__":
    main()
