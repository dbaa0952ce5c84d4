"""What idflow's modules share: the native module, the one translation of a
core decision into what an msal caller observes, and the private event loop
the core's coroutines run on.

Private: the public names live in :mod:`idflow`, :mod:`idflow.application`
and :mod:`idflow.token_cache`, which all import from here (and this module
imports none of them).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import json
import threading
import time
from typing import Any, Dict, Optional, Tuple, cast

try:
    from . import _native as _ffi
except ImportError as _e:  # pragma: no cover - a broken install, not a test path
    raise ImportError(
        "idflow's native module is missing: build it (scripts/build-native.sh) and "
        "run scripts/test-python.sh, or install the idflow wheel"
    ) from _e

try:
    # The wheel: `idflow._native` is a package that star-imports the generated
    # module, so its private names (the FFI plumbing) live only in the module.
    from ._native import idflow as _gen  # type: ignore[attr-defined]
except ImportError:  # the source layout: `idflow/_native.py` is that module
    _gen = _ffi

Decision = Dict[str, Any]

# How often a waiting call runs its ``on_tick`` (acquire_token_by_device_flow
# looks at flow["expires_at"]).
_ABORT_CHECK_SECS = 0.1

# How a caller observes a form that is not an exception.
_RETURN_DICT = "return the dict"
_RETURN_NONE = "return None"

# The one Python translation of the core's `PythonForm`: for each form, its
# name (as in decisions and test vectors) and what the caller observes: the
# dict, None, or the exception class raised with the dict attached.
_FORMS: Dict[Any, Tuple[str, Any]] = {
    _ffi.PythonForm.DICT: ("dict", _RETURN_DICT),
    _ffi.PythonForm.NONE_RESULT: ("None", _RETURN_NONE),
    _ffi.PythonForm.VALUE_ERROR: ("ValueError", ValueError),
    _ffi.PythonForm.CONNECTION_ERROR: ("ConnectionError", ConnectionError),
    _ffi.PythonForm.TIMEOUT_ERROR: ("TimeoutError", TimeoutError),
}
_FORMS_BY_NAME = {name: (form, how) for form, (name, how) in _FORMS.items()}


# --- decision translation (data, never raised) -----------------------------


def _snake(member: Any) -> Optional[str]:
    return None if member is None else member.name.lower()


def _msal_net_name(member: Any) -> str:
    return "".join(part.capitalize() for part in member.name.split("_"))


def _info_decision(info: Any) -> Decision:
    """The decision an `ErrorInfo` carries, as plain data."""
    interaction = info.kind == _ffi.ErrorKind.INTERACTION_REQUIRED
    msal_dict = json.loads(info.python.dict_json)
    return {
        "kind": _snake(info.kind),
        "code": info.code,
        "message": info.message,
        # MSAL.NET's UiRequiredExceptionClassification name; meaningful (and
        # present) only for interaction-required errors.
        "classification": _msal_net_name(info.classification) if interaction else None,
        "retryable": info.retryable,
        "retry_after": info.retry_after_secs,
        # The core's snake_case name, as every language and the CLI spell it.
        "action": msal_dict["action"],
        "mitigation": info.mitigation,
        "flow": _snake(info.flow),
        "network": _snake(info.network),
        "http_status": info.http_status,
        "headers": [(h.name, h.value) for h in info.headers],
        "error_description": info.error_description,
        "error_codes": list(info.error_codes),
        "suberror": info.suberror,
        "claims": info.claims,
        "correlation_id": info.correlation_id,
        "trace_id": info.trace_id,
        "timestamp": info.timestamp,
        "error_uri": info.error_uri,
        "python": {
            "form": _FORMS[info.python.form][0],
            "dict": msal_dict,
        },
    }


# --- observation (what an msal app gets) -----------------------------------


def _observe(decision: Decision) -> Optional[Dict[str, Any]]:
    """Returns the dict or None the decision says Python observes, or raises
    the exception it names, with the dict attached."""
    python = decision["python"]
    try:
        _, how = _FORMS_BY_NAME[python["form"]]
    except KeyError:
        raise ValueError(f"not an idflow decision: python form {python['form']!r}") from None
    if how is _RETURN_DICT:
        return python["dict"]
    if how is _RETURN_NONE:
        return None
    exc = how(decision["message"])
    exc.result = python["dict"]  # type: ignore[attr-defined]
    exc.decision = decision  # type: ignore[attr-defined]
    raise exc


# --- running the core's coroutines ------------------------------------------


class _Loop:
    """One private event loop on a daemon thread, shared by every app."""

    _lock = threading.Lock()
    _loop: Optional[asyncio.AbstractEventLoop] = None

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None or cls._loop.is_closed():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="idflow-event-loop", daemon=True
                )
                thread.start()
                cls._loop = loop
            return cls._loop


class _Wakeups:
    """The native library's wake-ups of the loop, counted while they run.

    A coroutine of the core moves on when a native thread calls back into
    Python (the generated continuation callback), which hands the wake-up to
    the loop with ``call_soon_threadsafe``: a write to the loop's socket,
    during which that thread gives up the GIL. The loop can then finish the
    call and the main thread return from it and end the program before that
    thread takes the GIL back; CPython ends a thread that takes the GIL after
    finalization has begun (``pthread_exit``), which on a native thread
    unwinds through Rust frames and can crash the process (exit 139, seen
    rarely: once in 300 runs of a script that gets one token and ends, then
    none in 1,700 more). So each
    wake-up is counted until it returns, and at exit the interpreter waits
    (briefly, bounded) for the ones under way."""

    _lock = threading.Lock()
    _running = 0
    _ever = False
    #: The longest the exit waits: a wake-up takes microseconds.
    EXIT_WAIT_SECS = 1.0

    @staticmethod
    @_gen._UNIFFI_RUST_FUTURE_CONTINUATION_CALLBACK
    def wake(future_ptr: int, poll_code: int) -> None:
        with _Wakeups._lock:
            _Wakeups._running += 1
            _Wakeups._ever = True
        try:
            # The generated callback's two steps (it cannot be wrapped: the
            # module keeps only its C function pointer).
            (eventloop, future) = _gen._UniffiContinuationHandleMap.remove(future_ptr)
            eventloop.call_soon_threadsafe(_gen._uniffi_set_future_result, future, poll_code)
        finally:
            with _Wakeups._lock:
                _Wakeups._running -= 1

    @staticmethod
    def running() -> int:
        with _Wakeups._lock:
            return _Wakeups._running

    @staticmethod
    def settle() -> None:
        """At exit: lets the wake-ups under way take the GIL back and return."""
        if not _Wakeups._ever:
            return
        deadline = time.monotonic() + _Wakeups.EXIT_WAIT_SECS
        while _Wakeups.running() and time.monotonic() < deadline:
            time.sleep(0.001)
        # A wake-up that has just counted itself out may still be asked to
        # hand the GIL over once on its way out: one more pause lets it return.
        time.sleep(0.002)


# Every coroutine of the generated module polls with this callback (the name
# is looked up in the generated module's globals at each call).
_gen._uniffi_continuation_callback = _Wakeups.wake
atexit.register(_Wakeups.settle)


def _submit(coroutine_fn: Any, *args: Any) -> "Any":
    """Schedules the native coroutine on the private loop; a concurrent future."""

    async def run() -> Any:
        return await coroutine_fn(*args)

    return asyncio.run_coroutine_threadsafe(run(), _Loop.get())


def _error(e: BaseException) -> Any:
    """What msal's caller observes for a failure of the core: the error dict
    (returned) or the exception it names (raised, with ``.result``)."""
    if isinstance(e, _ffi.AuthError):
        # Every variant of the generated AuthError carries the decision as `info`.
        return _observe(_info_decision(cast(Any, e).info))
    if isinstance(e, _ffi.InternalError):
        return _observe(_info_decision(_ffi.explain("internal_error")))
    raise e


def _wait(future: Any, on_tick: Any = None) -> Any:
    """The result of a native call: a value, or the observed failure."""
    try:
        if on_tick is None:
            return future.result()
        while True:
            try:
                return future.result(timeout=_ABORT_CHECK_SECS)
            except concurrent.futures.TimeoutError:
                if future.done():
                    raise
                on_tick()
    except (_ffi.AuthError, _ffi.InternalError) as e:
        return _error(e)
