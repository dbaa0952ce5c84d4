"""Creating an app, idflow's Python binding vs msal Python, side by side in
one run against the same emulator: what a web app pays when it creates its
app per request, as MSAL's web samples do.

* create       ``ConfidentialClientApplication(...)`` alone (msal's
               constructor fetches the authority's OpenID configuration
               from the emulator; idflow's makes no request);
* create+token a new app and its first ``acquire_token_for_client``: both
               read the OpenID configuration (the emulator is not a known
               cloud here) and ask for the token.

Each figure is the median over the repetitions (after a few unmeasured ones,
so the process's first app — which reads the system's root certificates for
idflow, and imports for msal — is not among them).

msal accepts only an https authority: the benchmark starts its own
``idflow emulator --tls`` (``IDFLOW_CLI``, which ``scripts/with-servers.sh``
exports) and both libraries trust its CA (msal through
``REQUESTS_CA_BUNDLE``, idflow through ``verify=<the CA file>``). A release
build of the native library gives the figures worth quoting:

    PROFILE=release scripts/build-native.sh
    cp build/generated/python/idflow.py python/idflow/_native.py
    cp build/lib/libidflow_ffi.so python/idflow/
    scripts/with-servers.sh .venv/bin/python bench/python_app_create.py [reps]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

import msal

sys.path.insert(0, os.environ.get("IDFLOW_PYTHONPATH") or os.path.join(os.path.dirname(__file__), "..", "python"))
import idflow  # noqa: E402

CLIENT_ID = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10"
SECRET = "emulator-secret-do-not-use-in-production"
SCOPES = ["https://graph.microsoft.com/.default"]


def median_us(f, reps: int) -> float:
    for _ in range(5):
        f()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    cli = os.environ.get("IDFLOW_CLI")
    if not cli:
        sys.exit("IDFLOW_CLI is unset: run under scripts/with-servers.sh")
    with tempfile.TemporaryDirectory() as tmp:
        ca = os.path.join(tmp, "ca.pem")
        emulator = subprocess.Popen(
            [cli, "emulator", "--tls", "--port", "0", "--ca-out", ca],
            stdout=subprocess.PIPE, text=True)
        try:
            assert emulator.stdout is not None
            base = emulator.stdout.readline().strip()
            os.environ["REQUESTS_CA_BUNDLE"] = ca
            measure(f"{base}/emulator.idflow.test", ca, reps)
        finally:
            emulator.terminate()
            emulator.wait(timeout=10)


def measure(authority: str, ca: str, reps: int) -> None:
    def idflow_app() -> idflow.ConfidentialClientApplication:
        return idflow.ConfidentialClientApplication(
            CLIENT_ID, client_credential=SECRET, authority=authority, instance_discovery=False,
            verify=ca)

    def msal_app() -> msal.ConfidentialClientApplication:
        return msal.ConfidentialClientApplication(
            CLIENT_ID, client_credential=SECRET, authority=authority, instance_discovery=False
        )

    def token(app) -> None:
        r = app.acquire_token_for_client(SCOPES)
        assert "access_token" in r, r

    rows = [
        ("create", median_us(idflow_app, reps), median_us(msal_app, reps)),
        (
            "create+token",
            median_us(lambda: token(idflow_app()), reps),
            median_us(lambda: token(msal_app()), reps),
        ),
    ]
    print(f"new ConfidentialClientApplication, {reps} repetitions, medians (µs)")
    print(f"{'':14}{'idflow':>10}{'msal':>10}{'idflow/msal':>13}")
    for name, i, m in rows:
        print(f"{name:14}{i:10.0f}{m:10.0f}{i / m:13.2f}")


if __name__ == "__main__":
    main()
