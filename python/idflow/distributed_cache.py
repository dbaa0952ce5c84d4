"""A token cache shared by every instance of a service, on Redis.

Pass one as ``token_cache=`` to a ``ConfidentialClientApplication``::

    cache = idflow.DistributedTokenCache("redis://cache.internal:6379/0",
                                         encryption_key=KEY_32_BYTES)
    app = idflow.ConfidentialClientApplication(CLIENT_ID, client_credential=SECRET,
                                               authority=AUTHORITY, token_cache=cache)

Each call reads and writes only its own partition (a tenant's app tokens, a
user's tokens) in Redis, with this process's memory in front; concurrent
writers never lose each other's entries; when many processes miss the same
token at once, one of them asks the identity platform. Redis being down or
slow never fails a call: the app goes on with memory and the network.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

from ._common import _ffi
from .token_cache import TokenCache

__all__ = ["DistributedTokenCache"]


class DistributedTokenCache(TokenCache):
    """The partitioned token cache on Redis (or a Redis Cluster: several
    node URLs and ``cluster=True``)."""

    def __init__(
        self,
        url: Union[str, Sequence[str]],
        *,
        encryption_key: Optional[bytes] = None,
        cluster: bool = False,
        key_prefix: str = "idflow:",
        l1_ttl: float = 30.0,
        timeout: float = 0.25,
    ) -> None:
        super().__init__()
        urls = [url] if isinstance(url, str) else [str(u) for u in url]
        if encryption_key is not None and not isinstance(encryption_key, (bytes, bytearray)):
            raise ValueError("encryption_key must be 32 bytes")
        options = _ffi.RedisCacheOptions(
            key_prefix=str(key_prefix),
            timeout_ms=max(1, int(timeout * 1000)),
            encryption_key=bytes(encryption_key) if encryption_key is not None else None,
            cluster=bool(cluster),
            l1_ttl_ms=max(0, int(l1_ttl * 1000)),
        )
        try:
            self._native.attach_redis(urls, options)
        except _ffi.AuthError as e:
            raise ValueError(e.info.message) from None

    @property
    def degraded(self) -> bool:
        """True while Redis fails (calls go on with memory and the network)."""
        return self._native.partition_store_degraded()
