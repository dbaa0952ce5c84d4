"""``azure_region`` and ``client_claims``: msal Python 1.39 and idflow driven
by the same recording ``requests.Session`` subclass (msal's ``http_client``)
against the emulator, in the same run.

The session sends ``login.microsoftonline.com`` and ``*.login.microsoft.com``
(the regional hosts) to the emulator, and the VM metadata service
(``169.254.169.254``) to a stand-in on loopback that answers a ``location``
as IMDS does (or to a closed port). Both libraries must post the token
request to the same URL, host included, with the same form and the headers
that matter, read IMDS alike when they detect, and cache the same entries.

Known differences, asserted exactly: msal reads the discovery document of the
global and of the regional authority first (idflow builds both endpoints of
a well-known cloud itself, as MSAL.NET does), and msal also asks IMDS when the
region is named (only to log a warning when they differ); idflow does not.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import msal  # the peer (scripts/setup-python.sh installs it: a missing peer fails, never skips)
import pytest

import idflow
import servers
from test_http_peer import APP_SCOPE, RecordingSession, _ok, _posts

IMDS = "http://169.254.169.254/metadata/instance/compute?api-version=2021-02-01"
GLOBAL_HOST = "login.microsoftonline.com"


class _Imds(BaseHTTPRequestHandler):
    """The instance metadata service's compute document, on loopback."""

    answer = (200, {"location": "westus2", "name": "vm"})
    seen: list = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).seen.append((self.path, self.headers.get("Metadata")))
        status, body = type(self).answer
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def imds():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Imds)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No region from the machine running the tests."""
    monkeypatch.delenv("REGION_NAME", raising=False)
    monkeypatch.delenv("MSAL_FORCE_REGION", raising=False)
    _Imds.answer = (200, {"location": "westus2", "name": "vm"})
    _Imds.seen = []


def _apps(imds_base, **options):
    hosts = {"*.login.microsoft.com": servers.emulator_url(), "169.254.169.254": imds_base}
    sessions = RecordingSession(hosts), RecordingSession(hosts)
    authority = f"https://{GLOBAL_HOST}/{servers.EMULATOR_TENANT}"
    apps = (
        msal.ConfidentialClientApplication(
            servers.EMULATOR_CONFIDENTIAL, client_credential=servers.EMULATOR_SECRET,
            authority=authority, http_client=sessions[0],
            token_cache=msal.SerializableTokenCache(), **options),
        idflow.ConfidentialClientApplication(
            servers.EMULATOR_CONFIDENTIAL, client_credential=servers.EMULATOR_SECRET,
            authority=authority, http_client=sessions[1],
            token_cache=idflow.SerializableTokenCache(), **options),
    )
    return sessions, apps


def _token_urls(session):
    return [url for method, url in session.urls if method == "POST"]


def _imds_gets(session):
    return [url for method, url in session.urls if method == "GET" and "169.254.169.254" in url]


def _cached_at(app):
    cache = app.token_cache
    cache_json = json.loads(cache.serialize())
    return [(at["environment"], at["realm"], at["target"]) for at in cache_json["AccessToken"].values()]


def _same_token_requests(ms, ids):
    """Same POSTs (full URL), same form fields (msal's client_info aside), same app headers."""
    assert _token_urls(ms) == _token_urls(ids)
    for (_, _, want, want_h), (_, _, got, got_h) in zip(_posts(ms), _posts(ids)):
        assert set(want) - {"client_info"} == set(got)
        for key in set(got) - {"client_secret"}:
            assert want[key] == got[key], key
        for h in ("x-app-name", "x-app-ver", "content-type"):
            assert want_h.get(h) == got_h.get(h), h


def _run(apps, scopes=APP_SCOPE):
    results = [_ok(app.acquire_token_for_client(scopes)) for app in apps]
    assert [r["token_type"] for r in results] == ["Bearer", "Bearer"]
    assert [r.get("token_source") for r in results] == ["identity_provider"] * 2
    assert {r["expires_in"] for r in results} <= set(range(3500, 3601))
    return results


def _regional(region):
    return f"https://{region}.login.microsoft.com/{servers.EMULATOR_TENANT}/oauth2/v2.0/token"


GLOBAL = f"https://{GLOBAL_HOST}/{servers.EMULATOR_TENANT}/oauth2/v2.0/token"


def test_named_region_goes_to_the_regional_host_and_caches_the_global_environment(admin, imds):
    (ms, ids), apps = _apps(imds, azure_region="eastus2", app_name="svc", app_version="7")
    _run(apps)
    _same_token_requests(ms, ids)
    assert _token_urls(ids) == [_regional("eastus2")]
    assert _cached_at(apps[0]) == _cached_at(apps[1])
    assert {env for env, _, _ in _cached_at(apps[1])} == {GLOBAL_HOST}
    # msal asks IMDS anyway (to warn when it differs); idflow uses the name as given.
    assert len(_imds_gets(ms)) == 1 and _imds_gets(ids) == []
    # A second call is a cache hit in both: no request.
    before = len(ms.urls), len(ids.urls)
    for app in apps:
        assert _ok(app.acquire_token_for_client(APP_SCOPE))["token_source"] == "cache"
    assert (len(ms.urls), len(ids.urls)) == before


def test_region_detected_by_imds_alike(admin, imds):
    (ms, ids), apps = _apps(imds, azure_region=msal.ConfidentialClientApplication.ATTEMPT_REGION_DISCOVERY)
    assert idflow.ConfidentialClientApplication.ATTEMPT_REGION_DISCOVERY is True
    _run(apps)
    _same_token_requests(ms, ids)
    assert _token_urls(ids) == [_regional("westus2")]
    assert _imds_gets(ms) == _imds_gets(ids) == [IMDS]
    # Both sent the same IMDS request: the path and the Metadata header.
    assert len(_Imds.seen) == 2 and _Imds.seen[0] == _Imds.seen[1]
    assert _Imds.seen[0] == ("/metadata/instance/compute?api-version=2021-02-01", "true")


def test_region_name_comes_before_imds(admin, imds, monkeypatch):
    monkeypatch.setenv("REGION_NAME", "centralus")
    (ms, ids), apps = _apps(imds, azure_region=True)
    _run(apps)
    _same_token_requests(ms, ids)
    assert _token_urls(ids) == [_regional("centralus")]
    assert _imds_gets(ms) == _imds_gets(ids) == []


@pytest.mark.parametrize("imds_answer", ["unreachable", "error", "no_location", "bad_region"])
def test_detection_failures_fall_back_to_the_global_endpoint_silently(admin, imds, imds_answer):
    target = imds
    if imds_answer == "unreachable":
        target = f"http://127.0.0.1:{servers.closed_port()}"
    _Imds.answer = {
        "unreachable": (200, {}),
        "error": (500, {"error": "busy"}),
        "no_location": (200, {"name": "vm"}),
        "bad_region": (200, {"location": "West US 2"}),
    }[imds_answer]
    (ms, ids), apps = _apps(target, azure_region=True)
    _run(apps)
    _same_token_requests(ms, ids)
    assert _token_urls(ids) == [GLOBAL]
    assert _imds_gets(ms) == _imds_gets(ids) == [IMDS]


def test_msal_force_region_applies_unless_disabled(admin, imds, monkeypatch):
    monkeypatch.setenv("MSAL_FORCE_REGION", "westeurope")
    (ms, ids), apps = _apps(imds)
    _run(apps)
    _same_token_requests(ms, ids)
    assert _token_urls(ids) == [_regional("westeurope")]
    (ms, ids), apps = _apps(imds, azure_region=msal.ConfidentialClientApplication.DISABLE_MSAL_FORCE_REGION)
    _run(apps)
    _same_token_requests(ms, ids)
    assert _token_urls(ids) == [GLOBAL]
    assert _imds_gets(ms) == _imds_gets(ids) == []


@pytest.mark.parametrize("region", ["West US", "westus.", "-westus", "a" * 64])
def test_an_invalid_region_is_a_value_error_in_both(imds, region):
    for cls in (msal.ConfidentialClientApplication, idflow.ConfidentialClientApplication):
        with pytest.raises(ValueError):
            cls(servers.EMULATOR_CONFIDENTIAL, client_credential=servers.EMULATOR_SECRET,
                authority=f"https://{GLOBAL_HOST}/{servers.EMULATOR_TENANT}", azure_region=region,
                http_client=RecordingSession({"169.254.169.254": imds}))


def test_is_pop_supported_is_false_without_a_broker(admin):
    """msal answers True only with the Windows or macOS broker enabled
    (msal/application.py is_pop_supported); idflow has no broker."""
    assert idflow.PublicClientApplication(servers.EMULATOR_PUBLIC).is_pop_supported() is False
    theirs = msal.PublicClientApplication(servers.EMULATOR_PUBLIC, http_client=RecordingSession())
    assert not theirs.is_pop_supported()  # msal answers None here: falsy, as documented


# --- client_claims ------------------------------------------------------------

CLAIMS = {"client_ip": "10.0.0.1", "xms_app": {"tier": ["gold"]}}


def _jwt_claims(assertion):
    if isinstance(assertion, bytes):
        assertion = assertion.decode()
    payload = assertion.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _claims_apps(admin, subject, **options):
    """msal (through the https-to-loopback transport its https-only
    authorities need) and idflow (the emulator's own authority, through a
    recording session), registered with one certificate; each with the list
    of the forms it posted."""
    from test_certificates_peer import _cert_pem, _certificate, _HttpsOnLoopback, _key_pem

    class Recording(_HttpsOnLoopback):
        def __init__(self, base):
            super().__init__(base)
            self.forms = []

        def post(self, url, params=None, data=None, headers=None, **kwargs):
            self.forms.append(dict(data or {}))
            return super().post(url, params=params, data=data, headers=headers, **kwargs)

    key, cert = _certificate(subject)
    client = "8d7c6b5a-4f3e-4d2c-8b1a-0f9e8d7c6b5a"
    admin.call("POST", "clients", {"client_id": client, "confidential": True,
                                   "roles": ["Data.Read.All"], "keys": [_cert_pem(cert)]})
    credential = {"private_key": _key_pem(key), "public_certificate": _cert_pem(cert)}
    base = servers.emulator_url()
    theirs, ours = Recording(base), RecordingSession()
    msal_app = msal.ConfidentialClientApplication(
        client, client_credential=credential, http_client=theirs, instance_discovery=False,
        authority="https://" + base[len("http://"):] + "/" + servers.EMULATOR_TENANT, **options)
    idflow_app = idflow.ConfidentialClientApplication(
        client, client_credential=credential, authority=servers.emulator_authority(),
        http_client=ours, **options)
    return (msal_app, lambda: theirs.forms), (idflow_app, lambda: [f for _, _, f, _ in _posts(ours)])


def test_client_claims_are_signed_into_the_assertion_alike(admin):
    """The emulator accepts both assertions (it checks the signature, the
    audience and the lifetime) and both carry the app's claims beside msal's
    defaults (msal/oauth2cli/assertion.py: the app's claims are laid over)."""
    sides = _claims_apps(admin, "claims.idflow.test", client_claims=CLAIMS)
    claims = []
    for app, forms in sides:
        _ok(app.acquire_token_for_client(APP_SCOPE))
        [form] = forms()
        claims.append(_jwt_claims(form["client_assertion"]))
    want, got = claims
    for c in claims:
        assert c["client_ip"] == "10.0.0.1" and c["xms_app"] == {"tier": ["gold"]}
    # The same claims but for the times, the id and the audience's scheme
    # (msal reaches the plain-http emulator as https).
    same = lambda c: {k: v for k, v in c.items() if k not in {"exp", "iat", "nbf", "jti", "aud"}}  # noqa: E731
    assert same(want) == same(got)
    assert want["aud"].replace("https://", "http://") == got["aud"]
    # idflow also sends nbf (RFC 7523 allows it; msal does not).
    assert set(want) == set(got) - {"nbf"}


def test_client_claims_override_a_default_claim_alike(admin):
    """msal lays the app's claims over its own defaults: an app-chosen `exp`
    (sooner than the default 10 minutes) is sent as given by both, and the
    emulator accepts it."""
    import time

    exp = int(time.time()) + 120
    for app, forms in _claims_apps(admin, "claims-override.idflow.test", client_claims={"exp": exp}):
        _ok(app.acquire_token_for_client(APP_SCOPE))
        assert _jwt_claims(forms()[-1]["client_assertion"])["exp"] == exp


def test_client_claims_must_be_a_dict():
    with pytest.raises(ValueError, match="client_claims"):
        idflow.ConfidentialClientApplication(
            servers.EMULATOR_CONFIDENTIAL, client_credential=servers.EMULATOR_SECRET,
            authority=f"https://{GLOBAL_HOST}/{servers.EMULATOR_TENANT}", client_claims="ip=1")


def test_exclude_scopes_is_checked_as_msal_checks_it():
    for bad in ("offline_access", ["openid"]):
        for cls in (msal.PublicClientApplication, idflow.PublicClientApplication):
            with pytest.raises(ValueError):
                cls(servers.EMULATOR_PUBLIC, exclude_scopes=bad)


def test_forwarded_client_claims_is_refused_with_what_to_do_instead():
    app = idflow.ConfidentialClientApplication(
        servers.EMULATOR_CONFIDENTIAL, client_credential=servers.EMULATOR_SECRET,
        authority=f"https://{GLOBAL_HOST}/{servers.EMULATOR_TENANT}")
    with pytest.raises(ValueError, match="claims_challenge"):
        app.acquire_token_for_client(APP_SCOPE, forwarded_client_claims='{"id_token":{}}')
    # msal names it on the silent calls too: refused there alike, before any lookup.
    for silent in (app.acquire_token_silent, app.acquire_token_silent_with_error):
        with pytest.raises(ValueError, match="claims_challenge"):
            silent(APP_SCOPE, None, forwarded_client_claims='{"id_token":{}}')
