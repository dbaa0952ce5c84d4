"""Stateless flows for web apps: the flow dicts are plain JSON-safe data with
msal's keys, and a flow started in one process completes in another (real
processes, real HTTP to the emulator). msal Python 1.39 is the peer on the
TLS OpenID provider (msal refuses the emulator's plain http): same dict keys,
same ValueErrors."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import urllib.request
import warnings
from urllib.parse import parse_qs, urlsplit

import msal  # the peer: scripts/setup-python.sh installs it (a missing peer fails, never skips)
import pytest

import idflow
import servers

GRAPH = ["https://graph.microsoft.com/User.Read"]
REDIRECT = "http://localhost/callback"
API = servers.PROVIDER_API
PEER_REDIRECT = "http://127.0.0.1/callback"
MSAL_FLOW_KEYS = {"state", "redirect_uri", "scope", "auth_uri", "code_verifier", "nonce",
                  "claims_challenge"}

# A worker process: builds an app from argv and runs one step, reading a JSON
# document on stdin and writing one on stdout. It shares nothing with the
# test but that text, as two web workers share only a session store.
WORKER = r"""
import json, sys
import idflow
kind, authority, client_id, step = sys.argv[1:5]
app = idflow.PublicClientApplication(client_id, authority=authority, timeout=5)
given = json.loads(sys.stdin.read())
if step == "start":
    out = app.initiate_auth_code_flow(given["scopes"], redirect_uri=given["redirect_uri"],
                                      **given.get("options", {}))
elif step == "finish":
    try:
        out = app.acquire_token_by_auth_code_flow(given["flow"], given["auth_response"])
    except ValueError as e:
        out = {"raised": "ValueError", "message": str(e)}
elif step == "poll":
    out = app.acquire_token_by_device_flow(given["flow"])
