"""msal Python 1.39 and idflow driven by the same ``requests.Session``
subclass (msal's ``http_client``), against the emulator: for client
credentials, refresh token, device code and auth code, both must send the
same requests — method, endpoint, form fields and the headers that matter.

msal accepts only ``https`` authorities, so both apps use
``https://login.microsoftonline.com/<tenant>`` and the session maps that host
to the emulator (and back in discovery documents): the app under test never
knows. What each library sends that the other does not is listed below,
exactly; a new difference fails the test."""

from __future__ import annotations

import base64
import fnmatch
import json
from urllib.parse import parse_qsl, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import msal  # the peer (scripts/setup-python.sh installs it: a missing peer fails, never skips)
import pytest
import requests

import idflow
import servers
from servers import EMULATOR_CONFIDENTIAL, EMULATOR_PUBLIC, EMULATOR_SECRET, EMULATOR_TENANT

AAD = "https://login.microsoftonline.com"
GRAPH = ["https://graph.microsoft.com/User.Read"]
APP_SCOPE = ["https://graph.microsoft.com/.default"]
REDIRECT = "http://localhost/callback"

# Form fields whose values differ between any two runs: compared by presence only.
VOLATILE_FIELDS = {"code", "code_verifier", "refresh_token", "device_code", "client_secret"}
# Headers both must send (values compared unless volatile) and those compared by presence.
SAME_HEADERS = {"content-type", "x-ms-lib-capability", "x-client-os"}
PRESENT_HEADERS = {"client-request-id", "x-client-sku", "x-client-ver"}
# Exactly what one library sends and the other does not, per flow (field or header).
MSAL_ONLY_FIELDS = {
    # msal asks for client_info on every grant; it describes a user, and an
    # app-only token has none.
    "client_credentials": {"client_info"},
    # msal repeats the device code as `code` (msal/application.py,
    # acquire_token_by_device_flow: a 2018 transition hack); the grant needs only device_code.
    "device_code": {"code"},
}
# msal's server telemetry rides on token requests only.
MSAL_ONLY_TOKEN_HEADERS = {"x-client-current-telemetry", "x-client-last-telemetry"}
IDFLOW_ONLY_HEADERS = {"return-client-request-id"}
# idflow verifies the id token's signature: it reads the signing keys (msal does not).
IDFLOW_ONLY_GET_SUFFIX = "/discovery/v2.0/keys"


_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_KID = "https-host"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(n):
    return _b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def _jwks():
    numbers = _KEY.public_key().public_numbers()
    return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": _KID,
                      "n": _uint(numbers.n), "e": _uint(numbers.e)}]}


def _moved(id_token, emulator):
    """The id token with its issuer on the https host, signed again with the
    key the session's JWKS answer publishes (idflow checks the signature)."""
    payload = id_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["iss"] = claims["iss"].replace(emulator, AAD)
    signed = _b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": _KID}).encode()) + "." \
        + _b64(json.dumps(claims).encode())
    signature = _KEY.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signed}.{_b64(signature)}"


