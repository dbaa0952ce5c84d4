# Type stubs for idflow.token_cache: msal's TokenCache and SerializableTokenCache.

from typing import Any, Dict, Iterable, Iterator, List, Optional, Union

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
    def search(
        self,
        credential_type: str,
        target: Optional[Iterable[str]] = ...,
        query: Optional[Dict[str, Any]] = ...,
        *,
        now: Optional[float] = ...,
    ) -> Iterator[Dict[str, Any]]: ...
    def find(
        self,
        credential_type: str,
        target: Optional[Iterable[str]] = ...,
        query: Optional[Dict[str, Any]] = ...,
        *,
        now: Optional[float] = ...,
    ) -> List[Dict[str, Any]]: ...
    def modify(
        self,
        credential_type: str,
        old_entry: Dict[str, Any],
        new_key_value_pairs: Optional[Dict[str, Any]] = ...,
    ) -> None: ...
    def add(self, event: Dict[str, Any], now: Optional[float] = ...) -> None: ...
    def remove_rt(self, rt_item: Dict[str, Any]) -> None: ...
    def update_rt(self, rt_item: Dict[str, Any], new_rt: str) -> None: ...
    def remove_at(self, at_item: Dict[str, Any]) -> None: ...
    def remove_idt(self, idt_item: Dict[str, Any]) -> None: ...
    def remove_account(self, account_item: Dict[str, Any]) -> None: ...
    def attach_file(self, path: str) -> None: ...

class SerializableTokenCache(TokenCache):
    has_state_changed: bool
    def serialize(self) -> str: ...
    def deserialize(self, state: Union[str, bytes, None]) -> None: ...
