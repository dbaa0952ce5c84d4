# Type stubs for idflow.application: msal Python's application classes.
# Every acquire_token_* returns msal's success dict (TokenResult) or its error
# dict (ErrorResult): test `"access_token" in result`, then follow
# result["action"]. ValueError means the call itself is wrong;
# ConnectionError / TimeoutError mean the provider could not be reached.

from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, TypedDict, Union

from . import ErrorResult, TokenResult
from .token_cache import TokenCache

__all__ = ["ClientApplication", "PublicClientApplication", "ConfidentialClientApplication"]

CLIENT_SKU: str
# msal arguments idflow refuses (a ValueError), with what to do instead.
REFUSED: Dict[str, str]

Result = Union[TokenResult, ErrorResult]
Scopes = Iterable[str]

class DeviceFlow(TypedDict, total=False):
    """What :meth:`PublicClientApplication.initiate_device_flow` returns: show
    ``message``; pass the whole dict on (JSON-safe; it holds the device code,
    keep it server-side). On failure it holds ``error`` instead."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int
    message: str
    expires_at: float
    _correlation_id: str
    claims_challenge: Optional[str]
    scope: List[str]
    error: str
    error_description: str

class AuthCodeFlow(TypedDict, total=False):
    """What ``initiate_auth_code_flow`` returns: send the user to ``auth_uri``
    and keep the dict server-side (JSON-safe; it holds the PKCE verifier)."""

    state: str
    redirect_uri: str
    scope: List[str]
    auth_uri: str
    code_verifier: str
    nonce: str
    max_age: int
    claims_challenge: Optional[str]
    error: str
    error_description: str

class Account(TypedDict, total=False):
    """msal's account dict, from :meth:`ClientApplication.get_accounts`."""

    home_account_id: str
    environment: str
    username: str
    authority_type: str
    local_account_id: str
    realm: str

class ClientApplication:
    ATTEMPT_REGION_DISCOVERY: bool
    DISABLE_MSAL_FORCE_REGION: bool
    client_id: str
    authority: str
    token_cache: TokenCache
    def is_pop_supported(self) -> bool: ...
    def __init__(
        self,
        client_id: str,
        client_credential: Any = ...,
        authority: Optional[str] = ...,
        validate_authority: bool = ...,
        token_cache: Optional[TokenCache] = ...,
        http_client: Any = ...,
        verify: Union[bool, str] = ...,
        proxies: Any = ...,
        timeout: Union[None, float, Tuple[float, float]] = ...,
        client_claims: Optional[Dict[str, Any]] = ...,
        app_name: Optional[str] = ...,
        app_version: Optional[str] = ...,
        client_capabilities: Optional[List[str]] = ...,
        azure_region: Union[None, bool, str] = ...,
        exclude_scopes: Optional[List[str]] = ...,
        http_cache: Any = ...,
        instance_discovery: Optional[bool] = ...,
        allow_broker: Any = ...,
        enable_pii_log: Any = ...,
        oidc_authority: Optional[str] = ...,
    ) -> None: ...
    def initiate_auth_code_flow(
        self,
        scopes: Scopes,
        redirect_uri: Optional[str] = ...,
        state: Optional[str] = ...,
        prompt: Optional[str] = ...,
        login_hint: Optional[str] = ...,
        domain_hint: Optional[str] = ...,
        claims_challenge: Optional[str] = ...,
        max_age: Optional[int] = ...,
        response_mode: Optional[str] = ...,
    ) -> AuthCodeFlow: ...
    def acquire_token_by_auth_code_flow(
        self,
        auth_code_flow: Mapping[str, Any],
        auth_response: Mapping[str, str],
        scopes: Optional[Scopes] = ...,
        **kwargs: Any,
    ) -> Result: ...
    def get_authorization_request_url(
        self,
        scopes: Scopes,
        login_hint: Optional[str] = ...,
        state: Optional[str] = ...,
        redirect_uri: Optional[str] = ...,
        response_type: str = ...,
        prompt: Optional[str] = ...,
        nonce: Optional[str] = ...,
        domain_hint: Optional[str] = ...,
        claims_challenge: Optional[str] = ...,
        **kwargs: Any,
    ) -> str: ...
    def acquire_token_by_authorization_code(
        self,
        code: str,
        scopes: List[str],
        redirect_uri: Optional[str] = ...,
        nonce: Optional[str] = ...,
        claims_challenge: Optional[str] = ...,
        forwarded_client_claims: Any = ...,
        **kwargs: Any,
    ) -> Result: ...
    def get_accounts(self, username: Optional[str] = ...) -> List[Account]: ...
    def remove_account(self, account: Mapping[str, Any]) -> None: ...
    def acquire_token_silent(
        self,
        scopes: Scopes,
        account: Optional[Mapping[str, Any]],
        authority: Any = ...,
        force_refresh: bool = ...,
        claims_challenge: Optional[str] = ...,
        forwarded_client_claims: Any = ...,
        auth_scheme: Any = ...,
        **kwargs: Any,
    ) -> Optional[TokenResult]: ...
    def acquire_token_silent_with_error(
        self,
        scopes: Scopes,
        account: Optional[Mapping[str, Any]],
        authority: Any = ...,
        force_refresh: bool = ...,
        claims_challenge: Optional[str] = ...,
        auth_scheme: Any = ...,
        **kwargs: Any,
    ) -> Optional[Result]: ...
    def acquire_token_by_refresh_token(self, refresh_token: str, scopes: Scopes, **kwargs: Any) -> Result: ...
    def acquire_token_by_username_password(
        self,
        username: str,
        password: str,
        scopes: Scopes,
        claims_challenge: Optional[str] = ...,
        auth_scheme: Any = ...,
        **kwargs: Any,
    ) -> Result: ...

