"""msal Python's application classes over idflow's core.

:class:`PublicClientApplication` and :class:`ConfidentialClientApplication`
take msal's constructor arguments and offer msal's ``acquire_token_*``
methods with msal's parameter names and defaults. They return what msal
returns: the success dict (``access_token``, ``token_type``, ``expires_in``,
``scope``, ``token_source``, ...) or the error dict (check ``"error" in
result`` and follow ``result["action"]``). They raise ``ValueError`` for
misuse (a reserved scope, a state mismatch, an unsupported argument) and
Python's ``ConnectionError`` / ``TimeoutError`` when the provider cannot be
reached, each with the error dict as ``exc.result``.

The methods block, as msal's do. The core's coroutines run on a private event
loop in a worker thread, so they also work in an app whose own thread already
runs an asyncio loop (call them through ``loop.run_in_executor`` there to keep
that loop responsive).

The token cache is msal's (:class:`idflow.TokenCache` /
:class:`idflow.SerializableTokenCache`, same JSON format): every successful
result is saved to it, ``acquire_token_silent`` and ``acquire_token_for_client``
answer from it without any network while a token is valid, and concurrent
callers needing the same refresh share one request.

``http_client`` (msal's duck type; a ``requests.Session`` works) carries every
request when given; otherwise ``proxies`` (msal's / ``requests``' dict) and the
``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY`` environment apply, as with
``requests`` (``proxies={"no_proxy": "*"}`` turns every proxy off).

``http_cache`` (msal's dict-like object, picklable) keeps the answers to
discovery GETs for 24 hours: another app built over the same object sends
none of them again.

``azure_region`` (a region name, :attr:`ClientApplication.ATTEMPT_REGION_DISCOVERY`
or ``False``; unset takes ``MSAL_FORCE_REGION``) sends ``acquire_token_for_client``
to the regional endpoint, as msal does; ``app_name`` / ``app_version`` go out as
``x-app-name`` / ``x-app-ver``; ``client_claims`` are signed into certificate
assertions; ``exclude_scopes`` removes reserved scopes from sign-ins.

Not supported yet (a ValueError when set): ``verify=False``, brokers,
``auth_scheme``, ``fmi_path``, ``forwarded_client_claims``,
``parent_window_handle`` and any other ``**kwargs``.

The flow dicts (``initiate_auth_code_flow``, ``initiate_device_flow``) are
plain JSON-safe data with msal's keys: keep them in a server-side session
store and complete the flow in another process with another application
object configured alike. A redirect is answered once per application object
(a replay raises ``ValueError``); drop the flow from the session once used.
"""

from __future__ import annotations

import json
import threading
import time
import warnings
import webbrowser
from collections.abc import Mapping, MutableMapping
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode

from . import _credentials, _logging
from ._common import _error, _ffi, _submit, _wait
from ._http import _MappingHttpCache, _RequestsLikeClient
from .token_cache import TokenCache

__all__ = ["ClientApplication", "PublicClientApplication", "ConfidentialClientApplication"]

#: The ``x-client-sku`` this layer sends.
CLIENT_SKU = "idflow.python"
#: The keys of msal's auth code flow dict that redeeming it reads.
_AUTH_CODE_FLOW_KEYS = ("state", "redirect_uri", "scope", "auth_uri", "code_verifier", "nonce",
                        "max_age", "claims_challenge")
_RESERVED_SCOPES = frozenset(["openid", "profile", "offline_access"])
# The answers after which msal's device-flow loop polls again.
_DEVICE_FLOW_RETRIABLE = ("authorization_pending", "slow_down")
_DEFAULT_AUTHORITY = "https://login.microsoftonline.com/common"
# Prepared cache lookups kept per app (distinct scope sets x accounts) before starting over.
_MAX_PROBES = 4096


def _token_dict(value: Any) -> Any:
    """msal's success dict for a TokenResult; an observed error passes through."""
    if isinstance(value, _ffi.TokenResult):
        return json.loads(value.python_json)
    return value


def _run_for_dict(coroutine_fn: Any, *args: Any) -> Any:
    return _token_dict(_wait(_submit(coroutine_fn, *args)))


def _wait_sync(fn: Any, *args: Any) -> Any:
    """A synchronous native call (no event loop): its value, or the observed failure."""
    try:
        return fn(*args)
    except (_ffi.AuthError, _ffi.InternalError) as e:
        return _error(e)


def _account_dicts(fields: str) -> List[Dict[str, Any]]:
    """msal's account dicts from the native side's values, six per account
    joined by U+001F (one split and a comprehension: faster than JSON)."""
    if not fields:
        return []
    it = iter(fields.split("\x1f"))
    return [{"home_account_id": h, "environment": e, "username": u, "authority_type": a,
             "local_account_id": lo, "realm": r}
            for h, e, u, a, lo, r in zip(it, it, it, it, it, it)]


def _apply_account_steps(accounts: List[Dict[str, Any]], steps: str) -> bool:
    """Applies the native side's steps (``S`` and tokens joined by U+001F:
    ``-i`` removes the account at index i, ``+i`` and six values insert one
    there) to ``accounts`` in place; False when they do not fit it (then the
    list is not to be used)."""
    parts = steps[1:].split("\x1f") if len(steps) > 1 else []
    k = 0
    try:
        while k < len(parts):
            op, at = parts[k][0], int(parts[k][1:])
            if op == "-" and at < len(accounts):
                del accounts[at]
                k += 1
            elif op == "+" and at <= len(accounts) and k + 7 <= len(parts):
                h, e, u, a, lo, r = parts[k + 1:k + 7]
                accounts.insert(at, {"home_account_id": h, "environment": e, "username": u,
                                     "authority_type": a, "local_account_id": lo, "realm": r})
                k += 7
            else:
                return False
    except (IndexError, ValueError):
        return False
    return True


