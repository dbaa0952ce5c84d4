"""Managed identity: idflow's ManagedIdentityClient and msal Python 1.39's
against the same emulator, source by source. The environment variables of
each source point both at the emulator (msal reads os.environ; so does
idflow's core, at each request). For each outcome the result dicts are
compared key by key (idflow may add only its documented extras), and both
libraries must leave equal token caches.

Cloud Shell is idflow's alone, with the expected dicts written out: msal
Python's ManagedIdentityClient sends a process with only MSI_ENDPOINT to IMDS
(its Cloud Shell support is in the public client). Service Fabric is here on
plain http for idflow alone; msal 1.39 talks to it only over https pinned to
IDENTITY_SERVER_THUMBPRINT, so the comparison with msal is in
test_managed_identity_service_fabric.py, against a TLS emulator."""

from __future__ import annotations

import json
import os

import msal  # the peer: scripts/setup-python.sh installs it (a missing peer fails, never skips)
import msal.managed_identity as msal_mi
import pytest
import requests

import idflow
import idflow.managed_identity as idflow_mi

import servers

RESOURCE = "https://management.azure.com"
VARIABLES = (
    "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT",
    "MSI_ENDPOINT", "MSI_SECRET", "AZURE_POD_IDENTITY_AUTHORITY_HOST",
)
PEER_SOURCES = ["imds", "app_service", "azure_arc", "machine_learning"]
# Keys idflow adds to an error dict msal returns.
IDFLOW_EXTRAS = {
    "error_kind", "action", "mitigation", "retryable", "retry_after", "http_status",
    "headers", "correlation_id", "error_codes", "trace_id", "timestamp",
}
# Values that differ by nature between two token requests.
PER_REQUEST = {"access_token"}
# Seconds-valued keys: equal up to the requests' few seconds apart.
SECONDS = {"expires_in", "refresh_in", "refresh_on"}


@pytest.fixture
def mi(admin, monkeypatch):
    """The emulator's managed identity details; the process environment
    cleared of every managed identity variable, and both libraries told to
    trust the emulator's Azure Arc key directory."""
    info = admin.call("GET", "managed_identity")
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(msal_mi, "_supported_arc_platforms_and_their_prefixes",
                        {"linux": info["arc_key_directory"]})
    monkeypatch.setattr(msal_mi.sys, "platform", "linux")
    monkeypatch.setattr(idflow_mi, "_arc_key_directory", info["arc_key_directory"])
    return info


def use(monkeypatch, info, source, **override):
    for name, value in {**info["sources"][source], **override}.items():
        monkeypatch.setenv(name, value)


def both(identity, **kwargs):
    """An msal client and an idflow client for `identity` (msal's dict form
    for idflow: the classes are equal to it)."""
    mc = msal.ManagedIdentityClient(identity, http_client=requests.Session(),
                                    token_cache=msal.SerializableTokenCache(), **kwargs)
    ic = idflow.ManagedIdentityClient(dict(identity), token_cache=idflow.SerializableTokenCache(),
                                      **kwargs)
    return mc, ic


def outcome(call):
    """A call's dict, or the exception class family it raised."""
    try:
        return call()
    except ValueError as e:
        return ("raised", "ValueError", type(e).__name__)
    except OSError as e:
        return ("raised", "OSError", type(e).__name__)


def assert_same(msal_result, idflow_result, what):
    if isinstance(msal_result, tuple):
        assert isinstance(idflow_result, tuple), (what, idflow_result)
        assert msal_result[1] == idflow_result[1], (what, msal_result, idflow_result)
        return
    assert isinstance(idflow_result, dict), (what, idflow_result)
    extra = set(idflow_result) - set(msal_result)
    if "error" in msal_result:
        assert extra <= IDFLOW_EXTRAS, (what, extra)
    else:
        assert not extra, (what, extra)
    for key, value in msal_result.items():
        assert key in idflow_result, (what, key, msal_result, idflow_result)
        if key in PER_REQUEST:
            assert isinstance(idflow_result[key], type(value)), (what, key)
        elif key in SECONDS:
            assert abs(idflow_result[key] - value) <= 5, (what, key, value, idflow_result[key])
        else:
            assert idflow_result[key] == value, (what, key, value, idflow_result[key])


