"""The test servers, from Python: the emulator's admin API and a scripted
browser for node-oidc-provider's pages (login, consent, device approval),
over plain urllib, and the helpers the suites share around them. Addresses
come from scripts/with-servers.sh; the fixtures are in conftest.py."""

from __future__ import annotations

import html
import http.cookiejar
import json
import os
import re
import socket
import ssl
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import idflow

EMULATOR_PUBLIC = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e01"
EMULATOR_CONFIDENTIAL = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10"
EMULATOR_SECRET = "emulator-secret-do-not-use-in-production"
EMULATOR_USER = "ada@emulator.idflow.test"
EMULATOR_PASSWORD = "correct horse battery staple"
EMULATOR_TENANT = "emulator.idflow.test"
# The API node-oidc-provider's clients may ask for.
PROVIDER_API = ["api://idflow-test/read"]


def emulator_url() -> str:
    url = os.environ.get("IDFLOW_EMULATOR_URL")
    if not url:
        raise RuntimeError("IDFLOW_EMULATOR_URL is unset: run scripts/test-python.sh")
    return url.rstrip("/")


def oidc_info() -> Dict[str, Any]:
    info = os.environ.get("IDFLOW_OIDC_INFO")
    if not info:
        raise RuntimeError("IDFLOW_OIDC_INFO is unset: run scripts/test-python.sh")
    return json.loads(info)


def emulator_authority(tenant: str = EMULATOR_TENANT) -> str:
    return f"{emulator_url()}/{tenant}"


def public_app(authority: Optional[str] = None, **kwargs: Any) -> Any:
    """idflow's public client on the emulator (its tenant unless ``authority``
    says otherwise; a 5 s timeout unless ``timeout`` says otherwise)."""
    kwargs.setdefault("timeout", 5)
    return idflow.PublicClientApplication(
        EMULATOR_PUBLIC, authority=authority or emulator_authority(), **kwargs)


def confidential_app(authority: Optional[str] = None, **kwargs: Any) -> Any:
    """idflow's confidential client on the emulator, with its secret; as
    :func:`public_app`."""
    kwargs.setdefault("timeout", 5)
    return idflow.ConfidentialClientApplication(
        EMULATOR_CONFIDENTIAL, client_credential=EMULATOR_SECRET,
        authority=authority or emulator_authority(), **kwargs)


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def follow_authorize(auth_uri: str) -> str:
    """The emulator signs in at once: the redirect it answers with."""
    opener = urllib.request.build_opener(_NoRedirect())
    try:
        opener.open(auth_uri, timeout=10)
    except urllib.error.HTTPError as e:
        assert 300 <= e.code < 400, e.code
        return e.headers["Location"]
    raise AssertionError("authorize did not redirect")


def device_sign_in(provider: Dict[str, Any], app: Any) -> Tuple[Dict[str, Any], Any]:
    """A device-code sign-in on the TLS node-oidc-provider (conftest's
    ``provider``): the flow and the app's result."""
    flow = app.initiate_device_flow(PROVIDER_API)
    Browser(provider["issuer"], cafile=provider["cafile"]).approve_device(flow["user_code"])
    return flow, app.acquire_token_by_device_flow(flow)


class Admin:
    """The emulator's admin API (JSON over HTTP)."""

    def __init__(self, base: str):
        self.base = base

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base}/_admin/{path.lstrip('/')}", data=data,
                                     method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def reset(self) -> None:
        self.call("POST", "reset", {})

    def settings(self, **changes: Any) -> None:
        self.call("PATCH", "settings", changes)

    def preset(self, name: str, **override: Any) -> None:
        self.call("POST", f"presets/{name}", override)

    def fault(self, rule: Dict[str, Any]) -> None:
        self.call("POST", "faults", rule)

    def approve(self, user_code: str) -> None:
        self.call("POST", "device_codes/approve", {"user_code": user_code})

    def decline(self, user_code: str) -> None:
        self.call("POST", "device_codes/decline", {"user_code": user_code})

    def requests(self) -> List[Dict[str, Any]]:
        return self.call("GET", "requests")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _form(page_url: str, text: str) -> Optional[Tuple[str, List[Tuple[str, str]]]]:
    """The first form of a page: its absolute action and its input fields."""
    m = re.search(r"<form\b([^>]*)>(.*?)(</form>|$)", text, re.S)
    if not m:
        return None
    action = re.search(r'\baction="([^"]*)"', m.group(1))
    if not action:
        return None
    fields = []
    for tag in re.findall(r"<input\b[^>]*>", m.group(2)):
        name = re.search(r'\bname="([^"]*)"', tag)
        value = re.search(r'\bvalue="([^"]*)"', tag)
        if name:
            fields.append((html.unescape(name.group(1)),
                           html.unescape(value.group(1)) if value else ""))
    return urljoin(page_url, html.unescape(action.group(1))), fields


