"""idflow for Python: msal Python's contract over idflow's one Rust core.

Every value here is the core's decision; this module only translates it into
what a Python caller of msal expects:

* a **dict** for success (``access_token``, ``token_source``, ...) and for most
  failures (the server's ``error``, ``error_description``, ``error_codes``,
  ``suberror``, ``classification`` where msal computes it, plus idflow's
  ``error_kind``, ``action``, ``mitigation``, ``retry_after``, ...);
* **None** where msal's ``acquire_token_silent`` finds nothing to use;
* ``ValueError`` only for misuse (a wrong argument; the call itself is wrong);
* Python's own ``ConnectionError`` / ``TimeoutError`` (``OSError`` subclasses)
  for network failures.

Every exception raised here carries the msal-style dict as ``exc.result`` and
the whole decision as ``exc.decision`` (for logging and debugging: branch on
the exception class, not on those). No exception type of the generated
binding ever leaves this module.

Two kinds of function:

* decisions as data, never raised: :func:`classify_response`,
  :func:`explain`, :func:`transport_failure` return a *decision* dict
  (``kind``, ``code``, ``classification``, ``retryable``, ``retry_after``,
  ``action``, ``mitigation``, ...);
* observations, what an msal app would get: :func:`result_for_response` and
  :func:`raise_for_info` return the dict or ``None``, or raise.

The applications, :class:`PublicClientApplication` and
:class:`ConfidentialClientApplication` (module :mod:`idflow.application`), take
msal's arguments and return the same dicts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Dict, List, Optional, Tuple, Union

from . import _logging
from ._common import (
    Decision,
    _ffi,
    _info_decision,
    _observe,
    _snake,
    _submit,
    _wait,
)
from ._logging import TRACE  # noqa: F401 (re-exported)
from .application import (
    ClientApplication,
    ConfidentialClientApplication,
    PublicClientApplication,
)
from ._credentials import FederatedTokenFile
from .distributed_cache import DistributedTokenCache
from .managed_identity import (
    ManagedIdentity,
    ManagedIdentityClient,
    ManagedIdentityError,
    SystemAssignedManagedIdentity,
    UserAssignedManagedIdentity,
)
from .token_cache import SerializableTokenCache, TokenCache

__all__ = [
    "classify_response",
    "result_for_response",
    "explain",
    "transport_failure",
    "raise_for_info",
    "self_test_panic",
    "self_test_panic_async",
    "configure_logging",
    "parse_www_authenticate",
    "claims_challenge",
    "FLOWS",
    "NETWORK_KINDS",
    "ClientApplication",
    "PublicClientApplication",
    "ConfidentialClientApplication",
    "TokenCache",
    "SerializableTokenCache",
    "FederatedTokenFile",
    "DistributedTokenCache",
    "ManagedIdentity",
    "ManagedIdentityClient",
    "ManagedIdentityError",
    "SystemAssignedManagedIdentity",
    "UserAssignedManagedIdentity",
]

HeadersArg = Union[Mapping[str, Union[str, Iterable[str]]], Iterable[Tuple[str, str]]]
BodyArg = Union[bytes, bytearray, memoryview, str, None]

#: The ``flow`` values accepted: the request a response answered.
FLOWS = tuple(f.name.lower() for f in _ffi.Flow)
#: The ``kind`` values :func:`transport_failure` accepts.
NETWORK_KINDS = tuple(k.name.lower() for k in _ffi.NetworkKind)


# --- argument translation (misuse is ValueError, as in msal) ---------------


def _flow_arg(flow: Any) -> Any:
    """A flow: a member of the generated enum, a flow's name (``"silent"``) or
    a grant name (``"refresh_token"``, ``"client_credentials"``), as the core
    reads them."""
    if isinstance(flow, _ffi.Flow):
        return flow
    if not isinstance(flow, str):
        raise ValueError(f"flow must be str, not {type(flow).__name__}")
    try:
        return _ffi.parse_flow(flow)
    except _ffi.AuthError as e:
        raise ValueError(e.info.message) from None


def _enum_arg(enum_type: Any, value: Any, what: str) -> Any:
    """`value` as a member of the generated enum: the member itself or its
    snake_case name (``"device_code"``)."""
    if isinstance(value, enum_type):
        return value
    if isinstance(value, str) and value == value.lower():
        member = enum_type.__members__.get(value.upper())
        if member is not None:
            return member
    allowed = ", ".join(m.name.lower() for m in enum_type)
    raise ValueError(f"unknown {what} {value!r}; expected one of: {allowed}")


def _headers_arg(headers: Any) -> List[Any]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        pairs: List[Tuple[Any, Any]] = []
        for name, value in headers.items():
            if isinstance(value, (list, tuple)):
                pairs.extend((name, v) for v in value)
            else:
                pairs.append((name, value))
    elif isinstance(headers, (str, bytes)) or not isinstance(headers, Iterable):
        raise ValueError(
            "headers must be a dict or a list of (name, value) pairs, "
            f"not {type(headers).__name__}"
        )
    else:
        pairs = []
        for pair in headers:
            if isinstance(pair, (str, bytes)) or not isinstance(pair, Iterable):
                raise ValueError(f"a header must be a (name, value) pair, not {pair!r}")
            items = tuple(pair)
            if len(items) != 2:
                raise ValueError(f"a header must be a (name, value) pair, not {pair!r}")
            pairs.append(items)
    out = []
    for name, value in pairs:
        if not isinstance(name, str) or not isinstance(value, str):
            raise ValueError(f"header names and values must be str, not {(name, value)!r}")
        out.append(_ffi.Header(name=name, value=value))
    return out


def _body_arg(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise ValueError(f"body must be bytes or str, not {type(body).__name__}")


def _status_arg(status: Any) -> int:
    if isinstance(status, bool) or not isinstance(status, int) or not 0 <= status <= 0xFFFF:
        raise ValueError(f"status must be an HTTP status code (int), not {status!r}")
    return status


# --- decision translation (data, never raised) -----------------------------


# The error keys of a decision that holds no error (a success).
_NO_ERROR: Decision = {
    "kind": None, "code": None, "message": None, "classification": None,
    "retryable": None, "retry_after": None, "action": None, "mitigation": None,
    "flow": None, "network": None, "http_status": None, "headers": [],
    "error_description": None, "error_codes": [], "suberror": None, "claims": None,
    "correlation_id": None, "trace_id": None, "timestamp": None, "error_uri": None,
    "python": None,
}


def _classified_decision(c: Any) -> Decision:
    decision: Decision = {
        "outcome": _snake(c.outcome),
        "polling": _snake(c.polling),
        "result": None if c.result_json is None else json.loads(c.result_json),
    }
    if c.error is not None:
        decision.update(_info_decision(c.error))
    else:
        decision.update({k: (list(v) if isinstance(v, list) else v) for k, v in _NO_ERROR.items()})
    return decision


def _thrown_decision(thrown: Decision) -> Decision:
    """A response decision for a call the core itself failed (a caught panic)."""
    decision: Decision = {"outcome": "error", "polling": None, "result": None}
    decision.update(thrown)
    return decision


# --- observation (what an msal app gets) -----------------------------------


def _call(fn: Any, *args: Any) -> Tuple[Any, Optional[Decision]]:
    """Calls a generated function; returns (value, None), or (None, the
    decision) when the core threw. Generated exceptions stop here."""
    try:
        return fn(*args), None
    except _ffi.AuthError as e:
        return None, _info_decision(e.info)
    except _ffi.InternalError as e:
        detail = str(e)
    # A failure below the core's own guard (no decision came back): report it
    # as the core's internal_error, whose Python form the core fixes.
    try:
        return None, _info_decision(_ffi.explain("internal_error"))
    except (_ffi.AuthError, _ffi.InternalError):
        raise RuntimeError(f"idflow's native library failed: {detail}") from None


def _call_or_observe(fn: Any, *args: Any) -> Any:
    value, thrown = _call(fn, *args)
    if thrown is not None:
        return _observe(thrown)
    return value


# --- public API -------------------------------------------------------------


def classify_response(
    status: int, headers: HeadersArg, body: BodyArg, flow: str = "token"
) -> Decision:
    """The core's decision for one HTTP response, as data (never raised).

    ``flow`` is the request the response answered: one of :data:`FLOWS`, or
    the grant that made it (``client_credentials``, ``refresh_token`` — a
    silent refresh —, ``authorization_code``, ``password``, ``on_behalf_of``).
    ``headers`` is a dict or a list of ``(name, value)`` pairs; ``body`` bytes
    or str (sent as UTF-8).

    The dict holds ``outcome`` (``success`` / ``pending`` / ``error``),
    ``polling`` (device code only: ``continue`` / ``slow_down`` / ``stop``),
    ``result`` (msal's success dict, holding tokens: do not log it), and for a
    failure ``kind``, ``code``, ``classification`` (MSAL.NET's name, for
    interaction-required errors only), ``retryable``, ``retry_after`` (seconds),
    ``action`` (``retry``, ``retry_after``, ``acquire_interactively``,
    ``fix_configuration``, ``contact_admin``, ``check_network``, ``none``),
    ``mitigation``, ``error_codes`` (AADSTS numbers: log them, do not branch
    on them), the server's fields, and ``python`` (``form`` and ``dict``: what
    :func:`result_for_response` gives). Follow ``action``: retry after
    ``retry_after`` seconds, or sign in interactively passing ``claims``, or
    fix the app's configuration.

    Raises ValueError for a wrong argument or an unknown ``flow``.
    """
    args = (_status_arg(status), _headers_arg(headers), _body_arg(body), _flow_arg(flow))
    value, thrown = _call(_ffi.classify_response, *args)
    if thrown is not None:
        return _thrown_decision(thrown)
    return _classified_decision(value)


def result_for_response(
    status: int, headers: HeadersArg, body: BodyArg, flow: str = "token"
) -> Optional[Dict[str, Any]]:
    """What an msal Python app gets for this response.

    Returns msal's success dict (``access_token``, ``token_source``, ...), or
    the error dict (check ``"error" in result``; ``action`` and ``mitigation``
    say what to do), or None where msal's silent lookup has nothing to use.
    Raises ConnectionError / TimeoutError for network failures and ValueError
    for misuse (a wrong argument, an unknown ``flow``), each with the dict as
    ``exc.result``.
    """
    args = (_status_arg(status), _headers_arg(headers), _body_arg(body), _flow_arg(flow))
    value, thrown = _call(_ffi.raise_for_response, *args)
    if thrown is not None:
        return _observe(thrown)
    return None if value.result_json is None else json.loads(value.result_json)


def explain(query: str) -> Decision:
    """The decision for an AADSTS number (``"AADSTS50079"`` or ``"50079"``), an
    error code (``"invalid_grant"``, ``"state_mismatch"``) or an error body
    (``'{"error": ...}'``), without a request: ``kind``, ``classification``,
    ``action``, ``mitigation`` ... as in :func:`classify_response`.

    An AADSTS number may be followed by the error and suberror it came with
    (``"AADSTS50079 invalid_grant basic_action"``); a number newer than
    idflow's table still gets a decision, and its message says so. Raises
    ValueError for a query idflow cannot read (empty or malformed).
    """
    if not isinstance(query, str):
        raise ValueError(f"query must be str, not {type(query).__name__}")
    info = _call_or_observe(_ffi.explain, query)
    return _info_decision(info)


def transport_failure(kind: str, detail: str = "") -> Decision:
    """The decision for a request that got no HTTP answer: ``kind`` is one of
    :data:`NETWORK_KINDS` (``timeout``, ``dns``, ``connection_refused``, ...).
    Its ``python`` form is the ConnectionError / TimeoutError an msal app would
    see; :func:`raise_for_info` raises it. Raises ValueError for an unknown
    ``kind``.
    """
    if not isinstance(detail, str):
        raise ValueError(f"detail must be str, not {type(detail).__name__}")
    info = _call_or_observe(_ffi.transport_failure, _enum_arg(_ffi.NetworkKind, kind, "network kind"), detail)
    return _info_decision(info)


def raise_for_info(info: Any) -> Optional[Dict[str, Any]]:
    """Turns a failure into what an msal app observes: returns the error dict
    (or None), or raises ValueError / ConnectionError / TimeoutError with the
    dict as ``exc.result``.

    ``info`` is a decision from :func:`classify_response`, :func:`explain` or
    :func:`transport_failure` (one that holds an error), or an ``ErrorInfo``
    of the native binding (thrown back through the core, as a flow would).
    """
    if isinstance(info, _ffi.ErrorInfo):
        _, thrown = _call(_ffi.raise_error, info)
        if thrown is None:  # pragma: no cover - raise_error always throws
            raise ValueError("the core did not raise this ErrorInfo")
        return _observe(thrown)
    if not isinstance(info, Mapping) or not isinstance(info.get("python"), Mapping):
        raise ValueError("raise_for_info needs an idflow decision that holds an error")
    return _observe(dict(info))


def parse_www_authenticate(headers: HeadersArg) -> List[Dict[str, Any]]:
    """The challenges of every ``WWW-Authenticate`` header among ``headers``
    (a dict, or a list of ``(name, value)`` pairs: a protected resource's 401
    response headers), in order. Each is a dict: ``scheme`` (as sent:
    ``Bearer``, ``PoP``...), ``params`` (names lower-cased, values unquoted),
    ``error``, ``claims`` (base64-decoded when it is base64 of a JSON object)
    and ``authority``.

    Raises ValueError (with ``.result``) for a header that does not parse
    (``unable_to_parse_authentication_header``).
    """
    value = _call_or_observe(_ffi.parse_www_authenticate, _headers_arg(headers))
    return [
        {
            "scheme": c.scheme,
            "params": dict(c.params),
            "error": c.error,
            "claims": c.claims,
            "authority": c.authority,
        }
        for c in value
    ]


def claims_challenge(headers: HeadersArg) -> Optional[str]:
    """The claims a protected resource demands, from its 401 response
    headers (``WWW-Authenticate: Bearer error="insufficient_claims",
    claims="..."``), decoded: pass them as ``claims_challenge=`` to the next
    token request (interactive, or silent to bypass the cached token), then
    call the resource again. None when the headers carry no claims challenge
    (or do not parse).
    """
    return _ffi.claims_challenge(_headers_arg(headers))


def self_test_panic() -> Optional[Dict[str, Any]]:
    """Makes the core panic on purpose and returns what Python observes: the
    ``internal_error`` dict (a panic never crashes the process and no native
    exception type escapes). For health checks and tests."""
    _, thrown = _call(_ffi.self_test_panic)
    if thrown is None:  # pragma: no cover - the core always throws here
        raise AssertionError("the core's deliberate panic did not reach Python")
    return _observe(thrown)


def self_test_panic_async() -> Optional[Dict[str, Any]]:
    """Like :func:`self_test_panic`, through an async native call that panics
    on a later poll, on the native runtime's thread: the same dict."""
    return _wait(_submit(_ffi.self_test_panic_async))


def configure_logging(enable_pii_log: Optional[bool] = None) -> None:
    """Sends idflow's log lines to the ``idflow`` logger of :mod:`logging`, at
    the level that logger lets through (``idflow.TRACE``, 5, is the most
    verbose); call it after changing the logging setup (applications call it
    when created). Lines that show personal data exist only after
    ``enable_pii_log=True`` and carry ``record.idflow_contains_pii``. Tokens,
    secrets, codes and passwords are never logged."""
    _logging.sync(enable_pii_log)

