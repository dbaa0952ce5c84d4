"""The msal-style applications against the emulator: every flow it supports,
success and each failure class (interaction_required, service with
retry_after, client ValueError, network ConnectionError / TimeoutError,
cancelled), armed through its admin API."""

from __future__ import annotations

import threading
import time
import urllib.request

import pytest

import idflow
import servers
from servers import (EMULATOR_CONFIDENTIAL, EMULATOR_PASSWORD, EMULATOR_PUBLIC,
                     EMULATOR_SECRET, EMULATOR_TENANT, EMULATOR_USER)

GRAPH = ["User.Read"]
GRAPH_APP = ["https://graph.microsoft.com/.default"]
API = [f"api://{EMULATOR_CONFIDENTIAL}/access_as_user"]
SUCCESS_KEYS = {"access_token", "token_type", "expires_in", "scope", "token_source"}


@pytest.fixture
def admin(admin):
    admin.settings(device_code_interval_secs=0)
    return admin


@pytest.fixture
def pca(admin):
    return servers.public_app(authority=servers.emulator_authority("organizations"))


@pytest.fixture
def cca(admin):
    return servers.confidential_app()


def _ok(result):
    assert isinstance(result, dict) and "error" not in result, result
    assert SUCCESS_KEYS <= set(result), result
    assert result["token_type"] == "Bearer" and result["token_source"] == "identity_provider"
    return result


def _ropc(pca, scopes=GRAPH):
    return _ok(pca.acquire_token_by_username_password(EMULATOR_USER, EMULATOR_PASSWORD, scopes))


# --- client credentials ------------------------------------------------------


def test_client_credentials_success_sends_idflow_python_sku(cca, admin):
    result = _ok(cca.acquire_token_for_client(GRAPH_APP))
    assert "refresh_token" not in result
    token_requests = [r for r in admin.requests() if r.get("endpoint") == "token"]
    assert dict(map(tuple, token_requests[-1]["headers"])).get("x-client-sku") == "idflow.python", token_requests[-1]["headers"]


def test_client_credentials_wrong_secret_is_a_configuration_error_dict(admin):
    app = idflow.ConfidentialClientApplication(
        EMULATOR_CONFIDENTIAL, client_credential="wrong",
        authority=f"{servers.emulator_url()}/{EMULATOR_TENANT}")
    result = app.acquire_token_for_client(GRAPH_APP)
    assert result["error"] == "invalid_client"
    assert result["action"] == "fix_configuration" and result["retryable"] is False
    assert 7000215 in result["error_codes"]


def test_client_credentials_wrong_scope_form_is_value_error(cca):
    with pytest.raises(ValueError) as e:
        cca.acquire_token_for_client(["User.Read"])
    assert e.value.result["error_kind"] == "client"


@pytest.mark.parametrize("scopes", [["openid"], ["User.Read", "offline_access"], "User.Read"])
def test_reserved_scopes_and_a_str_are_value_errors_as_in_msal(cca, pca, scopes):
    with pytest.raises(ValueError):
        cca.acquire_token_for_client(scopes)
    with pytest.raises(ValueError):
        pca.acquire_token_by_username_password(EMULATOR_USER, EMULATOR_PASSWORD, scopes)


def test_throttled_429_is_a_service_dict_with_retry_after(cca, admin):
    admin.preset("throttled_429", count=None)
    result = cca.acquire_token_for_client(GRAPH_APP)
    assert result["error"] == "temporarily_unavailable"
    assert result["error_kind"] == "service"
    assert result["retry_after"] == 30 and result["http_status"] == 429
    assert result["action"] == "retry_after"


def test_dropped_connection_raises_connection_error(cca, admin):
    admin.preset("dropped_connection", count=None)
    with pytest.raises(ConnectionError) as e:
        cca.acquire_token_for_client(GRAPH_APP)
    assert e.value.result["error_kind"] == "network"


def test_closed_port_raises_connection_error():
    app = idflow.ConfidentialClientApplication(
        EMULATOR_CONFIDENTIAL, client_credential=EMULATOR_SECRET,
        authority=f"http://127.0.0.1:{servers.closed_port()}/{EMULATOR_TENANT}")
    with pytest.raises(ConnectionError) as e:
        app.acquire_token_for_client(GRAPH_APP)
    assert e.value.result["action"] == "check_network"


def test_slow_token_endpoint_raises_timeout_error(admin):
    app = idflow.ConfidentialClientApplication(
        EMULATOR_CONFIDENTIAL, client_credential=EMULATOR_SECRET,
        authority=f"{servers.emulator_url()}/{EMULATOR_TENANT}", timeout=0.5)
    admin.fault({"match": {"endpoint": "token"}, "count": None,
                 "effect": {"kind": "delay", "ms": 1500}})
    with pytest.raises(TimeoutError) as e:
        app.acquire_token_for_client(GRAPH_APP)
    assert e.value.result["error_kind"] == "network"


