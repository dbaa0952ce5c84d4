"""idflow's token cache vs msal Python's, side by side in one run.

Both libraries load the same msal-format cache of N users (each with an
access token, a refresh token, an id token and an account) plus one app-only
token, for N in 1, 1k, 10k, 100k, and the same calls are timed:

* hit      ``acquire_token_silent`` (a user's valid token) and
           ``acquire_token_for_client`` (the app token): the public calls,
           answered from the cache;
* miss     the cache lookup a miss does before it would send a request
           (idflow: the prepared lookup ``acquire_token_silent`` runs first,
           one native call; msal: its ``search`` of the access tokens, what
           its ``acquire_token_silent`` runs first);
* get_accounts  ``get_accounts()`` (all; repeated, after a token refresh,
           and read again as after a change of the accounts) and
           ``get_accounts(username=...)``;
* serialize / deserialize  the whole cache;
* memory   resident memory the loaded cache adds at 100k (each library in a
           fresh process, measured after the JSON text is freed and the C
           heap trimmed).

No network is used: msal's app gets a local stand-in HTTP client that serves
its discovery document (idflow's hits never need one) and fails any POST.

Run (release build of the native library, the repository's venv with msal):

    PROFILE=release scripts/build-native.sh
    cp build/generated/python/idflow.py python/idflow/_native.py
    cp build/lib/libidflow_ffi.so python/idflow/
    .venv/bin/python bench/python_cache.py            # all sizes
    .venv/bin/python bench/python_cache.py 1 1000     # chosen sizes

(`.venv` is what scripts/setup-python.sh creates.)
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.environ.get("IDFLOW_PYTHONPATH", str(REPO / "python")))

import msal  # noqa: E402

import idflow  # noqa: E402

HOST = "login.microsoftonline.com"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10"
AUTHORITY = f"https://{HOST}/{TENANT}"
USER_SCOPES = ["https://graph.microsoft.com/User.Read"]
APP_SCOPES = ["https://graph.microsoft.com/.default"]
SIZES = [1, 1_000, 10_000, 100_000]


def fake_jwt(n: int, size: int) -> str:
    """A token-shaped string of about `size` characters, unique per n."""
    body = f"{n:08d}".encode().hex()
    return ("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + body * (size // len(body) + 1))[:size]


def build_cache(n_users: int) -> str:
    """msal's unified cache JSON: n users with AT/RT/IdT/Account, one app token."""
    now = int(time.time())
    at, rt, idt, acc = {}, {}, {}, {}
    target = " ".join(sorted(USER_SCOPES))

    def at_entry(home, secret, tgt):
        return {
            "credential_type": "AccessToken", "secret": secret, "home_account_id": home,
            "environment": HOST, "client_id": CLIENT, "target": tgt, "realm": TENANT,
            "token_type": "Bearer", "cached_at": str(now), "expires_on": str(now + 3600),
            "extended_expires_on": str(now + 7200),
        }

    for i in range(n_users):
        home = f"{i:08d}-0000-0000-0000-000000000000.{TENANT}"
        key = f"{home}-{HOST}".lower()
        at[f"{key}-accesstoken-{CLIENT}-{TENANT}-{target}".lower()] = at_entry(
            home, fake_jwt(i, 600), target)
        rt[f"{key}-refreshtoken-{CLIENT}--{target}".lower()] = {
            "credential_type": "RefreshToken", "secret": fake_jwt(i, 400),
            "home_account_id": home, "environment": HOST, "client_id": CLIENT,
            "target": target, "last_modification_time": str(now),
        }
        idt[f"{key}-idtoken-{CLIENT}-{TENANT}-".lower()] = {
            "credential_type": "IdToken", "secret": fake_jwt(i, 400), "home_account_id": home,
            "environment": HOST, "realm": TENANT, "client_id": CLIENT,
        }
        acc[f"{key}-{TENANT}".lower()] = {
            "home_account_id": home, "environment": HOST, "realm": TENANT,
            "local_account_id": f"{i:08d}-0000-0000-0000-000000000000",
            "username": f"user{i}@contoso.example", "authority_type": "MSSTS",
            "account_source": "authorization_code",
        }
    app_target = " ".join(sorted(APP_SCOPES))
    at[f"-{HOST}-accesstoken-{CLIENT}-{TENANT}-{app_target}".lower()] = at_entry(
        None, fake_jwt(10**9, 600), app_target)
    return json.dumps({
        "AccessToken": at, "RefreshToken": rt, "IdToken": idt, "Account": acc,
        "AppMetadata": {f"appmetadata-{HOST}-{CLIENT}": {"client_id": CLIENT, "environment": HOST}},
    })


