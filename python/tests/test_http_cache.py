"""msal's ``http_cache``: idflow fills the app's dict-like object with the
answers to its discovery GETs and a second app built over the same object
(here after a pickle round trip, as msal's recipe persists it between runs)
sends none of them again — read from the emulator's request log."""

from __future__ import annotations

import pickle

import servers
from servers import EMULATOR_TENANT

APP_SCOPE = ["https://graph.microsoft.com/.default"]


def _not_token(admin):
    return [r for r in admin.requests() if r.get("endpoint") != "token"]


def _token(admin):
    return [r for r in admin.requests() if r.get("endpoint") == "token"]


def test_a_second_app_over_the_same_http_cache_sends_no_discovery(admin):
    cache = {"kept": "the app's own entries stay"}
    first = servers.confidential_app(authority=servers.emulator_authority(EMULATOR_TENANT),
                                     http_cache=cache)
    assert "access_token" in first.acquire_token_for_client(APP_SCOPE)
    discovery = _not_token(admin)
    assert discovery, "the first app reads the authority's metadata"
    ours = [k for k in cache if isinstance(k, str) and k.startswith("idflow GET ")]
    assert len(ours) == len(discovery) and cache["kept"] == "the app's own entries stay"
    assert all(isinstance(cache[k], bytes) for k in ours)

    loaded = pickle.loads(pickle.dumps(cache))
    second = servers.confidential_app(authority=servers.emulator_authority(EMULATOR_TENANT),
                                      http_cache=loaded)
    assert "access_token" in second.acquire_token_for_client(APP_SCOPE)
    assert _not_token(admin) == discovery, "no discovery request from the second app"
    assert len(_token(admin)) == 2  # its own token cache: the token request is sent

    # Without the shared object a new app does read the metadata again.
    third = servers.confidential_app(authority=servers.emulator_authority(EMULATOR_TENANT))
    assert "access_token" in third.acquire_token_for_client(APP_SCOPE)
    assert len(_not_token(admin)) == 2 * len(discovery)


def test_a_failing_or_foreign_http_cache_only_costs_requests(admin):
    class Broken(dict):
        def __setitem__(self, key, value):
            raise RuntimeError("read-only store")

    app = servers.confidential_app(http_cache=Broken())
    assert "access_token" in app.acquire_token_for_client(APP_SCOPE)
    # Values idflow did not write (msal's own entries) are ignored, not read.
    foreign = {f"idflow GET {servers.emulator_authority()}/v2.0/.well-known/openid-configuration 2xx":
               "not bytes"}
    app = servers.confidential_app(http_cache=foreign)
    assert "access_token" in app.acquire_token_for_client(APP_SCOPE)
