"""msal Python 1.39 itself against the emulator over HTTPS, as an MSAL user
would run it: ``idflow emulator --tls --scenario ...``, the CA trusted through
``REQUESTS_CA_BUNDLE``, faults armed through the admin API, and assertions on
what msal reports (its result dict, or the exception it raises).

msal needs ``instance_discovery=False``: otherwise it asks
login.microsoftonline.com about any host it does not know
(msal/authority.py, ``_initialize_entra_authority``), which a test machine
cannot reach and which would not know the emulator anyway."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List

import msal
import pytest

REPO = Path(__file__).resolve().parents[2]
TENANT = "emulator.idflow.test"
PUBLIC = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e01"
CONFIDENTIAL = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10"
SECRET = "emulator-secret-do-not-use-in-production"
GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]
USER_SCOPES = ["User.Read"]


class TlsEmulator:
    """An ``idflow emulator --tls`` process and its admin API."""

    def __init__(self, base: str, ca: Path):
        self.base = base
        self.ca = ca
        self.authority = f"{base}/{TENANT}"
        self._ssl = ssl.create_default_context(cafile=str(ca))

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base}/_admin/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10, context=self._ssl) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def token_requests(self) -> List[Dict[str, Any]]:
        return [r for r in self.admin("GET", "requests") if r["endpoint"] == "token"]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsEmulator]:
    # scripts/with-servers.sh sets it for scripts/test-python.sh, and
    # scripts/test-python-oldest.sh to the build that runs in its chroot.
    cli = os.environ.get("IDFLOW_CLI")
    assert cli, "IDFLOW_CLI is unset: run the suite through scripts/test-python.sh"
    ca = tmp_path_factory.mktemp("emulator-tls") / "ca.pem"
    proc = subprocess.Popen(
        [cli, "emulator", "--tls", "--port", "0", "--ca-out", str(ca),
         "--scenario", str(REPO / "emulator/scenarios/msal-tests.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        assert base.startswith("https://127.0.0.1:"), (base, proc.stderr and proc.stderr.read())
        yield TlsEmulator(base, ca)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def emu(emulator: TlsEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[TlsEmulator]:
    """The emulator, reset, with msal (requests) trusting its CA. requests
    lets REQUESTS_CA_BUNDLE override a session's ``verify``, so the variable
    is the one dependable switch."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(emulator.ca))
    emulator.admin("POST", "reset", {})
    emulator.admin("DELETE", "requests")
    yield emulator
    emulator.admin("DELETE", "faults")


def confidential(emu: TlsEmulator, secret: str = SECRET) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        CONFIDENTIAL, client_credential=secret, authority=emu.authority,
        instance_discovery=False)


def public(emu: TlsEmulator, cache: Any = None) -> msal.PublicClientApplication:
    # A new app for each call that must reach the server: msal replays an
    # identical failed request's answer from its own throttle cache
    # (msal/throttled_http_client.py) instead of sending it again.
    return msal.PublicClientApplication(
        PUBLIC, authority=emu.authority, instance_discovery=False, token_cache=cache)


def signed_in(emu: TlsEmulator) -> Any:
    """A device-code sign-in approved through the admin API; returns the
    token cache holding its refresh token."""
    cache = msal.TokenCache()
    app = public(emu, cache)
    flow = app.initiate_device_flow(scopes=USER_SCOPES)
    assert "user_code" in flow, flow
    emu.admin("POST", "device_codes/approve", {"user_code": flow["user_code"]})
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    assert "refresh_token" in result
    return cache


def silent(emu: TlsEmulator, cache: Any, **kwargs: Any) -> Dict[str, Any]:
    app = public(emu, cache)
    (account,) = app.get_accounts()
    result = app.acquire_token_silent_with_error(USER_SCOPES, account, force_refresh=True,
                                                 **kwargs)
    assert result is not None
    return result


def test_client_credentials(emu: TlsEmulator) -> None:
    result = confidential(emu).acquire_token_for_client(GRAPH_DEFAULT)
    assert result.get("token_type") == "Bearer", result
    assert result["token_source"] == "identity_provider"
    (req,) = emu.token_requests()
    assert req["grant_type"] == "client_credentials" and req["status"] == 200


def test_device_code_approved_then_refresh(emu: TlsEmulator) -> None:
    cache = signed_in(emu)
    result = silent(emu, cache)
    assert "access_token" in result, result
    grants = [(r["grant_type"], r["status"]) for r in emu.token_requests()]
    assert grants[-1] == ("refresh_token", 200), grants
    assert grants[0][0] == "urn:ietf:params:oauth:grant-type:device_code"


def test_mfa_claims_challenge_then_retry_with_claims(emu: TlsEmulator) -> None:
    cache = signed_in(emu)
    challenge = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'
    emu.admin("POST", "faults", {"match": {"endpoint": "token", "grant_type": "refresh_token"},
                                 "count": None,
                                 "effect": {"kind": "require_claims", "claims": challenge}})
    result = silent(emu, cache)
    assert result["error"] == "interaction_required", result
    assert result["error_codes"] == [50079]
    assert json.loads(result["claims"]) == json.loads(challenge)
    # The app passes the challenge back; msal sends it as `claims`.
    retried = silent(emu, cache, claims_challenge=result["claims"])
    assert "access_token" in retried, retried


def test_consent_required(emu: TlsEmulator) -> None:
    cache = signed_in(emu)
    emu.admin("POST", "presets/consent_required", {})
    result = silent(emu, cache)
    assert result["error"] == "invalid_grant", result
    assert result["suberror"] == "consent_required"
    assert result["error_codes"] == [65001]


def test_429_with_retry_after_is_throttled_by_msal(emu: TlsEmulator) -> None:
    emu.admin("POST", "presets/throttled_429", {})
    app = confidential(emu)
    result = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert result["error"] == "temporarily_unavailable", result
    assert len(emu.token_requests()) == 1
    # Within Retry-After msal answers the same request itself.
    again = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert again["error"] == "temporarily_unavailable"
    assert len(emu.token_requests()) == 1


def test_5xx_without_json_raises_msal_service_error(emu: TlsEmulator) -> None:
    emu.admin("POST", "presets/service_unavailable_503", {})
    with pytest.raises(msal.exceptions.MsalServiceError, match="503"):
        confidential(emu).acquire_token_for_client(GRAPH_DEFAULT)
    statuses = [r["status"] for r in emu.token_requests()]
    assert statuses == [503], statuses  # msal does not retry it


def test_wrong_secret(emu: TlsEmulator) -> None:
    result = confidential(emu, secret="not-the-secret").acquire_token_for_client(GRAPH_DEFAULT)
    assert result["error"] == "invalid_client", result
    assert result["error_codes"] == [7000215]


def test_declined_device_code(emu: TlsEmulator) -> None:
    app = public(emu)
    flow = app.initiate_device_flow(scopes=USER_SCOPES)
    emu.admin("POST", "device_codes/decline", {"user_code": flow["user_code"]})
    result = app.acquire_token_by_device_flow(flow)
    assert result["error"] == "authorization_declined", result
    assert "access_token" not in result