class PublicClientApplication(ClientApplication):
    def __init__(
        self,
        client_id: str,
        client_credential: None = ...,
        *,
        enable_broker_on_windows: Any = ...,
        enable_broker_on_mac: Any = ...,
        enable_broker_on_linux: Any = ...,
        enable_broker_on_wsl: Any = ...,
        **kwargs: Any,
    ) -> None: ...
    def initiate_device_flow(
        self, scopes: Optional[Scopes] = ..., *, claims_challenge: Optional[str] = ..., **kwargs: Any
    ) -> DeviceFlow: ...
    def acquire_token_by_device_flow(
        self,
        flow: Dict[str, Any],
        claims_challenge: Optional[str] = ...,
        *,
        exit_condition: Optional[Callable[[Dict[str, Any]], bool]] = ...,
        **kwargs: Any,
    ) -> Result: ...
    def acquire_token_interactive(
        self,
        scopes: Scopes,
        prompt: Optional[str] = ...,
        login_hint: Optional[str] = ...,
        domain_hint: Optional[str] = ...,
        claims_challenge: Optional[str] = ...,
        timeout: Optional[float] = ...,
        port: Optional[int] = ...,
        extra_scopes_to_consent: Any = ...,
        max_age: Any = ...,
        parent_window_handle: Any = ...,
        on_before_launching_ui: Optional[Callable[..., Any]] = ...,
        auth_scheme: Any = ...,
        **kwargs: Any,
    ) -> Result: ...

class ConfidentialClientApplication(ClientApplication):
    def __init__(
        self,
        client_id: str,
        client_credential: Union[str, Mapping[str, Any]] = ...,
        authority: Optional[str] = ...,
        **kwargs: Any,
    ) -> None: ...
    def acquire_token_for_client(
        self,
        scopes: Scopes,
        claims_challenge: Optional[str] = ...,
        fmi_path: Any = ...,
        forwarded_client_claims: Any = ...,
        **kwargs: Any,
    ) -> Result: ...
    def remove_tokens_for_client(self) -> None: ...
    def acquire_token_by_user_federated_identity_credential(
        self,
        scopes: Scopes,
        assertion: str,
        username: Optional[str] = ...,
        user_object_id: Optional[str] = ...,
        claims_challenge: Optional[str] = ...,
        forwarded_client_claims: Any = ...,
        **kwargs: Any,
    ) -> Result: ...
    def acquire_token_on_behalf_of(
        self,
        user_assertion: str,
        scopes: Scopes,
        claims_challenge: Optional[str] = ...,
        forwarded_client_claims: Any = ...,
        **kwargs: Any,
    ) -> Result: ...