def _account_info(account: Any) -> Any:
    """The native AccountInfo for an msal account dict."""
    if not isinstance(account, Mapping) or not isinstance(account.get("home_account_id"), str):
        raise ValueError("account must be a dict from get_accounts()")
    text = lambda k: str(account.get(k) or "")  # noqa: E731
    return _ffi.AccountInfo(
        home_account_id=account["home_account_id"], environment=text("environment"),
        tenant_id=text("realm"), username=text("username"),
        local_account_id=text("local_account_id"),
    )


# --- argument checks (msal's ValueErrors) ------------------------------------


def _scopes(scopes: Any, allow_none: bool = False) -> List[str]:
    if scopes is None and allow_none:
        return []
    if not isinstance(scopes, (list, set, tuple)):
        raise ValueError("The input scopes should be a list, tuple, or set")
    reserved = set(scopes) & _RESERVED_SCOPES
    if reserved:
        raise ValueError(
            "You cannot use any scope value that is reserved. Your input: "
            f"{sorted(set(scopes))} The reserved list: {sorted(_RESERVED_SCOPES)}. "
            "idflow asks for them itself."
        )
    for s in scopes:
        if not isinstance(s, str):
            raise ValueError(f"scopes must be strings, not {s!r}")
    return list(scopes)


_BROKER = ("idflow has no broker (WAM, the macOS or Linux broker): leave it unset and sign in "
           "with acquire_token_interactive (the system browser) or a device code")

_USER_FIC = ("the user_fic grant (a workload's federated credential exchanged for a user's token) "
             "is not supported yet: acquire the user's token with acquire_token_on_behalf_of "
             "or an interactive sign-in")

#: msal arguments idflow refuses, with what to do instead. The ValueError
#: says it, and python/README.md's table of msal's API (generated by
#: tests/msal_surface.py) shows it.
REFUSED: Dict[str, str] = {
    "allow_broker": _BROKER,
    "enable_broker_on_windows": _BROKER,
    "enable_broker_on_mac": _BROKER,
    "enable_broker_on_linux": _BROKER,
    "enable_broker_on_wsl": _BROKER,
    "parent_window_handle": "only brokers use it; leave it unset",
    "auth_scheme": "no proof-of-possession tokens: leave it unset for bearer tokens",
    "fmi_path": "federated managed identity paths are not supported: leave it unset",
    "forwarded_client_claims": (
        "not supported yet (msal caches its tokens under the claims value): to send the "
        "same claims uncached, pass them as claims_challenge"),
    # acquire_token_by_user_federated_identity_credential (msal 1.39's user_fic
    # grant, msal/application.py and msal/oauth2cli/oauth2.py): refused whole.
    "assertion": _USER_FIC,
    "user_object_id": _USER_FIC,
}


def _unsupported(where: str, **given: Any) -> None:
    """ValueError for arguments idflow does not support, when set; it says what
    to do instead where :data:`REFUSED` knows."""

    def why(name: str) -> str:
        return f" ({REFUSED[name]})" if name in REFUSED else " yet"

    for name, value in given.items():
        if name == "kwargs":
            if value:
                names = sorted(value)
                raise ValueError(
                    f"{where}: idflow does not support the argument(s) "
                    f"{', '.join(names)}{why(names[0]) if len(names) == 1 else ' yet'}"
                )
        elif value is not None and value is not False:
            raise ValueError(f"{where}: idflow does not support {name}={why(name)}")


def _authorize_options(prompt: Any, login_hint: Any, domain_hint: Any, claims_challenge: Any, *,
                       state: Any = None, max_age: Any = None, response_mode: Any = None,
                       extra_scopes_to_consent: Any = None) -> Any:
    """The native AuthorizeOptions, each argument checked as msal takes it."""
    if max_age is not None and (isinstance(max_age, bool) or not isinstance(max_age, int)
                                or max_age < 0):
        raise ValueError(f"max_age must be a number of seconds, not {max_age!r}")
    if state is not None and (not isinstance(state, str) or not state):
        raise ValueError("state must be a non-empty str")
    return _ffi.AuthorizeOptions(
        prompt=_opt_str(prompt, "prompt"), login_hint=_opt_str(login_hint, "login_hint"),
        domain_hint=_opt_str(domain_hint, "domain_hint"),
        claims=_opt_str(claims_challenge, "claims_challenge"),
        state=state, response_mode=_opt_str(response_mode, "response_mode"), max_age=max_age,
        extra_scopes_to_consent=_scopes(extra_scopes_to_consent, allow_none=True),
    )


def _opt_str(value: Any, name: str) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{name} must be a str, not {type(value).__name__}")


def _timeouts(timeout: Any) -> Dict[str, Optional[int]]:
    """msal's (requests') ``timeout``: seconds, or a (connect, read) pair."""

    def ms(v: Any) -> Optional[int]:
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {v!r}")
        return max(1, int(v * 1000))

    if isinstance(timeout, (tuple, list)):
        if len(timeout) != 2:
            raise ValueError("timeout must be seconds or a (connect, read) pair")
        return {"connect_timeout_ms": ms(timeout[0]), "timeout_ms": ms(timeout[1])}
    return {"connect_timeout_ms": None, "timeout_ms": ms(timeout)}


def _request_options(client_claims: Any, app_name: Any, app_version: Any, azure_region: Any,
                     exclude_scopes: Any) -> Dict[str, Any]:
    """msal's ``client_claims``, ``app_name``, ``app_version``, ``azure_region`` and
    ``exclude_scopes``, checked as msal checks them, as the native config takes them."""
    if client_claims is not None and not isinstance(client_claims, Mapping):
        raise ValueError('client_claims must be a dict of claims, e.g. {"client_ip": "10.0.0.1"}')
    try:
        claims_json = None if not client_claims else json.dumps(dict(client_claims))
    except (TypeError, ValueError):
        raise ValueError("client_claims must hold JSON values (str, int, list, dict ...)") from None
    # msal/application.py __init__: exclude_scopes is a list, and never holds "openid".
    if exclude_scopes and not isinstance(exclude_scopes, list):
        raise ValueError(f"Invalid exclude_scopes={exclude_scopes!r}. It need to be a list of strings.")
    if "openid" in (exclude_scopes or []):
        raise ValueError(f'Invalid exclude_scopes={exclude_scopes!r}. You can not opt out "openid" scope')
    if azure_region is None:
        region = None
    elif azure_region is True:  # ATTEMPT_REGION_DISCOVERY
        region = _ffi.AzureRegion.AUTO_DETECT()
    elif azure_region is False:  # DISABLE_MSAL_FORCE_REGION
        region = _ffi.AzureRegion.DISABLED()
    elif isinstance(azure_region, str):
        region = _ffi.AzureRegion.NAMED(name=azure_region)
    else:
        raise ValueError("azure_region must be a region name (str), "
                         "ClientApplication.ATTEMPT_REGION_DISCOVERY, False or None")
    return {
        "client_claims_json": claims_json,
        "app_name": _opt_str(app_name, "app_name") or None,
        "app_version": _opt_str(app_version, "app_version") or None,
        "azure_region": region,
        "exclude_scopes": [str(s) for s in exclude_scopes or []],
    }


