"""msal's entry-level cache API (``TokenCache.search`` / ``add`` / ``modify`` /
``remove_*`` / ``update_rt``), ``remove_tokens_for_client`` and the per-call
``authority`` msal 1.39 takes, with msal Python 1.39 as the peer: the same
events and queries go to both caches in the same run, and every answer and
every resulting cache must be equal entry by entry, member by member."""

from __future__ import annotations

import base64
import json
import warnings

import msal  # the peer (scripts/setup-python.sh installs it: a missing peer fails, never skips)
import pytest

import idflow
import servers
from test_http_peer import AAD, APP_SCOPE, GRAPH, RecordingSession

ENV = "login.example.com"
NOW = 1_700_000_000


def _b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _id_token(**claims):
    return "e30." + _b64(claims) + ".c2ln"


def _user_event(uid, tenant, client="c1", scope=("https://api.example/read", "User.Read"), **extra):
    response = {
        "access_token": f"at-{uid}-{client}", "refresh_token": f"rt-{uid}-{client}",
        "id_token": _id_token(sub=f"sub-{uid}", oid=f"oid-{uid}", tid=tenant,
                              preferred_username=f"{uid}@Example.com"),
        "client_info": _b64({"uid": uid, "utid": tenant}), "expires_in": 3600,
        "token_type": "Bearer",
    }
    response.update(extra.pop("response", {}))
    event = {"client_id": client, "scope": list(scope),
             "token_endpoint": f"https://{ENV}/{tenant}/oauth2/v2.0/token",
             "response": response, "data": {}, "grant_type": "authorization_code"}
    event.update(extra)
    return event


# Events covering what msal's add distinguishes: accounts from client_info,
# from an id token only (ADFS-style), none (app tokens); FOCI; refresh_in;
# expires_on instead of expires_in; an extended cache key; key_id; skipped
# account creation; an explicit environment; another grant.
EVENTS = [
    _user_event("u1", "t1"),
    _user_event("u1", "t2", scope=("https://api.example/read",)),
    _user_event("u2", "t1", client="c2", response={"foci": "1", "refresh_in": 1800}),
    _user_event("u3", "t1", grant_type="refresh_token", skip_account_creation=True),
    {"client_id": "c1", "scope": ["https://api.example/.default"],
     "token_endpoint": f"https://{ENV}/t1/oauth2/v2.0/token",
     "response": {"access_token": "app-1", "expires_in": 600}, "data": {}},
    {"client_id": "c1", "scope": ["https://other.example/.default"],
     "token_endpoint": f"https://{ENV}/t1/oauth2/v2.0/token",
     "response": {"access_token": "app-2", "expires_on": str(NOW + 100)},
     "data": {"fmi_path": "workloads/one"}},
    {"client_id": "c3", "scope": ["s"], "environment": "Other.Example.com",
     "token_endpoint": "https://adfs.example.com/adfs/oauth2/token",
     "response": {"access_token": "adfs-at", "id_token": _id_token(sub="adfs-user", upn="x@adfs"),
                  "expires_in": 50},
     "data": {"key_id": "k1", "username": "x@adfs"}, "grant_type": "password"},
]

