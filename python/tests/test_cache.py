"""The token cache and silent acquisition, msal's way: against the emulator
(hits that send nothing, refresh, errors, accounts) and against msal Python
itself (a cache written by one is used by the other)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import msal
import pytest

import idflow
import servers
from servers import (EMULATOR_CONFIDENTIAL, EMULATOR_PASSWORD, EMULATOR_PUBLIC,
                     EMULATOR_SECRET, EMULATOR_TENANT, EMULATOR_USER)

GRAPH = ["User.Read"]
GRAPH_APP = ["https://graph.microsoft.com/.default"]
API = servers.PROVIDER_API
# What msal Python's cache hit returns (besides an optional refresh_on).
MSAL_HIT_KEYS = {"access_token", "token_type", "expires_in", "token_source"}
MSAL_ACCOUNT_KEYS = {"home_account_id", "environment", "username", "authority_type",
                     "local_account_id", "realm"}


def _pca(cache=None, authority=None):
    return servers.public_app(authority=authority, token_cache=cache)


def _cca(cache=None, authority=None):
    return servers.confidential_app(authority=authority, token_cache=cache)


def _sign_in(app):
    r = app.acquire_token_by_username_password(EMULATOR_USER, EMULATOR_PASSWORD, GRAPH)
    assert "access_token" in r, r
    return r


def _token_requests(admin):
    return [r for r in admin.requests() if r["endpoint"] == "token"]


def _closed_port_authority(tenant=EMULATOR_TENANT):
    return f"http://127.0.0.1:{servers.closed_port()}/{tenant}"


# --- silent acquisition against the emulator ---------------------------------


def test_a_cached_token_is_msals_hit_dict_and_sends_nothing(admin):
    app = _pca()
    first = _sign_in(app)
    [account] = app.get_accounts()
    assert set(account) >= MSAL_ACCOUNT_KEYS
    assert account["username"] == EMULATOR_USER
    admin.call("DELETE", "requests")

    hit = app.acquire_token_silent(GRAPH, account)
    assert set(hit) == MSAL_HIT_KEYS, hit
    assert hit["token_source"] == "cache"
    assert hit["access_token"] == first["access_token"]
    assert 3000 < hit["expires_in"] <= 3600
    assert admin.requests() == []


def test_silent_refreshes_inside_the_expiry_buffer_and_caches_the_result(admin):
    # Tokens living 200 s are inside msal's 5-minute buffer at once.
    admin.settings(access_token_lifetime_secs=200)
    app = _pca()
    first = _sign_in(app)
    [account] = app.get_accounts()
    admin.call("DELETE", "requests")
    fresh = app.acquire_token_silent(GRAPH, account)
    assert fresh["token_source"] == "identity_provider"
    assert fresh["access_token"] != first["access_token"]
    [sent] = _token_requests(admin)
    assert sent["grant_type"] == "refresh_token"


def test_force_refresh_and_claims_go_to_the_server(admin):
    app = _pca()
    _sign_in(app)
    [account] = app.get_accounts()
    admin.call("DELETE", "requests")
    assert app.acquire_token_silent(GRAPH, account, force_refresh=True)["token_source"] \
        == "identity_provider"
    claims = json.dumps({"access_token": {"acrs": {"essential": True, "value": "c1"}}})
    assert app.acquire_token_silent(GRAPH, account, claims_challenge=claims)["token_source"] \
        == "identity_provider"
    sent = _token_requests(admin)
    assert len(sent) == 2 and "claims" in sent[1]["param_names"]


def test_a_refused_refresh_is_none_or_the_error_dict_with_classification(admin):
    admin.settings(access_token_lifetime_secs=200)
    cache = idflow.TokenCache()
    app = _pca(cache)
    _sign_in(app)
    [account] = app.get_accounts()
    admin.preset("basic_action")
    assert app.acquire_token_silent(GRAPH, account) is None
    # Asked again at once, the same request is answered locally with the
    # same refusal (the client-side throttle), without a request.
    admin.call("DELETE", "requests")
    err = app.acquire_token_silent_with_error(GRAPH, account)
    assert _token_requests(admin) == []
    assert err["error"] == "invalid_grant"
    assert err["classification"] == "basic_action"
    assert err["suberror"] == "basic_action"
    # The refresh token is kept (only bad_token proves it dead). The same
    # request is now blocked locally for 120 s (MSAL.NET's UI-required
    # throttle), so the next one asks for another scope.
    assert len(list(app.token_cache.search("RefreshToken"))) == 1
    other = ["Mail.Read"]
    admin.preset("bad_token")
    err = app.acquire_token_silent_with_error(other, account)
    assert (err["error"], err["classification"]) == ("invalid_grant", "")
    # Now the cache holds nothing usable: None, decided without a request.
    assert list(app.token_cache.search("RefreshToken")) == []
    admin.call("DELETE", "requests")
    assert app.acquire_token_silent_with_error(other, account) is None
    assert _token_requests(admin) == []


def test_silent_without_an_account_or_tokens_is_none(admin):
    app = _pca()
    assert app.acquire_token_silent(GRAPH, None) is None
    assert app.acquire_token_silent_with_error(GRAPH, None) is None
    stranger = {"home_account_id": "uid.utid", "environment": "127.0.0.1", "realm": "utid",
                "username": "x@example.com", "local_account_id": "uid"}
    assert app.acquire_token_silent_with_error(GRAPH, stranger) is None
    assert admin.requests() == []
    with pytest.raises(ValueError):
        app.acquire_token_silent(["openid"], stranger)


def test_accounts_filter_and_removal(admin):
    app = _pca()
    _sign_in(app)
    assert len(app.get_accounts(username=EMULATOR_USER.upper())) == 1
    assert app.get_accounts(username="nobody@example.com") == []
    [account] = app.get_accounts()
    app.remove_account(account)
    assert app.get_accounts() == []
    assert app.acquire_token_silent(GRAPH, account) is None


def test_client_credentials_answer_from_the_cache(admin):
    app = _cca()
    first = app.acquire_token_for_client(GRAPH_APP)
    assert first["token_source"] == "identity_provider"
    again = app.acquire_token_for_client(GRAPH_APP)
    assert again["token_source"] == "cache"
    assert set(again) == MSAL_HIT_KEYS
    assert again["access_token"] == first["access_token"]
    assert len(_token_requests(admin)) == 1
    with pytest.raises(ValueError):
        app.acquire_token_for_client(GRAPH_APP, force_refresh=True)


def test_serializable_cache_round_trip_and_offline_hits(admin):
    cache = idflow.SerializableTokenCache()
    assert not cache.has_state_changed
    first = _sign_in(_pca(cache))
    _cca(cache).acquire_token_for_client(GRAPH_APP)
    assert cache.has_state_changed
    state = cache.serialize()
    assert not cache.has_state_changed
    doc = json.loads(state)
    assert {"AccessToken", "RefreshToken", "IdToken", "Account", "AppMetadata"} <= set(doc)
    assert len(list(cache.search(idflow.TokenCache.CredentialType.REFRESH_TOKEN))) == 1
    [user_at] = [e for e in cache.search("AccessToken") if e["home_account_id"]]
    # Scopes compare as msal compares them: the granted strings, exactly.
    scope = user_at["target"].split()[0]
    assert list(cache.search("AccessToken", target=[scope])) == [user_at]
    assert list(cache.search("AccessToken", target=[scope.swapcase()])) == []
    assert not cache.has_state_changed, "a search that drops nothing does not mark the cache changed"

    # Another process, no network: the authority's port is closed.
    loaded = idflow.SerializableTokenCache()
    loaded.deserialize(state)
    offline = _closed_port_authority()
    app = _pca(loaded, authority=offline)
    [account] = app.get_accounts()
    assert app.acquire_token_silent(GRAPH, account)["access_token"] == first["access_token"]
    assert _cca(loaded, authority=offline).acquire_token_for_client(GRAPH_APP)["token_source"] \
        == "cache"
    with pytest.raises(ValueError):
        loaded.deserialize("not json")
    loaded.deserialize(None)
    assert _pca(loaded, authority=offline).get_accounts() == []
    # An app that listed the accounts before sees every later change of its cache.
    assert app.get_accounts() == []
    loaded.deserialize(state)
    assert app.get_accounts() == [account]
    app.get_accounts()[0]["username"] = "changed by the caller"
    loaded.deserialize(None)
    assert app.get_accounts() == []


def test_attach_file_persists_between_caches(admin, tmp_path):
    path = tmp_path / "cache.json"
    cache = idflow.SerializableTokenCache()
    cache.attach_file(str(path))
    first = _sign_in(_pca(cache))
    assert path.exists()
    other = idflow.SerializableTokenCache()
    other.attach_file(str(path))
    app = _pca(other, authority=_closed_port_authority())
    [account] = app.get_accounts()
    assert app.acquire_token_silent(GRAPH, account)["access_token"] == first["access_token"]


def test_a_cache_msal_wrote_gives_idflow_a_silent_hit(admin):
    # msal cannot talk to the plain-http emulator, but its cache can record a
    # real emulator answer: the event msal's own client would have added.
    answer = _pca().acquire_token_by_username_password(EMULATOR_USER, EMULATOR_PASSWORD, GRAPH)
    written = msal.SerializableTokenCache()
    written.add({
        "client_id": EMULATOR_PUBLIC,
        "scope": answer["scope"].split(),
        "token_endpoint": f"https://127.0.0.1/{EMULATOR_TENANT}/oauth2/v2.0/token",
        "environment": "127.0.0.1",
        "grant_type": "password",
        "response": dict(answer),
        "data": {"username": EMULATOR_USER},
    })
    cache = idflow.SerializableTokenCache()
    cache.deserialize(written.serialize())
    admin.call("DELETE", "requests")
    app = _pca(cache)
    [account] = app.get_accounts()
    assert account["home_account_id"] == list(written.search("Account"))[0]["home_account_id"]
    hit = app.acquire_token_silent(GRAPH, account)
    assert hit["token_source"] == "cache" and hit["access_token"] == answer["access_token"]
    assert admin.requests() == []


# --- against msal Python on the TLS OpenID provider --------------------------


def _peer_apps(provider, cache_m, cache_i, authority=None):
    c = provider["clients"]["native"]
    return (msal.PublicClientApplication(c["client_id"], oidc_authority=provider["issuer"],
                                         token_cache=cache_m),
            idflow.PublicClientApplication(c["client_id"], verify=provider["cafile"],
                                           oidc_authority=authority or provider["issuer"],
                                           token_cache=cache_i))


def test_msals_cache_loads_in_idflow_and_hits_offline(provider):
    m_cache = msal.SerializableTokenCache()
    m_app, _ = _peer_apps(provider, m_cache, None)
    _, signed_in = servers.device_sign_in(provider, m_app)
    assert "access_token" in signed_in, signed_in
    m_hit = m_app.acquire_token_silent(API, m_app.get_accounts()[0])

    i_cache = idflow.SerializableTokenCache()
    i_cache.deserialize(m_cache.serialize())
    # The same host and path, a closed port: a hit needs no network at all.
    issuer = urlsplit(provider["issuer"])
    offline = issuer._replace(netloc=f"{issuer.hostname}:{servers.closed_port()}").geturl()
    _, i_app = _peer_apps(provider, None, i_cache, authority=offline)
    [i_account] = i_app.get_accounts()
    [m_account] = m_app.get_accounts()
    assert {k: i_account[k] for k in MSAL_ACCOUNT_KEYS} == {k: m_account[k] for k in MSAL_ACCOUNT_KEYS}
    i_hit = i_app.acquire_token_silent(API, i_account)
    assert i_hit["access_token"] == signed_in["access_token"] == m_hit["access_token"]
    assert set(i_hit) == set(m_hit), (sorted(i_hit), sorted(m_hit))
    assert i_hit["token_source"] == m_hit["token_source"] == "cache"


def test_idflows_cache_loads_in_msal_and_hits(provider):
    i_cache = idflow.SerializableTokenCache()
    _, i_app = _peer_apps(provider, None, i_cache)
    _, signed_in = servers.device_sign_in(provider, i_app)
    assert "access_token" in signed_in, signed_in

    m_cache = msal.SerializableTokenCache()
    m_cache.deserialize(i_cache.serialize())
    m_app, _ = _peer_apps(provider, m_cache, None)
    [m_account] = m_app.get_accounts()
    assert m_account["username"] == i_app.get_accounts()[0]["username"]
    m_hit = m_app.acquire_token_silent(API, m_account)
    assert m_hit is not None
    assert m_hit["token_source"] == "cache", "msal used the cached token, sent no request"
    assert m_hit["access_token"] == signed_in["access_token"]
    # msal's refresh with idflow's refresh token works too.
    m_fresh = m_app.acquire_token_silent(API, m_account, force_refresh=True)
    assert m_fresh["token_source"] == "identity_provider", m_fresh
