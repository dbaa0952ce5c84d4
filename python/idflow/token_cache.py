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

import base64
import hashlib
import json
import time
import warnings
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple
from urllib.parse import urlparse

from . import _bulk
from ._common import _ffi, _info_decision, _observe

__all__ = ["TokenCache", "SerializableTokenCache"]

_TYPES = ("AccessToken", "RefreshToken", "IdToken", "Account", "AppMetadata")


def _expect(ok: bool) -> None:
    """msal asserts the entry kind of ``remove_*`` / ``update_rt``; so does idflow
    (also under ``python -O``)."""
    if not ok:
        raise AssertionError("the entry is not of the kind this method removes")


def _b64_json(part: str) -> Dict[str, Any]:
    """A padding-less base64url JSON object (a JWT payload, ``client_info``)."""
    data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    value = json.loads(data.decode("utf-8"))
    return value if isinstance(value, dict) else {}


# Request fields that never enter the extended cache key: msal's
# _EXT_CACHE_KEY_EXCLUDED_FIELDS (msal/token_cache.py).
_NOT_IN_EXT_KEY = frozenset((
    "client_id grant_type scope claims username password refresh_token code redirect_uri "
    "code_verifier device_code assertion requested_token_use client_assertion "
    "client_assertion_type client_secret token_type req_cnf key_id "
    "user_federated_identity_credential user_id client_info").split())


def _ext_cache_key(data: Dict[str, Any]) -> str:
    """msal's extended cache key: SHA-256 over the other non-empty request
    fields, each as ``len:name`` + ``len:value`` (UTF-8 byte lengths) in name
    order; base64url without padding, lower-cased. Empty when there are none."""
    fields = {k: str(v) for k, v in (data or {}).items() if v and k not in _NOT_IN_EXT_KEY}
    if not fields:
        return ""
    text = "".join(f"{len(k.encode())}:{k}{len(v.encode())}:{v}"
                   for k, v in sorted(fields.items()))
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii").lower()


# The grants whose token answer is where an account came from (msal's list).
_ACCOUNT_SOURCES = ("broker", "authorization_code", "password",
                    "urn:ietf:params:oauth:grant-type:device_code", "user_fic")


