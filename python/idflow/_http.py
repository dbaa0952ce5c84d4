"""The app's own HTTP client under idflow, as msal Python takes it.

msal's ``http_client`` is a duck type (``msal/oauth2cli/http.py``): an object
with ``post(url, params=None, data=None, headers=None, **kwargs)`` and
``get(url, params=None, headers=None, **kwargs)`` returning an object with
``status_code`` and ``text`` (and, in practice, ``headers``). msal calls it
with ``headers=``, ``params=`` and ``data=`` keywords and a form ``dict`` as
``data`` (``msal/oauth2cli/oauth2.py``, ``_obtain_token``); a
``requests.Session`` is the usual one (``msal/application.py`` builds one
when none is given). :class:`_RequestsLikeClient` calls it the same way, for
every request of every flow, so a ``requests.Session`` with its adapters,
proxies and certificates works unchanged.

A client that raises becomes idflow's network failure of the matching kind
(timeout, refused, TLS, DNS, lost), which the application returns or raises
as msal would; the message names the exception, never the request's form
(the core also removes any form value an exception text echoes).
"""

from __future__ import annotations

import socket
import ssl
from typing import Any, Dict, List

from ._common import _ffi

_TIMEOUT_NAMES = {"Timeout", "ConnectTimeout", "ReadTimeout", "TimeoutException",
                  "TimeoutError", "timeout"}
_TLS_NAMES = {"SSLError", "CertificateError", "SSLCertVerificationError"}
_REFUSED_NAMES = {"ConnectionRefusedError", "NewConnectionError"}
_DNS_NAMES = {"gaierror", "NameResolutionError"}
# uniffi attaches an error's variants at run time: mypy cannot see them.
_FAILED: Any = getattr(_ffi.HttpClientError, "Failed")


def _network_kind(exc: BaseException) -> Any:
    """The kind of network failure an exception of requests, urllib3, httpx
    or the standard library is, looking through its causes."""
    seen: List[BaseException] = []
    pending: List[BaseException] = [exc]
    while pending and len(seen) < 16:
        e = pending.pop(0)
        if e in seen:
            continue
        seen.append(e)
        names = {c.__name__ for c in type(e).__mro__}
        if isinstance(e, (TimeoutError, socket.timeout)) or names & _TIMEOUT_NAMES:
            return _ffi.NetworkKind.TIMEOUT
        if isinstance(e, ssl.SSLError) or names & _TLS_NAMES:
            return _ffi.NetworkKind.TLS
        if isinstance(e, socket.gaierror) or names & _DNS_NAMES:
            return _ffi.NetworkKind.DNS
        if isinstance(e, ConnectionRefusedError) or names & _REFUSED_NAMES:
            return _ffi.NetworkKind.CONNECTION_REFUSED
        for nested in (e.__cause__, e.__context__, *e.args):
            if isinstance(nested, BaseException):
                pending.append(nested)
    return _ffi.NetworkKind.CONNECTION_LOST


def _headers(raw: Any) -> List[Any]:
    items = raw.items() if hasattr(raw, "items") else (raw or [])
    return [_ffi.Header(name=str(k), value=str(v)) for k, v in items]


def _body(response: Any) -> bytes:
    content = getattr(response, "content", None)
    if isinstance(content, (bytes, bytearray)):
        return bytes(content)
    text = response.text
    if callable(text):  # some clients expose text() as a method
        text = text()
    return text.encode("utf-8") if isinstance(text, str) else bytes(text or b"")


class _RequestsLikeClient(_ffi.HttpClient):
    """The native transport over an msal-style ``http_client``."""

    def __init__(self, client: Any):
        if not (callable(getattr(client, "post", None)) and callable(getattr(client, "get", None))):
            raise ValueError(
                "http_client must have post(url, params=, data=, headers=) and "
                "get(url, params=, headers=), as msal's http_client (a requests.Session works)")
        self._client = client

    def __repr__(self) -> str:
        return f"_RequestsLikeClient({type(self._client).__name__})"

    def send(self, request: Any) -> Any:
        headers: Dict[str, str] = {h.name: h.value for h in request.headers()}
        try:
            if request.method() == "POST":
                data = {f.name: f.value for f in request.form()}
                response = self._client.post(request.url(), headers=headers, data=data)
            else:
                response = self._client.get(request.url(), headers=headers)
            status = getattr(response, "status_code", None)
            if status is None:
                status = response.status
            return _ffi.HttpClientResponse(
                status=int(status),
                headers=_headers(getattr(response, "headers", None)),
                body=_body(response),
            )
        except Exception as e:  # any failure of the app's client: no answer
            raise _FAILED(
                kind=_network_kind(e),
                detail=f"the app's http_client raised {type(e).__name__}: {e}",
            ) from None


class _MappingHttpCache(_ffi.HttpCache):
    """msal's ``http_cache`` (any dict-like object) as the native store of GET
    answers: idflow keeps its entries as bytes under keys starting with
    ``idflow GET``, so the object stays picklable and may also hold msal's.
    A mapping that fails counts as empty: the request is then sent."""

    def __init__(self, mapping: Any):
        if not all(callable(getattr(mapping, m, None)) for m in ("get", "__setitem__")):
            raise ValueError("http_cache must be a dict-like object (get and item assignment)")
        self._mapping = mapping

    def get(self, key: str) -> Any:
        try:
            value = self._mapping.get(key)
        except Exception:  # noqa: BLE001 - the app's object: a miss, never a failure
            return None
        return bytes(value) if isinstance(value, (bytes, bytearray)) else None

    def set(self, key: str, value: bytes) -> None:
        try:
            self._mapping[key] = bytes(value)
        except Exception:  # noqa: BLE001 - a lost write only means a request sent again
            pass
