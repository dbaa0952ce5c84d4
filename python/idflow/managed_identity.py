"""Managed identity, shaped like msal Python's ``ManagedIdentityClient``.

A token for the identity Azure gives the machine or the app, from whichever
source serves it (App Service, Service Fabric, Azure Arc, Cloud Shell, Azure
Machine Learning, or the VM's IMDS; picked from the environment at each
request, as msal does)::

    client = ManagedIdentityClient(SystemAssignedManagedIdentity())
    result = client.acquire_token_for_client(resource="https://management.azure.com")
    if "access_token" not in result:
        print(result["error"], result["action"], result["mitigation"])

Results and errors are msal's: the success dict (``access_token``,
``expires_in``, ``token_type``, ``resource``, ``token_source``,
``refresh_in`` / ``refresh_on`` for long tokens), the source's error as an
``{"error", "error_description", ...}`` dict, :class:`ManagedIdentityError`
(a ``ValueError``) for what msal raises it for (an identity kind the source
does not serve, an invalid endpoint, an answer that is not JSON), and
``ConnectionError`` / ``TimeoutError`` when the endpoint cannot be reached.
"""

from __future__ import annotations

import json
import time
from collections import UserDict
from typing import Any, Dict, List, Optional

from ._common import _ffi, _submit, _wait
from .application import _capabilities, _opt_str, _wait_sync
from .token_cache import TokenCache

__all__ = [
    "ManagedIdentity",
    "SystemAssignedManagedIdentity",
    "UserAssignedManagedIdentity",
    "ManagedIdentityClient",
    "ManagedIdentityError",
]

#: The ``x-client-sku`` this layer sends.
CLIENT_SKU = "idflow.python"
#: Prepared cache lookups kept per client; more distinct resources than this start over.
_MAX_PROBES = 64
#: Azure Arc's key directory for clients made from now on; ``None`` is the
#: agent's (``/var/opt/azcmagent/tokens``). Tests point it at an emulator's.
_arc_key_directory: Optional[str] = None


class ManagedIdentityError(ValueError):
    """msal's ``ManagedIdentityError``: the request cannot be made or its
    answer cannot be read. Carries the error dict as ``.result``."""


class ManagedIdentity(UserDict):  # type: ignore[type-arg]
    """msal's dict form of a managed identity:
    ``{"ManagedIdentityIdType": ..., "Id": ...}``."""

    ID_TYPE = "ManagedIdentityIdType"
    ID = "Id"
    CLIENT_ID = "ClientId"
    RESOURCE_ID = "ResourceId"
    OBJECT_ID = "ObjectId"
    SYSTEM_ASSIGNED = "SystemAssigned"

    def __init__(self, identifier: Optional[str] = None, id_type: Optional[str] = None):
        super().__init__({self.ID_TYPE: id_type, self.ID: identifier})


class SystemAssignedManagedIdentity(ManagedIdentity):
    """Equal to ``{"ManagedIdentityIdType": "SystemAssigned", "Id": None}``."""

    def __init__(self) -> None:
        super().__init__(id_type=self.SYSTEM_ASSIGNED)


class UserAssignedManagedIdentity(ManagedIdentity):
    """Exactly one of ``client_id``, ``resource_id`` or ``object_id``; equal to
    ``{"ManagedIdentityIdType": "ClientId" | "ResourceId" | "ObjectId", "Id": id}``."""

    def __init__(self, *, client_id: Optional[str] = None, resource_id: Optional[str] = None,
                 object_id: Optional[str] = None):
        given = [(t, v) for t, v in ((self.CLIENT_ID, client_id), (self.RESOURCE_ID, resource_id),
                                     (self.OBJECT_ID, object_id)) if v]
        if len(given) != 1:
            raise ManagedIdentityError(
                "You shall specify one of the three parameters: client_id, resource_id, object_id")
        super().__init__(identifier=given[0][1], id_type=given[0][0])


def _native_identity(managed_identity: Any) -> Any:
    """msal's forms (the classes or their dicts) as the native identity."""
    if not isinstance(managed_identity, (dict, UserDict)):
        raise ManagedIdentityError(f"Incorrect managed_identity: {managed_identity!r}")
    id_type = managed_identity.get(ManagedIdentity.ID_TYPE)
    ident = managed_identity.get(ManagedIdentity.ID)
    if id_type == ManagedIdentity.SYSTEM_ASSIGNED:
        return _ffi.ManagedIdentityId.SYSTEM_ASSIGNED()
    kinds = {
        ManagedIdentity.CLIENT_ID: _ffi.ManagedIdentityId.CLIENT_ID,
        ManagedIdentity.RESOURCE_ID: _ffi.ManagedIdentityId.RESOURCE_ID,
        ManagedIdentity.OBJECT_ID: _ffi.ManagedIdentityId.OBJECT_ID,
    }
    if id_type in kinds and isinstance(ident, str) and ident:
        return kinds[id_type](id=ident)
    raise ManagedIdentityError(f"Incorrect managed_identity: {dict(managed_identity)!r}")