class _Resp:
    def __init__(self, status, text):
        self.status_code, self.text, self.headers = status, text, {}

    def raise_for_status(self):
        if self.status_code >= 400:
            raise RuntimeError(self.status_code)


class StandInHttp:
    """Serves msal's discovery document; a POST would be a request: fails."""

    def get(self, url, **kwargs):
        return _Resp(200, json.dumps({
            "authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/authorize",
            "token_endpoint": f"{AUTHORITY}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/devicecode",
            "issuer": f"https://{HOST}/{TENANT}/v2.0",
        }))

    def post(self, url, **kwargs):
        raise AssertionError(f"the benchmark must not send requests: {url}")

    def close(self):
        pass


def apps(state: str):
    m_cache, i_cache = msal.SerializableTokenCache(), idflow.SerializableTokenCache()
    m_cache.deserialize(state)
    i_cache.deserialize(state)
    m = msal.ConfidentialClientApplication(CLIENT, client_credential="s", authority=AUTHORITY,
                                           token_cache=m_cache, http_client=StandInHttp())
    i = idflow.ConfidentialClientApplication(CLIENT, client_credential="s", authority=AUTHORITY,
                                             token_cache=i_cache)
    return m, i, m_cache, i_cache


def per_call(fn, min_time=0.3, max_calls=200_000):
    """Median seconds per call over batches filling about `min_time`."""
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    batch = max(1, min(max_calls, int(0.05 / one)))
    samples, spent = [], 0.0
    while spent < min_time or len(samples) < 3:
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        dt = time.perf_counter() - t0
        samples.append(dt / batch)
        spent += dt
        if len(samples) >= 50:
            break
    return statistics.median(samples)


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def run_size(n: int):
    state = build_cache(n)
    m, i, m_cache, i_cache = apps(state)
    [m_acc] = m.get_accounts(username="user0@contoso.example")
    [i_acc] = i.get_accounts(username="user0@contoso.example")
    last = f"user{n - 1}@contoso.example"
    q = {"client_id": CLIENT, "environment": HOST, "realm": TENANT,
         "home_account_id": "nobody.nowhere"}

    def check(r):
        assert r and r.get("token_source") == "cache", r
        return r

    check(m.acquire_token_silent(USER_SCOPES, m_acc))
    check(i.acquire_token_silent(USER_SCOPES, i_acc))
    check(m.acquire_token_for_client(APP_SCOPES))
    check(i.acquire_token_for_client(APP_SCOPES))
    assert i._cache_hit(USER_SCOPES, "nobody.nowhere") is None
    heavy = n >= 10_000
    # A token refresh as the cache sees it: one access token rewritten (its
    # secret alternating, so the cache keeps its size). idflow's account
    # list survives it (the accounts generation stays); msal lists again.
    home = {"home_account_id": m_acc["home_account_id"]}
    [m_at] = m_cache.search("AccessToken", target=USER_SCOPES, query=home)
    [i_at] = i_cache.search("AccessToken", target=USER_SCOPES, query=home)
    flips = [0]

    def refreshed(cache, entry):
        flips[0] += 1
        cache.modify("AccessToken", entry, {"secret": f"refreshed-{flips[0] % 2}"})

    # An account change: one account record rewritten with another username
    # (the user signed in again under a new name), alternating. idflow's
    # list is brought up to date by the native side's steps; msal lists again.
    [m_rec] = m_cache.search("Account", query=home)
    [i_rec] = i_cache.search("Account", query=home)
    renames = [0]

    def renamed(cache, entry):
        renames[0] += 1
        cache.modify("Account", entry, {"username": f"renamed-{renames[0] % 2}@contoso.example"})

    rows = [
        ("hit: acquire_token_silent",
         lambda: m.acquire_token_silent(USER_SCOPES, m_acc),
         lambda: i.acquire_token_silent(USER_SCOPES, i_acc)),
        ("hit: acquire_token_for_client",
         lambda: m.acquire_token_for_client(APP_SCOPES),
         lambda: i.acquire_token_for_client(APP_SCOPES)),
        ("miss: lookup before the request",
         lambda: list(m_cache.search("AccessToken", target=USER_SCOPES, query=q)),
         lambda: i._cache_hit(USER_SCOPES, "nobody.nowhere")),
        ("get_accounts()",
         lambda: m.get_accounts(),
         lambda: i.get_accounts()),
        ("get_accounts() after an account change",
         lambda: (renamed(m_cache, m_rec), m.get_accounts()),
         lambda: (renamed(i_cache, i_rec), i.get_accounts())),
        # The list read whole (the memo and the native cursor forgotten: what
        # a load costs); msal reads it whole on every call.
        ("get_accounts() read whole",
         lambda: m.get_accounts(),
         lambda: (setattr(i, "_accounts", None), setattr(i, "_accounts_cursor", None),
                  i.get_accounts())),
        ("get_accounts() after a token refresh",
         lambda: (refreshed(m_cache, m_at), m.get_accounts()),
         lambda: (refreshed(i_cache, i_at), i.get_accounts())),
        ("get_accounts(username)",
         lambda: m.get_accounts(username=last),
         lambda: i.get_accounts(username=last)),
        ("serialize",
         lambda: m_cache.serialize(),
         lambda: i_cache.serialize()),
        ("deserialize",
         lambda: m_cache.deserialize(state),
         lambda: i_cache.deserialize(state)),
    ]
    out = []
    for name, mf, jf in rows:
        budget = 1.0 if heavy else 0.3
        tm, ti = per_call(mf, budget), per_call(jf, budget)
        out.append((name, tm, ti))
    return out


