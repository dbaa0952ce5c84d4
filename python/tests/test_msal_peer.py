"""msal Python (PyPI) as the peer: for every vector whose response msal can
receive offline, msal's real code path runs against a loopback HTTPS
provider (tests/peer_server.py) that answers with the vector's response, and
idflow's dict must hold every key of msal's dict with the same value, adding
only idflow's documented extras. This checks, among others, msal's silent-flow
`classification` rule (`_acquire_token_silent_with_error` copies the suberror
and maps the internal ones to "") against the core's, and that an authorize
redirect's error dict keeps only what msal keeps.

Which msal call answers each flow:
- silent: `acquire_token_silent_with_error` after msal has cached an account,
  an expired access token and a refresh token; the refresh gets the response.
- token: `acquire_token_by_refresh_token`, a token-endpoint call.
- authorize / authorize_prompt_none: `acquire_token_by_auth_code_flow` with
  the redirect's query parameters (no request: msal reads them itself).
Device-code polling is left out: msal loops inside
`acquire_token_by_device_flow` until a terminal answer, with real sleeps."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import msal  # the peer: scripts/setup-python.sh installs it (a missing peer fails, never skips)
import pytest

import idflow

import peer_server
import vectors

SCOPES = ["api://idflow-peer/read"]
# Keys idflow adds to msal's dict (spec §3, Python): never in msal's own.
IDFLOW_EXTRAS = {
    "error_kind", "action", "mitigation", "retryable", "retry_after",
    "http_status", "headers", "correlation_id",
}
TOKEN_FLOWS = {"silent", "token"}
AUTHORIZE_FLOWS = {"authorize", "authorize_prompt_none"}


def _json_error_body(inp):
    try:
        body = json.loads(vectors.body_bytes(inp))
    except ValueError:
        return None
    return body if isinstance(body, dict) and "error" in body else None


def _redirect_params(inp):
    text = vectors.body_bytes(inp).decode("utf-8", "replace").strip()
    if "://" in text:
        parts = urlsplit(text)
        text = parts.query or parts.fragment
    params = dict(parse_qsl(text.lstrip("?#")))
    return params if "error" in params else None


def _peer_case(case):
    inp, want = case["input"], case["expect"]
    if inp["type"] != "response" or want.get("python", {}).get("form") != "dict":
        return False
    if inp["flow"] in TOKEN_FLOWS:
        return _json_error_body(inp) is not None
    if inp["flow"] in AUTHORIZE_FLOWS:
        return _redirect_params(inp) is not None
    return False


def _known_divergence(case):
    """Why msal and idflow deliberately differ on a case, or None.

    Both are strict xfails: if either side changes, the run says so."""
    inp = case["input"]
    if inp["flow"] in TOKEN_FLOWS and inp["status"] >= 500:
        return pytest.mark.xfail(
            raises=msal.exceptions.MsalServiceError, strict=True,
            reason="msal Python raises MsalServiceError('HTTP Error: 5xx') for any 5xx "
                   "token response; idflow returns the error dict (spec §3: dicts for failures)")
    body = _json_error_body(inp) if inp["flow"] in TOKEN_FLOWS else None
    if body is not None and not isinstance(body["error"], str):
        return pytest.mark.xfail(
            raises=AssertionError, strict=True,
            reason="not an OAuth error body (RFC 6749 §5.2: error is a string): msal passes "
                   "it through, idflow reports its own code")
    return None


PEER_CASES = [
    pytest.param(c, id=c["name"], marks=[m for m in [_known_divergence(c)] if m])
    for c in vectors.load_cases() if _peer_case(c)
]


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    server = peer_server.PeerProvider(tmp_path_factory.mktemp("peer"))
    with pytest.MonkeyPatch.context() as mp:
        # requests (msal's HTTP client) trusts the throw-away certificate only
        # here, and never sends loopback traffic to a proxy.
        mp.setenv("REQUESTS_CA_BUNDLE", str(server.cert_path))
        mp.setenv("NO_PROXY", "127.0.0.1,localhost")
        mp.setenv("no_proxy", "127.0.0.1,localhost")
        try:
            yield server
        finally:
            server.close()


def _app(peer):
    return msal.PublicClientApplication(peer_server.CLIENT_ID, oidc_authority=peer.issuer)


def _msal_result(peer, case):
    inp = case["input"]
    status, headers, body, flow = vectors.response_args(inp)
    app = _app(peer)
    if flow == "silent":
        seeded = app.acquire_token_by_refresh_token(peer_server.SEED_REFRESH_TOKEN, SCOPES)
        assert "error" not in seeded, seeded
        accounts = app.get_accounts()
        assert len(accounts) == 1, accounts
        peer.program(status, headers, body)
        before = len(peer.token_requests())
        result = app.acquire_token_silent_with_error(SCOPES, accounts[0])
        sent = peer.token_requests()[before:]
        # msal really refreshed with the cached refresh token, over HTTPS.
        assert [f.get("refresh_token") for f in sent] == [peer_server.CACHED_REFRESH_TOKEN]
        return result
    if flow == "token":
        peer.program(status, headers, body)
        before = len(peer.token_requests())
        result = app.acquire_token_by_refresh_token("rt-held-by-the-app", SCOPES)
        assert len(peer.token_requests()) == before + 1
        return result
    auth_flow = app.initiate_auth_code_flow(
        SCOPES, redirect_uri="http://localhost:8400", response_mode="form_post",
        prompt="none" if flow == "authorize_prompt_none" else None)
    # The redirect a real browser would bring back to this very request.
    params = dict(_redirect_params(inp), state=auth_flow["state"])
    return app.acquire_token_by_auth_code_flow(auth_flow, params)


def test_there_are_peer_cases():
    assert PEER_CASES, "no vector can be run through msal"


@pytest.mark.parametrize("case", PEER_CASES)
def test_idflow_dict_matches_msal(peer, case):
    theirs = _msal_result(peer, case)
    ours = idflow.result_for_response(*vectors.response_args(case["input"]))
    assert isinstance(theirs, dict) and "error" in theirs, theirs
    assert isinstance(ours, dict)
    for key, value in theirs.items():
        assert key in ours, f"msal has {key}={value!r}; idflow's dict lacks it"
        assert ours[key] == value, f"{key}: idflow {ours[key]!r}, msal {value!r}"
    extra = set(ours) - set(theirs) - IDFLOW_EXTRAS
    assert not extra, f"idflow's dict has keys msal's has not: { {k: ours[k] for k in extra} }"
