"""msal's ``TokenCache`` and ``SerializableTokenCache`` over idflow's native cache.

The content is msal's unified cache format, so a cache serialized by msal
Python (or MSAL.NET / MSAL for Java) loads here and the other way round. The
tokens live in native memory behind indexes: a lookup does not scan, and
``serialize`` / ``deserialize`` run in native code.

Persist it the msal way::

    cache = idflow.SerializableTokenCache()
    if os.path.exists(PATH):
        cache.deserialize(open(PATH).read())
    app = idflow.PublicClientApplication(CLIENT_ID, token_cache=cache)
    ...
    if cache.has_state_changed:
        open(PATH, "w").write(cache.serialize())

or let idflow do it (atomic writes, a lock between processes, owner-only
permissions): ``cache.attach_file(PATH)``.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Optional

from ._common import _ffi, _info_decision, _observe

__all__ = ["TokenCache", "SerializableTokenCache"]


class TokenCache:
    """msal's in-memory token cache. Pass one as ``token_cache=`` to share
    sign-ins between applications; every app has its own otherwise."""

    class CredentialType:
        ACCESS_TOKEN = "AccessToken"
        REFRESH_TOKEN = "RefreshToken"
        ACCOUNT = "Account"
        ID_TOKEN = "IdToken"
        APP_METADATA = "AppMetadata"

    class AuthorityType:
        ADFS = "ADFS"
        MSSTS = "MSSTS"

    def __init__(self) -> None:
        self._native = _ffi.TokenCache()

    def __repr__(self) -> str:
        # How many entries, never their secrets.
        c = self._native.counts()
        return (f"<{type(self).__name__}: {c.accounts} accounts, {c.access_tokens} access tokens, "
                f"{c.refresh_tokens} refresh tokens, {c.id_tokens} id tokens>")

    def find(self, credential_type: str, target: Optional[Iterable[str]] = None,
             query: Optional[Dict[str, Any]] = None, *, now: Any = None) -> List[Dict[str, Any]]:
        """msal's ``find``: the entries of one section whose fields equal
        ``query``'s and whose ``target`` holds every scope of ``target``
        (case-insensitive). A full scan of a copy: for inspection and tests,
        not for a request path (the applications use native indexes)."""
        changed = self._native.has_state_changed()
        try:
            section = json.loads(self._native.serialize()).get(credential_type, {})
        finally:
            self._native.set_state_changed(changed)
        wanted = {s.lower() for s in (target or [])}
        found = []
        for entry in section.values():
            if query and any(entry.get(k) != v for k, v in query.items()):
                continue
            if wanted and not wanted <= set(entry.get("target", "").lower().split()):
                continue
            found.append(entry)
        return found

    def attach_file(self, path: str) -> None:
        """Keeps the cache in the file ``path`` from now on: loaded now and
        whenever it changed before a lookup, written after every change
        (atomically, under a lock shared with other processes)."""
        try:
            self._native.attach_file(str(path))
        except _ffi.AuthError as e:
            result = _observe(_info_decision(e.info))
            exc = ValueError((result or {}).get("error_description") or "cannot use the cache file")
            exc.result = result  # type: ignore[attr-defined]
            raise exc from None


class SerializableTokenCache(TokenCache):
    """msal's serializable cache: ``serialize()`` to store it,
    ``deserialize()`` to load it, ``has_state_changed`` to know when."""

    @property
    def has_state_changed(self) -> bool:
        """True after a change not yet serialized (msal's attribute; settable)."""
        return self._native.has_state_changed()

    @has_state_changed.setter
    def has_state_changed(self, value: bool) -> None:
        self._native.set_state_changed(bool(value))

    def serialize(self) -> str:
        """The cache as msal's JSON (it holds tokens: store it as a secret)."""
        return self._native.serialize()

    def deserialize(self, state: Optional[str]) -> None:
        """Replaces the content with msal-format JSON (``None`` or ``""``
        empties it). Raises ValueError for anything that is not that format,
        and leaves the cache unchanged then."""
        if state is not None and not isinstance(state, (str, bytes, bytearray)):
            raise ValueError("state must be the str that serialize() returned")
        # The native side reads the UTF-8 bytes in place: one encode here, no
        # further copy of a large cache on its way in.
        if isinstance(state, str):
            data = state.encode("utf-8", "surrogatepass")
        else:
            data = bytes(state or b"")
        try:
            self._native.deserialize_utf8(data or b"{}")
        except _ffi.AuthError as e:
            raise ValueError(f"not a token cache: {e.info.message}") from None