QUERIES = [
    ("AccessToken", None, None),
    ("AccessToken", ["User.Read"], {"home_account_id": "u1.t1", "environment": ENV}),
    ("AccessToken", ["user.read"], {"home_account_id": "u1.t1", "environment": ENV}),
    ("AccessToken", ["https://api.example/read", "User.Read"],
     {"home_account_id": "u1.t1", "environment": ENV.upper(), "client_id": "c1", "realm": "t1"}),
    ("AccessToken", [], {"home_account_id": None, "client_id": "c1", "environment": ENV}),
    ("AccessToken", ["https://api.example/.default"],
     {"home_account_id": None, "environment": ENV, "client_id": "c1", "realm": "t1"}),
    ("AccessToken", [], {"home_account_id": None, "client_id": "c1", "environment": ENV,
                         "ext_cache_key": None}),
    ("AccessToken", [], {"client_id": "c3"}),
    ("AccessToken", [], {"key_id": "k1"}),
    ("RefreshToken", [], {"environment": ENV}),
    ("RefreshToken", [], {"home_account_id": "u1.t1", "environment": ENV, "client_id": "c1"}),
    ("RefreshToken", [], {"home_account_id": "u2.t1", "environment": ENV, "family_id": "1"}),
    ("RefreshToken", ["https://api.example/read"], {"home_account_id": "u1.t1", "environment": ENV}),
    ("IdToken", [], {"home_account_id": "u1.t2", "environment": ENV, "realm": "t2"}),
    ("IdToken", [], {"home_account_id": "adfs-user"}),
    ("Account", [], {"environment": ENV, "username": "u1@Example.com"}),
    ("Account", [], {"environment": ENV, "username": "u1@example.com"}),
    ("Account", [], {"home_account_id": "u1.t1", "environment": ENV}),
    ("Account", None, None),
    ("AppMetadata", [], {"environment": ENV, "client_id": "c2"}),
    ("AppMetadata", [], {"client_id": "c3"}),
    ("AppMetadata", None, None),
]


def _sorted(entries):
    return sorted(entries, key=lambda e: json.dumps(e, sort_keys=True))


def _state(cache):
    """The serialized cache as data (idflow writes compact JSON, msal indented)."""
    return json.loads(cache.serialize())


@pytest.fixture
def caches():
    ours, theirs = idflow.SerializableTokenCache(), msal.SerializableTokenCache()
    for cache in (ours, theirs):
        for event in EVENTS:
            cache.add(event, now=NOW)
    return ours, theirs


def _same_answers(ours, theirs, now):
    for credential_type, target, query in QUERIES:
        got = list(ours.search(credential_type, target=target, query=query, now=now))
        want = list(theirs.search(credential_type, target=target, query=query, now=now))
        assert _sorted(got) == _sorted(want), (credential_type, target, query)
        if want and credential_type == "AccessToken" and target and query and "realm" in query:
            # msal's O(1) path answers the entry under the query's own key first.
            assert got[0] == want[0]


def test_add_writes_what_msal_writes(caches):
    ours, theirs = caches
    assert ours.has_state_changed and theirs.has_state_changed
    assert _state(ours) == _state(theirs)
    assert len(_state(ours)["AccessToken"]) == len(EVENTS)


def test_search_answers_equal_and_survive_serialization(caches):
    ours, theirs = caches
    _same_answers(ours, theirs, NOW)
    # Each side's serialization loaded into the other library: still the same answers.
    mine, peers = _state(ours), _state(theirs)
    crossed_ours, crossed_theirs = idflow.SerializableTokenCache(), msal.SerializableTokenCache()
    crossed_ours.deserialize(theirs.serialize())
    crossed_theirs.deserialize(ours.serialize())
    assert mine == peers
    _same_answers(crossed_ours, crossed_theirs, NOW)
    _same_answers(crossed_ours, theirs, NOW)


def test_search_drops_expired_access_tokens_as_msal_does(caches):
    ours, theirs = caches
    for cache in (ours, theirs):
        cache.serialize()  # has_state_changed back to False
    # Nothing expired yet: a search changes nothing.
    for cache in (ours, theirs):
        list(cache.search("AccessToken", query={"client_id": "nobody"}, now=NOW))
        assert not cache.has_state_changed
    # 200 s later the expires_on (+100) and expires_in=50 tokens are gone,
    # whatever the query named.
    later = NOW + 200
    for cache in (ours, theirs):
        assert list(cache.search("AccessToken", query={"client_id": "nobody"}, now=later)) == []
        assert cache.has_state_changed
    assert _state(ours) == _state(theirs)
    assert len(_state(ours)["AccessToken"]) == len(EVENTS) - 2
    _same_answers(ours, theirs, later)


