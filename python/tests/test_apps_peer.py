"""msal Python (PyPI) and idflow's applications, the same scenarios against the
same TLS instance of node-oidc-provider, dicts compared key by key: same keys
(idflow may add only its documented extras), equal values except those that
must differ (tokens, timestamps, lifetimes, ids), compared by type. Genuine
differences are strict xfails with the reason."""

from __future__ import annotations

import msal
import pytest

import idflow
import servers

API = servers.PROVIDER_API
REDIRECT = "http://127.0.0.1/callback"
IDFLOW_EXTRAS = {"error_kind", "action", "mitigation", "retryable", "retry_after",
                 "http_status", "headers", "correlation_id"}
# Values that differ between any two runs: compared by type only.
VOLATILE = {"access_token", "refresh_token", "id_token", "expires_in", "ext_expires_in",
            "refresh_in", "correlation_id", "trace_id", "timestamp"}
VOLATILE_CLAIMS = {"iat", "exp", "auth_time", "nonce", "at_hash", "sid", "jti", "nbf"}


def _apps(provider, kind, client="native", secret=None):
    """The msal app and the idflow app, configured alike."""
    c = provider["clients"][client]
    args = {"oidc_authority": provider["issuer"]}
    if kind == "public":
        return (msal.PublicClientApplication(c["client_id"], **args),
                idflow.PublicClientApplication(c["client_id"], verify=provider["cafile"], **args))
    cred = secret or c["client_secret"]
    return (msal.ConfidentialClientApplication(c["client_id"], client_credential=cred, **args),
            idflow.ConfidentialClientApplication(c["client_id"], client_credential=cred,
                                                 verify=provider["cafile"], **args))


def assert_same_dict(want, got, path="result"):
    assert isinstance(want, dict) and isinstance(got, dict), (path, want, got)
    missing = set(want) - set(got)
    assert not missing, f"{path}: idflow lacks msal's keys {sorted(missing)}"
    extra = set(got) - set(want) - IDFLOW_EXTRAS
    assert not extra, f"{path}: idflow adds undocumented keys {sorted(extra)}"
    for k, v in want.items():
        volatile = VOLATILE_CLAIMS if path.endswith("id_token_claims") else VOLATILE
        if k in volatile:
            assert type(got[k]) is type(v), f"{path}.{k}: {type(got[k]).__name__} vs {type(v).__name__}"
        elif isinstance(v, dict) and isinstance(got[k], dict):
            assert_same_dict(v, got[k], f"{path}.{k}")
        else:
            assert got[k] == v, f"{path}.{k}: idflow {got[k]!r} vs msal {v!r}"


def _code_sign_in(provider, app):
    flow = app.initiate_auth_code_flow(API, redirect_uri=REDIRECT)
    browser = servers.Browser(provider["issuer"], cafile=provider["cafile"])
    return app.acquire_token_by_auth_code_flow(flow, servers.query_dict(browser.authorize(flow["auth_uri"])))


def test_client_credentials_success(provider):
    m, i = _apps(provider, "confidential", "secret_post")
    scopes = ["api://idflow-test/.default"]
    assert_same_dict(m.acquire_token_for_client(scopes), i.acquire_token_for_client(scopes))


def test_client_credentials_wrong_secret(provider):
    m, i = _apps(provider, "confidential", "secret_post", secret="wrong-secret")
    scopes = ["api://idflow-test/.default"]
    want, got = m.acquire_token_for_client(scopes), i.acquire_token_for_client(scopes)
    assert want["error"] == "invalid_client"
    assert_same_dict(want, got)


def test_device_flow_success(provider):
    m, i = _apps(provider, "public")
    assert_same_dict(servers.device_sign_in(provider, m)[1], servers.device_sign_in(provider, i)[1])


def test_device_flow_dict(provider):
    """msal's keys, device_code included; idflow adds claims_challenge and scope,
    and its own message when the provider sends none (as this one)."""
    m, i = _apps(provider, "public")
    want, got = m.initiate_device_flow(API), i.initiate_device_flow(API)
    assert {"device_code", "expires_at", "_correlation_id"} <= set(want) & set(got)
    added = {"claims_challenge", "scope"} | ({"message"} - set(want))
    assert set(want) == set(got) - added, (sorted(want), sorted(got))


def test_refresh_success(provider):
    m, i = _apps(provider, "public")
    rt_m = servers.device_sign_in(provider, m)[1]["refresh_token"]
    rt_i = servers.device_sign_in(provider, i)[1]["refresh_token"]
    assert_same_dict(m.acquire_token_by_refresh_token(rt_m, API),
                     i.acquire_token_by_refresh_token(rt_i, API))


def test_bad_refresh_token(provider):
    m, i = _apps(provider, "public")
    want = m.acquire_token_by_refresh_token("not-a-refresh-token", API)
    got = i.acquire_token_by_refresh_token("not-a-refresh-token", API)
    assert want["error"] == "invalid_grant"
    assert_same_dict(want, got)


def test_auth_code_flow(provider):
    m, i = _apps(provider, "public")
    assert_same_dict(_code_sign_in(provider, m), _code_sign_in(provider, i))