class RecordingSession(requests.Session):
    """Records every request it sends (method, URL, form, headers) and sends
    the identity platform's requests to the emulator.

    ``hosts`` maps more hosts (``fnmatch`` patterns such as
    ``*.login.microsoft.com``) to a base URL that serves them (the emulator,
    or a stand-in for the VM's metadata service); a discovery document comes
    back naming the host it was asked of. ``urls`` holds every full URL sent."""

    def __init__(self, hosts=None):
        super().__init__()
        self.trust_env = False
        self.sent = []
        self.urls = []
        self.hosts = dict(hosts or {})

    def _target(self, url):
        """The URL's origin and the base URL it goes to."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin == AAD:
            return origin, servers.emulator_url()
        for pattern, base in self.hosts.items():
            if fnmatch.fnmatch(parts.hostname or "", pattern):
                return origin, base
        return origin, origin

    def request(self, method, url, *args, **kwargs):
        emulator = servers.emulator_url()
        origin, base = self._target(url)
        self.urls.append((method, url))
        response = super().request(method, url.replace(origin, base, 1), *args, **kwargs)
        if "openid-configuration" in url:
            response._content = response.content.replace(emulator.encode(), origin.encode())
        elif url.endswith("/discovery/v2.0/keys"):
            response._content = json.dumps(_jwks()).encode()
        elif url.endswith("/token") and b'"id_token"' in response.content:
            answer = response.json()
            answer["id_token"] = _moved(answer["id_token"], emulator)
            response._content = json.dumps(answer).encode()
        sent = response.request
        body = sent.body.decode() if isinstance(sent.body, bytes) else (sent.body or "")
        headers = {k.lower(): v for k, v in sent.headers.items()}
        self.sent.append((sent.method, urlsplit(sent.url).path, dict(parse_qsl(body)), headers))
        return response


@pytest.fixture
def admin(admin):
    admin.settings(device_code_interval_secs=0)
    return admin


def _apps(kind, hosts=None, **options):
    """msal's app and idflow's, alike, each with its own recording session;
    ``options`` go to both constructors."""
    sessions = RecordingSession(hosts), RecordingSession(hosts)
    if kind == "public":
        authority = f"{AAD}/organizations"
        return sessions, (
            msal.PublicClientApplication(EMULATOR_PUBLIC, authority=authority,
                                         http_client=sessions[0], **options),
            idflow.PublicClientApplication(EMULATOR_PUBLIC, authority=authority,
                                           http_client=sessions[1], **options))
    authority = f"{AAD}/{EMULATOR_TENANT}"
    return sessions, (
        msal.ConfidentialClientApplication(EMULATOR_CONFIDENTIAL, client_credential=EMULATOR_SECRET,
                                           authority=authority, http_client=sessions[0], **options),
        idflow.ConfidentialClientApplication(EMULATOR_CONFIDENTIAL, client_credential=EMULATOR_SECRET,
                                             authority=authority, http_client=sessions[1], **options))


def _ok(result):
    assert "access_token" in result, result
    return result


def _posts(session):
    return [s for s in session.sent if s[0] == "POST"]


def _compare(flow, msal_session, idflow_session):
    want, got = _posts(msal_session), _posts(idflow_session)
    assert [(m, p) for m, p, _, _ in want] == [(m, p) for m, p, _, _ in got]
    for (_, path, want_form, want_h), (_, _, got_form, got_h) in zip(want, got):
        msal_only = MSAL_ONLY_FIELDS.get(flow, set()) if path.endswith("/token") else set()
        assert set(want_form) - set(got_form) == msal_only, (path, want_form.keys(), got_form.keys())
        assert set(got_form) - set(want_form) == set(), (path, want_form.keys(), got_form.keys())
        for key in set(want_form) & set(got_form) - VOLATILE_FIELDS:
            if key == "scope":  # a set of scopes: order is not meaningful
                assert set(want_form[key].split()) == set(got_form[key].split()), (path, key)
            else:
                assert want_form[key] == got_form[key], (path, key, want_form[key], got_form[key])
        for h in SAME_HEADERS:
            assert want_h.get(h) == got_h.get(h), (path, h, want_h.get(h), got_h.get(h))
        for h in PRESENT_HEADERS:
            assert h in want_h and h in got_h, (path, h)
        msal_only = MSAL_ONLY_TOKEN_HEADERS if path.endswith("/token") else set()
        assert {h for h in MSAL_ONLY_TOKEN_HEADERS if h in want_h} == msal_only, (path, want_h.keys())
        assert not MSAL_ONLY_TOKEN_HEADERS & set(got_h), (path, got_h.keys())
        assert IDFLOW_ONLY_HEADERS <= set(got_h) and not IDFLOW_ONLY_HEADERS & set(want_h)
    # msal reads the tenant's discovery document first; idflow builds a
    # well-known cloud's endpoints from the authority (one round trip fewer,
    # as MSAL.NET does) and reads only the signing keys, when it checks an id
    # token. Both through the session.
    gets = lambda s: [p for m, p, _, _ in s.sent if m == "GET"]  # noqa: E731
    assert gets(msal_session) and all(p.endswith("/openid-configuration") for p in gets(msal_session))
    assert [p for p in gets(idflow_session) if not p.endswith(IDFLOW_ONLY_GET_SUFFIX)] == []
    assert len(gets(idflow_session)) == (flow != "client_credentials")


def test_client_credentials(admin):
    (ms, ids), apps = _apps("confidential")
    for app in apps:
        _ok(app.acquire_token_for_client(APP_SCOPE))
    _compare("client_credentials", ms, ids)


def test_refresh_token(admin):
    plain = servers.public_app(authority=servers.emulator_authority("organizations"))
    (ms, ids), apps = _apps("public")
    for app in apps:
        rt = _ok(plain.acquire_token_by_username_password(
            servers.EMULATOR_USER, servers.EMULATOR_PASSWORD, GRAPH))["refresh_token"]
        _ok(app.acquire_token_by_refresh_token(rt, GRAPH))
    _compare("refresh_token", ms, ids)


def test_device_code(admin):
    (ms, ids), apps = _apps("public")
    for app in apps:
        flow = app.initiate_device_flow(GRAPH)
        admin.approve(flow["user_code"])
        _ok(app.acquire_token_by_device_flow(flow))
    _compare("device_code", ms, ids)


def test_device_code_with_exit_condition(admin):
    """msal's ``exit_condition`` (msal's ``oauth2cli/oauth2.py``,
    ``obtain_token_by_device_flow``): while the user has not finished, one
    poll per call when it says stop at once, msal's answer dict returned;
    ``slow_down`` adds 5 to the flow's interval; a poll within the interval
    after the last is warned about; the token once approved, without asking
    the condition. Both libraries, the same requests."""
    admin.settings(device_code_interval_secs=1)  # msal asks the condition once per second of it
    (ms, ids), apps = _apps("public")
    seen = []
    for app in apps:
        flow = app.initiate_device_flow(GRAPH)
        pending = app.acquire_token_by_device_flow(flow, exit_condition=lambda f: True)
        admin.preset("slow_down")
        slowed = app.acquire_token_by_device_flow(flow, exit_condition=lambda f: True)
        admin.approve(flow["user_code"])
        asked = []
        with pytest.warns(UserWarning):  # polled again within the 6 s: both say so
            _ok(app.acquire_token_by_device_flow(flow, exit_condition=lambda f: asked.append(f) or True))
        seen.append((pending.get("error"), pending.get("error_codes"), slowed.get("error"),
                     flow["interval"], len(asked), "latest_attempt_at" in flow))
    assert seen[0] == seen[1] == ("authorization_pending", [70016], "slow_down", 6, 0, True), seen
    _compare("device_code", ms, ids)


def test_auth_code(admin):
    (ms, ids), apps = _apps("public")
    for app in apps:
        flow = app.initiate_auth_code_flow(GRAPH, redirect_uri=REDIRECT)
        auth_uri = flow["auth_uri"].replace(AAD, servers.emulator_url())
        response = servers.query_dict(servers.follow_authorize(auth_uri))
        _ok(app.acquire_token_by_auth_code_flow(flow, response))
    _compare("auth_code", ms, ids)


APP_IDENTITY = {"app_name": "contoso-web", "app_version": "4.2.0"}


def _app_headers(session):
    """x-app-name / x-app-ver of every POST (token and device code requests)."""
    return [(h.get("x-app-name"), h.get("x-app-ver")) for _, _, _, h in _posts(session)]


def test_refresh_token_with_app_name_and_excluded_scopes(admin):
    """msal sends app_name / app_version as x-app-name / x-app-ver on every
    token request and leaves exclude_scopes out of the scopes it adds."""
    plain = servers.public_app(authority=servers.emulator_authority("organizations"))
    (ms, ids), apps = _apps("public", exclude_scopes=["offline_access"], **APP_IDENTITY)
    for app in apps:
        rt = _ok(plain.acquire_token_by_username_password(
            servers.EMULATOR_USER, servers.EMULATOR_PASSWORD, GRAPH))["refresh_token"]
        _ok(app.acquire_token_by_refresh_token(rt, GRAPH))
    _compare("refresh_token", ms, ids)
    for session in (ms, ids):
        assert _app_headers(session) == [("contoso-web", "4.2.0")]
        scope = _posts(session)[0][2]["scope"].split()
        assert "offline_access" not in scope and {"openid", "profile"} <= set(scope)


def test_device_code_with_app_name(admin):
    (ms, ids), apps = _apps("public", **APP_IDENTITY)
    for app in apps:
        flow = app.initiate_device_flow(GRAPH)
        admin.approve(flow["user_code"])
        _ok(app.acquire_token_by_device_flow(flow))
    _compare("device_code", ms, ids)
    assert _app_headers(ms) == _app_headers(ids) == [("contoso-web", "4.2.0")] * 2


def test_client_credentials_with_app_name(admin):
    (ms, ids), apps = _apps("confidential", **APP_IDENTITY)
    for app in apps:
        _ok(app.acquire_token_for_client(APP_SCOPE))
    _compare("client_credentials", ms, ids)
    assert _app_headers(ms) == _app_headers(ids) == [("contoso-web", "4.2.0")]


def test_auth_code_with_excluded_scopes(admin):
    """The flow dict's ``scope``, the authorize URL's and the redemption's
    leave the excluded scope out in both (msal/application.py _decorate_scope)."""
    (ms, ids), apps = _apps("public", exclude_scopes=["offline_access"])
    flows = []
    for app in apps:
        flow = app.initiate_auth_code_flow(GRAPH, redirect_uri=REDIRECT)
        flows.append(flow)
        auth_uri = flow["auth_uri"].replace(AAD, servers.emulator_url())
        response = servers.query_dict(servers.follow_authorize(auth_uri))
        _ok(app.acquire_token_by_auth_code_flow(flow, response))
    _compare("auth_code", ms, ids)
    want, got = (set(f["scope"]) for f in flows)
    assert want == got and "offline_access" not in got, (want, got)
    for flow in flows:
        asked = dict(parse_qsl(urlsplit(flow["auth_uri"]).query))["scope"].split()
        assert "offline_access" not in asked and "openid" in asked
