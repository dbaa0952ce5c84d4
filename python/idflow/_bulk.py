"""The cache's JSON into and out of native code with one copy each way.

The generated binding hands a returned string to Python through an
intermediate ``bytes`` (one copy) and then decodes it (a second), and takes a
``str`` argument through ``encode`` (a copy the native side does not need: it
reads the bytes in place). For a cache of 100k users each copy is 342 MiB of
fresh memory, and its page faults cost as much as a third of the native work.
On CPython these two calls decode straight from the native buffer and lend
an ASCII string's own bytes to the native reader. Anywhere else (another
Python, or generated names this module does not find) they are the generated
calls, so the results never differ, only the copies.
"""

from __future__ import annotations

import ctypes
from typing import Any, Callable, Optional, Tuple

from . import _native as _ffi

# A ForeignBytes length is an i32: larger documents take the generated path
# (which fails the same way as before).
_MAX_LENT = 2**31 - 1


def _bind() -> Optional[Tuple[Callable[..., Any], Callable[..., Any]]]:
    """The two C-API functions, as private prototypes (setting ``restype`` on
    ``ctypes.pythonapi``'s shared attributes would change them for every
    other user in the process); None when this Python has no C API or the
    generated module lacks a name used here."""
    try:
        api = ctypes.pythonapi
        decode = ctypes.PYFUNCTYPE(
            ctypes.py_object, ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_char_p
        )(("PyUnicode_DecodeUTF8", api))
        as_utf8 = ctypes.PYFUNCTYPE(
            ctypes.c_void_p, ctypes.py_object, ctypes.POINTER(ctypes.c_ssize_t)
        )(("PyUnicode_AsUTF8AndSize", api))
        for name in ("_UniffiLib", "_UniffiForeignBytes", "_uniffi_rust_call_with_error",
                     "_UniffiFfiConverterTypeAuthError"):
            getattr(_ffi, name)
        lib = _ffi._UniffiLib
        lib.uniffi_idflow_ffi_fn_method_tokencache_serialize  # noqa: B018
        lib.uniffi_idflow_ffi_fn_method_tokencache_deserialize_utf8  # noqa: B018
    except (AttributeError, TypeError, ValueError, OSError):
        return None
    return decode, as_utf8


_API = _bind()


def serialize(native: Any) -> str:
    """``native.serialize()``, decoded from the native buffer itself."""
    if _API is None:
        return native.serialize()
    decode, _ = _API
    buf = _ffi._uniffi_rust_call_with_error(
        None,
        _ffi._UniffiLib.uniffi_idflow_ffi_fn_method_tokencache_serialize,
        native._uniffi_clone_handle(),
    )
    try:
        if buf.len == 0:
            return ""
        return decode(ctypes.cast(buf.data, ctypes.c_void_p), buf.len, b"strict")
    finally:
        buf.free()


def deserialize_str(native: Any, state: str) -> None:
    """``native.deserialize_utf8(state.encode())`` without the encode when
    ``state`` is ASCII (msal's and idflow's JSON nearly always are): CPython
    keeps such a string's UTF-8 as its own data, which the native reader
    reads in place while this call holds ``state``."""
    if _API is None or not state or not state.isascii() or len(state) > _MAX_LENT:
        native.deserialize_utf8(state.encode("utf-8", "surrogatepass") or b"{}")
        return
    _, as_utf8 = _API
    size = ctypes.c_ssize_t(0)
    address = as_utf8(state, ctypes.byref(size))
    lent = _ffi._UniffiForeignBytes()
    lent.len = size.value
    lent.data = ctypes.cast(address, ctypes.POINTER(ctypes.c_char))
    _ffi._uniffi_rust_call_with_error(
        _ffi._UniffiFfiConverterTypeAuthError,
        _ffi._UniffiLib.uniffi_idflow_ffi_fn_method_tokencache_deserialize_utf8,
        native._uniffi_clone_handle(),
        lent,
    )