def cache_entries(serialized):
    """The cache's entries without the per-request values."""
    doc = json.loads(serialized)
    out = {}
    for section in ("AccessToken", "RefreshToken", "IdToken", "Account", "AppMetadata"):
        entries = {}
        for key, entry in doc.get(section, {}).items():
            entries[key] = {k: v for k, v in entry.items()
                            if k not in {"secret", "cached_at", "expires_on",
                                         "extended_expires_on", "refresh_on"}}
        out[section] = entries
    return out


def assert_equal_caches(mc, ic, what):
    m = cache_entries(mc._token_cache.serialize())
    i = cache_entries(ic.token_cache.serialize())
    assert m == i, (what, m, i)
    # Same refresh_on presence and values within seconds.
    mat = json.loads(mc._token_cache.serialize())["AccessToken"]
    iat = json.loads(ic.token_cache.serialize())["AccessToken"]
    for key, entry in mat.items():
        for k in ("expires_on", "extended_expires_on", "refresh_on"):
            assert (k in entry) == (k in iat[key]), (what, k)
            if k in entry:
                assert abs(int(entry[k]) - int(iat[key][k])) <= 5, (what, k)


def identities(info, source):
    ids = [msal.SystemAssignedManagedIdentity()]
    if source in ("imds", "app_service", "machine_learning", "azure_arc"):
        user = info["user_assigned"]
        ids += [
            msal.UserAssignedManagedIdentity(client_id=user["client_id"]),
            msal.UserAssignedManagedIdentity(resource_id=user["resource_id"]),
            msal.UserAssignedManagedIdentity(object_id=user["object_id"]),
        ]
    return ids


def test_identities_equal_msals_dict_forms():
    assert idflow.SystemAssignedManagedIdentity() == msal.SystemAssignedManagedIdentity()
    for kw in ({"client_id": "c"}, {"resource_id": "/r"}, {"object_id": "o"}):
        assert idflow.UserAssignedManagedIdentity(**kw) == msal.UserAssignedManagedIdentity(**kw)
        assert dict(idflow.UserAssignedManagedIdentity(**kw)) == dict(
            msal.UserAssignedManagedIdentity(**kw))
    for bad in ({}, {"client_id": "c", "object_id": "o"}):
        with pytest.raises(idflow.ManagedIdentityError):
            idflow.UserAssignedManagedIdentity(**bad)
        with pytest.raises(msal.ManagedIdentityError):
            msal.UserAssignedManagedIdentity(**bad)
    assert issubclass(idflow.ManagedIdentityError, ValueError)
    with pytest.raises(idflow.ManagedIdentityError):
        idflow.ManagedIdentityClient({"ManagedIdentityIdType": "ClientId", "Id": ""})


@pytest.mark.parametrize("source", PEER_SOURCES)
def test_success_then_cache_same_dicts_and_caches(mi, monkeypatch, source):
    use(monkeypatch, mi, source)
    for identity in identities(mi, source):
        mc, ic = both(identity)
        what = (source, dict(identity))
        first_m = mc.acquire_token_for_client(resource=RESOURCE)
        first_i = ic.acquire_token_for_client(resource=RESOURCE)
        assert "access_token" in first_m, (what, first_m)
        assert_same(first_m, first_i, what)
        assert first_i["token_source"] == "identity_provider"
        second_m = mc.acquire_token_for_client(resource=RESOURCE)
        second_i = ic.acquire_token_for_client(resource=RESOURCE)
        assert second_m["token_source"] == "cache"
        assert_same(second_m, second_i, what)
        assert_equal_caches(mc, ic, what)
        # A claims challenge goes back to the source in both.
        third_i = ic.acquire_token_for_client(resource=RESOURCE, claims_challenge='{"x":1}')
        assert third_i["token_source"] == "identity_provider"