def _capabilities(capabilities: Any) -> List[str]:
    """msal's ``client_capabilities``: a list of strings such as ``["CP1"]``,
    announced in every request's ``claims``."""
    if capabilities is None:
        return []
    if isinstance(capabilities, str) or not isinstance(capabilities, (list, tuple, set)):
        raise ValueError("client_capabilities must be a list of str, e.g. [\"CP1\"]")
    for c in capabilities:
        if not isinstance(c, str) or not c.strip():
            raise ValueError(f"client_capabilities must hold non-empty str, not {c!r}")
    return list(capabilities)


def _network(http_client: Any, proxies: Any) -> Dict[str, Any]:
    """msal's ``http_client`` and ``proxies``, as the native config takes them."""
    if proxies is not None and not isinstance(proxies, Mapping):
        raise ValueError('proxies must be a dict, e.g. {"https": "http://proxy:3128"}')
    table: Dict[str, str] = {}
    for key, value in (proxies or {}).items():
        if not isinstance(key, str) or not (value is None or isinstance(value, str)):
            raise ValueError("proxies must map str to str (a scheme to a proxy URL)")
        if value is not None:  # requests drops None entries
            table[key] = value
    network: Dict[str, Any] = {"proxies": table}
    if http_client is not None:
        network["http_client"] = _RequestsLikeClient(http_client)
    return network


def _root_certificates(verify: Any) -> List[str]:
    """msal's ``verify``: True (the system's roots) or a CA bundle file (PEM),
    whose certificates idflow trusts in addition."""
    if verify is True:
        return []
    if isinstance(verify, str):
        try:
            with open(verify, encoding="ascii") as f:
                return [f.read()]
        except OSError as e:
            raise ValueError(f"verify: cannot read the CA bundle {verify!r}: {e}") from None
    raise ValueError(
        "verify must be True or the path of a PEM CA bundle: idflow never turns "
        "certificate validation off"
    )


def _credential(client_credential: Any) -> Any:
    """msal's ``client_credential`` as the core's (see :mod:`idflow._credentials`)."""
    return _credentials.credential(client_credential)


class _BrowserOpener(_ffi.UrlOpener):
    """Opens the sign-in page with Python's ``webbrowser`` (as msal does)."""

    def __init__(self, on_before_launching_ui: Any):
        self._before = on_before_launching_ui

    def open_url(self, url: str) -> None:
        try:
            if self._before is not None:
                self._before(ui="browser")
            opened = webbrowser.open(url)
        except Exception as e:  # any failure of the page ends the sign-in
            opened, detail = False, f"{type(e).__name__}: {e}"
        else:
            detail = "no browser found in this environment"
        if not opened:
            info = _ffi.explain("authentication_ui_failed")
            raise _ffi.AuthError.Client(info=info, message=f"{info.message} ({detail})")


# --- the applications ---------------------------------------------------------