class Browser:
    """A cookie-keeping browser for node-oidc-provider's devInteractions pages:
    any login name and password are accepted, consent is granted."""

    def __init__(self, issuer: str, cafile: Optional[str] = None, login: str = "alice"):
        self.issuer = issuer.rstrip("/")
        self.login = login
        handlers: List[Any] = [urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                               _NoRedirect()]
        if cafile:
            handlers.append(urllib.request.HTTPSHandler(
                context=ssl.create_default_context(cafile=cafile)))
        self._opener = urllib.request.build_opener(*handlers)

    def _send(self, url: str, fields: Optional[List[Tuple[str, str]]] = None):
        data = None if fields is None else urlencode(fields).encode()
        try:
            resp = self._opener.open(urllib.request.Request(url, data=data), timeout=10)
        except urllib.error.HTTPError as e:
            resp = e
        with resp:
            return resp.status, resp.headers, resp.read().decode("utf-8", "replace"), resp.url

    def _inside(self, url: str) -> bool:
        return url == self.issuer or url.startswith(self.issuer + "/")

    def _drive(self, url: str, fields: Optional[List[Tuple[str, str]]] = None):
        """Follows redirects and login/consent forms; returns ("left", url) on
        a redirect out of the provider, else ("page", (url, html))."""
        for _ in range(16):
            status, headers, text, at = self._send(url, fields)
            if 300 <= status < 400:
                nxt = urljoin(at, headers["Location"])
                if not self._inside(nxt):
                    return "left", nxt
                url, fields = nxt, None
                continue
            form = _form(at, text)
            prompt = dict(form[1]).get("prompt") if form else None
            if prompt == "login":
                fields = [(k, self.login if k == "login" else "any-password" if k == "password" else v)
                          for k, v in form[1]]
            elif prompt == "consent":
                fields = form[1]
            else:
                return "page", (at, text)
            url = form[0]
        raise AssertionError("no end after 16 steps")

    def authorize(self, auth_uri: str) -> str:
        """Signs in at the authorize URL; the redirect URL the provider sent back."""
        kind, value = self._drive(auth_uri)
        assert kind == "left", f"authorize ended on a page: {value[0]}"
        return value

    def _confirm_form(self, user_code: str) -> Tuple[str, List[Tuple[str, str]]]:
        status, _, text, at = self._send(f"{self.issuer}/device")
        action, fields = _form(at, text)
        fields = [(k, user_code if k == "user_code" else v) for k, v in fields]
        status, _, text, at = self._send(action, fields)
        form = _form(at, text)
        assert form and "confirm" in dict(form[1]), f"user code {user_code} not accepted"
        return form

    def approve_device(self, user_code: str) -> None:
        action, fields = self._confirm_form(user_code)
        kind, value = self._drive(action, fields)
        assert kind == "page", f"device approval left the provider for {value}"

    def decline_device(self, user_code: str) -> None:
        action, fields = self._confirm_form(user_code)
        fields = [(k, v) for k, v in fields if k != "confirm"] + [("abort", "yes")]
        self._send(action, fields)


def query_dict(redirect_url: str) -> Dict[str, str]:
    """The redirect's query parameters, as a web framework hands them over."""
    parts = urlsplit(redirect_url)
    return dict(parse_qsl(parts.query or parts.fragment, keep_blank_values=True))