def test_repeated_hits_follow_the_cache(mi, monkeypatch):
    """The hit path answers from a prepared native probe: the cached token
    again (a new dict each time), the newer one once the cache holds another,
    and a request once nothing usable is cached."""
    use(monkeypatch, mi, "imds")
    ic = idflow.ManagedIdentityClient(idflow.SystemAssignedManagedIdentity(),
                                      token_cache=idflow.SerializableTokenCache())
    first = ic.acquire_token_for_client(resource=RESOURCE)
    hits = [ic.acquire_token_for_client(resource=RESOURCE) for _ in range(3)]
    for hit in hits:
        assert hit["token_source"] == "cache"
        assert hit["access_token"] == first["access_token"]
        assert 0 < hit["expires_in"] <= first["expires_in"]
    hits[0]["access_token"] = "changed by the caller"
    assert ic.acquire_token_for_client(resource=RESOURCE)["access_token"] == first["access_token"]
    fresh = ic.acquire_token_for_client(resource=RESOURCE, claims_challenge='{"x":1}')
    assert fresh["token_source"] == "identity_provider"
    assert fresh["access_token"] != first["access_token"]
    again = ic.acquire_token_for_client(resource=RESOURCE)
    assert (again["token_source"], again["access_token"]) == ("cache", fresh["access_token"])
    ic.token_cache.deserialize("{}")
    assert ic.acquire_token_for_client(resource=RESOURCE)["token_source"] == "identity_provider"


@pytest.mark.parametrize("source", PEER_SOURCES)
def test_the_services_refusals_same_dicts(mi, monkeypatch, source):
    use(monkeypatch, mi, source)
    mc, ic = both(msal.SystemAssignedManagedIdentity())
    m = outcome(lambda: mc.acquire_token_for_client(resource="not a resource"))
    i = outcome(lambda: ic.acquire_token_for_client(resource="not a resource"))
    assert isinstance(m, dict) and "error" in m, m
    assert_same(m, i, (source, "unknown resource"))
    assert i["error_kind"] == "service"


@pytest.mark.parametrize("source,variable", [
    ("app_service", "IDENTITY_HEADER"),
    ("machine_learning", "MSI_SECRET"),
])
def test_a_wrong_secret_same_dicts(mi, monkeypatch, source, variable):
    use(monkeypatch, mi, source, **{variable: "wrong"})
    mc, ic = both(msal.SystemAssignedManagedIdentity())
    m = outcome(lambda: mc.acquire_token_for_client(resource=RESOURCE))
    i = outcome(lambda: ic.acquire_token_for_client(resource=RESOURCE))
    assert_same(m, i, (source, "wrong secret"))
    assert "wrong" not in json.dumps(i)


@pytest.mark.parametrize("source", PEER_SOURCES)
def test_unknown_user_assigned_identity(mi, monkeypatch, source):
    use(monkeypatch, mi, source)
    identity = msal.UserAssignedManagedIdentity(client_id="00000000-dead-4000-8000-000000000000")
    mc, ic = both(identity)
    m = outcome(lambda: mc.acquire_token_for_client(resource=RESOURCE))
    i = outcome(lambda: ic.acquire_token_for_client(resource=RESOURCE))
    assert_same(m, i, (source, "unknown identity"))


@pytest.mark.parametrize("source", ["imds", "app_service", "machine_learning"])
def test_unparsable_answer_raises_a_value_error_in_both(mi, admin, monkeypatch, source):
    use(monkeypatch, mi, source)
    admin.fault({"match": {"endpoint": f"managed_identity_{source}"}, "count": 2,
                 "effect": {"kind": "html_page", "status": 200}})
    mc, ic = both(msal.SystemAssignedManagedIdentity())
    m = outcome(lambda: mc.acquire_token_for_client(resource=RESOURCE))
    i = outcome(lambda: ic.acquire_token_for_client(resource=RESOURCE))
    assert m[:2] == ("raised", "ValueError"), m
    assert i == ("raised", "ValueError", "ManagedIdentityError"), i


