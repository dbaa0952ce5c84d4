# Type stubs for idflow.managed_identity (msal Python's ManagedIdentityClient).

from collections import UserDict
from typing import Any, Dict, List, Optional

from .token_cache import TokenCache

__all__ = [
    "ManagedIdentity",
    "SystemAssignedManagedIdentity",
    "UserAssignedManagedIdentity",
    "ManagedIdentityClient",
    "ManagedIdentityError",
]

CLIENT_SKU: str

class ManagedIdentityError(ValueError): ...

class ManagedIdentity(UserDict[str, Optional[str]]):
    ID_TYPE: str
    ID: str
    CLIENT_ID: str
    RESOURCE_ID: str
    OBJECT_ID: str
    SYSTEM_ASSIGNED: str
    def __init__(self, identifier: Optional[str] = None, id_type: Optional[str] = None) -> None: ...

class SystemAssignedManagedIdentity(ManagedIdentity):
    def __init__(self) -> None: ...

class UserAssignedManagedIdentity(ManagedIdentity):
    def __init__(
        self,
        *,
        client_id: Optional[str] = None,
        resource_id: Optional[str] = None,
        object_id: Optional[str] = None,
    ) -> None: ...

class ManagedIdentityClient:
    token_cache: TokenCache
    def __init__(
        self,
        managed_identity: Any,
        *,
        http_client: Any = None,
        token_cache: Optional[TokenCache] = None,
        http_cache: Any = None,
        client_capabilities: Optional[List[str]] = None,
    ) -> None: ...
    def acquire_token_for_client(
        self, *, resource: str, claims_challenge: Optional[str] = None, **kwargs: Any
    ) -> Dict[str, Any]: ...