def test_unsupported_constructor_arguments_are_value_errors():
    with pytest.raises(ValueError):
        idflow.PublicClientApplication(EMULATOR_PUBLIC, token_cache=object())
    with pytest.raises(ValueError):
        idflow.PublicClientApplication(EMULATOR_PUBLIC, client_credential="secret")
    with pytest.raises(ValueError):
        idflow.ConfidentialClientApplication(EMULATOR_CONFIDENTIAL, client_credential="s", verify=False)
    with pytest.raises(ValueError):
        idflow.PublicClientApplication(EMULATOR_PUBLIC, authority="ftp://example.test/x")


# --- username / password, refresh token, on-behalf-of ------------------------


def test_username_password_success_has_id_token_claims(pca):
    result = _ropc(pca)
    assert result["id_token_claims"]["preferred_username"] == EMULATOR_USER
    assert result["refresh_token"]


def test_username_password_on_a_confidential_client(cca, admin):
    result = _ok(cca.acquire_token_by_username_password(EMULATOR_USER, EMULATOR_PASSWORD, GRAPH))
    assert result["id_token_claims"]["preferred_username"] == EMULATOR_USER
    sent = [r for r in admin.requests() if r.get("grant_type") == "password"][-1]
    assert sent["client_id"] == EMULATOR_CONFIDENTIAL and "client_secret" in sent["param_names"]


def test_username_password_wrong_password_is_an_error_dict(pca):
    result = pca.acquire_token_by_username_password(EMULATOR_USER, "wrong", GRAPH)
    assert result["error"] == "invalid_grant" and 50126 in result["error_codes"]


def test_mfa_required_is_interaction_required_with_claims(pca, admin):
    admin.preset("mfa_required_50079")
    result = pca.acquire_token_by_username_password(EMULATOR_USER, EMULATOR_PASSWORD, GRAPH)
    assert result["error"] == "interaction_required"
    assert result["error_kind"] == "interaction_required"
    assert result["action"] == "acquire_interactively" and result["claims"]


def test_refresh_token_success(pca):
    rt = _ropc(pca)["refresh_token"]
    result = _ok(pca.acquire_token_by_refresh_token(rt, GRAPH))
    assert result["refresh_token"] and result["refresh_token"] != rt


@pytest.mark.parametrize("preset", ["basic_action", "consent_required", "bad_token"])
def test_refresh_token_interaction_required_carries_the_suberror(pca, admin, preset):
    """As in msal, `classification` belongs to the silent flow's dict only: an
    explicit refresh returns the server's `suberror` (what classification is
    computed from) and idflow's `action`."""
    rt = _ropc(pca)["refresh_token"]
    admin.preset(preset)
    result = pca.acquire_token_by_refresh_token(rt, GRAPH)
    assert result["error"] == "invalid_grant"
    assert result["error_kind"] == "interaction_required"
    assert result["action"] == "acquire_interactively"
    assert result["suberror"] == preset and "classification" not in result, result


def test_unknown_refresh_token_is_invalid_grant(pca):
    result = pca.acquire_token_by_refresh_token("not-a-refresh-token", GRAPH)
    assert result["error"] == "invalid_grant" and result["error_kind"] == "interaction_required"


def test_on_behalf_of_success_and_bad_assertion(pca, cca):
    user_token = _ropc(pca, API)["access_token"]
    _ok(cca.acquire_token_on_behalf_of(user_token, GRAPH))
    result = cca.acquire_token_on_behalf_of("not-a-token", GRAPH)
    assert "error" in result and 50013 in result["error_codes"]


# --- device code -------------------------------------------------------------


def test_device_flow_success(pca, admin):
    flow = pca.initiate_device_flow(GRAPH)
    assert {"user_code", "verification_uri", "expires_in", "interval", "message", "expires_at"} <= set(flow)
    assert flow["user_code"] in flow["message"] and flow["expires_at"] > time.time()
    admin.approve(flow["user_code"])
    result = _ok(pca.acquire_token_by_device_flow(flow))
    assert result["id_token_claims"]["preferred_username"] == EMULATOR_USER


def test_device_flow_declined_is_cancelled(pca, admin):
    flow = pca.initiate_device_flow(GRAPH)
    admin.decline(flow["user_code"])
    result = pca.acquire_token_by_device_flow(flow)
    assert result["error"] == "authorization_declined"
    assert result["error_kind"] == "cancelled"


def test_device_flow_expired_token_is_a_service_dict(pca, admin):
    flow = pca.initiate_device_flow(GRAPH)
    admin.preset("expired_token")
    result = pca.acquire_token_by_device_flow(flow)
    assert result["error"] == "expired_token" and result["error_kind"] == "service"


def test_device_flow_abort_by_expires_at_zero(pca, admin):
    admin.settings(device_code_interval_secs=1)
    flow = pca.initiate_device_flow(GRAPH)
    threading.Timer(0.5, lambda: flow.__setitem__("expires_at", 0)).start()
    started = time.monotonic()
    result = pca.acquire_token_by_device_flow(flow)
    assert time.monotonic() - started < 3
    assert result["error_kind"] == "cancelled", result