@pytest.mark.parametrize("source", PEER_SOURCES)
def test_unreachable_endpoint_raises_an_os_error_in_both(mi, monkeypatch, source):
    port = str(servers.closed_port())
    emulator_port = servers.emulator_url().rsplit(":", 1)[1]
    override = {k: v.replace(f":{emulator_port}", f":{port}")
                for k, v in mi["sources"][source].items()}
    use(monkeypatch, mi, source, **override)
    mc, ic = both(msal.SystemAssignedManagedIdentity())
    m = outcome(lambda: mc.acquire_token_for_client(resource=RESOURCE))
    i = outcome(lambda: ic.acquire_token_for_client(resource=RESOURCE))
    assert m[:2] == ("raised", "OSError"), m
    assert i == ("raised", "OSError", "ConnectionError"), i


def test_cloud_shell_idflow_alone(mi, monkeypatch):
    use(monkeypatch, mi, "cloud_shell")
    ic = idflow.ManagedIdentityClient(idflow.SystemAssignedManagedIdentity())
    first = ic.acquire_token_for_client(resource=RESOURCE)
    assert set(first) == {"access_token", "expires_in", "resource", "token_type", "refresh_in",
                          "refresh_on", "token_source"}
    assert (first["resource"], first["token_type"], first["token_source"]) == (
        RESOURCE, "Bearer", "identity_provider")
    assert ic.acquire_token_for_client(resource=RESOURCE)["token_source"] == "cache"
    with pytest.raises(idflow.ManagedIdentityError) as e:
        idflow.ManagedIdentityClient(idflow.UserAssignedManagedIdentity(client_id="c")
                                     ).acquire_token_for_client(resource=RESOURCE)
    assert e.value.result["error"] == "user_assigned_managed_identity_not_supported"
    refused = ic.acquire_token_for_client(resource="not a resource")
    assert (refused["error"], refused["error_kind"]) == ("invalid_resource", "service")


def test_invalid_endpoint_is_a_managed_identity_error(mi, monkeypatch):
    use(monkeypatch, mi, "app_service", IDENTITY_ENDPOINT="::not a url::")
    ic = idflow.ManagedIdentityClient(idflow.SystemAssignedManagedIdentity())
    with pytest.raises(idflow.ManagedIdentityError) as e:
        ic.acquire_token_for_client(resource=RESOURCE)
    assert e.value.result["error"] == "invalid_managed_identity_endpoint"
    assert os.environ["IDENTITY_HEADER"] not in repr(e.value.result)


def test_service_fabric_idflow_alone(mi, admin, monkeypatch):
    use(monkeypatch, mi, "service_fabric")
    ic = idflow.ManagedIdentityClient(idflow.SystemAssignedManagedIdentity(),
                                      token_cache=idflow.SerializableTokenCache(),
                                      client_capabilities=["CP1"])
    first = ic.acquire_token_for_client(resource=RESOURCE)
    assert set(first) == {"access_token", "expires_in", "resource", "token_type", "refresh_in",
                          "refresh_on", "token_source"}
    assert ic.acquire_token_for_client(resource=RESOURCE)["token_source"] == "cache"
    at = list(json.loads(ic.token_cache.serialize())["AccessToken"].values())[0]
    assert (at["client_id"], at["realm"], at["environment"]) == (None, "managed_identity", "localhost")
    # A claims challenge sends the rejected token's hash and the capabilities.
    admin.call("DELETE", "requests")
    ic.acquire_token_for_client(resource=RESOURCE, claims_challenge='{"x":1}')
    sent = admin.call("GET", "requests")
    names = sent[-1]["param_names"] if isinstance(sent, list) else sent["requests"][-1]["param_names"]
    assert "token_sha256_to_refresh" in names and "xms_cc" in names, names
    # Service Fabric's own error shapes, as msal maps them.
    wrong = dict(mi["sources"]["service_fabric"], IDENTITY_HEADER="wrong")
    use(monkeypatch, mi, "service_fabric", **wrong)
    bad = idflow.ManagedIdentityClient(idflow.SystemAssignedManagedIdentity())
    r = bad.acquire_token_for_client(resource=RESOURCE)
    assert (r["error"], r["error_kind"], r["http_status"]) == ("unauthorized_client", "service", 401)
    assert json.loads(r["error_description"])["error"]["code"] == "SecretHeaderNotFound"