MEMORY_CHILD = """
import ctypes, gc, json, sys
sys.path.insert(0, {python!r})
def trim():
    # Hand freed heap pages back to the OS (glibc keeps them otherwise), so
    # the figure is what the loaded cache keeps, not the parse's peak.
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) * 1024
import msal, idflow
which, path = sys.argv[1], sys.argv[2]
cache = msal.SerializableTokenCache() if which == 'msal' else idflow.SerializableTokenCache()
gc.collect(); trim(); before = rss()
text = open(path).read()
cache.deserialize(text)
del text; gc.collect(); trim()
print(rss() - before)
"""


def memory(n: int):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "cache.json"
        path.write_text(build_cache(n))
        code = MEMORY_CHILD.format(python=sys.path[0])
        got = {}
        for which in ("msal", "idflow"):
            r = subprocess.run([sys.executable, "-c", code, which, str(path)],
                               capture_output=True, text=True, check=True)
            got[which] = int(r.stdout.strip())
        return got, path.stat().st_size


def main(argv):
    sizes = [int(a) for a in argv] or SIZES
    print(f"msal {msal.__version__}, Python {sys.version.split()[0]}; "
          f"cache of N users (AT+RT+IdT+Account each) + 1 app token\n")
    print(f"| operation | N | msal | idflow | msal / idflow |")
    print(f"|---|---:|---:|---:|---:|")
    for n in sizes:
        for name, tm, ti in run_size(n):
            print(f"| {name} | {n:,} | {fmt(tm)} | {fmt(ti)} | {tm / ti:.1f}× |", flush=True)
        gc.collect()
    n = max(sizes)
    got, size = memory(n)
    print(f"\nresident memory of a loaded cache, N = {n:,} (JSON {size / 2**20:.0f} MiB): "
          f"msal {got['msal'] / 2**20:.0f} MiB, idflow {got['idflow'] / 2**20:.0f} MiB "
          f"({got['msal'] / max(got['idflow'], 1):.1f}× less)")


if __name__ == "__main__":
    main(sys.argv[1:])
