"""The app's own network path: msal's ``proxies=`` and the proxy environment
through a real forward proxy (tinyproxy, started by scripts/with-servers.sh,
counting what it forwards), and msal's ``http_client`` duck type (a
``requests.Session``) carrying every flow."""

from __future__ import annotations

import json
import os
import re
import time

import pytest
import requests

import idflow
import servers
from servers import EMULATOR_PASSWORD, EMULATOR_USER

GRAPH = ["https://graph.microsoft.com/User.Read"]
APP_SCOPE = ["https://graph.microsoft.com/.default"]


@pytest.fixture
def admin(admin):
    admin.settings(device_code_interval_secs=0)
    return admin


def _proxy():
    info = os.environ.get("IDFLOW_PROXY_INFO")
    if not info:
        raise RuntimeError("IDFLOW_PROXY_INFO is unset: run scripts/test-python.sh")
    return json.loads(info)


def _forwarded():
    """The app's requests to the emulator the proxy has forwarded so far (not
    the admin API or the authorize page: the test's urllib calls them, and
    follows HTTP_PROXY too)."""
    emulator = re.escape(servers.emulator_url())
    pattern = re.compile(r"Request \(file descriptor \d+\): (GET|POST) " + emulator
                         + r"/(?!_admin)(?![^ ?]*/authorize)")
    with open(_proxy()["log"], encoding="utf-8", errors="replace") as f:
        return sum(1 for line in f if pattern.search(line))


def _served(admin):
    """The requests the app sent the emulator (its log, without the admin API
    and the authorize page, which the test's own browser fetches)."""
    return sum(1 for r in admin.requests() if r.get("endpoint") != "authorize")


def _every_flow(pca, cca, admin):
    """Client credentials, username/password, refresh, device code and auth
    code: each must succeed; returns nothing."""
    ok = lambda r: "access_token" in r or pytest.fail(repr(r))  # noqa: E731
    ok(cca.acquire_token_for_client(APP_SCOPE))
    rt = pca.acquire_token_by_username_password(EMULATOR_USER, EMULATOR_PASSWORD, GRAPH)
    ok(rt)
    ok(pca.acquire_token_by_refresh_token(rt["refresh_token"], GRAPH))
    flow = pca.initiate_device_flow(GRAPH)
    admin.approve(flow["user_code"])
    ok(pca.acquire_token_by_device_flow(flow))
    flow = pca.initiate_auth_code_flow(GRAPH, redirect_uri="http://localhost/callback")
    response = servers.query_dict(servers.follow_authorize(flow["auth_uri"]))
    ok(pca.acquire_token_by_auth_code_flow(flow, response))


def _apps(**kwargs):
    return (servers.public_app(authority=servers.emulator_authority("organizations"), **kwargs),
            servers.confidential_app(**kwargs))


def _wait_forwarded(want):
    # The proxy writes its log line before it forwards: this settles at once.
    for _ in range(50):
        if _forwarded() >= want:
            break
        time.sleep(0.02)
    return _forwarded()


# --- proxies ---------------------------------------------------------------


def test_proxies_dict_sends_every_flow_through_the_proxy(admin):
    before = _forwarded()
    admin.call("DELETE", "requests")
    pca, cca = _apps(proxies={"http": _proxy()["url"]})
    _every_flow(pca, cca, admin)
    served = _served(admin)
    assert served >= 6
    assert _wait_forwarded(before + served) - before == served


def test_https_proxy_environment_is_honoured_and_no_proxy_bypasses(admin, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", _proxy()["url"])
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    before = _forwarded()
    admin.call("DELETE", "requests")
    pca, cca = _apps()
    _every_flow(pca, cca, admin)
    served = _served(admin)
    assert _wait_forwarded(before + served) - before == served

    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    before = _forwarded()
    pca, cca = _apps()
    _every_flow(pca, cca, admin)
    time.sleep(0.2)
    assert _forwarded() == before


def test_no_proxy_key_turns_the_environment_off(admin, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", _proxy()["url"])
    before = _forwarded()
    pca, cca = _apps(proxies={"no_proxy": "*"})
    _every_flow(pca, cca, admin)
    time.sleep(0.2)
    assert _forwarded() == before


def test_bad_proxies_are_value_errors():
    for bad in ("http://proxy:1", {"https": "socks5://proxy:1"}, {"https": 3}):
        with pytest.raises(ValueError):
            servers.confidential_app(proxies=bad)


# --- http_client -------------------------------------------------------------


class RecordingSession(requests.Session):
    """A requests.Session that records (method, url) of every request."""

    def __init__(self):
        super().__init__()
        self.trust_env = False  # the environment's proxies are tested above
        self.sent = []

    def request(self, method, url, *args, **kwargs):
        self.sent.append((method, url))
        return super().request(method, url, *args, **kwargs)


def test_requests_session_carries_every_flow(admin):
    session = RecordingSession()
    admin.call("DELETE", "requests")
    pca, cca = _apps(http_client=session)
    _every_flow(pca, cca, admin)
    served = _served(admin)
    # Every request the emulator saw came through the app's session (the
    # authorize page is the test's own browser, not the app's).
    through = [u for _, u in session.sent if u.startswith(servers.emulator_url())]
    assert len(through) == served
    assert {m for m, _ in session.sent} <= {"GET", "POST"}


def test_session_with_its_own_proxies_goes_through_the_proxy(admin):
    session = RecordingSession()
    session.proxies = {"http": _proxy()["url"]}
    before = _forwarded()
    cca = servers.confidential_app(http_client=session)
    assert "access_token" in cca.acquire_token_for_client(APP_SCOPE)
    assert _wait_forwarded(before + len(session.sent)) - before == len(session.sent) > 0


class Raising:
    """An msal-style http_client that fails with the given exception, echoing
    the form it was given (the form holds the client secret)."""

    def __init__(self, exc_type):
        self.exc_type = exc_type
        self.calls = 0

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        self.calls += 1
        raise self.exc_type(f"cannot send {data}")

    def get(self, url, params=None, headers=None, **kwargs):
        self.calls += 1
        raise self.exc_type(f"cannot get {url}")


@pytest.mark.parametrize("exc_type, raised, kind", [
    (requests.ConnectTimeout, TimeoutError, "timeout"),
    (requests.ConnectionError, ConnectionError, "connection_lost"),
    (requests.exceptions.SSLError, ConnectionError, "tls"),
    (RuntimeError, ConnectionError, "connection_lost"),
])
def test_a_raising_client_is_the_network_kind_without_the_secret(exc_type, raised, kind):
    client = Raising(exc_type)
    cca = servers.confidential_app(http_client=client, validate_authority=False)
    with pytest.raises(raised) as info:
        cca.acquire_token_for_client(APP_SCOPE)
    result = info.value.result
    assert result["error_kind"] == "network", result
    assert client.calls >= 1
    text = repr(result) + str(info.value)
    assert servers.EMULATOR_SECRET not in text, text
    assert kind in text or kind == "connection_lost", text


def test_http_client_without_post_and_get_is_a_value_error():
    with pytest.raises(ValueError):
        servers.confidential_app(http_client=object())


def test_a_client_answering_garbage_is_classified_not_a_crash(admin):
    class Garbage:
        def post(self, url, **kwargs):
            return type("R", (), {"status_code": 200, "text": "not json", "headers": {}})()

        get = post

    cca = servers.confidential_app(http_client=Garbage())
    result = cca.acquire_token_for_client(APP_SCOPE)
    assert "error" in result and "access_token" not in result, result
