# Type stubs for idflow's public facade (idflow/__init__.py). The runtime
# module's docstrings say what each call means; these say what it takes and
# gives. The dict shapes are TypedDicts with total=False: msal's dicts carry
# different keys for different outcomes, so test for a key before reading it
# (`if "access_token" in result`).

from collections.abc import Iterable, Mapping
from typing import Any, Dict, List, Literal, Optional, Tuple, TypedDict, Union

from .application import (
    ClientApplication as ClientApplication,
    ConfidentialClientApplication as ConfidentialClientApplication,
    PublicClientApplication as PublicClientApplication,
)
from .distributed_cache import DistributedTokenCache as DistributedTokenCache
from .managed_identity import (
    ManagedIdentity as ManagedIdentity,
    ManagedIdentityClient as ManagedIdentityClient,
    ManagedIdentityError as ManagedIdentityError,
    SystemAssignedManagedIdentity as SystemAssignedManagedIdentity,
    UserAssignedManagedIdentity as UserAssignedManagedIdentity,
)
from .token_cache import (
    SerializableTokenCache as SerializableTokenCache,
    TokenCache as TokenCache,
)

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

class FederatedTokenFile:
    """Workload identity federation's token file (``AZURE_FEDERATED_TOKEN_FILE``
    by default), read again before each request: pass it as
    ``client_credential={"client_assertion": FederatedTokenFile()}``."""

    path: str
    def __init__(self, path: Optional[str] = ...) -> None: ...
    def __call__(self) -> str: ...

#: The most verbose level of the ``idflow`` logger (below ``logging.DEBUG``).
TRACE: int

HeadersArg = Union[Mapping[str, Union[str, Iterable[str]]], Iterable[Tuple[str, str]]]
BodyArg = Union[bytes, bytearray, memoryview, str, None]

Kind = Literal["interaction_required", "service", "client", "network", "throttled", "cancelled"]
Action = Literal[
    "retry",
    "retry_after",
    "acquire_interactively",
    "fix_configuration",
    "contact_admin",
    "check_network",
    "none",
]

class PythonObservation(TypedDict, total=False):
    """What an msal Python app observes for a failure."""

    form: Literal["dict", "None", "ValueError", "ConnectionError", "TimeoutError"]
    dict: Dict[str, Any]

class Decision(TypedDict, total=False):
    """The core's decision for a response or a failure, as data (never raised).
    ``outcome``, ``polling`` and ``result`` come from :func:`classify_response`
    only; for a success the error keys are None."""

    outcome: Literal["success", "pending", "error"]
    polling: Optional[Literal["continue", "slow_down", "stop"]]
    result: Optional[Dict[str, Any]]
    kind: Optional[Kind]
    code: Optional[str]
    message: Optional[str]
    classification: Optional[str]
    retryable: Optional[bool]
    retry_after: Optional[int]
    action: Optional[Action]
    mitigation: Optional[str]
    flow: Optional[str]
    network: Optional[str]
    http_status: Optional[int]
    headers: List[Tuple[str, str]]
    error_description: Optional[str]
    error_codes: List[int]
    suberror: Optional[str]
    claims: Optional[str]
    correlation_id: Optional[str]
    trace_id: Optional[str]
    timestamp: Optional[str]
    error_uri: Optional[str]
    python: Optional[PythonObservation]

class TokenResult(TypedDict, total=False):
    """msal's success dict (it holds secrets: never log it)."""

    access_token: str
    token_type: str
    expires_in: int
    ext_expires_in: int
    refresh_in: int
    scope: str
    refresh_token: str
    id_token: str
    id_token_claims: Dict[str, Any]
    client_info: str
    token_source: Literal["identity_provider", "cache", "broker"]

class ErrorResult(TypedDict, total=False):
    """msal's error dict, with idflow's additions (``error_kind``, ``action``,
    ``mitigation``, ``retry_after``)."""

    error: str
    error_description: str
    error_codes: List[int]
    suberror: str
    classification: str
    claims: str
    correlation_id: str
    timestamp: str
    trace_id: str
    error_kind: Kind
    action: Action
    mitigation: str
    retryable: bool
    retry_after: int
    http_status: int
    headers: Dict[str, str]

#: The ``flow`` values accepted: the request a response answered.
FLOWS: Tuple[str, ...]
#: The ``kind`` values :func:`transport_failure` accepts.
NETWORK_KINDS: Tuple[str, ...]

def classify_response(status: int, headers: HeadersArg, body: BodyArg, flow: str = ...) -> Decision: ...
def result_for_response(
    status: int, headers: HeadersArg, body: BodyArg, flow: str = ...
) -> Optional[Dict[str, Any]]: ...
def explain(query: str) -> Decision: ...
def transport_failure(kind: str, detail: str = ...) -> Decision: ...
def raise_for_info(info: Any) -> Optional[Dict[str, Any]]: ...
def self_test_panic() -> Optional[Dict[str, Any]]: ...

class AuthChallenge(TypedDict):
    """One ``WWW-Authenticate`` challenge."""
    scheme: str
    params: Dict[str, str]
    error: Optional[str]
    claims: Optional[str]
    authority: Optional[str]

def parse_www_authenticate(headers: HeadersArg) -> List[AuthChallenge]: ...
def claims_challenge(headers: HeadersArg) -> Optional[str]: ...
def self_test_panic_async() -> Optional[Dict[str, Any]]: ...
def configure_logging(enable_pii_log: Optional[bool] = ...) -> None: ...
