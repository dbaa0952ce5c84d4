# Type stubs for idflow.distributed_cache: the partitioned token cache on Redis.

from typing import Optional, Sequence, Union

from .token_cache import TokenCache

__all__ = ["DistributedTokenCache"]

class DistributedTokenCache(TokenCache):
    def __init__(
        self,
        url: Union[str, Sequence[str]],
        *,
        encryption_key: Optional[bytes] = ...,
        cluster: bool = ...,
        key_prefix: str = ...,
        l1_ttl: float = ...,
        timeout: float = ...,
    ) -> None: ...
    @property
    def degraded(self) -> bool: ...