print(json.dumps(out))
"""


def _worker(step, given, authority=None, client_id=servers.EMULATOR_PUBLIC):
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, "public", authority or servers.emulator_authority(),
         client_id, step],
        input=json.dumps(given), capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def pca(admin):
    return servers.public_app()


# --- the auth code flow across processes ---------------------------------------


def test_auth_code_flow_started_in_one_process_completes_in_another(admin):
    flow = _worker("start", {"scopes": GRAPH, "redirect_uri": REDIRECT,
                             "options": {"state": "return-to-inbox-5b1e0c", "login_hint":
                                         servers.EMULATOR_USER}})
    assert MSAL_FLOW_KEYS <= set(flow), sorted(flow)
    assert flow["state"] == "return-to-inbox-5b1e0c"
    session = json.dumps(flow)  # what the session store keeps
    response = servers.query_dict(servers.follow_authorize(flow["auth_uri"]))
    result = _worker("finish", {"flow": json.loads(session), "auth_response": response})
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == servers.EMULATOR_USER
    # A third worker replays the same redirect: the provider refuses the spent code.
    again = _worker("finish", {"flow": json.loads(session), "auth_response": response})
    assert again.get("error") == "invalid_grant", again


def test_a_replayed_redirect_in_the_same_app_is_a_value_error_without_a_request(pca, admin):
    flow = json.loads(json.dumps(pca.initiate_auth_code_flow(GRAPH, redirect_uri=REDIRECT)))
    response = servers.query_dict(servers.follow_authorize(flow["auth_uri"]))
    assert "access_token" in pca.acquire_token_by_auth_code_flow(flow, response)
    before = len(admin.requests())
    with pytest.raises(ValueError, match="already completed"):
        pca.acquire_token_by_auth_code_flow(flow, response)
    assert len(admin.requests()) == before


def test_a_foreign_state_is_msal_s_value_error(pca):
    flow = pca.initiate_auth_code_flow(GRAPH, redirect_uri=REDIRECT)
    other = pca.initiate_auth_code_flow(GRAPH, redirect_uri=REDIRECT)
    response = servers.query_dict(servers.follow_authorize(other["auth_uri"]))
    with pytest.raises(ValueError, match="^state mismatch") as e:
        pca.acquire_token_by_auth_code_flow(flow, response)
    assert other["state"] not in str(e.value) and flow["state"] not in str(e.value)
    with pytest.raises(ValueError, match="^state missing from auth_code_flow"):
        pca.acquire_token_by_auth_code_flow({}, response)
    # The session lost the verifier: a clear ValueError, no request.
    broken = dict(flow, code_verifier=None)
    response = servers.query_dict(servers.follow_authorize(flow["auth_uri"]))
    with pytest.raises(ValueError, match="code_verifier"):
        pca.acquire_token_by_auth_code_flow(broken, response)


def test_authorize_parameters_reach_the_emulator(pca, admin):
    flow = pca.initiate_auth_code_flow(
        GRAPH, redirect_uri=REDIRECT, state="s-123", prompt="login",
        login_hint=servers.EMULATOR_USER, domain_hint="organizations", max_age=3600,
        response_mode="fragment")
    assert flow["max_age"] == 3600
    q = {k: v[0] for k, v in parse_qs(urlsplit(flow["auth_uri"]).query).items()}
    assert (q["state"], q["prompt"], q["max_age"], q["response_mode"]) == (
        "s-123", "login", "3600", "fragment")
    assert (q["login_hint"], q["domain_hint"]) == (servers.EMULATOR_USER, "organizations")
    location = servers.follow_authorize(flow["auth_uri"])
    assert "#" in location and "code=" in urlsplit(location).fragment
    for bad in ({"response_mode": "web_message"}, {"max_age": "soon"}, {"state": ""}):
        with pytest.raises(ValueError):
            pca.initiate_auth_code_flow(GRAPH, redirect_uri=REDIRECT, **bad)


def test_a_form_post_answer_with_max_age_completes(pca):
    flow = pca.initiate_auth_code_flow(GRAPH, redirect_uri=REDIRECT, response_mode="form_post",
                                       max_age=3600)
    page = urllib.request.urlopen(flow["auth_uri"], timeout=10).read().decode()
    # What the browser POSTs to the redirect URI (a web framework's request.form).
    form = {k: html.unescape(v) for k, v in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}
    assert "code" in form, page
    result = pca.acquire_token_by_auth_code_flow(json.loads(json.dumps(flow)), form)
    assert "access_token" in result, result
    assert result["id_token_claims"]["auth_time"] > 0


def test_a_subset_of_the_scopes_may_be_redeemed(pca):
    flow = pca.initiate_auth_code_flow(GRAPH + ["https://graph.microsoft.com/Mail.Read"],
                                       redirect_uri=REDIRECT)
    response = servers.query_dict(servers.follow_authorize(flow["auth_uri"]))
    with pytest.raises(ValueError, match="subset"):
        pca.acquire_token_by_auth_code_flow(flow, response, scopes=["other"])
    result = pca.acquire_token_by_auth_code_flow(flow, response, scopes=GRAPH)
    assert "access_token" in result, result


# --- the device flow across processes -----------------------------------------


def test_device_flow_dict_is_msal_s_and_polls_from_another_process(pca, admin):
    flow = pca.initiate_device_flow(GRAPH)
    assert {"device_code", "user_code", "verification_uri", "expires_in", "interval",
            "message", "expires_at", "_correlation_id"} <= set(flow)
    queued = json.dumps(flow)  # e.g. a job queue
    admin.approve(flow["user_code"])
    result = _worker("poll", {"flow": json.loads(queued)})
    assert "access_token" in result, result
    with pytest.raises(ValueError):
        pca.acquire_token_by_device_flow({"user_code": "no device code"})


# --- the older pattern ---------------------------------------------------------


def test_authorization_request_url_and_code_redemption(pca):
    verifier = "v" * 43
    import base64
    import hashlib
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    with pytest.warns(DeprecationWarning):
        url = pca.get_authorization_request_url(
            GRAPH, state="st", redirect_uri=REDIRECT, nonce="n-1", code_challenge=challenge)
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert (q["state"], q["nonce"], q["code_challenge_method"]) == ("st", "n-1", "S256")
    response = servers.query_dict(servers.follow_authorize(url))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        result = pca.acquire_token_by_authorization_code(
            response["code"], GRAPH, redirect_uri=REDIRECT, nonce="n-1",
            data={"code_verifier": verifier})
        assert "access_token" in result, result
        # A wrong nonce is refused (the id token carries the request's).
        url = pca.get_authorization_request_url(GRAPH, redirect_uri=REDIRECT, nonce="n-2")
        response = servers.query_dict(servers.follow_authorize(url))
        result = pca.acquire_token_by_authorization_code(
            response["code"], GRAPH, redirect_uri=REDIRECT, nonce="other")
        assert result["error"] == "nonce_mismatch", result
        with pytest.raises(ValueError):
            pca.get_authorization_request_url(GRAPH, response_type="token")


# --- msal Python 1.39 as the peer (TLS OpenID provider) -----------------------


def _peer_apps(provider):
    c = provider["clients"]["native"]
    return (msal.PublicClientApplication(c["client_id"], oidc_authority=provider["issuer"]),
            idflow.PublicClientApplication(c["client_id"], oidc_authority=provider["issuer"],
                                           verify=provider["cafile"]))


def test_flow_dict_has_msal_s_keys_and_survives_json(provider):
    m, i = _peer_apps(provider)
    for extra in ({}, {"max_age": 600}):
        want = m.initiate_auth_code_flow(API, redirect_uri=PEER_REDIRECT, **extra)
        got = i.initiate_auth_code_flow(API, redirect_uri=PEER_REDIRECT, **extra)
        assert set(want) == set(got), (sorted(want), sorted(got))
        assert got == json.loads(json.dumps(got))
        assert sorted(got["scope"]) == sorted(want["scope"])


def test_state_errors_are_msal_s(provider):
    m, i = _peer_apps(provider)
    for app in (m, i):
        flow = json.loads(json.dumps(app.initiate_auth_code_flow(API, redirect_uri=PEER_REDIRECT)))
        with pytest.raises(ValueError, match="^state mismatch"):
            app.acquire_token_by_auth_code_flow(flow, {"code": "c", "state": "forged"})
        with pytest.raises(ValueError, match="^state missing from auth_code_flow"):
            app.acquire_token_by_auth_code_flow({}, {"code": "c", "state": "x"})
        with pytest.raises(ValueError, match='either "code" or "error"'):
            app.acquire_token_by_auth_code_flow(flow, {"state": flow["state"]})


def test_both_redeem_a_json_round_tripped_flow(provider):
    browser = servers.Browser(provider["issuer"], cafile=provider["cafile"])
    for app in _peer_apps(provider):
        flow = json.loads(json.dumps(app.initiate_auth_code_flow(API, redirect_uri=PEER_REDIRECT)))
        response = servers.query_dict(browser.authorize(flow["auth_uri"]))
        result = app.acquire_token_by_auth_code_flow(flow, response)
        assert "access_token" in result, (type(app).__module__, result)