def _observed(run: Any) -> Any:
    """The native call's value or msal's observation of its failure, with
    msal's ``ManagedIdentityError`` where msal raises a ``ValueError``."""
    try:
        return run()
    except ManagedIdentityError:
        raise
    except ValueError as e:
        err = ManagedIdentityError(str(e))
        err.result = getattr(e, "result", None)  # type: ignore[attr-defined]
        err.decision = getattr(e, "decision", None)  # type: ignore[attr-defined]
        raise err from None


class ManagedIdentityClient:
    """msal's ``ManagedIdentityClient``.

    ``http_client`` and ``http_cache`` are accepted for msal compatibility and
    not used: idflow sends through its own transport, with MSAL's retries and
    throttling built in. ``token_cache`` is an :class:`idflow.TokenCache`
    (load an msal cache into one with ``deserialize``); tokens are cached
    under msal's conventions, so the two caches hold the same entries.
    """

    def __init__(self, managed_identity: Any, *, http_client: Any = None,
                 token_cache: Optional[TokenCache] = None, http_cache: Any = None,
                 client_capabilities: Optional[List[str]] = None):
        native_id = _native_identity(managed_identity)
        if token_cache is None:
            token_cache = TokenCache()
        elif not isinstance(token_cache, TokenCache):
            raise ValueError("token_cache must be an idflow.TokenCache")
        self._managed_identity = managed_identity
        self.token_cache = token_cache
        config = _ffi.ManagedIdentityConfig(
            token_cache=token_cache._native,
            client_capabilities=_capabilities(client_capabilities),
            client_sku=CLIENT_SKU,
            environment=None,
            arc_key_directory=_arc_key_directory,
            retry_enabled=True,
            timeout_ms=None,
        )

        def construct() -> Any:
            try:
                return _ffi.ManagedIdentityClient(native_id, config)
            except (_ffi.AuthError, _ffi.InternalError) as e:
                from ._common import _error

                return _error(e)

        self._native = _observed(construct)
        # Prepared cache lookups: resource -> [native probe, last hit dict].
        self._probes: Dict[str, List[Any]] = {}

    def __repr__(self) -> str:
        return f"ManagedIdentityClient({dict(self._managed_identity)!r})"

    def acquire_token_for_client(self, *, resource: str, claims_challenge: Optional[str] = None,
                                 **kwargs: Any) -> Dict[str, Any]:
        """A token for ``resource``: the cache, else the source. Pass the
        ``claims_challenge`` a resource sent to skip the cached token."""
        if kwargs.get("mtls_proof_of_possession") or kwargs.get("with_attestation_support"):
            raise ManagedIdentityError("idflow does not support MSI v2 (mTLS PoP) yet")
        if not isinstance(resource, str) or not resource:
            raise ValueError("resource must be a non-empty str")
        claims = _opt_str(claims_challenge, "claims_challenge")
        if claims is None:
            cached = self._cache_hit(resource)
            if cached is not None:
                return cached
        value = _observed(lambda: _wait(_submit(self._native.acquire_token_for_client,
                                                resource, claims)))
        if isinstance(value, _ffi.ManagedIdentityTokenResult):
            result: Dict[str, Any] = json.loads(value.python_json)
            return result
        return value  # type: ignore[no-any-return]

    def _cache_hit(self, resource: str) -> Optional[Dict[str, Any]]:
        """msal's hit dict when the cache holds a token that needs no
        request, else None (the full call then decides and reports any
        failure). One native call with an integer answer: the dict of the
        last hit is reused, its ``expires_in`` recomputed, while the cache
        still holds that token."""
        entry = self._probes.get(resource)
        if entry is None:
            if len(self._probes) >= _MAX_PROBES:
                self._probes.clear()
            entry = self._probes[resource] = [self._native.cached_token_probe(resource), None]
        expires_on = entry[0].probe()
        if expires_on == -1:
            return None
        if expires_on == -2 or entry[1] is None:
            try:
                text = entry[0].fetch_json()
            except (_ffi.AuthError, _ffi.InternalError):
                return None
            if text is None:
                return None
            entry[1] = json.loads(text)
            return dict(entry[1])
        hit = dict(entry[1])
        hit["expires_in"] = max(0, expires_on - int(time.time()))
        return hit