def test_device_flow_exit_condition_ends_the_wait_with_the_pending_answer(pca, admin):
    admin.settings(device_code_interval_secs=1)
    flow = pca.initiate_device_flow(GRAPH)
    with pytest.raises(ValueError):
        pca.acquire_token_by_device_flow(flow, exit_condition=True)
    asked = []
    started = time.monotonic()
    result = pca.acquire_token_by_device_flow(flow, exit_condition=lambda f: asked.append(f) or len(asked) > 2)
    waited = time.monotonic() - started
    # Three polls (one second each), the condition asked before each second.
    assert result["error"] == "authorization_pending" and result["error_kind"] == "service", result
    assert len(asked) == 3 and asked[0] is flow and 1.9 < waited < 5, (len(asked), waited)
    assert flow["expires_at"] > time.time(), "the flow is the caller's, unchanged"
    flow["expires_at"] = 0  # msal's default condition only: an app's own decides instead
    admin.approve(flow["user_code"])
    result = _ok(pca.acquire_token_by_device_flow(flow, exit_condition=lambda f: True))
    assert result["id_token_claims"]["preferred_username"] == EMULATOR_USER
    # An interval of 0: msal would poll on without asking; the condition is
    # still asked once per round.
    admin.settings(device_code_interval_secs=0)
    flow = pca.initiate_device_flow(GRAPH)
    result = pca.acquire_token_by_device_flow(flow, exit_condition=lambda f: True)
    assert result["error"] == "authorization_pending", result
    polls = [d["polls"] for d in admin.call("GET", "device_codes") if d["user_code"] == flow["user_code"]]
    assert polls == [1], polls


# --- authorization code and interactive --------------------------------------


def test_auth_code_flow_success(pca):
    flow = pca.initiate_auth_code_flow(GRAPH, redirect_uri="http://localhost/callback")
    assert flow["auth_uri"].startswith(servers.emulator_url()) and flow["state"]
    response = servers.query_dict(servers.follow_authorize(flow["auth_uri"]))
    result = _ok(pca.acquire_token_by_auth_code_flow(flow, response))
    assert result["id_token_claims"]["preferred_username"] == EMULATOR_USER


def test_auth_code_flow_state_mismatch_is_value_error(pca):
    flow = pca.initiate_auth_code_flow(GRAPH, redirect_uri="http://localhost/callback")
    response = servers.query_dict(servers.follow_authorize(flow["auth_uri"]))
    response["state"] = "forged"
    with pytest.raises(ValueError):
        pca.acquire_token_by_auth_code_flow(flow, response)


def test_auth_code_flow_confidential_client(cca):
    flow = cca.initiate_auth_code_flow(GRAPH, redirect_uri="http://localhost/callback")
    response = servers.query_dict(servers.follow_authorize(flow["auth_uri"]))
    _ok(cca.acquire_token_by_auth_code_flow(flow, response))


def test_auth_code_flow_declined_consent_is_cancelled(pca, admin):
    admin.preset("user_declined_consent")
    flow = pca.initiate_auth_code_flow(GRAPH, redirect_uri="http://localhost/callback")
    response = servers.query_dict(servers.follow_authorize(flow["auth_uri"]))
    result = pca.acquire_token_by_auth_code_flow(flow, response)
    assert result["error"] == "access_denied" and result["error_kind"] == "cancelled"


def test_auth_code_flow_prompt_none_without_session_is_interaction_required(pca, admin):
    admin.preset("prompt_never_failed")
    flow = pca.initiate_auth_code_flow(GRAPH, redirect_uri="http://localhost/callback", prompt="none")
    response = servers.query_dict(servers.follow_authorize(flow["auth_uri"]))
    result = pca.acquire_token_by_auth_code_flow(flow, response)
    assert result["error"] == "login_required"
    assert result["error_kind"] == "interaction_required"


def test_interactive_success_through_webbrowser(pca, monkeypatch):
    opened = []

    def open_in_thread(url, *a, **k):
        opened.append(url)
        threading.Thread(target=lambda: urllib.request.urlopen(url, timeout=10).read(),
                         daemon=True).start()
        return True

    monkeypatch.setattr("webbrowser.open", open_in_thread)
    launched = []
    result = _ok(pca.acquire_token_interactive(
        GRAPH, timeout=10, on_before_launching_ui=lambda **k: launched.append(k)))
    assert opened and launched == [{"ui": "browser"}]


def test_interactive_without_a_browser_is_an_error(pca, monkeypatch):
    monkeypatch.setattr("webbrowser.open", lambda *a, **k: False)
    result = pca.acquire_token_interactive(GRAPH, timeout=5)
    assert result["error"] == "authentication_ui_failed", result


def test_interactive_nobody_signs_in_times_out_as_cancelled(pca, monkeypatch):
    monkeypatch.setattr("webbrowser.open", lambda *a, **k: True)
    result = pca.acquire_token_interactive(GRAPH, timeout=1)
    assert result["error_kind"] == "cancelled", result


def test_works_inside_a_running_event_loop(cca):
    import asyncio

    async def main():
        return cca.acquire_token_for_client(GRAPH_APP)

    _ok(asyncio.run(main()))
