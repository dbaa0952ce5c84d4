"""msal Python's ``client_credential`` forms as the core's credentials.

The forms and what each sends follow msal Python 1.39
(``msal/application.py``, ``ClientApplication._build_client``; the header
fields in ``msal/oauth2cli/assertion.py``, ``JwtAssertionCreator``):

* a ``str``: the client secret;
* ``{"client_assertion": str | bytes}``: a fixed assertion;
* ``{"client_assertion": callable}``: called before each token request, with
  ``{"client_id", "token_endpoint"}`` when it takes a required positional
  argument, else with none (``msal/oauth2cli/oauth2.py``);
* ``{"private_key_pfx_path": path, "passphrase": ...}``: a PKCS#12 file,
  PS256 with ``x5t#S256``; ``"public_certificate": True`` adds ``x5c``;
* ``{"private_key": PEM, "thumbprint": SHA-1 hex}`` (plus ``passphrase`` for
  an encrypted key): RS256 with ``x5t``; a ``public_certificate`` PEM adds
  ``x5c``;
* ``{"private_key": PEM, "public_certificate": PEM}`` without a thumbprint:
  PS256 with ``x5t#S256`` and ``x5c``.

msal sends no ``kid``; neither does this layer. The key, the passphrase and
the assertion stay in the native credential: nothing here keeps them.

:class:`FederatedTokenFile` is workload identity federation's token file
(``AZURE_FEDERATED_TOKEN_FILE`` by default), read again before each request:
pass it as ``{"client_assertion": FederatedTokenFile()}`` (it is also a plain
callable, so msal accepts the same dict).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from typing import Any, Callable, Optional

from ._common import _ffi

__all__ = ["FederatedTokenFile"]

_ENV = "AZURE_FEDERATED_TOKEN_FILE"


class FederatedTokenFile:
    """The federated token the platform writes to ``path`` (default: the
    file ``AZURE_FEDERATED_TOKEN_FILE`` names) and rotates; read on each call."""

    def __init__(self, path: Optional[str] = None):
        chosen = path if path else os.environ.get(_ENV)
        if not chosen:
            raise ValueError(f"{_ENV} is not set: no federated token file to read")
        self.path = str(chosen)

    def __call__(self) -> str:
        with open(self.path, encoding="utf-8") as f:
            return f.read().strip()

    def __repr__(self) -> str:
        return f"FederatedTokenFile(path={self.path!r})"


def _accepts_context(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` has a positional parameter without a default (msal's rule)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return any(p.kind in positional and p.default is inspect.Parameter.empty for p in params)


class _AssertionCallback(_ffi.ClientAssertionCallback):
    """Calls the app's callable; what it returns goes straight to the core."""

    def __init__(self, fn: Callable[..., Any]):
        self._fn = fn
        self._context = _accepts_context(fn)

    def client_assertion(self, client_id: str, token_endpoint: str) -> str:
        if self._context:
            value = self._fn({"client_id": client_id, "token_endpoint": token_endpoint})
        else:
            value = self._fn()
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        if not isinstance(value, str):
            raise TypeError("the client_assertion callable must return a str or bytes")
        return value

    def __repr__(self) -> str:
        return "_AssertionCallback()"


def _text(value: Any, name: str) -> Optional[str]:
    if value is None or value == "" or value == b"":
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, str):
        return value
    raise ValueError(f"client_credential[{name!r}] must be a str")


def credential(client_credential: Any) -> Any:
    """msal's ``client_credential`` as the core's ``ClientCredential``."""
    if isinstance(client_credential, str):
        return _ffi.ClientCredential.SECRET(secret=client_credential)
    if not isinstance(client_credential, Mapping):
        raise ValueError("client_credential must be a secret (str) or a dict, as in msal")
    cred = dict(client_credential)
    # Like msal, empty values (an unset environment variable) count as absent.
    assertion = cred.get("client_assertion")
    if assertion:
        if isinstance(assertion, FederatedTokenFile):
            return _ffi.ClientCredential.FEDERATED_TOKEN_FILE(path=assertion.path)
        if callable(assertion):
            return _ffi.ClientCredential.ASSERTION_CALLBACK(callback=_AssertionCallback(assertion))
        return _ffi.ClientCredential.ASSERTION(assertion=_text(assertion, "client_assertion") or "")
    passphrase = _text(cred.get("passphrase"), "passphrase")
    public = cred.get("public_certificate")
    public_pem = _text(public, "public_certificate") if public is not True else None
    pfx_path = cred.get("private_key_pfx_path")
    if pfx_path:
        try:
            with open(os.fspath(pfx_path), "rb") as f:
                pfx = f.read()
        except OSError as e:
            raise ValueError(f"private_key_pfx_path: {e.strerror}: {pfx_path!r}") from None
        return _ffi.ClientCredential.PKCS12(
            pfx=pfx, password=passphrase,
            send_x5c=public is True or public_pem is not None, thumbprint_kid=False,
        )
    key = _text(cred.get("private_key"), "private_key")
    if key:
        thumbprint = _text(cred.get("thumbprint"), "thumbprint")
        if thumbprint is None and public_pem is None:
            raise ValueError("You must provide either 'thumbprint' or 'public_certificate' "
                             "from which the thumbprint can be calculated.")
        return _ffi.ClientCredential.PRIVATE_KEY(
            private_key_pem=key, passphrase=passphrase, certificate_pem=public_pem,
            sha1_thumbprint=thumbprint, send_x5c=public_pem is not None, thumbprint_kid=False,
        )
    raise ValueError(
        "client_credential needs a secret (str), {'client_assertion': str or callable}, "
        "{'private_key_pfx_path': ..., 'passphrase': ...}, or {'private_key': PEM, "
        "'thumbprint': SHA-1 hex and/or 'public_certificate': PEM}, as in msal"
    )
