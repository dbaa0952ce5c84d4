"""Managed identity, idflow's Python ``ManagedIdentityClient`` vs msal
Python's, side by side in one run against the same emulator.

For each source measured (IMDS, App Service):

* first   a new client (fresh cache) and its first ``acquire_token_for_client``:
          one request to the emulator, the answer parsed and cached;
* cached  the same call again: answered from the cache (a prepared native
          probe answering with one integer; the dict of the last hit reused);
* cached-json  idflow's previous hit path on the same client, for before/after
          in one run: the native call building msal's dict as JSON, parsed
          by ``json.loads`` (msal's column repeats its cached figure).

Each figure is the median over the repetitions; the ratio is idflow / msal
(below 1: idflow is faster).

Run with an emulator (``scripts/with-servers.sh`` exports its address) and the
repository's venv with msal; a release build of the native library gives the
figures worth quoting:

    PROFILE=release scripts/build-native.sh
    cp build/generated/python/idflow.py python/idflow/_native.py
    cp build/lib/libidflow_ffi.so python/idflow/
    scripts/with-servers.sh .venv/bin/python bench/python_managed_identity.py [reps]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import urllib.request

import msal
import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import idflow  # noqa: E402

RESOURCE = "https://management.azure.com"
VARIABLES = (
    "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT",
    "MSI_ENDPOINT", "MSI_SECRET", "AZURE_POD_IDENTITY_AUTHORITY_HOST",
)


def median_us(fn, reps):
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times)


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    base = os.environ["IDFLOW_EMULATOR_URL"].rstrip("/")
    with urllib.request.urlopen(f"{base}/_admin/managed_identity", timeout=10) as resp:
        info = json.loads(resp.read())
    session = requests.Session()
    print(f"{'source':<12} {'call':<7} {'msal us':>10} {'idflow us':>10} {'ratio':>7}")
    for source in ("imds", "app_service"):
        for name in VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(info["sources"][source])
        identity = msal.SystemAssignedManagedIdentity()

        def msal_first() -> None:
            c = msal.ManagedIdentityClient(identity, http_client=session)
            assert "access_token" in c.acquire_token_for_client(resource=RESOURCE)

        def idflow_first() -> None:
            c = idflow.ManagedIdentityClient(identity)
            assert "access_token" in c.acquire_token_for_client(resource=RESOURCE)

        mc = msal.ManagedIdentityClient(identity, http_client=session)
        ic = idflow.ManagedIdentityClient(identity)
        mc.acquire_token_for_client(resource=RESOURCE)
        ic.acquire_token_for_client(resource=RESOURCE)

        def msal_cached() -> None:
            assert mc.acquire_token_for_client(resource=RESOURCE)["token_source"] == "cache"

        def idflow_cached() -> None:
            assert ic.acquire_token_for_client(resource=RESOURCE)["token_source"] == "cache"

        def idflow_cached_json() -> None:
            text = ic._native.cached_token_json(RESOURCE)
            assert json.loads(text)["token_source"] == "cache"

        for call, m, i, n in (("first", msal_first, idflow_first, max(reps // 4, 10)),
                              ("cached", msal_cached, idflow_cached, reps * 10),
                              ("cached-json", msal_cached, idflow_cached_json, reps * 10)):
            m_us, i_us = median_us(m, n), median_us(i, n)
            print(f"{source:<12} {call:<7} {m_us:>10.1f} {i_us:>10.1f} {i_us / m_us:>7.2f}")


if __name__ == "__main__":
    main()