def test_modify_and_removals_as_msal(caches):
    ours, theirs = caches
    env_query = {"home_account_id": "u1.t1", "environment": ENV}
    for cache in (ours, theirs):
        cache.serialize()
        rt = next(cache.search("RefreshToken", query=dict(env_query, client_id="c1")))
        cache.modify("RefreshToken", rt, {"secret": "rotated", "last_modification_time": "5"})
        assert cache.has_state_changed
        at = next(cache.search("AccessToken", ["User.Read"], query=env_query, now=NOW))
        cache.remove_at(at)
        idt = next(cache.search("IdToken", query={"home_account_id": "u1.t2", "environment": ENV}))
        cache.remove_idt(idt)
        account = next(cache.search("Account", query={"home_account_id": "u2.t1", "environment": ENV}))
        cache.remove_account(account)
        rt2 = next(cache.search("RefreshToken", query={"home_account_id": "u2.t1", "environment": ENV}))
        cache.remove_rt(rt2)
        # A key-changing update of the app metadata, and a new entry from nothing.
        cache.modify("AppMetadata", {"client_id": "new", "environment": ENV},
                     {"client_id": "new", "environment": ENV, "family_id": "1"})
        # An empty update removes, as msal's `if new_key_value_pairs:` does.
        meta = next(cache.search("AppMetadata", query={"client_id": "c3"}))
        cache.modify("AppMetadata", meta, {})
    assert _state(ours) == _state(theirs)
    _same_answers(ours, theirs, NOW)
    # update_rt stamps the time of the call: compared apart from that member.
    for cache in (ours, theirs):
        rt = next(cache.search("RefreshToken", query=dict(env_query, client_id="c1")))
        cache.update_rt(rt, "rotated-again")
    strip = lambda s: {k: {kk: {m: v for m, v in e.items() if m != "last_modification_time"}  # noqa: E731
                           for kk, e in sec.items()} for k, sec in s.items()}
    assert strip(_state(ours)) == strip(_state(theirs))


def test_removals_check_the_entry_kind_as_msal(caches):
    ours, theirs = caches
    at = next(ours.search("AccessToken", query={"client_id": "c3"}, now=NOW))
    for cache in (ours, theirs):
        with pytest.raises(AssertionError):
            cache.remove_rt(at)
        with pytest.raises(AssertionError):
            cache.remove_account({"home_account_id": "x"})
    with pytest.raises(KeyError):
        ours.modify("Nope", {})
    assert list(ours.search("Nope")) == list(theirs.search("Nope")) == []


def test_find_is_deprecated_as_in_msal(caches):
    ours, theirs = caches
    with pytest.warns(DeprecationWarning):
        got = ours.find("RefreshToken", query={"environment": ENV})
    with pytest.warns(DeprecationWarning):
        want = theirs.find("RefreshToken", query={"environment": ENV})
    assert _sorted(got) == _sorted(want) and len(got) == 4


def _confidential(tenant=servers.EMULATOR_TENANT, **kwargs):
    sessions = RecordingSession(), RecordingSession()
    authority = f"{AAD}/{tenant}"
    return sessions, (
        msal.ConfidentialClientApplication(
            servers.EMULATOR_CONFIDENTIAL, client_credential=servers.EMULATOR_SECRET,
            authority=authority, http_client=sessions[0],
            token_cache=msal.SerializableTokenCache(), **kwargs),
        idflow.ConfidentialClientApplication(
            servers.EMULATOR_CONFIDENTIAL, client_credential=servers.EMULATOR_SECRET,
            authority=authority, http_client=sessions[1],
            token_cache=idflow.SerializableTokenCache(), **kwargs))


def _public(tenant):
    sessions = RecordingSession(), RecordingSession()
    authority = f"{AAD}/{tenant}"
    return sessions, (
        msal.PublicClientApplication(servers.EMULATOR_PUBLIC, authority=authority,
                                     http_client=sessions[0]),
        idflow.PublicClientApplication(servers.EMULATOR_PUBLIC, authority=authority,
                                       http_client=sessions[1]))


def _sections(cache):
    state = _state(cache)
    return {name: sorted(state.get(name, {})) for name in ("AccessToken", "RefreshToken", "Account")}


