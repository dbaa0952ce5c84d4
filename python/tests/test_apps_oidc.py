"""The msal-style applications against node-oidc-provider (plain http, from
scripts/with-servers.sh): client credentials, auth code + PKCE through its
pages, refresh, device code approved and declined through its pages."""

from __future__ import annotations

import pytest

import idflow
import servers

API = ["api://idflow-test/read"]
REDIRECT = "http://127.0.0.1/callback"


@pytest.fixture(scope="module")
def info():
    return servers.oidc_info()


@pytest.fixture
def pca(info):
    return idflow.PublicClientApplication(
        info["clients"]["native"]["client_id"], oidc_authority=info["issuer"], timeout=5)


@pytest.fixture
def browser(info):
    return servers.Browser(info["issuer"])


def _cca(info, secret=None):
    client = info["clients"]["secret_post"]
    return idflow.ConfidentialClientApplication(
        client["client_id"], client_credential=secret or client["client_secret"],
        oidc_authority=info["issuer"], timeout=5)


def _ok(result):
    assert isinstance(result, dict) and "error" not in result, result
    assert result["access_token"] and result["token_source"] == "identity_provider"
    return result


def _sign_in(pca, browser):
    flow = pca.initiate_auth_code_flow(API, redirect_uri=REDIRECT)
    return _ok(pca.acquire_token_by_auth_code_flow(flow, servers.query_dict(browser.authorize(flow["auth_uri"]))))


def test_client_credentials_with_secret(info):
    result = _ok(_cca(info).acquire_token_for_client(["api://idflow-test/.default"]))
    assert result["scope"] == "api://idflow-test/.default"


def test_client_credentials_wrong_secret(info):
    result = _cca(info, "wrong-secret").acquire_token_for_client(["api://idflow-test/.default"])
    assert result["error"] == "invalid_client" and result["http_status"] == 401
    assert result["action"] == "fix_configuration"


def test_auth_code_pkce(pca, browser):
    signed_in = _sign_in(pca, browser)
    assert signed_in["id_token_claims"]["sub"] == "alice" and signed_in["refresh_token"]


def test_device_flow_then_refresh(pca, browser):
    flow = pca.initiate_device_flow(API)
    browser.approve_device(flow["user_code"])
    first = _ok(pca.acquire_token_by_device_flow(flow))
    refreshed = _ok(pca.acquire_token_by_refresh_token(first["refresh_token"], API))
    assert refreshed["refresh_token"] != first["refresh_token"]


def test_bad_refresh_token_is_interaction_required(pca):
    result = pca.acquire_token_by_refresh_token("not-a-refresh-token", API)
    assert result["error"] == "invalid_grant"
    assert result["error_kind"] == "interaction_required"
    assert result["action"] == "acquire_interactively"


def test_device_flow_approved_through_the_pages(pca, browser):
    flow = pca.initiate_device_flow(API)
    assert flow["interval"] == 1
    browser.approve_device(flow["user_code"])
    result = _ok(pca.acquire_token_by_device_flow(flow))
    assert result["id_token_claims"]["sub"] == "alice"


def test_device_flow_declined_through_the_pages_is_cancelled(pca, browser):
    flow = pca.initiate_device_flow(API)
    browser.decline_device(flow["user_code"])
    result = pca.acquire_token_by_device_flow(flow)
    assert result["error"] == "access_denied" and result["error_kind"] == "cancelled", result