class ClientApplication:
    """What both application kinds share (msal's ``ClientApplication``)."""

    _native_type: Any = None

    #: ``azure_region=ATTEMPT_REGION_DISCOVERY``: detect the region
    #: (``REGION_NAME``, then the VM's instance metadata), else the global endpoint.
    ATTEMPT_REGION_DISCOVERY = True
    #: ``azure_region=DISABLE_MSAL_FORCE_REGION``: no region, whatever
    #: ``MSAL_FORCE_REGION`` says.
    DISABLE_MSAL_FORCE_REGION = False

    def __init__(
        self,
        client_id: str,
        client_credential: Any = None,
        authority: Optional[str] = None,
        validate_authority: bool = True,
        token_cache: Any = None,
        http_client: Any = None,
        verify: Any = True,
        proxies: Any = None,
        timeout: Any = None,
        client_claims: Any = None,
        app_name: Optional[str] = None,
        app_version: Optional[str] = None,
        client_capabilities: Any = None,
        azure_region: Any = None,
        exclude_scopes: Any = None,
        http_cache: Any = None,
        instance_discovery: Optional[bool] = None,
        allow_broker: Any = None,
        enable_pii_log: Any = None,
        oidc_authority: Optional[str] = None,
    ):
        _unsupported(type(self).__name__, allow_broker=allow_broker)
        _logging.sync(enable_pii_log)
        if not isinstance(client_id, str) or not client_id:
            raise ValueError("client_id must be a non-empty str")
        if authority and oidc_authority:
            raise ValueError("You can not provide both authority and oidc_authority")
        if token_cache is None:
            token_cache = TokenCache()
        elif not isinstance(token_cache, TokenCache):
            raise ValueError(
                "token_cache must be an idflow.TokenCache / idflow.SerializableTokenCache "
                "(load an msal cache into one with deserialize(msal_cache.serialize()))"
            )
        config = _ffi.AppConfig(
            client_id=client_id,
            authority=_opt_str(oidc_authority or authority, "authority") or _DEFAULT_AUTHORITY,
            oidc_authority=bool(oidc_authority),
            extra_root_certificates_pem=_root_certificates(verify),
            validate_authority=bool(validate_authority) and instance_discovery is not False,
            client_sku=CLIENT_SKU,
            token_cache=token_cache._native,
            client_capabilities=_capabilities(client_capabilities),
            **_request_options(client_claims, app_name, app_version, azure_region, exclude_scopes),
            **_timeouts(timeout),
            **_network(http_client, proxies),
            http_cache=None if http_cache is None else _MappingHttpCache(http_cache),
        )
        self.client_id = client_id
        self.token_cache = token_cache
        # Prepared cache lookups: (scopes, home_account_id) -> [native probe, last hit dict].
        self._probes: Dict[Any, List[Any]] = {}
        # get_accounts() with no filter: (accounts generation, the parsed list),
        # and the native cursor that list was last brought up to date by
        # (None: the next list is read whole); the lock keeps the two in step.
        self._accounts: Optional[Tuple[int, List[Dict[str, Any]]]] = None
        self._accounts_cursor: Any = None
        self._accounts_lock = threading.Lock()
        self.authority = config.authority
        self._config = config
        # get_authorization_request_url(authority=...): a URL builder per other authority.
        self._url_builders: Dict[str, Any] = {}
        self._native = self._make_native(config, client_credential)

    def is_pop_supported(self) -> bool:
        """Whether this app can get proof-of-possession tokens: never, as msal
        answers without a broker (msal/application.py ``is_pop_supported``:
        only the Windows and macOS brokers issue them). Use bearer tokens."""
        return False

    def __repr__(self) -> str:
        # Names the app, never its credential (kept only in the native object).
        return f"{type(self).__name__}(client_id={self.client_id!r}, authority={self.authority!r})"

    def _make_native(self, config: Any, client_credential: Any) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _construct(self, *args: Any) -> Any:
        try:
            return self._native_type(*args)
        except (_ffi.AuthError, _ffi.InternalError) as e:
            result = _error(e)
            # A constructor has no dict to return: a bad authority is misuse.
            exc = ValueError(result.get("error_description") or result.get("error"))
            exc.result = result  # type: ignore[attr-defined]
            raise exc from None

    def _url_builder(self, authority: str) -> Any:
        """A native public client for ``authority`` with this app's settings
        (no credential: it only builds authorize URLs), kept per authority."""
        builder = self._url_builders.get(authority)
        if builder is None:
            c = self._config
            config = _ffi.AppConfig(**dict(vars(c), authority=authority))
            try:
                builder = _ffi.PublicClientApplication(config)
            except (_ffi.AuthError, _ffi.InternalError) as e:
                result = _error(e)
                exc = ValueError(result.get("error_description") or result.get("error"))
                exc.result = result  # type: ignore[attr-defined]
                raise exc from None
            self._url_builders[authority] = builder
        return builder

    # -- authorization code ----------------------------------------------------

    def initiate_auth_code_flow(
        self,
        scopes: Any,
        redirect_uri: Optional[str] = None,
        state: Optional[str] = None,
        prompt: Optional[str] = None,
        login_hint: Optional[str] = None,
        domain_hint: Optional[str] = None,
        claims_challenge: Optional[str] = None,
        max_age: Any = None,
        response_mode: Any = None,
    ) -> Dict[str, Any]:
        """Starts a sign-in through the browser: send the user to
        ``flow["auth_uri"]``, keep the returned dict (plain JSON-safe data with
        msal's keys; it holds the PKCE verifier: keep it in the server-side
        session, never in a cookie), then pass it with the redirect's
        parameters to :meth:`acquire_token_by_auth_code_flow`, in this process
        or another one.

        ``state`` replaces the random one (keep it unguessable);
        ``response_mode`` is ``"query"`` (default), ``"fragment"`` or
        ``"form_post"`` (then pass ``request.form``); with ``max_age`` the id
        token's ``auth_time`` is checked when the flow completes.
        """
        scope_list = _scopes(scopes)
        if redirect_uri is None:
            redirect_uri = "http://localhost"
        options = _authorize_options(prompt, login_hint, domain_hint, claims_challenge,
                                     state=state, max_age=max_age, response_mode=response_mode)
        flow = _wait(_submit(self._native.initiate_auth_code_flow, scope_list,
                             _opt_str(redirect_uri, "redirect_uri"), options))
        if not isinstance(flow, _ffi.AuthCodeFlow):
            return flow  # the error dict
        return dict(json.loads(flow.to_json()))

    def acquire_token_by_auth_code_flow(
        self, auth_code_flow: Any, auth_response: Any, scopes: Any = None, **kwargs: Any
    ) -> Any:
        """Completes :meth:`initiate_auth_code_flow` with the redirect's
        parameters (a dict: ``request.args``, or ``request.form`` for
        ``form_post``). The flow dict may come from another process (e.g.
        through ``json.dumps``/``json.loads`` in a session store).

        Returns the token dict, or the error dict (the authorize error the
        redirect carried, or the token endpoint's). Raises ValueError, as msal
        does, when the redirect does not belong to this flow (a state
        mismatch: ignore that request, it may be forged), when this
        application object already redeemed it (a replay), or when the flow
        dict is not one from ``initiate_auth_code_flow``.
        """
        _unsupported("acquire_token_by_auth_code_flow", kwargs=kwargs)
        if not isinstance(auth_code_flow, Mapping) or not isinstance(auth_response, Mapping):
            raise ValueError("auth_code_flow and auth_response must be dicts")
        # The order and wording of msal's checks (msal/oauth2cli/oauth2.py,
        # obtain_token_by_auth_code_flow); the state values are not echoed.
        if not auth_code_flow.get("state"):
            raise ValueError("state missing from auth_code_flow")
        if auth_code_flow.get("state") != auth_response.get("state"):
            raise ValueError("state mismatch: the auth response's state is not this flow's "
                             "(it may be forged: ignore the request)")
        data = {k: auth_code_flow.get(k) for k in _AUTH_CODE_FLOW_KEYS}
        if scopes is not None:
            wanted = _scopes(scopes)
            if set(wanted) - set(data.get("scope") or []):
                raise ValueError("scope must be None or a subset of %s" % data.get("scope"))
            data["scope"] = wanted
        if not auth_response.get("code") and not auth_response.get("error"):
            raise ValueError('auth_response must contain either "code" or "error"')
        try:
            text = json.dumps(data)
        except (TypeError, ValueError):
            raise ValueError("auth_code_flow was not made by initiate_auth_code_flow") from None
        native = _wait_sync(_ffi.AuthCodeFlow.from_json, text)
        query = urlencode({str(k): str(v) for k, v in auth_response.items()})
        return _run_for_dict(self._native.acquire_token_by_auth_code_flow, native, query)

    def get_authorization_request_url(
        self,
        scopes: Any,
        login_hint: Optional[str] = None,
        state: Optional[str] = None,
        redirect_uri: Optional[str] = None,
        response_type: str = "code",
        prompt: Optional[str] = None,
        nonce: Optional[str] = None,
        domain_hint: Optional[str] = None,
        claims_challenge: Optional[str] = None,
        **kwargs: Any,
    ) -> str:
        """The authorize URL of the older pattern (msal's, deprecated there
        too: prefer :meth:`initiate_auth_code_flow`, which adds PKCE and
        checks ``state`` and ``nonce``). Redeem the code with
        :meth:`acquire_token_by_authorization_code`. ``code_challenge=`` (S256)
        adds PKCE."""
        code_challenge = kwargs.pop("code_challenge", None)
        authority = _opt_str(kwargs.pop("authority", None), "authority")
        if kwargs.pop("code_challenge_method", "S256") != "S256":
            raise ValueError("idflow sends code_challenge_method=S256 only")
        _unsupported("get_authorization_request_url", kwargs=kwargs)
        if response_type != "code":
            raise ValueError("idflow supports response_type='code' only "
                             "(the implicit grant is not supported: use initiate_auth_code_flow)")
        warnings.warn("Change your get_authorization_request_url() to initiate_auth_code_flow()",
                      DeprecationWarning, stacklevel=2)
        options = _authorize_options(prompt, login_hint, domain_hint, claims_challenge, state=state)
        builder = self._native
        if authority:
            # msal 1.39 takes a per-call authority here (through **kwargs, with
            # a warning) and builds the URL on it: msal/application.py,
            # get_authorization_request_url.
            warnings.warn("We haven't decided if this method will accept authority parameter",
                          stacklevel=2)
            builder = self._url_builder(authority)
        url = _wait(_submit(builder.get_authorization_request_url, _scopes(scopes),
                            _opt_str(redirect_uri, "redirect_uri") or "http://localhost", options,
                            _opt_str(nonce, "nonce"), _opt_str(code_challenge, "code_challenge")))
        if not isinstance(url, str):
            # A URL builder has no dict to return: its failure is misuse or the network's.
            raise ValueError((url or {}).get("error_description") or "no authorization URL")
        return url

    def acquire_token_by_authorization_code(
        self,
        code: str,
        scopes: Any,
        redirect_uri: Optional[str] = None,
        nonce: Optional[str] = None,
        claims_challenge: Optional[str] = None,
        forwarded_client_claims: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Redeems a code your app received itself (the older pattern):
        ``redirect_uri`` must be the authorize request's; the id token's
        ``nonce`` is checked when given; pass ``code_verifier=`` (or
        ``data={"code_verifier": ...}`` as with msal) when the request sent a
        PKCE challenge."""
        data = kwargs.pop("data", None) or {}
        code_verifier = kwargs.pop("code_verifier", None) or data.pop("code_verifier", None)
        _unsupported("acquire_token_by_authorization_code",
                     forwarded_client_claims=forwarded_client_claims, kwargs=dict(kwargs, **data))
        if not isinstance(scopes, list):
            raise ValueError("scopes must be a list")
        if not isinstance(code, str) or not code:
            raise ValueError("code must be a non-empty str")
        warnings.warn("Change your acquire_token_by_authorization_code() "
                      "to acquire_token_by_auth_code_flow()", DeprecationWarning, stacklevel=2)
        return _run_for_dict(
            self._native.acquire_token_by_authorization_code, code, _scopes(scopes),
            _opt_str(redirect_uri, "redirect_uri"), _opt_str(nonce, "nonce"),
            _opt_str(code_verifier, "code_verifier"),
            _opt_str(claims_challenge, "claims_challenge"))

    # -- refresh token ---------------------------------------------------------

    def acquire_token_by_refresh_token(self, refresh_token: str, scopes: Any, **kwargs: Any) -> Any:
        """Redeems a refresh token you hold (e.g. migrated from another
        library) for the ``scopes``. On an ``interaction_required`` error dict,
        sign the user in again (``action``: ``acquire_interactively``)."""
        claims = kwargs.pop("claims_challenge", None)
        _unsupported("acquire_token_by_refresh_token", kwargs=kwargs)
        if not isinstance(refresh_token, str):
            raise ValueError("refresh_token must be a str")
        return _run_for_dict(self._native.acquire_token_by_refresh_token, refresh_token,
                             _scopes(scopes), _opt_str(claims, "claims_challenge"))

    # -- the cache -------------------------------------------------------------

    def get_accounts(self, username: Optional[str] = None) -> List[Dict[str, Any]]:
        """The accounts this app can use with :meth:`acquire_token_silent`
        (msal's account dicts), optionally only those of ``username``
        (case-insensitive)."""
        username = _opt_str(username, "username")
        generation = None
        if username is None:
            # The list is parsed once per change of the accounts (a token
            # refresh is none); a repeat call returns a new list of the same
            # dicts (as msal hands out the dicts it holds). They are not the
            # cache's state: changing one changes no token, only what a
            # repeat call sees until the accounts next change.
            generation = _wait_sync(self._native.accounts_generation)
            if not isinstance(generation, int):
                return generation
            memo = self._accounts
            if memo is not None and memo[0] == generation:
                return list(memo[1])
            changed = self._changed_accounts(generation)
            if changed is not None:
                return changed
        fields = _wait_sync(self._native.get_accounts_fields, username)
        if isinstance(fields, str):
            parsed = _account_dicts(fields)
        elif fields is None:
            # A value holds the separator: the same dicts, from JSON.
            accounts = _wait_sync(self._native.get_accounts_json, username)
            if not isinstance(accounts, str):
                return accounts
            parsed = json.loads(accounts)
        else:
            return fields
        if generation is not None:
            with self._accounts_lock:
                # Read whole, not by the cursor: the next list is read whole too.
                self._accounts_cursor = None
                self._accounts = (generation, parsed)
            return list(parsed)
        return parsed

    def _changed_accounts(self, generation: int) -> Any:
        """The account list brought up to date by the native side's steps
        (after a sign-in, the one account added, not every account parsed
        again), or None when it must be read whole another way."""
        with self._accounts_lock:
            memo = self._accounts
            if memo is not None and memo[0] == generation:
                return list(memo[1])
            cursor = self._accounts_cursor or _ffi.AccountsCursor()
            self._accounts_cursor = None
            text = _wait_sync(self._native.get_accounts_steps, cursor)
            if text is None:
                return None
            if not isinstance(text, str):
                return text
            if text.startswith("W"):
                accounts = _account_dicts(text[1:])
            elif memo is not None and _apply_account_steps(memo[1], text):
                accounts = memo[1]
            else:
                # Steps that do not fit the list held here: the cursor is
                # dropped, so the next list is read whole.
                self._accounts = None
                return None
            self._accounts_cursor = cursor
            self._accounts = (generation, accounts)
            return list(accounts)

    def _cache_hit(self, scopes: List[str], home: Optional[str]) -> Optional[Dict[str, Any]]:
        """msal's hit dict when the cache holds a usable token, else None (then
        the full call decides, and reports any failure). One native call with
        integer results: the dict of the last hit is reused while the cache
        still holds that token."""
        key = (tuple(scopes), home)
        entry = self._probes.get(key)
        if entry is None:
            if len(self._probes) >= _MAX_PROBES:
                self._probes.clear()
            probe = (self._native.client_probe(scopes) if home is None
                     else self._native.silent_probe(scopes, home))
            entry = self._probes[key] = [probe, None]
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

    def remove_account(self, account: Mapping) -> None:
        """Signs ``account`` out of this app: its tokens leave the cache."""
        _wait_sync(self._native.remove_account, _account_info(account))

    def acquire_token_silent(
        self, scopes: Any, account: Any, authority: Any = None, force_refresh: bool = False,
        claims_challenge: Optional[str] = None, forwarded_client_claims: Any = None,
        auth_scheme: Any = None, **kwargs: Any,
    ) -> Optional[Dict[str, Any]]:
        """A token for ``account`` (from :meth:`get_accounts`) without user
        interaction: from the cache (no network) or with its refresh token.
        ``None`` when that is not possible — sign in interactively then (use
        :meth:`acquire_token_silent_with_error` to see why)."""
        _unsupported("acquire_token_silent", forwarded_client_claims=forwarded_client_claims)
        result = self.acquire_token_silent_with_error(
            scopes, account, authority=authority, force_refresh=force_refresh,
            claims_challenge=claims_challenge, auth_scheme=auth_scheme, **kwargs)
        return result if result and "error" not in result else None

    def acquire_token_silent_with_error(
        self, scopes: Any, account: Any, authority: Any = None, force_refresh: bool = False,
        claims_challenge: Optional[str] = None, auth_scheme: Any = None, **kwargs: Any,
    ) -> Optional[Dict[str, Any]]:
        """Like :meth:`acquire_token_silent`, but returns the error dict when
        the refresh was refused (follow its ``classification`` / ``action``;
        pass its ``claims`` to the interactive sign-in). ``None`` when the
        cache simply holds nothing usable."""
        _unsupported("acquire_token_silent", auth_scheme=auth_scheme, kwargs=kwargs)
        if authority:
            # msal 1.39 takes it, warns, and answers from the app's own
            # authority (msal/application.py, _acquire_token_silent_with_error):
            # so does idflow, so a cache shared with msal apps answers alike.
            warnings.warn("We haven't decided how/if this method will accept authority parameter",
                          stacklevel=2)
        if not account:
            return None  # msal: a backward-compatible no-op
        scope_list = _scopes(scopes)
        claims = _opt_str(claims_challenge, "claims_challenge")
        if not force_refresh and claims is None:
            home = account.get("home_account_id") if isinstance(account, Mapping) else None
            if not isinstance(home, str):
                raise ValueError("account must be a dict from get_accounts()")
            hit = self._cache_hit(scope_list, home)
            if hit is not None:
                return hit
        return _run_for_dict(self._native.acquire_token_silent, scope_list,
                             _account_info(account), claims, bool(force_refresh))

    # -- username / password (both kinds of app, as in msal) -------------------

    def acquire_token_by_username_password(
        self, username: str, password: str, scopes: Any, claims_challenge: Optional[str] = None,
        auth_scheme: Any = None, **kwargs: Any,
    ) -> Any:
        """ROPC, for managed (cloud-only) accounts without MFA; prefer
        :meth:`acquire_token_interactive` or the device flow. An error dict with
        ``action`` ``acquire_interactively`` means the user must sign in
        interactively (MFA, consent, an expired password)."""
        _unsupported("acquire_token_by_username_password", auth_scheme=auth_scheme, kwargs=kwargs)
        if not isinstance(username, str) or not isinstance(password, str):
            raise ValueError("username and password must be str")
        return _run_for_dict(self._native.acquire_token_by_username_password, username, password,
                             _scopes(scopes), _opt_str(claims_challenge, "claims_challenge"))


class PublicClientApplication(ClientApplication):
    """An app that cannot keep a secret (desktop, CLI, scripts): device code,
    interactive sign-in, username/password, refresh-token import.

    ``PublicClientApplication(client_id, authority="https://login.microsoftonline.com/<tenant>")``
    (or ``oidc_authority=`` for any OpenID provider). Every ``acquire_token_*``
    returns msal's dict::

        flow = app.initiate_device_flow(["User.Read"])
        print(flow["message"])                     # tell the user where to go
        result = app.acquire_token_by_device_flow(flow)
        if "access_token" in result: ...           # signed in
        elif result["action"] == "retry_after": ...  # wait result["retry_after"] s
        else: ...                                  # result["error"], result["mitigation"]
    """

    _native_type = _ffi.PublicClientApplication

    def __init__(
        self,
        client_id: str,
        client_credential: Any = None,
        *,
        enable_broker_on_windows: Any = None,
        enable_broker_on_mac: Any = None,
        enable_broker_on_linux: Any = None,
        enable_broker_on_wsl: Any = None,
        **kwargs: Any,
    ):
        if client_credential is not None:
            raise ValueError("Public Client should not possess credentials")
        _unsupported(
            "PublicClientApplication",
            enable_broker_on_windows=enable_broker_on_windows,
            enable_broker_on_mac=enable_broker_on_mac,
            enable_broker_on_linux=enable_broker_on_linux,
            enable_broker_on_wsl=enable_broker_on_wsl,
        )
        super().__init__(client_id, **kwargs)

    def _make_native(self, config: Any, client_credential: Any) -> Any:
        return self._construct(config)

    # -- device code -----------------------------------------------------------

    def initiate_device_flow(self, scopes: Any = None, *, claims_challenge: Optional[str] = None,
                             **kwargs: Any) -> Dict[str, Any]:
        """Starts a device-code sign-in. Show ``flow["message"]`` to the user at
        once, then call :meth:`acquire_token_by_device_flow` with the dict.
        The dict is msal's: plain JSON-safe data with the provider's answer
        (``device_code`` included: keep it server-side), ``expires_at`` and
        ``_correlation_id``; another process may poll with it. On failure
        the dict has ``error`` (and no ``user_code``)."""
        _unsupported("initiate_device_flow", kwargs=kwargs)
        flow = _wait(_submit(self._native.initiate_device_flow, _scopes(scopes, allow_none=True),
                             _opt_str(claims_challenge, "claims_challenge")))
        if not isinstance(flow, _ffi.DeviceCodeFlow):
            return flow  # the error dict
        return dict(json.loads(flow.to_json()))

    def acquire_token_by_device_flow(self, flow: Any, claims_challenge: Optional[str] = None,
                                     **kwargs: Any) -> Any:
        """Polls until the user finishes signing in (returns the token dict),
        declines, or the code expires (the error dict). Blocks; to stop
        polling from another thread set ``flow["expires_at"] = 0`` (as with
        msal): the call then returns the ``user_cancelled`` result promptly.
        The flow dict may come from another process (through JSON).

        ``exit_condition=callable(flow)`` runs msal's own loop instead: poll
        once; while the answer is ``authorization_pending`` or ``slow_down``
        (which adds 5 to ``flow["interval"]``), call ``exit_condition(flow)``
        before each second of the interval and return that answer's dict as
        soon as it says True (``lambda flow: True``: one poll, no wait). The
        flow's ``expires_at`` is then the caller's business: the server
        answers ``expired_token``."""
        exit_condition = kwargs.pop("exit_condition", None)
        _unsupported("acquire_token_by_device_flow", kwargs=kwargs)
        if exit_condition is not None and not callable(exit_condition):
            raise ValueError("exit_condition must be a callable taking the flow dict")
        native = self._device_flow(flow, claims_challenge)
        if exit_condition is not None:
            return self._device_flow_loop(flow, native, exit_condition)
        cancel = _ffi.CancelHandle()

        def check_abort() -> None:
            expires_at = flow.get("expires_at")
            if isinstance(expires_at, (int, float)) and expires_at < time.time():
                cancel.cancel()

        future = _submit(self._native.acquire_token_by_device_flow, native, cancel)
        return _token_dict(_wait(future, on_tick=check_abort))

    @staticmethod
    def _device_flow(flow: Any, claims_challenge: Optional[str]) -> Any:
        """The native flow from msal's flow dict."""
        if not isinstance(flow, Mapping) or not flow.get("device_code"):
            raise ValueError("flow must be the dict initiate_device_flow returned")
        data = dict(flow)
        if claims_challenge is not None:
            data["claims_challenge"] = _opt_str(claims_challenge, "claims_challenge")
        try:
            text = json.dumps(data)
        except (TypeError, ValueError):
            raise ValueError("flow must be the dict initiate_device_flow returned") from None
        return _wait_sync(_ffi.DeviceCodeFlow.from_json, text)

    def _device_flow_loop(self, flow: Any, native: Any, exit_condition: Any) -> Any:
        """msal's polling loop with the app's ``exit_condition`` (msal's
        ``oauth2cli/oauth2.py``, ``obtain_token_by_device_flow`` and
        ``_obtain_token_by_device_flow``), one native poll per round."""
        mutable = isinstance(flow, MutableMapping)
        while True:
            # As msal does: a poll sooner than the interval after the last
            # one (an app's own loop that does not wait) is warned about, and
            # the flow remembers each poll's time.
            now = time.time()
            latest, interval = flow.get("latest_attempt_at", 0), flow.get("interval", 5)
            if (isinstance(latest, (int, float)) and isinstance(interval, (int, float))
                    and latest + interval - 1 > now):
                warnings.warn("device flow polled again within its interval: wait "
                              "flow['interval'] seconds between polls", UserWarning, stacklevel=3)
            result = _token_dict(_wait(_submit(self._native.poll_device_flow_once, native,
                                               _ffi.CancelHandle())))
            if mutable:
                if result.get("error") == "slow_down" and isinstance(interval, int):
                    flow["interval"] = interval + 5
                flow["latest_attempt_at"] = now
            if result.get("error") not in _DEVICE_FLOW_RETRIABLE:
                return result
            seconds = flow.get("interval", 5)
            seconds = seconds if isinstance(seconds, int) else 5
            # msal asks once per second of the interval, so with an interval
            # of 0 it never asks and polls on at once until the user ends;
            # here the condition is still asked once per round.
            for second in range(max(seconds, 1)):
                if exit_condition(flow):
                    return result
                if second < seconds:
                    time.sleep(1)

    # -- interactive -----------------------------------------------------------

    def acquire_token_interactive(
        self,
        scopes: Any,
        prompt: Optional[str] = None,
        login_hint: Optional[str] = None,
        domain_hint: Optional[str] = None,
        claims_challenge: Optional[str] = None,
        timeout: Optional[float] = None,
        port: Optional[int] = None,
        extra_scopes_to_consent: Any = None,
        max_age: Any = None,
        parent_window_handle: Any = None,
        on_before_launching_ui: Any = None,
        auth_scheme: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Signs the user in through the system browser (``webbrowser``) and a
        redirect to ``http://localhost:<port>`` on this machine. Blocks until
        the redirect arrives or ``timeout`` seconds pass (then the
        ``user_cancelled`` result; ``None`` gives up after 120 seconds). ``on_before_launching_ui(ui="browser")``
        is called just before the browser opens."""
        _unsupported("acquire_token_interactive", parent_window_handle=parent_window_handle,
                     auth_scheme=auth_scheme, kwargs=kwargs)
        if port is not None and (isinstance(port, bool) or not isinstance(port, int)
                                 or not 0 <= port <= 0xFFFF):
            raise ValueError(f"port must be a TCP port number, not {port!r}")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                    or timeout <= 0):
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        options = _ffi.InteractiveOptions(
            authorize=_authorize_options(prompt, login_hint, domain_hint, claims_challenge,
                                         max_age=max_age,
                                         extra_scopes_to_consent=extra_scopes_to_consent),
            port=port or 0,
            redirect_host=None,
            timeout_secs=None if timeout is None else max(1, int(timeout)),
        )
        return _run_for_dict(self._native.acquire_token_interactive, _scopes(scopes), options,
                             _BrowserOpener(on_before_launching_ui), None)


class ConfidentialClientApplication(ClientApplication):
    """An app that keeps a credential (web app, web API, daemon): client
    credentials, on-behalf-of, auth-code redemption, refresh.

    ``client_credential`` takes every form msal takes: the secret (str);
    ``{"private_key_pfx_path": path, "passphrase": ...}`` (a .pfx);
    ``{"private_key": PEM, "thumbprint": SHA-1 hex}`` or with
    ``"public_certificate": PEM`` (either may add ``"passphrase"`` for an
    encrypted key); ``{"client_assertion": JWT}``, or a callable returning one
    before each request (e.g. :class:`idflow.FederatedTokenFile`)::

        app = ConfidentialClientApplication(client_id, client_credential=secret,
                                            authority="https://login.microsoftonline.com/<tenant>")
        result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
        if "access_token" not in result:
            print(result["error"], result["action"], result["mitigation"])
    """

    _native_type = _ffi.ConfidentialClientApplication

    def __init__(self, client_id: str, client_credential: Any = None, authority: Optional[str] = None,
                 **kwargs: Any):
        if client_credential is None:
            raise ValueError("ConfidentialClientApplication needs a client_credential")
        super().__init__(client_id, client_credential, authority, **kwargs)

    def _make_native(self, config: Any, client_credential: Any) -> Any:
        return self._construct(config, _credential(client_credential))

    def acquire_token_for_client(self, scopes: Any, claims_challenge: Optional[str] = None,
                                 fmi_path: Any = None, forwarded_client_claims: Any = None,
                                 **kwargs: Any) -> Any:
        """An app-only token. For Microsoft, ``scopes`` is
        ``["<resource>/.default"]``. On an error dict follow ``action``:
        ``fix_configuration`` (the secret, the tenant, the scope), or
        ``retry_after`` (wait ``retry_after`` seconds)."""
        if kwargs.get("force_refresh"):
            raise ValueError("msal and idflow always use the cache for acquire_token_for_client: "
                             "pass claims_challenge to get a new token")
        _unsupported("acquire_token_for_client", fmi_path=fmi_path,
                     forwarded_client_claims=forwarded_client_claims, kwargs=kwargs)
        scope_list = _scopes(scopes)
        claims = _opt_str(claims_challenge, "claims_challenge")
        if claims is None:
            hit = self._cache_hit(scope_list, None)
            if hit is not None:
                return hit
        return _run_for_dict(self._native.acquire_token_for_client, scope_list, claims)

    def remove_tokens_for_client(self) -> None:
        """Removes the tokens :meth:`acquire_token_for_client` obtained for
        this client (app-only access tokens, in this authority's host and
        its cloud's other hosts); user tokens stay (msal's rule)."""
        _wait_sync(self._native.remove_tokens_for_client)
        self._probes.clear()

    def acquire_token_by_user_federated_identity_credential(
        self, scopes: Any, assertion: str, username: Optional[str] = None,
        user_object_id: Optional[str] = None, claims_challenge: Optional[str] = None,
        forwarded_client_claims: Any = None, **kwargs: Any,
    ) -> Any:
        """msal 1.39's user_fic grant: refused (a ValueError that says what
        to use instead)."""
        _unsupported("acquire_token_by_user_federated_identity_credential",
                     assertion=assertion or True, scopes=scopes, username=username,
                     user_object_id=user_object_id, claims_challenge=claims_challenge,
                     forwarded_client_claims=forwarded_client_claims, kwargs=kwargs)
        raise ValueError(REFUSED["assertion"])  # pragma: no cover (the line above raises)

    def acquire_token_on_behalf_of(self, user_assertion: str, scopes: Any,
                                   claims_challenge: Optional[str] = None,
                                   forwarded_client_claims: Any = None, **kwargs: Any) -> Any:
        """Exchanges the access token your API received (``user_assertion``)
        for one to a downstream API. An ``interaction_required`` error dict
        must go back to your API's caller (with its ``claims``)."""
        _unsupported("acquire_token_on_behalf_of",
                     forwarded_client_claims=forwarded_client_claims, kwargs=kwargs)
        if not isinstance(user_assertion, str):
            raise ValueError("user_assertion must be a str")
        return _run_for_dict(self._native.acquire_token_on_behalf_of, user_assertion,
                             _scopes(scopes), _opt_str(claims_challenge, "claims_challenge"))