def test_remove_tokens_for_client_removes_app_tokens_only(admin):
    # Without instance discovery msal looks for no other hosts of the cloud
    # (the emulator answers no instance discovery for login.microsoftonline.com).
    _, apps = _confidential(instance_discovery=False)
    for app in apps:
        assert "access_token" in app.acquire_token_for_client(APP_SCOPE)
        # A user token of this client and an app token of another client stay.
        app.token_cache.add(dict(_user_event("u9", "t9", client=servers.EMULATOR_CONFIDENTIAL),
                                 token_endpoint=f"{AAD}/t9/oauth2/v2.0/token"))
        app.token_cache.add({"client_id": "another", "scope": APP_SCOPE,
                             "token_endpoint": f"{AAD}/t9/oauth2/v2.0/token",
                             "response": {"access_token": "x", "expires_in": 3600}})
    before = [_sections(app.token_cache) for app in apps]
    assert before[0] == before[1] and len(before[0]["AccessToken"]) == 3
    for app in apps:
        assert app.remove_tokens_for_client() is None
    after = [_sections(app.token_cache) for app in apps]
    assert after[0] == after[1]
    assert len(after[0]["AccessToken"]) == 2
    assert all(not k.startswith("-") or "another" in k for k in after[0]["AccessToken"])
    # The next app token needs the network again, in both.
    for app in apps:
        assert app.acquire_token_for_client(APP_SCOPE)["token_source"] == "identity_provider"


def test_silent_authority_warns_and_uses_the_apps_own_as_msal(admin):
    """msal 1.39 takes ``authority`` on the silent calls, warns, and answers
    from the app's own authority; idflow does the same, so an app written
    for msal behaves alike (a token of tenant B needs an app of tenant B)."""
    tenant_a, tenant_b = "tenant-a.example", "tenant-b.example"
    plain = servers.public_app(authority=servers.emulator_authority("organizations"))
    (ms, ids), apps = _public(tenant_a)
    results = []
    for app in apps:
        rt = plain.acquire_token_by_username_password(
            servers.EMULATOR_USER, servers.EMULATOR_PASSWORD, GRAPH)["refresh_token"]
        assert "access_token" in app.acquire_token_by_refresh_token(rt, GRAPH)
        account = app.get_accounts()[0]
        for silent in (app.acquire_token_silent, app.acquire_token_silent_with_error):
            with pytest.warns(UserWarning, match="authority parameter"):
                result = silent(GRAPH, account, authority=f"{AAD}/{tenant_b}")
            assert result and "access_token" in result, result
        results.append(result)
    # Whatever each answered from (idflow's cache matches the granted short
    # scope form, msal refreshes), every request went to tenant A, none to B.
    for session in (ms, ids):
        paths = [p for m, p, _, _ in session.sent if m == "POST"]
        assert paths and all(p.startswith(f"/{tenant_a}/") for p in paths), paths


def test_authorization_url_takes_a_per_call_authority_as_msal(admin):
    tenant_a, tenant_b = "tenant-a.example", "tenant-b.example"
    _, apps = _confidential(tenant_a)
    urls = []
    for app in apps:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            urls.append([app.get_authorization_request_url(GRAPH, redirect_uri="http://localhost/cb",
                                                           authority=f"{AAD}/{t}")
                         for t in (tenant_b, tenant_a)])
        with pytest.warns(UserWarning, match="authority parameter"):
            app.get_authorization_request_url(GRAPH, authority=f"{AAD}/{tenant_b}")
    for url_b, url_a in urls:
        assert url_b.startswith(f"{AAD}/{tenant_b}/oauth2/v2.0/authorize?"), url_b
        assert url_a.startswith(f"{AAD}/{tenant_a}/oauth2/v2.0/authorize?"), url_a


def test_user_fic_grant_is_refused_with_a_reason():
    app = servers.confidential_app()
    with pytest.raises(ValueError, match="user_fic grant"):
        app.acquire_token_by_user_federated_identity_credential(GRAPH, "assertion", username="u")
    assert "user_fic" in idflow.application.REFUSED["assertion"]
