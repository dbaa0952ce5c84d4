# Type stubs for idflow.token_cache: msal's TokenCache and SerializableTokenCache.

from typing import Any, Dict, Iterable, List, Optional, Union

__all__ = ["TokenCache", "SerializableTokenCache"]

class TokenCache:
    class CredentialType:
        ACCESS_TOKEN: str
        REFRESH_TOKEN: str
        ACCOUNT: str
        ID_TOKEN: str
        APP_METADATA: str
    class AuthorityType:
        ADFS: str
        MSSTS: str
    def __init__(self) -> None: ...
    def find(
        self,
        credential_type: str,
        target: Optional[Iterable[str]] = ...,
        query: Optional[Dict[str, Any]] = ...,
        *,
        now: Any = ...,
    ) -> List[Dict[str, Any]]: ...
    def attach_file(self, path: str) -> None: ...

class SerializableTokenCache(TokenCache):
    has_state_changed: bool
    def serialize(self) -> str: ...
    def deserialize(self, state: Union[str, bytes, None]) -> None: ...