def _event_entries(event: Dict[str, Any], now: Optional[float]) -> List[Tuple[str, Dict[str, Any]]]:
    """The entries msal's ``TokenCache.add`` writes for a token event, in its
    order (access token, account, id token, refresh token, app metadata)."""
    environment = realm = None
    if "token_endpoint" in event:
        url = urlparse(event["token_endpoint"])
        first = (url.path.split("/") + ["", ""])[1]
        if url.scheme != "https" or not url.hostname or not first:
            raise ValueError("token_endpoint must be an https URL with a tenant segment")
        environment, realm = url.hostname, first
    environment = event.get("environment", environment)
    response = event.get("response", {})
    data = event.get("data", {})
    id_token = response.get("id_token")
    claims = response.get("id_token_claims") or (
        _b64_json(id_token.split(".")[1]) if id_token else {})
    client_info: Dict[str, Any] = {}
    home = None
    if "client_info" in response:
        info = _b64_json(response["client_info"])
        if "uid" in info and "utid" in info:
            client_info, home = info, f"{info['uid']}.{info['utid']}"
    if home is None and claims:
        client_info, home = {"uid": claims["sub"]}, claims["sub"]
    target = " ".join(sorted(event.get("scope") or []))
    at_now = int(time.time() if now is None else now)
    client_id = event.get("client_id")
    out: List[Tuple[str, Dict[str, Any]]] = []
    if response.get("access_token"):
        fallback = int(response["expires_on"]) - at_now if response.get("expires_on") else 600
        expires_in = int(response.get("expires_in", fallback))
        ext_expires_in = int(response.get("ext_expires_in", expires_in))
        at = {
            "credential_type": "AccessToken", "secret": response["access_token"],
            "home_account_id": home, "environment": environment, "client_id": client_id,
            "target": target, "realm": realm,
            "token_type": response.get("token_type", "Bearer"),
            "cached_at": str(at_now), "expires_on": str(at_now + expires_in),
            "extended_expires_on": str(at_now + ext_expires_in),
        }
        if "key_id" in data:
            at["key_id"] = data["key_id"]
        ext = _ext_cache_key(data)
        if ext:
            at["ext_cache_key"] = ext
        if "refresh_in" in response:
            at["refresh_on"] = str(at_now + response["refresh_in"])
        out.append(("AccessToken", at))
    if client_info and not event.get("skip_account_creation"):
        account = {
            "home_account_id": home, "environment": environment, "realm": realm,
            "local_account_id": event.get("_account_id", claims.get("oid", claims.get("sub"))),
            "username": (claims.get("preferred_username", claims.get("upn"))
                         or data.get("username") or event.get("username") or ""),
            "authority_type": event.get("authority_type", "ADFS" if realm == "adfs" else "MSSTS"),
        }
        if event.get("grant_type") in _ACCOUNT_SOURCES:
            account["account_source"] = event["grant_type"]
        out.append(("Account", account))
    if id_token:
        out.append(("IdToken", {
            "credential_type": "IdToken", "secret": id_token, "home_account_id": home,
            "environment": environment, "realm": realm, "client_id": client_id}))
    if response.get("refresh_token"):
        rt = {
            "credential_type": "RefreshToken", "secret": response["refresh_token"],
            "home_account_id": home, "environment": environment, "client_id": client_id,
            "target": target, "last_modification_time": str(at_now),
        }
        if "foci" in response:
            rt["family_id"] = response["foci"]
        out.append(("RefreshToken", rt))
    metadata = {"client_id": client_id, "environment": environment}
    if "foci" in response:
        metadata["family_id"] = response.get("foci")
    out.append(("AppMetadata", metadata))
    return out


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

    # -- msal's entry-level API (msal/token_cache.py of msal Python 1.39) ------

    def search(self, credential_type: str, target: Optional[Iterable[str]] = None,
               query: Optional[Dict[str, Any]] = None, *,
               now: Optional[float] = None) -> Iterator[Dict[str, Any]]:
        """msal's ``search``: the entries of one section (msal's dicts) whose
        members equal ``query``'s and whose ``target`` holds every scope of
        ``target``. Answered natively through the cache's per-account,
        per-username and per-app indexes when the query names them (a
        query naming no account walks the section, as msal always does).
        An access token search drops the tokens expired before ``now``
        (epoch seconds; default: now), as msal's does."""
        if credential_type not in _TYPES:
            return iter([])  # msal: a section it never wrote holds nothing
        names = sorted(target or [])
        if not all(isinstance(t, str) for t in names):
            raise ValueError("target must be an iterable of str")
        found = self._native.search_json(
            credential_type, names, None if query is None else json.dumps(query),
            None if now is None else max(0, int(now)))
        return iter(json.loads(found))

    def find(self, credential_type: str, target: Optional[Iterable[str]] = None,
             query: Optional[Dict[str, Any]] = None, *,
             now: Optional[float] = None) -> List[Dict[str, Any]]:
        """``list(search(...))``; deprecated in msal, as here."""
        warnings.warn("Use list(search(...)) instead to explicitly get a list.",
                      DeprecationWarning, stacklevel=2)
        return list(self.search(credential_type, target=target, query=query, now=now))

    def modify(self, credential_type: str, old_entry: Dict[str, Any],
               new_key_value_pairs: Optional[Dict[str, Any]] = None) -> None:
        """msal's ``modify``: the entry stored under ``old_entry``'s key
        becomes ``old_entry`` updated with ``new_key_value_pairs``, or is
        removed when there are none."""
        if credential_type not in _TYPES:
            raise KeyError(credential_type)  # msal: no key maker for it
        self._native.modify_json(
            credential_type, json.dumps(dict(old_entry)),
            json.dumps(dict(new_key_value_pairs)) if new_key_value_pairs else None)

    def add(self, event: Dict[str, Any], now: Optional[float] = None) -> None:
        """msal's ``add``: saves the entries a token event produces (its
        ``response`` for the ``scope`` asked at ``token_endpoint`` /
        ``environment`` by ``client_id``), under the keys and with the
        members msal writes."""
        for credential_type, entry in _event_entries(event, now):
            self.modify(credential_type, entry, entry)

    def remove_rt(self, rt_item: Dict[str, Any]) -> None:
        _expect(rt_item.get("credential_type") == self.CredentialType.REFRESH_TOKEN)
        self.modify(self.CredentialType.REFRESH_TOKEN, rt_item)

    def update_rt(self, rt_item: Dict[str, Any], new_rt: str) -> None:
        _expect(rt_item.get("credential_type") == self.CredentialType.REFRESH_TOKEN)
        self.modify(self.CredentialType.REFRESH_TOKEN, rt_item, {
            "secret": new_rt, "last_modification_time": str(int(time.time()))})

    def remove_at(self, at_item: Dict[str, Any]) -> None:
        _expect(at_item.get("credential_type") == self.CredentialType.ACCESS_TOKEN)
        self.modify(self.CredentialType.ACCESS_TOKEN, at_item)

    def remove_idt(self, idt_item: Dict[str, Any]) -> None:
        _expect(idt_item.get("credential_type") == self.CredentialType.ID_TOKEN)
        self.modify(self.CredentialType.ID_TOKEN, idt_item)

    def remove_account(self, account_item: Dict[str, Any]) -> None:
        _expect("authority_type" in account_item)
        self.modify(self.CredentialType.ACCOUNT, account_item)

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
        return _bulk.serialize(self._native)

    def deserialize(self, state: Optional[str]) -> None:
        """Replaces the content with msal-format JSON (``None`` or ``""``
        empties it). Raises ValueError for anything that is not that format,
        and leaves the cache unchanged then."""
        if state is not None and not isinstance(state, (str, bytes, bytearray)):
            raise ValueError("state must be the str that serialize() returned")
        # The native side reads the UTF-8 bytes in place; an ASCII str is
        # lent as it is, anything else is encoded once.
        try:
            if isinstance(state, str):
                _bulk.deserialize_str(self._native, state)
            else:
                self._native.deserialize_utf8(bytes(state or b"") or b"{}")
        except _ffi.AuthError as e:
            raise ValueError(f"not a token cache: {e.info.message}") from None

    # msal's SerializableTokenCache sets has_state_changed on add and modify;
    # the native cache marks itself changed on both (and on a search that
    # dropped expired tokens, which msal does through modify too).
